"""The browser profile and page the capture browser uses, with every door shut.

- The profile is off the record (``QWebEngineProfile()`` with no name): no cache,
  cookies, history or storage ever reach the disk.
- Downloads are refused (``downloadRefused`` is emitted with the file's name) and file
  choosers return nothing: no file leaves or enters this computer through a page.
- Pop-ups: a new window the page opens by itself is refused and counted; a link the
  person clicks that asks for a new tab/window opens in the same tab instead, so
  the person never loses their place and there is only ever one page to capture.
- JavaScript alert/confirm/prompt never block: they are answered at once (confirm and
  prompt with "cancel") and counted, and the capture says so.
- The page's console messages are dropped, never logged (they hold addresses); only
  our own scripts' marks (a secret prefix, :attr:`GuardedPage.marker`, that the page's
  scripts cannot read) are taken, and emitted as ``marked``: a capture learns at once
  that a screenful is drawn instead of asking again and again.
- Permission requests (camera, microphone, location, notifications, screen sharing,
  file system access) are all denied.
- When ``ER_WEB_LOOPBACK_ONLY=1`` (the tests), every request that is not to this
  computer (127.0.0.1, ::1, localhost) is blocked by a request interceptor.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence

from PySide6.QtCore import QUrl, Signal
from PySide6.QtWebEngineCore import (
    QWebEngineDownloadRequest,
    QWebEngineFileSystemAccessRequest,
    QWebEngineNewWindowRequest,
    QWebEnginePage,
    QWebEnginePermission,
    QWebEngineProfile,
    QWebEngineUrlRequestInfo,
    QWebEngineUrlRequestInterceptor,
)

from evidence_recorder.web.runtime import register_schemes

# Schemes that never touch the network (devtools: the in-process archive bridge).
_LOCAL_SCHEMES = frozenset({"data", "blob", "about", "qrc", "devtools", "chrome-error"})
_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})


class LoopbackOnly(QWebEngineUrlRequestInterceptor):
    """Block every request that would leave this computer (runs on Chromium's IO thread)."""

    def __init__(self) -> None:
        super().__init__()
        self.blocked = 0

    def interceptRequest(self, info: QWebEngineUrlRequestInfo) -> None:
        url = info.requestUrl()
        if url.scheme() in _LOCAL_SCHEMES or url.host() in _LOOPBACK_HOSTS:
            return
        self.blocked += 1
        info.block(True)


def make_profile(loopback: bool) -> tuple[QWebEngineProfile, LoopbackOnly | None]:
    """A new off-the-record profile (nothing on disk), with the loopback guard if asked."""
    register_schemes()  # before QtWebEngine starts, which the first profile does
    profile = QWebEngineProfile()  # no storage name: off the record
    profile.setHttpCacheType(QWebEngineProfile.HttpCacheType.MemoryHttpCache)
    profile.setPersistentCookiesPolicy(QWebEngineProfile.PersistentCookiesPolicy.NoPersistentCookies)
    profile.setPersistentPermissionsPolicy(
        QWebEngineProfile.PersistentPermissionsPolicy.AskEveryTime
    )
    guard = None
    if loopback:
        guard = LoopbackOnly()
        profile.setUrlRequestInterceptor(guard)
    return profile, guard


class GuardedPage(QWebEnginePage):
    """A page whose dialogs, pop-ups, file choosers and permission requests cannot block
    or leak; what it tried is counted so the capture can say so."""

    downloadRefused = Signal(str)
    marked = Signal(str)  # a console message of ours: it starts with ``marker``

    def __init__(self, profile: QWebEngineProfile) -> None:
        super().__init__(profile)
        self.marker = "er-" + secrets.token_hex(12)
        self.last_mark = ""
        self.dialogs = 0  # alert/confirm/prompt/beforeunload answered without asking
        self.popups_refused = 0
        self.permissions_denied = 0
        self.file_choosers_refused = 0
        self.newWindowRequested.connect(self._on_new_window)
        self.permissionRequested.connect(self._on_permission)
        self.fileSystemAccessRequested.connect(self._on_file_system_access)

    def reset_counts(self) -> None:
        self.dialogs = self.popups_refused = self.permissions_denied = 0
        self.file_choosers_refused = 0

    # JavaScript dialogs: answered at once, never shown, never blocking.
    def javaScriptAlert(self, securityOrigin: QUrl | str, msg: str) -> None:
        self.dialogs += 1

    def javaScriptConfirm(self, securityOrigin: QUrl | str, msg: str) -> bool:
        self.dialogs += 1
        return False

    def javaScriptPrompt(
        self, securityOrigin: QUrl | str, msg: str, defaultValue: str
    ) -> tuple[bool, str]:
        self.dialogs += 1
        return False, ""

    def javaScriptConsoleMessage(
        self, level: QWebEnginePage.JavaScriptConsoleMessageLevel, message: str,
        lineNumber: int, sourceID: str,
    ) -> None:
        """Dropped: a page's console would put its addresses and text in our log. Only
        our own scripts' marks are taken (see the module docstring)."""
        if message.startswith(self.marker):
            self.last_mark = message
            self.marked.emit(message)

    def chooseFiles(
        self, mode: QWebEnginePage.FileSelectionMode, oldFiles: Sequence[str],
        acceptedMimeTypes: Sequence[str],
    ) -> list[str]:
        self.file_choosers_refused += 1
        return []

    def _on_new_window(self, request: QWebEngineNewWindowRequest) -> None:
        if request.isUserInitiated() and request.requestedUrl().isValid():
            self.load(request.requestedUrl())  # the person's click: same tab
            return
        self.popups_refused += 1  # not opened: no openIn() call refuses it

    def _on_permission(self, permission: QWebEnginePermission) -> None:
        self.permissions_denied += 1
        permission.deny()

    def _on_file_system_access(self, request: QWebEngineFileSystemAccessRequest) -> None:
        self.permissions_denied += 1
        request.reject()


def refuse_download(page: GuardedPage, download: QWebEngineDownloadRequest) -> None:
    """Cancel a download before a byte is written, and tell the page's owner."""
    name = download.downloadFileName() or download.url().fileName()
    download.cancel()
    page.downloadRefused.emit(name)
