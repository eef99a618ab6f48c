"""Annotations: hostile data is refused, and the annotated copy hides what it redacts.

The redaction tests look at every pixel of the covered area and at every chunk of the
PNG written, because a redaction that leaves one pixel or one metadata field behind
is not a redaction.
"""

from __future__ import annotations

import builtins
import copy
import hashlib
import io
import json
import math
import os
import struct
import time
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageOps, PngImagePlugin

from evidence_recorder.core import marks as ann
from evidence_recorder.core.errors import RefusedInput

# --------------------------------------------------------------------------- helpers


def gradient(width: int = 120, height: int = 80, mode: str = "RGB") -> Image.Image:
    """A picture where every pixel differs from its neighbours, so nothing is black
    by accident and a blur or shift would show."""
    image = Image.new("RGB", (width, height))
    image.putdata([((x * 2) % 256 or 1, (y * 3) % 256 or 1, (x + y) % 200 + 40)
                   for y in range(height) for x in range(width)])
    return image.convert(mode) if mode != "RGB" else image


def png_bytes(image: Image.Image, **params: Any) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG", **params)
    return out.getvalue()


def jpeg_bytes(image: Image.Image, **params: Any) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=95, **params)
    return out.getvalue()


def decode(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data), formats=["PNG"])
    image.load()
    return image


def png_chunks(data: bytes) -> list[bytes]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, kinds = 8, []
    while pos < len(data):
        length, kind = struct.unpack_from(">I4s", data, pos)
        kinds.append(kind)
        pos += 12 + length
    return kinds


def doc(*items: dict[str, Any]) -> dict[str, Any]:
    return {"version": 1, "items": list(items)}


def all_pixels(image: Image.Image) -> list[tuple[int, int, int]]:
    """Every RGB pixel (``getdata`` is deprecated in newer Pillow)."""
    raw = image.convert("RGB").tobytes()
    return list(zip(raw[0::3], raw[1::3], raw[2::3], strict=True))


def box_pixels(image: Image.Image, rect: tuple[int, int, int, int]) -> set[tuple[int, ...]]:
    left, top, right, bottom = rect
    return {image.getpixel((x, y)) for x in range(left, right) for y in range(top, bottom)}


ALL_KINDS = doc(
    {"type": "highlight", "rect": [10, 10, 50, 20], "color": "#FFD60A"},
    {"type": "outline", "rect": [5, 40, 60, 30], "color": "#e5383b", "width": 4},
    {"type": "arrow", "from": [100, 70], "to": [70, 50], "color": "#1d70b8", "width": 3},
    {"type": "text", "pos": [62, 5], "text": "this is the threat", "color": "#e5383b",
     "size": 14},
    {"type": "redact", "rect": [20.5, 12.25, 30, 10]},
)


# --------------------------------------------------------------------------- validate


def test_empty_is_valid_and_fresh() -> None:
    first = ann.empty()
    first["items"].append("x")
    assert ann.empty() == {"version": 1, "items": []}
    assert ann.validate(ann.empty()) == ann.empty()


def test_validate_normalises_and_copies() -> None:
    data = copy.deepcopy(ALL_KINDS)
    data["items"].append({"type": "outline", "rect": [0, 0, 1, 1]})
    checked = ann.validate(data)
    assert checked["items"][0]["color"] == "#ffd60a"  # lower case
    assert checked["items"][-1] == {"type": "outline", "rect": [0, 0, 1, 1],
                                    "color": ann.DEFAULT_COLOURS["outline"],
                                    "width": ann.DEFAULT_WIDTH}
    checked["items"][1]["rect"][0] = 999
    assert data["items"][1]["rect"][0] == 5  # nothing shared with the input
    assert ann.validate(checked) == checked
    assert json.loads(json.dumps(checked)) == checked


