"""Annotations drawn over a capture, and the annotated copy made from them.

This module owns the annotation format (version 1), its validation, and the one
renderer that turns an original plus its annotations into a *derived* PNG. The
original is never changed: the vault keeps the annotations as JSON beside it, and
every shared copy is rendered afresh from both.

Format::

    {"version": 1, "items": [
      {"type": "highlight", "rect": [x, y, w, h], "color": "#ffd60a"},
      {"type": "outline",   "rect": [x, y, w, h], "color": "#e5383b", "width": 4},
      {"type": "arrow",     "from": [x, y], "to": [x, y], "color": "#e5383b", "width": 4},
      {"type": "text",      "pos": [x, y], "text": "…", "color": "#e5383b", "size": 28},
      {"type": "redact",    "rect": [x, y, w, h]}
    ]}

Decisions worth knowing:

* **Coordinates** are pixels of the picture *as a viewer shows it*, after its EXIF
  orientation is applied: the same upright picture :func:`upright_picture` gives the
  editor and :func:`render` draws on, and the same width and height that
  :func:`evidence_recorder.core.gather.images.inspect_image` reports. A phone photo stored
  sideways with an orientation tag is therefore annotated the way the user saw it.
* **Layers**: highlights are drawn first, then outlines, arrows and labels in list
  order, then every redaction last. A highlight can never wash out a label, and
  nothing can be drawn over a redaction to reveal what it covers.
* **Highlight** is a 35% blend of the colour over the picture, not a multiply:
  multiply keeps black text black on light pages but vanishes on dark-mode pages
  (most social apps at night), and an alpha blend looks the same in the editor.
* **Redaction** is a solid, opaque black fill, rounded outwards to whole pixels so
  a partly covered pixel is covered. There is no blur or pixelation: both can be
  reversed (see the evidence guidance). The output is flattened RGB, written
  fresh, with no text chunks, EXIF or ICC profile, so nothing from under a
  redaction, nor the original's metadata, travels with the copy.
* **Hostile input**: annotations may arrive in a received bundle, so
  :func:`validate` checks every field and refuses anything odd with one sentence.
  Drawing is clipped to the picture so that far-away coordinates cost nothing, and
  the total highlighted area is bounded, so a small file cannot buy minutes of work.
* Nothing here writes to disk: the picture is decoded from and encoded to memory.
"""

from __future__ import annotations

import bisect
import functools
import io
import math
import re
import unicodedata
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from PIL import ExifTags, Image, ImageDraw, ImageFont

from evidence_recorder.core.errors import RefusedInput
from evidence_recorder.core.gather.images import EXIF_TRANSPOSE, PILLOW_LOCK, inspect_image
from evidence_recorder.core.i18n import QT_TRANSLATE_NOOP

VERSION: Final = 1
MAX_ITEMS: Final = 2_000
MAX_COORDINATE: Final = 1_000_000
MAX_TEXT: Final = 1_000
MIN_WIDTH: Final = 1
MAX_WIDTH: Final = 100
MIN_SIZE: Final = 6
MAX_SIZE: Final = 400
KINDS: Final = ("highlight", "outline", "arrow", "text", "redact")
HIGHLIGHT_OPACITY: Final = 0.35
MAX_HIGHLIGHT_COVER: Final = 32
"""Highlights may cover the picture this many times over in total. Real use is far
below 1; the bound stops a hostile file of 2,000 full-picture highlights from costing
minutes of blending."""

DEFAULT_COLOURS: Final[Mapping[str, str]] = {
    "highlight": "#ffd60a",
    "outline": "#e5383b",
    "arrow": "#e5383b",
    "text": "#e5383b",
}
DEFAULT_WIDTH: Final = 4
DEFAULT_SIZE: Final = 28
REDACTION_COLOUR: Final = (0, 0, 0)

_FIELDS: Final[Mapping[str, frozenset[str]]] = {
    "highlight": frozenset({"type", "rect", "color"}),
    "outline": frozenset({"type", "rect", "color", "width"}),
    "arrow": frozenset({"type", "from", "to", "color", "width"}),
    "text": frozenset({"type", "pos", "text", "color", "size"}),
    "redact": frozenset({"type", "rect"}),
}
_COLOUR: Final = re.compile(r"#[0-9a-fA-F]{6}")
_FORMATS: Final = ("PNG", "JPEG", "GIF", "WEBP", "BMP", "HEIF")
_UNREADABLE: Final = "The original picture could not be read, so no annotated copy was made."

Number = int | float
Point = tuple[float, float]


