"""The sealed report bundle: a signed BagIt 1.0 bag inside a ZIP, and checking one.

Owns :func:`export_bundle` and :func:`verify_bundle`. The bundle is meant for people
who do not have this program (police, a lawyer, a platform's trust and safety team),
so every check can be repeated with stock tools from inside the bag folder:
``sha256sum -c manifest-sha256.txt``, ``sha256sum -c tagmanifest-sha256.txt``, any
BagIt validator, and ``ssh-keygen -Y verify -f allowed_signers -I <identity>
-n evidence-recorder-bundle -s tagmanifest-sha256.txt.sig < tagmanifest-sha256.txt``.

The signature covers the tag manifest, which covers the payload manifest, which
covers every payload file. The signing key travels in the bundle (``allowed_signers``),
so a valid signature proves the bundle is unchanged since *someone* sealed it; that it
was this vault's key is shown by the fingerprint, which the recipient compares with
one obtained separately (the app shows it, and it is in the audit log).

A received bundle is hostile input: :func:`verify_bundle` reads the ZIP in place,
without extracting, and refuses anything that could escape a folder, alias another
name, or exhaust memory or disk before looking at a single hash.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import hashlib
import json
import os
import queue
import re
import shlex
import stat
import struct
import threading
import unicodedata
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO, Final
from urllib.parse import unquote

from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from evidence_recorder import APP_NAME, __version__
from evidence_recorder.core import fsutil
from evidence_recorder.core import marks as marks_module
from evidence_recorder.core.bundle import sshsig
from evidence_recorder.core.bundle.report_data import ReportCapture, ReportData
from evidence_recorder.core.bundle.sealnumber import seal_number
from evidence_recorder.core.bundle.texts import (
    VERIFY_CMD_BYTES,
    VERIFY_SH_BYTES,
    verify_readme,
)
from evidence_recorder.core.errors import EvidenceError, RefusedInput, VaultDamaged, WrongSecret
from evidence_recorder.core.gather import device, images
from evidence_recorder.core.model import Capture, Incident, iso_utc, utc_now
from evidence_recorder.core.vault import audit
from evidence_recorder.core.vault.store import RecordedHashes, Vault

NAMESPACE: Final = "evidence-recorder-bundle"
SCHEMA_VERSION: Final = 1
BAGIT_VERSION: Final = "1.0"

BAGIT_TXT: Final = "bagit.txt"
BAG_INFO: Final = "bag-info.txt"
MANIFEST: Final = "manifest-sha256.txt"
TAGMANIFEST: Final = "tagmanifest-sha256.txt"
ALLOWED_SIGNERS: Final = "allowed_signers"
SIGNATURE: Final = "tagmanifest-sha256.txt.sig"
TIMESTAMP: Final = "tagmanifest-sha256.txt.sig.tsr"
REPORT_PDF: Final = "report.pdf"
REPORT_HTML: Final = "report.html"
README_VERIFY: Final = "README-VERIFY.txt"
VERIFY_SH: Final = "verify.sh"
VERIFY_CMD: Final = "verify.cmd"
SIGNED_TAG_FILES: Final = (BAGIT_TXT, BAG_INFO, MANIFEST, ALLOWED_SIGNERS)

# Limits on a received bundle. Ours stay far below them: originals are capped at
# import, and they are stored uncompressed, so no entry of ours compresses 200:1.
MAX_ENTRIES: Final = 10_000
MAX_ENTRY_BYTES: Final = 200 * 1024 * 1024
MAX_RATIO: Final = 200
MAX_TAG_FILE_BYTES: Final = 16 * 1024 * 1024  # manifests for 10,000 files are ~1 MB
# zipfile reads the whole central directory into memory and makes an object per
# entry before we can count them, so its declared size and count are checked first.
# Ours take about 110 bytes an entry: 10,000 entries need about 1.1 MB.
MAX_DIRECTORY_BYTES: Final = 4 * 1024 * 1024

_CHUNK: Final = 1024 * 1024
# Bytes of JPEG that the report's pictures may take between them (the PDF is made in
# memory): this bounds an export's memory however many captures it holds.
REPORT_PICTURES_BUDGET: Final = 64 * 1024 * 1024
_FILE_MODE: Final = (stat.S_IFREG | 0o644) << 16
_UNIX: Final = 3  # ZipInfo.create_system: the external attributes hold a Unix mode
_MANIFEST_LINE: Final = re.compile(r"([0-9a-fA-F]{64})[ \t]+(\S.*)")
_EXTENSIONS: Final = {
    "image/png": "png", "image/jpeg": "jpg", "image/gif": "gif", "image/webp": "webp",
    "image/bmp": "bmp", "image/heic": "heic", "image/heif": "heif",
}


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


def signing_identity(vault: Vault) -> str:
    """The principal named in ``allowed_signers``: one per vault, no spaces or wildcards."""
    return f"evidence-recorder-vault-{vault.vault_id}"


def _signing_key(vault: Vault) -> Ed25519PrivateKey:
    stored = vault._meta("signing_key")  # the accessor the lead agreed for this key
    try:
        return Ed25519PrivateKey.from_private_bytes(bytes.fromhex(stored or ""))
    except ValueError as exc:
        raise VaultDamaged("This vault's signing key is missing or damaged, so a bundle "
                           "cannot be sealed. Run a vault check.") from exc


def signing_fingerprint(vault: Vault) -> str:
    """The fingerprint a recipient should compare against ``verify_bundle``'s."""
    return sshsig.fingerprint(_signing_key(vault))


