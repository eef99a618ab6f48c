"""Pictures of a page: what the person saw, and the whole page stitched from screenfuls.

The whole page (or the panel captured whole) is scrolled through a screenful at a
time, each screenful grabbed from the view once its pictures in view have loaded (lazy
ones load as they come into view) and painted into parts of at most
:data:`PART_HEIGHT_CSS` CSS pixels (and as many pixels: shorter parts on a high-density
screen), compressed into PNG while the next screenfuls are grabbed. Should the page
change on the way (a feed adding more, a picture grabbed before it had loaded), it is
scrolled through once more, so lazy content loads, and grabbed again as it is then.
Fixed and sticky elements are shown in the first screenful only. A page that keeps
growing as it is scrolled (an infinite feed) is taken down to :data:`MAX_PARTS` x
:data:`PART_HEIGHT_CSS` CSS pixels
or its share of the time, and the capture says so; a part is never cut silently.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import math
import mmap
import os
import struct
import threading
import time
import zlib
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import (
    QCoreApplication,
    QObject,
    QRect,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWebEngineCore import QWebEnginePage
from PySide6.QtWebEngineWidgets import QWebEngineView

from evidence_recorder.core.gather.webpage import PART_HEIGHT_CSS, PagePicture
from evidence_recorder.web import scripts
from evidence_recorder.web.flow import Marked, RunJs, Sleep, Steps, Wait, WaitTimedOut

#: At most this many parts (an infinite feed is stopped there, with a note).
MAX_PARTS = 8
FRAME_RETRY_MS = 50  # a grab showing the last screenful again: the longest wait for another
BOTTOM_WAIT_MS = 120  # at the bottom, for a feed to add more
FALLBACK_SETTLE_MS = 60  # when the view's frames cannot be counted
FRAME_BOUND_MS = 1500  # the longest wait for the view to draw a new frame
QUIET_MS = 150  # no frame for this long after a load: the view shows the page as loaded
PAINTED_POLL_MS = 4  # how often the page is asked whether its frames are drawn
LATE_PICTURE_MS = 250  # a picture changed in view: the longest wait for a frame with it

_ENCODER: ThreadPoolExecutor | None = None
_MARKS = itertools.count(1)  # each screenful's mark is new (see GuardedPage.marked)


def _encoder() -> ThreadPoolExecutor:
    """One worker thread that compresses the pictures into PNG while the capture goes on
    (zlib lets go of Python's lock, so the event loop keeps running)."""
    global _ENCODER
    if _ENCODER is None:
        _ENCODER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="er-png",
                                      initializer=_yield_to_the_browser)
    return _ENCODER


def _yield_to_the_browser() -> None:
    """The encoder works when the processor is otherwise idle: on a busy machine the
    browser drawing the next screenful comes first (the capture waits for it), and the
    little left to compress at the end is done at once. Linux: a thread's own niceness."""
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)

# Called by this name with literal texts, so that pyside6-lupdate extracts them.
translate = QCoreApplication.translate


#: zlib level 1 for every picture: as the screen captures, far faster than the default
#: level 6 for a few per cent more bytes.
PNG_LEVEL = 1


def part_height_css(dpr: float) -> int:
    """The CSS height of one full-page part: :data:`PART_HEIGHT_CSS`, or less on a
    high-density screen so that a part never holds more pixels than at 1x (at 2x a
    30,000 px part would be 2560 x 60,000 pixels, 614 MB while it is made and another
    while the next one is: over the memory bound). Parts still follow on, never cut."""
    scale = max(dpr, 1.0)
    return max(1000, min(PART_HEIGHT_CSS, int(PART_HEIGHT_CSS / (scale * scale))))


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