# --------------------------------------------------------------------------- format


def empty() -> dict[str, Any]:
    """Annotations with nothing in them, in the current format."""
    return {"version": VERSION, "items": []}


def has_redactions(data: object) -> bool:
    """Whether anything is redacted; never raises, so it is safe on unchecked data."""
    if not isinstance(data, Mapping):
        return False
    items = data.get("items")
    if not isinstance(items, Sequence) or isinstance(items, str | bytes):
        return False
    return any(isinstance(item, Mapping) and item.get("type") == "redact" for item in items)


def validate(data: object) -> dict[str, Any]:
    """Check annotations from anywhere (the editor, the vault, a received bundle).

    Returns a fresh, normalised copy (colours lower case, defaults filled in) that
    shares nothing with ``data``. Anything unexpected, including fields we do not
    know, is refused rather than ignored: a redaction that silently lost a field
    would leave something uncovered.
    """
    if not isinstance(data, Mapping):
        raise RefusedInput(QT_TRANSLATE_NOOP("EvidenceError", "The annotations are not in a form "
                                                              "Evidence Recorder understands."))
    version = data.get("version")
    if type(version) is int and version > VERSION:
        raise RefusedInput(
            QT_TRANSLATE_NOOP("EvidenceError", "These annotations were made by a newer version of "
                                               "Evidence Recorder; please update it to open them.")
        )
    if type(version) is not int or version != VERSION or set(data) != {"version", "items"}:
        raise RefusedInput(QT_TRANSLATE_NOOP("EvidenceError", "The annotations are not in a form "
                                                              "Evidence Recorder understands."))
    items = data["items"]
    if not isinstance(items, list | tuple):
        raise RefusedInput(QT_TRANSLATE_NOOP("EvidenceError", "The annotations are not in a form "
                                                              "Evidence Recorder understands."))
    if len(items) > MAX_ITEMS:
        raise RefusedInput(
            f"There are too many annotations on one picture (the limit is {MAX_ITEMS:,})."
        )
    return {"version": VERSION, "items": [_item(item, n) for n, item in enumerate(items, 1)]}


def _item(item: object, n: int) -> dict[str, Any]:
    if not isinstance(item, Mapping) or not isinstance(item.get("type"), str):
        raise RefusedInput(f"Annotation {n} is not in a form Evidence Recorder understands.")
    kind = item["type"]
    if kind not in _FIELDS:
        raise RefusedInput(f"Annotation {n} is of a kind Evidence Recorder does not know.")
    allowed = _FIELDS[kind]
    if not set(item) <= allowed:
        raise RefusedInput(f"Annotation {n} has details Evidence Recorder does not know.")
    out: dict[str, Any] = {"type": kind}
    if "rect" in allowed:
        rect = _numbers(item.get("rect"), 4, n, "box")
        if rect[2] < 0 or rect[3] < 0:
            raise RefusedInput(f"Annotation {n} has a box with a negative width or height.")
        out["rect"] = rect
    if kind == "arrow":
        out["from"] = _numbers(item.get("from"), 2, n, "arrow start")
        out["to"] = _numbers(item.get("to"), 2, n, "arrow end")
    if kind == "text":
        out["pos"] = _numbers(item.get("pos"), 2, n, "position")
        out["text"] = _text(item.get("text"), n)
    if "color" in allowed:
        out["color"] = _colour(item.get("color", DEFAULT_COLOURS[kind]), n)
    if "width" in allowed:
        out["width"] = _bounded(item.get("width", DEFAULT_WIDTH), MIN_WIDTH, MAX_WIDTH, n,
                                "line width")
    if "size" in allowed:
        out["size"] = _bounded(item.get("size", DEFAULT_SIZE), MIN_SIZE, MAX_SIZE, n,
                               "text size")
    return out


def _is_number(value: object) -> bool:
    return type(value) in (int, float)  # bool is an int subclass and is not a number here


def _numbers(value: object, count: int, n: int, what: str) -> list[Number]:
    if (not isinstance(value, list | tuple) or len(value) != count
            or not all(_is_number(v) for v in value)):
        raise RefusedInput(f"Annotation {n} has a {what} that is not {count} numbers.")
    numbers: list[Number] = list(value)
    for v in numbers:
        # The range first: math.isfinite cannot take an int too large for a float.
        if abs(v) > MAX_COORDINATE or not math.isfinite(v):
            raise RefusedInput(
                f"Annotation {n} has a {what} outside the range Evidence Recorder accepts."
            )
    return numbers


