#!/usr/bin/env python3
"""Web capture speed: from "capture this page" to "committed in the vault", on long pages.

App, as the capture browser does it: one ``web.WebSession`` kept open (the browser
window holds one; its view shown, 1280x800), the page loaded in it and on screen, then
``session.capture("page")`` and ``core.gather.web.save_page(vault, record)`` on a real
(SQLCipher, tiny KDF) vault, for
  * the longest saved real page in ../shared/corpora/web-pages/ (Wikipedia's "Mozilla",
    skipped with a message when the corpus is absent), and
  * a 20,000 CSS px page written here (text, boxes, a sticky header).
Two spans of the same runs are timed:
  * capture-to-committed: from ``capture("page")`` on the page loaded and on screen to
    the item committed (full-page and visible PNGs, MHTML, network record,
    certificate, WARC, thumbnails, all saved): the span the 1.3x bare target is about;
  * load + capture + save: from ``load(url)`` in the open browser to committed: the
    work Chromium's process does (load the page, shoot it), less starting a browser
    (the app's is open already): compared with Chromium below.
"On screen": loaded, and the view has drawn it (a frame since the load finished, or,
when it drew frames while loading, none for 150 ms after); both sides wait for this
before their timer starts (the load + capture + save span includes it).
The first capture of each page in the process (``web.capture_page``: engine start, a
new private browser, load, capture, save, as ``capture-web`` does once per process) is
printed for information.
Baselines, on the same page, interleaved round by round:
  * bare:     the bare library on the same page in the same process: a QWebEngineView
              (off-the-record profile, shown, 1280x800) has loaded it and drawn it (not
              timed, as for the app), then a scroll-and-stitch grab of the whole height
              into one QImage is timed; nothing else (no PNG, MHTML, WARC, vault). The
              same plus one PNG encode (zlib level 1, as the app) is printed too. It
              does only what a correct picture needs: after each scroll, two animation
              frames with the pictures in view loaded (lazy images), then a frame
              drawn by the view since the scroll (QtWebEngine hands frames to its view
              late: grabbing at once gave blank or repeated screenfuls).
  * chromium: Debian's ``chromium --headless --screenshot`` as a whole process, its
              window as tall as the page (so it shoots the whole page too), against
              the app's load + capture + save.
              Install it with ``apt-get install chromium`` (not a project dependency);
              without it that baseline is skipped, and said so.
Memory: the peak RSS of the whole process tree (Python + QtWebEngine's helper
processes) while one child process captures and saves a 30,000 CSS px page
(``web.capture_page``, a fresh browser, as ``capture-web``).
Targets: app capture-to-committed median <= 1.3x bare; app load + capture + save
median <= 1.0x chromium; peak RSS < 1.5 GB.

Everything runs inside scripts/isolated (a network namespace with only loopback; the
script puts itself there), the browser also blocks non-loopback requests
(ER_WEB_LOOPBACK_ONLY=1), and Chromium gets --host-resolver-rules that resolve only
127.0.0.1. As root, QtWebEngine and Chromium run without their sandbox (the
benchmark sets QTWEBENGINE_DISABLE_SANDBOX=1 and --no-sandbox for itself).

    .venv/bin/python benchmarks/bench_web.py [--runs 5] [--quick]
"""

from __future__ import annotations

import argparse
import functools
import http.server
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from _common import REPO, describe, median, verdict

CORPUS = REPO.parent / "shared" / "corpora" / "web-pages"
LONGEST_CORPUS_PAGE = "wikipedia"  # the corpus's long page (see its PROVENANCE.md)
WIDTH, HEIGHT = 1280, 800  # the window, CSS px
RSS_LIMIT_MB = 1536
PAGE_HEIGHT = 20_000
RSS_PAGE_HEIGHT = 30_000


def only_loopback() -> bool:
    try:
        lines = Path("/proc/self/net/dev").read_text().splitlines()[2:]
    except OSError:
        return False
    return [line.split(":")[0].strip() for line in lines] == ["lo"]