def test_validate_accepts_the_limits() -> None:
    items = [{"type": "redact", "rect": [-1_000_000, 1_000_000, 0, 0]}] * ann.MAX_ITEMS
    assert len(ann.validate(doc(*items))["items"]) == ann.MAX_ITEMS
    label = {"type": "text", "pos": [0, 0], "text": "x" * 1000, "color": "#000000",
             "size": 400}
    ann.validate(doc(label, dict(label, size=6), dict(label, text="two\nlines\tand tab")))
    ann.validate(doc({"type": "arrow", "from": [0, 0], "to": [1.5, 2.5], "color": "#abcdef",
                      "width": 100}))


def _item(**changes: Any) -> dict[str, Any]:
    base = {"type": "outline", "rect": [1, 2, 3, 4], "color": "#e5383b", "width": 4}
    base.update(changes)
    return {k: v for k, v in base.items() if v is not ...}


def _label(**changes: Any) -> dict[str, Any]:
    base = {"type": "text", "pos": [1, 2], "text": "hi", "color": "#e5383b", "size": 20}
    base.update(changes)
    return base


@pytest.mark.parametrize("data", [
    pytest.param(None, id="none"),
    pytest.param([], id="list"),
    pytest.param("{}", id="string"),
    pytest.param({"items": []}, id="no-version"),
    pytest.param({"version": True, "items": []}, id="version-bool"),
    pytest.param({"version": "1", "items": []}, id="version-str"),
    pytest.param({"version": 1.0, "items": []}, id="version-float"),
    pytest.param({"version": 0, "items": []}, id="version-0"),
    pytest.param({"version": 1}, id="no-items"),
    pytest.param({"version": 1, "items": {}}, id="items-dict"),
    pytest.param({"version": 1, "items": [], "extra": 1}, id="extra-key"),
    pytest.param(doc(*[_item()] * (ann.MAX_ITEMS + 1)), id="too-many"),
    pytest.param(doc(_item(type="blur")), id="blur-is-unknown"),
    pytest.param(doc(_item(type="pixelate")), id="pixelate-is-unknown"),
    pytest.param(doc(_item(type=None)), id="type-none"),
    pytest.param(doc(_item(type=...)), id="type-missing"),
    pytest.param(doc("redact"), id="item-string"),
    pytest.param(doc(_item(rect=[1, 2, math.nan, 4])), id="nan"),
    pytest.param(doc(_item(rect=[1, 2, math.inf, 4])), id="inf"),
    pytest.param(doc(_item(rect=[1, 2, -math.inf, 4])), id="minus-inf"),
    pytest.param(doc(_item(rect=[1_000_001, 2, 3, 4])), id="too-far"),
    pytest.param(doc(_item(rect=[10**400, 2, 3, 4])), id="huge-int"),
    pytest.param(doc(_item(rect=[True, 2, 3, 4])), id="bool-coordinate"),
    pytest.param(doc(_item(rect=["1", 2, 3, 4])), id="string-coordinate"),
    pytest.param(doc(_item(rect=[1, 2, 3])), id="short-rect"),
    pytest.param(doc(_item(rect=[1, 2, -3, 4])), id="negative-width"),
    pytest.param(doc(_item(rect=...)), id="missing-rect"),
    pytest.param(doc(_item(colour="#e5383b")), id="unknown-field"),
    pytest.param(doc(_item(color="red")), id="colour-name"),
    pytest.param(doc(_item(color="#fff")), id="colour-short"),
    pytest.param(doc(_item(color="#gggggg")), id="colour-not-hex"),
    pytest.param(doc(_item(color="#e5383b ")), id="colour-space"),
    pytest.param(doc(_item(color="#e5383b\n")), id="colour-newline"),
    pytest.param(doc(_item(color="#٠١٢٣٤٥")), id="colour-arabic-digits"),
    pytest.param(doc(_item(color=0xE5383B)), id="colour-int"),
    pytest.param(doc(_item(width=0)), id="width-0"),
    pytest.param(doc(_item(width=101)), id="width-101"),
    pytest.param(doc(_item(width=math.nan)), id="width-nan"),
    pytest.param(doc(_label(size=5)), id="size-5"),
    pytest.param(doc(_label(size=401)), id="size-401"),
    pytest.param(doc(_label(text="x" * 1001)), id="text-too-long"),
    pytest.param(doc(_label(text="")), id="text-empty"),
    pytest.param(doc(_label(text="   ")), id="text-blank"),
    pytest.param(doc(_label(text=b"bytes")), id="text-bytes"),
    pytest.param(doc(_label(text="bell\x07")), id="text-control"),
    pytest.param(doc(_label(text="half \ud800")), id="text-lone-surrogate"),
    pytest.param(doc(_label(pos=[1, 2, 3])), id="pos-three"),
    pytest.param(doc({"type": "arrow", "from": [0, 0], "to": [math.nan, 0]}), id="arrow-nan"),
    pytest.param(doc({"type": "redact", "rect": [0, 0, 1, 1], "color": "#ffffff"}),
                 id="redaction-with-colour"),
])
def test_validate_refuses_with_a_plain_sentence(data: object) -> None:
    with pytest.raises(RefusedInput) as caught:
        ann.validate(data)
    message = caught.value.message
    assert message.endswith(".") and "\n" not in message and len(message) < 200