def _bounded(value: object, low: int, high: int, n: int, what: str) -> Number:
    if not _is_number(value):
        raise RefusedInput(f"Annotation {n} has a {what} that is not a number.")
    number: Number = value  # type: ignore[assignment]
    if not low <= number <= high:  # also refuses NaN and infinities
        raise RefusedInput(f"Annotation {n} has a {what} outside {low} to {high}.")
    return number


def _colour(value: object, n: int) -> str:
    if not isinstance(value, str) or not _COLOUR.fullmatch(value):
        raise RefusedInput(f"Annotation {n} has a colour that is not written as #rrggbb.")
    return value.lower()


def _text(value: object, n: int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise RefusedInput(f"Annotation {n} is a label without any text.")
    if len(value) > MAX_TEXT:
        raise RefusedInput(
            f"Annotation {n} is a label longer than {MAX_TEXT:,} characters."
        )
    for ch in value:
        if ch not in "\n\t" and unicodedata.category(ch) in {"Cc", "Cs"}:
            raise RefusedInput(f"Annotation {n} is a label with characters that cannot be shown.")
    return value


# --------------------------------------------------------------------------- geometry
# Shared by the renderer here and the Qt editor, so the two draw the same shapes.


def default_sizes(width: int, height: int) -> tuple[int, int]:
    """A line width and text size that look the same on a phone shot and a 4K screen.

    Fixed pixel sizes would be hair-thin on a 4K capture and clumsy on a small one.
    """
    long_side = max(width, height, 1)
    stroke = min(MAX_WIDTH, max(2, round(long_side / 480)))
    text = min(MAX_SIZE, max(12, round(long_side / 60)))
    return stroke, text


def pixel_box(rect: Sequence[float]) -> tuple[int, int, int, int]:
    """``(left, top, right, bottom)`` in whole pixels, right and bottom exclusive.

    Rounded *outwards*: a pixel the box touches at all is inside it, which is what a
    redaction needs.
    """
    x, y, w, h = rect
    return math.floor(x), math.floor(y), math.ceil(x + w), math.ceil(y + h)


def arrow_shape(start: Sequence[float], end: Sequence[float],
                width: float) -> tuple[list[Point], list[Point]]:
    """The shaft and head polygons of an arrow (empty for a zero-length arrow).

    The shaft stops inside the head, so a thick line never pokes out past the tip.
    """
    (x0, y0), (x1, y1) = start, end
    length = math.hypot(x1 - x0, y1 - y0)
    if length < 1e-6:
        return [], []
    ux, uy = (x1 - x0) / length, (y1 - y0) / length
    px, py = -uy, ux
    head_len = min(width * 3 + 8, length)
    head_half = max(head_len * 0.55, width)
    bx, by = x1 - ux * head_len, y1 - uy * head_len
    sx, sy = x1 - ux * head_len * 0.5, y1 - uy * head_len * 0.5
    half = width / 2
    shaft = [(x0 + px * half, y0 + py * half), (sx + px * half, sy + py * half),
             (sx - px * half, sy - py * half), (x0 - px * half, y0 - py * half)]
    head = [(x1, y1), (bx + px * head_half, by + py * head_half),
            (bx - px * head_half, by - py * head_half)]
    return shaft, head


@dataclass(frozen=True, slots=True)
class LabelLayout:
    """Where a label's box and lines go, relative to its ``pos`` (the box's corner)."""

    width: float
    height: float
    padding: float
    line_height: float
    ascent: float
    border: int
    lines: tuple[str, ...]


def label_layout(text: str, size: float) -> LabelLayout:
    """Measure a label with the font the renderer uses, so the editor's box matches."""
    font = _font(round(size))
    ascent, descent = font.getmetrics()
    lines = tuple(text.split("\n"))
    padding = max(2.0, size * 0.3)
    line_height = float(ascent + descent)
    widest = max(font.getlength(line) for line in lines)
    return LabelLayout(
        width=widest + 2 * padding,
        height=line_height * len(lines) + 2 * padding,
        padding=padding,
        line_height=line_height,
        ascent=float(ascent),
        border=max(1, round(size / 14)),
        lines=lines,
    )


def label_colours(colour: str) -> tuple[str, str]:
    """``(background, border)`` for a label in ``colour``: white unless that is too
    pale to read on it (yellow, white), then near-black."""
    background = "#ffffff" if _contrast(colour, "#ffffff") >= 3.0 else "#1b1b1b"
    return background, colour


def _luminance(colour: str) -> float:
    def channel(hex_pair: str) -> float:
        c = int(hex_pair, 16) / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(colour[i:i + 2]) for i in (1, 3, 5))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _contrast(a: str, b: str) -> float:
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


