"""Imported pictures: read them safely, say what they are, and make thumbnails.

This module owns the rule that a file brought in from outside (a phone screenshot,
a saved image) is hostile until proven otherwise. Everything here works on bytes in
memory: no image data is ever written to disk unencrypted, so there are no temp
files, no ``Image.show()``, no djpeg/ghostscript helpers, and Pillow is only ever
handed a ``BytesIO`` and an explicit list of the formats we accept.

Defences, in the order they run:

1. ``read_import_file`` stats before opening, refuses anything that is not an
   ordinary file, opens with ``O_NONBLOCK`` so a pipe swapped in cannot hang us,
   and never reads more than ``MAX_IMPORT_BYTES + 1`` bytes.
2. The format is decided by the first bytes, never by the file name.
3. A small structural walk in pure Python (PNG chunks, JPEG markers, GIF blocks,
   the WebP RIFF header, the BMP header) reads the *declared* dimensions and
   refuses an oversized picture before any C decoder allocates memory for it. The
   same walk notices truncated structure and bytes after the picture's end.
4. Pillow opens the bytes (headers only) and its own idea of the size is checked
   again; then the first frame is fully decoded, which catches truncated pixel data.
5. Every exception and warning from Pillow and pillow-heif becomes one plain
   sentence in a :class:`RefusedInput`.

Decisions worth knowing:

* **Bytes after the picture** (a PNG followed by a ZIP, a Samsung "SEFT" trailer
  after a JPEG, a Google motion photo's video, the second picture of an MPO) are
  *accepted*. The original is stored exactly as given so its hash matches the file
  the user holds; refusing it would lose evidence that displays fine everywhere.
  The number of such bytes is reported in :attr:`ImageInfo.bytes_after_image` so
  the app can say so; the bytes are never interpreted.
* **Animations** (GIF, animated WebP, APNG, HEIF with several pictures): only the
  first frame is decoded. Decoding every frame costs frames times canvas, which a small
  hostile file can make minutes long; the thumbnail and reports show the first
  frame anyway, and the original is kept whole. Truncation of later frames is still
  caught by the structural walk (PNG, GIF, WebP), which costs no decompression.
* **Orientation**: ``width``/``height`` are as a viewer shows the picture, after the
  EXIF orientation is applied, so they agree with the thumbnail.
"""

from __future__ import annotations

import contextlib
import io
import logging
import math
import os
import re
import stat
import struct
import threading
import unicodedata
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Final

from PIL import ExifTags, Image

from evidence_recorder.core.errors import RefusedInput
from evidence_recorder.core.model import ImportSource, iso_utc

_log = logging.getLogger(__name__)

MAX_IMPORT_BYTES: Final = 100 * 1024 * 1024
"""Largest file we will import (100 MiB).

The whole original is held in memory (it may never touch disk unencrypted), then
encrypted, so the peak is a few times this. Real inputs are far smaller: a 4K PNG
screenshot is 2-15 MB, a long scrolling phone screenshot 5-30 MB, a 48 MP phone
photo 10-25 MB. One consequence: an uncompressed BMP above about 33 megapixels is
refused for its size, which is acceptable for a format phones never produce.
"""

MAX_PIXELS: Final = 80_000_000
"""Most pixels we will decode (80 megapixels).

A long scrolling phone screenshot is about 25 MP and three 4K monitors side by
side 25 MP, so 80 leaves room while bounding a decode to about 320 MB (4 bytes a
pixel). It sits below Pillow's own bomb threshold (about 89 MP), so an image we
accept never trips Pillow's warning; we check it ourselves because
``Image.MAX_IMAGE_PIXELS`` is process-wide state that other code may change.
"""

# The grid's thumbnails, and the report-size preview kept beside each original so that
# an export never has to decode the originals again.
THUMBNAIL_SIDE: Final = 320
PREVIEW_SIDE: Final = 1280
SMALL_PREVIEW_SIDE: Final = 640  # for reports of so many captures that 1280 will not fit
PREVIEW_SIDES: Final = (PREVIEW_SIDE, SMALL_PREVIEW_SIDE, THUMBNAIL_SIDE)
PREVIEW_QUALITY: Final = 75  # a 1920x1080 screenshot's preview is about 170 KB

