"""A received bundle held open for reading: :func:`open_bundle` checks it (check.py),
keeps the ZIP open, reads its evidence list through the typed reader (evidence.py) and
hands the viewer files on demand, never extracting anything.
"""

from __future__ import annotations

import contextlib
import zipfile
from pathlib import Path
from typing import Any

from evidence_recorder.core.bundle.check import (
    BundleReport,
    Source,
    _bag_files,
    _check_bag,
    _check_contents,
    _open_zip,
    _read_all,
    _read_evidence,
    _Unreadable,
    _why,
)
from evidence_recorder.core.bundle.evidence import (
    BundleEvidence,
    JsonDamaged,
    read_evidence,
    schema_of,
)
from evidence_recorder.core.bundle.layout import EVIDENCE_JSON, MAX_ENTRY_BYTES
from evidence_recorder.core.errors import EvidenceError, RefusedInput
from evidence_recorder.core.model import iso_utc


class OpenedBundle:
    """A verified bundle held open for reading (the headteacher's viewer).

    Files are read from the ZIP on demand, never extracted. ``contents`` is the typed
    evidence list (:class:`BundleEvidence`), or None with ``contents_problem`` saying
    why it could not be read. ``evidence`` is the list in schema 1's shape, for the
    viewer until it reads ``contents`` (a schema-1 bundle's own JSON, or a schema-2
    bundle's items written as schema-1 captures). Whatever the verdict, the caller
    shows it first.
    """

    def __init__(self, zf: zipfile.ZipFile, top: str, files: dict[str, zipfile.ZipInfo],
                 report: BundleReport) -> None:
        self._zf: zipfile.ZipFile | None = zf
        self._files = files
        self.bundle_name = top
        self.report = report
        self.evidence: dict[str, Any] = {}
        self.contents: BundleEvidence | None = None
        self.contents_problem: str | None = None
        # Why it could not be parsed is already among the report's problems.
        with contextlib.suppress(_Unreadable):
            self.evidence = _read_evidence(zf, files)[0]
        if EVIDENCE_JSON not in files:
            self.contents_problem = f"{EVIDENCE_JSON} is missing from the bundle."
            return
        try:
            self.contents = read_evidence(_read_all(zf, files[EVIDENCE_JSON], EVIDENCE_JSON),
                                          files)
        except (JsonDamaged, _Unreadable) as exc:
            self.contents_problem = str(exc)
        if schema_of(self.evidence) != 1:
            self.evidence = {} if self.contents is None else schema1_view(self.contents)

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


def schema1_view(evidence: BundleEvidence) -> dict[str, Any]:
    """The checked evidence in schema 1's shape (``captures`` with ``files``): what the
    viewer reads today. Only while the viewer parses that shape itself; it goes when
    the viewer reads :class:`BundleEvidence` (``OpenedBundle.contents``)."""
    captures = []
    for item in evidence.items:
        copy, marks = item.covered_copy, item.annotations
        original = item.original
        captures.append({
            "id": item.id, "incident": item.incident_id, "kind": item.kind,
            "title": item.title, "captured_at": iso_utc(item.captured_at),
            "tz_name": item.tz_name, "utc_offset": item.utc_offset,
            "sha256": item.sha256, "width": item.width, "height": item.height,
            "media_type": item.media_type, "byte_size": item.byte_size,
            "environment": item.environment,
            "source": item.source.as_dict() if item.source is not None else None,
            "site": item.details.site, "url": item.details.url,
            "author": item.details.author, "category": item.details.category,
            "note": item.details.description,
            "details": item.details.as_dict(), "has_annotations": item.has_annotations,
            "covered": item.covered, "original_included": item.original_included,
            "files": {"original": original.path if original is not None else None,
                      "redacted": copy.path if copy is not None else None,
                      "annotations": marks.path if marks is not None else None,
                      "metadata": item.metadata_path},
        })
    return {
        "schema_version": 1, "bundle": evidence.bundle,
        "exported_at": iso_utc(evidence.exported_at) if evidence.exported_at else "",
        "exported_by": evidence.exported_by, "role": evidence.role,
        "audience": evidence.audience,
        "software": {"name": evidence.software_name, "version": evidence.software_version},
        "vault_id": evidence.vault_id,
        "signing_key": {"identity": evidence.signing_identity,
                        "fingerprint": evidence.signing_fingerprint,
                        "public_key": evidence.signing_public_key},
        "incidents": [{"id": i.id, "title": i.title, "description": i.description,
                       "started_at": i.started_at,
                       "created_at": iso_utc(i.created_at) if i.created_at else "",
                       "is_default": i.is_default} for i in evidence.incidents],
        "captures": captures,
        "covered_originals_included": evidence.covered_originals_included,
        "originals_kept_back": list(evidence.originals_kept_back),
    }
