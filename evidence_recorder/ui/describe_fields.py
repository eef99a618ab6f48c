"""The describe panel's fields: what each one is called and holds (in the order police
and helplines ask for them), and the widgets of one field row, with the mark that shows,
in colour and in words, that an important field is still empty.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from evidence_recorder.core.i18n import QT_TRANSLATE_NOOP

# Amber with 3:1 contrast (WCAG 1.4.11) on light and dark windows and text boxes alike.
MARK_COLOUR = "#b8740d"


_TEXT_LINES_SHOWN = 7  # "What happened" shows this many lines before it scrolls


@dataclass(frozen=True, slots=True)
class _Spec:
    name: str  # the CaptureDetails field
    label: str  # with its mnemonic
    kind: str  # "site", "line", "text" or "category"
    placeholder: str = ""
    short: str = ""  # how the "Worth adding" line names it
    lines: int = 0  # visible lines of a multi-line box
    # A one-line field shows its hint as a grey line below it, which wraps and so is
    # never cut off, unless the hint is only a short example of the format ("@name").
    example: bool = False


# Mnemonics avoid C, E, V and H (the main window's Capture, Evidence, Vault and Help
# menus) and P and T (its Pictures and Timeline tabs), so Alt+letter is never ambiguous.
_C = "DescribePanel"  # the translation context of the texts below (lupdate needs literals)
_SPECS: tuple[_Spec, ...] = (
    _Spec("site", QT_TRANSLATE_NOOP("DescribePanel", "&Site"), "site",
          QT_TRANSLATE_NOOP("DescribePanel", "Choose or type the site"),
          short=QT_TRANSLATE_NOOP("DescribePanel", "site")),
    _Spec("url", QT_TRANSLATE_NOOP("DescribePanel", "&Link to the post or message"), "line",
          QT_TRANSLATE_NOOP("DescribePanel", "Copy it from the address bar, e.g. https://…"),
          short=QT_TRANSLATE_NOOP("DescribePanel", "link")),
    _Spec("author", QT_TRANSLATE_NOOP("DescribePanel", "&Author's name"), "line",
          QT_TRANSLATE_NOOP("DescribePanel", "The name shown on the post"),
          short=QT_TRANSLATE_NOOP("DescribePanel", "author")),
    _Spec("handle", QT_TRANSLATE_NOOP("DescribePanel", "@han&dle"), "line",
          QT_TRANSLATE_NOOP("DescribePanel", "@name"), example=True),
    _Spec("profile_url", QT_TRANSLATE_NOOP("DescribePanel", "Link to their pro&file"), "line",
          "https://…", example=True),
    _Spec("author_id", QT_TRANSLATE_NOOP("DescribePanel", "Their &user number (if known)"),
          "line", QT_TRANSLATE_NOOP("DescribePanel", "Often the number in their profile link")),
    _Spec("posted_at", QT_TRANSLATE_NOOP("DescribePanel", "Ti&me shown on the post"), "line",
          QT_TRANSLATE_NOOP("DescribePanel", "e.g. 2h, Yesterday at 21:04"),
          short=QT_TRANSLATE_NOOP("DescribePanel", "time on the post")),
    _Spec("category", QT_TRANSLATE_NOOP("DescribePanel", "Cate&gory"), "category"),
    _Spec("description", QT_TRANSLATE_NOOP("DescribePanel", "&What happened"), "text",
          QT_TRANSLATE_NOOP("DescribePanel", "What was posted or sent, in your own words"),
          short=QT_TRANSLATE_NOOP("DescribePanel", "what happened"), lines=_TEXT_LINES_SHOWN),
    _Spec("context", QT_TRANSLATE_NOOP("DescribePanel", "Conte&xt / the conversation around it"),
          "text",
          QT_TRANSLATE_NOOP("DescribePanel", "What came before and after it, and why it matters"),
          lines=4),
    _Spec("people", QT_TRANSLATE_NOOP("DescribePanel", "People involved o&r witnesses"), "line",
          QT_TRANSLATE_NOOP("DescribePanel", "Others who were named, tagged or saw it")),
    _Spec("platform_ref", QT_TRANSLATE_NOOP("DescribePanel", "Platform report refere&nce"),
          "line", QT_TRANSLATE_NOOP("DescribePanel", "From the site's reply to your report")),
    _Spec("police_ref", QT_TRANSLATE_NOOP("DescribePanel", "P&olice reference"), "line",
          QT_TRANSLATE_NOOP("DescribePanel", "A crime reference number, if you have one")),
)

# Headings before these fields group the form the way the guidance asks its questions.
_HEADINGS: dict[str, str] = {
    "site": QT_TRANSLATE_NOOP("DescribePanel", "Where it was"),
    "author": QT_TRANSLATE_NOOP("DescribePanel", "Who posted it"),
    "posted_at": QT_TRANSLATE_NOOP("DescribePanel", "When"),
    "category": QT_TRANSLATE_NOOP("DescribePanel", "What it was"),
    "platform_ref": QT_TRANSLATE_NOOP("DescribePanel", "Reports made"),
}

# The form in three blocks. Wide: "where" and "reports" down the left, "what" down the
# right, so the picture's story (when, what, what happened) reads as one column. Narrow:
# one column, in the order the guidance asks (where, who, when, what, reports, incident).
_BLOCKS: dict[str, tuple[str, ...]] = {
    "where": ("site", "url", "author", "handle", "profile_url", "author_id"),
    "what": ("posted_at", "category", "description", "context", "people"),
    "reports": ("platform_ref", "police_ref", "incident"),
}


def _tr(text: str) -> str:
    """A text marked above, in the user's language."""
    return QCoreApplication.translate(_C, text) if text else text


