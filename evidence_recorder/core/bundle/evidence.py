"""The typed reader of a bundle's ``data/evidence.json``, schema 1 or 2.

:func:`read_evidence` turns the file into :class:`BundleEvidence`: the bundle's
incidents and items, each item with its artefacts (the original and any covered copy
or annotations, with role, media type, size, SHA-256 and where in the bag it is, or
``None`` when the sender kept it back). The file is hostile input, sealed or not: every
field is checked for its type, size and (for paths) the same rules the checker applies
to ZIP entries, and anything wrong is a plain :class:`EvidenceDamaged`, never a crash.
A schema this version does not know is refused as made by a newer version.

Schema 1 (``"schema_version": 1``) listed ``captures`` with a ``files`` block; schema 2
(``"schema": 2``) lists ``items`` with ``artefacts``, and a web page's item may carry a
``web`` block (what the capture browser recorded: address, status, server, certificate;
added without a new schema number, so a reader that does not know it ignores it).
Likewise an e-mail's or chat export's item may carry a ``messages`` block (what was
recorded of the export at import: :class:`~evidence_recorder.core.model.MessageSource`)
and ``flags`` (the messages the sender marked, by index), and lists the parsed messages
file (``messages.json``, role ``parsed-messages``) among its artefacts, derived from
the original; :func:`read_messages` reads that file, bounded and checked.
Both read into the same objects, so callers never look at the JSON themselves. Also
here: :func:`load_bundle_json`, the one way any JSON from a bundle is parsed (hostile
nesting is a verdict, not a crash).
"""

from __future__ import annotations

import dataclasses
import json
import re
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from evidence_recorder.core.bundle.layout import (
    EVIDENCE_JSON,
    KNOWN_SCHEMAS,
    MAX_ENTRIES,
    MEDIA_EXTENSIONS,
)
from evidence_recorder.core.conversation import (
    Message,
    MessageAttachment,
    MessageFlag,
    MessageKind,
)
from evidence_recorder.core.fields import FIELDS
from evidence_recorder.core.model import (
    CaptureDetails,
    ImportSource,
    MessageSource,
    WebSource,
    parse_iso_utc,
)

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

# ============================================================================ schema

# Five times what a vault accepts in one detail field (store.MAX_TEXT): room for any
# version's bundles, never room for a string meant to exhaust memory or the screen.
MAX_TEXT_CHARS: Final = 100_000
MAX_NAME_CHARS: Final = 1_000  # names, paths, media types, times, ids written as text
MAX_ARTEFACTS: Final = 1_000  # per item
MAX_REDIRECTS: Final = 100  # addresses before a web page's final one (browsers stop at 20)
_WORD: Final = re.compile(r"[a-z][a-z0-9-]{0,39}")  # a kind or a role
_SHA256: Final = re.compile(r"[0-9a-f]{64}")
# Roles a bundle's artefacts play; the reader accepts any word, so that a later
# version's roles read as what they are called.
ROLE_ORIGINAL: Final = "original"
ROLE_COVERED_COPY: Final = "covered-copy"
ROLE_ANNOTATIONS: Final = "annotations"
# An e-mail's or chat export's messages as parsed (messages.json): derived, not original.
ROLE_PARSED_MESSAGES: Final = "parsed-messages"
PARSED_MESSAGES_NAME: Final = "messages.json"
# Bounds on an e-mail's or chat export's records (hostile input like the rest).
MAX_PARTICIPANTS: Final = 10_000
MAX_NOTES: Final = 1_000
MAX_FLAGS: Final = 100_000  # flagged messages of one item
MAX_BUNDLE_MESSAGES: Final = 500_000  # messages in one messages.json (as parsers allow)
MAX_MESSAGE_ATTACHMENTS: Final = 1_000  # files named by one message
MAX_MESSAGES_JSON_BYTES: Final = 512 * 1024 * 1024
_MESSAGE_KINDS: Final = frozenset(kind.value for kind in MessageKind)


class EvidenceDamaged(JsonDamaged):
    """``data/evidence.json`` is readable JSON but not a list of evidence this version
    reads; the message is one sentence, safe to show (it never quotes the file)."""


