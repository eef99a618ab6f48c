"""The capture browser in the app, with the real QtWebEngine, on pages served on 127.0.0.1.

Run inside a loopback-only network namespace, as every browser test here is:
``unshare -n bash -c 'ip link set lo up; QTWEBENGINE_DISABLE_SANDBOX=1
ER_WEB_LOOPBACK_ONLY=1 … pytest tests/test_browser_window.py'``. The browser's own
guard blocks every request beyond this computer too (set again below).

Covers: the address bar's rules; navigating; "Capture this page" saving an item with
its address and title, the describe step with the page's author and @handle offered but
not written; downloads refused with a plain message; a certificate problem shown, never
silent; locking closing the window and forgetting the cookies; "Stay signed in" round
trip through a real vault; "Check again" linking a new item and "gone by …".
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

os.environ["ER_WEB_LOOPBACK_ONLY"] = "1"  # never a request beyond this computer

from evidence_recorder import web

try:
    web.prepare()  # before any QApplication exists (collection comes before every test)
    _UNAVAILABLE = ""
except web.WebUnavailable as exc:
    _UNAVAILABLE = str(exc)

from conftest import PASSPHRASE
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication, QLineEdit

from evidence_recorder.core.model import Capture, CaptureKind, PageState, WebSource
from evidence_recorder.core.vault.store import Vault
from evidence_recorder.ui import messages
from evidence_recorder.ui.browser_window import BrowserWindow, normalise_address
from evidence_recorder.ui.main_window import MainWindow
from evidence_recorder.ui.models import Column
from evidence_recorder.ui.tasks import wait_for_tasks
from evidence_recorder.ui.wording import check_status, check_summary


@pytest.fixture
def browser_ready(isolated_network: None) -> None:
    """Skip a browser test where QtWebEngine cannot run (as root without the variable
    that turns its sandbox off); ``isolated_network`` (conftest) skips it outside a
    loopback-only network namespace, and fails it there under CI."""
    if _UNAVAILABLE:
        pytest.skip(f"QtWebEngine cannot run here: {_UNAVAILABLE}")


@pytest.fixture
def web_server(browser_ready: None, web_server: Any) -> Any:
    """ENGINE's page servers (tests/webserver.py), only where the browser may run."""
    return web_server


pytestmark = [
    # QtWebEngine falls back to software drawing where there is no GPU; it says so.
    pytest.mark.qt_log_ignore(
        "QRhiGles2", "Failed to create RHI", "QVulkanInstance", "GBM is not supported",
        "GPUInfo not initialized", "createPlatformVulkanInstance", "Sandboxing disabled",
    ),
]

LONG = 90_000  # ms: a capture is bounded by 60 s; the machine is shared and slow

POST = """<!doctype html><html><head><title>Comments on the school page</title>
<meta name="author" content="Sam Jones"><meta name="twitter:creator" content="@samj">
</head><body style="margin:0"><h1>A post</h1>
<p style="height:2400px">You are all going to regret this.</p><p>Bottom of the post</p>
</body></html>"""

THREAD = """<!doctype html><html><head><title>A chat</title></head>
<body style="margin:0;overflow:hidden;height:100vh">
<div id="chat" style="position:absolute;top:100px;left:100px;width:400px;height:300px;
overflow-y:auto;border:1px solid #999">{}</div></body></html>""".format("".join(
    f"<p style='height:40px;margin:0'>Message {i}</p>" for i in range(80)))

SIGN_IN = """<!doctype html><html><head><title>Signed in</title></head><body>
<p>Signed in</p></body></html>"""


