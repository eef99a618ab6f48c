"""The main window: incidents, their captures (grid and timeline), and one capture's detail.

Everything goes through the :class:`VaultSession`; when the vault locks, every model,
view and form here is emptied so that no decrypted picture or text stays in memory.

The dialogs it opens over one capture (describe it, highlight and redact it) are in
:mod:`~evidence_recorder.ui.capture_dialogs`. This module stays over 600 lines because
:class:`MainWindow` is one window whose menus, incident list, capture views and detail
pane share one selection and are emptied together when the vault locks.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import shiboken6
from PySide6.QtCore import QCoreApplication, QDate, QModelIndex, QPoint, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QCompleter,
    QDateEdit,
    QDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QMainWindow,
    QMenu,
    QProgressBar,
    QProgressDialog,
    QPushButton,
    QSplitter,
    QTableView,
    QTabWidget,
    QToolBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from evidence_recorder import APP_NAME
from evidence_recorder.core import settings as options
from evidence_recorder.core.errors import EvidenceError
from evidence_recorder.core.gather.capture import Grab
from evidence_recorder.core.gather.sites import SITES
from evidence_recorder.core.i18n import QT_TRANSLATE_NOOP
from evidence_recorder.core.model import Capture, CaptureKind
from evidence_recorder.core.settings import Settings
from evidence_recorder.ui import browse, filedialogs, messages
from evidence_recorder.ui.audit_view import AuditDialog
from evidence_recorder.ui.capture_dialogs import DescribeDialog, EditorDialog
from evidence_recorder.ui.capture_flow import CaptureController
from evidence_recorder.ui.delegates import configure_grid_view, configure_table_view
from evidence_recorder.ui.describe import DescribePanel
from evidence_recorder.ui.geometry import remember_geometry
from evidence_recorder.ui.guide import (
    ChildProtectionDialog,
    GuideDialog,
    child_protection_title,
    pin_child_protection_stop,
    show_red_in,
)
from evidence_recorder.ui.help import show_guide
from evidence_recorder.ui.history import (
    HistoryBanner,
    history_checked_text,
    last_opened_text,
)
from evidence_recorder.ui.i18n import error_text
from evidence_recorder.ui.imageview import ImageView
from evidence_recorder.ui.models import (
    CaptureFilterProxy,
    CaptureTableModel,
    FlaggedMessage,
    IncidentListModel,
    flagged_message_row,
    flagged_row_item,
)
from evidence_recorder.ui.plain import make_plain
from evidence_recorder.ui.session import VaultSession
from evidence_recorder.ui.settings_dialog import SettingsDialog
from evidence_recorder.ui.tasks import run_task
from evidence_recorder.ui.wording import (
    category_label,
    check_result_text,
    check_summary,
    day_format,
    web_facts_text,
)

if TYPE_CHECKING:
    from evidence_recorder.ui.browser_check import PageChecker
    from evidence_recorder.ui.browser_window import BrowserWindow
    from evidence_recorder.ui.conversation import ConversationWindow
    from evidence_recorder.ui.session import ImportOutcome, VerifyReport

# Captures an incident shows at once when opened; a larger one loads the rest behind.
FIRST_PAGE = 300
FIRST_PAGE_PATIENCE = 40  # turns of 50 ms to wait for the first screen's thumbnails

IMPORT_FILTER = QT_TRANSLATE_NOOP(
    "MainWindow",
    "Pictures, e-mails and chat exports (*.png *.jpg *.jpeg *.webp *.gif *.bmp *.heic *.heif "
    "*.eml *.msg *.mbox *.txt *.zip *.json *.xml);;"
    "Pictures (*.png *.jpg *.jpeg *.webp *.gif *.bmp *.heic *.heif);;"
    "E-mails (*.eml *.msg *.mbox);;"
    "Chat exports (*.txt *.zip *.json *.xml);;"
    "All files (*)")
# The kinds of item that hold messages: opened in the conversation window.
MESSAGE_KINDS = (CaptureKind.EMAIL, CaptureKind.CHAT)


def _menu_button(text: str, accessible_name: str, menu: QMenu) -> QToolButton:
    """A toolbar button that opens ``menu`` at once (no separate arrow to aim for)."""
    button = QToolButton()
    button.setText(text)
    button.setAccessibleName(accessible_name)
    button.setMenu(menu)
    button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
    return button


def import_taken_as(outcome: ImportOutcome) -> str:
    """One line per file imported: what it was taken for ("chat.txt: taken as a WhatsApp
    chat export")."""
    return "\n".join(
        QCoreApplication.translate("MainWindow", "{name}: taken as {kind}").format(
            name=path.name, kind=QCoreApplication.translate("Format", outcome.taken_as[path]))
        for path, _item in outcome.saved if outcome.taken_as.get(path))


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
        self.capturer.failed.connect(lambda text: messages.error(self, self.tr(
                "Not captured"), text))

        self.incident_model = IncidentListModel(self)
        self.capture_model = CaptureTableModel(self)
        self.capture_model.set_thumbnail_loader(self._load_thumbnail)
        self.capture_model.set_covered_lookup(self._is_covered)
        self.proxy = CaptureFilterProxy(self)
        self.proxy.setSourceModel(self.capture_model)
        self._build_actions()
        self._build_layout()
        self._current_capture: int | None = None
        # While a reload puts the same incident and capture back, the detail pane and the
        # picture stay as they are (a Save must not jump away from what was saved).
        self._keeping_incident = False
        self._keeping_capture: int | None = None
        self._columns_fitted = False  # the timeline's columns were sized for this incident
        self._reload_generation = 0  # a background read for an older reload is dropped
        self._browser: BrowserWindow | None = None  # the capture browser, one at a time
        self._checker: PageChecker | None = None  # a "Check again" under way
        self._conversations: dict[int, ConversationWindow] = {}  # open, by item
        self._current_flagged: FlaggedMessage | None = None  # a flagged message's row chosen
        session.annotations_changed.connect(self.capture_model.forget_thumbnail)
        session.captures_changed.connect(self.reload_captures)
        session.messages_flagged.connect(self._messages_flagged)
        session.incidents_changed.connect(self.reload_incidents)
        self._geometry = remember_geometry(self, "main", QSize(1280, 720), [self.splitter])

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
            self.tr("Capture whole &screen"), lambda: self.capture("screen", delay=delay()),
            "Ctrl+Shift+F", self.tr("Capture everything on every screen"))
        self.act_region = self._action(
            self.tr("Capture a &region…"), lambda: self.capture("region", delay=delay()),
            "Ctrl+Shift+R", self.tr("Drag a rectangle around the part to keep"))
        self.act_window = self._action(
            self.tr("Capture a &window…"), lambda: self.capture("window", delay=delay()),
            "Ctrl+Shift+W", self.tr("Click the window you want during the countdown; it alone is "
                                    "kept"))
        self.act_web = self._action(
            self.tr("Web &page…"), self.open_browser, "Ctrl+Shift+B",
            self.tr("Open the capture browser: keep a whole web page with its address"))
        self.act_check_again = self._action(
            self.tr("Check &again"), self.check_again, None,
            self.tr("Visit this web page's address again and record what it shows now"))
        self.act_check_again.setEnabled(False)
        self.act_import = self._action(self.tr("&Import files…"), self.import_dialog, "Ctrl+I",
                                       self.tr("Add phone screenshots, pictures, e-mails or "
                                               "chat exports"))
        self.act_open_conversation = self._action(
            self.tr("&Open conversation"), self.open_current, None,
            self.tr("Read the chosen e-mail or chat export, search it and flag messages"))
        self.act_annotate = self._action(self.tr("&Highlight and redact…"), self.annotate, "Ctrl+E",
                                         self.tr("Mark up or cover parts of a copy"))
        self.act_export = self._action(self.tr("E&xport a sealed report…"), self.export_report,
                                       "Ctrl+Shift+E",
                                       self.tr("Seal captures into one file for your headteacher "
                                               "or the police"))
        self.act_delete = self._action(self.tr("&Delete capture…"), self.delete_capture,
                                       QKeySequence.StandardKey.Delete)
        self.act_move = self._action(self.tr("&Move to incident…"), self.move_to_incident,
                                     "Ctrl+M", self.tr("Put the chosen captures in another "
                                                       "incident"))
        self.act_new_incident = self._action(self.tr("&New incident…"), self.new_incident,
                                             "Ctrl+N")
        self.act_rename_incident = self._action(self.tr("&Rename incident…"),
                                                self.rename_incident, "F2")
        self.act_describe_incident = self._action(self.tr("Describe &incident…"),
                                                  self.describe_incident)
        self.act_open_bundle = self._action(
            self.tr("&Open a report bundle…"), self.open_bundle_requested.emit, "Ctrl+O",
            self.tr("Check and read a sealed report someone sent you"))
        self.act_received = self._action(self.tr("&Received bundles…"),
                                         self.received_requested.emit, None,
                                         self.tr("Report bundles you kept in this vault"))
        self.act_my_seal = self._action(
            self.tr("My &seal…"), self.show_my_seal, None,
            self.tr("The fingerprint and seal number to read to the person you send a report to"))
        self.act_verify = self._action(self.tr("&Verify vault"), self.verify_vault, None,
                                       self.tr("Check that nothing in the vault has been altered"))
        self.act_audit = self._action(self.tr("&Audit log"), self.show_audit, None,
                                      self.tr("Every action on your evidence, in order"))
        self.act_change_passphrase = self._action(
            self.tr("Change &passphrase…"), self.change_passphrase, None,
            self.tr("Choose a new passphrase; old copies of the vault still open with the old one"))
        self.act_change_keys = self._action(
            self.tr("Change all &keys…"), self.change_all_keys, None,
            self.tr("Encrypt the vault again with new keys, so that no old copy of its key opens "
                    "it"))
        self.act_lock = self._action(self.tr("&Lock"), self.lock_requested.emit, "Ctrl+L",
                                     self.tr("Lock the vault now"))
        self.act_settings = self._action(self.tr("&Settings…"), self.show_settings, "Ctrl+,")
        self.act_authorities = self._action(
            self.tr("&Time-stamping authorities…"), self.show_authorities, None,
            self.tr("Which timestamp services this computer trusts, besides the built-in "
                    "lists"))
        self.act_guide = self._action(self.tr("&Guide"), lambda: GuideDialog(self).exec(), "F1")
        self.act_stop = self._action(child_protection_title(),
                                     lambda: ChildProtectionDialog(self).exec(), None,
                                     self.tr("Captures nothing; tells you whom to contact"))
        self.act_search = self._action(self.tr("&Find"), lambda: self.search.setFocus(),
                                       QKeySequence.StandardKey.Find)
        self.act_quit = self._action(self.tr("&Quit"), self.close, QKeySequence.StandardKey.Quit)

        self.monitor_menu = QMenu(self.tr("Capture one &monitor"), self)
        self.monitor_menu.aboutToShow.connect(self._fill_monitor_menu)
        self.delay_menu = QMenu(self.tr("Capture &delay"), self)
        for seconds in (0, 3, 5, 10):
            act = self.delay_menu.addAction(self.tr("No delay") if not seconds
                                            else self.tr("%n seconds", "", seconds))
            act.setData(seconds)
            act.setCheckable(True)
            act.setChecked(self.settings.get(options.CAPTURE_DELAY) == seconds)
            act.triggered.connect(lambda _=False, s=seconds: self._set_delay(s))

        menu = self.menuBar()
        file_menu = menu.addMenu(self.tr("&Capture"))
        file_menu.addActions([self.act_screen, self.act_region, self.act_window])
        file_menu.addMenu(self.monitor_menu)
        file_menu.addMenu(self.delay_menu)
        file_menu.addSeparator()
        file_menu.addAction(self.act_web)
        file_menu.addSeparator()
        file_menu.addAction(self.act_import)
        file_menu.addSeparator()
        file_menu.addAction(self.act_stop)
        file_menu.addSeparator()
        file_menu.addActions([self.act_lock, self.act_quit])
        edit_menu = menu.addMenu(self.tr("&Evidence"))
        edit_menu.addActions([self.act_open_conversation, self.act_annotate,
                              self.act_check_again, self.act_export,
                              self.act_move, self.act_delete, self.act_search])
        edit_menu.addSeparator()
        edit_menu.addActions([self.act_new_incident, self.act_rename_incident,
                              self.act_describe_incident])
        vault_menu = menu.addMenu(self.tr("&Vault"))
        vault_menu.addActions([self.act_open_bundle, self.act_received])
        vault_menu.addAction(self.act_my_seal)
        vault_menu.addSeparator()
        vault_menu.addActions([self.act_verify, self.act_audit, self.act_authorities,
                               self.act_settings])
        vault_menu.addSeparator()
        vault_menu.addActions([self.act_change_passphrase, self.act_change_keys])
        help_menu = menu.addMenu(self.tr("&Help"))
        # The full guides (docs/, offline) take F1; the short welcome guide stays here too.
        self.act_guide.setShortcut(QKeySequence())
        self.act_help_staff = self._action(self.tr("Guide for &staff"),
                                           lambda: show_guide("staff"), "F1")
        self.act_help_headteacher = self._action(self.tr("Guide for &headteachers"),
                                                 lambda: show_guide("headteacher"))
        self.act_help_police = self._action(self.tr("Guide for &police officers"),
                                            lambda: show_guide("police"))
        help_menu.addActions([self.act_help_staff, self.act_help_headteacher,
                              self.act_help_police])
        help_menu.addSeparator()
        help_menu.addActions([self.act_guide, self.act_stop])
        show_red_in(file_menu, self.act_stop)
        show_red_in(help_menu, self.act_stop)

        # Shorter words on the toolbar (the menus keep the whole names), so that Export
        # still fits at 1280 × 720 beside Lock and the red stop.
        self.act_screen.setIconText(self.tr("Whole screen"))
        self.act_region.setIconText(self.tr("Region"))
        self.act_window.setIconText(self.tr("Window"))
        self.act_web.setIconText(self.tr("Web page"))
        bar = self.addToolBar(self.tr("Main"))
        bar.setObjectName("mainToolbar")
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        bar.addAction(self.act_screen)
        bar.addWidget(_menu_button(self.tr("One monitor"), self.tr("Capture one monitor"),
                                   self.monitor_menu))
        bar.addAction(self.act_region)
        bar.addAction(self.act_window)
        bar.addAction(self.act_web)
        bar.addWidget(_menu_button(self.tr("Delay"), self.tr("Capture delay"), self.delay_menu))
        bar.addAction(self.act_import)
        bar.addSeparator()
        bar.addAction(self.act_annotate)
        bar.addAction(self.act_export)
        # Lock and the red stop sit in toolbars of their own, so neither folds away behind
        # the main toolbar's overflow chevron: on a shared computer Lock must be one click
        # away, and the stop is always in sight (policy 4.7.3).
        self.lock_bar = QToolBar(self.tr("Lock"), self)
        self.lock_bar.setObjectName("lockToolbar")
        self.lock_bar.setMovable(False)
        self.lock_bar.setFloatable(False)
        self.lock_bar.toggleViewAction().setVisible(False)
        self.lock_bar.addAction(self.act_lock)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, self.lock_bar)
        self.stop_bar = pin_child_protection_stop(self, self.act_stop)

    def _build_layout(self) -> None:
        # Left: incidents.
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(6, 6, 0, 6)
        heading = QLabel(self.tr("Incidents"))
        heading.setStyleSheet("font-weight: bold;")
        left_layout.addWidget(heading)
        self.incident_view = QListView()
        self.incident_view.setModel(self.incident_model)
        self.incident_view.setAccessibleName(self.tr("Incidents"))
        self.incident_view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        # Long titles wrap onto more lines rather than being cut; the tooltip has them too.
        self.incident_view.setWordWrap(True)
        self.incident_view.setTextElideMode(Qt.TextElideMode.ElideNone)
        # Captures dragged from the grid or timeline are dropped onto an incident.
        self.incident_view.setDragDropMode(QAbstractItemView.DragDropMode.DropOnly)
        self.incident_view.setDropIndicatorShown(True)
        self.incident_model.captures_dropped.connect(self.move_captures)
        self.incident_view.selectionModel().currentChanged.connect(self._incident_changed)
        left_layout.addWidget(self.incident_view)
        row = QHBoxLayout()
        for text, action in ((self.tr("New"), self.act_new_incident),
                             (self.tr("Rename"), self.act_rename_incident),
                             (self.tr("Describe"), self.act_describe_incident)):
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
        self.search.setPlaceholderText(self.tr("Search notes, sites, authors, links…"))
        self.search.setAccessibleName(self.tr("Search captures"))
        self.search.setClearButtonEnabled(True)
        self.search.setMinimumWidth(240)
        self.search.textChanged.connect(self.proxy.set_filter_text)
        self.site_filter = QComboBox()
        self.site_filter.setAccessibleName(self.tr("Only this site"))
        self.site_filter.addItem(self.tr("All sites"), "")
        for site in SITES:
            self.site_filter.addItem(site, site)
        self.site_filter.currentIndexChanged.connect(
            lambda _i: self.proxy.set_site_filter(self.site_filter.currentData() or None))
        self.date_from = QDateEdit()
        self.date_to = QDateEdit()
        for edit, name in ((self.date_from, self.tr("From date")),
                           (self.date_to, self.tr("To date"))):
            edit.setCalendarPopup(True)
            edit.setAccessibleName(name)
            edit.setDisplayFormat(day_format())  # the user's locale, as in the table
        self.person_filter = QComboBox()
        self.person_filter.setEditable(True)
        self.person_filter.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.person_filter.setAccessibleName(self.tr("Only this person"))
        self.person_filter.setToolTip(self.tr(
            "One person's course of conduct: what they posted (author, @handle or user "
            "number) and the flagged messages they sent"))
        editor = self.person_filter.lineEdit()
        assert editor is not None  # an editable combo box has one
        editor.setPlaceholderText(self.tr("Everyone"))
        self.person_filter.setMinimumContentsLength(12)
        self.person_filter.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        completer = QCompleter(self.person_filter.model(), self.person_filter)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.person_filter.setCompleter(completer)
        self.person_filter.currentTextChanged.connect(self.proxy.set_person_filter)
        self._reset_date_filter()
        self.date_from.dateChanged.connect(self._date_filter_changed)
        self.date_to.dateChanged.connect(self._date_filter_changed)
        filters.addWidget(self.search, 3)
        # Visible labels tied to their fields (setBuddy): on Linux a screen reader names a
        # combo box only from its label; the name of a combo box there is its current text.
        for text, field, stretch in ((self.tr("Site"), self.site_filter, 0),
                                     (self.tr("Person"), self.person_filter, 0),
                                     (self.tr("from"), self.date_from, 0),
                                     (self.tr("to"), self.date_to, 0)):
            label = QLabel(text)
            label.setBuddy(field)
            filters.addWidget(label)
            filters.addWidget(field, stretch)
        middle_layout.addLayout(filters)

        self.tabs = QTabWidget()
        self.tabs.setAccessibleName(self.tr("Captures: pictures or timeline"))
        self.grid = QListView()
        configure_grid_view(self.grid)
        self.grid.setModel(self.proxy)
        self.grid.setAccessibleName(self.tr("Captures as pictures"))
        self.grid.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.grid.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table = QTableView()
        self.table.setModel(self.proxy)
        configure_table_view(self.table)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAccessibleName(self.tr("Timeline of captures"))
        self.tabs.addTab(self.grid, self.tr("&Pictures"))
        self.tabs.addTab(self.table, self.tr("&Timeline"))
        # One selection shared by both views, so switching tabs keeps the capture.
        self.table.setSelectionModel(self.grid.selectionModel())
        self.grid.selectionModel().currentChanged.connect(self._capture_changed)
        # Double-click or Enter ("activated"): read an e-mail or chat, or a flagged
        # message in its conversation; draw on a picture.
        self.grid.activated.connect(lambda _i: self.open_current())
        self.table.activated.connect(lambda _i: self.open_current())
        self.empty_overlays: list[browse.EmptyOverlay] = []
        for view in (self.grid, self.table):
            # Several captures at once (Shift, Ctrl): dragged onto an incident, or moved
            # with "Move to incident…" from the Evidence menu or this right-click menu.
            view.setDragEnabled(True)
            view.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
            view.setDefaultDropAction(Qt.DropAction.CopyAction)
            view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
            view.customContextMenuRequested.connect(
                lambda pos, v=view: self._capture_menu(v, pos))
            overlay = browse.EmptyOverlay(view)
            overlay.clear_requested.connect(self.clear_filters)
            self.empty_overlays.append(overlay)
        for signal in (self.proxy.modelReset, self.proxy.rowsInserted, self.proxy.rowsRemoved,
                       self.proxy.layoutChanged):
            signal.connect(self._update_empty_state)
        middle_layout.addWidget(self.tabs)
        self.empty_hint = QLabel(
            self.tr("No captures here yet. Use “Capture whole screen” or “Capture a region” when "
                    "the post or message is on screen, or import pictures from your phone. You can "
                    "also drop picture files onto this window."))
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
        detail_split.addWidget(self._build_preview())
        detail_split.addWidget(self.details)
        detail_split.setStretchFactor(0, 2)
        detail_split.setStretchFactor(1, 3)
        self.web_facts = QLabel()
        make_plain(self.web_facts)  # a page's title and address are the page's words
        self.web_facts.setWordWrap(True)
        self.web_facts.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.web_facts.setAccessibleName(self.tr("About this web page"))
        self.web_facts.setVisible(False)
        right_layout.addWidget(self.web_facts)
        right_layout.addWidget(detail_split)

        self.splitter = QSplitter()
        self.splitter.setObjectName("mainSplitter")
        self.splitter.addWidget(left)
        self.splitter.addWidget(middle)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 3)
        self.splitter.setStretchFactor(2, 3)
        self.splitter.setSizes([260, 540, 480])
        # Above everything, while the vault is older than the copy last seen here.
        self.history_banner = HistoryBanner()
        self.history_banner.details_requested.connect(self.warn_history)
        self.session.history_changed.connect(self.show_history)
        central = QWidget()
        central_layout = QVBoxLayout(central)
        central_layout.setContentsMargins(6, 6, 6, 0)
        central_layout.addWidget(self.history_banner)
        central_layout.addWidget(self.splitter, 1)
        self.setCentralWidget(central)
        self.statusBar().showMessage(self.tr("Ready"))
        # Busy while a grab is saved in the background (it is kept even if the vault locks).
        self.saving_bar = QProgressBar()
        self.saving_bar.setRange(0, 0)
        self.saving_bar.setMaximumWidth(120)
        self.saving_bar.setAccessibleName(self.tr("Saving the capture"))
        self.saving_bar.hide()
        self.statusBar().addPermanentWidget(self.saving_bar)
        self.last_opened = QLabel()
        self.last_opened.setAccessibleName(self.tr("When this vault was last opened here"))
        self.statusBar().addPermanentWidget(self.last_opened)

    # ------------------------------------------------------------------ geometry

    def _build_preview(self) -> QWidget:
        """The selected capture's picture: its covered copy, badged, when part of it is
        covered, and a "Show original" switch to see the untouched capture."""
        preview = QWidget()
        column = QVBoxLayout(preview)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(4)
        self.preview_bar = QWidget()
        bar = QHBoxLayout(self.preview_bar)
        bar.setContentsMargins(0, 0, 0, 0)
        self.covered_badge = QLabel(self.tr("Covered copy"))
        self.covered_badge.setObjectName("coveredBadge")
        self.covered_badge.setAccessibleName(self.tr("This is the covered copy"))
        self.covered_badge.setToolTip(self.tr("What you covered is hidden here and in every "
                                              "list. The original in the vault is unchanged."))
        self.covered_badge.setStyleSheet(
            "QLabel#coveredBadge { background: #202124; color: white; border-radius: 3px;"
            " padding: 2px 8px; font-weight: 600; }")
        self.preview_note = QLabel()
        self.preview_note.setWordWrap(True)
        self.preview_note.setAccessibleName(self.tr("About this picture"))
        self.preview_note.setVisible(False)
        self.show_original_button = QPushButton(self.tr("Show &original"))
        self.show_original_button.setCheckable(True)
        self.show_original_button.setToolTip(self.tr("See the capture as it was taken, with "
                                                     "nothing covered"))
        self.show_original_button.toggled.connect(self._show_original)
        bar.addWidget(self.covered_badge)
        bar.addWidget(self.preview_note, 1)
        bar.addStretch()
        bar.addWidget(self.show_original_button)
        self.preview_bar.setVisible(False)
        column.addWidget(self.preview_bar)
        column.addWidget(self.viewer, 1)
        return preview

    # ------------------------------------------------------------------ data

    def _load_thumbnail(self, capture_id: int) -> bytes:
        if not self.session.is_unlocked:
            return b""
        if capture_id < 0:  # a flagged message: its item's card
            return self.session.thumbnail(flagged_row_item(capture_id)[0])
        # Of the covered copy when part of the capture is covered: it stays covered here.
        return self.session.display_thumbnail(capture_id)

    def _is_covered(self, capture_id: int) -> bool:
        return self.session.is_unlocked and self.session.is_covered(capture_id)

    def load(self) -> None:
        """Fill every view from the vault (after unlocking)."""
        self._reset_date_filter()
        self.reload_incidents()
        preferred = self.settings.get(options.DEFAULT_INCIDENT)
        row = 0
        for i in range(self.incident_model.rowCount()):
            if self.incident_model.incident_at(i).id == preferred:
                row = i
        index = self.incident_model.index(row, 0)
        if self.incident_view.currentIndex() == index:
            self.reload_captures(first_page=True)
        else:
            self.incident_view.setCurrentIndex(index)  # loads its captures once

    def forget(self) -> None:
        """Drop everything decrypted: called when the vault locks (the capture browser
        closes itself then, see :class:`BrowserWindow`)."""
        self._current_capture = None
        self.web_facts.clear()
        self.web_facts.setVisible(False)
        self.act_check_again.setEnabled(False)
        self.history_banner.show_warning(None)
        self.last_opened.clear()
        self._current_flagged = None
        self.capture_model.clear()
        self.incident_model.clear()
        self.person_filter.clear()
        self.viewer.clear()
        self._reset_preview_bar()
        self.details.clear()
        self.search.clear()

    def show_history(self) -> None:
        """After unlocking: when it was last opened here, and the banner if it is older."""
        if not self.session.is_unlocked:
            return
        self.last_opened.setText(last_opened_text(self, self.session))
        self.history_banner.show_warning(self.session.history_warning())

    def warn_history(self) -> None:
        """The loud warning with its two choices (also behind the banner's button)."""
        from evidence_recorder.ui import history

        history.warn(self, self.session)

    def tell_history(self) -> None:
        """Said once at unlock: a restored backup that is older, or the warning itself."""
        if not self.session.is_unlocked:
            return
        if notice := self.session.take_history_notice():
            messages.info(self, self.tr("You restored a backup"), notice)
        self.warn_history()

    def current_incident_id(self) -> int | None:
        index = self.incident_view.currentIndex()
        return self.incident_model.incident_at(index.row()).id if index.isValid() else None

    def reload_incidents(self) -> None:
        if not self.session.is_unlocked:
            return
        current = self.current_incident_id()
        self._keeping_incident = True
        try:
            self.incident_model.set_incidents(self.session.incidents())
            for i in range(self.incident_model.rowCount()):
                if self.incident_model.incident_at(i).id == current:
                    self.incident_view.setCurrentIndex(self.incident_model.index(i, 0))
        finally:
            self._keeping_incident = False
        if self.current_incident_id() != current:  # it is gone: show what is left
            self._incident_changed(self.incident_view.currentIndex(), QModelIndex())

    def reload_captures(self, *, first_page: bool = False) -> None:
        """Show the current incident's captures.

        ``first_page``: when an incident is opened, a large one shows its newest
        :data:`FIRST_PAGE` captures at once and the rest follow from a background
        read, so ten thousand captures open about as fast as a hundred. Reloads after
        an edit read everything at once, so the view does not jump.
        """
        if not self.session.is_unlocked:
            return
        self._reload_generation += 1
        incident = self.current_incident_id()
        count = self.session.capture_count(incident) if first_page else 0
        if count > FIRST_PAGE:
            self._show_captures(self.session.captures(incident, newest=FIRST_PAGE), count)
            generation = self._reload_generation  # the view asks for thumbnails as it paints
            # With self as the context: a window closed and deleted meanwhile is not called.
            QTimer.singleShot(50, self, lambda: self._load_rest_when_idle(
                incident, generation, FIRST_PAGE_PATIENCE))
            return
        captures = self.session.captures(incident)
        self._show_captures(captures, len(captures))

    def _load_rest_when_idle(self, incident: int | None, generation: int, patience: int) -> None:
        """Read the whole incident in the background once the thumbnails on screen are
        in (they share the vault), waiting at most ``patience`` short turns for them."""
        if generation != self._reload_generation or not self.session.is_unlocked:
            return
        if self.capture_model.thumbnails_pending() and patience > 0:
            QTimer.singleShot(50, self, lambda: self._load_rest_when_idle(
                incident, generation, patience - 1))
            return

        def rest(captures: list[Capture]) -> None:
            if generation == self._reload_generation and self.session.is_unlocked:
                self._show_captures(captures, len(captures))

        run_task(lambda _progress: self.session.captures(incident), on_success=rest,
                 on_failure=lambda _exc: None)  # locked meanwhile: nothing to show

    def _show_captures(self, captures: list[Capture], count: int) -> None:
        keep = self._current_capture
        self._roll_date_filter()
        self._keeping_capture = keep
        try:
            rows: list[Capture] = list(captures)
            items = {c.id: c for c in captures if c.kind in MESSAGE_KINDS}
            if items:
                rows += [flagged_message_row(items[flag.item_id], flag, message)
                         for flag, message in self.session.flagged_messages(list(items))]
            self._fill_people(captures)
            self.capture_model.set_captures(rows, self.session.checks_by_item(captures))
            self.empty_hint.setVisible(not captures)
            if not self._columns_fitted and captures:
                # once per incident opened; after that the person's widths stay
                browse.fit_timeline_columns(self.table)
                self._columns_fitted = True
            self._update_empty_state()
            if keep is not None:
                self.select_capture(keep)
        finally:
            self._keeping_capture = None
        kept = next((c for c in captures if c.id == keep), None)
        if kept is not None and keep == self._current_capture:
            self.details.refresh(kept, self.session.incidents())  # if changed elsewhere
        self.statusBar().showMessage(
            self.tr("%n capture in this incident", "", count) if count == 1
            else self.tr("%n captures in this incident", "", count))

    def _messages_flagged(self, _item_id: int) -> None:
        """Flags changed in a conversation: the timeline shows the flagged messages anew."""
        self.reload_captures()

    def _fill_people(self, captures: list[Capture]) -> None:
        """The people the timeline can be filtered by, keeping the one chosen."""
        chosen = self.person_filter.currentText()
        self.person_filter.blockSignals(True)
        try:
            self.person_filter.clear()
            self.person_filter.addItem("")
            self.person_filter.addItems(self.session.people(captures))
            self.person_filter.setEditText(chosen)
        finally:
            self.person_filter.blockSignals(False)

    def select_capture(self, capture_id: int) -> None:
        row = self.capture_model.row_of(capture_id)
        if row is None:
            self._show_capture(None)
            return
        index = self.proxy.mapFromSource(self.capture_model.index(row, 0))
        if index.isValid():
            self.grid.setCurrentIndex(index)

    def _incident_changed(self, _current: QModelIndex, _previous: QModelIndex) -> None:
        if self._keeping_incident:
            return  # the list reloads; reload_incidents tells if the incident went
        self._current_capture = None
        self._columns_fitted = False
        self._show_capture(None)
        self.reload_captures(first_page=True)

    def _capture_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        keeping = self._keeping_capture
        if keeping is not None and (not current.isValid() or (
                keeping == self._current_capture == self.capture_model.capture_at(
                    self.proxy.mapToSource(current).row()).id)):
            return  # the same capture, put back after a reload: keep what is shown
        if not current.isValid():
            self._show_capture(None)
            return
        source = self.proxy.mapToSource(current)
        chosen = self.capture_model.capture_at(source.row())
        if isinstance(chosen, FlaggedMessage):
            self._show_flagged(chosen)
            return
        self._show_capture(chosen.id)

    def _show_flagged(self, row: FlaggedMessage) -> None:
        """A flagged message chosen in the timeline: its item's card and its words."""
        self._show_capture(None)
        self._current_flagged = row
        if not self.session.is_unlocked:
            return
        self.viewer.set_image(self.session.thumbnail(row.item_id))
        flag = row.flag
        lines = [self.tr("Flagged message from {sender}, in “{title}”").format(
            sender=row.details.author or self.tr("(no name)"), title=row.title)]
        if flag is not None and flag.category:
            lines.append(self.tr("Category: {category}").format(
                category=category_label(flag.category)))
        if flag is not None and flag.note:
            lines.append(self.tr("Your note: {note}").format(note=flag.note))
        lines.append(row.message.text[:1_000] if row.message is not None else "")
        lines.append(self.tr("Double-click or press Enter to read it with the messages "
                             "around it."))
        self.web_facts.setText("\n".join(lines))
        self.web_facts.setVisible(True)

    def _show_capture(self, capture_id: int | None) -> None:
        self._current_capture = capture_id
        self._current_flagged = None
        self._reset_preview_bar()
        self.web_facts.clear()
        self.web_facts.setVisible(False)
        self.act_check_again.setEnabled(False)
        if capture_id is None or not self.session.is_unlocked:
            self.viewer.clear()
            self.details.clear()
            return
        capture = self.session.capture(capture_id)
        if capture.kind in MESSAGE_KINDS:  # no picture of its own: its card
            self.viewer.set_image(self.session.thumbnail(capture_id))
        elif self.session.is_covered(capture_id):
            self.preview_bar.setVisible(True)
            self._show_covered(capture_id)
        else:
            self.viewer.set_image(self.session.original(capture_id))
        self.details.set_capture(capture, self.session.incidents())
        if capture.web is not None:
            self._show_web_facts(capture)

    def _show_web_facts(self, capture: Capture) -> None:
        """A web page's title and address above its details, and what later checks found:
        "Captured on …, gone by …"."""
        lines = [web_facts_text(capture)]
        summary = check_summary(capture, self.session.later_checks(capture.id), full=True)
        if summary:
            lines.append(summary)
        self.web_facts.setText("\n".join(lines))
        self.web_facts.setVisible(True)
        self.act_check_again.setEnabled(self._checker is None)

    def _reset_preview_bar(self) -> None:
        was = self.show_original_button.blockSignals(True)
        self.show_original_button.setChecked(False)
        self.show_original_button.blockSignals(was)
        self.show_original_button.setText(self.tr("Show &original"))
        self.covered_badge.setVisible(True)
        self.preview_note.setVisible(False)
        self.preview_bar.setVisible(False)

    def _show_covered(self, capture_id: int) -> None:
        """The covered copy, drawn in memory; never the original in its place."""
        try:
            covered = self.session.covered_copy(capture_id)
        except EvidenceError as exc:
            self.viewer.clear()
            self.covered_badge.setVisible(False)
            self.preview_note.setText(self.tr("The covered copy could not be drawn: {reason}")
                                      .format(reason=error_text(exc)))
            self.preview_note.setVisible(True)
            return
        self.viewer.set_image(covered)
        self.covered_badge.setVisible(True)
        self.preview_note.setVisible(False)

    def showing_original(self) -> bool:
        """Whether the preview shows the untouched original of a covered capture."""
        return self.preview_bar.isVisibleTo(self) and self.show_original_button.isChecked()

    def _show_original(self, show: bool) -> None:
        capture_id = self._current_capture
        if capture_id is None or not self.session.is_unlocked:
            return
        if show:
            self.viewer.set_image(self.session.original(capture_id))
            self.covered_badge.setVisible(False)
            self.preview_note.setText(self.tr("The original, as captured: nothing is covered."))
            self.preview_note.setVisible(True)
            self.show_original_button.setText(self.tr("Show co&vered copy"))
        else:
            self.show_original_button.setText(self.tr("Show &original"))
            self._show_covered(capture_id)

    def _save_details(self) -> None:
        if self._current_capture is None:
            return
        try:
            self.session.edit_capture(self._current_capture, self.details.changed_fields(),
                                      self.details.incident_id())
        except EvidenceError as exc:
            messages.error(self, self.tr("Not saved"), error_text(exc))
            return
        self.details.mark_saved()
        self.statusBar().showMessage(self.tr("Saved. The change is recorded in the audit log."),
                                     5000)

    def _date_filter_changed(self) -> None:
        start, end = self.date_from.date().toPython(), self.date_to.date().toPython()
        assert isinstance(start, date) and isinstance(end, date)
        # Left at their defaults (the first capture's day, today), the dates hide nothing:
        # a capture taken after midnight, or imported with an older date, still shows.
        self.proxy.set_date_range(None if start == self._default_dates[0] else start,
                                  None if end == self._default_dates[1] else end)

    def _default_date_range(self) -> tuple[date, date]:
        """From the day of the vault's first capture (or today) to today."""
        today = date.today()
        first = (self.session.earliest_capture_time()
                 if self.session.is_unlocked else None)
        start = first.astimezone().date() if first is not None else today
        return min(start, today), today

    def _reset_date_filter(self) -> None:
        """Dates back to their defaults: at each unlock, and "Clear search and filters"."""
        self._default_dates = self._default_date_range()
        for edit, day in zip((self.date_from, self.date_to), self._default_dates,
                             strict=True):
            edit.blockSignals(True)
            edit.setDate(QDate(day.year, day.month, day.day))
            edit.blockSignals(False)
        self._date_filter_changed()

    def _roll_date_filter(self) -> None:
        """Dates still at their defaults follow the calendar (the app left open overnight)
        and the first capture (one imported with an older date)."""
        if not self.session.is_unlocked:
            return
        start, end = self.date_from.date().toPython(), self.date_to.date().toPython()
        if (start, end) == self._default_dates and self._default_date_range() != (start, end):
            self._reset_date_filter()

    def clear_filters(self) -> None:
        """Show every capture of the incident again: no search, all sites, all dates."""
        self.search.clear()
        self.site_filter.setCurrentIndex(0)
        self.person_filter.setEditText("")
        self._reset_date_filter()

    def _update_empty_state(self) -> None:
        """Say why the grid and timeline are empty: nothing matches, or nothing here yet."""
        if self.proxy.rowCount() > 0 or not self.session.is_unlocked:
            text = None
        elif self.capture_model.rowCount() > 0:
            text = self.tr("No captures match.\nClear the search box, choose “All sites” or "
                           "widen the dates to see them all.")
        else:
            text = self.tr("No captures in this incident yet.")
        for overlay in self.empty_overlays:
            overlay.show_message(text, offer_clear=self.capture_model.rowCount() > 0)

    def selected_capture_ids(self) -> list[int]:
        """The captures chosen in the grid or timeline (they share one selection)."""
        rows = {self.proxy.mapToSource(i).row()
                for i in self.grid.selectionModel().selectedIndexes()}
        return [self.capture_model.capture_at(r).id for r in sorted(rows)
                if r >= 0 and not isinstance(self.capture_model.capture_at(r), FlaggedMessage)]

    def _capture_menu(self, view: QAbstractItemView, pos: QPoint) -> None:
        menu = QMenu(self)
        menu.addActions([self.act_open_conversation, self.act_annotate, self.act_check_again,
                         self.act_move, self.act_export, self.act_delete])
        menu.exec(view.viewport().mapToGlobal(pos))
        menu.deleteLater()

    def move_to_incident(self) -> None:
        """Ask which incident the chosen captures go to, then move them (audited)."""
        ids = self.selected_capture_ids()
        if not ids and self._current_capture is not None:
            ids = [self._current_capture]
        if not ids:
            messages.info(self, self.tr("Choose captures"),
                          self.tr("Select one or more captures first (hold Ctrl or Shift to "
                                  "choose several)."))
            return
        current = self.current_incident_id()
        others = [i for i in self.session.incidents() if i.id != current]
        if not others:
            messages.info(self, self.tr("No other incident"),
                          self.tr("Make another incident first (New, under the list of "
                                  "incidents)."))
            return
        target = browse.choose_incident(self, others, len(ids))
        if target is not None:
            self.move_captures(ids, target)

    def move_captures(self, ids: list[int], incident_id: int) -> None:
        """Move captures (chosen, or dropped onto an incident); each move is audited."""
        if not self.session.is_unlocked or not ids:
            return
        try:
            moved = self.session.move_captures(ids, incident_id)
        except EvidenceError as exc:
            messages.error(self, self.tr("Not moved"), error_text(exc))
            return
        row = self.incident_model.row_of(incident_id)
        title = self.incident_model.incident_at(row).title if row is not None else ""
        self.statusBar().showMessage(
            (self.tr("Moved %n capture to “{title}”.", "", len(moved)) if len(moved) == 1
             else self.tr("Moved %n captures to “{title}”.", "", len(moved))).format(
                title=title), 5000)

    # ------------------------------------------------------------------ capture

    def _fill_monitor_menu(self) -> None:
        self.monitor_menu.clear()
        try:
            from evidence_recorder.core.gather import capture

            monitors = capture.default_grabber().monitors()
        except EvidenceError as exc:
            action = self.monitor_menu.addAction(error_text(exc))
            action.setEnabled(False)
            return
        for monitor in monitors:
            action = self.monitor_menu.addAction(
                self.tr("Monitor {index} ({width}×{height})").format(
                    index=monitor.index, width=monitor.width, height=monitor.height))
            action.triggered.connect(
                lambda _=False, n=monitor.index: self.capture(
                    "monitor", n, self.settings.get(options.CAPTURE_DELAY)))

    def _set_delay(self, seconds: int) -> None:
        self.settings.set(options.CAPTURE_DELAY, seconds)
        for action in self.delay_menu.actions():
            action.setChecked(action.data() == seconds)

    def capture(self, kind: str, monitor: int | None = None, delay: int = 0) -> None:
        self.capturer.hide_windows = self.settings.get(options.HIDE_WHILE_CAPTURING)
        self.capturer.start(kind, monitor, delay)

    def _on_grabbed(self, grab: Grab) -> None:
        if not self.session.is_unlocked:
            messages.warn(self, self.tr("Not captured"), self.tr(
                    "The vault locked while capturing; unlock it and capture again."))
            return
        incident = self.current_incident_id()

        def saved(capture_id: int) -> None:
            self._saving_done()
            if not self.session.is_unlocked:
                return  # locked while saving: the capture is kept, and shows at unlock
            self.select_capture(capture_id)
            self.statusBar().showMessage(
                self.tr("Saved capture {capture_id}.").format(capture_id=capture_id), 5000)
            self.describe_new([capture_id])

        def not_saved(exc: EvidenceError) -> None:
            self._saving_done()
            messages.error(self, self.tr("Not saved"), error_text(exc))

        self.saving_bar.show()
        self.statusBar().showMessage(self.tr("Saving the capture…"))
        try:
            self.session.save_grab(grab, None, incident, saved, not_saved)
        except EvidenceError as exc:
            not_saved(exc)

    def _saving_done(self) -> None:
        if not self.session.is_saving():
            self.saving_bar.hide()
            self.statusBar().clearMessage()

    def describe_new(self, capture_ids: list[int]) -> None:
        """The describe step for what was just captured or imported: one window for all."""
        if not capture_ids or not self.session.is_unlocked:
            return
        dialog = DescribeDialog(self.session, self.session.capture(capture_ids[0]), self,
                                also=capture_ids[1:])
        dialog.exec()
        dialog.deleteLater()
        if self._current_capture in capture_ids and self.session.is_unlocked:
            self._show_capture(self._current_capture)  # what was written there, in the pane

    # ------------------------------------------------------------------ web pages

    def open_browser(self) -> BrowserWindow | None:
        """The capture browser: one window at a time, brought to the front if open."""
        if not self.session.is_unlocked:
            return None
        if self._browser is not None:
            self._browser.show()
            self._browser.raise_()
            self._browser.activateWindow()
            return self._browser
        from evidence_recorder.ui.browser_window import BrowserWindow

        try:
            browser = BrowserWindow(self.session, self.act_stop, self.current_incident_id)
        except EvidenceError as exc:
            messages.error(self, self.tr("The capture browser cannot open"), error_text(exc))
            return None
        browser.saved.connect(self._web_page_saved)
        browser.destroyed.connect(lambda _obj=None: self._browser_gone(browser))
        self._browser = browser
        browser.show()
        browser.raise_()
        return browser

    def browser(self) -> BrowserWindow | None:
        """The capture browser if it is open."""
        return self._browser

    def _browser_gone(self, browser: object) -> None:
        if self._browser is browser:
            self._browser = None

    def _web_page_saved(self, capture_id: int) -> None:
        if self.session.is_unlocked:
            self.select_capture(capture_id)

    def check_again(self) -> None:
        """Visit the chosen web page's address again, out of sight, keep what it shows
        as a new linked capture, and say plainly what was found."""
        capture_id = self._current_capture
        if capture_id is None or not self.session.is_unlocked or self._checker is not None:
            return
        capture = self.session.capture(capture_id)
        if capture.web is None:
            messages.info(self, self.tr("Not a web page"), self.tr(
                "Only a page captured with the capture browser can be checked again."))
            return
        from evidence_recorder.ui.browser_check import PageChecker

        try:
            checker = PageChecker(self.session, capture, parent=self)
        except EvidenceError as exc:
            messages.error(self, self.tr("Not checked"), error_text(exc))
            return
        self._checker = checker
        self.act_check_again.setEnabled(False)
        checker.done.connect(self._checked_again)
        checker.failed.connect(self._check_failed)
        checker.abandoned.connect(self._check_over)  # the vault locked: nothing to say
        self.saving_bar.show()
        self.statusBar().showMessage(self.tr("Checking the page again…"))
        try:
            checker.start()
        except EvidenceError as exc:
            checker.deleteLater()
            self._check_failed(error_text(exc))

    def _check_over(self) -> None:
        self._checker = None
        if not self.session.is_saving():
            self.saving_bar.hide()
        self.statusBar().clearMessage()
        if self.session.is_unlocked and self._current_capture is not None:
            self._show_capture(self._current_capture)  # "gone by …" in the details now

    def _checked_again(self, new_id: int) -> None:
        self._check_over()
        if not self.session.is_unlocked:
            return
        web = self.session.capture(new_id).web
        messages.info(self, self.tr("Checked again"),
                      check_result_text(web) if web is not None else "")

    def _check_failed(self, reason: str) -> None:
        self._check_over()
        if not self.session.is_unlocked:
            return
        messages.error(self, self.tr("Not checked"), self.tr(
            "The page could not be checked again: {reason}").format(reason=reason))

    def closeEvent(self, event: QCloseEvent) -> None:
        """Quitting closes the capture browser too (it empties itself as it closes)."""
        if self._browser is not None and not self._browser.close():
            event.ignore()  # the person kept what they typed about a page
            return
        super().closeEvent(event)

    # ------------------------------------------------------------------ import

    def import_dialog(self) -> None:
        paths = filedialogs.open_files(self, self.tr("Import files"), self.tr(IMPORT_FILTER))
        if paths:
            self.import_paths(paths)

    def import_paths(self, paths: list[Path]) -> None:
        progress = QProgressDialog(self.tr("Importing…"), "", 0, len(paths), self)
        progress.setCancelButton(None)
        progress.setWindowModality(Qt.WindowModality.WindowModal)
        progress.setMinimumDuration(300)

        def done(outcome: ImportOutcome) -> None:
            progress.close()
            saved = len(outcome.saved)
            taken = import_taken_as(outcome)
            if outcome.refused:
                reasons = "\n".join(reason for _p, reason in outcome.refused)
                messages.warn(self, self.tr("Some files were not imported"),
                              self.tr("{saved} imported, {refused} not imported.").format(
                                  saved=saved, refused=len(outcome.refused)),
                              "\n".join(t for t in (taken, reasons) if t))
            said = (self.tr("Imported %n file.", "", saved) if saved == 1
                    else self.tr("Imported %n files.", "", saved))
            if taken:  # what each file was taken for: a picture, an e-mail, a chat export
                said = f"{said} {taken.replace(chr(10), '; ')}"
            self.statusBar().showMessage(said, 15000)
            if outcome.saved:
                self.select_capture(outcome.saved[-1][1])
                self.describe_new([capture_id for _path, capture_id in outcome.saved])

        def failed(exc: EvidenceError) -> None:
            progress.close()
            messages.error(self, self.tr("Import stopped"), error_text(exc))

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

    def open_current(self) -> None:
        """Open what is chosen: a conversation for an e-mail, a chat export or a flagged
        message (scrolled to it), the highlight-and-redact editor for a picture."""
        flagged = self._current_flagged
        if flagged is not None:
            self.open_conversation(flagged.item_id, flagged.index)
            return
        if self._current_capture is None:
            messages.info(self, self.tr("Choose a capture"), self.tr("Select a capture first."))
            return
        if self.session.capture(self._current_capture).kind in MESSAGE_KINDS:
            self.open_conversation(self._current_capture)
            return
        self.annotate()

    def open_conversation(self, item_id: int, index: int | None = None) -> ConversationWindow:
        """The conversation window of an e-mail or chat item (one per item), scrolled to
        message ``index`` with its context highlighted when given."""
        from evidence_recorder.ui.conversation import ConversationWindow

        for item, shown in list(self._conversations.items()):  # closed ones are let go
            if not shiboken6.isValid(shown) or not shown.isVisible():
                del self._conversations[item]
        window = self._conversations.get(item_id)
        if window is None:
            window = ConversationWindow(self.session, item_id, self, scroll_to=index)
            window.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
            self._conversations[item_id] = window
            window.show()
        else:
            window.show()
            if index is not None:
                window.show_message(index, context=True)
        window.raise_()
        window.activateWindow()
        return window

    def annotate(self) -> None:
        if self._current_flagged is not None or (
                self._current_capture is not None and self.session.is_unlocked
                and self.session.capture(self._current_capture).kind in MESSAGE_KINDS):
            self.open_current()  # nothing to draw on: read it instead
            return
        if self._current_capture is None:
            messages.info(self, self.tr("Choose a capture"), self.tr("Select a capture first."))
            return
        capture_id = self._current_capture
        EditorDialog(self.session, capture_id, self).exec()
        self._show_capture(capture_id)

    def delete_capture(self) -> None:
        if self._current_capture is None:
            return
        reason, ok = messages.get_text(
            self, self.tr("Delete capture"),
            self.tr("Deleting removes the picture for good. Your policy asks you to keep "
                    "originals,\nso only delete a capture taken by mistake. Why are you deleting "
                    "it?\n(The reason and the capture's fingerprint stay in the audit log.)"))
        if not ok:
            return
        try:
            self.session.delete_capture(self._current_capture, reason)
        except EvidenceError as exc:
            messages.error(self, self.tr("Not deleted"), error_text(exc))
            return
        self._show_capture(None)

    # ------------------------------------------------------------------ incidents

    def new_incident(self) -> None:
        title, ok = messages.get_text(self, self.tr("New incident"), self.tr(
                "Title (for example, “Comments on the school Facebook page”):"))
        if not ok:
            return
        try:
            incident = self.session.new_incident(title)
        except EvidenceError as exc:
            messages.error(self, self.tr("Not created"), error_text(exc))
            return
        for i in range(self.incident_model.rowCount()):
            if self.incident_model.incident_at(i).id == incident.id:
                self.incident_view.setCurrentIndex(self.incident_model.index(i, 0))

    def rename_incident(self) -> None:
        incident_id = self.current_incident_id()
        if incident_id is None:
            return
        current = self.incident_model.incident_at(self.incident_view.currentIndex().row())
        title, ok = messages.get_text(self, self.tr("Rename incident"), self.tr("New title:"),
                                      text=current.title)
        if ok:
            try:
                self.session.edit_incident(incident_id, title=title)
            except EvidenceError as exc:
                messages.error(self, self.tr("Not renamed"), error_text(exc))

    def describe_incident(self) -> None:
        incident_id = self.current_incident_id()
        if incident_id is None:
            return
        current = self.incident_model.incident_at(self.incident_view.currentIndex().row())
        text, ok = messages.get_multiline_text(
            self, self.tr("Describe incident"),
            self.tr("What is this incident about? When did it start?"),
            current.description)
        if ok:
            try:
                self.session.edit_incident(incident_id, description=text)
            except EvidenceError as exc:
                messages.error(self, self.tr("Not saved"), error_text(exc))

    # ------------------------------------------------------------------ vault

    def verify_vault(self) -> None:
        progress = QProgressDialog(self.tr("Checking every capture…"), "", 0, 0, self)
        progress.setCancelButton(None)
        progress.setWindowModality(Qt.WindowModality.WindowModal)
        progress.setMinimumDuration(300)

        def done(report: VerifyReport) -> None:
            progress.close()
            if report.ok:
                # "Intact" only when everything could be checked; what an older version
                # never recorded is listed, not vouched for.
                limit = self.tr("This check cannot tell whether someone who has your "
                                "passphrase or recovery key rewrote the audit log itself; "
                                "reports you have already sent are what fix the evidence at "
                                "that moment.")
                detail = "\n\n".join([*report.not_checked,
                                        history_checked_text(self, self.session), limit])
                text = self.tr("Nothing was found altered. All {captures_checked} captures "
                               "match their fingerprints; their details, report pictures and "
                               "markings, your {incidents_checked} incidents and the vault's "
                               "signing key match the {entries_checked} entries of the audit "
                               "log, which are intact.").format(
                    captures_checked=report.captures_checked,
                    incidents_checked=report.incidents_checked,
                    entries_checked=report.entries_checked)
                if report.not_checked:
                    text = self.tr("Some things could not be checked, because an older version "
                                   "of Evidence Recorder did not record them; the details list "
                                   "them. Apart from those: {rest}").format(rest=text)
                messages.info(self, self.tr("Vault intact") if not report.not_checked
                              else self.tr("Nothing found altered"), text, detail)
            else:
                messages.warn(self, self.tr("Problems found"),
                              self.tr("The check found something that does not match. Keep the "
                                      "vault folder as it is and make a copy of it."),
                              "\n".join(report.problems))

        def failed(exc: EvidenceError) -> None:
            progress.close()
            messages.error(self, self.tr("Check stopped"), error_text(exc))

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
        titles = {i.id: i.title for i in self.session.incidents()}
        AuditDialog(self.session.audit_entries(), self, titles).exec()

    def change_passphrase(self) -> None:
        from evidence_recorder.ui.keys_dialog import ChangePassphraseDialog

        dialog = ChangePassphraseDialog(self.session, self)
        dialog.change_all_keys_requested.connect(self.change_all_keys)
        dialog.exec()
        dialog.deleteLater()

    def change_all_keys(self) -> None:
        from evidence_recorder.ui.keys_dialog import ChangeAllKeysDialog

        dialog = ChangeAllKeysDialog(self.session, self)
        dialog.exec()
        dialog.deleteLater()

    def show_my_seal(self) -> None:
        from evidence_recorder.ui.seal_dialog import MySealDialog

        try:
            dialog = MySealDialog(self.session, self)
        except EvidenceError as exc:  # a damaged key: the vault check says what to do
            messages.error(self, self.tr("My seal"), error_text(exc))
            return
        dialog.exec()
        dialog.deleteLater()

    def show_authorities(self) -> None:
        from evidence_recorder.ui.authorities import AuthoritiesDialog

        AuthoritiesDialog(self).exec()

    def show_settings(self) -> None:
        dialog = SettingsDialog(self.settings,
                                [(i.id, i.title) for i in self.session.incidents()], self)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.settings_changed.emit()
