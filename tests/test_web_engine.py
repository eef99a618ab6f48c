"""The capture engine (evidence_recorder.web) against real QtWebEngine and local servers.

Run inside a loopback-only network namespace (see ``isolated_network``):
``unshare -n bash -c 'ip link set lo up; QTWEBENGINE_DISABLE_SANDBOX=1 ER_WEB_LOOPBACK_ONLY=1
PYTHONPATH=$PWD QT_QPA_PLATFORM=offscreen .venv/bin/python -m pytest tests/test_web_engine.py'``
"""

from __future__ import annotations

import email
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from evidence_recorder.core.errors import EvidenceError
from evidence_recorder.core.gather.webpage import PART_HEIGHT_CSS, LoadState, PageRecord

REPO = Path(__file__).resolve().parent.parent

pytestmark = [
    pytest.mark.usefixtures("isolated_network"),
    # QtWebEngine falls back to software drawing where there is no GPU; it says so.
    pytest.mark.qt_log_ignore(
        "QRhiGles2", "Failed to create RHI", "QVulkanInstance", "GBM is not supported",
        "GPUInfo not initialized", "createPlatformVulkanInstance", "Sandboxing disabled",
    ),
]


@pytest.fixture
def web(qapp: Any) -> Any:
    from evidence_recorder import web

    web.prepare()
    return web


def capture(web: Any, url: str, **kw: Any) -> PageRecord:
    record = web.capture_page(url, **kw)
    assert isinstance(record, PageRecord)
    return record


def image(png: bytes) -> Any:
    from PySide6.QtGui import QImage, QImageReader

    limit = QImageReader.allocationLimit()
    QImageReader.setAllocationLimit(2048)  # a full-page part at a high pixel ratio is big
    try:
        picture = QImage.fromData(png)
    finally:
        QImageReader.setAllocationLimit(limit)
    assert not picture.isNull()
    return picture


def colour(picture: Any, x: int, y: int) -> str:
    return str(picture.pixelColor(x, y).name())


def rows_of(picture: Any, x: int, name: str) -> int:
    return sum(1 for y in range(picture.height()) if colour(picture, x, y) == name)


def session_run(qtbot: Any, session: Any, start: Any, signal: Any, timeout: int = 60_000) -> Any:
    with qtbot.waitSignal(signal, timeout=timeout) as blocker:
        start()
    return blocker.args[0] if blocker.args else None


# -- runtime -------------------------------------------------------------------------------

def test_prepare_refuses_root_without_the_sandbox_switch(monkeypatch: pytest.MonkeyPatch) -> None:
    from evidence_recorder.web import runtime

    monkeypatch.setattr(runtime.os, "geteuid", lambda: 0)
    monkeypatch.delenv("QTWEBENGINE_DISABLE_SANDBOX", raising=False)
    with pytest.raises(runtime.WebUnavailable, match="administrator") as caught:
        runtime.prepare()
    assert isinstance(caught.value, EvidenceError)
    monkeypatch.setenv("QTWEBENGINE_DISABLE_SANDBOX", "1")
    runtime.prepare()  # the tests' own switch: allowed
    assert os.environ["MESA_SHADER_CACHE_DISABLE"] == "true"
    assert "--disable-background-networking" in os.environ["QTWEBENGINE_CHROMIUM_FLAGS"]


def test_importing_web_does_not_load_qt_webengine() -> None:
    code = "import sys, evidence_recorder.web; print(any('QtWebEngine' in m for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=REPO, check=True, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert out.stdout.strip() == "False"


# -- a plain page: facts, network, archive, suggestions, the loopback guard ------------

