"""What a received bundle says about its captures: each item of the typed reader's
list (``OpenedBundle.contents``, core/bundle/evidence.py, which checks every field of
``evidence.json``; nothing here reads the JSON), the sender's summary, the timeline
model, and one capture's details as escaped HTML.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC
from enum import IntEnum
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QCoreApplication,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QUrl,
)

from evidence_recorder import APP_NAME
from evidence_recorder.core import fields
from evidence_recorder.core.conversation import MessageFlag
from evidence_recorder.core.i18n import QT_TRANSLATE_NOOP
from evidence_recorder.core.model import Capture, CaptureKind, PageState
from evidence_recorder.ui.bundle_conversation import BundleFile
from evidence_recorder.ui.bundle_wording import (
    _AUDIENCES,
    _MAX_INCIDENT_TITLES,
    _SHORT_DESCRIPTION,
    _TOOLTIP_LIMIT,
    _byte_size,
    _handle,
    _moment_words,
    _one_line,
    _text,
    _tr,
    _written_date_words,
)
from evidence_recorder.ui.i18n import field_text
from evidence_recorder.ui.plain import tooltip
from evidence_recorder.ui.wording import (
    captured_tooltip,
    category_label,
    format_clock,
    format_day,
    format_moment,
    format_short,
    kind_label,
    local_captured_at,
    zone_label,
)

if TYPE_CHECKING:  # the bundle package is imported only when a bundle is opened
    from evidence_recorder.ui.session import BundleEvidence, BundleItem


@dataclass(slots=True)
class BundleCapture:
    """One item as the bundle describes it (read and checked by the typed reader), with
    the paths of its pictures inside the bag."""

    capture: Capture
    kind_text: str
    incident_title: str
    original: str | None  # paths inside the bag; None where the sender kept it back
    redacted: str | None
    metadata: str | None
    extra: dict[str, str] = field(default_factory=dict)
    # A web page's archive (page.mhtml) inside the bag; None for other items, or when
    # the bundle does not hold one.
    page_archive: str | None = None
    # A web page's full-page picture, part by part: (path inside the bag or None where
    # kept back, SHA-256 as listed or None). One entry for a page in one part.
    full_page: tuple[tuple[str | None, str | None], ...] = ()
    # An e-mail or chat export: the typed item (handed back to the bundle to read its
    # messages.json), its flags and its files (the original first).
    item: BundleItem | None = None
    flags: tuple[MessageFlag, ...] = ()
    files: tuple[BundleFile, ...] = ()

    @property
    def has_messages(self) -> bool:
        """Whether it is an e-mail or a chat export with parsed messages to show."""
        return self.capture.messages is not None and self.item is not None \
            and self.item.parsed_messages is not None

    @property
    def full_page_parts(self) -> int:
        """How many parts its full-page picture is in."""
        return len(self.full_page)

    @property
    def author_text(self) -> str:
        details = self.capture.details
        handle = _handle(details.handle)
        author = details.author.strip()
        if author and handle:
            return QCoreApplication.translate("BundleViewer", "{author} ({handle})").format(
                author=author, handle=handle)
        return author or handle


def _capture_from(item: BundleItem, incident_title: str) -> BundleCapture:
    """One item of the typed reader's list, in the shape the timeline and details show."""
    try:
        kind = CaptureKind(item.kind)
        kind_text = kind_label(kind)
    except ValueError:  # a later version's kind: shown as the bundle names it
        kind = CaptureKind.SCREEN  # only a placeholder; kind_text says what was written
        kind_text = item.kind
    capture = Capture(
        id=item.id, incident_id=item.incident_id, kind=kind, captured_at=item.captured_at,
        tz_name=item.tz_name, utc_offset=item.utc_offset, sha256=item.sha256,
        width=item.width or 0, height=item.height or 0, media_type=item.media_type,
        byte_size=item.byte_size, environment=dict(item.environment), source=item.source,
        details=item.details, has_annotations=item.has_annotations, title=item.title,
        web=item.web, messages=item.messages)
    # The primary artefact: a screenshot's original, a web page's full-page picture.
    original, copy = item.primary, item.covered_copy
    archive = item.artefact("page-archive") if item.web is not None else None
    return BundleCapture(
        capture=capture, kind_text=kind_text, incident_title=incident_title,
        original=original.path if original is not None else None,
        redacted=copy.path if copy is not None else None,
        metadata=item.metadata_path,
        page_archive=archive.path if archive is not None else None,
        full_page=tuple((a.path, a.sha256) for a in item.artefacts_with("full-page")),
        item=item if item.messages is not None else None, flags=item.flags,
        files=tuple(BundleFile(a.name, a.path, a.media_type, a.size, a.sha256)
                    for a in item.artefacts if a.role != "parsed-messages")
        if item.messages is not None else ())


