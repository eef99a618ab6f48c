"""The vault check: the audit log replayed and compared with every table.

:func:`verify` is what :meth:`Vault.verify <store.Vault.verify>` runs (the method stays,
so callers need not know this module); :func:`checked_previews` and
:func:`checked_annotations` are the same comparison made for one capture at export, so
that a bundle is never sealed around a picture or a highlight the log does not vouch
for. Nothing here writes: a check changes nothing it checks.

Split out of :mod:`store`, which keeps the writes (each with its audit entry); this
module keeps what reads them back and says whether they still agree.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sqlcipher3

from evidence_recorder.core.conversation import messages_digest
from evidence_recorder.core.errors import EvidenceError, VaultDamaged
from evidence_recorder.core.model import AuditEntry, Capture, CaptureDetails, iso_utc
from evidence_recorder.core.vault import audit, items, received
from evidence_recorder.core.vault.dberrors import translate_db_error as _translate_db_error
from evidence_recorder.core.vault.store import (
    _CAPTURE_COLUMNS,
    DEFAULT_INCIDENT_DESCRIPTION,
    DEFAULT_INCIDENT_TITLE,
    PICTURES,
    Vault,
    _picture_hashes,
    _row_to_capture,
)


@dataclass(slots=True)
class VerifyReport:
    """The outcome of :meth:`Vault.verify`: ``ok`` only when nothing was found wrong."""

    entries_checked: int = 0
    captures_checked: int = 0
    incidents_checked: int = 0
    problems: list[str] = field(default_factory=list)
    # What this check could not vouch for (so "intact" must not cover it), in plain words.
    # These are not problems: an older version simply did not record what is needed.
    not_checked: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "entries_checked": self.entries_checked,
                "captures_checked": self.captures_checked,
                "incidents_checked": self.incidents_checked, "problems": self.problems,
                "not_checked": self.not_checked}


@dataclass(slots=True)
class RecordedHashes:
    """What the audit log recorded about things that are not originals, replayed.

    ``pictures`` maps a live capture to the SHA-256s of its thumbnail and its two
    report previews (``None`` for a size that was not made), or to ``None`` when an
    older version added it without recording them. ``annotations`` maps a capture to
    the SHA-256 of its stored annotation JSON as last saved (``None``: removed).
    """

    pictures: dict[int, dict[str, str | None] | None] = field(default_factory=dict)
    first_recorded_late: dict[int, str] = field(default_factory=dict)  # capture -> when
    annotations: dict[int, str | None] = field(default_factory=dict)
    key_fingerprints: list[tuple[int, str | None]] = field(default_factory=list)  # (seq, fp)
    exports: list[tuple[int, str, str | None]] = field(default_factory=list)  # seq, bundle, fp
    key_first_recorded_late: str | None = None  # when an upgrade first recorded the key
    unreadable: list[int] = field(default_factory=list)

    @property
    def key_fingerprint(self) -> str | None:
        """The signing key's fingerprint as the log first recorded it, if it did."""
        return next((fp for _, fp in self.key_fingerprints if fp), None)


def recorded_hashes(vault: Vault) -> RecordedHashes:
    """What the log recorded of pictures, annotations and the signing key, so that an
    export can refuse to seal something that differs (see :func:`bundle.export_bundle`)."""
    return _recorded(vault.audit_entries())


def checked_previews(vault: Vault, capture_id: int,
                     recorded: RecordedHashes) -> tuple[bytes, bytes] | None:
    """The report previews kept at capture, if they still hash to what the log recorded.

    None when none were kept, or when an older version kept them without recording
    their SHA-256 (the caller then makes them again from the original, which is
    checked). A kept picture that differs from its record is refused.
    """
    kept = vault.previews(capture_id)
    want = recorded.pictures.get(capture_id)
    if kept is None or want is None:
        return None
    have = [hashlib.sha256(picture).hexdigest() for picture in kept]
    if have != [want.get("preview"), want.get("small")]:
        raise VaultDamaged(_picture_changed(capture_id) + " No bundle was sealed. "
                           "Run a vault check.")
    return kept


