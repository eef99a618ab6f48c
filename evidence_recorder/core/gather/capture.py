"""Taking a screenshot: the whole desktop, one monitor or a rectangle, after an optional delay.

This module owns the rules that turn what the user asked for into exactly one
rectangle of pixels, a lossless PNG and the instant it was taken. The screen-grabber
interface and its backends (``mss`` today; a fake one for machines without a
screen) live in :mod:`grabbers`, and are importable from here as before. It never
imports a GUI toolkit, so the CLI and the tests can capture headlessly.

Coordinates are screen pixels, as the platform numbers them: the desktop is the
bounding box of all monitors and may start at negative x or y when a monitor sits
left of or above the primary one. Monitors are numbered 1..N in the order ``mss``
reports them.
"""

from __future__ import annotations

import io
import logging
import math
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import mss
import mss.tools
from PIL import Image

from evidence_recorder.core.errors import CaptureFailed, RefusedInput
from evidence_recorder.core.gather import images, windows

# The grabbers were part of this module; callers still find them here.
from evidence_recorder.core.gather.grabbers import (
    NO_DISPLAY_MESSAGE as NO_DISPLAY_MESSAGE,
)
from evidence_recorder.core.gather.grabbers import FakeGrabber as FakeGrabber
from evidence_recorder.core.gather.grabbers import Monitor as Monitor
from evidence_recorder.core.gather.grabbers import MssGrabber as MssGrabber
from evidence_recorder.core.gather.grabbers import Rect as Rect
from evidence_recorder.core.gather.grabbers import ScreenGrabber as ScreenGrabber
from evidence_recorder.core.gather.grabbers import _bounding_box
from evidence_recorder.core.gather.grabbers import default_grabber as default_grabber
from evidence_recorder.core.gather.grabbers import (
    release_thread_session as release_thread_session,
)
from evidence_recorder.core.i18n import QT_TRANSLATE_NOOP
from evidence_recorder.core.model import CaptureKind, utc_now

_log = logging.getLogger(__name__)

# zlib level 1: screenshots are large and mostly flat colour, so the fastest level
# already compresses them well, and the user is waiting for the capture to finish.
PNG_COMPRESS_LEVEL = 1


@dataclass(frozen=True, slots=True)
class Grab:
    """What one screenshot produced, before it goes into the vault."""

    png: bytes  # lossless PNG of exactly the grabbed pixels
    width: int  # of the image; larger than the region on a HiDPI (Retina) screen
    height: int
    captured_at: datetime  # UTC, ms precision, taken immediately before the backend call
    kind: CaptureKind  # SCREEN (all monitors), MONITOR or REGION
    region: Rect  # what was grabbed, in screen pixels, after clipping to the desktop
    monitor: int | None  # which monitor, for MONITOR
    monitors: tuple[Monitor, ...]  # the monitor layout at grab time
    backend: str  # the grabber's name ("mss"), so a record says how it was made
    # The report previews and the thumbnail (JPEG), made from the pixels in memory while
    # the PNG was encoded; empty when not made, and then made from ``png`` on saving.
    preview: bytes = b""
    preview_small: bytes = b""
    thumbnail: bytes = b""


def _intersect(a: Rect, b: Rect) -> Rect | None:
    left, top = max(a[0], b[0]), max(a[1], b[1])
    right, bottom = min(a[0] + a[2], b[0] + b[2]), min(a[1] + a[3], b[1] + b[3])
    if right <= left or bottom <= top:
        return None
    return (left, top, right - left, bottom - top)


def _format_rect(rect: Rect) -> str:
    return ",".join(str(n) for n in rect)


# --- the capture itself ------------------------------------------------------------


def grab(
    grabber: ScreenGrabber | None = None,
    *,
    monitor: int | None = None,
    region: Rect | None = None,
    delay: float = 0.0,
    on_countdown: Callable[[int], None] | None = None,
) -> Grab:
    """Take one screenshot: every monitor, one ``monitor``, or a ``region``.

    A region partly off the desktop is clipped to the desktop's bounding box (so a
    rectangle dragged past the edge still captures what is visible); one that
    touches no monitor at all is refused. ``Grab.region`` says what was taken.

    With a ``delay`` the user has time to open a menu or scroll to the post; the
    wait is in one-second steps, calling ``on_countdown(seconds_left)`` at each so
    a UI can show it. The callback runs on the calling thread. The arguments and
    the layout are checked before the wait, so a mistake does not cost the delay,
    and the layout is read again after it, since the timestamp and the recorded
    layout must describe the moment of the grab.
    """
    if monitor is not None and region is not None:
        raise RefusedInput(QT_TRANSLATE_NOOP("EvidenceError", "Choose a monitor or a region to "
                                                              "capture, not both."))
    if region is not None:
        _check_region_size(region)
    if not math.isfinite(delay) or delay < 0:
        raise RefusedInput(QT_TRANSLATE_NOOP("EvidenceError", "The delay before a capture must be "
                                                              "zero or more seconds."))
    if grabber is None:
        grabber = default_grabber()

    if delay > 0:
        _resolve(grabber.monitors(), monitor, region)
        _count_down(delay, on_countdown)

    layout = tuple(grabber.monitors())
    kind, rect = _resolve(layout, monitor, region)
    return _grab_rect(grabber, layout, kind, rect, monitor)


