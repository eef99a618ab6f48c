"""Imported pictures: every accepted format works, every hostile file is refused cleanly.

A refusal must be one plain sentence that names the file, must come quickly, and must
never leak a Pillow warning or exception. The hostile files come from
``hostile_files`` so later suites (import through the CLI and the app) can reuse them.
"""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import hostile_files as hostile
import pytest
from conftest import REPO
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from evidence_recorder.core.errors import RefusedInput
from evidence_recorder.core.gather import images
from evidence_recorder.core.gather.images import (
    MAX_IMPORT_BYTES,
    MAX_PIXELS,
    ImageInfo,
    import_image,
    inspect_image,
    make_thumbnail,
    read_import_file,
)

# --------------------------------------------------------------------------- helpers


def assert_plain_refusal(exc: RefusedInput, name: str) -> None:
    """One line, one sentence, names the file, and nothing a programmer wrote for themselves."""
    message = exc.message
    assert message == str(exc)
    assert "\n" not in message and "\r" not in message
    assert name in message
    assert message.endswith(".")
    for leak in ("Traceback", "Error", "Exception", "PIL", "Pillow", "0x", "BytesIO"):
        assert leak not in message


def refuse(data: bytes, name: str = "evidence.png") -> str:
    with pytest.raises(RefusedInput) as caught:
        inspect_image(data, name)
    assert_plain_refusal(caught.value, name)
    with pytest.raises(RefusedInput) as again:
        make_thumbnail(data, name=name)
    assert_plain_refusal(again.value, name)
    return caught.value.message


def is_red(pixel: Any) -> bool:
    red, green, blue = pixel
    return bool(red > 150 and green < 100 and blue < 100)


def thumbnail_image(data: bytes, max_side: int = 320) -> Image.Image:
    thumb = make_thumbnail(data, max_side)
    assert thumb.startswith(b"\xff\xd8\xff")
    image = Image.open(io.BytesIO(thumb))
    image.load()
    assert image.format == "JPEG"
    return image


# --------------------------------------------------------------------------- accepted

ACCEPTED: list[tuple[str, Callable[[], bytes], str]] = [
    ("png", lambda: hostile.png(640, 400), "image/png"),
    ("png-rgba", lambda: hostile.png(640, 400, "RGBA"), "image/png"),
    (
        "png-palette-transparent",
        lambda: hostile.palette_png_with_transparency(640, 400),
        "image/png",
    ),
    ("png-16-bit", lambda: hostile.png16(640, 400), "image/png"),
    ("png-grey-alpha", lambda: hostile.png(640, 400, "LA"), "image/png"),
    ("png-1-bit", lambda: hostile.png(640, 400, "1"), "image/png"),
    ("jpeg", lambda: hostile.jpeg(640, 400), "image/jpeg"),
    ("jpeg-grey", lambda: hostile.jpeg(640, 400, "L"), "image/jpeg"),
    ("jpeg-cmyk", lambda: hostile.cmyk_jpeg(640, 400), "image/jpeg"),
    ("jpeg-progressive", lambda: hostile.jpeg(640, 400, progressive=True), "image/jpeg"),
    ("webp-lossy", lambda: hostile.webp(640, 400), "image/webp"),
    ("webp-lossless", lambda: hostile.webp(640, 400, lossless=True), "image/webp"),
    ("webp-alpha", lambda: hostile.webp(640, 400, "RGBA"), "image/webp"),
    ("gif", lambda: hostile.gif(640, 400), "image/gif"),
    ("bmp", lambda: hostile.bmp(640, 400), "image/bmp"),
    ("bmp-palette", lambda: hostile.bmp(640, 400, "P"), "image/bmp"),
    ("heic", lambda: hostile.heic(640, 400), "image/heic"),
    ("heic-alpha", lambda: hostile.heic(640, 400, "RGBA"), "image/heic"),
]


