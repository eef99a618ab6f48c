"""Fuzzing the two readers of hostile bytes: the bundle reader and the picture importer.

Whatever the bytes (random, ZIP-shaped, or a real bundle or picture with bytes
flipped, inserted, cut or overwritten), ``verify_bundle`` and ``open_bundle`` must
return a report or raise an :class:`EvidenceError` (``BundleLocked`` and
``WrongSecret`` included); ``inspect_image`` and ``make_thumbnail`` must return or
raise :class:`RefusedInput`. Anything else escaping is a bug: the app would show a
crash dialog for a file someone sent.

``ER_FUZZ_EXAMPLES`` sets the number of examples per target (default 200).
"""

from __future__ import annotations

import contextlib
import io
import os
import zipfile
from collections.abc import Callable
from typing import Any

import hostile_bundles as hb
import hostile_files as hf
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from evidence_recorder.core.bundle.check import BundleReport, verify_bundle
from evidence_recorder.core.bundle.opened import open_bundle
from evidence_recorder.core.errors import EvidenceError, RefusedInput
from evidence_recorder.core.gather import images

EXAMPLES = max(1, int(os.environ.get("ER_FUZZ_EXAMPLES", "200")))


def fuzz(share: float = 1.0) -> Any:
    return settings(max_examples=max(1, int(EXAMPLES * share)), deadline=None,
                    database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.filter_too_much,
                                           HealthCheck.large_base_example])


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> hb.Sample:
    return hb.seal_sample(tmp_path_factory.mktemp("fuzz"))


# ============================================================================ mutation


