"""Item models for the capture table, the thumbnail grid and the incident list.

One :class:`CaptureTableModel` feeds both the table and the grid (a ``QListView`` in
icon mode showing column 0 through :class:`~evidence_recorder.ui.delegates.CaptureGridDelegate`).
Thumbnails are decrypted only for rows a view actually asks to draw, in a small background
pool, and kept in a bounded cache, so a vault of ten thousand captures opens and scrolls
without decoding ten thousand images. ``clear()`` forgets every capture, string and
pixmap at once, because it is what runs when the vault locks.

The words and times the rows show are made in :mod:`~evidence_recorder.ui.wording`; the
way the views draw them is in :mod:`~evidence_recorder.ui.delegates`. This module stays
over 600 lines because :class:`CaptureTableModel` is one class whose lazy row text,
thumbnail pool and cache share their state and are cleared together on lock.
"""

from __future__ import annotations

import contextlib
import json
import sys
import weakref
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import IntEnum
from typing import Any

import shiboken6
from PySide6.QtCore import (
    QAbstractListModel,
    QAbstractTableModel,
    QByteArray,
    QCoreApplication,
    QMimeData,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QRect,
    QSize,
    QSortFilterProxyModel,
    Qt,
    QThreadPool,
    QTimer,
    Signal,
)
from PySide6.QtGui import QColor, QIcon, QImage, QPainter, QPen, QPixmap, QPixmapCache

from evidence_recorder.core import fields
from evidence_recorder.core.conversation import Message, MessageFlag
from evidence_recorder.core.errors import EvidenceError
from evidence_recorder.core.i18n import QT_TRANSLATE_NOOP
from evidence_recorder.core.model import Capture, CaptureDetails, Incident, handle_text
from evidence_recorder.ui.i18n import field_text
from evidence_recorder.ui.plain import tooltip
from evidence_recorder.ui.tasks import Progress, run_task
from evidence_recorder.ui.wording import (
    _author_text,
    _one_line,
    _Row,
    _row_for,
    captured_tooltip,
    check_summary,
    format_moment,
    local_captured_at,
    utc_sort_key,
    web_facts_text,
)

ThumbnailLoader = Callable[[int], bytes]
AnyIndex = QModelIndex | QPersistentModelIndex

# Roles beyond Qt's own. SORT_ROLE carries a value that sorts correctly as text:
# for the capture time it is the ISO 8601 UTC instant, so sorting is chronological.
SORT_ROLE = int(Qt.ItemDataRole.UserRole) + 1
CAPTURE_ID_ROLE = int(Qt.ItemDataRole.UserRole) + 2
CAPTION_ROLE = int(Qt.ItemDataRole.UserRole) + 3  # "Facebook · 25 Nov 14:02", for the grid
INCIDENT_ID_ROLE = int(Qt.ItemDataRole.UserRole) + 4
# True when part of the capture is covered: its thumbnail is of the covered copy, badged.
COVERED_ROLE = int(Qt.ItemDataRole.UserRole) + 5
COVERED_BADGE = QT_TRANSLATE_NOOP("CaptureModel", "Covered copy")
COVERED_BADGE_SHORT = QT_TRANSLATE_NOOP("CaptureModel", "Covered")  # on small thumbnails

_DISPLAY = int(Qt.ItemDataRole.DisplayRole)
_TOOLTIP = int(Qt.ItemDataRole.ToolTipRole)
_DECORATION = int(Qt.ItemDataRole.DecorationRole)
_ACCESSIBLE = int(Qt.ItemDataRole.AccessibleTextRole)

_LONG_TOOLTIP = 1_000  # a tooltip is a glance, not a reader


class Column(IntEnum):
    CAPTURED = 0
    POSTED = 1
    SITE = 2
    AUTHOR = 3
    CATEGORY = 4
    KIND = 5
    DESCRIPTION = 6


# The columns that show a declared field (core/fields.py), headed with its title.
COLUMN_FIELDS: dict[Column, fields.Field] = {
    Column.POSTED: fields.POSTED_AT,
    Column.SITE: fields.SITE,
    Column.AUTHOR: fields.AUTHOR,
    Column.CATEGORY: fields.CATEGORY,
    Column.DESCRIPTION: fields.DESCRIPTION,
}
COLUMN_TITLES: dict[Column, str] = {
    Column.CAPTURED: QT_TRANSLATE_NOOP("Column", "Captured"),
    Column.KIND: QT_TRANSLATE_NOOP("Column", "Kind"),
    **{column: field.title for column, field in COLUMN_FIELDS.items()},
}

