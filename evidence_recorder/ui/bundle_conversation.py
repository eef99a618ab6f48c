"""An e-mail's or chat export's messages in the bundle viewer: :class:`ConversationModel`
(one row per message, model/view, nothing per message as a widget, so 100,000 messages
scroll as fast as ten) and :class:`MessagePanel` (the flagged messages with their
context first, or the whole conversation; search; the selected message in full as plain
text, an e-mail with its headers; its picture veiled; save a copy of a file).

The messages come from the bundle's messages.json through the typed reader
(``OpenedBundle.messages``), which checked every field; they are still the export's own
words, so they are only ever shown as plain text (a list model's display text, a
QPlainTextEdit), never as markup, and with every invisible direction override or control
character shown as a ``[U+202E]`` marker instead of obeyed (the report's rule, as
core.bundle.report_words.visible_text applies it; widgets do not import the bundle
package), so that a sender's name cannot make a line read differently from what it is.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QCoreApplication,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
)
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QMenu,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from evidence_recorder.core.conversation import (
    CONTEXT_MESSAGES,
    Message,
    MessageFlag,
    MessageKind,
)
from evidence_recorder.ui.bundle_wording import _byte_size, _moment_words, _one_line
from evidence_recorder.ui.imageview import ImageView
from evidence_recorder.ui.plain import make_plain, tooltip
from evidence_recorder.ui.wording import category_label

# Invisible characters that reorder or hide text (Trojan Source, "exe.txt" tricks).
_BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
                           "\u2066\u2067\u2068\u2069")


def visible_text(text: str, *, multiline: bool = True) -> str:
    """``text`` with direction overrides and control characters shown as markers."""
    if text.isascii() and text.isprintable():
        return text
    out = []
    for char in text.replace("\r\n", "\n").replace("\r", "\n"):
        if char == "\n":
            out.append("\n" if multiline else " ")
        elif char == "\t":
            out.append("    " if multiline else " ")
        elif char in _BIDI_CONTROLS or unicodedata.category(char) in {"Cc", "Cs"}:
            out.append(f"[U+{ord(char):04X}]")
        else:
            out.append(char)
    return "".join(out)


_AnyIndex = QModelIndex | QPersistentModelIndex
_DISPLAY = int(Qt.ItemDataRole.DisplayRole)
_TOOLTIP = int(Qt.ItemDataRole.ToolTipRole)
_ACCESSIBLE = int(Qt.ItemDataRole.AccessibleTextRole)
_FONT = int(Qt.ItemDataRole.FontRole)
_BACKGROUND = int(Qt.ItemDataRole.BackgroundRole)
_TEXT_IN_ROW = 110  # characters of a message shown in its row (all of it below)
_FLAGGED_TINT = QColor("#fff3cd")
_PICTURE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp", "image/bmp")


@dataclass(frozen=True, slots=True)
class BundleFile:
    """One file of the item, as the bundle lists it: name as the item knows it, path
    inside the bag (None where not sent), media type, size, SHA-256."""

    name: str
    path: str | None
    media_type: str
    size: int | None
    sha256: str | None


class Show(IntEnum):
    FLAGGED = 0  # the flagged messages, each with CONTEXT_MESSAGES on either side
    ALL = 1  # the whole conversation


def _tr(text: str) -> str:
    return QCoreApplication.translate("BundleConversation", text)


def time_words(message: Message) -> str:
    """A message's time as the export wrote it, and in UTC and the reader's time."""
    if not message.sent_at:
        return (_tr("{written} (no time could be read)").format(written=message.written_at)
                if message.written_at else _tr("no time given"))
    moment = _moment_words(message.sent_at)
    if not message.written_at:
        return moment
    return _tr("{written} as written; {moment}").format(written=message.written_at,
                                                       moment=moment)


def who_words(message: Message) -> str:
    if message.kind is MessageKind.UNREADABLE:
        return _tr("A line that could not be read (kept as written)")
    who = message.sender or _tr("no sender shown")
    if message.sender_id and message.sender_id != message.sender:
        who = _tr("{sender} ({id})").format(sender=who, id=message.sender_id)
    if message.kind is MessageKind.SYSTEM:
        who = _tr("{sender} (the app's own line)").format(sender=who)
    return who


def flag_words(flag: MessageFlag) -> str:
    if flag.category and flag.note:
        return _tr("Flagged by the sender as {category}: {note}").format(
            category=category_label(flag.category), note=flag.note)
    if flag.category:
        return _tr("Flagged by the sender as {category}").format(
            category=category_label(flag.category))
    if flag.note:
        return _tr("Flagged by the sender: {note}").format(note=flag.note)
    return _tr("Flagged by the sender")


def dkim_words(dkim: object) -> str:
    """The DKIM result exactly as strong as what was recorded at import."""
    if not isinstance(dkim, dict) or not dkim.get("result"):
        return _tr("Not checked")
    result, domain = str(dkim.get("result")), str(dkim.get("domain") or "")
    when = _moment_words(str(dkim.get("checked_at") or ""))
    reason = str(dkim.get("reason") or "")
    if result == "pass":
        return (_tr("Signature valid for {domain}, checked on {when}").format(
            domain=domain, when=when) if when
            else _tr("Signature valid for {domain}").format(domain=domain))
    if result == "fail":
        return _tr("Signature did not verify for {domain} ({reason})").format(
            domain=domain, reason=reason or _tr("no reason recorded"))
    if result == "none":
        return _tr("Not signed")
    if result == "not-checked":
        return _tr("Not checked ({reason})").format(reason=reason) if reason \
            else _tr("Not checked")
    return _tr("Recorded as “{result}”").format(result=result)


def _header(value: object) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return "" if value is None else str(value)


def message_text(message: Message, flag: MessageFlag | None, files: dict[str, BundleFile],
                 email: bool) -> str:
    """One message in full, as plain text: an e-mail's headers first."""
    lines: list[str] = []
    if flag is not None:
        lines += [flag_words(flag), ""]
    if email:
        extra = message.extra
        received = extra.get("received")
        for label, value in (
                (_tr("From"), _header(extra.get("from")) or message.sender),
                (_tr("To"), _header(extra.get("to"))), (_tr("Cc"), _header(extra.get("cc"))),
                (_tr("Date"), _header(extra.get("date")) or message.written_at),
                (_tr("Subject"), _header(extra.get("subject"))),
                (_tr("Message-ID"), _header(extra.get("message_id"))),
                (_tr("DKIM"), dkim_words(extra.get("dkim")))):
            if value:
                lines.append(_tr("{label}: {value}").format(label=label, value=value))
        if isinstance(received, list) and received:
            lines.append(_tr("Received (newest first):"))
            lines += [f"  {hop}" for hop in received]
        if message.sent_at:
            lines.append(_tr("Sent: {time}").format(time=_moment_words(message.sent_at)))
    else:
        lines.append(_tr("#{index} · {who}").format(index=message.index,
                                                    who=who_words(message)))
        lines.append(time_words(message))
        if message.edited_at:
            lines.append(_tr("Edited: {when}").format(when=message.edited_at))
        if message.reply_to is not None:
            lines.append(_tr("In reply to message #{index}").format(index=message.reply_to))
    lines += ["", message.text]
    if message.attachments:
        lines += ["", _tr("Attachments:")]
    for attachment in message.attachments:
        kept = files.get(attachment.artefact) if attachment.artefact else None
        if kept is not None and kept.path is not None:
            lines.append(_tr("  {name}: {size}, SHA-256 {sha256}").format(
                name=attachment.name, size=_byte_size(kept.size or 0),
                sha256=kept.sha256 or _tr("not recorded")))
        elif attachment.omitted:
            lines.append(_tr("  {name}: left out of the export").format(name=attachment.name))
        else:
            lines.append(_tr("  {name}: not in this bundle {note}").format(
                name=attachment.name, note=f"({attachment.note})" if attachment.note else ""))
    return "\n".join(lines)


