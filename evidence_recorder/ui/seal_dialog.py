"""The person's own seal (Vault ▸ My seal), and the words every window uses for it.

A recipient trusts a report only once they have confirmed its seal with the sender by
phone, so the sender needs to find their seal at any time, not only in the message
after an export. The seal has two forms: the ``SHA256:…`` fingerprint that standard
tools print, and the seal number (twelve groups of five digits, core.sealnumber) that
is easy to read aloud. Copy always copies both, labelled.
"""

from __future__ import annotations

import html

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtGui import QFont, QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from evidence_recorder.ui.session import VaultSession, seal_number_rows

_CONTEXT = "Seal"


def seal_text(fingerprint: str, number: str | None) -> str:
    """Both forms of a seal, labelled, as Copy puts them on the clipboard."""
    if not number:
        return fingerprint
    return QCoreApplication.translate(_CONTEXT, "Fingerprint: {fingerprint}\nSeal number: "
                                      "{number}").format(fingerprint=fingerprint, number=number)


def seal_number_html(number: str) -> str:
    """The number in rows of four groups, in monospace; a group never breaks in two."""
    rows = "<br>".join(html.escape(row) for row in seal_number_rows(number))
    return f"<span style='font-family: monospace; font-weight: 600'>{rows}</span>"


def seal_number_lines(number: str) -> str:
    """The number as plain text in three rows of four groups."""
    return "\n".join(seal_number_rows(number))


class MySealDialog(QDialog):
    """The vault's seal in both forms, with Copy, and what to do with them."""

    def __init__(self, session: VaultSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("My seal"))
        self.setAccessibleName(self.tr("My seal"))
        self.fingerprint, self.number = session.my_seal()
        layout = QVBoxLayout(self)
        layout.setSpacing(8)

        intro = QLabel(self.tr("Every report you export is sealed with your vault's key. The "
                               "person you send a report to checks that it came from you by "
                               "comparing its seal with yours."))
        intro.setWordWrap(True)
        layout.addWidget(intro)

        mono = QFont("monospace")
        mono.setStyleHint(QFont.StyleHint.Monospace)
        layout.addWidget(self._caption(self.tr("Seal number")))
        self.number_label = self._value(seal_number_lines(self.number), self.tr("Seal number"))
        big = QFont(mono)
        big.setPointSizeF(max(self.font().pointSizeF(), 9.0) * 1.6)
        self.number_label.setFont(big)
        layout.addWidget(self.number_label)

        layout.addWidget(self._caption(self.tr("Fingerprint")))
        self.fingerprint_label = self._value(self.fingerprint, self.tr("Fingerprint"))
        self.fingerprint_label.setFont(mono)
        layout.addWidget(self.fingerprint_label)

        advice = QLabel(self.tr("Read these to the person you send a report to, by phone or in "
                                "person, so they can check that the report came from you. Never "
                                "send them in the same e-mail as the report."))
        advice.setWordWrap(True)
        advice.setAccessibleName(self.tr("What to do"))
        layout.addWidget(advice)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.copy_button = QPushButton(self.tr("&Copy both"))
        self.copy_button.setToolTip(self.tr("Copy the seal number and the fingerprint"))
        self.copy_button.setAccessibleName(self.tr("Copy the seal number and the fingerprint"))
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.copy_button.clicked.connect(self.copy)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def _caption(self, text: str) -> QLabel:
        label = QLabel(text)
        bold = QFont(label.font())
        bold.setBold(True)
        label.setFont(bold)
        return label

    def _value(self, text: str, name: str) -> QLabel:
        label = QLabel(text)
        label.setTextFormat(Qt.TextFormat.PlainText)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse
                                      | Qt.TextInteractionFlag.TextSelectableByKeyboard)
        label.setStyleSheet("padding: 8px; border: 1px solid palette(mid); "
                            "border-radius: 6px; background: palette(base);")
        label.setAccessibleName(name)
        return label

    def copy(self) -> None:
        QGuiApplication.clipboard().setText(seal_text(self.fingerprint, self.number))
        self.copy_button.setText(self.tr("Copied"))