_COLUMN_HELP: dict[Column, str] = {
    Column.CAPTURED: QT_TRANSLATE_NOOP(
        "Column", "When the capture was taken, in your local time. Hover a row for UTC."),
    Column.POSTED: QT_TRANSLATE_NOOP(
        "Column", "The time the post itself showed, written as it appeared (e.g. “2h”)."),
    Column.SITE: QT_TRANSLATE_NOOP("Column", "The site or app the abuse was on."),
    Column.AUTHOR: QT_TRANSLATE_NOOP("Column", "Who posted it: their name and @handle."),
    Column.CATEGORY: QT_TRANSLATE_NOOP("Column", "What kind of abuse it is."),
    Column.KIND: QT_TRANSLATE_NOOP("Column", "How the capture was made."),
    Column.DESCRIPTION: QT_TRANSLATE_NOOP("Column", "What happened, in your words."),
}


# ---------------------------------------------------------------------- flagged messages


@dataclass(slots=True)
class FlaggedMessage(Capture):
    """A flagged message of an e-mail or chat item, shown as a row of the timeline
    among the captures, at the time it was sent.

    Its ``id`` is negative (:func:`flagged_row_id`), so it never names a capture: the
    window opens the conversation for it and leaves it out of moves, deletions and
    drags. Its details are the message's: ``author``/``author_id`` the sender as shown
    and the sender id (so the person filter finds it), ``category`` and ``context`` the
    flag's, ``description`` the message's text.
    """

    item_id: int = 0
    index: int = 0
    message: Message | None = None
    flag: MessageFlag | None = None


def flagged_row_id(item_id: int, index: int) -> int:
    """A stable negative row id for message ``index`` of item ``item_id``."""
    return -((item_id << 32) + index + 1)


def flagged_row_item(row_id: int) -> tuple[int, int]:
    """(item id, message index) of a :func:`flagged_row_id`."""
    value = -row_id - 1
    return value >> 32, value & 0xFFFFFFFF


def flagged_message_row(item: Capture, flag: MessageFlag, message: Message) -> FlaggedMessage:
    """The timeline row of one flagged message of ``item``."""
    moment = item.captured_at
    if message.sent_at:
        with contextlib.suppress(ValueError):
            moment = datetime.fromisoformat(message.sent_at.replace("Z", "+00:00"))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
    details = CaptureDetails(site=item.details.site, author=message.sender,
                             author_id=message.sender_id, category=flag.category,
                             description=message.text[:2_000], context=flag.note)
    return FlaggedMessage(
        id=flagged_row_id(item.id, message.index), incident_id=item.incident_id,
        kind=item.kind, captured_at=moment, tz_name=item.tz_name, utc_offset=item.utc_offset,
        sha256="", width=0, height=0, media_type="", byte_size=0, environment={}, source=None,
        details=details, title=item.title, item_id=item.id, index=message.index,
        message=message, flag=flag)


def person_matches(capture: Capture, person: str) -> bool:
    """Whether ``person`` (case-folded, stripped) is the item's author, handle or author
    number, or a flagged message's sender or sender id."""
    d = capture.details
    handle = handle_text(d.handle).casefold() if d.handle.strip() else ""
    names = {d.author.strip().casefold(), d.author_id.strip().casefold(), handle,
             handle.removeprefix("@")}
    names.discard("")
    return person in names or (person.startswith("@") and person[1:] in names)


def column_title(column: Column) -> str:
    if column in COLUMN_FIELDS:
        return field_text(COLUMN_FIELDS[column].title)
    return QCoreApplication.translate("Column", COLUMN_TITLES[column])