class PngStream:
    """A picture painted a band at a time and made into PNG while it is painted.

    Its pixels are kept as PNG compresses them: each row is a filter byte (0, none)
    then 8-bit RGB. :attr:`image` is a QImage (RGB888) over that memory whose rows are
    one byte longer than their pixels: that byte, never painted, stays 0 and is the
    next row's filter byte, so the rows PNG needs are this memory as it is, after one
    leading 0. :meth:`rows_done` hands rows that will not be painted again to the
    encoder (one worker thread; zlib lets go of Python's lock while it compresses, so
    the event loop and the painting go on meanwhile); :meth:`finish` gives the PNG (a
    Future). Its memory is not touched before it is painted (a tall part is tens of MB):
    rows never painted would be black, so paint every row handed on.
    """

    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        self.stride = 3 * width + 1
        # Anonymous memory: zero pages the system hands over as they are first written
        # (a bytearray would write tens of MB of zeros first).
        self._memory: mmap.mmap | None = mmap.mmap(-1, max(1, self.stride * height))
        self.image = QImage(self._memory, width, height, self.stride,  # type: ignore[call-overload]
                            QImage.Format.Format_RGB888)
        self._zlib = zlib.compressobj(PNG_LEVEL)
        self._out: list[bytes] = [self._zlib.compress(b"\0")]
        self._fed = 0  # bytes of memory handed to the encoder
        self._cancelled = False

    def _feed(self, start: int, end: int) -> None:
        if self._cancelled or self._memory is None:
            return
        view = memoryview(self._memory)[start:end]
        try:
            self._out.append(self._zlib.compress(view))
        finally:
            view.release()

    def rows_done(self, rows: int) -> None:
        """Rows ``0 .. rows-1`` are final: compress them in the worker."""
        end = min(rows, self.height) * self.stride - 1  # the last row's spare byte: not yet
        if end > self._fed:
            _encoder().submit(self._feed, self._fed, end)
            self._fed = end

    def finish(self, rows: int | None = None) -> Future[bytes]:
        """The PNG of the first ``rows`` rows (all by default), made in the worker."""
        rows = self.height if rows is None else max(1, min(rows, self.height))
        self.rows_done(rows)
        self.image = QImage()  # no painting any more

        def png() -> bytes:
            data = b"".join([*self._out, self._zlib.flush()])
            self._out.clear()
            self._release()
            header = struct.pack(">IIBBBBB", self.width, rows, 8, 2, 0, 0, 0)
            return b"".join((b"\x89PNG\r\n\x1a\n", _chunk(b"IHDR", header),
                             _chunk(b"IDAT", data), _chunk(b"IEND", b"")))

        return _encoder().submit(png)

    def cancel(self) -> None:
        """Not wanted after all: compress no more of it."""
        self._cancelled = True
        self.image = QImage()
        _encoder().submit(self._release)  # after what the worker is doing with it

    def _release(self) -> None:
        memory, self._memory = self._memory, None
        if memory is not None:
            with contextlib.suppress(BufferError):  # still lent out: unmapped when let go
                memory.close()


def png_of(image: QImage) -> bytes:
    """The PNG of a picture (as :class:`PngStream` writes them, here at once)."""
    stream = PngStream(image.width(), image.height())
    painter = QPainter(stream.image)
    whole = QRect(0, 0, image.width(), image.height())
    painter.drawImage(whole, image, whole)  # pixel for pixel, whatever its pixel ratio
    painter.end()
    return stream.finish().result()


class FrameCounter(QObject):
    """Counts the frames the view has drawn: a grab shows what the last one drew.

    Chromium hands frames to the view's Qt Quick delegate some time after the page has
    drawn them (after a load, half a second or more), so a grab right after the page
    says "drawn" can show an older frame. ``count`` is None when the delegate is not
    the expected QQuickWidget (another Qt version) or PySide6.QtQuickWidgets cannot be
    imported: callers then wait a fixed time, which may grab an older frame.
    """

    drawn = Signal()  # a frame was drawn (count is one more)

    def __init__(self, view: QWebEngineView) -> None:
        super().__init__(view)
        self.view = view
        self.count: int | None = None
        self._no_quick = False

    def attach(self) -> None:
        """Start counting (the delegate exists once the view has shown a page)."""
        if self.count is not None or self._no_quick:
            return
        try:  # the packaged app may leave Qt Quick's Python modules out (see packaging/)
            from PySide6.QtQuickWidgets import QQuickWidget
        except ImportError:
            self._no_quick = True
            return
        quick = self.view.findChild(QQuickWidget)
        window = getattr(quick, "quickWindow", lambda: None)()
        if window is None:
            return
        self.count = 0
        window.afterRendering.connect(self._drawn, Qt.ConnectionType.DirectConnection)

    def _drawn(self) -> None:
        self.count = (self.count or 0) + 1
        self.drawn.emit()