def _grab_rect(grabber: ScreenGrabber, layout: tuple[Monitor, ...], kind: CaptureKind,
               rect: Rect, monitor: int | None) -> Grab:
    """The grab itself: the time is taken immediately before the pixels are read."""
    captured_at = utc_now()
    image = grabber.grab_pixels(*rect)
    if image.mode != "RGB":
        image = image.convert("RGB")
    return _grab_of(image, captured_at=captured_at, kind=kind, region=rect, monitor=monitor,
                    monitors=layout, backend=grabber.name)


def grab_window(
    grabber: ScreenGrabber | None = None,
    *,
    delay: float = 0.0,
    on_countdown: Callable[[int], None] | None = None,
    window_rect: Callable[[], Rect] | None = None,
) -> Grab:
    """Take a screenshot of the active window, frame included, after an optional delay.

    The window is looked up only when the countdown ends, so the user can click the
    window they mean while it runs. ``window_rect`` says where that window is
    (default: :func:`windows.active_window_rect`, X11 only); whether such a lookup
    can work at all is checked before the wait, so a desktop without window capture
    does not cost the delay. The window is grabbed as a region: the part past the
    desktop's edge is clipped off, and one entirely off screen is refused.
    """
    if not math.isfinite(delay) or delay < 0:
        raise RefusedInput(QT_TRANSLATE_NOOP("EvidenceError", "The delay before a capture must be "
                                                              "zero or more seconds."))
    if window_rect is None:
        windows.check_supported()
        window_rect = windows.active_window_rect
    if grabber is None:
        grabber = default_grabber()

    if delay > 0:
        _resolve(grabber.monitors(), None, None)
        _count_down(delay, on_countdown)

    wanted = window_rect()
    layout = tuple(grabber.monitors())
    _, desktop = _resolve(layout, None, None)
    rect = _intersect(wanted, desktop) if wanted[2] > 0 and wanted[3] > 0 else None
    if rect is None or not any(_intersect(rect, m.rect) for m in layout):
        raise CaptureFailed(
            QT_TRANSLATE_NOOP("EvidenceError", "The active window is not on any monitor, so there "
                                               "is nothing of it to capture. Move it onto the "
                                               "screen and try again.")
        )
    return _grab_rect(grabber, layout, CaptureKind.WINDOW, rect, None)


def crop(desktop: Grab, region: Rect) -> Grab:
    """Cut ``region`` (screen pixels) out of an earlier grab, as marked on the frozen screenshot.

    The app grabs the whole desktop first and lets the user mark a rectangle on that
    still picture, so what they marked is exactly what is kept. The result keeps the
    earlier grab's moment, layout and backend: its pixels were on screen then, not
    when the user finished marking. The same clipping rules as :func:`grab` apply.
    """
    _check_region_size(region)
    _, on_desktop = _resolve(desktop.monitors, None, region)
    clipped = _intersect(on_desktop, desktop.region)
    if clipped is None:
        shown = desktop.region
        raise CaptureFailed(
            f"The region {_format_rect(region)} is outside the screenshot, which shows "
            f"{shown[2]} by {shown[3]} pixels from {shown[0]},{shown[1]}."
        )
    scale_x = desktop.width / desktop.region[2]  # above 1 on a HiDPI (Retina) screen
    scale_y = desktop.height / desktop.region[3]
    left, top = clipped[0] - desktop.region[0], clipped[1] - desktop.region[1]
    box = (
        round(left * scale_x),
        round(top * scale_y),
        round((left + clipped[2]) * scale_x),
        round((top + clipped[3]) * scale_y),
    )
    with Image.open(io.BytesIO(desktop.png)) as image:
        piece = image.crop(box)
    return _grab_of(piece, captured_at=desktop.captured_at, kind=CaptureKind.REGION,
                    region=clipped, monitor=None, monitors=desktop.monitors,
                    backend=desktop.backend)


def _grab_of(image: Image.Image, **facts: Any) -> Grab:
    """``image`` as a grab: its PNG and the previews made from the same pixels, with the
    facts of how it was taken (time, kind, region, monitors, backend)."""
    png, (preview, preview_small, thumbnail) = _encode_with_previews(image)
    return Grab(png=png, preview=preview, preview_small=preview_small, thumbnail=thumbnail,
                width=image.width, height=image.height, **facts)


