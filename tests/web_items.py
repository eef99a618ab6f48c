"""Web items made directly in a vault, as the capture browser would leave them: a tall
full-page PNG drawn with Pillow (numbered bands, so a report's slices can be checked in
order), the visible part, a small hand-written MHTML, a WARC written with warcio and a
PEM chain made with cryptography. Shared by test_web_bundle.py and test_web_viewer.py.
"""

from __future__ import annotations

import base64
import io
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from PIL import Image, ImageDraw

from evidence_recorder.core.gather import images
from evidence_recorder.core.model import (
    ArtefactRole,
    CaptureDetails,
    CaptureKind,
    WebSource,
    iso_utc,
)
from evidence_recorder.core.vault.items import NewArtefact
from evidence_recorder.core.vault.store import Vault

FINAL_URL = "https://social.example/groups/year9/posts/4711"
REQUESTED_URL = "https://social.example/p/4711"
TITLE = "Year 9 parents: a post about Sam"
BAND = 1000  # px: each band of the full page is numbered


def png(width: int, height: int, label: str = "", *, bands: bool = False) -> bytes:
    picture = Image.new("RGB", (width, height), (250, 250, 250))
    draw = ImageDraw.Draw(picture)
    if bands:
        for number, top in enumerate(range(0, height, BAND), 1):
            shade = (200, 225, 255) if number % 2 else (255, 230, 200)
            draw.rectangle((0, top, width, min(height, top + BAND) - 1), fill=shade)
            draw.text((40, top + 40), f"BAND {number}", fill=(0, 0, 0), font_size=120)
    if label:
        draw.text((40, 10), label, fill=(0, 0, 0), font_size=48)
    out = io.BytesIO()
    picture.save(out, "PNG")
    return out.getvalue()


def mhtml(*, script: str = "", remote_image: str = "", title: str = "An archived post",
          huge_part: int = 0) -> bytes:
    """A multipart/related page: an HTML part and a picture part it shows by cid."""
    picture = png(120, 60, "PIC")
    body = (f"<html><head><title>{title}</title></head><body>"
            f"<h1 id='headline'>Archived post about Sam</h1>"
            f"<p>Posted by Alex Example: the words of the post.</p>"
            f"<img id='local' src='cid:picture@mhtml' alt='local picture'>"
            + (f"<img id='remote' src='{remote_image}' alt='remote'>" if remote_image else "")
            + (f"<script>{script}</script>" if script else "")
            + "</body></html>")
    parts = [
        "From: <Saved by Blink>",
        "Snapshot-Content-Location: " + FINAL_URL,
        "Subject: " + title,
        "Date: Mon, 7 Dec 2026 10:00:00 -0000",
        "MIME-Version: 1.0",
        'Content-Type: multipart/related; type="text/html"; boundary="----BOUNDARY"',
        "",
        "",
        "------BOUNDARY",
        "Content-Type: text/html",
        "Content-ID: <frame-main@mhtml>",
        "Content-Transfer-Encoding: quoted-printable",
        "Content-Location: " + FINAL_URL,
        "",
        body.replace("=", "=3D"),
        "------BOUNDARY",
        "Content-Type: image/png",
        "Content-Transfer-Encoding: base64",
        "Content-ID: <picture@mhtml>",
        "Content-Location: https://cdn.social.example/picture.png",
        "",
        base64.encodebytes(picture).decode("ascii"),
    ]
    if huge_part:
        parts += ["------BOUNDARY", "Content-Type: application/octet-stream",
                  "Content-Transfer-Encoding: base64", "Content-ID: <huge@mhtml>", "",
                  base64.encodebytes(b"\0" * huge_part).decode("ascii")]
    parts += ["------BOUNDARY--", ""]
    return "\r\n".join(parts).encode("utf-8")


def warc() -> bytes:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    out = io.BytesIO()
    writer = WARCWriter(out, gzip=True)
    body = b"<html><body>the post</body></html>"
    headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1")
    record = writer.create_warc_record(FINAL_URL, "response", payload=io.BytesIO(body),
                                       http_headers=headers)
    writer.write_record(record)
    record.raw_stream.close()  # warcio buffers the payload in a temporary file
    return out.getvalue()


