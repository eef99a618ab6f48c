"""The first screen: create the vault, or unlock it (with the passphrase or recovery key).

Written for someone who is upset and in a hurry: one thing per page, plain words,
and no way to lose the recovery key by clicking past it. The key prints to a real
printer on a one-page sheet; a PDF (a copy of the key on this computer) only after a
warning. A headteacher who was only sent a report opens it from the first page without
making a vault.

What the passphrase fields say while the user types (strength, Caps Lock) is in
:mod:`~evidence_recorder.ui.passphrase_hints`; the printed recovery key sheet is in
:mod:`~evidence_recorder.ui.recovery_sheet`.

A little over 600 lines: the four pages of one first-run flow and the window that steps
between them, sharing this module's small page helpers; what is not a page (the hints,
the printed sheet) already lives apart.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, Qt, Signal
from PySide6.QtGui import QFont, QKeySequence, QShortcut, QShowEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QProgressBar,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from evidence_recorder import APP_NAME
from evidence_recorder.core import fsutil
from evidence_recorder.core.errors import EvidenceError
from evidence_recorder.core.i18n import ERROR_CONTEXT
from evidence_recorder.core.passphrase import passphrase_problem
from evidence_recorder.ui import clipboard, filedialogs, messages, theme
from evidence_recorder.ui.i18n import error_text
from evidence_recorder.ui.passphrase_hints import CapsLockWatch, StrengthMeter, _para
from evidence_recorder.ui.plain import make_plain
from evidence_recorder.ui.recovery_sheet import (
    paint_recovery_sheet,
    prints_to_file,
    real_printer,
    recovery_sheet_lines,
)
from evidence_recorder.ui.session import VaultSession

if TYPE_CHECKING:
    from PySide6.QtPrintSupport import QPrinter

CLIPBOARD_CLEAR_MS = clipboard.CLEAR_AFTER_MS


def _title(text: str) -> QLabel:
    label = QLabel(text)
    font = label.font()
    font.setPointSizeF(font.pointSizeF() * 1.5)
    font.setBold(True)
    label.setFont(font)
    label.setWordWrap(True)
    label.setAccessibleName(text)
    return label


def _secret_field(name: str) -> QLineEdit:
    field = QLineEdit()
    field.setEchoMode(QLineEdit.EchoMode.Password)
    field.setAccessibleName(name)
    field.setMinimumWidth(320)
    return field


def _busy() -> QProgressBar:
    bar = QProgressBar()
    bar.setRange(0, 0)  # indeterminate: Argon2 takes about a second on purpose
    bar.setTextVisible(False)
    bar.setMaximumHeight(8)
    bar.setAccessibleName(QCoreApplication.translate("unlock", "Working"))
    bar.hide()
    return bar


class _Page(QWidget):
    content_changed = Signal()  # a line appeared or went: the window may need to grow

    def __init__(self) -> None:
        super().__init__()
        self.body = QVBoxLayout(self)
        self.body.setContentsMargins(32, 28, 32, 28)
        self.body.setSpacing(12)
        self.error = QLabel()
        self.error.setWordWrap(True)
        make_plain(self.error)  # messages name folders and files
        self.error.setStyleSheet(theme.problem_style(self.palette()))
        self.error.setAccessibleName(self.tr("Problem"))
        self.error.hide()
        self.caps_lock = CapsLockWatch(self)
        caps = QCoreApplication.translate("unlock", "Caps Lock is on")  # one text, every page
        self.caps_warning = QLabel(caps)
        self.caps_warning.setAccessibleName(caps)
        self.caps_warning.hide()
        self.caps_lock.changed.connect(self._show_caps_lock)

    def watch_caps_lock(self, *fields: QLineEdit) -> None:
        """Say "Caps Lock is on" (``caps_warning``, placed by the page) while typing in these."""
        self.caps_lock.watch(*fields)

    def _show_caps_lock(self, on: bool) -> None:
        self.caps_warning.setStyleSheet(theme.problem_style(self.palette()))
        self.caps_warning.setVisible(on)
        self.content_changed.emit()

    def add_fields(self, rows: tuple[tuple[str, QLineEdit], ...]) -> None:
        """Each field under its label, the label's shortcut focusing the field."""
        for text, field in rows:
            label = QLabel(text)
            label.setBuddy(field)
            self.body.addWidget(label)
            self.body.addWidget(field)

    def wait_with(self, bar: QWidget, controls: tuple[QWidget, ...],
                  secrets: tuple[QLineEdit, ...], strength: StrengthMeter | None = None) -> None:
        """What :meth:`set_busy` shows and disables while the page's job runs, and what
        :meth:`forget` clears afterwards (every page says it once, here)."""
        self._bar, self._controls = bar, controls
        self._secrets, self._strength = secrets, strength

    def set_busy(self, busy: bool) -> None:
        self._bar.setVisible(busy)
        for widget in self._controls:
            widget.setEnabled(not busy)

    def forget(self) -> None:
        for field in self._secrets:
            field.clear()
        if self._strength is not None:
            self._strength.show_for("")

    def show_error(self, text: str) -> None:
        self.error.setStyleSheet(theme.problem_style(self.palette()))  # the theme of now
        self.error.setText(text)
        self.error.setVisible(bool(text))
        self.content_changed.emit()


