"""The describe panel: what the user says about a capture, right after taking it or later.

The fields follow what police and helplines ask a screenshot to carry (see
``EVIDENCE-GUIDANCE.md``): where, who, when as shown, what happened, references.
The important ones are marked while empty, in colour and in words, but nothing
blocks saving: a capture with half its details is still evidence, and an upset
person must never lose one to a form.

Which fields there are is declared in :mod:`evidence_recorder.core.fields`; how the form
lays them out, and the widgets of one field row (its label, its box and its "worth
adding" mark), are in :mod:`~evidence_recorder.ui.describe_fields`.
"""

from __future__ import annotations

import itertools
from datetime import UTC

from PySide6.QtCore import QCoreApplication, QSignalBlocker, Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QResizeEvent, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from evidence_recorder.core.gather.sites import SITES, guess_site
from evidence_recorder.core.i18n import QT_TRANSLATE_NOOP
from evidence_recorder.core.model import (
    CATEGORY_LABELS,
    IMPORTANT_DETAILS,
    Capture,
    CaptureDetails,
    CaptureKind,
    Incident,
    handle_text,
)
from evidence_recorder.ui.describe_fields import (
    _BLOCKS,
    _HEADINGS,
    _SINGLE_LINE,
    _SPEC_BY_NAME,
    _SPECS,
    _FieldRow,
    _line_edit,
    _Mark,
    _plain,
    _Spec,
    _Suggestion,
    _TextBox,
    _tr,
)
from evidence_recorder.ui.i18n import category_text
from evidence_recorder.ui.plain import make_plain
from evidence_recorder.ui.wording import format_clock, format_moment, local_captured_at, zone_label

_NO_CAPTURE = QT_TRANSLATE_NOOP("DescribePanel",
                                "No capture selected. Choose one to see or add its details.")
