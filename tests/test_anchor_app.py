"""The history warning in the app (offscreen): loud at unlock, a banner until accepted."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import FAST_KDF, PASSPHRASE
from PySide6.QtCore import Qt
from test_anchor import add_captures, make_older_copy

from evidence_recorder.core.vault import backup
from evidence_recorder.core.vault.store import Vault
from evidence_recorder.ui import messages

WARNING_TITLE = "Captures may be missing"


def unlock(qtbot, ctl) -> None:  # type: ignore[no-untyped-def]
    page = ctl.start.unlock_page
    assert ctl.start.stack.currentWidget() is page
    page.passphrase.setText(PASSPHRASE)
    page.unlock_button.click()
    qtbot.waitUntil(lambda: ctl.main.isVisible(), timeout=10_000)


@pytest.fixture
def older_vault(vault_dir: Path, tmp_path: Path) -> Path:
    Vault.create(vault_dir, PASSPHRASE, kdf=FAST_KDF)[0].close()
    return make_older_copy(vault_dir, tmp_path / "old")


def test_an_older_copy_warns_loudly_and_keeps_a_banner_until_accepted(  # type: ignore[no-untyped-def]
        qtbot, older_vault: Path, controller) -> None:
    messages.shown.clear()
    messages.set_next_answer(messages.Button.No)  # "Keep warning me"
    unlock(qtbot, controller)
    qtbot.waitUntil(lambda: any(t == WARNING_TITLE for t, _ in messages.shown))
    text = next(text for title, text in messages.shown if title == WARNING_TITLE)
    assert "older than the last time it was opened on this computer" in text
    assert "may be missing" in text
    main = controller.main
    banner = main.history_banner
    assert banner.isVisible()
    assert "may be missing" in banner.label.text()
    assert "Last opened" in main.last_opened.text()
    assert "holding 4 captures" in main.last_opened.text()
    main.resize(1100, 600)
    main.grab().save("/tmp/anchor-banner.png")
    assert controller.session.history_warning() is not None  # kept: nothing was accepted

    messages.set_next_answer(messages.Button.Yes)  # "I put back an older copy on purpose"
    qtbot.mouseClick(banner.button, Qt.MouseButton.LeftButton)
    assert not banner.isVisible()
    assert controller.session.history_warning() is None
    assert "vault.history_accepted" in [e.action for e in controller.session.audit_entries()]

    controller.lock()
    messages.shown.clear()
    unlock(qtbot, controller)
    qtbot.wait(50)
    assert not any(t == WARNING_TITLE for t, _ in messages.shown)
    assert not controller.main.history_banner.isVisible()


def test_an_ordinary_unlock_says_when_it_was_last_opened(  # type: ignore[no-untyped-def]
        qtbot, vault_dir: Path, controller) -> None:
    made = Vault.create(vault_dir, PASSPHRASE, kdf=FAST_KDF)[0]
    add_captures(made, 2)
    made.close()
    controller.start.reset()
    messages.shown.clear()
    unlock(qtbot, controller)
    qtbot.wait(50)
    assert messages.shown == []
    assert not controller.main.history_banner.isVisible()
    status = controller.main.last_opened.text()
    assert status.startswith("Last opened ") and "on this computer, holding 2 captures." in status


def test_a_restored_older_backup_is_said_once(  # type: ignore[no-untyped-def]
        qtbot, vault_dir: Path, tmp_path: Path, controller) -> None:
    with Vault.create(tmp_path / "original", PASSPHRASE, kdf=FAST_KDF)[0] as original:
        made = backup.make_backup(original, tmp_path)
        add_captures(original, 2)
    backup.restore_backup(made, vault_dir)
    controller.start.reset()
    messages.shown.clear()
    messages.set_next_answer(messages.Button.Ok)
    unlock(qtbot, controller)
    qtbot.waitUntil(lambda: any(t == "You restored a backup" for t, _ in messages.shown))
    assert not controller.main.history_banner.isVisible()
    controller.lock()
    messages.shown.clear()
    unlock(qtbot, controller)
    qtbot.wait(50)
    assert messages.shown == []
