"""Capturing the active window: real X windows on Xvfb, and the plain refusals.

Xvfb has no window manager, so these tests play its part: they create a frame
window with a client window inside it (as a reparenting window manager does),
and publish the client in the root window's ``_NET_ACTIVE_WINDOW`` themselves.
The windows are painted by the X server in known colours over a known root
pattern, so the pixels a window capture must contain are known exactly.
"""

from __future__ import annotations

import ctypes
import json
import os
import subprocess
import sys
from collections.abc import Iterator

import pytest
from conftest import REPO
from PIL import Image, ImageDraw
from test_capture import assert_same_pixels, unique_pattern, wait_for
from test_cli import assert_plain_error
from xvfb import XvfbDisplay, _Xcb

from evidence_recorder.core.errors import CaptureFailed, RefusedInput
from evidence_recorder.core.gather import capture, windows, xcb
from evidence_recorder.core.gather.capture import FakeGrabber, Monitor, MssGrabber
from evidence_recorder.core.model import CaptureKind

_P, _U8, _U16, _U32, _I16 = xcb.P, xcb.U8, xcb.U16, xcb.U32, xcb.I16
_Cookie = xcb.Cookie
_bind = xcb.bind  # the app's one libxcb binding, with the requests only this test makes
_CW_BACK_PIXEL, _CW_BORDER_PIXEL, _CW_OVERRIDE_REDIRECT = 2, 8, 512
_INPUT_OUTPUT = 1
_PROP_MODE_REPLACE = 0
_ATOM_WINDOW = 33

FRAME_COLOUR = (0x33, 0x66, 0x99)
BORDER_COLOUR = (0xEE, 0x11, 0x22)
CLIENT_COLOUR = (0xCC, 0x88, 0x44)


def _pixel(colour: tuple[int, int, int]) -> int:
    return colour[0] << 16 | colour[1] << 8 | colour[2]  # 24-bit TrueColor, as Xvfb uses


class WindowMaker:
    """Plays the window manager: makes windows and says which one is active.

    The windows live as long as this connection; the root property does not, so it
    is removed when the test ends.
    """

    def __init__(self, display: str) -> None:
        self.x = x = _Xcb(display)
        _bind(
            x.lib,
            "xcb_create_window_checked",
            _Cookie,
            _P,
            _U8,
            _U32,
            _U32,
            _I16,
            _I16,
            _U16,
            _U16,
            _U16,
            _U16,
            _U32,
            _U32,
            _P,
        )
        _bind(x.lib, "xcb_map_window_checked", _Cookie, _P, _U32)
        _bind(
            x.lib, "xcb_change_property_checked", _Cookie, _P, _U8, _U32, _U32, _U32, _U8, _U32, _P
        )
        _bind(x.lib, "xcb_delete_property_checked", _Cookie, _P, _U32, _U32)
        self.active_atom = x._atom("_NET_ACTIVE_WINDOW")

    def window(
        self,
        parent: int | None,
        rect: tuple[int, int, int, int],
        colour: tuple[int, int, int],
        *,
        border: int = 0,
        mapped: bool = True,
    ) -> int:
        x = self.x
        wid = int(x.lib.xcb_generate_id(x.conn))
        left, top, width, height = rect
        # Values in the order of their mask bits: back pixel, border pixel, override redirect.
        values = (ctypes.c_uint32 * 3)(_pixel(colour), _pixel(BORDER_COLOUR), 1)
        mask = _CW_BACK_PIXEL | _CW_BORDER_PIXEL | _CW_OVERRIDE_REDIRECT
        x.check(
            x.lib.xcb_create_window_checked(
                x.conn,
                0,
                wid,
                x.root if parent is None else parent,
                left,
                top,
                width,
                height,
                border,
                _INPUT_OUTPUT,
                0,
                mask,
                ctypes.cast(values, _P),
            ),
            "CreateWindow",
        )
        if mapped:
            x.check(x.lib.xcb_map_window_checked(x.conn, wid), "MapWindow")
        return wid

    def set_active(self, window: int) -> None:
        value = (ctypes.c_uint32 * 1)(window)
        self.x.check(
            self.x.lib.xcb_change_property_checked(
                self.x.conn,
                _PROP_MODE_REPLACE,
                self.x.root,
                self.active_atom,
                _ATOM_WINDOW,
                32,
                1,
                ctypes.cast(value, _P),
            ),
            "ChangeProperty",
        )

    def forget_active(self) -> None:
        self.x.check(
            self.x.lib.xcb_delete_property_checked(self.x.conn, self.x.root, self.active_atom),
            "DeleteProperty",
        )

    def close(self) -> None:
        self.forget_active()
        self.x.close()


@pytest.fixture
def wm(xvfb_display: XvfbDisplay) -> Iterator[WindowMaker]:
    maker = WindowMaker(xvfb_display.name)
    maker.forget_active()  # another test may have left the screen with an active window
    try:
        yield maker
    finally:
        maker.close()