def _big_button(text: str) -> QPushButton:
    """One of the first page's two choices: large enough to read as a choice, not a link."""
    button = QPushButton(text)
    font = button.font()
    font.setPointSizeF(font.pointSizeF() * 1.15)
    font.setBold(True)
    button.setFont(font)
    button.setMinimumHeight(44)
    button.setStyleSheet("padding: 6px 18px;")
    return button


class CreatePage(_Page):
    """The first page when there is no vault: make one, or just read a bundle sent to you."""

    submitted = Signal(str)
    open_bundle = Signal()

    def __init__(self, folder: str) -> None:
        super().__init__()
        self.body.addWidget(_title(self.tr("Welcome to {app}").format(app=APP_NAME)))
        self.body.addWidget(_para(
            self.tr("Evidence Recorder keeps screenshots of online abuse safe, with the time, date "
                    "and site of each, in a locked vault on this computer. Nothing leaves this "
                    "computer unless you export it.")))
        self.body.addWidget(_para(self.tr("Did someone send you a report? You can read and "
                                          "check it without making a vault.")))
        self.bundle_button = _big_button(self.tr("Open a report bundle someone sent me…"))
        self.bundle_button.setToolTip(self.tr("Check and read a sealed report without opening a "
                                              "vault"))
        self.bundle_button.clicked.connect(self.open_bundle)
        bundle_row = QHBoxLayout()
        bundle_row.addWidget(self.bundle_button)
        bundle_row.addStretch()
        self.body.addLayout(bundle_row)
        self.body.addSpacing(8)
        self.body.addWidget(_para(self.tr("To keep evidence yourself, first choose a passphrase. "
                                          "You will need it each time you open the vault.")))
        self.passphrase = _secret_field(self.tr("Passphrase"))
        self.confirm = _secret_field(self.tr("Passphrase again"))
        self.strength = StrengthMeter()
        self.hint = self.strength.label
        self.show_text = QCheckBox(self.tr("Show what I type"))
        self.show_text.toggled.connect(self._toggle_echo)
        self.add_fields(((self.tr("&Passphrase"), self.passphrase),
                         (self.tr("Type it &again"), self.confirm)))
        self.watch_caps_lock(self.passphrase, self.confirm)
        self.body.addWidget(self.caps_warning)
        self.body.addWidget(self.strength)
        self.body.addWidget(self.show_text)
        self.body.addWidget(self.error)
        self.busy = _busy()
        self.body.addWidget(self.busy)
        self.create_button = _big_button(self.tr("&Create my vault"))
        self.create_button.setDefault(True)
        self.create_button.clicked.connect(self._submit)
        row = QHBoxLayout()
        row.addStretch()
        row.addWidget(self.create_button)
        self.body.addLayout(row)
        where = _para(self.tr("The vault will be kept in {folder}.").format(folder=folder))
        where.setStyleSheet("color: palette(placeholder-text);")
        self.body.addWidget(where)
        self.body.addStretch()
        self.passphrase.textChanged.connect(self.strength.show_for)
        self.passphrase.textChanged.connect(self.content_changed)
        self.passphrase.returnPressed.connect(self.confirm.setFocus)
        self.confirm.returnPressed.connect(self._submit)
        self.wait_with(self.busy, (self.passphrase, self.confirm, self.create_button),
                       (self.passphrase, self.confirm), self.strength)

    def _toggle_echo(self, visible: bool) -> None:
        mode = QLineEdit.EchoMode.Normal if visible else QLineEdit.EchoMode.Password
        self.passphrase.setEchoMode(mode)
        self.confirm.setEchoMode(mode)

    def _submit(self) -> None:
        first, second = self.passphrase.text(), self.confirm.text()
        if problem := passphrase_problem(first):
            self.show_error(QCoreApplication.translate(ERROR_CONTEXT, problem))
            return
        if first != second:
            self.show_error(self.tr("The two passphrases are not the same. Please type them "
                                    "again."))
            self.confirm.clear()
            self.confirm.setFocus()
            return
        self.show_error("")
        self.set_busy(True)
        self.submitted.emit(first)