_SINGLE_LINE = frozenset(s.name for s in _SPECS if s.kind != "text")


def _plain(label: str) -> str:
    return label.replace("&", "")


def _line_edit(combo: QComboBox) -> QLineEdit:
    edit = combo.lineEdit()
    assert edit is not None, "only editable combo boxes have a line edit"
    return edit


class _TextBox(QPlainTextEdit):
    """A multi-line box that asks for a few lines' height and lets Tab leave it."""

    def __init__(self, lines: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._lines = lines
        self.setTabChangesFocus(True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setFixedHeight(self._height_for(lines))

    def _height_for(self, lines: int) -> int:
        margins = self.contentsMargins()
        document_margin = int(self.document().documentMargin())
        return (self.fontMetrics().lineSpacing() * lines + 2 * document_margin
                + margins.top() + margins.bottom() + 2)


class _Mark(QWidget):
    """The amber bar beside an important field that is still empty.

    Painted rather than styled: a style sheet change on every keystroke re-polishes
    the widget and can leave the form layout with stale row heights.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.marked = False
        self.setFixedWidth(4)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Ignored)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)

    def set_marked(self, marked: bool) -> None:
        if marked != self.marked:
            self.marked = marked
            self.setToolTip(self.tr("Worth adding") if marked else "")
            self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        if self.marked:
            painter = QPainter(self)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(MARK_COLOUR))
            painter.drawRoundedRect(self.rect(), 2, 2)
            painter.end()


class _FieldRow(QWidget):
    """One field with its "worth adding" mark on the left and a length note below."""

    def __init__(self, field: QWidget, *, markable: bool, help_text: str = "",
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.field = field
        self.mark = _Mark(self)
        self.markable = markable
        self.note = QLabel(self)
        self.note.setWordWrap(True)
        self.note.setVisible(False)
        # The hint in grey below the field; a placeholder inside it would be cut off
        # where the field is narrow, and gone as soon as the user types.
        self.help = QLabel(help_text, self)
        self.help.setWordWrap(True)
        self.help.setObjectName("fieldHelp")
        self.help.setStyleSheet("QLabel#fieldHelp { color: palette(placeholder-text); }")
        self.help.setVisible(bool(help_text))
        column = QVBoxLayout()
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        column.addWidget(field)
        column.addWidget(self.help)
        column.addWidget(self.note)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(4)
        row.addWidget(self.mark)
        row.addLayout(column, 1)
        # Never squeezed below its height: a scroll area, not a clipped box, handles a short pane.
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.set_marked(False)

    def set_marked(self, marked: bool) -> None:
        self.mark.set_marked(marked)

    def is_marked(self) -> bool:
        return self.mark.marked
