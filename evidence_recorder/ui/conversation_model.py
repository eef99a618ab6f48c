"""The messages of one e-mail or chat export as a list model, read a page at a time.

A conversation may hold 100,000 messages: the model knows only their count when it
opens, and reads a page (:data:`PAGE_SIZE` messages) from the session the first time a
view asks for a row in it, keeping a few pages (:data:`PAGES_KEPT`). Nothing here is
per message but what is on screen; the view measures rows only as it shows them (see
:mod:`~evidence_recorder.ui.conversation_delegate`).

Row ``r`` is the message of index ``r``: a message's index counts from 0 in export
order and never changes (``core.conversation.Message``), so flags, search results and
"jump to a date" name rows directly.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from datetime import UTC, datetime, tzinfo
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QCoreApplication,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
)

from evidence_recorder.core.conversation import Message, MessageFlag, MessageKind
from evidence_recorder.ui.plain import tooltip
from evidence_recorder.ui.session import VaultSession
from evidence_recorder.ui.wording import category_label, format_moment, format_short

PAGE_SIZE = 500
PAGES_KEPT = 6
_REPLIES_KEPT = 200

MESSAGE_ROLE = int(Qt.ItemDataRole.UserRole) + 1
FLAG_ROLE = int(Qt.ItemDataRole.UserRole) + 2
HIGHLIGHT_ROLE = int(Qt.ItemDataRole.UserRole) + 3  # a search match or a flag's context
REPLY_ROLE = int(Qt.ItemDataRole.UserRole) + 4  # the message replied to, or None

_DISPLAY = int(Qt.ItemDataRole.DisplayRole)
_TOOLTIP = int(Qt.ItemDataRole.ToolTipRole)
_ACCESSIBLE = int(Qt.ItemDataRole.AccessibleTextRole)

AnyIndex = QModelIndex | QPersistentModelIndex


def sent_moment(message: Message) -> datetime | None:
    """When the message was sent (UTC), or None when the export gives no readable time."""
    if not message.sent_at:
        return None
    try:
        moment = datetime.fromisoformat(message.sent_at.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def local_time_text(message: Message, zone: tzinfo | None = None) -> str:
    """The time on the clock of the computer that imported it ("25 Nov 2026 14:02"), as
    the timeline shows times, or as written when the export gives no readable time."""
    moment = sent_moment(message)
    return (format_short(moment.astimezone(zone)) if moment is not None
            else message.written_at)


def time_tooltip(message: Message, zone: tzinfo | None = None) -> str:
    """The time in full, and exactly as the export wrote it."""
    moment = sent_moment(message)
    lines = []
    if moment is not None:
        local = moment.astimezone(zone)
        lines.append(QCoreApplication.translate(
            "ConversationModel", "Sent {when} ({zone})").format(
            when=format_moment(local), zone=local.tzname() or ""))
    if message.written_at:
        lines.append(QCoreApplication.translate(
            "ConversationModel", "Written in the export as: {written}").format(
            written=message.written_at))
    if message.edited_at:
        lines.append(QCoreApplication.translate(
            "ConversationModel", "Edited: {when}").format(when=message.edited_at))
    return "\n".join(lines)


class ConversationModel(QAbstractListModel):
    """One item's messages, a page at a time; flags and highlights for drawing."""

    def __init__(self, session: VaultSession, item_id: int, parent: QObject | None = None,
                 *, page_size: int = PAGE_SIZE, pages_kept: int = PAGES_KEPT,
                 zone: tzinfo | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.item_id = item_id
        self.zone = zone  # times are shown on this clock (None: this computer's)
        self._page_size = max(1, page_size)
        self._pages_kept = max(2, pages_kept)
        self._count = session.message_count(item_id)
        self._pages: OrderedDict[int, list[Message]] = OrderedDict()
        self._replies: OrderedDict[int, Message | None] = OrderedDict()
        self._flags: dict[int, MessageFlag] = {
            f.index: f for f in session.message_flags(item_id)}
        self._highlighted: set[int] = set()
        self.pages_read = 0  # how many pages were asked of the session (tests count them)

    # ------------------------------------------------------------------ reading

    def message(self, row: int) -> Message | None:
        """The message shown at ``row`` (its page read if it is not kept)."""
        if not 0 <= row < self._count:
            return None
        number = row // self._page_size
        page = self._pages.get(number)
        if page is None:
            page = self._read_page(number)
        else:
            self._pages.move_to_end(number)
        offset = row - number * self._page_size
        if offset < len(page) and page[offset].index == row:
            return page[offset]
        return next((m for m in page if m.index == row), None)  # an export with gaps

    def _read_page(self, number: int) -> list[Message]:
        self.pages_read += 1
        page = self.session.messages(self.item_id, number * self._page_size, self._page_size)
        self._pages[number] = page
        while len(self._pages) > self._pages_kept:
            self._pages.popitem(last=False)
        return page

    def pages_kept(self) -> int:
        return len(self._pages)

    def replied_to(self, message: Message) -> Message | None:
        """The message ``message`` answers (for the quoted snippet), if it is there."""
        target = message.reply_to
        if target is None or not 0 <= target < self._count:
            return None
        number = target // self._page_size
        if number in self._pages:
            return self.message(target)
        if target not in self._replies:
            found = self.session.messages(self.item_id, indexes=[target])
            self._replies[target] = found[0] if found else None
            while len(self._replies) > _REPLIES_KEPT:
                self._replies.popitem(last=False)
        return self._replies[target]

    def flag(self, row: int) -> MessageFlag | None:
        return self._flags.get(row)

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return (Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
                | Qt.ItemFlag.ItemNeverHasChildren)

    def flagged_rows(self) -> list[int]:
        return sorted(self._flags)

    def reload_flags(self) -> None:
        """Read the item's flags again (after flagging) and repaint the rows that changed."""
        before = self._flags
        self._flags = {f.index: f for f in self.session.message_flags(self.item_id)}
        changed = {i for i in set(before) | set(self._flags)
                   if before.get(i) != self._flags.get(i)}
        self._repaint(changed)

    def set_highlighted(self, rows: Iterable[int]) -> None:
        """Rows drawn highlighted: search matches, or a flagged message and its context."""
        new = {r for r in rows if 0 <= r < self._count}
        changed = new ^ self._highlighted
        self._highlighted = new
        self._repaint(changed)

    def highlighted(self) -> set[int]:
        return set(self._highlighted)

    def _repaint(self, rows: Iterable[int]) -> None:
        """One ``dataChanged`` over the rows' span (a search may highlight 100,000)."""
        shown = [r for r in rows if 0 <= r < self._count]
        if shown:
            self.dataChanged.emit(self.index(min(shown), 0), self.index(max(shown), 0), [])

    def clear(self) -> None:
        """Forget every message (the vault locked)."""
        self.beginResetModel()
        self._count = 0
        self._pages.clear()
        self._replies.clear()
        self._flags = {}
        self._highlighted = set()
        self.endResetModel()

    # ------------------------------------------------------------------ Qt model API

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else self._count

    def data(self, index: AnyIndex, role: int = _DISPLAY) -> Any:
        if not index.isValid() or not 0 <= index.row() < self._count:
            return None
        row = index.row()
        if role == HIGHLIGHT_ROLE:
            return row in self._highlighted
        if role == FLAG_ROLE:
            return self._flags.get(row)
        message = self.message(row)
        if message is None:
            return None
        if role == MESSAGE_ROLE:
            return message
        if role == REPLY_ROLE:
            return self.replied_to(message)
        if role in (_DISPLAY, _ACCESSIBLE):
            return self.spoken(message)
        if role == _TOOLTIP:
            return tooltip(time_tooltip(message, self.zone)) or None
        return None

    def spoken(self, message: Message) -> str:
        """One message as a screen reader reads it (and as Copy copies it)."""
        if message.kind is MessageKind.UNREADABLE:
            text = self.tr("Could not read this line: {line}").format(line=message.text)
        elif message.kind is MessageKind.SYSTEM:
            text = self.tr("{when}: {text}").format(when=local_time_text(message, self.zone),
                                                    text=message.text)
        else:
            text = self.tr("{sender}, {when}: {text}").format(
                sender=message.sender, when=local_time_text(message, self.zone), text=message.text)
        flag = self._flags.get(message.index)
        if flag is not None:
            label = category_label(flag.category) if flag.category else ""
            text = (self.tr("Flagged ({category}). {message}").format(category=label,
                                                                      message=text)
                    if label else self.tr("Flagged. {message}").format(message=text))
        return text


__all__ = ["FLAG_ROLE", "HIGHLIGHT_ROLE", "MESSAGE_ROLE", "PAGES_KEPT", "PAGE_SIZE",
           "REPLY_ROLE", "ConversationModel", "local_time_text", "sent_moment",
           "time_tooltip"]