FILLER = ("the quick brown fox jumps over the lazy dog while a member of staff keeps "
          "a dated record of every post and every reply in the thread")


def tall_page(height: int) -> str:
    """A page exactly ``height`` CSS px tall: a sticky header, then blocks of text."""
    words = FILLER.split()
    blocks = []
    block = 200
    for i in range((height - 60) // block):
        text = " ".join(words[(i + k) % len(words)] for k in range(60))
        shade = 230 + (i * 7) % 25
        blocks.append(f'<div class="b" style="background:rgb({shade},{shade},255)">'
                      f"<b>Post {i + 1}</b> {text}</div>")
    rest = height - 60 - len(blocks) * block
    return ("<!doctype html><html><head><meta charset='utf-8'><title>Tall page "
            f"{height}</title><style>body{{margin:0;font:15px sans-serif}}"
            "header{position:sticky;top:0;height:60px;background:#234;color:#fff}"
            f".b{{height:{block}px;box-sizing:border-box;padding:12px;overflow:hidden;"
            "border-bottom:1px solid #99a}</style></head><body>"
            f"<header>Sticky header</header>{''.join(blocks)}"
            f"<div style='height:{rest}px'></div></body></html>")


class Handler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass

    def guess_type(self, path: str | os.PathLike[str]) -> str:
        kind = super().guess_type(path)
        return "text/html; charset=utf-8" if kind == "text/html" else kind


def serve(folder: Path) -> int:
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Handler, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return int(server.server_address[1])


# --------------------------------------------------------------------- the child

def browser_env() -> None:
    os.environ["ER_WEB_LOOPBACK_ONLY"] = "1"
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    if os.geteuid() == 0:
        os.environ["QTWEBENGINE_DISABLE_SANDBOX"] = "1"


def child_timing(args: argparse.Namespace) -> int:
    """Interleaved rounds of app, bare and chromium on each page; prints one JSON line."""
    browser_env()
    from evidence_recorder import web
    web.prepare()
    from PySide6.QtWidgets import QApplication

    QApplication.instance() or QApplication([sys.argv[0]])
    from evidence_recorder.core.gather.web import save_page
    from evidence_recorder.core.vault.keyfile import KdfParams
    from evidence_recorder.core.vault.store import Vault

    work = Path(args.work)
    vault, _ = Vault.create(work / "vault", "correct horse battery staple",
                            kdf=KdfParams(1, 8, 1))
    chromium = shutil.which("chromium")
    results: dict[str, dict[str, object]] = {}
    bare = BareCapture()
    app = AppBrowser()
    for label, url in zip(args.labels.split("|"), args.urls.split("|"), strict=True):
        t0 = time.perf_counter()
        record = web.capture_page(url)  # a new process's first capture, as capture-web
        save_page(vault, record)
        first = time.perf_counter() - t0
        app.once(url, vault)  # warm-up: this browser's first load of the page
        bare.once(url)
        height = int(getattr(record, "scroll_height", 0)) or HEIGHT
        if chromium:
            chromium_once(chromium, url, height, work)
        capture, whole, saves, bare_grab, bare_png, chrome = [], [], [], [], [], []
        for _ in range(args.runs):
            spans = app.once(url, vault)
            capture.append(spans["capture"])
            whole.append(spans["whole"])
            saves.append(spans["save"])
            grab, png = bare.once(url)
            bare_grab.append(grab)
            bare_png.append(png)
            if chromium:
                chrome.append(chromium_once(chromium, url, height, work))
        results[label] = {"app": capture, "app_whole": whole, "save": saves, "first": first,
                          "bare": bare_grab, "bare_png": bare_png, "chromium": chrome,
                          "parts": len(app.record.full_page),
                          "app_height": app.record.scroll_height,
                          "stitched": bare.last_height}
    app.close()
    bare.close()
    vault.close()
    print("RESULT " + json.dumps(results), flush=True)
    return 0


def wait_for(signals, start, timeout: float = 120.0) -> tuple[object, object]:  # type: ignore[no-untyped-def]
    """Call start(), then run the event loop until one of signals fires: (signal, value)."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    box: list[tuple[object, object]] = []
    slots = []
    for signal in signals:
        def slot(*value: object, signal: object = signal) -> None:
            box.append((signal, value[0] if value else None))
            loop.quit()
        signal.connect(slot)
        slots.append((signal, slot))
    QTimer.singleShot(int(timeout * 1000), loop.quit)
    start()
    if not box:
        loop.exec()
    for signal, slot in slots:
        signal.disconnect(slot)
    if not box:
        raise RuntimeError("timed out")
    return box[0]


class ViewFrames:
    """Counts the frames a QWebEngineView has drawn (a grab shows the last one)."""

    def __init__(self, view) -> None:  # type: ignore[no-untyped-def]
        self.view = view
        self.counted: list[int] | None = None

    def count(self) -> int:
        if self.counted is None:
            from PySide6.QtCore import Qt
            from PySide6.QtQuickWidgets import QQuickWidget

            window = self.view.findChild(QQuickWidget).quickWindow()
            self.counted = [0]
            window.afterRendering.connect(lambda: self.counted.__setitem__(0, self.counted[0] + 1),
                                          Qt.ConnectionType.DirectConnection)
        return self.counted[0]

    def load(self, start) -> object:  # type: ignore[no-untyped-def]
        """start() a load and wait until it has finished and the page is on screen: a
        frame drawn since it finished, or, when frames were drawn while it loaded, none
        for 150 ms after (it was drawn before it said so); at most 1.5 s. Neither side
        times this: both capture a page that is on screen."""
        from PySide6.QtCore import QEventLoop, QTimer

        started = self.count()
        result = start()
        finished = self.count()
        end = time.perf_counter() + 1.5
        quiet = time.perf_counter() + 0.15
        while self.count() <= finished and time.perf_counter() < end:
            if finished > started and time.perf_counter() > quiet:
                break
            loop = QEventLoop()
            QTimer.singleShot(5, loop.quit)
            loop.exec()
        return result


class AppBrowser:
    """The app's capture browser: one WebSession kept open, its view shown at 1280x800."""

    def __init__(self) -> None:
        from evidence_recorder import web

        self.session = web.WebSession()
        self.session.view().resize(WIDTH, HEIGHT)
        self.session.view().show()
        self.frames = ViewFrames(self.session.view())
        self.record = None

    def once(self, url: str, vault) -> dict[str, float]:  # type: ignore[no-untyped-def]
        from evidence_recorder.core.gather.web import save_page

        s = self.session
        self.frames.count()
        t0 = time.perf_counter()
        _, ok = self.frames.load(lambda: wait_for([s.loadFinished], lambda: s.load(url)))
        t1 = time.perf_counter()  # on screen: the person presses "Capture this page"
        signal, value = wait_for([s.captured, s.failed], lambda: s.capture("page"))
        if signal is s.failed or not ok:
            raise RuntimeError(f"the app's capture failed: {value}")
        t2 = time.perf_counter()
        save_page(vault, value)
        t3 = time.perf_counter()
        self.record = value
        return {"capture": t3 - t1, "whole": t3 - t0, "save": t3 - t2}

    def close(self) -> None:
        self.session.close()


def chromium_once(chromium: str, url: str, height: int, work: Path) -> float:
    out = work / "chromium.png"
    command = [chromium, "--headless", "--disable-gpu", "--hide-scrollbars",
               "--no-first-run", "--no-default-browser-check", "--disable-extensions",
               f"--user-data-dir={work / 'chromium-profile'}",
               "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
               f"--window-size={WIDTH},{height}", f"--screenshot={out}", url]
    if os.geteuid() == 0:
        command.insert(1, "--no-sandbox")
    t0 = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   timeout=300)
    return time.perf_counter() - t0


