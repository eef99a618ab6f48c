"""Crafted hostile bundles and imports: each one a name, its bytes and the verdict due.

The bundle cases start from a real sealed bundle (made once by :func:`seal_sample`)
and change it the way an attacker, a broken mail gateway or a curious colleague
might; the import cases reuse the crafted pictures of :mod:`hostile_files`. Every
case says which words the refusal must contain, so a test can check that the
verdict is the right one and not merely *a* refusal.

:func:`judge` runs one case and returns a plain dict, so the bomb cases can run it
in a child process under a memory limit (``python hostile_bundles.py TARGET PATH``).
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import stat
import struct
import sys
import time
import unicodedata
import warnings
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hostile_files as hf

PASSPHRASE_FOR_TRANSPORT = "velvet harbor quarry tumble orchid lantern"  # conftest's


@dataclass(frozen=True)
class Sample:
    """One real sealed bundle (and an encrypted one) to start from."""

    sealed: bytes
    encrypted: bytes
    top: str
    fingerprint: str


@dataclass(frozen=True)
class Case:
    """One hostile input and the verdict it must get.

    ``target`` is "bundle" (``verify_bundle`` / ``open_bundle``) or "import"
    (``read_import_file`` then ``inspect_image``). ``expect`` holds words of which at
    least one must appear in a problem (or in the refusal's message); ``error`` names
    the exception class a bundle case must raise instead of reporting; ``accepted``
    marks an import the product deliberately takes (and must flag).
    """

    name: str
    data: bytes
    target: str
    expect: tuple[str, ...]
    error: str | None = None
    passphrase: str | None = None
    bomb: bool = False
    accepted: bool = False
    suffix: str = ".zip"
    extra: dict[str, Any] = field(default_factory=dict)


# ============================================================================ ZIP craft


def zip_of(entries: list[tuple[zipfile.ZipInfo | str, bytes]],
           compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    """A ZIP holding exactly ``entries`` in order (duplicates and all)."""
    out = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about duplicate names
        with zipfile.ZipFile(out, "w", compression) as zf:
            for info, data in entries:
                zf.writestr(info, data)
    return out.getvalue()


def entries_of(raw: bytes) -> list[tuple[zipfile.ZipInfo, bytes]]:
    """Every entry of a ZIP with its ZipInfo (kept for attributes and compression)."""
    with zipfile.ZipFile(io.BytesIO(raw)) as zf:
        return [(info, zf.read(info)) for info in zf.infolist()]


def clone(info: zipfile.ZipInfo, name: str | None = None) -> zipfile.ZipInfo:
    """A fresh ZipInfo with ``info``'s attributes, optionally under another name."""
    new = zipfile.ZipInfo(info.filename if name is None else name, date_time=info.date_time)
    new.compress_type = info.compress_type
    new.external_attr = info.external_attr
    new.create_system = info.create_system
    return new


def rebuild(entries: list[tuple[zipfile.ZipInfo, bytes]]) -> bytes:
    """Write entries again, each keeping its own name, attributes and compression."""
    return zip_of([(clone(info), data) for info, data in entries])


def edit_bag(raw: bytes, change: Callable[[dict[str, bytes]], None]) -> bytes:
    """Rewrite a bundle after ``change`` edits ``{path inside the bag: bytes}``."""
    entries = entries_of(raw)
    top = entries[0][0].filename.split("/", 1)[0]
    template = next(info for info, _ in entries if info.compress_type == zipfile.ZIP_DEFLATED)
    files = {info.filename.split("/", 1)[1]: data for info, data in entries}
    infos = {info.filename.split("/", 1)[1]: info for info, _ in entries}
    change(files)
    out = []
    for path, data in files.items():
        info = clone(infos.get(path, template), f"{top}/{path}")
        out.append((info, data))
    return zip_of(out)


def reseal_bag(raw: bytes, change: Callable[[dict[str, bytes]], None], *,
               top: str | None = None) -> bytes:
    """Edit a bundle's files as :func:`edit_bag` does, then seal it again properly
    with another key (manifests, Payload-Oxum, signer, signature), under the folder
    ``top`` if given: what a sender who writes their own bundles could send."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from evidence_recorder.core.bundle import sshsig
    from evidence_recorder.core.bundle.layout import NAMESPACE

    key = Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"a sender's key").digest())

    def seal(files: dict[str, bytes]) -> None:
        change(files)
        payload = sorted(p for p in files if p.startswith("data/"))
        files["manifest-sha256.txt"] = "".join(
            f"{hashlib.sha256(files[p]).hexdigest()}  {p}\n" for p in payload).encode()
        oxum = f"{sum(len(files[p]) for p in payload)}.{len(payload)}"
        files["bag-info.txt"] = "".join(
            (f"Payload-Oxum: {oxum}" if line.startswith("Payload-Oxum:") else line) + "\n"
            for line in files["bag-info.txt"].decode().splitlines()).encode()
        files["allowed_signers"] = (f'sender namespaces="{NAMESPACE}" '
                                    f"{sshsig.public_key_line(key)}\n").encode()
        tag = sorted(p for p in files if not p.startswith("data/") and p not in (
            "tagmanifest-sha256.txt", "tagmanifest-sha256.txt.sig"))
        files["tagmanifest-sha256.txt"] = "".join(
            f"{hashlib.sha256(files[p]).hexdigest()}  {p}\n" for p in tag).encode()
        files["tagmanifest-sha256.txt.sig"] = sshsig.sign(
            key, files["tagmanifest-sha256.txt"], NAMESPACE).encode()

    resealed = edit_bag(raw, seal)
    if top is None:
        return resealed
    return zip_of([(clone(info, top + "/" + info.filename.split("/", 1)[1]), data)
                   for info, data in entries_of(resealed)])


def deep_json(depth: int = 100_000) -> bytes:
    return b"[" * depth + b"]" * depth


def stored(raw: bytes, path: str) -> bytes:
    """The bundle with the file ``path`` (inside the bag) stored, not compressed: a run
    of brackets compresses far past the ZIP-bomb ratio, which would be refused first."""
    entries = []
    for info, data in entries_of(raw):
        copy = clone(info)
        if info.filename.split("/", 1)[1] == path:
            copy.compress_type = zipfile.ZIP_STORED
        entries.append((copy, data))
    return zip_of(entries)


def symlink(name: str, target: bytes = b"/etc/passwd") -> tuple[zipfile.ZipInfo, bytes]:
    info = zipfile.ZipInfo(name)
    info.create_system = 3
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info, target


def patch_names(raw: bytes, old: bytes, new: bytes) -> bytes:
    """Swap a name in both the local and the central headers (same length only)."""
    assert len(old) == len(new)
    assert raw.count(old) >= 2
    return raw.replace(old, new)


def patch_entry_sizes(raw: bytes, name: bytes, file_size: int) -> bytes:
    """Make both headers of entry ``name`` declare ``file_size`` uncompressed bytes."""
    data = bytearray(raw)
    at = 0
    while (at := data.find(name, at + 1)) > 0:
        if data[at - 30:at - 26] == b"PK\x03\x04":  # local header: size at +22
            struct.pack_into("<I", data, at - 30 + 22, file_size)
        elif data[at - 46:at - 42] == b"PK\x01\x02":  # central header: size at +24
            struct.pack_into("<I", data, at - 46 + 24, file_size)
    return bytes(data)


def declare_entries(raw: bytes, count: int) -> bytes:
    """Make the end record claim ``count`` entries (the directory itself unchanged)."""
    data = bytearray(raw)
    at = data.rfind(b"PK\x05\x06")
    struct.pack_into("<HH", data, at + 8, min(count, 0xFFFF), min(count, 0xFFFF))
    if count > 0xFFFF:
        struct.pack_into("<HH", data, at + 8, 0xFFFF, 0xFFFF)
    return bytes(data)


@functools.lru_cache(maxsize=2)
def deflated_zeros(size: int) -> tuple[bytes, int]:
    """A raw deflate stream of ``size`` zero bytes (streamed, never held whole)."""
    squeeze = zlib.compressobj(1, zlib.DEFLATED, -15)
    chunk = bytes(4 * 1024 * 1024)
    parts = []
    crc = 0
    left = size
    while left:
        piece = chunk[:min(left, len(chunk))]
        crc = zlib.crc32(piece, crc)
        parts.append(squeeze.compress(piece))
        left -= len(piece)
    parts.append(squeeze.flush())
    return b"".join(parts), crc


def zip_with_deflated(name: str, size: int, declared: int | None = None) -> bytes:
    """A one-entry ZIP whose entry inflates to ``size`` zeros; the headers declare
    ``declared`` bytes instead if given (a bomb that lies about itself)."""
    stream, crc = deflated_zeros(size)
    shown = size if declared is None else declared
    raw_name = name.encode()
    zip64 = shown > 0xFFFFFFFE
    extra = struct.pack("<HHQQ", 1, 16, shown, len(stream)) if zip64 else b""
    usize, csize = (0xFFFFFFFF, 0xFFFFFFFF) if zip64 else (shown, len(stream))
    version = 45 if zip64 else 20
    local = struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", version, 0, 8, 0, 0x21, crc,
                        csize, usize, len(raw_name), len(extra)) + raw_name + extra
    central = struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 0x0300 | version, version,
                          0, 8, 0, 0x21, crc, csize, usize, len(raw_name), len(extra), 0, 0,
                          0, (stat.S_IFREG | 0o644) << 16, 0) + raw_name + extra
    body = local + stream
    end = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, 1, 1, len(central), len(body), 0)
    return body + central + end


def png_wrapping_zip(inner: bytes) -> bytes:
    """A valid PNG that is also a ZIP: the archive sits in a private ancillary chunk,
    and its end record's comment swallows the chunk CRC and IEND that follow."""
    assert inner[-22:-18] == b"PK\x05\x06" and inner[-2:] == b"\0\0"
    tail_len = 4 + 12  # chunk CRC + IEND chunk
    archive = inner[:-2] + struct.pack("<H", tail_len)
    header, data, end = hf._small_png_chunks()
    chunk = hf.png_chunk(b"zpKp", archive)
    return hf.png_from_chunks(header, data, chunk, end)


# ============================================================================ the sample


def seal_sample(folder: Path, *, extra_captures: int = 0) -> Sample:
    """A vault with captures (one annotated), sealed plainly and with a passphrase.
    ``extra_captures`` makes a bundle that differs in every tag file, not just the key."""
    from conftest import FAST_KDF, PASSPHRASE
    from test_bundle import fill
    from test_vault import add, png_bytes

    from evidence_recorder.core.bundle.seal import ExportOptions, export_bundle, signing_fingerprint
    from evidence_recorder.core.vault.store import Vault

    vault, _ = Vault.create(folder / "vault", PASSPHRASE, kdf=FAST_KDF)
    try:
        fill(vault)
        for n in range(extra_captures):
            add(vault, png_bytes((n % 256, 99, 99)))
        # Every original in (the covered one too, as when the sender ticks "also include
        # what I covered"), so each kind of file a bundle can hold is there to tamper with.
        sealed = export_bundle(vault, folder / "sealed.zip",
                               options=ExportOptions(include_covered_originals=True))
        encrypted = export_bundle(vault, folder / "encrypted.zip", options=ExportOptions(
            passphrase=PASSPHRASE_FOR_TRANSPORT, include_covered_originals=True))
        fingerprint = signing_fingerprint(vault)
    finally:
        vault.close()
    raw = sealed.read_bytes()
    top = entries_of(raw)[0][0].filename.split("/", 1)[0]
    return Sample(raw, encrypted.read_bytes(), top, fingerprint)


# ============================================================================ the cases

CASES: dict[str, Callable[[Sample], Case]] = {}


def case(target: str, *expect: str, **kwargs: Any) -> Callable[[Callable[[Sample], bytes]],
                                                                Callable[[Sample], bytes]]:
    """Register a builder of one case's bytes under its function's name."""

    def register(build: Callable[[Sample], bytes]) -> Callable[[Sample], bytes]:
        name = build.__name__

        def make(sample: Sample) -> Case:
            return Case(name, build(sample), target, expect, **kwargs)

        CASES[name] = make
        return build

    return register


# --- escaping the folder -----------------------------------------------------------


@case("bundle", "points outside the bundle folder")
def path_traversal(_: Sample) -> bytes:
    return zip_of([("b/data/x", b"1"), ("../x", b"escaped")])


@case("bundle", "points outside the bundle folder")
def path_traversal_inside_real_bundle(s: Sample) -> bytes:
    entries = entries_of(s.sealed)
    return zip_of([(clone(i), d) for i, d in entries] + [(f"{s.top}/../../x", b"escaped")])


@case("bundle", "absolute path")
def absolute_posix_path(_: Sample) -> bytes:
    return zip_of([("/etc/x", b"owned")])


@case("bundle", "absolute path", "backslashes")
def absolute_windows_path(_: Sample) -> bytes:
    return zip_of([("C:\\x", b"owned")])


@case("bundle", "absolute path")
def absolute_windows_drive_slash(_: Sample) -> bytes:
    return zip_of([("C:/Windows/x", b"owned")])


@case("bundle", "symbolic link")
def symlink_entry(s: Sample) -> bytes:
    entries = entries_of(s.sealed)
    return zip_of([(clone(i), d) for i, d in entries] + [symlink(f"{s.top}/data/link")])


# --- bombs (run under a memory limit) -------------------------------------------------

GIB = 1024 * 1024 * 1024


@case("bundle", "would unpack to", bomb=True)
def zip_bomb_by_size(_: Sample) -> bytes:
    """1 GiB of zeros, deflated for real (about 4.5 MB), declared honestly."""
    return zip_with_deflated("b/data/zeros.bin", GIB)


@case("bundle", "would unpack to", bomb=True)
def zip_bomb_declared_huge(_: Sample) -> bytes:
    """A ZIP64 header declaring 16 EiB for a 1 KiB stream."""
    return zip_with_deflated("b/data/huge.bin", 1024, declared=2**63)


@case("bundle", "compressed more than 200:1", bomb=True)
def zip_bomb_by_ratio(_: Sample) -> bytes:
    """150 MiB of zeros: under the size limit, far over the ratio limit."""
    return zip_with_deflated("b/data/zeros.bin", 150 * 1024 * 1024)


@case("bundle", "could not be read", "would unpack to", "compressed more than", bomb=True)
def zip_bomb_lying_inside_real_bundle(s: Sample) -> bytes:
    """A 1 GiB stream whose headers claim 4 MB, swapped in for a real payload file, so
    the reader really decompresses it: it must stop at the declared size."""
    name = f"{s.top}/data/export.json"
    bomb = zip_with_deflated(name, GIB, declared=4 * 1024 * 1024)
    rest = [(clone(i), d) for i, d in entries_of(s.sealed) if i.filename != name]
    return _join_zips(bomb, zip_of(rest))


def _join_zips(first: bytes, second: bytes) -> bytes:
    """One ZIP holding the entries of both (offsets of the second shifted)."""
    def split(raw: bytes) -> tuple[bytes, bytes, int]:
        end = raw.rfind(b"PK\x05\x06")
        count, size, offset = struct.unpack("<HII", raw[end + 10:end + 20])
        return raw[:offset], raw[offset:offset + size], count

    body1, dir1, n1 = split(first)
    body2, dir2, n2 = split(second)
    shifted = bytearray(dir2)
    at = 0
    while (at := shifted.find(b"PK\x01\x02", at)) >= 0:
        old = struct.unpack_from("<I", shifted, at + 42)[0]
        struct.pack_into("<I", shifted, at + 42, old + len(body1))
        name_len, extra_len, comment_len = struct.unpack_from("<HHH", shifted, at + 28)
        at += 46 + name_len + extra_len + comment_len
    directory = dir1 + bytes(shifted)
    end = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, n1 + n2, n1 + n2, len(directory),
                      len(body1) + len(body2), 0)
    return body1 + body2 + directory + end