def test_newer_version_says_to_update() -> None:
    with pytest.raises(RefusedInput, match="newer version"):
        ann.validate({"version": 2, "items": []})


def test_refusal_names_the_annotation_but_not_its_text() -> None:
    secret = "Jamie Brown lives at 12 High Street\x00"
    with pytest.raises(RefusedInput) as caught:
        ann.validate(doc(_item(), _label(text=secret)))
    assert "Annotation 2" in caught.value.message
    assert "Jamie" not in caught.value.message


@pytest.mark.parametrize(("data", "expected"), [
    (ALL_KINDS, True),
    (doc(_item()), False),
    (ann.empty(), False),
    (None, False),
    ("redact", False),
    ({"items": "redact"}, False),
    ({"items": [None, 3, {"type": "redact"}]}, True),
])
def test_has_redactions_never_raises(data: object, expected: bool) -> None:
    assert ann.has_redactions(data) is expected


# --------------------------------------------------------------------------- render


def test_render_keeps_size_and_is_flat_rgb() -> None:
    original = png_bytes(gradient(120, 80))
    out = ann.render(original, ALL_KINDS)
    image = decode(out)
    assert image.size == (120, 80)
    assert image.mode == "RGB"
    assert struct.unpack_from(">B", out, 8 + 8 + 9)[0] == 2  # IHDR colour type: truecolour


def test_render_of_nothing_is_the_picture() -> None:
    picture = gradient(64, 48)
    assert decode(ann.render(png_bytes(picture), ann.empty())).tobytes() == picture.tobytes()


def test_redaction_is_pure_black_over_highlight_and_text() -> None:
    original = png_bytes(gradient(120, 80))
    rect = [20.5, 12.25, 30, 10]  # fractional: partly covered pixels must be covered
    data = doc(
        {"type": "redact", "rect": rect},  # first in the list, still drawn last
        {"type": "highlight", "rect": [0, 0, 120, 80], "color": "#ffd60a"},
        {"type": "text", "pos": [15, 8], "text": "WWWWWWWW", "color": "#ffffff", "size": 20},
        {"type": "outline", "rect": [18, 10, 40, 20], "color": "#2b9348", "width": 6},
        {"type": "arrow", "from": [0, 0], "to": [40, 20], "color": "#1d70b8", "width": 8},
    )
    image = decode(ann.render(original, data))
    covered = ann.pixel_box(rect)
    assert covered == (20, 12, 51, 23)
    assert box_pixels(image, covered) == {(0, 0, 0)}


def test_redaction_is_a_hard_edge_not_a_blur() -> None:
    picture = gradient(120, 80)
    image = decode(ann.render(png_bytes(picture), doc({"type": "redact",
                                                       "rect": [30, 30, 20, 20]})))
    assert box_pixels(image, (30, 30, 50, 50)) == {(0, 0, 0)}
    for x, y in ((29, 40), (50, 40), (40, 29), (40, 50), (29, 29), (50, 50)):
        assert image.getpixel((x, y)) == picture.getpixel((x, y))
    assert image.tobytes().count(b"\x00\x00\x00") >= 400