class RecoveryKeyPage(_Page):
    """Shows the recovery key once, with copy, save and print, and will not be rushed."""

    finished = Signal()

    def __init__(self) -> None:
        super().__init__()
        self._key = ""
        self.body.addWidget(_title(self.tr("Your recovery key")))
        self.body.addWidget(_para(
            self.tr("If you ever forget your passphrase, this key is the only way back into your "
                    "evidence. It is shown only this once.")))
        self.key_label = QLabel()
        font = QFont("monospace")
        font.setStyleHint(QFont.StyleHint.Monospace)
        font.setPointSizeF(self.font().pointSizeF() * 1.6)
        self.key_label.setFont(font)
        self.key_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.key_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.key_label.setStyleSheet("padding: 14px; border: 1px solid palette(mid); "
                                     "border-radius: 6px; background: palette(base);")
        self.key_label.setAccessibleName(self.tr("Recovery key"))
        self.body.addWidget(self.key_label)
        buttons = QHBoxLayout()
        self.copy_button = QPushButton(self.tr("C&opy"))
        self.save_button = QPushButton(self.tr("&Save as text file…"))
        self.print_button = QPushButton(self.tr("&Print…"))
        for button in (self.copy_button, self.save_button, self.print_button):
            buttons.addWidget(button)
        buttons.addStretch()
        self.body.addLayout(buttons)
        self.body.addWidget(_para(
            self.tr("Write it on paper, or print it, and keep it somewhere safe away from this "
            "computer. Anyone who finds it and can use this computer could open your vault, "
                    "so do not leave it in a file on this computer, in your e-mail, or anywhere "
                    "someone who shares the computer might look.")))
        self.confirm = QCheckBox(self.tr("I have written down, printed or saved my recovery key"))
        self.body.addWidget(self.confirm)
        self.body.addWidget(self.error)
        self.continue_button = QPushButton(self.tr("C&ontinue"))
        self.continue_button.setEnabled(False)
        self.confirm.toggled.connect(self.continue_button.setEnabled)
        self.continue_button.clicked.connect(self._finish)
        row = QHBoxLayout()
        row.addStretch()
        row.addWidget(self.continue_button)
        self.body.addLayout(row)
        self.body.addStretch()
        self.copy_button.clicked.connect(self._copy)
        self.save_button.clicked.connect(self._save)
        self.print_button.clicked.connect(self._print)

    def set_key(self, key: str) -> None:
        self._key = key
        self.key_label.setText("\n".join(recovery_sheet_lines(key)))

    def _copy(self) -> None:
        clipboard.copy_secret(self._key, CLIPBOARD_CLEAR_MS)  # kept out of history and sync
        self.show_error("")
        messages.info(self, self.tr("Copied"), self.tr("The recovery key is on the clipboard for "
                                                       "two minutes. Paste it somewhere safe, such "
                                                       "as a password manager."))

    def _save(self) -> None:
        path = filedialogs.save_file(self, self.tr("Save recovery key"),
                                     "evidence-recorder-recovery-key.txt", self.tr(
                                             "Text files (*.txt)"))
        if path is None:
            return
        text = self.tr("{app} recovery key\n\n{key}\n\nKeep this somewhere safe, away from the "
                       "computer the vault is on.\n").format(app=APP_NAME, key=self._key)
        try:
            from pathlib import Path

            fsutil.atomic_write_bytes(Path(path), text.encode())
        except OSError as exc:
            messages.error(self, self.tr("Not saved"),
                           self.tr("The file could not be saved ({strerror}).")
                           .format(strerror=exc.strerror))
            return
        messages.info(self, self.tr("Saved"),
                      self.tr("Saved. Move the file to a USB stick or print it, then delete it "
                              "from this computer."))

    def _print(self) -> None:
        """Print to a real printer; a PDF (a copy of the key on this computer) only on purpose."""
        printer = real_printer()
        if printer is None:
            messages.info(self, self.tr("No printer"), self.tr(
                "No printer is set up on this computer, so the key cannot be printed from "
                "here. Please write it on paper instead, carefully, and check each group."))
            return
        printer.setDocName(self.tr("Recovery key"))
        if not self._run_print_dialog(printer):
            return
        if prints_to_file(printer) and not messages.choose(
                self, self.tr("Save the key as a file?"),
                self.tr("This saves the recovery key as a file on this computer, which anyone "
                        "who finds it could use to open your vault. Print on paper instead if "
                        "you can."),
                yes_text=self.tr("Save as a file anyway"), no_text=self.tr("Do not save"),
                detail=self.tr("If you do save it, move the file to a USB stick kept somewhere "
                               "safe, then delete it from this computer.")):
            return
        if not paint_recovery_sheet(printer, self._key):
            messages.error(self, self.tr("Not printed"),
                           self.tr("The printer could not be used. Please write the key on "
                                   "paper instead."))

    def _run_print_dialog(self, printer: QPrinter) -> bool:
        from PySide6.QtPrintSupport import QPrintDialog

        dialog = QPrintDialog(printer, self)
        dialog.setWindowTitle(self.tr("Print recovery key"))
        try:
            return dialog.exec() == QPrintDialog.DialogCode.Accepted
        finally:
            dialog.deleteLater()

    def _finish(self) -> None:
        self._key = ""
        self.key_label.clear()
        self.finished.emit()