class BareCapture:
    """The bare library: load the page in a QWebEngineView (not timed), then scroll and
    stitch grabs (timed, with and without a PNG encode)."""

    def __init__(self) -> None:
        from PySide6.QtCore import QUrl
        from PySide6.QtWebEngineCore import (
            QWebEnginePage,
            QWebEngineProfile,
            QWebEngineUrlRequestInterceptor,
        )
        from PySide6.QtWebEngineWidgets import QWebEngineView

        class LoopbackOnly(QWebEngineUrlRequestInterceptor):
            def interceptRequest(self, info) -> None:  # type: ignore[no-untyped-def]
                url = info.requestUrl()
                if url.scheme() in ("data", "blob", "about") or url.host() == "127.0.0.1":
                    return
                info.block(True)

        self.profile = QWebEngineProfile()  # off the record
        self.interceptor = LoopbackOnly()
        self.profile.setUrlRequestInterceptor(self.interceptor)
        self.page = QWebEnginePage(self.profile)
        self.view = QWebEngineView()
        self.view.setPage(self.page)
        self.view.resize(WIDTH, HEIGHT)
        self.view.show()
        self.last_height = 0
        self.counter = ViewFrames(self.view)
        self.page.load(QUrl("about:blank"))  # the view's delegate exists once it has a page
        self._wait(lambda _finish: None, self.page.loadFinished)
        self.frames()  # counting from the start

    def _wait(self, start, done_signal=None, timeout: float = 120.0):  # type: ignore[no-untyped-def]
        from PySide6.QtCore import QEventLoop, QTimer

        loop = QEventLoop()
        box: list[object] = []

        def finish(*value: object) -> None:
            box.append(value[0] if value else None)
            loop.quit()

        if done_signal is not None:
            done_signal.connect(finish)
        QTimer.singleShot(int(timeout * 1000), loop.quit)
        start(finish)
        loop.exec()
        if done_signal is not None:
            done_signal.disconnect(finish)
        if not box:
            raise RuntimeError("the bare capture timed out")
        return box[0]

    def js(self, code: str):  # type: ignore[no-untyped-def]
        return self._wait(lambda finish: self.page.runJavaScript(code, 0, finish))

    def sleep(self, ms: int) -> None:
        from PySide6.QtCore import QEventLoop, QTimer

        loop = QEventLoop()
        QTimer.singleShot(ms, loop.quit)
        loop.exec()

    def frames(self) -> int:
        """Frames the view has drawn (its grab shows the last one)."""
        return self.counter.count()

    def wait_frame(self, after: int) -> None:
        """Until the view has drawn a frame since it had drawn ``after`` (at most 1.5 s)."""
        end = time.perf_counter() + 1.5
        while self.frames() <= after and time.perf_counter() < end:
            self.sleep(5)

    def scroll_and_paint(self, y: int, after: int | None = None) -> int:
        """Scroll to y; return where it got to, once the page has painted two frames
        with the pictures in view loaded, and the view has drawn a frame since."""
        before = self.frames() if after is None else after
        scrolled = int(float(self.js(
            f"(() => {{ scrollTo(0,{y}); window.__bench = 0; const end = performance.now() + 1500;"
            "const pending = () => Array.from(document.images).some(i => { if (i.complete) "
            "return false; const r = i.getBoundingClientRect(); return r.bottom > 0 && "
            "r.top < innerHeight && r.width > 0 && r.height > 0; });"
            "const f = () => requestAnimationFrame(() => requestAnimationFrame(() => {"
            "if (performance.now() < end && pending()) setTimeout(f, 20); else window.__bench = 1;"
            "})); f(); return String(scrollY); })()")))
        for _ in range(100):
            if self.js("String(window.__bench)") == "1":
                break
            self.sleep(16)
        self.wait_frame(before)
        return scrolled

    def once(self, url: str) -> tuple[float, float]:
        from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QUrl
        from PySide6.QtGui import QImage, QPainter

        self.counter.load(lambda: self._wait(lambda _finish: self.page.load(QUrl(url)),
                                             self.page.loadFinished))
        loaded = self.frames() - 1  # on screen: the view's last frame will do at the top
        t0 = time.perf_counter()  # the grab starts
        height, inner = json.loads(self.js(
            "JSON.stringify([document.documentElement.scrollHeight, innerHeight])"))
        out = QImage(WIDTH, height, QImage.Format.Format_RGB32)
        painter = QPainter(out)
        for y in range(0, height, inner):
            scrolled = self.scroll_and_paint(y, loaded if y == 0 else None)
            painter.drawPixmap(0, scrolled, self.view.grab())
        painter.end()
        grabbed = time.perf_counter() - t0
        data = QByteArray()
        buffer = QBuffer(data)
        buffer.open(QIODevice.OpenModeFlag.WriteOnly)
        out.save(buffer, "PNG", 80)  # Qt: level = (100 - quality) * 9 // 91: 80 is level 1
        self.last_height = height
        return grabbed, time.perf_counter() - t0

    def close(self) -> None:
        self.view.close()
        self.view.setPage(None)  # type: ignore[arg-type]
        del self.page  # pages go before their profile
        del self.profile