def checked_annotations(vault: Vault, capture_id: int,
                        recorded: RecordedHashes) -> dict[str, Any] | None:
    """The capture's annotations, refused if they are not exactly as last saved."""
    rows = vault._read("SELECT data FROM annotation WHERE capture_id = ?", (capture_id,))
    if not rows:
        return None
    if _text_sha256(rows[0][0]) != recorded.annotations.get(capture_id):
        raise VaultDamaged(_annotations_changed(capture_id) + " No bundle was sealed. "
                           "Run a vault check.")
    return json.loads(rows[0][0])  # type: ignore[no-any-return]


def verify(vault: Vault, progress: Callable[[int, int], None] | None = None) -> VerifyReport:
    """Check the vault against its audit log; ``ok`` only if nothing differs.

    Detected: a broken hash chain (an entry changed, removed or reordered); an
    original, or any other artefact, that no longer matches the SHA-256 and size
    the log recorded at intake (re-hashed chunk by chunk), or that is missing,
    added, or whose recorded name, role, type or size changed; a capture's recorded facts and
    details, or which incident it is in, changed, added or removed behind the app's
    back (the log is replayed); a thumbnail, report picture or annotation that no
    longer matches the SHA-256 recorded when it was made or saved; an incident's
    title, description, start or creation time changed, or an incident added or
    removed (replayed from the log); a signing key that is not the one the log
    recorded, and an export the log says was sealed with another key; a received
    bundle changed; damaged database pages; an e-mail's or chat export's parsed messages
    changed (they must hash to what the import recorded), or a flag on a message added,
    changed or removed other than through the app (the flags are replayed from the log).

    Not detected: anything by someone who holds the key and rewrites the log and
    re-chains it (the log vouches only for itself; bundles already sent, ideally
    time-stamped, fix the past); pictures and a key recorded for the first time
    when this version upgraded the vault, for any change before that moment (said
    in ``not_checked``); an older copy of the whole database put back.
    """
    report = VerifyReport()
    try:
        entries = vault.audit_entries()
    except (ValueError, TypeError):
        report.problems.append("The audit log holds an entry that cannot be read.")
        return report
    report.entries_checked = len(entries)
    if broken := audit.first_broken(entries):
        report.problems.append(f"Audit log: {broken[1]}.")
    expected = _replay(entries, report.problems)
    recorded_artefacts = items.replay(entries)
    rows = vault._read(f"SELECT {_CAPTURE_COLUMNS} FROM capture ORDER BY id")  # noqa: S608
    total = len(rows)
    for index, row in enumerate(rows, 1):
        found = _row_to_capture(row)
        report.captures_checked += 1
        want = expected.pop(found.id, None)
        if want is None:
            report.problems.append(
                f"Capture {found.id} is not in the audit log: it was added outside the app.")
        else:
            for name, value in _capture_state(found).items():
                if want.get(name) != value:
                    report.problems.append(
                        f"Capture {found.id}: its {name.replace('_', ' ')} was changed "
                        "outside Evidence Recorder.")
        held = [items.row_to_artefact(r) for r in vault._read(
            f"SELECT {items.ARTEFACT_COLUMNS} FROM artefact WHERE item_id = ? "  # noqa: S608
            "ORDER BY id", (found.id,))]
        recorded_files = recorded_artefacts.get(found.id) if want is not None else None
        with vault._mutex:
            try:
                items.check_item(vault.conn, found.id, held, recorded_files,
                                 report.problems)
            except sqlcipher3.Error as exc:
                raise _translate_db_error(exc) from exc
        primary = next((a for a in held if a.primary), None)
        if primary is None:
            if not any(r.get("primary") for r in (recorded_files or {}).values()):
                report.problems.append(f"Capture {found.id}: its original image is missing.")
        elif primary.sha256 != found.sha256:
            report.problems.append(items.changed(found.id, primary.name, primary.role))
        if found.messages is not None and messages_digest(
                vault.messages(found.id)) != found.messages.messages_sha256:
            report.problems.append(f"Capture {found.id}: its messages were changed outside "
                                   "Evidence Recorder (they no longer match what was read "
                                   "from the export at import).")
        if progress is not None:
            progress(index, total)
    for missing in sorted(expected):
        report.problems.append(
            f"Capture {missing} is missing, but the audit log has no record of its deletion.")
    for (item_id,) in vault._read("SELECT DISTINCT item_id FROM artefact WHERE item_id "
                                  "NOT IN (SELECT id FROM capture) ORDER BY item_id"):
        report.problems.append(f"Files are stored for capture {item_id}, which is not in "
                               "the vault.")
    if vault._read("SELECT 1 FROM artefact_chunk WHERE artefact_id NOT IN "
                   "(SELECT id FROM artefact) LIMIT 1"):
        report.problems.append("The vault holds stored bytes that belong to no capture.")
    _verify_received(vault, entries, report)
    recorded = _recorded(entries)
    report.problems += [f"Audit log: entry {seq} cannot be understood."
                        for seq in recorded.unreadable]
    _verify_pictures(vault, recorded, report)
    _verify_annotations(vault, recorded, report)
    _verify_incidents(vault, entries, report)
    _verify_flags(vault, entries, report)
    _verify_signing_key(vault, recorded, report)
    try:
        integrity = vault._read("PRAGMA cipher_integrity_check")
    except EvidenceError:
        integrity = [("unreadable",)]
    if integrity:
        report.problems.append("The database file has damaged pages.")
    if vault.history.warning is not None:
        report.problems.append(vault.history.warning.text)
    report.problems = list(dict.fromkeys(report.problems))  # one unreadable entry, once
    return report


