"""The conversation window: read a chat export or a mailbox, search it, jump to a day,
and flag the messages that matter.

Opened from the timeline for an e-mail or chat item (double-click, Enter, or "Open
conversation"), or for a flagged message, scrolled to it with its context highlighted
(:data:`~evidence_recorder.core.conversation.CONTEXT_MESSAGES` on each side). Messages
come a page at a time (:mod:`~evidence_recorder.ui.conversation_model`) and are drawn
by :mod:`~evidence_recorder.ui.conversation_delegate`; an e-mail shows its header block,
its body as plain text (never rendered HTML) and its attachments with their SHA-256.
Flags go through the session, which the vault audits. Every word of an export is
hostile: plain text only, no links, no markup.
"""

from __future__ import annotations

import bisect
import weakref
from datetime import date, datetime, time
from typing import Any

import shiboken6
from PySide6.QtCore import (
    QCoreApplication,
    QDate,
    QItemSelection,
    QItemSelectionModel,
    QModelIndex,
    QSize,
    Qt,
)
from PySide6.QtGui import QAction, QCloseEvent, QGuiApplication, QImage, QKeySequence, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMenu,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from evidence_recorder.core.conversation import CONTEXT_MESSAGES, Message, MessageAttachment
from evidence_recorder.core.errors import EvidenceError
from evidence_recorder.core.model import CATEGORY_LABELS, Capture, CaptureKind
from evidence_recorder.ui import filedialogs, messages
from evidence_recorder.ui.conversation_delegate import (
    PICTURE_BOX,
    ConversationDelegate,
    ConversationView,
    is_picture,
    size_text,
    visible,
)
from evidence_recorder.ui.conversation_model import ConversationModel, local_time_text
from evidence_recorder.ui.geometry import remember_geometry
from evidence_recorder.ui.i18n import category_text, error_text
from evidence_recorder.ui.imageview import ImageView
from evidence_recorder.ui.plain import make_plain, plain_label
from evidence_recorder.ui.session import VaultSession
from evidence_recorder.ui.tasks import run_task
from evidence_recorder.ui.wording import capture_zone, day_format, zone_label


def dkim_text(dkim: Any) -> str:
    """What the DKIM check at import found, in plain words, never stronger than recorded."""
    if not isinstance(dkim, dict) or not dkim.get("result"):
        return QCoreApplication.translate(
            "Dkim", "Not checked: no signature check was recorded for this e-mail.")
    result = str(dkim.get("result", ""))
    domain = str(dkim.get("domain", "")).strip()
    reason = str(dkim.get("reason", "")).strip()
    if result == "pass":
        text = (QCoreApplication.translate("Dkim", "Signature checked: valid ({domain})")
                .format(domain=domain) if domain
                else QCoreApplication.translate("Dkim", "Signature checked: valid"))
        checked = str(dkim.get("checked_at", "")).strip()
        if checked:
            text += "\n" + QCoreApplication.translate(
                "Dkim", "Checked at import ({when} UTC) with the key its domain published "
                "then.").format(when=checked.replace("T", " ")[:19])
        return text
    if result == "fail":
        text = (QCoreApplication.translate("Dkim", "Signature checked: not valid ({domain})")
                .format(domain=domain) if domain
                else QCoreApplication.translate("Dkim", "Signature checked: not valid"))
        return text + ("\n" + reason if reason else "")
    if result == "none":
        return QCoreApplication.translate(
            "Dkim", "Not signed: this e-mail carries no DKIM signature to check.")
    return QCoreApplication.translate("Dkim", "Not checked: {reason}").format(
        reason=reason or QCoreApplication.translate("Dkim", "the key could not be looked up"))


def _value(extra: dict[str, Any], key: str) -> str:
    value = extra.get(key, "")
    if isinstance(value, list):
        value = ", ".join(str(v) for v in value)
    return visible(" ".join(str(value or "").split()))


