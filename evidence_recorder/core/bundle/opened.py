"""A received bundle held open for reading: :func:`open_bundle` checks it (check.py),
keeps the ZIP open, reads its evidence list through the typed reader (evidence.py) and
hands the viewer files on demand, never extracting anything.
"""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

from evidence_recorder.core.bundle.check import (
    BundleReport,
    Source,
    _bag_files,
    _check_bag,
    _check_contents,
    _open_zip,
    _read_all,
    _Unreadable,
    _why,
)
from evidence_recorder.core.bundle.evidence import (
    BundleEvidence,
    BundleItem,
    JsonDamaged,
    read_evidence,
    read_messages,
)
from evidence_recorder.core.bundle.layout import EVIDENCE_JSON, MAX_ENTRY_BYTES
from evidence_recorder.core.conversation import Message
from evidence_recorder.core.errors import EvidenceError, RefusedInput


class OpenedBundle:
    """A verified bundle held open for reading (the headteacher's viewer).

    Files are read from the ZIP on demand, never extracted. ``contents`` is the typed
    evidence list (:class:`BundleEvidence`), or None with ``contents_problem`` saying
    why it could not be read. Whatever the verdict, the caller shows it first, and a
    sound seal over a list that cannot be read is not called intact without saying so.
    """

    def __init__(self, zf: zipfile.ZipFile, top: str, files: dict[str, zipfile.ZipInfo],
                 report: BundleReport) -> None:
        self._zf: zipfile.ZipFile | None = zf
        self._files = files
        self.bundle_name = top
        self.report = report
        self.contents: BundleEvidence | None = None
        self.contents_problem: str | None = None
        if EVIDENCE_JSON not in files:
            self.contents_problem = f"{EVIDENCE_JSON} is missing from the bundle."
            return
        try:
            self.contents = read_evidence(_read_all(zf, files[EVIDENCE_JSON], EVIDENCE_JSON),
                                          files)
        except (JsonDamaged, _Unreadable) as exc:
            self.contents_problem = str(exc)

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

    def messages(self, item: BundleItem) -> list[Message]:
        """An e-mail's or chat export's parsed messages (its messages.json), read bounded
        and checked field by field, and refused unless the file still has the SHA-256
        the bundle lists for it; [] for an item that has none."""
        listed = item.parsed_messages
        if listed is None or listed.path is None:
            return []
        data = self.read(listed.path)
        if listed.sha256 and hashlib.sha256(data).hexdigest() != listed.sha256:
            raise EvidenceError(f"{listed.path} does not match the SHA-256 the bundle lists "
                                "for it: it was changed after the bundle was sealed.")
        try:
            return read_messages(data, listed.path)
        except JsonDamaged as exc:
            raise EvidenceError(str(exc)) from exc

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