def child_rss(args: argparse.Namespace) -> int:
    """One capture and save of the 30,000 px page (the parent samples our tree's RSS)."""
    browser_env()
    from evidence_recorder import web
    web.prepare()
    from evidence_recorder.core.gather.web import save_page
    from evidence_recorder.core.vault.keyfile import KdfParams
    from evidence_recorder.core.vault.store import Vault

    vault, _ = Vault.create(Path(args.work) / "rss-vault", "correct horse battery staple",
                            kdf=KdfParams(1, 8, 1))
    record = web.capture_page(args.urls)
    item = save_page(vault, record)
    vault.close()
    print(f"RESULT {json.dumps({'item': item, 'parts': len(record.full_page)})}", flush=True)
    return 0


# --------------------------------------------------------------------- the parent

def tree_rss_mb(root_pid: int) -> float:
    """RSS of root_pid and every descendant, from /proc (MB)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for folder in Path("/proc").iterdir():
        entry = folder.name
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            pages = int(Path(f"/proc/{entry}/statm").read_text().split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(int(fields[1]), []).append(int(entry))
        rss[int(entry)] = pages
    total, todo = 0, [root_pid]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo.extend(children.get(pid, []))
    return total * os.sysconf("SC_PAGE_SIZE") / 1e6 / 1.048576


def run_child(mode: str, work: Path, urls: str, labels: str, runs: int,
              sample: bool = False) -> tuple[dict[str, object], float]:
    command = [sys.executable, str(Path(__file__).resolve()), "--child", mode,
               "--work", str(work), "--urls", urls, "--labels", labels, "--runs", str(runs)]
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(work / "pycache")
    env["PYTHONPATH"] = str(REPO)
    for name in ("HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME",
                 "XDG_STATE_HOME", "XDG_RUNTIME_DIR"):
        (work / name).mkdir(mode=0o700, exist_ok=True)
        env[name] = str(work / name)
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    peak = 0.0
    if sample:
        while proc.poll() is None:
            peak = max(peak, tree_rss_mb(proc.pid))
            time.sleep(0.05)
    out, err = proc.communicate()
    lines = [line for line in out.splitlines() if line.startswith("RESULT ")]
    if proc.returncode != 0 or not lines:
        raise SystemExit(f"bench_web: the {mode} child failed ({proc.returncode}):\n"
                         f"{err[-3000:]}")
    return json.loads(lines[-1][len("RESULT "):]), peak


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="3 runs instead of 5")
    parser.add_argument("--child", choices=("timing", "rss"), help=argparse.SUPPRESS)
    parser.add_argument("--work", help=argparse.SUPPRESS)
    parser.add_argument("--urls", help=argparse.SUPPRESS)
    parser.add_argument("--labels", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child == "timing":
        return child_timing(args)
    if args.child == "rss":
        return child_rss(args)

    isolated = REPO / "scripts" / "isolated"
    if not os.environ.get("ER_ISOLATED"):
        if os.environ.get("ER_BENCH_REEXEC"):
            print("bench_web: no loopback-only network namespace here (see scripts/isolated); "
                  "the browsers are never run outside one, so nothing was measured.")
            print("RATIO web app/bare: not measured (no namespace)   MISS")
            return 0
        os.environ["ER_BENCH_REEXEC"] = "1"
        os.execv(str(isolated), [str(isolated), sys.executable,  # noqa: S606
                                 str(Path(__file__).resolve()), *sys.argv[1:]])
    assert only_loopback(), "scripts/isolated left more than loopback"
    runs = 3 if args.quick else args.runs

    work = Path(tempfile.mkdtemp(prefix="bench-web-"))
    try:
        site = work / "site"
        site.mkdir()
        (site / "tall20k.html").write_text(tall_page(PAGE_HEIGHT), encoding="utf-8")
        (site / "tall30k.html").write_text(tall_page(RSS_PAGE_HEIGHT), encoding="utf-8")
        pages = [("20,000 px page", "tall20k.html")]
        corpus_page = CORPUS / LONGEST_CORPUS_PAGE / "source.html"
        if corpus_page.is_file():
            # A link, not a copy: the page is served from the corpus, read-only.
            (site / "corpus.html").symlink_to(corpus_page)
            pages.insert(0, (f"corpus: {LONGEST_CORPUS_PAGE}", "corpus.html"))
        else:
            print(f"bench_web: {CORPUS} is absent, so the corpus page is skipped.")
        chromium = shutil.which("chromium")
        if chromium is None:
            print("bench_web: chromium is not installed (apt-get install chromium), so the "
                  "headless Chromium baseline is skipped.")
        port = serve(site)
        base = f"http://127.0.0.1:{port}/"

        results, _ = run_child("timing", work, "|".join(base + p for _, p in pages),
                               "|".join(label for label, _ in pages), runs)
        _, peak = run_child("rss", work, base + "tall30k.html", "30k", 1, sample=True)

        print(f"bench_web: {WIDTH}x{HEIGHT} window, {runs} interleaved runs per page, "
              f"offscreen Qt, loopback-only namespace")
        for label, _ in pages:
            r = results[label]
            print(f"  {label}: scroll height {r['app_height']} CSS px, "
                  f"{r['parts']} full-page part(s); bare stitched {r['stitched']} px")
            print(f"  (info) first capture_page + save_page in the process: {r['first']:.3f} s")
            print(describe("app: capture-to-committed (on screen)", r["app"]))
            print(describe("  of which save_page (into the vault)", r["save"]))
            print(describe("app: load + capture + save", r["app_whole"]))
            print(describe("bare: stitch (on screen)", r["bare"]))
            print(describe("bare: stitch + PNG encode (level 1)", r["bare_png"]))
            if r["chromium"]:
                print(describe("chromium --headless --screenshot", r["chromium"]))
        print(f"  peak process-tree RSS, capture + save of a {RSS_PAGE_HEIGHT:,} px page: "
              f"{peak:.0f} MB")
        for label, _ in pages:
            r = results[label]
            verdict(f"web {label} app capture-to-committed/bare stitch (median)",
                    median(r["app"]) / median(r["bare"]), 1.3)
            print(f"  (info) {label} app/bare+PNG: "
                  f"{median(r['app']) / median(r['bare_png']):.2f}x")
            if r["chromium"]:
                verdict(f"web {label} app load+capture+save/chromium (median)",
                        median(r["app_whole"]) / median(r["chromium"]), 1.0)
                print(f"  (info) {label} app capture-to-committed/chromium: "
                      f"{median(r['app']) / median(r['chromium']):.2f}x")
            else:
                print(f"RATIO web {label} app/chromium: not measured (no chromium)   MISS")
        verdict(f"web peak RSS {RSS_PAGE_HEIGHT} px / {RSS_LIMIT_MB} MB", peak / RSS_LIMIT_MB,
                1.0)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