def test_redaction_partly_off_the_picture_and_zero_sized() -> None:
    image = decode(ann.render(png_bytes(gradient(120, 80)), doc(
        {"type": "redact", "rect": [-500, -500, 520, 510]},
        {"type": "redact", "rect": [100, 70, 1_000_000, 1_000_000]},
        {"type": "redact", "rect": [60, 60, 0, 0]},
    )))
    assert box_pixels(image, (0, 0, 20, 10)) == {(0, 0, 0)}
    assert box_pixels(image, (100, 70, 120, 80)) == {(0, 0, 0)}
    assert image.getpixel((60, 60)) != (0, 0, 0)


def test_highlight_tints_without_hiding() -> None:
    picture = Image.new("RGB", (40, 40), (255, 255, 255))
    picture.putpixel((10, 10), (0, 0, 0))
    image = decode(ann.render(png_bytes(picture), doc(
        {"type": "highlight", "rect": [0, 0, 20, 20], "color": "#ffd60a"})))
    tinted = image.getpixel((5, 5))
    assert tinted != (255, 255, 255) and tinted[0] > 240 and tinted[2] < 200
    assert sum(image.getpixel((10, 10))) < sum(tinted) / 2  # dark text stays readable
    assert image.getpixel((30, 30)) == (255, 255, 255)


def test_outline_arrow_and_label_draw_in_their_colours() -> None:
    picture = Image.new("RGB", (200, 120), (255, 255, 255))
    image = decode(ann.render(png_bytes(picture), doc(
        {"type": "outline", "rect": [10, 10, 50, 40], "color": "#e5383b", "width": 4},
        {"type": "arrow", "from": [100, 100], "to": [180, 100], "color": "#1d70b8",
         "width": 6},
        {"type": "text", "pos": [100, 10], "text": "Label", "color": "#2b9348", "size": 20},
    )))
    assert image.getpixel((11, 30)) == (0xE5, 0x38, 0x3B)  # the stroke lies inside
    assert image.getpixel((35, 30)) == (255, 255, 255)  # the inside stays clear
    assert image.getpixel((9, 30)) == (255, 255, 255)
    assert image.getpixel((130, 100)) == (0x1D, 0x70, 0xB8)
    assert image.getpixel((178, 100)) == (0x1D, 0x70, 0xB8)  # filled head to the tip
    assert image.getpixel((160, 108)) == (0x1D, 0x70, 0xB8)  # head wider than the shaft
    assert image.getpixel((120, 108)) == (255, 255, 255)
    colours = set(all_pixels(image.crop((100, 10, 170, 45))))
    assert (0x2B, 0x93, 0x48) in colours


def test_pale_labels_get_a_dark_box() -> None:
    assert ann.label_colours("#e5383b")[0] == "#ffffff"
    assert ann.label_colours("#ffd60a")[0] != "#ffffff"


def test_no_metadata_survives_from_a_png() -> None:
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "SECRET-AUTHOR")
    info.add_itxt("Comment", "SECRET-COMMENT", zip=True)
    exif = Image.Exif()
    exif[0x010F] = "SECRET-MAKE"
    original = png_bytes(gradient(60, 40, "RGBA"), pnginfo=info, exif=exif.tobytes(),
                         icc_profile=b"SECRET-ICC" * 20, dpi=(144, 144))
    opened = Image.open(io.BytesIO(original))
    assert opened.mode == "RGBA" and "Author" in opened.info and opened.getexif()
    out = ann.render(original, ALL_KINDS)
    assert set(png_chunks(out)) == {b"IHDR", b"IDAT", b"IEND"}
    for secret in (b"SECRET", b"Author", b"Exif", b"iCCP"):
        assert secret not in out
    assert decode(out).info == {}


def test_no_metadata_survives_from_a_jpeg() -> None:
    exif = Image.Exif()
    exif[0x010F] = "SECRET-MAKE"
    exif[0x0131] = "SECRET-SOFTWARE"
    gps = exif.get_ifd(0x8825)
    gps[2] = (51.0, 30.0, 0.0)
    original = jpeg_bytes(gradient(60, 40), exif=exif, icc_profile=b"SECRET-ICC" * 20,
                          comment=b"SECRET-COMMENT")
    assert b"SECRET-MAKE" in original
    out = ann.render(original, ALL_KINDS)
    assert set(png_chunks(out)) == {b"IHDR", b"IDAT", b"IEND"}
    assert b"SECRET" not in out
    assert decode(out).mode == "RGB"