def test_plain_page_record(web: Any, web_server: Any) -> None:
    url = web_server.url("/plain.html")
    record = capture(web, url)
    assert record.requested_url == url
    assert record.final_url == url
    assert record.title == "Plain test page"
    assert record.http_status == 200
    assert record.server_ip == "127.0.0.1"
    assert record.load_state == LoadState.COMPLETE
    assert "QtWebEngine" in record.user_agent
    assert record.visible is not None and record.visible.width == 1280
    assert image(record.visible.png).height() == record.visible.height
    # The main document, with its body, as the server sent it.
    main = next(r for r in record.responses if r.url == url)
    assert main.body == (REPO / "tests" / "web_pages" / "plain.html").read_bytes()
    assert main.status == 200 and main.method == "GET" and main.remote_port == web_server.http_port
    assert main.mime_type == "text/html" and main.http_version.startswith("HTTP/1")
    assert ("content-type", "text/html; charset=utf-8") in {
        (k.lower(), v) for k, v in main.response_headers}
    # Nothing beyond this computer was fetched; the guard said how much it blocked.
    assert all(r.url.startswith("http://127.0.0.1") for r in record.responses)
    assert any("requests to other computers were blocked" in n for n in record.notes)
    # The page as rendered, as MHTML that reopens as multipart/related.
    assert record.mhtml is not None
    message = email.message_from_bytes(record.mhtml)
    assert message.get_content_type() == "multipart/related"
    html = next(p for p in message.walk() if p.get_content_type() == "text/html")
    assert b"something unkind" in html.get_payload(decode=True)
    # Suggestions only, from the page's metadata; the visible text for judging.
    assert record.suggested_author == "Jo Bloggs"
    assert record.suggested_handle == "@jobloggs"
    assert "something unkind about a pupil" in record.text_sample
    assert record.tls is None and record.certificate_chain == ()


def test_https_certificate_chain_and_error_are_recorded(web: Any, web_server: Any) -> None:
    from cryptography import x509

    record = capture(web, web_server.url("/plain.html", https=True))
    assert record.http_status == 200
    assert record.certificate_chain[0] == web_server.leaf_der  # the leaf first
    assert record.certificate_chain[1] == web_server.ca_der
    leaf = x509.load_der_x509_certificate(record.certificate_chain[0])
    assert leaf.subject.rfc4514_string() == "CN=localhost"
    assert record.tls is not None
    assert record.tls.protocol.startswith("TLS")
    assert record.tls.subject == "localhost"
    assert record.tls.issuer == "Evidence Recorder Test CA"
    assert record.tls.valid_to is not None and record.tls.valid_from is not None
    # Our own CA is not trusted: the error is recorded, and the capture says so.
    assert record.tls.error
    assert any("certificate had a problem" in n for n in record.notes)


# -- pictures --------------------------------------------------------------------------------

def test_full_page_height_and_sticky_header_once(web: Any, web_server: Any) -> None:
    record = capture(web, web_server.url("/sticky.html"))
    assert record.scroll_height == 60 + 10 * 500
    dpr = record.device_pixel_ratio
    assert sum(p.height for p in record.full_page) == round(record.scroll_height * dpr)
    picture = image(record.full_page[0].png)
    assert picture.height() == record.full_page[0].height
    # The sticky header is red: 60 CSS px of it at the top, and nowhere else.
    x = round(1000 * dpr)  # clear of the header's words
    assert colour(picture, x, 5) == "#ff0000"
    assert rows_of(picture, x, "#ff0000") == round(60 * dpr)
    # The blocks follow in order, unrepeated.
    assert colour(picture, x, round((60 + 250) * dpr)) == "#0000ff"
    assert colour(picture, x, round((60 + 750) * dpr)) == "#ffff00"
    assert rows_of(picture, x, "#0000ff") == round(5 * 500 * dpr)
    assert record.full_page[0].css_top == 0 and record.full_page[0].css_height == 5060


def test_a_page_wider_than_the_window_shows_no_scrollbar_between_screenfuls(
        web: Any, web_server: Any) -> None:
    record = capture(web, web_server.url("/wide.html"))
    assert record.scroll_height == 6 * 700
    picture = image(record.full_page[0].png)
    dpr = record.device_pixel_ratio
    blue = rows_of(picture, 5, "#0000ff")
    yellow = rows_of(picture, 5, "#ffff00")
    assert blue == yellow == round(3 * 700 * dpr)


def test_the_visible_picture_shows_the_page_not_a_blank_view(web: Any, web_server: Any) -> None:
    # Just after a load the view can take half a second to draw the page: the picture of
    # what was on screen waits for that first frame instead of keeping a white view.
    record = capture(web, web_server.url("/wide.html"))
    assert record.visible is not None
    picture = image(record.visible.png)
    dpr = record.device_pixel_ratio
    assert colour(picture, 5, 5) == "#0000ff"
    assert colour(picture, 5, round(750 * dpr)) == "#ffff00"