def _verify_received(vault: Vault, entries: list[AuditEntry], report: VerifyReport) -> None:
    """Received bundles: each still hashes to what the log recorded when it came in."""
    logged: dict[int, str] = {}
    for entry in entries:
        with contextlib.suppress(KeyError, TypeError, ValueError):
            if entry.action == "bundle.received":
                logged[int(entry.details["received"])] = str(entry.details["sha256"])
            elif entry.action == "bundle.deleted":
                logged.pop(int(entry.details["received"]), None)
    for bundle in vault.received_bundles():
        want = logged.pop(bundle.id, None)
        digest = hashlib.sha256()
        with vault.received_bundle_file(bundle.id) as fh:
            while block := fh.read(received.RECEIVED_CHUNK):
                digest.update(block)
        if want is None:
            report.problems.append(f"Received bundle {bundle.id} is not in the audit log.")
        elif digest.hexdigest() != want or bundle.sha256 != want:
            report.problems.append(f"Received bundle {bundle.id} ({bundle.file_name}) no "
                                   "longer matches the SHA-256 recorded when it came in.")
    for missing in sorted(logged):
        report.problems.append(f"Received bundle {missing} is missing, but the audit log "
                               "has no record of its deletion.")


def _verify_pictures(vault: Vault, recorded: RecordedHashes, report: VerifyReport) -> None:
    """Thumbnails and report previews: each still hashes to what the log recorded."""
    never: list[int] = []
    for capture_id in [int(r[0]) for r in vault._read("SELECT id FROM capture ORDER BY id")]:
        if capture_id not in recorded.pictures:
            continue  # named already: the capture itself is not in the log
        want = recorded.pictures[capture_id]
        if want is None:
            never.append(capture_id)
            continue
        with vault._mutex:
            try:
                have = _picture_hashes(vault.conn.cursor(), capture_id)
            except sqlcipher3.Error as exc:
                raise _translate_db_error(exc) from exc
        if have["thumbnail"] != want["thumbnail"]:
            report.problems.append(
                f"The thumbnail of capture {capture_id} is missing." if have["thumbnail"]
                is None else f"The thumbnail shown for capture {capture_id} in the app was "
                "changed after it was made.")
        kept = (have["preview"], have["small"])
        wanted = (want["preview"], want["small"])
        if kept == wanted:
            continue
        if wanted == (None, None):
            report.problems.append(f"Capture {capture_id} has a picture for reports that "
                                   "Evidence Recorder did not make.")
        elif kept == (None, None):
            report.problems.append(f"The picture used for capture {capture_id} in reports "
                                   "is missing.")
        else:
            report.problems.append(_picture_changed(capture_id))
    if never:
        report.not_checked.append(
            f"The thumbnails and report pictures of {_some_captures(never)} were made by "
            "an older version of Evidence Recorder that did not record their SHA-256, so "
            "they could not be checked.")
    late = {capture_id: at for capture_id, at in recorded.first_recorded_late.items()
            if capture_id in recorded.pictures}
    if late:
        report.not_checked.append(
            f"The thumbnails and report pictures of {_some_captures(sorted(late))} were "
            f"first recorded on {_when(min(late.values()))}, when this version first "
            "opened the vault: a change made before then cannot be detected.")