def schema_of(evidence: dict[str, Any]) -> object:
    """The schema a bundle's evidence.json declares: ``schema`` (2 on), else
    ``schema_version`` (1), else 1 (a file that says nothing is read as the first)."""
    if "schema" in evidence:
        return evidence["schema"]
    return evidence.get("schema_version", 1)


def schema_problem(evidence: dict[str, Any], label: str = EVIDENCE_JSON) -> str | None:
    """Why this version cannot read ``evidence`` at all, or None for schema 1 or 2."""
    schema = schema_of(evidence)
    if type(schema) is not int:  # bool is an int: True must not pass for 1
        return f"{label} is damaged (it does not say which format it is in)."
    if schema not in KNOWN_SCHEMAS:
        return (f"{label} was made by a newer version of Evidence Recorder (format "
                f"{schema}), which this version cannot read. Open the bundle with the "
                "newest version of Evidence Recorder.")
    return None


@dataclass(frozen=True, slots=True)
class BundleArtefact:
    """One file of an item, as the bundle lists it."""

    name: str  # unique within its item: "original.png", "redacted.png", ...
    role: str  # "original", "covered-copy", "annotations", or a later version's word
    media_type: str
    size: int | None  # bytes; None where the bundle did not record it (schema 1 copies)
    sha256: str | None  # lower-case hex; None where not recorded (schema 1 copies)
    path: str | None  # inside the bag ("data/..."); None when the sender kept it back
    derived_from: str | None = None  # the name of the artefact it was made from

    @property
    def in_bundle(self) -> bool:
        return self.path is not None


@dataclass(frozen=True, slots=True)
class BundleIncident:
    id: int
    title: str
    description: str
    started_at: str  # as the user wrote it
    created_at: datetime | None
    is_default: bool


@dataclass(frozen=True, slots=True)
class BundleItem:
    """One piece of evidence in the bundle (schema 1 called it a capture)."""

    id: int
    kind: str  # "screen", "monitor", "region", "window", "import", or a later kind
    title: str  # "" where none (every schema-1 item)
    incident_id: int
    captured_at: datetime  # UTC
    tz_name: str
    utc_offset: str
    width: int | None
    height: int | None
    details: CaptureDetails
    source: ImportSource | None  # what is known of an imported file
    environment: dict[str, Any]  # checked JSON: strings bounded, any shape
    has_annotations: bool
    covered: bool  # at least one part is covered on the covered copy
    original_included: bool
    metadata_path: str | None
    artefacts: tuple[BundleArtefact, ...]
    # What the capture browser recorded of a web page (schema 2 items of kind "web");
    # None for every other item and for bundles made before web pages.
    web: WebSource | None = None
    # What was recorded of an e-mail or chat export at import, and the messages the
    # sender flagged (items of kind "email" or "chat"; None and () for every other item
    # and for bundles made before messages).
    messages: MessageSource | None = None
    flags: tuple[MessageFlag, ...] = ()

    @property
    def parsed_messages(self) -> BundleArtefact | None:
        """The item's messages.json (derived from its original), or None."""
        return self.artefact(ROLE_PARSED_MESSAGES)

    def artefact(self, role: str) -> BundleArtefact | None:
        """The first artefact with ``role``, or None."""
        return next((a for a in self.artefacts if a.role == role), None)

    def artefacts_with(self, role: str) -> tuple[BundleArtefact, ...]:
        """Every artefact with ``role``, in the bundle's order (a tall page's parts)."""
        return tuple(a for a in self.artefacts if a.role == role)

    @property
    def original(self) -> BundleArtefact | None:
        return self.artefact(ROLE_ORIGINAL)

    @property
    def primary(self) -> BundleArtefact | None:
        """The artefact the item's picture, hash and covered copy are of: the original
        of a screenshot or import, the first artefact listed otherwise (a web page's
        first full-page part: the vault lists an item's primary artefact first)."""
        original = self.original
        if original is not None or not self.artefacts:
            return original
        return self.artefacts[0]

    @property
    def covered_copy(self) -> BundleArtefact | None:
        return self.artefact(ROLE_COVERED_COPY)

    @property
    def annotations(self) -> BundleArtefact | None:
        return self.artefact(ROLE_ANNOTATIONS)

    @property
    def sha256(self) -> str:
        """The primary artefact's SHA-256, taken when it was captured (known even if
        kept back)."""
        primary = self.primary
        return (primary.sha256 or "") if primary is not None else ""

    @property
    def media_type(self) -> str:
        primary = self.primary
        return primary.media_type if primary is not None else ""

    @property
    def byte_size(self) -> int:
        primary = self.primary
        return (primary.size or 0) if primary is not None else 0


