"""The bundle viewer: a sealed evidence bundle, read by the person it was sent to.

Owns :class:`BundleViewer` and :func:`open_bundle_window`. The reader (a busy
headteacher, say) has no vault and no reason to learn the program, so the window
answers their first question at the top, in words and not only in colour: is this
bundle intact, and whose key sealed it. Below that: who sent it, a timeline of the
captures, and the selected capture's details beside one picture of it.

Where a capture has a covered (redacted) copy, that copy is what the reader sees
first, alone; the original, with what the sender covered, appears only after a
deliberate "Show what the sender covered" and arrives veiled like every picture.

A received bundle is hostile input even when its seal is sound (anyone can seal a
bundle), so every field of ``evidence.json`` is coerced to text and HTML-escaped
before it is shown, and a link is opened only after asking. Pictures arrive veiled,
because they may be upsetting. Closing the window drops every decoded picture and
every string of evidence, deletes the private copy of report.pdf made for the PDF
viewer, and closes the bundle.

The core opener is written elsewhere; this module codes against the small protocol
below, and tests pass a fake opener.
"""

from __future__ import annotations

import contextlib
import hashlib
import html
import importlib
import os
import shutil
import tempfile
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import IntEnum
from pathlib import Path
from typing import Any, Protocol

import shiboken6
from PySide6.QtCore import (
    QAbstractTableModel,
    QByteArray,
    QCoreApplication,
    QLocale,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QPointF,
    QSettings,
    Qt,
    QUrl,
    Signal,
)
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QColor,
    QDesktopServices,
    QFont,
    QGuiApplication,
    QKeySequence,
    QPainter,
    QPainterPath,
    QPen,
    QPixmap,
    QPixmapCache,
    QPolygonF,
    QTextDocument,
)
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMainWindow,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QStackedWidget,
    QTableView,
    QTextBrowser,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from evidence_recorder import APP_NAME