@case("bundle", "declares a picture larger than 80 megapixels")
def png_200_megapixels_in_bundle(s: Sample) -> bytes:
    def change(files: dict[str, bytes]) -> None:
        files["data/captures/1/original.png"] = hf.png_declaring(20_000, 10_000)

    return edit_bag(s.sealed, change)


@case("bundle", "data/captures/1/original.png has been changed")
def png_text_bomb_in_bundle(s: Sample) -> bytes:
    def change(files: dict[str, bytes]) -> None:
        files["data/captures/1/original.png"] = hf.png_with_text_bomb()

    return edit_bag(s.sealed, change)


# --- broken containers ----------------------------------------------------------------


@case("bundle", "not a readable ZIP")
def truncated_bundle_half(s: Sample) -> bytes:
    return hf.truncated(s.sealed, 0.5)


@case("bundle", "not a readable ZIP", "could not be read")
def truncated_bundle_end_record(s: Sample) -> bytes:
    return s.sealed[:-7]


@case("bundle", "could not be read", "not a readable ZIP")
def truncated_entry_data(s: Sample) -> bytes:
    """The directory is intact but the report's bytes are cut short in place."""
    raw = bytearray(s.sealed)
    with zipfile.ZipFile(io.BytesIO(s.sealed)) as zf:
        info = zf.getinfo(f"{s.top}/report.pdf")
    start = info.header_offset + 30 + len(info.filename.encode())
    raw[start + 100:start + info.compress_size] = bytes(info.compress_size - 100)
    return bytes(raw)