class UnlockPage(_Page):
    submitted = Signal(str)
    use_recovery = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.body.addWidget(_title(self.tr("{app} is locked").format(app=APP_NAME)))
        self.body.addWidget(_para(self.tr("Type your passphrase to open your evidence.")))
        label = QLabel(self.tr("&Passphrase"))
        self.passphrase = _secret_field(self.tr("Passphrase"))
        label.setBuddy(self.passphrase)
        self.body.addWidget(label)
        self.body.addWidget(self.passphrase)
        self.watch_caps_lock(self.passphrase)
        self.body.addWidget(self.caps_warning)
        self.body.addWidget(self.error)
        self.busy = _busy()
        self.body.addWidget(self.busy)
        row = QHBoxLayout()
        self.recovery_button = QPushButton(self.tr("I forgot it: use my &recovery key"))
        self.recovery_button.setFlat(True)
        self.recovery_button.clicked.connect(self.use_recovery)
        self.unlock_button = QPushButton(self.tr("&Unlock"))
        self.unlock_button.setDefault(True)
        self.unlock_button.clicked.connect(self._submit)
        row.addWidget(self.recovery_button)
        row.addStretch()
        row.addWidget(self.unlock_button)
        self.body.addLayout(row)
        self.body.addStretch()
        self.passphrase.returnPressed.connect(self._submit)
        self.wait_with(self.busy, (self.passphrase, self.unlock_button, self.recovery_button),
                       (self.passphrase,))

    def _submit(self) -> None:
        if not self.passphrase.text():
            self.show_error(self.tr("Please type your passphrase."))
            return
        self.show_error("")
        self.set_busy(True)
        self.submitted.emit(self.passphrase.text())

    def set_busy(self, busy: bool) -> None:
        super().set_busy(busy)
        if not busy:
            self.passphrase.setFocus()