@pytest.fixture
def pattern(xvfb_display: XvfbDisplay) -> Image.Image:
    image = unique_pattern(*xvfb_display.size)
    xvfb_display.paint(image)
    wait_for(MssGrabber(), image)
    return image


def framed_window(wm: WindowMaker, frame: tuple[int, int, int, int], border: int) -> int:
    """A frame at ``frame`` with a client inset in it, as a reparenting WM makes; the client."""
    outer = wm.window(None, frame, FRAME_COLOUR, border=border)
    return wm.window(outer, (4, 24, frame[2] - 8, frame[3] - 28), CLIENT_COLOUR)


def expected_screen(
    pattern: Image.Image, frame: tuple[int, int, int, int], border: int
) -> Image.Image:
    left, top, width, height = frame
    screen = pattern.copy()
    draw = ImageDraw.Draw(screen)
    draw.rectangle(
        (left, top, left + width + 2 * border - 1, top + height + 2 * border - 1),
        fill=BORDER_COLOUR,
    )
    inner_left, inner_top = left + border, top + border
    draw.rectangle(
        (inner_left, inner_top, inner_left + width - 1, inner_top + height - 1), fill=FRAME_COLOUR
    )
    draw.rectangle(
        (inner_left + 4, inner_top + 24, inner_left + width - 5, inner_top + height - 5),
        fill=CLIENT_COLOUR,
    )
    return screen


# --- a real X screen -------------------------------------------------------------------


@pytest.mark.screen
def test_active_window_is_found_through_its_frame_and_captured_exactly(
    xvfb_display: XvfbDisplay, pattern: Image.Image, wm: WindowMaker
) -> None:
    frame = (101, 53, 400, 300)
    client = framed_window(wm, frame, border=3)
    wm.set_active(client)

    # The frame's border is part of what the user sees of the window.
    rect = (101, 53, 406, 306)
    assert windows.active_window_rect() == rect
    assert windows.active_window_rect(xvfb_display.name) == rect

    screen = expected_screen(pattern, frame, border=3)
    whole = capture.grab(MssGrabber())
    assert_same_pixels(whole, screen)  # the server drew the windows where we think

    shot = capture.grab_window()
    assert shot.kind is CaptureKind.WINDOW
    assert shot.region == rect
    assert shot.monitor is None
    assert shot.backend == "mss"
    assert shot.monitors == (Monitor(1, 0, 0, *xvfb_display.size),)
    assert_same_pixels(shot, screen.crop((101, 53, 507, 359)))


@pytest.mark.screen
def test_window_without_a_frame_and_past_the_edge_is_clipped(
    xvfb_display: XvfbDisplay, pattern: Image.Image, wm: WindowMaker
) -> None:
    width, height = xvfb_display.size
    window = wm.window(None, (width - 150, height - 100, 300, 200), CLIENT_COLOUR)
    wm.set_active(window)
    assert windows.active_window_rect() == (width - 150, height - 100, 300, 200)

    shot = capture.grab_window(MssGrabber())
    assert shot.region == (width - 150, height - 100, 150, 100)
    assert_same_pixels(shot, Image.new("RGB", (150, 100), CLIENT_COLOUR))


@pytest.mark.screen
def test_window_entirely_off_screen_is_refused(
    xvfb_display: XvfbDisplay, pattern: Image.Image, wm: WindowMaker
) -> None:
    width, _ = xvfb_display.size
    wm.set_active(wm.window(None, (width + 20, 10, 100, 100), CLIENT_COLOUR))
    with pytest.raises(CaptureFailed) as caught:
        capture.grab_window(MssGrabber())
    assert caught.value.message.startswith("The active window is not on any monitor")


@pytest.mark.screen
def test_no_window_manager_is_a_plain_refusal(xvfb_display: XvfbDisplay, wm: WindowMaker) -> None:
    with pytest.raises(CaptureFailed) as caught:
        windows.active_window_rect()
    assert caught.value.message == windows.NO_WINDOW_MANAGER_MESSAGE
    # Said before any countdown, so the user does not wait for nothing.
    counted: list[int] = []
    with pytest.raises(CaptureFailed) as caught:
        capture.grab_window(delay=5, on_countdown=counted.append)
    assert caught.value.message == windows.NO_WINDOW_MANAGER_MESSAGE
    assert counted == []


@pytest.mark.screen
def test_no_active_window_says_to_click_one(xvfb_display: XvfbDisplay, wm: WindowMaker) -> None:
    wm.set_active(0)
    with pytest.raises(CaptureFailed) as caught:
        windows.active_window_rect()
    assert caught.value.message == (
        "No window is active. Click the window you want during the countdown."
    )
    wm.set_active(wm.x.root)  # the desktop itself is not a window to capture
    with pytest.raises(CaptureFailed, match="No window is active"):
        windows.active_window_rect()