class CaptureTableModel(QAbstractTableModel):
    """Captures as rows; thumbnails decrypted on demand for the rows being drawn.

    Text: each row's strings are made the first time a view, the sort or the filter
    asks, so opening a vault of ten thousand captures costs only what is on screen.

    Sorting happens here rather than in the proxy: a Python sort over cached keys
    takes milliseconds, where ``QSortFilterProxyModel`` would call back into Python
    for every one of ~130,000 comparisons. :class:`CaptureFilterProxy` forwards its
    ``sort()`` here, and the order holds across ``set_captures`` and edits.

    Thumbnails: a view asking for ``DecorationRole`` gets a placeholder at once and a
    request joins a short most-recent-first queue; a zero-delay timer hands a few
    requests at a time to a small thread pool whose jobs only read bytes and make a
    ``QImage``. On the GUI thread the image becomes a pixmap in the LRU cache and
    ``dataChanged`` repaints that cell. Requests that fall off the queue (rows
    scrolled past) are forgotten and asked again if drawn again. ``clear()`` (the vault
    locked) and ``set_thumbnail_loader()`` bump a generation number, so images that
    arrive afterwards from jobs started before are thrown away unseen.
    """

    def __init__(self, parent: QObject | None = None, *,
                 thumbnail_loader: ThumbnailLoader | None = None,
                 max_cached: int = 160, thumbnail_box: QSize | None = None,
                 max_in_flight: int = 2, max_queued: int = 64) -> None:
        super().__init__(parent)
        self._captures: list[Capture] = []
        self._checks: dict[int, list[Capture]] = {}
        self._time_keys: list[str] = []
        self._rows: list[_Row | None] = []
        self._row_by_id: dict[int, int] = {}
        self._sort_column = -1
        self._sort_order = Qt.SortOrder.AscendingOrder
        self._today = datetime.now(UTC).date()
        self._loader = thumbnail_loader
        self._max_cached = max(1, max_cached)
        self._box = QSize(thumbnail_box or QSize(240, 240))
        self._max_in_flight = max(1, max_in_flight)
        self._max_queued = max(1, max_queued)
        self._cache: OrderedDict[int, QIcon] = OrderedDict()
        self._queued: OrderedDict[int, None] = OrderedDict()
        self._in_flight: set[int] = set()
        self._failed: set[int] = set()
        self._covered_lookup: Callable[[int], bool] | None = None
        self._covered: dict[int, bool] = {}
        self._generation = 0
        self._placeholder: QIcon | None = None
        self._unavailable: QIcon | None = None
        # Own pool, so that thumbnails never wait behind an export or a verification.
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(self._max_in_flight)
        self._dispatch_timer = QTimer(self)
        self._dispatch_timer.setSingleShot(True)
        self._dispatch_timer.setInterval(0)
        self._dispatch_timer.timeout.connect(self._dispatch)
        self.loads_started = 0  # how many thumbnails were asked of the loader, for tests

    # ------------------------------------------------------------------ contents

    def set_captures(self, captures: Sequence[Capture],
                     checks: dict[int, list[Capture]] | None = None) -> None:
        """Show these captures, keeping the thumbnails of any already shown.

        A capture's thumbnail never changes (the original is never altered), so a reload
        after an edit need not decrypt what is on screen again. ``clear()`` and
        ``set_thumbnail_loader()`` are what drop them. ``checks`` are the later checks
        of web pages ("Check again"), by item: their rows say "gone by …" and the like.
        """
        self.beginResetModel()
        self._checks = dict(checks or {})
        keep = {c.id for c in captures}
        for capture_id in [i for i in self._cache if i not in keep]:
            del self._cache[capture_id]
        self._failed &= keep
        self._queued.clear()  # rows move; what is still on screen will be asked for again
        self._today = datetime.now(UTC).date()
        self._captures = list(captures)
        self._time_keys = [utc_sort_key(c) for c in self._captures]
        self._rows = [None] * len(self._captures)
        self._apply_sort()
        self.endResetModel()

    def clear(self) -> None:
        """Drop every capture, string and pixmap: the vault has locked.

        The loader stays (it reads through the session, which refuses once locked); pass
        ``None`` to :meth:`set_thumbnail_loader` to drop it as well.
        """
        self.beginResetModel()
        self._forget_thumbnails()
        self._captures = []
        self._checks = {}
        self._time_keys = []
        self._rows = []
        self._row_by_id = {}
        self.endResetModel()
        # Views draw icons through QIcon, which keeps scaled and "selected" copies in the
        # application-wide pixmap cache; those are pictures of evidence too.
        QPixmapCache.clear()

    def capture_at(self, row: int) -> Capture:
        return self._captures[row]

    def checks_of(self, capture_id: int) -> list[Capture]:
        """The later checks of a web page shown here (see :meth:`set_captures`)."""
        return list(self._checks.get(capture_id, ()))

    def row_of(self, capture_id: int) -> int | None:
        return self._row_by_id.get(capture_id)

    def captures(self) -> list[Capture]:
        return list(self._captures)

    def update_capture(self, capture: Capture) -> None:
        """Show a capture's edited details; an unknown id is added as a new row."""
        row = self._row_by_id.get(capture.id)
        if row is None:
            self.add_capture(capture)
            return
        self._captures[row] = capture
        self._time_keys[row] = utc_sort_key(capture)
        self._rows[row] = None
        self.dataChanged.emit(self.index(row, 0), self.index(row, len(Column) - 1), [])
        if self._sort_column >= 0:
            self.sort(self._sort_column, self._sort_order)

    def add_capture(self, capture: Capture) -> None:
        if capture.id in self._row_by_id:
            self.update_capture(capture)
            return
        row = len(self._captures)
        self.beginInsertRows(QModelIndex(), row, row)
        self._captures.append(capture)
        self._time_keys.append(utc_sort_key(capture))
        self._rows.append(None)
        self._row_by_id[capture.id] = row
        self.endInsertRows()
        if self._sort_column >= 0:
            self.sort(self._sort_column, self._sort_order)

    def remove_capture(self, capture_id: int) -> None:
        row = self._row_by_id.get(capture_id)
        if row is None:
            return
        self.beginRemoveRows(QModelIndex(), row, row)
        del self._captures[row]
        del self._time_keys[row]
        del self._rows[row]
        self._cache.pop(capture_id, None)
        self._queued.pop(capture_id, None)
        self._failed.discard(capture_id)
        self._reindex()
        self.endRemoveRows()

    def _reindex(self) -> None:
        self._row_by_id = {c.id: row for row, c in enumerate(self._captures)}

    def _row(self, row: int) -> _Row:
        cached = self._rows[row]
        if cached is None:
            capture = self._captures[row]
            cached = _row_for(capture, self._time_keys[row], self._today,
                              self._checks.get(capture.id))
            if isinstance(capture, FlaggedMessage):
                display = list(cached.display)
                display[Column.KIND] = self.tr("Flagged message")
                cached = _Row(tuple(display), (cached.sort[0], *(
                    t.casefold() for t in display[1:])), cached.caption, cached.local_day,
                    cached.haystack + "\n" + capture.title.casefold())
            self._rows[row] = cached
        return cached

    # ------------------------------------------------------------------ sorting

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Sort in Python over cached keys; ties fall back to capture time, then id."""
        if not 0 <= column < len(Column):
            return
        self._sort_column, self._sort_order = column, order
        self.layoutAboutToBeChanged.emit()
        persistent = self.persistentIndexList()
        held = [(self._captures[i.row()].id, i.column()) for i in persistent]
        self._apply_sort()
        self.changePersistentIndexList(
            persistent, [self.index(self._row_by_id[cid], col) for cid, col in held])
        self.layoutChanged.emit()

    def _apply_sort(self) -> None:
        column = self._sort_column
        if column >= 0 and self._captures:
            keys = self._time_keys
            ids = [c.id for c in self._captures]
            def key(r: int) -> tuple[str, str, int]:
                first = keys[r] if column == Column.CAPTURED else self._row(r).sort[column]
                return (first, keys[r], ids[r])

            descending = self._sort_order == Qt.SortOrder.DescendingOrder
            order = sorted(range(len(self._captures)), key=key, reverse=descending)
            self._captures = [self._captures[r] for r in order]
            self._time_keys = [keys[r] for r in order]
            self._rows = [self._rows[r] for r in order]
        self._reindex()

    def sort_state(self) -> tuple[int, Qt.SortOrder]:
        return self._sort_column, self._sort_order

    # ------------------------------------------------------------------ for the proxy

    def sort_key(self, row: int, column: int) -> str:
        return self._time_keys[row] if column == Column.CAPTURED else self._row(row).sort[column]

    def matches_text(self, row: int, words: Sequence[str]) -> bool:
        haystack = self._row(row).haystack
        return all(word in haystack for word in words)

    def local_day(self, row: int) -> date:
        return self._row(row).local_day

    # ------------------------------------------------------------------ Qt model API

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._captures)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(Column)

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return (Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
                | Qt.ItemFlag.ItemNeverHasChildren | Qt.ItemFlag.ItemIsDragEnabled)

    # Dragging captures onto an incident moves them. The drag carries capture numbers
    # only: never a picture or a detail, which Qt's default would copy into the drag
    # (and so to whatever application it is dropped on).

    def mimeTypes(self) -> list[str]:
        return [CAPTURE_IDS_MIME]

    def mimeData(self, indexes: Sequence[QModelIndex]) -> QMimeData:
        ids = sorted({self._captures[i.row()].id for i in indexes
                      if i.isValid() and 0 <= i.row() < len(self._captures)
                      and not isinstance(self._captures[i.row()], FlaggedMessage)})
        mime = QMimeData()
        mime.setData(CAPTURE_IDS_MIME, QByteArray(json.dumps(ids).encode()))
        return mime

    def supportedDragActions(self) -> Qt.DropAction:
        # Copy, not Move: a view ending a Move drag would try to remove the rows here.
        return Qt.DropAction.CopyAction

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = _DISPLAY) -> Any:
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(Column):
            if role == _DISPLAY:
                return column_title(Column(section))
            if role == _TOOLTIP:
                return QCoreApplication.translate("Column", _COLUMN_HELP[Column(section)])
            return None
        return super().headerData(section, orientation, role)

    def data(self, index: AnyIndex, role: int = _DISPLAY) -> Any:
        if not index.isValid():
            return None
        row, column = index.row(), index.column()
        if not (0 <= row < len(self._captures) and 0 <= column < len(Column)):
            return None
        if role == _DISPLAY:
            return self._row(row).display[column]
        if role == _DECORATION:
            return self._thumbnail(row) if column == Column.CAPTURED else None
        if role == SORT_ROLE:
            return self.sort_key(row, column)
        if role == _TOOLTIP:
            return tooltip(self._tooltip(row, column))  # imported metadata: never markup
        if role == CAPTURE_ID_ROLE:
            return self._captures[row].id
        if role == CAPTION_ROLE:
            return self._row(row).caption
        if role == COVERED_ROLE:
            return self.is_covered(row)
        if role == _ACCESSIBLE and column == Column.CAPTURED:
            capture = self._captures[row]
            author = _author_text(capture)
            site = capture.details.site or self.tr("Unknown site")
            when = self._row(row).display[0]
            if author:
                text = self.tr("{site}, captured {when}, by {author}").format(
                    site=site, when=when, author=author)
            else:
                text = self.tr("{site}, captured {when}").format(site=site, when=when)
            if self.is_covered(row):
                text = self.tr("{description} (covered copy)").format(description=text)
            return text
        return None

    def _tooltip(self, row: int, column: int) -> str | None:
        capture = self._captures[row]
        d = capture.details
        if isinstance(capture, FlaggedMessage) and column in (Column.CAPTURED, Column.KIND):
            message = capture.message
            written = message.written_at if message is not None else ""
            text = self.tr("A flagged message of “{title}”, sent {when}").format(
                title=capture.title, when=format_moment(local_captured_at(capture)))
            if written:
                text += "\n" + self.tr("Written in the export as: {written}").format(
                    written=written)
            return text + "\n" + self.tr("Double-click to read it with the messages around it.")
        if column == Column.CAPTURED:
            time = captured_tooltip(capture)
            if capture.id in self._checks:
                time += "\n" + check_summary(capture, self._checks[capture.id], full=True)
            if self.is_covered(row):  # the small thumbnail's badge has no room for words
                return self.tr("{badge}: what you covered is hidden on this picture.\n{time}"
                               ).format(badge=self.tr(COVERED_BADGE), time=time)
            return time
        if column == Column.KIND and capture.web is not None:
            return web_facts_text(capture)
        if column == Column.AUTHOR:
            parts = [_author_text(capture), d.profile_url.strip(),
                     self.tr("User number {number}").format(number=d.author_id.strip())
                     if d.author_id.strip() else ""]
            return "\n".join(p for p in parts if p) or None
        if column == Column.SITE:
            return d.url.strip()[:_LONG_TOOLTIP] or None
        if column == Column.DESCRIPTION:
            text = d.description.strip()
            return (text if len(text) <= _LONG_TOOLTIP
                    else text[:_LONG_TOOLTIP].rstrip() + "…") or None
        return self._row(row).display[column] or None

    # ------------------------------------------------------------------ covered copies

    def set_covered_lookup(self, lookup: Callable[[int], bool] | None) -> None:
        """How to tell whether part of a capture is covered (asked only of annotated ones)."""
        self._covered_lookup = lookup
        self._covered.clear()

    def is_covered(self, row: int) -> bool:
        capture = self._captures[row]
        if self._covered_lookup is None or not capture.has_annotations:
            return False
        known = self._covered.get(capture.id)
        if known is None:
            try:
                known = self._covered_lookup(capture.id)
            except EvidenceError:
                return False  # the vault locked: nothing is shown anyway
            self._covered[capture.id] = known
        return known

    def forget_thumbnail(self, capture_id: int) -> None:
        """Draw this capture's thumbnail again: what is covered on it changed."""
        self._cache.pop(capture_id, None)
        self._failed.discard(capture_id)
        self._covered.pop(capture_id, None)
        self._queued.pop(capture_id, None)
        row = self._row_by_id.get(capture_id)
        if row is not None:
            index = self.index(row, 0)
            self.dataChanged.emit(index, index, [_DECORATION, COVERED_ROLE, _ACCESSIBLE])

    # ------------------------------------------------------------------ thumbnails

    def set_thumbnail_loader(self, loader: ThumbnailLoader | None) -> None:
        """Change where thumbnail bytes come from; images from the old loader are dropped."""
        self._loader = loader
        self._forget_thumbnails()
        if self._captures:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._captures) - 1, 0),
                                  [_DECORATION])

    def cached_thumbnail_count(self) -> int:
        return len(self._cache)

    def thumbnails_pending(self) -> int:
        """Requests waiting or being decrypted now (for tests and a busy indicator)."""
        return len(self._queued) + len(self._in_flight)

    def _forget_thumbnails(self) -> None:
        self._generation += 1
        self._cache.clear()
        self._queued.clear()
        self._in_flight.clear()
        self._failed.clear()
        self._covered.clear()

    def _thumbnail(self, row: int) -> QIcon | None:
        if self._loader is None:
            return None
        capture_id = self._captures[row].id
        icon = self._cache.get(capture_id)
        if icon is not None:
            self._cache.move_to_end(capture_id)
            return icon
        if capture_id in self._failed:
            return self._unavailable_icon()
        self._request(capture_id)
        return self._placeholder_icon()

    def _request(self, capture_id: int) -> None:
        if capture_id in self._in_flight:
            return
        self._queued[capture_id] = None
        self._queued.move_to_end(capture_id)
        while len(self._queued) > self._max_queued:
            self._queued.popitem(last=False)  # asked for longest ago: scrolled past
        if not self._dispatch_timer.isActive():
            self._dispatch_timer.start()

    def _dispatch(self) -> None:
        loader = self._loader
        if loader is None:
            self._queued.clear()
            return
        while self._queued and len(self._in_flight) < self._max_in_flight:
            capture_id, _ = self._queued.popitem(last=True)  # newest first: what is on screen
            self._in_flight.add(capture_id)
            self.loads_started += 1
            self._start_load(loader, capture_id, self._generation)

    def _start_load(self, loader: ThumbnailLoader, capture_id: int, generation: int) -> None:
        box = QSize(self._box)
        model_ref = weakref.ref(self)

        def job(_progress: Progress) -> QImage | BaseException | None:
            # Runs in the pool: bytes in, QImage out, nothing else (no widgets, no pixmaps).
            try:
                image = QImage.fromData(loader(capture_id))
            except EvidenceError:
                return None  # the vault locked or the capture went: show "no preview"
            except Exception as exc:  # a bug: reported on the GUI thread once the slot is free
                return exc
            if image.isNull():
                return None
            if image.width() > box.width() or image.height() > box.height():
                image = image.scaled(box, Qt.AspectRatioMode.KeepAspectRatio,
                                     Qt.TransformationMode.SmoothTransformation)
            return image

        def arrived(result: QImage | BaseException | None) -> None:
            model = model_ref()
            if model is not None and shiboken6.isValid(model):
                model._thumbnail_arrived(generation, capture_id,
                                         result if isinstance(result, QImage) else None)
            if isinstance(result, BaseException):
                sys.excepthook(type(result), result, result.__traceback__)

        def failed(_exc: EvidenceError) -> None:
            arrived(None)

        run_task(job, on_success=arrived, on_failure=failed, pool=self._pool)

    def _thumbnail_arrived(self, generation: int, capture_id: int, image: QImage | None) -> None:
        if generation != self._generation:
            return  # from before clear()/set_captures(): drop it unseen
        self._in_flight.discard(capture_id)
        row = self._row_by_id.get(capture_id)
        if row is not None:
            if image is None:
                self._failed.add(capture_id)
            else:
                self._cache[capture_id] = QIcon(QPixmap.fromImage(image))
                self._cache.move_to_end(capture_id)
                while len(self._cache) > self._max_cached:
                    self._cache.popitem(last=False)
            index = self.index(row, 0)
            self.dataChanged.emit(index, index, [_DECORATION])
        if self._queued:
            self._dispatch()

    def wait_for_thumbnails(self, msecs: int = 5_000) -> bool:
        """Block until running thumbnail jobs end (tests, and before the app quits)."""
        return self._pool.waitForDone(msecs)

    def _placeholder_icon(self) -> QIcon:
        if self._placeholder is None:
            self._placeholder = _placeholder(self._box, crossed=False)
        return self._placeholder

    def _unavailable_icon(self) -> QIcon:
        if self._unavailable is None:
            self._unavailable = _placeholder(self._box, crossed=True)
        return self._unavailable