def test_lazy_images_are_loaded_before_the_picture(web: Any, web_server: Any) -> None:
    record = capture(web, web_server.url("/lazy.html"))
    fetched = {r.url for r in record.responses}
    for n in range(1, 9):
        assert web_server.url(f"/_/image.svg?n={n}") in fetched
    picture = image(record.full_page[0].png)
    dpr = record.device_pixel_ratio
    for n in range(1, 9):  # each picture's middle is green in the stitched page
        top = n * 1500 + (n - 1) * 150
        assert colour(picture, round(100 * dpr), round((top + 75) * dpr)) == "#00c000"


def test_a_picture_that_changes_after_it_was_grabbed_is_grabbed_again(
        web: Any, web_server: Any) -> None:
    # The picture at the top turns green only once the bottom is reached, after the
    # first screenful was grabbed (the page's height stays the same): the page is then
    # grabbed again, so the picture shows the page as it is, not a stale screenful.
    record = capture(web, web_server.url("/changes.html"))
    assert record.scroll_height == 200 + 3000
    picture = image(record.full_page[0].png)
    dpr = record.device_pixel_ratio
    assert colour(picture, round(200 * dpr), round(100 * dpr)) == "#00c000"


def test_png_stream_writes_the_rows_painted_into_it(qapp: Any) -> None:
    # Parts are compressed band by band while the page is grabbed; what comes out is the
    # picture pixel for pixel, cut to the rows asked for.
    from PySide6.QtCore import QRect
    from PySide6.QtGui import QColor, QImage, QPainter

    from evidence_recorder.web.pictures import PngStream, png_of

    source = QImage(37, 50, QImage.Format.Format_RGB32)
    for y in range(50):
        for x in range(37):
            source.setPixelColor(x, y, QColor((x * 7) % 256, (y * 5) % 256, (x * y) % 256))
    stream = PngStream(37, 60)
    for top in range(0, 50, 10):  # band by band, each handed to the encoder once painted
        painter = QPainter(stream.image)
        band = QRect(0, top, 37, 10)
        painter.drawImage(band, source, band)
        painter.end()
        stream.rows_done(top + 10 - 1)
    out = image(stream.finish(50).result())
    assert (out.width(), out.height()) == (37, 50)
    assert out.convertToFormat(QImage.Format.Format_RGB32) == source
    whole = image(png_of(source))
    assert whole.convertToFormat(QImage.Format.Format_RGB32) == source


def test_page_taller_than_a_part_is_split_never_cut(web: Any, web_server: Any) -> None:
    record = capture(web, web_server.url("/tall.html?h=35000"))
    assert record.scroll_height == 35000
    assert [p.css_top for p in record.full_page] == [0, PART_HEIGHT_CSS]
    assert [p.css_height for p in record.full_page] == [PART_HEIGHT_CSS, 5000]
    dpr = record.device_pixel_ratio
    assert sum(p.height for p in record.full_page) == round(35000 * dpr)
    last = image(record.full_page[1].png)
    assert last.height() == round(5000 * dpr)
    # The last band (hsl(34*23 % 360, ...)) reaches the very bottom: nothing is blank.
    assert colour(last, 5, last.height() - 2) != "#ffffff"


def test_parts_are_shorter_on_a_high_density_screen(web: Any) -> None:
    # At 2x a 30,000 CSS px part would be 2560 x 60,000 pixels (614 MB, and the next part
    # is made while one is encoded): a part holds no more pixels than it would at 1x.
    from evidence_recorder.web.pictures import part_height_css

    assert part_height_css(1.0) == PART_HEIGHT_CSS
    assert part_height_css(0.5) == PART_HEIGHT_CSS
    assert part_height_css(2.0) == PART_HEIGHT_CSS // 4
    assert part_height_css(1.5) * 1.5 * 1.5 <= PART_HEIGHT_CSS


def test_visible_only_takes_what_is_on_screen(web: Any, web_server: Any) -> None:
    record = capture(web, web_server.url("/tall20k.html"), visible_only=True)
    assert record.full_page == ()
    assert record.visible is not None
    assert record.visible.css_top == 0 and record.visible.css_height == 800