@case("bundle", "empty ZIP")
def empty_zip(_: Sample) -> bytes:
    return zip_of([])


@case("bundle", "not a readable ZIP")
def not_a_zip(_: Sample) -> bytes:
    return hf.TEXT


@case("bundle", "not a readable ZIP")
def zero_bytes(_: Sample) -> bytes:
    return b""


@case("bundle", "not a readable ZIP", "does not hold a bundle folder", "outside the bundle")
def polyglot_zip_appended_to_png(_: Sample) -> bytes:
    return hf.polyglot_png_zip()


@case("bundle", "outside the bundle folder", "not a readable ZIP")
def polyglot_png_that_is_a_zip(_: Sample) -> bytes:
    return png_wrapping_zip(hf.zip_archive())


@case("bundle", "is not a valid signature", "has been changed", "not a readable ZIP")
def polyglot_png_in_place_of_signature(s: Sample) -> bytes:
    def change(files: dict[str, bytes]) -> None:
        files["tagmanifest-sha256.txt.sig"] = hf.polyglot_png_zip()

    return edit_bag(s.sealed, change)


# --- names ---------------------------------------------------------------------------


@case("bundle", "appears more than once")
def duplicate_names(s: Sample) -> bytes:
    entries = entries_of(s.sealed)
    info, _ = next((i, d) for i, d in entries if i.filename.endswith("original.png"))
    return zip_of([(clone(i), d) for i, d in entries] + [(clone(info), hf.png())])