def signing_seal_number(vault: Vault) -> str:
    """The seal number (twelve groups of five digits) a recipient compares by phone."""
    return seal_number(_signing_key(vault))


class _BagWriter:
    """Writes files into the ZIP under the bag folder, remembering their hashes."""

    def __init__(self, zf: zipfile.ZipFile, folder: str, when: datetime) -> None:
        self._zf = zf
        self._folder = folder
        # The ZIP format has no time zone; the bag's times are UTC, so these are too.
        self._date_time = (when.year, when.month, when.day, when.hour, when.minute,
                           when.second)
        self.hashes: dict[str, str] = {}
        self.payload_bytes = 0
        self.payload_files = 0

    def add(self, path: str, data: bytes | bytearray, *, compress: bool = True,
            sha256: str | None = None) -> None:
        """Write one file; ``sha256`` may be given when the caller has just computed it."""
        self._zf.writestr(self._info(path, compress), data)
        self._record(path, sha256 or hashlib.sha256(data).hexdigest(), len(data))

    def _info(self, path: str, compress: bool) -> zipfile.ZipInfo:
        # pyzipper (encrypted bundles) needs its own ZipInfo class.
        make_info = getattr(self._zf, "zipinfo_cls", zipfile.ZipInfo)
        info = make_info(f"{self._folder}/{path}", date_time=self._date_time)
        info.external_attr = _FILE_MODE
        info.create_system = _UNIX
        info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
        return info

    def _record(self, path: str, sha256: str, size: int) -> None:
        self.hashes[path] = sha256
        if path.startswith("data/"):
            self.payload_bytes += size
            self.payload_files += 1

    def manifest(self, paths: Iterable[str]) -> bytes:
        """``<hex>  <path>`` lines; two spaces, so ``sha256sum -c`` reads them too."""
        return "".join(f"{self.hashes[p]}  {_encode_path(p)}\n" for p in sorted(paths)).encode()


def _encode_path(path: str) -> str:
    """BagIt 1.0 §2.1.3: only CR, LF and % are percent-encoded in manifest paths."""
    return path.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _json(value: Any) -> bytes:
    return (json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True) + "\n").encode()


def _incident_dict(incident: Incident) -> dict[str, Any]:
    return {"id": incident.id, "title": incident.title, "description": incident.description,
            "started_at": incident.started_at, "created_at": iso_utc(incident.created_at),
            "is_default": incident.is_default}


AUDIENCES: Final = ("headteacher", "police")