MAX_JPEG_SCANS: Final = 500
"""A progressive JPEG with thousands of scans decodes for minutes (a known CPU
denial of service); real encoders write about ten. 500 is libjpeg-turbo's own
suggested ``-maxscans`` for untrusted input."""

_MAX_STRUCTURE_STEPS: Final = 2_000_000
"""Bound on the pure-Python structure walks. A legitimate 100 MiB file needs at most
a few hundred thousand steps; a hostile one of tiny blocks would otherwise cost
tens of seconds."""

SUPPORTED_NAMES: Final = "PNG, JPEG, WebP, GIF, BMP and HEIC"


@dataclass(frozen=True, slots=True)
class ImageInfo:
    """What an imported picture is, as far as its bytes can be trusted."""

    media_type: str
    width: int
    height: int
    claimed_time: str | None
    """EXIF DateTimeOriginal (else DateTime) as written, plus the EXIF offset when it
    is a valid ``±HH:MM``. A claim made by whoever wrote the file, never a capture time."""
    frames: int = 1
    """Pictures in the file; only the first is decoded, shown and thumbnailed."""
    bytes_after_image: int | None = 0
    """Bytes after the picture's end marker; ``None`` when the format does not let us
    tell (BMP, some HEIF). Non-zero for polyglots, phone trailers and MPO files."""


# --------------------------------------------------------------------------- messages