def _placeholder(box: QSize, *, crossed: bool) -> QIcon:
    """A neutral 4:3 card: something to lay out and paint while the real image loads."""
    width = box.width()
    height = width * 3 // 4
    pixmap = QPixmap(width, height)
    pixmap.fill(QColor(0, 0, 0, 0))
    painter = QPainter(pixmap)
    try:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setBrush(QColor(128, 128, 128, 40))
        painter.setPen(QPen(QColor(128, 128, 128, 110), 2))
        rect = QRect(2, 2, width - 4, height - 4)
        painter.drawRoundedRect(rect, 6, 6)
        if crossed:
            painter.drawLine(rect.topLeft(), rect.bottomRight())
            painter.drawLine(rect.topRight(), rect.bottomLeft())
    finally:
        painter.end()
    return QIcon(pixmap)


# ---------------------------------------------------------------------- filter & sort


class CaptureFilterProxy(QSortFilterProxyModel):
    """Filtering for the capture views; ``sort()`` is passed on to the capture model.

    The proxy keeps the source's order (its own sort column stays -1) and only hides
    rows. ``filterAcceptsRow`` reads the source's cached, case-folded text rather
    than going through ``data()``, which keeps filtering ten thousand rows quick.
    ``SORT_ROLE`` is still the sort role, for any other view that sorts by data.
    """

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._words: tuple[str, ...] = ()
        self._site = ""
        self._person = ""
        self._start: date | datetime | None = None
        self._end: date | datetime | None = None
        self.setSortRole(SORT_ROLE)
        self.setDynamicSortFilter(True)

    def _source(self) -> CaptureTableModel | None:
        source = self.sourceModel()
        return source if isinstance(source, CaptureTableModel) else None

    # ------------------------------------------------------------------ filters

    def set_filter_text(self, text: str) -> None:
        """Every word must appear somewhere in the capture's details (any order, any case)."""
        words = tuple(text.casefold().split())
        if words != self._words:
            self.beginFilterChange()
            self._words = words
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def set_site_filter(self, site: str | None) -> None:
        site = (site or "").strip().casefold()
        if site != self._site:
            self.beginFilterChange()
            self._site = site
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def set_person_filter(self, person: str | None) -> None:
        """Keep one person's course of conduct: items whose author, @handle or author
        number is ``person``, and flagged messages they sent (by name or sender id)."""
        person = (person or "").strip().casefold()
        if person != self._person:
            self.beginFilterChange()
            self._person = person
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def person_filter(self) -> str:
        return self._person

    def set_date_range(self, start: date | datetime | None, end: date | datetime | None) -> None:
        """Keep captures taken within the range.

        Dates are whole days in the capture's own local time, both ends included (what
        the table shows). Datetimes must be time-zone aware: start included, end not.
        """
        for bound in (start, end):
            if isinstance(bound, datetime) and bound.tzinfo is None:
                raise ValueError("A date range with times needs time-zone-aware datetimes.")
        if (start, end) != (self._start, self._end):
            self.beginFilterChange()
            self._start, self._end = start, end
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def clear_filters(self) -> None:
        self.beginFilterChange()
        self._words, self._site, self._start, self._end = (), "", None, None
        self._person = ""
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def capture_at(self, row: int) -> Capture:
        """The capture shown at ``row`` of this proxy."""
        source = self._source()
        if source is None:
            raise LookupError("The filter has no capture model.")
        return source.capture_at(self.mapToSource(self.index(row, 0)).row())

    # ------------------------------------------------------------------ Qt overrides

    def filterAcceptsRow(self, source_row: int, source_parent: AnyIndex) -> bool:
        source = self._source()
        if source is None:
            return True
        if self._words and not source.matches_text(source_row, self._words):
            return False
        capture = source.capture_at(source_row)
        if self._site and capture.details.site.strip().casefold() != self._site:
            return False
        if self._person and not person_matches(capture, self._person):
            return False
        return self._in_range(source, source_row, capture)

    def _in_range(self, source: CaptureTableModel, row: int, capture: Capture) -> bool:
        start, end = self._start, self._end
        if start is not None:
            if isinstance(start, datetime):
                if capture.captured_at < start:
                    return False
            elif source.local_day(row) < start:
                return False
        if end is not None:
            if isinstance(end, datetime):
                if capture.captured_at >= end:
                    return False
            elif source.local_day(row) > end:
                return False
        return True

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Sort the capture model itself (fast, in Python); other sources sort as usual."""
        source = self._source()
        if source is None:
            super().sort(column, order)
        else:
            source.sort(column, order)


# ---------------------------------------------------------------------- incidents

CAPTURE_IDS_MIME = "application/x-evidence-recorder-capture-ids"


def capture_ids_from(data: QMimeData | None) -> list[int]:
    """The capture numbers a drag from the grid or timeline carries ([] for anything else)."""
    if data is None or not data.hasFormat(CAPTURE_IDS_MIME):
        return []
    try:
        ids = json.loads(bytes(data.data(CAPTURE_IDS_MIME).data()).decode())
    except (ValueError, UnicodeDecodeError):
        return []
    if not isinstance(ids, list):
        return []
    return [i for i in ids if isinstance(i, int) and not isinstance(i, bool)]


class IncidentListModel(QAbstractListModel):
    """Incidents with how many captures each holds: ``Unsorted captures (3)``."""

    captures_dropped = Signal(list, int)  # capture ids, the incident they were dropped on

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._incidents: list[Incident] = []

    def set_incidents(self, incidents: Sequence[Incident]) -> None:
        self.beginResetModel()
        self._incidents = list(incidents)
        self.endResetModel()

    def incident_at(self, row: int) -> Incident:
        return self._incidents[row]

    def row_of(self, incident_id: int) -> int | None:
        for row, incident in enumerate(self._incidents):
            if incident.id == incident_id:
                return row
        return None

    def clear(self) -> None:
        self.beginResetModel()
        self._incidents = []
        self.endResetModel()

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._incidents)

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return (Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
                | Qt.ItemFlag.ItemNeverHasChildren | Qt.ItemFlag.ItemIsDropEnabled)

    def mimeTypes(self) -> list[str]:
        return [CAPTURE_IDS_MIME]

    def supportedDropActions(self) -> Qt.DropAction:
        return Qt.DropAction.CopyAction

    def canDropMimeData(self, data: QMimeData, action: Qt.DropAction, row: int, column: int,
                        parent: AnyIndex) -> bool:
        """Captures can be dropped onto an incident, not between two."""
        return (parent.isValid() and 0 <= parent.row() < len(self._incidents)
                and bool(capture_ids_from(data)))

    def dropMimeData(self, data: QMimeData, action: Qt.DropAction, row: int, column: int,
                     parent: AnyIndex) -> bool:
        """Asks for the move (``captures_dropped``); the window does it through the session.

        The capture views offer only a copy drag, so accepting it never makes them
        remove rows themselves: the move shows when the session reloads them."""
        if not self.canDropMimeData(data, action, row, column, parent):
            return False
        self.captures_dropped.emit(capture_ids_from(data), self._incidents[parent.row()].id)
        return True

    def data(self, index: AnyIndex, role: int = _DISPLAY) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._incidents):
            return None
        incident = self._incidents[index.row()]
        if role in (_DISPLAY, _ACCESSIBLE):
            return self.tr("{title} ({count})").format(title=incident.title,
                                                       count=incident.capture_count)
        if role == _TOOLTIP:
            count = incident.capture_count
            # Two numerus messages, so that English reads right with no catalogue loaded.
            text = (self.tr("{title}: %n capture", "", count) if count == 1
                    else self.tr("{title}: %n captures", "", count)).format(title=incident.title)
            if incident.description.strip():
                text += "\n" + _one_line(incident.description, 300)
            return tooltip(text)
        if role == INCIDENT_ID_ROLE:
            return incident.id
        return None


__all__ = [
    "CAPTION_ROLE",
    "CAPTURE_IDS_MIME",
    "CAPTURE_ID_ROLE",
    "COLUMN_FIELDS",
    "COLUMN_TITLES",
    "INCIDENT_ID_ROLE",
    "SORT_ROLE",
    "CaptureFilterProxy",
    "CaptureTableModel",
    "Column",
    "FlaggedMessage",
    "IncidentListModel",
    "ThumbnailLoader",
    "capture_ids_from",
    "column_title",
    "flagged_message_row",
    "flagged_row_id",
    "flagged_row_item",
    "person_matches",
]