def _verify_annotations(vault: Vault, recorded: RecordedHashes, report: VerifyReport) -> None:
    """Annotations: each is exactly what was last saved through the app."""
    live = {int(r[0]) for r in vault._read("SELECT id FROM capture")}
    stored: set[int] = set()
    for capture_id, data in vault._read("SELECT capture_id, data FROM annotation "
                                        "ORDER BY capture_id"):
        stored.add(int(capture_id))
        want = recorded.annotations.get(int(capture_id))
        if capture_id not in live:
            report.problems.append(f"Highlights and redactions are stored for capture "
                                   f"{capture_id}, which is not in the vault.")
        elif want is None:
            report.problems.append(f"The highlights and redactions on capture {capture_id} "
                                   "are not in the audit log: they were added outside "
                                   "Evidence Recorder.")
        elif _text_sha256(data) != want:
            report.problems.append(_annotations_changed(int(capture_id)))
    for capture_id, want in sorted(recorded.annotations.items()):
        if want is not None and capture_id not in stored and capture_id in live:
            report.problems.append(f"The highlights and redactions on capture {capture_id} "
                                   "are missing, but the audit log has no record of their "
                                   "removal.")


def _verify_incidents(vault: Vault, entries: list[AuditEntry], report: VerifyReport) -> None:
    """Incidents: replayed from the log (created, edited) and compared with the table."""
    expected, default_id = _replay_incidents(entries, report.problems)
    rows = vault._read("SELECT id, title, description, started_at, created_at, is_default "
                       "FROM incident ORDER BY id")
    for row in rows:
        report.incidents_checked += 1
        incident_id = int(row[0])
        want = expected.pop(incident_id, None)
        if want is None:
            report.problems.append(f"Incident {incident_id} is not in the audit log: it "
                                   "was added outside Evidence Recorder.")
            continue
        found = dict(zip(_INCIDENT_FIELDS, row[1:5], strict=True))
        name = f"Incident {incident_id} (“{want.get('title', '')}”)"
        for field_name, label in _INCIDENT_FIELDS.items():
            if field_name in want and want[field_name] != found[field_name]:
                report.problems.append(f"{name}: its {label} was changed outside "
                                       "Evidence Recorder.")
        if bool(row[5]) != (incident_id == default_id):
            report.problems.append(f"{name}: whether it is where unsorted captures go "
                                   "was changed outside Evidence Recorder.")
    for incident_id, want in sorted(expected.items()):
        report.problems.append(f"Incident {incident_id} (“{want.get('title', '')}”) is "
                               "missing, but Evidence Recorder never deletes incidents.")


def _verify_signing_key(vault: Vault, recorded: RecordedHashes, report: VerifyReport) -> None:
    """The signing key is the one the log recorded, and every export was sealed with it."""
    current = vault._signing_fingerprint()
    first = recorded.key_fingerprint
    if current is None:
        report.problems.append("The vault's signing key is missing or damaged, so no "
                               "bundle can be sealed with it.")
    if first is None:
        report.not_checked.append("The signing key's fingerprint was never recorded in "
                                  "the audit log, so it could not be checked.")
    else:
        for seq, fingerprint in recorded.key_fingerprints:
            if fingerprint is not None and fingerprint != first:
                report.problems.append(
                    f"Audit log entry {seq} records a different signing key ({fingerprint}) "
                    f"from the one recorded before it ({first}).")
        if current is not None and current != first:
            report.problems.append(
                f"The vault's signing key was replaced: it is not the key recorded in the "
                f"audit log ({first}), so a bundle sealed now would show another "
                f"fingerprint ({current}).")
        if recorded.key_first_recorded_late is not None:
            report.not_checked.append(
                f"The signing key's fingerprint was first recorded on "
                f"{_when(recorded.key_first_recorded_late)}, when this version first "
                "opened the vault: a key replaced before then shows up only through the "
                "exports made before then.")
    reference = first or current
    for seq, bundle_name, fingerprint in recorded.exports:
        if fingerprint is None:
            report.problems.append(f"Audit log entry {seq}: the export of {bundle_name} "
                                   "does not say which key sealed it.")
        elif reference is not None and fingerprint != reference:
            report.problems.append(
                f"Audit log entry {seq}: {bundle_name} was sealed with a key ({fingerprint}) "
                f"that is not this vault's signing key ({reference}).")