def _display_name(name: str) -> str:
    """A file name that cannot break a one-line message or spoof its own extension.

    Control characters (newlines), bidi overrides and undecodable bytes are shown as
    ``?``; very long names keep their start and their extension.
    """
    cleaned = "".join(
        "?" if unicodedata.category(ch) in {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"} else ch
        for ch in name
    )
    if len(cleaned) > 80:
        cleaned = cleaned[:60] + "…" + cleaned[-19:]
    return cleaned


def _subject(name: str) -> str:
    return f"“{_display_name(name)}”" if name else "The file"


def _unsupported(subject: str) -> RefusedInput:
    return RefusedInput(
        f"{subject} is not a picture Evidence Recorder can keep (it accepts {SUPPORTED_NAMES})."
    )


def _damaged(subject: str) -> RefusedInput:
    return RefusedInput(f"{subject} is damaged or incomplete, so it was not imported.")


def _too_many_pixels(subject: str, pixels: int | None) -> RefusedInput:
    limit = MAX_PIXELS // 1_000_000
    if pixels is None or pixels <= MAX_PIXELS:  # Pillow's global limit was lowered elsewhere
        return RefusedInput(f"{subject} is too large to open safely, so it was not imported.")
    megapixels = math.ceil(pixels / 1_000_000)
    return RefusedInput(f"{subject} is too large ({megapixels} megapixels; the limit is {limit}).")


def _too_many_bytes(subject: str, size: int | None = None) -> RefusedInput:
    limit = MAX_IMPORT_BYTES // (1024 * 1024)
    if size is None:
        return RefusedInput(f"{subject} is too large (more than {limit} MB).")
    return RefusedInput(
        f"{subject} is too large ({math.ceil(size / (1024 * 1024))} MB; the limit is {limit} MB)."
    )


def _check_pixels(subject: str, width: int, height: int) -> None:
    if width <= 0 or height <= 0:
        raise _damaged(subject)
    if width * height > MAX_PIXELS:
        raise _too_many_pixels(subject, width * height)


# --------------------------------------------------------------------------- formats


@dataclass(frozen=True, slots=True)
class _Kind:
    pillow_format: str
    media_type: str


_PNG = _Kind("PNG", "image/png")
_JPEG = _Kind("JPEG", "image/jpeg")
_GIF = _Kind("GIF", "image/gif")
_WEBP = _Kind("WEBP", "image/webp")
_BMP = _Kind("BMP", "image/bmp")
_HEIC = _Kind("HEIF", "image/heic")
_HEIF = _Kind("HEIF", "image/heif")

_PNG_SIGNATURE: Final = b"\x89PNG\r\n\x1a\n"
_HEIC_BRANDS: Final = frozenset(
    {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs"}
)
_HEIF_BRANDS: Final = frozenset({b"mif1", b"msf1"})
_AVIF_BRANDS: Final = frozenset({b"avif", b"avis"})


def _sniff(data: bytes) -> _Kind | None:
    """Decide the format from the first bytes; the name and extension are never asked."""
    if data.startswith(_PNG_SIGNATURE):
        return _PNG
    if data.startswith(b"\xff\xd8\xff"):
        return _JPEG
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return _GIF
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return _WEBP
    if data[:2] == b"BM" and len(data) >= 18:
        return _BMP
    if data[4:8] == b"ftyp":
        return _sniff_heif(data)
    return None


def _sniff_heif(data: bytes) -> _Kind | None:
    """HEIC is HEIF holding HEVC; ``mif1`` files may instead hold AV1 (AVIF), which we
    cannot decode here, so those are refused as unsupported rather than as damaged."""
    box_size = int.from_bytes(data[0:4], "big")
    major = data[8:12]
    compatible = {data[i : i + 4] for i in range(16, min(box_size, len(data), 4096) - 3, 4)}
    if major in _HEIC_BRANDS or (major in _HEIF_BRANDS and compatible & _HEIC_BRANDS):
        return _HEIC
    if major in _HEIF_BRANDS and not compatible & _AVIF_BRANDS:
        return _HEIF
    return None


# --------------------------------------------------------------------------- structure


class _Malformed(Exception):
    """The declared structure runs past the data or contradicts itself."""


@dataclass(frozen=True, slots=True)
class _Layout:
    width: int | None  # declared, before any decoder runs; None when only libheif knows
    height: int | None
    end: int | None  # offset just past the picture's end marker; None when unknown
    frames: int = 1


def _png_layout(data: bytes) -> _Layout:
    pos = len(_PNG_SIGNATURE)
    length, ctype = struct.unpack_from(">I4s", data, pos)
    if ctype != b"IHDR" or length != 13:
        raise _Malformed
    width, height = struct.unpack_from(">II", data, pos + 8)
    frames = 0
    end: int | None = None
    for _ in range(_MAX_STRUCTURE_STEPS):
        if pos == len(data):
            break  # no IEND: the pixels may still be whole, Pillow decides
        length, ctype = struct.unpack_from(">I4s", data, pos)
        if length > 0x7FFFFFFF or pos + 12 + length > len(data):
            raise _Malformed
        pos += 12 + length
        if ctype == b"fcTL":
            frames += 1
        elif ctype == b"IEND":
            end = pos
            break
    else:
        raise _Malformed
    return _Layout(width, height, end, max(frames, 1))


_SOF_MARKERS: Final = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
_STANDALONE_MARKERS: Final = frozenset({0x01, *range(0xD0, 0xD8)})
# Inside entropy-coded data 0xFF is followed by 0x00 (stuffing), RSTn or more 0xFF
# (fill); anything else is the next marker.
_NEXT_MARKER: Final = re.compile(rb"\xff(?=[^\x00\xd0-\xd7\xff])")


def _jpeg_layout(data: bytes) -> _Layout:
    pos = 2
    size: tuple[int, int] | None = None
    scans = 0
    for _ in range(_MAX_STRUCTURE_STEPS):
        pos = data.find(b"\xff", pos)  # libjpeg skips stray bytes between markers too
        if pos < 0:
            return _jpeg_result(size, None)
        while pos + 1 < len(data) and data[pos + 1] == 0xFF:
            pos += 1
        if pos + 1 >= len(data):
            return _jpeg_result(size, None)
        marker = data[pos + 1]
        pos += 2
        if marker == 0xD9:
            return _jpeg_result(size, pos)
        if marker in _STANDALONE_MARKERS or marker == 0x00:
            continue
        (length,) = struct.unpack_from(">H", data, pos)
        if length < 2 or pos + length > len(data):
            raise _Malformed
        if marker in _SOF_MARKERS and size is None:
            height, width = struct.unpack_from(">xHH", data, pos + 2)
            size = (width, height)
        pos += length
        if marker == 0xDA:
            scans += 1
            if size is None or scans > MAX_JPEG_SCANS:
                raise _Malformed
            found = _NEXT_MARKER.search(data, pos)
            if found is None:
                return _jpeg_result(size, None)
            pos = found.start()
    raise _Malformed


def _jpeg_result(size: tuple[int, int] | None, end: int | None) -> _Layout:
    if size is None:
        raise _Malformed
    return _Layout(size[0], size[1], end)


def _gif_layout(data: bytes) -> _Layout:
    width, height, flags = struct.unpack_from("<HHB", data, 6)
    pos = 13
    if flags & 0x80:
        pos += 3 << ((flags & 7) + 1)
    frames = 0
    steps = 0
    end: int | None = None
    while True:
        steps += 1
        if steps > _MAX_STRUCTURE_STEPS:
            raise _Malformed
        if pos >= len(data):
            break  # no trailer after whole blocks: tolerated, as every viewer does
        block = data[pos]
        if block == 0x3B:
            end = pos + 1
            break
        if block == 0x21:
            pos += 2
        elif block == 0x2C:
            left, top, fw, fh, fflags = struct.unpack_from("<HHHHB", data, pos + 1)
            if frames == 0:  # Pillow grows the canvas to hold the first frame
                width, height = max(width, left + fw), max(height, top + fh)
            frames += 1
            pos += 10
            if fflags & 0x80:
                pos += 3 << ((fflags & 7) + 1)
            pos += 1  # LZW minimum code size
        else:
            break  # not a GIF block: unknown bytes after the last picture
        while True:  # data sub-blocks, ended by a zero length
            if pos >= len(data):
                raise _Malformed
            steps += 1
            sub = data[pos]
            pos += 1 + sub
            if sub == 0:
                break
        if pos > len(data) or steps > _MAX_STRUCTURE_STEPS:
            raise _Malformed
    if frames == 0:
        raise _Malformed
    return _Layout(width, height, end, frames)


def _webp_layout(data: bytes) -> _Layout:
    (riff_size,) = struct.unpack_from("<I", data, 4)
    end = 8 + riff_size
    if end > len(data) or riff_size < 12:
        raise _Malformed
    first = data[12:16]
    if first == b"VP8 ":
        if data[23:26] != b"\x9d\x01\x2a":
            raise _Malformed
        width, height = struct.unpack_from("<HH", data, 26)
        width, height = width & 0x3FFF, height & 0x3FFF
    elif first == b"VP8L":
        if data[20] != 0x2F:
            raise _Malformed
        (bits,) = struct.unpack_from("<I", data, 21)
        width, height = (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    elif first == b"VP8X":
        width = int.from_bytes(data[24:27], "little") + 1
        height = int.from_bytes(data[27:30], "little") + 1
    else:
        raise _Malformed
    frames = 0
    pos = 12
    for _ in range(_MAX_STRUCTURE_STEPS):
        if pos + 8 > end:
            break
        fourcc, size = struct.unpack_from("<4sI", data, pos)
        pos += 8 + size + (size & 1)
        if pos > end + 1:  # a lone pad byte missing at the very end is common
            raise _Malformed
        frames += fourcc == b"ANMF"
    return _Layout(width, height, end, max(frames, 1))


def _bmp_layout(data: bytes) -> _Layout:
    (header_size,) = struct.unpack_from("<I", data, 14)
    if header_size == 12:
        width, height = struct.unpack_from("<HH", data, 18)
    else:
        width, height = struct.unpack_from("<ii", data, 18)
    # The header's file size is too often wrong to say where the picture ends.
    return _Layout(width, abs(height), None)


def _heif_layout(data: bytes) -> _Layout:
    """Walk the top-level boxes only to spot bytes after the last one; libheif reads
    the dimensions (they live deep in ``meta``) and enforces its own limits."""
    pos = 0
    for _ in range(100_000):
        if pos == len(data):
            return _Layout(None, None, pos)
        if pos + 8 > len(data):
            break
        size = int.from_bytes(data[pos : pos + 4], "big")
        if size == 1 and pos + 16 <= len(data):
            size = int.from_bytes(data[pos + 8 : pos + 16], "big")
        elif size == 0:
            return _Layout(None, None, len(data))
        if size < 8 or pos + size > len(data):
            break
        pos += size
    return _Layout(None, None, None)


_LAYOUTS = {
    _PNG: _png_layout,
    _JPEG: _jpeg_layout,
    _GIF: _gif_layout,
    _WEBP: _webp_layout,
    _BMP: _bmp_layout,
    _HEIC: _heif_layout,
    _HEIF: _heif_layout,
}


def _identify(data: bytes, subject: str) -> tuple[_Kind, _Layout]:
    kind = _sniff(data)
    if kind is None:
        raise _unsupported(subject)
    try:
        layout = _LAYOUTS[kind](data)
    except (_Malformed, struct.error, IndexError, ValueError):
        raise _damaged(subject) from None
    if layout.width is not None and layout.height is not None:
        _check_pixels(subject, layout.width, layout.height)
    return kind, layout


HEADER_BYTES: Final = 256 * 1024


def declared_size(head: bytes) -> tuple[int, int] | None:
    """Width and height as a file's header declares them, from its first bytes only.

    For checking pictures in a received bundle without decoding (or even reading)
    them whole; ``None`` when the header does not say or is not one we read.
    """
    with contextlib.suppress(struct.error, IndexError, ValueError):
        kind = _sniff(head)
        if kind is _PNG:
            width, height = struct.unpack_from(">II", head, 16)
            return width, height
        if kind is _GIF:
            width, height = struct.unpack_from("<HH", head, 6)
            return width, height
        if kind is _BMP:
            width, height = struct.unpack_from("<ii", head, 18)
            return abs(width), abs(height)
        if kind is _WEBP:
            chunk = head[12:16]
            if chunk == b"VP8X":
                w = int.from_bytes(head[24:27], "little") + 1
                h = int.from_bytes(head[27:30], "little") + 1
                return w, h
            if chunk == b"VP8L":
                bits = int.from_bytes(head[21:25], "little")
                return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
            if chunk == b"VP8 ":
                w, h = struct.unpack_from("<HH", head, 26)
                return w & 0x3FFF, h & 0x3FFF
        if kind is _JPEG:
            pos = 2
            while pos + 9 < len(head):
                if head[pos] != 0xFF:
                    return None
                marker = head[pos + 1]
                if marker == 0xFF:
                    pos += 1
                    continue
                if marker in _STANDALONE_MARKERS:
                    pos += 2
                    continue
                length = struct.unpack_from(">H", head, pos + 2)[0]
                if marker in _SOF_MARKERS:
                    height, width = struct.unpack_from(">HH", head, pos + 5)
                    return width, height
                pos += 2 + length
    return None


def too_many_pixels(size: tuple[int, int] | None) -> bool:
    return size is not None and size[0] * size[1] > MAX_PIXELS


# --------------------------------------------------------------------------- Pillow

PILLOW_LOCK = threading.RLock()
_heif_lock = threading.Lock()
_heif_registered = False
_BOMB_PIXELS = re.compile(r"\((\d+) pixels\)")


def _register_heif(subject: str) -> None:
    """Teach Pillow HEIF on first use only, so starting the app does not load libheif.

    Embedded thumbnails are switched off: pillow-heif would otherwise let
    ``draft()`` decode a thumbnail chosen by the file instead of the picture, and a
    hostile file can make that thumbnail show something else.
    """
    global _heif_registered
    with _heif_lock:
        if _heif_registered:
            return
        try:
            import pillow_heif  # lazy: libheif is only loaded when a HEIF arrives
        except ImportError:
            raise RefusedInput(
                f"{subject} is a HEIC picture, which this installation of Evidence Recorder "
                "cannot open."
            ) from None
        pillow_heif.register_heif_opener(thumbnails=False, depth_images=False, aux_images=False)
        _heif_registered = True


@contextlib.contextmanager
def _pillow(subject: str) -> Iterator[None]:
    """Run Pillow with its warnings silenced and every failure turned into a refusal.

    ``warnings.catch_warnings`` swaps process-wide state, so callers are serialised on
    a lock; a warning another thread raises meanwhile is dropped, which is harmless.
    Any exception out of a parser fed hostile bytes means "we cannot read this
    safely", so the net is deliberately wide; only its type is logged.
    """
    with PILLOW_LOCK, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            yield
        except RefusedInput:
            raise
        except Image.DecompressionBombError as exc:
            found = _BOMB_PIXELS.search(str(exc))
            raise _too_many_pixels(subject, int(found.group(1)) if found else None) from None
        except MemoryError:
            raise RefusedInput(
                f"{subject} needs more memory than this computer can spare, so it was not imported."
            ) from None
        except Exception as exc:  # hostile input: see the docstring
            _log.info("refused a picture: %s", type(exc).__name__)
            raise _damaged(subject) from None


def _open(data: bytes, kind: _Kind, subject: str) -> Image.Image:
    if kind.pillow_format == "HEIF":
        _register_heif(subject)
    image = Image.open(io.BytesIO(data), formats=[kind.pillow_format])
    _check_pixels(subject, *image.size)
    return image


EXIF_TRANSPOSE: Final = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def _orientation(image: Image.Image) -> int:
    """EXIF orientation, or 1. Broken EXIF must not cost the user the picture."""
    try:
        value = image.getexif().get(ExifTags.Base.Orientation)
    except Exception:  # metadata is optional; the pixels are what count
        return 1
    return value if isinstance(value, int) and value in EXIF_TRANSPOSE else 1


_OFFSET = re.compile(r"[+-]\d\d:\d\d")


def _exif_text(value: object) -> str | None:
    """An EXIF ASCII value kept as written, or None if it is not short printable text.

    Unknown dates are written as blanks and colons; those carry no claim.
    """
    if isinstance(value, bytes):
        try:
            value = value.decode("ascii")
        except UnicodeDecodeError:
            return None
    if not isinstance(value, str):
        return None
    text = value.rstrip("\x00 ")
    if not text or len(text) > 40 or not text.isprintable() or not text.isascii():
        return None
    return text if any(ch.isdigit() for ch in text) else None


def _claimed_time(image: Image.Image) -> str | None:
    try:
        exif = image.getexif()
        details = exif.get_ifd(ExifTags.IFD.Exif)
        when = _exif_text(details.get(ExifTags.Base.DateTimeOriginal))
        offset = _exif_text(details.get(ExifTags.Base.OffsetTimeOriginal))
        if when is None:
            when = _exif_text(exif.get(ExifTags.Base.DateTime))
            offset = _exif_text(details.get(ExifTags.Base.OffsetTime))
    except Exception:  # a broken claim is no claim; the picture stands
        return None
    if when is None:
        return None
    return when + offset if offset and _OFFSET.fullmatch(offset) else when


# --------------------------------------------------------------------------- public API


def inspect_image(data: bytes, name: str = "") -> ImageInfo:
    """Prove that ``data`` is a picture we accept, or refuse it with one sentence.

    ``name`` is only used in the message. The first frame is decoded in full so that
    a truncated or corrupt file is refused now, while the user still has it, rather
    than discovered when a report is needed.
    """
    subject = _subject(name)
    if not data:
        raise RefusedInput(f"{subject} is empty, so it was not imported.")
    kind, layout = _identify(data, subject)
    with _pillow(subject):
        image = _open(data, kind, subject)
        image.load()
        _check_pixels(subject, *image.size)  # libheif may only now know the real size
        width, height = image.size
        if _orientation(image) >= 5:
            width, height = height, width
        claimed = _claimed_time(image)
        frames = layout.frames
        if kind in (_HEIC, _HEIF):  # only libheif can count the pictures in a HEIF
            frames = max(frames, int(getattr(image, "n_frames", 1)))
    return ImageInfo(
        media_type=kind.media_type,
        width=width,
        height=height,
        claimed_time=claimed,
        frames=frames,
        bytes_after_image=None if layout.end is None else len(data) - layout.end,
    )


def make_thumbnail(data: bytes, max_side: int = THUMBNAIL_SIDE, *, name: str = "") -> bytes:
    """A JPEG that fits ``max_side``, upright, on white, of the first frame."""
    return make_thumbnails(data, (max_side,), name=name)[0]


def make_thumbnails(data: bytes, sides: Sequence[int], *, name: str = "",
                    quality: int = 80) -> list[bytes]:
    """JPEGs that fit each of ``sides`` (largest first), from one decode of ``data``.

    Made for every capture, including 4K screenshots, so it is built for speed: JPEG
    is decoded at 1/2-1/8 scale (``draft``), then ``reduce()`` by whole factors before
    one bicubic pass (``thumbnail`` with ``reducing_gap``); each smaller picture is
    made from the one before, and mode conversions happen at reduced size where
    possible. The bytes are re-validated, never trusted, and an embedded thumbnail
    is never used (it could show a different picture).
    """
    if not sides or min(sides) < 1 or list(sides) != sorted(sides, reverse=True):
        raise ValueError("max_side must be at least 1, and sides largest first")
    subject = _subject(name)
    if not data:
        raise RefusedInput(f"{subject} is empty, so it was not imported.")
    kind, _layout = _identify(data, subject)
    with _pillow(subject):
        image = _open(data, kind, subject)
        if kind is _JPEG:  # draft wants the size we need, not the box it must fit
            scale = min(1.0, sides[0] / max(image.size))
            image.draft("RGB", (max(1, int(image.width * scale)),
                                max(1, int(image.height * scale))))
        image.load()
        return _reduced(_working_mode(image), sides, quality, _orientation(image))


def previews_of(image: Image.Image) -> tuple[bytes, bytes, bytes]:
    """``(preview, small preview, thumbnail)`` of a screen grab still in memory (JPEGs).

    The same pictures :func:`make_thumbnails` makes from the saved bytes, without
    decoding them again; :mod:`capture` makes them while the PNG is being encoded.
    """
    if image.mode not in {"RGB", "L"}:
        image = image.convert("RGB")
    preview, small, thumbnail = _reduced(image.copy(), PREVIEW_SIDES, PREVIEW_QUALITY, 1)
    return preview, small, thumbnail


def _reduced(picture: Image.Image, sides: Sequence[int], quality: int,
             orientation: int) -> list[bytes]:
    """Each smaller picture is made from the one before (``picture`` is changed)."""
    made: list[bytes] = []
    for index, side in enumerate(sides):
        picture.thumbnail((side, side), Image.Resampling.BICUBIC, reducing_gap=2.0)
        if index == 0:
            if orientation in EXIF_TRANSPOSE:
                picture = picture.transpose(EXIF_TRANSPOSE[orientation])
            picture = _on_white(picture)
        out = io.BytesIO()
        picture.save(out, "JPEG", quality=quality)
        made.append(out.getvalue())
    return made


def _working_mode(image: Image.Image) -> Image.Image:
    """Bring odd modes (palette, CMYK, 16-bit, 1-bit) to L, LA, RGB or RGBA.

    16-bit grey is scaled rather than clipped, or a 16-bit screenshot would come out
    white; transparency of any kind becomes a real alpha channel so it can be put on
    white.
    """
    mode = image.mode
    if mode in {"RGB", "RGBA", "L", "LA"} and "transparency" not in image.info:
        return image
    if mode.startswith("I;16") or mode == "I":
        return image.convert("I").point(lambda value: value * (1 / 256)).convert("L")
    if mode == "F":
        return image.convert("L")
    if "transparency" in image.info or mode in {"PA", "RGBa", "La"}:
        return image.convert("RGBA")
    return image.convert("L" if mode == "1" else "RGB")


def _on_white(image: Image.Image) -> Image.Image:
    if image.mode not in {"RGBA", "LA"}:
        return image if image.mode in {"RGB", "L"} else image.convert("RGB")
    base = Image.new(image.mode[:-1], image.size, 255 if image.mode == "LA" else (255, 255, 255))
    base.paste(image, mask=image.getchannel("A"))
    return base


def read_import_file(path: Path) -> tuple[bytes, ImportSource]:
    """Read a file the user chose, verbatim, without letting it hang or flood us.

    ``claimed_time`` is left ``None``: filling it needs a full decode, which is
    :func:`inspect_image`'s job; :func:`import_image` does both. The file name is
    recorded as given, except that bytes which are not UTF-8 are written as
    ``\\xNN`` so the name can be stored and shown.
    """
    subject = _subject(path.name)
    try:
        before = path.stat()
        _check_ordinary(before.st_mode, subject)
        if before.st_size > MAX_IMPORT_BYTES:
            raise _too_many_bytes(subject, before.st_size)
        flags = (
            os.O_RDONLY
            | getattr(os, "O_NONBLOCK", 0)  # a FIFO swapped in after stat cannot block us
            | getattr(os, "O_NOCTTY", 0)
            | getattr(os, "O_CLOEXEC", 0)
            | getattr(os, "O_BINARY", 0)
        )
        fd = os.open(path, flags)
        with os.fdopen(fd, "rb", buffering=0) as fh:
            now = os.fstat(fh.fileno())
            _check_ordinary(now.st_mode, subject)
            data = _read_bounded(fh, now.st_size)
    except RefusedInput:
        raise
    except (FileNotFoundError, NotADirectoryError):
        raise RefusedInput(f"{subject} could not be found, so it was not imported.") from None
    except PermissionError:
        raise RefusedInput(
            f"Evidence Recorder is not allowed to read {subject}, so it was not imported."
        ) from None
    except OSError as exc:
        reason = (exc.strerror or type(exc).__name__).replace("\n", " ")
        raise RefusedInput(
            f"{subject} could not be read ({reason}), so it was not imported."
        ) from None
    if len(data) > MAX_IMPORT_BYTES:
        raise _too_many_bytes(subject)
    if not data:
        raise RefusedInput(f"{subject} is empty, so it was not imported.")
    source = ImportSource(
        file_name=os.fsencode(path.name).decode("utf-8", "backslashreplace"),
        file_size=len(data),
        file_mtime=iso_utc(_from_ns(now.st_mtime_ns)),
    )
    return data, source


def import_image(path: Path) -> tuple[bytes, ImportSource, ImageInfo]:
    """Read and inspect in one step, carrying the file's claimed time into the source."""
    data, source = read_import_file(path)
    info = inspect_image(data, path.name)
    source.claimed_time = info.claimed_time
    return data, source, info


def _from_ns(ns: int) -> datetime:
    """A file time from nanoseconds; any 64-bit value is within ``datetime``'s range."""
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=ns // 1000)


_NOT_ORDINARY: Final = (
    (stat.S_ISDIR, "is a folder, not a picture"),
    (stat.S_ISFIFO, "is a pipe, not an ordinary file"),
    (stat.S_ISSOCK, "is a socket, not an ordinary file"),
    (stat.S_ISCHR, "is a device, not an ordinary file"),
    (stat.S_ISBLK, "is a device, not an ordinary file"),
)


def _check_ordinary(mode: int, subject: str) -> None:
    if stat.S_ISREG(mode):
        return
    what = next((text for test, text in _NOT_ORDINARY if test(mode)), "is not an ordinary file")
    raise RefusedInput(f"{subject} {what}, so it was not imported.")


def _read_bounded(fh: io.FileIO, expected: int) -> bytes:
    """Read at most ``MAX_IMPORT_BYTES + 1`` bytes (one more shows the file grew).

    One read of the expected size avoids holding the file twice in memory; the
    loop only runs when the file changed size under us.
    """
    limit = MAX_IMPORT_BYTES + 1
    first = fh.read(min(expected + 1, limit)) or b""
    if len(first) != expected:
        parts = [first]
        total = len(first)
        while total < limit:
            more = fh.read(min(1024 * 1024, limit - total))
            if not more:
                break
            parts.append(more)
            total += len(more)
        return b"".join(parts)
    return first
