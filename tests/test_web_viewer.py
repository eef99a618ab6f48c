"""The headteacher viewer with web items: the whole page, the browser's record of it,
and the archived page (page.mhtml) shown offline by web/archive_view.py: from memory,
JavaScript off, every request beyond the archive blocked.

QtWebEngine runs here only as it runs in CI: inside a network namespace that has only
loopback, as root with its sandbox disabled for the tests alone:

    unshare -n bash -c 'ip link set lo up; QTWEBENGINE_DISABLE_SANDBOX=1 \\
        PYTHONPATH=$PWD QT_QPA_PLATFORM=offscreen .venv/bin/python -m pytest \\
        tests/test_web_viewer.py'

The archive's scheme must be registered before the QApplication exists: this module
does it when it is imported (pytest imports every test module before the first test
makes the QApplication), as ``evidence_recorder.web.prepare()`` does for the app.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
from web_items import FINAL_URL, TITLE, add_web_item, mhtml

pytest.importorskip("PySide6.QtWebEngineWidgets", reason="QtWebEngine is not installed")
if os.geteuid() == 0 and os.environ.get("QTWEBENGINE_DISABLE_SANDBOX") != "1":
    pytest.skip("QtWebEngine runs as root only with QTWEBENGINE_DISABLE_SANDBOX=1 (the tests "
                "set it inside a loopback-only namespace)", allow_module_level=True)

from PySide6.QtCore import QCoreApplication, Qt

QCoreApplication.setAttribute(Qt.ApplicationAttribute.AA_ShareOpenGLContexts, True)
os.environ.setdefault("MESA_SHADER_CACHE_DISABLE", "true")

from evidence_recorder.web import archive_view  # noqa: E402

archive_view.register_scheme()

from pytestqt.qtbot import QtBot  # noqa: E402

from evidence_recorder.core.bundle.seal import ExportOptions, export_bundle  # noqa: E402
from evidence_recorder.core.vault.store import Vault  # noqa: E402
from evidence_recorder.ui.bundle_viewer import BundleViewer, open_bundle_window  # noqa: E402

# A headless machine has no GPU: QtWebEngine says so, then draws in software.
pytestmark = pytest.mark.qt_log_ignore(
    "QRhiGles2", "Failed to create RHI", "QVulkanInstance", "GBM is not supported",
    "Sandboxing disabled", "GPUInfo not initialized")

FIRST = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
LATER = datetime(2026, 12, 4, 16, 0, tzinfo=UTC)


class _Counting(BaseHTTPRequestHandler):
    hits: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        _Counting.hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def remote() -> Iterator[str]:
    """A server on 127.0.0.1 that counts what it is asked for: a page's "remote" picture
    points here, and nothing may arrive."""
    _Counting.hits = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Counting)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


def shots(tmp_path: Path) -> Path:
    chosen = os.environ.get("EVIDENCE_RECORDER_SHOTS")
    folder = Path(chosen) if chosen else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def wait_loaded(qtbot: QtBot, window: archive_view.ArchivedPageWindow) -> None:
    assert window.page is not None
    with qtbot.waitSignal(window.page.loadFinished, timeout=30_000) as done:
        pass
    assert done.args == [True]


def run_js(qtbot: QtBot, window: archive_view.ArchivedPageWindow, script: str) -> Any:
    """Ask the page something from the application's own world (the page's scripts
    are off; ours still run, to look)."""
    from PySide6.QtWebEngineCore import QWebEngineScript

    answers: list[Any] = []
    assert window.page is not None
    window.page.runJavaScript(script, QWebEngineScript.ScriptWorldId.ApplicationWorld,
                              answers.append)
    qtbot.waitUntil(lambda: bool(answers), timeout=10_000)
    return answers[0]


@pytest.fixture
def archive_window(qtbot: QtBot) -> Iterator[Callable[[bytes], archive_view.ArchivedPageWindow]]:
    made: list[archive_view.ArchivedPageWindow] = []

    def _make(data: bytes) -> archive_view.ArchivedPageWindow:
        window = archive_view.ArchivedPageWindow(data, "test")
        made.append(window)
        window.show()
        return window

    yield _make
    for window in made:
        window.close()


# ------------------------------------------------------------------ the archived page


def test_the_archived_page_opens_offline_from_memory(
        qtbot: QtBot, archive_window: Callable[[bytes], archive_view.ArchivedPageWindow],
        remote: str, tmp_path: Path) -> None:
    window = archive_window(mhtml(remote_image=f"{remote}/tracker.png"))
    wait_loaded(qtbot, window)
    assert window.page is not None
    assert window.page.url().scheme() == archive_view.SCHEME
    assert run_js(qtbot, window, "document.getElementById('headline').textContent") \
        == "Archived post about Sam"
    # The picture archived with the page is shown, from the archive.
    qtbot.waitUntil(lambda: run_js(qtbot, window, "document.getElementById('local')"
                                                  ".naturalWidth") == 120, timeout=10_000)
    # The remote one is refused before it leaves the process: the server saw nothing.
    qtbot.waitUntil(lambda: run_js(qtbot, window, "document.getElementById('remote')"
                                                  ".complete"), timeout=10_000)
    assert run_js(qtbot, window, "document.getElementById('remote').naturalWidth") == 0
    assert _Counting.hits == []
    window.grab().save(str(shots(tmp_path) / "archived-page.png"))


def test_the_interceptor_blocks_what_the_page_policy_would_let_through(
        qtbot: QtBot, archive_window: Callable[[bytes], archive_view.ArchivedPageWindow],
        remote: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The policy written into the page stops remote pictures first; with it loosened,
    the request interceptor still refuses them before anything leaves the process."""
    monkeypatch.setattr(archive_view, "_CSP", "img-src *")
    window = archive_window(mhtml(remote_image=f"{remote}/tracker.png"))
    wait_loaded(qtbot, window)
    qtbot.waitUntil(lambda: f"{remote}/tracker.png" in window.blocked, timeout=10_000)
    assert run_js(qtbot, window, "document.getElementById('local').naturalWidth") == 120
    assert _Counting.hits == []


