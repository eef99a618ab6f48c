"""Pictures of a page: what the person saw, and the whole page stitched from screenfuls.

The whole page (or the panel captured whole) is scrolled through once first, so lazy
content loads, then scrolled again a screenful at a time, each screenful grabbed from
the view and painted into parts of at most :data:`PART_HEIGHT_CSS` CSS pixels.
Fixed and sticky elements are shown in the first screenful only. A page that keeps
growing as it is scrolled (an infinite feed) is taken up to :data:`MAX_PARTS` parts
or its share of the time, and the capture says so; a part is never cut silently.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field

from PySide6.QtCore import QBuffer, QByteArray, QCoreApplication, QIODevice, QRect
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWebEngineCore import QWebEnginePage
from PySide6.QtWebEngineWidgets import QWebEngineView

from evidence_recorder.core.gather.webpage import PART_HEIGHT_CSS, PagePicture
from evidence_recorder.web import scripts
from evidence_recorder.web.flow import RunJs, Sleep, Steps, WaitTimedOut

#: At most this many parts (an infinite feed is stopped there, with a note).
MAX_PARTS = 8
SETTLE_MS = 60  # after two animation frames, for the view to receive the frame

# Called by this name with literal texts, so that pyside6-lupdate extracts them.
translate = QCoreApplication.translate


def png_of(image: QImage) -> bytes:
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")  # type: ignore[call-overload]  # the stubs want bytes; Qt wants str
    buffer.close()
    return bytes(data.data())


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
                  point: tuple[int, int], until: float) -> Steps:
    """Steps that give a :class:`WholeResult`; ``until`` is the monotonic time to be done by."""
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
    started = time.monotonic()
    # Pass 1: scroll through so lazy content loads; stop an endless feed at a bound.
    load_until = started + max(1.0, (until - started) * 0.4)
    height = int(geometry["scrollHeight"])
    y, steady = 0, 0
    while True:
        now = _json((yield RunJs(page, scripts.scroll_to(y), scripts.WORLD)))
        yield Sleep(40)
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
            yield Sleep(250)  # give a feed a moment to add more at the bottom
        else:
            steady = 0
            y += step
    height = min(height, limit)
    for _ in range(20):  # lazy images started in pass 1: give them a moment
        if (yield RunJs(page, scripts.IMAGES_SETTLED, scripts.WORLD)) == "yes":
            break
        yield Sleep(100)
    # Pass 2: a screenful at a time into parts. A part is made when the first screenful
    # reaches it and turned into a PNG as soon as it is full, so at most two parts are
    # held as pixels at once, however many the page needs.
    n_parts = max(1, math.ceil(height / PART_HEIGHT_CSS))
    width = round(clip["w"] * dpr)
    open_parts: dict[int, QImage] = {}

    def part(i: int) -> QImage:
        if i not in open_parts:
            rows = min(PART_HEIGHT_CSS, height - i * PART_HEIGHT_CSS)
            image = QImage(width, round(rows * dpr), QImage.Format.Format_RGB32)
            image.fill(0xFFFFFFFF)
            open_parts[i] = image
        return open_parts[i]

    def close_part(i: int, rows: int) -> None:
        image = open_parts.pop(i)
        if rows * dpr < image.height():
            image = image.copy(0, 0, image.width(), round(rows * dpr))
        result.parts.append(PagePicture(png_of(image), image.width(), image.height(),
                                        i * PART_HEIGHT_CSS, rows))

    painted = 0  # CSS rows done
    y = 0
    first = True
    previous: QImage | None = None
    previous_top = -1
    while painted < height:
        if time.monotonic() > until:
            result.notes.append(translate(
                "WebCapture", "Time ran out: the full-page picture stops at {0:,} of "
                "{1:,} pixels.").format(painted, height))
            break
        now = _json((yield RunJs(page, scripts.scroll_to(y), scripts.WORLD)))
        for _ in range(10):
            if (yield RunJs(page, scripts.PAINTED, scripts.WORLD)) == "yes":
                break
            yield Sleep(16)
        yield Sleep(SETTLE_MS)
        top = round(float(now.get("top", y)))
        if top + step <= painted:  # the page got shorter: nothing more to scroll to
            result.notes.append(translate(
                "WebCapture", "The page got shorter while it was captured; the picture "
                "stops at {0:,} pixels.").format(painted))
            break
        frame = view.grab().toImage()
        for _ in range(3):  # the same pixels after scrolling: the new frame may be late
            if previous is None or frame != previous or top == previous_top:
                break
            yield Sleep(50)
            frame = view.grab().toImage()
        previous, previous_top = frame, top
        src = QRect(round(clip["x"] * dpr), round(clip["y"] * dpr), width,
                    round(clip["h"] * dpr))
        new_from, new_to = painted, min(height, top + step)
        last_part = min(n_parts - 1, (new_to - 1) // PART_HEIGHT_CSS)
        for i in range(new_from // PART_HEIGHT_CSS, last_part + 1):
            part_top = i * PART_HEIGHT_CSS
            a, b = max(new_from, part_top), min(new_to, part_top + PART_HEIGHT_CSS)
            if a >= b:
                continue
            painter = QPainter(part(i))
            target = QRect(0, round((a - part_top) * dpr), width, round((b - a) * dpr))
            source = QRect(src.x(), src.y() + round((a - top) * dpr), width, target.height())
            painter.drawImage(target, frame, source)
            painter.end()
        painted = new_to
        y = painted
        for i in sorted(open_parts):
            if (i + 1) * PART_HEIGHT_CSS <= painted:
                close_part(i, PART_HEIGHT_CSS)
        if first:
            first = False
            yield RunJs(page, scripts.HIDE_FIXED, scripts.WORLD)
    result.scroll_height = height
    for i in sorted(open_parts):
        rows = max(0, min(PART_HEIGHT_CSS, painted - i * PART_HEIGHT_CSS))
        if rows:
            close_part(i, rows)
        else:
            open_parts.pop(i)
    yield RunJs(page, scripts.RESTORE, scripts.WORLD)
    return result
