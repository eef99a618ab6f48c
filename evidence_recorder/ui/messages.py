"""Every message box goes through here, so that tests can answer them in advance.

After KeePassXC's ``MessageBox::setNextAnswer``: a test queues the button it wants
pressed, and the next box returns it at once without showing anything.
"""

from __future__ import annotations

from collections import deque

from PySide6.QtWidgets import QMessageBox, QWidget

Button = QMessageBox.StandardButton

_next_answers: deque[Button] = deque()
shown: list[tuple[str, str]] = []  # (title, text) of every box, for tests to read


def set_next_answer(answer: Button) -> None:
    _next_answers.append(answer)


def _show(icon: QMessageBox.Icon, parent: QWidget | None, title: str, text: str,
          buttons: Button, default: Button, detail: str = "",
          labels: dict[Button, str] | None = None) -> Button:
    shown.append((title, text))
    if _next_answers:
        return _next_answers.popleft()
    box = QMessageBox(icon, title, text, buttons, parent)
    box.setDefaultButton(default)
    for button, label in (labels or {}).items():
        box.button(button).setText(label)
    if detail:
        box.setInformativeText(detail)
    box.setAccessibleName(title)
    return Button(box.exec())


def info(parent: QWidget | None, title: str, text: str, detail: str = "") -> None:
    _show(QMessageBox.Icon.Information, parent, title, text, Button.Ok, Button.Ok, detail)


def warn(parent: QWidget | None, title: str, text: str, detail: str = "") -> None:
    _show(QMessageBox.Icon.Warning, parent, title, text, Button.Ok, Button.Ok, detail)


def error(parent: QWidget | None, title: str, text: str, detail: str = "") -> None:
    _show(QMessageBox.Icon.Critical, parent, title, text, Button.Ok, Button.Ok, detail)


def ask(parent: QWidget | None, title: str, text: str, *, yes: Button = Button.Yes,
        no: Button = Button.No, default: Button = Button.No, detail: str = "") -> bool:
    answer = _show(QMessageBox.Icon.Question, parent, title, text, yes | no, default, detail)
    return answer == yes


def choose(parent: QWidget | None, title: str, text: str, *, yes_text: str, no_text: str,
           detail: str = "") -> bool:
    """A warning with two choices in words ("Yes"/"No" would not say what happens).

    Tests answer it with ``set_next_answer(Button.Yes)`` for ``yes_text``.
    """
    answer = _show(QMessageBox.Icon.Warning, parent, title, text, Button.Yes | Button.No,
                   Button.No, detail, {Button.Yes: yes_text, Button.No: no_text})
    return answer == Button.Yes
