"""Changing the passphrase, and changing all keys, from the Vault menu.

The passphrase dialog says plainly what a passphrase change does not revoke (old copies
of the vault and its key file still open with the old passphrase) and offers "Change
all keys" instead, which re-encrypts the vault and ends with the new recovery key,
shown once on the same page the vault's creation uses.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, Qt, Signal
from PySide6.QtGui import QCloseEvent, QShowEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QHBoxLayout,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from evidence_recorder.core.errors import EvidenceError, WrongSecret
from evidence_recorder.core.i18n import ERROR_CONTEXT
from evidence_recorder.core.passphrase import passphrase_problem
from evidence_recorder.ui import messages
from evidence_recorder.ui.i18n import error_text
from evidence_recorder.ui.passphrase_hints import StrengthMeter, _para
from evidence_recorder.ui.session import VaultSession
from evidence_recorder.ui.unlock import RecoveryKeyPage, _Page, _secret_field, _title


class _PassphraseForm(_Page):
    """Current passphrase, new passphrase twice, a strength bar, an error line and a progress
    bar."""

    submitted = Signal(str, str)

    def __init__(self, title: str, paragraphs: list[str], button: str) -> None:
        super().__init__()
        self.body.addWidget(_title(title))
        for text in paragraphs:
            self.body.addWidget(_para(text))
        self.current = _secret_field(self.tr("Current passphrase"))
        self.passphrase = _secret_field(self.tr("New passphrase"))
        self.confirm = _secret_field(self.tr("New passphrase again"))
        self.strength = StrengthMeter()
        self.hint = self.strength.label
        self.add_fields(((self.tr("&Current passphrase"), self.current),
                         (self.tr("&New passphrase"), self.passphrase),
                         (self.tr("Type it &again"), self.confirm)))
        self.watch_caps_lock(self.current, self.passphrase, self.confirm)
        self.body.addWidget(self.caps_warning)
        self.show_text = QCheckBox(self.tr("Show what I type"))
        self.show_text.toggled.connect(self._toggle_echo)
        self.body.addWidget(self.strength)
        self.body.addWidget(self.show_text)
        self.body.addWidget(self.error)
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)
        self.progress.setAccessibleName(self.tr("Progress"))
        self.progress.hide()
        self.body.addWidget(self.progress)
        self.buttons = QHBoxLayout()
        self.cancel_button = QPushButton(self.tr("Cancel"))
        self.ok_button = QPushButton(button)
        self.ok_button.setDefault(True)
        self.ok_button.clicked.connect(self._submit)
        self.buttons.addWidget(self.cancel_button)
        self.buttons.addStretch()
        self.buttons.addWidget(self.ok_button)
        self.body.addLayout(self.buttons)
        self.passphrase.textChanged.connect(self.strength.show_for)
        self.passphrase.textChanged.connect(self.content_changed)
        self.current.returnPressed.connect(self.passphrase.setFocus)
        self.passphrase.returnPressed.connect(self.confirm.setFocus)
        self.confirm.returnPressed.connect(self._submit)
        self.wait_with(self.progress, (self.current, self.passphrase, self.confirm,
                                       self.show_text, self.ok_button, self.cancel_button),
                       (self.current, self.passphrase, self.confirm), self.strength)

    def _toggle_echo(self, visible: bool) -> None:
        mode = QLineEdit.EchoMode.Normal if visible else QLineEdit.EchoMode.Password
        for field in (self.current, self.passphrase, self.confirm):
            field.setEchoMode(mode)

    def _submit(self) -> None:
        if not self.current.text():
            self.show_error(self.tr("Type your current passphrase first."))
            self.current.setFocus()
            return
        if problem := passphrase_problem(self.passphrase.text()):
            self.show_error(QCoreApplication.translate(ERROR_CONTEXT, problem))
            return
        if self.passphrase.text() != self.confirm.text():
            self.show_error(self.tr("The two new passphrases are not the same. Please type them "
                                    "again."))
            self.confirm.clear()
            self.confirm.setFocus()
            return
        self.show_error("")
        self.set_busy(True)
        self.submitted.emit(self.current.text(), self.passphrase.text())



class _KeysDialog(QDialog):
    """Shared: no closing (Escape goes through reject(), the title bar's X through
    closeEvent) while the change is running."""

    def __init__(self, parent: QWidget | None) -> None:
        super().__init__(parent)
        self.busy = False
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.setMinimumWidth(560)

    def showEvent(self, event: QShowEvent) -> None:
        # Wrapped paragraphs need their height worked out at the final width, or the
        # first one is cut off.
        super().showEvent(event)
        self.fit_height()

    def fit_height(self) -> None:
        """Grow to the height the wrapped text needs now (an error or a hint appeared)."""
        if (layout := self.layout()) is not None:
            layout.activate()
        self.resize(self.width(), max(self.height(), self.heightForWidth(self.width())))

    def reject(self) -> None:
        if not self.busy:
            super().reject()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.busy:
            event.ignore()
        else:
            super().closeEvent(event)


class ChangePassphraseDialog(_KeysDialog):
    """Change only the passphrase, and say what that leaves working."""

    change_all_keys_requested = Signal()

    def __init__(self, session: VaultSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.setWindowTitle(self.tr("Change passphrase"))
        self.form = _PassphraseForm(
            self.tr("Change your passphrase"),
            [self.tr("Only your passphrase changes: the vault stays as it is, and your recovery "
                     "key keeps working."),
             self.tr("Copies of your vault or its key file made before now (backups, old copies "
                     "on a USB stick) still open with the old passphrase. If someone may know "
                     "your old passphrase or have a copy, use Change all keys instead.")],
            self.tr("&Change passphrase"))
        self.form.setObjectName("changePassphraseForm")
        self.form.content_changed.connect(self.fit_height)
        self.all_keys_button = QPushButton(self.tr("Change &all keys instead…"))
        self.all_keys_button.clicked.connect(self._all_keys_instead)
        self.form.buttons.insertWidget(1, self.all_keys_button)
        self.form.cancel_button.clicked.connect(self.reject)
        self.form.submitted.connect(self._change)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.form)

    def _all_keys_instead(self) -> None:
        self.form.forget()
        self.reject()
        self.change_all_keys_requested.emit()

    def _change(self, current: str, new: str) -> None:
        self.busy = True
        self.all_keys_button.setEnabled(False)

        def done() -> None:
            self.busy = False
            self.form.forget()
            messages.info(self, self.tr("Passphrase changed"),
                          self.tr("Your passphrase has been changed. Use the new one from now "
                                  "on. Your recovery key still works as before."))
            self.accept()

        def failed(exc: EvidenceError) -> None:
            self.busy = False
            self.form.set_busy(False)
            self.all_keys_button.setEnabled(True)
            self.form.show_error(error_text(exc))
            if isinstance(exc, WrongSecret):
                self.form.current.clear()
                self.form.current.setFocus()

        self.session.change_passphrase(current, new, done, failed)


class ChangeAllKeysDialog(_KeysDialog):
    """Re-encrypt the vault under new keys, with progress, then show the new recovery key."""

    def __init__(self, session: VaultSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.setWindowTitle(self.tr("Change all keys"))
        self.form = _PassphraseForm(
            self.tr("Change all keys"),
            [self.tr("Use this if someone may know your passphrase or have a copy of your key "
                     "file. The whole vault is encrypted again with a new secret key, and you "
                     "choose a new passphrase and get a new recovery key. Afterwards, old copies "
                     "of the key file (vault.key) and your old recovery key no longer open this "
                     "vault."),
             self.tr("Backups made before now are separate copies: they still open with the old "
                     "passphrase and the old recovery key. Delete them, or keep them as safe as "
                     "the vault."),
             self.tr("It needs about as much free disk space as the vault takes, and may take a "
                     "few minutes for a large vault. If the computer stops part way, nothing is "
                     "lost: the next unlock finishes or undoes the change.")],
            self.tr("Change &all keys"))
        self.form.setObjectName("changeAllKeysForm")
        self.form.content_changed.connect(self.fit_height)
        self.form.cancel_button.clicked.connect(self.reject)
        self.form.submitted.connect(self._change)
        self.recovery_page = RecoveryKeyPage()
        self.recovery_page.body.insertWidget(1, _para(
            self.tr("All keys have been changed. Below is your new recovery key: the old one no "
                    "longer opens this vault. Use your new passphrase from now on.")))
        self.recovery_page.finished.connect(self._key_kept)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.form)
        self.stack.addWidget(self.recovery_page)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.stack)

    def reject(self) -> None:
        # The new recovery key is shown only once: it will not be clicked away.
        if self.stack.currentWidget() is self.recovery_page:
            return
        super().reject()

    def _key_kept(self) -> None:
        self.accept()
        self.session.keys_change_over()  # an idle lock held back meanwhile happens now

    def _change(self, current: str, new: str) -> None:
        self.busy = True
        self.form.progress.setRange(0, 0)

        def step(done_pages: int, total: int) -> None:
            self.form.progress.setRange(0, max(total, 1))
            self.form.progress.setValue(done_pages)

        def done(recovery_key: str) -> None:
            self.busy = False
            self.form.forget()
            self.form.set_busy(False)
            self.recovery_page.set_key(recovery_key)
            self.stack.setCurrentWidget(self.recovery_page)
            self.setWindowTitle(self.tr("All keys changed"))

        def failed(exc: EvidenceError) -> None:
            self.busy = False
            self.form.set_busy(False)
            self.form.show_error(error_text(exc))
            if isinstance(exc, WrongSecret):
                self.form.current.clear()
                self.form.current.setFocus()
            self.session.keys_change_over()

        self.session.change_all_keys(current, new, done, failed, step)


__all__ = ["ChangeAllKeysDialog", "ChangePassphraseDialog"]