@dataclass(frozen=True, slots=True)
class ExportOptions:
    """What to export and for whom. ``None`` for both id lists means every capture.

    For the headteacher, a capture with a covered copy (annotations with at least one
    redaction) goes out as that copy only: what a teacher covered stays covered, unless
    ``include_covered_originals`` is deliberately chosen for this export. Captures with
    nothing covered always go out with their originals. The police always get every
    original, whatever ``include_covered_originals`` says.
    """

    capture_ids: list[int] | None = None
    incident_ids: list[int] | None = None
    audience: str = "headteacher"  # covered copies, originals kept back; "police": originals
    include_covered_originals: bool = False
    exporter: str = ""
    role: str = ""
    passphrase: str | None = None  # wrap the bundle in an AES-256 ZIP (7-Zip opens it)
    timestamp_url: str | None = None  # an RFC 3161 time-stamping authority


def is_covered(marks: object) -> bool:
    """Whether annotations make a covered copy: at least one redaction. Highlights,
    outlines, arrows and labels alone cover nothing, so such a capture is not covered."""
    return marks_module.has_redactions(marks)


def uncovered_captures(vault: Vault, options: ExportOptions) -> list[Capture]:
    """The chosen captures that would go out with nothing covered, in timeline order.

    The export window lists them before sealing, so the person can cover names first
    or go on knowingly. For the police every original goes out, so none are listed.
    """
    if options.audience == "police":
        return []
    return [c for c in _chosen_captures(vault, options)
            if not (c.has_annotations and is_covered(vault.annotations(c.id)))]


def _chosen_captures(vault: Vault, options: ExportOptions) -> list[Capture]:
    if options.capture_ids is None and options.incident_ids is None:
        return vault.captures()
    chosen: dict[int, Capture] = {}
    for incident_id in options.incident_ids or []:
        for capture in vault.captures(incident_id):
            chosen[capture.id] = capture
    for capture_id in options.capture_ids or []:
        chosen[capture_id] = vault.capture(capture_id)
    return sorted(chosen.values(), key=lambda c: (c.captured_at, c.id))


def _audit_lines(vault: Vault, capture_ids: set[int], incident_ids: set[int]) -> bytes:
    """The log entries about what is exported, and the head of the chain.

    Entries about other captures stay out: their details could name people or
    describe evidence the user did not choose to share. Each entry keeps its own
    hash and its predecessor's, so each one can still be checked, and the last line
    (the export itself, the chain's head) shows how long the whole log was.
    """
    entries = vault.audit_entries()
    chosen = []
    for entry in entries:
        kind, _, number = entry.subject.partition(":")
        about = int(number) if number.isdigit() else None
        if ((kind == "capture" and about in capture_ids)
                or (kind == "incident" and about in incident_ids)
                or entry.action in ("vault.created", "export")):
            chosen.append(entry)
    if entries and (not chosen or chosen[-1].seq != entries[-1].seq):
        chosen.append(entries[-1])
    return b"".join((json.dumps(dataclasses.asdict(e), ensure_ascii=False, sort_keys=True)
                     + "\n").encode() for e in chosen)


def _open_zip_for_writing(fh: Any, passphrase: str | None) -> zipfile.ZipFile:
    if passphrase is None:
        return zipfile.ZipFile(fh, "w")
    # WinZip AES derives its key with 1,000 PBKDF2-SHA1 rounds (the format 7-Zip opens),
    # so only the passphrase's own strength protects the file: see core/passphrase.py.
    from evidence_recorder.core.passphrase import bundle_passphrase_problem

    if problem := bundle_passphrase_problem(passphrase):
        raise RefusedInput(problem)
    import pyzipper

    zf = pyzipper.AESZipFile(fh, "w", encryption=pyzipper.WZ_AES)
    zf.setpassword(passphrase.encode("utf-8"))
    return zf  # type: ignore[no-any-return]


def bundle_name(when: datetime) -> str:
    """``evidence-bundle-20261125-140231``: the bag folder, and the file's default name."""
    return f"evidence-bundle-{when:%Y%m%d-%H%M%S}"


