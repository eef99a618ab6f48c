"""Checking a received bundle: its ZIP structure and limits, both manifests, the seal,
the timestamp and the audit excerpt, ending in one verdict (:class:`BundleReport`).

A received bundle is hostile input: :func:`verify_bundle` reads the ZIP in place,
without extracting, and refuses anything that could escape a folder, alias another
name, or exhaust memory or disk before looking at a single hash. Every failure is a
sentence in the report; the verdict is never stronger than what was checked: ``ok``
says the seal holds, and that ``data/evidence.json`` is readable JSON of a known
schema. Whether its contents are well formed is for the typed reader (evidence.py).

A little over 600 lines: one check of one format, read top to bottom in the order the
checks run; split, each part would need the others' private helpers.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shlex
import stat
import struct
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Final
from urllib.parse import unquote

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from evidence_recorder.core.bundle import sshsig
from evidence_recorder.core.bundle.evidence import JsonDamaged, load_bundle_json, schema_problem
from evidence_recorder.core.bundle.layout import (
    ALLOWED_SIGNERS,
    BAG_INFO,
    BAGIT_TXT,
    EVIDENCE_JSON,
    MANIFEST,
    MAX_DIRECTORY_BYTES,
    MAX_ENTRIES,
    MAX_ENTRY_BYTES,
    MAX_RATIO,
    MAX_TAG_FILE_BYTES,
    NAMESPACE,
    SIGNATURE,
    SIGNED_TAG_FILES,
    TAGMANIFEST,
    TIMESTAMP,
)
from evidence_recorder.core.bundle.sealnumber import seal_number
from evidence_recorder.core.errors import EvidenceError, RefusedInput, WrongSecret
from evidence_recorder.core.gather import image_formats, images
from evidence_recorder.core.model import iso_utc
from evidence_recorder.core.vault import audit
from evidence_recorder.core.vault.store import Vault

_CHUNK: Final = 1024 * 1024
_MANIFEST_LINE: Final = re.compile(r"([0-9a-fA-F]{64})[ \t]+(\S.*)")


@dataclass(slots=True)
class BundleReport:
    """What :func:`verify_bundle` found: ``ok`` only when nothing was wrong.

    ``fingerprint`` is the SSH fingerprint of the key whose signature verified, for
    the reader to compare with the one they were given; ``None`` if none verified.
    ``seal_number`` is the same key as twelve groups of five digits (see
    :mod:`~evidence_recorder.core.bundle.sealnumber`), easier to read out by phone.
    """

    problems: list[str] = field(default_factory=list)
    fingerprint: str | None = None
    seal_number: str | None = None
    identity: str | None = None
    files_checked: int = 0
    # "2026-11-25T12:00:03Z from CN=Example TSA" when the bundle holds a timestamp whose
    # signature checked and that names this seal. It says nothing of trust: see below.
    timestamp: str | None = None
    encrypted: bool = False
    # The timestamp's full verdict (a timestamp.TimestampCheck): only its ``trusted``
    # allows the word "trusted"; otherwise the authority is unknown or not trusted.
    timestamp_check: Any = None

    # The SHA-256 of the tag manifest whose signature verified: it pins every sealed
    # byte, so two reports with the same one were made from the same sealed contents.
    sealed_sha256: str | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def timestamp_trusted(self) -> bool:
        return self.timestamp_check is not None and bool(self.timestamp_check.trusted)

    @property
    def timestamp_state(self) -> str | None:
        """``"trusted"``, ``"unknown-authority"`` or ``"not-trusted"``; None without one."""
        return None if self.timestamp_check is None else str(self.timestamp_check.state.value)

    @property
    def timestamp_reason(self) -> str:
        return "" if self.timestamp_check is None else str(self.timestamp_check.reason)

    def as_dict(self) -> dict[str, Any]:
        check = self.timestamp_check.as_dict() if self.timestamp_check is not None else None
        return {"ok": self.ok, "problems": self.problems, "fingerprint": self.fingerprint,
                "seal_number": self.seal_number,
                "identity": self.identity, "files_checked": self.files_checked,
                "timestamp": self.timestamp, "timestamp_check": check,
                "encrypted": self.encrypted}


# ============================================================================ export



class _Unreadable(Exception):
    """The ZIP could not be read where it should have been; the message says where."""


def _entry_problem(info: zipfile.ZipInfo, encrypted_ok: bool = False) -> str | None:
    """Why this entry alone is refused, or None. Names are shown with repr() so that
    control characters cannot forge a message."""
    name = info.filename
    shown = repr(info.orig_filename)
    if info.orig_filename != name or any(ord(ch) < 32 or ord(ch) == 127 for ch in name):
        return f"The entry {shown} has control characters in its name."
    if "\\" in name:
        return f"The entry {shown} uses backslashes, which Windows reads as folders."
    if name.startswith("/") or re.match(r"[A-Za-z]:", name):
        return f"The entry {shown} has an absolute path."
    parts = name[:-1].split("/") if name.endswith("/") else name.split("/")
    if ".." in parts:
        return f"The entry {shown} points outside the bundle folder ('..')."
    if any(part in ("", ".") for part in parts):
        return f"The entry {shown} has an empty or '.' path component."
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        return f"The entry {shown} is a symbolic link."
    if stat.S_IFMT(mode) not in (0, stat.S_IFREG, stat.S_IFDIR):
        return f"The entry {shown} is not an ordinary file."
    if info.flag_bits & 0x1 and not encrypted_ok:
        return f"The entry {shown} is encrypted."
    if info.file_size > MAX_ENTRY_BYTES:
        return (f"The entry {shown} would unpack to {info.file_size:,} bytes, more than "
                f"the {MAX_ENTRY_BYTES // (1024 * 1024)} MB allowed for one file.")
    if info.file_size > MAX_RATIO * max(info.compress_size, 1):
        return (f"The entry {shown} is compressed more than {MAX_RATIO}:1, "
                "as in a ZIP bomb.")
    return None


def _structure_problems(infos: list[zipfile.ZipInfo],
                        encrypted_ok: bool = False) -> tuple[list[str], str | None]:
    """Problems with the ZIP's layout, and its one top folder if it has exactly one."""
    if len(infos) > MAX_ENTRIES:
        return [f"The bundle has {len(infos):,} entries; at most {MAX_ENTRIES:,} "
                "are allowed."], None
    if not infos:
        return ["The bundle is an empty ZIP file."], None
    problems: list[str] = []
    seen: dict[str, str] = {}
    folded: dict[str, str] = {}
    tops: set[str] = set()
    folders: list[str] = []
    for info in infos:
        if problem := _entry_problem(info, encrypted_ok):
            problems.append(problem)
            continue
        name = info.filename
        if name.endswith("/"):
            folders.append(name)
        if name in seen:
            problems.append(f"The entry {name!r} appears more than once.")
            continue
        seen[name] = name
        key = unicodedata.normalize("NFC", name.rstrip("/")).casefold()
        if key in folded:
            problems.append(f"The entries {folded[key]!r} and {name!r} differ only in "
                            "letter case or accents, so they would overwrite each other.")
            continue
        folded[key] = name
        top, _, rest = name.partition("/")
        if not rest and not name.endswith("/"):
            problems.append(f"The file {name!r} lies outside the bundle folder.")
        tops.add(top)
    if len(tops) > 1:
        problems.append("The bundle should hold exactly one folder but holds "
                        f"{len(tops)}: {', '.join(sorted(repr(t) for t in tops))}.")
    bag_folder = tops.pop() if len(tops) == 1 and not problems else None
    # Folder entries are harmless when files lie under them (zip tools add them), but
    # ours never hold an empty one, and the seal covers files only: an empty folder was
    # added after sealing. The rest is still checked, so the reader sees everything.
    holding = {name[:at + 1] for name in seen for at, ch in enumerate(name)
               if ch == "/" and at + 1 < len(name)}
    problems.extend(f"The bundle holds an empty folder {name!r} that was added after it "
                    "was sealed (the seal covers files only)."
                    for name in folders if name not in holding)
    return problems, bag_folder