def captures_of(contents: BundleEvidence | None) -> list[BundleCapture]:
    """The bundle's items, oldest first (none when its list could not be read)."""
    if contents is None:
        return []
    entries = [_capture_from(item, contents.incident_title(item)) for item in contents.items]
    # sorted() is stable, so captures made in the same millisecond keep the bundle's order.
    return sorted(entries, key=lambda e: e.capture.captured_at)


class _SummaryCounts(QObject):
    """The counted phrases of :func:`summary_text` (lupdate marks plurals only in tr()).

    Each count has two numerus messages, one for exactly one and one for the rest, so
    that English reads right with no catalogue loaded; a translator fills in every
    plural form of both.
    """

    def captures(self, n: int) -> str:
        return self.tr("%n capture", "", n) if n == 1 else self.tr("%n captures", "", n)

    def incidents(self, n: int) -> str:
        return (self.tr("{captures} in %n incident: {titles}", "", n) if n == 1
                else self.tr("{captures} in %n incidents: {titles}", "", n))

    def more(self, n: int) -> str:
        return self.tr("{titles} and %n more", "", n)


def summary_text(contents: BundleEvidence, capture_count: int) -> str:
    """``Exported by A. Teacher (Class teacher) on 25 Nov 2026 at 12:00 …``.

    Each step is a whole template with a place for what came before, so that a
    translator can put the parts of the sentence in their language's order.
    """
    translate = QCoreApplication.translate
    who = (contents.exported_by.strip()
           or translate("BundleViewer", "someone who did not give their name"))
    role = contents.role.strip()
    if role:
        sentence = translate("BundleViewer", "Exported by {who} ({role})").format(
            who=who, role=role)
    else:
        sentence = translate("BundleViewer", "Exported by {who}").format(who=who)
    when = contents.exported_at
    if when is not None:
        local = when.astimezone()
        sentence = translate(
            "BundleViewer", "{sentence} on {day} at {time} your time ({utc_day} {utc_time} UTC)",
        ).format(sentence=sentence, day=format_day(local), time=format_clock(local),
                 utc_day=format_day(when), utc_time=format_clock(when))
    audience = contents.audience.strip()
    if audience:
        template = _AUDIENCES.get(audience.casefold())
        sentence = (_tr(template) if template
                    else translate("BundleViewer", "{sentence} for {audience}")).format(
            sentence=sentence, audience=audience)
    sentence = translate("BundleViewer", "{sentence}.").format(sentence=sentence)
    titles = [i.title.strip() or translate("BundleViewer", "Untitled")
              for i in contents.incidents]
    counts = _SummaryCounts()
    text = counts.captures(capture_count)
    if titles:
        quoted = [translate("BundleViewer", "“{title}”").format(title=_one_line(t, 60))
                  for t in titles[:_MAX_INCIDENT_TITLES]]
        shown = translate("BundleViewer", ", ").join(quoted)
        more = len(titles) - _MAX_INCIDENT_TITLES
        if more > 0:
            shown = counts.more(more).format(titles=shown)
        text = counts.incidents(len(titles)).format(captures=text, titles=shown)
    return " ".join((sentence, translate("BundleViewer", "{sentence}.").format(sentence=text)))


# ---------------------------------------------------------------------- the timeline


