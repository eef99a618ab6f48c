"""Report bundles someone sent, kept in this vault exactly as they arrived.

They are opened from the vault (never copied back to disk) in the same viewer as a
bundle file, so the seal is checked afresh every time.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QLocale, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from evidence_recorder.core.errors import EvidenceError
from evidence_recorder.ui import messages
from evidence_recorder.ui.bundle_viewer import BundleViewer
from evidence_recorder.ui.i18n import error_text
from evidence_recorder.ui.session import VaultSession
from evidence_recorder.ui.wording import format_local_and_utc

if TYPE_CHECKING:
    from evidence_recorder.ui.session import ReceivedBundle

_viewers: set[BundleViewer] = set()


class ReceivedBundlesDialog(QDialog):
    def __init__(self, session: VaultSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.setWindowTitle(self.tr("Received bundles"))
        layout = QVBoxLayout(self)
        intro = QLabel(self.tr("Sealed reports that were sent to you and that you kept in this "
                               "vault, byte for byte. Opening one checks its seal again."))
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.table = QTableWidget(0, 5)
        self.table.setHorizontalHeaderLabels([self.tr("Received"), self.tr("File"),
                                              self.tr("Size"), self.tr("When kept"),
                                              self.tr("Sealed by key")])
        self.table.setAccessibleName(self.tr("Received bundles"))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.doubleClicked.connect(lambda _i: self.open_selected())
        layout.addWidget(self.table)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.open_button = buttons.addButton(self.tr("&Open"),
                                             QDialogButtonBox.ButtonRole.ActionRole)
        self.delete_button = buttons.addButton(self.tr("&Delete…"),
                                               QDialogButtonBox.ButtonRole.DestructiveRole)
        self.open_button.clicked.connect(self.open_selected)
        self.delete_button.clicked.connect(self.delete_selected)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.resize(860, 420)
        self.bundles: list[ReceivedBundle] = []
        self.reload()

    def reload(self) -> None:
        self.bundles = self.session.received_bundles()
        self.table.setRowCount(len(self.bundles))
        for row, kept in enumerate(self.bundles):
            verdict = self.tr("intact") if kept.verdict.get("ok") else self.tr("NOT intact")
            values = (format_local_and_utc(kept.received_at), kept.file_name,
                      QLocale().formattedDataSize(kept.byte_size, 1,
                                                  QLocale.DataSizeFormat.DataSizeSIFormat),
                      verdict, str(kept.verdict.get("fingerprint") or self.tr("unknown")))
            for column, value in enumerate(values):
                item = QTableWidgetItem(value)
                item.setData(Qt.ItemDataRole.UserRole, kept.id)
                self.table.setItem(row, column, item)
        has_rows = bool(self.bundles)
        self.open_button.setEnabled(has_rows)
        self.delete_button.setEnabled(has_rows)
        if has_rows:
            self.table.selectRow(0)

    def _selected(self) -> ReceivedBundle | None:
        row = self.table.currentRow()
        return self.bundles[row] if 0 <= row < len(self.bundles) else None

    def open_selected(self) -> BundleViewer | None:
        kept = self._selected()
        if kept is None:
            return None
        viewer = BundleViewer(None, opener=self.session.received_opener(kept.id))
        viewer.act_save.setVisible(False)  # it is already in the vault
        viewer.setWindowTitle(self.tr("Received bundle {id}: {file_name}").format(
            id=kept.id, file_name=kept.file_name))
        _viewers.add(viewer)
        viewer.destroyed.connect(lambda *_a, v=viewer: _viewers.discard(v))
        viewer.show()
        viewer.open_path(Path(kept.file_name))
        return viewer

    def delete_selected(self) -> None:
        kept = self._selected()
        if kept is None:
            return
        reason, ok = messages.get_text(  # plain: the file's name is the sender's
            self, self.tr("Delete received bundle"),
            self.tr("Delete “{file_name}” from your vault? Its fingerprint and your reason "
                    "stay in the audit log.\nWhy are you deleting it?")
            .format(file_name=kept.file_name))
        if not ok:
            return
        try:
            self.session.delete_received(kept.id, reason)
        except EvidenceError as exc:
            messages.error(self, self.tr("Not deleted"), error_text(exc))
            return
        self.reload()