@case("bundle", "differ only in letter case")
def case_colliding_names(_: Sample) -> bytes:
    return zip_of([("b/data/A.png", hf.png()), ("b/data/a.png", hf.png())])


@case("bundle", "differ only in letter case")
def case_colliding_in_real_bundle(s: Sample) -> bytes:
    entries = entries_of(s.sealed)
    extra = (f"{s.top}/data/captures/1/ORIGINAL.png", hf.png())
    return zip_of([(clone(i), d) for i, d in entries] + [extra])


@case("bundle", "differ only in letter case or accents")
def nfc_nfd_variants(_: Sample) -> bytes:
    nfc = unicodedata.normalize("NFC", "b/data/caf\u00e9.png")
    nfd = unicodedata.normalize("NFD", nfc)
    return zip_of([(nfc, hf.png()), (nfd, hf.png())])


@case("bundle", "data/captures/1/\u043eriginal.png was added")
def cyrillic_lookalike_added(s: Sample) -> bytes:
    """'оriginal.png' with a Cyrillic о next to the real one: named, not merged."""
    def change(files: dict[str, bytes]) -> None:
        files["data/captures/1/\u043eriginal.png"] = hf.png()

    return edit_bag(s.sealed, change)


@case("bundle", "data/captures/1/original.png is listed in manifest-sha256.txt but missing")
def cyrillic_lookalike_swapped(s: Sample) -> bytes:
    """The real original renamed to its look-alike (Cyrillic а in 'png' -> 'pаng')."""
    def change(files: dict[str, bytes]) -> None:
        files["data/captures/1/origin\u0430l.png"] = files.pop("data/captures/1/original.png")

    return edit_bag(s.sealed, change)


