"""A web page's full-page picture cut into report-page slices, a slice at a time.

A full-page picture may be 30,000 pixels tall (taller pages are split into parts at
capture); decoded whole it would take hundreds of megabytes. :func:`page_slices` reads
a PNG's compressed rows as a stream and hands Pillow one slice at a time: each slice
becomes a small PNG of its own (the rows as stored, with the row above it written out
unfiltered so that the filters that refer to it still decode), is decoded, reduced to
the report's width and kept as a JPEG. Memory stays at about one slice whatever the
height. PNGs this cannot stream (interlaced, or not 8 bits a channel: never ones the
capture browser makes) are decoded whole within Pillow's own pixel limit.

No Qt and no disk: the bytes come from the vault's artefact stream and the JPEGs go to
the report, which is made in memory.
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO, Final

from PIL import Image

from evidence_recorder.core.errors import RefusedInput
from evidence_recorder.core.gather.images import PILLOW_LOCK

_SIGNATURE: Final = b"\x89PNG\r\n\x1a\n"
# Colour type -> (channels, the Pillow mode whose bytes are the unfiltered row).
_STREAMABLE: Final = {0: (1, "L"), 2: (3, "RGB"), 3: (1, "P"), 4: (2, "LA"), 6: (4, "RGBA")}
_CHUNK: Final = 256 * 1024
_INFLATE: Final = 4 * 1024 * 1024
# A report slice's shape: the room under the label on a portrait A4 page, in millimetres.
PAGE_WIDTH_MM: Final = 178.0
PAGE_HEIGHT_MM: Final = 238.0
SLICE_QUALITY: Final = 72
MAX_SLICE_WIDTH: Final = 1000
MIN_SLICE_WIDTH: Final = 300
MAX_PICTURE_SIDE: Final = 1_000_000  # rows or columns: anything taller is not a picture


@dataclass(frozen=True, slots=True)
class PngShape:
    width: int
    height: int
    bit_depth: int
    colour_type: int
    interlaced: bool


def png_shape(head: bytes) -> PngShape:
    """The size and kind of a PNG from its first 33 bytes (signature and IHDR)."""
    if len(head) < 33 or not head.startswith(_SIGNATURE) or head[12:16] != b"IHDR":
        raise RefusedInput("The full-page picture is not a PNG file.")
    width, height, depth, colour, _c, _f, interlace = struct.unpack(">IIBBBBB", head[16:29])
    if not (0 < width <= MAX_PICTURE_SIDE and 0 < height <= MAX_PICTURE_SIDE):
        raise RefusedInput("The full-page picture has an impossible size.")
    return PngShape(width, height, depth, colour, interlace != 0)


def slice_rows(width: int) -> int:
    """How many picture rows fill one report page when the picture is page-wide."""
    return max(1, int(width * PAGE_HEIGHT_MM / PAGE_WIDTH_MM))


def slice_width(total_height: int, width: int, budget: int) -> int:
    """The width slices are reduced to so that all of them fit in about ``budget``
    bytes of JPEG (a page of text comes to about half a byte a pixel)."""
    if total_height <= 0 or width <= 0:
        return MIN_SLICE_WIDTH
    wanted = int((2 * budget * width / total_height) ** 0.5)
    return max(MIN_SLICE_WIDTH, min(MAX_SLICE_WIDTH, width, wanted))


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


class _Rows:
    """The filtered rows of a PNG's image data, read from a stream as they are needed."""

    def __init__(self, source: BinaryIO, row_bytes: int) -> None:
        self._source = source
        self._row_bytes = row_bytes
        self._inflate = zlib.decompressobj()
        self._pending = bytearray()
        self._left_in_chunk = 0
        self._done = False

    def _feed(self) -> None:
        """Inflate a little more: never more than 4 MB from one call, whatever the
        compression ratio (a white page compresses a thousand to one)."""
        if self._inflate.unconsumed_tail:
            self._pending += self._inflate.decompress(self._inflate.unconsumed_tail, _INFLATE)
            return
        while not self._done:
            if self._left_in_chunk:
                data = self._source.read(min(_CHUNK, self._left_in_chunk))
                if not data:
                    raise RefusedInput("The full-page picture is cut short.")
                self._left_in_chunk -= len(data)
                if not self._left_in_chunk:
                    self._source.read(4)  # the chunk's CRC: Pillow checks the slices
                self._pending += self._inflate.decompress(data, _INFLATE)
                return
            header = self._source.read(8)
            if len(header) < 8:
                raise RefusedInput("The full-page picture is cut short.")
            length, kind = struct.unpack(">I4s", header)
            if kind == b"IDAT":
                self._left_in_chunk = length
                if not length:
                    self._source.read(4)
            elif kind == b"IEND":
                self._done = True
            else:
                self._source.seek(length + 4, io.SEEK_CUR)

    def take(self, count: int) -> bytes:
        wanted = count * self._row_bytes
        while len(self._pending) < wanted and (not self._done
                                                or self._inflate.unconsumed_tail):
            self._feed()
        if len(self._pending) < wanted:
            raise RefusedInput("The full-page picture is cut short.")
        rows = bytes(self._pending[:wanted])
        del self._pending[:wanted]
        return rows