class TimelineColumn(IntEnum):
    CAPTURED = 0
    SITE = 1
    AUTHOR = 2
    POSTED = 3
    CATEGORY = 4
    DESCRIPTION = 5


# The columns that show a declared field (core/fields.py), headed with its title.
TIMELINE_FIELDS: dict[TimelineColumn, fields.Field] = {
    TimelineColumn.SITE: fields.SITE,
    TimelineColumn.AUTHOR: fields.AUTHOR,
    TimelineColumn.POSTED: fields.POSTED_AT,
    TimelineColumn.CATEGORY: fields.CATEGORY,
    TimelineColumn.DESCRIPTION: fields.DESCRIPTION,
}
TIMELINE_TITLES: dict[TimelineColumn, str] = {
    TimelineColumn.CAPTURED: QT_TRANSLATE_NOOP("TimelineModel", "Captured"),
    **{column: declared.title for column, declared in TIMELINE_FIELDS.items()},
}
_TIMELINE_HELP: dict[TimelineColumn, str] = {
    TimelineColumn.CAPTURED: QT_TRANSLATE_NOOP(
        "TimelineModel",
        "When the capture was taken or imported, on the sender's clock. Hover a row for UTC."),
    TimelineColumn.SITE: QT_TRANSLATE_NOOP("TimelineModel", "The site or app it was on."),
    TimelineColumn.AUTHOR: QT_TRANSLATE_NOOP(
        "TimelineModel", "Who posted it: their name and @handle, as the sender recorded."),
    TimelineColumn.POSTED: QT_TRANSLATE_NOOP(
        "TimelineModel", "The time the post itself showed, as written on it (e.g. “2h”)."),
    TimelineColumn.CATEGORY: QT_TRANSLATE_NOOP(
        "TimelineModel", "What kind of abuse the sender says it is."),
    TimelineColumn.DESCRIPTION: QT_TRANSLATE_NOOP(
        "TimelineModel", "What happened, in the sender's words."),
}
_AnyIndex = QModelIndex | QPersistentModelIndex
_DISPLAY = int(Qt.ItemDataRole.DisplayRole)
_TOOLTIP = int(Qt.ItemDataRole.ToolTipRole)
_ACCESSIBLE = int(Qt.ItemDataRole.AccessibleTextRole)