_EOCD: Final = b"PK\x05\x06"
_EOCD64_LOCATOR: Final = b"PK\x06\x07"
_EOCD64: Final = b"PK\x06\x06"


def _directory_problem(fh: BinaryIO) -> str | None:
    """Refuse a central directory too big to parse safely, reading only its end record.

    Finds the end record the way zipfile does (at the very end, else the last one in
    the final 64 KiB); anything malformed is left for zipfile to report.
    """
    size = fh.seek(0, os.SEEK_END)
    tail_len = min(size, 22 + 0xFFFF + 20)
    fh.seek(size - tail_len)
    tail = fh.read(tail_len)
    at = (len(tail) - 22 if tail[-22:-18] == _EOCD and tail[-2:] == b"\0\0"
          else tail.rfind(_EOCD))
    if at < 0 or len(tail) - at < 22:
        return None
    entries, directory_bytes = struct.unpack("<HI", tail[at + 10:at + 16])
    if entries == 0xFFFF or directory_bytes == 0xFFFFFFFF:  # ZIP64: the real values
        locator = tail[at - 20:at] if at >= 20 else b""
        if locator[:4] == _EOCD64_LOCATOR:
            fh.seek(struct.unpack("<Q", locator[8:16])[0])
            record = fh.read(56)
            if len(record) == 56 and record[:4] == _EOCD64:
                entries, directory_bytes = struct.unpack("<QQ", record[32:48])
    if entries > MAX_ENTRIES:
        return f"The bundle has {entries:,} entries; at most {MAX_ENTRIES:,} are allowed."
    if directory_bytes > MAX_DIRECTORY_BYTES:
        return (f"The bundle's table of contents is {directory_bytes:,} bytes, too large "
                f"for {MAX_ENTRIES:,} entries at most.")
    return None