class _FrameDrawn(Wait):
    """Until the counter counts more than ``after`` frames (resumed as the frame is drawn,
    not found later by asking again and again)."""

    def __init__(self, counter: FrameCounter, after: int, timeout_ms: int) -> None:
        self.counter, self.after, self.timeout_ms = counter, after, timeout_ms
        self._resume: Callable[[Any], None] | None = None

    def start(self, owner: QObject, resume: Callable[[Any], None]) -> None:
        if (self.counter.count or 0) > self.after:
            QTimer.singleShot(0, owner, lambda: resume(None))
            return
        self._resume = resume
        self.counter.drawn.connect(self._check)

    def _check(self) -> None:
        if self._resume is not None and (self.counter.count or 0) > self.after:
            resume = self._resume
            self.stop()
            resume(None)

    def stop(self) -> None:
        if self._resume is not None:
            self._resume = None
            self.counter.drawn.disconnect(self._check)


def wait_for_frame(counter: FrameCounter | None, after: int | None, bound_ms: int) -> Steps:
    """Steps that wait until the view has drawn a frame since ``counter.count`` was
    ``after`` (at most ``bound_ms``), or a fixed time when frames cannot be counted."""
    if counter is None or counter.count is None or after is None:
        yield Sleep(FALLBACK_SETTLE_MS)
        return
    if counter.count > after:
        return
    with contextlib.suppress(WaitTimedOut):  # none came: the view's last frame is all there is
        yield _FrameDrawn(counter, after, bound_ms)


@dataclass
class LoadMarks:
    """The view's frame count when the page started loading and when it finished."""

    started: int | None = None
    finished: int | None = None
    finished_at: float = 0.0  # time.monotonic()

    def finish(self, frames: int | None) -> None:
        self.finished, self.finished_at = frames, time.monotonic()


def wait_for_page_frame(counter: FrameCounter | None, marks: LoadMarks,
                        bound_ms: int = FRAME_BOUND_MS) -> Steps:
    """Steps until the view shows the loaded page; their result is the frame count then
    (or ``marks.finished`` when frames cannot be counted).

    That is once the view has drawn a frame since the page finished loading, or, when
    it had drawn some while the page loaded and none for :data:`QUIET_MS` since it
    finished (the page was drawn before it said it had loaded: nothing more is coming),
    at once; at most ``bound_ms``.
    """
    if counter is None or counter.count is None or marks.finished is None:
        yield from wait_for_frame(counter, marks.finished, bound_ms)
        return marks.finished
    end = time.monotonic() + bound_ms / 1000
    drew_while_loading = marks.started is not None and marks.finished > marks.started
    while counter.count <= marks.finished and time.monotonic() < end:
        if drew_while_loading and time.monotonic() > marks.finished_at + QUIET_MS / 1000:
            break
        yield Sleep(5)
    return counter.count


def frames_drawn(counter: FrameCounter | None) -> int | None:
    if counter is None:
        return None
    counter.attach()
    return counter.count


def grab_visible(view: QWebEngineView, css_top: int, css_height: int) -> PagePicture:
    image = view.grab().toImage()
    return PagePicture(png_of(image), image.width(), image.height(), css_top, css_height)


@dataclass
class WholeResult:
    parts: list[PagePicture] = field(default_factory=list)
    panel: str = ""  # the selector of the panel captured whole ("" = the page)
    scroll_height: int = 0
    notes: list[str] = field(default_factory=list)
    dpr: float = 1.0