def test_page_that_does_not_scroll_gives_its_largest_panel(web: Any, web_server: Any) -> None:
    record = capture(web, web_server.url("/chat.html"))
    assert record.panel == "#thread"
    assert record.scroll_height == 30 + 200 * 40
    dpr = record.device_pixel_ratio
    assert sum(p.height for p in record.full_page) == round(record.scroll_height * dpr)
    picture = image(record.full_page[0].png)
    assert picture.width() <= round(600 * dpr)
    # The panel's sticky day header appears once, at the top.
    x = round(300 * dpr)  # clear of the header's words
    assert colour(picture, x, 5) == "#ff0000"
    assert rows_of(picture, x, "#ff0000") == round(30 * dpr)
    assert any("largest scrolling panel" in n for n in record.notes)


def test_panel_by_selector(web: Any, web_server: Any) -> None:
    record = capture(web, web_server.url("/chat.html"), panel="#side")
    assert record.panel == "#side"
    assert record.scroll_height == 900
    with pytest.raises(EvidenceError, match="Nothing on the page matches"):
        capture(web, web_server.url("/chat.html"), panel="#nothing-here")


def test_panel_by_point_in_a_session(qtbot: Any, web: Any, web_server: Any) -> None:
    from PySide6.QtCore import QPoint

    session = web.WebSession(headless=True)
    try:
        session_run(qtbot, session, lambda: session.load(web_server.url("/chat.html")),
                    session.loadFinished)
        busy: list[bool] = []
        session.busy.connect(busy.append)
        record = session_run(qtbot, session, lambda: session.capture("panel", QPoint(500, 300)),
                             session.captured)
        assert record.panel == "#thread"
        assert record.scroll_height == 8030
        assert busy == [True, False]
    finally:
        session.close()


# -- hostile pages ---------------------------------------------------------------------------

@pytest.mark.timeout(120)
def test_infinite_feed_stops_at_a_bound_with_a_note(web: Any, web_server: Any) -> None:
    record = capture(web, web_server.url("/infinite.html"), timeout=30.0)
    assert any("kept loading more" in n for n in record.notes)
    assert 10_000 < record.scroll_height <= 8 * PART_HEIGHT_CSS
    covered = sum(p.css_height for p in record.full_page)
    assert covered == record.scroll_height or any("Time ran out" in n for n in record.notes)


@pytest.mark.timeout(90)
def test_redirect_loop_ends_failed(web: Any, web_server: Any) -> None:
    record = capture(web, web_server.url("/_/redirect-loop"), timeout=30.0)
    assert record.load_state == LoadState.FAILED
    assert record.http_status is None
    assert any("could not be loaded" in n for n in record.notes)


def test_redirect_is_followed_and_recorded(web: Any, web_server: Any) -> None:
    start = web_server.url("/_/redirect-once")
    record = capture(web, start)
    assert record.final_url == web_server.url("/plain.html")
    assert record.redirects == (start,)
    assert record.http_status == 200
    assert any(r.status == 302 and r.url == start for r in record.responses)


@pytest.mark.parametrize("status", [404, 410])
def test_gone_pages_keep_their_status(web: Any, web_server: Any, status: int) -> None:
    record = capture(web, web_server.url(f"/_/{status}"))
    assert record.http_status == status
    assert "isn't available" in record.text_sample


@pytest.mark.timeout(90)
def test_never_ending_load_is_captured_as_far_as_it_got(web: Any, web_server: Any) -> None:
    record = capture(web, web_server.url("/_/never-ends"), timeout=20.0)
    assert record.load_state == LoadState.TIMED_OUT
    assert record.title == "Never ends"
    assert "Still loading" in record.text_sample
    assert record.visible is not None
    assert any("still loading" in n for n in record.notes)


@pytest.mark.timeout(90)
def test_page_whose_script_never_stops_is_bounded(web: Any, web_server: Any) -> None:
    record = capture(web, web_server.url("/busy.html"), wait=1.0, timeout=15.0)
    assert record.visible is not None
    assert any("stopped answering" in n or "Time ran out" in n for n in record.notes)
    # What the page received is told without asking the page.
    assert record.http_status == 200 and record.server_ip == "127.0.0.1"