@case("bundle", "data/captures/1/inner.zip was added")
def nested_zip_in_data(s: Sample) -> bytes:
    def change(files: dict[str, bytes]) -> None:
        files["data/captures/1/inner.zip"] = s.sealed

    return edit_bag(s.sealed, change)


@case("bundle", "control characters")
def nul_in_name(s: Sample) -> bytes:
    entries = entries_of(s.sealed)
    extra = (f"{s.top}/data/evilQ.png", hf.png())
    raw = zip_of([(clone(i), d) for i, d in entries] + [extra])
    return patch_names(raw, b"data/evilQ.png", b"data/evil\x00.png")


@case("bundle", "control characters")
def escape_sequence_in_name(s: Sample) -> bytes:
    entries = entries_of(s.sealed)
    extra = (f"{s.top}/data/\x1b[2J\rall good.txt", b"ok")
    return zip_of([(clone(i), d) for i, d in entries] + [extra])


@case("bundle", "renamed or packed again")
def renamed_bag_folder(s: Sample) -> bytes:
    return zip_of([(clone(info, "evidence-bundle-20991231-235959/"
                          + info.filename.split("/", 1)[1]), data)
                   for info, data in entries_of(s.sealed)])


@case("bundle", "renamed or packed again")
def renamed_bag_folder_resealed_by_another_key(s: Sample) -> bytes:
    return reseal_bag(s.sealed, lambda files: None, top="my-bundle")


