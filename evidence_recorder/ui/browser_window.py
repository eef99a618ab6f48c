"""The capture browser: a window with a web page in it and one prominent "Capture this page".

The page runs in :class:`evidence_recorder.web.WebSession` (the only code that touches
QtWebEngine), off the record: nothing it loads, no cookie and no history, is kept on
disk. This window only drives it: address bar, back, forward, reload, the three ways to
capture (the whole page, what is on screen, one scrolling thread), and the red
child-protection stop, the same action as the main window's.

A capture is saved through :meth:`VaultSession.save_web_page` in the background, and the
describe step opens with the site and address filled in and the author and @handle the
page names *offered*, never written without the person's say.

"Stay signed in" keeps the browser's cookies, and only them, in the encrypted vault
(:meth:`VaultSession.keep_browser_cookies`) and puts them back into the next session.
Locking the vault keeps them there first (if asked), then closes this window, which
empties the browser from memory; so does quitting.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import shiboken6
from PySide6.QtCore import QEvent, QObject, QPoint, QSize, Qt, QUrl, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeyEvent, QKeySequence, QMouseEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMainWindow,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from evidence_recorder import APP_NAME
from evidence_recorder.core.errors import EvidenceError
from evidence_recorder.ui import messages
from evidence_recorder.ui.browser_bars import BusyBar, CertificateBar, HintBar
from evidence_recorder.ui.capture_dialogs import DescribeDialog
from evidence_recorder.ui.geometry import remember_geometry
from evidence_recorder.ui.guide import child_protection_button
from evidence_recorder.ui.i18n import error_text
from evidence_recorder.ui.session import VaultSession

if TYPE_CHECKING:
    from evidence_recorder.ui.session import PageRecord

WEB_SCHEMES = ("http", "https")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")
_HOST_PORT = re.compile(r"[A-Za-z0-9.-]+:\d+(?:[/?#]|$)")  # localhost:8000/page
CAPTURE_TIMEOUT = 60.0  # seconds: a capture ends with what loaded, or a plain message


def normalise_address(text: str) -> str | None:
    """What was typed as an address the browser may open, or None.

    Text without a scheme is taken as a web address (``example.org/post`` becomes
    ``https://example.org/post``, ``localhost:8000`` too); only http and https are
    opened, never ``file:``, ``javascript:``, ``data:`` or anything else a pasted link
    could carry.
    """
    text = text.strip()
    if not text or any(c.isspace() for c in text):
        return None
    if "://" not in text:
        scheme = _SCHEME.match(text)
        if scheme is not None and not _HOST_PORT.match(text):
            return None  # "javascript:…", "mailto:…": a scheme, and not one of ours
        text = "https://" + text
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError for a port that is not one
    except ValueError:
        return None
    if parts.scheme.lower() not in WEB_SCHEMES or not parts.hostname:
        return None
    return text


def _make_web_session(parent: QObject) -> Any:
    from evidence_recorder import web
    from evidence_recorder.ui import idle

    idle.start_web_engine()  # raises WebUnavailable (a plain sentence) where it cannot run
    return web.WebSession(parent)


class BrowserWindow(QMainWindow):
    """One capture browser (the main window keeps at most one open)."""

    saved = Signal(int)  # a captured page was saved as this item

    def __init__(self, session: VaultSession, stop_action: QAction | None = None,
                 incident: Callable[[], int | None] = lambda: None,
                 make_web_session: Callable[[QObject], Any] = _make_web_session,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.session = session
        self._incident = incident
        self._capturing = False
        self._stopping = False  # the person pressed Stop: the capture's result is dropped
        self._picking = False
        self._closed = False
        self.describe_dialog: DescribeDialog | None = None
        self.setWindowTitle(self.tr("Capture browser — {app}").format(app=APP_NAME))
        self.web = make_web_session(self)
        self.view = self.web.view()
        self._build(stop_action)
        self._connect()
        session.locking.connect(self._keep_sign_in)
        session.locked.connect(self.close)
        self._restore_sign_in()
        self._geometry = remember_geometry(self, "browser", QSize(1280, 860))

    # ------------------------------------------------------------------ building

    def _build(self, stop_action: QAction | None) -> None:
        nav = QToolBar(self.tr("Navigation"), self)
        nav.setObjectName("browserNavigation")
        nav.setMovable(False)
        nav.setFloatable(False)
        nav.toggleViewAction().setVisible(False)
        nav.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.act_back = QAction(self.tr("Back"), self)
        self.act_back.setShortcut(QKeySequence.StandardKey.Back)
        self.act_back.triggered.connect(self.view.back)
        self.act_forward = QAction(self.tr("Forward"), self)
        self.act_forward.setShortcut(QKeySequence.StandardKey.Forward)
        self.act_forward.triggered.connect(self.view.forward)
        self.act_reload = QAction(self.tr("Reload"), self)
        self.act_reload.setShortcut(QKeySequence.StandardKey.Refresh)
        self.act_reload.triggered.connect(self.view.reload)
        for action in (self.act_back, self.act_forward, self.act_reload):
            nav.addAction(action)
        self.act_back.setEnabled(False)
        self.act_forward.setEnabled(False)
        self.address = QLineEdit()
        self.address.setPlaceholderText(self.tr("Type or paste the address of the page"))
        self.address.setAccessibleName(self.tr("Address"))
        self.address.setClearButtonEnabled(True)
        self.address.returnPressed.connect(self.go)
        self.address.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.address.setMinimumWidth(self.fontMetrics().horizontalAdvance("M") * 16)
        nav.addWidget(self.address)
        self.go_button = QPushButton(self.tr("Go"))
        self.go_button.setAutoDefault(False)
        self.go_button.clicked.connect(self.go)
        nav.addWidget(self.go_button)
        # The red stop, the main window's own action, at the right of the address row (in
        # the same toolbar, so that the address bar takes the width between them).
        nav.addSeparator()
        self.stop_button = child_protection_button(nav, stop_action)
        nav.addWidget(self.stop_button)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, nav)
        self.addToolBarBreak(Qt.ToolBarArea.TopToolBarArea)

        captures = QToolBar(self.tr("Capture"), self)
        captures.setObjectName("browserCapture")
        captures.setMovable(False)
        captures.setFloatable(False)
        captures.toggleViewAction().setVisible(False)
        row = QWidget()
        line = QHBoxLayout(row)
        line.setContentsMargins(4, 2, 4, 2)
        self.capture_button = QPushButton(self.tr("Capture this page"))
        self.capture_button.setObjectName("capturePage")
        self.capture_button.setToolTip(self.tr(
            "Keep the whole page, top to bottom, with its address, its server and an "
            "archive of it"))
        font = self.capture_button.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.15)
        self.capture_button.setFont(font)
        self.capture_button.setStyleSheet(
            "QPushButton#capturePage { background: #1a56db; color: white; border-radius: 4px;"
            " padding: 6px 16px; }"
            "QPushButton#capturePage:pressed { background: #1740a8; }"
            "QPushButton#capturePage:disabled { background: #9aa5b8; }")
        self.capture_button.clicked.connect(lambda: self.capture("page"))
        self.visible_button = QPushButton(self.tr("Capture what I can see"))
        self.visible_button.setToolTip(self.tr("Keep only the part of the page on screen now"))
        self.visible_button.clicked.connect(lambda: self.capture("visible"))
        self.thread_button = QPushButton(self.tr("Capture this thread…"))
        self.thread_button.setToolTip(self.tr(
            "For a chat or comments that scroll in a box of their own: click the box next, "
            "and all of it is kept"))
        self.thread_button.clicked.connect(self.pick_thread)
        line.addWidget(self.capture_button)
        line.addWidget(self.visible_button)
        line.addWidget(self.thread_button)
        line.addStretch(1)
        self.stay_signed_in = QCheckBox(self.tr("Stay signed in"))
        self.stay_signed_in.setToolTip(self.tr(
            "Keeps your sign-in to sites for next time, only inside your locked vault."))
        self.stay_signed_in.toggled.connect(self._stay_signed_in_changed)
        sign_in_note = QLabel(self.tr("Keeps your sign-in to sites for next time, only "
                                      "inside your locked vault."))
        sign_in_note.setObjectName("signInNote")
        sign_in_note.setStyleSheet("QLabel#signInNote { color: palette(placeholder-text); }")
        sign_in_note.setBuddy(self.stay_signed_in)
        sign_in_note.setWordWrap(True)  # on a narrow screen it wraps, never widens the window
        sign_in_note.setMinimumWidth(self.fontMetrics().horizontalAdvance("M") * 12)
        self.stay_signed_in.setAccessibleDescription(sign_in_note.text())
        line.addWidget(self.stay_signed_in)
        line.addWidget(sign_in_note, 1)
        captures.addWidget(row)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, captures)

        self.certificate_bar = CertificateBar()
        self.certificate_bar.go_on.connect(self._certificate_go_on)
        self.certificate_bar.go_back.connect(self._certificate_go_back)
        self.hint_bar = HintBar()
        self.hint_bar.cancel.connect(self.cancel_pick)
        self.busy_bar = BusyBar()
        self.busy_bar.cancel.connect(self.cancel_capture)
        central = QWidget()
        column = QVBoxLayout(central)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(self.certificate_bar)
        column.addWidget(self.hint_bar)
        column.addWidget(self.busy_bar)
        column.addWidget(self.view, 1)
        self.setCentralWidget(central)

        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.setMaximumWidth(160)
        self.progress.setAccessibleName(self.tr("Loading the page"))
        self.progress.hide()
        self.statusBar().addPermanentWidget(self.progress)
        self.statusBar().showMessage(self.tr(
            "Private: this browser keeps nothing on this computer; what you capture goes "
            "into your vault."))

    def _connect(self) -> None:
        view, web = self.view, self.web
        view.urlChanged.connect(self._url_changed)
        view.titleChanged.connect(self._title_changed)
        view.loadStarted.connect(self._load_started)
        view.loadProgress.connect(self.progress.setValue)
        view.loadFinished.connect(self._load_finished)
        web.captured.connect(self._captured)
        web.failed.connect(self._capture_failed)
        web.certificateError.connect(self._certificate_error)
        web.downloadRefused.connect(self._download_refused)
        # The view's input goes to a child widget Chromium draws into; a click there
        # chooses the thread to capture, and Escape backs out of choosing.
        view.installEventFilter(self)
        proxy = view.focusProxy()
        if proxy is not None:
            proxy.installEventFilter(self)
        view.setContextMenuPolicy(Qt.ContextMenuPolicy.NoContextMenu)
        view.setAccessibleName(self.tr("The web page"))

    # ------------------------------------------------------------------ navigating

    def go(self, text: str | None = None) -> None:
        """Open what was typed (``text``, else the address bar)."""
        address = normalise_address(self.address.text() if text is None else text)
        if address is None:
            self.statusBar().showMessage(self.tr(
                "That is not a web address. Type one such as www.example.org/page; only "
                "addresses starting http:// or https:// open here."), 8000)
            return
        self.certificate_bar.hide()
        self.address.setText(address)
        self.web.load(address)
        self.view.setFocus()

    def _url_changed(self, url: QUrl) -> None:
        if not self.address.hasFocus() or not self.address.isModified():
            self.address.setText("" if url.scheme() == "about" else url.toString())
            self.address.setModified(False)
        self._update_history()

    def _title_changed(self, title: str) -> None:
        self.setWindowTitle(self.tr("{title} — Capture browser").format(title=title) if title
                            else self.tr("Capture browser — {app}").format(app=APP_NAME))

    def _load_started(self) -> None:
        self.progress.setValue(0)
        self.progress.show()

    def _load_finished(self, _ok: bool) -> None:
        self.progress.hide()
        self._update_history()

    def _update_history(self) -> None:
        if self._capturing:
            return
        history = self.view.history()
        self.act_back.setEnabled(history.canGoBack())
        self.act_forward.setEnabled(history.canGoForward())

    # ------------------------------------------------------------------ certificates, files

    def _certificate_error(self, problem: str) -> None:
        """Never silent: the page waits behind a red bar until the person chooses."""
        self.certificate_bar.show_problem(problem)

    def _certificate_go_on(self) -> None:
        self.certificate_bar.hide()
        self.web.accept_certificate()

    def _certificate_go_back(self) -> None:
        self.certificate_bar.hide()
        self.web.reject_certificate()
        if self.view.history().canGoBack():
            self.view.back()

    def _download_refused(self, _name: str) -> None:
        messages.info(self, self.tr("Nothing was downloaded"), self.tr(
            "This browser does not download files, so nothing was saved on this computer. "
            "To keep what the page shows, capture it instead (“Capture this page”)."))

    # ------------------------------------------------------------------ capturing

    def _set_capturing(self, capturing: bool) -> None:
        """While a capture runs, nothing else moves the page: the captures and the way to
        another page wait until it has ended."""
        self._capturing = capturing
        for widget in (self.capture_button, self.visible_button, self.thread_button,
                       self.address, self.go_button):
            widget.setEnabled(not capturing)
        self.act_reload.setEnabled(not capturing)
        if capturing:
            self.act_back.setEnabled(False)
            self.act_forward.setEnabled(False)
        else:
            self._update_history()

    def capture(self, mode: str, point: QPoint | None = None) -> None:
        """Capture the page ("page"), what is on screen ("visible") or the scrolling
        panel at ``point`` ("panel"); the window says so until it is done."""
        if self._capturing:
            return
        if not self.session.is_unlocked:
            messages.warn(self, self.tr("Not captured"), self.tr(
                "The vault is locked; unlock it and capture again."))
            return
        self.cancel_pick()
        texts = {"page": self.tr("Capturing the whole page…"),
                 "visible": self.tr("Capturing what you can see…"),
                 "panel": self.tr("Capturing the whole thread…")}
        self._set_capturing(True)
        self._stopping = False
        moves = self.tr(" The page moves by itself while it is captured.") if mode != "visible" \
            else ""
        self.busy_bar.start(texts[mode] + moves + " " + self.tr(
            "This takes a few seconds, and never more than a minute."), can_cancel=True)
        self.statusBar().showMessage(texts[mode])
        self.web.capture(mode, point, timeout=CAPTURE_TIMEOUT)

    def cancel_capture(self) -> None:
        """Stop the capture under way: whatever it brings is dropped, not saved. The
        buttons come back when it ends (within its time bound), so that a late result
        can never be taken for the next capture's."""
        if not self._capturing:
            return
        self._stopping = True
        self.busy_bar.stop()
        self.statusBar().showMessage(self.tr("Stopping: nothing will be saved…"))

    def _stopped(self) -> bool:
        """Whether the result now arriving is of a stopped capture (then dropped)."""
        if not self._stopping:
            return False
        self._stopping = False
        self._set_capturing(False)
        self.statusBar().showMessage(self.tr("Stopped: nothing was saved."), 5000)
        return True

    def pick_thread(self) -> None:
        """The next click on the page picks the scrolling panel to capture whole."""
        if self._capturing:
            return
        self._picking = True
        # Chromium draws into a child widget it makes (and may make anew after a page
        # changes process): the click is caught on the one that is there now.
        proxy = self.view.focusProxy()
        if proxy is not None:
            proxy.installEventFilter(self)
        self.hint_bar.show_hint(self.tr(
            "Now click inside the chat or comments that scroll in their own box: all of it "
            "will be captured, top to bottom. Press Esc to cancel."))
        self.view.setCursor(Qt.CursorShape.CrossCursor)
        self.view.setFocus()

    def cancel_pick(self) -> None:
        if self._picking:
            self._picking = False
            self.view.unsetCursor()
        self.hint_bar.hide()

    def is_picking(self) -> bool:
        return self._picking

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if self._picking and event.type() == QEvent.Type.MouseButtonPress \
                and isinstance(event, QMouseEvent) \
                and event.button() == Qt.MouseButton.LeftButton:
            source = watched if isinstance(watched, QWidget) else self.view
            point = source.mapTo(self.view, event.position().toPoint()) \
                if source is not self.view else event.position().toPoint()
            self.capture("panel", point)
            return True  # the click chooses; the page does not get it
        if self._picking and event.type() == QEvent.Type.MouseButtonRelease:
            return True
        if self._picking and event.type() == QEvent.Type.KeyPress \
                and isinstance(event, QKeyEvent) and event.key() == Qt.Key.Key_Escape:
            self.cancel_pick()
            return True
        return super().eventFilter(watched, event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape and self._picking:
            self.cancel_pick()
            return
        super().keyPressEvent(event)

    def _captured(self, record: PageRecord) -> None:
        self.busy_bar.stop()
        if not self._capturing or self._stopped():
            return  # stopped meanwhile: nothing is saved
        if not self.session.is_unlocked:
            self._set_capturing(False)
            messages.warn(self, self.tr("Not captured"), self.tr(
                "The vault locked while capturing; unlock it and capture again."))
            return
        self.statusBar().showMessage(self.tr("Saving the page in your vault…"))
        details = self.session.first_web_details(record)
        suggestions = self.session.web_suggestions(record)
        notes = list(record.notes)

        def saved(capture_id: int) -> None:
            self._set_capturing(False)
            if not shiboken6.isValid(self) or not self.session.is_unlocked:
                return  # locked while saving: the page is kept, and shows at unlock
            self.statusBar().showMessage(self.tr("Saved as capture {capture_id}.").format(
                capture_id=capture_id), 5000)
            self.saved.emit(capture_id)
            self.describe(capture_id, suggestions, notes)

        def not_saved(exc: EvidenceError) -> None:
            self._set_capturing(False)
            if shiboken6.isValid(self):
                self.statusBar().clearMessage()
            messages.error(self if shiboken6.isValid(self) else None, self.tr("Not saved"),
                           error_text(exc))

        try:
            self.session.save_web_page(record, details, incident_id=self._incident(),
                                       on_done=saved, on_failure=not_saved)
        except EvidenceError as exc:
            not_saved(exc)

    def _capture_failed(self, reason: str) -> None:
        self.busy_bar.stop()
        if self._stopped():
            return
        was = self._capturing
        self._set_capturing(False)
        self.statusBar().clearMessage()
        if was:
            messages.error(self, self.tr("Not captured"), reason)

    def describe(self, capture_id: int, suggestions: dict[str, str],
                 notes: Sequence[str] = ()) -> None:
        """The describe step over this window: site and address filled in, the page's
        author and @handle offered; the browser stays usable behind it."""
        if self.describe_dialog is not None:
            self.describe_dialog.close()
        dialog = DescribeDialog(self.session, self.session.capture(capture_id), self,
                                suggestions=suggestions, notes=notes)
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.finished.connect(lambda _result: self._describe_done(dialog))
        self.describe_dialog = dialog
        dialog.open()

    def _describe_done(self, dialog: DescribeDialog) -> None:
        if self.describe_dialog is dialog:
            self.describe_dialog = None
        dialog.deleteLater()

    # ------------------------------------------------------------------ signing in

    def _restore_sign_in(self) -> None:
        cookies = self.session.browser_cookies() if self.session.is_unlocked else None
        was = self.stay_signed_in.blockSignals(True)
        self.stay_signed_in.setChecked(cookies is not None)
        self.stay_signed_in.blockSignals(was)
        if cookies:
            self.web.restore_cookies(cookies)

    def _stay_signed_in_changed(self, on: bool) -> None:
        if not self.session.is_unlocked:
            return
        try:
            self.session.keep_browser_cookies(list(self.web.cookies()) if on else None)
        except EvidenceError as exc:
            messages.error(self, self.tr("Not changed"), error_text(exc))
            return
        self.statusBar().showMessage(
            self.tr("Your sign-in to sites will be kept in your vault for next time.") if on
            else self.tr("Your sign-in is no longer kept: it is forgotten when this window "
                         "closes."), 6000)

    def _keep_sign_in(self) -> None:
        """The newest sign-in into the vault before the browser empties (if asked)."""
        if self._closed or not self.stay_signed_in.isChecked() or not self.session.is_unlocked:
            return
        # A vault that cannot be written (full disk) keeps the sign-in it kept last.
        with contextlib.suppress(EvidenceError):
            self.session.keep_browser_cookies(list(self.web.cookies()))

    # ------------------------------------------------------------------ closing

    def closeEvent(self, event: QCloseEvent) -> None:
        """Keep the sign-in if asked, then empty the browser: pages, cookies, memory.

        Words typed in the describe step and not saved are not thrown away without
        asking (unless the vault is locking): the window stays open if the person
        wants to keep them."""
        if not self._closed:
            if self.describe_dialog is not None:
                self.describe_dialog.reject()  # asks first if something was typed
                if self.describe_dialog is not None and self.describe_dialog.isVisible():
                    event.ignore()
                    return
            self._keep_sign_in()
            self._closed = True
            self.cancel_pick()
            self.web.close()
        super().closeEvent(event)


__all__ = ["BrowserWindow", "normalise_address"]