def export_bundle(vault: Vault, out: Path, capture_ids: list[int] | None = None, *,
                  options: ExportOptions | None = None,
                  progress: Callable[[int, int], None] | None = None) -> Path:
    """Seal the chosen captures into a signed bag in a ZIP at ``out``; returns the path.

    If ``out`` is an existing folder the bundle gets its default name inside it. The
    file appears under its final name only when complete (temp file, fsync, rename),
    so a crash or a full disk never leaves half a bundle where the user looks.
    Originals are streamed one at a time, so memory stays bounded.
    """
    options = options or ExportOptions()
    if capture_ids is not None:
        options = dataclasses.replace(options, capture_ids=capture_ids)
    if options.audience not in AUDIENCES:
        raise RefusedInput(f"The audience must be one of: {', '.join(AUDIENCES)}.")
    out = Path(out)
    now = utc_now()
    folder = bundle_name(now)
    target = out / f"{folder}.zip" if out.is_dir() else out
    if not target.parent.is_dir():
        raise RefusedInput(f"The folder {target.parent} does not exist.")
    key = _signing_key(vault)
    identity = signing_identity(vault)
    key_fingerprint = sshsig.fingerprint(key)
    # What the log recorded when things were made: a seal must not vouch for a key,
    # a picture or an annotation swapped since (Vault.verify names them).
    recorded = vault.recorded_hashes()
    if recorded.key_fingerprint not in (None, key_fingerprint):
        raise VaultDamaged("This vault's signing key is not the one recorded when the vault "
                           "was made, so no bundle was sealed. Run a vault check.")
    captures = _chosen_captures(vault, options)
    if not captures:
        raise RefusedInput("There are no captures to export in what you chose.")
    incident_ids = {c.incident_id for c in captures}
    incidents = [i for i in vault.incidents() if i.id in incident_ids]
    titles = {i.id: i.title for i in incidents}
    police = options.audience == "police"

    planned = [_plan(vault, capture, options, police, titles.get(capture.incident_id, ""),
                     recorded) for capture in captures]
    report_data = ReportData(
        exported_at=now, exported_by=options.exporter, role=options.role,
        audience=options.audience, incidents=incidents, captures=[p for p, _ in planned],
        fingerprint=key_fingerprint, app_version=__version__, bundle_name=folder,
        timestamped=options.timestamp_url is not None, seal_number=seal_number(key))

    fsutil.remove_stale_temps(target.parent, target.name)
    report_maker = _ReportMaker(report_data)
    try:
        with report_maker, fsutil.atomic_writer(target) as fh, \
                _open_zip_for_writing(fh, options.passphrase) as zf:
            bag = _BagWriter(zf, folder, now)
            listed: list[dict[str, Any]] = []
            for done, (item, marks) in enumerate(planned, 1):
                entry, picture = _add_capture(vault, bag, item, marks, options, police,
                                              recorded)
                listed.append(entry)
                report_maker.put(picture)
                if progress is not None:
                    progress(done, len(captures) + 2)

            # Logged before audit.jsonl is written so the bundle shows its own export.
            vault.record("export", f"bundle:{folder}", {
                "bundle": folder, "file_name": target.name, "audience": options.audience,
                "captures": [c.id for c in captures], "key_fingerprint": key_fingerprint,
                "encrypted": options.passphrase is not None,
                "timestamp_url": options.timestamp_url,
                # Whose originals went out is a safeguarding choice: the log keeps it.
                "originals_kept_back": [p.capture.id for p, _ in planned
                                        if not p.original_path],
            })
            bag.add("data/evidence.json", _json({
                "schema_version": SCHEMA_VERSION,
                "bundle": folder,
                "exported_at": iso_utc(now),
                "exported_by": options.exporter,
                "role": options.role,
                "audience": options.audience,
                "software": {"name": APP_NAME, "version": __version__},
                "vault_id": vault.vault_id,
                "signing_key": {"identity": identity, "fingerprint": key_fingerprint,
                                "public_key": sshsig.public_key_line(key)},
                "incidents": [_incident_dict(i) for i in incidents],
                "captures": listed,
                "covered_originals_included": any(
                    p.covered and p.original_path for p, _ in planned),
                "originals_kept_back": [p.capture.id for p, _ in planned
                                        if not p.original_path],
            }))
            bag.add("data/audit.jsonl", _audit_lines(vault, {c.id for c in captures},
                                                     incident_ids))
            bag.add("data/export.json", _json({
                "exported_at": iso_utc(now), "exported_by": options.exporter,
                "role": options.role, "audience": options.audience,
                "originals_included": all(p.original_path for p, _ in planned),
                "covered_originals_included": any(
                    p.covered and p.original_path for p, _ in planned),
                "device": device.environment(), "time_zone": device.local_zone_name(),
                "encrypted_for_transport": options.passphrase is not None,
            }))

            pdf, html = report_maker.result()
            bag.add(REPORT_PDF, pdf, compress=False)  # mostly JPEG already
            del pdf
            bag.add(REPORT_HTML, html)
            bag.add(README_VERIFY, verify_readme(identity, key_fingerprint,
                                                    seal_number(key)).encode())
            bag.add(VERIFY_SH, VERIFY_SH_BYTES)
            bag.add(VERIFY_CMD, VERIFY_CMD_BYTES)
            if progress is not None:
                progress(len(captures) + 1, len(captures) + 2)

            payload = [p for p in bag.hashes if p.startswith("data/")]
            bag.add(BAGIT_TXT, f"BagIt-Version: {BAGIT_VERSION}\n"
                               "Tag-File-Character-Encoding: UTF-8\n".encode())
            bag.add(BAG_INFO, "".join(f"{label}: {_one_line(value)}\n" for label, value in (
                ("Bag-Software-Agent", f"{APP_NAME} {__version__}"),
                ("Bagging-Date", f"{now:%Y-%m-%d}"),
                ("External-Identifier", folder),
                ("External-Description", "Evidence of online abuse exported from an "
                                         "Evidence Recorder vault, sealed with an SSH "
                                         "signature."),
                ("Contact-Name", options.exporter or "not given"),
                ("Exporter-Role", options.role or "not given"),
                ("Audience", options.audience),
                ("Incident-Titles", "; ".join(i.title for i in incidents)),
                ("Capture-Count", str(len(captures))),
                ("Payload-Oxum", f"{bag.payload_bytes}.{bag.payload_files}"),
                ("Signing-Key-Fingerprint", key_fingerprint),
            )).encode())
            bag.add(MANIFEST, bag.manifest(payload))
            bag.add(ALLOWED_SIGNERS, f'{identity} namespaces="{NAMESPACE}" '
                                     f"{sshsig.public_key_line(key)}\n".encode())
            tag_files = [p for p in bag.hashes if not p.startswith("data/")]
            tagmanifest = bag.manifest(tag_files)
            bag.add(TAGMANIFEST, tagmanifest)
            signature = sshsig.sign(key, tagmanifest, NAMESPACE).encode()
            bag.add(SIGNATURE, signature)
            if options.timestamp_url:
                from evidence_recorder.core.bundle import timestamp

                bag.add(TIMESTAMP, timestamp.request_timestamp(signature,
                                                               options.timestamp_url))
            if progress is not None:
                progress(len(captures) + 2, len(captures) + 2)
    except BaseException as exc:
        if any(e.action == "export" and e.subject == f"bundle:{folder}"
               for e in vault.audit_entries()[-3:]):
            with contextlib.suppress(EvidenceError):
                vault.record("export.failed", f"bundle:{folder}", {"bundle": folder})
        if isinstance(exc, OSError):
            raise EvidenceError(_write_failure(target, exc)) from exc
        raise
    return target


