# ruff: noqa: E501  (JavaScript text: its lines are kept as written)
"""The in-process DevTools bridge: network log, response bodies, certificate chain, MHTML.

Chromium's DevTools protocol knows what a page received (every response with its
headers, body, server address and TLS details) and can save the page as MHTML. The
usual way in is a remote-debugging TCP port, but any program on the computer could
connect to it, unauthenticated: we never open one. Instead the page gets a DevTools
front-end page of its own (``QWebEnginePage.setDevToolsPage``), and a small script
run inside that front-end uses its SDK module to send protocol commands and to
listen to Network events. It is attached before the first navigation, so the main
document's response is seen.

This leans on the front-end's internals (its ``core/sdk/sdk.js`` module, checked
with PySide6-Addons 6.11). If they change, :attr:`DevToolsBridge.error` says so and
the capture goes on without the MHTML, network archive and certificate chain, and
says so in its notes: never silently.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QCoreApplication, QTimer
from PySide6.QtWebEngineCore import QWebEnginePage, QWebEngineProfile

from evidence_recorder.web.flow import RunJs, Sleep, Steps

# Kept only while the bridge lives; events of pages navigated away from are dropped at
# each capture, and the log is bounded so a page that loads forever cannot fill memory.
MAX_EVENTS = 50_000

_SETUP = r"""(async () => { try {
  const SDK = await import('devtools://devtools/bundled/core/sdk/sdk.js');
  let t = null;
  for (let i = 0; i < 500 && !t; i++) {
    t = SDK.TargetManager.TargetManager.instance().primaryPageTarget();
    if (!t) await new Promise(r => setTimeout(r, 10));
  }
  if (!t) throw new Error('no page target');
  // The front-end would draw the view's size over the page after each resize.
  try {
    const overlay = t.model(SDK.OverlayModel.OverlayModel);
    if (overlay) overlay.setShowViewportSizeOnResize(false);
    else await t.overlayAgent().invoke_setShowViewportSizeOnResize({show: false});
  } catch (e) { /* only a convenience: the capture goes on */ }
  const er = {t: t, ev: [], dropped: 0, res: {}};
  const keep = ['requestWillBeSent', 'responseReceived', 'loadingFinished', 'loadingFailed'];
  const handlers = {};
  for (const name of keep) handlers[name] = (p) => {
    if (er.ev.length < %(max)d) er.ev.push([name, p]); else er.dropped++;
  };
  t.registerNetworkDispatcher(new Proxy(handlers, {get: (o, k) => o[k] || (() => {})}));
  await t.networkAgent().invoke_enable({maxTotalBufferSize: %(total)d,
                                        maxResourceBufferSize: %(one)d});
  er.call = (id, agent, method, params) => {
    er.t[agent]()['invoke_' + method](params).then(
      r => { const e = r.getError && r.getError(); er.res[id] = JSON.stringify(e ? {error: String(e)} : {result: r}); },
      e => { er.res[id] = JSON.stringify({error: String(e)}); });
    return 'sent';
  };
  er.take = (id) => { const r = er.res[id]; if (r === undefined) return ''; delete er.res[id]; return r; };
  er.events = (keepLoaders) => {
    if (keepLoaders === null) return JSON.stringify({events: er.ev, dropped: er.dropped});
    const keepSet = new Set(keepLoaders);
    const mine = er.ev.filter(e => keepSet.has(e[1].loaderId) || (e[0] !== 'requestWillBeSent' && e[0] !== 'responseReceived'));
    er.ev = mine;
    return JSON.stringify({events: mine, dropped: er.dropped});
  };
  window.__er = er;
  window.__erReady = 'ok';
} catch (e) { window.__erReady = 'error: ' + String(e); } })(); 'started'"""

# Called by this name with literal texts, so that pyside6-lupdate extracts them.
translate = QCoreApplication.translate

# What the front-end may buffer for us: bodies beyond these are not kept by Chromium.
BODY_LIMIT = 50_000_000
TOTAL_LIMIT = 300_000_000


class NoAnswer(RuntimeError):
    """A protocol command got no answer in time (the page may have stopped answering)."""


class _QuietPage(QWebEnginePage):
    """The front-end's own console chatter stays out of the application's log."""

    def javaScriptConsoleMessage(self, level: QWebEnginePage.JavaScriptConsoleMessageLevel,
                                 message: str, lineNumber: int, sourceID: str) -> None:
        pass


class DevToolsBridge:
    """A DevTools front-end page attached to ``page``; protocol calls as flow steps."""

    def __init__(self, page: QWebEnginePage, profile: QWebEngineProfile) -> None:
        self.front = _QuietPage(profile)
        self.page = page
        self.ready = False
        self.error = ""  # why the bridge is not there ("" while starting or ready)
        self._next = 0
        self.on_settled: Callable[[], None] | None = None  # called once ready or given up
        self.front.loadFinished.connect(self._on_front_loaded)
        self._started = time.monotonic()

    def attach(self) -> None:
        """Attach the front-end (call once the page has loaded about:blank)."""
        self.page.setDevToolsPage(self.front)

    @property
    def settled(self) -> bool:
        return self.ready or bool(self.error)

    def give_up_if_late(self, limit_s: float = 15.0) -> None:
        if not self.settled and time.monotonic() - self._started > limit_s:
            self.error = translate("WebCapture", "the archive tool did not start in time")

    def _on_front_loaded(self, ok: bool) -> None:
        if self.settled or self.front.url().scheme() != "devtools":
            return
        if not ok:
            self.error = translate("WebCapture", "the archive tool's page did not load")
            return
        code = _SETUP % {"max": MAX_EVENTS, "total": TOTAL_LIMIT, "one": BODY_LIMIT}
        self.front.runJavaScript(code, 0, lambda _r: self._poll_ready(0))

    def _poll_ready(self, tries: int) -> None:
        def check(result: object) -> None:
            if self.settled:
                return
            if result == "ok":
                self.ready = True
            elif isinstance(result, str) and result.startswith("error"):
                self.error = translate("WebCapture", "the archive tool could not start ({0})").format(
                    result[7:200])
            elif tries < 1500:  # asked every 10 ms: the page's load waits for the answer
                QTimer.singleShot(10, self.front, lambda: self._poll_ready(tries + 1))
            else:
                self.error = translate("WebCapture", "the archive tool did not start in time")
            if self.settled and self.on_settled is not None:
                self.on_settled()

        self.front.runJavaScript("window.__erReady || ''", 0, check)

    def call(self, agent: str, method: str, params: dict[str, Any] | None = None,
             timeout_s: float = 20.0) -> Steps:
        """Steps that send one protocol command; their result is its result (dict).

        Raises :class:`RuntimeError` with the protocol's error, or when it takes too long.
        """
        self._next += 1
        call_id = self._next
        code = (f"window.__er.call({call_id}, {json.dumps(agent)}, {json.dumps(method)}, "
                f"{json.dumps(params or {})})")
        yield RunJs(self.front, code, 0)
        end = time.monotonic() + timeout_s
        delay = 5
        while True:
            raw = yield RunJs(self.front, f"window.__er.take({call_id})", 0)
            if raw:
                answer = json.loads(raw)
                if "error" in answer:
                    raise RuntimeError(str(answer["error"])[:300])
                result: dict[str, Any] = answer.get("result") or {}
                return result
            if time.monotonic() > end:
                raise NoAnswer(f"{method} did not answer in time")
            yield Sleep(delay)
            delay = min(delay * 2, 100)

    def events(self, loader_ids: list[str] | None) -> Steps:
        """Steps giving the Network events of the given documents (others are dropped);
        ``None``: every event kept, none dropped."""
        raw = yield RunJs(self.front, f"window.__er.events({json.dumps(loader_ids)})", 0,
                          timeout_ms=30_000)
        data: dict[str, Any] = json.loads(raw) if raw else {"events": [], "dropped": 0}
        return data

    def detach(self) -> None:
        self.page.setDevToolsPage(None)  # type: ignore[arg-type]  # None detaches