def test_scripts_in_the_archived_page_do_not_run(
        qtbot: QtBot, archive_window: Callable[[bytes], archive_view.ArchivedPageWindow],
        remote: str) -> None:
    script = ("document.title = 'SCRIPT RAN'; document.body.dataset.ran = 'yes';"
              f"fetch('{remote}/beacon'); new Image().src = '{remote}/pixel';")
    window = archive_window(mhtml(script=script, title="An archived post"))
    wait_loaded(qtbot, window)
    assert window.page is not None
    assert window.page.title() == "An archived post"
    assert run_js(qtbot, window, "document.body.dataset.ran || 'no'") == "no"
    assert _Counting.hits == []


def test_the_page_keeps_its_doctype_and_gets_the_policy_first_in_its_head() -> None:
    data = mhtml().replace(b"<html><head>", b"<!DOCTYPE html><html><head>")
    page = archive_view.parse_mhtml(data)
    html = page.parts[page.main][1].decode()
    assert html.startswith('<!DOCTYPE html><html><head><meta http-equiv="Content-Security-'
                           "Policy\"")
    assert "script-src 'none'" in html
    # Its own address and its picture's now point into the archive.
    assert "https://" not in html and "cid:" not in html
    assert page.url_of(page.by_cid["picture@mhtml"]) in html