@pytest.mark.parametrize(
    ("make", "media_type"), [(m, t) for _, m, t in ACCEPTED], ids=[i for i, _, _ in ACCEPTED]
)
def test_accepted_format_round_trips(make: Callable[[], bytes], media_type: str) -> None:
    data = make()
    info = inspect_image(data, "shot")
    assert info == ImageInfo(
        media_type, 640, 400, None, frames=1, bytes_after_image=info.bytes_after_image
    )
    assert info.bytes_after_image in (0, None)
    thumb = thumbnail_image(data)
    assert thumb.size == (320, 200)
    assert thumb.mode in ("RGB", "L")
    small = thumbnail_image(data, 64)
    assert max(small.size) == 64


def test_format_comes_from_content_not_extension() -> None:
    assert inspect_image(hostile.jpeg(), "really-a-jpeg.png").media_type == "image/jpeg"
    assert inspect_image(hostile.png(), "no-extension").media_type == "image/png"


def test_small_picture_is_not_enlarged() -> None:
    assert thumbnail_image(hostile.png(40, 30)).size == (40, 30)


def test_transparency_is_put_on_white() -> None:
    clear = Image.new("RGBA", (50, 50), (255, 0, 0, 0))
    thumb = thumbnail_image(hostile.encode(clear, "PNG"))
    assert all(channel >= 250 for channel in thumb.getpixel((25, 25)))  # type: ignore[union-attr]


def test_sixteen_bit_grey_is_scaled_not_clipped() -> None:
    thumb = thumbnail_image(hostile.png16(value=40000))
    assert thumb.getpixel((5, 5)) == pytest.approx(40000 // 256, abs=2)


def test_cmyk_comes_out_in_the_right_colours() -> None:
    thumb = thumbnail_image(hostile.cmyk_jpeg(64, 48)).convert("RGB")
    assert is_red(thumb.getpixel((5, 5)))


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_is_honoured(orientation: int) -> None:
    data = hostile.jpeg_with_exif(64, 48, original=None, orientation=orientation)
    info = inspect_image(data)
    upright = orientation < 5
    assert (info.width, info.height) == ((64, 48) if upright else (48, 64))
    thumb = thumbnail_image(data).convert("RGB")
    assert thumb.size == (info.width, info.height)
    # The red quadrant starts at the stored top left; find where the viewer shows it.
    expected_corner = {1: "tl", 2: "tr", 3: "br", 4: "bl", 5: "tl", 6: "tr", 7: "br", 8: "bl"}
    corners = {
        "tl": (3, 3),
        "tr": (thumb.width - 4, 3),
        "br": (thumb.width - 4, thumb.height - 4),
        "bl": (3, thumb.height - 4),
    }
    red_corners = [c for c, xy in corners.items() if is_red(thumb.getpixel(xy))]
    assert red_corners == [expected_corner[orientation]]


def test_heic_orientation_is_applied_once() -> None:
    data = hostile.heic(64, 48, exif=hostile.exif_block(orientation=6))
    info = inspect_image(data)
    assert (info.width, info.height) == (48, 64)
    assert thumbnail_image(data).size == (48, 64)


# --------------------------------------------------------------------------- claimed time


def test_claimed_time_comes_from_exif_date_time_original() -> None:
    info = inspect_image(hostile.jpeg_with_exif(original="2026:03:04 21:04:05"))
    assert info.claimed_time == "2026:03:04 21:04:05"


def test_claimed_time_keeps_the_offset_when_written() -> None:
    info = inspect_image(hostile.jpeg_with_exif(offset="+01:00"))
    assert info.claimed_time == "2026:03:04 21:04:05+01:00"


def test_claimed_time_falls_back_to_date_time() -> None:
    info = inspect_image(hostile.jpeg_with_exif(original=None, plain="2025:12:24 08:00:00"))
    assert info.claimed_time == "2025:12:24 08:00:00"


@pytest.mark.parametrize(
    "make",
    [
        lambda: hostile.webp(exif=hostile.exif_block()),
        lambda: hostile.png(exif=hostile.exif_block()),
        lambda: hostile.heic(exif=hostile.exif_block()),
    ],
    ids=["webp", "png", "heic"],
)
def test_claimed_time_from_other_formats(make: Callable[[], bytes]) -> None:
    assert inspect_image(make()).claimed_time == "2026:03:04 21:04:05"


@pytest.mark.parametrize(
    "written",
    [
        "    :  :     :  :  ",
        "2026:03:04 21:04:05\nforged line",
        "x" * 500,
        "2026\u202e:03:04 21:04:05".encode(),  # raw UTF-8: a bidi override
        12345,
    ],
    ids=["blank", "newline", "huge", "bidi", "number"],
)
def test_unusable_claims_are_dropped_not_fatal(written: str | bytes | int) -> None:
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9003] = written
    info = inspect_image(hostile.jpeg(exif=exif.tobytes()))
    assert info.claimed_time is None
    assert info.width == 64