def _json(raw: object) -> dict:  # type: ignore[type-arg]
    return json.loads(raw) if isinstance(raw, str) and raw else {}


def capture_whole(page: QWebEnginePage, view: QWebEngineView, mode: str, selector: str,
                  point: tuple[int, int], until: float,
                  counter: FrameCounter | None = None, since: int | None = None) -> Steps:
    """Steps that give a :class:`WholeResult`; ``until`` is the monotonic time to be done by.

    ``counter`` counts the view's frames; ``since``: the view showed the page as it is
    once it had drawn more than ``since`` frames (for the first screenful, when the page
    is at its top already and scrolling there draws nothing new).
    """
    result = WholeResult()
    geometry = _json((yield RunJs(page, scripts.setup_scroller(mode, selector, *point),
                                  scripts.WORLD)))
    problems = {
        "no-match": translate(
            "WebCapture", "Nothing on the page matches the panel asked for ({0})."),
        "bad-selector": translate(
            "WebCapture", "The panel asked for ({0}) is not a valid CSS selector."),
        "not-scrolling": translate("WebCapture", "The panel asked for ({0}) does not scroll."),
    }
    if geometry.get("error") in problems:
        raise LookupError(problems[geometry["error"]].format(selector))
    if not geometry:
        raise WaitTimedOut()
    if geometry.get("note") == "auto-panel":
        result.notes.append(translate(
            "WebCapture", "The page itself does not scroll, so its largest scrolling panel "
                               "was captured whole."))
    if geometry.get("note") == "no-panel-at-point":
        result.notes.append(translate(
            "WebCapture", "No scrolling panel was found where you pointed, so the whole "
                               "page was captured."))
    result.panel = geometry.get("selector", "")
    clip = geometry["clip"]
    dpr = float(geometry.get("dpr") or 1.0)
    result.dpr = dpr
    step = max(1, int(clip["h"]))
    limit = MAX_PARTS * PART_HEIGHT_CSS
    height = int(geometry["scrollHeight"])
    # Pass 1: grab as it scrolls, each screenful once its pictures in view have loaded
    # (lazy ones start loading as they come into view). Most pages are done here. Should
    # the page change on the way (its height: a feed adding more, content loaded as it
    # came into view; or a picture already grabbed loading or changing since), what was
    # grabbed may no longer line up or be complete: it is dropped, and the page scrolled
    # through (pass 2) then grabbed again (pass 3) as it is then.
    if height <= limit:
        grabbed = yield from _grab_pass(page, view, counter, result, clip, dpr, height,
                                        until, grow_check=True,
                                        start_top=int(geometry.get("top", 0)), since=since)
        if grabbed:
            yield RunJs(page, scripts.RESTORE, scripts.WORLD)
            return result
    started = time.monotonic()
    load_until = started + max(1.0, (until - started) * 0.4)
    # Pass 2: scroll through, one drawn frame per screenful, so that lazy content (native
    # lazy images, scripts watching what comes into view) starts loading; bounded for an
    # endless feed. At the bottom, a moment for a feed to add more.
    now = _json((yield RunJs(page, scripts.WHERE_NOW, scripts.WORLD)))
    y, steady = int(now.get("top", 0)), 0
    while True:
        now = _json((yield RunJs(page, scripts.scroll_to(y, frames=1), scripts.WORLD)))
        for _ in range(60):
            answer = _json((yield RunJs(page, scripts.PAINTED, scripts.WORLD)))
            if answer:
                now = answer
                break
            yield Sleep(8)
        height = int(now.get("height", height))
        if height > limit or time.monotonic() > load_until:
            result.notes.append(translate(
                "WebCapture", "The page kept loading more as it was scrolled; it was captured "
                "down to {0:,} pixels.").format(min(height, limit)))
            break
        if y + step >= height:
            steady += 1
            if steady >= 2:
                break
            yield Sleep(BOTTOM_WAIT_MS)  # give a feed a moment to add more at the bottom
        else:
            steady = 0
            y += step
    height = min(height, limit)
    for _ in range(20):  # lazy images started in pass 2: give them a moment
        if (yield RunJs(page, scripts.IMAGES_SETTLED, scripts.WORLD)) == "yes":
            break
        yield Sleep(50)
    # Pass 3: as pass 1; should the page change height again, it is grabbed once more
    # as it is then, no longer waiting for it to stay still.
    grabbed = yield from _grab_pass(page, view, counter, result, clip, dpr, height, until,
                                    grow_check=True, start_top=y, since=since)
    if not grabbed:
        now = _json((yield RunJs(page, scripts.WHERE_NOW, scripts.WORLD)))
        height = min(limit, int(now.get("height", height)))
        yield from _grab_pass(page, view, counter, result, clip, dpr, height, until,
                              grow_check=False, start_top=int(now.get("top", 1)) or 1,
                              since=since)
    yield RunJs(page, scripts.RESTORE, scripts.WORLD)
    return result


