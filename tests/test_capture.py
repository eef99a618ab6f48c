"""Screen capture: the rules with a fake screen, then real grabs of a real X screen (Xvfb).

The fake-screen tests pin down what the user gets (which pixels, which rectangle,
which error sentence). The ``screen`` tests draw a known picture on Xvfb and check
that mss, through ``grab()``, returns it bit for bit, on one monitor and on two.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, timedelta
from typing import Any

import mss
import pytest
from conftest import REPO
from mss.exception import ScreenShotError
from PIL import Image
from xvfb import XvfbDisplay

from evidence_recorder.core.errors import CaptureFailed, RefusedInput
from evidence_recorder.core.gather import capture
from evidence_recorder.core.gather.capture import (
    NO_DISPLAY_MESSAGE,
    FakeGrabber,
    Grab,
    Monitor,
    MssGrabber,
    default_grabber,
    encode_png,
    grab,
    parse_region,
)
from evidence_recorder.core.model import CaptureKind, utc_now


def unique_pattern(width: int, height: int) -> Image.Image:
    """Every pixel different (for up to 4096 x 4096): any shift, flip or channel swap shows.

    Red is x mod 256, green is y mod 256, blue numbers the 256-pixel tile.
    """
    red = bytes(x & 255 for x in range(width)) * height
    green = b"".join(bytes([y & 255]) * width for y in range(height))
    tile_rows = {
        ty: bytes(((x >> 8) << 4 | ty) & 255 for x in range(width))
        for ty in range((height + 255) // 256)
    }
    blue = b"".join(tile_rows[y >> 8] for y in range(height))
    bands = [Image.frombytes("L", (width, height), band) for band in (red, green, blue)]
    return Image.merge("RGB", bands)


def decoded(result: Grab) -> Image.Image:
    image = Image.open(io.BytesIO(result.png))
    assert image.format == "PNG"
    image.load()
    return image


def assert_same_pixels(result: Grab, expected: Image.Image) -> None:
    image = decoded(result)
    assert image.mode == "RGB"
    assert image.size == expected.size == (result.width, result.height)
    assert image.tobytes() == expected.tobytes()


# Two monitors side by side, the second smaller, leaving a dead corner bottom right.
TWO_MONITORS = (Monitor(1, 0, 0, 100, 80), Monitor(2, 100, 0, 60, 40))


@pytest.fixture
def two_monitor_fake() -> tuple[FakeGrabber, Image.Image]:
    desktop = unique_pattern(160, 80)
    return FakeGrabber(desktop, TWO_MONITORS), desktop


# --- with a fake screen ----------------------------------------------------------------


def test_whole_screen_is_lossless_and_described() -> None:
    desktop = Image.effect_noise((64, 48), 90).convert("RGB")
    result = grab(FakeGrabber(desktop))
    assert_same_pixels(result, desktop)
    assert result.kind is CaptureKind.SCREEN
    assert result.region == (0, 0, 64, 48)
    assert result.monitor is None
    assert result.monitors == (Monitor(1, 0, 0, 64, 48),)
    assert result.backend == "fake"


def test_captured_at_is_utc_milliseconds_taken_at_the_grab() -> None:
    before = utc_now()
    result = grab(FakeGrabber(Image.new("RGB", (4, 4))))
    after = utc_now()
    assert result.captured_at.tzinfo is not None
    assert result.captured_at.utcoffset() == timedelta(0)
    assert result.captured_at.microsecond % 1000 == 0
    assert before <= result.captured_at <= after


def test_one_monitor(two_monitor_fake: tuple[FakeGrabber, Image.Image]) -> None:
    fake, desktop = two_monitor_fake
    second = grab(fake, monitor=2)
    assert second.kind is CaptureKind.MONITOR
    assert second.monitor == 2
    assert second.region == (100, 0, 60, 40)
    assert second.monitors == TWO_MONITORS
    assert_same_pixels(second, desktop.crop((100, 0, 160, 40)))
    first = grab(fake, monitor=1)
    assert_same_pixels(first, desktop.crop((0, 0, 100, 80)))


def test_whole_screen_spans_every_monitor(
    two_monitor_fake: tuple[FakeGrabber, Image.Image],
) -> None:
    fake, desktop = two_monitor_fake
    result = grab(fake)
    assert result.region == (0, 0, 160, 80)
    assert_same_pixels(result, desktop)


def test_region_inside_the_desktop(two_monitor_fake: tuple[FakeGrabber, Image.Image]) -> None:
    fake, desktop = two_monitor_fake
    result = grab(fake, region=(90, 10, 30, 20))  # across both monitors
    assert result.kind is CaptureKind.REGION
    assert result.monitor is None
    assert result.region == (90, 10, 30, 20)
    assert_same_pixels(result, desktop.crop((90, 10, 120, 30)))


def test_region_partly_off_the_desktop_is_clipped(
    two_monitor_fake: tuple[FakeGrabber, Image.Image],
) -> None:
    fake, desktop = two_monitor_fake
    result = grab(fake, region=(150, -10, 50, 30))
    assert result.region == (150, 0, 10, 20)
    assert_same_pixels(result, desktop.crop((150, 0, 160, 20)))


def test_desktop_with_negative_coordinates() -> None:
    # Monitor 1 sits left of monitor 2, the primary one at 0,0.
    layout = (Monitor(1, -60, 0, 60, 40), Monitor(2, 0, 0, 100, 80))
    desktop = unique_pattern(160, 80)
    fake = FakeGrabber(desktop, layout)
    assert grab(fake).region == (-60, 0, 160, 80)
    assert_same_pixels(grab(fake, monitor=1), desktop.crop((0, 0, 60, 40)))
    clipped = grab(fake, region=(-70, -10, 30, 30))
    assert clipped.region == (-60, 0, 20, 20)
    assert_same_pixels(clipped, desktop.crop((0, 0, 20, 20)))


@pytest.mark.parametrize(
    ("region", "why"),
    [
        ((500, 500, 10, 10), "beyond the desktop"),
        ((-30, -30, 20, 20), "above and left of it"),
        ((120, 50, 30, 20), "in the corner no monitor shows"),
    ],
)
def test_region_on_no_monitor_is_refused(
    two_monitor_fake: tuple[FakeGrabber, Image.Image], region: capture.Rect, why: str
) -> None:
    fake, _ = two_monitor_fake
    with pytest.raises(CaptureFailed) as caught:
        grab(fake, region=region)
    assert caught.value.message == (
        f"The region {','.join(map(str, region))} is not on any monitor; the desktop is "
        "160 by 80 pixels with its top-left corner at 0,0."
    ), why
    assert fake.grabs == []


@pytest.mark.parametrize(
    ("number", "layout", "message"),
    [
        (3, TWO_MONITORS, "There is no monitor 3; this computer has monitors 1 to 2."),
        (0, TWO_MONITORS, "There is no monitor 0; this computer has monitors 1 to 2."),
        (-1, TWO_MONITORS, "There is no monitor -1; this computer has monitors 1 to 2."),
        (
            2,
            (Monitor(1, 0, 0, 160, 80),),
            "There is no monitor 2; this computer has only monitor 1.",
        ),
    ],
)
def test_unknown_monitor_is_refused(number: int, layout: tuple[Monitor, ...], message: str) -> None:
    fake = FakeGrabber(Image.new("RGB", (160, 80)), layout)
    with pytest.raises(CaptureFailed) as caught:
        grab(fake, monitor=number)
    assert caught.value.message == message


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"monitor": 1, "region": (0, 0, 5, 5)}, "not both"),
        ({"region": (0, 0, 0, 5)}, "at least 1 pixel"),
        ({"region": (0, 0, 5, -1)}, "at least 1 pixel"),
        ({"delay": -1.0}, "zero or more seconds"),
        ({"delay": float("nan")}, "zero or more seconds"),
        ({"delay": float("inf")}, "zero or more seconds"),
    ],
)
def test_bad_requests_are_refused_plainly(kwargs: dict[str, Any], fragment: str) -> None:
    fake = FakeGrabber(Image.new("RGB", (8, 8)))
    with pytest.raises(RefusedInput) as caught:
        grab(fake, **kwargs)
    assert fragment in caught.value.message
    assert fake.grabs == []


def test_mistakes_are_reported_before_the_delay() -> None:
    fake = FakeGrabber(Image.new("RGB", (8, 8)))
    counted: list[int] = []
    started = time.monotonic()
    with pytest.raises(CaptureFailed):
        grab(fake, monitor=2, delay=30, on_countdown=counted.append)
    assert time.monotonic() - started < 5
    assert counted == []


def test_a_short_delay_counts_down_and_stamps_the_grab() -> None:
    fake = FakeGrabber(Image.new("RGB", (8, 8), (1, 2, 3)))
    counted: list[int] = []
    wall_start = utc_now()
    started = time.monotonic()
    result = grab(fake, delay=0.2, on_countdown=counted.append)
    assert counted == [1]
    [(_, grabbed_at)] = fake.grabs
    assert grabbed_at - started >= 0.2
    assert result.captured_at >= wall_start + timedelta(milliseconds=199)
    assert result.captured_at.tzinfo == UTC


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 6))
        self.now += seconds


@pytest.mark.parametrize(
    ("delay", "counted", "sleeps"),
    [
        (3.0, [3, 2, 1], [1.0, 1.0, 1.0]),
        (2.5, [3, 2, 1], [0.5, 1.0, 1.0]),
        (0.3, [1], [0.3]),
        (0.0, [], []),
    ],
)
def test_countdown_steps_are_whole_seconds(
    delay: float, counted: list[int], sleeps: list[float]
) -> None:
    clock = FakeClock()
    seen: list[int] = []
    capture._count_down(delay, seen.append, clock=clock.monotonic, sleep=clock.sleep)
    assert seen == counted
    assert clock.sleeps == sleeps


def test_countdown_does_not_repeat_a_second_when_sleep_wakes_early() -> None:
    clock = FakeClock()
    seen: list[int] = []

    def short_sleep(seconds: float) -> None:
        # The OS wakes us a millisecond early from each long sleep.
        clock.now += seconds - 0.001 if seconds > 0.5 else seconds

    capture._count_down(2.0, seen.append, clock=clock.monotonic, sleep=short_sleep)
    assert seen == [2, 1]


def test_layout_is_read_again_after_the_delay() -> None:
    before = (Monitor(1, 0, 0, 100, 80), Monitor(2, 100, 0, 60, 40))
    after = (Monitor(1, 0, 0, 100, 80),)

    class Unplugged(FakeGrabber):
        calls = 0

        def monitors(self) -> list[Monitor]:
            self.calls += 1
            return list(before if self.calls == 1 else after)

    fake = Unplugged(unique_pattern(160, 80), before)
    with pytest.raises(CaptureFailed, match="only monitor 1"):
        grab(fake, monitor=2, delay=0.01)
    result = grab(Unplugged(unique_pattern(160, 80), before), delay=0.01)
    assert result.monitors == after


def test_fake_desktop_must_cover_the_layout() -> None:
    with pytest.raises(ValueError, match="desktop image"):
        FakeGrabber(Image.new("RGB", (10, 10)), TWO_MONITORS)


# --- marking a region on a frozen screenshot -------------------------------------------


def test_crop_keeps_the_moment_and_the_exact_pixels(
    two_monitor_fake: tuple[FakeGrabber, Image.Image],
) -> None:
    fake, desktop = two_monitor_fake
    whole = grab(fake)
    piece = capture.crop(whole, (90, 10, 30, 20))
    assert_same_pixels(piece, desktop.crop((90, 10, 120, 30)))
    assert piece.kind is CaptureKind.REGION
    assert piece.region == (90, 10, 30, 20)
    assert (piece.captured_at, piece.monitors, piece.backend) == (
        whole.captured_at,
        whole.monitors,
        whole.backend,
    )
    assert capture.crop(whole, (150, 30, 50, 60)).region == (150, 30, 10, 50)  # clipped


def test_crop_of_a_monitor_grab_uses_screen_coordinates(
    two_monitor_fake: tuple[FakeGrabber, Image.Image],
) -> None:
    fake, desktop = two_monitor_fake
    second = grab(fake, monitor=2)
    piece = capture.crop(second, (110, 5, 20, 10))
    assert_same_pixels(piece, desktop.crop((110, 5, 130, 15)))
    with pytest.raises(CaptureFailed, match="outside the screenshot"):
        capture.crop(second, (10, 10, 20, 20))  # on monitor 1, which this grab does not show
    with pytest.raises(CaptureFailed, match="not on any monitor"):
        capture.crop(second, (130, 50, 10, 10))
    with pytest.raises(RefusedInput):
        capture.crop(second, (110, 5, 0, 10))


def test_crop_on_a_hidpi_grab_scales_to_device_pixels() -> None:
    # A Retina screen: 40 x 30 points shown by 80 x 60 pixels.
    pixels = unique_pattern(80, 60)
    whole = Grab(
        png=encode_png(pixels), width=80, height=60, captured_at=utc_now(),
        kind=CaptureKind.SCREEN, region=(0, 0, 40, 30), monitor=None,
        monitors=(Monitor(1, 0, 0, 40, 30),), backend="test",
    )  # fmt: skip
    piece = capture.crop(whole, (10, 5, 20, 10))
    assert (piece.width, piece.height) == (40, 20)
    assert_same_pixels(piece, pixels.crop((20, 10, 60, 30)))


# --- encoding --------------------------------------------------------------------------


def test_encode_png_from_raw_rgb_is_lossless_and_repeatable() -> None:
    image = Image.effect_noise((37, 23), 100).convert("RGB")
    png = encode_png(image.tobytes(), image.size)
    assert png == encode_png(image)
    with Image.open(io.BytesIO(png)) as back:
        assert back.mode == "RGB"
        assert back.tobytes() == image.tobytes()


def test_encode_png_keeps_other_modes_lossless() -> None:
    image = Image.new("RGBA", (5, 3), (10, 20, 30, 40))
    with Image.open(io.BytesIO(encode_png(image))) as back:
        assert back.mode == "RGBA"
        assert back.tobytes() == image.tobytes()


def test_encode_png_rejects_raw_bytes_of_the_wrong_size() -> None:
    with pytest.raises(ValueError, match="not 4x4 RGB"):
        encode_png(b"\0" * 47, (4, 4))
    with pytest.raises(ValueError, match="need a size"):
        encode_png(b"\0" * 48)


# --- the --region option ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "region"),
    [
        ("0,0,800,600", (0, 0, 800, 600)),
        (" -1920 , -200, 10,20 ", (-1920, -200, 10, 20)),
    ],
)
def test_parse_region(text: str, region: capture.Rect) -> None:
    assert parse_region(text) == region


@pytest.mark.parametrize(
    "text",
    ["", "1,2,3", "1,2,3,4,5", "a,b,c,d", "1.5,2,3,4", "1;2;3;4", "1,2,3,\u0664", "1_0,2,3,4"],
)
def test_parse_region_refuses_bad_syntax(text: str) -> None:
    with pytest.raises(RefusedInput) as caught:
        parse_region(text)
    assert "four whole numbers X,Y,W,H" in caught.value.message


@pytest.mark.parametrize("text", ["0,0,0,10", "0,0,10,0", "5,5,-3,10"])
def test_parse_region_refuses_an_empty_rectangle(text: str) -> None:
    with pytest.raises(RefusedInput) as caught:
        parse_region(text)
    assert "at least 1 pixel wide and high" in caught.value.message


# --- mss failures become plain sentences -----------------------------------------------


class BrokenMss:
    """Stands in for mss.MSS: connects, then fails to grab."""

    opened = 0

    def __init__(self) -> None:
        type(self).opened += 1

    @property
    def monitors(self) -> list[dict[str, int]]:
        return [{"left": 0, "top": 0, "width": 8, "height": 8}]

    def grab(self, box: object) -> object:
        raise ScreenShotError("XShmGetImage failed: BadMatch")

    def close(self) -> None:
        pass


def test_mss_that_cannot_connect_gives_the_no_display_sentence(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refuse() -> None:
        raise ScreenShotError("Cannot connect to display")

    monkeypatch.setattr(mss, "MSS", refuse)
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    with pytest.raises(CaptureFailed) as caught:
        MssGrabber().monitors()
    assert caught.value.message == NO_DISPLAY_MESSAGE
    with pytest.raises(CaptureFailed):
        default_grabber()


@pytest.mark.parametrize("error", [ScreenShotError("BadMatch"), OSError(12, "No memory")])
def test_mss_failing_to_grab_is_retried_once_then_reported_plainly(
    monkeypatch: pytest.MonkeyPatch, error: Exception
) -> None:
    class Failing(BrokenMss):
        opened = 0

        def grab(self, box: object) -> object:
            raise error

    monkeypatch.setattr(mss, "MSS", Failing)
    monkeypatch.setenv("DISPLAY", ":fake-for-this-test")
    capture.release_thread_session()
    grabber = MssGrabber()
    assert grabber.monitors() == [Monitor(1, 0, 0, 8, 8)]
    with pytest.raises(CaptureFailed) as caught:
        grab(grabber)
    assert caught.value.message.startswith("Evidence Recorder could not read the screen.")
    assert "BadMatch" not in caught.value.message
    # Layout read by the test, layout read by grab(), then the grab and its one retry.
    assert Failing.opened == 4


def _run_without_a_display(env_changes: dict[str, str]) -> list[str]:
    """Capture in a fresh interpreter, so nothing in this process can stand in for X."""
    code = (
        "from evidence_recorder.core.gather import capture\n"
        "from evidence_recorder.core.errors import CaptureFailed\n"
        "for call in (capture.default_grabber, capture.grab):\n"
        "    try:\n"
        "        call()\n"
        "    except CaptureFailed as exc:\n"
        "        print(exc.message)\n"
        "    else:\n"
        "        print('no error')\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.update(env_changes)
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=REPO, capture_output=True, text=True,
        timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    return done.stdout.splitlines()


def test_no_display_at_all_is_a_plain_sentence() -> None:
    assert _run_without_a_display({}) == [NO_DISPLAY_MESSAGE] * 2
    assert NO_DISPLAY_MESSAGE == (
        "Evidence Recorder could not see the screen: no display is available."
    )


def test_unreachable_display_names_it() -> None:
    lines = _run_without_a_display({"DISPLAY": ":4093"})
    assert (
        lines
        == [
            "Evidence Recorder could not see the screen: no display is available "
            "(it could not connect to display ':4093')."
        ]
        * 2
    )


def test_wayland_without_xwayland_says_what_to_do() -> None:
    lines = _run_without_a_display({"WAYLAND_DISPLAY": "wayland-0"})
    assert len(lines) == 2
    assert lines[0] == lines[1]
    assert "Wayland" in lines[0]
    assert "import it" in lines[0]


# --- a real X screen -------------------------------------------------------------------


def wait_for(grabber: MssGrabber, expected: Image.Image, timeout: float = 5.0) -> None:
    """Wait until the screen shows ``expected``; drawing is synchronous, this is a guard."""
    deadline = time.monotonic() + timeout
    while True:
        seen = grabber.grab_pixels(0, 0, *expected.size)
        if seen.tobytes() == expected.tobytes():
            return
        if time.monotonic() > deadline:
            pytest.fail("the pattern drawn on Xvfb never appeared on screen")
        time.sleep(0.05)


@pytest.fixture
def painted(xvfb_display: XvfbDisplay) -> Image.Image:
    pattern = unique_pattern(*xvfb_display.size)
    xvfb_display.paint(pattern)
    wait_for(MssGrabber(), pattern)
    return pattern


@pytest.mark.screen
def test_real_screen_whole_monitor_and_regions(
    xvfb_display: XvfbDisplay, painted: Image.Image
) -> None:
    width, height = xvfb_display.size
    grabber = MssGrabber()
    assert grabber.monitors() == [Monitor(1, 0, 0, width, height)]

    whole = grab(grabber)
    assert whole.kind is CaptureKind.SCREEN
    assert whole.region == (0, 0, width, height)
    assert whole.monitors == (Monitor(1, 0, 0, width, height),)
    assert whole.backend == "mss"
    assert_same_pixels(whole, painted)

    monitor = grab(grabber, monitor=1)
    assert (monitor.kind, monitor.monitor, monitor.region) == (CaptureKind.MONITOR, 1, whole.region)
    assert_same_pixels(monitor, painted)

    region = grab(grabber, region=(101, 53, 300, 200))
    assert region.region == (101, 53, 300, 200)
    assert_same_pixels(region, painted.crop((101, 53, 401, 253)))

    edge = grab(grabber, region=(width - 80, height - 20, 200, 100))
    assert edge.region == (width - 80, height - 20, 80, 20)
    assert_same_pixels(edge, painted.crop((width - 80, height - 20, width, height)))

    assert_same_pixels(capture.crop(whole, (101, 53, 300, 200)), painted.crop((101, 53, 401, 253)))

    with pytest.raises(CaptureFailed, match="this computer has only monitor 1"):
        grab(grabber, monitor=2)
    with pytest.raises(CaptureFailed, match="not on any monitor"):
        grab(grabber, region=(width + 10, 0, 10, 10))


@pytest.mark.screen
def test_real_two_monitors(xvfb_display: XvfbDisplay, painted: Image.Image) -> None:
    width, height = xvfb_display.size
    grabber = MssGrabber()
    assert len(grabber.monitors()) == 1
    # Plugged in while the app runs: the same grabber must see the new layout.
    xvfb_display.set_monitors([(0, 0, 800, height), (800, 0, width - 800, 400)])
    layout = [Monitor(1, 0, 0, 800, height), Monitor(2, 800, 0, width - 800, 400)]
    assert grabber.monitors() == layout

    second = grab(grabber, monitor=2)
    assert second.region == (800, 0, width - 800, 400)
    assert second.monitors == tuple(layout)
    assert_same_pixels(second, painted.crop((800, 0, width, 400)))
    assert_same_pixels(grab(grabber, monitor=1), painted.crop((0, 0, 800, height)))

    across = grab(grabber, region=(700, 100, 200, 100))
    assert_same_pixels(across, painted.crop((700, 100, 900, 200)))
    whole = grab(grabber)
    assert whole.region == (0, 0, width, height)
    assert_same_pixels(whole, painted)

    with pytest.raises(CaptureFailed) as caught:
        grab(grabber, monitor=3)
    assert caught.value.message == "There is no monitor 3; this computer has monitors 1 to 2."
    with pytest.raises(CaptureFailed, match="not on any monitor"):
        grab(grabber, region=(900, 500, 50, 50))  # below monitor 2, beside monitor 1


@pytest.mark.screen
def test_real_grabs_from_several_threads(painted: Image.Image) -> None:
    grabber = MssGrabber()
    regions = [(x * 97 % 1000, x * 41 % 500, 180 + x, 120 + x) for x in range(12)]

    def grab_region(region: capture.Rect) -> tuple[capture.Rect, bytes]:
        try:
            return region, decoded(grab(grabber, region=region)).tobytes()
        finally:
            capture.release_thread_session()

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(grab_region, regions))
    for (left, top, w, h), pixels in results:
        assert pixels == painted.crop((left, top, left + w, top + h)).tobytes()


@pytest.mark.screen
def test_real_default_grabber_and_delay(painted: Image.Image) -> None:
    grabber = default_grabber()
    assert grabber.name == "mss"
    counted: list[int] = []
    result = grab(grabber, region=(0, 0, 64, 64), delay=0.05, on_countdown=counted.append)
    assert counted == [1]
    assert_same_pixels(result, painted.crop((0, 0, 64, 64)))


@pytest.mark.screen
def test_real_grab_survives_a_display_change(
    xvfb_display: XvfbDisplay, painted: Image.Image, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A kept mss session belongs to one display; pointing DISPLAY elsewhere drops it."""
    grabber = MssGrabber()
    grab(grabber, region=(0, 0, 8, 8))
    monkeypatch.setenv("DISPLAY", ":4093")
    with pytest.raises(CaptureFailed, match="could not connect to display ':4093'"):
        grab(grabber, region=(0, 0, 8, 8))
    monkeypatch.setenv("DISPLAY", xvfb_display.name)
    assert_same_pixels(grab(grabber, region=(0, 0, 8, 8)), painted.crop((0, 0, 8, 8)))