@pytest.mark.screen
def test_hidden_or_vanished_window_is_a_plain_refusal(
    xvfb_display: XvfbDisplay, wm: WindowMaker
) -> None:
    wm.set_active(wm.window(None, (10, 10, 50, 50), CLIENT_COLOUR, mapped=False))
    with pytest.raises(CaptureFailed) as caught:
        windows.active_window_rect()
    assert caught.value.message == windows.NOT_VIEWABLE_MESSAGE

    # A client whose frame is unmapped (minimised by the window manager) is not viewable.
    frame = wm.window(None, (10, 10, 50, 50), FRAME_COLOUR, mapped=False)
    wm.set_active(wm.window(frame, (0, 0, 20, 20), CLIENT_COLOUR))
    with pytest.raises(CaptureFailed, match="not on screen"):
        windows.active_window_rect()

    wm.set_active(0x1FFFFFFF)  # a window id the server does not know: it closed
    with pytest.raises(CaptureFailed, match="not on screen"):
        windows.active_window_rect()


@pytest.mark.screen
def test_unreachable_display_is_a_plain_refusal(xvfb_display: XvfbDisplay) -> None:
    with pytest.raises(CaptureFailed) as caught:
        windows.active_window_rect(":4999")
    assert "could not connect to the X display ':4999'" in caught.value.message


def test_without_an_x_display_says_to_capture_a_region() -> None:
    code = (
        "from evidence_recorder.core.gather import capture, windows\n"
        "from evidence_recorder.core.errors import CaptureFailed\n"
        "for call in (windows.active_window_rect, capture.grab_window):\n"
        "    try:\n"
        "        call()\n"
        "    except CaptureFailed as exc:\n"
        "        print(exc.message)\n"
    )
    for removed in ({"DISPLAY"}, {"DISPLAY", "WAYLAND_DISPLAY"}):
        env = {k: v for k, v in os.environ.items() if k not in removed}
        if "WAYLAND_DISPLAY" not in removed:
            env["WAYLAND_DISPLAY"] = "wayland-0"
        result = subprocess.run(
            [sys.executable, "-c", code],
            env=env,
            cwd=REPO,
            text=True,
            capture_output=True,
            timeout=60,
            check=True,
        )
        assert result.stdout.splitlines() == [windows.NOT_X11_MESSAGE] * 2, result.stderr
    assert windows.NOT_X11_MESSAGE == (
        "Capturing a single window is only possible on X11 desktops here; "
        "use “Capture a region” instead."
    )


# --- the rules, with a fake screen -------------------------------------------------------


def test_window_is_looked_up_after_the_countdown() -> None:
    desktop = unique_pattern(200, 100)
    grabber = FakeGrabber(desktop)
    events: list[object] = []

    def where() -> tuple[int, int, int, int]:
        events.append("looked up")
        return (-20, 30, 100, 40)

    shot = capture.grab_window(grabber, delay=2, on_countdown=events.append, window_rect=where)
    assert events == [2, 1, "looked up"]
    assert shot.kind is CaptureKind.WINDOW
    assert shot.region == (0, 30, 80, 40)
    assert_same_pixels(shot, desktop.crop((0, 30, 80, 70)))
    assert [rect for rect, _ in grabber.grabs] == [(0, 30, 80, 40)]


def test_bad_delay_and_empty_window_are_refused() -> None:
    grabber = FakeGrabber(unique_pattern(50, 50))
    with pytest.raises(RefusedInput):
        capture.grab_window(grabber, delay=-1, window_rect=lambda: (0, 0, 10, 10))
    with pytest.raises(CaptureFailed, match="not on any monitor"):
        capture.grab_window(grabber, window_rect=lambda: (0, 0, 0, 10))
    assert grabber.grabs == []


# --- the command line --------------------------------------------------------------------


def test_cli_window_without_a_display_is_one_plain_line(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("capture", "--window", env={"DISPLAY": "", "WAYLAND_DISPLAY": ""})
    assert result.returncode == 1
    assert_plain_error(result.stderr)
    assert result.stderr.strip() == windows.NOT_X11_MESSAGE
    for other in (["--monitor", "1"], ["--region", "0,0,5,5"]):
        clash = cli("capture", "--window", *other)
        assert clash.returncode == 2, other
        assert_plain_error(clash.stderr)


@pytest.mark.screen
def test_cli_captures_the_active_window(  # type: ignore[no-untyped-def]
    cli, xvfb_display: XvfbDisplay, pattern: Image.Image, wm: WindowMaker
) -> None:
    wm.set_active(framed_window(wm, (200, 100, 120, 90), border=0))
    result = cli("capture", "--window", "--site", "Forum")
    assert result.returncode == 0, result.stderr
    assert "(120×90," in result.stdout
    listed = cli("list", "--json")
    assert [c["kind"] for c in json.loads(listed.stdout)] == ["window"]
