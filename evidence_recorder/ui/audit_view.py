"""The vault's audit log, read-only, newest last: every action on the evidence."""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from evidence_recorder.core.model import AuditEntry

ACTION_LABELS = {
    "vault.created": "Vault created",
    "vault.unlocked": "Vault unlocked",
    "capture.added": "Capture added",
    "capture.edited": "Details changed",
    "capture.deleted": "Capture deleted",
    "capture.extracted": "Original saved to a file",
    "annotation.changed": "Highlights or redactions changed",
    "incident.created": "Incident created",
    "incident.edited": "Incident changed",
    "passphrase.changed": "Passphrase changed",
    "passphrase.recovered": "Opened with recovery key",
    "export": "Exported",
}
_Index = QModelIndex | QPersistentModelIndex


class AuditModel(QAbstractTableModel):
    HEADERS = ("#", "When (UTC)", "Action", "About", "Details", "Entry hash")

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
            return self.HEADERS[section]
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or role not in (Qt.ItemDataRole.DisplayRole,
                                               Qt.ItemDataRole.ToolTipRole):
            return None
        e = self._entries[index.row()]
        details = json.dumps(e.details, ensure_ascii=False, sort_keys=True)
        values = (str(e.seq), e.at.replace("T", " ").rstrip("Z"),
                  ACTION_LABELS.get(e.action, e.action), e.subject.replace(":", " "),
                  details, e.hash[:16] + "…")
        if role == Qt.ItemDataRole.ToolTipRole:
            return details if index.column() == 4 else e.hash
        return values[index.column()]


class AuditDialog(QDialog):
    def __init__(self, entries: list[AuditEntry], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Audit log")
        layout = QVBoxLayout(self)
        intro = QLabel("Every action on your evidence, in order. Each entry's hash covers the "
                       "one before it, so any change to the log can be detected "
                       "(Vault ▸ Verify vault).")
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.table = QTableView()
        self.table.setModel(AuditModel(entries, self))
        self.table.setAccessibleName("Audit log entries")
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