def _extra_chunks(source: BinaryIO) -> tuple[bytes, int]:
    """The PLTE and tRNS chunks a slice needs, and the offset of the first IDAT."""
    kept = b""
    source.seek(33)
    while True:
        header = source.read(8)
        if len(header) < 8:
            raise RefusedInput("The full-page picture is cut short.")
        length, kind = struct.unpack(">I4s", header)
        if kind == b"IDAT":
            source.seek(-8, io.SEEK_CUR)
            return kept, source.tell()
        if kind in (b"PLTE", b"tRNS"):
            data = source.read(length)
            source.read(4)
            kept += _chunk(kind, data)
        else:
            source.seek(length + 4, io.SEEK_CUR)


def _jpeg(image: Image.Image, width: int) -> bytes:
    if image.mode in ("RGBA", "LA", "P"):
        image = image.convert("RGBA")
        flat = Image.new("RGB", image.size, (255, 255, 255))
        flat.paste(image, mask=image.getchannel("A"))
        image = flat
    elif image.mode != "RGB":
        image = image.convert("RGB")
    if image.width != width:
        height = max(1, round(image.height * width / image.width))
        image = image.resize((width, height), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=SLICE_QUALITY, optimize=True)
    return out.getvalue()


def page_slices(source: BinaryIO, width: int) -> Iterator[bytes]:
    """One PNG, top to bottom, as JPEGs ``width`` pixels wide, each at most one report
    page tall; ``source`` is read a slice at a time (it must be seekable)."""
    source.seek(0)
    shape = png_shape(source.read(33))
    rows_per_slice = slice_rows(shape.width)
    mode = _STREAMABLE.get(shape.colour_type)
    if shape.interlaced or shape.bit_depth != 8 or mode is None:
        yield from _whole(source, rows_per_slice, width)
        return
    channels, pillow_mode = mode
    row_bytes = 1 + shape.width * channels
    extra, start = _extra_chunks(source)
    source.seek(start)
    rows = _Rows(source, row_bytes)
    above: bytes | None = None  # the unfiltered row above this slice
    for top in range(0, shape.height, rows_per_slice):
        count = min(rows_per_slice, shape.height - top)
        data = rows.take(count)
        if above is not None:
            data = b"\x00" + above + data
        height = count + (above is not None)
        head = struct.pack(">IIBBBBB", shape.width, height, 8, shape.colour_type, 0, 0, 0)
        png = b"".join((_SIGNATURE, _chunk(b"IHDR", head), extra,
                        _chunk(b"IDAT", zlib.compress(data, 1)), _chunk(b"IEND", b"")))
        del data
        with PILLOW_LOCK:
            image: Image.Image = Image.open(io.BytesIO(png), formats=["PNG"])
            image.load()  # decoded from memory: nothing stays open
        del png
        if image.mode != pillow_mode:
            raise RefusedInput("The full-page picture could not be read.")
        if above is not None:
            image = image.crop((0, 1, shape.width, height))
        above = image.crop((0, count - 1, shape.width, count)).tobytes()
        yield _jpeg(image, width)
        del image


def _whole(source: BinaryIO, rows_per_slice: int, width: int) -> Iterator[bytes]:
    source.seek(0)
    try:
        with PILLOW_LOCK, Image.open(source, formats=["PNG"]) as opened:
            opened.load()
            image = opened.copy()
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise RefusedInput("The full-page picture could not be read.") from exc
    for top in range(0, image.height, rows_per_slice):
        yield _jpeg(image.crop((0, top, image.width, min(image.height, top + rows_per_slice))),
                    width)


__all__ = ["PngShape", "page_slices", "png_shape", "slice_rows", "slice_width"]
