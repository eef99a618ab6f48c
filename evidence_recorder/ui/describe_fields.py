"""The describe panel's fields: each declared field (:mod:`evidence_recorder.core.fields`)
as the form lays it out, and the widgets of one field row, with the mark that shows, in
colour and in words, that an important field is still empty.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QCoreApplication, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPaintEvent
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from evidence_recorder.core import fields
from evidence_recorder.core.i18n import FIELD_CONTEXT

# Amber with 3:1 contrast (WCAG 1.4.11) on light and dark windows and text boxes alike.
MARK_COLOUR = "#b8740d"


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
    max_length: int = fields.MAX_TEXT


_C = FIELD_CONTEXT  # the translation context of the fields' words
_KINDS: dict[fields.Value, str] = {
    fields.Value.SITE: "site", fields.Value.TEXT: "text", fields.Value.CATEGORY: "category"}
# One row per declared field (core/fields.py), in its order, which is the order police
# and helplines ask: where, who, when, what, reports.
_SPECS: tuple[_Spec, ...] = tuple(
    _Spec(f.name, f.label, _KINDS.get(f.value, "line"), f.hint, short=f.short,
          lines=f.lines, example=f.hint_is_example, max_length=f.max_length)
    for f in fields.FIELDS)
_SPEC_BY_NAME: dict[str, _Spec] = {spec.name: spec for spec in _SPECS}

# A heading before the first field of each group, so the form reads as the guidance asks.
_HEADINGS: dict[str, str] = {
    fields.in_group(group)[0].name: fields.GROUP_HEADINGS[group]
    for group in fields.Group if fields.in_group(group)}

# The form in three blocks. Wide: "where" and "reports" down the left, "what" down the
# right, so the picture's story (when, what, what happened) reads as one column. Narrow:
# one column, in the order the guidance asks (where, who, when, what, reports, incident).
_BLOCK_GROUPS: dict[str, tuple[fields.Group, ...]] = {
    "where": (fields.Group.WHERE, fields.Group.WHO),
    "what": (fields.Group.WHEN, fields.Group.WHAT),
    "reports": (fields.Group.REFERENCES,),
}
_BLOCKS: dict[str, tuple[str, ...]] = {
    block: tuple(f.name for f in fields.FIELDS if f.group in groups)
    + (("incident",) if block == "reports" else ())
    for block, groups in _BLOCK_GROUPS.items()
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
        self.column = column  # a suggestion to take (see DescribePanel.offer_suggestions)
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


class _Suggestion(QWidget):
    """What a captured page's own metadata names for a field, offered below it with a
    button to take it: it goes into the field only when the person presses the button."""

    taken = Signal(str)

    def __init__(self, value: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.value = value
        self.label = QLabel(self)
        self.label.setTextFormat(Qt.TextFormat.PlainText)  # words from a web page
        self.label.setWordWrap(True)
        self.label.setText(QCoreApplication.translate(
            "DescribePanel", "The page names “{value}”.").format(value=value))
        self.button = QPushButton(QCoreApplication.translate("DescribePanel", "Use this"), self)
        self.button.setAutoDefault(False)
        self.button.setAccessibleName(QCoreApplication.translate(
            "DescribePanel", "Use “{value}”, as the page names it").format(value=value))
        self.button.clicked.connect(lambda: self.taken.emit(self.value))
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.label, 1)
        row.addWidget(self.button)
