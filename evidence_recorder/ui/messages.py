"""Every message box goes through here, so that tests can answer them in advance.

After KeePassXC's ``MessageBox::setNextAnswer``: a test queues the button it wants
pressed, and the next box returns it at once without showing anything. Prompts for a
line or a few lines of text (:func:`get_text`, :func:`get_multiline_text`; nothing else
in the app uses ``QInputDialog``) are answered the same way with :func:`set_next_text`.

Every box shows its texts as plain text: they often carry a file's name or words
from a received bundle, which Qt would otherwise render as markup if they looked
like it. :func:`get_text` asks for a line of text the same way.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QInputDialog, QLabel, QLineEdit, QMessageBox, QWidget

Button = QMessageBox.StandardButton


@dataclass(frozen=True, slots=True)
class TextAnswer:
    """What a test types into the next text prompt, and whether it then presses OK."""

    text: str
    accepted: bool = True


_next_answers: deque[Button | TextAnswer] = deque()
shown: list[tuple[str, str]] = []  # (title, text) of every box and prompt, for tests to read


def set_next_answer(answer: Button) -> None:
    _next_answers.append(answer)


def set_next_text(text: str, *, accepted: bool = True) -> None:
    """Answer the next :func:`get_text` or :func:`get_multiline_text` without showing it."""
    _next_answers.append(TextAnswer(text, accepted))


def _show(icon: QMessageBox.Icon, parent: QWidget | None, title: str, text: str,
          buttons: Button, default: Button, detail: str = "",
          labels: dict[Button, str] | None = None) -> Button:
    shown.append((title, text))
    if _next_answers:
        return _button_answer()
    return Button(make_box(icon, parent, title, text, buttons, default, detail, labels).exec())


def _button_answer() -> Button:
    answer = _next_answers.popleft()
    if isinstance(answer, TextAnswer):
        raise TypeError(f"a message box got the answer meant for a text prompt: {answer!r}")
    return answer


def _plain_labels(dialog: QWidget) -> None:
    for label in dialog.findChildren(QLabel):
        label.setTextFormat(Qt.TextFormat.PlainText)
        label.setWordWrap(True)


def make_box(icon: QMessageBox.Icon, parent: QWidget | None, title: str, text: str,
             buttons: Button, default: Button, detail: str = "",
             labels: dict[Button, str] | None = None) -> QMessageBox:
    """The box :func:`info` and the others show: every text in it plain."""
    box = QMessageBox(icon, title, text, buttons, parent)
    box.setTextFormat(Qt.TextFormat.PlainText)
    box.setDefaultButton(default)
    for button, label in (labels or {}).items():
        box.button(button).setText(label)
    if detail:
        box.setInformativeText(detail)
    _plain_labels(box)  # the informative text's label too
    box.setAccessibleName(title)
    return box


def info(parent: QWidget | None, title: str, text: str, detail: str = "") -> None:
    _show(QMessageBox.Icon.Information, parent, title, text, Button.Ok, Button.Ok, detail)


def info_with_copy(parent: QWidget | None, title: str, text: str, *, copy_label: str,
                   copy_text: str, copied_label: str) -> None:
    """:func:`info` with a button that puts ``copy_text`` on the clipboard.

    Tests answer it like :func:`info`; :func:`make_copy_box` builds the box itself.
    """
    shown.append((title, text))
    if _next_answers:
        _button_answer()
        return
    box = make_copy_box(parent, title, text, copy_label=copy_label, copy_text=copy_text,
                        copied_label=copied_label)
    box.exec()
    box.deleteLater()


def make_copy_box(parent: QWidget | None, title: str, text: str, *, copy_label: str,
                  copy_text: str, copied_label: str) -> QMessageBox:
    box = make_box(QMessageBox.Icon.Information, parent, title, text, Button.Ok, Button.Ok)
    copy = box.addButton(copy_label, QMessageBox.ButtonRole.ActionRole)
    copy.clicked.disconnect()  # copying must not close the box before it was read

    def copy_now() -> None:
        QGuiApplication.clipboard().setText(copy_text)
        copy.setText(copied_label)

    copy.clicked.connect(copy_now)
    box.setDefaultButton(Button.Ok)
    return box


def warn(parent: QWidget | None, title: str, text: str, detail: str = "") -> None:
    _show(QMessageBox.Icon.Warning, parent, title, text, Button.Ok, Button.Ok, detail)


def error(parent: QWidget | None, title: str, text: str, detail: str = "") -> None:
    _show(QMessageBox.Icon.Critical, parent, title, text, Button.Ok, Button.Ok, detail)


def ask(parent: QWidget | None, title: str, text: str, *, yes: Button = Button.Yes,
        no: Button = Button.No, default: Button = Button.No, detail: str = "") -> bool:
    answer = _show(QMessageBox.Icon.Question, parent, title, text, yes | no, default, detail)
    return answer == yes


def make_text_dialog(parent: QWidget | None, title: str, label: str,
                     echo: QLineEdit.EchoMode = QLineEdit.EchoMode.Normal,
                     text: str = "", *, multiline: bool = False) -> QInputDialog:
    """The dialog :func:`get_text` shows, its prompt plain (it may name a file)."""
    dialog = QInputDialog(parent)
    dialog.setInputMode(QInputDialog.InputMode.TextInput)
    if multiline:
        dialog.setOption(QInputDialog.InputDialogOption.UsePlainTextEditForTextInput)
    dialog.setWindowTitle(title)
    dialog.setLabelText(label)
    dialog.setTextEchoMode(echo)
    dialog.setTextValue(text)
    _plain_labels(dialog)
    return dialog


def get_text(parent: QWidget | None, title: str, label: str,
             echo: QLineEdit.EchoMode = QLineEdit.EchoMode.Normal,
             text: str = "") -> tuple[str, bool]:
    """Like ``QInputDialog.getText``, but the prompt is shown as plain text."""
    return _ask_text(make_text_dialog(parent, title, label, echo, text))


def get_multiline_text(parent: QWidget | None, title: str, label: str,
                       text: str = "") -> tuple[str, bool]:
    """Like ``QInputDialog.getMultiLineText``, but the prompt is shown as plain text."""
    return _ask_text(make_text_dialog(parent, title, label, text=text, multiline=True))


def _ask_text(dialog: QInputDialog) -> tuple[str, bool]:
    shown.append((dialog.windowTitle(), dialog.labelText()))
    try:
        # Only a text answer is taken: a button queued for a box after this prompt waits.
        answer = _next_answers[0] if _next_answers else None
        if isinstance(answer, TextAnswer):
            _next_answers.popleft()
            return answer.text, answer.accepted
        accepted = dialog.exec() == QInputDialog.DialogCode.Accepted
        return dialog.textValue(), accepted
    finally:
        dialog.deleteLater()


def choose(parent: QWidget | None, title: str, text: str, *, yes_text: str, no_text: str,
           detail: str = "") -> bool:
    """A warning with two choices in words ("Yes"/"No" would not say what happens).

    Tests answer it with ``set_next_answer(Button.Yes)`` for ``yes_text``.
    """
    answer = _show(QMessageBox.Icon.Warning, parent, title, text, Button.Yes | Button.No,
                   Button.No, detail, {Button.Yes: yes_text, Button.No: no_text})
    return answer == Button.Yes