class ConversationModel(QAbstractListModel):
    """The messages on show: the flagged ones with their context, or all, filtered by a
    search; one row each, plain text only."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._messages: list[Message] = []
        self._flags: dict[int, MessageFlag] = {}
        self._rows: list[int] = []  # positions in _messages, in order
        self._show = Show.FLAGGED
        self._search = ""

    def set_messages(self, messages: Sequence[Message], flags: Sequence[MessageFlag]) -> None:
        self._messages = list(messages)
        self._flags = {flag.index: flag for flag in flags}
        self._refilter()

    def clear(self) -> None:
        self.set_messages([], [])

    def set_show(self, show: Show) -> None:
        self._show = show
        self._refilter()

    def set_search(self, text: str) -> None:
        self._search = text.strip().casefold()
        self._refilter()

    @property
    def total(self) -> int:
        return len(self._messages)

    def _refilter(self) -> None:
        self.beginResetModel()
        rows: Sequence[int] = range(len(self._messages))
        if self._search:
            wanted = self._search
            rows = [n for n in rows if wanted in self._messages[n].text.casefold()
                    or wanted in self._messages[n].sender.casefold()]
        elif self._show is Show.FLAGGED:
            near: set[int] = set()
            for index in self._flags:
                near.update(range(index - CONTEXT_MESSAGES, index + CONTEXT_MESSAGES + 1))
            rows = [n for n in rows if self._messages[n].index in near]
        self._rows = list(rows)
        self.endResetModel()

    def message_at(self, row: int) -> Message:
        return self._messages[self._rows[row]]

    def flag_of(self, message: Message) -> MessageFlag | None:
        return self._flags.get(message.index)

    def row_of(self, index: int) -> int | None:
        """The row showing the message numbered ``index``, if it is on show."""
        return next((row for row, n in enumerate(self._rows)
                     if self._messages[n].index == index), None)

    def rowCount(self, parent: _AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def flags(self, index: _AnyIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return (Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
                | Qt.ItemFlag.ItemNeverHasChildren)

    def _row_text(self, message: Message) -> str:
        when = message.written_at or (_moment_words(message.sent_at) if message.sent_at
                                      else _tr("no time given"))
        head = _tr("#{index} · {who} · {when}").format(
            index=message.index, who=_one_line(who_words(message), 60),
            when=_one_line(when, 60))
        if self.flag_of(message) is not None:
            head = _tr("⚑ FLAGGED · {head}").format(head=head)
        text = _one_line(message.text, _TEXT_IN_ROW)
        if not text and message.attachments:
            text = _tr("(attached: {names})").format(
                names=", ".join(a.name for a in message.attachments[:5]))
        return visible_text(f"{head}\n{text}")

    def data(self, index: _AnyIndex, role: int = _DISPLAY) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        message = self.message_at(index.row())
        if role in (_DISPLAY, _ACCESSIBLE):
            return self._row_text(message)
        if role == _TOOLTIP:
            return tooltip(visible_text(message.text[:1_000]) or None)
        flagged = self.flag_of(message) is not None
        if role == _FONT and flagged:
            font = QFont()
            font.setBold(True)
            return font
        if role == _BACKGROUND and flagged:
            return QBrush(_FLAGGED_TINT)
        return None


class MessagePanel(QWidget):
    """An e-mail or a conversation from the bundle: a list of its messages above, the
    selected one in full below (plain text), and its picture, veiled, where it has one.

    ``read_file(path)`` reads a file of the bag (None with nothing shown if it cannot);
    ``save_file(file)`` offers to save a copy of one of the item's files.
    """

    def __init__(self, read_file: Callable[[str], bytes | None],
                 save_file: Callable[[BundleFile], object],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._read_file = read_file
        self._save_file = save_file
        self._files: dict[str, BundleFile] = {}
        self._email = False
        self._loading = False
        self.model = ConversationModel(self)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(4)
        row = QHBoxLayout()
        self.heading = QLabel()
        self.heading.setWordWrap(True)
        make_plain(self.heading)  # a chat's name or an e-mail's subject: the export's words
        self.show_box = QComboBox()
        self.show_box.addItems([self.tr("Flagged messages, with context"),
                                self.tr("The whole conversation")])
        self.show_box.setAccessibleName(self.tr("Which messages to show"))
        self.show_box.currentIndexChanged.connect(self._show_changed)
        self.search = QLineEdit()
        self.search.setPlaceholderText(self.tr("Search the messages"))
        self.search.setAccessibleName(self.tr("Search the messages"))
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self._search_changed)
        self.save_button = QPushButton(self.tr("Save a copy…"))
        self.save_button.setToolTip(self.tr("Save a copy of the original file or of one of "
                                            "its attachments, exactly as in the bundle"))
        self.save_menu = QMenu(self.save_button)
        self.save_button.setMenu(self.save_menu)
        row.addWidget(self.heading, 1)
        row.addWidget(self.show_box)
        row.addWidget(self.search)
        row.addWidget(self.save_button)
        column.addLayout(row)
        self.count = QLabel()
        make_plain(self.count)
        column.addWidget(self.count)

        self.list = QListView()
        self.list.setModel(self.model)
        self.list.setAccessibleName(self.tr("Messages"))
        self.list.setUniformItemSizes(True)  # fast with 100,000 rows
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.list.setAlternatingRowColors(True)
        self.list.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.selectionModel().currentRowChanged.connect(self._current_changed)
        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        self.text.setAccessibleName(self.tr("The selected message in full"))
        self.picture = ImageView(accessible_name=self.tr("Picture attached to the message"))
        self.picture.set_veiled(True)
        self.picture.setMinimumSize(160, 120)
        self.picture.setVisible(False)
        lower = QSplitter(Qt.Orientation.Horizontal)
        lower.addWidget(self.text)
        lower.addWidget(self.picture)
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(self.list)
        self.splitter.addWidget(lower)
        self.splitter.setSizes([300, 300])
        column.addWidget(self.splitter, 1)

    # ------------------------------------------------------------------ contents

    def set_item(self, title: str, email: bool, messages: Sequence[Message],
                 flags: Sequence[MessageFlag], files: Sequence[BundleFile]) -> None:
        """Show one item's messages: the flagged ones first where there are any (an
        e-mail, or a chat with nothing flagged: all of them)."""
        self._loading = False
        self._email = email
        self._files = {file.name: file for file in files}
        self.heading.setText(visible_text(title, multiline=False))
        self.save_menu.clear()
        for file in files:
            action = self.save_menu.addAction(self.tr("{name} ({size})").format(
                name=_one_line(file.name, 80), size=_byte_size(file.size or 0)))
            action.setEnabled(file.path is not None)
            action.triggered.connect(lambda _=False, f=file: self._save_file(f))
        self.save_button.setEnabled(bool(files))
        self.search.blockSignals(True)
        self.search.clear()
        self.search.blockSignals(False)
        self.model.set_messages(messages, flags)
        show = Show.FLAGGED if flags and not email else Show.ALL
        self.show_box.blockSignals(True)
        self.show_box.setCurrentIndex(int(show))
        self.show_box.setVisible(not email or len(messages) > 1)
        self.show_box.blockSignals(False)
        self.model.set_show(show)
        self._after_filter()

    def set_loading(self, title: str) -> None:
        """Say the messages are being read (they arrive with :meth:`set_item`)."""
        self.clear()
        self.heading.setText(visible_text(title, multiline=False))
        self.count.setText(self.tr("Reading the messages from the bundle…"))
        self._loading = True

    def is_loading(self) -> bool:
        return self._loading

    def clear(self) -> None:
        """Forget every message and picture (the window is closing, or another item)."""
        self.model.clear()
        self._loading = False
        self._files = {}
        self.text.clear()
        self.picture.clear()
        self.picture.setVisible(False)
        self.heading.clear()
        self.count.clear()
        self.save_menu.clear()

    def _show_changed(self, row: int) -> None:
        self.model.set_show(Show(row))
        self._after_filter()

    def _search_changed(self, text: str) -> None:
        self.model.set_search(text)
        self._after_filter()

    def _after_filter(self) -> None:
        shown, total = self.model.rowCount(), self.model.total
        if self.search.text().strip():
            words = self.tr("{shown} of {total} messages match the search.")
        elif shown < total:
            words = self.tr("{shown} of {total} messages: each flagged one with {context} "
                            "before and after it.")
        elif total == 1:
            words = self.tr("One message.")
        else:
            words = self.tr("All {total} messages, in the order of the export.")
        self.count.setText(words.format(shown=shown, total=total, context=CONTEXT_MESSAGES))
        self.text.clear()
        self.picture.clear()
        self.picture.setVisible(False)
        if shown:
            first = next((row for row in range(shown)
                          if self.model.flag_of(self.model.message_at(row)) is not None), 0)
            self.list.setCurrentIndex(self.model.index(first, 0))

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if not current.isValid():
            return
        message = self.model.message_at(current.row())
        self.text.setPlainText(visible_text(message_text(
            message, self.model.flag_of(message), self._files, self._email)))
        self.picture.clear()
        picture = next((self._files.get(a.artefact) for a in message.attachments
                        if a.artefact in self._files
                        and self._files[a.artefact].media_type in _PICTURE_TYPES), None)
        self.picture.setVisible(picture is not None)
        if picture is not None and picture.path is not None:
            self.picture.set_veiled(True)  # before it arrives: it may be upsetting
            self.picture.set_image(self._read_file(picture.path))

    def shown_text(self) -> str:
        """The selected message as shown (tests, and a screen reader's summary)."""
        return self.text.toPlainText()
