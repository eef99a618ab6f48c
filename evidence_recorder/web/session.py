"""One browsing session of the capture browser: profile, page, view, captures, cookies.

For the browser window (UI) and for :func:`~evidence_recorder.web.capture_page`:

- ``WebSession()`` makes an off-the-record profile, a guarded page (see
  :mod:`evidence_recorder.web.page`) and its view; embed ``view()`` in a window.
  The DevTools archive bridge is attached before the first navigation: ``load(url)``
  made before it is ready is kept and done once it is (or has given up, at most
  ~15 s; then captures say they have no archive).
- ``capture(mode, point=None, timeout=60.0)``: mode ``"page"`` (the whole page, or its
  largest scrolling panel when the page itself does not scroll), ``"visible"`` (what
  is on screen) or ``"panel"`` (the scrolling panel at ``point``, view coordinates;
  ``panel_selector=`` picks one by CSS selector instead). Emits ``busy(True)``, then
  ``captured(PageRecord)`` or ``failed(str)`` (a plain sentence), then ``busy(False)``.
  The view scrolls during a capture: cover it if that would alarm the person.
- Certificate errors: ``certificateError(str)`` is emitted with plain words and the
  load waits for the person's decision: call ``accept_certificate()`` (go on: the
  error is recorded in the capture's ``tls.error`` and notes) or
  ``reject_certificate()``. ``WebSession(accept_certificate_errors=True)`` (headless
  capture) goes on at once, still recording the error.
- ``downloadRefused(str)``: the page tried to download the named file; refused.
- ``cookies()`` gives every cookie in raw ``Set-Cookie`` form (for "Stay signed in",
  kept in the vault by the UI) and ``restore_cookies(list)`` puts them back into a
  new session. ``close()`` wipes everything: cookies, cache, pages, profile.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from PySide6.QtCore import QCoreApplication, QObject, QPoint, Qt, QTimer, QUrl, Signal
from PySide6.QtNetwork import QNetworkCookie
from PySide6.QtWebEngineCore import (
    QWebEngineCertificateError,
    QWebEngineLoadingInfo,
    QWebEnginePage,
)
from PySide6.QtWebEngineWidgets import QWebEngineView

from evidence_recorder.core.gather.webpage import (
    DEFAULT_TIMEOUT,
    LoadState,
    PagePicture,
    PageRecord,
)
from evidence_recorder.web import network, pictures, scripts
from evidence_recorder.web.devtools import DevToolsBridge
from evidence_recorder.web.flow import DeadlineReached, Flow, RunJs, Sleep, Steps, WaitTimedOut
from evidence_recorder.web.page import GuardedPage, make_profile, refuse_download
from evidence_recorder.web.runtime import loopback_only

VIEW_SIZE = (1280, 800)


# Called by this name with literal texts, so that pyside6-lupdate extracts them.
translate = QCoreApplication.translate


@dataclass
class _Progress:
    """What a capture has so far (kept when time runs out)."""

    requested: str
    started: float
    captured_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    load_state: LoadState = LoadState.COMPLETE
    visible: PagePicture | None = None
    whole: pictures.WholeResult | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    viewport: dict[str, Any] = field(default_factory=dict)
    net: network.NetworkFacts | None = None
    mhtml: bytes | None = None
    chain: tuple[bytes, ...] = ()
    notes: list[str] = field(default_factory=list)


class WebSession(QObject):
    """The capture browser's page and everything it holds (see the module docstring)."""

    captured = Signal(object)  # PageRecord
    failed = Signal(str)
    certificateError = Signal(str)
    downloadRefused = Signal(str)
    busy = Signal(bool)
    loadFinished = Signal(bool)

    def __init__(self, parent: QObject | None = None, *, headless: bool = False,
                 accept_certificate_errors: bool = False) -> None:
        super().__init__(parent)
        self._accept_cert_errors = accept_certificate_errors
        self._profile, self._guard = make_profile(loopback_only())
        self._page = GuardedPage(self._profile)
        self._view = QWebEngineView()
        self._view.setPage(self._page)
        self._view.resize(*VIEW_SIZE)
        self._frames = pictures.FrameCounter(self._view)
        # Frames the view had drawn when the page started and finished loading, and when
        # it finished (see pictures.wait_for_page_frame).
        self._load_marks = pictures.LoadMarks()
        if headless:
            self._view.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen, True)
            self._view.show()
        self._profile.downloadRequested.connect(
            functools.partial(refuse_download, self._page))
        self._page.downloadRefused.connect(self.downloadRefused)
        self._page.certificateError.connect(self._on_certificate_error)
        self._page.loadStarted.connect(self._on_load_started)
        self._page.loadFinished.connect(self._on_load_finished)
        self._page.loadingChanged.connect(self._on_loading_changed)
        self._cookies: dict[tuple[str, str, str], QNetworkCookie] = {}
        store = self._profile.cookieStore()
        store.cookieAdded.connect(self._on_cookie_added)
        store.cookieRemoved.connect(self._on_cookie_removed)
        self._pending_cert: QWebEngineCertificateError | None = None
        self._cert_errors: dict[str, str] = {}  # host -> the browser's words
        self._cert_chains: dict[str, tuple[bytes, ...]] = {}
        self._loading = False
        self._load_ok = False
        self._load_error = ""
        self._http_error_status: int | None = None
        self._flow: Flow | None = None
        self._closed = False
        self._pending_url: QUrl | None = None
        self._bridge = DevToolsBridge(self._page, self._profile)
        self._bridge.on_settled = self._check_bridge  # a load kept waiting goes at once
        self._blank_done = False
        self._page.load(QUrl("about:blank"))
        self._bridge_timer = QTimer(self)
        self._bridge_timer.setInterval(50)
        self._bridge_timer.timeout.connect(self._check_bridge)
        self._bridge_timer.start()

    # ---------------------------------------------------------------- browsing
    def view(self) -> QWebEngineView:
        return self._view

    def page(self) -> QWebEnginePage:
        return self._page

    @property
    def user_agent(self) -> str:
        return self._profile.httpUserAgent()

    @property
    def bridge_ready(self) -> bool:
        return self._bridge.ready

    @property
    def is_loading(self) -> bool:
        return self._loading or self._pending_url is not None

    def load(self, url: str | QUrl) -> None:
        target = url if isinstance(url, QUrl) else QUrl.fromUserInput(url)
        self._loading = True
        if self._bridge.settled:
            self._page.load(target)
        else:
            self._pending_url = target

    def _check_bridge(self) -> None:
        self._bridge.give_up_if_late()
        if self._bridge.settled:
            self._bridge_timer.stop()
            if self._pending_url is not None:
                url, self._pending_url = self._pending_url, None
                self._page.load(url)

    def _on_load_started(self) -> None:
        self._loading = True
        self._load_ok = False
        self._load_error = ""
        self._http_error_status = None
        self._page.reset_counts()
        self._load_marks = pictures.LoadMarks(started=pictures.frames_drawn(self._frames))

    def _on_load_finished(self, ok: bool) -> None:
        if not self._blank_done:
            self._blank_done = True
            self._frames.attach()
            self._loading = self._pending_url is not None
            self._bridge.attach()
            return
        self._loading = False
        self._load_ok = ok
        self._load_marks.finish(pictures.frames_drawn(self._frames))
        self.loadFinished.emit(ok)

    def _on_loading_changed(self, info: QWebEngineLoadingInfo) -> None:
        if info.status() == QWebEngineLoadingInfo.LoadStatus.LoadFailedStatus:
            self._load_error = info.errorString()
            if info.errorDomain() == QWebEngineLoadingInfo.ErrorDomain.HttpStatusCodeDomain:
                self._http_error_status = info.errorCode()

    # ---------------------------------------------------------- certificates
    def _on_certificate_error(self, error: QWebEngineCertificateError) -> None:
        host = error.url().host()
        words = error.description() or translate(
            "WebCapture", "The website's security certificate is not valid.")
        words = words.strip()
        if not words.endswith((".", "!", "?")):  # Chromium's words may end without one
            words += "."
        self._cert_errors[host] = words
        self._cert_chains[host] = tuple(bytes(c.toDer().data()) for c in error.certificateChain())
        if self._accept_cert_errors or not error.isOverridable():
            if error.isOverridable():
                error.acceptCertificate()
            else:
                error.rejectCertificate()
        else:
            error.defer()
            self._pending_cert = error
        self.certificateError.emit(
            translate("WebCapture", "This website's security certificate has a problem: {0} "
               "Someone may be pretending to be this website.").format(words))

    def accept_certificate(self) -> None:
        """Go on to the page despite the certificate problem (it is recorded)."""
        if self._pending_cert is not None:
            error, self._pending_cert = self._pending_cert, None
            error.acceptCertificate()

    def reject_certificate(self) -> None:
        """Do not go on to the page with the certificate problem."""
        if self._pending_cert is not None:
            error, self._pending_cert = self._pending_cert, None
            error.rejectCertificate()

    # --------------------------------------------------------------- cookies
    @staticmethod
    def _key(cookie: QNetworkCookie) -> tuple[str, str, str]:
        return (bytes(cookie.name().data()).decode("latin-1"), cookie.domain(), cookie.path())

    def _on_cookie_added(self, cookie: QNetworkCookie) -> None:
        self._cookies[self._key(cookie)] = QNetworkCookie(cookie)

    def _on_cookie_removed(self, cookie: QNetworkCookie) -> None:
        self._cookies.pop(self._key(cookie), None)

    def cookies(self) -> list[bytes]:
        """Every cookie the session holds, as raw ``Set-Cookie`` lines."""
        full = QNetworkCookie.RawForm.Full
        return [bytes(c.toRawForm(full).data()) for c in self._cookies.values()]

    def restore_cookies(self, raw: list[bytes]) -> None:
        """Put cookies (from :meth:`cookies`) into this session's off-the-record jar."""
        store = self._profile.cookieStore()
        for line in raw:
            for cookie in QNetworkCookie.parseCookies(line):
                domain = cookie.domain().lstrip(".")
                origin = QUrl(f"https://{domain}/") if domain else QUrl()
                store.setCookie(cookie, origin)

    # --------------------------------------------------------------- capture
    def capture(self, mode: str = "page", point: QPoint | None = None,
                timeout: float = DEFAULT_TIMEOUT, *, panel_selector: str = "") -> None:
        """Capture the page as it is now; see the module docstring."""
        self._start(None, mode, point, panel_selector, 0.0, timeout)

    def load_and_capture(self, url: str, mode: str = "page", *, panel_selector: str = "",
                         wait: float = 0.0, timeout: float = DEFAULT_TIMEOUT) -> None:
        """Load ``url`` and capture it, the whole within ``timeout`` (headless capture)."""
        self._start(url, mode, None, panel_selector, wait, timeout)

    def _start(self, url: str | None, mode: str, point: QPoint | None, selector: str,
               wait: float, timeout: float) -> None:
        if self._closed:
            self.failed.emit(translate("WebCapture", "The browser has been closed."))
            return
        if self._flow is not None:
            self.failed.emit(translate("WebCapture", "A capture is already under way."))
            return
        if mode not in ("page", "visible", "panel"):
            raise ValueError(mode)
        zoom = self._page.zoomFactor() or 1.0  # view pixels per CSS pixel
        where = ((round(point.x() / zoom), round(point.y() / zoom)) if point is not None
                 else (0, 0))
        kind = "point" if mode == "panel" and point is not None else (
            "selector" if selector else "page")
        steps = self._capture_steps(url, mode, kind, selector, where, wait, timeout)
        self._flow = Flow(steps, timeout, self)
        self._flow.done.connect(self._on_flow_done)
        self._flow.crashed.connect(self._on_flow_crashed)
        self.busy.emit(True)
        self._flow.start()

    def _end_flow(self) -> None:
        if self._flow is not None:
            self._flow.deleteLater()
            self._flow = None
        self.busy.emit(False)

    def _on_flow_done(self, record: PageRecord) -> None:
        self._end_flow()
        self.captured.emit(record)

    def _on_flow_crashed(self, error: object) -> None:
        self._end_flow()
        if isinstance(error, LookupError):
            self.failed.emit(str(error.args[0]))
        elif isinstance(error, DeadlineReached):
            self.failed.emit(translate(
                "WebCapture", "The page could not be captured in the time allowed."))
        else:
            self.failed.emit(translate(
                "WebCapture", "The page could not be captured ({0}).").format(
                type(error).__name__))

    def _capture_steps(self, url: str | None, mode: str, kind: str, selector: str,
                       point: tuple[int, int], wait: float, timeout: float) -> Steps:
        progress = _Progress(requested=url or self._page.url().toString(),
                             started=time.monotonic())
        end = time.monotonic() + timeout
        try:
            if url is not None:
                yield from self._load_steps(url, progress, end - timeout * 0.5)
            if wait > 0:
                yield Sleep(int(min(wait, max(0.0, end - time.monotonic() - 5)) * 1000))
            yield from self._picture_steps(progress, mode, kind, selector, point,
                                           end - min(15.0, timeout * 0.25))
            yield from self._archive_steps(progress)
        except DeadlineReached:
            progress.notes.append(translate(
                "WebCapture", "Time ran out during the capture: what had been "
                                     "captured by then was kept."))
            if progress.load_state == LoadState.COMPLETE and self._loading:
                progress.load_state = LoadState.TIMED_OUT
        except WaitTimedOut:
            progress.notes.append(translate(
                "WebCapture", "The page stopped answering during the capture: what "
                "had been captured by then was kept."))
            if progress.net is None and self._bridge.ready and end - time.monotonic() > 4:
                # The network record is kept outside the page: what it received can still
                # be told (its status, server, certificate), without asking the page.
                with contextlib.suppress(WaitTimedOut, DeadlineReached):
                    yield from self._archive_steps(progress, answering=False)
        if progress.whole is None and mode != "visible":
            # Put back what a capture cut short had hidden or scrolled.
            with contextlib.suppress(WaitTimedOut, DeadlineReached):
                yield RunJs(self._page, scripts.RESTORE, scripts.WORLD, timeout_ms=2_000)
        if progress.visible is None:
            progress.visible = pictures.grab_visible(self._view, 0, self._view.height())
        return self._record(progress)

    def _load_steps(self, url: str, progress: _Progress, load_until: float) -> Steps:
        self.load(url)
        while self.is_loading and time.monotonic() < load_until:
            yield Sleep(10)
        if self.is_loading:
            self._page.triggerAction(QWebEnginePage.WebAction.Stop)
            progress.load_state = LoadState.TIMED_OUT
            progress.notes.append(translate(
                "WebCapture", "The page was still loading when its time ran out; "
                                     "what had loaded was captured."))
            yield Sleep(200)

    def _picture_steps(self, progress: _Progress, mode: str, kind: str, selector: str,
                       point: tuple[int, int], until: float) -> Steps:
        # A page that does not answer within a fifth of the time is not waited for twice.
        patience = int(min(10.0, max(1.0, (until - time.monotonic()) * 0.2)) * 1000)
        raw = yield RunJs(self._page, scripts.VIEWPORT, scripts.WORLD, timeout_ms=patience)
        progress.viewport = json.loads(raw) if isinstance(raw, str) else {}
        progress.captured_at = datetime.now(UTC)
        # Just after a load the view may not have drawn the page yet (half a second or more).
        fresh = yield from pictures.wait_for_page_frame(self._frames, self._load_marks)
        progress.visible = pictures.grab_visible(
            self._view, int(progress.viewport.get("scrollY", 0)),
            int(progress.viewport.get("innerHeight", self._view.height())))
        raw = yield RunJs(self._page, scripts.META, scripts.WORLD, timeout_ms=patience)
        progress.meta = json.loads(raw) if isinstance(raw, str) else {}
        if mode != "visible":
            progress.whole = yield from pictures.capture_whole(
                self._page, self._view, kind, selector, point, until, self._frames,
                None if fresh is None else fresh - 1)

    def _archive_steps(self, progress: _Progress, answering: bool = True) -> Steps:
        if not self._bridge.ready:
            progress.notes.append(translate(
                "WebCapture", "The page archive, the record of its network traffic and its "
                "certificate chain could not be made: {0}.").format(
                    self._bridge.error or translate("WebCapture", "not ready")))
            return
        try:
            frames: list[str] | None = None
            main_frame = ""
            if answering:
                tree = yield from self._bridge.call("pageAgent", "getFrameTree")
                frames = []
                stack = [tree.get("frameTree", {})]
                main_frame = str(stack[0].get("frame", {}).get("id", ""))
                while stack:
                    node = stack.pop(0)
                    frames.append(str(node.get("frame", {}).get("loaderId", "")))
                    stack.extend(node.get("childFrames") or [])
            progress.net = yield from network.collect(self._bridge, frames, main_frame,
                                                      body_timeout=15.0 if answering else 2.0)
            if progress.net.skipped_bodies:
                progress.notes.append(translate(
                    "WebCapture", "{0} response bodies were not kept: too large, no longer "
                    "held by the browser, or the page stopped answering.").format(
                        progress.net.skipped_bodies))
            if answering:
                snap = yield from self._bridge.call("pageAgent", "captureSnapshot",
                                                    {"format": "mhtml"}, timeout_s=30.0)
                progress.mhtml = str(snap.get("data", "")).encode("utf-8") or None
            else:
                progress.notes.append(translate(
                    "WebCapture", "The page archive (MHTML) could not be made: the page "
                    "stopped answering."))
            final = self._page.url()
            if final.scheme() == "https":
                origin = f"https://{final.authority()}"
                cert = yield from self._bridge.call("networkAgent", "getCertificate",
                                                    {"origin": origin},
                                                    timeout_s=20.0 if answering else 3.0)
                progress.chain = tuple(base64.b64decode(x) for x in cert.get("tableNames", []))
        except RuntimeError as error:
            progress.notes.append(translate(
                "WebCapture", "Part of the page archive could not be made ({0}).").format(
                    str(error)[:120]))

    def _record(self, p: _Progress) -> PageRecord:
        final = self._page.url()
        net = p.net
        main = net.main if net else None
        status = int(main["status"]) if main and main.get("status") else self._http_error_status
        load_state = p.load_state
        if not self._load_ok and status is None and load_state == LoadState.COMPLETE:
            load_state = LoadState.FAILED
            p.notes.append(translate("WebCapture", "The page could not be loaded: {0}.").format(
                self._load_error or translate("WebCapture", "no answer from the website")))
        host = final.host()
        cert_error = self._cert_errors.get(host, "")
        if cert_error:
            p.notes.append(translate(
                "WebCapture", "The website's certificate had a problem ({0}); the page was "
                              "captured anyway and the problem recorded.").format(cert_error))
        chain = p.chain or (self._cert_chains.get(host, ()) if final.scheme() == "https" else ())
        tls = network.tls_facts(main, cert_error) if final.scheme() == "https" else None
        g = self._page
        if g.dialogs:
            p.notes.append(translate(
                "WebCapture", "The page opened {0} message boxes (alert, confirm or prompt); "
                              "they were dismissed without being shown.").format(g.dialogs))
        if g.popups_refused:
            p.notes.append(translate(
                "WebCapture", "The page tried to open {0} new windows; they were not "
                              "opened.").format(g.popups_refused))
        if self._guard is not None and self._guard.blocked:
            p.notes.append(translate(
                "WebCapture", "1 request to another computer was blocked.")
                if self._guard.blocked == 1 else translate(
                "WebCapture", "{0} requests to other computers were blocked.").format(
                self._guard.blocked))
        whole = p.whole
        if whole:
            p.notes.extend(whole.notes)
        return PageRecord(
            requested_url=p.requested,
            final_url=final.toString(),
            title=str(p.meta.get("title") or self._page.title() or ""),
            captured_at=p.captured_at,
            user_agent=self.user_agent,
            load_state=load_state,
            http_status=status,
            server_ip=str(main.get("remoteIPAddress") or "") if main else "",
            redirects=tuple(net.redirects) if net else (),
            visible=p.visible,
            full_page=tuple(whole.parts) if whole else (),
            panel=whole.panel if whole else "",
            scroll_height=whole.scroll_height if whole else 0,
            viewport_width=int(p.viewport.get("innerWidth", self._view.width())),
            viewport_height=int(p.viewport.get("innerHeight", self._view.height())),
            device_pixel_ratio=float(p.viewport.get("dpr", 1.0)),
            mhtml=p.mhtml,
            responses=tuple(net.responses) if net else (),
            certificate_chain=chain,
            tls=tls,
            suggested_author=str(p.meta.get("author", "")),
            suggested_handle=str(p.meta.get("handle", "")),
            text_sample=str(p.meta.get("text", ""))[:4000],
            notes=p.notes,
        )

    # ----------------------------------------------------------------- close
    def close(self) -> None:
        """Forget everything: cookies, cache, the pages and the profile."""
        if self._closed:
            return
        self._closed = True
        if self._flow is not None:
            self._flow.cancel()
            self._flow = None
        self._bridge_timer.stop()
        self.reject_certificate()
        self._profile.cookieStore().deleteAllCookies()
        self._cookies.clear()
        self._profile.clearHttpCache()
        import shiboken6

        self._page.setDevToolsPage(None)  # type: ignore[arg-type]  # None detaches
        self._view.close()
        shiboken6.delete(self._view)
        shiboken6.delete(self._bridge.front)
        shiboken6.delete(self._page)
        shiboken6.delete(self._profile)