def test_alerts_and_popups_never_block(web: Any, web_server: Any) -> None:
    record = capture(web, web_server.url("/alerts.html"), wait=1.5)
    assert record.title == "Alerts and pop-ups"
    assert any("message boxes" in n for n in record.notes)
    assert any("tried to open 2 new windows" in n for n in record.notes)


def test_downloads_and_file_choosers_get_nothing(qtbot: Any, web: Any, web_server: Any,
                                                 tmp_path: Path) -> None:
    from PySide6.QtWebEngineCore import QWebEnginePage

    session = web.WebSession(headless=True)
    try:
        name = session_run(qtbot, session, lambda: session.load(web_server.url("/download.html")),
                           session.downloadRefused)
        assert name == "report.bin"
        mode = QWebEnginePage.FileSelectionMode.FileSelectOpen
        assert session.page().chooseFiles(mode, [], []) == []
    finally:
        session.close()


def test_permission_requests_are_denied(qtbot: Any, web: Any, web_server: Any) -> None:
    session = web.WebSession(headless=True)
    try:
        session.load(web_server.url("/permissions.html"))
        qtbot.waitUntil(lambda: session.page().title().startswith("location:"), timeout=20_000)
        assert session.page().title() == "location:refused"
    finally:
        session.close()


@pytest.mark.slow
@pytest.mark.timeout(150)
def test_huge_dom_ends_in_a_capture_or_a_plain_error(web: Any, web_server: Any) -> None:
    try:
        record = capture(web, web_server.url("/bigdom.html?mb=100"), timeout=60.0)
    except EvidenceError as error:
        assert "could not be captured" in str(error)
    else:
        assert record.visible is not None


# -- the interactive session: certificates, cookies, close --------------------------------

def test_certificate_error_waits_for_the_person(qtbot: Any, web: Any, web_server: Any) -> None:
    session = web.WebSession(headless=True)
    try:
        words = session_run(qtbot, session,
                            lambda: session.load(web_server.url("/plain.html", https=True)),
                            session.certificateError)
        assert "security certificate" in words
        assert session.is_loading  # it waits for the decision
        with qtbot.waitSignal(session.loadFinished, timeout=20_000) as loaded:
            session.accept_certificate()
        assert loaded.args == [True]
        record = session_run(qtbot, session, lambda: session.capture("visible"), session.captured)
        assert record.tls is not None and record.tls.error
        assert record.title == "Plain test page"
    finally:
        session.close()


def test_rejected_certificate_loads_nothing(qtbot: Any, web: Any, web_server: Any) -> None:
    session = web.WebSession(headless=True)
    try:
        session_run(qtbot, session, lambda: session.load(web_server.url("/plain.html", https=True)),
                    session.certificateError)
        with qtbot.waitSignal(session.loadFinished, timeout=20_000) as loaded:
            session.reject_certificate()
        assert loaded.args == [False]
        assert session.page().title() != "Plain test page"
    finally:
        session.close()


def test_cookies_go_out_and_come_back_and_close_wipes_them(qtbot: Any, web: Any,
                                                           web_server: Any) -> None:
    first = web.WebSession(headless=True)
    try:
        session_run(qtbot, first, lambda: first.load(web_server.url("/cookie.html?set=1")),
                    first.loadFinished)
        assert first.page().title() == "cookies:sid=abc123"
        qtbot.waitUntil(lambda: bool(first.cookies()), timeout=10_000)
        saved = first.cookies()
        assert any(line.startswith(b"sid=abc123") for line in saved)
    finally:
        first.close()
    assert first.cookies() == []
    second = web.WebSession(headless=True)
    try:
        second.restore_cookies(saved)
        session_run(qtbot, second, lambda: second.load(web_server.url("/cookie.html")),
                    second.loadFinished)
        assert second.page().title() == "cookies:sid=abc123"
    finally:
        second.close()
    third = web.WebSession(headless=True)  # a new session starts empty
    try:
        session_run(qtbot, third, lambda: third.load(web_server.url("/cookie.html")),
                    third.loadFinished)
        assert third.page().title() == "cookies:"
    finally:
        third.close()