class FlagDialog(QDialog):
    """A category and a note for the messages being flagged, like a capture's."""

    def __init__(self, count: int, parent: QWidget | None = None, *, category: str = "",
                 note: str = "") -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Flag messages"))
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(
            self.tr("Flag %n message as evidence that matters.", "", count) if count == 1
            else self.tr("Flag %n messages as evidence that matters.", "", count)))
        form = QFormLayout()
        self.category = QComboBox()
        self.category.setAccessibleName(self.tr("Category"))
        self.category.addItem(self.tr("Not chosen yet"), "")
        for value, label in CATEGORY_LABELS.items():
            self.category.addItem(category_text(label), value.value)
        found = self.category.findData(category)
        self.category.setCurrentIndex(max(0, found))
        self.note = QPlainTextEdit()
        self.note.setAccessibleName(self.tr("Note"))
        self.note.setPlaceholderText(self.tr("Why this matters, in your words (optional)"))
        self.note.setPlainText(note)
        self.note.setTabChangesFocus(True)
        form.addRow(self.tr("&Category"), self.category)
        form.addRow(self.tr("&Note"), self.note)
        layout.addLayout(form)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        ok = buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setText(self.tr("&Flag"))
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def chosen(self) -> tuple[str, str]:
        return str(self.category.currentData() or ""), self.note.toPlainText().strip()


