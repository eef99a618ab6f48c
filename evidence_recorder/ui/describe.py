"""The describe panel: what the user says about a capture, right after taking it or later.

The fields follow what police and helplines ask a screenshot to carry (see
``EVIDENCE-GUIDANCE.md``): where, who, when as shown, what happened, references.
The important ones are marked while empty, in colour and in words, but nothing
blocks saving: a capture with half its details is still evidence, and an upset
person must never lose one to a form.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC

from PySide6.QtCore import QCoreApplication, QSignalBlocker, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QKeySequence, QPainter, QPaintEvent, QResizeEvent, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from evidence_recorder.core.i18n import QT_TRANSLATE_NOOP
from evidence_recorder.core.model import (
    CATEGORY_LABELS,
    IMPORTANT_DETAILS,
    Capture,
    CaptureDetails,
    CaptureKind,
    Incident,
)
from evidence_recorder.core.sites import SITES, guess_site
from evidence_recorder.core.vault import MAX_TEXT
from evidence_recorder.ui.i18n import category_text
from evidence_recorder.ui.models import (
    format_clock,
    format_moment,
    local_captured_at,
    zone_label,
)
from evidence_recorder.ui.plain import make_plain

# Amber with 3:1 contrast (WCAG 1.4.11) on light and dark windows and text boxes alike.
MARK_COLOUR = "#b8740d"
_NO_CAPTURE = QT_TRANSLATE_NOOP("DescribePanel",
                                "No capture selected. Choose one to see or add its details.")
_WIDE_FORM_EM = 46  # wider than this many "M"s: labels beside fields, else above them


@dataclass(frozen=True, slots=True)
class _Spec:
    name: str  # the CaptureDetails field
    label: str  # with its mnemonic
    kind: str  # "site", "line", "text" or "category"
    placeholder: str = ""
    short: str = ""  # how the "Worth adding" line names it
    lines: int = 0  # visible lines of a multi-line box


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
          QT_TRANSLATE_NOOP("DescribePanel", "@name")),
    _Spec("profile_url", QT_TRANSLATE_NOOP("DescribePanel", "Link to their pro&file"), "line",
          "https://…"),
    _Spec("author_id", QT_TRANSLATE_NOOP("DescribePanel", "Their &user number (if known)"),
          "line", QT_TRANSLATE_NOOP("DescribePanel", "Often the number in their profile link")),
    _Spec("posted_at", QT_TRANSLATE_NOOP("DescribePanel", "Ti&me shown on the post"), "line",
          QT_TRANSLATE_NOOP("DescribePanel", "e.g. 2h, Yesterday at 21:04"),
          short=QT_TRANSLATE_NOOP("DescribePanel", "time on the post")),
    _Spec("category", QT_TRANSLATE_NOOP("DescribePanel", "Cate&gory"), "category"),
    _Spec("description", QT_TRANSLATE_NOOP("DescribePanel", "&What happened"), "text",
          QT_TRANSLATE_NOOP("DescribePanel", "What was posted or sent, in your own words"),
          short=QT_TRANSLATE_NOOP("DescribePanel", "what happened"), lines=4),
    _Spec("context", QT_TRANSLATE_NOOP("DescribePanel", "Conte&xt / the conversation around it"),
          "text",
          QT_TRANSLATE_NOOP("DescribePanel", "What came before and after it, and why it matters"),
          lines=3),
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


def capture_time_text(capture: Capture) -> str:
    """``Captured 25 Nov 2026 at 14:02:31 (your time, Europe/London) · 14:02:31 UTC``."""
    local = local_captured_at(capture)
    utc = capture.captured_at.astimezone(UTC)
    # A no-break space keeps "UTC" with its time, and "·" with the text before it.
    translate = QCoreApplication.translate
    utc_text = translate("CaptureTime", "{time}\u00a0UTC").format(
        time=format_clock(utc, seconds=True) if utc.date() == local.date()
        else format_moment(utc))
    if capture.kind == CaptureKind.IMPORT:
        template = translate("CaptureTime", "Imported {local} (your time, {zone})\u00a0· {utc}")
    else:
        template = translate("CaptureTime", "Captured {local} (your time, {zone})\u00a0· {utc}")
    text = template.format(local=format_moment(local), zone=zone_label(capture), utc=utc_text)
    if capture.source is not None and capture.source.claimed_time:
        text += "\n" + translate("CaptureTime", "The file says it was taken {claimed} "
                                                "(as written in the file; not checked).").format(
            claimed=capture.source.claimed_time)
    return text


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

    def __init__(self, field: QWidget, *, markable: bool,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.field = field
        self.mark = _Mark(self)
        self.markable = markable
        self.note = QLabel(self)
        self.note.setWordWrap(True)
        self.note.setVisible(False)
        column = QVBoxLayout()
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        column.addWidget(field)
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


class DescribePanel(QWidget):
    """The form a user fills in right after a capture, and edits later in the detail pane."""

    save_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._capture_id: int | None = None
        self._loaded: dict[str, str] = CaptureDetails().as_dict()
        self._loaded_incident: int | None = None
        self._guessed_site: str | None = None  # the site we filled in from the link
        self._setting_site = False
        self._loading = False
        self._wide: bool | None = None

        self.inputs: dict[str, QWidget] = {}
        self.labels: dict[str, QLabel] = {}
        self._rows: dict[str, _FieldRow] = {}

        self.time_label = QLabel(_tr(_NO_CAPTURE))
        self.time_label.setWordWrap(True)
        self.time_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.time_label.setAccessibleName(self.tr("Capture time"))
        make_plain(self.time_label)  # quotes the date written in an imported file

        self.hint = QWidget()
        hint_icon = QLabel(self.hint)
        size = self.style().pixelMetric(QStyle.PixelMetric.PM_SmallIconSize)
        hint_icon.setPixmap(self.style().standardIcon(
            QStyle.StandardPixmap.SP_MessageBoxInformation).pixmap(size, size))
        hint_icon.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.hint_text = QLabel(self.hint)
        self.hint_text.setWordWrap(True)
        hint_row = QHBoxLayout(self.hint)
        hint_row.setContentsMargins(0, 0, 0, 0)
        hint_row.addWidget(hint_icon)
        hint_row.addWidget(self.hint_text, 1)
        hint_bar = _Mark(self.hint)
        hint_bar.set_marked(True)
        hint_bar.setToolTip("")
        hint_row.insertWidget(0, hint_bar)

        self.form = QFormLayout()
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapAllRows)
        for spec in _SPECS:
            if spec.name in _HEADINGS:
                self._add_heading(_tr(_HEADINGS[spec.name]))
            self._add_field(spec)
        self._add_heading(self.tr("Incident"))
        self.incident_box = QComboBox()
        self.incident_box.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.incident_box.setMinimumContentsLength(12)
        self.incident_box.setAccessibleName(self.tr("Incident"))
        self.incident_box.setAccessibleDescription(
            self.tr("The incident this capture belongs to; related captures show a course of "
                    "conduct."))
        incident_label = QLabel(self.tr("&Incident"))
        incident_label.setBuddy(self.incident_box)
        self.labels["incident"] = incident_label
        self.form.addRow(incident_label, _FieldRow(self.incident_box, markable=False))

        content = QWidget()
        self._content_layout = content_layout = QVBoxLayout(content)
        content_layout.setContentsMargins(0, 0, 6, 0)
        content_layout.addLayout(self.form)
        content_layout.addStretch(1)
        self.scroll_area = QScrollArea()
        self.scroll_area.setWidgetResizable(True)
        self.scroll_area.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll_area.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.scroll_area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll_area.setWidget(content)
        # A word-wrapping label whose text grows inside a resizable scroll area can leave
        # the content a line short (rows clip); re-laying out once events settle fixes it.
        self._relayout = QTimer(self)
        self._relayout.setSingleShot(True)
        self._relayout.setInterval(0)
        self._relayout.timeout.connect(self._relayout_content)

        self.save_button = QPushButton(self.tr("Save"))
        self.save_button.setAutoDefault(False)
        self.save_button.setToolTip(self.tr("Save these details (Ctrl+S or Ctrl+Enter)"))
        self.save_button.setAccessibleName(self.tr("Save details"))
        self.save_button.clicked.connect(self.save_requested)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.save_button)

        # The capture time and the "worth adding" line stay in view while the form scrolls.
        outer = QVBoxLayout(self)
        outer.setContentsMargins(6, 6, 6, 6)
        outer.addWidget(self.time_label)
        outer.addWidget(self.hint)
        outer.addWidget(self.scroll_area, 1)
        outer.addLayout(buttons)

        for keys in (QKeySequence.StandardKey.Save, QKeySequence("Ctrl+Return"),
                     QKeySequence("Ctrl+Enter")):
            shortcut = QShortcut(keys, self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(self.save_requested)

        self._set_tab_order()
        self._show_form(False)

    # ------------------------------------------------------------------ building

    def _add_heading(self, text: str) -> None:
        heading = QLabel(text)
        font = heading.font()
        font.setBold(True)
        heading.setFont(font)
        heading.setContentsMargins(0, 8, 0, 0)
        self.form.addRow(heading)

    def _add_field(self, spec: _Spec) -> None:
        field: QWidget
        if spec.kind == "site":
            combo = QComboBox()
            combo.setEditable(True)
            combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
            combo.addItems(list(SITES))
            combo.setCurrentIndex(-1)
            combo.setEditText("")
            line_edit = _line_edit(combo)
            line_edit.setPlaceholderText(_tr(spec.placeholder))
            line_edit.setMaxLength(MAX_TEXT)
            line_edit.setAccessibleName(_plain(_tr(spec.label)))
            combo.editTextChanged.connect(self._site_edited)
            field = combo
        elif spec.kind == "category":
            combo = QComboBox()
            combo.addItem(self.tr("Choose…"), "")
            for category, category_label in CATEGORY_LABELS.items():
                combo.addItem(category_text(category_label), category.value)
            combo.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(12)
            combo.currentIndexChanged.connect(self._edited)
            field = combo
        elif spec.kind == "text":
            box = _TextBox(spec.lines)
            box.setPlaceholderText(_tr(spec.placeholder))
            box.textChanged.connect(lambda name=spec.name: self._text_changed(name))
            field = box
        else:
            edit = QLineEdit()
            edit.setPlaceholderText(_tr(spec.placeholder))
            edit.setMaxLength(MAX_TEXT)
            edit.setClearButtonEnabled(False)
            edit.inputRejected.connect(lambda name=spec.name: self._too_long(name))
            edit.textChanged.connect(self._edited)
            if spec.name == "url":
                edit.textChanged.connect(self._url_changed)
            field = edit
        field.setObjectName(spec.name)
        field.setAccessibleName(_plain(_tr(spec.label)))
        if spec.placeholder:
            field.setAccessibleDescription(_tr(spec.placeholder))
        label = QLabel(_tr(spec.label))
        label.setBuddy(field)
        label.setWordWrap(True)
        row = _FieldRow(field, markable=spec.name in IMPORTANT_DETAILS)
        self.inputs[spec.name] = field
        self.labels[spec.name] = label
        self._rows[spec.name] = row
        self.form.addRow(label, row)

    def _set_tab_order(self) -> None:
        chain = [*self.inputs.values(), self.incident_box, self.save_button]
        for first, second in itertools.pairwise(chain):
            QWidget.setTabOrder(first, second)

    def focus_order(self) -> list[QWidget]:
        """The inputs in the order Tab visits them (what the tests and the window use)."""
        return [*self.inputs.values(), self.incident_box, self.save_button]

    # ------------------------------------------------------------------ public API

    def set_capture(self, capture: Capture, incidents: list[Incident]) -> None:
        """Show a capture's details; what is loaded now is what ``changed_fields`` compares to."""
        self._loading = True
        try:
            self._capture_id = capture.id
            self._loaded = capture.details.as_dict()
            for name, value in self._loaded.items():
                self._set_value(name, value)
            for row in self._rows.values():
                row.note.setVisible(False)
            self._guessed_site = None
            self.set_incidents(incidents, capture.incident_id)
            self._loaded_incident = capture.incident_id
            self.time_label.setText(capture_time_text(capture))
        finally:
            self._loading = False
        self._show_form(True)
        self.scroll_area.verticalScrollBar().setValue(0)

    def set_incidents(self, incidents: list[Incident], current_id: int | None) -> None:
        with QSignalBlocker(self.incident_box):
            self.incident_box.clear()
            for incident in incidents:
                self.incident_box.addItem(incident.title, incident.id)
            row = self.incident_box.findData(current_id) if current_id is not None else -1
            if row < 0:
                row = next((i for i, inc in enumerate(incidents) if inc.is_default), -1)
            self.incident_box.setCurrentIndex(row)

    def capture_id(self) -> int | None:
        return self._capture_id

    def details(self) -> CaptureDetails:
        return CaptureDetails(**{spec.name: self._value(spec.name) for spec in _SPECS})

    def changed_fields(self) -> dict[str, str]:
        """Only what differs from what was loaded: the ``changes`` for ``edit_capture``."""
        changed: dict[str, str] = {}
        for name, value in self.details().as_dict().items():
            loaded = self._loaded.get(name, "")
            if name in _SINGLE_LINE and value == loaded.strip():
                continue  # white space around a name or link was never a change the user made
            if value != loaded:
                changed[name] = value
        return changed

    def incident_id(self) -> int | None:
        data = self.incident_box.currentData()
        return int(data) if data is not None else None

    def has_changes(self) -> bool:
        return bool(self.changed_fields()) or self.incident_id() != self._loaded_incident

    def mark_saved(self) -> None:
        """What is shown now has been saved: later edits are compared against it."""
        self._loaded = self.details().as_dict()
        self._loaded_incident = self.incident_id()
        self._guessed_site = None

    def missing_important(self) -> list[str]:
        """The important fields (``IMPORTANT_DETAILS``) that are still empty."""
        return [name for name in IMPORTANT_DETAILS if not self._value(name)]

    def is_marked(self, name: str) -> bool:
        return self._rows[name].is_marked()

    def clear(self) -> None:
        """Forget every word shown, undo history included: the vault has locked."""
        self._loading = True
        try:
            for spec in _SPECS:
                self._set_value(spec.name, "")
            for row in self._rows.values():
                row.note.clear()
                row.note.setVisible(False)
            with QSignalBlocker(self.incident_box):
                self.incident_box.clear()
            self._capture_id = None
            self._loaded = CaptureDetails().as_dict()
            self._loaded_incident = None
            self._guessed_site = None
            self.time_label.setText(_tr(_NO_CAPTURE))
        finally:
            self._loading = False
        self._show_form(False)

    # ------------------------------------------------------------------ values

    def _value(self, name: str) -> str:
        field = self.inputs[name]
        if isinstance(field, QComboBox) and not field.isEditable():
            data = field.currentData()
            value = str(data) if data else ""
        elif isinstance(field, QComboBox):
            value = field.currentText()
        elif isinstance(field, QPlainTextEdit):
            value = field.toPlainText()
        elif isinstance(field, QLineEdit):
            value = field.text()
        else:  # pragma: no cover - every field is one of the above
            raise TypeError(name)
        value = value.replace("\x00", "")  # the vault refuses NUL; it is never meant
        return value.strip() if name in _SINGLE_LINE else value

    def _set_value(self, name: str, value: str) -> None:
        """Set a field without it counting as the user's edit; resets its undo history."""
        field = self.inputs[name]
        with QSignalBlocker(field):
            if isinstance(field, QComboBox) and not field.isEditable():
                index = field.findData(value)
                field.setCurrentIndex(max(index, 0))
            elif isinstance(field, QComboBox):
                self._set_site(value)
            elif isinstance(field, QPlainTextEdit):
                field.setPlainText(value)  # also clears the undo stack
                field.document().clearUndoRedoStacks()
            elif isinstance(field, QLineEdit):
                field.setText(value)  # setText (not clear()) also drops undo history

    def _set_site(self, value: str) -> None:
        combo = self.inputs["site"]
        assert isinstance(combo, QComboBox)
        self._setting_site = True
        try:
            index = combo.findText(value, Qt.MatchFlag.MatchFixedString) if value else -1
            combo.setCurrentIndex(index)
            _line_edit(combo).setText(combo.itemText(index) if index >= 0 else value)
        finally:
            self._setting_site = False

    # ------------------------------------------------------------------ reactions

    def _edited(self) -> None:
        if not self._loading:
            self._update_marks()

    def _site_edited(self, _text: str) -> None:
        if self._setting_site or self._loading:
            return
        self._guessed_site = None  # the user has chosen the site themself
        self._update_marks()

    def _url_changed(self, text: str) -> None:
        if self._loading:
            return
        current = self._value("site")
        if current and current != self._guessed_site:
            return  # never overwrite a site the user chose or that was saved
        guess = guess_site(text) or ""
        if guess != current:
            self._set_site(guess)
        self._guessed_site = guess or None
        self._update_marks()

    def _text_changed(self, name: str) -> None:
        if self._loading:
            return
        box = self.inputs[name]
        assert isinstance(box, QPlainTextEdit)
        text = box.toPlainText()
        if len(text) > MAX_TEXT:
            position = min(box.textCursor().position(), MAX_TEXT)
            with QSignalBlocker(box):
                box.setPlainText(text[:MAX_TEXT])
            cursor = box.textCursor()
            cursor.setPosition(min(position, len(box.toPlainText())))
            box.setTextCursor(cursor)
            self._too_long(name)
        self._update_marks()

    def _too_long(self, name: str) -> None:
        note = self._rows[name].note
        note.setText(self.tr("This box holds up to {MAX_TEXT:,} characters, so the rest was not "
                             "kept. If there is more to say, keep it in a document and mention it "
                             "here.").format(MAX_TEXT=MAX_TEXT))
        note.setVisible(True)
        self._relayout.start()

    def _show_form(self, shown: bool) -> None:
        """With no capture loaded there is nothing to describe: show only a short line."""
        self.setEnabled(shown)
        self.scroll_area.setVisible(shown)
        self.save_button.setVisible(shown)
        self._update_marks()

    def _relayout_content(self) -> None:
        self._content_layout.invalidate()

    def _update_marks(self) -> None:
        missing = self.missing_important() if self._capture_id is not None else []
        for name, row in self._rows.items():
            if row.markable:
                marked = name in missing
                row.set_marked(marked)
                description = self.tr("Worth adding.") if marked else ""
                spec = next(s for s in _SPECS if s.name == name)
                if spec.placeholder:
                    description = f"{description} {_tr(spec.placeholder)}".strip()  # sentences
                self.inputs[name].setAccessibleDescription(description)
        if missing:
            names = [next(_tr(s.short) for s in _SPECS if s.name == n) for n in missing]
            self.hint_text.setText(self.tr("Worth adding: {fields}. You can save without them "
                                           "and add them later.")
                                   .format(fields=self.tr(", ").join(names)))
        self.hint.setVisible(bool(missing))

    # ------------------------------------------------------------------ layout

    def resizeEvent(self, event: QResizeEvent) -> None:
        """Labels beside the fields when there is room, above them when the pane is narrow."""
        super().resizeEvent(event)
        wide = event.size().width() >= self.fontMetrics().horizontalAdvance("M") * _WIDE_FORM_EM
        if wide != self._wide:
            self._wide = wide
            self.form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows if wide
                                       else QFormLayout.RowWrapPolicy.WrapAllRows)


__all__ = ["DescribePanel", "capture_time_text"]
