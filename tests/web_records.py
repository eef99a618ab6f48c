"""Hand-built PageRecords for the core and CLI tests of web items: real PNGs (Pillow), a
real certificate chain (a CA and a leaf made with ``cryptography``), real responses.

What the capture browser hands over is built here by hand so that the step from a
PageRecord to an item is tested without a browser; the browser itself is tested in
test_web_engine.py.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from PIL import Image, ImageDraw

from evidence_recorder.core.gather.webpage import (
    LoadState,
    NetworkResponse,
    PagePicture,
    PageRecord,
    TlsFacts,
)

WHEN = datetime(2026, 11, 25, 11, 52, 25, 123000, tzinfo=UTC)
NOT_BEFORE = datetime(2026, 1, 1, tzinfo=UTC)
NOT_AFTER = datetime(2027, 1, 1, tzinfo=UTC)
PAGE_HTML = b"<!doctype html><title>A post</title><p>Mean words about a teacher.</p>"


def png(width: int, height: int, *, bands: bool = True) -> bytes:
    """A PNG whose top band is red, then stripes: the top is told from the rest."""
    image = Image.new("RGB", (width, height), (250, 250, 250))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, width, min(height, 200)), fill=(200, 30, 30))
    if bands:
        for y in range(400, height, 800):
            draw.rectangle((0, y, width, y + 40), fill=(30, 30, 200))
    out = io.BytesIO()
    image.save(out, "PNG", compress_level=1)
    return out.getvalue()


def tall_png(width: int, height: int) -> bytes:
    """A PNG far taller than Pillow would make in memory (a 100-megapixel page), written
    a row at a time with zlib: red for its top 200 rows, white below."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data)))

    packer = zlib.compressobj(1)
    red, white = b"\0" + b"\xc8\x1e\x1e" * width, b"\0" + b"\xfa" * (3 * width)
    body = [packer.compress(red if y < 200 else white) for y in range(height)]
    body.append(packer.flush())
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", b"".join(body))
            + chunk(b"IEND", b""))


def picture(width: int = 1280, height: int = 2400, css_top: int = 0) -> PagePicture:
    return PagePicture(png(width, height), width, height, css_top=css_top, css_height=height)


def cert_chain(host: str = "127.0.0.1") -> tuple[bytes, bytes]:
    """``(leaf DER, CA DER)``: a school-test CA and a leaf for ``host``."""
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "GB"),
                         x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Test CA, Ltd"),
                         x509.NameAttribute(NameOID.COMMON_NAME, "Evidence Test Root")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(NOT_BEFORE).not_valid_after(NOT_AFTER + timedelta(days=365))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .sign(ca_key, hashes.SHA256()))
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    leaf = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)]))
            .issuer_name(ca_name).public_key(leaf_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(NOT_BEFORE).not_valid_after(NOT_AFTER)
            .sign(ca_key, hashes.SHA256()))
    return (leaf.public_bytes(serialization.Encoding.DER),
            ca.public_bytes(serialization.Encoding.DER))


def response(url: str, body: bytes | None = PAGE_HTML, status: int = 200,
             **extra: Any) -> NetworkResponse:
    values: dict[str, Any] = {
        "url": url, "method": "GET", "status": status, "status_text": "",
        "http_version": "HTTP/1.1",
        "request_headers": (("User-Agent", "TestBrowser/1.0"), ("Accept", "text/html")),
        "response_headers": (("Content-Type", "text/html; charset=utf-8"),
                             ("Content-Encoding", "gzip"), ("Content-Length", "57")),
        "body": body, "remote_ip": "127.0.0.1", "remote_port": 8443,
        "mime_type": "text/html", "fetched_at": WHEN - timedelta(seconds=2),
    }
    values.update(extra)
    return NetworkResponse(**values)


def page(url: str = "https://127.0.0.1:8443/post/1", **extra: Any) -> PageRecord:
    """A complete https capture of one page: two full-page parts, the visible part,
    MHTML, two responses (one whose body was not kept) and a two-certificate chain."""
    https = url.startswith("https:")
    values: dict[str, Any] = {
        "requested_url": url, "final_url": url, "title": "A post",
        "captured_at": WHEN, "user_agent": "Mozilla/5.0 TestBrowser/1.0",
        "load_state": LoadState.COMPLETE, "http_status": 200, "server_ip": "127.0.0.1",
        "visible": picture(1280, 800),
        "full_page": (picture(1280, 2400), picture(1280, 1200, css_top=2400)),
        "scroll_height": 3600, "viewport_width": 1280, "viewport_height": 800,
        "mhtml": (b"From: <Saved by Blink>\r\nMIME-Version: 1.0\r\nContent-Type: "
                  b"multipart/related; type=\"text/html\"; boundary=\"b\"\r\n\r\n--b\r\n"
                  b"Content-Type: text/html\r\n\r\n" + PAGE_HTML + b"\r\n--b--\r\n"),
        "responses": (response(url),
                      response(url.rsplit("/", 1)[0] + "/app.js", body=None,
                               response_headers=(("Content-Type", "text/javascript"),),
                               http_version="h2")),
        "certificate_chain": cert_chain() if https else (),
        "tls": TlsFacts(protocol="TLS 1.3", cipher="AES_128_GCM") if https else None,
        "text_sample": "A post. Mean words about a teacher.",
    }
    values.update(extra)
    return PageRecord(**values)
