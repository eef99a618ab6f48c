"""Pictures, ordinary and hostile, made in memory for any test suite that imports files.

Each generator returns the bytes of one file. The hostile ones are crafted by hand
where an encoder would refuse to write them (huge declared sizes, bombs, broken
structure), and kept small so tests stay fast: the 200-megapixel PNG is under a
hundred bytes. Nothing here writes to disk; callers that need a path write the
bytes into ``tmp_path`` themselves.
"""

from __future__ import annotations

import functools
import io
import struct
import zipfile
import zlib
from typing import Any

from PIL import Image, ImageDraw

# ----------------------------------------------------------------------------- ordinary


def sample_image(width: int = 64, height: int = 48, mode: str = "RGB") -> Image.Image:
    """A picture with structure (not one flat colour) so decoders and resizers work."""
    image = Image.new("RGB", (width, height), (250, 250, 250))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, width // 2, height // 2), fill=(200, 30, 30))
    draw.line((0, height - 1, width - 1, 0), fill=(20, 20, 160), width=max(1, width // 32))
    if mode == "RGB":
        return image
    if mode == "RGBA":
        image = image.convert("RGBA")
        image.putalpha(Image.linear_gradient("L").resize((width, height)))
        return image
    return image.convert(mode)


def encode(image: Image.Image, fmt: str, **params: Any) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **params)
    return out.getvalue()


def png(width: int = 64, height: int = 48, mode: str = "RGB", **params: Any) -> bytes:
    return encode(sample_image(width, height, mode), "PNG", **params)


def jpeg(width: int = 64, height: int = 48, mode: str = "RGB", **params: Any) -> bytes:
    return encode(sample_image(width, height, mode), "JPEG", quality=90, **params)


def webp(width: int = 64, height: int = 48, mode: str = "RGB", **params: Any) -> bytes:
    return encode(sample_image(width, height, mode), "WEBP", **params)


def gif(width: int = 64, height: int = 48) -> bytes:
    return encode(sample_image(width, height, "P"), "GIF")


def bmp(width: int = 64, height: int = 48, mode: str = "RGB") -> bytes:
    return encode(sample_image(width, height, mode), "BMP")


def tiff(width: int = 64, height: int = 48) -> bytes:
    return encode(sample_image(width, height), "TIFF")


def avif(width: int = 64, height: int = 48) -> bytes:
    return encode(sample_image(width, height), "AVIF")


def heic(width: int = 64, height: int = 48, mode: str = "RGB", **params: Any) -> bytes:
    """HEIC through pillow-heif directly, so the Pillow opener stays unregistered and
    the code under test has to register it itself."""
    import pillow_heif

    out = io.BytesIO()
    pillow_heif.from_pillow(sample_image(width, height, mode)).save(out, quality=60, **params)
    return out.getvalue()


def exif_block(
    *,
    original: str | None = "2026:03:04 21:04:05",
    offset: str | None = None,
    plain: str | None = None,
    orientation: int | None = None,
) -> bytes:
    exif = Image.Exif()
    if plain is not None:
        exif[0x0132] = plain  # DateTime
    if orientation is not None:
        exif[0x0112] = orientation
    details = exif.get_ifd(0x8769)
    if original is not None:
        details[0x9003] = original  # DateTimeOriginal
    if offset is not None:
        details[0x9011] = offset  # OffsetTimeOriginal
    return exif.tobytes()


def jpeg_with_exif(width: int = 64, height: int = 48, **exif: Any) -> bytes:
    return jpeg(width, height, exif=exif_block(**exif))


def cmyk_jpeg(width: int = 64, height: int = 48) -> bytes:
    return encode(sample_image(width, height).convert("CMYK"), "JPEG", quality=90)


def palette_png_with_transparency(width: int = 64, height: int = 48) -> bytes:
    image = sample_image(width, height).convert("P", palette=Image.Palette.ADAPTIVE, colors=8)
    return encode(image, "PNG", transparency=0)


def png16(width: int = 64, height: int = 48, value: int = 40000) -> bytes:
    """16-bit grey: a naive conversion clips every value above 255 to white."""
    return encode(Image.new("I;16", (width, height), value), "PNG")


def frames(count: int, width: int, height: int) -> list[Image.Image]:
    return [
        Image.new("RGB", (width, height), ((37 * i) % 256, (91 * i) % 256, 128))
        for i in range(count)
    ]


def animated_gif(count: int = 5, width: int = 64, height: int = 48) -> bytes:
    first, *rest = frames(count, width, height)
    return encode(first, "GIF", save_all=True, append_images=rest, duration=100, loop=0)


def animated_webp(count: int = 5, width: int = 64, height: int = 48) -> bytes:
    first, *rest = frames(count, width, height)
    return encode(first, "WEBP", save_all=True, append_images=rest, duration=100, lossless=True)


def apng(count: int = 5, width: int = 64, height: int = 48) -> bytes:
    first, *rest = frames(count, width, height)
    return encode(first, "PNG", save_all=True, append_images=rest, duration=100)


# ----------------------------------------------------------------------------- PNG craft


def png_chunk(ctype: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + ctype + body + struct.pack(">I", zlib.crc32(ctype + body))


def png_from_chunks(*chunks: bytes) -> bytes:
    return b"\x89PNG\r\n\x1a\n" + b"".join(chunks)


def ihdr(width: int, height: int, bit_depth: int = 8, colour_type: int = 0) -> bytes:
    return png_chunk(
        b"IHDR", struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    )


def png_declaring(width: int, height: int) -> bytes:
    """A PNG whose header claims ``width`` x ``height`` grey pixels but carries only a
    few bytes of pixel data: tiny on disk, enormous if a decoder believed it."""
    return png_from_chunks(
        ihdr(width, height),
        png_chunk(b"IDAT", zlib.compress(b"\x00" * 64)),
        png_chunk(b"IEND", b""),
    )


@functools.lru_cache(maxsize=4)
def png_bomb(width: int = 10_000, height: int = 10_000) -> bytes:
    """A *complete* grey PNG of zeros: ~100 KB that inflates to ``width * height`` bytes."""
    squeeze = zlib.compressobj(9)
    row = b"\x00" * (width + 1)  # filter byte + pixels
    rows_per_block = max(1, (4 * 1024 * 1024) // len(row))
    parts = []
    for start in range(0, height, rows_per_block):
        parts.append(squeeze.compress(row * min(rows_per_block, height - start)))
    parts.append(squeeze.flush())
    return png_from_chunks(
        ihdr(width, height), png_chunk(b"IDAT", b"".join(parts)), png_chunk(b"IEND", b"")
    )


def _small_png_chunks() -> tuple[bytes, bytes, bytes]:
    """IHDR, IDAT and IEND of a real 8x8 grey picture, to put hostile chunks between."""
    raw = b"".join(b"\x00" + bytes(range(8)) for _ in range(8))
    return ihdr(8, 8), png_chunk(b"IDAT", zlib.compress(raw)), png_chunk(b"IEND", b"")


def png_with_text_bomb(inflated: int = 50 * 1024 * 1024, kind: bytes = b"zTXt") -> bytes:
    """A compressed text chunk that inflates far beyond Pillow's MAX_TEXT_CHUNK."""
    packed = zlib.compress(b"A" * inflated, 9)
    if kind == b"zTXt":
        body = b"Comment\x00\x00" + packed
    else:  # iTXt: keyword, compressed flag, method, language, translated keyword
        body = b"Comment\x00\x01\x00\x00\x00" + packed
    header, data, end = _small_png_chunks()
    return png_from_chunks(header, png_chunk(kind, body), data, end)


def png_with_many_text_chunks(count: int = 70, each: int = 1024 * 1024) -> bytes:
    """Many compressed text chunks, each under the per-chunk limit, whose total text
    exceeds Pillow's MAX_TEXT_MEMORY."""
    packed = zlib.compress(b"B" * each, 9)
    header, data, end = _small_png_chunks()
    texts = [png_chunk(b"zTXt", b"k%d\x00\x00" % i + packed) for i in range(count)]
    return png_from_chunks(header, *texts, data, end)


def png_with_lying_chunk_length() -> bytes:
    """A chunk that claims two gigabytes in a file of a few dozen bytes."""
    header, _, _ = _small_png_chunks()
    return png_from_chunks(header, struct.pack(">I", 0x7FFFFFF0) + b"tEXt" + b"x" * 16)


def png_zero_width() -> bytes:
    _, data, end = _small_png_chunks()
    return png_from_chunks(ihdr(0, 8), data, end)


def png_without_iend() -> bytes:
    return png()[:-12]


# ----------------------------------------------------------------------------- other craft


def gif_huge_screen() -> bytes:
    """A 65535 x 65535 logical screen holding a single 1x1 picture."""
    body = bytearray(gif(1, 1))
    struct.pack_into("<HH", body, 6, 65535, 65535)
    return bytes(body)


def gif_huge_first_frame() -> bytes:
    """A small screen whose first picture is placed at 60000,60000 and is 5000 wide:
    viewers grow the canvas to hold it."""
    body = bytearray(gif(1, 1))
    descriptor = body.index(b"\x2c")
    struct.pack_into("<HHHH", body, descriptor + 1, 60000, 60000, 5000, 5000)
    return bytes(body)


def webp_huge_canvas() -> bytes:
    """An extended WebP header declaring a 16384 x 16384 canvas, and nothing else."""
    vp8x = b"VP8X" + struct.pack("<I", 10) + b"\x00\x00\x00\x00"
    vp8x += (16383).to_bytes(3, "little") + (16383).to_bytes(3, "little")
    return b"RIFF" + struct.pack("<I", 4 + len(vp8x)) + b"WEBP" + vp8x


def jpeg_declaring(width: int, height: int) -> bytes:
    """A real small JPEG whose frame header is patched to claim another size."""
    body = bytearray(jpeg(16, 16))
    sof = body.index(b"\xff\xc0")
    struct.pack_into(">HH", body, sof + 5, height, width)
    return bytes(body)


def jpeg_many_scans(scans: int = 600) -> bytes:
    """A JPEG with hundreds of (empty) scans: the shape of the progressive-JPEG CPU bomb."""
    body = jpeg(16, 16)
    sos = body.index(b"\xff\xda")
    eoi = body.rindex(b"\xff\xd9")
    one_scan = body[sos:eoi]
    return body[:sos] + one_scan * scans + body[eoi:]


def bmp_declaring(width: int, height: int) -> bytes:
    body = bytearray(bmp(4, 4))
    struct.pack_into("<ii", body, 18, width, height)
    return bytes(body)


def truncated(data: bytes, keep: float = 0.5) -> bytes:
    return data[: int(len(data) * keep)]


def zip_archive() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("payload.txt", "not a picture")
    return out.getvalue()


def polyglot_png_zip() -> bytes:
    """A valid PNG with a ZIP archive appended: both programs open it."""
    return png() + zip_archive()


def heic_with_avif_brand() -> bytes:
    """An ``ftyp`` box that says AVIF: a real format, but not one we accept."""
    return struct.pack(">I", 24) + b"ftypavif" + b"\x00\x00\x00\x00" + b"avifmif1"


TEXT = b"Dear Ms Smith,\nthis is not a picture.\n"
PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
SVG = (
    b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b'<rect width="10" height="10" fill="red"/></svg>\n'
)
HTML_AS_GIF = b"GIF89a<script>alert(1)</script>"