@functools.lru_cache(maxsize=64)
def _font(size: int) -> ImageFont.FreeTypeFont:
    """Pillow's bundled font (Aileron), so labels look the same on every computer."""
    font = ImageFont.load_default(size=size)
    if not isinstance(font, ImageFont.FreeTypeFont):  # a Pillow built without FreeType
        raise RuntimeError("Pillow was built without FreeType, which labels need")
    return font


def label_font_data() -> bytes | None:
    """The bytes of the renderer's label font, for the editor to load into Qt.

    ``None`` if this Pillow keeps the font some other way; the editor then falls
    back to the system's sans-serif and its label boxes still come from
    :func:`label_layout`.
    """
    source = getattr(_font(DEFAULT_SIZE), "path", None)
    return source.getvalue() if isinstance(source, io.BytesIO) else None


# --------------------------------------------------------------------------- pictures


@dataclass(frozen=True, slots=True)
class UprightPicture:
    """The first frame as a viewer shows it: upright, flattened on white, 8-bit RGB."""

    width: int
    height: int
    rgb: bytes


def upright_picture(original: bytes) -> UprightPicture:
    """Decode ``original`` exactly as :func:`render` will, for the editor to show.

    The editor cannot use Qt's own decoder: it has no HEIC support here and its EXIF
    handling could differ from Pillow's, and then annotation coordinates would not
    land where the user drew them.
    """
    picture = _upright(original)
    return UprightPicture(picture.width, picture.height, picture.tobytes())


def _upright(original: bytes) -> Image.Image:
    """A new RGB image with no ``info`` at all: nothing of the original's metadata.

    The bytes are proven by :func:`inspect_image` first (size limits, structure, the
    accepted formats) before Pillow is asked for the pixels again.
    """
    try:
        inspect_image(original)
    except RefusedInput:
        raise RefusedInput(_UNREADABLE) from None
    # catch_warnings swaps process-wide state, so it shares the images module's lock.
    with PILLOW_LOCK, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            with Image.open(io.BytesIO(original), formats=_FORMATS) as image:
                image.load()
                orientation = _orientation(image)
                picture = _flatten(image)
        except Exception:  # inspected bytes that still fail are unreadable, not a bug here
            raise RefusedInput(_UNREADABLE) from None
    if orientation in EXIF_TRANSPOSE:
        picture = picture.transpose(EXIF_TRANSPOSE[orientation])
    picture.info.clear()
    return picture


def _orientation(image: Image.Image) -> int:
    """EXIF orientation, or 1; read the same way as the images module does."""
    try:
        value = image.getexif().get(ExifTags.Base.Orientation)
    except Exception:  # broken metadata must not cost the user the picture
        return 1
    return value if isinstance(value, int) and value in EXIF_TRANSPOSE else 1


def _flatten(image: Image.Image) -> Image.Image:
    """Any mode to RGB on white, so transparent parts look as they do in a viewer."""
    mode = image.mode
    if mode.startswith("I;16") or mode == "I":
        source = image.convert("I").point(lambda value: value * (1 / 256)).convert("L")
    elif mode == "F":
        source = image.convert("L")
    else:
        source = image
    canvas = Image.new("RGB", source.size, (255, 255, 255))
    if "A" in source.mode or "transparency" in source.info:
        rgba = source.convert("RGBA")
        canvas.paste(rgba, mask=rgba.getchannel("A"))
    else:
        canvas.paste(source.convert("RGB"))
    return canvas


# --------------------------------------------------------------------------- render


def render(original: bytes, data: object) -> bytes:
    """A new PNG: the upright original with ``data`` drawn on it, redactions last.

    ``original`` is only read. The result carries no metadata of any kind.
    """
    checked = validate(data)
    picture = _upright(original)
    items = checked["items"]
    _check_highlight_cover(items, picture.size)
    draw = ImageDraw.Draw(picture)
    for item in items:
        if item["type"] == "highlight":
            _highlight(picture, item)
    for item in items:
        if item["type"] == "outline":
            _outline(draw, picture.size, item)
        elif item["type"] == "arrow":
            _arrow(draw, item)
        elif item["type"] == "text":
            _label(draw, picture.size, item)
    for item in items:
        if item["type"] == "redact":
            _redact(draw, picture.size, item)
    out = io.BytesIO()
    picture.save(out, "PNG")
    return out.getvalue()


