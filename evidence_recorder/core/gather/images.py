"""Imported pictures: read them safely, say what they are, and make thumbnails.

This module owns the rule that a file brought in from outside (a phone screenshot,
a saved image) is hostile until proven otherwise. Everything here works on bytes in
memory: no image data is ever written to disk unencrypted, so there are no temp
files, no ``Image.show()``, no djpeg/ghostscript helpers, and Pillow is only ever
handed a ``BytesIO`` and an explicit list of the formats we accept.

Defences, in the order they run (steps 2 and 3 live in :mod:`image_formats`, which
reads what the bytes are; this module turns its findings into refusals):

1. ``read_import_file`` stats before opening, refuses anything that is not an
   ordinary file, opens with ``O_NONBLOCK`` so a pipe swapped in cannot hang us,
   and never reads more than ``MAX_IMPORT_BYTES + 1`` bytes.
2. The format is decided by the first bytes, never by the file name
   (``image_formats._sniff``).
3. A small structural walk in pure Python (PNG chunks, JPEG markers, GIF blocks,
   the WebP RIFF header, the BMP header; ``image_formats._LAYOUTS``) reads the
   *declared* dimensions, and ``_identify`` here refuses an oversized picture
   before any C decoder allocates memory for it. The same walk notices truncated
   structure and bytes after the picture's end.
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
from evidence_recorder.core.gather.image_formats import (
    _HEIC,
    _HEIF,
    _JPEG,
    _LAYOUTS,
    _Kind,
    _Layout,
    _Malformed,
    _sniff,
)

# Re-exported: the bundle checker reads received pictures' headers through this module.
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


class NotAPicture(RefusedInput):
    """A file that is no picture this app keeps (the import may still take it for an
    e-mail or a chat export)."""


def _unsupported(subject: str) -> RefusedInput:
    return NotAPicture(
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

# The walk itself lives in image_formats; here what it finds becomes a refusal.


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


def message_card(kind: str, title: str, count: int) -> bytes:
    """The thumbnail of an e-mail or a chat export (it has no picture of its own): a
    card with an envelope or a speech bubble, drawn here, never with the messages'
    words (the title only, cut short), as a JPEG."""
    from PIL import ImageDraw

    side = THUMBNAIL_SIDE
    card = Image.new("RGB", (side, side * 3 // 4), (246, 247, 249))
    draw = ImageDraw.Draw(card)
    ink, pale = (60, 72, 88), (206, 212, 222)
    if kind == "email":
        draw.rectangle((110, 40, 210, 110), outline=ink, width=4)
        draw.line((110, 40, 160, 80, 210, 40), fill=ink, width=4)
    else:
        draw.rounded_rectangle((100, 36, 220, 106), radius=18, outline=ink, width=4)
        draw.polygon([(130, 104), (120, 126), (150, 104)], fill=ink)
    shown = " ".join(title.split())
    if len(shown) > 34:
        shown = shown[:33] + "…"
    draw.text((side // 2, 160), shown, fill=ink, anchor="mm")
    unit = "message" if count == 1 else "messages"
    draw.text((side // 2, 190), f"{count:,} {unit}", fill=ink, anchor="mm")
    draw.line((40, 220, side - 40, 220), fill=pale, width=2)
    out = io.BytesIO()
    card.save(out, "JPEG", quality=PREVIEW_QUALITY)
    return out.getvalue()