def _write_failure(target: Path, exc: OSError) -> str:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        return ("The disk is full, so the bundle was not written. Nothing was left "
                "behind; free some space, or choose another place, and try again.")
    return f"The bundle could not be written to {target.parent} ({exc.strerror})."


def _one_line(value: str) -> str:
    """bag-info.txt values are one line; what the user typed may not be."""
    return " ".join(str(value).split())


def _report_picture(previews: tuple[bytes, bytes], budget: int) -> bytes:
    """The larger preview if it fits in ``budget`` bytes, else the smaller one, else a
    still smaller copy of that; b"" (no picture) when even that will not fit.

    The PDF is built in memory, so its pictures share a fixed budget: the more
    captures, the smaller each picture, which bounds an export's memory however many
    captures it holds. The originals in the bundle are untouched; the report is for
    reading, and says where each original is.
    """
    preview, small = previews
    if len(preview) <= budget:
        return preview
    picture, side = small, images.SMALL_PREVIEW_SIDE
    while len(picture) > budget and side > _SMALLEST_REPORT_PICTURE:
        side = max(_SMALLEST_REPORT_PICTURE,
                   int(side * max(0.5, (budget / len(picture)) ** 0.5)))
        picture = images.make_thumbnail(picture, side)
    return picture if len(picture) <= 2 * budget else b""