def _read_all(zf: zipfile.ZipFile, info: zipfile.ZipInfo, label: str) -> bytes:
    if info.file_size > MAX_TAG_FILE_BYTES:
        raise _Unreadable(f"{label} is too large ({info.file_size:,} bytes) to be a tag file.")
    try:
        with zf.open(info) as fh:
            return fh.read(MAX_TAG_FILE_BYTES + 1)[:MAX_TAG_FILE_BYTES]
    except Exception as exc:  # zipfile raises many kinds on hostile input
        raise _Unreadable(f"{label} could not be read from the ZIP ({_why(exc)}).") from exc


def _sha256_of(zf: zipfile.ZipFile, info: zipfile.ZipInfo, label: str) -> tuple[str, int]:
    """Hash an entry in chunks, never holding it whole; the CRC is checked at the end."""
    digest = hashlib.sha256()
    size = 0
    try:
        with zf.open(info) as fh:
            while chunk := fh.read(_CHUNK):
                size += len(chunk)
                digest.update(chunk)
    except Exception as exc:  # zipfile raises many kinds on hostile input
        raise _Unreadable(f"{label} could not be read from the ZIP ({_why(exc)}).") from exc
    return digest.hexdigest(), size


def _why(exc: BaseException) -> str:
    text = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
    return text or type(exc).__name__


def _parse_manifest(text: bytes, label: str, problems: list[str]) -> dict[str, str]:
    listed: dict[str, str] = {}
    try:
        lines = text.decode("utf-8").splitlines()
    except UnicodeDecodeError:
        problems.append(f"{label} is not UTF-8 text.")
        return listed
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        match = _MANIFEST_LINE.fullmatch(line)
        if match is None:
            problems.append(f"{label} line {number} is not '<SHA-256> <path>'.")
            continue
        path = unquote(match.group(2).rstrip(" \t")).removeprefix("./")
        if path in listed:
            problems.append(f"{label} lists {path!r} more than once.")
            continue
        listed[path] = match.group(1).lower()
    return listed