def _grab_pass(page: QWebEnginePage, view: QWebEngineView, counter: FrameCounter | None,
               result: WholeResult,
               clip: dict[str, float], dpr: float, height: int, until: float,
               grow_check: bool, start_top: int, since: int | None) -> Steps:
    """Steps that scroll through ``height`` CSS px a screenful at a time, into parts.

    A part is made when the first screenful reaches it; each band painted into it is
    compressed at once (a :class:`PngStream`: a worker thread) and the part finished as
    soon as it is full, so at most two parts are held as pixels at once, however many
    the page needs, and the last band is all that is left to compress at the end.
    With ``grow_check``, gives False (and keeps no part) as soon as the page's height is
    not ``height`` any more, or once at the bottom when a picture grabbed on the way has
    changed since (loaded late, or replaced); otherwise True.
    """
    step = max(1, int(clip["h"]))
    part_css = part_height_css(dpr)
    n_parts = max(1, math.ceil(height / part_css))
    width = round(clip["w"] * dpr)
    open_parts: dict[int, PngStream] = {}
    encoded: list[tuple[Future[bytes], int, int, int, int]] = []

    def part(i: int) -> PngStream:
        if i not in open_parts:
            rows = min(part_css, height - i * part_css)
            open_parts[i] = PngStream(width, round(rows * dpr))
        return open_parts[i]

    def close_part(i: int, rows: int) -> None:
        stream = open_parts.pop(i)
        pixels = min(stream.height, round(rows * dpr))
        encoded.append((stream.finish(pixels), stream.width, pixels, i * part_css, rows))

    def grew(now: dict) -> bool:  # type: ignore[type-arg]
        return grow_check and int(now.get("height", height)) != height

    def drop() -> Steps:
        for stream in open_parts.values():
            stream.cancel()
        open_parts.clear()
        for future, *_ in encoded:
            future.cancel()
        if hidden:
            yield RunJs(page, scripts.UNHIDE_FIXED, scripts.WORLD)
        return False

    painted = 0  # CSS rows done
    y = 0
    hidden = False
    patience_s = 1.6  # the page gives up waiting for pictures after 1.5 s
    marker = str(getattr(page, "marker", ""))  # a GuardedPage tells us when it has drawn
    previous: QImage | None = None
    previous_top = -1
    notes: list[str] = []
    while painted < height:
        if time.monotonic() > until:
            notes.append(translate(
                "WebCapture", "Time ran out: the full-page picture stops at {0:,} of "
                "{1:,} pixels.").format(painted, height))
            break
        # Fixed and sticky elements are hidden once the first screenful has them.
        hide, hidden = painted > 0 and not hidden, hidden or painted > 0
        # The first screenful, when nothing moves, may make the view draw nothing new:
        # then a frame drawn after ``since`` will do.
        before = frames_drawn(counter) if painted or start_top != 0 else since
        mark = f"{marker}:{next(_MARKS)}:" if marker else ""
        patience = time.monotonic() + patience_s
        if mark:  # the page says when: two frames drawn, and the pictures in view loaded
            # (with where it is), so the script's own answer is not waited for.
            page.runJavaScript(scripts.scroll_to(y, hide, mark=mark), scripts.WORLD)
            try:
                now = _json((yield Marked(page, mark, int(patience_s * 1000))))
            except WaitTimedOut:
                patience_s = 0.16  # no frames drawn (a hidden view?): not that long again
                now = _json((yield RunJs(page, scripts.WHERE_NOW, scripts.WORLD)))
        else:
            now = _json((yield RunJs(page, scripts.scroll_to(y, hide), scripts.WORLD)))
        while not mark:  # asked again and again: two frames drawn, and the pictures loaded
            answer = _json((yield RunJs(page, scripts.PAINTED, scripts.WORLD)))
            if answer:
                now = answer
                break
            if time.monotonic() > patience:
                patience_s = 0.16  # no frames drawn (a hidden view?): not that long again
                break
            yield Sleep(PAINTED_POLL_MS)
        # A picture in view changed after the scroll: the frames the view has drawn may all
        # be older than it; the one to grab is drawn after now.
        late = frames_drawn(counter) if now.get("changed") else None
        if grew(now):
            return (yield from drop())
        top = round(float(now.get("top", y)))
        if top + step <= painted:  # the page got shorter: nothing more to scroll to
            notes.append(translate(
                "WebCapture", "The page got shorter while it was captured; the picture "
                "stops at {0:,} pixels.").format(painted))
            break
        # The view shows what its last frame drew: wait for one drawn since the scroll.
        yield from wait_for_frame(counter, before, FRAME_BOUND_MS)
        if late is not None:
            yield from wait_for_frame(counter, late, LATE_PICTURE_MS)
        frame = view.grab().toImage()
        for _ in range(3):  # the same pixels after scrolling: the new frame may be late
            if previous is None or top == previous_top or frame != previous:
                break
            yield from wait_for_frame(counter, frames_drawn(counter), FRAME_RETRY_MS)
            frame = view.grab().toImage()
        previous, previous_top = frame, top
        src = QRect(round(clip["x"] * dpr), round(clip["y"] * dpr), width,
                    round(clip["h"] * dpr))
        new_from, new_to = painted, min(height, top + step)
        last_part = min(n_parts - 1, (new_to - 1) // part_css)
        for i in range(new_from // part_css, last_part + 1):
            part_top = i * part_css
            a, b = max(new_from, part_top), min(new_to, part_top + part_css)
            if a >= b:
                continue
            stream = part(i)
            painter = QPainter(stream.image)
            # Bands meet exactly (each ends where the next begins, however it rounds), and
            # what the frame lacks (a row short at an odd pixel ratio) is white.
            row = round((a - part_top) * dpr)
            target = QRect(0, row, width, round((b - part_top) * dpr) - row)
            source = QRect(src.x(), src.y() + round((a - top) * dpr), width, target.height())
            painter.fillRect(target, Qt.GlobalColor.white)
            painter.drawImage(target, frame, source)
            painter.end()
            # Rows down to this band's last are final.
            stream.rows_done(target.y() + target.height())
        painted = new_to
        y = painted
        for i in sorted(open_parts):
            if (i + 1) * part_css <= painted:
                close_part(i, part_css)
        while sum(not future.done() for future, *_ in encoded) > 1:
            yield Sleep(10)  # the encoder is behind: hold no more parts as pixels
    if grow_check and painted >= height and (
            (yield RunJs(page, scripts.IMAGES_CHANGED, scripts.WORLD)) != ""):
        return (yield from drop())  # a picture grabbed before it had loaded, or changed
    result.notes.extend(notes)
    result.scroll_height = height
    for i in sorted(open_parts):
        rows = max(0, min(part_css, painted - i * part_css))
        if rows:
            close_part(i, rows)
        else:
            open_parts.pop(i)
    while not all(future.done() for future, *_ in encoded):
        yield Sleep(10)  # the event loop keeps going while the worker encodes
    result.parts = [PagePicture(future.result(), w, h, top, rows)
                    for future, w, h, top, rows in encoded]
    return True