@case("bundle", "empty folder")
def empty_folder_entry(s: Sample) -> bytes:
    folder = zipfile.ZipInfo(f"{s.top}/data/unredacted/")
    folder.external_attr = (stat.S_IFDIR | 0o755) << 16 | 0x10
    return zip_of([(clone(i), d) for i, d in entries_of(s.sealed)] + [(folder, b"")])


AUDIT, EVIDENCE = "data/audit.jsonl", "data/evidence.json"


@case("bundle", "nested too deeply")
def deep_json_in_audit_log(s: Sample) -> bytes:
    def change(files: dict[str, bytes]) -> None:
        files[AUDIT] += deep_json() + b"\n"

    return stored(edit_bag(s.sealed, change), AUDIT)


@case("bundle", "nested too deeply")
def deep_json_in_audit_log_resealed(s: Sample) -> bytes:
    def change(files: dict[str, bytes]) -> None:
        files[AUDIT] = deep_json() + b"\n" + files[AUDIT]

    return stored(reseal_bag(s.sealed, change), AUDIT)


@case("bundle", "nested too deeply")
def deep_json_as_evidence_list(s: Sample) -> bytes:
    return stored(edit_bag(s.sealed, lambda files: files.update({EVIDENCE: deep_json()})),
                  EVIDENCE)


@case("bundle", "nested too deeply")
def deep_json_as_evidence_list_resealed(s: Sample) -> bytes:
    def change(files: dict[str, bytes]) -> None:
        files[EVIDENCE] = b'{"captures": ' + deep_json(5_000) + b"}"

    return stored(reseal_bag(s.sealed, change), EVIDENCE)


@case("bundle", "exactly one folder")
def two_top_folders(s: Sample) -> bytes:
    entries = entries_of(s.sealed)
    return zip_of([(clone(i), d) for i, d in entries] + [("other-bag/bagit.txt", b"x")])


@case("bundle", "lies outside the bundle folder")
def file_at_zip_root(s: Sample) -> bytes:
    entries = entries_of(s.sealed)
    return zip_of([(clone(i), d) for i, d in entries] + [("autorun.inf", b"x")])


@case("bundle", "20,000 entries")
def twenty_thousand_entries_declared(_: Sample) -> bytes:
    return declare_entries(zip_of([("b/data/x", b"1")]), 20_000)


@case("bundle", "20,000 entries")
def twenty_thousand_entries_real(_: Sample) -> bytes:
    return zip_of([(f"b/data/{n}", b"") for n in range(20_000)], zipfile.ZIP_STORED)


@case("bundle", "table of contents")
def huge_table_of_contents_declared(_: Sample) -> bytes:
    raw = bytearray(zip_of([("b/data/x", b"1")]))
    at = raw.rfind(b"PK\x05\x06")
    struct.pack_into("<I", raw, at + 12, 0x7FFFFFFF)
    return bytes(raw)


# --- signatures and secrets -------------------------------------------------------------


@case("bundle", "tagmanifest-sha256.txt.sig is not a valid signature")
def wrong_signature(s: Sample) -> bytes:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from evidence_recorder.core.bundle import sshsig
    from evidence_recorder.core.bundle.layout import NAMESPACE

    def change(files: dict[str, bytes]) -> None:
        other = Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"other").digest())
        files["tagmanifest-sha256.txt.sig"] = sshsig.sign(
            other, files["tagmanifest-sha256.txt"], NAMESPACE).encode()

    return edit_bag(s.sealed, change)


@case("bundle", "tagmanifest-sha256.txt.sig is missing")
def missing_signature(s: Sample) -> bytes:
    return edit_bag(s.sealed, lambda files: files.pop("tagmanifest-sha256.txt.sig"))


@case("bundle", "allowed_signers is missing")
def missing_allowed_signers(s: Sample) -> bytes:
    return edit_bag(s.sealed, lambda files: files.pop("allowed_signers"))


@case("bundle", "passphrase does not open", error="WrongSecret",
      passphrase="not the passphrase")
def encrypted_wrong_passphrase(s: Sample) -> bytes:
    return s.encrypted


