"""What a received bundle says about its captures: each capture as read from
``evidence.json`` (every field coerced to text), the sender's summary, the timeline
model, and one capture's details as escaped HTML.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC
from enum import IntEnum
from typing import Any

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
from evidence_recorder.core.i18n import QT_TRANSLATE_NOOP
from evidence_recorder.core.model import Capture, CaptureDetails, CaptureKind, ImportSource
from evidence_recorder.ui.bundle_wording import (
    _AUDIENCES,
    _EPOCH,
    _MAX_INCIDENT_TITLES,
    _SHORT_DESCRIPTION,
    _TOOLTIP_LIMIT,
    _byte_size,
    _dict,
    _handle,
    _int,
    _moment_words,
    _one_line,
    _parse_time,
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


@dataclass(slots=True)
class BundleCapture:
    """One capture as the bundle describes it, every field already made safe to show."""

    capture: Capture
    time_known: bool
    kind_text: str
    incident_title: str
    original: str | None  # paths inside the bag
    redacted: str | None
    metadata: str | None
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def author_text(self) -> str:
        details = self.capture.details
        handle = _handle(details.handle)
        author = details.author.strip()
        if author and handle:
            return QCoreApplication.translate("BundleViewer", "{author} ({handle})").format(
                author=author, handle=handle)
        return author or handle


def _capture_from(raw: dict[str, Any], position: int,
                  incidents: dict[int, str]) -> BundleCapture:
    raw_details = _dict(raw.get("details"))
    values = {name: _text(raw_details.get(name)) for name in CaptureDetails.field_names()}
    # A bundle without a details block still has the summary fields.
    for declared in fields.FIELDS:
        if declared.summary_key and not values[declared.name]:
            values[declared.name] = _text(raw.get(declared.summary_key))
    details = CaptureDetails(**values)
    moment = _parse_time(_text(raw.get("captured_at")))
    kind_value = _text(raw.get("kind"))
    try:
        kind = CaptureKind(kind_value)
        kind_text = kind_label(kind)
    except ValueError:
        kind = CaptureKind.SCREEN  # only a placeholder; kind_text says what was written
        kind_text = kind_value or QCoreApplication.translate("BundleViewer", "Not recorded")
    raw_source = raw.get("source")
    source = None
    if isinstance(raw_source, dict):
        source = ImportSource(
            file_name=_text(raw_source.get("file_name")),
            file_size=_int(raw_source.get("file_size")) or 0,
            file_mtime=_text(raw_source.get("file_mtime")),
            claimed_time=_text(raw_source.get("claimed_time")) or None,
        )
    environment = {str(k): v for k, v in _dict(raw.get("environment")).items()}
    capture = Capture(
        id=_int(raw.get("id")) or position + 1,
        incident_id=_int(raw.get("incident")) or 0,
        kind=kind,
        captured_at=moment or _EPOCH,
        tz_name=_text(raw.get("tz_name")),
        utc_offset=_text(raw.get("utc_offset")),
        sha256=_text(raw.get("sha256")).lower(),
        width=_int(raw.get("width")) or 0,
        height=_int(raw.get("height")) or 0,
        media_type=_text(raw.get("media_type")),
        byte_size=_int(raw.get("byte_size")) or 0,
        environment=environment,
        source=source,
        details=details,
        has_annotations=raw.get("has_annotations") is True,
    )
    files = _dict(raw.get("files"))

    def path_of(role: str) -> str | None:
        value = files.get(role)
        return value if isinstance(value, str) and value else None

    return BundleCapture(
        capture=capture, time_known=moment is not None, kind_text=kind_text,
        incident_title=incidents.get(capture.incident_id, ""),
        original=path_of("original"), redacted=path_of("redacted"),
        metadata=path_of("metadata"))


def captures_of(evidence: Any) -> list[BundleCapture]:
    """The bundle's captures, oldest first; those without a readable time come last."""
    data = _dict(evidence)
    incidents: dict[int, str] = {}
    for raw in data.get("incidents") or []:
        if isinstance(raw, dict) and (number := _int(raw.get("id"))) is not None:
            incidents[number] = _text(raw.get("title"))
    raw_captures = data.get("captures")
    entries = [_capture_from(raw, i, incidents)
               for i, raw in enumerate(raw_captures if isinstance(raw_captures, list) else [])
               if isinstance(raw, dict)]
    # sorted() is stable, so captures made in the same millisecond keep the bundle's order.
    return sorted(entries, key=lambda e: (not e.time_known, e.capture.captured_at))


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


