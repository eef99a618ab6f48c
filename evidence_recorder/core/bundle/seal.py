"""Sealing a report bundle: a signed BagIt 1.0 bag inside a ZIP (:func:`export_bundle`).

The bundle is meant for people who do not have this program (police, a lawyer, a
platform's trust and safety team), so every check can be repeated with stock tools from
inside the bag folder: ``sha256sum -c manifest-sha256.txt``, ``sha256sum -c
tagmanifest-sha256.txt``, any BagIt validator, and ``ssh-keygen -Y verify -f
allowed_signers -I <identity> -n evidence-recorder-bundle -s tagmanifest-sha256.txt.sig
< tagmanifest-sha256.txt``.

The signature covers the tag manifest, which covers the payload manifest, which
covers every payload file. The signing key travels in the bundle (``allowed_signers``),
so a valid signature proves the bundle is unchanged since *someone* sealed it; that it
was this vault's key is shown by the fingerprint, which the recipient compares with
one obtained separately (the app shows it, and it is in the audit log).

The format has one home, core/bundle/: layout.py names its files and limits, this
module writes it, check.py checks a received one (the verdict), evidence.py reads its
``data/evidence.json`` (schema 1 or 2) into typed objects, and opened.py holds one open
for the viewer.

About 870 lines: one writer of one format, :func:`export_bundle` and the helpers
only it calls (the picture plan, a web page's report slices, an e-mail's or chat
export's files and messages.json, the report thread), read in the order the bag is
written;
what is not writing already lives in the modules above.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import hashlib
import io
import json
import queue
import re
import stat
import threading
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO, Final

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from evidence_recorder import APP_NAME, __version__
from evidence_recorder.core import fsutil
from evidence_recorder.core import marks as marks_module
from evidence_recorder.core.bundle import sshsig
from evidence_recorder.core.bundle.evidence import (
    PARSED_MESSAGES_NAME,
    ROLE_ANNOTATIONS,
    ROLE_COVERED_COPY,
    ROLE_PARSED_MESSAGES,
)
from evidence_recorder.core.bundle.layout import (
    ALLOWED_SIGNERS,
    BAG_INFO,
    BAGIT_TXT,
    BAGIT_VERSION,
    MANIFEST,
    NAMESPACE,
    README_VERIFY,
    REPORT_HTML,
    REPORT_PDF,
    SCHEMA_VERSION,
    SIGNATURE,
    TAGMANIFEST,
    TIMESTAMP,
    VERIFY_CMD,
    VERIFY_SH,
)
from evidence_recorder.core.bundle.report_data import ReportCapture, ReportData, ReportFile
from evidence_recorder.core.bundle.sealnumber import seal_number
from evidence_recorder.core.bundle.texts import (
    VERIFY_CMD_BYTES,
    VERIFY_SH_BYTES,
    verify_readme,
)
from evidence_recorder.core.conversation import CONTEXT_MESSAGES
from evidence_recorder.core.errors import EvidenceError, RefusedInput, VaultDamaged
from evidence_recorder.core.gather import device, images
from evidence_recorder.core.model import (
    Artefact,
    ArtefactRole,
    Capture,
    Incident,
    iso_utc,
    utc_now,
)
from evidence_recorder.core.vault.store import Vault
from evidence_recorder.core.vault.verify import RecordedHashes

# Bytes of JPEG that the report's pictures may take between them (the PDF is made in
# memory): this bounds an export's memory however many captures it holds.
REPORT_PICTURES_BUDGET: Final = 64 * 1024 * 1024
_FILE_MODE: Final = (stat.S_IFREG | 0o644) << 16
# What the exporting thread hands the report thread for one capture: its two preview
# sizes, or (for a web page's full-page picture) b"" then its page-tall JPEG slices.
ReportPicture = tuple[bytes, ...]
_UNIX: Final = 3  # ZipInfo.create_system: the external attributes hold a Unix mode


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


_CHUNK: Final = 1024 * 1024
# An artefact's name becomes a bundle path; the verifying scripts accept only these.
_SAFE_NAME: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
_UNSAFE_CHARS: Final = re.compile(r"[^A-Za-z0-9._-]+")
# Names the bundle itself gives files beside an item's own.
_BUNDLE_NAMES: Final = frozenset({"metadata.json", "annotations.json", "redacted.png",
                                  PARSED_MESSAGES_NAME})
# The report shows at most this many e-mails of one item (a mailbox may hold 100,000)
# and this many flagged messages of one chat, and cuts an e-mail's text after this many
# characters; messages.json and the original hold everything, and the report says so.
REPORT_MAX_EMAILS: Final = 200
REPORT_MAX_FLAGS: Final = 500
# Messages read from the vault at a time while messages.json is written.
_MESSAGES_PAGE: Final = 2_000


def _bag_names(stored: list[Artefact]) -> dict[str, str]:
    """Each artefact's file name in the bag: its own name where the verifying scripts
    accept it (every screenshot's and web page's), else a safe spelling of it (an
    e-mail's attachment called "Report (final).pdf" goes in as "Report_final_.pdf"),
    unique within the item. evidence.json keeps the name as the item knows it."""
    taken = set(_BUNDLE_NAMES)
    out: dict[str, str] = {}
    for artefact in stored:
        name = artefact.name
        if not (_SAFE_NAME.fullmatch(name) and name not in taken):
            stem, dot, ext = name.rpartition(".")
            if not dot or not 0 < len(ext) <= 10:
                stem, ext = name, ""
            stem = _UNSAFE_CHARS.sub("_", stem).strip("._-")[:80] or "file"
            ext = _UNSAFE_CHARS.sub("", ext)[:10]
            base = f"{stem}.{ext}" if ext else stem
            name, number = base, 1
            while name in taken or not _SAFE_NAME.fullmatch(name):
                number += 1
                name = f"{stem}-{number}.{ext}" if ext else f"{stem}-{number}"
        taken.add(name)
        out[artefact.name] = name
    return out

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

    def add_stream(self, path: str, source: BinaryIO, *, sha256: str) -> None:
        """Copy one file from ``source`` a chunk at a time (a large artefact never sits
        in memory whole), refusing it if its bytes no longer match ``sha256``."""
        digest, size = hashlib.sha256(), 0
        with self._zf.open(self._info(path, False), "w", force_zip64=True) as out:
            while chunk := source.read(_CHUNK):
                digest.update(chunk)
                size += len(chunk)
                out.write(chunk)
        if digest.hexdigest() != sha256:
            raise VaultDamaged(f"A file of {path.split('/')[2]} no longer matches the SHA-256 "
                               "recorded when it was taken. Run a vault check.")
        self._record(path, sha256, size)

    def add_chunks(self, path: str, chunks: Iterable[bytes]) -> tuple[str, int]:
        """Write one file from ``chunks`` as they come (stored, not compressed); returns
        its SHA-256 and size."""
        digest, size = hashlib.sha256(), 0
        with self._zf.open(self._info(path, False), "w", force_zip64=True) as out:
            for chunk in chunks:
                digest.update(chunk)
                size += len(chunk)
                out.write(chunk)
        self._record(path, digest.hexdigest(), size)
        return digest.hexdigest(), size

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
                                              recorded, report_maker.budget)
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
                "schema": SCHEMA_VERSION,
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
                "items": listed,
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
            bag.add(README_VERIFY, verify_readme(
                identity, key_fingerprint, seal_number(key),
                web_pages=any(c.web is not None for c in captures),
                messages=any(c.messages is not None for c in captures)).encode())
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
    primary = vault.artefact(capture.id).name  # "original.png" for a picture
    covered = is_covered(marks)
    # What the teacher covered stays covered for the headteacher, unless they chose
    # otherwise for this export; the police get every original.
    with_original = police or not covered or options.include_covered_originals
    # An item's other files go beside its primary one; where the sender keeps the
    # primary back because something on it is covered, they stay with it too: a web
    # page's archive, its other pictures and its network record show the same content
    # uncovered.
    stored = vault.artefacts(capture.id)
    others = [a for a in stored if not a.primary]
    kept = () if with_original else tuple(a.name for a in others)
    files = tuple((a.role.value, f"{base}/{a.name}") for a in others
                  if capture.web is not None and a.name not in kept)
    parts = tuple(a.name for a in stored if capture.web is not None
                  and a.role is ArtefactRole.FULL_PAGE and a.name not in kept)
    if capture.messages is not None:
        return _plan_messages(vault, capture, incident_title, base, stored)
    return ReportCapture(
        capture=capture, incident_title=incident_title, image=b"",
        shows_redacted_copy=marks is not None and not police,
        original_path=f"{base}/{primary}" if with_original else "",
        redacted_path=f"{base}/redacted.png" if marks is not None else None,
        covered=covered, page_parts=parts, web_files=files, kept_back=kept), marks


def _plan_messages(vault: Vault, capture: Capture, incident_title: str, base: str,
                   stored: list[Artefact]) -> tuple[ReportCapture, None]:
    """What the report says of an e-mail or a chat export: its e-mails (at most
    REPORT_MAX_EMAILS, flagged ones first among those beyond), or its flagged messages
    each with CONTEXT_MESSAGES on either side; its files; where its messages.json is.
    Such an item has no picture to cover: its files always go out."""
    names = _bag_names(stored)
    primary = next(a for a in stored if a.primary)
    flags = vault.message_flags(capture.id)
    if capture.kind.value == "email":
        shown = vault.messages(capture.id, limit=REPORT_MAX_EMAILS)
        beyond = [f.index for f in flags if not shown or f.index > shown[-1].index]
        if beyond:
            shown += vault.messages(capture.id, indexes=beyond[:REPORT_MAX_EMAILS])
        left_out = max(0, vault.message_count(capture.id) - len(shown))
    else:
        wanted: set[int] = set()
        for flag in flags[:REPORT_MAX_FLAGS]:
            wanted.update(range(max(0, flag.index - CONTEXT_MESSAGES),
                                flag.index + CONTEXT_MESSAGES + 1))
        ordered = sorted(wanted)
        shown = []
        for start in range(0, len(ordered), 900):  # within any SQLite's variable limit
            shown += vault.messages(capture.id, indexes=ordered[start:start + 900])
        left_out = max(0, len(flags) - REPORT_MAX_FLAGS)
    files = tuple(ReportFile(a.name, a.role.value, a.media_type, a.size, a.sha256,
                             f"{base}/{names[a.name]}") for a in stored if not a.primary)
    return ReportCapture(
        capture=capture, incident_title=incident_title, image=b"",
        shows_redacted_copy=False, original_path=f"{base}/{names[primary.name]}",
        redacted_path=None, messages=tuple(shown), flags=tuple(flags), files=files,
        messages_path=f"{base}/{PARSED_MESSAGES_NAME}", left_out=left_out), None


def _messages_chunks(vault: Vault, item_id: int) -> Iterator[bytes]:
    """The item's messages as :func:`core.conversation.messages_json` writes them, byte
    for byte, a page at a time (a conversation of 100,000 messages never sits in memory
    whole): so its SHA-256 is the ``messages_sha256`` recorded at import."""
    yield b"["
    after, first = -1, True
    while page := vault.messages(item_id, start=after + 1, limit=_MESSAGES_PAGE):
        for message in page:
            text = json.dumps(message.as_dict(), ensure_ascii=False, sort_keys=True,
                              separators=(",", ":"))
            yield (text if first else "," + text).encode("utf-8")
            first = False
        after = page[-1].index
    yield b"]"


def _add_messages_item(vault: Vault, bag: _BagWriter, item: ReportCapture) -> dict[str, Any]:
    """An e-mail's or chat export's files and its evidence.json entry: the original and
    every attachment streamed byte for byte (refused if one no longer matches the
    SHA-256 recorded when it was imported), the parsed messages as messages.json
    (refused unless they hash to what was recorded at import), what was recorded of the
    export, and the flags."""
    capture = item.capture
    assert capture.messages is not None
    base = f"data/captures/{capture.id}"
    stored = vault.artefacts(capture.id)
    names = _bag_names(stored)
    artefacts: list[dict[str, Any]] = []
    for artefact in stored:
        path = f"{base}/{names[artefact.name]}"
        with vault.open_artefact(capture.id, artefact.name) as source:
            bag.add_stream(path, source, sha256=artefact.sha256)
        artefacts.append({"name": artefact.name, "role": artefact.role,
                          "media_type": artefact.media_type, "size": artefact.size,
                          "sha256": artefact.sha256, "derived_from": artefact.derived_from,
                          "path": path})
    primary = next(a for a in stored if a.primary)
    digest, size = bag.add_chunks(item.messages_path, _messages_chunks(vault, capture.id))
    if capture.messages.messages_sha256 and digest != capture.messages.messages_sha256:
        raise VaultDamaged(f"The messages read from item {capture.id} no longer match the "
                           "SHA-256 recorded when it was imported. Run a vault check.")
    artefacts.append({"name": PARSED_MESSAGES_NAME, "role": ROLE_PARSED_MESSAGES,
                      "media_type": "application/json", "size": size, "sha256": digest,
                      "derived_from": primary.name, "path": item.messages_path})
    metadata_path = f"{base}/metadata.json"
    details = capture.full()
    entry = {
        "id": capture.id, "kind": capture.kind.value, "title": capture.title,
        "incident": capture.incident_id, "captured_at": details["captured_at"],
        "tz_name": capture.tz_name, "utc_offset": capture.utc_offset,
        "width": capture.width, "height": capture.height,
        "environment": capture.environment, "source": details["source"],
        "details": details["details"], "has_annotations": capture.has_annotations,
        "covered": False, "original_included": True, "metadata": metadata_path,
        "artefacts": artefacts,
        # Schema 2 stays 2: readers that do not know these blocks skip them.
        "messages": capture.messages.as_dict(),
        "flags": [{"index": f.index, "category": f.category, "note": f.note,
                   "flagged_at": f.flagged_at} for f in item.flags],
    }
    bag.add(metadata_path, _json(entry))
    return entry


def _add_capture(vault: Vault, bag: _BagWriter, item: ReportCapture,
                 marks: dict[str, Any] | None, options: ExportOptions, police: bool,
                 recorded: RecordedHashes, budget: int = REPORT_PICTURES_BUDGET,
                 ) -> tuple[dict[str, Any], ReportPicture]:
    """One capture's files and its evidence.json entry (an item with its artefacts), and
    the two preview sizes for the report (for a web page's full-page picture, its
    page-tall slices, made within ``budget`` bytes): those kept since
    capture (refused if they no longer match the SHA-256 recorded then), or made now
    from the redacted copy (or from the original, when no preview was kept or its hash
    was never recorded), so that only small pictures wait for the report.

    The original is held in memory only while it is written; an e-mail's or chat
    export's (which may be large) is streamed instead (:func:`_add_messages_item`).
    """
    capture = item.capture
    if capture.messages is not None:
        return _add_messages_item(vault, bag, item), (b"",)
    original = vault.original(capture.id)
    if hashlib.sha256(original).hexdigest() != capture.sha256:
        raise VaultDamaged(f"Capture {capture.id} no longer matches the SHA-256 "
                           "recorded when it was taken. Run a vault check.")
    base = f"data/captures/{capture.id}"
    # The primary artefact (the original picture) goes at _plan's path, or is kept back;
    # every other artefact the item holds goes beside it under its own name.
    artefacts: list[dict[str, Any]] = []
    for stored in vault.artefacts(capture.id):
        entry = {"name": stored.name, "role": stored.role, "media_type": stored.media_type,
                 "size": stored.size, "sha256": stored.sha256,
                 "derived_from": stored.derived_from}
        if stored.primary:
            entry["path"] = item.original_path or None
        elif stored.name in item.kept_back:
            entry["path"] = None  # kept with the original (see _plan)
        else:
            if not _SAFE_NAME.fullmatch(stored.name):
                raise ValueError(f"artefact name {stored.name!r} cannot be a bundle path")
            path = entry["path"] = f"{base}/{stored.name}"
            with vault.open_artefact(capture.id, stored.name) as source:
                bag.add_stream(path, source, sha256=stored.sha256)
        artefacts.append(entry)
    original_name = artefacts[0]["name"]
    if item.original_path:
        bag.add(item.original_path, original, compress=False, sha256=capture.sha256)
    derived: bytes | None = None
    if marks is not None and item.redacted_path is not None:
        derived = marks_module.render(original, marks)
        marks_path, marks_json = f"{base}/annotations.json", _json(marks)
        bag.add(item.redacted_path, derived, compress=False)
        bag.add(marks_path, marks_json)
        for name, role, media_type, path, size in (
                ("redacted.png", ROLE_COVERED_COPY, "image/png", item.redacted_path,
                 len(derived)),
                ("annotations.json", ROLE_ANNOTATIONS, "application/json", marks_path,
                 len(marks_json))):
            artefacts.append({"name": name, "role": role, "media_type": media_type,
                              "size": size, "sha256": bag.hashes[path], "path": path,
                              "derived_from": original_name})
    metadata_path = f"{base}/metadata.json"
    details = capture.full()
    slices = (_page_slices(vault, item, derived, budget) if item.page_parts else None)
    entry = {
        "id": capture.id, "kind": capture.kind.value,
        "title": capture.title,
        "incident": capture.incident_id, "captured_at": details["captured_at"],
        "tz_name": capture.tz_name, "utc_offset": capture.utc_offset,
        "width": capture.width, "height": capture.height,
        "environment": capture.environment, "source": details["source"],
        "details": details["details"], "has_annotations": capture.has_annotations,
        "covered": item.covered, "original_included": bool(item.original_path),
        "metadata": metadata_path, "artefacts": artefacts,
    }
    if capture.web is not None:  # schema 2 stays 2: readers that do not know it skip it
        entry["web"] = capture.web.as_dict()
    bag.add(metadata_path, _json(entry))
    if slices is not None:
        return entry, slices
    if item.shows_redacted_copy and derived is not None:
        return entry, _two_previews(derived)
    return entry, vault.checked_previews(capture.id, recorded) or _two_previews(original)


def _page_slices(vault: Vault, item: ReportCapture, derived: bytes | None,
                 budget: int) -> tuple[bytes, ...]:
    """A web page's full-page picture (every part, in order) as page-tall JPEG slices
    for the report, read a slice at a time. The primary part is the covered copy where
    that is what the report shows."""
    from evidence_recorder.core.bundle import report_slices

    primary = vault.artefact(item.capture.id).name  # what the covered copy covers

    def open_part(name: str) -> BinaryIO:
        if name == primary and item.shows_redacted_copy and derived is not None:
            return io.BytesIO(derived)
        return vault.open_artefact(item.capture.id, name)

    heights = width = 0
    for name in item.page_parts:
        with open_part(name) as head:
            shape = report_slices.png_shape(head.read(33))
        heights += shape.height
        width = max(width, shape.width)
    wide = report_slices.slice_width(heights, width, budget)
    out: list[bytes] = [b""]  # not previews: see ReportPicture
    for name in item.page_parts:
        with open_part(name) as stream:
            out += report_slices.page_slices(stream, wide)
    return tuple(out)


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
        self._pictures: queue.Queue[ReportPicture | None] = queue.Queue(maxsize=16)
        # The PDF is made in memory: its pictures share a budget, so memory stays
        # bounded however many captures there are.
        self.budget = REPORT_PICTURES_BUDGET // max(1, len(data.captures))
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

        def pictures() -> Iterator[bytes | tuple[bytes, ...]]:
            # Reduced here, not in the exporting thread: Pillow works outside the GIL.
            # A web page's slices come made, within the budget.
            while (previews := self._pictures.get()) is not None:
                if previews[0]:
                    yield _report_picture((previews[0], previews[1]), self.budget)
                else:
                    yield previews[1:]
            raise _Cancelled

        try:
            pdf = report_module.render_pdf(data, pictures())
            self._made = pdf, report_module.write_html(data)
        except _Cancelled:
            pass
        except BaseException as exc:  # handed to the exporting thread by result()
            self._error = exc

    def _hand_over(self, picture: ReportPicture | None) -> None:
        while self._thread.is_alive():
            try:
                self._pictures.put(picture, timeout=0.2)
                return
            except queue.Full:
                continue

    def put(self, picture: ReportPicture) -> None:
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