_TWO_COLUMNS_EM = 52  # wider than this many "M"s: the form in two columns



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

        self.inputs: dict[str, QWidget] = {}
        self.labels: dict[str, QLabel] = {}
        self._rows: dict[str, _FieldRow] = {}
        self.suggestions: dict[str, _Suggestion] = {}  # offered, not yet taken

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

        self.blocks: dict[str, QWidget] = {}
        # Each label above its field, with the whole width to wrap in: beside the field
        # (a form layout) a long label wraps into a narrow column and can be clipped.
        self._forms: dict[str, QVBoxLayout] = {}
        for block in _BLOCKS:
            widget = QWidget()
            widget.setObjectName(f"{block}Block")
            form = QVBoxLayout(widget)
            form.setContentsMargins(0, 0, 0, 0)
            form.setSpacing(2)
            self.blocks[block] = widget
            self._forms[block] = form
        for spec in _SPECS:
            form = self._forms[next(b for b, names in _BLOCKS.items() if spec.name in names)]
            if spec.name in _HEADINGS:
                self._add_heading(form, _tr(_HEADINGS[spec.name]))
            self._add_field(form, spec)
        form = self._forms["reports"]
        self._add_heading(form, self.tr("Incident"))
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
        self._add_row(form, incident_label, _FieldRow(self.incident_box, markable=False))
        for form in self._forms.values():
            form.addStretch(1)  # a short column keeps its rows together at the top

        content = QWidget()
        self._content_layout = content_layout = QGridLayout(content)
        content_layout.setContentsMargins(0, 0, 6, 0)
        content_layout.setHorizontalSpacing(self.fontMetrics().horizontalAdvance("M") * 2)
        self._two_columns: bool | None = None
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

        self._set_columns(two=False)
        self._show_form(False)

    # ------------------------------------------------------------------ building

    def _add_heading(self, form: QVBoxLayout, text: str) -> None:
        heading = QLabel(text)
        font = heading.font()
        font.setBold(True)
        heading.setFont(font)
        heading.setContentsMargins(0, 8, 0, 0)
        form.addWidget(heading)

    def _add_field(self, form: QVBoxLayout, spec: _Spec) -> None:
        field: QWidget
        if spec.kind == "site":
            combo = QComboBox()
            combo.setEditable(True)
            combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
            combo.addItems(list(SITES))
            combo.setCurrentIndex(-1)
            combo.setEditText("")
            line_edit = _line_edit(combo)
            line_edit.setMaxLength(spec.max_length)
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
            if spec.example:
                edit.setPlaceholderText(_tr(spec.placeholder))
            edit.setMaxLength(spec.max_length)
            edit.setClearButtonEnabled(False)
            edit.inputRejected.connect(lambda name=spec.name: self._too_long(name))
            edit.textChanged.connect(self._edited)
            if spec.name == "url":
                edit.textChanged.connect(self._url_changed)
            if spec.name == "handle":
                edit.textChanged.connect(self._handle_changed)
                edit.editingFinished.connect(self._show_handle)
            field = edit
        field.setObjectName(spec.name)
        field.setAccessibleName(_plain(_tr(spec.label)))
        if spec.placeholder:
            field.setAccessibleDescription(_tr(spec.placeholder))
        label = QLabel(_tr(spec.label))
        label.setBuddy(field)
        help_text = "" if spec.example or spec.kind == "text" else _tr(spec.placeholder)
        row = _FieldRow(field, markable=spec.name in IMPORTANT_DETAILS, help_text=help_text)
        self.inputs[spec.name] = field
        self.labels[spec.name] = label
        self._rows[spec.name] = row
        self._add_row(form, label, row)

    def _add_row(self, form: QVBoxLayout, label: QLabel, row: _FieldRow) -> None:
        label.setWordWrap(True)
        form.addSpacing(4)
        form.addWidget(label)
        form.addWidget(row)

    def _set_tab_order(self) -> None:
        for first, second in itertools.pairwise(self.focus_order()):
            QWidget.setTabOrder(first, second)

    def focus_order(self) -> list[QWidget]:
        """The inputs in the order Tab visits them (what the tests and the window use):
        down one column, then down the next."""
        fields = {**self.inputs, "incident": self.incident_box}
        return [*(fields[name] for block in self._block_order() for name in _BLOCKS[block]),
                self.save_button]

    def _block_order(self) -> tuple[str, ...]:
        return ("where", "reports", "what") if self._two_columns else ("where", "what", "reports")

    def is_two_columns(self) -> bool:
        return bool(self._two_columns)

    def _set_columns(self, *, two: bool) -> None:
        """Wide: "where" and "reports" on the left, "what" on the right; narrow: stacked."""
        if two == self._two_columns:
            return
        self._two_columns = two
        grid = self._content_layout
        for widget in self.blocks.values():
            grid.removeWidget(widget)
        for column in range(2):
            grid.setColumnStretch(column, 0)
        if two:
            grid.addWidget(self.blocks["where"], 0, 0)
            grid.addWidget(self.blocks["reports"], 1, 0)
            grid.addWidget(self.blocks["what"], 0, 1, 2, 1)
            grid.setColumnStretch(0, 1)
            grid.setColumnStretch(1, 1)
        else:
            for row, name in enumerate(("where", "what", "reports")):
                grid.addWidget(self.blocks[name], row, 0)
            grid.setColumnStretch(0, 1)
        for row in range(4):
            grid.setRowStretch(row, 0)
        grid.setRowStretch(3, 1)  # the blocks sit at the top; the room left stays below
        self._set_tab_order()

    # ------------------------------------------------------------------ public API

    def set_capture(self, capture: Capture, incidents: list[Incident]) -> None:
        """Show a capture's details; what is loaded now is what ``changed_fields`` compares to."""
        self._loading = True
        try:
            self._capture_id = capture.id
            self._loaded = capture.details.as_dict()
            # Shown (and compared) as @name, as the vault now stores it; a handle saved
            # without the @ by an older version is rewritten only if the user edits it.
            self._loaded["handle"] = handle_text(self._loaded["handle"])
            for name, value in self._loaded.items():
                self._set_value(name, value)
            for row in self._rows.values():
                row.note.setVisible(False)
            self._guessed_site = None
            self._drop_suggestions()
            self.set_incidents(incidents, capture.incident_id)
            self._loaded_incident = capture.incident_id
            self.time_label.setText(capture_time_text(capture))
        finally:
            self._loading = False
        self._show_form(True)
        self.scroll_area.verticalScrollBar().setValue(0)

    def refresh(self, capture: Capture, incidents: list[Incident]) -> None:
        """The shown capture as stored now, if it changed elsewhere; never over the user's
        unsaved typing, and without scrolling the form back to the top."""
        if capture.id != self._capture_id or self.has_changes():
            return
        stored = capture.details.as_dict()
        stored["handle"] = handle_text(stored["handle"])
        if stored == self._loaded and capture.incident_id == self._loaded_incident:
            return
        position = self.scroll_area.verticalScrollBar().value()
        self.set_capture(capture, incidents)
        self.scroll_area.verticalScrollBar().setValue(position)

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
        self._show_handle()

    def offer_suggestions(self, suggestions: dict[str, str]) -> None:
        """Offer what a captured page's metadata names (``author``, ``handle``) below
        those fields, each taken with one click. Nothing is written into a field, or
        saved, unless the person takes it: a page can name the wrong person."""
        self._drop_suggestions()
        for name in ("author", "handle"):
            value = " ".join(suggestions.get(name, "").split())
            if name == "handle":
                value = handle_text(value)
            if not value or self._value(name) == value:
                continue
            offer = _Suggestion(value, self._rows[name])
            offer.taken.connect(lambda taken, field=name: self._take_suggestion(field, taken))
            self._rows[name].column.addWidget(offer)
            self.suggestions[name] = offer
        self._relayout.start()

    def _take_suggestion(self, name: str, value: str) -> None:
        field = self.inputs[name]
        assert isinstance(field, QLineEdit)
        field.setText(value)  # as if typed: it counts as the person's change, and is saved
        offer = self.suggestions.pop(name, None)
        if offer is not None:
            offer.hide()
            offer.deleteLater()
        self._relayout.start()

    def _drop_suggestions(self) -> None:
        for offer in self.suggestions.values():
            offer.hide()
            offer.deleteLater()
        self.suggestions.clear()

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
            self._drop_suggestions()
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
        if name == "handle":
            return handle_text(value)  # what the vault will store
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

    def _handle_changed(self, _text: str) -> None:
        """Say at once, not only on Save, that a handle has no spaces (the vault refuses one)."""
        note = self._rows["handle"].note
        spaced = any(character.isspace() for character in self._value("handle"))
        if spaced:
            note.setText(self.tr("A @handle has no spaces in it. Put the name shown on the "
                                 "post in “Author's name”, and only the @name here."))
        if spaced != note.isVisible():
            note.setVisible(spaced)
            self._relayout.start()

    def _show_handle(self) -> None:
        """Show the handle as it is stored, @name, once the user has finished typing it."""
        edit = self.inputs["handle"]
        assert isinstance(edit, QLineEdit)
        shown = self._value("handle")
        if edit.text() != shown and not any(c.isspace() for c in shown):
            edit.setText(shown)  # through textChanged: the marks and note follow

    def _text_changed(self, name: str) -> None:
        if self._loading:
            return
        box = self.inputs[name]
        assert isinstance(box, QPlainTextEdit)
        text = box.toPlainText()
        limit = _SPEC_BY_NAME[name].max_length
        if len(text) > limit:
            position = min(box.textCursor().position(), limit)
            with QSignalBlocker(box):
                box.setPlainText(text[:limit])
            cursor = box.textCursor()
            cursor.setPosition(min(position, len(box.toPlainText())))
            box.setTextCursor(cursor)
            self._too_long(name)
        self._update_marks()

    def _too_long(self, name: str) -> None:
        note = self._rows[name].note
        note.setText(self.tr("This box holds up to {MAX_TEXT:,} characters, so the rest was not "
                             "kept. If there is more to say, keep it in a document and mention it "
                             "here.").format(MAX_TEXT=_SPEC_BY_NAME[name].max_length))
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
                spec = _SPEC_BY_NAME[name]
                if spec.placeholder:
                    description = f"{description} {_tr(spec.placeholder)}".strip()  # sentences
                self.inputs[name].setAccessibleDescription(description)
        if missing:
            names = [_tr(_SPEC_BY_NAME[n].short) for n in missing]
            self.hint_text.setText(self.tr("Worth adding: {fields}. You can save without them "
                                           "and add them later.")
                                   .format(fields=self.tr(", ").join(names)))
        self.hint.setVisible(bool(missing))

    # ------------------------------------------------------------------ layout

    def resizeEvent(self, event: QResizeEvent) -> None:
        """Two columns when there is room for both (the describe window), one in a
        narrow pane (the main window's detail pane)."""
        super().resizeEvent(event)
        em = self.fontMetrics().horizontalAdvance("M")
        self._set_columns(two=event.size().width() >= em * _TWO_COLUMNS_EM)


__all__ = ["DescribePanel", "capture_time_text"]
