"""What a picture's bytes are, read before any decoder touches them.

This module owns the pure-Python half of :mod:`images`' defences (its steps 2 and 3):
deciding the format from the first bytes (never the file name), and a bounded walk
of each format's structure (PNG chunks, JPEG markers, GIF blocks, the WebP RIFF
header, the BMP header, HEIF's top-level boxes) that reads the *declared* size
(HEIF keeps it deep inside, so only libheif reads that), counts frames and finds
where the picture ends. It decodes nothing, allocates nothing in proportion to the
declared size, and every walk is bounded in steps; a walk that runs past the data
or contradicts itself raises :class:`_Malformed` (or ``struct.error``,
``IndexError``, ``ValueError``), which :mod:`images` turns into one plain sentence.
It also reads a header's declared size for the bundle checker, which must judge
received pictures without opening them.
"""

from __future__ import annotations

import contextlib
import re
import struct
from dataclasses import dataclass
from typing import Final

MAX_JPEG_SCANS: Final = 500
"""A progressive JPEG with thousands of scans decodes for minutes (a known CPU
denial of service); real encoders write about ten. 500 is libjpeg-turbo's own
suggested ``-maxscans`` for untrusted input."""

_MAX_STRUCTURE_STEPS: Final = 2_000_000
"""Bound on the pure-Python structure walks. A legitimate 100 MiB file needs at most
a few hundred thousand steps; a hostile one of tiny blocks would otherwise cost
tens of seconds."""


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