class RecoverPage(_Page):
    submitted = Signal(str, str)
    back = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.body.addWidget(_title(self.tr("Open with your recovery key")))
        self.body.addWidget(_para(
            self.tr("Type the recovery key you were shown when the vault was made (eight groups of "
                    "four letters and digits), then choose a new passphrase.")))
        self.key = QLineEdit()
        self.key.setAccessibleName(self.tr("Recovery key"))
        self.key.setPlaceholderText(self.tr("XXXX-XXXX-XXXX-XXXX-XXXX-XXXX-XXXX-XXXX"))
        self.passphrase = _secret_field(self.tr("New passphrase"))
        self.confirm = _secret_field(self.tr("New passphrase again"))
        self.strength = StrengthMeter()
        self.hint = self.strength.label
        self.add_fields(((self.tr("Recovery &key"), self.key),
                         (self.tr("&New passphrase"), self.passphrase),
                         (self.tr("Type it &again"), self.confirm)))
        self.watch_caps_lock(self.passphrase, self.confirm)
        self.body.addWidget(self.caps_warning)
        self.body.addWidget(self.strength)
        self.body.addWidget(self.error)
        self.busy = _busy()
        self.body.addWidget(self.busy)
        row = QHBoxLayout()
        back = QPushButton(self.tr("&Back"))
        back.clicked.connect(self.back)
        self.open_button = QPushButton(self.tr("&Open and set new passphrase"))
        self.open_button.setDefault(True)
        self.open_button.clicked.connect(self._submit)
        row.addWidget(back)
        row.addStretch()
        row.addWidget(self.open_button)
        self.body.addLayout(row)
        self.body.addStretch()
        self.passphrase.textChanged.connect(self.strength.show_for)
        self.passphrase.textChanged.connect(self.content_changed)
        self.confirm.returnPressed.connect(self._submit)
        self.wait_with(self.busy, (self.key, self.passphrase, self.confirm, self.open_button),
                       (self.key, self.passphrase, self.confirm), self.strength)

    def _submit(self) -> None:
        if problem := passphrase_problem(self.passphrase.text()):
            self.show_error(QCoreApplication.translate(ERROR_CONTEXT, problem))
            return
        if self.passphrase.text() != self.confirm.text():
            self.show_error(self.tr("The two passphrases are not the same. Please type them "
                                    "again."))
            return
        self.show_error("")
        self.set_busy(True)
        self.submitted.emit(self.key.text(), self.passphrase.text())