from evidence_recorder.core.errors import EvidenceError, WrongSecret
from evidence_recorder.core.i18n import QT_TRANSLATE_NOOP
from evidence_recorder.core.model import (
    Capture,
    CaptureDetails,
    CaptureKind,
    ImportSource,
    handle_text,
    parse_iso_utc,
)
from evidence_recorder.ui import filedialogs, messages
from evidence_recorder.ui.guide import (
    ChildProtectionDialog,
    child_protection_tip,
    child_protection_title,
    pin_child_protection_stop,
    show_red_in,
)
from evidence_recorder.ui.i18n import error_text
from evidence_recorder.ui.imageview import ImageView
from evidence_recorder.ui.models import (
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
from evidence_recorder.ui.plain import make_plain, tooltip
from evidence_recorder.ui.seal_dialog import seal_number_html, seal_text
from evidence_recorder.ui.tasks import run_task

# ---------------------------------------------------------------------- the protocol


class BundleReportLike(Protocol):
    """What verification found. ``ok`` only when nothing was wrong."""

    @property
    def ok(self) -> bool: ...

    @property
    def problems(self) -> list[str]: ...

    @property
    def fingerprint(self) -> str | None: ...  # "SHA256:…" as ssh-keygen prints it

    @property
    def seal_number(self) -> str | None: ...  # the same key as 12 groups of 5 digits

    @property
    def timestamp(self) -> str | None: ...  # "2026-11-25T12:00:03Z from …" when present

    @property
    def timestamp_state(self) -> str | None: ...  # "trusted", "unknown-authority", "not-trusted"

    @property
    def timestamp_reason(self) -> str: ...  # why a timestamp is not trusted, in plain words


class OpenedBundleLike(Protocol):
    """A verified (or found wanting) bundle, open for reading until :meth:`close`."""

    @property
    def report(self) -> BundleReportLike: ...

    @property
    def bundle_name(self) -> str: ...

    @property
    def evidence(self) -> dict[str, Any]: ...

    def read(self, path: str) -> bytes: ...

    def close(self) -> None: ...


Opener = Callable[[Path, "str | None"], OpenedBundleLike]


def default_opener(path: Path, passphrase: str | None = None) -> OpenedBundleLike:
    """``core.bundle.open_bundle``, imported only when a bundle is first opened."""
    module = importlib.import_module("evidence_recorder.core.bundle.seal")
    opened: OpenedBundleLike = module.open_bundle(path, passphrase)
    return opened


# ---------------------------------------------------------------------- wording

WINDOW_TITLE = QT_TRANSLATE_NOOP("BundleViewer", "Evidence bundle")
INTACT_HEADLINE = QT_TRANSLATE_NOOP(
    "BundleViewer", "This bundle is intact: nothing in it has changed since it was sealed.")
ALTERED_HEADLINE = QT_TRANSLATE_NOOP(
    "BundleViewer", "Warning: this bundle has been altered or is damaged. Do not rely on it.")
ALTERED_ADVICE = QT_TRANSLATE_NOOP("BundleViewer",
                                   "Keep this file as it is, and ask the person who sent it to "
                                   "send the bundle again.")
CHECKING_HEADLINE = QT_TRANSLATE_NOOP("BundleViewer", "Checking the bundle…")
CHECKING_DETAIL = QT_TRANSLATE_NOOP("BundleViewer",
                                    "Making sure nothing in it has changed since it was sealed. "
                                    "A large bundle can take a moment.")
CONFIRM_FINGERPRINT = QT_TRANSLATE_NOOP(
    "BundleViewer", "confirm this fingerprint with the person who sent it, by phone.")
NO_ORIGINAL_NOTE = QT_TRANSLATE_NOOP("BundleViewer",
                                     "The sender did not include the uncovered original.")
NO_PICTURE_NOTE = QT_TRANSLATE_NOOP("BundleViewer",
                                    "This bundle holds no picture for this capture.")
NO_REDACTED_NOTE = QT_TRANSLATE_NOOP("BundleViewer",
                                     "Nothing was covered on this capture, so the original is "
                                     "shown.")
SHOW_COVERED_BUTTON = QT_TRANSLATE_NOOP("BundleViewer", "Show what the sender co&vered")
SHOW_COPY_BUTTON = QT_TRANSLATE_NOOP("BundleViewer", "Back to the co&vered copy")
BUNDLE_FILTER = QT_TRANSLATE_NOOP("BundleViewer", "Evidence bundles (*.zip);;All files (*)")

_AUDIENCES = {"headteacher": QT_TRANSLATE_NOOP("BundleViewer", "{sentence} for the headteacher"),
              "police": QT_TRANSLATE_NOOP("BundleViewer", "{sentence} for the police")}
_SHORT_DESCRIPTION = 120
_TOOLTIP_LIMIT = 1_000


def _tr(text: str) -> str:
    """One of the texts marked above, in the user's language."""
    return QCoreApplication.translate("BundleViewer", text)


_MAX_INCIDENT_TITLES = 3
_PROBLEM_LINES = 6  # problems shown without scrolling
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# Verdict colours: dark ink on a pale tint, readable whatever the desktop theme,
# always with an icon and words beside them.
_GREEN = ("#e6f4ea", "#1e7b34", "#0b3d1a")  # background, border, text
_RED = ("#fdecea", "#b3261e", "#5c0f0a")
_NEUTRAL = ("#f1f3f4", "#5f6368", "#202124")  # a timestamp that is not trusted


# ---------------------------------------------------------------------- reading evidence.json


def _text(value: Any) -> str:
    """Text for a scalar field; nothing for lists, objects or a missing value."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return str(value)
    return ""


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _one_line(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


REPORT_COPY_PREFIX = "evidence-report-"


def sweep_report_copies() -> None:
    """Remove report copies left by a viewer that was killed before it could delete them.

    Each copy's folder is named after the process that made it; a folder of ours whose
    process is gone is left over. Called at start and before each new copy. POSIX only:
    elsewhere there is no harmless way to ask whether a process lives (on Windows
    ``os.kill`` ends it), and the system's temporary folder is left to the system.
    """
    if os.name != "posix":
        return
    with contextlib.suppress(OSError):
        for folder in Path(tempfile.gettempdir()).glob(f"{REPORT_COPY_PREFIX}*-*"):
            pid = folder.name[len(REPORT_COPY_PREFIX):].split("-", 1)[0]
            if not pid.isdigit() or folder.is_symlink() or not folder.is_dir() \
                    or folder.stat().st_uid != os.getuid():
                continue
            try:
                os.kill(int(pid), 0)  # signal 0: only asks whether it exists
            except ProcessLookupError:
                shutil.rmtree(folder, ignore_errors=True)
            except (OSError, OverflowError):
                continue


def _timestamp_words(timestamp: str) -> str:
    """``2026-11-25T12:00:03Z from CN=Example TSA,O=Example`` as a person reads it:
    ``25 Nov 2026 at 12:00:03 your time (25 Nov 2026 12:00:03 UTC), from “Example TSA”``."""
    when_text, _, authority = timestamp.partition(" from ")
    when = _parse_time(when_text.strip())
    if when is None:
        return timestamp
    translate = QCoreApplication.translate
    local = when.astimezone()
    words = translate("BundleViewer",
                      "{day} at {time} your time ({utc_day} {utc_time} UTC)").format(
        day=format_day(local), time=format_clock(local, seconds=True),
        utc_day=format_day(when), utc_time=format_clock(when, seconds=True))
    names = [part.split("=", 1)[1] for part in authority.split(",")
             if part.strip().upper().startswith("CN=")]
    name = names[0].strip() if names else authority.strip()
    if name:
        words = translate("BundleViewer", "{when}, from “{authority}”").format(
            when=words, authority=name)
    return words


def _moment_words(text: str) -> str:
    """An ISO instant from the bundle as ``24 Nov 2026 at 21:06:00 your time (… UTC)``;
    text that is not one is shown as it was written."""
    when = _parse_time(text.strip())
    if when is None:
        return text
    local = when.astimezone()
    return QCoreApplication.translate(
        "BundleViewer", "{day} at {time} your time ({utc_day} {utc_time} UTC)").format(
        day=format_day(local), time=format_clock(local, seconds=True),
        utc_day=format_day(when), utc_time=format_clock(when, seconds=True))


def _written_date_words(text: str) -> str:
    """A date written inside a picture file (EXIF ``2026:11:24 21:05:12``, no time zone)
    as ``24 Nov 2026 at 21:05:12``; anything else exactly as written."""
    cleaned = text.strip()
    for pattern in ("%Y:%m:%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"):
        try:
            moment = datetime.strptime(cleaned[:19], pattern)  # it has no zone
        except ValueError:
            continue
        if len(cleaned) > 19 and cleaned[19:].strip():
            return QCoreApplication.translate(
                "BundleViewer", "{day} at {time} (written as “{text}”)").format(
                day=format_day(moment), time=format_clock(moment, seconds=True), text=cleaned)
        return QCoreApplication.translate("BundleViewer", "{day} at {time}").format(
            day=format_day(moment), time=format_clock(moment, seconds=True))
    return text


def _parse_time(text: str) -> datetime | None:
    if not text:
        return None
    try:
        moment = parse_iso_utc(text)
    except (ValueError, OverflowError):
        return None
    return moment


def make_plain_text(rich: str) -> str:
    """A caption's words without its bold tags (for screen readers)."""
    return rich.replace("<b>", "").replace("</b>", "")


@contextlib.contextmanager
def _blocked(widget: QObject) -> Any:
    was = widget.blockSignals(True)
    try:
        yield
    finally:
        widget.blockSignals(was)


def _byte_size(size: int) -> str:
    # The locale writes the number (1.5 or 1,5); Qt's own unit names are translated.
    return QLocale().formattedDataSize(size, 1 if size >= 1024 * 1024 else 0,
                                       QLocale.DataSizeFormat.DataSizeSIFormat)


def _handle(text: str) -> str:
    return handle_text(text)


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
    for name, key in (("site", "site"), ("url", "url"), ("author", "author"),
                      ("category", "category"), ("description", "note")):
        if not values[name]:
            values[name] = _text(raw.get(key))
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


TIMELINE_TITLES: dict[TimelineColumn, str] = {
    TimelineColumn.CAPTURED: QT_TRANSLATE_NOOP("TimelineModel", "Captured"),
    TimelineColumn.SITE: QT_TRANSLATE_NOOP("TimelineModel", "Site"),
    TimelineColumn.AUTHOR: QT_TRANSLATE_NOOP("TimelineModel", "Author"),
    TimelineColumn.POSTED: QT_TRANSLATE_NOOP("TimelineModel", "Posted (as shown)"),
    TimelineColumn.CATEGORY: QT_TRANSLATE_NOOP("TimelineModel", "Category"),
    TimelineColumn.DESCRIPTION: QT_TRANSLATE_NOOP("TimelineModel", "What happened"),
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
            return self.tr(TIMELINE_TITLES[column])
        if role == _TOOLTIP:
            return self.tr(_TIMELINE_HELP[column])
        return None

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
                column=self.tr(TIMELINE_TITLES[column]),
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
    when.append((translate("BundleDetails", "Posted (as shown)"), value(d.posted_at)))
    sections.append((translate("BundleDetails", "When"), when))

    sections.append((translate("BundleDetails", "Where"), [
        (translate("BundleDetails", "Site"), value(d.site)),
        (translate("BundleDetails", "Link to the post"),
         _link(d.url) if d.url.strip() else missing),
    ]))
    sections.append((translate("BundleDetails", "Who posted it"), [
        (translate("BundleDetails", "Name"), value(d.author)),
        (translate("BundleDetails", "@handle"), value(_handle(d.handle))),
        (translate("BundleDetails", "Link to their profile"),
         _link(d.profile_url) if d.profile_url.strip() else missing),
        (translate("BundleDetails", "User number"), value(d.author_id)),
    ]))
    category = category_label(d.category)
    sections.append((translate("BundleDetails", "What it was"), [
        (translate("BundleDetails", "Incident"), value(entry.incident_title)),
        (translate("BundleDetails", "Category"), value(category)),
        (translate("BundleDetails", "What happened"), value(d.description)),
        (translate("BundleDetails", "Context"), value(d.context)),
        (translate("BundleDetails", "People involved or witnesses"), value(d.people)),
    ]))
    sections.append((translate("BundleDetails", "Reports made"), [
        (translate("BundleDetails", "Platform report reference"), value(d.platform_ref)),
        (translate("BundleDetails", "Police reference"), value(d.police_ref)),
    ]))

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


# ---------------------------------------------------------------------- the verdict banner


def _verdict_icon(intact: bool, size: int = 40) -> QPixmap:
    """A tick in a green disc, or "!" in a red triangle: the shape carries the meaning too."""
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    colour = QColor(_GREEN[1] if intact else _RED[1])
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(colour)
    pen = QPen(QColor("white"), size / 9)
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    if intact:
        painter.drawEllipse(1, 1, size - 2, size - 2)
        tick = QPainterPath(QPointF(size * 0.28, size * 0.52))
        tick.lineTo(size * 0.44, size * 0.68)
        tick.lineTo(size * 0.73, size * 0.34)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(tick)
    else:
        painter.drawPolygon(QPolygonF([QPointF(size / 2, 2), QPointF(size - 1, size - 3),
                                       QPointF(1, size - 3)]))
        painter.setPen(pen)
        painter.drawLine(QPointF(size / 2, size * 0.36), QPointF(size / 2, size * 0.62))
        painter.drawPoint(QPointF(size / 2, size * 0.78))
    painter.end()
    return pixmap


class VerdictBanner(QFrame):
    """Intact, altered, or still checking: an icon, a headline and what follows from it."""

    copy_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("verdictBanner")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.state = "checking"
        self.fingerprint = ""
        self.seal_number = ""
        outer = QHBoxLayout(self)
        outer.setContentsMargins(14, 10, 14, 10)
        outer.setSpacing(12)
        self.icon = QLabel()
        self.icon.setFixedSize(40, 40)
        self.icon.setAlignment(Qt.AlignmentFlag.AlignTop)
        outer.addWidget(self.icon, 0, Qt.AlignmentFlag.AlignTop)
        column = QVBoxLayout()
        column.setSpacing(4)
        outer.addLayout(column, 1)

        self.headline = QLabel()
        self.headline.setObjectName("verdictHeadline")
        self.headline.setWordWrap(True)
        bold = QFont(self.headline.font())
        bold.setBold(True)
        bold.setPointSizeF(max(bold.pointSizeF(), 9.0) * 1.2)
        self.headline.setFont(bold)
        self.headline.setAccessibleName(self.tr("Verdict"))
        column.addWidget(self.headline)

        key_row = QHBoxLayout()
        key_row.setSpacing(8)
        self.fingerprint_label = QLabel()
        self.fingerprint_label.setWordWrap(True)
        self.fingerprint_label.setTextFormat(Qt.TextFormat.RichText)
        self.fingerprint_label.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse
            | Qt.TextInteractionFlag.TextSelectableByKeyboard)
        self.fingerprint_label.setAccessibleName(self.tr("Key that sealed the bundle"))
        key_row.addWidget(self.fingerprint_label, 1)
        self.copy_button = QToolButton()
        self.copy_button.setText(self.tr("Copy seal"))
        self.copy_button.setAccessibleName(self.tr("Copy the seal number and fingerprint"))
        self.copy_button.setToolTip(self.tr("Copy the seal number and fingerprint, to compare "
                                            "them with the ones the sender reads to you"))
        self.copy_button.clicked.connect(self.copy_requested.emit)
        key_row.addWidget(self.copy_button, 0, Qt.AlignmentFlag.AlignTop)
        column.addLayout(key_row)

        self.timestamp_label = QLabel()
        self.timestamp_label.setWordWrap(True)
        self.timestamp_label.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse)
        self.timestamp_label.setAccessibleName(self.tr("Timestamp"))
        column.addWidget(self.timestamp_label)

        self.problems = QPlainTextEdit()
        self.problems.setReadOnly(True)
        self.problems.setAccessibleName(self.tr("Problems found"))
        self.problems.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        column.addWidget(self.problems)

        self.advice = QLabel()
        self.advice.setWordWrap(True)
        self.advice.setAccessibleName(self.tr("What to do"))
        column.addWidget(self.advice)
        # The timestamp names the authority as the bundle's token gives it: outside text.
        make_plain(self.headline, self.timestamp_label, self.advice)
        # Word-wrapped labels alone in the column (while checking) would otherwise be laid
        # out at their narrowest, one word a line in the middle of the banner.
        for label in (self.headline, self.advice):
            label.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.show_checking()

    def _style(self, colours: tuple[str, str, str] | None) -> None:
        if colours is None:
            self.setStyleSheet("")
            return
        back, border, ink = colours
        self.setStyleSheet(
            f"QFrame#verdictBanner {{ background: {back}; border: 2px solid {border};"
            f" border-radius: 6px; }}"
            f" QFrame#verdictBanner QLabel {{ color: {ink}; background: transparent; }}"
            # a timestamp that is not trusted is neither green nor red: plain grey
            f" QFrame#verdictBanner QLabel#neutralTimestamp {{ color: {_NEUTRAL[2]};"
            f" background: {_NEUTRAL[0]}; border: 1px solid {_NEUTRAL[1]};"
            f" border-radius: 3px; padding: 4px; }}"
            f" QFrame#verdictBanner QPlainTextEdit {{ color: {ink}; background: white;"
            f" border: 1px solid {border}; }}"
            f" QFrame#verdictBanner QToolButton {{ color: {ink}; background: white;"
            f" border: 1px solid {border}; border-radius: 3px; padding: 2px 8px; }}")

    def _reset(self) -> None:
        self.fingerprint = ""
        self.seal_number = ""
        self.fingerprint_label.clear()
        self.timestamp_label.clear()
        self.problems.clear()
        self.advice.clear()
        for widget in (self.fingerprint_label, self.copy_button, self.timestamp_label,
                       self.problems, self.advice):
            widget.setVisible(False)

    def show_checking(self) -> None:
        self.state = "checking"
        self._reset()
        self._style(None)
        self.icon.clear()
        self.icon.setAccessibleName("")
        self.headline.setText(_tr(CHECKING_HEADLINE))
        self.advice.setText(_tr(CHECKING_DETAIL))
        self.advice.setVisible(True)

    def show_report(self, report: BundleReportLike) -> None:
        self._reset()
        problems = [str(p) for p in (report.problems or [])]
        intact = bool(report.ok) and not problems
        self.state = "intact" if intact else "altered"
        self._style(_GREEN if intact else _RED)
        self.icon.setPixmap(_verdict_icon(intact))
        self.icon.setAccessibleName(self.tr("Intact") if intact else self.tr("Warning"))
        self.icon.setToolTip(self.tr("Intact") if intact else self.tr("Warning"))
        fingerprint = (report.fingerprint or "").strip()
        number = (report.seal_number or "").strip() if fingerprint else ""
        timestamp = (report.timestamp or "").strip()
        if intact:
            self.headline.setText(_tr(INTACT_HEADLINE))
            if fingerprint:
                text = self.tr("Sealed by the key <span style='font-family: monospace; "
                               "font-weight: 600'>{fingerprint}</span> — {advice}").format(
                    fingerprint=html.escape(fingerprint),
                    advice=html.escape(_tr(CONFIRM_FINGERPRINT)))
                if number:
                    text += "<br>" + self.tr("Seal number (the same key as digits, easier to "
                                             "read out):") + "<br>" + seal_number_html(number)
                self.fingerprint_label.setText(text)
                self.copy_button.setVisible(True)
            else:
                self.fingerprint_label.setText(
                    self.tr("The key that sealed it could not be identified. Ask the sender how "
                            "they sealed it before you rely on it."))
            self.fingerprint_label.setVisible(True)
            if timestamp:
                self._show_timestamp(report, timestamp)
        else:
            self.headline.setText(_tr(ALTERED_HEADLINE))
            listed = problems or [self.tr("The check failed without saying why.")]
            self.problems.setPlainText("\n".join(f"• {p}" for p in listed))
            # Tall enough for a few problems; a long list scrolls.
            lines = min(len(listed), _PROBLEM_LINES) + 0.6
            margins = 2 * (self.problems.frameWidth()
                           + int(self.problems.document().documentMargin()))
            self.problems.setFixedHeight(
                int(lines * self.problems.fontMetrics().lineSpacing()) + margins)
            self.problems.setVisible(True)
            self.advice.setText(_tr(ALTERED_ADVICE))
            self.advice.setVisible(True)
        self.fingerprint = fingerprint if intact else ""
        self.seal_number = number if intact else ""

    def _show_timestamp(self, report: BundleReportLike, timestamp: str) -> None:
        """Only a timestamp whose authority chains to a trusted root may sound sure."""
        timestamp = _timestamp_words(timestamp)
        state = report.timestamp_state
        if state == "trusted":
            self.timestamp_label.setObjectName("trustedTimestamp")
            self.timestamp_label.setText(
                self.tr("Timestamped by an independent service that this computer trusts: "
                        "{timestamp}. The bundle existed, exactly as it is, at that time.")
                .format(timestamp=timestamp))
        elif state == "unknown-authority":
            self.timestamp_label.setObjectName("neutralTimestamp")
            self.timestamp_label.setText(
                self.tr("This bundle contains a timestamp from an authority this computer does "
                        "not know, claiming {timestamp}. It belongs to this bundle, but the "
                        "time is only that authority's claim.").format(timestamp=timestamp))
        else:
            self.timestamp_label.setObjectName("neutralTimestamp")
            self.timestamp_label.setText(
                self.tr("This bundle contains a timestamp claiming {timestamp}, but this "
                        "computer cannot trust it: {reason}")
                .format(timestamp=timestamp,
                        reason=report.timestamp_reason or self.tr("it could not be checked.")))
        style = self.timestamp_label.style()  # re-apply the banner's rules for the new name
        style.unpolish(self.timestamp_label)
        style.polish(self.timestamp_label)
        self.timestamp_label.setVisible(True)

    def clear(self) -> None:
        self.show_checking()
        self.headline.setText(self.tr("No bundle open."))
        self.advice.setVisible(False)


