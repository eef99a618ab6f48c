"""What a passphrase field tells the user while they type: how strong the passphrase
is (in words, with a meter whose colours keep 3:1 contrast) and whether Caps Lock is on.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt, Signal
from PySide6.QtGui import QColor, QKeyEvent, QPalette
from PySide6.QtWidgets import QLabel, QLineEdit, QProgressBar, QVBoxLayout, QWidget

from evidence_recorder.core.i18n import ERROR_CONTEXT
from evidence_recorder.core.passphrase import (
    MAX_SCORE,
    MIN_LENGTH,
    STRENGTH_CONTEXT,
    passphrase_problem,
    passphrase_strength,
)
from evidence_recorder.ui import theme


def _para(text: str) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.PlainText)
    return label


def _strength_words(score: int) -> str:
    translate = QCoreApplication.translate
    return (translate("unlock", "Very weak — one of the first things anyone would try."),
            translate("unlock", "Weak — easy to guess. Add another word or two."),
            translate("unlock", "Fair — could be guessed. Another unrelated word makes it much "
                                "stronger."),
            translate("unlock", "Good — hard to guess. Make sure you will remember it."),
            translate("unlock", "Strong — very hard to guess. Make sure you will remember it."),
            )[score]


def strength_hint(passphrase: str) -> str:
    """A short, kind line under the passphrase field while it is being typed: how strong
    zxcvbn reckons it is, and what makes it weak."""
    translate = QCoreApplication.translate
    if not passphrase:
        return translate("unlock", "At least {count} characters. A few unrelated words with "
                         "spaces is easy to remember and hard to guess.").format(count=MIN_LENGTH)
    if problem := passphrase_problem(passphrase):
        return translate(ERROR_CONTEXT, problem)
    score, warning = passphrase_strength(passphrase)
    words = _strength_words(score)
    return f"{words}\n{translate(STRENGTH_CONTEXT, warning)}" if warning else words


# Bar colours from weak to strong, for light and dark themes; each is checked against
# the bar's background and the first that stands out (3:1, WCAG 1.4.11) is used.
_STRENGTH_COLOURS = (("#b00020", "#b3261e"), ("#b34700", "#a33f00"), ("#8a6a00", "#735800"),
                     ("#2e7d32", "#1b5e20"), ("#1b5e20", "#0d4714"))
_STRENGTH_COLOURS_DARK = (("#ff8a80", "#ffb4ab"), ("#ffb74d", "#ffcc80"), ("#ffd54f", "#ffe082"),
                          ("#81c784", "#a5d6a7"), ("#66bb6a", "#a5d6a7"))
NON_TEXT_CONTRAST = 3.0


def strength_colour(palette: QPalette, score: int) -> str:
    """The bar's colour for ``score`` (0 to 4), readable against this palette's base."""
    back = palette.color(QPalette.ColorRole.Base)
    table = _STRENGTH_COLOURS_DARK if theme.is_dark(palette) else _STRENGTH_COLOURS
    for candidate in table[score]:
        if theme.contrast(QColor(candidate), back) >= NON_TEXT_CONTRAST:
            return candidate
    return palette.color(QPalette.ColorRole.Text).name()


class StrengthMeter(QWidget):
    """A coloured bar (zxcvbn's 0 to 4) and the words that say what it means."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        self.bar = QProgressBar()
        self.bar.setRange(0, MAX_SCORE + 1)  # a weak one still shows a sliver of red
        self.bar.setTextVisible(False)
        self.bar.setFixedHeight(10)
        self.bar.setAccessibleName(self.tr("Passphrase strength"))
        self.label = _para("")
        self.label.setAccessibleName(self.tr("Passphrase strength"))
        layout.addWidget(self.bar)
        layout.addWidget(self.label)
        self.score: int | None = None
        self.show_for("")

    def show_for(self, passphrase: str) -> None:
        text = strength_hint(passphrase)
        self.label.setText(text)
        self.bar.setAccessibleDescription(text.split("\n")[0])
        if not passphrase:
            self.score = None
            self.bar.setValue(0)
            self.bar.hide()
            return
        self.score = 0 if passphrase_problem(passphrase) else passphrase_strength(passphrase)[0]
        self.bar.setValue(self.score + 1)
        colour = strength_colour(self.palette(), self.score)
        self.bar.setStyleSheet(
            "QProgressBar { border: 1px solid palette(mid); border-radius: 4px; "
            "background: palette(base); } "
            f"QProgressBar::chunk {{ background: {colour}; border-radius: 3px; }}")
        self.bar.show()

    def text(self) -> str:
        return self.label.text()


class CapsLockWatch(QObject):
    """Tells when Caps Lock seems to be on, from the letters typed into watched fields.

    Qt cannot ask the keyboard, so a letter whose case goes against Shift says Caps Lock
    is on (an "A" typed without Shift), and one that agrees says it is off again.
    """

    changed = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.on = False

    def watch(self, *fields: QLineEdit) -> None:
        for field in fields:
            field.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
            text = event.text()
            if len(text) == 1 and text.lower() != text.upper():
                shift = bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
                on = text.isupper() != shift
                if on != self.on:
                    self.on = on
                    self.changed.emit(on)
        return False