def _parse_allowed_signers(text: bytes, problems: list[str]) -> tuple[str, Ed25519PublicKey] | None:
    signers: list[tuple[str, Ed25519PublicKey]] = []
    try:
        lines = text.decode("utf-8").splitlines()
    except UnicodeDecodeError:
        problems.append(f"{ALLOWED_SIGNERS} is not UTF-8 text.")
        return None
    for number, line in enumerate(lines, start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            words = shlex.split(line)
            where = words.index(sshsig.KEY_TYPE)
            key = sshsig.parse_public_key(" ".join(words[where:where + 2]))
        except ValueError:
            problems.append(f"{ALLOWED_SIGNERS} line {number} is not an ssh-ed25519 signer.")
            continue
        options = [w.partition("=") for w in words[1:where]]
        spaces = [v for k, _, v in options if k.lower() == "namespaces"]
        if spaces and NAMESPACE not in spaces[0].split(","):
            problems.append(f"{ALLOWED_SIGNERS} line {number} does not allow the "
                            f"{NAMESPACE!r} namespace.")
            continue
        signers.append((words[0], key))
    if len(signers) != 1:
        problems.append(f"{ALLOWED_SIGNERS} should name exactly one signer but names "
                        f"{len(signers)}.")
        return None
    return signers[0]


def _bag_info_oxum(text: bytes) -> str | None:
    for line in text.decode("utf-8", errors="replace").splitlines():
        label, _, value = line.partition(":")
        if label.strip().lower() == "payload-oxum":
            return value.strip()
    return None


def _check_bag(zf: zipfile.ZipFile, files: dict[str, zipfile.ZipInfo],
               report: BundleReport) -> None:
    problems = report.problems
    missing = [required for required in (BAGIT_TXT, BAG_INFO, MANIFEST, TAGMANIFEST,
                                         ALLOWED_SIGNERS, SIGNATURE) if required not in files]
    problems.extend(f"{required} is missing from the bundle." for required in missing)
    if missing:  # problems found before (an empty folder, say) do not stop the check
        return

    bagit_txt = _read_all(zf, files[BAGIT_TXT], BAGIT_TXT).decode("utf-8", errors="replace")
    if not re.search(r"^BagIt-Version:\s*\d+\.\d+\s*$", bagit_txt, re.MULTILINE):
        problems.append(f"{BAGIT_TXT} does not declare a BagIt version.")

    # Tag files first: if the signature fails, nothing below it can be trusted.
    tagmanifest = _read_all(zf, files[TAGMANIFEST], TAGMANIFEST)
    signature = _read_all(zf, files[SIGNATURE], SIGNATURE).decode("utf-8", errors="replace")
    signer = _parse_allowed_signers(_read_all(zf, files[ALLOWED_SIGNERS], ALLOWED_SIGNERS),
                                    problems)
    if signer is not None:
        identity, key = signer
        if sshsig.verify(signature, tagmanifest, NAMESPACE, key):
            report.fingerprint = sshsig.fingerprint(key)
            report.seal_number = seal_number(key)
            report.identity = identity
            report.sealed_sha256 = hashlib.sha256(tagmanifest).hexdigest()
            report.files_checked += 1  # the tag manifest, checked by the signature
        else:
            problems.append(f"{SIGNATURE} is not a valid signature of {TAGMANIFEST} by the "
                            f"key in {ALLOWED_SIGNERS}.")

    tag_listed = _parse_manifest(tagmanifest, TAGMANIFEST, problems)
    for name in SIGNED_TAG_FILES:
        if name not in tag_listed:
            problems.append(f"{TAGMANIFEST} does not list {name}, so the signature "
                            "does not cover it.")
    for path, expected in sorted(tag_listed.items()):
        if path not in files:
            problems.append(f"{path} is listed in {TAGMANIFEST} but missing from the bundle.")
        elif _sha256_of(zf, files[path], path)[0] != expected:
            problems.append(f"{path} has been changed since the bundle was sealed "
                            f"(its SHA-256 does not match {TAGMANIFEST}).")
        report.files_checked += 1
    for path in sorted(files):
        if not path.startswith("data/") and path not in tag_listed \
                and path not in (TAGMANIFEST, SIGNATURE, TIMESTAMP):
            problems.append(f"{path} was added to the bundle: it is not listed in "
                            f"{TAGMANIFEST}, so the signature does not cover it.")

    listed = _parse_manifest(_read_all(zf, files[MANIFEST], MANIFEST), MANIFEST, problems)
    for path in sorted(p for p in listed if not p.startswith("data/")):
        problems.append(f"{MANIFEST} lists {path!r}, which is outside the data folder.")
    payload = sorted(p for p in files if p.startswith("data/"))
    total = 0
    for path in payload:
        if path.startswith("data/captures/") and _too_big_a_picture(zf, files[path], path):
            problems.append(f"{path} declares a picture larger than "
                            f"{images.MAX_PIXELS // 1_000_000} megapixels; it was not opened.")
        digest, size = _sha256_of(zf, files[path], path)
        total += size
        report.files_checked += 1
        if path not in listed:
            problems.append(f"{path} was added to the bundle: it is not listed in {MANIFEST}.")
        elif digest != listed[path]:
            problems.append(f"{path} has been changed since the bundle was sealed "
                            f"(its SHA-256 does not match {MANIFEST}).")
    for path in sorted(p for p in listed if p.startswith("data/") and p not in files):
        problems.append(f"{path} is listed in {MANIFEST} but missing from the bundle.")
    oxum = _bag_info_oxum(_read_all(zf, files[BAG_INFO], BAG_INFO))
    if oxum is not None and oxum != f"{total}.{len(payload)}":
        problems.append(f"{BAG_INFO} gives the Payload-Oxum (bytes.files) as {oxum}, but the "
                        f"data folder holds {total}.{len(payload)}.")
    if TIMESTAMP in files:
        _check_timestamp(_read_all(zf, files[TIMESTAMP], TIMESTAMP), signature.encode(), report)
    if "data/audit.jsonl" in files:
        _check_audit(_read_all(zf, files["data/audit.jsonl"], "data/audit.jsonl"), problems)


def _too_big_a_picture(zf: zipfile.ZipFile, info: zipfile.ZipInfo, label: str) -> bool:
    """A picture bomb is refused from its header, before anything decodes it."""
    try:
        with zf.open(info) as fh:
            head = fh.read(image_formats.HEADER_BYTES)
    except Exception as exc:  # zipfile raises many kinds on hostile input
        raise _Unreadable(f"{label} could not be read from the ZIP ({_why(exc)}).") from exc
    return images.too_many_pixels(image_formats.declared_size(head))


def _check_timestamp(tsr: bytes, signature: bytes, report: BundleReport) -> None:
    """The .tsr is outside the seal, but its imprint binds it to the seal's bytes.

    So a token swapped in from another bundle fails here (a problem), and one added
    later for this seal can only claim a time after the seal existed. Whether the
    time is *trusted* depends on the authority's root (core/bundle/trust.py).
    """
    from evidence_recorder.core.bundle import timestamp, trust

    try:
        check = timestamp.check_timestamp(tsr, signature, roots=trust.trusted_roots())
    except EvidenceError as exc:
        report.problems.append(f"{TIMESTAMP}: {exc.message}")
        return
    report.timestamp = f"{iso_utc(check.time)} from {check.tsa}"
    report.timestamp_check = check




def _check_audit(text: bytes, problems: list[str]) -> None:
    """The exported log entries: each one's hash, in order, ending with this export."""
    label = "data/audit.jsonl"
    previous_seq = 0
    last_action = ""
    for number, line in enumerate(text.decode("utf-8", errors="replace").splitlines(), 1):
        if not line.strip():
            continue
        try:
            entry = load_bundle_json(line, f"{label} line {number}")
        except JsonDamaged as exc:
            problems.append(str(exc))
            return
        try:
            seq, digest = int(entry["seq"]), str(entry["hash"])
            recomputed = audit.entry_hash(seq, entry["at"], entry["action"], entry["subject"],
                                          entry["details"], entry["prev_hash"])
        except (ValueError, KeyError, TypeError):
            problems.append(f"{label} line {number} is not an audit entry.")
            return
        if recomputed != digest:
            problems.append(f"{label}: entry {seq} was changed after it was written.")
            return
        if seq <= previous_seq:
            problems.append(f"{label}: entry {seq} is out of order.")
            return
        previous_seq, last_action = seq, str(entry["action"])
    if last_action != "export":
        problems.append(f"{label} does not end with the export that made this bundle.")


Source = Path | BinaryIO


def _open_zip(source: Source, passphrase: str | None, report: BundleReport,
              name: str) -> zipfile.ZipFile | None:
    try:
        if isinstance(source, Path):
            with source.open("rb") as fh:
                problem = _directory_problem(fh)
        else:
            problem = _directory_problem(source)
        if problem:
            report.problems.append(problem)
            return None
        import pyzipper

        zf: zipfile.ZipFile = pyzipper.AESZipFile(source)
    except FileNotFoundError:
        report.problems.append(f"{name} does not exist.")
        return None
    except Exception as exc:  # zipfile raises many kinds on hostile input
        report.problems.append(f"{name} is not a readable ZIP file ({_why(exc)}).")
        return None
    flagged = [info.flag_bits & 0x1 for info in zf.infolist() if not info.is_dir()]
    if any(flagged) and not all(flagged):
        # An export locks every file or none: a mix is damage (one flipped bit can set
        # the flag), not a reason to ask for a passphrase.
        zf.close()
        report.problems.append(f"{name} is damaged: some of its files are marked as "
                               "locked with a passphrase and others are not.")
        return None
    report.encrypted = any(flagged)
    if report.encrypted:
        if not passphrase:
            zf.close()
            raise BundleLocked("This bundle is encrypted. Type the passphrase the sender "
                               "gave you (they should have sent it separately).")
        zf.setpassword(passphrase.encode("utf-8"))
        first = next((i for i in zf.infolist() if not i.is_dir()), None)
        # Damage other than a wrong passphrase shows up in the checks that follow
        # (pyzipper raises its own BadZipFile, not zipfile's).
        with contextlib.suppress(zipfile.BadZipFile, pyzipper.zipfile.BadZipFile, OSError,
                                 EOFError, ValueError, NotImplementedError):
            try:
                if first is not None:
                    with zf.open(first) as fh:
                        fh.read(1)
            except RuntimeError as exc:
                zf.close()
                raise WrongSecret("That passphrase does not open this bundle.") from exc
    return zf


def _bag_files(zf: zipfile.ZipFile, report: BundleReport,
               name: str) -> tuple[str, dict[str, zipfile.ZipInfo]] | None:
    infos = zf.infolist()
    problems, top = _structure_problems(infos, encrypted_ok=report.encrypted)
    first = min((info.header_offset for info in infos), default=0)
    if first > 0:
        # zipfile reads past bytes put in front of an archive; the seal covers none
        # of them, so a file that is also something else is not a sound bundle.
        problems.append(f"{name} has {first:,} bytes before its ZIP contents, which the "
                        "seal does not cover.")
    report.problems.extend(problems)
    if top is None:
        if not report.problems:
            report.problems.append(f"{name} does not hold a bundle folder.")
        return None
    return top, {info.filename[len(top) + 1:]: info for info in infos
                 if not info.is_dir() and info.filename.startswith(f"{top}/")}


def _sealed_folder_name(bag_info: bytes) -> str | None:
    """The folder name the exporter wrote into bag-info.txt (which the seal covers)."""
    for line in bag_info.decode("utf-8", errors="replace").splitlines():
        label, _, value = line.partition(":")
        if label.strip().lower() == "external-identifier":
            return value.strip()
    return None


def _read_evidence(zf: zipfile.ZipFile, files: dict[str, zipfile.ZipInfo]
                   ) -> tuple[dict[str, Any], str | None]:
    """``data/evidence.json`` as an object, and the sentence saying why not if it is not."""
    label = EVIDENCE_JSON
    if label not in files:
        return {}, None
    try:
        loaded = load_bundle_json(_read_all(zf, files[label], label), label)
    except JsonDamaged as exc:
        return {}, str(exc)
    if not isinstance(loaded, dict):
        return {}, f"{label} is damaged (it does not describe what the bundle holds)."
    return loaded, None


def _check_contents(zf: zipfile.ZipFile, top: str, files: dict[str, zipfile.ZipInfo],
                    report: BundleReport) -> None:
    """What the hashes alone do not catch: a renamed bag folder, an unreadable list, a
    list in a format newer than this program reads.

    Bundles from before the folder name was recorded say nothing about it (every
    bundle this program has made records it, in bag-info.txt's External-Identifier).
    """
    if BAG_INFO in files:
        sealed = _sealed_folder_name(_read_all(zf, files[BAG_INFO], BAG_INFO))
        if sealed and sealed != top:
            report.problems.append(
                f"The bundle's folder is called {top!r}, but it was sealed as {sealed!r}: "
                "it has been renamed or packed again since it was sealed.")
    evidence, problem = _read_evidence(zf, files)
    if problem is None:
        problem = schema_problem(evidence)
    if problem is not None:
        report.problems.append(problem)


def verify_bundle(source: Source, passphrase: str | None = None) -> BundleReport:
    """Check a bundle in place, without extracting it. Every failure is a sentence in
    ``problems``; it raises only :class:`BundleLocked` / :class:`WrongSecret` for an
    encrypted bundle without the right passphrase (and on bugs)."""
    name = source.name if isinstance(source, Path) else "The bundle"
    report = BundleReport()
    zf = _open_zip(source, passphrase, report, name)
    if zf is None:
        return report
    with zf:
        found = _bag_files(zf, report, name)
        if found is not None:
            try:
                _check_bag(zf, found[1], report)
                _check_contents(zf, found[0], found[1], report)
            except _Unreadable as exc:
                report.problems.append(str(exc))
    return report


def keep_received_bundle(vault: Vault, path: Path, shown: dict[str, Any],
                         passphrase: str | None = None) -> int:
    """Keep the bundle at ``path`` in ``vault``, checked again from the copy kept.

    The file is read once, into the vault; the copy is verified, and kept only if its
    verdict is the one the reader was shown (``shown``: ``ok``, ``fingerprint``,
    ``sealed_sha256`` and ``problems``, as :meth:`BundleViewer.report_summary` gives
    them). A file swapped or changed on disk after it was checked is therefore refused,
    never kept under the verdict of the file that was checked.
    """
    name = Path(path).name

    def check(copy: BinaryIO) -> dict[str, Any]:
        report = verify_bundle(copy, passphrase)
        if (report.ok != bool(shown.get("ok"))
                or report.fingerprint != shown.get("fingerprint")
                or report.sealed_sha256 != shown.get("sealed_sha256")
                or len(report.problems) != len(shown.get("problems") or [])):
            raise RefusedInput(f"{name} has changed on the disk since it was checked, so it "
                               "was not saved. Open it again, look at what it shows now, "
                               "and save it from there if it is still intact.")
        return {**report.as_dict(), "sealed_sha256": report.sealed_sha256}

    return vault.add_received_bundle(path, check)


class BundleLocked(WrongSecret):
    """An encrypted bundle, opened without a passphrase."""
