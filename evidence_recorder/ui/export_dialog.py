"""The export window: what to seal, for whom, and how to send it safely.

The choices are the CLI's (``evidence-recorder export``), in words a teacher uses:
everything, some incidents, or the captures they selected; for their headteacher
(a covered capture goes as its covered copy only, unless they tick "also include what I
covered"; the captures with nothing covered are listed before sealing, with a way to
cover names first) or for the police (every original); optionally locked with a
passphrase they send another way (six random words made for them, or their own if it is
as hard to guess), and optionally timestamped by a trusted service.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QSizePolicy,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from evidence_recorder.core import passphrase as passphrases
from evidence_recorder.core import settings as options
from evidence_recorder.core.errors import EvidenceError, RefusedInput
from evidence_recorder.core.model import Incident, utc_now
from evidence_recorder.core.settings import Settings
from evidence_recorder.ui import clipboard, filedialogs, messages, theme
from evidence_recorder.ui.capture_dialogs import EditorDialog
from evidence_recorder.ui.i18n import error_text
from evidence_recorder.ui.plain import make_plain
from evidence_recorder.ui.seal_dialog import seal_number_lines, seal_text
from evidence_recorder.ui.session import VaultSession
from evidence_recorder.ui.wording import format_short, local_captured_at

if TYPE_CHECKING:
    from evidence_recorder.ui.session import ExportOptions, ExportResult


class ExportDialog(QDialog):
    def __init__(self, session: VaultSession, settings: Settings,
                 selected_captures: list[int], current_incident: int | None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.settings = settings
        self.selected = selected_captures
        self.written: Path | None = None
        self.setWindowTitle(self.tr("Export a sealed report"))
        layout = QVBoxLayout(self)
        # Everything to choose scrolls, so the window fits a 1280 × 720 screen; the
        # error, the progress and the buttons stay in sight below it.
        content = QWidget()
        body = QVBoxLayout(content)
        body.setContentsMargins(0, 0, 0, 0)
        intro = QLabel(self.tr("A sealed report bundle is one file holding your captures, a "
                               "readable report (PDF) and a seal that shows nothing was changed "
                               "after you exported it. Your vault keeps everything as it is."))
        intro.setWordWrap(True)
        body.addWidget(intro)

        scope = QGroupBox(self.tr("What to include"))
        scope_layout = QVBoxLayout(scope)
        self.all_button = QRadioButton(self.tr("&All captures"))
        self.incidents_button = QRadioButton(self.tr("These &incidents:"))
        self.selected_button = QRadioButton(
            self.tr("Only the &selected capture ({count})").format(count=len(selected_captures))
            if selected_captures else self.tr("Only the selected capture (none selected)"))
        self.selected_button.setEnabled(bool(selected_captures))
        self.incident_list = QListWidget()
        self.incident_list.setAccessibleName(self.tr("Incidents to include"))
        self.incident_list.setMaximumHeight(120)
        incidents: list[Incident] = session.incidents()
        for incident in incidents:
            item = QListWidgetItem(self.tr("{title} ({count})").format(
                title=incident.title, count=incident.capture_count))
            item.setData(Qt.ItemDataRole.UserRole, incident.id)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if incident.id == current_incident
                               else Qt.CheckState.Unchecked)
            self.incident_list.addItem(item)
        group = QButtonGroup(self)
        for button in (self.all_button, self.incidents_button, self.selected_button):
            group.addButton(button)
            scope_layout.addWidget(button)
            if button is self.incidents_button:
                scope_layout.addWidget(self.incident_list)
        self.all_button.setChecked(True)
        self.incident_list.itemChanged.connect(lambda _i: self.incidents_button.setChecked(True))
        body.addWidget(scope)

        audience = QGroupBox(self.tr("Who it is for"))
        audience_layout = QVBoxLayout(audience)
        self.headteacher_button = QRadioButton(
            self.tr("My &headteacher or line manager: the report shows the copies where I covered "
                    "names and details"))
        self.police_button = QRadioButton(self.tr("The &police: the report shows the untouched "
                                                  "originals"))
        self.headteacher_button.setChecked(True)
        audience_group = QButtonGroup(self)
        for button in (self.headteacher_button, self.police_button):
            audience_group.addButton(button)
            audience_layout.addWidget(button)
        # Unticked by default: what the teacher covered stays covered for the headteacher
        # unless they choose otherwise for this export. The police always get originals.
        self.originals = QCheckBox(self.tr("Also include what I &covered (the untouched "
                                           "originals)"))
        self.originals.setChecked(False)
        audience_layout.addWidget(self.originals)
        self.originals_note = QLabel()
        self.originals_note.setWordWrap(True)
        self.originals_note.setSizePolicy(QSizePolicy.Policy.Preferred,
                                          QSizePolicy.Policy.Maximum)
        audience_layout.addWidget(self.originals_note)
        self.police_button.toggled.connect(self._audience_changed)
        body.addWidget(audience)

        # Before sealing: what goes out with nothing covered, so names can be covered
        # first, or the person goes on knowingly.
        self.uncovered_box = QGroupBox(self.tr("Nothing covered yet"))
        uncovered_layout = QVBoxLayout(self.uncovered_box)
        self.uncovered_text = QLabel()
        self.uncovered_text.setWordWrap(True)
        # Spare height goes to the lists above, not into a gap over these words.
        self.uncovered_text.setSizePolicy(QSizePolicy.Policy.Preferred,
                                          QSizePolicy.Policy.Maximum)
        self.uncovered_list = QListWidget()
        self.uncovered_list.setAccessibleName(self.tr("Captures with nothing covered"))
        # Three rows show at once (the rest scroll): the window is tall already.
        rows = self.uncovered_list.fontMetrics().lineSpacing() * 3 + 8
        self.uncovered_list.setFixedHeight(rows)
        self.uncovered_list.itemDoubleClicked.connect(lambda _item: self.cover_names())
        self.cover_button = QPushButton(self.tr("Co&ver names in the chosen capture…"))
        self.cover_button.clicked.connect(self.cover_names)
        cover_row = QHBoxLayout()
        cover_row.addWidget(self.uncovered_list, 1)
        cover_row.addWidget(self.cover_button, 0, Qt.AlignmentFlag.AlignTop)
        uncovered_layout.addWidget(self.uncovered_text)
        uncovered_layout.addLayout(cover_row)
        self.uncovered_box.setSizePolicy(QSizePolicy.Policy.Preferred,
                                         QSizePolicy.Policy.Maximum)
        body.addWidget(self.uncovered_box)
        for button in (self.all_button, self.incidents_button, self.selected_button):
            button.toggled.connect(lambda on: self.refresh_uncovered() if on else None)
        self.incident_list.itemChanged.connect(lambda _i: self.refresh_uncovered())

        form = QFormLayout()
        self.name = QLineEdit(settings.get(options.YOUR_NAME))
        self.name.setAccessibleName(self.tr("Your name"))
        self.role = QLineEdit(settings.get(options.YOUR_ROLE))
        self.role.setAccessibleName(self.tr("Your role"))
        self.role.setPlaceholderText(self.tr("e.g. Class teacher, Year 5"))
        form.addRow(self.tr("Your &name"), self.name)
        form.addRow(self.tr("Your &role"), self.role)
        body.addLayout(form)

        protect = QGroupBox(self.tr("Sending it safely"))
        # The advice is a word-wrapped label: outside the form layouts, which would
        # squeeze it to a single line.
        protect_outer = QVBoxLayout(protect)
        protect_layout = QFormLayout()
        stamp_layout = QFormLayout()
        self.encrypt = QCheckBox(self.tr("&Lock the file with a passphrase (7-Zip and Evidence "
                                         "Recorder can open it)"))
        # A locked ZIP can be attacked with millions of guesses a second (core/passphrase.py),
        # so the passphrase offered is six random words; one of the user's own must be as hard.
        self.generated = QLineEdit(passphrases.generate_passphrase())
        self.generated.setReadOnly(True)
        self.generated.setAccessibleName(self.tr("Passphrase made for you"))
        mono = QFont("monospace")
        mono.setStyleHint(QFont.StyleHint.Monospace)
        self.generated.setFont(mono)
        self.copy_passphrase = QPushButton(self.tr("&Copy"))
        self.copy_passphrase.setAccessibleName(self.tr("Copy the passphrase"))
        self.copy_passphrase.clicked.connect(self._copy_generated)
        generated_row = QHBoxLayout()
        generated_row.addWidget(self.generated, 1)
        generated_row.addWidget(self.copy_passphrase)
        self.copied = QLabel(self.tr("Six words chosen at random for you. Copy it, or write "
                                     "it down."))
        self.copied.setWordWrap(True)
        self.passphrase = QLineEdit()
        self.passphrase.setEchoMode(QLineEdit.EchoMode.Password)
        self.passphrase.setAccessibleName(self.tr("Bundle passphrase"))
        self.confirm = QLineEdit()
        self.confirm.setEchoMode(QLineEdit.EchoMode.Password)
        self.confirm.setAccessibleName(self.tr("Bundle passphrase again"))
        self.strength = QProgressBar()
        self.strength.setRange(0, 100)
        self.strength.setTextVisible(False)
        self.strength.setMaximumHeight(8)
        self.strength.setAccessibleName(self.tr("Passphrase strength"))
        self.strength_hint = QLabel()
        self.strength_hint.setWordWrap(True)
        self.passphrase.textChanged.connect(self._own_changed)
        self.own = QCheckBox(self.tr("Use &my own passphrase instead"))
        advice = QLabel(self.tr("Tell the recipient the passphrase another way: say it on the "
                                "phone, or send it by text message, never in the same e-mail as "
                                "the file."))
        advice.setWordWrap(True)
        # The made passphrase and the user's own share one place, so that choosing one
        # never grows the (already tall) window.
        made_page = QWidget()
        made_layout = QFormLayout(made_page)
        made_layout.setContentsMargins(0, 0, 0, 0)
        made_layout.addRow(self.tr("Passphrase"), generated_row)
        made_layout.addRow(self.copied)
        self.own_rows = QWidget()
        own_layout = QFormLayout(self.own_rows)
        own_layout.setContentsMargins(0, 0, 0, 0)
        own_layout.addRow(self.tr("Your passphrase"), self.passphrase)
        own_layout.addRow(self.tr("Again"), self.confirm)
        own_layout.addRow(self.strength)
        own_layout.addRow(self.strength_hint)
        self.lock_pages = QStackedWidget()
        self.lock_pages.addWidget(made_page)
        self.lock_pages.addWidget(self.own_rows)
        protect_layout.addRow(self.encrypt)
        protect_layout.addRow(self.lock_pages)
        protect_layout.addRow(self.own)
        protect_outer.addLayout(protect_layout)
        protect_outer.addWidget(advice)
        protect_outer.addLayout(stamp_layout)
        self.timestamp = QCheckBox(self.tr("Add a trusted &timestamp from this service:"))
        self.timestamp_url = QLineEdit(settings.get(options.TIMESTAMP_URL))
        self.timestamp_url.setAccessibleName(self.tr("Time-stamping service address"))
        self.timestamp_url.setPlaceholderText(self.tr("https://… (needs an internet connection)"))
        self.timestamp.setChecked(bool(self.timestamp_url.text()))
        stamp_layout.addRow(self.timestamp)
        stamp_layout.addRow(self.tr("Service"), self.timestamp_url)
        self._own_changed("")
        self._sync_lock()
        self.encrypt.toggled.connect(self._sync_lock)
        self.own.toggled.connect(self._use_own)
        body.addWidget(protect)

        self.scroller = QScrollArea()
        self.scroller.setWidget(content)
        self.scroller.setWidgetResizable(True)
        self.scroller.setAccessibleName(self.tr("Export choices"))
        self.scroller.setFrameShape(QFrame.Shape.NoFrame)
        self.scroller.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        layout.addWidget(self.scroller, 1)
        self.error = QLabel()
        self.error.setWordWrap(True)
        make_plain(self.error)  # messages name folders and files
        self.error.setStyleSheet(theme.problem_style(self.palette()))
        self.error.hide()
        layout.addWidget(self.error)
        self.progress = QProgressBar()
        self.progress.setAccessibleName(self.tr("Export progress"))
        self.progress.hide()
        layout.addWidget(self.progress)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.export_button = self.buttons.addButton(self.tr("&Export…"),
                                                    QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.accepted.connect(self.choose_and_export)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        # No option cut short, and no field squeezed by the wrapped texts (the layout's
        # height-for-width underestimates them inside the group boxes).
        self._audience_changed(False)
        wanted = content.sizeHint()
        rest = self.buttons.sizeHint().height() + 3 * layout.spacing() \
            + layout.contentsMargins().top() + layout.contentsMargins().bottom()
        screen = self.screen().availableGeometry().height() if self.screen() else 10_000
        fits = max(360, int(screen * 0.92) - rest)  # leave room for the title bar
        self.scroller.setMinimumHeight(min(wanted.height(), fits))
        bar = self.scroller.verticalScrollBar().sizeHint().width()
        self.setMinimumWidth(max(620, wanted.width() + bar + 24))
        self.resize(self.minimumWidth(), min(wanted.height(), fits) + rest)

    def _audience_changed(self, police: bool) -> None:
        # Back to the headteacher, the box is unticked again: a choice to send what was
        # covered is made deliberately, for the export in hand.
        self.originals.setChecked(police)
        self.originals.setEnabled(not police)
        self.originals_note.setText(
            self.tr("The police always get the untouched originals, as well as any copies "
                    "you covered.") if police else
            self.tr("Left unticked, a capture where you covered names goes as the covered "
                    "copy only; you keep the original."))
        self.refresh_uncovered()

    def _scope_options(self) -> ExportOptions | None:
        """Which captures and audience the form describes; None while no incident is ticked."""
        capture_ids: list[int] | None = None
        incident_ids: list[int] | None = None
        if self.selected_button.isChecked():
            capture_ids = list(self.selected)
        elif self.incidents_button.isChecked():
            incident_ids = [
                int(self.incident_list.item(i).data(Qt.ItemDataRole.UserRole))
                for i in range(self.incident_list.count())
                if self.incident_list.item(i).checkState() == Qt.CheckState.Checked]
            if not incident_ids:
                return None
        return self.session.export_options(
            capture_ids=capture_ids, incident_ids=incident_ids,
            audience="police" if self.police_button.isChecked() else "headteacher")

    def refresh_uncovered(self) -> None:
        """List the captures going out with nothing covered (headteacher only)."""
        chosen = self._scope_options()
        uncovered = (self.session.uncovered_captures(chosen)
                     if chosen is not None and self.session.is_unlocked else [])
        current = self.uncovered_list.currentItem()
        keep = current.data(Qt.ItemDataRole.UserRole) if current is not None else None
        self.uncovered_list.clear()
        for capture in uncovered:
            site = capture.details.site.strip() or self.tr("(no site recorded)")
            item = QListWidgetItem(self.tr("{site}, {time}").format(
                site=site, time=format_short(local_captured_at(capture))))
            item.setData(Qt.ItemDataRole.UserRole, capture.id)
            self.uncovered_list.addItem(item)
            if capture.id == keep:
                self.uncovered_list.setCurrentItem(item)
        if uncovered and self.uncovered_list.currentItem() is None:
            self.uncovered_list.setCurrentRow(0)
        count = len(uncovered)
        self.uncovered_text.setText(
            self.tr("%n capture going out has nothing covered. Cover names first (Highlight "
                    "and redact), or go on if nothing needs covering.", "", count)
            if count == 1 else
            self.tr("%n captures going out have nothing covered. Cover names first (Highlight "
                    "and redact), or go on if nothing needs covering.", "", count))
        self.uncovered_box.setVisible(bool(uncovered))

    def uncovered_ids(self) -> list[int]:
        return [int(self.uncovered_list.item(i).data(Qt.ItemDataRole.UserRole))
                for i in range(self.uncovered_list.count())]

    def cover_names(self) -> None:
        """Open Highlight and redact on the chosen capture, then list again."""
        item = self.uncovered_list.currentItem()
        if item is None:
            return
        editor = EditorDialog(self.session, int(item.data(Qt.ItemDataRole.UserRole)), self)
        editor.exec()
        editor.deleteLater()
        self.refresh_uncovered()

    def _copy_generated(self) -> None:
        clipboard.copy_secret(self.generated.text())  # kept out of history and sync
        self.copied.setText(self.tr("Copied. It leaves the clipboard after two minutes."))

    def _sync_lock(self) -> None:
        locked, own = self.encrypt.isChecked(), self.own.isChecked()
        self.own.setEnabled(locked)
        self.lock_pages.setEnabled(locked)
        self.lock_pages.setCurrentIndex(1 if own else 0)

    def _use_own(self, own: bool) -> None:
        self._sync_lock()
        if own:
            self.passphrase.setFocus()

    def _own_changed(self, text: str) -> None:
        """The live strength bar under the user's own passphrase."""
        problem = passphrases.bundle_passphrase_problem(text)
        strength = passphrases.bundle_passphrase_strength(text)
        # Full only when accepted: a bar at 100 must never sit over a refusal.
        self.strength.setValue(100 if problem is None else min(99, int(100 * strength)))
        if not text:
            hint = self.tr("Five or more unrelated words, or one made for you: anyone who gets "
                           "the file can try millions of guesses a second.")
        elif problem:
            hint = self.tr("Too easy to guess yet. Add more unrelated words.")
        else:
            hint = self.tr("Strong enough.")
        self.strength_hint.setText(hint)

    def _show_error(self, text: str) -> None:
        self.error.setStyleSheet(theme.problem_style(self.palette()))  # the theme of now
        self.error.setText(text)
        self.error.setVisible(bool(text))

    def chosen_options(self) -> ExportOptions:
        """The export options the form describes; raises EvidenceError for a mistake."""
        scope = self._scope_options()
        if scope is None:
            raise EvidenceError(self.tr("Tick at least one incident, or choose "
                                        "“All captures”."))
        passphrase = None
        if self.encrypt.isChecked() and not self.own.isChecked():
            passphrase = self.generated.text()
        elif self.encrypt.isChecked():
            passphrase = self.passphrase.text()
            if passphrase != self.confirm.text():
                raise EvidenceError(self.tr("The two passphrases are not the same."))
            if problem := passphrases.bundle_passphrase_problem(passphrase):
                raise RefusedInput(problem)  # translated by error_text, as core marks it
        url = self.timestamp_url.text().strip() if self.timestamp.isChecked() else ""
        return dataclasses.replace(
            scope, include_covered_originals=self.originals.isChecked(),
            exporter=self.name.text().strip()[:200], role=self.role.text().strip()[:200],
            passphrase=passphrase, timestamp_url=url or None)

    def choose_and_export(self) -> None:
        try:
            chosen = self.chosen_options()
        except EvidenceError as exc:
            self._show_error(error_text(exc))
            return
        # The name the bundle itself carries, which is also what file managers recognise.
        suggested = f"{self.session.bundle_name(utc_now())}.zip"
        target = filedialogs.save_file(self, self.tr("Save the sealed report"),
                                       suggested, self.tr("Report bundles (*.zip)"))
        if target is None:
            return
        self.export_to(target, chosen)

    def export_to(self, target: Path, chosen: ExportOptions) -> None:
        """Export in the background; the dialog closes when the file is complete."""
        self._show_error("")
        self.settings.set(options.YOUR_NAME, chosen.exporter)
        self.settings.set(options.YOUR_ROLE, chosen.role)
        if chosen.timestamp_url:
            self.settings.set(options.TIMESTAMP_URL, chosen.timestamp_url[:500])
        self.export_button.setEnabled(False)
        self.progress.setRange(0, 0)
        self.progress.show()
        made_for_them = self.generated.text()

        def step(done: int, total: int) -> None:
            self.progress.setRange(0, total)
            self.progress.setValue(done)

        def done(result: ExportResult) -> None:
            self.written = result[0]
            self.progress.hide()
            text = self.tr("The sealed report is saved as {path}.\n\nIts seal number is\n"
                           "{number}\n\nand its fingerprint is\n{fingerprint}\n\nRead these to "
                           "the person you send it to, by phone or in person, so they can "
                           "confirm the report came from you. (Vault ▸ My seal shows them "
                           "again.)").format(path=result[0], fingerprint=result[1],
                                             number=seal_number_lines(result[2]))
            if chosen.passphrase is not None and chosen.passphrase == made_for_them:
                text += "\n\n" + self.tr(
                    "The file is locked with this passphrase (make a note of it now):\n\n"
                    "{passphrase}\n\nSend it another way: say it on the phone or in person, "
                    "never in the same e-mail as the file.").format(passphrase=made_for_them)
            elif chosen.passphrase is not None:
                text += "\n\n" + self.tr(
                    "The file is locked with your passphrase. Send it another way: say it on "
                    "the phone or in person, never in the same e-mail as the file.")
            messages.info_with_copy(self, self.tr("Report exported"), text,
                                    copy_label=self.tr("Copy seal"),
                                    copy_text=seal_text(result[1], result[2]),
                                    copied_label=self.tr("Copied"))
            self.accept()

        def failed(exc: EvidenceError) -> None:
            self.progress.hide()
            self.export_button.setEnabled(True)
            self._show_error(error_text(exc))

        self.session.export(target, chosen, done, failed, step)