@pytest.mark.parametrize("orientation", [1, 3, 6, 8])
def test_exif_orientation_is_applied(orientation: int) -> None:
    """Coordinates are in the picture as a viewer shows it, upright."""
    stored = gradient(60, 30)
    exif = Image.Exif()
    exif[0x0112] = orientation
    original = png_bytes(stored, exif=exif.tobytes())
    upright = ImageOps.exif_transpose(Image.open(io.BytesIO(original))).convert("RGB")
    out = decode(ann.render(original, doc({"type": "redact", "rect": [0, 0, 10, 5]})))
    assert out.size == upright.size == ((30, 60) if orientation in (6, 8) else (60, 30))
    assert box_pixels(out, (0, 0, 10, 5)) == {(0, 0, 0)}
    assert out.crop((10, 5, *out.size)).tobytes() == upright.crop((10, 5, *out.size)).tobytes()
    picture = ann.upright_picture(original)
    assert (picture.width, picture.height) == upright.size
    assert picture.rgb == upright.tobytes()


def test_transparency_is_flattened_on_white() -> None:
    clear = Image.new("RGBA", (20, 20), (255, 0, 0, 0))
    image = decode(ann.render(png_bytes(clear), ann.empty()))
    assert image.mode == "RGB" and set(all_pixels(image)) == {(255, 255, 255)}
    palette = Image.new("P", (20, 20), 0)
    palette.putpalette([10, 20, 30, 200, 0, 0])
    palette.info["transparency"] = 0
    image = decode(ann.render(png_bytes(palette, transparency=0), ann.empty()))
    assert set(all_pixels(image)) == {(255, 255, 255)}


@pytest.mark.parametrize("mode", ["L", "LA", "P", "1", "I;16", "CMYK"])
def test_odd_modes_render(mode: str) -> None:
    picture = gradient(30, 20).convert("CMYK" if mode == "CMYK" else "RGB")
    if mode == "I;16":
        picture = Image.new("I;16", (30, 20), 40000)
    elif mode != "CMYK":
        picture = picture.convert(mode)
    data = jpeg_bytes(picture) if mode == "CMYK" else png_bytes(picture)
    image = decode(ann.render(data, doc({"type": "redact", "rect": [0, 0, 5, 5]})))
    assert image.mode == "RGB" and image.size == (30, 20)
    assert box_pixels(image, (0, 0, 5, 5)) == {(0, 0, 0)}
    if mode == "I;16":
        assert image.getpixel((20, 10))[0] == 40000 // 256  # scaled, not clipped to white


def test_the_original_bytes_are_untouched() -> None:
    original = jpeg_bytes(gradient(60, 40))
    before = hashlib.sha256(original).hexdigest()
    kept = bytes(bytearray(original))
    out = ann.render(original, ALL_KINDS)
    assert hashlib.sha256(original).hexdigest() == before
    assert original == kept
    assert out != original


def test_render_writes_nothing_to_disk(monkeypatch: pytest.MonkeyPatch) -> None:
    original = png_bytes(gradient(60, 40))
    ann.render(original, ALL_KINDS)  # warm up lazy imports and the font cache

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"render tried to open a file: {args[:1]}")

    monkeypatch.setattr(builtins, "open", refuse)
    monkeypatch.setattr(io, "open", refuse)
    monkeypatch.setattr(os, "open", refuse)
    ann.render(original, ALL_KINDS)


def test_render_refuses_what_is_not_a_picture() -> None:
    with pytest.raises(RefusedInput, match="could not be read"):
        ann.render(b"<svg xmlns='http://www.w3.org/2000/svg'/>", ann.empty())
    with pytest.raises(RefusedInput, match="could not be read"):
        ann.render(png_bytes(gradient(20, 20))[:60], ann.empty())