def _verify_flags(vault: Vault, entries: list[AuditEntry], report: VerifyReport) -> None:
    """The flags on messages, replayed from the log, against the flag table."""
    want: dict[tuple[int, int], tuple[str, str]] = {}
    for entry in entries:
        if entry.action not in ("message.flagged", "message.unflagged", "capture.deleted"):
            continue
        d = entry.details
        try:
            item = int(d["capture"])
            if entry.action == "capture.deleted":
                for key in [k for k in want if k[0] == item]:
                    del want[key]
                continue
            for index in d["messages"]:
                if entry.action == "message.flagged":
                    want[(item, int(index))] = (str(d["category"]), str(d["note"]))
                else:
                    want.pop((item, int(index)), None)
        except (KeyError, TypeError, ValueError):
            report.problems.append(f"Audit log: entry {entry.seq} cannot be understood.")
    for flag in vault.message_flags():
        key = (flag.item_id, flag.index)
        if want.pop(key, None) != (flag.category, flag.note):
            report.problems.append(f"Capture {flag.item_id}: the flag on message {flag.index} "
                                   "was added or changed outside Evidence Recorder.")
    for item, index in sorted(want):
        report.problems.append(f"Capture {item}: the flag on message {index} was removed "
                               "outside Evidence Recorder.")


def _capture_state(c: Capture) -> dict[str, Any]:
    """What the audit log can vouch for about a capture, keyed as the log writes it."""
    state: dict[str, Any] = {
        "incident": c.incident_id, "kind": c.kind.value, "sha256": c.sha256,
        "captured_at": iso_utc(c.captured_at), "tz_name": c.tz_name, "utc_offset": c.utc_offset,
        "width": c.width, "height": c.height, "media_type": c.media_type,
        "byte_size": c.byte_size,
        # a web page's record is kept in the same column as an import's (see add_item)
        "source": (c.web.as_dict() if c.web is not None
                   else c.messages.as_dict() if c.messages is not None
                   else c.source.as_dict() if c.source else None),
        "title": c.title,
    }
    state.update(c.details.as_dict())
    return state


_INCIDENT_FIELDS = {"title": "title", "description": "description",
                    "started_at": "start date", "created_at": "creation time"}


def _replay_incidents(entries: list[AuditEntry],
                      problems: list[str]) -> tuple[dict[int, dict[str, Any]], int | None]:
    """Rebuild every incident from the log alone, and which one is the default.

    Vaults made before the default incident was written into ``vault.created`` made it
    first, in an empty table, with the fixed title and description, so it is number 1.
    """
    state: dict[int, dict[str, Any]] = {}
    default_id: int | None = None
    for entry in entries:
        d = entry.details
        try:
            if entry.action == "vault.created":
                seed = d.get("default_incident") or {
                    "incident": 1, "title": DEFAULT_INCIDENT_TITLE,
                    "description": DEFAULT_INCIDENT_DESCRIPTION, "started_at": ""}
                default_id = int(seed["incident"])
                state[default_id] = {k: str(v) for k, v in seed.items() if k in _INCIDENT_FIELDS}
            elif entry.action == "incident.created":
                state[int(d["incident"])] = {k: str(v) for k, v in d.items()
                                             if k in _INCIDENT_FIELDS}
            elif entry.action == "incident.edited":
                target = state.get(int(d["incident"]))
                if target is not None:
                    for name, change in d["changes"].items():
                        if name in _INCIDENT_FIELDS:
                            target[name] = change["new"]
        except (KeyError, TypeError, ValueError, AttributeError):
            problems.append(f"Audit log: entry {entry.seq} cannot be understood.")
    return state, default_id