def test_broken_exif_loses_the_claim_not_the_picture() -> None:
    good = hostile.jpeg_with_exif()
    start = good.index(b"Exif\x00\x00")
    broken = bytearray(good)
    broken[start + 10 : start + 14] = b"\xff\xff\xff\x7f"  # first IFD far past the end
    info = inspect_image(bytes(broken))
    assert info.claimed_time is None
    assert thumbnail_image(bytes(broken)).size == (64, 48)


# --------------------------------------------------------------------------- animation, trailers


@pytest.mark.parametrize(
    ("make", "media_type"),
    [
        (hostile.animated_gif, "image/gif"),
        (hostile.animated_webp, "image/webp"),
        (hostile.apng, "image/png"),
    ],
    ids=["gif", "webp", "apng"],
)
def test_animation_counts_frames_and_thumbnails_the_first(
    make: Callable[..., bytes], media_type: str
) -> None:
    data = make(count=7)
    info = inspect_image(data)
    assert (info.media_type, info.frames, info.width, info.height) == (media_type, 7, 64, 48)
    first = hostile.frames(1, 64, 48)[0].getpixel((10, 10))
    assert thumbnail_image(data).convert("RGB").getpixel((10, 10)) == pytest.approx(first, abs=6)


def test_truncated_later_frame_is_caught_without_decoding_it() -> None:
    data = hostile.animated_gif(count=20)
    refuse(data[:-40], "party.gif")


def test_many_frames_do_not_cost_many_decodes() -> None:
    data = hostile.animated_gif(count=300, width=400, height=300)
    started = time.perf_counter()
    assert inspect_image(data).frames == 300
    assert time.perf_counter() - started < 2  # sanity bound: one frame decoded, not 300


def test_polyglot_is_accepted_verbatim_and_reported() -> None:
    data = hostile.polyglot_png_zip()
    info = inspect_image(data, "shot.png")
    assert info.media_type == "image/png"
    assert info.bytes_after_image == len(hostile.zip_archive())


def test_jpeg_trailer_is_reported() -> None:
    trailer = b"SEFH" + b"\x00" * 60 + b"SEFT"  # the shape of a Samsung phone trailer
    info = inspect_image(hostile.jpeg() + trailer)
    assert info.bytes_after_image == len(trailer)


def test_mpo_second_picture_counts_as_bytes_after_the_first() -> None:
    first, second = hostile.frames(2, 64, 48)
    data = hostile.encode(first, "MPO", save_all=True, append_images=[second])
    info = inspect_image(data)
    assert info.media_type == "image/jpeg"
    assert info.bytes_after_image is not None and info.bytes_after_image > 0


def test_png_without_end_chunk_is_accepted_when_its_pixels_are_whole() -> None:
    info = inspect_image(hostile.png_without_iend())
    assert (info.width, info.bytes_after_image) == (64, None)


