"""The application-service layer between the widgets and the core vault.

Widgets never talk SQL or hold the :class:`Vault`: they ask this session, which runs
slow work (unlocking, saving a grab, importing, verifying, exporting, keeping a received
bundle) off the GUI thread and announces changes with signals. Locking drops the vault
and tells every widget to forget what it shows; it waits for a grab being saved, so
nothing captured is lost.

This is the one ui module that may import the vault, bundle and recorder modules of
``core`` (the import-linter contracts in pyproject.toml hold the widgets to that). The
data types widgets name come from here too: imported under ``TYPE_CHECKING`` below and
by the widgets from this module, so that showing the start window loads none of them.
:func:`open_bundle_file` and :class:`TrustedAuthorities` need no vault: the bundle viewer
uses them before any vault exists.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal

# "X as X" marks a name widgets take from here (they may not import its core module).
from evidence_recorder.core.bundle.sealnumber import seal_number_rows as seal_number_rows
from evidence_recorder.core.errors import EvidenceError, WrongSecret
from evidence_recorder.core.model import AuditEntry, Capture, CaptureDetails, Incident
from evidence_recorder.core.paths import vault_exists
from evidence_recorder.ui.tasks import Progress, run_task

if TYPE_CHECKING:  # imported where used: none of these is needed to show the start window
    from datetime import datetime

    from evidence_recorder.core.bundle import seal as bundle
    from evidence_recorder.core.bundle.evidence import BundleEvidence as BundleEvidence
    from evidence_recorder.core.bundle.evidence import BundleItem as BundleItem
    from evidence_recorder.core.bundle.opened import OpenedBundle as OpenedBundle
    from evidence_recorder.core.bundle.seal import ExportOptions as ExportOptions
    from evidence_recorder.core.bundle.trust import ImportedRoot
    from evidence_recorder.core.conversation import Message, MessageFlag
    from evidence_recorder.core.gather import recorder
    from evidence_recorder.core.gather.capture import Grab
    from evidence_recorder.core.gather.recorder import ImportOutcome as ImportOutcome
    from evidence_recorder.core.gather.webpage import PageRecord as PageRecord
    from evidence_recorder.core.vault.anchor import HistoryWarning as HistoryWarning
    from evidence_recorder.core.vault.keyfile import KdfParams as KdfParams
    from evidence_recorder.core.vault.received import ReceivedBundle as ReceivedBundle
    from evidence_recorder.core.vault.store import Vault
    from evidence_recorder.core.vault.verify import VerifyReport as VerifyReport

ExportResult = tuple[Path, str, str]
"""What an export made: the bundle's path, its seal's fingerprint and seal number."""

# Waits after repeated wrong passphrases: slows guessing without punishing a typo.
BACKOFF_SECONDS = (0, 0, 1, 2, 4, 8, 15, 30)
# Covered copies drawn in memory: a few full pictures, more thumbnails. Never on disk.
COVERED_COPIES_KEPT = 4
COVERED_THUMBNAILS_KEPT = 400


class VaultSession(QObject):
    unlocked = Signal()
    locking = Signal()  # the vault is about to close: last writes (browser sign-in) now
    locked = Signal()
    captures_changed = Signal()
    messages_flagged = Signal(int)  # an item's message flags changed (its id)
    incidents_changed = Signal()
    capture_saved = Signal(int)
    history_changed = Signal()  # the vault's history warning was resolved
    annotations_changed = Signal(int)  # a capture's covered copy is drawn anew

    def __init__(self, folder: Path, kdf: KdfParams | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.folder = folder
        self._kdf = kdf  # tests pass tiny costs; the product calibrates (None)
        self._vault: Vault | None = None
        self._failures = 0
        self._blocked_until = 0.0
        self._changing_keys = False  # see lock()
        self._lock_when_keys_changed = False
        # Covered copies drawn from original + annotations, keyed by what they were drawn
        # from (capture, annotations digest, full or thumbnail); thumbnails load in a pool.
        self._covered: OrderedDict[tuple[int, str, bool], bytes] = OrderedDict()
        self._covered_mutex = threading.Lock()
        self._deferred_lock_how = "locked by you"
        # Grabs being saved in the background (see save_grab): locking waits for them.
        self._saves = threading.Condition()
        self._saves_running = 0
        self._lock_when_saved = False

    # ------------------------------------------------------------------ state

    def exists(self) -> bool:
        return vault_exists(self.folder)

    @property
    def is_unlocked(self) -> bool:
        return self._vault is not None and self._vault.is_open

    @property
    def vault(self) -> Vault:
        if self._vault is None:
            raise EvidenceError(self.tr("The vault is locked. Unlock it first."))
        return self._vault

    def seconds_until_retry(self) -> float:
        return max(0.0, self._blocked_until - time.monotonic())

    # ------------------------------------------------------------------ opening

    def create(self, passphrase: str, on_done: Callable[[str], None],
               on_failure: Callable[[EvidenceError], None]) -> None:
        """Create the vault in the background; ``on_done`` gets the recovery key."""

        def job(_progress: Progress) -> tuple[Vault, str]:
            from evidence_recorder.core.vault.store import Vault

            return Vault.create(self.folder, passphrase, kdf=self._kdf)

        def done(result: tuple[Vault, str]) -> None:
            self._vault = result[0]
            self.unlocked.emit()
            on_done(result[1])

        run_task(job, on_success=done, on_failure=on_failure)

    def unlock(self, passphrase: str, on_done: Callable[[], None],
               on_failure: Callable[[EvidenceError], None]) -> None:
        wait = self.seconds_until_retry()
        if wait > 0:
            n = round(wait)
            on_failure(WrongSecret(self.tr("Please wait %n second before trying again.", "", n)
                                   if n == 1 else
                                   self.tr("Please wait %n seconds before trying again.", "", n)))
            return

        def job(_progress: Progress) -> Vault:
            from evidence_recorder.core.vault.store import Vault

            return Vault.open(self.folder, passphrase)

        self._open_with(job, on_done, on_failure)

    def recover(self, recovery_key: str, new_passphrase: str, on_done: Callable[[], None],
                on_failure: Callable[[EvidenceError], None]) -> None:
        def job(_progress: Progress) -> Vault:
            from evidence_recorder.core.vault.store import Vault

            return Vault.recover(self.folder, recovery_key, new_passphrase, kdf=self._kdf)

        self._open_with(job, on_done, on_failure)

    def _open_with(self, job: Callable[[Progress], Vault], on_done: Callable[[], None],
                   on_failure: Callable[[EvidenceError], None]) -> None:
        def done(vault: Vault) -> None:
            self._vault = vault
            self._failures = 0
            self.unlocked.emit()
            on_done()

        def failed(exc: EvidenceError) -> None:
            if isinstance(exc, WrongSecret):
                self._failures += 1
                delay = BACKOFF_SECONDS[min(self._failures, len(BACKOFF_SECONDS) - 1)]
                self._blocked_until = time.monotonic() + delay
            on_failure(exc)

        run_task(job, on_success=done, on_failure=failed)

    def lock(self, *, now: bool = False, how: str = "locked by you") -> None:
        """Close the database and forget the key; every widget is told to drop its data.

        ``how`` goes into the audit log's "vault.locked" entry: "locked by you", "idle",
        "session locked" or "closing".

        While all keys are being changed, locking waits until the person has seen the new
        recovery key (:meth:`keys_change_over`): locking in between would freeze the
        window until the copy finished, then close the only sight of the new key. ``now``
        locks at once all the same (quitting the app).

        While a grab is being saved (:meth:`save_grab`), locking waits for the save to end,
        so nothing captured is lost: it happens as soon as the save reports, or, with
        ``now``, after blocking until the save is on disk.
        """
        if self._vault is None:
            return
        if self._changing_keys and not now:
            self._lock_when_keys_changed = True
            self._deferred_lock_how = how
            return
        if self.is_saving() and not now:
            self._lock_when_saved = True
            self._deferred_lock_how = how
            return
        with self._saves:  # quitting: the save in progress finishes first
            self._saves.wait_for(lambda: self._saves_running == 0)
        self._changing_keys = self._lock_when_keys_changed = self._lock_when_saved = False
        self.locking.emit()
        vault, self._vault = self._vault, None
        self._forget_covered()
        vault.close(how=how)
        self.locked.emit()

    # ------------------------------------------------------------------ history

    def history_warning(self) -> HistoryWarning | None:
        """Set while this vault is older than the copy last opened on this computer."""
        return self.vault.history_warning if self.is_unlocked else None

    def has_history_notice(self) -> bool:
        return self.is_unlocked and bool(self.vault.history.notice)

    def take_history_notice(self) -> str | None:
        """What to say once about a backup restored on purpose (then never again)."""
        if not self.is_unlocked:
            return None
        notice, self.vault.history.notice = self.vault.history.notice, None
        return notice

    def last_opened(self) -> tuple[datetime, int] | None:
        """When this computer last opened this vault, and how many captures it then held."""
        if not self.is_unlocked or self.vault.history.last_seen is None:
            return None
        seen = self.vault.history.last_seen
        return seen.opened, seen.captures

    def history_checked(self) -> bool:
        """Whether this unlock compared the vault with a record this computer kept."""
        return self.is_unlocked and self.vault.history.checked

    def first_time_here(self) -> bool:
        return self.is_unlocked and self.vault.history.first_here

    def accept_history(self) -> None:
        """The person put back an older copy on purpose: logged; the warning stops."""
        self.vault.accept_history()
        self.history_changed.emit()

    # ------------------------------------------------------------------ reading

    def incidents(self) -> list[Incident]:
        return self.vault.incidents()

    def captures(self, incident_id: int | None = None, *,
                 newest: int | None = None) -> list[Capture]:
        return self.vault.captures(incident_id, newest=newest)

    def capture_count(self, incident_id: int | None = None) -> int:
        return self.vault.capture_count(incident_id)

    def capture(self, capture_id: int) -> Capture:
        return self.vault.capture(capture_id)

    def thumbnail(self, capture_id: int) -> bytes:
        return self.vault.thumbnail(capture_id)

    def original(self, capture_id: int) -> bytes:
        return self.vault.original(capture_id)

    def annotations(self, capture_id: int) -> dict[str, Any] | None:
        return self.vault.annotations(capture_id)

    # ------------------------------------------------------------------ messages
    # An e-mail's or chat export's parsed messages, read a page at a time: each call is
    # one indexed query, quick enough for the GUI thread (a page of ~500 messages).

    def messages(self, item_id: int, start: int = 0, limit: int | None = None, *,
                 since: str = "", until: str = "", search: str = "", sender: str = "",
                 indexes: Sequence[int] | None = None) -> list[Message]:
        """Messages of one item in export order (see ``Vault.messages``)."""
        return self.vault.messages(item_id, start=start, limit=limit, since=since,
                                   until=until, search=search, sender=sender, indexes=indexes)

    def message_count(self, item_id: int) -> int:
        return self.vault.message_count(item_id)

    def matching_messages(self, item_id: int, search: str) -> list[int]:
        """The indexes of the messages whose text or sender holds ``search``."""
        if not search.strip():
            return []
        return [m.index for m in self.vault.messages(item_id, search=search)]

    def first_message_at(self, item_id: int, when: datetime) -> int | None:
        """The index of the first message sent at or after ``when`` (time-zone aware)."""
        return self.vault.first_message_at(item_id, when)

    def message_senders(self, item_id: int | None = None) -> list[tuple[str, str, int]]:
        """(sender as shown, sender id, how many messages), of one item or of all."""
        return self.vault.message_senders(item_id)

    def message_flags(self, item_id: int | None = None) -> list[MessageFlag]:
        return self.vault.message_flags(item_id)

    def flagged_messages(self, item_ids: Sequence[int]) -> list[tuple[MessageFlag, Message]]:
        """The flagged messages of these items with the messages themselves, for the
        timeline (one query per item that has flags)."""
        wanted = set(item_ids)
        by_item: dict[int, list[MessageFlag]] = {}
        for flag in self.vault.message_flags():
            if flag.item_id in wanted:
                by_item.setdefault(flag.item_id, []).append(flag)
        out: list[tuple[MessageFlag, Message]] = []
        for item_id, flags in by_item.items():
            found = {m.index: m for m in self.vault.messages(
                item_id, indexes=[f.index for f in flags])}
            out += [(f, found[f.index]) for f in flags if f.index in found]
        return out

    def flag_messages(self, item_id: int, indexes: Sequence[int], *, category: str = "",
                      note: str = "") -> list[int]:
        """Flag messages as mattering (audited by the vault); flagging again replaces
        the category and note. Returns the indexes flagged."""
        done = self.vault.flag_messages(item_id, indexes, category=category, note=note)
        if done:
            self.messages_flagged.emit(item_id)
        return done

    def unflag_messages(self, item_id: int, indexes: Sequence[int]) -> list[int]:
        """Take flags off (audited); returns the indexes that were flagged."""
        done = self.vault.unflag_messages(item_id, indexes)
        if done:
            self.messages_flagged.emit(item_id)
        return done

    def has_artefact(self, item_id: int, name: str) -> bool:
        """Whether the item keeps a file of this name (an attachment not left out)."""
        return bool(name) and any(a.name == name for a in self.vault.artefacts(item_id))

    def artefact_bytes(self, item_id: int, name: str) -> bytes:
        """An attachment's bytes, whole (pictures shown in a conversation)."""
        return self.vault.artefact_bytes(item_id, name)

    def save_artefact_copy(self, item_id: int, name: str, target: Path,
                           on_done: Callable[[Path], None],
                           on_failure: Callable[[EvidenceError], None]) -> None:
        """Write a copy of one of the item's files to ``target`` in the background (a
        temporary file in the same folder, synced, then renamed), at the person's ask, as
        ``evidence-recorder extract`` does: hashed on the way and written only if it is
        still what was recorded at intake; audited as "capture.extracted"."""
        from evidence_recorder.core.errors import VaultDamaged
        from evidence_recorder.core.fsutil import atomic_writer

        vault = self.vault

        def job(_progress: Progress) -> Path:
            artefact = vault.artefact(item_id, name)
            digest = hashlib.sha256()
            try:
                with vault.open_artefact(item_id, name) as source, \
                        atomic_writer(target) as out:
                    while chunk := source.read(1 << 20):
                        digest.update(chunk)
                        out.write(chunk)
                    if digest.hexdigest() != artefact.sha256:
                        raise VaultDamaged(
                            f"The file {name} no longer matches the SHA-256 recorded when it "
                            "was saved, so no copy was written. Use Vault ▸ Verify vault.")
            except OSError as exc:
                raise EvidenceError(f"The copy could not be saved ({exc.strerror or exc}). "
                                    "Choose another folder.") from exc
            vault.record("capture.extracted", f"capture:{item_id}",
                         {"capture": item_id, "artefact": name})
            return target

        run_task(job, on_success=on_done, on_failure=on_failure)

    def people(self, captures: Sequence[Capture]) -> list[str]:
        """Whom the person can filter the timeline by: the authors, handles and author
        numbers of these items, and who sent messages in them, each once, sorted."""
        from evidence_recorder.core.model import handle_text

        names: set[str] = set()
        for capture in captures:
            d = capture.details
            names.update(v.strip() for v in (d.author, d.author_id) if v.strip())
            if d.handle.strip():
                names.add(handle_text(d.handle))
        for capture in captures:
            if capture.messages is None:
                continue
            for sender, sender_id, _count in self.vault.message_senders(capture.id):
                names.update(v.strip() for v in (sender, sender_id) if v.strip())
        return sorted(names, key=str.casefold)

    # ------------------------------------------------------------------ web pages

    def first_web_details(self, record: PageRecord) -> CaptureDetails:
        """What a captured page fills in by itself: the site guessed from its address,
        and the address."""
        from evidence_recorder.core.gather import web

        return web.first_details(record)

    def web_suggestions(self, record: PageRecord) -> dict[str, str]:
        """The author and @handle the page's own metadata names ({} when none): offered
        to the person, never written without their say."""
        from evidence_recorder.core.gather import web

        return {name: value for name, value in web.suggestions(record).items() if value}

    def later_checks(self, capture_id: int) -> list[Capture]:
        """The later checks of a web item ("Check again"), oldest first."""
        from evidence_recorder.core.gather import web

        return web.checks_of(self.vault, capture_id)

    def checks_by_item(self, captures: Sequence[Capture]) -> dict[int, list[Capture]]:
        """:meth:`later_checks` of the web pages among ``captures`` that have any (one
        pass over the vault, and none at all when no web page is among them)."""
        shown = {c.id for c in captures if c.web is not None}
        if not shown:
            return {}
        from evidence_recorder.core.gather import web

        return {item: checks for item, checks in web.checks_by_original(self.vault).items()
                if item in shown}

    def browser_cookies(self) -> list[bytes] | None:
        """The capture browser's sign-in kept in the vault ("Stay signed in"), or None."""
        return self.vault.browser_cookies()

    def keep_browser_cookies(self, cookies: Sequence[bytes] | None) -> None:
        """Keep the browser's cookies in the vault only (None forgets them); audited as
        a sign-in kept or forgotten, never with the cookies themselves."""
        self.vault.keep_browser_cookies(cookies)

    # ------------------------------------------------------------------ covered copies

    def is_covered(self, capture_id: int) -> bool:
        """Whether the person covered (redacted) part of this capture on a copy."""
        from evidence_recorder.core.marks import has_redactions

        return has_redactions(self.vault.annotations(capture_id))

    def covered_copy(self, capture_id: int) -> bytes | None:
        """The capture as the person covered it (original + annotations, drawn in memory),
        or None when nothing on it is covered. Raises EvidenceError if it cannot be drawn:
        the caller must then show nothing rather than the original."""
        return self._covered_picture(capture_id, thumbnail=False)

    def display_thumbnail(self, capture_id: int) -> bytes:
        """The thumbnail to show: of the covered copy when part of the capture is covered
        (what was covered stays covered in every list), else the stored one. Safe to call
        from the thumbnail pool."""
        covered = self._covered_picture(capture_id, thumbnail=True)
        return covered if covered is not None else self.vault.thumbnail(capture_id)

    def _covered_picture(self, capture_id: int, *, thumbnail: bool) -> bytes | None:
        from evidence_recorder.core import marks
        from evidence_recorder.core.gather import images

        vault = self.vault
        data = vault.annotations(capture_id)
        if not marks.has_redactions(data):
            return None
        digest = hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()
        key = (capture_id, digest, thumbnail)
        with self._covered_mutex:
            kept = self._covered.get(key)
            if kept is not None:
                self._covered.move_to_end(key)
                return kept
        full_key = (capture_id, digest, False)
        with self._covered_mutex:
            full = self._covered.get(full_key)
        if full is None:
            full = marks.render(vault.original(capture_id), data)
        picture = images.make_thumbnail(full) if thumbnail else full
        with self._covered_mutex:
            if self._vault is vault:  # not locked meanwhile
                self._covered[key] = picture
                self._trim_covered()
        return picture

    def _trim_covered(self) -> None:
        for full, limit in ((False, COVERED_COPIES_KEPT), (True, COVERED_THUMBNAILS_KEPT)):
            keys = [k for k in self._covered if k[2] is full]
            for key in keys[: max(0, len(keys) - limit)]:
                del self._covered[key]

    def _forget_covered(self, capture_id: int | None = None) -> None:
        with self._covered_mutex:
            for key in [k for k in self._covered if capture_id is None or k[0] == capture_id]:
                del self._covered[key]

    def uncovered_captures(self, options: bundle.ExportOptions) -> list[Capture]:
        """The captures an export would send with nothing covered (see core.bundle)."""
        from evidence_recorder.core.bundle import seal as bundles

        return bundles.uncovered_captures(self.vault, options)

    def audit_entries(self) -> list[AuditEntry]:
        return self.vault.audit_entries()

    def earliest_capture_time(self) -> datetime | None:
        return self.vault.earliest_capture_time()

    # ------------------------------------------------------------------ changing

    def is_saving(self) -> bool:
        """Whether a grab is being saved in the background."""
        with self._saves:
            return self._saves_running > 0

    def save_grab(self, grab: Grab, details: CaptureDetails | None, incident_id: int | None,
                  on_done: Callable[[int], None],
                  on_failure: Callable[[EvidenceError], None]) -> None:
        """Save a grab in the background (hashing, previews, one transaction);
        ``on_done`` gets the new capture's id once it is durably saved.

        A lock asked for meanwhile waits for the save and happens before ``on_done`` runs
        (check :attr:`is_unlocked` there): the capture is kept either way.
        """
        from evidence_recorder.core.gather import recorder

        self._save_in_background(
            lambda vault: recorder.save_grab(vault, grab, details, incident_id),
            on_done, on_failure)

    def save_web_page(self, record: PageRecord, details: CaptureDetails | None = None,
                      recheck_of: int | None = None, *, incident_id: int | None = None,
                      on_done: Callable[[int], None],
                      on_failure: Callable[[EvidenceError], None]) -> None:
        """Save a captured web page as one item (pictures, archive, WARC, certificate) in
        the background, like :meth:`save_grab`: a lock waits for it. ``recheck_of`` links
        it to the item it checked again. ``on_done`` gets the new item's id."""
        from evidence_recorder.core.gather import web

        self._save_in_background(
            lambda vault: web.save_page(vault, record, details, incident_id, recheck_of),
            on_done, on_failure)

    def _save_in_background(self, save: Callable[[Vault], int],
                            on_done: Callable[[int], None],
                            on_failure: Callable[[EvidenceError], None]) -> None:
        vault = self.vault
        with self._saves:
            self._saves_running += 1

        def job(_progress: Progress) -> int:
            try:
                return save(vault)
            finally:
                with self._saves:
                    self._saves_running -= 1
                    self._saves.notify_all()

        def done(capture_id: int) -> None:
            if self._vault is vault:
                self.captures_changed.emit()
                self.incidents_changed.emit()
                self.capture_saved.emit(capture_id)
            self._lock_if_asked_while_saving()
            on_done(capture_id)

        def failed(exc: EvidenceError) -> None:
            self._lock_if_asked_while_saving()
            on_failure(exc)

        run_task(job, on_success=done, on_failure=failed,
                 on_finished=self._lock_if_asked_while_saving)

    def _lock_if_asked_while_saving(self) -> None:
        if self._lock_when_saved and not self.is_saving():
            self._lock_when_saved = False
            self.lock(how=self._deferred_lock_how)

    def import_files(self, paths: Sequence[Path], incident_id: int | None,
                     on_done: Callable[[recorder.ImportOutcome], None],
                     on_failure: Callable[[EvidenceError], None],
                     on_progress: Progress | None = None) -> None:
        from evidence_recorder.core.gather import recorder

        vault = self.vault

        def job(progress: Progress) -> recorder.ImportOutcome:
            return recorder.import_files(vault, paths, None, incident_id,
                                         progress=lambda i, n, _p: progress(i, n))

        def done(outcome: recorder.ImportOutcome) -> None:
            self.captures_changed.emit()
            self.incidents_changed.emit()
            on_done(outcome)

        run_task(job, on_success=done, on_failure=on_failure, on_progress=on_progress)

    def edit_capture(self, capture_id: int, changes: dict[str, str],
                     incident_id: int | None = None) -> None:
        if self.vault.edit_capture(capture_id, changes, incident_id):
            self.captures_changed.emit()
            if incident_id is not None:
                self.incidents_changed.emit()

    def move_captures(self, capture_ids: Sequence[int], incident_id: int) -> list[int]:
        """Put captures in another incident (audited, one entry each); returns those moved."""
        moved = self.vault.move_captures(capture_ids, incident_id)
        if moved:
            self.captures_changed.emit()
            self.incidents_changed.emit()
        return moved

    def set_annotations(self, capture_id: int, data: dict[str, Any] | None) -> None:
        self.vault.set_annotations(capture_id, data)
        self._forget_covered(capture_id)
        self.annotations_changed.emit(capture_id)
        self.captures_changed.emit()

    def delete_capture(self, capture_id: int, reason: str) -> None:
        self.vault.delete_capture(capture_id, reason)
        self.captures_changed.emit()
        self.incidents_changed.emit()

    def new_incident(self, title: str, description: str = "") -> Incident:
        incident = self.vault.new_incident(title, description)
        self.incidents_changed.emit()
        return incident

    def edit_incident(self, incident_id: int, **changes: str) -> None:
        self.vault.edit_incident(incident_id, **changes)
        self.incidents_changed.emit()

    def my_seal(self) -> tuple[str, str]:
        """The vault's seal as (``SHA256:…`` fingerprint, seal number).

        Quick (a few milliseconds), so it runs here rather than as a background job.
        """
        from evidence_recorder.core.bundle import seal as bundle

        return bundle.signing_fingerprint(self.vault), bundle.signing_seal_number(self.vault)

    def verify(self, on_done: Callable[[VerifyReport], None],
               on_failure: Callable[[EvidenceError], None],
               on_progress: Progress | None = None) -> None:
        vault = self.vault
        run_task(lambda progress: vault.verify(progress), on_success=on_done,
                 on_failure=on_failure, on_progress=on_progress)

    # ------------------------------------------------------------------ bundles

    def export_options(self, *, capture_ids: list[int] | None, incident_ids: list[int] | None,
                       audience: str) -> ExportOptions:
        """The scope of an export (the dialog fills in the rest with dataclasses.replace)."""
        from evidence_recorder.core.bundle import seal as bundles

        return bundles.ExportOptions(capture_ids=capture_ids, incident_ids=incident_ids,
                                     audience=audience)

    @staticmethod
    def bundle_name(when: datetime) -> str:
        """The name a bundle made at ``when`` carries (also its file's suggested name)."""
        from evidence_recorder.core.bundle import seal as bundles

        return bundles.bundle_name(when)

    def export(self, target: Path, chosen: ExportOptions,
               on_done: Callable[[ExportResult], None],
               on_failure: Callable[[EvidenceError], None],
               on_progress: Progress | None = None) -> None:
        """Seal a bundle at ``target`` in the background; ``on_done`` gets its path, and the
        seal's fingerprint and seal number to read to the recipient."""
        from evidence_recorder.core.bundle import seal as bundles

        vault = self.vault

        def job(progress: Progress) -> ExportResult:
            path = bundles.export_bundle(vault, target, options=chosen, progress=progress)
            return path, bundles.signing_fingerprint(vault), bundles.signing_seal_number(vault)

        run_task(job, on_success=on_done, on_failure=on_failure, on_progress=on_progress)

    def received_bundles(self) -> list[ReceivedBundle]:
        """The bundles kept in this vault as they arrived (a quick read)."""
        return self.vault.received_bundles()

    def keep_received(self, path: Path, shown: dict[str, object], passphrase: str | None,
                      on_done: Callable[[int], None],
                      on_failure: Callable[[EvidenceError], None]) -> None:
        """Read the file at ``path`` once into the vault, in the background, and keep it only
        if that copy verifies as ``shown``: what is kept is exactly what was checked.
        ``on_done`` gets the received bundle's id."""
        from evidence_recorder.core.bundle.check import keep_received_bundle

        vault = self.vault

        def job(_progress: Progress) -> int:
            return keep_received_bundle(vault, path, shown, passphrase)

        run_task(job, on_success=on_done, on_failure=on_failure)

    def received_opener(self, bundle_id: int) -> Callable[[Path, str | None], OpenedBundle]:
        """An opener for the bundle viewer (which runs it in the background) that checks and
        opens a received bundle from the vault, never copying it back to disk."""
        vault = self.vault

        def opener(_path: Path, passphrase: str | None = None) -> OpenedBundle:
            from evidence_recorder.core.bundle.opened import open_bundle

            return open_bundle(vault.received_bundle_file(bundle_id), passphrase)

        return opener

    def delete_received(self, bundle_id: int, reason: str) -> None:
        """Delete a received bundle; its fingerprint and the reason stay in the audit log."""
        self.vault.delete_received_bundle(bundle_id, reason)

    # ------------------------------------------------------------------ keys

    def change_passphrase(self, current: str, new: str, on_done: Callable[[], None],
                          on_failure: Callable[[EvidenceError], None]) -> None:
        """Check the current passphrase, then rewrap the key under the new one."""
        vault = self.vault

        def job(_progress: Progress) -> None:
            vault.check_passphrase(current)
            vault.change_passphrase(new, kdf=self._kdf)

        run_task(job, on_success=lambda _result: on_done(), on_failure=on_failure)

    def change_all_keys(self, current: str, new: str, on_done: Callable[[str], None],
                        on_failure: Callable[[EvidenceError], None],
                        on_progress: Progress | None = None) -> None:
        """Check the current passphrase, then re-encrypt everything under new keys;
        ``on_done`` gets the new recovery key, to show once."""
        vault = self.vault
        self._changing_keys = True

        def job(progress: Progress) -> str:
            vault.check_passphrase(current)
            return vault.change_all_keys(new, progress=progress, kdf=self._kdf)

        run_task(job, on_success=on_done, on_failure=on_failure, on_progress=on_progress)

    def keys_change_over(self) -> None:
        """The key change ended (failed, or its recovery key was shown and kept): a lock
        asked for in the meantime happens now."""
        self._changing_keys = False
        if self._lock_when_keys_changed:
            self.lock(how=self._deferred_lock_how)


def open_bundle_file(path: Path, passphrase: str | None = None) -> OpenedBundle:
    """Check and open the bundle file at ``path`` (slow: callers run it as a background job,
    as the bundle viewer does). No vault is needed, so this is a function, not a session
    operation: the viewer opens bundles from the start window before any vault exists."""
    from evidence_recorder.core.bundle.opened import open_bundle

    return open_bundle(path, passphrase)


class TrustedAuthorities:
    """The time-stamping roots the person added (no vault needed: they live in the
    config folder, so the bundle viewer can offer them before any vault exists)."""

    def imported(self) -> list[ImportedRoot]:
        from evidence_recorder.core.bundle import trust

        return trust.imported_roots()

    def add(self, path: Path) -> list[ImportedRoot]:
        from evidence_recorder.core.bundle import trust

        try:
            return trust.add_root(path)
        except OSError as exc:
            raise EvidenceError(f"That root certificate could not be saved "
                                f"({exc.strerror}).") from exc

    def remove(self, fingerprint: str) -> ImportedRoot:
        from evidence_recorder.core.bundle import trust

        try:
            return trust.remove_root(fingerprint)
        except OSError as exc:
            raise EvidenceError(f"That root certificate could not be removed "
                                f"({exc.strerror}).") from exc