def pem_chain() -> tuple[bytes, str]:
    """A leaf signed by a CA, as PEM; and the leaf's SHA-256."""
    now = datetime(2026, 11, 1, tzinfo=UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Example Test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(1).not_valid_before(now)
          .not_valid_after(now + timedelta(days=3650))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME,
                                                        "social.example")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(2)
            .not_valid_before(now).not_valid_after(now + timedelta(days=90))
            .sign(ca_key, hashes.SHA256()))
    chain = b"".join(c.public_bytes(serialization.Encoding.PEM) for c in (leaf, ca))
    return chain, leaf.fingerprint(hashes.SHA256()).hex()


def web_source(**changes: Any) -> WebSource:
    chain_sha = changes.pop("certificate_sha256", "ab" * 32)
    values: dict[str, Any] = {
        "requested_url": REQUESTED_URL, "final_url": FINAL_URL, "title": TITLE,
        "http_status": 200, "server_ip": "203.0.113.7",
        "user_agent": "Mozilla/5.0 QtWebEngine/6.11.3", "redirects": [REQUESTED_URL],
        "scroll_height": 9000, "viewport_width": 1280, "viewport_height": 800,
        "device_pixel_ratio": 1.0, "full_page_parts": 1, "certificate_sha256": chain_sha,
        "certificate_subject": "CN=social.example", "certificate_issuer": "CN=Example Test CA",
        "certificate_valid_from": "2026-11-01T00:00:00.000Z",
        "certificate_valid_to": "2027-01-30T00:00:00.000Z", "tls_protocol": "TLS 1.3"}
    values.update(changes)
    return WebSource(**values)


def add_web_item(vault: Vault, *, when: datetime | None = None, height: int = 9000,
                 parts: int = 1, page: bytes | None = None, https: bool = True,
                 **web: Any) -> int:
    """A web item with every artefact; ``parts`` > 1 splits the full page in numbered
    PNGs of ``height`` pixels each."""
    when = when or datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
    chain, leaf_sha = pem_chain()
    if not https:
        web.setdefault("final_url", FINAL_URL.replace("https:", "http:"))
        web.setdefault("requested_url", web["final_url"])
        web.setdefault("redirects", [])
        for key in ("certificate_subject", "certificate_issuer", "certificate_valid_from",
                    "certificate_valid_to", "tls_protocol"):
            web.setdefault(key, "")
        web.setdefault("certificate_sha256", "")
    else:
        web.setdefault("certificate_sha256", leaf_sha)
    names = (["full-page.png"] if parts == 1
             else [f"full-page-{n}.png" for n in range(1, parts + 1)])
    pictures = [png(1280, height, f"{name}", bands=True) for name in names]
    artefacts = [NewArtefact(name, ArtefactRole.FULL_PAGE, "image/png", picture,
                             primary=number == 0)
                 for number, (name, picture) in enumerate(zip(names, pictures, strict=True))]
    artefacts += [
        NewArtefact("visible.png", ArtefactRole.VISIBLE, "image/png",
                    png(1280, 800, "what was on screen")),
        NewArtefact("page.mhtml", ArtefactRole.PAGE_ARCHIVE, "multipart/related",
                    page if page is not None else mhtml()),
        NewArtefact("network.warc.gz", ArtefactRole.NETWORK_ARCHIVE, "application/warc",
                    warc()),
    ]
    if https:
        artefacts.append(NewArtefact("certificate-chain.pem", ArtefactRole.CERTIFICATE,
                                     "application/x-pem-file", chain))
    thumb = images.make_thumbnail(pictures[0], 256)
    previews = images.make_thumbnails(pictures[0], (images.PREVIEW_SIDE,
                                                    images.SMALL_PREVIEW_SIDE))
    source = web_source(full_page_parts=parts, scroll_height=height * parts, **web)
    return vault.add_item(
        CaptureKind.WEB, artefacts, captured_at=iso_utc(when), tz_name="Europe/London",
        utc_offset="+00:00", environment={"os": "Linux"}, thumbnail=thumb,
        previews=(previews[0], previews[1]), width=1280, height=height,
        title=source.title, web=source,
        details=CaptureDetails(site="Social", url=source.final_url, author="Alex Example",
                               description="A post about Sam"))