def _recorded(entries: list[AuditEntry]) -> RecordedHashes:
    """Replay what the log recorded of pictures, annotations, the key and exports."""
    rec = RecordedHashes()
    for entry in entries:
        d = entry.details
        try:
            if entry.action == "vault.created" and "key_fingerprint" in d:
                rec.key_fingerprints.append((entry.seq, _optional_text(d["key_fingerprint"])))
            elif entry.action == "signing_key.recorded":
                rec.key_fingerprints.append((entry.seq, _optional_text(d["key_fingerprint"])))
                if d.get("first_recorded") and rec.key_first_recorded_late is None:
                    rec.key_first_recorded_late = entry.at
            elif entry.action == "capture.added":
                pictures = d.get("pictures")
                rec.pictures[int(d["capture"])] = (_picture_record(pictures)
                                                   if pictures is not None else None)
            elif entry.action == "pictures.recorded":
                capture_id = int(d["capture"])
                rec.pictures[capture_id] = _picture_record(d["pictures"])
                if d.get("first_recorded"):
                    rec.first_recorded_late[capture_id] = entry.at
            elif entry.action == "capture.deleted":
                capture_id = int(d["capture"])
                rec.pictures.pop(capture_id, None)
                rec.first_recorded_late.pop(capture_id, None)
                rec.annotations.pop(capture_id, None)
            elif entry.action == "annotation.changed":
                rec.annotations[int(d["capture"])] = _optional_text(d["sha256"])
            elif entry.action == "export":
                rec.exports.append((entry.seq, str(d.get("bundle") or entry.subject),
                                    _optional_text(d.get("key_fingerprint"))))
        except (KeyError, TypeError, ValueError, AttributeError):
            if not entry.action.startswith("capture."):  # those _replay names already
                rec.unreadable.append(entry.seq)
    return rec


def _picture_record(value: Any) -> dict[str, str | None]:
    if not isinstance(value, dict):
        raise TypeError("pictures must be an object")
    return {name: _optional_text(value.get(name)) for name in PICTURES}


def _optional_text(value: Any) -> str | None:
    if value is not None and not isinstance(value, str):
        raise TypeError("expected text")
    return value


def _text_sha256(value: str | bytes) -> str:
    return hashlib.sha256(value.encode() if isinstance(value, str) else bytes(value)).hexdigest()


def _picture_changed(capture_id: int) -> str:
    return f"The picture used for capture {capture_id} in reports was changed after it was made."


def _annotations_changed(capture_id: int) -> str:
    return (f"The highlights and redactions on capture {capture_id} were changed after they "
            "were saved.")


def _some_captures(ids: list[int]) -> str:
    """"capture 3", "captures 1, 2 and 5", "12 captures (1, 2, 3, 4, 5 and 7 more)"."""
    if len(ids) == 1:
        return f"capture {ids[0]}"
    if len(ids) <= 6:
        return f"captures {', '.join(map(str, ids[:-1]))} and {ids[-1]}"
    return f"{len(ids)} captures ({', '.join(map(str, ids[:5]))} and {len(ids) - 5} more)"


def _when(at: str) -> str:
    """An audit entry's time, as "2026-12-07 at 15:40 UTC"."""
    return f"{at[:10]} at {at[11:16]} UTC" if len(at) >= 16 else at


def _replay(entries: list[AuditEntry], problems: list[str]) -> dict[int, dict[str, Any]]:
    """Rebuild each live capture's state from the log alone."""
    state: dict[int, dict[str, Any]] = {}
    blank = CaptureDetails().as_dict()
    for entry in entries:
        d = entry.details
        try:
            if entry.action == "capture.added":
                values = {"title": ""}  # entries before items had titles: none
                values.update({k: v for k, v in d.items()
                               if k not in ("capture", "details", "pictures", "artefacts")})
                values.update(blank)
                values.update(d.get("details") or {})
                state[int(d["capture"])] = values
            elif entry.action == "capture.edited":
                target = state.get(int(d["capture"]))
                if target is not None:
                    for name, change in d["changes"].items():
                        target[name] = change["new"]
            elif entry.action == "capture.deleted":
                state.pop(int(d["capture"]), None)
        except (KeyError, TypeError, ValueError, AttributeError):
            problems.append(f"Audit log: entry {entry.seq} cannot be understood.")
    return state

