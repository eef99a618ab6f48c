"""The vault's audit log, read-only, newest last: every action on the evidence.

Each entry is shown as one sentence a worried, non-technical reader follows ("Capture
12 edited: site Facebook → Instagram") with one local time; the UTC instant is in the
time's tooltip and the entry exactly as recorded (action, subject, JSON details, hash)
is in the "Technical details" pane under the table, for an investigator. Everything
shown comes from the log, which holds what people typed and what files were called,
so it is always shown as plain text, never as markup.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QCoreApplication,
    QModelIndex,
    QPersistentModelIndex,
    QSize,
    Qt,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from evidence_recorder.core import fields
from evidence_recorder.core.i18n import QT_TRANSLATE_NOOP
from evidence_recorder.core.model import AuditEntry, parse_iso_utc
from evidence_recorder.ui.geometry import remember_geometry
from evidence_recorder.ui.i18n import field_text
from evidence_recorder.ui.plain import tooltip
from evidence_recorder.ui.wording import category_label, format_short, format_utc

# Short names of actions (kept for anything that lists actions, and as the fallback
# when an entry's details cannot be read); the sentences are made in entry_sentence.
ACTION_LABELS = {
    "vault.created": QT_TRANSLATE_NOOP("AuditModel", "Vault created"),
    "vault.unlocked": QT_TRANSLATE_NOOP("AuditModel", "Vault unlocked"),
    "vault.locked": QT_TRANSLATE_NOOP("AuditModel", "Vault locked"),
    "capture.added": QT_TRANSLATE_NOOP("AuditModel", "Capture added"),
    "capture.edited": QT_TRANSLATE_NOOP("AuditModel", "Details changed"),
    "capture.deleted": QT_TRANSLATE_NOOP("AuditModel", "Capture deleted"),
    "capture.extracted": QT_TRANSLATE_NOOP("AuditModel", "Original saved to a file"),
    "annotation.changed": QT_TRANSLATE_NOOP("AuditModel", "Highlights or redactions changed"),
    "incident.created": QT_TRANSLATE_NOOP("AuditModel", "Incident created"),
    "incident.edited": QT_TRANSLATE_NOOP("AuditModel", "Incident changed"),
    "passphrase.changed": QT_TRANSLATE_NOOP("AuditModel", "Passphrase changed"),
    "passphrase.recovered": QT_TRANSLATE_NOOP("AuditModel", "Opened with recovery key"),
    "keys.changed": QT_TRANSLATE_NOOP("AuditModel", "All keys changed"),
    "export": QT_TRANSLATE_NOOP("AuditModel", "Exported"),
    "export.failed": QT_TRANSLATE_NOOP("AuditModel", "An export did not finish"),
    "vault.backup": QT_TRANSLATE_NOOP("AuditModel", "Backup copy made"),
    "bundle.received": QT_TRANSLATE_NOOP("AuditModel", "Received report kept"),
    "bundle.deleted": QT_TRANSLATE_NOOP("AuditModel", "Received report deleted"),
    # Written once, when a vault made by an older version is first opened by this one.
    "pictures.recorded": QT_TRANSLATE_NOOP("AuditModel", "Thumbnail and report pictures recorded"),
    "signing_key.recorded": QT_TRANSLATE_NOOP("AuditModel", "Signing key recorded"),
    "vault.history_behind": QT_TRANSLATE_NOOP("AuditModel",
                                              "Found older than last seen on this computer"),
    "vault.history_accepted": QT_TRANSLATE_NOOP("AuditModel", "Older copy kept on purpose"),
    "vault.restored": QT_TRANSLATE_NOOP("AuditModel", "Restored from a backup"),
    "browser.signin_kept": QT_TRANSLATE_NOOP("AuditModel", "Browser sign-in kept"),
    "browser.signin_forgotten": QT_TRANSLATE_NOOP("AuditModel", "Browser sign-in forgotten"),
    "message.flagged": QT_TRANSLATE_NOOP("AuditModel", "Messages flagged"),
    "message.unflagged": QT_TRANSLATE_NOOP("AuditModel", "Flags removed from messages"),
}

# What an incident's details are called, lower case for a sentence; a capture's
# details are called as core/fields.py names them inside a sentence.
FIELD_NAMES = {
    "title": QT_TRANSLATE_NOOP("AuditModel", "title"),
    "started_at": QT_TRANSLATE_NOOP("AuditModel", "start date"),
}

# Values chosen from a list rather than typed: shown as they are, not quoted.
_CHOSEN = frozenset({fields.Value.SITE, fields.Value.CATEGORY})
_SHORT = 40  # characters of a typed value quoted in a sentence; the details pane has all
_Index = QModelIndex | QPersistentModelIndex


def _tr(text: str) -> str:
    return QCoreApplication.translate("AuditModel", text)


def _quote(value: Any) -> str:
    """A value someone typed, on one line and short, in quotes; "(empty)" for nothing."""
    text = " ".join(str(value if value is not None else "").split())
    if not text:
        return _tr("(empty)")
    if len(text) > _SHORT:
        text = text[: _SHORT - 1].rstrip() + "…"
    return _tr("“{text}”").format(text=text)


def _field(name: str) -> str:
    declared = fields.BY_NAME.get(name)
    if declared is not None:
        return field_text(declared.short)
    return _tr(FIELD_NAMES[name]) if name in FIELD_NAMES else name


class _Sentences:
    """Sentences for entries; ``titles`` names incidents by number where known."""

    def __init__(self, titles: Mapping[int, str]) -> None:
        self.titles = titles

    def incident(self, number: Any) -> str:
        title = self.titles.get(number) if isinstance(number, int) else None
        if title:
            return _tr("incident {number} ({title})").format(number=number, title=_quote(title))
        return _tr("incident {number}").format(number=number)

    def change(self, name: str, change: Any) -> str:
        old, new = (change.get("old"), change.get("new")) if isinstance(change, dict) \
            else (None, None)
        if name == "category":
            old, new = category_label(str(old or "")), category_label(str(new or ""))
        declared = fields.BY_NAME.get(name)
        if declared is not None and not declared.quoted_in_log:  # long texts: say it changed
            return _tr("{field} changed").format(field=_field(name))
        if name == "incident":
            return _tr("moved from {old} to {new}").format(old=self.incident(old),
                                                           new=self.incident(new))
        if declared is not None and declared.value in _CHOSEN:
            return _tr("{field} {old} → {new}").format(
                field=_field(name), old=old or _tr("(empty)"), new=new or _tr("(empty)"))
        return _tr("{field} {old} → {new}").format(field=_field(name), old=_quote(old),
                                                   new=_quote(new))

    def changes(self, changes: Any) -> str:
        if not isinstance(changes, dict) or not changes:
            raise TypeError("no changes")
        return "; ".join(self.change(str(name), change) for name, change in changes.items())

    def sentence(self, e: AuditEntry) -> str:
        d = e.details
        maker: Callable[[], str] | None = {
            "vault.created": lambda: _tr("Vault created"),
            "vault.unlocked": lambda: (
                _tr("Vault unlocked with the recovery key") if d.get("with") == "recovery key"
                else _tr("Vault unlocked with the passphrase")),
            "vault.locked": lambda: {
                "locked by you": _tr("Vault locked"),
                "idle": _tr("Vault locked (nobody used it for a while)"),
                "session locked": _tr("Vault locked (the computer was locked or went to "
                                      "sleep)"),
                "closing": _tr("Vault locked (the app was closed)"),
            }.get(str(d.get("how")), _tr("Vault locked")),
            "capture.added": lambda: _tr("Capture {capture} added to {incident}").format(
                capture=d["capture"], incident=self.incident(d["incident"])),
            "capture.edited": lambda: _tr("Capture {capture} edited: {changes}").format(
                capture=d["capture"], changes=self.changes(d["changes"])),
            "capture.deleted": lambda: _tr("Capture {capture} deleted: reason {reason}").format(
                capture=d["capture"], reason=_quote(d["reason"])),
            "capture.extracted": lambda: (
                _tr("{file} of capture {capture} saved to a file").format(
                    file=_quote(d["artefact"]), capture=d["capture"]) if d.get("artefact")
                else _tr("Original of capture {capture} saved to a file").format(
                    capture=d["capture"])),
            "annotation.changed": lambda: (
                _tr("Highlights and redactions on capture {capture} changed") if d["sha256"]
                else _tr("Highlights and redactions on capture {capture} removed")).format(
                capture=d["capture"]),
            "incident.created": lambda: _tr("Incident {incident} created: {title}").format(
                incident=d["incident"], title=_quote(d["title"])),
            "incident.edited": lambda: _tr("Incident {incident} changed: {changes}").format(
                incident=d["incident"], changes=self.changes(d["changes"])),
            "passphrase.changed": lambda: _tr("Passphrase changed"),
            "passphrase.recovered": lambda: _tr("Opened with the recovery key; a new passphrase "
                                                "was set"),
            "keys.changed": lambda: _tr("All keys changed"),
            "export": lambda: self.export(d),
            "export.failed": lambda: _tr("A report export did not finish; no report was made"),
            "vault.backup": lambda: _tr("Backup copy made: {file}").format(
                file=_quote(d["file_name"])),
            "bundle.received": lambda: _tr("Received report {file} kept in the vault").format(
                file=_quote(d["file_name"])),
            "bundle.deleted": lambda: _tr("Received report {number} deleted: reason "
                                          "{reason}").format(number=d["received"],
                                                             reason=_quote(d["reason"])),
            "pictures.recorded": lambda: _tr("Thumbnail and report pictures of capture "
                                             "{capture} recorded").format(capture=d["capture"]),
            "signing_key.recorded": lambda: _tr("The vault's signing key recorded"),
            "vault.history_behind": lambda: _tr("This vault was found older than the copy last "
                                                "seen on this computer"),
            "vault.history_accepted": lambda: _tr("The older copy was kept on purpose"),
            "vault.restored": lambda: _tr("Vault restored from a backup"),
            "browser.signin_kept": lambda: _tr("The capture browser's sign-in was kept in the "
                                               "vault"),
            "browser.signin_forgotten": lambda: _tr("The capture browser's sign-in was "
                                                    "forgotten"),
            "message.flagged": lambda: _tr("Messages {messages} of capture {capture} flagged"
                                           ).format(messages=_numbers(d["messages"]),
                                                    capture=d["capture"]),
            "message.unflagged": lambda: _tr("Flags removed from messages {messages} of capture "
                                             "{capture}").format(
                messages=_numbers(d["messages"]), capture=d["capture"]),
        }.get(e.action)
        if maker is not None:
            try:
                return maker()
            except (KeyError, TypeError, ValueError, AttributeError):
                pass  # details not as expected: the short name, the rest in the details pane
        if e.action in ACTION_LABELS:
            return _tr(ACTION_LABELS[e.action])
        return _tr("Other action: {action}").format(action=e.action)

    def export(self, d: dict[str, Any]) -> str:
        count = len(d["captures"])
        who = {"headteacher": _tr("for the headteacher"),
               "police": _tr("for the police")}.get(str(d.get("audience")), "")
        many = (QCoreApplication.translate("AuditModel", "%n capture", "", count) if count == 1
                else QCoreApplication.translate("AuditModel", "%n captures", "", count))
        inside = f"{many}, {who}" if who else many
        return _tr("Report exported ({inside})").format(inside=inside)


def _numbers(values: Any) -> str:
    """Message numbers as a short list ("3, 4, 9", "3, 4, 5 … and 40 more")."""
    numbers = [str(v) for v in values] if isinstance(values, list) else [str(values)]
    if len(numbers) > 12:
        return _tr("{first} … and {more} more").format(first=", ".join(numbers[:10]),
                                                       more=len(numbers) - 10)
    return ", ".join(numbers)


def entry_sentence(entry: AuditEntry, titles: Mapping[int, str] | None = None) -> str:
    """One entry as a sentence: "Capture 12 edited: site Facebook → Instagram"."""
    return _Sentences(titles or {}).sentence(entry)


def technical_details(entry: AuditEntry) -> str:
    """The entry exactly as recorded, for an investigator."""
    details = json.dumps(entry.details, ensure_ascii=False, sort_keys=True, indent=2)
    return _tr("Entry {seq} · {action} · {subject}\nRecorded {at}\nHash {hash}\n"
               "Previous {prev}\n{details}").format(
        seq=entry.seq, action=entry.action, subject=entry.subject, at=entry.at,
        hash=entry.hash, prev=entry.prev_hash, details=details)


def _when(recorded: str) -> tuple[str, str]:
    """The entry's time on this computer's clock, and the UTC instant for its tooltip."""
    try:
        moment = parse_iso_utc(recorded)
    except (ValueError, OverflowError):
        return recorded, recorded
    return format_short(moment.astimezone()), format_utc(moment)


class AuditModel(QAbstractTableModel):
    HEADERS = ("#", QT_TRANSLATE_NOOP("AuditModel", "When"),
               QT_TRANSLATE_NOOP("AuditModel", "What happened"))

    def __init__(self, entries: list[AuditEntry], parent: QWidget | None = None,
                 incident_titles: Mapping[int, str] | None = None) -> None:
        super().__init__(parent)
        self._entries = entries
        self._sentences = _Sentences(incident_titles or {})

    def entry_at(self, row: int) -> AuditEntry:
        return self._entries[row]

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._entries)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.tr(self.HEADERS[section])
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or role not in (Qt.ItemDataRole.DisplayRole,
                                               Qt.ItemDataRole.ToolTipRole):
            return None
        e = self._entries[index.row()]
        column = index.column()
        if column == 0:
            return str(e.seq)
        if column == 1:
            local, utc = _when(e.at)
            return local if role == Qt.ItemDataRole.DisplayRole else utc
        sentence = self._sentences.sentence(e)
        if role == Qt.ItemDataRole.ToolTipRole:
            # Sentences quote what people typed and files' names: never markup.
            return tooltip(sentence + "\n\n" + self.tr("Technical details are shown below "
                                                       "the list."))
        return sentence


class AuditDialog(QDialog):
    def __init__(self, entries: list[AuditEntry], parent: QWidget | None = None,
                 incident_titles: Mapping[int, str] | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Audit log"))
        layout = QVBoxLayout(self)
        intro = QLabel(self.tr("Every action on your evidence, in order. Each entry's hash covers "
                               "the one before it, so any change to the log can be detected (Vault "
                               "▸ Verify vault)."))
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.table = QTableView()
        self.model = AuditModel(entries, self, incident_titles)
        self.table.setModel(self.model)
        self.table.setAccessibleName(self.tr("Audit log entries"))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setStretchLastSection(True)
        for column in (0, 1):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.details = QPlainTextEdit()  # plain text: whatever the log holds, as characters
        self.details.setReadOnly(True)
        self.details.setAccessibleName(self.tr("Technical details"))
        self.details.setPlaceholderText(self.tr("Technical details: choose an entry to see it "
                                                "exactly as recorded."))
        self.details.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.table)
        split.addWidget(self.details)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 1)
        layout.addWidget(split, 1)
        self.table.selectionModel().currentRowChanged.connect(self._show_details)
        self.table.scrollToBottom()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self._geometry = remember_geometry(self, "audit", QSize(1000, 560), [split])

    def _show_details(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if not current.isValid():
            self.details.clear()
            return
        self.details.setPlainText(technical_details(self.model.entry_at(current.row())))