def test_the_archive_follows_the_person_to_another_site(qtbot: Any, web: Any,
                                                       web_server: Any) -> None:
    session = web.WebSession(headless=True, accept_certificate_errors=True)
    try:
        first = web_server.url("/sticky.html")
        session_run(qtbot, session, lambda: session.load(first), session.loadFinished)
        second = web_server.url("/plain.html", https=True)  # another site, another process
        session_run(qtbot, session, lambda: session.load(second), session.loadFinished)
        record = session_run(qtbot, session, lambda: session.capture("visible"),
                             session.captured)
        assert record.final_url == second
        assert record.http_status == 200
        assert [r.url for r in record.responses if r.url == second] == [second]
        assert all(r.url != first for r in record.responses)  # only the page captured
        assert record.certificate_chain[0] == web_server.leaf_der
        assert record.mhtml is not None and b"something unkind" in record.mhtml
    finally:
        session.close()


def test_without_the_archive_bridge_the_capture_says_so(web: Any, web_server: Any,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from evidence_recorder.web import devtools

    monkeypatch.setattr(devtools, "_SETUP", "window.__erReady = 'error: internals changed'; 1")
    record = capture(web, web_server.url("/plain.html"))
    assert record.mhtml is None and record.responses == ()
    assert record.full_page and record.visible is not None
    assert any("could not be made" in n and "internals changed" in n for n in record.notes)


def test_bodies_beyond_the_bound_are_not_kept_and_it_is_said(
        web: Any, web_server: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from evidence_recorder.web import network

    monkeypatch.setattr(network, "BODY_LIMIT", 100)
    record = capture(web, web_server.url("/plain.html"))
    main = next(r for r in record.responses if r.url == record.final_url)
    assert main.body is None and main.status == 200
    assert any("too large" in n for n in record.notes)


def test_the_loopback_guard_is_only_there_when_asked(qapp: Any) -> None:
    from evidence_recorder.web.page import make_profile

    profile, guard = make_profile(loopback=False)
    assert guard is None and profile.isOffTheRecord()
    del profile
    profile, guard = make_profile(loopback=True)
    assert guard is not None and profile.isOffTheRecord()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a thread's niceness: Linux")
def test_the_png_encoder_gives_way_to_the_browser(qapp: Any) -> None:
    # Compressing runs beside the grabbing; on a busy machine the browser drawing the
    # next screenful (which the capture waits for) comes first.
    import threading

    from evidence_recorder.web.pictures import _encoder

    def niceness() -> int:
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    assert _encoder().submit(niceness).result() > niceness()


def test_only_our_own_marks_are_taken_from_the_page_console(qapp: Any) -> None:
    # A capture learns that a screenful is drawn from a console message of its own
    # script, marked with a secret the page cannot read; the page's messages are dropped.
    from PySide6.QtWebEngineCore import QWebEnginePage

    from evidence_recorder.web.page import GuardedPage, make_profile

    profile, _ = make_profile(loopback=True)
    page, other = GuardedPage(profile), GuardedPage(profile)
    try:
        got: list[str] = []
        page.marked.connect(got.append)
        level = QWebEnginePage.JavaScriptConsoleMessageLevel.InfoMessageLevel
        page.javaScriptConsoleMessage(level, "er-0123: the page's own words", 1, "page.js")
        page.javaScriptConsoleMessage(level, other.marker + ":1:{}", 1, "page.js")
        page.javaScriptConsoleMessage(level, page.marker + ':7:{"top": 800}', 1, "")
        assert got == [page.marker + ':7:{"top": 800}']
        assert page.last_mark == got[0]
        assert len(page.marker) >= 24 and page.marker != other.marker
    finally:
        del page, other


def test_a_flow_waits_for_a_mark_and_for_a_drawn_frame(qtbot: Any, qapp: Any) -> None:
    # The grab pass is told, not asking again and again: a wait for a mark resumes with
    # the rest of the message (an earlier mark does not count); a wait for a frame
    # resumes when the view draws one, and gives up quietly at its bound.
    from PySide6.QtCore import QObject, Signal

    from evidence_recorder.web.flow import Flow, Marked
    from evidence_recorder.web.pictures import wait_for_frame

    class Page(QObject):
        marked = Signal(str)
        last_mark = "m:1:old"

    class Counter(QObject):
        drawn = Signal()
        count = 5

    page, counter = Page(), Counter()
    seen: list[object] = []

    def steps() -> Any:
        seen.append((yield Marked(page, "m:2:", timeout_ms=5_000)))
        yield from wait_for_frame(counter, 5, 5_000)  # type: ignore[arg-type]
        seen.append(counter.count)
        yield from wait_for_frame(counter, 6, 50)  # none comes: at most 50 ms
        return "done"

    flow = Flow(steps(), 30.0)
    with qtbot.waitSignal(flow.done, timeout=10_000) as finished:
        flow.start()
        qtbot.wait(50)
        page.marked.emit("m:1:late")
        page.marked.emit("m:2:{\"top\": 3}")
        qtbot.waitUntil(lambda: len(seen) == 1, timeout=5_000)
        counter.count = 6
        counter.drawn.emit()
    assert seen == ['{"top": 3}', 6]
    assert finished.args == ["done"]


# -- nothing on disk, bounded memory (a fresh process each) -------------------------------

_CHILD = textwrap.dedent("""
    import json, os, sys, threading, time
    from evidence_recorder import web
    web.prepare()
    peak = [0]
    def tree_rss():
        me = os.getpid(); kids = {me}; rows = []
        for pid in os.listdir('/proc'):
            if pid.isdigit():
                try:
                    stat = open(f'/proc/{pid}/stat').read().rsplit(')', 1)[1].split()
                    page = os.sysconf('SC_PAGE_SIZE')
                    rows.append((int(pid), int(stat[1]), int(stat[21]) * page))
                except OSError:
                    pass
        grew = True
        while grew:
            grew = False
            for pid, ppid, _ in rows:
                if ppid in kids and pid not in kids:
                    kids.add(pid); grew = True
        return sum(rss for pid, _, rss in rows if pid in kids)
    def sample():
        while True:
            peak[0] = max(peak[0], tree_rss()); time.sleep(0.1)
    threading.Thread(target=sample, daemon=True).start()
    record = web.capture_page(sys.argv[1])
    print(json.dumps({"parts": [p.css_height for p in record.full_page],
                      "title": record.title, "peak": peak[0]}))
""")


def run_child(url: str, home: Path) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "HOME": str(home),
           "XDG_CACHE_HOME": str(home / ".cache"), "XDG_CONFIG_HOME": str(home / ".config"),
           "XDG_DATA_HOME": str(home / ".local" / "share"),
           "XDG_STATE_HOME": str(home / "state"),
           "XDG_RUNTIME_DIR": str(home / "run"), "TMPDIR": str(home / "tmp")}
    for sub in ("run", "tmp"):
        (home / sub).mkdir(mode=0o700)
    out = subprocess.run([sys.executable, "-c", _CHILD, url], capture_output=True, text=True,
                         env=env, cwd=REPO, timeout=150, check=False)
    assert out.returncode == 0, out.stderr[-2000:]
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


@pytest.mark.timeout(200)
def test_browse_and_capture_leave_nothing_on_disk(web_server: Any, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    result = run_child(web_server.url("/lazy.html"), home)
    assert result["title"] == "Lazy images"
    left = sorted(str(p.relative_to(home)) for p in home.rglob("*"))
    assert left == ["run", "tmp"]  # the two empty folders the test made, nothing else


@pytest.mark.slow
@pytest.mark.timeout(200)
def test_peak_memory_for_a_30000_px_page(web_server: Any, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    result = run_child(web_server.url("/tall.html?h=30000"), home)
    assert result["parts"] == [30000]
    print(f"peak process-tree RSS for a 30,000 px page: {result['peak'] / 1e6:.0f} MB")
    assert result["peak"] < 1.5e9


# -- the command line: our sentences, not the engine's notes ---------------------------

def test_capture_web_in_a_terminal_shows_our_sentences_not_the_engines_notes(
        cli: Any, web_server: Any) -> None:
    """Without a GPU, Qt and Chromium say how they draw in software; a person running
    capture-web should see only what was kept, and any warning of ours."""
    done = cli("capture-web", web_server.url("/plain.html"))
    assert done.returncode == 0, done.stderr
    assert "Saved web page 1" in done.stdout
    from evidence_recorder.web.runtime import RENDERING_NOTES

    noisy = [line for line in done.stderr.splitlines()
             if any(note in line for note in (*RENDERING_NOTES, "ERROR:", "dbus"))]
    assert noisy == []