def test_render_validates_the_annotations() -> None:
    with pytest.raises(RefusedInput):
        ann.render(png_bytes(gradient(20, 20)), doc({"type": "blur", "rect": [0, 0, 5, 5]}))


def test_hostile_annotations_are_cheap_to_draw() -> None:
    """Far-off and enormous shapes are clipped before Pillow sees them."""
    original = png_bytes(gradient(200, 100))
    far = [{"type": "text", "pos": [-900_000 + i, i % 100], "text": "W" * 1000,
            "color": "#000000", "size": 400} for i in range(300)]
    far += [{"type": "arrow", "from": [-1_000_000, -1_000_000], "to": [1_000_000, 999_000],
             "color": "#000000", "width": 1} for _ in range(300)]
    far += [{"type": "outline", "rect": [-999_000, -999_000, 1_000_000, 1_000_000],
             "color": "#000000", "width": 100} for _ in range(300)]
    started = time.monotonic()
    image = decode(ann.render(original, doc(*far)))
    assert time.monotonic() - started < 30
    assert image.size == (200, 100)


def test_highlighting_the_picture_thousands_of_times_is_refused() -> None:
    original = png_bytes(gradient(50, 50))
    whole = {"type": "highlight", "rect": [0, 0, 50, 50], "color": "#ffd60a"}
    ann.render(original, doc(*[whole] * ann.MAX_HIGHLIGHT_COVER))
    with pytest.raises(RefusedInput, match="too many times"):
        ann.render(original, doc(*[whole] * (ann.MAX_HIGHLIGHT_COVER + 1)))


def test_long_labels_off_the_edge_still_show_their_visible_part() -> None:
    picture = Image.new("RGB", (200, 60), (255, 255, 255))
    text = "".join(chr(ord("A") + i % 26) for i in range(1000))
    full = decode(ann.render(png_bytes(picture), doc(
        {"type": "text", "pos": [-3000, 5], "text": text, "color": "#1d70b8", "size": 30})))
    inked = [p for p in all_pixels(full) if p == (0x1D, 0x70, 0xB8)]
    assert len(inked) > 200


_rects = st.tuples(st.integers(-50, 150), st.integers(-50, 100), st.integers(0, 120),
                   st.integers(0, 90))
_colours = st.sampled_from(["#ffd60a", "#e5383b", "#ffffff", "#000001", "#1d70b8"])
_others = st.one_of(
    st.builds(lambda r, c: {"type": "highlight", "rect": list(r), "color": c}, _rects,
              _colours),
    st.builds(lambda r, c, w: {"type": "outline", "rect": list(r), "color": c, "width": w},
              _rects, _colours, st.integers(1, 100)),
    st.builds(lambda r, c, w: {"type": "arrow", "from": list(r[:2]), "to": list(r[2:]),
                               "color": c, "width": w}, _rects, _colours, st.integers(1, 100)),
    st.builds(lambda r, c, s: {"type": "text", "pos": list(r[:2]), "text": "Ww█ gy",
                               "color": c, "size": s}, _rects, _colours, st.integers(6, 60)),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(others=st.lists(_others, max_size=8), redactions=st.lists(_rects, min_size=1,
                                                                  max_size=3),
       positions=st.lists(st.integers(0, 10), min_size=3, max_size=3))
def test_nothing_drawn_can_show_through_a_redaction(
        others: list[dict[str, Any]], redactions: list[tuple[int, int, int, int]],
        positions: list[int]) -> None:
    items = list(others)
    for rect, where in zip(redactions, positions, strict=False):
        items.insert(min(where, len(items)), {"type": "redact", "rect": list(rect)})
    image = decode(ann.render(_GRADIENT_PNG, doc(*items)))
    for rect in redactions:
        box = ann.pixel_box(rect)
        clipped = (max(box[0], 0), max(box[1], 0), min(box[2], 120), min(box[3], 80))
        if clipped[0] < clipped[2] and clipped[1] < clipped[3]:
            assert box_pixels(image, clipped) == {(0, 0, 0)}


_GRADIENT_PNG = png_bytes(gradient(120, 80))
