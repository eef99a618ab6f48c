"""Secrets in the app: the export window's bundle passphrase, and the clipboard hints."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import BUNDLE_PASSPHRASE
from PySide6.QtCore import QByteArray
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot
from test_app import _capture_one, wait_until

from evidence_recorder.core import passphrase as passphrases
from evidence_recorder.core.bundle.check import verify_bundle
from evidence_recorder.core.errors import RefusedInput
from evidence_recorder.ui import clipboard, messages
from evidence_recorder.ui.export_dialog import ExportDialog

HINTS = {
    "x-kde-passwordManagerHint": b"secret",
    'application/x-qt-windows-mime;value="ExcludeClipboardContentFromMonitorProcessing"': None,
    'application/x-qt-windows-mime;value="CanIncludeInClipboardHistory"': b"\0\0\0\0",
    'application/x-qt-windows-mime;value="CanUploadToCloudClipboard"': b"\0\0\0\0",
    "application/x-nspasteboard-concealed-type": None,
}


def assert_copied_as_secret(text: str) -> None:
    data = QApplication.clipboard().mimeData()
    assert data.text() == text
    for mime, value in HINTS.items():
        assert data.hasFormat(mime), mime
        if value is not None:
            assert bytes(data.data(mime).data()) == value, mime


def _dialog(qtbot: QtBot, controller: Any) -> ExportDialog:
    capture_id = _capture_one(qtbot, controller)
    dialog = ExportDialog(controller.session, controller.settings, [capture_id], None,
                          controller.main)
    qtbot.addWidget(dialog)
    dialog.selected_button.setChecked(True)
    return dialog


def test_the_export_window_offers_a_made_passphrase_and_says_to_send_it_apart(
        qtbot: QtBot, controller: Any, tmp_path: Path) -> None:
    dialog = _dialog(qtbot, controller)
    assert not dialog.generated.isEnabled()  # until the file is to be locked
    dialog.encrypt.setChecked(True)
    made = dialog.generated.text()
    assert dialog.generated.isReadOnly() and dialog.generated.isEnabled()
    assert len(made.split()) == 6 and set(made.split()) <= set(passphrases.wordlist())
    assert not dialog.own_rows.isVisibleTo(dialog)
    chosen = dialog.chosen_options()
    assert chosen.passphrase == made
    messages.set_next_answer(messages.Button.Ok)
    dialog.export_to(tmp_path / "b.zip", chosen)
    wait_until(qtbot, lambda: dialog.written is not None)
    assert verify_bundle(tmp_path / "b.zip", made).ok
    title, text = messages.shown[-1]
    assert title == "Report exported"
    assert made in text and "never in the same e-mail" in text


def test_copying_the_made_passphrase_keeps_it_out_of_clipboard_history(
        qtbot: QtBot, controller: Any) -> None:
    dialog = _dialog(qtbot, controller)
    dialog.encrypt.setChecked(True)
    dialog.copy_passphrase.click()
    assert_copied_as_secret(dialog.generated.text())
    assert "two minutes" in dialog.copied.text()


@pytest.mark.parametrize("weak", ["river stone 88", "Summer2026!", "correct horse battery "
                                                                   "staple"])
def test_a_weak_passphrase_of_ones_own_is_refused_and_the_bar_says_so(
        qtbot: QtBot, controller: Any, weak: str) -> None:
    dialog = _dialog(qtbot, controller)
    dialog.encrypt.setChecked(True)
    dialog.own.setChecked(True)
    assert dialog.own_rows.isVisibleTo(dialog) and not dialog.generated.isVisibleTo(dialog)
    dialog.passphrase.setText(weak)
    dialog.confirm.setText(weak)
    assert dialog.strength.value() < 100
    assert "Too easy to guess" in dialog.strength_hint.text()
    with pytest.raises(RefusedInput, match="too easy to guess"):
        dialog.chosen_options()
    dialog.passphrase.setText(BUNDLE_PASSPHRASE)
    dialog.confirm.setText(BUNDLE_PASSPHRASE)
    assert dialog.strength.value() == 100
    assert dialog.strength_hint.text() == "Strong enough."
    assert dialog.chosen_options().passphrase == BUNDLE_PASSPHRASE


def test_the_recovery_key_is_copied_as_a_secret(qtbot: QtBot, controller: Any) -> None:
    page = controller.start.create_page
    page.passphrase.setText("plum orchard lantern 42")
    page.confirm.setText("plum orchard lantern 42")
    page.create_button.click()
    wait_until(qtbot, lambda: controller.start.stack.currentWidget() is controller.start.key_page)
    key_page = controller.start.key_page
    messages.set_next_answer(messages.Button.Ok)
    key_page.copy_button.click()
    assert_copied_as_secret(key_page._key)


def test_a_copied_secret_is_cleared_only_while_it_is_still_ours(qtbot: QtBot) -> None:
    board = QApplication.clipboard()
    clipboard.copy_secret("first secret", clear_after_ms=50)
    wait_until(qtbot, lambda: board.text() == "")
    clipboard.copy_secret("second secret", clear_after_ms=50)
    board.setText("someone else's text")
    qtbot.wait(300)  # the timer has fired by now; it must leave this text alone
    assert board.text() == "someone else's text"
    board.clear()


def test_the_hints_are_set_on_data_that_qt_keeps() -> None:
    data = clipboard.secret_mime_data("abc")
    assert data.text() == "abc"
    assert set(HINTS) <= set(data.formats())
    assert data.data("x-kde-passwordManagerHint") == QByteArray(b"secret")