def _encode_with_previews(image: Image.Image
                          ) -> tuple[bytes, tuple[bytes, bytes, bytes]]:
    """The PNG, and the previews and thumbnail made at the same time on a second core.

    zlib and Pillow both let go of the GIL while they work, so the previews cost the
    capture next to nothing instead of a second decode of the PNG afterwards.
    """
    made: list[tuple[bytes, bytes, bytes]] = []
    failed: list[BaseException] = []

    def previews() -> None:
        try:
            made.append(images.previews_of(image))
        except Exception as exc:  # made again from the PNG on saving, which reports it
            failed.append(exc)

    worker = threading.Thread(target=previews, name="capture-previews", daemon=True)
    worker.start()
    try:
        png = encode_png(image)
    finally:
        worker.join()
    if made:
        return png, made[0]
    if failed:
        _log.warning("previews of a grab could not be made: %s", type(failed[0]).__name__)
    return png, (b"", b"", b"")


def _check_region_size(region: Rect) -> None:
    if region[2] <= 0 or region[3] <= 0:
        raise RefusedInput(
            f"A capture region must be at least 1 pixel wide and high; "
            f"{_format_rect(region)} is {region[2]} by {region[3]}."
        )


def _resolve(
    layout: Sequence[Monitor], monitor: int | None, region: Rect | None
) -> tuple[CaptureKind, Rect]:
    """Turn the request into the one rectangle to grab, or say plainly why not."""
    if not layout:
        raise CaptureFailed(QT_TRANSLATE_NOOP("EvidenceError", "Evidence Recorder could not find "
                                                               "any monitor to capture."))
    desktop = _bounding_box(layout)
    if monitor is not None:
        for candidate in layout:
            if candidate.index == monitor:
                return CaptureKind.MONITOR, candidate.rect
        numbers = sorted(m.index for m in layout)
        if len(numbers) == 1:
            valid = f"this computer has only monitor {numbers[0]}"
        else:
            valid = f"this computer has monitors {numbers[0]} to {numbers[-1]}"
        raise CaptureFailed(f"There is no monitor {monitor}; {valid}.")
    if region is not None:
        clipped = _intersect(region, desktop)
        if clipped is None or not any(_intersect(clipped, m.rect) for m in layout):
            raise CaptureFailed(
                f"The region {_format_rect(region)} is not on any monitor; the desktop is "
                f"{desktop[2]} by {desktop[3]} pixels with its top-left corner at "
                f"{desktop[0]},{desktop[1]}."
            )
        return CaptureKind.REGION, clipped
    return CaptureKind.SCREEN, desktop


def _count_down(
    delay: float,
    on_countdown: Callable[[int], None] | None,
    *,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Wait ``delay`` seconds, announcing each whole second left (3, 2, 1)."""
    deadline = clock() + delay
    shown: int | None = None
    while (left := deadline - clock()) > 0:
        whole = math.ceil(left)
        if whole != shown:
            shown = whole
            if on_countdown is not None:
                on_countdown(whole)
        # Sleep until the next whole second remains, so the steps stay on the beat.
        sleep(left - (whole - 1))


# --- encoding and parsing ----------------------------------------------------------


def encode_png(
    pixels: Image.Image | bytes | bytearray, size: tuple[int, int] | None = None
) -> bytes:
    """A lossless PNG of an image, or of packed ``RGB`` bytes of the given ``size``.

    ``RGB`` goes through ``mss.tools.to_png`` at zlib level 1: on 4K screenshots it
    took 0.45 to 0.7 times as long as Pillow's encoder at ``compress_level=1``, and
    its files were no larger. The file carries no metadata chunks, so the same pixels always
    give the same bytes (and the same hash). Other image modes go through Pillow.
    """
    if isinstance(pixels, Image.Image):
        if pixels.mode != "RGB":
            buffer = io.BytesIO()
            pixels.save(buffer, "PNG", compress_level=PNG_COMPRESS_LEVEL)
            return buffer.getvalue()
        size, raw = pixels.size, pixels.tobytes()
    else:
        if size is None:
            raise ValueError("raw RGB pixels need a size")
        raw = bytes(pixels)
    width, height = size
    if width <= 0 or height <= 0 or len(raw) != width * height * 3:
        msg = f"{len(raw)} bytes are not {width}x{height} RGB pixels"
        raise ValueError(msg)
    png = mss.tools.to_png(raw, (width, height), level=PNG_COMPRESS_LEVEL)
    if png is None:  # only when writing to a file, which we never ask for
        raise RuntimeError("mss.tools.to_png returned no data")
    return png


_REGION_SYNTAX = re.compile(r"\s*(-?\d+)\s*,\s*(-?\d+)\s*,\s*(-?\d+)\s*,\s*(-?\d+)\s*", re.ASCII)


def parse_region(text: str) -> Rect:
    """Read ``--region X,Y,W,H``: the top-left corner, then width and height, in pixels."""
    match = _REGION_SYNTAX.fullmatch(text)
    if match is None:
        raise RefusedInput(
            f"A region is four whole numbers X,Y,W,H (left, top, width, height in pixels), "
            f"such as 0,0,800,600; {text!r} is not."
        )
    left, top, width, height = (int(part) for part in match.groups())
    region = (left, top, width, height)
    _check_region_size(region)
    return region
