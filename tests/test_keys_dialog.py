"""The Change passphrase and Change all keys dialogs, offscreen, on a real vault."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import PASSPHRASE, unlocked_session
from PySide6.QtWidgets import QDialog, QLabel

from evidence_recorder.core.errors import VaultDamaged, WrongSecret
from evidence_recorder.core.paths import KEYFILE_NAME
from evidence_recorder.core.vault.keyfile import KeyFile
from evidence_recorder.core.vault.store import Vault
from evidence_recorder.ui import messages
from evidence_recorder.ui.audit_view import AuditModel
from evidence_recorder.ui.keys_dialog import ChangeAllKeysDialog, ChangePassphraseDialog
from evidence_recorder.ui.session import VaultSession

NEW = "seventeen quiet herons"
NOT_REVOKED = ("Copies of your vault or its key file made before now (backups, old copies on a "
               "USB stick) still open with the old passphrase. If someone may know your old "
               "passphrase or have a copy, use Change all keys instead.")


@pytest.fixture
def session(qtbot: Any, closed_vault: Path) -> Iterator[VaultSession]:
    yield from unlocked_session(qtbot, closed_vault)


def texts(widget: Any) -> str:
    return " ".join(label.text() for label in widget.findChildren(QLabel))


def fill(form: Any, current: str, new: str, again: str | None = None) -> None:
    form.current.setText(current)
    form.passphrase.setText(new)
    form.confirm.setText(new if again is None else again)


def test_passphrase_dialog_says_what_it_does_not_revoke(
        qtbot: Any, session: VaultSession, closed_vault: Path) -> None:
    old_keyfile = (closed_vault / KEYFILE_NAME).read_bytes()
    dialog = ChangePassphraseDialog(session)
    qtbot.addWidget(dialog)
    dialog.show()
    assert NOT_REVOKED in texts(dialog)
    assert "recovery key keeps working" in texts(dialog)

    fill(dialog.form, "not my passphrase at all", NEW)
    dialog.form.ok_button.click()
    qtbot.waitUntil(lambda: dialog.form.error.isVisible() and dialog.form.ok_button.isEnabled())
    assert "does not open this vault" in dialog.form.error.text()
    assert (closed_vault / KEYFILE_NAME).read_bytes() == old_keyfile

    fill(dialog.form, PASSPHRASE, NEW, "something else entirely")
    dialog.form.ok_button.click()
    assert "not the same" in dialog.form.error.text()

    messages.set_next_answer(messages.Button.Ok)
    fill(dialog.form, PASSPHRASE, NEW)
    dialog.form.ok_button.click()
    qtbot.waitUntil(lambda: dialog.result() == QDialog.DialogCode.Accepted)
    assert messages.shown[-1][0] == "Passphrase changed"
    session.lock()
    Vault.open(closed_vault, NEW).close()
    # What the dialog says is true: the old key file copy still opens with the old one.
    (closed_vault / KEYFILE_NAME).write_bytes(old_keyfile)
    Vault.open(closed_vault, PASSPHRASE).close()


def test_passphrase_dialog_offers_change_all_keys_instead(qtbot: Any,
                                                          session: VaultSession) -> None:
    dialog = ChangePassphraseDialog(session)
    qtbot.addWidget(dialog)
    dialog.show()
    with qtbot.waitSignal(dialog.change_all_keys_requested):
        dialog.all_keys_button.click()
    assert dialog.result() == QDialog.DialogCode.Rejected


def test_change_all_keys_dialog_runs_with_progress_and_shows_the_new_key_once(
        qtbot: Any, session: VaultSession, closed_vault: Path) -> None:
    old_keyfile = (closed_vault / KEYFILE_NAME).read_bytes()
    dialog = ChangeAllKeysDialog(session)
    qtbot.addWidget(dialog)
    dialog.show()
    said = texts(dialog)
    assert "old copies of the key file (vault.key) and your old recovery key no longer open" \
        in said
    assert "Backups made before now are separate copies: they still open with the old " \
           "passphrase" in said

    fill(dialog.form, "not my passphrase at all", NEW)
    dialog.form.ok_button.click()
    qtbot.waitUntil(lambda: dialog.form.error.isVisible() and dialog.form.ok_button.isEnabled())
    assert "does not open this vault" in dialog.form.error.text()
    assert (closed_vault / KEYFILE_NAME).read_bytes() == old_keyfile

    fill(dialog.form, PASSPHRASE, NEW)
    dialog.form.ok_button.click()
    assert dialog.busy
    dialog.reject()  # Escape while it runs does nothing
    assert dialog.isVisible()
    qtbot.waitUntil(lambda: dialog.stack.currentWidget() is dialog.recovery_page)
    assert dialog.form.progress.maximum() > 0  # a real progress bar was fed
    assert dialog.form.progress.value() == dialog.form.progress.maximum()
    key = dialog.recovery_page._key
    assert "the old one no longer opens this vault" in texts(dialog.recovery_page)
    dialog.reject()  # the new recovery key cannot be clicked away
    assert dialog.isVisible()
    dialog.recovery_page.confirm.setChecked(True)
    dialog.recovery_page.continue_button.click()
    assert dialog.result() == QDialog.DialogCode.Accepted

    entries = session.audit_entries()
    assert entries[-1].action == "keys.changed"
    model = AuditModel(entries)
    assert model.data(model.index(len(entries) - 1, 2)) == "All keys changed"
    session.lock()
    keyfile = KeyFile.load(closed_vault)
    assert keyfile.unlock_with_recovery(key) == keyfile.unlock_with_passphrase(NEW)
    with pytest.raises(WrongSecret):
        Vault.open(closed_vault, PASSPHRASE)
    (closed_vault / KEYFILE_NAME).write_bytes(old_keyfile)
    with pytest.raises(VaultDamaged, match="does not belong"):
        Vault.open(closed_vault, PASSPHRASE)


def test_the_vault_menu_has_both(controller: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    main = controller.main
    vault_menu = next(a.menu() for a in main.menuBar().actions() if a.text() == "&Vault")
    assert main.act_change_passphrase in vault_menu.actions()
    assert main.act_change_keys in vault_menu.actions()
    opened: list[str] = []
    monkeypatch.setattr(ChangePassphraseDialog, "exec", lambda self: opened.append("pass") or 0)
    monkeypatch.setattr(ChangeAllKeysDialog, "exec", lambda self: opened.append("all") or 0)
    main.act_change_passphrase.trigger()
    main.act_change_keys.trigger()
    assert opened == ["pass", "all"]


def test_a_lock_during_change_all_keys_waits_until_the_new_key_was_seen(
        qtbot: Any, session: VaultSession, closed_vault: Path) -> None:
    """The idle lock firing mid-change would freeze the window until the copy ends and
    then close the only sight of the new recovery key: it waits, then locks."""
    locked: list[bool] = []
    session.locked.connect(lambda: locked.append(True))
    dialog = ChangeAllKeysDialog(session)
    qtbot.addWidget(dialog)
    dialog.show()
    fill(dialog.form, PASSPHRASE, NEW)
    dialog.form.ok_button.click()
    assert dialog.busy
    session.lock()  # what the idle timer does
    assert session.is_unlocked and not locked
    qtbot.waitUntil(lambda: dialog.stack.currentWidget() is dialog.recovery_page)
    assert session.is_unlocked and not locked  # the new key is on show, not locked away
    key = dialog.recovery_page._key
    dialog.recovery_page.confirm.setChecked(True)
    dialog.recovery_page.continue_button.click()
    assert locked and not session.is_unlocked  # the lock asked for happens now
    keyfile = KeyFile.load(closed_vault)
    assert keyfile.unlock_with_recovery(key) == keyfile.unlock_with_passphrase(NEW)


def test_a_lock_during_a_failed_change_happens_when_it_fails(
        qtbot: Any, session: VaultSession) -> None:
    dialog = ChangeAllKeysDialog(session)
    qtbot.addWidget(dialog)
    dialog.show()
    fill(dialog.form, "not my passphrase at all", NEW)
    dialog.form.ok_button.click()
    session.lock()
    assert session.is_unlocked
    qtbot.waitUntil(lambda: not session.is_unlocked)
