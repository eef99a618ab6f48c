"""The bundle viewer: a sealed evidence bundle, read by the person it was sent to.

Owns :class:`BundleViewer` and :func:`open_bundle_window`. The reader (a busy
headteacher, say) has no vault and no reason to learn the program, so the window
answers their first question at the top, in words and not only in colour: is this
bundle intact, and whose key sealed it. Below that: who sent it, a timeline of the
captures, and the selected capture's details beside one picture of it, or, for an
e-mail or a chat export, beside its messages (:mod:`~evidence_recorder.ui.bundle_conversation`:
the flagged ones with their context first, the whole conversation, search).

Where a capture has a covered (redacted) copy, that copy is what the reader sees
first, alone; the original, with what the sender covered, appears only after a
deliberate "Show what the sender covered" and arrives veiled like every picture.

A received bundle is hostile input even when its seal is sound (anyone can seal a
bundle), so its list of evidence is read only through the typed reader
(``OpenedBundle.contents``, which checks every field of ``evidence.json``), everything
shown is HTML-escaped, and a link is opened only after asking. A list that cannot be
read is said so in the banner, beside the seal's verdict, never an "intact" above an
empty timeline. Pictures arrive veiled, because they may be upsetting. Closing the
window drops every decoded picture and every string of evidence, deletes the private
copy of report.pdf made for the PDF viewer, and closes the bundle.

The core opener is reached through :func:`~evidence_recorder.ui.session.open_bundle_file`
(widgets reach the bundle code only through the session module); this module codes
against the small protocol below, and tests pass a fake opener.

The window is here; what it shows is made in :mod:`~evidence_recorder.ui.bundle_banner`
(the verdict at the top), :mod:`~evidence_recorder.ui.bundle_details` (the captures as
the typed reader gives them: the timeline and one capture's details) and
:mod:`~evidence_recorder.ui.bundle_wording` (the texts and time words they share).
This module stays over 600 lines because :class:`BundleViewer` is one window whose
opening, picture veiling and clean-up on close share the same state.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
import weakref
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import shiboken6
from PySide6.QtCore import QCoreApplication, QModelIndex, QSize, Qt, QUrl, Signal
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QDesktopServices,
    QGuiApplication,
    QKeySequence,
    QPainter,
    QPixmap,
    QPixmapCache,
    QTextDocument,
)
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMainWindow,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QSplitter,
    QStackedWidget,
    QTableView,
    QTextBrowser,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from evidence_recorder import APP_NAME
from evidence_recorder.core.conversation import Message
from evidence_recorder.core.errors import EvidenceError, WrongSecret
from evidence_recorder.ui import filedialogs, messages
from evidence_recorder.ui.bundle_banner import VerdictBanner
from evidence_recorder.ui.bundle_conversation import BundleFile, MessagePanel
from evidence_recorder.ui.bundle_details import (
    BundleCapture,
    TimelineColumn,
    TimelineModel,
    _esc,
    captures_of,
    details_html,
    summary_text,
)
from evidence_recorder.ui.bundle_wording import (
    BUNDLE_FILTER,
    NO_ORIGINAL_NOTE,
    NO_PICTURE_NOTE,
    NO_REDACTED_NOTE,
    SHOW_COPY_BUTTON,
    SHOW_COVERED_BUTTON,
    WINDOW_TITLE,
    _blocked,
    _text,
    _tr,
    make_plain_text,
)
from evidence_recorder.ui.geometry import remember_geometry
from evidence_recorder.ui.guide import (
    ChildProtectionDialog,
    child_protection_tip,
    child_protection_title,
    pin_child_protection_stop,
    show_red_in,
)
from evidence_recorder.ui.i18n import error_text
from evidence_recorder.ui.imageview import ImageView
from evidence_recorder.ui.plain import make_plain
from evidence_recorder.ui.seal_dialog import seal_text
from evidence_recorder.ui.session import open_bundle_file
from evidence_recorder.ui.tasks import run_task
from evidence_recorder.ui.wording import category_label, format_short

if TYPE_CHECKING:  # the bundle package is imported only when a bundle is opened
    from evidence_recorder.ui.session import BundleEvidence, BundleItem

# ---------------------------------------------------------------------- the protocol


class BundleReportLike(Protocol):
    """What verification found. ``ok`` only when nothing was wrong."""

    @property
    def ok(self) -> bool: ...

    @property
    def problems(self) -> list[str]: ...

    @property
    def fingerprint(self) -> str | None: ...  # "SHA256:…" as ssh-keygen prints it

    @property
    def seal_number(self) -> str | None: ...  # the same key as 12 groups of 5 digits

    @property
    def timestamp(self) -> str | None: ...  # "2026-11-25T12:00:03Z from …" when present

    @property
    def timestamp_state(self) -> str | None: ...  # "trusted", "unknown-authority", "not-trusted"

    @property
    def timestamp_reason(self) -> str: ...  # why a timestamp is not trusted, in plain words


class OpenedBundleLike(Protocol):
    """A verified (or found wanting) bundle, open for reading until :meth:`close`."""

    @property
    def report(self) -> BundleReportLike: ...

    @property
    def bundle_name(self) -> str: ...

    @property
    def contents(self) -> BundleEvidence | None: ...  # the typed reader's list of evidence

    @property
    def contents_problem(self) -> str | None: ...  # why ``contents`` is None, in a sentence

    def read(self, path: str) -> bytes: ...

    def messages(self, item: BundleItem) -> list[Message]: ...  # an item's messages.json

    def close(self) -> None: ...


Opener = Callable[[Path, "str | None"], OpenedBundleLike]


def default_opener(path: Path, passphrase: str | None = None) -> OpenedBundleLike:
    """The bundle file at ``path``, checked and opened through the session module (which
    imports the bundle code only when a bundle is first opened)."""
    return open_bundle_file(path, passphrase)


REPORT_COPY_PREFIX = "evidence-report-"


def sweep_report_copies() -> None:
    """Remove report copies left by a viewer that was killed before it could delete them.

    Each copy's folder is named after the process that made it; a folder of ours whose
    process is gone is left over. Called at start and before each new copy. POSIX only:
    elsewhere there is no harmless way to ask whether a process lives (on Windows
    ``os.kill`` ends it), and the system's temporary folder is left to the system.
    """
    if os.name != "posix":
        return
    with contextlib.suppress(OSError):
        for folder in Path(tempfile.gettempdir()).glob(f"{REPORT_COPY_PREFIX}*-*"):
            pid = folder.name[len(REPORT_COPY_PREFIX):].split("-", 1)[0]
            if not pid.isdigit() or folder.is_symlink() or not folder.is_dir() \
                    or folder.stat().st_uid != os.getuid():
                continue
            try:
                os.kill(int(pid), 0)  # signal 0: only asks whether it exists
            except ProcessLookupError:
                shutil.rmtree(folder, ignore_errors=True)
            except (OSError, OverflowError):
                continue


# ---------------------------------------------------------------------- the window


_open_viewers: set[BundleViewer] = set()  # keeps parentless windows alive until closed


class BundleViewer(QMainWindow):
    """One received bundle: the verdict, the sender's summary, the captures.

    ``save_requested`` carries the bundle's path when the reader asks to keep it in
    their own vault; whoever owns the vault does the saving.
    """

    save_requested = Signal(object)
    loaded = Signal()  # a bundle is on show (tests and the caller may wait for it)

    def __init__(self, parent: QWidget | None = None, *,
                 opener: Opener = default_opener) -> None:
        super().__init__(parent)
        self.setWindowFlag(Qt.WindowType.Window, True)
        self.setWindowTitle(self._title())
        self._opener = opener
        self._bundle: OpenedBundleLike | None = None
        self._path: Path | None = None
        self._passphrase: str | None = None
        self._generation = 0
        self._busy = False
        self._closed = False
        self._row: int | None = None
        self._report_folder: Path | None = None  # a private copy of report.pdf, while open
        self._archive_windows: list[QWidget] = []  # archived pages open offline
        self._messages_wanted = 0  # the latest request for an item's messages
        self.model = TimelineModel(self)
        self._build_actions()
        self._build_layout()
        self._geometry = remember_geometry(self, "bundleViewer", QSize(1280, 720),
                                           [self.splitter])
        self._update_actions()

    # ------------------------------------------------------------------ building

    def _action(self, text: str, slot: Callable[[], object],
                shortcut: str | QKeySequence | QKeySequence.StandardKey | None,
                tip: str) -> QAction:
        action = QAction(text, self)  # callers pass translated text
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.setToolTip(tip)
        action.setStatusTip(tip)
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    def _build_actions(self) -> None:
        self.act_open = self._action(self.tr("&Open another bundle…"), self.choose_bundle,
                                     QKeySequence.StandardKey.Open,
                                     self.tr("Open another evidence bundle"))
        self.act_save = self._action(self.tr("&Save into my vault…"), self.request_save, "Ctrl+S",
                                     self.tr("Keep a copy of this bundle in your own evidence "
                                             "vault"))
        self.act_report = self._action(
            self.tr("Open the &report (PDF)"), self.open_report, None,
            self.tr("Open the sender's sealed report in your PDF viewer. The copy made for "
                    "this is removed when you close this window."))
        self.act_print = self._action(self.tr("&Print…"), self.print_bundle,
                                      QKeySequence.StandardKey.Print,
                                      self.tr("Print each capture's details and picture "
                                              "(the covered copy where there is one)"))
        self.act_close = self._action(self.tr("&Close"), self.close,
                                      QKeySequence.StandardKey.Close, self.tr("Close this bundle"))
        self.act_authorities = self._action(
            self.tr("&Time-stamping authorities…"), self.show_authorities, None,
            self.tr("Which timestamp services this computer trusts, besides the built-in "
                    "lists"))
        menu = self.menuBar().addMenu(self.tr("&Bundle"))
        menu.addActions([self.act_open, self.act_save, self.act_report, self.act_print])
        menu.addSeparator()
        menu.addAction(self.act_authorities)
        menu.addSeparator()
        menu.addAction(self.act_close)
        self.act_help = self._action(self.tr("&Guide for headteachers"),
                                     lambda: self.show_help("headteacher"),
                                     QKeySequence.StandardKey.HelpContents,
                                     self.tr("How to read and check this bundle (offline)"))
        self.act_help_police = self._action(self.tr("Guide for &police officers"),
                                            lambda: self.show_help("police"), None,
                                            self.tr("How to check a bundle with standard "
                                                    "tools, without this app"))
        help_menu = self.menuBar().addMenu(self.tr("&Help"))
        help_menu.addActions([self.act_help, self.act_help_police])
        # A headteacher may meet such images in a bundle too: the red stop, always in sight.
        self.act_stop = self._action(
            child_protection_title(), lambda: ChildProtectionDialog(self).exec(), None,
            child_protection_tip())
        help_menu.addSeparator()
        help_menu.addAction(self.act_stop)
        show_red_in(help_menu, self.act_stop)
        bar = self.addToolBar(self.tr("Bundle"))
        bar.setObjectName("bundleToolbar")
        bar.setMovable(False)
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        bar.addActions([self.act_open, self.act_save, self.act_report, self.act_print])
        bar.addSeparator()
        bar.addAction(self.act_close)
        help_button = QToolButton()
        help_button.setText(self.tr("Help"))
        help_button.setAccessibleName(self.tr("Help: guide for headteachers"))
        help_button.setToolTip(self.tr("How to read and check this bundle (F1)"))
        help_button.clicked.connect(self.act_help.trigger)
        bar.addWidget(help_button)
        self.stop_bar = pin_child_protection_stop(self, self.act_stop)

    def _build_layout(self) -> None:
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(10, 8, 10, 6)
        layout.setSpacing(8)

        self.banner = VerdictBanner()
        self.banner.copy_requested.connect(self.copy_fingerprint)
        layout.addWidget(self.banner)

        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.summary.setAccessibleName(self.tr("About this bundle"))
        make_plain(self.summary)  # the sender's name and titles: never markup
        layout.addWidget(self.summary)

        self.timeline = QTableView()
        self.timeline.setModel(self.model)
        self.timeline.setAccessibleName(self.tr("Captures in this bundle, oldest first"))
        self.timeline.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.timeline.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.timeline.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.timeline.setAlternatingRowColors(True)
        self.timeline.setWordWrap(False)
        self.timeline.setTabKeyNavigation(False)
        vertical = self.timeline.verticalHeader()
        vertical.setVisible(False)
        vertical.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        vertical.setDefaultSectionSize(self.timeline.fontMetrics().height() + 10)
        horizontal = self.timeline.horizontalHeader()
        horizontal.setStretchLastSection(True)
        horizontal.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        metrics = self.timeline.fontMetrics()
        for column, sample in ((TimelineColumn.CAPTURED,
                                format_short(datetime(2026, 9, 28, 23, 59))),
                               (TimelineColumn.SITE, "Facebook Messenger"),
                               (TimelineColumn.AUTHOR, "Firstname Lastname (@handle)"),
                               (TimelineColumn.POSTED, "Yesterday at 21:04"),
                               (TimelineColumn.CATEGORY, category_label("harassment"))):
            horizontal.resizeSection(column, metrics.horizontalAdvance(sample) + 24)
        self.timeline.selectionModel().currentRowChanged.connect(self._current_changed)

        self.details = QTextBrowser()
        self.details.setAccessibleName(self.tr("Details of the selected capture"))
        self.details.setOpenLinks(False)
        self.details.setOpenExternalLinks(False)
        self.details.anchorClicked.connect(self._link_clicked)
        self.details.setPlaceholderText(self.tr("Choose a capture above to see what was recorded "
                                                "about it."))

        # One picture at a time: the covered copy first; the original only on request.
        pictures = QWidget()
        pictures_column = QVBoxLayout(pictures)
        pictures_column.setContentsMargins(0, 0, 0, 0)
        pictures_column.setSpacing(4)
        caption_row = QHBoxLayout()
        self.picture_caption = QLabel()
        self.picture_caption.setWordWrap(True)
        self.show_original_button = QPushButton(_tr(SHOW_COVERED_BUTTON))
        self.show_original_button.setCheckable(True)
        self.show_original_button.setToolTip(
            self.tr("See the original, exactly as captured, with nothing covered. It may be "
                    "upsetting; it stays veiled until you click it."))
        self.show_original_button.toggled.connect(self._show_original)
        self.show_original_button.setVisible(False)
        self.archive_button = QPushButton(self.tr("Open the archived page"))
        self.archive_button.setToolTip(
            self.tr("Show the web page as it was archived when it was captured, offline: "
                    "nothing on it runs and nothing is fetched from the internet."))
        self.archive_button.clicked.connect(self.open_archived_page)
        self.archive_button.setVisible(False)
        # A tall web page kept in several parts: which part is on show.
        self.part_box = QSpinBox()
        self.part_box.setAccessibleName(self.tr("Part of the page shown"))
        self.part_box.setToolTip(self.tr("A tall page is kept in several pictures, top to "
                                         "bottom: choose which one to see."))
        self.part_box.setVisible(False)
        self.part_box.valueChanged.connect(self._show_part)
        caption_row.addWidget(self.picture_caption, 1)
        caption_row.addWidget(self.part_box)
        caption_row.addWidget(self.archive_button)
        caption_row.addWidget(self.show_original_button)
        pictures_column.addLayout(caption_row)
        self.original_view = ImageView(accessible_name=self.tr("Original picture"))
        self.redacted_view = ImageView(accessible_name=self.tr("Covered copy of the picture"))
        self.picture_note = QLabel()
        self.picture_note.setWordWrap(True)
        self.picture_note.setAccessibleName(self.tr("Note about the pictures"))
        make_plain(self.picture_note)  # may name a path from the bundle
        self.picture_note.setVisible(False)
        for view in (self.original_view, self.redacted_view):
            view.set_placeholder_text(self.tr("Choose a capture to see its picture here."))
            view.set_veiled(True)
            view.setMinimumSize(160, 120)
        self.picture_stack = QStackedWidget()
        self.picture_stack.addWidget(self.redacted_view)
        self.picture_stack.addWidget(self.original_view)
        pictures_column.addWidget(self.picture_stack, 1)
        pictures_column.addWidget(self.picture_note)

        # An e-mail or a chat export: its messages in place of a picture.
        self.messages_panel = MessagePanel(self._read_message_file, self.save_file_copy)
        self.right_stack = QStackedWidget()
        self.right_stack.addWidget(pictures)
        self.right_stack.addWidget(self.messages_panel)
        self._pictures_page = pictures

        self.lower_splitter = QSplitter(Qt.Orientation.Horizontal)
        self.lower_splitter.setObjectName("bundleLowerSplitter")
        self.lower_splitter.addWidget(self.details)
        self.lower_splitter.addWidget(self.right_stack)
        self.lower_splitter.setStretchFactor(0, 2)
        self.lower_splitter.setStretchFactor(1, 3)
        self.lower_splitter.setSizes([460, 800])
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.setObjectName("bundleSplitter")
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(self.timeline)
        self.splitter.addWidget(self.lower_splitter)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 3)
        self.splitter.setSizes([150, 450])
        layout.addWidget(self.splitter, 1)
        self.setCentralWidget(central)

        self.setTabOrder(self.timeline, self.details)
        self.setTabOrder(self.details, self.show_original_button)
        self.setTabOrder(self.show_original_button, self.redacted_view)
        self.setTabOrder(self.redacted_view, self.original_view)

        self.busy_bar = QProgressBar()
        self.busy_bar.setRange(0, 0)
        self.busy_bar.setMaximumWidth(160)
        self.busy_bar.setAccessibleName(self.tr("Checking the bundle"))
        self.busy_bar.setVisible(False)
        self.statusBar().addPermanentWidget(self.busy_bar)

    # ------------------------------------------------------------------ state

    def is_loaded(self) -> bool:
        return self._bundle is not None

    def is_busy(self) -> bool:
        return self._busy

    def bundle_path(self) -> Path | None:
        return self._path

    def report_summary(self) -> dict[str, object]:
        """The verdict to keep with a copy of this bundle saved into a vault."""
        if self._bundle is None:
            return {}
        report = self._bundle.report
        # The sealed contents' digest lets the saving check that what it keeps is what
        # was shown here (the file may change on the disk in between).
        return {"ok": bool(report.ok) and not report.problems, "problems": list(report.problems),
                "fingerprint": report.fingerprint, "timestamp": report.timestamp,
                "timestamp_trusted": report.timestamp_state == "trusted",
                "sealed_sha256": getattr(report, "sealed_sha256", None)}

    def bundle_passphrase(self) -> str | None:
        """The passphrase the bundle on show was opened with (to check the copy saved)."""
        return self._passphrase if self._bundle is not None else None

    def verdict(self) -> str:
        """``"intact"``, ``"altered"``, ``"unreadable"`` (the seal holds but the list of
        evidence inside cannot be read) or ``"checking"``: what the banner says."""
        return self.banner.state

    def _update_actions(self) -> None:
        intact = self._bundle is not None and self.banner.state == "intact"
        self.act_save.setEnabled(intact and not self._busy)
        self.act_save.setToolTip(
            self.tr("Keep a copy of this bundle in your own evidence vault") if intact
            else self.tr("Only a bundle whose list of evidence can be read can be saved into "
                         "a vault") if self.banner.state == "unreadable"
            else self.tr("Only an intact bundle can be saved into a vault"))
        self.act_open.setEnabled(not self._busy)
        # Only an intact bundle's report and pictures leave this window: an altered
        # bundle's PDF could say anything, without the red warning shown here.
        for action in (self.act_report, self.act_print):
            action.setEnabled(intact and not self._busy)

    def _set_busy(self, busy: bool) -> None:
        self._busy = busy
        self.busy_bar.setVisible(busy)
        if busy:
            self.statusBar().showMessage(self.tr("Checking the bundle…"))
            if self._bundle is None:
                self.banner.show_checking()
        else:
            self.statusBar().clearMessage()
        self._update_actions()

    # ------------------------------------------------------------------ opening

    def show_authorities(self) -> None:
        """Add or remove trusted roots; a bundle on show is then checked again."""
        from evidence_recorder.ui.authorities import AuthoritiesDialog

        dialog = AuthoritiesDialog(self)
        dialog.exec()
        if dialog.changed and self._bundle is not None and self._path is not None \
                and not self._busy:
            self.open_path(self._path, self._passphrase)

    def open_path(self, path: Path, passphrase: str | None = None) -> None:
        """Check and open ``path`` in the background; what is on show stays until it opens."""
        self._generation += 1
        generation = self._generation
        opener = self._opener
        self._set_busy(True)
        this = weakref.ref(self)

        def job(_progress: object) -> OpenedBundleLike:
            return opener(path, passphrase)

        def succeeded(opened: OpenedBundleLike) -> None:
            viewer = this()
            if viewer is None or not viewer._wants(generation):
                opened.close()  # the window went away while it was opening
                return
            viewer._show_bundle(path, opened)
            viewer._passphrase = passphrase

        def failed(exc: EvidenceError) -> None:
            viewer = this()
            if viewer is not None and viewer._wants(generation):
                viewer._open_failed(path, passphrase, exc)

        run_task(job, on_success=succeeded, on_failure=failed)

    def _wants(self, generation: int) -> bool:
        return (shiboken6.isValid(self) and not self._closed
                and generation == self._generation)

    def _open_failed(self, path: Path, passphrase: str | None, exc: EvidenceError) -> None:
        self._set_busy(False)
        if isinstance(exc, WrongSecret):
            again = self.ask_passphrase(path, retry=passphrase is not None)
            if again is not None:
                self.open_path(path, again)
                return
        else:
            messages.error(self, self.tr("Bundle not opened"), error_text(exc))
        if self._bundle is None:
            self.close()  # nothing to show: the window has no purpose

    def ask_passphrase(self, path: Path, *, retry: bool) -> str | None:
        """The bundle's passphrase from the reader, or None if they give up."""
        if retry:
            prompt = self.tr("That passphrase does not open this bundle. Check it with the "
                             "person who sent it, then try again.\n\nPassphrase:")
        else:
            prompt = self.tr("“{name}” is locked with a passphrase. The person who sent it "
                             "should give it to you separately, by phone for example.\n\n"
                             "Passphrase:").format(name=path.name)
        text, ok = messages.get_text(self, self.tr("Passphrase needed"), prompt,
                                     QLineEdit.EchoMode.Password)
        return text if ok else None

    def _show_bundle(self, path: Path, opened: OpenedBundleLike) -> None:
        self._drop_bundle()
        self._bundle = opened
        self._path = path
        self._set_busy(False)
        contents = opened.contents
        problem = None if contents is not None else (
            opened.contents_problem or self.tr("the bundle did not say why."))
        self.banner.show_report(opened.report, problem)
        entries = captures_of(contents)
        if contents is not None:
            self.summary.setText(summary_text(contents, len(entries)))
        else:
            self.summary.setText(self.tr("The list of what is in this bundle could not be read, "
                                         "so none of its evidence is shown."))
        self.summary.setVisible(True)
        self.model.set_entries(entries)
        name = _text(opened.bundle_name) or path.name
        self.setWindowTitle(self._title(name))
        self._update_actions()
        if entries:
            self.timeline.setCurrentIndex(self.model.index(0, 0))
        self.timeline.setFocus()
        self.loaded.emit()

    def choose_bundle(self) -> None:
        paths = filedialogs.open_files(self, self.tr("Open an evidence bundle"), _tr(BUNDLE_FILTER))
        if paths:
            self.open_path(paths[0])

    # ------------------------------------------------------------------ the selected capture

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        self.show_entry(current.row() if current.isValid() else None)

    def show_entry(self, row: int | None) -> None:
        """Show one capture's details and one picture, veiled: the covered copy when
        there is one; the original only after "Show what the sender covered"."""
        self._row = None
        self.original_view.clear()
        self.redacted_view.clear()
        self.picture_note.setVisible(False)
        with _blocked(self.show_original_button):
            self.show_original_button.setChecked(False)
        self.show_original_button.setText(_tr(SHOW_COVERED_BUTTON))
        self.show_original_button.setVisible(False)
        self.archive_button.setVisible(False)
        self.part_box.blockSignals(True)
        self.part_box.setVisible(False)
        self.part_box.setValue(self.part_box.minimum())
        self.part_box.blockSignals(False)
        self.picture_caption.clear()
        self.picture_stack.setCurrentWidget(self.redacted_view)
        self._messages_wanted += 1  # a reading still under way is not shown
        self.messages_panel.clear()
        self.right_stack.setCurrentWidget(self._pictures_page)
        if row is None or self._bundle is None or not 0 <= row < self.model.rowCount():
            self.details.clear()
            return
        self._row = row
        entry = self.model.entry_at(row)
        notes: list[str] = []
        check = ""
        original = self._read(entry.original, "original", notes)
        if original is not None:
            digest = hashlib.sha256(original).hexdigest()
            if entry.capture.sha256 and digest == entry.capture.sha256:
                check = self.tr("✔ matches the original in this bundle")
            elif entry.capture.sha256:
                check = self.tr("<b>✘ does not match the original in this bundle</b> (its "
                                "SHA-256 is <span style='font-family: monospace'>{digest}"
                                "</span>)").format(digest=digest)
        elif entry.original is None:
            check = self.tr("The original itself is not in this bundle.")
        entries = [self.model.entry_at(n) for n in range(self.model.rowCount())]
        self.details.setHtml(details_html(entry, check, entries))
        if entry.has_messages:
            self._show_messages(entry)
            return
        web = entry.capture.web is not None
        self.archive_button.setVisible(web and entry.page_archive is not None)
        for view in (self.original_view, self.redacted_view):
            view.set_veiled(True)  # before the picture arrives: it may be upsetting
        if entry.redacted is not None:
            # The covered copy alone; the original is decoded only when asked for.
            del original
            self.redacted_view.set_image(self._read(entry.redacted, "redacted", notes))
            self.picture_caption.setText(self.tr("<b>Covered copy</b>: parts covered by the "
                                                 "sender"))
            if entry.original is None:
                notes.insert(0, _tr(NO_ORIGINAL_NOTE))
            else:
                self.show_original_button.setVisible(True)
        elif entry.original is not None:
            self.original_view.set_image(original)
            del original
            self.picture_stack.setCurrentWidget(self.original_view)
            if web:  # a tall page: at its own size, from its top, to scroll through
                self.original_view.actual_size_from_top()
                self.picture_caption.setText(self.tr("<b>The whole page</b>, exactly as "
                                                     "captured (scroll to read it)"))
                if entry.full_page_parts > 1:
                    self.part_box.blockSignals(True)
                    self.part_box.setRange(1, entry.full_page_parts)
                    self.part_box.setValue(1)
                    self.part_box.setPrefix(self.tr("Part "))
                    self.part_box.setSuffix(self.tr(" of {count}").format(
                        count=entry.full_page_parts))
                    self.part_box.blockSignals(False)
                    self.part_box.setVisible(True)
                    self.picture_caption.setText(self.tr(
                        "<b>The whole page</b>, part 1 of {count}, exactly as captured "
                        "(scroll to read it)").format(count=entry.full_page_parts))
            else:
                self.picture_caption.setText(self.tr("<b>Original</b>, exactly as captured"))
            notes.insert(0, _tr(NO_REDACTED_NOTE))
        else:
            notes.insert(0, _tr(NO_PICTURE_NOTE))
        self.picture_caption.setAccessibleName(make_plain_text(self.picture_caption.text()))
        self.picture_note.setText(" ".join(notes))
        self.picture_note.setVisible(bool(notes))

    def _show_messages(self, entry: BundleCapture) -> None:
        """An e-mail's or chat export's messages, read from its messages.json (checked
        against the SHA-256 the bundle lists, field by field) in the background (a
        conversation of 100,000 messages takes seconds), in place of a picture."""
        assert self._bundle is not None and entry.item is not None
        self.right_stack.setCurrentWidget(self.messages_panel)
        self.messages_panel.set_loading(entry.capture.title)
        self._messages_wanted += 1
        wanted, generation = self._messages_wanted, self._generation
        bundle, item, this = self._bundle, entry.item, weakref.ref(self)

        def job(_progress: object) -> list[Message]:
            return bundle.messages(item)

        def current() -> BundleViewer | None:
            viewer = this()
            if viewer is None or not viewer._wants(generation) \
                    or viewer._messages_wanted != wanted:
                return None  # another item was chosen, or the window closed, meanwhile
            return viewer

        def succeeded(read: list[Message]) -> None:
            if (viewer := current()) is not None:
                viewer.messages_panel.set_item(
                    entry.capture.title, entry.capture.kind.value == "email", read,
                    entry.flags, entry.files)

        def failed(exc: EvidenceError) -> None:
            if (viewer := current()) is not None:
                viewer.messages_panel.set_item(entry.capture.title, False, [], [],
                                               entry.files)
                viewer.messages_panel.count.setText(viewer.tr(
                    "The messages could not be read from the bundle: {reason}").format(
                    reason=error_text(exc)))

        run_task(job, on_success=succeeded, on_failure=failed)

    def _read_message_file(self, path: str) -> bytes | None:
        """A picture attached to a message, for the panel (veiled there)."""
        notes: list[str] = []
        data = self._read(path, "original", notes)
        if notes:
            self.messages_panel.count.setText(" ".join(notes))
        return data

    def save_file_copy(self, file: BundleFile) -> Path | None:
        """Save a copy of one of an e-mail's or chat export's files, exactly as in the
        bundle (refused if it no longer matches the SHA-256 the bundle lists)."""
        if file.path is None:
            return None
        notes: list[str] = []
        data = self._read(file.path, "original", notes)
        if data is None:
            messages.error(self, self.tr("Copy not saved"), " ".join(notes))
            return None
        if file.sha256 and hashlib.sha256(data).hexdigest() != file.sha256:
            messages.error(self, self.tr("Copy not saved"), self.tr(
                "This file does not match the SHA-256 the bundle lists for it: it was changed "
                "after the bundle was sealed."))
            return None
        safe = "".join(ch if ch.isalnum() or ch in "._- " else "_" for ch in file.name)
        target = filedialogs.save_file(self, self.tr("Save a copy"),
                                       safe.strip(" .") or "file", self.tr("All files (*)"))
        if target is None:
            return None
        from evidence_recorder.core import fsutil

        try:
            fsutil.atomic_write_bytes(target, data)
        except OSError as exc:
            messages.error(self, self.tr("Copy not saved"), self.tr(
                "The copy could not be written to {folder} ({reason}).").format(
                folder=target.parent, reason=exc.strerror or exc))
            return None
        return target

    def _show_part(self, number: int) -> None:
        """Show part ``number`` (from 1) of the selected web page's full-page picture,
        checked against the SHA-256 the bundle lists for it."""
        if self._row is None or self._bundle is None:
            return
        entry = self.model.entry_at(self._row)
        if not 1 <= number <= entry.full_page_parts:
            return
        path, listed = entry.full_page[number - 1]
        notes: list[str] = []
        data = self._read(path, "original", notes)
        count = entry.full_page_parts
        if data is None:
            self.original_view.clear()
            if path is None:
                notes.insert(0, self.tr("This part of the page is not in this bundle."))
        elif listed and hashlib.sha256(data).hexdigest() != listed:
            notes.insert(0, self.tr("This part does not match the SHA-256 the bundle lists "
                                    "for it: it was changed after the bundle was sealed."))
        self.original_view.set_veiled(True)  # it may be upsetting, like the first part
        self.original_view.set_image(data)
        del data
        self.original_view.actual_size_from_top()
        self.picture_caption.setText(self.tr(
            "<b>The whole page</b>, part {number} of {count}, exactly as captured (scroll "
            "to read it)").format(number=number, count=count))
        self.picture_caption.setAccessibleName(make_plain_text(self.picture_caption.text()))
        self.picture_note.setText(" ".join(notes))
        self.picture_note.setVisible(bool(notes))

    def showing_original(self) -> bool:
        """Whether the picture on show is the original (not the covered copy)."""
        return self.picture_stack.currentWidget() is self.original_view

    def _show_original(self, show: bool) -> None:
        """Swap the covered copy for the original (veiled) and back, on request."""
        if self._row is None or self._bundle is None:
            return
        entry = self.model.entry_at(self._row)
        if entry.redacted is None or entry.original is None:
            return
        notes: list[str] = []
        if show:
            self.original_view.set_veiled(True)
            self.original_view.set_image(self._read(entry.original, "original", notes))
            self.picture_stack.setCurrentWidget(self.original_view)
            self.picture_caption.setText(self.tr("<b>Original</b>, exactly as captured: "
                                                 "nothing is covered"))
            self.show_original_button.setText(_tr(SHOW_COPY_BUTTON))
        else:
            self.original_view.clear()  # the uncovered pixels go as soon as they are hidden
            self.picture_stack.setCurrentWidget(self.redacted_view)
            self.picture_caption.setText(self.tr("<b>Covered copy</b>: parts covered by the "
                                                 "sender"))
            self.show_original_button.setText(_tr(SHOW_COVERED_BUTTON))
        self.picture_caption.setAccessibleName(make_plain_text(self.picture_caption.text()))
        self.picture_note.setText(" ".join(notes))
        self.picture_note.setVisible(bool(notes))

    def open_archived_page(self) -> QWidget | None:
        """Show the selected web page's archive (page.mhtml) offline, from memory, in a
        window of its own: JavaScript off, every request beyond the archive blocked."""
        if self._row is None or self._bundle is None:
            return None
        entry = self.model.entry_at(self._row)
        notes: list[str] = []
        data = self._read(entry.page_archive, "archive", notes)
        if data is None:
            messages.error(self, self.tr("Archived page not shown"),
                           " ".join(notes) or self.tr("This capture has no archived page."))
            return None
        from evidence_recorder import web
        from evidence_recorder.ui import idle

        try:
            idle.start_web_engine()  # a plain sentence where the built-in browser cannot run
        except web.WebUnavailable as exc:
            messages.error(self, self.tr("Archived page not shown"), str(exc))
            return None
        from evidence_recorder.web import archive_view  # QtWebEngine: only when asked

        try:
            window = archive_view.ArchivedPageWindow(
                data, self.tr("Archived page, record no. {number} — {app}").format(
                    number=entry.capture.id, app=APP_NAME))
        except archive_view.ArchiveUnreadable as exc:
            messages.error(self, self.tr("Archived page not shown"), str(exc))
            return None
        del data
        window.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        self._archive_windows = [*self.archived_pages(), window]
        window.show()
        return window

    def archived_pages(self) -> list[QWidget]:
        """The archived pages open from this bundle (closed ones are deleted)."""
        return [w for w in self._archive_windows if shiboken6.isValid(w) and w.isVisible()]

    def _read(self, path: str | None, what: str, notes: list[str]) -> bytes | None:
        if self._bundle is None or path is None:
            return None
        try:
            return self._bundle.read(path)
        except EvidenceError as exc:
            if what == "archive":
                template = self.tr("The archived page could not be read from the bundle: "
                                   "{reason}")
            elif what == "original":
                template = self.tr("The original could not be read from the bundle: {reason}")
            else:
                template = self.tr("The covered copy could not be read from the bundle: "
                                   "{reason}")
            notes.append(template.format(reason=error_text(exc)))
            return None

    def _link_clicked(self, url: QUrl) -> None:
        """Ask before opening: visiting may alert the poster, and the page may have changed."""
        if url.scheme().lower() not in ("http", "https"):
            return
        address = url.toString()
        if messages.ask(self, self.tr("Open this link?"),
                        self.tr("Open this address in your web browser?\n\n{address}")
                        .format(address=address),
                        yes=messages.Button.Open, no=messages.Button.Cancel,
                        default=messages.Button.Cancel,
                        detail=self.tr("The page may have changed or been removed since the "
                                       "capture was made. The capture in this bundle is the "
                                       "record; the live page is not.")):
            QDesktopServices.openUrl(url)

    def _title(self, name: str = "") -> str:
        if name:
            return self.tr("{name} — {window} — {app}").format(
                name=name, window=_tr(WINDOW_TITLE), app=APP_NAME)
        return self.tr("{window} — {app}").format(window=_tr(WINDOW_TITLE), app=APP_NAME)

    def show_help(self, guide: str) -> None:
        from evidence_recorder.ui.help import show_guide  # only when asked

        show_guide(guide)

    def copy_fingerprint(self) -> None:
        fingerprint = self.banner.fingerprint
        if fingerprint:
            QGuiApplication.clipboard().setText(seal_text(fingerprint, self.banner.seal_number))
            self.statusBar().showMessage(self.tr("Seal copied."), 4000)

    # ------------------------------------------------------------------ report and printing

    def report_copy(self) -> Path | None:
        """Where the private copy of report.pdf is while this window is open, if made."""
        if self._report_folder is None:
            return None
        return self._report_folder / "report.pdf"

    def open_report(self) -> None:
        """Open the sealed report.pdf with the system's PDF viewer.

        The system viewer needs a file, so the PDF (part of the bundle the reader
        received) is written to a private folder (0700, file 0600) that is deleted
        when this window closes or another bundle opens.
        """
        if self._bundle is None or not self.act_report.isEnabled():
            return
        report_pdf = "report.pdf"
        try:
            data = self._bundle.read(report_pdf)
        except EvidenceError:
            messages.error(self, self.tr("Report not opened"),
                           self.tr("This bundle has no report to open. The captures and "
                                   "their details are all shown in this window."))
            return
        self._remove_report_copy()
        sweep_report_copies()
        folder = Path(tempfile.mkdtemp(prefix=f"{REPORT_COPY_PREFIX}{os.getpid()}-"))  # 0700
        target = folder / report_pdf
        try:
            descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "wb") as out:
                out.write(data)
        except OSError as exc:
            shutil.rmtree(folder, ignore_errors=True)
            messages.error(self, self.tr("Report not opened"),
                           self.tr("The report could not be copied for your PDF viewer: "
                                   "{reason}").format(reason=exc.strerror or str(exc)))
            return
        self._report_folder = folder
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(target)))
        self.statusBar().showMessage(
            self.tr("The report opens in your PDF viewer. The copy made for it is removed "
                    "when you close this window."), 10_000)

    def _remove_report_copy(self) -> None:
        folder, self._report_folder = self._report_folder, None
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)

    def _ask_printer(self, printer: QPrinter) -> bool:
        """The system's print dialog; tests replace this with a PDF printer."""
        dialog = QPrintDialog(printer, self)
        dialog.setWindowTitle(self.tr("Print the captures"))
        return dialog.exec() == QPrintDialog.DialogCode.Accepted

    def print_bundle(self) -> bool:
        """Print the verdict, the summary and each capture: its details, then its picture.

        This Qt has no PDF renderer (QtPdf is not part of PySide6-Essentials), so the
        report.pdf itself cannot be printed from here; the same contents are drawn
        instead, each capture's covered copy where there is one, never its original.
        """
        if self._bundle is None or not self.act_print.isEnabled():
            return False
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        printer.setDocName(self.windowTitle())
        if not self._ask_printer(printer):
            return False
        painter = QPainter()
        if not painter.begin(printer):
            messages.error(self, self.tr("Not printed"),
                           self.tr("The printer could not be started. Check that it is on "
                                   "and try again."))
            return False
        try:
            self._paint_pages(printer, painter)
        finally:
            painter.end()
        self.statusBar().showMessage(self.tr("Sent to the printer."), 6000)
        return True

    def _paint_pages(self, printer: QPrinter, painter: QPainter) -> None:
        page = printer.pageLayout().paintRectPixels(printer.resolution())
        width, height = page.width(), page.height()
        first = QTextDocument()
        first.setDefaultFont(self.font())
        sealed = (self.tr("Sealed by the key {fingerprint}.").format(
            fingerprint=self.banner.fingerprint) if self.banner.fingerprint else "")
        first.setHtml(self.tr("<h2>{verdict}</h2><p>{sealed}</p><p>{summary}</p>").format(
            verdict=_esc(self.banner.headline.text()), sealed=_esc(sealed),
            summary=_esc(self.summary.text())))
        self._paint_text(painter, first, width, height)
        for row in range(self.model.rowCount()):
            entry = self.model.entry_at(row)
            printer.newPage()
            text = QTextDocument()
            text.setDefaultFont(self.font())
            text.setHtml(details_html(entry))
            self._paint_text(painter, text, width, height)
            path = entry.redacted or entry.original
            if path is None or entry.capture.messages is not None:  # no picture to print
                continue
            notes: list[str] = []
            data = self._read(path, "redacted" if entry.redacted else "original", notes)
            picture = QPixmap()
            if data is None or not picture.loadFromData(data):
                continue
            del data
            printer.newPage()
            scaled = picture.size().scaled(width, height, Qt.AspectRatioMode.KeepAspectRatio)
            painter.drawPixmap(0, 0, scaled.width(), scaled.height(), picture)

    @staticmethod
    def _paint_text(painter: QPainter, document: QTextDocument, width: int,
                    height: int) -> None:
        """One page of text, laid out at the printer's resolution; shrunk to fit the
        page rather than split over pages."""
        device = painter.device()
        if device is not None:
            document.documentLayout().setPaintDevice(device)
        document.setTextWidth(width)
        scale = min(1.0, height / max(document.size().height(), 1.0))
        painter.save()
        painter.scale(scale, scale)
        document.drawContents(painter)
        painter.restore()

    def request_save(self) -> None:
        if self._path is not None and self.act_save.isEnabled():
            self.save_requested.emit(self._path)

    # ------------------------------------------------------------------ closing

    def _drop_bundle(self) -> None:
        """Forget every picture and string of the bundle on show, and close it (and
        every archived page opened from it)."""
        for window in list(self._archive_windows):
            if shiboken6.isValid(window):
                window.close()
        self._archive_windows.clear()
        self.original_view.clear()
        self.redacted_view.clear()
        self.messages_panel.clear()
        self.picture_note.clear()
        self.details.clear()
        self.model.clear()
        self.summary.clear()
        self._remove_report_copy()
        self._row = None
        bundle, self._bundle = self._bundle, None
        self._path = None
        self._passphrase = None
        QPixmapCache.clear()
        if bundle is not None:
            # Nothing is left to protect if closing fails; the reader need not hear of it.
            with contextlib.suppress(EvidenceError):
                bundle.close()

    def closeEvent(self, event: QCloseEvent) -> None:
        self._closed = True
        self._generation += 1  # a bundle still opening is closed as soon as it arrives
        self._drop_bundle()
        self.banner.clear()
        self.setWindowTitle(self._title())
        self._set_busy(False)
        _open_viewers.discard(self)
        super().closeEvent(event)


def open_bundle_window(path: Path, parent: QWidget | None = None,
                       opener: Opener = default_opener) -> BundleViewer | None:
    """Open a received bundle in its own window; None if there is no file to open.

    The window appears at once with a busy indicator while the bundle is checked in
    the background; it asks for a passphrase if the bundle needs one, and closes with
    a plain message if the file cannot be opened.
    """
    path = Path(path)
    if not path.is_file():
        messages.error(parent, QCoreApplication.translate("BundleViewer", "Bundle not opened"),
                       QCoreApplication.translate(
                           "BundleViewer", "There is no file called “{name}” there. It may have "
                                           "been moved or renamed.").format(name=path.name))
        return None
    viewer = BundleViewer(parent, opener=opener)
    _open_viewers.add(viewer)
    viewer.show()
    viewer.open_path(path)
    return viewer


__all__ = [
    "BundleReportLike",
    "BundleViewer",
    "OpenedBundleLike",
    "Opener",
    "default_opener",
    "open_bundle_window",
    "sweep_report_copies",
]
