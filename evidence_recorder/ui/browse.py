"""Pieces of the main window's browsing area: what an empty view says, the incident
chooser for moving captures, and timeline columns sized to what they show.

Kept apart from ``main_window`` so that the window only wires them in.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from evidence_recorder.core.model import Incident
from evidence_recorder.ui.models import Column, column_title
from evidence_recorder.ui.plain import make_plain


class EmptyOverlay(QWidget):
    """A centred message over a view's empty area ("No captures match"), with a button.

    It sits on the view's viewport and follows its size; it takes no clicks outside its
    button, so the view stays usable beneath it.
    """

    clear_requested = Signal()

    def __init__(self, view: QAbstractItemView) -> None:
        super().__init__(view.viewport())
        self._view = view
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        self.label = QLabel()
        make_plain(self.label)
        self.label.setWordWrap(True)
        self.label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.label.setStyleSheet("color: palette(placeholder-text); font-size: 12pt;")
        layout.addWidget(self.label)
        self.button = QPushButton(self.tr("Clear search and filters"))
        self.button.clicked.connect(self.clear_requested)
        layout.addWidget(self.button, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addStretch(1)
        view.viewport().installEventFilter(self)
        self.hide()

    def show_message(self, text: str | None, *, offer_clear: bool = False) -> None:
        """Show ``text`` (None hides the overlay); ``offer_clear`` shows the button."""
        if not text:
            self.hide()
            return
        self.label.setText(text)
        self.button.setVisible(offer_clear)
        self.setGeometry(self._view.viewport().rect())
        self.show()
        self.raise_()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Resize:
            self.setGeometry(self._view.viewport().rect())
        return False


class IncidentChooser(QDialog):
    """Which incident the chosen captures go to."""

    def __init__(self, incidents: Sequence[Incident], count: int,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Move to incident"))
        layout = QVBoxLayout(self)
        text = (self.tr("Move %n capture to this incident:", "", count) if count == 1
                else self.tr("Move %n captures to this incident:", "", count))
        label = QLabel(text)
        layout.addWidget(label)
        self.combo = QComboBox()
        self.combo.setAccessibleName(self.tr("Incident"))
        for incident in incidents:
            self.combo.addItem(incident.title, incident.id)
            self.combo.setItemData(self.combo.count() - 1, incident.title,
                                   Qt.ItemDataRole.ToolTipRole)
        label.setBuddy(self.combo)
        layout.addWidget(self.combo)
        note = QLabel(self.tr("The move is recorded in the audit log."))
        layout.addWidget(note)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        ok = buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setText(self.tr("Move"))
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def incident_id(self) -> int | None:
        value = self.combo.currentData()
        return value if isinstance(value, int) else None


def choose_incident(parent: QWidget, incidents: Sequence[Incident], count: int) -> int | None:
    """Ask where to move ``count`` captures; None when cancelled. (Tests replace this.)"""
    dialog = IncidentChooser(incidents, count, parent)
    try:
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return None
        return dialog.incident_id()
    finally:
        dialog.deleteLater()


# A column no wider than this, however long its longest text; the last one stretches.
COLUMN_CAP = 320
COLUMN_SAMPLE = 400  # rows looked at; a vault of ten thousand must not measure them all


def fit_timeline_columns(view: QTableView) -> None:
    """Size the text columns to their content (the first rows, up to a cap).

    Measured from the model's display text with the view's font, never through
    ``resizeColumnsToContents``, which would ask every row for its thumbnail. The
    time column keeps its width (it holds the thumbnail too); the last one stretches.
    """
    model = view.model()
    header = view.horizontalHeader()
    if model is None:
        return
    metrics = view.fontMetrics()
    title_metrics = header.fontMetrics()
    rows = min(model.rowCount(), COLUMN_SAMPLE)
    last = model.columnCount() - 1
    for column in range(Column.POSTED, last):
        title = title_metrics.horizontalAdvance(column_title(Column(column))) + 36
        widest = 0
        for row in range(rows):
            text = model.index(row, column).data(Qt.ItemDataRole.DisplayRole)
            if text:
                widest = max(widest, metrics.horizontalAdvance(str(text)))
        header.resizeSection(column, max(title, min(widest + 20, COLUMN_CAP)))
    header.setStretchLastSection(True)