class EmailPane(QWidget):
    """One e-mail: its header block, its body as plain text, its attachments."""

    def __init__(self, window: ConversationWindow) -> None:
        super().__init__(window)
        self._window = window
        self._message: Message | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        form = QFormLayout()
        self.fields: dict[str, QLabel] = {}
        for key, title in (("from", self.tr("From")), ("to", self.tr("To")),
                           ("cc", self.tr("Cc")), ("date", self.tr("Date")),
                           ("subject", self.tr("Subject")),
                           ("message_id", self.tr("Message-ID")),
                           ("dkim", self.tr("Signature"))):
            label = plain_label()
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            label.setAccessibleName(title)
            self.fields[key] = label
            form.addRow(title, label)
        layout.addLayout(form)
        self.received_button = QToolButton()
        self.received_button.setCheckable(True)
        self.received_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.received_button.setArrowType(Qt.ArrowType.RightArrow)
        self.received_button.toggled.connect(self._toggle_received)
        self.received = QPlainTextEdit()
        self.received.setReadOnly(True)
        self.received.setAccessibleName(self.tr("The Received chain, newest first"))
        self.received.setMaximumHeight(140)
        self.received.setVisible(False)
        layout.addWidget(self.received_button)
        layout.addWidget(self.received)
        self.body = QPlainTextEdit()  # plain text by nature: HTML is shown as its characters
        self.body.setReadOnly(True)
        self.body.setAccessibleName(self.tr("The e-mail's text"))
        layout.addWidget(self.body, 1)
        self.attachments = QTableWidget(0, 3)
        self.attachments.setHorizontalHeaderLabels(
            [self.tr("Attachment"), self.tr("Size"), self.tr("SHA-256")])
        self.attachments.setAccessibleName(self.tr("Attachments"))
        self.attachments.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.attachments.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.attachments.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.attachments.horizontalHeader().setStretchLastSection(True)
        self.attachments.verticalHeader().hide()
        self.attachments.setMaximumHeight(130)
        self.save_button = QPushButton(self.tr("&Save copy…"))
        self.save_button.setToolTip(self.tr("Save a copy of the chosen attachment as a file"))
        self.save_button.clicked.connect(self._save_selected)
        row = QHBoxLayout()
        row.addWidget(self.attachments, 1)
        row.addWidget(self.save_button, 0, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(row)
        self.show_message(None)

    def show_message(self, message: Message | None) -> None:
        self._message = message
        extra = message.extra if message is not None else {}
        for key, label in self.fields.items():
            if key == "dkim":
                label.setText(dkim_text(extra.get("dkim")) if message is not None else "")
            elif key == "from":
                label.setText(_value(extra, "from")
                              or (visible(message.sender) if message else ""))
            elif key == "date":
                written = _value(extra, "date")
                local = (local_time_text(message, self._window.zone)
                         if message is not None else "")
                label.setText(self.tr("{written} (that is {local}, {zone})").format(
                    written=written, local=local, zone=zone_label(self._window.item))
                    if written and local and written != local else written or local)
            else:
                label.setText(_value(extra, key))
        received = extra.get("received") or []
        if not isinstance(received, list):
            received = [str(received)]
        self.received_button.setText(
            self.tr("Received chain: %n server", "", len(received)) if len(received) == 1
            else self.tr("Received chain: %n servers", "", len(received)))
        self.received_button.setEnabled(bool(received))
        self.received.setPlainText(visible("\n\n".join(str(r) for r in received)))
        self.body.setPlainText(visible(message.text) if message is not None else "")
        items = message.attachments if message is not None else []
        self.attachments.setRowCount(len(items))
        for row, attachment in enumerate(items):
            digest = self._window.artefact_sha256(attachment.artefact)
            shown = visible(attachment.name)
            name = QTableWidgetItem(shown)
            if attachment.omitted:
                name.setText(self.tr("{name} (not in the e-mail)").format(name=shown))
            elif not attachment.artefact:
                name.setText(self.tr("{name} (not kept)").format(name=shown))
            self.attachments.setItem(row, 0, name)
            self.attachments.setItem(row, 1, QTableWidgetItem(size_text(attachment.size)))
            self.attachments.setItem(row, 2, QTableWidgetItem(digest))
        self.save_button.setEnabled(any(a.artefact for a in items))

    def _toggle_received(self, shown: bool) -> None:
        self.received.setVisible(shown)
        self.received_button.setArrowType(Qt.ArrowType.DownArrow if shown
                                          else Qt.ArrowType.RightArrow)

    def _save_selected(self) -> None:
        if self._message is None or not self._message.attachments:
            return
        row = max(0, self.attachments.currentRow())
        if row < len(self._message.attachments):
            self._window.save_attachment(self._message.attachments[row])


class ConversationWindow(QMainWindow):
    """One e-mail, mailbox or chat export, read a page at a time."""

    def __init__(self, session: VaultSession, item_id: int, parent: QWidget | None = None,
                 *, scroll_to: int | None = None) -> None:
        super().__init__(parent)
        self.setWindowFlag(Qt.WindowType.Window, True)
        self.session = session
        self.item_id = item_id
        self.item: Capture = session.capture(item_id)
        self.is_mailbox = self.item.kind is CaptureKind.EMAIL
        self._hashes = {a.name: a.sha256 for a in self.item.artefacts}
        source = self.item.messages
        title = (source.title if source is not None and source.title else "") or self.item.title
        self.setWindowTitle(self.tr("{title} – conversation").format(
            title=title or self.tr("Item {number}").format(number=item_id)))
        # Times on the clock of the computer that imported it, as the timeline shows them.
        self.zone = capture_zone(self.item)
        self.model = ConversationModel(session, item_id, self, zone=self.zone)
        self.delegate = ConversationDelegate(self, mailbox=self.is_mailbox)
        self.delegate.zone = self.zone
        self.delegate.attachment_clicked.connect(self._attachment_clicked)
        self.view = ConversationView(self.delegate)
        self.view.setModel(self.model)
        self.view.setAccessibleName(self.tr("E-mails") if self.is_mailbox
                                    else self.tr("Messages"))
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.customContextMenuRequested.connect(self._context_menu)
        self._matches: list[int] = []
        self._search_text = ""
        self._searching = False
        self._build_actions()
        self._build_bar()
        self.email: EmailPane | None = None
        splitters: list[QSplitter] = []
        if self.is_mailbox:
            self.email = EmailPane(self)
            splitter = QSplitter(Qt.Orientation.Vertical)
            splitter.setObjectName("conversationSplitter")
            splitter.addWidget(self.view)
            splitter.addWidget(self.email)
            splitter.setStretchFactor(0, 1)
            splitter.setStretchFactor(1, 3)
            splitters.append(splitter)
            self.setCentralWidget(splitter)
            self.view.selectionModel().currentRowChanged.connect(self._email_changed)
        else:
            self.setCentralWidget(self.view)
        self.view.selectionModel().selectionChanged.connect(self._selection_changed)
        count = self.model.rowCount()
        self.statusBar().showMessage(self._count_text(count))
        session.locked.connect(self._locked)
        session.messages_flagged.connect(self._flags_changed)
        session.captures_changed.connect(self._items_changed)
        self._geometry = remember_geometry(
            self, "conversation-mail" if self.is_mailbox else "conversation",
            QSize(900, 720), splitters)
        make_plain_everywhere(self)
        self._selection_changed()
        if scroll_to is not None:
            self.show_message(scroll_to, context=True)
        elif self.is_mailbox and count:
            self.select_row(0)

    # ------------------------------------------------------------------ building

    def _build_actions(self) -> None:
        self.act_flag = QAction(self.tr("&Flag…"), self)
        self.act_flag.setShortcut(QKeySequence("Ctrl+K"))
        self.act_flag.setToolTip(self.tr("Flag the chosen messages as evidence that matters, "
                                         "with a category and a note"))
        self.act_flag.triggered.connect(self.flag_selected)
        self.act_unflag = QAction(self.tr("&Remove flag"), self)
        self.act_unflag.setShortcut(QKeySequence("Ctrl+Shift+K"))
        self.act_unflag.triggered.connect(self.unflag_selected)
        self.act_copy = QAction(self.tr("&Copy text"), self)
        self.act_copy.setShortcut(QKeySequence.StandardKey.Copy)
        self.act_copy.triggered.connect(self.copy_selected)
        self.act_find = QAction(self.tr("&Find"), self)
        self.act_find.setShortcut(QKeySequence.StandardKey.Find)
        self.act_find.triggered.connect(lambda: self.search.setFocus())
        self.act_pictures = QAction(self.tr("Show &pictures"), self)
        self.act_pictures.setShortcut(QKeySequence("Ctrl+P"))
        self.act_pictures.setToolTip(self.tr("Show the pictures of the chosen messages (they "
                                             "stay hidden until you ask, as they may be "
                                             "upsetting)"))
        self.act_pictures.triggered.connect(self.reveal_selected_pictures)
        for action in (self.act_flag, self.act_unflag, self.act_copy, self.act_find,
                       self.act_pictures):
            self.addAction(action)

    def _build_bar(self) -> None:
        bar = self.addToolBar(self.tr("Conversation"))
        bar.setObjectName("conversationToolbar")
        bar.setMovable(False)
        self.search = QLineEdit()
        self.search.setPlaceholderText(self.tr("Search the messages (Enter: next match)"))
        self.search.setAccessibleName(self.tr("Search the messages"))
        self.search.setClearButtonEnabled(True)
        self.search.setMinimumWidth(220)
        self.search.returnPressed.connect(self.find_next)
        self.search.textChanged.connect(self._search_edited)
        bar.addWidget(self.search)
        bar.addSeparator()
        label = QLabel(self.tr("Go to day"))
        self.date = QDateEdit()
        self.date.setCalendarPopup(True)
        self.date.setDisplayFormat(day_format())
        self.date.setAccessibleName(self.tr("Go to day"))
        label.setBuddy(self.date)
        first = self.item.messages.first_at if self.item.messages is not None else ""
        if first:
            start = datetime.fromisoformat(first.replace("Z", "+00:00")).astimezone(
                capture_zone(self.item)).date()
            self.date.setDate(QDate(start.year, start.month, start.day))
        else:
            self.date.setDate(QDate.currentDate())
        go = QPushButton(self.tr("&Go"))
        go.setAccessibleName(self.tr("Go to the first message of that day"))
        go.clicked.connect(self.jump_to_date)
        bar.addWidget(label)
        bar.addWidget(self.date)
        bar.addWidget(go)
        bar.addSeparator()
        bar.addAction(self.act_flag)
        bar.addAction(self.act_unflag)

    # ------------------------------------------------------------------ helpers

    def _count_text(self, count: int) -> str:
        if self.is_mailbox:
            return (self.tr("%n e-mail", "", count) if count == 1
                    else self.tr("%n e-mails", "", count))
        return (self.tr("%n message", "", count) if count == 1
                else self.tr("%n messages", "", count))

    def artefact_sha256(self, name: str) -> str:
        return self._hashes.get(name, "") if name else ""

    def selected_rows(self) -> list[int]:
        return sorted({i.row() for i in self.view.selectionModel().selectedRows()})

    def select_row(self, row: int, *, extend: bool = False) -> None:
        if not 0 <= row < self.model.rowCount():
            return
        index = self.model.index(row, 0)
        flags = (QItemSelectionModel.SelectionFlag.Select if extend
                 else QItemSelectionModel.SelectionFlag.ClearAndSelect)
        self.view.selectionModel().setCurrentIndex(
            index, flags | QItemSelectionModel.SelectionFlag.Rows)
        self.view.scroll_to_row(row, QAbstractItemView.ScrollHint.PositionAtCenter)

    def show_message(self, row: int, *, context: bool = False) -> None:
        """Scroll to one message and select it; with ``context``, highlight the
        messages around it as the timeline and the report show them."""
        if context:
            self.model.set_highlighted(range(row - CONTEXT_MESSAGES, row + CONTEXT_MESSAGES + 1))
        self.select_row(row)

    def _selection_changed(self, *_args: object) -> None:
        rows = self.selected_rows()
        self.act_flag.setEnabled(bool(rows))
        self.act_unflag.setEnabled(any(self.model.flag(r) is not None for r in rows))
        self.act_copy.setEnabled(bool(rows))

    def _email_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if self.email is not None:
            self.email.show_message(self.model.message(current.row())
                                    if current.isValid() else None)

    def _locked(self) -> None:
        self.model.clear()
        self.delegate.forget()
        if self.email is not None:
            self.email.show_message(None)
        self.close()

    def closeEvent(self, event: QCloseEvent) -> None:
        """Closed (by the person, or with the main window as the vault locks): nothing
        decrypted stays behind in it."""
        self.model.clear()
        self.delegate.forget()
        if self.email is not None:
            self.email.show_message(None)
        try:
            self.session.locked.disconnect(self._locked)
            self.session.messages_flagged.disconnect(self._flags_changed)
            self.session.captures_changed.disconnect(self._items_changed)
        except (RuntimeError, TypeError):
            pass
        super().closeEvent(event)

    def _items_changed(self) -> None:
        """The item was deleted (or moved): a deleted one's window closes."""
        if self.session.is_unlocked and self.model.rowCount() \
                and self.session.message_count(self.item_id) == 0:
            self.model.clear()
            self.delegate.forget()
            self.close()

    def _flags_changed(self, item_id: int) -> None:
        if item_id == self.item_id and self.session.is_unlocked:
            self.model.reload_flags()
            self._selection_changed()

    # ------------------------------------------------------------------ search and dates

    def _search_edited(self, text: str) -> None:
        if not text.strip():
            self._matches = []
            self._search_text = ""
            self._searching = False
            self.model.set_highlighted(())
            self.statusBar().showMessage(self._count_text(self.model.rowCount()))

    def find_next(self) -> int | None:
        """Select the next message holding the search text (Enter again: the one after).

        A new search text is looked for in the background (a common word may match all
        of 100,000 messages); the first match is selected when it is found."""
        text = self.search.text().strip()
        if not text:
            return None
        if text != self._search_text:
            self._search_text = text
            self._matches = []
            self._searching = True
            self.statusBar().showMessage(self.tr("Searching…"))
            session, item, window = self.session, self.item_id, weakref.ref(self)

            def found(matches: list[int]) -> None:
                me = window()
                if me is None or not shiboken6.isValid(me) or me._search_text != text:
                    return
                me._searching = False
                me._matches = matches
                me.model.set_highlighted(matches)
                me._go_to_next_match()

            def failed(exc: EvidenceError) -> None:
                me = window()
                if me is not None and shiboken6.isValid(me) and me._search_text == text:
                    me._searching = False
                    me._search_text = ""
                    me.statusBar().showMessage(error_text(exc))

            run_task(lambda _progress: session.matching_messages(item, text),
                     on_success=found, on_failure=failed)
            return None
        if self._searching:
            return None
        return self._go_to_next_match()

    def searching(self) -> bool:
        return self._searching

    def _go_to_next_match(self) -> int | None:
        text = self._search_text
        if not self._matches:
            self.statusBar().showMessage(self.tr("No message holds “{text}”.").format(text=text))
            return None
        current = self.view.currentIndex().row() if self.view.currentIndex().isValid() else -1
        position = bisect.bisect_right(self._matches, current)  # matches are in order
        if position == len(self._matches):
            position = 0  # past the last: round to the first
        row = self._matches[position]
        self.select_row(row)
        number = position + 1
        self.statusBar().showMessage(self.tr("Match {number} of {total}").format(
            number=number, total=len(self._matches)))
        return row

    def jump_to_date(self) -> int | None:
        """Scroll to the first message sent on or after the chosen day (midnight on the
        clock the times are shown on)."""
        day = self.date.date().toPython()
        assert isinstance(day, date) and not isinstance(day, datetime)
        when = datetime.combine(day, time(), tzinfo=self.zone)
        row = self.session.first_message_at(self.item_id, when)
        if row is None:
            self.statusBar().showMessage(self.tr("No message was sent on or after that day."))
            return None
        self.select_row(row)
        return row

    # ------------------------------------------------------------------ flags

    def flag_selected(self) -> list[int]:
        rows = self.selected_rows()
        if not rows:
            messages.info(self, self.tr("Choose messages"),
                          self.tr("Select one or more messages first (hold Ctrl or Shift to "
                                  "choose several)."))
            return []
        first = self.model.flag(rows[0])
        dialog = FlagDialog(len(rows), self, category=first.category if first else "",
                            note=first.note if first else "")
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return []
        category, note = dialog.chosen()
        try:
            done = self.session.flag_messages(self.item_id, rows, category=category, note=note)
        except EvidenceError as exc:
            messages.error(self, self.tr("Not flagged"), error_text(exc))
            return []
        self.statusBar().showMessage(
            (self.tr("Flagged %n message. It is recorded in the audit log.", "", len(done))
             if len(done) == 1 else
             self.tr("Flagged %n messages. They are recorded in the audit log.", "", len(done))),
            8000)
        return done

    def unflag_selected(self) -> list[int]:
        rows = [r for r in self.selected_rows() if self.model.flag(r) is not None]
        if not rows:
            return []
        try:
            done = self.session.unflag_messages(self.item_id, rows)
        except EvidenceError as exc:
            messages.error(self, self.tr("Flag not removed"), error_text(exc))
            return []
        self.statusBar().showMessage(
            self.tr("Removed the flag from %n message.", "", len(done)) if len(done) == 1
            else self.tr("Removed the flag from %n messages.", "", len(done)), 8000)
        return done

    def copy_selected(self) -> None:
        texts = []
        for row in self.selected_rows()[:1000]:
            message = self.model.message(row)
            if message is not None:
                texts.append(self.model.spoken(message))
        if texts:
            clipboard = QGuiApplication.clipboard()
            clipboard.setText("\n".join(texts))

    def _context_menu(self, pos: Any) -> None:
        index = self.view.indexAt(pos)
        if index.isValid() and index.row() not in self.selected_rows():
            self.view.selectionModel().select(
                QItemSelection(index, index),
                QItemSelectionModel.SelectionFlag.ClearAndSelect
                | QItemSelectionModel.SelectionFlag.Rows)
        menu = QMenu(self)
        menu.addActions([self.act_flag, self.act_unflag, self.act_copy, self.act_pictures])
        message = self.model.message(index.row()) if index.isValid() else None
        if message is not None:
            kept = [a for a in message.attachments if a.artefact]
            if kept:
                menu.addSeparator()
            for attachment in kept:
                action = menu.addAction(self.tr("Save a copy of {name}…").format(
                    name=attachment.name))
                action.triggered.connect(lambda _=False, a=attachment: self.save_attachment(a))
        menu.exec(self.view.viewport().mapToGlobal(pos))
        menu.deleteLater()

    # ------------------------------------------------------------------ attachments

    def _attachment_clicked(self, row: int, number: int) -> None:
        message = self.model.message(row)
        if message is None or number >= len(message.attachments):
            return
        attachment = message.attachments[number]
        if attachment.omitted or not attachment.artefact:
            self.statusBar().showMessage(
                self.tr("This file is not in the export, so there is nothing to show."), 6000)
            return
        if is_picture(attachment):
            if not self.delegate.is_revealed(row, number):
                self.reveal_picture(row, number)
            else:
                self.show_picture(attachment)
            return
        self.save_attachment(attachment)

    def show_picture(self, attachment: MessageAttachment) -> QDialog | None:
        """A shown picture, whole, in a window of its own (zoom and pan as for captures)."""
        try:
            data = self.session.artefact_bytes(self.item_id, attachment.artefact)
        except EvidenceError as exc:
            messages.error(self, self.tr("Picture not shown"), error_text(exc))
            return None
        dialog = QDialog(self)
        dialog.setWindowTitle(visible(attachment.name))
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        layout = QVBoxLayout(dialog)
        view = ImageView()
        view.set_image(data)
        layout.addWidget(view)
        dialog.resize(800, 600)
        self.session.locked.connect(dialog.close)
        dialog.show()
        return dialog

    def reveal_selected_pictures(self) -> int:
        """Show the pictures of the chosen messages (the keyboard's way to click them)."""
        shown = 0
        for row in self.selected_rows()[:50]:
            message = self.model.message(row)
            for number, attachment in enumerate(message.attachments if message else []):
                if is_picture(attachment) and not self.delegate.is_revealed(row, number):
                    shown += self.reveal_picture(row, number)
        return shown

    def reveal_picture(self, row: int, number: int) -> bool:
        """Show a picture the person clicked: it stays hidden until then (it may be
        upsetting)."""
        message = self.model.message(row)
        if message is None or number >= len(message.attachments):
            return False
        try:
            data = self.session.artefact_bytes(self.item_id, message.attachments[number].artefact)
        except EvidenceError as exc:
            messages.error(self, self.tr("Picture not shown"), error_text(exc))
            return False
        image = QImage.fromData(data)
        if image.isNull():
            self.statusBar().showMessage(self.tr("This picture could not be read."), 6000)
            return False
        if image.width() > PICTURE_BOX.width() or image.height() > PICTURE_BOX.height():
            image = image.scaled(PICTURE_BOX, Qt.AspectRatioMode.KeepAspectRatio,
                                 Qt.TransformationMode.SmoothTransformation)
        self.delegate.reveal(row, number, QPixmap.fromImage(image))
        index = self.model.index(row, 0)
        self.model.dataChanged.emit(index, index, [])
        self.view.measure_visible()
        return True

    def save_attachment(self, attachment: MessageAttachment) -> None:
        if not attachment.artefact:
            return
        target = filedialogs.save_file(self, self.tr("Save a copy"), attachment.artefact,
                                       self.tr("All files (*)"))
        if target is None:
            return

        def saved(path: object) -> None:
            self.statusBar().showMessage(self.tr("Saved a copy as {name}.").format(
                name=getattr(path, "name", "")), 6000)

        def failed(exc: EvidenceError) -> None:
            messages.error(self, self.tr("Copy not saved"), error_text(exc))

        self.session.save_artefact_copy(self.item_id, attachment.artefact, target, saved, failed)


def make_plain_everywhere(window: ConversationWindow) -> None:
    """Every label of the window shows its text as characters (export words are hostile)."""
    for label in window.findChildren(QLabel):
        make_plain(label)


__all__ = ["ConversationWindow", "EmailPane", "FlagDialog", "dkim_text",
           "make_plain_everywhere"]
