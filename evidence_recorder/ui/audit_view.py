"""The vault's audit log, read-only, newest last: every action on the evidence."""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from evidence_recorder.core.i18n import QT_TRANSLATE_NOOP
from evidence_recorder.core.model import AuditEntry, parse_iso_utc
from evidence_recorder.ui.models import format_local_and_utc
from evidence_recorder.ui.plain import tooltip

ACTION_LABELS = {
    "vault.created": QT_TRANSLATE_NOOP("AuditModel", "Vault created"),
    "vault.unlocked": QT_TRANSLATE_NOOP("AuditModel", "Vault unlocked"),
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
    # Written once, when a vault made by an older version is first opened by this one.
    "pictures.recorded": QT_TRANSLATE_NOOP("AuditModel", "Thumbnail and report pictures recorded"),
    "signing_key.recorded": QT_TRANSLATE_NOOP("AuditModel", "Signing key recorded"),
    "vault.history_behind": QT_TRANSLATE_NOOP("AuditModel",
                                              "Found older than last seen on this computer"),
    "vault.history_accepted": QT_TRANSLATE_NOOP("AuditModel", "Older copy kept on purpose"),
    "vault.restored": QT_TRANSLATE_NOOP("AuditModel", "Restored from a backup"),
}
_Index = QModelIndex | QPersistentModelIndex


def _when(recorded: str) -> str:
    """The entry's instant in the user's locale and zone, with UTC beside it."""
    try:
        moment = parse_iso_utc(recorded)
    except (ValueError, OverflowError):
        return recorded
    return format_local_and_utc(moment)


class AuditModel(QAbstractTableModel):
    HEADERS = ("#", QT_TRANSLATE_NOOP("AuditModel", "When"),
               QT_TRANSLATE_NOOP("AuditModel", "Action"), QT_TRANSLATE_NOOP("AuditModel", "About"),
               QT_TRANSLATE_NOOP("AuditModel", "Details"),
               QT_TRANSLATE_NOOP("AuditModel", "Entry hash"))

    def __init__(self, entries: list[AuditEntry], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._entries = entries

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
        details = json.dumps(e.details, ensure_ascii=False, sort_keys=True)
        values = (str(e.seq), _when(e.at),
                  self.tr(ACTION_LABELS[e.action]) if e.action in ACTION_LABELS else e.action,
                  e.subject.replace(":", " "),
                  details, e.hash[:16] + "…")
        if role == Qt.ItemDataRole.ToolTipRole:
            if index.column() == 1:
                return e.at  # the instant as recorded, ISO 8601 UTC
            # Details name files and bundles as they were called: never markup.
            return tooltip(details) if index.column() == 4 else e.hash
        return values[index.column()]


class AuditDialog(QDialog):
    def __init__(self, entries: list[AuditEntry], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Audit log"))
        layout = QVBoxLayout(self)
        intro = QLabel(self.tr("Every action on your evidence, in order. Each entry's hash covers "
                               "the one before it, so any change to the log can be detected (Vault "
                               "▸ Verify vault)."))
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.table = QTableView()
        self.table.setModel(AuditModel(entries, self))
        self.table.setAccessibleName(self.tr("Audit log entries"))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.resizeColumnsToContents()
        self.table.scrollToBottom()
        layout.addWidget(self.table)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.resize(1000, 560)