_SMALLEST_REPORT_PICTURE: Final = 320


def _plan(vault: Vault, capture: Capture, options: ExportOptions, police: bool,
          incident_title: str, recorded: RecordedHashes,
          ) -> tuple[ReportCapture, dict[str, Any] | None]:
    """What the report says of a capture, and its annotations (refused if they are not
    as last saved), before any file is written."""
    marks = vault.checked_annotations(capture.id, recorded)
    if marks is not None and not marks.get("items"):
        marks = None
    base = f"data/captures/{capture.id}"
    ext = _EXTENSIONS.get(capture.media_type, "bin")
    covered = is_covered(marks)
    # What the teacher covered stays covered for the headteacher, unless they chose
    # otherwise for this export; the police get every original.
    with_original = police or not covered or options.include_covered_originals
    return ReportCapture(
        capture=capture, incident_title=incident_title, image=b"",
        shows_redacted_copy=marks is not None and not police,
        original_path=f"{base}/original.{ext}" if with_original else "",
        redacted_path=f"{base}/redacted.png" if marks is not None else None,
        covered=covered), marks


def _add_capture(vault: Vault, bag: _BagWriter, item: ReportCapture,
                 marks: dict[str, Any] | None, options: ExportOptions, police: bool,
                 recorded: RecordedHashes) -> tuple[dict[str, Any], tuple[bytes, bytes]]:
    """One capture's files, and the two preview sizes for the report: those kept since
    capture (refused if they no longer match the SHA-256 recorded then), or made now
    from the redacted copy (or from the original, when no preview was kept or its hash
    was never recorded), so that only small pictures wait for the report.

    The original is held in memory only while it is written.
    """
    capture = item.capture
    original = vault.original(capture.id)
    if hashlib.sha256(original).hexdigest() != capture.sha256:
        raise VaultDamaged(f"Capture {capture.id} no longer matches the SHA-256 "
                           "recorded when it was taken. Run a vault check.")
    base = f"data/captures/{capture.id}"
    files: dict[str, str | None] = {"original": item.original_path or None,
                                    "redacted": item.redacted_path, "annotations": None}
    if item.original_path:
        bag.add(item.original_path, original, compress=False, sha256=capture.sha256)
    derived: bytes | None = None
    if marks is not None and item.redacted_path is not None:
        derived = marks_module.render(original, marks)
        files["annotations"] = marks_path = f"{base}/annotations.json"
        bag.add(item.redacted_path, derived, compress=False)
        bag.add(marks_path, _json(marks))
    files["metadata"] = metadata_path = f"{base}/metadata.json"
    entry = {**capture.full(), "files": files, "covered": item.covered,
             "original_included": bool(item.original_path)}
    bag.add(metadata_path, _json(entry))
    if item.shows_redacted_copy and derived is not None:
        return entry, _two_previews(derived)
    return entry, vault.checked_previews(capture.id, recorded) or _two_previews(original)