class _Pages(BaseHTTPRequestHandler):
    gone: bool = False  # the post answers 404 once "deleted"

    def log_message(self, format: str, *args: Any) -> None:
        pass  # no URL in the test output

    def do_GET(self) -> None:
        path = self.path.split("?")[0]
        if path == "/post" and _Pages.gone:
            self._send(404, "<html><head><title>Not found</title></head><body>"
                            "<p>Sorry, this page isn't available.</p></body></html>")
        elif path == "/post":
            self._send(200, POST)
        elif path == "/thread":
            self._send(200, THREAD)
        elif path == "/sign-in":
            self._send(200, SIGN_IN, [("Set-Cookie", "session=abc123; Path=/; Max-Age=86400")])
        elif path == "/settings":
            self._send(200, SIGN_IN, [("Set-Cookie", "theme=dark; Path=/; Max-Age=86400")])
        else:
            self._send(404, "<html><body>Not found</body></html>")

    def _send(self, status: int, body: str, headers: list[tuple[str, str]] = ()) -> None:  # type: ignore[assignment]
        data = body.encode()
        self.send_response(status)
        names = {name.lower() for name, _ in headers}
        if "content-type" not in names:
            self.send_header("Content-Type", "text/html; charset=utf-8")
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class _Server(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # the browser hanging up early (a favicon, a refused download) is no fault


def _serve(server: ThreadingHTTPServer) -> Iterator[str]:
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    host, port = server.server_address[:2]
    try:
        yield f"http://{host}:{port}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def site(browser_ready: None) -> Iterator[str]:
    _Pages.gone = False
    yield from _serve(_Server(("127.0.0.1", 0), _Pages))


@pytest.fixture
def main(qtbot, vault_dir: Path, app_settings) -> Iterator[MainWindow]:  # type: ignore[no-untyped-def]
    """The main window on an unlocked vault (real SQLCipher, tiny KDF costs)."""
    from conftest import FAST_KDF, unlocked_session

    Vault.create(vault_dir, PASSPHRASE, kdf=FAST_KDF)[0].close()
    sessions = unlocked_session(qtbot, vault_dir)
    session = next(sessions)
    window = MainWindow(session, app_settings)
    qtbot.addWidget(window)
    window.load()
    yield window
    if window.browser() is not None:
        window.browser().close()
    wait_for_tasks()
    QApplication.processEvents()
    for _ in sessions:  # locks the session
        pass
    messages._next_answers.clear()


def open_browser(qtbot, main: MainWindow) -> BrowserWindow:  # type: ignore[no-untyped-def]
    main.act_web.trigger()
    browser = main.browser()
    assert browser is not None and browser.isVisible()
    return browser


def load(qtbot, browser: BrowserWindow, address: str) -> None:  # type: ignore[no-untyped-def]
    browser.address.setText(address)
    with qtbot.waitSignal(browser.web.loadFinished, timeout=LONG):
        browser.address.returnPressed.emit()


def capture(qtbot, main: MainWindow, browser: BrowserWindow, mode: str = "page",  # type: ignore[no-untyped-def]
            point: QPoint | None = None) -> Capture:
    before = {c.id for c in main.session.captures()}
    with qtbot.waitSignal(browser.saved, timeout=LONG) as saved:
        if mode == "page":
            browser.capture_button.click()
            assert browser.busy_bar.isVisible()
            assert "Capturing the whole page" in browser.busy_bar.label.text()
            browser.grab().save("/tmp/s12ui-capturing.png")
        else:
            browser.capture(mode, point)
    capture_id = saved.args[0]
    assert capture_id not in before
    return main.session.capture(capture_id)


# ------------------------------------------------------------------ address bar


@pytest.mark.parametrize(("typed", "opened"), [
    ("example.org/post", "https://example.org/post"),
    ("  http://127.0.0.1:8000/a  ", "http://127.0.0.1:8000/a"),
    ("HTTPS://Example.org", "HTTPS://Example.org"),
    ("file:///etc/passwd", None),
    ("javascript:alert(1)", None),
    ("localhost:8000/page", "https://localhost:8000/page"),
    ("mailto:someone@example.org", None),
    ("example.org:99999", None),
    ("data:text/html,hi", None),
    ("ftp://example.org/x", None),
    ("two words", None),
    ("", None),
    ("https://", None),
])
def test_the_address_bar_opens_only_web_addresses(typed: str, opened: str | None) -> None:
    assert normalise_address(typed) == opened


# ------------------------------------------------------------------ navigating and capturing


def test_capture_this_page_saves_an_item_with_its_address_and_offers_the_author(  # type: ignore[no-untyped-def]
        qtbot, main: MainWindow, site: str) -> None:
    browser = open_browser(qtbot, main)
    assert main.browser() is browser
    main.act_web.trigger()  # one window at a time: raised, not another
    assert main.browser() is browser
    assert [w for w in QApplication.topLevelWidgets()
            if isinstance(w, BrowserWindow) and w.isVisible()] == [browser]
    assert browser.stop_button.isVisible()  # the red stop, in the browser's toolbar too
    main.act_stop.triggered.disconnect()  # its advice window would wait for a click
    with qtbot.waitSignal(main.act_stop.triggered):  # the main window's own action
        browser.stop_button.click()

    load(qtbot, browser, f"{site}/post")
    assert browser.address.text() == f"{site}/post"
    assert "Comments on the school page" in browser.windowTitle()
    load(qtbot, browser, f"{site}/thread")
    assert browser.act_back.isEnabled()
    with qtbot.waitSignal(browser.web.loadFinished, timeout=LONG):
        browser.act_back.trigger()
    assert browser.address.text() == f"{site}/post"

    item = capture(qtbot, main, browser)
    assert item.kind == CaptureKind.WEB and item.web is not None
    assert item.web.final_url == f"{site}/post"
    assert item.title == "Comments on the school page"
    assert item.details.url == f"{site}/post"  # filled in from the page
    # The author and @handle the page names are offered, never written.
    assert item.details.author == "" and item.details.handle == ""
    dialog = browser.describe_dialog
    assert dialog is not None and dialog.isVisible()
    panel = dialog.panel
    assert set(panel.suggestions) == {"author", "handle"}
    assert "Sam Jones" in panel.suggestions["author"].label.text()
    author = panel.inputs["author"]
    handle = panel.inputs["handle"]
    assert isinstance(author, QLineEdit) and isinstance(handle, QLineEdit)
    assert author.text() == "" and handle.text() == ""
    assert panel.changed_fields() == {}
    dialog.grab().save("/tmp/s12ui-describe.png")
    panel.suggestions["handle"].button.click()  # the person takes one of them
    assert handle.text() == "@samj" and author.text() == ""
    dialog.save()
    saved = main.session.capture(item.id)
    assert saved.details.handle == "@samj" and saved.details.author == ""
    # In the timeline with its title and address.
    wait_for_tasks()
    qtbot.waitUntil(lambda: main.capture_model.row_of(item.id) is not None)
    row = main.capture_model.row_of(item.id)
    kind = main.capture_model.index(row, Column.KIND)
    assert "Comments on the school page" in kind.data()
    assert f"{site}/post" in kind.data(Qt.ItemDataRole.ToolTipRole)
    browser.grab().save("/tmp/s12ui-browser.png")
    from test_app import _unnamed_controls

    assert _unnamed_controls(browser) == []  # a screen reader can name every control


def test_closing_the_browser_keeps_words_typed_about_a_page_if_asked(  # type: ignore[no-untyped-def]
        qtbot, main: MainWindow, site: str) -> None:
    browser = open_browser(qtbot, main)
    load(qtbot, browser, f"{site}/post")
    item = capture(qtbot, main, browser)
    dialog = browser.describe_dialog
    description = dialog.panel.inputs["description"]
    description.setPlainText("Posted about a pupil")
    messages.set_next_answer(messages.Button.No)  # "Discard what you typed?" No
    assert not browser.close()
    assert browser.isVisible() and dialog.isVisible()
    messages.set_next_answer(messages.Button.No)
    assert not main.close()  # quitting waits for the same answer
    messages.set_next_answer(messages.Button.Yes)
    assert browser.close()
    qtbot.waitUntil(lambda: main.browser() is None)
    assert main.session.capture(item.id).details.description == ""


def test_capture_this_thread_takes_the_panel_clicked_and_esc_cancels(  # type: ignore[no-untyped-def]
        qtbot, main: MainWindow, web_server) -> None:
    browser = open_browser(qtbot, main)
    load(qtbot, browser, web_server.url("chat.html"))  # #thread: 600 px tall, 200 messages
    browser.thread_button.click()
    assert browser.is_picking() and browser.hint_bar.isVisible()
    assert "Esc" in browser.hint_bar.label.text()
    browser.grab().save("/tmp/s12ui-thread-hint.png")
    qtbot.keyClick(browser, Qt.Key.Key_Escape)
    assert not browser.is_picking() and not browser.hint_bar.isVisible()

    browser.thread_button.click()
    target = browser.view.focusProxy() or browser.view
    before = {c.id for c in main.session.captures()}
    with qtbot.waitSignal(browser.saved, timeout=LONG) as saved:
        qtbot.mouseClick(target, Qt.MouseButton.LeftButton, pos=QPoint(500, 400))
    assert saved.args[0] not in before
    item = main.session.capture(saved.args[0])
    assert item.web is not None and "thread" in item.web.panel  # the panel clicked, whole
    assert item.web.scroll_height >= 200 * 40
    browser.describe_dialog.reject()


def test_capture_what_i_can_see_keeps_the_screenful(qtbot, main: MainWindow, site: str) -> None:  # type: ignore[no-untyped-def]
    browser = open_browser(qtbot, main)
    load(qtbot, browser, f"{site}/post")
    before = {c.id for c in main.session.captures()}
    with qtbot.waitSignal(browser.saved, timeout=LONG) as saved:
        browser.visible_button.click()
        assert "Capturing what you can see" in browser.busy_bar.label.text()
    assert saved.args[0] not in before
    item = main.session.capture(saved.args[0])
    assert item.web is not None and item.web.full_page_parts == 0
    assert item.height < 2400  # the screenful, not the 2,400 px page
    browser.describe_dialog.reject()


def test_stopping_a_capture_saves_nothing(qtbot, main: MainWindow, site: str) -> None:  # type: ignore[no-untyped-def]
    browser = open_browser(qtbot, main)
    load(qtbot, browser, f"{site}/post")
    browser.capture_button.click()
    assert browser.busy_bar.cancel_button.isVisible()
    browser.busy_bar.cancel_button.click()
    assert not browser.busy_bar.isVisible()
    assert not browser.capture_button.isEnabled()  # until the stopped capture has ended
    assert not browser.address.isEnabled() and not browser.act_reload.isEnabled()
    qtbot.waitUntil(browser.capture_button.isEnabled, timeout=LONG)
    wait_for_tasks()
    assert main.session.captures() == []
    assert browser.describe_dialog is None


def test_a_download_is_refused_with_a_plain_message(  # type: ignore[no-untyped-def]
        qtbot, main: MainWindow, web_server, session_root: Path) -> None:
    browser = open_browser(qtbot, main)
    shown = len(messages.shown)
    messages.set_next_answer(messages.Button.Ok)
    browser.go(web_server.url("download.html"))  # starts a download by itself
    qtbot.waitUntil(lambda: len(messages.shown) > shown, timeout=LONG)
    title, text = messages.shown[-1]
    assert title == "Nothing was downloaded"
    assert "does not download files" in text and "capture it instead" in text
    assert not list(session_root.rglob("report.bin*"))


def test_a_certificate_problem_is_shown_and_going_on_is_recorded(  # type: ignore[no-untyped-def]
        qtbot, main: MainWindow, web_server) -> None:
    browser = open_browser(qtbot, main)
    # The test server's certificate comes from a CA of its own, which nothing trusts.
    with qtbot.waitSignal(browser.web.certificateError, timeout=LONG):
        browser.go(web_server.url("plain.html", https=True))
    assert browser.certificate_bar.isVisible()
    assert "certificate" in browser.certificate_bar.label.text()
    assert "pretending" in browser.certificate_bar.label.text()
    browser.grab().save("/tmp/s12ui-certificate.png")
    with qtbot.waitSignal(browser.web.loadFinished, timeout=LONG):
        browser.certificate_bar.on_button.click()
    assert not browser.certificate_bar.isVisible()
    item = capture(qtbot, main, browser)
    assert item.web is not None and item.web.certificate_error  # recorded with the page
    browser.describe_dialog.reject()


def test_going_back_from_a_certificate_problem_opens_nothing(  # type: ignore[no-untyped-def]
        qtbot, main: MainWindow, site: str, web_server) -> None:
    browser = open_browser(qtbot, main)
    load(qtbot, browser, f"{site}/post")
    with qtbot.waitSignal(browser.web.certificateError, timeout=LONG):
        browser.go(web_server.url("chat.html", https=True))
    browser.certificate_bar.back_button.click()
    assert not browser.certificate_bar.isVisible()
    qtbot.waitUntil(lambda: browser.view.url().toString() == f"{site}/post", timeout=LONG)
    assert "Chat thread" not in browser.view.title()


# ------------------------------------------------------------------ signing in, locking


def test_locking_closes_the_browser_and_empties_its_cookies(  # type: ignore[no-untyped-def]
        qtbot, main: MainWindow, site: str) -> None:
    browser = open_browser(qtbot, main)
    web_session = browser.web
    load(qtbot, browser, f"{site}/sign-in")
    qtbot.waitUntil(lambda: any(b"session=abc123" in c for c in web_session.cookies()))
    assert not browser.stay_signed_in.isChecked()  # off the record by default
    main.session.lock()
    qtbot.waitUntil(lambda: main.browser() is None, timeout=LONG)  # closed and deleted
    assert web_session.cookies() == []  # emptied from memory


def test_stay_signed_in_keeps_cookies_only_in_the_vault_and_restores_them(  # type: ignore[no-untyped-def]
        qtbot, main: MainWindow, site: str, vault_dir: Path) -> None:
    browser = open_browser(qtbot, main)
    load(qtbot, browser, f"{site}/sign-in")
    qtbot.waitUntil(lambda: any(b"session=abc123" in c for c in browser.web.cookies()))
    browser.stay_signed_in.setChecked(True)
    kept = main.session.browser_cookies()
    assert kept is not None and any(b"session=abc123" in c for c in kept)
    actions = [e.action for e in main.session.audit_entries()]
    assert actions.count("browser.signin_kept") == 1
    entry = next(e for e in main.session.audit_entries() if e.action == "browser.signin_kept")
    assert "abc123" not in str(entry.details)  # audited without the cookie itself
    # Nowhere on disk but inside the encrypted vault.
    for path in vault_dir.rglob("*"):
        if path.is_file():
            assert b"abc123" not in path.read_bytes(), path.name
    browser.close()
    qtbot.waitUntil(lambda: main.browser() is None)

    again = open_browser(qtbot, main)  # a new private session: signed in again from the vault
    assert again is not browser and again.stay_signed_in.isChecked()
    load(qtbot, again, f"{site}/post")
    qtbot.waitUntil(lambda: any(b"session=abc123" in c for c in again.web.cookies()))
    again.stay_signed_in.setChecked(False)  # off: forgotten at once
    assert main.session.browser_cookies() is None
    assert "browser.signin_forgotten" in [e.action for e in main.session.audit_entries()]


def test_locking_keeps_the_newest_sign_in_first_when_asked(  # type: ignore[no-untyped-def]
        qtbot, main: MainWindow, site: str, vault_dir: Path) -> None:
    browser = open_browser(qtbot, main)
    load(qtbot, browser, f"{site}/sign-in")
    qtbot.waitUntil(lambda: any(b"session=abc123" in c for c in browser.web.cookies()))
    browser.stay_signed_in.setChecked(True)
    load(qtbot, browser, f"{site}/settings")  # a cookie set after ticking the box
    qtbot.waitUntil(lambda: any(b"theme=dark" in c for c in browser.web.cookies()))
    main.session.lock()
    qtbot.waitUntil(lambda: main.browser() is None, timeout=LONG)
    with Vault.open(vault_dir, PASSPHRASE) as vault:
        kept = vault.browser_cookies()
    assert kept is not None
    assert any(b"theme=dark" in c for c in kept) and any(b"session=abc123" in c for c in kept)


def test_the_idle_lock_keeps_counting_activity_with_the_browser_open(  # type: ignore[no-untyped-def]
        qtbot, main: MainWindow, site: str) -> None:
    """An application-wide Python event filter (the idle lock's, until now) crashed the
    whole process as soon as QtWebEngine's objects got events; the idle lock now
    watches the app's windows once the browser starts, the web page's keys included."""
    from PySide6.QtTest import QTest

    from evidence_recorder.ui.idle import IdleLock

    idle = IdleLock(1)
    idle.start()
    browser = open_browser(qtbot, main)
    load(qtbot, browser, f"{site}/post")  # crashed here before
    idle.set_interval_ms(60_000)
    qtbot.waitUntil(lambda: browser.windowHandle() in idle._watched)  # taken in
    qtbot.wait(300)
    before = idle._timer.remainingTime()
    QTest.keyClick(browser.windowHandle(), Qt.Key.Key_Down)  # a key on the page
    assert idle._timer.remainingTime() > before  # the count started again
    later = IdleLock(1)  # made after the browser started: watches windows from the start
    assert later._per_window
    idle.deleteLater()
    later.deleteLater()


def test_quitting_closes_the_browser(qtbot, main: MainWindow, site: str) -> None:  # type: ignore[no-untyped-def]
    browser = open_browser(qtbot, main)
    load(qtbot, browser, f"{site}/post")
    main.close()
    qtbot.waitUntil(lambda: main.browser() is None, timeout=LONG)  # closed and deleted


# ------------------------------------------------------------------ check again


def test_check_again_links_a_new_item_and_says_the_post_is_gone(  # type: ignore[no-untyped-def]
        qtbot, main: MainWindow, site: str) -> None:
    browser = open_browser(qtbot, main)
    load(qtbot, browser, f"{site}/post")
    first = capture(qtbot, main, browser)
    browser.describe_dialog.reject()
    browser.close()
    wait_for_tasks()
    qtbot.waitUntil(lambda: main.capture_model.row_of(first.id) is not None)
    main.select_capture(first.id)
    assert main.act_check_again.isEnabled()  # only for web items

    _Pages.gone = True  # the post was deleted
    shown = len(messages.shown)
    messages.set_next_answer(messages.Button.Ok)
    main.act_check_again.trigger()
    qtbot.waitUntil(lambda: len(messages.shown) > shown, timeout=LONG)
    title, text = messages.shown[-1]
    assert title == "Checked again"
    assert text.startswith("The post is gone: the server answered 404")
    checks = main.session.later_checks(first.id)
    assert len(checks) == 1 and checks[0].web is not None
    assert checks[0].web.recheck_of == first.id
    assert checks[0].web.page_state == PageState.GONE.value
    # The timeline and the details say "gone by …".
    wait_for_tasks()
    qtbot.waitUntil(lambda: "gone by" in (main.capture_model.index(
        main.capture_model.row_of(first.id), Column.CAPTURED).data() or ""))
    main.select_capture(first.id)
    assert "gone by" in main.web_facts.text() and main.web_facts.isVisibleTo(main)
    assert f"{site}/post" in main.web_facts.text()
    assert "The server (127.0.0.1) answered 200." in main.web_facts.text()
    main.tabs.setCurrentWidget(main.table)
    main.resize(1280, 720)
    main.grab().save("/tmp/s12ui-main-gone.png")


def test_locking_during_a_check_stops_it_quietly(  # type: ignore[no-untyped-def]
        qtbot, main: MainWindow, site: str) -> None:
    browser = open_browser(qtbot, main)
    load(qtbot, browser, f"{site}/post")
    first = capture(qtbot, main, browser)
    browser.describe_dialog.reject()
    wait_for_tasks()
    qtbot.waitUntil(lambda: main.capture_model.row_of(first.id) is not None)
    main.select_capture(first.id)
    main.act_check_again.trigger()
    checker = main._checker
    assert checker is not None
    shown = len(messages.shown)
    with qtbot.waitSignal(checker.abandoned):
        main.session.lock()
    assert main._checker is None and len(messages.shown) == shown  # no box over the lock
    qtbot.waitUntil(lambda: not [w for w in QApplication.topLevelWidgets() if w.isVisible()
                                 and w.metaObject().className() == "QWebEngineView"])


def test_check_again_is_only_for_web_items(qtbot, main: MainWindow) -> None:  # type: ignore[no-untyped-def]
    from conftest import fake_screen

    from evidence_recorder.core.gather import capture as screen

    grab = screen.grab(screen.FakeGrabber(fake_screen()))
    saved: list[int] = []
    main.session.save_grab(grab, None, None, saved.append, lambda exc: pytest.fail(str(exc)))
    qtbot.waitUntil(lambda: bool(saved))
    qtbot.waitUntil(lambda: main.capture_model.row_of(saved[0]) is not None)
    main.select_capture(saved[0])
    assert not main.act_check_again.isEnabled()
    assert not main.web_facts.isVisibleTo(main)


# ------------------------------------------------------------------ wording (no browser)


def _web_capture(capture_id: int, when: datetime, state: str = "available",
                 recheck_of: int | None = None) -> Capture:
    return Capture(
        id=capture_id, incident_id=1, kind=CaptureKind.WEB, captured_at=when,
        tz_name="Europe/London", utc_offset="+00:00", sha256="0" * 64, width=10, height=10,
        media_type="image/png", byte_size=1, environment={}, source=None,
        title="A post", web=WebSource(requested_url="https://example.org/p",
                                      final_url="https://example.org/p", page_state=state,
                                      page_state_reason="the server answered 404 (not found)"
                                      if state == "gone" else "the page loaded (200)",
                                      recheck_of=recheck_of))


def test_gone_by_is_said_only_when_a_check_found_it_gone() -> None:
    start = datetime(2026, 11, 25, 14, 2, tzinfo=UTC)
    first = _web_capture(1, start)
    still = _web_capture(2, start + timedelta(days=3), "available", 1)
    gone = _web_capture(3, start + timedelta(days=8), "gone", 1)
    gone_later = _web_capture(4, start + timedelta(days=9), "gone", 1)
    wall = _web_capture(5, start + timedelta(days=10), "login-wall", 1)
    assert check_summary(first, []) == ""
    assert check_summary(first, [still]) == "Captured on 25 Nov 2026, still there on 28 Nov 2026"
    assert check_status([still, gone, gone_later]) == "gone by 3 Dec 2026"  # the first of the run
    assert check_status([still, gone], start) == "gone by 3 Dec"  # the capture's year
    assert check_summary(first, [still, gone], full=True) == (
        "Captured on 25 Nov 2026 at 14:02:00, gone by 3 Dec 2026 at 14:02:00 "
        "(the server answered 404 (not found)).")
    # A sign-in page or no answer never reads as gone.
    assert "gone" not in check_status([gone, wall])
    assert "sign-in" in check_status([gone, wall])


def test_the_timeline_shows_a_page_its_title_and_what_later_checks_found(qtbot) -> None:  # type: ignore[no-untyped-def]
    from evidence_recorder.ui.models import CaptureTableModel

    start = datetime(2026, 11, 25, 14, 2, tzinfo=UTC)
    first = _web_capture(1, start)
    gone = _web_capture(2, start + timedelta(days=8), "gone", 1)
    model = CaptureTableModel()
    model.set_captures([first, gone], {1: [gone]})
    row = model.row_of(1)
    assert model.index(row, Column.CAPTURED).data() == "25 Nov 2026 14:02\ngone by 3 Dec"
    assert "gone by 3 Dec 2026 at 14:02:00" in model.index(row, Column.CAPTURED).data(
        Qt.ItemDataRole.ToolTipRole)
    assert model.index(row, Column.KIND).data() == "Web page: “A post”"
    assert "https://example.org/p" in model.index(row, Column.KIND).data(
        Qt.ItemDataRole.ToolTipRole)
    check = model.row_of(2)
    assert model.index(check, Column.CAPTURED).data() == "3 Dec 2026 14:02"  # no check of its own
    assert model.index(check, Column.KIND).data() == "Check of capture 1: “A post”"
    assert model.matches_text(row, ["example.org/p"])  # found by its address
    model.clear()
    assert model.checks_of(1) == []


def test_the_describe_form_offers_the_page_author_and_writes_nothing_by_itself(  # type: ignore[no-untyped-def]
        qtbot) -> None:
    from evidence_recorder.ui.describe import DescribePanel

    panel = DescribePanel()
    qtbot.addWidget(panel)
    item = _web_capture(1, datetime(2026, 11, 25, 14, 2, tzinfo=UTC))
    panel.set_capture(item, [])
    panel.offer_suggestions({"author": "  Sam   Jones ", "handle": "samj"})
    assert set(panel.suggestions) == {"author", "handle"}
    assert panel.suggestions["handle"].value == "@samj"
    assert panel.changed_fields() == {}
    panel.suggestions["author"].button.click()
    assert panel.changed_fields() == {"author": "Sam Jones"}
    assert "author" not in panel.suggestions and "handle" in panel.suggestions
    panel.set_capture(item, [])  # another capture shown: the offers go
    assert panel.suggestions == {}
    panel.offer_suggestions({"author": "", "handle": ""})
    assert panel.suggestions == {}


def test_the_vault_keeps_the_browser_sign_in_encrypted_and_audits_it_without_content(
        vault: Vault) -> None:
    assert vault.browser_cookies() is None  # off the record unless asked
    vault.keep_browser_cookies(None)  # forgetting nothing logs nothing
    cookies = [b"session=abc123; secure; HttpOnly; path=/; domain=127.0.0.1", b"\x00\xffraw"]
    vault.keep_browser_cookies(cookies)
    assert vault.browser_cookies() == cookies
    vault.keep_browser_cookies([cookies[0]])  # a newer jar: the same choice carried on
    assert vault.browser_cookies() == [cookies[0]]
    vault.keep_browser_cookies(None)
    assert vault.browser_cookies() is None
    entries = [(e.action, e.details) for e in vault.audit_entries()
               if e.action.startswith("browser.")]
    assert entries == [("browser.signin_kept", {"cookies": 2}),
                       ("browser.signin_forgotten", {})]
    assert vault.verify().ok