# --------------------------------------------------------------------------- refused


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (hostile.TEXT, "notes.png"),
        (hostile.PDF, "statement.pdf"),
        (hostile.SVG, "logo.svg"),
        (hostile.tiff(), "scan.tiff"),
        (hostile.zip_archive(), "photos.jpg"),
        (hostile.heic_with_avif_brand(), "photo.heic"),
        (b"\x00" * 64, "zeros.png"),
        (b"\x89PN", "stub.png"),
    ],
    ids=["text-named-png", "pdf", "svg", "tiff", "zip", "avif-brand", "zeros", "stub"],
)
def test_not_a_picture_we_keep(data: bytes, name: str) -> None:
    message = refuse(data, name)
    assert message == (
        f"“{name}” is not a picture Evidence Recorder can keep "
        "(it accepts PNG, JPEG, WebP, GIF, BMP and HEIC)."
    )


def test_real_avif_is_refused_as_unsupported() -> None:
    assert "is not a picture" in refuse(hostile.avif(), "photo.avif")


TRUNCATED: list[tuple[str, Callable[[], bytes]]] = [
    ("png", lambda: hostile.png(400, 300)),
    ("jpeg", lambda: hostile.jpeg(400, 300)),
    ("jpeg-progressive", lambda: hostile.jpeg(400, 300, progressive=True)),
    ("webp", lambda: hostile.webp(400, 300)),
    ("gif", lambda: hostile.gif(400, 300)),
    ("bmp", lambda: hostile.bmp(400, 300)),
    ("heic", lambda: hostile.heic(400, 300)),
]


@pytest.mark.parametrize("make", [m for _, m in TRUNCATED], ids=[i for i, _ in TRUNCATED])
@pytest.mark.parametrize("keep", [0.5, 0.9])
def test_truncated_file_is_damaged(make: Callable[[], bytes], keep: float) -> None:
    message = refuse(hostile.truncated(make(), keep), "shot.png")
    assert message == "“shot.png” is damaged or incomplete, so it was not imported."


def test_jpeg_missing_only_its_end_marker_is_judged_by_its_pixels() -> None:
    """As with PNG: whole pixels are kept (the end is reported unknown), cut ones are not."""
    info = inspect_image(hostile.jpeg(400, 300)[:-2])
    assert (info.width, info.bytes_after_image) == (400, None)
    refuse(hostile.jpeg(400, 300)[:-40], "shot.jpg")


@pytest.mark.parametrize(
    "make",
    [
        hostile.png_with_text_bomb,
        lambda: hostile.png_with_text_bomb(kind=b"iTXt"),
        hostile.png_with_many_text_chunks,
        hostile.png_with_lying_chunk_length,
    ],
    ids=["ztxt-bomb", "itxt-bomb", "text-memory", "lying-length"],
)
def test_png_text_and_chunk_attacks(make: Callable[[], bytes]) -> None:
    started = time.perf_counter()
    assert "damaged" in refuse(make(), "shot.png")
    assert time.perf_counter() - started < 5  # sanity bound


def test_200_megapixel_png_is_refused_before_decoding() -> None:
    data = hostile.png_declaring(20_000, 10_000)
    assert len(data) < 200
    started = time.perf_counter()
    message = refuse(data, "huge.png")
    assert time.perf_counter() - started < 1  # sanity bound, not a benchmark
    assert message == "“huge.png” is too large (200 megapixels; the limit is 80)."


def test_png_decompression_bomb_is_refused() -> None:
    data = hostile.png_bomb()  # a complete, valid 10000 x 10000 picture in ~100 KB
    assert len(data) < 1024 * 1024
    started = time.perf_counter()
    assert "100 megapixels" in refuse(data, "bomb.png")
    assert time.perf_counter() - started < 1


def test_just_over_the_pixel_limit_is_refused() -> None:
    assert "81 megapixels" in refuse(hostile.png_declaring(9_000, 9_000), "big.png")


@pytest.mark.parametrize(
    "make",
    [
        hostile.gif_huge_screen,
        hostile.gif_huge_first_frame,
        hostile.webp_huge_canvas,
        lambda: hostile.jpeg_declaring(60_000, 60_000),
        lambda: hostile.bmp_declaring(100_000, -100_000),
        lambda: hostile.png_declaring(2**31 - 1, 2**31 - 1),
    ],
    ids=["gif-screen", "gif-first-frame", "webp-canvas", "jpeg", "bmp", "png-max"],
)
def test_huge_declared_sizes_in_every_format(make: Callable[[], bytes]) -> None:
    started = time.perf_counter()
    assert "is too large" in refuse(make(), "huge")
    assert time.perf_counter() - started < 1