def _clip(box: tuple[int, int, int, int], size: tuple[int, int],
          margin: int = 0) -> tuple[int, int, int, int] | None:
    """``box`` limited to the picture plus ``margin``; ``None`` if nothing is left."""
    left, top, right, bottom = box
    left, top = max(left, -margin), max(top, -margin)
    right, bottom = min(right, size[0] + margin), min(bottom, size[1] + margin)
    return (left, top, right, bottom) if left < right and top < bottom else None


def _check_highlight_cover(items: list[dict[str, Any]], size: tuple[int, int]) -> None:
    area = 0
    for item in items:
        if item["type"] == "highlight":
            box = _clip(pixel_box(item["rect"]), size)
            if box:
                area += (box[2] - box[0]) * (box[3] - box[1])
    if area > MAX_HIGHLIGHT_COVER * size[0] * size[1]:
        raise RefusedInput(QT_TRANSLATE_NOOP(
            "EvidenceError",
            "These annotations highlight the picture too many times over to draw."))


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def _highlight(picture: Image.Image, item: dict[str, Any]) -> None:
    box = _clip(pixel_box(item["rect"]), picture.size)
    if box is None:
        return
    region = picture.crop(box)
    tint = Image.new("RGB", region.size, _rgb(item["color"]))
    picture.paste(Image.blend(region, tint, HIGHLIGHT_OPACITY), box[:2])


def _outline(draw: ImageDraw.ImageDraw, size: tuple[int, int], item: dict[str, Any]) -> None:
    width = max(1, round(item["width"]))
    # Clipped with a margin wider than the stroke, so an edge off the picture stays off it.
    box = _clip(pixel_box(item["rect"]), size, margin=width + 2)
    if box is None:
        return
    left, top, right, bottom = box
    # Pillow strokes inwards from the given bounds: the line lies inside the box.
    draw.rectangle((left, top, right - 1, bottom - 1), outline=_rgb(item["color"]), width=width)


def _arrow(draw: ImageDraw.ImageDraw, item: dict[str, Any]) -> None:
    # Polygons, not draw.line: Pillow fills polygons only where the picture is, but
    # walks a one-pixel line point by point, however far it runs off the edge.
    shaft, head = arrow_shape(item["from"], item["to"], item["width"])
    colour = _rgb(item["color"])
    for polygon in (shaft, head):
        if polygon:
            draw.polygon(polygon, fill=colour)


def _label(draw: ImageDraw.ImageDraw, size: tuple[int, int], item: dict[str, Any]) -> None:
    layout = label_layout(item["text"], item["size"])
    x, y = item["pos"]
    background, border = label_colours(item["color"])
    box = _clip((math.floor(x), math.floor(y), math.ceil(x + layout.width),
                 math.ceil(y + layout.height)), size, margin=layout.border + 2)
    if box is None:
        return
    draw.rectangle((box[0], box[1], box[2] - 1, box[3] - 1), fill=_rgb(background),
                   outline=_rgb(border), width=layout.border)
    font = _font(round(item["size"]))
    colour = _rgb(item["color"])
    for index, line in enumerate(layout.lines):
        top = y + layout.padding + index * layout.line_height
        if top > size[1] or top + layout.line_height < 0 or not line:
            continue
        visible, left = _visible_part(line, x + layout.padding, size[0], font,
                                      margin=int(item["size"]) * 2)
        if visible:
            draw.text((left, top), visible, fill=colour, font=font, anchor="la")


def _visible_part(line: str, left: float, width: int,
                  font: ImageFont.FreeTypeFont,
                  margin: int) -> tuple[str, float]:
    """The characters of ``line`` that can land on the picture, and where they start.

    Pillow rasterises a whole line before clipping it, so a 1,000-character label at
    400 px would cost a bitmap of hundreds of megapixels; measuring is cheap.
    """
    if left >= -margin and left + font.getlength(line) <= width + margin:
        return line, left

    def edge(i: int) -> float:
        return left + font.getlength(line[:i])

    indices = range(len(line) + 1)
    start = max(0, bisect.bisect_left(indices, float(-margin), key=edge) - 1)
    end = bisect.bisect_right(indices, float(width + margin), key=edge) + 1
    return line[start:end], edge(start)


def _redact(draw: ImageDraw.ImageDraw, size: tuple[int, int], item: dict[str, Any]) -> None:
    box = _clip(pixel_box(item["rect"]), size)
    if box is not None:
        draw.rectangle((box[0], box[1], box[2] - 1, box[3] - 1), fill=REDACTION_COLOUR)