def test_a_hostile_archive_is_refused_plainly_or_shown_without_its_huge_part(
        qtbot: QtBot, archive_window: Callable[[bytes], archive_view.ArchivedPageWindow],
        monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(archive_view.ArchiveUnreadable, match="not in the format"):
        archive_view.parse_mhtml(b"<html><script>alert(1)</script></html>")
    monkeypatch.setattr(archive_view, "MAX_ARCHIVE_BYTES", 1000)
    with pytest.raises(archive_view.ArchiveUnreadable, match="too large"):
        archive_view.parse_mhtml(mhtml())
    monkeypatch.undo()
    monkeypatch.setattr(archive_view, "MAX_PARTS", 1)
    with pytest.raises(archive_view.ArchiveUnreadable, match="too many parts"):
        archive_view.parse_mhtml(mhtml())
    monkeypatch.undo()
    nested = mhtml().replace(b'boundary="----BOUNDARY"', b'boundary="----OUTER"')
    for depth in range(6):
        nested = (f'Content-Type: multipart/related; boundary="L{depth}"\r\n\r\n--L{depth}\r\n'
                  .encode() + nested + f"\r\n--L{depth}--\r\n".encode())
    with pytest.raises(archive_view.ArchiveUnreadable, match="nested too deeply"):
        archive_view.parse_mhtml(nested)
    monkeypatch.setattr(archive_view, "MAX_PART_BYTES", 10_000)
    page = archive_view.parse_mhtml(mhtml(huge_part=50_000))
    assert all(len(body) <= 10_000 for _kind, body in page.parts)
    window = archive_window(mhtml(huge_part=50_000))
    wait_loaded(qtbot, window)


# ------------------------------------------------------------------ the viewer


@pytest.fixture
def web_bundle(vault: Vault, tmp_path: Path) -> tuple[Path, dict[str, int]]:
    first = add_web_item(vault, when=FIRST)
    check = add_web_item(vault, when=LATER, height=2000, http_status=404, page_state="gone",
                         page_state_reason="the server answered 404 (not found)",
                         recheck_of=first, title="Page not found")
    out = tmp_path / "out"
    out.mkdir()
    return (export_bundle(vault, out, options=ExportOptions(audience="police")),
            {"first": first, "check": check})


def open_real(qtbot: QtBot, path: Path, windows: list[BundleViewer]) -> BundleViewer:
    viewer = open_bundle_window(path)
    assert viewer is not None
    windows.append(viewer)
    qtbot.waitUntil(viewer.is_loaded, timeout=30_000)
    return viewer


def test_the_viewer_shows_a_web_page_its_details_and_its_archive(
        qtbot: QtBot, web_bundle: tuple[Path, dict[str, int]], windows: list[BundleViewer],
        tmp_path: Path) -> None:
    path, ids = web_bundle
    viewer = open_real(qtbot, path, windows)
    assert viewer.model.rowCount() == 2
    viewer.show_entry(0)
    details = viewer.details.toPlainText()
    for fact in (FINAL_URL, "https://social.example/p/4711", TITLE, "200", "203.0.113.7",
                 "CN=social.example", "CN=Example Test CA", "SHA-256 of the certificate",
                 "Captured as a web page", "gone by", "the page was no longer there",
                 f"record no. {ids['check']}"):
        assert fact in details, fact
    assert "✔ matches the original in this bundle" in details
    # The whole page, at its own size, to scroll through (it arrives veiled).
    assert viewer.showing_original()
    assert viewer.original_view.image_size() == (1280, 9000)
    assert viewer.archive_button.isVisible()
    viewer.original_view.reveal()
    # It opens at the page's top, where the post is.
    top = viewer.original_view.verticalScrollBar()
    assert top.maximum() > 0 and top.value() < top.maximum() // 50
    viewer.resize(1280, 800)
    viewer.grab().save(str(shots(tmp_path) / "viewer-web-item.png"))
    bar = viewer.details.verticalScrollBar()
    bar.setValue(bar.maximum() * 2 // 3)
    viewer.details.grab().save(str(shots(tmp_path) / "viewer-web-details.png"))

    window = viewer.open_archived_page()
    assert isinstance(window, archive_view.ArchivedPageWindow)
    wait_loaded(qtbot, window)
    assert run_js(qtbot, window, "document.getElementById('headline').textContent") \
        == "Archived post about Sam"
    window.grab().save(str(shots(tmp_path) / "viewer-archived-page.png"))
    assert viewer.archived_pages() == [window]

    viewer.show_entry(1)
    later = viewer.details.toPlainText()
    assert f"A later check of record no. {ids['first']}" in later
    assert "404" in later
    # Closing the viewer closes the archived page with it.
    viewer.close()
    qtbot.waitUntil(lambda: not viewer.archived_pages(), timeout=5_000)


def test_a_page_in_several_parts_shows_each_part_on_request(
        qtbot: QtBot, vault: Vault, tmp_path: Path, windows: list[BundleViewer]) -> None:
    """A page taller than one part: every part can be seen, top to bottom, not just the
    first."""
    add_web_item(vault, when=FIRST, parts=3, height=1500)
    add_web_item(vault, when=LATER, height=2000)
    out = tmp_path / "out"
    out.mkdir()
    viewer = open_real(qtbot, export_bundle(vault, out, options=ExportOptions(
        audience="police")), windows)
    viewer.show_entry(0)
    assert viewer.part_box.isVisibleTo(viewer)
    assert (viewer.part_box.minimum(), viewer.part_box.maximum()) == (1, 3)
    assert viewer.part_box.text() == "Part 1 of 3"
    assert "part 1 of 3" in viewer.picture_caption.text()
    assert "choose the part above the picture" in viewer.details.toPlainText()
    first = viewer.original_view.image_size()
    first_pixels = viewer.original_view._item.pixmap().toImage()  # type: ignore[union-attr]
    viewer.part_box.setValue(3)
    assert "part 3 of 3" in viewer.picture_caption.text()
    assert viewer.original_view.image_size() == first == (1280, 1500)
    assert not viewer.picture_note.isVisibleTo(viewer)  # the part matches its SHA-256
    viewer.resize(1280, 800)
    viewer.grab().save(str(shots(tmp_path) / "viewer-web-part-3.png"))
    # A different picture, not the first again: the parts were drawn with their names.
    assert viewer.original_view._item.pixmap().toImage() != first_pixels  # type: ignore[union-attr]
    assert viewer.part_box.value() == 3
    # An item in one part has no part chooser.
    viewer.show_entry(1)
    assert not viewer.part_box.isVisibleTo(viewer)
    assert viewer.original_view.image_size() == (1280, 2000)
    viewer.show_entry(0)
    assert viewer.part_box.value() == 1


def test_a_covered_web_page_for_the_headteacher_offers_no_archive(
        qtbot: QtBot, vault: Vault, tmp_path: Path, windows: list[BundleViewer]) -> None:
    """The sender covered something: the archive, which would show it, stayed with them."""
    item = add_web_item(vault, when=FIRST, height=2000)
    vault.set_annotations(item, {"version": 1, "items": [
        {"type": "redact", "rect": [0, 0, 1280, 300]}]})
    viewer = open_real(qtbot, export_bundle(vault, tmp_path), windows)
    viewer.show_entry(0)
    assert not viewer.showing_original()  # the covered copy, alone
    assert not viewer.archive_button.isVisible()
    from evidence_recorder.ui import messages

    messages.shown.clear()
    messages.set_next_answer(messages.Button.Ok)
    assert viewer.open_archived_page() is None
    assert messages.shown[-1] == ("Archived page not shown",
                                  "This capture has no archived page.")
