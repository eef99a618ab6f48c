"""The settings window, built from the declared options in :mod:`core.settings`."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from evidence_recorder.core import settings as options
from evidence_recorder.core.settings import Option, Settings


def _label(option: Option[Any]) -> str:
    """A setting's label (British English in core), in the user's language."""
    return QCoreApplication.translate("Settings", option.label)


class SettingsDialog(QDialog):
    def __init__(self, settings: Settings, incidents: list[tuple[int, str]],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.setWindowTitle(self.tr("Settings"))
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.lock_enabled = QCheckBox(_label(options.IDLE_LOCK_ENABLED))
        self.lock_enabled.setChecked(settings.get(options.IDLE_LOCK_ENABLED))
        self.lock_minutes = QSpinBox()
        self.lock_minutes.setRange(options.IDLE_LOCK_MINUTES.minimum or 1,
                                   options.IDLE_LOCK_MINUTES.maximum or 240)
        self.lock_minutes.setSuffix(self.tr(" minutes"))
        self.lock_minutes.setValue(settings.get(options.IDLE_LOCK_MINUTES))
        self.lock_enabled.toggled.connect(self.lock_minutes.setEnabled)
        self.lock_minutes.setEnabled(self.lock_enabled.isChecked())
        self.delay = QComboBox()
        for seconds in options.CAPTURE_DELAY.choices:
            self.delay.addItem(self.tr("No delay") if not seconds
                               else self.tr("%n seconds", "", seconds), seconds)
        self.delay.setCurrentIndex(self.delay.findData(settings.get(options.CAPTURE_DELAY)))
        self.hide_box = QCheckBox(_label(options.HIDE_WHILE_CAPTURING))
        self.hide_box.setChecked(settings.get(options.HIDE_WHILE_CAPTURING))
        self.name = QLineEdit(settings.get(options.YOUR_NAME))
        self.role = QLineEdit(settings.get(options.YOUR_ROLE))
        self.role.setPlaceholderText(self.tr("e.g. Class teacher, Year 5"))
        self.incident = QComboBox()
        self.incident.addItem(self.tr("The one selected in the main window"), 0)
        for incident_id, title in incidents:
            self.incident.addItem(title, incident_id)
        index = self.incident.findData(settings.get(options.DEFAULT_INCIDENT))
        self.incident.setCurrentIndex(max(0, index))
        form.addRow(self.lock_enabled)
        form.addRow(_label(options.IDLE_LOCK_MINUTES), self.lock_minutes)
        form.addRow(_label(options.CAPTURE_DELAY), self.delay)
        form.addRow(self.hide_box)
        form.addRow(_label(options.YOUR_NAME), self.name)
        form.addRow(_label(options.YOUR_ROLE), self.role)
        form.addRow(_label(options.DEFAULT_INCIDENT), self.incident)
        for widget, name in ((self.lock_minutes, _label(options.IDLE_LOCK_MINUTES)),
                             (self.delay, _label(options.CAPTURE_DELAY)),
                             (self.name, _label(options.YOUR_NAME)),
                             (self.role, _label(options.YOUR_ROLE)),
                             (self.incident, _label(options.DEFAULT_INCIDENT))):
            widget.setAccessibleName(name)
        layout.addLayout(form)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def save(self) -> None:
        s = self.settings
        s.set(options.IDLE_LOCK_ENABLED, self.lock_enabled.isChecked())
        s.set(options.IDLE_LOCK_MINUTES, self.lock_minutes.value())
        s.set(options.CAPTURE_DELAY, int(self.delay.currentData()))
        s.set(options.HIDE_WHILE_CAPTURING, self.hide_box.isChecked())
        s.set(options.YOUR_NAME, self.name.text().strip()[:200])
        s.set(options.YOUR_ROLE, self.role.text().strip()[:200])
        s.set(options.DEFAULT_INCIDENT, int(self.incident.currentData()))
        self.accept()
