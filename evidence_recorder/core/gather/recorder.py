"""Turning a screen grab or an imported file into a saved capture.

This is the small service layer that the CLI and the app both call: it hashes the
bytes the moment they exist, records who and where, makes the thumbnail in memory,
and hands everything to the vault in one transaction.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from evidence_recorder.core.errors import EvidenceError, RefusedInput
from evidence_recorder.core.gather import device, images
from evidence_recorder.core.gather.capture import Grab
from evidence_recorder.core.gather.messages import detect
from evidence_recorder.core.model import (
    ArtefactRole,
    CaptureDetails,
    CaptureKind,
    iso_utc,
    utc_now,
)
from evidence_recorder.core.vault.items import NewArtefact
from evidence_recorder.core.vault.store import Vault


def save_grab(vault: Vault, grab: Grab, details: CaptureDetails | None = None,
              incident_id: int | None = None) -> int:
    """Store a screen grab; returns the new capture's id once it is durably saved."""
    sha256 = hashlib.sha256(grab.png).hexdigest()
    if grab.preview and grab.preview_small and grab.thumbnail:  # made during the encode
        preview, small, thumbnail = grab.preview, grab.preview_small, grab.thumbnail
    else:
        preview, small, thumbnail = images.make_thumbnails(
            grab.png, images.PREVIEW_SIDES, quality=images.PREVIEW_QUALITY)
    environment = device.environment({
        "capture_backend": grab.backend,
        "region": list(grab.region),
        "monitor": grab.monitor,
        "monitors": [
            {"index": m.index, "left": m.left, "top": m.top, "width": m.width,
             "height": m.height} for m in grab.monitors
        ],
    })
    return vault.add_capture(
        original=grab.png, sha256=sha256, kind=grab.kind, width=grab.width, height=grab.height,
        media_type="image/png", captured_at=iso_utc(grab.captured_at),
        tz_name=device.local_zone_name(), utc_offset=device.utc_offset(grab.captured_at),
        environment=environment, thumbnail=thumbnail, previews=(preview, small),
        details=details,
        incident_id=incident_id,
    )


@dataclass(slots=True)
class ImportOutcome:
    """Which files were saved (with their new ids) and which were refused, and why;
    ``taken_as`` says what each saved file was taken for ("a WhatsApp chat export")."""

    saved: list[tuple[Path, int]] = field(default_factory=list)
    refused: list[tuple[Path, str]] = field(default_factory=list)
    taken_as: dict[Path, str] = field(default_factory=dict)


def import_files(vault: Vault, paths: Iterable[Path], details: CaptureDetails | None = None,
                 incident_id: int | None = None,
                 progress: Callable[[int, int, Path], None] | None = None,
                 pick: Iterable[int] | None = None) -> ImportOutcome:
    """Import many files; a refused file is reported and the others still go in.

    ``pick`` takes chosen e-mails of a mailbox, each as an item of its own (the
    mailbox file kept whole with each, as the original they were read from).

    The time of import is the capture time. A date inside the file (EXIF) is kept
    only as what the file *claims*, since anyone can write any date there.
    """
    outcome = ImportOutcome()
    todo = list(paths)
    for index, path in enumerate(todo, 1):
        try:
            fmt = _format_of(path)
            if pick is not None:
                if fmt is None or fmt.id != "mbox":
                    raise RefusedInput(f"“{path.name}” is not a mailbox, so there are no "
                                       "e-mails in it to choose from.")
                for number in sorted(set(pick)):
                    outcome.saved.append((path, import_export(vault, path, fmt, details,
                                                              incident_id, only={number})))
                    outcome.taken_as[path] = fmt.label
            elif fmt is not None and fmt.kind != "picture":
                outcome.saved.append((path, import_export(vault, path, fmt, details,
                                                          incident_id)))
                outcome.taken_as[path] = fmt.label
            if pick is not None or (fmt is not None and fmt.kind != "picture"):
                if progress is not None:
                    progress(index, len(todo), path)
                continue
            data, source = images.read_import_file(path)
            info = images.inspect_image(data, path.name)
            source.claimed_time = info.claimed_time
            imported_at = utc_now()
            sha256 = hashlib.sha256(data).hexdigest()
            preview, small, thumbnail = images.make_thumbnails(
                data, images.PREVIEW_SIDES, name=path.name, quality=images.PREVIEW_QUALITY)
            capture_id = vault.add_capture(
                original=data, sha256=sha256, kind=CaptureKind.IMPORT, width=info.width,
                height=info.height, media_type=info.media_type,
                captured_at=iso_utc(imported_at), tz_name=device.local_zone_name(),
                utc_offset=device.utc_offset(imported_at), environment=device.environment(),
                thumbnail=thumbnail, previews=(preview, small), source=source, details=details,
                incident_id=incident_id,
            )
        except images.NotAPicture:
            outcome.refused.append((path, _not_evidence_we_read(path)))
        except RefusedInput as exc:
            outcome.refused.append((path, exc.message))
        except EvidenceError:
            raise
        else:
            outcome.saved.append((path, capture_id))
            outcome.taken_as[path] = detect.FORMATS["picture"].label
        if progress is not None:
            progress(index, len(todo), path)
    return outcome


def _not_evidence_we_read(path: Path) -> str:
    return (f"“{path.name}” is not a picture, e-mail or chat export Evidence Recorder can "
            f"read. It takes pictures ({images.SUPPORTED_NAMES}), e-mails (.eml, Outlook "
            ".msg, mbox) and chat exports (WhatsApp, Telegram, Facebook, Messenger, "
            "Instagram, Discord, Signal, SMS Backup & Restore).")


def _format_of(path: Path) -> detect.Format | None:
    """What the file is by its content; a file that cannot be read goes on to the
    picture reader, whose refusal says why in the person's words."""
    try:
        return detect.what_is(path)
    except OSError:
        return None


@contextlib.contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """Parsing an export makes hundreds of thousands of small objects that all live on
    (the messages); the cyclic collector would walk them again and again for nothing
    (they hold no cycles). Reference counting still frees everything as usual."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


def import_export(vault: Vault, path: Path, fmt: detect.Format | None = None,
                  details: CaptureDetails | None = None,
                  incident_id: int | None = None, only: set[int] | None = None) -> int:
    """Take in an e-mail, a mailbox or a chat export as one item: the file itself byte
    for byte (primary), each attachment or media file as its own artefact, and the
    parsed messages; returns the item's id once durably saved."""
    with _no_cyclic_gc():
        export = detect.parse(path, fmt, only=only)
        export.finish()
    imported_at = utc_now()
    original = export.original_name or "export.bin"
    artefacts = [NewArtefact(original, ArtefactRole.RAW_MESSAGE if export.kind == "email"
                             and export.source.format != "mbox" else ArtefactRole.EXPORT,
                             export.original_media_type, path.open("rb"), primary=True)]
    try:
        for media in export.media:
            artefacts.append(NewArtefact(media.name, ArtefactRole.ATTACHMENT, media.media_type,
                                         media.open(), derived_from=original))
        thumbnail = images.message_card(export.kind, export.source.title,
                                        export.source.message_count)
        return vault.add_item(
            CaptureKind(export.kind), artefacts, captured_at=iso_utc(imported_at),
            tz_name=device.local_zone_name(), utc_offset=device.utc_offset(imported_at),
            environment=device.environment(), thumbnail=thumbnail,
            title=export.source.title, details=details, incident_id=incident_id,
            messages=export)
    finally:
        for artefact in artefacts:
            if not isinstance(artefact.data, bytes):
                artefact.data.close()