@pytest.mark.parametrize(
    "make",
    [
        hostile.png_zero_width,
        lambda: hostile.jpeg_declaring(64, 0),
        lambda: hostile.bmp_declaring(0, 10),
        lambda: hostile.HTML_AS_GIF,
    ],
    ids=["png", "jpeg", "bmp", "html-as-gif"],
)
def test_zero_or_nonsense_dimensions(make: Callable[[], bytes]) -> None:
    refuse(make(), "odd.png")


def test_jpeg_scan_bomb_is_refused() -> None:
    assert "damaged" in refuse(hostile.jpeg_many_scans(), "scans.jpg")


def test_empty_bytes() -> None:
    assert refuse(b"", "nothing.png") == "“nothing.png” is empty, so it was not imported."


def test_pixel_limit_is_checked_again_after_pillow_reads_the_header(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """HEIF sizes are only known to libheif, so the second check is the one that counts."""
    monkeypatch.setattr(images, "MAX_PIXELS", 1000)
    assert "is too large" in refuse(hostile.heic(64, 48), "photo.heic")


def test_pillow_global_limit_changed_elsewhere_does_not_leak(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A lowered ``Image.MAX_IMAGE_PIXELS`` makes Pillow warn or raise; neither escapes."""
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 2000)  # 64x48 = 3072: a Pillow warning
    assert inspect_image(hostile.png()).width == 64
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # now a Pillow error
    assert refuse(hostile.heic(), "photo.heic") == (
        "“photo.heic” is too large to open safely, so it was not imported."
    )


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("line\nbreak.png", "line?break.png"),
        ("evil\u202egnp.exe", "evil?gnp.exe"),
        ("a" * 300 + ".png", "…"),
    ],
    ids=["newline", "bidi-override", "very-long"],
)
def test_hostile_file_names_cannot_break_the_message(name: str, shown: str) -> None:
    with pytest.raises(RefusedInput) as caught:
        inspect_image(hostile.TEXT, name)
    assert "\n" not in caught.value.message and "\u202e" not in caught.value.message
    assert shown in caught.value.message
    assert len(caught.value.message) < 200


def test_no_name_still_makes_a_sentence() -> None:
    with pytest.raises(RefusedInput) as caught:
        inspect_image(hostile.TEXT)
    assert caught.value.message.startswith("The file is not a picture")


def test_thumbnail_size_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_side"):
        make_thumbnail(hostile.png(), 0)


# --------------------------------------------------------------------------- fuzzing

SEEDS = [
    hostile.png(24, 16),
    hostile.jpeg(24, 16),
    hostile.webp(24, 16),
    hostile.gif(24, 16),
    hostile.bmp(24, 16),
    hostile.heic(24, 16),
    hostile.animated_gif(3, 24, 16),
    hostile.jpeg_with_exif(24, 16, offset="+02:00", orientation=6),
]


@settings(
    max_examples=300,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    seed=st.sampled_from(SEEDS),
    edits=st.lists(st.tuples(st.floats(0, 1), st.integers(0, 255)), min_size=1, max_size=8),
    cut=st.floats(0.05, 1.0),
)
def test_mutated_files_are_accepted_or_refused_never_crash(
    seed: bytes, edits: list[tuple[float, int]], cut: float
) -> None:
    data = bytearray(seed)
    for where, value in edits:
        data[min(int(where * len(data)), len(data) - 1)] = value
    mutated = bytes(data[: max(1, int(len(data) * cut))])
    for operation in (
        lambda: inspect_image(mutated, "fuzz.png"),
        lambda: make_thumbnail(mutated, 32, name="fuzz.png"),
    ):
        try:
            operation()
        except RefusedInput as exc:
            assert_plain_refusal(exc, "fuzz.png")


# --------------------------------------------------------------------------- reading files


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def refuse_file(path: Path) -> str:
    with pytest.raises(RefusedInput) as caught:
        read_import_file(path)
    assert_plain_refusal(caught.value, path.name)
    return caught.value.message


def test_read_returns_the_bytes_verbatim_and_the_file_facts(tmp_path: Path) -> None:
    data = hostile.jpeg_with_exif()
    path = write(tmp_path / "IMG_0042.JPG", data)
    stamp_ns = 1_772_658_245_123_456_789  # 2026-03-04T21:04:05.123456789Z
    os.utime(path, ns=(stamp_ns, stamp_ns))
    read, source = read_import_file(path)
    assert read == data
    assert source.file_name == "IMG_0042.JPG"
    assert source.file_size == len(data)
    assert source.file_mtime == "2026-03-04T21:04:05.123Z"
    assert source.claimed_time is None  # a claim needs a decode: inspect_image's job


def test_import_image_carries_the_claim(tmp_path: Path) -> None:
    path = write(tmp_path / "IMG_0043.JPG", hostile.jpeg_with_exif(offset="-05:00"))
    data, source, info = import_image(path)
    assert source.claimed_time == info.claimed_time == "2026:03:04 21:04:05-05:00"
    assert data == path.read_bytes()


def test_undecodable_file_name_is_recorded_escaped(tmp_path: Path) -> None:
    raw = os.fsencode(tmp_path) + b"/shot\xff.png"
    with open(raw, "wb") as fh:
        fh.write(hostile.png())
    path = Path(os.fsdecode(raw))
    _, source = read_import_file(path)
    assert source.file_name == "shot\\xff.png"
    source.file_name.encode("utf-8")  # storable
    with pytest.raises(RefusedInput) as caught:
        inspect_image(hostile.TEXT, path.name)
    assert "shot?.png" in caught.value.message


def test_symlink_to_a_picture_is_followed(tmp_path: Path) -> None:
    target = write(tmp_path / "real.png", hostile.png())
    link = tmp_path / "link.png"
    link.symlink_to(target)
    assert read_import_file(link)[0] == target.read_bytes()


def test_empty_file(tmp_path: Path) -> None:
    message = refuse_file(write(tmp_path / "blank.png", b""))
    assert message == "“blank.png” is empty, so it was not imported."


def test_missing_file(tmp_path: Path) -> None:
    message = refuse_file(tmp_path / "gone.png")
    assert message == "“gone.png” could not be found, so it was not imported."


def test_dangling_symlink_is_missing(tmp_path: Path) -> None:
    link = tmp_path / "dangling.png"
    link.symlink_to(tmp_path / "nowhere.png")
    assert "could not be found" in refuse_file(link)


def test_directory(tmp_path: Path) -> None:
    folder = tmp_path / "album.png"
    folder.mkdir()
    assert refuse_file(folder) == "“album.png” is a folder, not a picture, so it was not imported."


@pytest.mark.timeout(10)
def test_fifo_does_not_hang(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    assert "is a pipe" in refuse_file(fifo)


@pytest.mark.timeout(10)
def test_fifo_swapped_in_after_stat_does_not_hang(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The race: ``stat`` saw a regular file, ``open`` meets a pipe. O_NONBLOCK saves us."""
    regular = write(tmp_path / "regular.png", hostile.png())
    fifo = tmp_path / "swapped.png"
    os.mkfifo(fifo)
    real_stat = Path.stat

    def lying_stat(self: Path, **kwargs: Any) -> os.stat_result:
        return real_stat(regular if self == fifo else self, **kwargs)

    monkeypatch.setattr(Path, "stat", lying_stat)
    assert "is a pipe" in refuse_file(fifo)


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_device_is_refused_without_reading() -> None:
    """/dev/zero never ends: reading it at all would be the bug."""
    assert "is a device" in refuse_file(Path("/dev/zero"))


def test_socket(tmp_path: Path) -> None:
    path = tmp_path / "s.png"
    if len(os.fsencode(path)) > 100:
        pytest.skip("temporary path too long for a Unix socket")
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind(str(path))
        assert "is a socket" in refuse_file(path)
    finally:
        server.close()


def test_over_the_byte_limit_without_reading_it(tmp_path: Path) -> None:
    path = tmp_path / "huge.png"
    with path.open("wb") as fh:  # sparse: takes no disk space
        fh.write(hostile.png())
        fh.truncate(MAX_IMPORT_BYTES + 1)
    started = time.perf_counter()
    message = refuse_file(path)
    assert time.perf_counter() - started < 1
    assert message == "“huge.png” is too large (101 MB; the limit is 100 MB)."


def test_exactly_at_the_byte_limit_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(images, "MAX_IMPORT_BYTES", 4096)
    data = hostile.png() + b"\x00" * (4096 - len(hostile.png()))
    assert read_import_file(write(tmp_path / "edge.png", data))[0] == data
    assert "too large" in refuse_file(write(tmp_path / "over.png", data + b"\x00"))


def test_file_that_grows_while_read_is_cut_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``fstat`` says small, the file is not: we stop at the limit plus one byte."""
    monkeypatch.setattr(images, "MAX_IMPORT_BYTES", 10_000)
    path = write(tmp_path / "growing.png", b"\x00" * 1_000_000)
    real_stat, real_fstat = Path.stat, os.fstat

    def small(facts: os.stat_result) -> os.stat_result:
        fields = list(facts)
        fields[6] = 100  # st_size
        return os.stat_result(fields)

    monkeypatch.setattr(Path, "stat", lambda self, **kw: small(real_stat(self, **kw)))
    monkeypatch.setattr(os, "fstat", lambda fd: small(real_fstat(fd)))
    read_sizes: list[int] = []
    real_read = io.FileIO.read

    class CountingFileIO(io.FileIO):
        def read(self, size: int = -1, /) -> bytes:
            chunk = real_read(self, size)
            read_sizes.append(len(chunk or b""))
            return chunk or b""

    monkeypatch.setattr(os, "fdopen", lambda fd, *a, **k: CountingFileIO(fd, "rb"))
    assert "is too large" in refuse_file(path)
    assert sum(read_sizes) == 10_001


@pytest.mark.skipif(
    os.geteuid() == 0, reason="root reads a chmod 000 file anyway; see the test below"
)
def test_unreadable_file(tmp_path: Path) -> None:
    path = write(tmp_path / "locked.png", hostile.png())
    path.chmod(0)
    try:
        assert refuse_file(path) == (
            "Evidence Recorder is not allowed to read “locked.png”, so it was not imported."
        )
    finally:
        path.chmod(0o600)


def test_permission_refusal_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Runs as root too: the operating system's refusal is simulated at ``os.open``."""
    path = write(tmp_path / "locked.png", hostile.png())

    def denied(*args: Any, **kwargs: Any) -> int:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "open", denied)
    assert refuse_file(path) == (
        "Evidence Recorder is not allowed to read “locked.png”, so it was not imported."
    )


def test_other_read_errors_become_one_sentence(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path / "flaky.png", hostile.png())

    def failing(*args: Any, **kwargs: Any) -> int:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "open", failing)
    assert refuse_file(path) == (
        "“flaky.png” could not be read (Input/output error), so it was not imported."
    )


