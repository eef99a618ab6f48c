"""The session operations widgets use instead of the vault, bundle and recorder code:
saving a grab in the background (and nothing captured lost when the vault locks or the
app closes meanwhile), exporting, and the received bundles.

Real vaults (tiny KDF), real grabs of a fake screen, real sealed bundles.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import FAST_KDF, PASSPHRASE, fake_screen, unlocked_session
from pytestqt.qtbot import QtBot

from evidence_recorder.core.bundle.check import verify_bundle
from evidence_recorder.core.errors import EvidenceError
from evidence_recorder.core.gather import capture, recorder
from evidence_recorder.core.model import CaptureDetails
from evidence_recorder.core.vault.store import Vault
from evidence_recorder.ui import messages
from evidence_recorder.ui.session import VaultSession
from evidence_recorder.ui.tasks import wait_for_tasks

WAIT = 10_000  # ms; generous for two shared cores


@pytest.fixture
def session(qtbot: QtBot, closed_vault: Path) -> Iterator[VaultSession]:
    yield from unlocked_session(qtbot, closed_vault)


class HeldSave:
    """recorder.save_grab, held at its start until released (the real save follows)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.started = threading.Event()
        self.release = threading.Event()
        real = recorder.save_grab

        def held(*args: Any, **kwargs: Any) -> int:
            self.started.set()
            assert self.release.wait(30), "the test never released the save"
            return real(*args, **kwargs)

        monkeypatch.setattr(recorder, "save_grab", held)


def _grab() -> capture.Grab:
    return capture.grab(capture.FakeGrabber(fake_screen()))


def _captures_in(folder: Path) -> list[str]:
    with Vault.open(folder, PASSPHRASE) as vault:
        return [c.details.description for c in vault.captures()]


def test_save_grab_runs_in_the_background_and_reports_the_new_id(
        qtbot: QtBot, session: VaultSession) -> None:
    saved: list[int] = []
    with qtbot.waitSignal(session.capture_saved, timeout=WAIT) as signal:
        session.save_grab(_grab(), CaptureDetails(description="kept"), None, saved.append,
                          lambda exc: pytest.fail(exc.message))
    qtbot.waitUntil(lambda: bool(saved), timeout=WAIT)
    assert signal.args == [saved[0]]
    assert [c.id for c in session.captures()] == saved
    assert session.capture(saved[0]).details.description == "kept"
    assert not session.is_saving()


def test_a_failed_save_reaches_on_failure_with_the_plain_message(
        qtbot: QtBot, session: VaultSession, monkeypatch: pytest.MonkeyPatch) -> None:
    def full(*_args: Any, **_kwargs: Any) -> int:
        raise EvidenceError("The disk is full. Free some space, then try again.")

    monkeypatch.setattr(recorder, "save_grab", full)
    failures: list[EvidenceError] = []
    session.save_grab(_grab(), None, None, lambda _id: pytest.fail("saved"), failures.append)
    qtbot.waitUntil(lambda: bool(failures), timeout=WAIT)
    assert failures[0].message == "The disk is full. Free some space, then try again."
    assert not session.is_saving()