def test_a_grab_brings_the_previews_the_saved_png_would_give() -> None:
    """Made from the pixels while the PNG is encoded, they must be the very pictures a
    later decode of the PNG makes (same pixels, same steps): nothing differs in the
    report or the grid whichever way they were made."""
    from evidence_recorder.core.gather import images

    picture = Image.effect_noise((1500, 900), 50).convert("RGB")
    grab = capture.grab(FakeGrabber(picture))
    from_png = images.make_thumbnails(grab.png, images.PREVIEW_SIDES,
                                      quality=images.PREVIEW_QUALITY)
    assert [grab.preview, grab.preview_small, grab.thumbnail] == from_png
    with Image.open(io.BytesIO(grab.preview)) as preview:
        assert preview.size == (1280, 768)


def test_previews_that_fail_are_made_again_on_saving(monkeypatch: pytest.MonkeyPatch) -> None:
    from evidence_recorder.core.gather import images

    def broken(_image: Image.Image) -> tuple[bytes, bytes, bytes]:
        raise OSError("no memory")

    monkeypatch.setattr(images, "previews_of", broken)
    grab = capture.grab(FakeGrabber(Image.new("RGB", (400, 300), "white")))
    assert grab.png and grab.preview == grab.preview_small == grab.thumbnail == b""
