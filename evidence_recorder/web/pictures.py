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
from collections.abc import Callable
from dataclasses import dataclass, field

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QRect
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWebEngineCore import QWebEnginePage
from PySide6.QtWebEngineWidgets import QWebEngineView

from evidence_recorder.core.gather.webpage import PART_HEIGHT_CSS, PagePicture
from evidence_recorder.web import scripts
from evidence_recorder.web.flow import RunJs, Sleep, Steps, WaitTimedOut

#: At most this many parts (an infinite feed is stopped there, with a note).
MAX_PARTS = 8
SETTLE_MS = 60  # after two animation frames, for the view to receive the frame


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
                  point: tuple[int, int], until: float, tr: Callable[[str], str]) -> Steps:
    """Steps that give a :class:`WholeResult`; ``until`` is the monotonic time to be done by."""
    result = WholeResult()
    geometry = _json((yield RunJs(page, scripts.setup_scroller(mode, selector, *point),
                                  scripts.WORLD)))
    problems = {
        "no-match": tr("Nothing on the page matches the panel asked for ({0})."),
        "bad-selector": tr("The panel asked for ({0}) is not a valid CSS selector."),
        "not-scrolling": tr("The panel asked for ({0}) does not scroll."),
    }
    if geometry.get("error") in problems:
        raise LookupError(problems[geometry["error"]].format(selector))
    if not geometry:
        raise WaitTimedOut()
    if geometry.get("note") == "auto-panel":
        result.notes.append(tr("The page itself does not scroll, so its largest scrolling panel "
                               "was captured whole."))
    if geometry.get("note") == "no-panel-at-point":
        result.notes.append(tr("No scrolling panel was found where you pointed, so the whole "
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
        yield Sleep(80)
        height = int(now.get("height", height))
        if height > limit or time.monotonic() > load_until:
            result.notes.append(tr(
                "The page kept loading more as it was scrolled; it was captured down to "
                "{0:,} pixels.").format(min(height, limit)))
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
    # Pass 2: a screenful at a time into parts.
    n_parts = max(1, math.ceil(height / PART_HEIGHT_CSS))
    images: list[QImage] = []
    for i in range(n_parts):
        rows = min(PART_HEIGHT_CSS, height - i * PART_HEIGHT_CSS)
        image = QImage(round(clip["w"] * dpr), round(rows * dpr), QImage.Format.Format_RGB32)
        image.fill(0xFFFFFFFF)
        images.append(image)
    painted = 0  # CSS rows done
    y = 0
    first = True
    while painted < height:
        if time.monotonic() > until:
            result.notes.append(tr("Time ran out: the full-page picture stops at {0:,} of "
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
            result.notes.append(tr("The page got shorter while it was captured; the picture "
                                   "stops at {0:,} pixels.").format(painted))
            break
        frame = view.grab().toImage()
        src = QRect(round(clip["x"] * dpr), round(clip["y"] * dpr), round(clip["w"] * dpr),
                    round(clip["h"] * dpr))
        new_from, new_to = painted, min(height, top + step)
        for i, image in enumerate(images):
            part_top = i * PART_HEIGHT_CSS
            a, b = max(new_from, part_top), min(new_to, part_top + PART_HEIGHT_CSS)
            if a >= b:
                continue
            painter = QPainter(image)
            target = QRect(0, round((a - part_top) * dpr), src.width(), round((b - a) * dpr))
            source = QRect(src.x(), src.y() + round((a - top) * dpr), src.width(), target.height())
            painter.drawImage(target, frame, source)
            painter.end()
        painted = new_to
        y = painted
        if first:
            first = False
            yield RunJs(page, scripts.HIDE_FIXED, scripts.WORLD)
    result.scroll_height = height
    for i, image in enumerate(images):
        part_top = i * PART_HEIGHT_CSS
        rows = max(0, min(PART_HEIGHT_CSS, painted - part_top))
        if rows == 0:
            break
        if rows * dpr < image.height():
            image = image.copy(0, 0, image.width(), round(rows * dpr))
        result.parts.append(PagePicture(png_of(image), image.width(), image.height(),
                                        part_top, rows))
        images[i] = QImage()
    yield RunJs(page, scripts.RESTORE, scripts.WORLD)
    return result