def _two_previews(picture: bytes) -> tuple[bytes, bytes]:
    preview, small = images.make_thumbnails(
        picture, (images.PREVIEW_SIDE, images.SMALL_PREVIEW_SIDE),
        quality=images.PREVIEW_QUALITY)
    return preview, small


class _Cancelled(Exception):
    pass


class _ReportMaker:
    """Makes the PDF report in a second thread while the export seals the files.

    Laying out a report is pure Python; reading, hashing and writing originals mostly
    runs outside the GIL (SQLCipher, hashlib, zlib, file writes), so on two cores the
    two overlap. The thread never touches the vault: it is handed each picture.
    """

    def __init__(self, data: ReportData) -> None:
        # Each capture's preview-size picture (see _add_capture); None stops the thread.
        self._pictures: queue.Queue[tuple[bytes, bytes] | None] = queue.Queue(maxsize=16)
        # The PDF is made in memory: its pictures share a budget, so memory stays
        # bounded however many captures there are.
        self._budget = REPORT_PICTURES_BUDGET // max(1, len(data.captures))
        self._made: tuple[bytearray, bytes] | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(data,), name="report-pdf",
                                        daemon=True)

    def __enter__(self) -> _ReportMaker:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._hand_over(None)  # stops a thread still waiting for pictures
        self._thread.join()

    def _run(self, data: ReportData) -> None:
        from evidence_recorder.core.bundle import (
            report as report_module,  # fpdf2: slow to import
        )

        def pictures() -> Iterator[bytes]:
            # Reduced here, not in the exporting thread: Pillow works outside the GIL.
            while (previews := self._pictures.get()) is not None:
                yield _report_picture(previews, self._budget)
            raise _Cancelled

        try:
            pdf = report_module.render_pdf(data, pictures())
            self._made = pdf, report_module.write_html(data)
        except _Cancelled:
            pass
        except BaseException as exc:  # handed to the exporting thread by result()
            self._error = exc

    def _hand_over(self, picture: tuple[bytes, bytes] | None) -> None:
        while self._thread.is_alive():
            try:
                self._pictures.put(picture, timeout=0.2)
                return
            except queue.Full:
                continue

    def put(self, picture: tuple[bytes, bytes]) -> None:
        self._hand_over(picture)

    def result(self) -> tuple[bytearray, bytes]:
        """The PDF and the HTML report."""
        self._thread.join()
        if self._error is not None:
            raise self._error
        if self._made is None:
            raise EvidenceError("The report could not be made.")
        made, self._made = self._made, None
        return made


# ============================================================================ verify


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
            head = fh.read(images.HEADER_BYTES)
    except Exception as exc:  # zipfile raises many kinds on hostile input
        raise _Unreadable(f"{label} could not be read from the ZIP ({_why(exc)}).") from exc
    return images.too_many_pixels(images.declared_size(head))


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


# Ours nest a handful of levels; json would recurse once per level, so a file of
# opening brackets would end in RecursionError (a crash) instead of a verdict.
MAX_JSON_DEPTH: Final = 64
_JSON_STRING: Final = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_A_BRACKET: Final = re.compile(r"[^\[\]{}]+")
_INNERMOST: Final = re.compile(r"\[\]|\{\}|\[\}|\{\]")


class JsonDamaged(ValueError):
    """A bundle's JSON that cannot be read; the message is a sentence about ``label``."""


def _too_deep(text: str) -> bool:
    """Whether ``text`` nests more than MAX_JSON_DEPTH levels, judged without recursion.

    Strings are dropped, then the innermost pairs of brackets are peeled off one level
    a pass (each pass runs in C): what is left after MAX_JSON_DEPTH passes is deeper.
    Brackets left unbalanced are the parser's to report, unless there are too many.
    """
    brackets = _NOT_A_BRACKET.sub("", _JSON_STRING.sub("", text))
    for _ in range(MAX_JSON_DEPTH):
        if not brackets:
            return False
        peeled = _INNERMOST.sub("", brackets)
        if peeled == brackets:  # what is left never closes: count what it leaves open
            return sum(ch in "[{" for ch in brackets) > MAX_JSON_DEPTH
        brackets = peeled
    return bool(brackets)