# --------------------------------------------------------------------------- in memory only


_file_events: list[tuple[str, tuple[Any, ...]]] = []
_watching = threading.Event()
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if not _watching.is_set():
        return
    if event == "open":
        mode, flags = args[1], args[2]
        if (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
            isinstance(flags, int) and flags & _WRITE_FLAGS
        ):
            _file_events.append((event, args))
    elif event.startswith(
        (
            "tempfile.",
            "os.rename",
            "os.remove",
            "shutil.",
            "subprocess.",
            "os.mkdir",
            "os.system",
            "os.posix_spawn",
            "os.exec",
        )
    ):
        _file_events.append((event, args))


sys.addaudithook(_audit)


@pytest.fixture
def watch_files() -> Iterator[list[tuple[str, tuple[Any, ...]]]]:
    _file_events.clear()
    _watching.set()
    try:
        yield _file_events
    finally:
        _watching.clear()


def test_the_file_audit_sees_writes(
    tmp_path: Path, watch_files: list[tuple[str, tuple[Any, ...]]]
) -> None:
    """Without this control the test below could pass by watching nothing."""
    (tmp_path / "control.bin").write_bytes(b"x")
    assert [event for event, _ in watch_files] == ["open"]


def test_no_image_data_touches_the_disk(watch_files: list[tuple[str, tuple[Any, ...]]]) -> None:
    """Python-level file writes, temp files and helper processes are all audited."""
    samples = [make() for _, make, _ in ACCEPTED] + [hostile.jpeg_with_exif(orientation=6)]
    for data in samples:  # warm up first: plugin imports may write .pyc files
        _watching.clear()
        inspect_image(data)
        make_thumbnail(data)
        _watching.set()
        inspect_image(data)
        make_thumbnail(data)
    assert watch_files == []