# ---------------------------------------------------------------------- the window


_open_viewers: set[BundleViewer] = set()  # keeps parentless windows alive until closed


class BundleViewer(QMainWindow):
    """One received bundle: the verdict, the sender's summary, the captures.

    ``save_requested`` carries the bundle's path when the reader asks to keep it in
    their own vault; whoever owns the vault does the saving.
    """

    save_requested = Signal(object)
    loaded = Signal()  # a bundle is on show (tests and the caller may wait for it)

    def __init__(self, parent: QWidget | None = None, *,
                 opener: Opener = default_opener) -> None:
        super().__init__(parent)
        self.setWindowFlag(Qt.WindowType.Window, True)
        self.setWindowTitle(self._title())
        self._opener = opener
        self._bundle: OpenedBundleLike | None = None
        self._path: Path | None = None
        self._passphrase: str | None = None
        self._generation = 0
        self._busy = False
        self._closed = False
        self._row: int | None = None
        self._report_folder: Path | None = None  # a private copy of report.pdf, while open
        self.model = TimelineModel(self)
        self._build_actions()
        self._build_layout()
        self._restore_geometry()
        self._update_actions()

    # ------------------------------------------------------------------ building

    def _action(self, text: str, slot: Callable[[], object],
                shortcut: str | QKeySequence | QKeySequence.StandardKey | None,
                tip: str) -> QAction:
        action = QAction(text, self)  # callers pass translated text
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.setToolTip(tip)
        action.setStatusTip(tip)
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    def _build_actions(self) -> None:
        self.act_open = self._action(self.tr("&Open another bundle…"), self.choose_bundle,
                                     QKeySequence.StandardKey.Open,
                                     self.tr("Open another evidence bundle"))
        self.act_save = self._action(self.tr("&Save into my vault…"), self.request_save, "Ctrl+S",
                                     self.tr("Keep a copy of this bundle in your own evidence "
                                             "vault"))
        self.act_report = self._action(
            self.tr("Open the &report (PDF)"), self.open_report, None,
            self.tr("Open the sender's sealed report in your PDF viewer. The copy made for "
                    "this is removed when you close this window."))
        self.act_print = self._action(self.tr("&Print…"), self.print_bundle,
                                      QKeySequence.StandardKey.Print,
                                      self.tr("Print each capture's details and picture "
                                              "(the covered copy where there is one)"))
        self.act_close = self._action(self.tr("&Close"), self.close,
                                      QKeySequence.StandardKey.Close, self.tr("Close this bundle"))
        self.act_authorities = self._action(
            self.tr("&Time-stamping authorities…"), self.show_authorities, None,
            self.tr("Which timestamp services this computer trusts, besides the built-in "
                    "lists"))
        menu = self.menuBar().addMenu(self.tr("&Bundle"))
        menu.addActions([self.act_open, self.act_save, self.act_report, self.act_print])
        menu.addSeparator()
        menu.addAction(self.act_authorities)
        menu.addSeparator()
        menu.addAction(self.act_close)
        self.act_help = self._action(self.tr("&Guide for headteachers"),
                                     lambda: self.show_help("headteacher"),
                                     QKeySequence.StandardKey.HelpContents,
                                     self.tr("How to read and check this bundle (offline)"))
        self.act_help_police = self._action(self.tr("Guide for &police officers"),
                                            lambda: self.show_help("police"), None,
                                            self.tr("How to check a bundle with standard "
                                                    "tools, without this app"))
        help_menu = self.menuBar().addMenu(self.tr("&Help"))
        help_menu.addActions([self.act_help, self.act_help_police])
        # A headteacher may meet such images in a bundle too: the red stop, always in sight.
        self.act_stop = self._action(
            child_protection_title(), lambda: ChildProtectionDialog(self).exec(), None,
            child_protection_tip())
        help_menu.addSeparator()
        help_menu.addAction(self.act_stop)
        show_red_in(help_menu, self.act_stop)
        bar = self.addToolBar(self.tr("Bundle"))
        bar.setObjectName("bundleToolbar")
        bar.setMovable(False)
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        bar.addActions([self.act_open, self.act_save, self.act_report, self.act_print])
        bar.addSeparator()
        bar.addAction(self.act_close)
        help_button = QToolButton()
        help_button.setText(self.tr("Help"))
        help_button.setAccessibleName(self.tr("Help: guide for headteachers"))
        help_button.setToolTip(self.tr("How to read and check this bundle (F1)"))
        help_button.clicked.connect(self.act_help.trigger)
        bar.addWidget(help_button)
        self.stop_bar = pin_child_protection_stop(self, self.act_stop)

    def _build_layout(self) -> None:
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(10, 8, 10, 6)
        layout.setSpacing(8)

        self.banner = VerdictBanner()
        self.banner.copy_requested.connect(self.copy_fingerprint)
        layout.addWidget(self.banner)

        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.summary.setAccessibleName(self.tr("About this bundle"))
        make_plain(self.summary)  # the sender's name and titles: never markup
        layout.addWidget(self.summary)

        self.timeline = QTableView()
        self.timeline.setModel(self.model)
        self.timeline.setAccessibleName(self.tr("Captures in this bundle, oldest first"))
        self.timeline.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.timeline.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.timeline.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.timeline.setAlternatingRowColors(True)
        self.timeline.setWordWrap(False)
        self.timeline.setTabKeyNavigation(False)
        vertical = self.timeline.verticalHeader()
        vertical.setVisible(False)
        vertical.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        vertical.setDefaultSectionSize(self.timeline.fontMetrics().height() + 10)
        horizontal = self.timeline.horizontalHeader()
        horizontal.setStretchLastSection(True)
        horizontal.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        metrics = self.timeline.fontMetrics()
        for column, sample in ((TimelineColumn.CAPTURED,
                                format_short(datetime(2026, 9, 28, 23, 59))),
                               (TimelineColumn.SITE, "Facebook Messenger"),
                               (TimelineColumn.AUTHOR, "Firstname Lastname (@handle)"),
                               (TimelineColumn.POSTED, "Yesterday at 21:04"),
                               (TimelineColumn.CATEGORY, category_label("harassment"))):
            horizontal.resizeSection(column, metrics.horizontalAdvance(sample) + 24)
        self.timeline.selectionModel().currentRowChanged.connect(self._current_changed)

        self.details = QTextBrowser()
        self.details.setAccessibleName(self.tr("Details of the selected capture"))
        self.details.setOpenLinks(False)
        self.details.setOpenExternalLinks(False)
        self.details.anchorClicked.connect(self._link_clicked)
        self.details.setPlaceholderText(self.tr("Choose a capture above to see what was recorded "
                                                "about it."))

        # One picture at a time: the covered copy first; the original only on request.
        pictures = QWidget()
        pictures_column = QVBoxLayout(pictures)
        pictures_column.setContentsMargins(0, 0, 0, 0)
        pictures_column.setSpacing(4)
        caption_row = QHBoxLayout()
        self.picture_caption = QLabel()
        self.picture_caption.setWordWrap(True)
        self.show_original_button = QPushButton(_tr(SHOW_COVERED_BUTTON))
        self.show_original_button.setCheckable(True)
        self.show_original_button.setToolTip(
            self.tr("See the original, exactly as captured, with nothing covered. It may be "
                    "upsetting; it stays veiled until you click it."))
        self.show_original_button.toggled.connect(self._show_original)
        self.show_original_button.setVisible(False)
        caption_row.addWidget(self.picture_caption, 1)
        caption_row.addWidget(self.show_original_button)
        pictures_column.addLayout(caption_row)
        self.original_view = ImageView(accessible_name=self.tr("Original picture"))
        self.redacted_view = ImageView(accessible_name=self.tr("Covered copy of the picture"))
        self.picture_note = QLabel()
        self.picture_note.setWordWrap(True)
        self.picture_note.setAccessibleName(self.tr("Note about the pictures"))
        make_plain(self.picture_note)  # may name a path from the bundle
        self.picture_note.setVisible(False)
        for view in (self.original_view, self.redacted_view):
            view.set_placeholder_text(self.tr("Choose a capture to see its picture here."))
            view.set_veiled(True)
            view.setMinimumSize(160, 120)
        self.picture_stack = QStackedWidget()
        self.picture_stack.addWidget(self.redacted_view)
        self.picture_stack.addWidget(self.original_view)
        pictures_column.addWidget(self.picture_stack, 1)
        pictures_column.addWidget(self.picture_note)

        self.lower_splitter = QSplitter(Qt.Orientation.Horizontal)
        self.lower_splitter.setObjectName("bundleLowerSplitter")
        self.lower_splitter.addWidget(self.details)
        self.lower_splitter.addWidget(pictures)
        self.lower_splitter.setStretchFactor(0, 2)
        self.lower_splitter.setStretchFactor(1, 3)
        self.lower_splitter.setSizes([460, 800])
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.setObjectName("bundleSplitter")
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(self.timeline)
        self.splitter.addWidget(self.lower_splitter)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 3)
        self.splitter.setSizes([150, 450])
        layout.addWidget(self.splitter, 1)
        self.setCentralWidget(central)

        self.setTabOrder(self.timeline, self.details)
        self.setTabOrder(self.details, self.show_original_button)
        self.setTabOrder(self.show_original_button, self.redacted_view)
        self.setTabOrder(self.redacted_view, self.original_view)

        self.busy_bar = QProgressBar()
        self.busy_bar.setRange(0, 0)
        self.busy_bar.setMaximumWidth(160)
        self.busy_bar.setAccessibleName(self.tr("Checking the bundle"))
        self.busy_bar.setVisible(False)
        self.statusBar().addPermanentWidget(self.busy_bar)

    # ------------------------------------------------------------------ geometry

    def _restore_geometry(self) -> None:
        store = QSettings()
        geometry = store.value("bundleViewer/geometry")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        else:
            self.resize(1280, 720)
        state = store.value("bundleViewer/splitter")
        if isinstance(state, QByteArray):
            self.splitter.restoreState(state)

    def _save_geometry(self) -> None:
        store = QSettings()
        store.setValue("bundleViewer/geometry", self.saveGeometry())
        store.setValue("bundleViewer/splitter", self.splitter.saveState())

    # ------------------------------------------------------------------ state

    def is_loaded(self) -> bool:
        return self._bundle is not None

    def is_busy(self) -> bool:
        return self._busy

    def bundle_path(self) -> Path | None:
        return self._path

    def report_summary(self) -> dict[str, object]:
        """The verdict to keep with a copy of this bundle saved into a vault."""
        if self._bundle is None:
            return {}
        report = self._bundle.report
        # The sealed contents' digest lets the saving check that what it keeps is what
        # was shown here (the file may change on the disk in between).
        return {"ok": bool(report.ok) and not report.problems, "problems": list(report.problems),
                "fingerprint": report.fingerprint, "timestamp": report.timestamp,
                "timestamp_trusted": report.timestamp_state == "trusted",
                "sealed_sha256": getattr(report, "sealed_sha256", None)}

    def bundle_passphrase(self) -> str | None:
        """The passphrase the bundle on show was opened with (to check the copy saved)."""
        return self._passphrase if self._bundle is not None else None

    def verdict(self) -> str:
        """``"intact"``, ``"altered"`` or ``"checking"``: what the banner says."""
        return self.banner.state

    def _update_actions(self) -> None:
        intact = self._bundle is not None and self.banner.state == "intact"
        self.act_save.setEnabled(intact and not self._busy)
        self.act_save.setToolTip(
            self.tr("Keep a copy of this bundle in your own evidence vault") if intact
            else self.tr("Only an intact bundle can be saved into a vault"))
        self.act_open.setEnabled(not self._busy)
        # Only an intact bundle's report and pictures leave this window: an altered
        # bundle's PDF could say anything, without the red warning shown here.
        for action in (self.act_report, self.act_print):
            action.setEnabled(intact and not self._busy)

    def _set_busy(self, busy: bool) -> None:
        self._busy = busy
        self.busy_bar.setVisible(busy)
        if busy:
            self.statusBar().showMessage(self.tr("Checking the bundle…"))
            if self._bundle is None:
                self.banner.show_checking()
        else:
            self.statusBar().clearMessage()
        self._update_actions()

    # ------------------------------------------------------------------ opening

    def show_authorities(self) -> None:
        """Add or remove trusted roots; a bundle on show is then checked again."""
        from evidence_recorder.ui.authorities import AuthoritiesDialog

        dialog = AuthoritiesDialog(self)
        dialog.exec()
        if dialog.changed and self._bundle is not None and self._path is not None \
                and not self._busy:
            self.open_path(self._path, self._passphrase)

    def open_path(self, path: Path, passphrase: str | None = None) -> None:
        """Check and open ``path`` in the background; what is on show stays until it opens."""
        self._generation += 1
        generation = self._generation
        opener = self._opener
        self._set_busy(True)
        this = weakref.ref(self)

        def job(_progress: object) -> OpenedBundleLike:
            return opener(path, passphrase)

        def succeeded(opened: OpenedBundleLike) -> None:
            viewer = this()
            if viewer is None or not viewer._wants(generation):
                opened.close()  # the window went away while it was opening
                return
            viewer._show_bundle(path, opened)
            viewer._passphrase = passphrase

        def failed(exc: EvidenceError) -> None:
            viewer = this()
            if viewer is not None and viewer._wants(generation):
                viewer._open_failed(path, passphrase, exc)

        run_task(job, on_success=succeeded, on_failure=failed)

    def _wants(self, generation: int) -> bool:
        return (shiboken6.isValid(self) and not self._closed
                and generation == self._generation)

    def _open_failed(self, path: Path, passphrase: str | None, exc: EvidenceError) -> None:
        self._set_busy(False)
        if isinstance(exc, WrongSecret):
            again = self.ask_passphrase(path, retry=passphrase is not None)
            if again is not None:
                self.open_path(path, again)
                return
        else:
            messages.error(self, self.tr("Bundle not opened"), error_text(exc))
        if self._bundle is None:
            self.close()  # nothing to show: the window has no purpose

    def ask_passphrase(self, path: Path, *, retry: bool) -> str | None:
        """The bundle's passphrase from the reader, or None if they give up."""
        if retry:
            prompt = self.tr("That passphrase does not open this bundle. Check it with the "
                             "person who sent it, then try again.\n\nPassphrase:")
        else:
            prompt = self.tr("“{name}” is locked with a passphrase. The person who sent it "
                             "should give it to you separately, by phone for example.\n\n"
                             "Passphrase:").format(name=path.name)
        text, ok = messages.get_text(self, self.tr("Passphrase needed"), prompt,
                                     QLineEdit.EchoMode.Password)
        return text if ok else None

    def _show_bundle(self, path: Path, opened: OpenedBundleLike) -> None:
        self._drop_bundle()
        self._bundle = opened
        self._path = path
        self._set_busy(False)
        self.banner.show_report(opened.report)
        entries = captures_of(opened.evidence)
        if isinstance(opened.evidence, dict) and opened.evidence:
            self.summary.setText(summary_text(opened.evidence, len(entries)))
        else:
            self.summary.setText(self.tr("The list of what is in this bundle could not be read."))
        self.summary.setVisible(True)
        self.model.set_entries(entries)
        name = _text(opened.bundle_name) or path.name
        self.setWindowTitle(self._title(name))
        self._update_actions()
        if entries:
            self.timeline.setCurrentIndex(self.model.index(0, 0))
        self.timeline.setFocus()
        self.loaded.emit()

    def choose_bundle(self) -> None:
        paths = filedialogs.open_files(self, self.tr("Open an evidence bundle"), _tr(BUNDLE_FILTER))
        if paths:
            self.open_path(paths[0])

    # ------------------------------------------------------------------ the selected capture

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        self.show_entry(current.row() if current.isValid() else None)

    def show_entry(self, row: int | None) -> None:
        """Show one capture's details and one picture, veiled: the covered copy when
        there is one; the original only after "Show what the sender covered"."""
        self._row = None
        self.original_view.clear()
        self.redacted_view.clear()
        self.picture_note.setVisible(False)
        with _blocked(self.show_original_button):
            self.show_original_button.setChecked(False)
        self.show_original_button.setText(_tr(SHOW_COVERED_BUTTON))
        self.show_original_button.setVisible(False)
        self.picture_caption.clear()
        self.picture_stack.setCurrentWidget(self.redacted_view)
        if row is None or self._bundle is None or not 0 <= row < self.model.rowCount():
            self.details.clear()
            return
        self._row = row
        entry = self.model.entry_at(row)
        notes: list[str] = []
        check = ""
        original = self._read(entry.original, "original", notes)
        if original is not None:
            digest = hashlib.sha256(original).hexdigest()
            if entry.capture.sha256 and digest == entry.capture.sha256:
                check = self.tr("✔ matches the original in this bundle")
            elif entry.capture.sha256:
                check = self.tr("<b>✘ does not match the original in this bundle</b> (its "
                                "SHA-256 is <span style='font-family: monospace'>{digest}"
                                "</span>)").format(digest=digest)
        elif entry.original is None:
            check = self.tr("The original itself is not in this bundle.")
        self.details.setHtml(details_html(entry, check))
        for view in (self.original_view, self.redacted_view):
            view.set_veiled(True)  # before the picture arrives: it may be upsetting
        if entry.redacted is not None:
            # The covered copy alone; the original is decoded only when asked for.
            del original
            self.redacted_view.set_image(self._read(entry.redacted, "redacted", notes))
            self.picture_caption.setText(self.tr("<b>Covered copy</b>: parts covered by the "
                                                 "sender"))
            if entry.original is None:
                notes.insert(0, _tr(NO_ORIGINAL_NOTE))
            else:
                self.show_original_button.setVisible(True)
        elif entry.original is not None:
            self.original_view.set_image(original)
            del original
            self.picture_stack.setCurrentWidget(self.original_view)
            self.picture_caption.setText(self.tr("<b>Original</b>, exactly as captured"))
            notes.insert(0, _tr(NO_REDACTED_NOTE))
        else:
            notes.insert(0, _tr(NO_PICTURE_NOTE))
        self.picture_caption.setAccessibleName(make_plain_text(self.picture_caption.text()))
        self.picture_note.setText(" ".join(notes))
        self.picture_note.setVisible(bool(notes))

    def showing_original(self) -> bool:
        """Whether the picture on show is the original (not the covered copy)."""
        return self.picture_stack.currentWidget() is self.original_view

    def _show_original(self, show: bool) -> None:
        """Swap the covered copy for the original (veiled) and back, on request."""
        if self._row is None or self._bundle is None:
            return
        entry = self.model.entry_at(self._row)
        if entry.redacted is None or entry.original is None:
            return
        notes: list[str] = []
        if show:
            self.original_view.set_veiled(True)
            self.original_view.set_image(self._read(entry.original, "original", notes))
            self.picture_stack.setCurrentWidget(self.original_view)
            self.picture_caption.setText(self.tr("<b>Original</b>, exactly as captured: "
                                                 "nothing is covered"))
            self.show_original_button.setText(_tr(SHOW_COPY_BUTTON))
        else:
            self.original_view.clear()  # the uncovered pixels go as soon as they are hidden
            self.picture_stack.setCurrentWidget(self.redacted_view)
            self.picture_caption.setText(self.tr("<b>Covered copy</b>: parts covered by the "
                                                 "sender"))
            self.show_original_button.setText(_tr(SHOW_COVERED_BUTTON))
        self.picture_caption.setAccessibleName(make_plain_text(self.picture_caption.text()))
        self.picture_note.setText(" ".join(notes))
        self.picture_note.setVisible(bool(notes))

    def _read(self, path: str | None, what: str, notes: list[str]) -> bytes | None:
        if self._bundle is None or path is None:
            return None
        try:
            return self._bundle.read(path)
        except EvidenceError as exc:
            if what == "original":
                template = self.tr("The original could not be read from the bundle: {reason}")
            else:
                template = self.tr("The covered copy could not be read from the bundle: "
                                   "{reason}")
            notes.append(template.format(reason=error_text(exc)))
            return None

    def _link_clicked(self, url: QUrl) -> None:
        """Ask before opening: visiting may alert the poster, and the page may have changed."""
        if url.scheme().lower() not in ("http", "https"):
            return
        address = url.toString()
        if messages.ask(self, self.tr("Open this link?"),
                        self.tr("Open this address in your web browser?\n\n{address}")
                        .format(address=address),
                        yes=messages.Button.Open, no=messages.Button.Cancel,
                        default=messages.Button.Cancel,
                        detail=self.tr("The page may have changed or been removed since the "
                                       "capture was made. The capture in this bundle is the "
                                       "record; the live page is not.")):
            QDesktopServices.openUrl(url)

    def _title(self, name: str = "") -> str:
        if name:
            return self.tr("{name} — {window} — {app}").format(
                name=name, window=_tr(WINDOW_TITLE), app=APP_NAME)
        return self.tr("{window} — {app}").format(window=_tr(WINDOW_TITLE), app=APP_NAME)

    def show_help(self, guide: str) -> None:
        from evidence_recorder.ui.help import show_guide  # only when asked

        show_guide(guide)

    def copy_fingerprint(self) -> None:
        fingerprint = self.banner.fingerprint
        if fingerprint:
            QGuiApplication.clipboard().setText(seal_text(fingerprint, self.banner.seal_number))
            self.statusBar().showMessage(self.tr("Seal copied."), 4000)

    # ------------------------------------------------------------------ report and printing

    def report_copy(self) -> Path | None:
        """Where the private copy of report.pdf is while this window is open, if made."""
        if self._report_folder is None:
            return None
        return self._report_folder / "report.pdf"

    def open_report(self) -> None:
        """Open the sealed report.pdf with the system's PDF viewer.

        The system viewer needs a file, so the PDF (part of the bundle the reader
        received) is written to a private folder (0700, file 0600) that is deleted
        when this window closes or another bundle opens.
        """
        if self._bundle is None or not self.act_report.isEnabled():
            return
        report_pdf = "report.pdf"
        try:
            data = self._bundle.read(report_pdf)
        except EvidenceError:
            messages.error(self, self.tr("Report not opened"),
                           self.tr("This bundle has no report to open. The captures and "
                                   "their details are all shown in this window."))
            return
        self._remove_report_copy()
        sweep_report_copies()
        folder = Path(tempfile.mkdtemp(prefix=f"{REPORT_COPY_PREFIX}{os.getpid()}-"))  # 0700
        target = folder / report_pdf
        try:
            descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "wb") as out:
                out.write(data)
        except OSError as exc:
            shutil.rmtree(folder, ignore_errors=True)
            messages.error(self, self.tr("Report not opened"),
                           self.tr("The report could not be copied for your PDF viewer: "
                                   "{reason}").format(reason=exc.strerror or str(exc)))
            return
        self._report_folder = folder
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(target)))
        self.statusBar().showMessage(
            self.tr("The report opens in your PDF viewer. The copy made for it is removed "
                    "when you close this window."), 10_000)

    def _remove_report_copy(self) -> None:
        folder, self._report_folder = self._report_folder, None
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)

    def _ask_printer(self, printer: QPrinter) -> bool:
        """The system's print dialog; tests replace this with a PDF printer."""
        dialog = QPrintDialog(printer, self)
        dialog.setWindowTitle(self.tr("Print the captures"))
        return dialog.exec() == QPrintDialog.DialogCode.Accepted

    def print_bundle(self) -> bool:
        """Print the verdict, the summary and each capture: its details, then its picture.

        This Qt has no PDF renderer (QtPdf is not part of PySide6-Essentials), so the
        report.pdf itself cannot be printed from here; the same contents are drawn
        instead, each capture's covered copy where there is one, never its original.
        """
        if self._bundle is None or not self.act_print.isEnabled():
            return False
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        printer.setDocName(self.windowTitle())
        if not self._ask_printer(printer):
            return False
        painter = QPainter()
        if not painter.begin(printer):
            messages.error(self, self.tr("Not printed"),
                           self.tr("The printer could not be started. Check that it is on "
                                   "and try again."))
            return False
        try:
            self._paint_pages(printer, painter)
        finally:
            painter.end()
        self.statusBar().showMessage(self.tr("Sent to the printer."), 6000)
        return True

    def _paint_pages(self, printer: QPrinter, painter: QPainter) -> None:
        page = printer.pageLayout().paintRectPixels(printer.resolution())
        width, height = page.width(), page.height()
        first = QTextDocument()
        first.setDefaultFont(self.font())
        sealed = (self.tr("Sealed by the key {fingerprint}.").format(
            fingerprint=self.banner.fingerprint) if self.banner.fingerprint else "")
        first.setHtml(self.tr("<h2>{verdict}</h2><p>{sealed}</p><p>{summary}</p>").format(
            verdict=_esc(self.banner.headline.text()), sealed=_esc(sealed),
            summary=_esc(self.summary.text())))
        self._paint_text(painter, first, width, height)
        for row in range(self.model.rowCount()):
            entry = self.model.entry_at(row)
            printer.newPage()
            text = QTextDocument()
            text.setDefaultFont(self.font())
            text.setHtml(details_html(entry))
            self._paint_text(painter, text, width, height)
            path = entry.redacted or entry.original
            if path is None:
                continue
            notes: list[str] = []
            data = self._read(path, "redacted" if entry.redacted else "original", notes)
            picture = QPixmap()
            if data is None or not picture.loadFromData(data):
                continue
            del data
            printer.newPage()
            scaled = picture.size().scaled(width, height, Qt.AspectRatioMode.KeepAspectRatio)
            painter.drawPixmap(0, 0, scaled.width(), scaled.height(), picture)

    @staticmethod
    def _paint_text(painter: QPainter, document: QTextDocument, width: int,
                    height: int) -> None:
        """One page of text, laid out at the printer's resolution; shrunk to fit the
        page rather than split over pages."""
        device = painter.device()
        if device is not None:
            document.documentLayout().setPaintDevice(device)
        document.setTextWidth(width)
        scale = min(1.0, height / max(document.size().height(), 1.0))
        painter.save()
        painter.scale(scale, scale)
        document.drawContents(painter)
        painter.restore()

    def request_save(self) -> None:
        if self._path is not None and self.act_save.isEnabled():
            self.save_requested.emit(self._path)

    # ------------------------------------------------------------------ closing

    def _drop_bundle(self) -> None:
        """Forget every picture and string of the bundle on show, and close it."""
        self.original_view.clear()
        self.redacted_view.clear()
        self.picture_note.clear()
        self.details.clear()
        self.model.clear()
        self.summary.clear()
        self._remove_report_copy()
        self._row = None
        bundle, self._bundle = self._bundle, None
        self._path = None
        self._passphrase = None
        QPixmapCache.clear()
        if bundle is not None:
            # Nothing is left to protect if closing fails; the reader need not hear of it.
            with contextlib.suppress(EvidenceError):
                bundle.close()

    def closeEvent(self, event: QCloseEvent) -> None:
        self._closed = True
        self._generation += 1  # a bundle still opening is closed as soon as it arrives
        self._save_geometry()
        self._drop_bundle()
        self.banner.clear()
        self.setWindowTitle(self._title())
        self._set_busy(False)
        _open_viewers.discard(self)
        super().closeEvent(event)


def open_bundle_window(path: Path, parent: QWidget | None = None,
                       opener: Opener = default_opener) -> BundleViewer | None:
    """Open a received bundle in its own window; None if there is no file to open.

    The window appears at once with a busy indicator while the bundle is checked in
    the background; it asks for a passphrase if the bundle needs one, and closes with
    a plain message if the file cannot be opened.
    """
    path = Path(path)
    if not path.is_file():
        messages.error(parent, QCoreApplication.translate("BundleViewer", "Bundle not opened"),
                       QCoreApplication.translate(
                           "BundleViewer", "There is no file called “{name}” there. It may have "
                                           "been moved or renamed.").format(name=path.name))
        return None
    viewer = BundleViewer(parent, opener=opener)
    _open_viewers.add(viewer)
    viewer.show()
    viewer.open_path(path)
    return viewer


__all__ = [
    "BundleCapture",
    "BundleReportLike",
    "BundleViewer",
    "OpenedBundleLike",
    "Opener",
    "TimelineModel",
    "captures_of",
    "default_opener",
    "open_bundle_window",
    "summary_text",
]