def test_locking_while_a_grab_is_saved_waits_for_the_save(
        qtbot: QtBot, session: VaultSession, closed_vault: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    held = HeldSave(monkeypatch)
    saved: list[int] = []
    session.save_grab(_grab(), CaptureDetails(description="taken just before the lock"), None,
                      saved.append, lambda exc: pytest.fail(exc.message))
    assert held.started.wait(10)
    with qtbot.assertNotEmitted(session.locked, wait=0):
        session.lock(how="idle")
    assert session.is_unlocked  # the lock waits for the save
    with qtbot.waitSignal(session.locked, timeout=WAIT):
        held.release.set()
    qtbot.waitUntil(lambda: bool(saved), timeout=WAIT)
    assert not session.is_unlocked  # ... and happens before on_done is told
    assert _captures_in(closed_vault) == ["taken just before the lock"]
    with Vault.open(closed_vault, PASSPHRASE) as vault:
        actions = [e.action for e in vault.audit_entries()]
    # The capture went in before the vault locked, and the lock says how it was asked.
    assert actions.index("capture.added") < len(actions) - 1 - actions[::-1].index("vault.locked")


def test_quitting_while_a_grab_is_saved_finishes_the_save_first(
        qtbot: QtBot, closed_vault: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    session = next(unlocked_session(qtbot, closed_vault))
    held = HeldSave(monkeypatch)
    session.save_grab(_grab(), CaptureDetails(description="taken as the app closed"), None,
                      lambda _id: None, lambda exc: pytest.fail(exc.message))
    assert held.started.wait(10)
    # The app's main() locks with now=True when its window closes: that blocks until the
    # save is on disk (released from another thread, as the save is held on purpose).
    releaser = threading.Timer(0.3, held.release.set)
    releaser.start()
    session.lock(now=True, how="closing")
    releaser.join()
    assert not session.is_unlocked
    wait_for_tasks()
    assert _captures_in(closed_vault) == ["taken as the app closed"]


def test_the_window_is_busy_while_a_grab_is_saved_and_says_when_it_is(
        qtbot: QtBot, controller: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from test_app import create_vault

    create_vault(qtbot, controller)
    main = controller.main
    held = HeldSave(monkeypatch)
    main.act_screen.trigger()
    qtbot.waitUntil(held.started.is_set, timeout=WAIT)
    qtbot.waitUntil(lambda: main.saving_bar.isVisibleTo(main), timeout=WAIT)
    assert main.statusBar().currentMessage() == "Saving the capture…"
    held.release.set()
    qtbot.waitUntil(lambda: main.capture_model.rowCount() == 1, timeout=WAIT)
    qtbot.waitUntil(lambda: not main.saving_bar.isVisibleTo(main), timeout=WAIT)
    capture_id = controller.session.captures()[0].id
    assert main.statusBar().currentMessage() == f"Saved capture {capture_id}."


def test_a_save_that_fails_in_the_window_says_not_saved(
        qtbot: QtBot, controller: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from test_app import create_vault

    create_vault(qtbot, controller)

    def full(*_args: Any, **_kwargs: Any) -> int:
        raise EvidenceError("The disk is full. Free some space, then try again.")

    monkeypatch.setattr(recorder, "save_grab", full)
    messages.set_next_answer(messages.Button.Ok)
    shown = len(messages.shown)
    controller.main.act_screen.trigger()
    qtbot.waitUntil(lambda: len(messages.shown) > shown, timeout=WAIT)
    assert messages.shown[-1] == ("Not saved",
                                  "The disk is full. Free some space, then try again.")
    assert not controller.main.saving_bar.isVisibleTo(controller.main)
    assert controller.session.captures() == []


def test_locking_the_window_while_a_grab_is_saved_keeps_the_capture(
        qtbot: QtBot, controller: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from test_app import create_vault

    create_vault(qtbot, controller)
    main = controller.main
    held = HeldSave(monkeypatch)
    main.act_screen.trigger()
    qtbot.waitUntil(held.started.is_set, timeout=WAIT)
    main.act_lock.trigger()
    assert controller.session.is_unlocked  # waits for the save
    held.release.set()
    qtbot.waitUntil(lambda: not controller.session.is_unlocked, timeout=WAIT)
    assert not main.isVisible()
    unlock = controller.start.unlock_page
    unlock.passphrase.setText(PASSPHRASE)
    unlock.unlock_button.click()
    qtbot.waitUntil(main.isVisible, timeout=WAIT)
    qtbot.waitUntil(lambda: main.capture_model.rowCount() == 1, timeout=WAIT)


def test_export_through_the_session_seals_a_bundle_that_verifies(
        qtbot: QtBot, session: VaultSession, tmp_path: Path) -> None:
    session.save_grab(_grab(), None, None, lambda _id: None, lambda exc: pytest.fail(exc.message))
    qtbot.waitUntil(lambda: session.capture_count() == 1, timeout=WAIT)
    chosen = session.export_options(capture_ids=None, incident_ids=None, audience="police")
    results: list[tuple[Path, str, str]] = []
    steps: list[tuple[int, int]] = []
    session.export(tmp_path / "out.zip", chosen, results.append,
                   lambda exc: pytest.fail(exc.message), lambda d, t: steps.append((d, t)))
    qtbot.waitUntil(lambda: bool(results), timeout=30_000)
    path, fingerprint, number = results[0]
    assert (fingerprint, number) == session.my_seal()
    report = verify_bundle(path)
    assert report.ok and report.fingerprint == fingerprint
    assert steps  # progress reached the GUI thread
    assert path.name.startswith("out")
    assert session.bundle_name(session.captures()[0].captured_at).startswith("evidence-bundle-")


def test_export_failure_reaches_on_failure(
        qtbot: QtBot, session: VaultSession, tmp_path: Path) -> None:
    chosen = session.export_options(capture_ids=None, incident_ids=None, audience="police")
    failures: list[EvidenceError] = []
    session.export(tmp_path / "no such folder" / "out.zip", chosen,
                   lambda _r: pytest.fail("exported"), failures.append)
    qtbot.waitUntil(lambda: bool(failures), timeout=WAIT)
    assert "Traceback" not in failures[0].message


def test_received_bundles_are_kept_listed_opened_and_deleted_through_the_session(
        qtbot: QtBot, session: VaultSession, tmp_path: Path) -> None:
    from evidence_recorder.core.bundle.seal import export_bundle

    sender_dir = tmp_path / "sender"
    with Vault.create(sender_dir, PASSPHRASE, kdf=FAST_KDF)[0] as sender:
        recorder.save_grab(sender, _grab())
        sent = export_bundle(sender, tmp_path / "sent.zip")
    report = verify_bundle(sent)
    shown = {"ok": report.ok, "fingerprint": report.fingerprint,
             "timestamp": report.timestamp, "timestamp_trusted": False,
             "sealed_sha256": report.sealed_sha256, "problems": list(report.problems)}
    kept: list[int] = []
    session.keep_received(sent, shown, None, kept.append, lambda exc: pytest.fail(exc.message))
    qtbot.waitUntil(lambda: bool(kept), timeout=30_000)
    (listed,) = session.received_bundles()
    assert listed.id == kept[0] and listed.file_name == "sent.zip"
    opened = session.received_opener(listed.id)(Path(listed.file_name), None)
    try:
        assert opened.report.ok and opened.report.fingerprint == report.fingerprint
    finally:
        opened.close()
    session.delete_received(listed.id, "sent to me twice")
    assert session.received_bundles() == []