@dataclass(frozen=True, slots=True)
class BundleEvidence:
    """What ``data/evidence.json`` says the bundle holds, every field checked."""

    schema: int
    bundle: str
    exported_at: datetime | None
    exported_by: str
    role: str
    audience: str  # "headteacher", "police", or as written
    software_name: str
    software_version: str
    vault_id: str
    signing_identity: str
    signing_fingerprint: str
    signing_public_key: str
    incidents: tuple[BundleIncident, ...]
    items: tuple[BundleItem, ...]  # in the bundle's order (oldest first, as exported)
    covered_originals_included: bool
    originals_kept_back: tuple[int, ...]

    def incident(self, incident_id: int) -> BundleIncident | None:
        return next((i for i in self.incidents if i.id == incident_id), None)

    def incident_title(self, item: BundleItem) -> str:
        incident = self.incident(item.incident_id)
        return incident.title if incident is not None else ""


def read_evidence(data: bytes | str, files: Collection[str] | None = None,
                  label: str = EVIDENCE_JSON) -> BundleEvidence:
    """``data/evidence.json`` as :class:`BundleEvidence`, or :class:`JsonDamaged` (its
    subclass :class:`EvidenceDamaged` for well-formed JSON that is not evidence).

    ``files``, when given, are the bag's files (paths inside the bag folder): every
    path the evidence names must be one of them.
    """
    loaded = load_bundle_json(data, label)
    if not isinstance(loaded, dict):
        raise EvidenceDamaged(f"{label} is damaged (it does not describe what the bundle "
                              "holds).")
    if problem := schema_problem(loaded, label):
        raise EvidenceDamaged(problem)
    return _Reader(label, files).evidence(loaded)


def read_messages(data: bytes, label: str = PARSED_MESSAGES_NAME) -> list[Message]:
    """An item's ``messages.json`` (the parsed messages a bundle carries) as
    :class:`Message` objects in export order, or :class:`JsonDamaged` saying why not
    (:class:`EvidenceDamaged` for readable JSON that is not a list of messages).

    The file is hostile input, sealed or not: its size, nesting, number of messages and
    every field (type, size; indexes counting up, each once) are checked before any of
    it is shown; keys a later version adds are ignored.
    """
    if len(data) > MAX_MESSAGES_JSON_BYTES:
        raise EvidenceDamaged(f"{label} is too large to read.")
    loaded = load_bundle_json(data, label)
    if not isinstance(loaded, list):
        raise EvidenceDamaged(f"{label} is damaged (it is not a list of messages).")
    if len(loaded) > MAX_BUNDLE_MESSAGES:
        raise EvidenceDamaged(f"{label} is damaged: it lists more than "
                              f"{MAX_BUNDLE_MESSAGES:,} messages.")
    reader = _Reader(label, None)
    out: list[Message] = []
    for n, value in enumerate(loaded):
        message = reader.message(value, f"[{n}].")
        if out and message.index <= out[-1].index:
            raise reader.fail(f"[{n}].index", "does not follow the message before it")
        out.append(message)
    return out


