"""The time-stamping authorities this computer trusts, beyond the built-in lists.

A bundle's timestamp is called *trusted* only when the authority that made it leads to
a root certificate this computer relies on (see SECURITY.md). The built-in roots are
Mozilla's list and the system's; a school or police force may use an authority that is
on neither, and this window lets the person add that authority's root certificate, got
from the authority itself, or remove one they added. It needs no vault: the roots live
in the user's config folder, so the bundle viewer can offer it before any vault exists.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from evidence_recorder.core.errors import EvidenceError
from evidence_recorder.ui import filedialogs, messages
from evidence_recorder.ui.i18n import error_text
from evidence_recorder.ui.session import TrustedAuthorities


class AuthoritiesDialog(QDialog):
    """Lists the roots the person added; Add… and Remove change them at once."""

    def __init__(self, parent: QWidget | None = None,
                 authorities: TrustedAuthorities | None = None) -> None:
        super().__init__(parent)
        self.authorities = authorities or TrustedAuthorities()
        self.changed = False  # whether a bundle on show should be checked again
        self.setWindowTitle(self.tr("Time-stamping authorities"))
        self.setAccessibleName(self.tr("Time-stamping authorities"))
        self.resize(640, 420)

        intro = QLabel(self.tr(
            "A bundle's timestamp is called trusted only when the service that made it is "
            "one this computer trusts. Evidence Recorder already trusts the authorities on "
            "Mozilla's list and on this computer's own list.\n\n"
            "If a bundle's timestamp comes from another service (your school's or a police "
            "force's, say), you can add that service's root certificate here. Only add a "
            "certificate you got from the service itself, never one that came with a "
            "bundle: whoever made the bundle could have made that certificate too."))
        intro.setTextFormat(Qt.TextFormat.PlainText)
        intro.setWordWrap(True)

        self.model = QStandardItemModel(0, 3, self)
        self.model.setHorizontalHeaderLabels(
            [self.tr("Authority"), self.tr("Valid until"), self.tr("SHA-256 fingerprint")])
        self.view = QTreeView()
        self.view.setModel(self.model)
        self.view.setRootIsDecorated(False)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setAccessibleName(self.tr("Root certificates you added"))
        self.empty = QLabel(self.tr("You have not added any root certificates."))
        self.empty.setTextFormat(Qt.TextFormat.PlainText)

        self.add_button = QPushButton(self.tr("&Add a root certificate…"))
        self.add_button.setAccessibleName(self.tr("Add a root certificate"))
        self.add_button.clicked.connect(self.add)
        self.remove_button = QPushButton(self.tr("&Remove"))
        self.remove_button.setAccessibleName(self.tr("Remove the selected root certificate"))
        self.remove_button.clicked.connect(self.remove_selected)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        close = buttons.button(QDialogButtonBox.StandardButton.Close)
        close.setAccessibleName(self.tr("Close"))

        row = QHBoxLayout()
        row.addWidget(self.add_button)
        row.addWidget(self.remove_button)
        row.addStretch(1)
        row.addWidget(buttons)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.empty)
        layout.addLayout(row)
        self.view.selectionModel().selectionChanged.connect(self._update_buttons)
        self.reload()

    def reload(self) -> None:
        self.model.removeRows(0, self.model.rowCount())
        for root in self.authorities.imported():
            cells = [QStandardItem(root.subject),
                     QStandardItem(root.not_after.date().isoformat()),
                     QStandardItem(root.fingerprint)]
            for cell in cells:
                cell.setData(root.fingerprint, Qt.ItemDataRole.UserRole)
            cells[2].setToolTip(root.fingerprint)  # hex only: safe as a tooltip
            self.model.appendRow(cells)
        self.view.resizeColumnToContents(0)
        self.empty.setVisible(self.model.rowCount() == 0)
        self._update_buttons()

    def _update_buttons(self) -> None:
        self.remove_button.setEnabled(bool(self.view.selectionModel().selectedRows()))

    def add(self) -> None:
        paths = filedialogs.open_files(
            self, self.tr("Choose the authority's root certificate"),
            self.tr("Certificates (*.pem *.crt *.cer *.der);;All files (*)"))
        if paths:
            self.add_path(paths[0])

    def add_path(self, path: Path) -> None:
        try:
            added = self.authorities.add(path)
        except EvidenceError as exc:
            messages.warn(self, self.tr("Not added"), error_text(exc))
            return
        self.changed = True
        self.reload()
        names = "\n".join(f"{root.subject}\n{root.fingerprint}" for root in added)
        messages.info(self, self.tr("Root certificate added"),
                      self.tr("Timestamps from authorities under this root are now called "
                              "trusted on this computer. Check the fingerprint below with "
                              "the authority if you can."), names)

    def remove_selected(self) -> None:
        rows = self.view.selectionModel().selectedRows()
        if not rows:
            return
        fingerprint = str(rows[0].data(Qt.ItemDataRole.UserRole))
        subject = str(rows[0].data())
        if not messages.ask(self, self.tr("Remove root certificate"),
                            self.tr("Stop trusting this authority's timestamps on this "
                                    "computer?"), detail=f"{subject}\n{fingerprint}"):
            return
        try:
            self.authorities.remove(fingerprint)
        except EvidenceError as exc:
            messages.warn(self, self.tr("Not removed"), error_text(exc))
            return
        self.changed = True
        self.reload()
