"""The messages parsed from an e-mail or a chat export, and the person's flags on them.

Rows of the ``message`` and ``message_flag`` tables (schema version 5). The store's
``Vault`` methods of the same names are the public door; these functions take a
cursor or connection so that ``add_item`` writes the messages in the same
transaction as the item, and so that reads stay bounded (a page at a time) for a
conversation of 100,000 messages.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

import sqlcipher3

from evidence_recorder.core.conversation import (
    Message,
    MessageAttachment,
    MessageFlag,
    MessageKind,
)

MAX_SEARCH = 200  # characters of a search text
_KINDS = {k.value: k for k in MessageKind}
_COLUMNS = "idx, kind, sender, sender_id, sent_at, written_at, body, extra"


def _extra(message: Message) -> str | None:
    extra: dict[str, Any] = dict(message.extra)
    if message.reply_to is not None:
        extra["reply_to"] = message.reply_to
    if message.edited_at:
        extra["edited_at"] = message.edited_at
    if message.attachments:
        extra["attachments"] = [a.as_dict() for a in message.attachments]
    return json.dumps(extra, ensure_ascii=False) if extra else None


def insert(cur: sqlcipher3.Cursor, item_id: int, messages: Iterable[Message]) -> int:
    """Write an item's parsed messages; returns how many."""
    count = 0

    def rows() -> Iterable[tuple[Any, ...]]:
        nonlocal count
        for m in messages:
            count += 1
            yield (item_id, m.index, m.kind.value, m.sender, m.sender_id, m.sent_at,
                   m.written_at, m.text, _extra(m))

    cur.executemany(
        "INSERT INTO message (item_id, idx, kind, sender, sender_id, sent_at, written_at, "
        "body, extra) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows())
    return count


def row_to_message(r: Sequence[Any]) -> Message:
    extra: dict[str, Any] = json.loads(r[7]) if r[7] else {}
    reply_to = extra.pop("reply_to", None)
    edited_at = extra.pop("edited_at", "")
    attachments = [MessageAttachment.from_dict(a) for a in extra.pop("attachments", [])]
    return Message(index=int(r[0]), kind=_KINDS.get(r[1], MessageKind.MESSAGE), sender=r[2],
                   sender_id=r[3], sent_at=r[4], written_at=r[5], text=r[6],
                   reply_to=reply_to, edited_at=edited_at, attachments=attachments,
                   extra=extra)


def _like(text: str) -> str:
    text = text[:MAX_SEARCH]
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def select(conn: sqlcipher3.Connection, item_id: int, *, start: int = 0,
           limit: int | None = None, since: str = "", until: str = "", search: str = "",
           sender: str = "", indexes: Sequence[int] | None = None) -> list[Message]:
    """Messages of one item in export order, filtered; ``since``/``until`` compare
    ``sent_at`` (ISO UTC; a message without a time is left out when either is given);
    ``search`` is case-insensitive in the text and the sender; ``sender`` matches the
    sender as shown or the sender id exactly."""
    where = ["item_id = ?", "idx >= ?"]
    params: list[Any] = [item_id, start]
    if since:
        where.append("sent_at != '' AND sent_at >= ?")
        params.append(since)
    if until:
        where.append("sent_at != '' AND sent_at <= ?")
        params.append(until)
    if search:
        where.append("(body LIKE ? ESCAPE '\\' OR sender LIKE ? ESCAPE '\\')")
        params += [_like(search)] * 2
    if sender:
        where.append("(sender = ? OR (sender_id != '' AND sender_id = ?))")
        params += [sender, sender]
    if indexes is not None:
        wanted = sorted({int(i) for i in indexes})
        if not wanted:
            return []
        where.append(f"idx IN ({', '.join('?' * len(wanted))})")
        params += wanted
    sql = (f"SELECT {_COLUMNS} FROM message WHERE {' AND '.join(where)} "  # noqa: S608
           "ORDER BY idx")
    if limit is not None:
        sql += " LIMIT ?"
        params.append(max(0, limit))
    return [row_to_message(r) for r in conn.execute(sql, params)]


def first_on_or_after(conn: sqlcipher3.Connection, item_id: int, when: str) -> int | None:
    """The index of the first message (in export order) sent at or after ``when``."""
    row = conn.execute("SELECT min(idx) FROM message WHERE item_id = ? AND sent_at != '' "
                       "AND sent_at >= ?", (item_id, when)).fetchone()
    return None if row is None or row[0] is None else int(row[0])


def senders(conn: sqlcipher3.Connection, item_id: int | None = None) -> list[tuple[str, str, int]]:
    """(sender, sender id, how many messages) of one item or of every item."""
    if item_id is None:
        rows = conn.execute("SELECT sender, sender_id, COUNT(*) FROM message "
                            "WHERE kind = 'message' GROUP BY sender, sender_id ORDER BY sender")
    else:
        rows = conn.execute("SELECT sender, sender_id, COUNT(*) FROM message "
                            "WHERE item_id = ? AND kind = 'message' "
                            "GROUP BY sender, sender_id ORDER BY sender", (item_id,))
    return [(r[0], r[1], int(r[2])) for r in rows]


def flags(conn: sqlcipher3.Connection, item_id: int | None = None) -> list[MessageFlag]:
    if item_id is None:
        rows = conn.execute("SELECT item_id, idx, category, note, flagged_at FROM message_flag "
                            "ORDER BY item_id, idx")
    else:
        rows = conn.execute("SELECT item_id, idx, category, note, flagged_at FROM message_flag "
                            "WHERE item_id = ? ORDER BY idx", (item_id,))
    return [MessageFlag(int(r[0]), int(r[1]), r[2], r[3], r[4]) for r in rows]