def load_bundle_json(data: bytes | str, label: str) -> Any:
    """JSON from a received bundle, or :class:`JsonDamaged` saying plainly why not.

    Every JSON that the verifier or the viewer reads from a bundle comes through here,
    so that hostile nesting is a verdict ("damaged"), never a crash.
    """
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
    except UnicodeDecodeError as exc:
        raise JsonDamaged(f"{label} is damaged (it is not UTF-8 text).") from exc
    if _too_deep(text):
        raise JsonDamaged(f"{label} is damaged (its contents are nested too deeply to read).")
    try:
        return json.loads(text)
    except RecursionError as exc:  # not expected after the scan; a verdict all the same
        raise JsonDamaged(f"{label} is damaged (its contents are nested too deeply to "
                          "read).") from exc
    except ValueError as exc:
        raise JsonDamaged(f"{label} is damaged (it is not readable JSON).") from exc


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
    label = "data/evidence.json"
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
    """What the hashes alone do not catch: a renamed bag folder, an unreadable list.

    Bundles from before the folder name was recorded say nothing about it (every
    bundle this program has made records it, in bag-info.txt's External-Identifier).
    """
    if BAG_INFO in files:
        sealed = _sealed_folder_name(_read_all(zf, files[BAG_INFO], BAG_INFO))
        if sealed and sealed != top:
            report.problems.append(
                f"The bundle's folder is called {top!r}, but it was sealed as {sealed!r}: "
                "it has been renamed or packed again since it was sealed.")
    problem = _read_evidence(zf, files)[1]
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


class OpenedBundle:
    """A verified bundle held open for reading (the headteacher's viewer).

    Files are read from the ZIP on demand, never extracted; ``evidence`` is the
    parsed ``data/evidence.json``. Whatever the verdict, the caller shows it first.
    """

    def __init__(self, zf: zipfile.ZipFile, top: str, files: dict[str, zipfile.ZipInfo],
                 report: BundleReport) -> None:
        self._zf: zipfile.ZipFile | None = zf
        self._files = files
        self.bundle_name = top
        self.report = report
        self.evidence: dict[str, Any] = {}
        # Why it could not be read is already among the report's problems.
        with contextlib.suppress(_Unreadable):
            self.evidence = _read_evidence(zf, files)[0]

    def read(self, path: str) -> bytes:
        """One file of the bag, by its path inside the bag (bounded in size)."""
        if self._zf is None:
            raise EvidenceError("The bundle has been closed.")
        info = self._files.get(path)
        if info is None:
            raise EvidenceError(f"{path} is not in this bundle.")
        if info.file_size > MAX_ENTRY_BYTES:
            raise EvidenceError(f"{path} is too large to show.")
        try:
            with self._zf.open(info) as fh:
                return fh.read(MAX_ENTRY_BYTES + 1)[:MAX_ENTRY_BYTES]
        except Exception as exc:  # zipfile raises many kinds on hostile input
            raise EvidenceError(f"{path} could not be read from the bundle "
                                f"({_why(exc)}).") from exc

    def close(self) -> None:
        if self._zf is not None:
            self._zf.close()
            self._zf = None


def open_bundle(source: Source, passphrase: str | None = None) -> OpenedBundle:
    """Verify a bundle and keep it open for reading; raises only if it is not a bundle."""
    name = source.name if isinstance(source, Path) else "The bundle"
    report = BundleReport()
    zf = _open_zip(source, passphrase, report, name)
    if zf is None:
        raise RefusedInput(f"{name} is not an evidence bundle: {report.problems[0]}")
    found = _bag_files(zf, report, name)
    if found is None:
        zf.close()
        raise RefusedInput(f"{name} is not an evidence bundle: {report.problems[0]}")
    top, files = found
    try:
        _check_bag(zf, files, report)
        _check_contents(zf, top, files, report)
    except _Unreadable as exc:
        report.problems.append(str(exc))
    return OpenedBundle(zf, top, files, report)
