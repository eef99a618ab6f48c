"""Ways of reading the screen: the screen-grabber interface and its backends.

This module owns :class:`ScreenGrabber` (what every backend offers: the monitor
layout, read afresh, and the pixels of one rectangle), the backends themselves
(``mss`` for X11, Windows GDI and macOS CoreGraphics; a fake one that serves a
picture, for machines without a screen) and the fallback chain that picks the
first backend able to see the screen here. Platform differences stop at this
module: :mod:`capture` turns what the user asked for into one rectangle and a
PNG, whichever backend read the pixels. It never imports a GUI toolkit.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import mss
from mss.exception import ScreenShotError
from PIL import Image

from evidence_recorder.core.errors import CaptureFailed
from evidence_recorder.core.i18n import QT_TRANSLATE_NOOP

_log = logging.getLogger(__name__)


Rect = tuple[int, int, int, int]
"""left, top, width, height in screen pixels."""

NO_DISPLAY_MESSAGE = QT_TRANSLATE_NOOP("EvidenceError", "Evidence Recorder could not see the "
                                                        "screen: no display is available.")


@dataclass(frozen=True, slots=True)
class Monitor:
    """One monitor as the platform places it on the desktop."""

    index: int  # 1..N, as mss numbers them
    left: int
    top: int
    width: int
    height: int

    @property
    def rect(self) -> Rect:
        return (self.left, self.top, self.width, self.height)

    def as_dict(self) -> dict[str, int]:
        """The shape recorded in a capture's environment, so a reader can place the image."""
        return {
            "index": self.index,
            "left": self.left,
            "top": self.top,
            "width": self.width,
            "height": self.height,
        }


class ScreenGrabber(Protocol):
    """A way of reading the screen; platforms differ, so there are several."""

    name: str

    def monitors(self) -> list[Monitor]:
        """The current layout, read afresh: monitors come and go while the app runs."""
        ...

    def grab_pixels(self, left: int, top: int, width: int, height: int) -> Image.Image:
        """An ``RGB`` image of the rectangle, which lies inside the desktop.

        The image is ``width`` x ``height`` unless the platform measures the screen
        in points rather than pixels (macOS Retina), where it is larger.
        Environmental failures raise :class:`CaptureFailed`.
        """
        ...


def _bounding_box(layout: Sequence[Monitor]) -> Rect:
    left = min(m.left for m in layout)
    top = min(m.top for m in layout)
    right = max(m.left + m.width for m in layout)
    bottom = max(m.top + m.height for m in layout)
    return (left, top, right - left, bottom - top)



# --- the mss backend ---------------------------------------------------------------


class _Session:
    """One thread's mss instance and the display it is connected to.

    The instance is closed when the session is discarded or garbage-collected,
    which happens when its thread ends (worker pools retire idle threads), so
    connections to the display server do not pile up over a long day's use.
    """

    __slots__ = ("__weakref__", "close", "display", "sct")

    def __init__(self, display: str | None) -> None:
        self.display = display
        self.sct = _open_mss()
        self.close = weakref.finalize(self, _close_quietly, self.sct)


class _ThreadSessions(threading.local):
    session: _Session | None = None


_sessions = _ThreadSessions()


def _close_quietly(sct: mss.MSS) -> None:
    try:
        sct.close()
    except (ScreenShotError, OSError):  # already broken; nothing left to release
        _log.debug("Closing a broken screen session failed", exc_info=True)


class MssGrabber:
    """Reads the screen through ``mss`` (X11, Windows GDI, macOS CoreGraphics).

    Each thread keeps one mss instance for grabbing, shared by every
    ``MssGrabber``: mss objects must not cross threads, and the first grab of an
    instance sets up shared memory (about 70 ms at 4K under X11) that later grabs
    reuse. The layout, in contrast, is read with a fresh instance every time: mss
    caches it for the life of an instance and would not notice a monitor being
    plugged in.
    """

    name: str = "mss"

    def monitors(self) -> list[Monitor]:
        sct = _open_mss()
        try:
            reported = sct.monitors
        except (ScreenShotError, OSError) as exc:
            raise _grab_failed(exc) from exc
        finally:
            _close_quietly(sct)
        # Entry 0 is the whole desktop; without RandR (some X servers) it is all there is.
        entries = reported[1:] or reported[:1]
        return [
            Monitor(i, int(m["left"]), int(m["top"]), int(m["width"]), int(m["height"]))
            for i, m in enumerate(entries, start=1)
        ]

    def grab_pixels(self, left: int, top: int, width: int, height: int) -> Image.Image:
        box = {"left": left, "top": top, "width": width, "height": height}
        for attempt in (1, 2):
            sct = _thread_session()
            try:
                shot = sct.grab(box)
            except (ScreenShotError, OSError) as exc:
                # A kept instance goes stale when the screen is resized or the display
                # restarts; one retry with a new instance covers that.
                release_thread_session()
                if attempt == 2:
                    raise _grab_failed(exc) from exc
                continue
            return Image.frombytes("RGB", (shot.width, shot.height), shot.raw, "raw", "BGRX")
        raise AssertionError("unreachable")  # pragma: no cover


