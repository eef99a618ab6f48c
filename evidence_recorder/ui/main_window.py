"""The main window: incidents, their captures (grid and timeline), and one capture's detail.

Everything goes through the :class:`VaultSession`; when the vault locks, every model,
view and form here is emptied so that no decrypted picture or text stays in memory.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

from PySide6.QtCore import QByteArray, QDate, QModelIndex, QSettings, Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListView,
    QMainWindow,
    QMenu,
    QProgressDialog,
    QPushButton,
    QSplitter,
    QTableView,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from evidence_recorder import APP_NAME
from evidence_recorder.core import settings as options
from evidence_recorder.core.capture import Grab
from evidence_recorder.core.errors import EvidenceError
from evidence_recorder.core.model import Capture
from evidence_recorder.core.recorder import ImportOutcome
from evidence_recorder.core.settings import Settings
from evidence_recorder.core.sites import SITES
from evidence_recorder.core.vault import VerifyReport
from evidence_recorder.ui import filedialogs, messages
from evidence_recorder.ui.audit_view import AuditDialog
from evidence_recorder.ui.capture_flow import CaptureController
from evidence_recorder.ui.describe import DescribePanel
from evidence_recorder.ui.editor import AnnotationEditor
from evidence_recorder.ui.guide import (
    CHILD_PROTECTION_TITLE,
    ChildProtectionDialog,
    GuideDialog,
)
from evidence_recorder.ui.imageview import ImageView
from evidence_recorder.ui.models import (
    CaptureFilterProxy,
    CaptureTableModel,
    IncidentListModel,
    configure_grid_view,
    configure_table_view,
)
from evidence_recorder.ui.session import VaultSession
from evidence_recorder.ui.settings_dialog import SettingsDialog

IMPORT_FILTER = "Pictures (*.png *.jpg *.jpeg *.webp *.gif *.bmp *.heic *.heif);;All files (*)"


class DescribeDialog(QDialog):
    """Opens right after a capture: the picture, and the form to say what it shows."""

    def __init__(self, session: VaultSession, capture: Capture, parent: QWidget | None) -> None:
        super().__init__(parent)
        self.session = session
        self.capture = capture
        self.setWindowTitle("Describe this capture")
        outer = QVBoxLayout(self)
        saved = QLabel("Your capture is saved, with its time and fingerprint. Add what you know "
                       "about it now (you can also do it later), then press Save.")
        saved.setWordWrap(True)
        saved.setAccessibleName("Capture saved")
        outer.addWidget(saved)
        layout = QHBoxLayout()
        outer.addLayout(layout)
        splitter = QSplitter()
        self.view = ImageView()
        self.view.set_image(session.original(capture.id))
        self.panel = DescribePanel()
        self.panel.set_capture(capture, session.incidents())
        splitter.addWidget(self.view)
        splitter.addWidget(self.panel)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        layout.addWidget(splitter)
        self.panel.save_requested.connect(self.save)
        self.resize(1180, 680)

    def save(self) -> None:
        try:
            self.session.edit_capture(self.capture.id, self.panel.changed_fields(),
                                      self.panel.incident_id())
        except EvidenceError as exc:
            messages.error(self, "Not saved", exc.message)
            return
        self.accept()

    def done(self, result: int) -> None:
        self.view.clear()
        self.panel.clear()
        super().done(result)


class EditorDialog(QDialog):
    """Annotate and redact a copy; the original in the vault is never touched."""

    def __init__(self, session: VaultSession, capture_id: int, parent: QWidget | None) -> None:
        super().__init__(parent)
        self.session = session
        self.capture_id = capture_id
        self.setWindowTitle(f"Highlight and redact: capture {capture_id}")
        layout = QVBoxLayout(self)
        self.editor = AnnotationEditor(session.original(capture_id),
                                       session.annotations(capture_id))
        layout.addWidget(self.editor)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.resize(1180, 760)

    def save(self) -> None:
        data = self.editor.annotations()
        try:
            self.session.set_annotations(self.capture_id, data if data.get("items") else None)
        except EvidenceError as exc:
            messages.error(self, "Not saved", exc.message)
            return
        self.editor.mark_saved()
        self.accept()

    def reject(self) -> None:
        if self.editor.is_modified() and not messages.ask(
                self, "Discard changes?", "Close without saving your highlights and "
                "redactions?"):
            return
        super().reject()


class MainWindow(QMainWindow):
    lock_requested = Signal()
    settings_changed = Signal()
    open_bundle_requested = Signal()
    received_requested = Signal()

    def __init__(self, session: VaultSession, settings: Settings,
                 capture_controller: CaptureController | None = None) -> None:
        super().__init__()
        self.session = session
        self.settings = settings
        self.setWindowTitle(APP_NAME)
        self.setAcceptDrops(True)
        self.capturer = capture_controller or CaptureController(parent=self)
        self.capturer.grabbed.connect(self._on_grabbed)
        self.capturer.failed.connect(lambda text: messages.error(self, "Not captured", text))

        self.incident_model = IncidentListModel(self)
        self.capture_model = CaptureTableModel(self)
        self.capture_model.set_thumbnail_loader(self._load_thumbnail)
        self.proxy = CaptureFilterProxy(self)
        self.proxy.setSourceModel(self.capture_model)
        self._build_actions()
        self._build_layout()
        self._current_capture: int | None = None
        session.captures_changed.connect(self.reload_captures)
        session.incidents_changed.connect(self.reload_incidents)
        self._restore_geometry()

    # ------------------------------------------------------------------ building

    def _action(self, text: str, slot: Callable[[], object],
                shortcut: str | QKeySequence | QKeySequence.StandardKey | None = None,
                tip: str = "") -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.setToolTip(tip or text.replace("&", ""))
        action.setStatusTip(tip or text.replace("&", ""))
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    def _build_actions(self) -> None:
        def delay() -> int:
            return self.settings.get(options.CAPTURE_DELAY)

        self.act_screen = self._action(
            "Capture whole &screen", lambda: self.capture("screen", delay=delay()),
            "Ctrl+Shift+F", "Capture everything on every screen")
        self.act_region = self._action(
            "Capture a &region…", lambda: self.capture("region", delay=delay()),
            "Ctrl+Shift+R", "Drag a rectangle around the part to keep")
        self.act_window = self._action(
            "Capture a &window…", lambda: self.capture("window", delay=delay()),
            "Ctrl+Shift+W", "Click the window you want during the countdown; it alone is kept")
        self.act_import = self._action("&Import pictures…", self.import_dialog, "Ctrl+I",
                                       "Add phone screenshots or other pictures")
        self.act_annotate = self._action("&Highlight and redact…", self.annotate, "Ctrl+E",
                                         "Mark up or cover parts of a copy")
        self.act_export = self._action("E&xport a sealed report…", self.export_report,
                                       "Ctrl+Shift+E",
                                       "Seal captures into one file for your headteacher or "
                                       "the police")
        self.act_delete = self._action("&Delete capture…", self.delete_capture,
                                       QKeySequence.StandardKey.Delete)
        self.act_new_incident = self._action("&New incident…", self.new_incident, "Ctrl+N")
        self.act_rename_incident = self._action("&Rename incident…", self.rename_incident, "F2")
        self.act_describe_incident = self._action("Describe &incident…",
                                                  self.describe_incident)
        self.act_open_bundle = self._action(
            "&Open a report bundle…", self.open_bundle_requested.emit, "Ctrl+O",
            "Check and read a sealed report someone sent you")
        self.act_received = self._action("&Received bundles…", self.received_requested.emit,
                                         None, "Report bundles you kept in this vault")
        self.act_verify = self._action("&Verify vault", self.verify_vault, None,
                                       "Check that nothing in the vault has been altered")
        self.act_audit = self._action("&Audit log", self.show_audit, None,
                                      "Every action on your evidence, in order")
        self.act_lock = self._action("&Lock", self.lock_requested.emit, "Ctrl+L",
                                     "Lock the vault now")
        self.act_settings = self._action("&Settings…", self.show_settings, "Ctrl+,")
        self.act_guide = self._action("&Guide", lambda: GuideDialog(self).exec(), "F1")
        self.act_stop = self._action(CHILD_PROTECTION_TITLE,
                                     lambda: ChildProtectionDialog(self).exec(), None,
                                     "Captures nothing; tells you whom to contact")
        self.act_search = self._action("&Find", lambda: self.search.setFocus(),
                                       QKeySequence.StandardKey.Find)
        self.act_quit = self._action("&Quit", self.close, QKeySequence.StandardKey.Quit)

        self.monitor_menu = QMenu("Capture one &monitor", self)
        self.monitor_menu.aboutToShow.connect(self._fill_monitor_menu)
        self.delay_menu = QMenu("Capture &delay", self)
        for seconds in (0, 3, 5, 10):
            act = self.delay_menu.addAction("No delay" if not seconds else f"{seconds} seconds")
            act.setCheckable(True)
            act.setChecked(self.settings.get(options.CAPTURE_DELAY) == seconds)
            act.triggered.connect(lambda _=False, s=seconds: self._set_delay(s))

        menu = self.menuBar()
        file_menu = menu.addMenu("&Capture")
        file_menu.addActions([self.act_screen, self.act_region, self.act_window])
        file_menu.addMenu(self.monitor_menu)
        file_menu.addMenu(self.delay_menu)
        file_menu.addSeparator()
        file_menu.addAction(self.act_import)
        file_menu.addSeparator()
        file_menu.addAction(self.act_stop)
        file_menu.addSeparator()
        file_menu.addActions([self.act_lock, self.act_quit])
        edit_menu = menu.addMenu("&Evidence")
        edit_menu.addActions([self.act_annotate, self.act_export, self.act_delete,
                              self.act_search])
        edit_menu.addSeparator()
        edit_menu.addActions([self.act_new_incident, self.act_rename_incident,
                              self.act_describe_incident])
        vault_menu = menu.addMenu("&Vault")
        vault_menu.addActions([self.act_open_bundle, self.act_received])
        vault_menu.addSeparator()
        vault_menu.addActions([self.act_verify, self.act_audit, self.act_settings])
        help_menu = menu.addMenu("&Help")
        help_menu.addActions([self.act_guide, self.act_stop])

        bar = self.addToolBar("Main")
        bar.setObjectName("mainToolbar")
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        bar.addAction(self.act_screen)
        monitor_button = QToolButton()
        monitor_button.setText("One monitor")
        monitor_button.setAccessibleName("Capture one monitor")
        monitor_button.setMenu(self.monitor_menu)
        monitor_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        bar.addWidget(monitor_button)
        bar.addAction(self.act_region)
        bar.addAction(self.act_window)
        delay_button = QToolButton()
        delay_button.setText("Delay")
        delay_button.setAccessibleName("Capture delay")
        delay_button.setMenu(self.delay_menu)
        delay_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        bar.addWidget(delay_button)
        bar.addAction(self.act_import)
        bar.addSeparator()
        bar.addAction(self.act_annotate)
        bar.addAction(self.act_export)
        bar.addSeparator()
        bar.addAction(self.act_lock)
        spacer = QWidget()
        spacer.setSizePolicy(spacer.sizePolicy().horizontalPolicy().Expanding,
                             spacer.sizePolicy().verticalPolicy())
        bar.addWidget(spacer)
        stop = QPushButton(CHILD_PROTECTION_TITLE)
        stop.setObjectName("childProtectionStop")
        stop.setStyleSheet("QPushButton#childProtectionStop { background: #b3261e; color: white;"
                           " font-weight: bold; padding: 4px 10px; border-radius: 4px; }")
        stop.setAccessibleName(CHILD_PROTECTION_TITLE)
        stop.setToolTip("Captures nothing. Tells you what to do and whom to contact.")
        stop.clicked.connect(self.act_stop.trigger)
        bar.addWidget(stop)

    def _build_layout(self) -> None:
        # Left: incidents.
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(6, 6, 0, 6)
        heading = QLabel("Incidents")
        heading.setStyleSheet("font-weight: bold;")
        left_layout.addWidget(heading)
        self.incident_view = QListView()
        self.incident_view.setModel(self.incident_model)
        self.incident_view.setAccessibleName("Incidents")
        self.incident_view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.incident_view.selectionModel().currentChanged.connect(self._incident_changed)
        left_layout.addWidget(self.incident_view)
        row = QHBoxLayout()
        for text, action in (("New", self.act_new_incident), ("Rename", self.act_rename_incident),
                             ("Describe", self.act_describe_incident)):
            button = QPushButton(text)
            button.setAccessibleName(action.text().replace("&", "").rstrip("…"))
            button.clicked.connect(action.trigger)
            row.addWidget(button)
        left_layout.addLayout(row)

        # Middle: search, filters, grid and timeline.
        middle = QWidget()
        middle_layout = QVBoxLayout(middle)
        middle_layout.setContentsMargins(0, 6, 0, 6)
        filters = QHBoxLayout()
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search notes, sites, authors, links…")
        self.search.setAccessibleName("Search captures")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self.proxy.set_filter_text)
        self.site_filter = QComboBox()
        self.site_filter.setAccessibleName("Only this site")
        self.site_filter.addItem("All sites", "")
        for site in SITES:
            self.site_filter.addItem(site, site)
        self.site_filter.currentIndexChanged.connect(
            lambda _i: self.proxy.set_site_filter(self.site_filter.currentData() or None))
        self.date_from = QDateEdit()
        self.date_to = QDateEdit()
        for edit, name in ((self.date_from, "From date"), (self.date_to, "To date")):
            edit.setCalendarPopup(True)
            edit.setAccessibleName(name)
            edit.setDisplayFormat("d MMM yyyy")
        self.date_from.setDate(QDate(2000, 1, 1))
        self.date_to.setDate(QDate.currentDate().addYears(1))
        self.date_from.dateChanged.connect(self._date_filter_changed)
        self.date_to.dateChanged.connect(self._date_filter_changed)
        filters.addWidget(self.search, 3)
        filters.addWidget(self.site_filter, 1)
        filters.addWidget(QLabel("from"))
        filters.addWidget(self.date_from)
        filters.addWidget(QLabel("to"))
        filters.addWidget(self.date_to)
        middle_layout.addLayout(filters)

        self.tabs = QTabWidget()
        self.tabs.setAccessibleName("Captures: pictures or timeline")
        self.grid = QListView()
        configure_grid_view(self.grid)
        self.grid.setModel(self.proxy)
        self.grid.setAccessibleName("Captures as pictures")
        self.grid.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.grid.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table = QTableView()
        self.table.setModel(self.proxy)
        configure_table_view(self.table)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAccessibleName("Timeline of captures")
        self.tabs.addTab(self.grid, "&Pictures")
        self.tabs.addTab(self.table, "&Timeline")
        # One selection shared by both views, so switching tabs keeps the capture.
        self.table.setSelectionModel(self.grid.selectionModel())
        self.grid.selectionModel().currentChanged.connect(self._capture_changed)
        self.grid.doubleClicked.connect(lambda _i: self.annotate())
        self.table.doubleClicked.connect(lambda _i: self.annotate())
        middle_layout.addWidget(self.tabs)
        self.empty_hint = QLabel(
            "No captures here yet. Use “Capture whole screen” or “Capture a region” when the "
            "post or message is on screen, or import pictures from your phone. You can also "
            "drop picture files onto this window.")
        self.empty_hint.setWordWrap(True)
        self.empty_hint.setStyleSheet("color: palette(placeholder-text); padding: 8px;")
        middle_layout.addWidget(self.empty_hint)

        # Right: the selected capture.
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 6, 6, 6)
        self.viewer = ImageView()
        self.viewer.setMinimumHeight(200)
        self.details = DescribePanel()
        self.details.save_requested.connect(self._save_details)
        detail_split = QSplitter(Qt.Orientation.Vertical)
        detail_split.addWidget(self.viewer)
        detail_split.addWidget(self.details)
        detail_split.setStretchFactor(0, 2)
        detail_split.setStretchFactor(1, 3)
        right_layout.addWidget(detail_split)

        self.splitter = QSplitter()
        self.splitter.setObjectName("mainSplitter")
        self.splitter.addWidget(left)
        self.splitter.addWidget(middle)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 3)
        self.splitter.setStretchFactor(2, 3)
        self.splitter.setSizes([220, 560, 500])
        self.setCentralWidget(self.splitter)
        self.statusBar().showMessage("Ready")

    # ------------------------------------------------------------------ geometry

    def _restore_geometry(self) -> None:
        store = QSettings()
        geometry = store.value("main/geometry")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        else:
            self.resize(1280, 720)
        state = store.value("main/splitter")
        if isinstance(state, QByteArray):
            self.splitter.restoreState(state)

    def closeEvent(self, event: QCloseEvent) -> None:
        store = QSettings()
        store.setValue("main/geometry", self.saveGeometry())
        store.setValue("main/splitter", self.splitter.saveState())
        super().closeEvent(event)

    # ------------------------------------------------------------------ data

    def _load_thumbnail(self, capture_id: int) -> bytes:
        return self.session.thumbnail(capture_id) if self.session.is_unlocked else b""

    def load(self) -> None:
        """Fill every view from the vault (after unlocking)."""
        self.reload_incidents()
        preferred = self.settings.get(options.DEFAULT_INCIDENT)
        row = 0
        for i in range(self.incident_model.rowCount()):
            if self.incident_model.incident_at(i).id == preferred:
                row = i
        index = self.incident_model.index(row, 0)
        if self.incident_view.currentIndex() == index:
            self.reload_captures()
        else:
            self.incident_view.setCurrentIndex(index)  # loads its captures once

    def forget(self) -> None:
        """Drop everything decrypted: called when the vault locks."""
        self._current_capture = None
        self.capture_model.clear()
        self.incident_model.clear()
        self.viewer.clear()
        self.details.clear()
        self.search.clear()

    def current_incident_id(self) -> int | None:
        index = self.incident_view.currentIndex()
        return self.incident_model.incident_at(index.row()).id if index.isValid() else None

    def reload_incidents(self) -> None:
        if not self.session.is_unlocked:
            return
        current = self.current_incident_id()
        self.incident_model.set_incidents(self.session.incidents())
        for i in range(self.incident_model.rowCount()):
            if self.incident_model.incident_at(i).id == current:
                self.incident_view.setCurrentIndex(self.incident_model.index(i, 0))

    def reload_captures(self) -> None:
        if not self.session.is_unlocked:
            return
        keep = self._current_capture
        captures = self.session.captures(self.current_incident_id())
        self.capture_model.set_captures(captures)
        self.empty_hint.setVisible(not captures)
        if keep is not None:
            self.select_capture(keep)
        self.statusBar().showMessage(f"{len(captures)} captures in this incident")

    def select_capture(self, capture_id: int) -> None:
        row = self.capture_model.row_of(capture_id)
        if row is None:
            self._show_capture(None)
            return
        index = self.proxy.mapFromSource(self.capture_model.index(row, 0))
        if index.isValid():
            self.grid.setCurrentIndex(index)

    def _incident_changed(self, _current: QModelIndex, _previous: QModelIndex) -> None:
        self._current_capture = None
        self._show_capture(None)
        self.reload_captures()

    def _capture_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if not current.isValid():
            self._show_capture(None)
            return
        source = self.proxy.mapToSource(current)
        self._show_capture(self.capture_model.capture_at(source.row()).id)

    def _show_capture(self, capture_id: int | None) -> None:
        self._current_capture = capture_id
        if capture_id is None or not self.session.is_unlocked:
            self.viewer.clear()
            self.details.clear()
            return
        self.viewer.set_image(self.session.original(capture_id))
        self.details.set_capture(self.session.capture(capture_id), self.session.incidents())

    def _save_details(self) -> None:
        if self._current_capture is None:
            return
        try:
            self.session.edit_capture(self._current_capture, self.details.changed_fields(),
                                      self.details.incident_id())
        except EvidenceError as exc:
            messages.error(self, "Not saved", exc.message)
            return
        self.statusBar().showMessage("Saved. The change is recorded in the audit log.", 5000)

    def _date_filter_changed(self) -> None:
        start, end = self.date_from.date().toPython(), self.date_to.date().toPython()
        assert isinstance(start, date) and isinstance(end, date)
        self.proxy.set_date_range(start, end)

    # ------------------------------------------------------------------ capture

    def _fill_monitor_menu(self) -> None:
        self.monitor_menu.clear()
        try:
            from evidence_recorder.core import capture

            monitors = capture.default_grabber().monitors()
        except EvidenceError as exc:
            action = self.monitor_menu.addAction(exc.message)
            action.setEnabled(False)
            return
        for monitor in monitors:
            action = self.monitor_menu.addAction(
                f"Monitor {monitor.index} ({monitor.width}×{monitor.height})")
            action.triggered.connect(
                lambda _=False, n=monitor.index: self.capture(
                    "monitor", n, self.settings.get(options.CAPTURE_DELAY)))

    def _set_delay(self, seconds: int) -> None:
        self.settings.set(options.CAPTURE_DELAY, seconds)
        for action in self.delay_menu.actions():
            action.setChecked(action.text().startswith(str(seconds)) or
                              (seconds == 0 and action.text() == "No delay"))

    def capture(self, kind: str, monitor: int | None = None, delay: int = 0) -> None:
        self.capturer.hide_windows = self.settings.get(options.HIDE_WHILE_CAPTURING)
        self.capturer.start(kind, monitor, delay)

    def _on_grabbed(self, grab: Grab) -> None:
        if not self.session.is_unlocked:
            messages.warn(self, "Not captured", "The vault locked while capturing; "
                          "unlock it and capture again.")
            return
        incident = self.current_incident_id()
        try:
            capture_id = self.session.save_grab(grab, None, incident)
        except EvidenceError as exc:
            messages.error(self, "Not saved", exc.message)
            return
        self.select_capture(capture_id)
        self.statusBar().showMessage(f"Saved capture {capture_id}.", 5000)
        dialog = DescribeDialog(self.session, self.session.capture(capture_id), self)
        dialog.exec()
        if self._current_capture == capture_id:
            self._show_capture(capture_id)

    # ------------------------------------------------------------------ import

    def import_dialog(self) -> None:
        paths = filedialogs.open_files(self, "Import pictures", IMPORT_FILTER)
        if paths:
            self.import_paths(paths)

    def import_paths(self, paths: list[Path]) -> None:
        progress = QProgressDialog("Importing…", "", 0, len(paths), self)
        progress.setCancelButton(None)
        progress.setWindowModality(Qt.WindowModality.WindowModal)
        progress.setMinimumDuration(300)

        def done(outcome: ImportOutcome) -> None:
            progress.close()
            saved = len(outcome.saved)
            if outcome.refused:
                reasons = "\n".join(reason for _p, reason in outcome.refused)
                messages.warn(self, "Some files were not imported",
                              f"{saved} imported, {len(outcome.refused)} not imported.",
                              reasons)
            self.statusBar().showMessage(f"Imported {saved} pictures.", 5000)
            if outcome.saved:
                self.select_capture(outcome.saved[-1][1])

        def failed(exc: EvidenceError) -> None:
            progress.close()
            messages.error(self, "Import stopped", exc.message)

        self.session.import_files(paths, self.current_incident_id(), done, failed,
                                  lambda i, _n: progress.setValue(i))

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls() and all(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = [Path(u.toLocalFile()) for u in event.mimeData().urls() if u.isLocalFile()]
        if paths and self.session.is_unlocked:
            event.acceptProposedAction()
            self.import_paths(paths)

    # ------------------------------------------------------------------ evidence actions

    def annotate(self) -> None:
        if self._current_capture is None:
            messages.info(self, "Choose a capture", "Select a capture first.")
            return
        capture_id = self._current_capture
        EditorDialog(self.session, capture_id, self).exec()
        self._show_capture(capture_id)

    def delete_capture(self) -> None:
        if self._current_capture is None:
            return
        reason, ok = QInputDialog.getText(
            self, "Delete capture",
            "Deleting removes the picture for good. Your policy asks you to keep originals,\n"
            "so only delete a capture taken by mistake. Why are you deleting it?\n"
            "(The reason and the capture's fingerprint stay in the audit log.)")
        if not ok:
            return
        try:
            self.session.delete_capture(self._current_capture, reason)
        except EvidenceError as exc:
            messages.error(self, "Not deleted", exc.message)
            return
        self._show_capture(None)

    # ------------------------------------------------------------------ incidents

    def new_incident(self) -> None:
        title, ok = QInputDialog.getText(self, "New incident", "Title (for example, "
                                         "“Comments on the school Facebook page”):")
        if not ok:
            return
        try:
            incident = self.session.new_incident(title)
        except EvidenceError as exc:
            messages.error(self, "Not created", exc.message)
            return
        for i in range(self.incident_model.rowCount()):
            if self.incident_model.incident_at(i).id == incident.id:
                self.incident_view.setCurrentIndex(self.incident_model.index(i, 0))

    def rename_incident(self) -> None:
        incident_id = self.current_incident_id()
        if incident_id is None:
            return
        current = self.incident_model.incident_at(self.incident_view.currentIndex().row())
        title, ok = QInputDialog.getText(self, "Rename incident", "New title:",
                                         text=current.title)
        if ok:
            try:
                self.session.edit_incident(incident_id, title=title)
            except EvidenceError as exc:
                messages.error(self, "Not renamed", exc.message)

    def describe_incident(self) -> None:
        incident_id = self.current_incident_id()
        if incident_id is None:
            return
        current = self.incident_model.incident_at(self.incident_view.currentIndex().row())
        text, ok = QInputDialog.getMultiLineText(
            self, "Describe incident", "What is this incident about? When did it start?",
            current.description)
        if ok:
            try:
                self.session.edit_incident(incident_id, description=text)
            except EvidenceError as exc:
                messages.error(self, "Not saved", exc.message)

    # ------------------------------------------------------------------ vault

    def verify_vault(self) -> None:
        progress = QProgressDialog("Checking every capture…", "", 0, 0, self)
        progress.setCancelButton(None)
        progress.setWindowModality(Qt.WindowModality.WindowModal)
        progress.setMinimumDuration(300)

        def done(report: VerifyReport) -> None:
            progress.close()
            if report.ok:
                messages.info(self, "Vault intact",
                              f"Nothing has been altered. All {report.captures_checked} "
                              f"captures match their fingerprints, and the "
                              f"{report.entries_checked} entries of the audit log are intact.")
            else:
                messages.warn(self, "Problems found",
                              "The check found something that does not match. Keep the "
                              "vault folder as it is and make a copy of it.",
                              "\n".join(report.problems))

        def failed(exc: EvidenceError) -> None:
            progress.close()
            messages.error(self, "Check stopped", exc.message)

        def step(done_count: int, total: int) -> None:
            progress.setMaximum(total)
            progress.setValue(done_count)

        self.session.verify(done, failed, step)

    def export_report(self) -> None:
        from evidence_recorder.ui.export_dialog import ExportDialog

        selected = [self._current_capture] if self._current_capture is not None else []
        ExportDialog(self.session, self.settings, selected, self.current_incident_id(),
                     self).exec()

    def show_audit(self) -> None:
        AuditDialog(self.session.audit_entries(), self).exec()

    def show_settings(self) -> None:
        dialog = SettingsDialog(self.settings,
                                [(i.id, i.title) for i in self.session.incidents()], self)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.settings_changed.emit()