# --------------------------------------------------------------------------- process state


def test_concurrent_use_leaves_warning_filters_alone() -> None:
    before = list(warnings.filters)
    samples = [
        hostile.png(200, 100),
        hostile.gif(200, 100),
        hostile.heic(200, 100),
        hostile.truncated(hostile.jpeg(200, 100)),
    ]

    def work(data: bytes) -> str:
        try:
            return inspect_image(data).media_type
        except RefusedInput:
            return "refused"

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(work, samples * 10))
    assert results.count("refused") == 10
    assert warnings.filters == before


def test_heif_support_is_loaded_lazily_and_core_stays_free_of_qt(tmp_path: Path) -> None:
    heic_file = write(tmp_path / "photo.heic", hostile.heic())
    probe = f"""
import sys
from pathlib import Path
from evidence_recorder.core.gather import images
assert "pillow_heif" not in sys.modules, "loaded at import"
images.inspect_image(images.read_import_file(Path({str(tmp_path / "x.png")!r}))[0])
assert "pillow_heif" not in sys.modules, "loaded for a PNG"
assert images.inspect_image(Path({str(heic_file)!r}).read_bytes()).media_type == "image/heic"
assert "pillow_heif" in sys.modules
assert not [m for m in sys.modules if m.startswith(("PySide6", "shiboken6"))]
"""
    write(tmp_path / "x.png", hostile.png())
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_bombs_are_refused_without_the_memory_they_ask_for(tmp_path: Path) -> None:
    """In a fresh process, so the high-water mark of resident memory means something."""
    probe = """
import resource, sys
sys.path.insert(0, "tests")
import hostile_files as hostile
from evidence_recorder.core.errors import RefusedInput
from evidence_recorder.core.gather.images import inspect_image, make_thumbnail
bombs = [hostile.png_bomb(), hostile.png_declaring(20_000, 10_000), hostile.gif_huge_screen(),
         hostile.webp_huge_canvas(), hostile.jpeg_declaring(60_000, 60_000), hostile.heic(8, 8)]
inspect_image(bombs[-1])  # load libheif before measuring
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
for data in bombs[:-1]:
    for call in (inspect_image, make_thumbnail):
        try:
            call(data)
        except RefusedInput:
            pass
        else:
            raise SystemExit("accepted a bomb")
grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
print(grown_mb)
"""
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert float(result.stdout) < 30  # a decoded bomb would need 100 MB to 17 GB


def test_limits_are_what_the_documentation_says() -> None:
    assert MAX_IMPORT_BYTES == 100 * 1024 * 1024
    assert MAX_PIXELS == 80_000_000
    assert MAX_PIXELS < Image.MAX_IMAGE_PIXELS  # so Pillow never warns about a picture we accept