class StartWindow(QWidget):
    """Creates or unlocks the vault; emits ``opened`` once the vault is ready to use."""

    opened = Signal()
    open_bundle_requested = Signal()

    def __init__(self, session: VaultSession) -> None:
        super().__init__()
        self.session = session
        self.setWindowTitle(APP_NAME)
        self.setMinimumSize(560, 460)
        self.stack = QStackedWidget()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.stack)
        bundle_row = QHBoxLayout()
        bundle_row.setContentsMargins(32, 0, 32, 20)
        self.bundle_button = QPushButton(self.tr("Open a report bundle someone sent me…"))
        self.bundle_button.setToolTip(self.tr("Check and read a sealed report without opening a "
                                              "vault"))
        self.bundle_button.clicked.connect(self.open_bundle_requested)
        bundle_row.addWidget(self.bundle_button)
        bundle_row.addStretch()
        self.help_button = QPushButton(self.tr("&Help"))
        self.help_button.setToolTip(self.tr("The guides for staff, headteachers and police "
                                            "officers (F1: the guide for staff)"))
        help_menu = QMenu(self.help_button)
        for name, text in (("staff", self.tr("Guide for staff")),
                           ("headteacher", self.tr("Guide for headteachers")),
                           ("police", self.tr("Guide for police officers"))):
            help_menu.addAction(text).triggered.connect(
                lambda _checked=False, n=name: self.show_help(n))
        self.help_button.setMenu(help_menu)
        bundle_row.addWidget(self.help_button)
        QShortcut(QKeySequence(QKeySequence.StandardKey.HelpContents), self,
                  lambda: self.show_help("staff"))
        layout.addLayout(bundle_row)
        self.create_page = CreatePage(str(session.folder))
        self.key_page = RecoveryKeyPage()
        self.unlock_page = UnlockPage()
        self.recover_page = RecoverPage()
        for page in (self.create_page, self.key_page, self.unlock_page, self.recover_page):
            self.stack.addWidget(page)
        for page in (self.create_page, self.key_page, self.unlock_page, self.recover_page):
            page.content_changed.connect(self.fit_to_page)
        self.create_page.open_bundle.connect(self.open_bundle_requested)
        self.create_page.submitted.connect(self._create)
        self.key_page.finished.connect(self.opened)
        self.unlock_page.submitted.connect(self._unlock)
        self.unlock_page.use_recovery.connect(lambda: self._show(self.recover_page))
        self.recover_page.back.connect(lambda: self._show(self.unlock_page))
        self.recover_page.submitted.connect(self._recover)
        QShortcut(QKeySequence(QKeySequence.StandardKey.Quit), self, self.close)
        self.reset()

    def fit_to_page(self) -> None:
        """Grow the window until the page's wrapped text fits: a window too short cuts
        off the first paragraphs (a top-level window does not do this by itself)."""
        page = self.stack.currentWidget()
        if page is None or not self.isVisible():
            return
        needed = self.height() - self.stack.height() + page.heightForWidth(self.stack.width())
        screen = self.screen().availableGeometry().height() if self.screen() else needed
        if needed > self.height():
            self.resize(self.width(), min(needed, max(screen, self.minimumHeight())))

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if (layout := self.layout()) is not None:
            layout.activate()
        self.fit_to_page()

    def show_help(self, guide: str) -> None:
        from evidence_recorder.ui.help import show_guide  # only when asked: faster start

        show_guide(guide)

    def reset(self) -> None:
        """Show the right first page: create when there is no vault, else unlock."""
        for page in (self.create_page, self.unlock_page, self.recover_page):
            page.forget()
            page.show_error("")
            page.set_busy(False)
        self._show(self.unlock_page if self.session.exists() else self.create_page)

    def _show(self, page: QWidget) -> None:
        self.stack.setCurrentWidget(page)
        # The first page has its own big button for a bundle; the recovery key page is
        # about the key alone. Elsewhere the small button stays for the headteacher.
        self.bundle_button.setVisible(page in (self.unlock_page, self.recover_page))
        self.fit_to_page()
        focus: dict[QWidget, QLineEdit] = {self.create_page: self.create_page.passphrase,
                                           self.unlock_page: self.unlock_page.passphrase,
                                           self.recover_page: self.recover_page.key}
        field = focus.get(page)
        if field is not None:
            field.setFocus()

    def _create(self, passphrase: str) -> None:
        def done(recovery_key: str) -> None:
            self.create_page.set_busy(False)
            self.create_page.forget()
            self.key_page.set_key(recovery_key)
            self._show(self.key_page)

        def failed(exc: EvidenceError) -> None:
            self.create_page.set_busy(False)
            self.create_page.show_error(error_text(exc))

        self.session.create(passphrase, done, failed)

    def _unlock(self, passphrase: str) -> None:
        def done() -> None:
            self.unlock_page.set_busy(False)
            self.unlock_page.forget()
            self.opened.emit()

        def failed(exc: EvidenceError) -> None:
            self.unlock_page.set_busy(False)
            self.unlock_page.passphrase.selectAll()
            self.unlock_page.show_error(error_text(exc))

        self.session.unlock(passphrase, done, failed)

    def _recover(self, key: str, passphrase: str) -> None:
        def done() -> None:
            self.recover_page.set_busy(False)
            self.recover_page.forget()
            messages.info(self, self.tr("New passphrase set"),
                          self.tr("Your vault is open and your new passphrase is set. "
                                  "Your recovery key still works; keep it safe."))
            self.opened.emit()

        def failed(exc: EvidenceError) -> None:
            self.recover_page.set_busy(False)
            self.recover_page.show_error(error_text(exc))

        self.session.recover(key, passphrase, done, failed)