def release_thread_session() -> None:
    """Close the calling thread's mss instance now rather than when the thread ends."""
    session, _sessions.session = _sessions.session, None
    if session is not None:
        session.close()


def _thread_session() -> mss.MSS:
    display = os.environ.get("DISPLAY")
    session = _sessions.session
    if session is not None and session.display != display:
        release_thread_session()
        session = None
    if session is None:
        session = _sessions.session = _Session(display)
    return session.sct


def _open_mss() -> mss.MSS:
    try:
        return mss.MSS()
    except (ScreenShotError, OSError) as exc:
        _log.info("Could not connect to the display: %s", exc)
        raise CaptureFailed(_no_display_message()) from exc


def _no_display_message() -> str:
    """Say why there is no screen in words that point at a remedy."""
    if sys.platform.startswith("linux"):
        display = os.environ.get("DISPLAY")
        if not display and os.environ.get("WAYLAND_DISPLAY"):
            return (
                "Evidence Recorder could not see the screen: this Wayland desktop offers no "
                "X11 display to capture. Choose an 'Xorg' session at the login screen, or take "
                "the screenshot with your desktop's own tool and import it."
            )
        if display:
            return (
                f"Evidence Recorder could not see the screen: no display is available "
                f"(it could not connect to display {display!r})."
            )
    return NO_DISPLAY_MESSAGE


def _grab_failed(exc: BaseException) -> CaptureFailed:
    _log.info("Screen grab failed: %s", exc)
    return CaptureFailed(
        QT_TRANSLATE_NOOP("EvidenceError", "Evidence Recorder could not read the screen. If the "
                                           "monitors or the screen resolution just changed, try "
                                           "again.")
    )


# --- the fake backend --------------------------------------------------------------


class FakeGrabber:
    """A desktop made of a picture, for tests and demos on machines without a screen.

    ``desktop`` covers the bounding box of ``monitors`` (its top-left pixel is the
    box's top-left corner); without a layout it is a single monitor at 0,0.
    """

    name: str = "fake"

    def __init__(self, desktop: Image.Image, monitors: Sequence[Monitor] | None = None) -> None:
        self._desktop = desktop if desktop.mode == "RGB" else desktop.convert("RGB")
        if monitors is None:
            monitors = [Monitor(1, 0, 0, desktop.width, desktop.height)]
        self._layout = list(monitors)
        if self._layout:
            box = _bounding_box(self._layout)
            if (box[2], box[3]) != desktop.size:
                msg = f"the desktop image is {desktop.size}, the monitors span {box[2:]}"
                raise ValueError(msg)
            self._origin = (box[0], box[1])
        else:
            self._origin = (0, 0)
        # What was grabbed, and when (time.monotonic()), so tests can check the delay.
        self.grabs: list[tuple[Rect, float]] = []

    def monitors(self) -> list[Monitor]:
        return list(self._layout)

    def grab_pixels(self, left: int, top: int, width: int, height: int) -> Image.Image:
        self.grabs.append(((left, top, width, height), time.monotonic()))
        x, y = left - self._origin[0], top - self._origin[1]
        return self._desktop.crop((x, y, x + width, y + height))


# --- choosing a backend ------------------------------------------------------------

# The fallback chain, best first. A portal backend for Wayland would go in front.
_BACKENDS: tuple[Callable[[], ScreenGrabber], ...] = (MssGrabber,)


def default_grabber() -> ScreenGrabber:
    """The first backend that can see the screen here.

    Each candidate is tried by reading the monitor layout, so a missing display is
    reported now, in plain words, rather than as a failure halfway through a capture.
    """
    failures: list[CaptureFailed] = []
    for make in _BACKENDS:
        grabber = make()
        try:
            if grabber.monitors():
                return grabber
        except CaptureFailed as exc:
            failures.append(exc)
            continue
        failures.append(CaptureFailed(NO_DISPLAY_MESSAGE))
    raise failures[0] if failures else CaptureFailed(NO_DISPLAY_MESSAGE)