@case("bundle", "This bundle is encrypted", error="BundleLocked")
def encrypted_no_passphrase(s: Sample) -> bytes:
    return s.encrypted


# --- imports ---------------------------------------------------------------------------


@case("import", "megapixels", suffix=".png")
def import_png_200_megapixels(_: Sample) -> bytes:
    return hf.png_declaring(20_000, 10_000)


@case("import", "megapixels", bomb=True, suffix=".png")
def import_png_bomb_complete(_: Sample) -> bytes:
    return hf.png_bomb()


@case("import", "damaged or incomplete", suffix=".png")
def import_png_huge_text_chunk(_: Sample) -> bytes:
    return hf.png_with_text_bomb()


@case("import", "damaged or incomplete", bomb=True, suffix=".png")
def import_png_many_text_chunks(_: Sample) -> bytes:
    return hf.png_with_many_text_chunks()


@case("import", "damaged or incomplete", suffix=".png")
def import_truncated_png(_: Sample) -> bytes:
    return hf.truncated(hf.png(640, 480))


@case("import", "damaged or incomplete", suffix=".jpg")
def import_truncated_jpeg(_: Sample) -> bytes:
    return hf.truncated(hf.jpeg(640, 480), 0.3)


@case("import", "damaged or incomplete", suffix=".png")
def import_png_lying_chunk_length(_: Sample) -> bytes:
    return hf.png_with_lying_chunk_length()


@case("import", "megapixels", suffix=".jpg")
def import_jpeg_declaring_200_megapixels(_: Sample) -> bytes:
    return hf.jpeg_declaring(20_000, 10_000)


@case("import", "megapixels", suffix=".gif")
def import_gif_huge_screen(_: Sample) -> bytes:
    return hf.gif_huge_screen()


@case("import", "", suffix=".png")
def import_bundle_renamed_png(s: Sample) -> bytes:
    return s.sealed


@case("import", "", suffix=".png", accepted=True)
def import_polyglot_png_with_zip(_: Sample) -> bytes:
    """Accepted verbatim by design (the file is a real picture), but the bytes after
    the picture are reported so the user can be told."""
    return hf.polyglot_png_zip()


@case("import", "", suffix=".png", accepted=True, extra={"trailing": False})
def import_png_that_is_a_zip(s: Sample) -> bytes:
    """A real PNG whose private chunk holds a whole sealed bundle: a picture first.
    Nothing follows IEND, so nothing is reported; the bytes are kept verbatim."""
    return png_wrapping_zip(s.sealed)


@case("import", "empty", suffix=".png")
def import_empty_file(_: Sample) -> bytes:
    return b""


# ============================================================================ judging


def judge(target: str, path: Path, passphrase: str | None = None) -> dict[str, Any]:
    """Run one case; a plain dict of what happened (``raised`` names any exception)."""
    from evidence_recorder.core.bundle.check import verify_bundle
    from evidence_recorder.core.bundle.opened import open_bundle
    from evidence_recorder.core.errors import EvidenceError
    from evidence_recorder.core.gather import images

    result: dict[str, Any] = {"problems": [], "raised": None, "message": "",
                              "evidence_error": False, "accepted": False}
    start = time.monotonic()
    try:
        if target == "bundle":
            report = verify_bundle(path, passphrase)
            result["problems"] = list(report.problems)
            result["ok"] = report.ok
            opened = open_bundle(path, passphrase)
            try:
                result["open_ok"] = opened.report.ok
                result["open_problems"] = list(opened.report.problems)
            finally:
                opened.close()
        else:
            data, _source = images.read_import_file(path)
            info = images.inspect_image(data, path.name)
            result["accepted"] = True
            result["bytes_after_image"] = info.bytes_after_image
    except EvidenceError as exc:
        result.update(raised=type(exc).__name__, message=exc.message, evidence_error=True)
    except BaseException as exc:  # a bug: reported, not hidden
        result.update(raised=type(exc).__name__, message=str(exc))
    result["seconds"] = time.monotonic() - start
    return result


def _child() -> None:
    """``python hostile_bundles.py TARGET PATH [PASSPHRASE]`` under a 1 GiB limit."""
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (GIB, GIB))
    target, path = sys.argv[1], Path(sys.argv[2])
    passphrase = sys.argv[3] if len(sys.argv) > 3 else None
    print(json.dumps(judge(target, path, passphrase)))


if __name__ == "__main__":
    _child()