class _Reader:
    """Reads one evidence.json; ``where`` names the field in every message."""

    def __init__(self, label: str, files: Collection[str] | None) -> None:
        self.label = label
        self.files = set(files) if files is not None else None
        self.paths: set[str] = set()

    def fail(self, where: str, why: str) -> EvidenceDamaged:
        return EvidenceDamaged(f"{self.label} is damaged: its field {where} {why}.")

    # ----------------------------------------------------------------- scalars

    def value(self, raw: dict[str, Any], key: str, where: str, *, required: bool) -> Any:
        if key not in raw:
            if required:
                raise self.fail(f"{where}{key}", "is missing")
            return None
        return raw[key]

    def text(self, raw: dict[str, Any], key: str, where: str, *, required: bool = False,
             limit: int = MAX_NAME_CHARS) -> str:
        value = self.value(raw, key, where, required=required)
        if value is None and not required:
            return ""
        return self.checked_text(value, f"{where}{key}", limit)

    def checked_text(self, value: object, where: str, limit: int) -> str:
        if not isinstance(value, str):
            raise self.fail(where, "should be text")
        if len(value) > limit:
            raise self.fail(where, f"is longer than the {limit:,} characters allowed")
        if "\x00" in value:
            raise self.fail(where, "holds a character that text cannot hold")
        return value

    def number(self, raw: dict[str, Any], key: str, where: str, *,
               required: bool = False) -> int | None:
        value = self.value(raw, key, where, required=required)
        if value is None and not required:
            return None
        if type(value) is not int or not 0 <= value < 2 ** 63:
            raise self.fail(f"{where}{key}", "should be a whole number of at least 0")
        return int(value)

    def flag(self, raw: dict[str, Any], key: str, where: str, *, required: bool = False,
             default: bool = False) -> bool:
        value = self.value(raw, key, where, required=required)
        if value is None and not required:
            return default
        if not isinstance(value, bool):
            raise self.fail(f"{where}{key}", "should be true or false")
        return value

    def moment(self, raw: dict[str, Any], key: str, where: str, *,
               required: bool = False) -> datetime | None:
        text = self.text(raw, key, where, required=required)
        if not text and not required:
            return None
        try:
            return parse_iso_utc(text)
        except (ValueError, OverflowError):
            raise self.fail(f"{where}{key}", "is not a date and time") from None

    def word(self, raw: dict[str, Any], key: str, where: str) -> str:
        value = self.text(raw, key, where, required=True)
        if not _WORD.fullmatch(value):
            raise self.fail(f"{where}{key}", "is not a single lower-case word")
        return value

    def digest(self, value: object, where: str) -> str:
        if not isinstance(value, str) or not _SHA256.fullmatch(value.lower()):
            raise self.fail(where, "is not a SHA-256 (64 hexadecimal digits)")
        return value.lower()

    def mapping(self, raw: dict[str, Any], key: str, where: str, *,
                required: bool = False) -> dict[str, Any] | None:
        value = self.value(raw, key, where, required=required)
        if value is None and not required:
            return None
        if not isinstance(value, dict):
            raise self.fail(f"{where}{key}", "should be a group of fields")
        return value

    def listing(self, raw: dict[str, Any], key: str, where: str, limit: int, *,
                required: bool = True) -> list[Any]:
        value = self.value(raw, key, where, required=required)
        if value is None and not required:
            return []
        if not isinstance(value, list):
            raise self.fail(f"{where}{key}", "should be a list")
        if len(value) > limit:
            raise self.fail(f"{where}{key}", f"lists more than {limit:,} entries")
        return value

    def path(self, value: object, where: str) -> str | None:
        """A path inside the bag, checked as the checker checks ZIP entry names."""
        if value is None:
            return None
        path = self.checked_text(value, where, MAX_NAME_CHARS)
        parts = path.split("/")
        if (not path.startswith("data/") or "\\" in path
                or any(ord(ch) < 32 or ord(ch) == 127 for ch in path)
                or any(part in ("", ".", "..") for part in parts)):
            raise self.fail(where, "is not a path inside the bundle's data folder")
        key = unicodedata.normalize("NFC", path).casefold()
        if key in self.paths:
            raise self.fail(where, "names a file already named for another entry")
        self.paths.add(key)
        if self.files is not None and path not in self.files:
            raise self.fail(where, "names a file that is not in the bundle")
        return path

    def json_value(self, value: object, where: str) -> Any:
        """Any JSON (the environment block), with every string bounded."""
        if isinstance(value, str):
            return self.checked_text(value, where, MAX_TEXT_CHARS)
        if isinstance(value, dict):
            return {self.checked_text(k, where, MAX_NAME_CHARS): self.json_value(v, where)
                    for k, v in value.items()}
        if isinstance(value, list):
            return [self.json_value(v, where) for v in value]
        return value  # numbers, true/false, null: json.loads made nothing else

    # ----------------------------------------------------------------- records

    def evidence(self, raw: dict[str, Any]) -> BundleEvidence:
        schema = schema_of(raw)
        assert isinstance(schema, int)  # schema_problem() said so
        incidents = tuple(self.incident(entry, f"incidents[{n}].") for n, entry in
                          enumerate(self.listing(raw, "incidents", "", MAX_ENTRIES)))
        seen: set[int] = set()
        for n, incident in enumerate(incidents):
            if incident.id in seen:
                raise self.fail(f"incidents[{n}].id", "repeats another incident's number")
            seen.add(incident.id)
        key = "items" if schema >= 2 else "captures"
        read = self.item2 if schema >= 2 else self.item1
        items: list[BundleItem] = []
        for n, entry in enumerate(self.listing(raw, key, "", MAX_ENTRIES)):
            where = f"{key}[{n}]."
            item = read(self.record(entry, where[:-1]), where)
            if any(other.id == item.id for other in items):
                raise self.fail(f"{where}id", "repeats another item's number")
            if item.incident_id not in seen:
                raise self.fail(f"{where}incident", "names an incident the bundle does not list")
            items.append(item)
        software = self.mapping(raw, "software", "") or {}
        signing = self.mapping(raw, "signing_key", "") or {}
        kept_back = self.listing(raw, "originals_kept_back", "", MAX_ENTRIES, required=False)
        for n, number in enumerate(kept_back):
            if type(number) is not int:
                raise self.fail(f"originals_kept_back[{n}]", "should be a whole number")
        return BundleEvidence(
            schema=schema, bundle=self.text(raw, "bundle", ""),
            exported_at=self.moment(raw, "exported_at", ""),
            exported_by=self.text(raw, "exported_by", ""), role=self.text(raw, "role", ""),
            audience=self.text(raw, "audience", ""),
            software_name=self.text(software, "name", "software."),
            software_version=self.text(software, "version", "software."),
            vault_id=self.text(raw, "vault_id", ""),
            signing_identity=self.text(signing, "identity", "signing_key."),
            signing_fingerprint=self.text(signing, "fingerprint", "signing_key."),
            signing_public_key=self.text(signing, "public_key", "signing_key."),
            incidents=incidents, items=tuple(items),
            covered_originals_included=self.flag(raw, "covered_originals_included", ""),
            originals_kept_back=tuple(kept_back))

    def record(self, value: object, where: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(where, "should be a group of fields")
        return value

    def incident(self, value: object, where: str) -> BundleIncident:
        raw = self.record(value, where[:-1])
        return BundleIncident(
            id=self.number(raw, "id", where, required=True) or 0,
            title=self.text(raw, "title", where, limit=MAX_TEXT_CHARS),
            description=self.text(raw, "description", where, limit=MAX_TEXT_CHARS),
            started_at=self.text(raw, "started_at", where),
            created_at=self.moment(raw, "created_at", where),
            is_default=self.flag(raw, "is_default", where))

    def common(self, raw: dict[str, Any], where: str,
               artefacts: tuple[BundleArtefact, ...], title: str, metadata: str | None,
               original_included: bool) -> BundleItem:
        """The fields both schemas give an item in the same way."""
        details_raw = self.mapping(raw, "details", where) or {}
        unknown = sorted(set(details_raw) - set(CaptureDetails.field_names()))
        if unknown:
            raise self.fail(f"{where}details", "holds a detail this version does not know")
        values = {name: self.text(details_raw, name, f"{where}details.", limit=MAX_TEXT_CHARS)
                  for name in CaptureDetails.field_names()}
        # Schema-1 bundles without a details block still have the summary fields.
        for field in FIELDS:
            if field.summary_key and not values[field.name]:
                values[field.name] = self.text(raw, field.summary_key, where,
                                               limit=MAX_TEXT_CHARS)
        source_raw = self.mapping(raw, "source", where)
        source = None
        if source_raw is not None:
            at = f"{where}source."
            claimed = self.value(source_raw, "claimed_time", at, required=False)
            source = ImportSource(
                file_name=self.text(source_raw, "file_name", at, required=True),
                file_size=self.number(source_raw, "file_size", at) or 0,
                file_mtime=self.text(source_raw, "file_mtime", at),
                claimed_time=(None if claimed is None
                              else self.checked_text(claimed, f"{at}claimed_time",
                                                     MAX_NAME_CHARS)))
        environment = self.json_value(self.mapping(raw, "environment", where) or {},
                                      f"{where}environment")
        incident = self.number(raw, "incident", where, required=True)
        names = [a.name for a in artefacts]
        for n, artefact in enumerate(artefacts):
            if names.count(artefact.name) > 1:
                raise self.fail(f"{where}artefacts[{n}].name", "repeats another artefact's name")
            if artefact.derived_from is not None and artefact.derived_from not in names:
                raise self.fail(f"{where}artefacts[{n}].derived_from",
                                "names no artefact of this item")
        return BundleItem(
            id=self.number(raw, "id", where, required=True) or 0,
            kind=self.word(raw, "kind", where), title=title,
            incident_id=incident or 0,
            captured_at=self.moment(raw, "captured_at", where, required=True) or datetime.min,
            tz_name=self.text(raw, "tz_name", where),
            utc_offset=self.text(raw, "utc_offset", where),
            width=self.number(raw, "width", where), height=self.number(raw, "height", where),
            details=CaptureDetails(**values), source=source, environment=environment,
            has_annotations=self.flag(raw, "has_annotations", where),
            covered=self.flag(raw, "covered", where), original_included=original_included,
            metadata_path=metadata, artefacts=artefacts)

    def item1(self, raw: dict[str, Any], where: str) -> BundleItem:
        """A schema-1 capture: its original's facts are the capture's own; its files
        (``files``: original, redacted, annotations, metadata) become artefacts."""
        files = self.mapping(raw, "files", where) or {}
        at = f"{where}files."
        paths = {role: self.path(files.get(role), f"{at}{role}")
                 for role in ("original", "redacted", "annotations", "metadata")}
        media_type = self.text(raw, "media_type", where)
        original_path = paths["original"]
        extension = MEDIA_EXTENSIONS.get(media_type, "bin")
        original_name = original_path.rsplit("/", 1)[-1] if original_path else \
            f"original.{extension}"
        artefacts = [BundleArtefact(
            name=original_name, role=ROLE_ORIGINAL, media_type=media_type,
            size=self.number(raw, "byte_size", where),
            sha256=self.digest(self.value(raw, "sha256", where, required=True),
                               f"{where}sha256"),
            path=original_path)]
        if paths["redacted"] is not None:
            artefacts.append(BundleArtefact(
                name=paths["redacted"].rsplit("/", 1)[-1], role=ROLE_COVERED_COPY,
                media_type="image/png", size=None, sha256=None, path=paths["redacted"],
                derived_from=original_name))
        if paths["annotations"] is not None:
            artefacts.append(BundleArtefact(
                name=paths["annotations"].rsplit("/", 1)[-1], role=ROLE_ANNOTATIONS,
                media_type="application/json", size=None, sha256=None,
                path=paths["annotations"], derived_from=original_name))
        included = self.flag(raw, "original_included", where,
                             default=original_path is not None)
        return self.common(raw, where, tuple(artefacts), "", paths["metadata"], included)

    def item2(self, raw: dict[str, Any], where: str) -> BundleItem:
        artefacts = tuple(
            self.artefact(entry, f"{where}artefacts[{n}].") for n, entry in
            enumerate(self.listing(raw, "artefacts", where, MAX_ARTEFACTS)))
        metadata = self.path(self.value(raw, "metadata", where, required=False),
                             f"{where}metadata")
        included = any(a.role == ROLE_ORIGINAL and a.path is not None for a in artefacts)
        item = self.common(raw, where, artefacts,
                           self.text(raw, "title", where, required=True, limit=MAX_TEXT_CHARS),
                           metadata, self.flag(raw, "original_included", where,
                                               default=included))
        web = self.mapping(raw, "web", where)
        if web is not None:
            item = dataclasses.replace(item, web=self.web(web, f"{where}web."))
        messages = self.mapping(raw, "messages", where)
        if messages is not None:
            item = dataclasses.replace(item, messages=self.message_source(
                messages, f"{where}messages."))
        flags = self.listing(raw, "flags", where, MAX_FLAGS, required=False)
        if flags:
            item = dataclasses.replace(item, flags=self.flags(flags, item.id, f"{where}flags"))
        return item

    def message_source(self, raw: dict[str, Any], where: str) -> MessageSource:
        """What was recorded of an export at import: every field checked for its type and
        size (titles, names and notes are the export's own words: hostile text)."""
        def text(key: str, limit: int = MAX_NAME_CHARS) -> str:
            return self.text(raw, key, where, limit=limit)

        def texts(key: str, limit: int) -> list[str]:
            return [self.checked_text(entry, f"{where}{key}[{n}]", MAX_TEXT_CHARS)
                    for n, entry in enumerate(self.listing(raw, key, where, limit,
                                                           required=False))]

        digest = self.value(raw, "messages_sha256", where, required=False)
        return MessageSource(
            format=text("format"), parser=text("parser"),
            file_name=text("file_name", MAX_TEXT_CHARS),
            file_size=self.number(raw, "file_size", where) or 0,
            file_mtime=text("file_mtime"), title=text("title", MAX_TEXT_CHARS),
            participants=texts("participants", MAX_PARTICIPANTS),
            message_count=self.number(raw, "message_count", where) or 0,
            unreadable_count=self.number(raw, "unreadable_count", where) or 0,
            first_at=text("first_at"), last_at=text("last_at"),
            zone_assumed=text("zone_assumed"), date_order=text("date_order"),
            clock=text("clock"), notes=texts("notes", MAX_NOTES),
            messages_sha256=("" if digest in (None, "")
                             else self.digest(digest, f"{where}messages_sha256")))

    def message(self, value: object, where: str) -> Message:
        """One parsed message of messages.json (its text and names are hostile text)."""
        raw = self.record(value, where[:-1])

        def text(key: str, limit: int = MAX_TEXT_CHARS) -> str:
            found = raw.get(key, "")
            # The common case checked inline (a conversation has 100,000 of these);
            # anything else goes through the full check, which names what is wrong.
            if type(found) is str and len(found) <= limit and "\x00" not in found:
                return found
            return self.text(raw, key, where, limit=limit)

        kind = text("kind", MAX_NAME_CHARS) or MessageKind.MESSAGE.value
        if kind not in _MESSAGE_KINDS:
            raise self.fail(f"{where}kind", "is not a kind of message this version knows")
        attachments = []
        for n, entry in enumerate(self.listing(raw, "attachments", where,
                                               MAX_MESSAGE_ATTACHMENTS, required=False)):
            at = f"{where}attachments[{n}]."
            item = self.record(entry, at[:-1])
            attachments.append(MessageAttachment(
                name=self.text(item, "name", at, limit=MAX_TEXT_CHARS),
                artefact=self.text(item, "artefact", at),
                media_type=self.text(item, "media_type", at),
                size=self.number(item, "size", at),
                omitted=self.flag(item, "omitted", at),
                note=self.text(item, "note", at, limit=MAX_TEXT_CHARS)))
        return Message(
            index=self.number(raw, "index", where, required=True) or 0,
            sender=text("sender"), text=text("text"), sent_at=text("sent_at", MAX_NAME_CHARS),
            written_at=text("written_at", MAX_NAME_CHARS), sender_id=text("sender_id"),
            kind=MessageKind(kind), reply_to=self.number(raw, "reply_to", where),
            edited_at=text("edited_at", MAX_NAME_CHARS), attachments=attachments,
            extra=(self.json_value(self.mapping(raw, "extra", where) or {}, f"{where}extra")
                   if raw.get("extra", {}) != {} else {}))

    def flags(self, listed: list[Any], item_id: int, where: str) -> tuple[MessageFlag, ...]:
        """The flagged messages of an item, by index (each index once)."""
        out: list[MessageFlag] = []
        seen: set[int] = set()
        for n, value in enumerate(listed):
            at = f"{where}[{n}]."
            raw = self.record(value, at[:-1])
            index = self.number(raw, "index", at, required=True) or 0
            if index in seen:
                raise self.fail(f"{at}index", "names a message flagged already")
            seen.add(index)
            out.append(MessageFlag(
                item_id=item_id, index=index, category=self.text(raw, "category", at),
                note=self.text(raw, "note", at, limit=MAX_TEXT_CHARS),
                flagged_at=self.text(raw, "flagged_at", at)))
        return tuple(sorted(out, key=lambda flag: flag.index))

    def web(self, raw: dict[str, Any], where: str) -> WebSource:
        """A web page's record: every field of :class:`WebSource` checked for its type
        and size (the addresses and title are the page's own words: hostile text),
        keys a later version adds ignored."""
        def text(key: str, limit: int = MAX_NAME_CHARS) -> str:
            return self.text(raw, key, where, limit=limit)

        def small(key: str, top: int) -> int | None:
            value = self.number(raw, key, where)
            if value is not None and value > top:
                raise self.fail(f"{where}{key}", f"should be at most {top:,}")
            return value

        redirects = [self.checked_text(entry, f"{where}redirects[{n}]", MAX_TEXT_CHARS)
                     for n, entry in enumerate(self.listing(raw, "redirects", where,
                                                            MAX_REDIRECTS, required=False))]
        ratio = self.value(raw, "device_pixel_ratio", where, required=False)
        if ratio is None:
            ratio = 1.0
        elif type(ratio) not in (int, float) or not 0 < ratio <= 16:
            raise self.fail(f"{where}device_pixel_ratio", "should be a number from 0 to 16")
        leaf = self.value(raw, "certificate_sha256", where, required=False)
        return WebSource(
            requested_url=text("requested_url", MAX_TEXT_CHARS),
            final_url=self.text(raw, "final_url", where, required=True, limit=MAX_TEXT_CHARS),
            title=text("title", MAX_TEXT_CHARS), http_status=small("http_status", 999),
            server_ip=text("server_ip"), user_agent=text("user_agent"), redirects=redirects,
            load_state=text("load_state") or "complete", panel=text("panel", MAX_TEXT_CHARS),
            scroll_height=small("scroll_height", 10_000_000) or 0,
            viewport_width=small("viewport_width", 100_000) or 0,
            viewport_height=small("viewport_height", 100_000) or 0,
            device_pixel_ratio=float(ratio),
            full_page_parts=small("full_page_parts", MAX_ARTEFACTS) or 0,
            certificate_sha256=("" if leaf in (None, "")
                                else self.digest(leaf, f"{where}certificate_sha256")),
            certificate_subject=text("certificate_subject", MAX_TEXT_CHARS),
            certificate_issuer=text("certificate_issuer", MAX_TEXT_CHARS),
            certificate_valid_from=text("certificate_valid_from"),
            certificate_valid_to=text("certificate_valid_to"),
            tls_protocol=text("tls_protocol"),
            certificate_error=text("certificate_error", MAX_TEXT_CHARS),
            page_state=text("page_state") or "available",
            page_state_reason=text("page_state_reason", MAX_TEXT_CHARS),
            recheck_of=self.number(raw, "recheck_of", where))

    def artefact(self, value: object, where: str) -> BundleArtefact:
        raw = self.record(value, where[:-1])
        name = self.text(raw, "name", where, required=True)
        if not name or "/" in name or "\\" in name or name in (".", ".."):
            raise self.fail(f"{where}name", "is not a file name")
        derived = self.value(raw, "derived_from", where, required=False)
        return BundleArtefact(
            name=name, role=self.word(raw, "role", where),
            media_type=self.text(raw, "media_type", where, required=True),
            size=self.number(raw, "size", where, required=True),
            sha256=self.digest(self.value(raw, "sha256", where, required=True),
                               f"{where}sha256"),
            path=self.path(self.value(raw, "path", where, required=True), f"{where}path"),
            derived_from=(None if derived is None
                          else self.checked_text(derived, f"{where}derived_from",
                                                 MAX_NAME_CHARS)))