def summary_text(evidence: Any, capture_count: int) -> str:
    """``Exported by A. Teacher (Class teacher) on 25 Nov 2026 at 12:00 …``.

    Each step is a whole template with a place for what came before, so that a
    translator can put the parts of the sentence in their language's order.
    """
    translate = QCoreApplication.translate
    data = _dict(evidence)
    who = (_text(data.get("exported_by")).strip()
           or translate("BundleViewer", "someone who did not give their name"))
    role = _text(data.get("role")).strip()
    if role:
        sentence = translate("BundleViewer", "Exported by {who} ({role})").format(
            who=who, role=role)
    else:
        sentence = translate("BundleViewer", "Exported by {who}").format(who=who)
    when = _parse_time(_text(data.get("exported_at")))
    if when is not None:
        local = when.astimezone()
        sentence = translate(
            "BundleViewer", "{sentence} on {day} at {time} your time ({utc_day} {utc_time} UTC)",
        ).format(sentence=sentence, day=format_day(local), time=format_clock(local),
                 utc_day=format_day(when), utc_time=format_clock(when))
    audience = _text(data.get("audience")).strip()
    if audience:
        template = _AUDIENCES.get(audience.casefold())
        sentence = (_tr(template) if template
                    else translate("BundleViewer", "{sentence} for {audience}")).format(
            sentence=sentence, audience=audience)
    sentence = translate("BundleViewer", "{sentence}.").format(sentence=sentence)
    titles = [_text(i.get("title")).strip() or translate("BundleViewer", "Untitled")
              for i in data.get("incidents") or [] if isinstance(i, dict)]
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
            if not entry.time_known:
                return self.tr("Time not recorded")
            return format_short(local_captured_at(entry.capture))
        if column == TimelineColumn.SITE:
            return _one_line(details.site, 60)
        if column == TimelineColumn.AUTHOR:
            return _one_line(entry.author_text, 80)
        if column == TimelineColumn.POSTED:
            return _one_line(details.posted_at, 60)
        if column == TimelineColumn.CATEGORY:
            return category_label(_one_line(details.category, 60))
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
            return captured_tooltip(entry.capture) if entry.time_known else None
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


def details_html(entry: BundleCapture, original_check: str = "") -> str:
    """Everything recorded about one capture, as rows of label and value."""
    translate = QCoreApplication.translate
    missing = translate("BundleDetails", _MISSING)
    capture = entry.capture
    d = capture.details
    sections: list[tuple[str, list[tuple[str, str]]]] = []

    def value(text: str) -> str:
        return _esc(text) if text.strip() else missing

    when: list[tuple[str, str]] = []
    if entry.time_known:
        local = local_captured_at(capture)
        utc = capture.captured_at.astimezone(UTC)
        label = (translate("BundleDetails", "Imported") if capture.kind == CaptureKind.IMPORT
                 else translate("BundleDetails", "Captured"))
        when.append((label, _esc(translate("BundleDetails", "{time} ({zone}, the sender's clock)")
                                 .format(time=format_moment(local), zone=zone_label(capture)))))
        when.append((translate("BundleDetails", "In UTC"), _esc(format_moment(utc))))
    else:
        when.append((translate("BundleDetails", "Captured"),
                     translate("BundleDetails", "<i>Time not recorded</i>")))

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
    how.append((translate("BundleDetails", "Picture"), value(", ".join(picture))))
    how.append((translate("BundleDetails", "Covered copy"), _esc(
        translate("BundleDetails", "Yes: parts are covered on a copy; the original is unchanged.")
        if entry.redacted else translate("BundleDetails", "No"))))
    if capture.has_annotations and not entry.redacted:
        how.append((translate("BundleDetails", "Highlights"), _esc(
            translate("BundleDetails", "Yes, on a copy; the original is unchanged."))))
    sections.append((translate("BundleDetails", "The record"), how))

    computer = [(translate("BundleDetails", _ENVIRONMENT_LABELS[key])
                 if key in _ENVIRONMENT_LABELS else key.replace("_", " ").capitalize(),
                 _esc(_text(val)))
                for key, val in capture.environment.items() if _text(val).strip()]
    if computer:
        sections.append((translate("BundleDetails", "The sender's computer"), computer))

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
    "summary_text",
]