class TimelineModel(QAbstractTableModel):
    """The bundle's captures in time order, one row each; ``clear()`` forgets them all."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._entries: list[BundleCapture] = []

    def set_entries(self, entries: Sequence[BundleCapture]) -> None:
        self.beginResetModel()
        self._entries = list(entries)
        self.endResetModel()

    def clear(self) -> None:
        self.set_entries([])

    def entry_at(self, row: int) -> BundleCapture:
        return self._entries[row]

    def rowCount(self, parent: _AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._entries)

    def columnCount(self, parent: _AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(TimelineColumn)

    def flags(self, index: _AnyIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return (Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
                | Qt.ItemFlag.ItemNeverHasChildren)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = _DISPLAY) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(TimelineColumn):
            return None
        column = TimelineColumn(section)
        if role == _DISPLAY:
            return self._title(column)
        if role == _TOOLTIP:
            return self.tr(_TIMELINE_HELP[column])
        return None

    def _title(self, column: TimelineColumn) -> str:
        if column in TIMELINE_FIELDS:
            return field_text(TIMELINE_FIELDS[column].title)
        return self.tr(TIMELINE_TITLES[column])

    def _cell(self, entry: BundleCapture, column: TimelineColumn) -> str:
        details = entry.capture.details
        if column == TimelineColumn.CAPTURED:
            return format_short(local_captured_at(entry.capture))
        if column == TimelineColumn.SITE:
            if not details.site.strip() and entry.capture.messages is not None:
                return entry.kind_text  # "E-mail", "Chat export": what the row is
            return _one_line(details.site, 60)
        if column == TimelineColumn.AUTHOR:
            return _one_line(entry.author_text, 80)
        if column == TimelineColumn.POSTED:
            return _one_line(details.posted_at, 60)
        if column == TimelineColumn.CATEGORY:
            return category_label(_one_line(details.category, 60))
        if not details.description.strip() and entry.capture.messages is not None:
            return _one_line(entry.capture.title, _SHORT_DESCRIPTION)  # subject, chat name
        return _one_line(details.description, _SHORT_DESCRIPTION)

    def data(self, index: _AnyIndex, role: int = _DISPLAY) -> Any:
        if (not index.isValid() or not 0 <= index.row() < len(self._entries)
                or not 0 <= index.column() < len(TimelineColumn)):
            return None
        entry = self._entries[index.row()]
        column = TimelineColumn(index.column())
        if role == _DISPLAY:
            return self._cell(entry, column)
        if role == _ACCESSIBLE:
            return self.tr("{column}: {value}").format(
                column=self._title(column),
                value=self._cell(entry, column) or self.tr("not given"))
        if role == _TOOLTIP:
            return tooltip(self._tooltip(entry, column))  # the sender's words, never markup
        return None

    def _tooltip(self, entry: BundleCapture, column: TimelineColumn) -> str | None:
        if column == TimelineColumn.CAPTURED:
            return captured_tooltip(entry.capture)
        if column == TimelineColumn.DESCRIPTION:
            text = entry.capture.details.description.strip()
            return text[:_TOOLTIP_LIMIT] if text else None
        return self._cell(entry, column) or None


# ---------------------------------------------------------------------- the capture's details


def _esc(text: str) -> str:
    return html.escape(text).replace("\n", "<br>")


def _link(url: str) -> str:
    """A link only for web addresses; anything else is shown as plain text."""
    target = QUrl(url.strip())
    if url.strip() and target.isValid() and target.scheme().lower() in ("http", "https"):
        return (f'<a href="{html.escape(target.toString(), quote=True)}">'
                f"{html.escape(url.strip())}</a>")
    return _esc(url)


_MISSING = QT_TRANSLATE_NOOP("BundleDetails", "<i>Not given</i>")
_ENVIRONMENT_LABELS = {
    "os_user": QT_TRANSLATE_NOOP("BundleDetails", "User account"),
    "host": QT_TRANSLATE_NOOP("BundleDetails", "Computer name"),
    "os": QT_TRANSLATE_NOOP("BundleDetails", "Operating system"),
    "os_release": QT_TRANSLATE_NOOP("BundleDetails", "System release"),
    "os_version": QT_TRANSLATE_NOOP("BundleDetails", "System version"),
    "platform": QT_TRANSLATE_NOOP("BundleDetails", "Platform"),
    "app": QT_TRANSLATE_NOOP("BundleDetails", "Program"),
    "app_version": QT_TRANSLATE_NOOP("BundleDetails", "Program version"),
}


def _web_rows(entry: BundleCapture, others: Sequence[BundleCapture]) -> list[tuple[str, str]]:
    """What the capture browser recorded of a web page: the report's facts, in the
    same order, and whether a later check found it still there."""
    translate = QCoreApplication.translate
    web = entry.capture.web
    if web is None:
        return []
    missing = translate("BundleDetails", _MISSING)

    def value(text: str) -> str:
        return _esc(text) if text.strip() else missing

    rows = [(translate("BundleDetails", "Address"), _link(web.final_url))]
    if web.requested_url and web.requested_url != web.final_url:
        rows.append((translate("BundleDetails", "Address asked for"),
                     _link(web.requested_url)))
    status = (translate("BundleDetails", "No answer was received") if web.http_status is None
              else str(web.http_status))
    rows += [(translate("BundleDetails", "Page title"), value(web.title)),
             (translate("BundleDetails", "HTTP status"), _esc(status)),
             (translate("BundleDetails", "Server IP address"), value(web.server_ip))]
    if web.certificate_sha256 or web.certificate_subject:
        validity = translate("BundleDetails", "from {start} to {end}").format(
            start=_moment_words(web.certificate_valid_from) or "?",
            end=_moment_words(web.certificate_valid_to) or "?")
        rows += [(translate("BundleDetails", "Certificate subject"),
                  value(web.certificate_subject)),
                 (translate("BundleDetails", "Certificate issuer"),
                  value(web.certificate_issuer)),
                 (translate("BundleDetails", "Certificate valid"), _esc(validity)),
                 (translate("BundleDetails", "SHA-256 of the certificate"),
                  f'<span style="font-family: monospace">{value(web.certificate_sha256)}'
                  "</span>")]
    elif web.final_url.lower().startswith("http:"):
        rows.append((translate("BundleDetails", "Certificate"), _esc(translate(
            "BundleDetails", "Plain http: no certificate"))))
    if web.certificate_error:
        rows.append((translate("BundleDetails", "Certificate error the browser showed"),
                     _esc(web.certificate_error)))
    notes = []
    if web.load_state == "timed-out":
        notes.append(translate("BundleDetails", "The page had not finished loading when the "
                                                "time allowed ran out; what had loaded was "
                                                "captured."))
    elif web.load_state == "failed":
        notes.append(translate("BundleDetails", "The page could not be loaded."))
    if web.panel:
        notes.append(translate("BundleDetails", "A scrolling panel ({panel}) was captured "
                                                "whole, not the page.").format(panel=web.panel))
    if web.page_state_reason and web.recheck_of is None:
        notes.append(web.page_state_reason)
    if notes:
        rows.append((translate("BundleDetails", "Load notes"), _esc(" ".join(notes))))
    if entry.full_page_parts > 1:
        rows.append((translate("BundleDetails", "Full-page picture"), _esc(translate(
            "BundleDetails", "In {count} parts; choose the part above the picture.").format(
                count=entry.full_page_parts))))
    if history := still_there_words(entry, others):
        rows.append((translate("BundleDetails", "Still there?"), _esc(history)))
    if web.recheck_of is not None:
        rows.append((translate("BundleDetails", "Checked again"), _esc(translate(
            "BundleDetails", "A later check of record no. {number}: {found}").format(
                number=web.recheck_of, found=_state_words(web.page_state)))))
    return rows


def _state_words(state: str) -> str:
    translate = QCoreApplication.translate
    words = {
        PageState.AVAILABLE.value: translate("BundleDetails", "the page was there."),
        PageState.GONE.value: translate("BundleDetails", "the page was no longer there."),
        PageState.LOGIN_WALL.value: translate(
            "BundleDetails", "the site asked to sign in instead of showing it, so it may be "
                             "hidden rather than deleted."),
        PageState.UNREACHABLE.value: translate(
            "BundleDetails", "nothing answered at its address, which may be a passing "
                             "fault."),
    }
    return words.get(state, state)


def still_there_words(entry: BundleCapture, others: Sequence[BundleCapture]) -> str:
    """"Captured on …, gone by …" or "Still there on …", from the latest later check
    of this page in the bundle (as the report says it); "" when there is none."""
    checks = sorted((other.capture for other in others if other.capture.web is not None
                     and other.capture.web.recheck_of == entry.capture.id
                     and other.capture.id != entry.capture.id),
                    key=lambda c: (c.captured_at, c.id))
    if not checks:
        return ""
    translate = QCoreApplication.translate
    latest = checks[-1]
    if latest.web is not None and latest.web.page_state == PageState.AVAILABLE.value:
        return translate("BundleDetails", "Still there on {when} (record no. {number}).").format(
            when=format_moment(local_captured_at(latest)), number=latest.id)
    gone = latest
    for check in reversed(checks):
        if check.web is None or check.web.page_state == PageState.AVAILABLE.value:
            break
        gone = check
    state = gone.web.page_state if gone.web is not None else ""
    return translate("BundleDetails", "Captured on {first}, gone by {when}: {found} (record "
                                      "no. {number})").format(
        first=format_moment(local_captured_at(entry.capture)),
        when=format_moment(local_captured_at(gone)), found=_state_words(state),
        number=gone.id)


def details_html(entry: BundleCapture, original_check: str = "",
                 others: Sequence[BundleCapture] = ()) -> str:
    """Everything recorded about one capture, as rows of label and value; ``others``
    are the bundle's items, where a web page's later checks are found."""
    translate = QCoreApplication.translate
    missing = translate("BundleDetails", _MISSING)
    capture = entry.capture
    d = capture.details
    sections: list[tuple[str, list[tuple[str, str]]]] = []

    def value(text: str) -> str:
        return _esc(text) if text.strip() else missing

    local = local_captured_at(capture)
    utc = capture.captured_at.astimezone(UTC)
    label = (translate("BundleDetails", "Imported") if capture.kind == CaptureKind.IMPORT
             else translate("BundleDetails", "Captured"))
    when: list[tuple[str, str]] = [
        (label, _esc(translate("BundleDetails", "{time} ({zone}, the sender's clock)")
                     .format(time=format_moment(local), zone=zone_label(capture)))),
        (translate("BundleDetails", "In UTC"), _esc(format_moment(utc)))]

    def shown(declared: fields.Field) -> str:
        text = getattr(d, declared.name)
        if declared.value is fields.Value.URL:
            return _link(text) if text.strip() else missing
        if declared.value is fields.Value.HANDLE:
            return value(_handle(text))
        if declared.value is fields.Value.CATEGORY:
            return value(category_label(text))
        return value(text)

    # Each group of fields under its heading, when first; the capture time heads "when"
    # and the incident "what".
    before = {fields.Group.WHEN: when,
              fields.Group.WHAT: [(translate("BundleDetails", "Incident"),
                                   value(entry.incident_title))]}
    for group in fields.READING_ORDER:
        rows = before.get(group, []) + [(field_text(declared.title), shown(declared))
                                        for declared in fields.in_group(group)]
        sections.append((field_text(fields.GROUP_HEADINGS[group]), rows))

    how: list[tuple[str, str]] = [(translate("BundleDetails", "How it was made"),
                                   _esc(entry.kind_text))]
    source = capture.source
    if capture.kind == CaptureKind.IMPORT or source is not None:
        how[0] = (how[0][0], _esc(translate("BundleDetails",
                                            "Imported from a file (not captured on screen): its "
                                            "“captured” time is when it was imported.")))
        if source is not None:
            name = source.file_name or translate("BundleDetails", "name not recorded")
            if source.file_size:
                name = translate("BundleDetails", "{name} ({size})").format(
                    name=name, size=_byte_size(source.file_size))
            how.append((translate("BundleDetails", "File"), _esc(name)))
            if source.file_mtime:
                how.append((translate("BundleDetails",
                                      "File last changed (as the sender's computer said)"),
                            _esc(_moment_words(source.file_mtime))))
            how.append((translate("BundleDetails", "Date written in the file (not verified)"),
                        value(_written_date_words(source.claimed_time or ""))))
    elif capture.kind == CaptureKind.WEB:
        how[0] = (how[0][0], _esc(translate("BundleDetails",
                                            "Captured as a web page in {app}'s own browser.")
                                  .format(app=APP_NAME)))
    elif capture.messages is not None:
        how[0] = (how[0][0], _esc(
            translate("BundleDetails", "Imported from an e-mail file, kept byte for byte.")
            if capture.kind == CaptureKind.EMAIL else
            translate("BundleDetails", "Imported from a chat export, kept byte for byte.")))
    else:
        how[0] = (how[0][0], _esc(translate("BundleDetails",
                                            "Captured on screen by {app} ({kind}).")
                                  .format(app=APP_NAME, kind=entry.kind_text.lower())))
    digest = _esc(capture.sha256) or translate("BundleDetails", "<i>Not recorded</i>")
    mono = f'<span style="font-family: monospace">{digest}</span>'
    how.append((translate("BundleDetails", "SHA-256 of the original"),
                mono + (f"<br>{original_check}" if original_check else "")))
    picture = []
    if capture.width and capture.height:
        picture.append(translate("BundleDetails", "{width} × {height} pixels").format(
            width=capture.width, height=capture.height))
    if capture.media_type:
        picture.append(capture.media_type)
    if capture.byte_size:
        picture.append(_byte_size(capture.byte_size))
    if capture.messages is not None:
        sections.append((translate("BundleDetails", "The record"), how))
        sections.append((translate("BundleDetails", "The messages"),
                         _message_rows(entry)))
        return _table(sections)
    how.append((translate("BundleDetails", "Picture"), value(", ".join(picture))))
    how.append((translate("BundleDetails", "Covered copy"), _esc(
        translate("BundleDetails", "Yes: parts are covered on a copy; the original is unchanged.")
        if entry.redacted else translate("BundleDetails", "No"))))
    if capture.has_annotations and not entry.redacted:
        how.append((translate("BundleDetails", "Highlights"), _esc(
            translate("BundleDetails", "Yes, on a copy; the original is unchanged."))))
    sections.append((translate("BundleDetails", "The record"), how))
    if capture.web is not None:
        sections.append((translate("BundleDetails", "The web page"),
                         _web_rows(entry, others)))

    computer = [(translate("BundleDetails", _ENVIRONMENT_LABELS[key])
                 if key in _ENVIRONMENT_LABELS else key.replace("_", " ").capitalize(),
                 _esc(_text(val)))
                for key, val in capture.environment.items() if _text(val).strip()]
    if computer:
        sections.append((translate("BundleDetails", "The sender's computer"), computer))

    return _table(sections)


def _message_rows(entry: BundleCapture) -> list[tuple[str, str]]:
    """What was recorded of an e-mail or chat export at import, and that the messages
    shown are read from the original (messages.json: derived, not original)."""
    translate = QCoreApplication.translate
    src = entry.capture.messages
    if src is None:
        return []
    missing = translate("BundleDetails", _MISSING)

    def value(text: str) -> str:
        return _esc(text) if text.strip() else missing

    count = translate("BundleDetails", "{count} messages").format(count=src.message_count)
    if src.unreadable_count:
        count = translate("BundleDetails", "{count}, and {lines} lines that could not be read "
                                           "(kept as written)").format(
            count=count, lines=src.unreadable_count)
    zone = (translate("BundleDetails", "Times without a zone were taken as {zone}, the "
                                       "computer's zone at import.").format(zone=src.zone_assumed)
            if src.zone_assumed else
            translate("BundleDetails", "Every time in the export carried its own zone."))
    rows = [
        (translate("BundleDetails", "Format"), value(src.format)),
        (translate("BundleDetails", "Read by"), value(src.parser)),
        (translate("BundleDetails", "File"), value(src.file_name)),
        (translate("BundleDetails", "Title"), value(src.title)),
        (translate("BundleDetails", "Participants"), value(", ".join(src.participants))),
        (translate("BundleDetails", "Messages"), _esc(count)),
        (translate("BundleDetails", "Flagged by the sender"), _esc(str(len(entry.flags)))),
        (translate("BundleDetails", "Times"), _esc(zone)),
    ]
    if src.notes:
        rows.append((translate("BundleDetails", "Notes from reading the file"),
                     _esc("\n".join(src.notes))))
    rows.append((translate("BundleDetails", "What is shown"), _esc(translate(
        "BundleDetails", "The messages are read out of the original file by the sender's "
                         "{app}; the original, byte for byte, is the evidence.").format(
        app=APP_NAME))))
    return rows


def _table(sections: list[tuple[str, list[tuple[str, str]]]]) -> str:
    # One table, so that the values line up down the whole pane.
    out = ["<table width='100%' cellspacing='0' cellpadding='2'>"]
    for heading, rows in sections:
        out.append(f"<tr><td colspan='2' style='padding-top:10px'><b><big>{_esc(heading)}"
                   "</big></b></td></tr>")
        for label, cell in rows:
            out.append(f"<tr><td width='38%' valign='top' style='padding-right:10px'>"
                       f"<b>{_esc(label)}</b></td><td valign='top'>{cell}</td></tr>")
    out.append("</table>")
    return "\n".join(out)


__all__ = [
    "BundleCapture",
    "TimelineColumn",
    "TimelineModel",
    "captures_of",
    "details_html",
    "still_there_words",
    "summary_text",
]