@st.composite
def mutated(draw: st.DrawFn, seed: bytes, max_ops: int = 4) -> bytes:
    """``seed`` with a few byte-level edits: flip, overwrite, insert, delete, cut,
    duplicate a slice. Most of the file survives, so parsers get past their first
    checks and meet the damage deep inside."""
    data = bytearray(seed)
    for _ in range(draw(st.integers(1, max_ops))):
        op = draw(st.sampled_from(["flip", "overwrite", "insert", "delete", "cut", "repeat",
                                   "interesting"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if op == "flip" and data:
            data[at] ^= draw(st.integers(1, 255))
        elif op == "overwrite":
            chunk = draw(st.binary(min_size=1, max_size=16))
            data[at:at + len(chunk)] = chunk
        elif op == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=64))
        elif op == "delete":
            del data[at:at + draw(st.integers(1, 64))]
        elif op == "cut":
            del data[at:]
        elif op == "repeat":
            size = draw(st.integers(1, 256))
            data[at:at] = data[at:at + size]
        elif op == "interesting" and len(data) >= 4:
            # Sizes and counts are where parsers trust the file: put edge values there.
            value = draw(st.sampled_from([0, 1, 0x7F, 0x80, 0xFF, 0xFFFF, 0x7FFFFFFF,
                                          0x80000000, 0xFFFFFFFF]))
            width = draw(st.sampled_from([1, 2, 4]))
            order = draw(st.sampled_from(["little", "big"]))
            at = min(at, len(data) - width)
            data[at:at + width] = (value & ((1 << (8 * width)) - 1)).to_bytes(width, order)
    return bytes(data)


# ============================================================================ bundles


VIEWER_READS = ("data/evidence.json", "data/captures/1/original.png", "report.pdf",
                "../bagit.txt")


def read_bundle(raw: bytes, passphrase: str | None = None) -> None:
    """Run both entry points of the reader; only EvidenceError may come out."""
    try:
        report = verify_bundle(io.BytesIO(raw), passphrase)
    except EvidenceError as exc:
        assert exc.message
    else:
        assert isinstance(report, BundleReport)
        assert all(isinstance(p, str) and p and "\n" not in p for p in report.problems)
    try:
        opened = open_bundle(io.BytesIO(raw), passphrase)
    except EvidenceError as exc:
        assert exc.message
        return
    try:
        assert isinstance(opened.report, BundleReport)
        # The list of evidence is read, or it is not and a sentence says why.
        assert (opened.contents is None) == isinstance(opened.contents_problem, str)
        for path in VIEWER_READS:  # the viewer reads files on demand
            with contextlib.suppress(EvidenceError):
                opened.read(path)
    finally:
        opened.close()


@fuzz()
@given(raw=st.binary(max_size=2048))
def test_arbitrary_bytes_as_a_bundle(raw: bytes) -> None:
    read_bundle(raw)


zip_magic = st.sampled_from([b"PK\x03\x04", b"PK\x01\x02", b"PK\x05\x06", b"PK\x06\x06",
                             b"PK\x06\x07", b"PK\x07\x08"])


@fuzz(0.5)
@given(parts=st.lists(st.one_of(zip_magic, st.binary(max_size=40)), max_size=12))
def test_zip_shaped_noise_as_a_bundle(parts: list[bytes]) -> None:
    read_bundle(b"".join(parts))


names = st.text(st.characters(codec="utf-8"), min_size=1, max_size=40)


@fuzz(0.5)
@given(entries=st.lists(st.tuples(names, st.binary(max_size=64)), max_size=8),
       top=st.sampled_from(["", "b/", "b/data/"]))
def test_small_zips_with_any_names_as_a_bundle(entries: list[tuple[str, bytes]],
                                              top: str) -> None:
    try:
        raw = hb.zip_of([(top + name, data) for name, data in entries])
    except (ValueError, IndexError, UnicodeError, zipfile.BadZipFile):  # the writer refuses
        assume(False)
        raise
    read_bundle(raw)


@fuzz()
@given(data=st.data())
def test_mutated_real_bundles(sample: hb.Sample, data: st.DataObject) -> None:
    read_bundle(data.draw(mutated(sample.sealed), label="bundle"))


@fuzz(0.5)
@given(data=st.data())
def test_mutated_bag_files_in_a_real_bundle(sample: hb.Sample, data: st.DataObject) -> None:
    """Damage inside the entries (a clean ZIP around it) reaches the bag's parsers:
    manifests, allowed_signers, the signature, bag-info, the audit log."""
    entries = hb.entries_of(sample.sealed)
    index = data.draw(st.integers(0, len(entries) - 1), label="entry")
    info, content = entries[index]
    entries[index] = (info, data.draw(mutated(content), label="content"))
    read_bundle(hb.rebuild(entries))


der_heads = st.sampled_from([b"", b"\x30\x82", b"\x30\x80", b"\x30\x84\xff\xff\xff\xff",
                             b"\x30\x03\x02\x01\x00", b"\x30\x82\x01\x00\x30\x03\x02\x01"])


@fuzz(0.25)
@given(head=der_heads, rest=st.binary(max_size=300))
def test_any_timestamp_token_in_a_real_bundle(sample: hb.Sample, head: bytes,
                                              rest: bytes) -> None:
    """A ``.tsr`` added beside the signature is parsed (ASN.1 from a stranger)."""
    def change(files: dict[str, bytes]) -> None:
        files["tagmanifest-sha256.txt.sig.tsr"] = head + rest

    raw = hb.edit_bag(sample.sealed, change)
    report = verify_bundle(io.BytesIO(raw))
    assert not report.ok or report.timestamp  # nothing a stranger types is a timestamp
    assert all("\n" not in p for p in report.problems)


PASSPHRASES = [None, hb.PASSPHRASE_FOR_TRANSPORT, "not the passphrase"]


@fuzz(0.25)
@given(data=st.data())
def test_mutated_encrypted_bundles(sample: hb.Sample, data: st.DataObject) -> None:
    raw = data.draw(mutated(sample.encrypted), label="bundle")
    for passphrase in PASSPHRASES:
        read_bundle(raw, passphrase)


@pytest.mark.parametrize("passphrase", [hb.PASSPHRASE_FOR_TRANSPORT, "not the passphrase"])
def test_damaged_encrypted_bundle_is_refused_plainly(sample: hb.Sample,
                                                     passphrase: str) -> None:
    raw = bytearray(sample.encrypted)
    raw[0] ^= 0xFF  # the first local header's signature: "Bad magic number"
    try:
        report = verify_bundle(io.BytesIO(bytes(raw)), passphrase)
    except EvidenceError:
        return
    assert not report.ok


# ============================================================================ pictures


def _seeds() -> dict[str, Callable[[], bytes]]:
    return {
        "png": hf.png, "jpeg": hf.jpeg, "gif": hf.gif, "webp": hf.webp, "bmp": hf.bmp,
        "heic": hf.heic, "apng": lambda: hf.apng(3, 16, 16),
        "animated_gif": lambda: hf.animated_gif(3, 16, 16),
        "animated_webp": lambda: hf.animated_webp(3, 16, 16),
        "png16": hf.png16, "palette": hf.palette_png_with_transparency,
        "cmyk": hf.cmyk_jpeg, "exif": lambda: hf.jpeg_with_exif(orientation=6, offset="+01:00"),
        "png_rgba": lambda: hf.png(mode="RGBA"), "jpeg_grey": lambda: hf.jpeg(mode="L"),
        "png_declaring": lambda: hf.png_declaring(20_000, 10_000),
        "jpeg_declaring": lambda: hf.jpeg_declaring(20_000, 10_000),
        "bmp_declaring": lambda: hf.bmp_declaring(20_000, -10_000),
        "lying_chunk": hf.png_with_lying_chunk_length, "zero_width": hf.png_zero_width,
        "no_iend": hf.png_without_iend, "gif_screen": hf.gif_huge_screen,
        "gif_frame": hf.gif_huge_first_frame, "webp_canvas": hf.webp_huge_canvas,
        "jpeg_scans": lambda: hf.jpeg_many_scans(40), "polyglot": hf.polyglot_png_zip,
        "avif_brand": hf.heic_with_avif_brand, "html_gif": lambda: hf.HTML_AS_GIF,
    }


@pytest.fixture(scope="module")
def pictures() -> dict[str, bytes]:
    seeds = {}
    for name, make in _seeds().items():
        # An encoder this machine lacks (HEIC, WebP) just means fewer seeds.
        with contextlib.suppress(Exception):
            seeds[name] = make()
    assert len(seeds) >= 20, sorted(seeds)
    return seeds


def take_picture(data: bytes) -> None:
    """inspect_image and make_thumbnail: a result, or RefusedInput with one line."""
    for read in (images.inspect_image, images.make_thumbnail):
        try:
            result = read(data)  # type: ignore[operator]
        except RefusedInput as exc:
            assert exc.message and "\n" not in exc.message
            continue
        if read is images.inspect_image:
            assert isinstance(result, images.ImageInfo)
            assert result.width * result.height <= images.MAX_PIXELS
        else:
            assert isinstance(result, bytes) and result.startswith(b"\xff\xd8")


@fuzz()
@given(raw=st.binary(max_size=1024))
def test_arbitrary_bytes_as_a_picture(raw: bytes) -> None:
    take_picture(raw)


magic = st.sampled_from([b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF89a", b"GIF87a",
                         b"RIFF\x00\x00\x00\x00WEBPVP8 ", b"BM",
                         b"\x00\x00\x00\x18ftypheic", b"\x00\x00\x00\x18ftypmif1"])


@fuzz(0.5)
@given(head=magic, rest=st.binary(max_size=512))
def test_magic_then_noise_as_a_picture(head: bytes, rest: bytes) -> None:
    take_picture(head + rest)


@fuzz(2)
@given(data=st.data())
def test_mutated_real_pictures(pictures: dict[str, bytes], data: st.DataObject) -> None:
    seed = data.draw(st.sampled_from(sorted(pictures)), label="seed")
    take_picture(data.draw(mutated(pictures[seed]), label="picture"))
