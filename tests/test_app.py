"""The desktop app end to end (offscreen): create, unlock, capture, describe, lock."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from conftest import BUNDLE_PASSPHRASE, FAST_KDF, PASSPHRASE, fake_screen
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDialog, QLineEdit, QWidget

from evidence_recorder.core import settings as options
from evidence_recorder.core.gather import capture
from evidence_recorder.core.vault.store import Vault
from evidence_recorder.ui import main_window as main_window_module
from evidence_recorder.ui import messages
from evidence_recorder.ui.app import AppController
from evidence_recorder.ui.audit_view import AuditDialog
from evidence_recorder.ui.editor import AnnotationEditor
from evidence_recorder.ui.guide import CHILD_PROTECTION_TEXT, ChildProtectionDialog, GuideDialog
from evidence_recorder.ui.passphrase_hints import strength_hint
from evidence_recorder.ui.settings_dialog import SettingsDialog

NEW = "seventeen quiet herons"


def wait_until(qtbot, condition, timeout: int = 10_000) -> None:  # type: ignore[no-untyped-def]
    qtbot.waitUntil(condition, timeout=timeout)


def create_vault(qtbot, ctl: AppController) -> None:  # type: ignore[no-untyped-def]
    page = ctl.start.create_page
    assert ctl.start.stack.currentWidget() is page
    page.passphrase.setText(PASSPHRASE)
    page.confirm.setText(PASSPHRASE)
    qtbot.mouseClick(page.create_button, Qt.MouseButton.LeftButton)
    wait_until(qtbot, lambda: ctl.start.stack.currentWidget() is ctl.start.key_page)
    key_page = ctl.start.key_page
    assert not key_page.continue_button.isEnabled()  # the key cannot be clicked past
    key_page.confirm.setChecked(True)
    qtbot.mouseClick(key_page.continue_button, Qt.MouseButton.LeftButton)
    wait_until(qtbot, lambda: ctl.main.isVisible())


def test_strength_hint_is_kind_and_specific() -> None:
    assert "12 characters" in strength_hint("")
    assert "12 characters" in strength_hint("short")
    assert "first that anyone would try" in strength_hint("password1234")
    assert strength_hint("plum orchard lantern 42").startswith("Strong")
    assert strength_hint("password1password1").startswith("Very weak")  # was "Good"


def test_first_start_creates_the_vault_and_shows_the_key_once(qtbot, controller) -> None:  # type: ignore[no-untyped-def]
    page = controller.start.create_page
    page.passphrase.setText("short")
    page.confirm.setText("short")
    page.create_button.click()
    assert "at least 12" in page.error.text()
    page.passphrase.setText(PASSPHRASE)
    page.confirm.setText(PASSPHRASE + "x")
    page.create_button.click()
    assert "not the same" in page.error.text()
    create_vault(qtbot, controller)
    assert controller.session.is_unlocked
    assert controller.start.key_page.key_label.text() == ""  # forgotten once shown
    assert controller.main.incident_model.rowCount() == 1


def test_capture_saves_and_lists_it(qtbot, controller) -> None:  # type: ignore[no-untyped-def]
    create_vault(qtbot, controller)
    main = controller.main
    main.act_screen.trigger()
    wait_until(qtbot, lambda: main.capture_model.rowCount() == 1)
    captures = controller.session.captures()
    assert len(captures) == 1
    assert captures[0].kind.value == "screen"
    assert (captures[0].width, captures[0].height) == (1280, 800)
    assert main.viewer.has_image()


def test_region_capture_crops_the_frozen_screen(qtbot, controller) -> None:  # type: ignore[no-untyped-def]
    create_vault(qtbot, controller)
    controller.main.capturer._region_selector = lambda desktop: (300, 150, 681, 251)
    controller.main.act_region.trigger()
    wait_until(qtbot, lambda: controller.main.capture_model.rowCount() == 1)
    saved = controller.session.captures()[0]
    assert saved.kind.value == "region"
    assert (saved.width, saved.height) == (681, 251)
    original = Image.open(io.BytesIO(controller.session.original(saved.id)))
    assert original.getpixel((0, 0)) == (200, 200, 200)  # the post's border


def test_cancelled_region_saves_nothing(qtbot, controller) -> None:  # type: ignore[no-untyped-def]
    create_vault(qtbot, controller)
    controller.main.capturer._region_selector = lambda desktop: None
    with qtbot.waitSignal(controller.main.capturer.cancelled):
        controller.main.act_region.trigger()
    assert controller.session.captures() == []


def test_capture_with_a_delay_counts_down(qtbot, controller) -> None:  # type: ignore[no-untyped-def]
    create_vault(qtbot, controller)
    controller.main.capture("screen", delay=1)
    assert controller.main.capturer._countdown is not None
    wait_until(qtbot, lambda: controller.main.capture_model.rowCount() == 1, 5000)


def test_failed_capture_shows_a_plain_message(qtbot, controller) -> None:  # type: ignore[no-untyped-def]
    create_vault(qtbot, controller)

    def no_screen() -> capture.ScreenGrabber:
        raise capture.CaptureFailed(capture.NO_DISPLAY_MESSAGE)

    controller.main.capturer._grabber_factory = no_screen
    messages.set_next_answer(messages.Button.Ok)
    shown_before = len(messages.shown)
    controller.main.act_screen.trigger()
    wait_until(qtbot, lambda: len(messages.shown) > shown_before)
    assert messages.shown[-1] == ("Not captured", capture.NO_DISPLAY_MESSAGE)
    assert controller.session.captures() == []


def test_lock_drops_everything_and_unlock_restores(qtbot, controller) -> None:  # type: ignore[no-untyped-def]
    create_vault(qtbot, controller)
    controller.main.act_screen.trigger()
    wait_until(qtbot, lambda: controller.main.capture_model.rowCount() == 1)
    controller.main.act_lock.trigger()
    assert not controller.session.is_unlocked
    assert controller.main.capture_model.rowCount() == 0
    assert controller.main.incident_model.rowCount() == 0
    assert not controller.main.viewer.has_image()
    assert not controller.main.isVisible()
    unlock = controller.start.unlock_page
    assert controller.start.stack.currentWidget() is unlock

    unlock.passphrase.setText("wrong passphrase here")
    unlock.unlock_button.click()
    wait_until(qtbot, lambda: unlock.error.isVisible())
    assert "does not open" in unlock.error.text()
    unlock.passphrase.setText(PASSPHRASE)
    unlock.unlock_button.click()
    wait_until(qtbot, lambda: controller.main.isVisible())
    assert controller.main.capture_model.rowCount() == 1


def test_repeated_wrong_passphrases_slow_down(qtbot, controller) -> None:  # type: ignore[no-untyped-def]
    create_vault(qtbot, controller)
    controller.lock()
    unlock = controller.start.unlock_page
    for _ in range(3):
        unlock.passphrase.setText("wrong passphrase here")
        unlock.unlock_button.click()
        wait_until(qtbot, lambda: unlock.unlock_button.isEnabled())
    assert controller.session.seconds_until_retry() > 0
    unlock.passphrase.setText(PASSPHRASE)
    unlock.unlock_button.click()
    assert "Please wait" in unlock.error.text()


def test_recovery_key_page(qtbot, controller, vault_dir: Path) -> None:  # type: ignore[no-untyped-def]
    page = controller.start.create_page
    page.passphrase.setText(PASSPHRASE)
    page.confirm.setText(PASSPHRASE)
    page.create_button.click()
    wait_until(qtbot, lambda: controller.start.stack.currentWidget() is controller.start.key_page)
    key = controller.start.key_page._key
    controller.start.key_page.confirm.setChecked(True)
    controller.start.key_page.continue_button.click()
    controller.lock()
    controller.start.unlock_page.recovery_button.click()
    recover = controller.start.recover_page
    assert controller.start.stack.currentWidget() is recover
    recover.key.setText(key.lower())
    recover.passphrase.setText(NEW)
    recover.confirm.setText(NEW)
    messages.set_next_answer(messages.Button.Ok)
    recover.open_button.click()
    wait_until(qtbot, lambda: controller.main.isVisible())
    controller.lock()
    Vault.open(vault_dir, NEW).close()


def test_idle_lock_fires_and_activity_resets_it(qtbot, controller) -> None:  # type: ignore[no-untyped-def]
    create_vault(qtbot, controller)
    idle = controller.idle
    assert idle.is_running()
    idle.set_interval_ms(400)
    qtbot.wait(250)
    qtbot.keyClick(controller.main.search, Qt.Key.Key_A)  # activity restarts the count
    qtbot.wait(250)
    assert controller.session.is_unlocked
    wait_until(qtbot, lambda: not controller.session.is_unlocked, 3000)
    assert controller.main.capture_model.rowCount() == 0


def test_settings_dialog_applies_idle_time(qtbot, controller, app_settings) -> None:  # type: ignore[no-untyped-def]
    create_vault(qtbot, controller)
    dialog = SettingsDialog(app_settings, [(1, "Unsorted captures")], controller.main)
    qtbot.addWidget(dialog)
    dialog.lock_minutes.setValue(9)
    dialog.delay.setCurrentIndex(dialog.delay.findData(5))
    dialog.save()
    assert app_settings.get(options.IDLE_LOCK_MINUTES) == 9
    assert app_settings.get(options.CAPTURE_DELAY) == 5


def test_edit_details_in_place_is_audited(qtbot, controller) -> None:  # type: ignore[no-untyped-def]
    create_vault(qtbot, controller)
    controller.main.act_screen.trigger()
    wait_until(qtbot, lambda: controller.main.capture_model.rowCount() == 1)
    panel = controller.main.details
    wait_until(qtbot, lambda: panel.capture_id() is not None)
    url = panel.inputs["url"]
    assert isinstance(url, QLineEdit)
    url.setText("https://www.facebook.com/post/1")
    panel.save_requested.emit()
    capture_id = controller.session.captures()[0].id
    saved = controller.session.capture(capture_id)
    assert saved.details.url == "https://www.facebook.com/post/1"
    assert saved.details.site == "Facebook"  # guessed from the link
    assert controller.session.audit_entries()[-1].action == "capture.edited"


def test_import_through_the_window(qtbot, controller, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    create_vault(qtbot, controller)
    good = tmp_path / "phone.png"
    fake_screen().save(good)
    bad = tmp_path / "notes.txt"
    bad.write_text("hello")
    messages.set_next_answer(messages.Button.Ok)
    controller.main.import_paths([good, bad])
    wait_until(qtbot, lambda: controller.main.capture_model.rowCount() == 1)
    wait_until(qtbot, lambda: messages.shown[-1][0] == "Some files were not imported")


def test_verify_and_audit_dialogs(qtbot, controller) -> None:  # type: ignore[no-untyped-def]
    create_vault(qtbot, controller)
    messages.set_next_answer(messages.Button.Ok)
    controller.main.verify_vault()
    wait_until(qtbot, lambda: bool(messages.shown) and messages.shown[-1][0] == "Vault intact")
    dialog = AuditDialog(controller.session.audit_entries(), controller.main)
    qtbot.addWidget(dialog)
    assert dialog.table.model().rowCount() >= 1


def test_guide_and_child_protection_stop_capture_nothing(qtbot, controller) -> None:  # type: ignore[no-untyped-def]
    create_vault(qtbot, controller)
    guide = GuideDialog(controller.main)
    qtbot.addWidget(guide)
    stop = ChildProtectionDialog(controller.main)
    qtbot.addWidget(stop)
    for words in ("Do not copy", "police", "LADO", "designated safeguarding lead",
                  "Nothing has been captured"):
        assert words in CHILD_PROTECTION_TEXT
    assert controller.session.captures() == []


def test_no_widget_leaks_decrypted_images_after_lock(qtbot, controller) -> None:  # type: ignore[no-untyped-def]
    create_vault(qtbot, controller)
    controller.main.act_screen.trigger()
    wait_until(qtbot, lambda: controller.main.capture_model.rowCount() == 1)
    controller.lock()
    for widget in QApplication.topLevelWidgets():
        if isinstance(widget, QDialog):
            assert not widget.isVisible()
    assert controller.main.details.capture_id() is None


def test_the_installed_pyside_keeps_none_alive() -> None:
    """PySide6 6.12.0 dropped a reference to None on every void call, aborting Python 3.11
    after a few thousand repaints; pyproject.toml excludes it, and this guards the pin."""
    import sys

    from PySide6.QtCore import QPointF

    point = QPointF()
    before = sys.getrefcount(None)
    for _ in range(1000):
        point.setX(1.0)
    assert sys.getrefcount(None) - before > -10


def _capture_one(qtbot, controller) -> int:  # type: ignore[no-untyped-def]
    create_vault(qtbot, controller)
    controller.main.act_screen.trigger()
    wait_until(qtbot, lambda: controller.main.capture_model.rowCount() == 1)
    return controller.session.captures()[0].id


def test_describe_dialog_saves_an_audited_edit(qtbot, controller) -> None:  # type: ignore[no-untyped-def]
    capture_id = _capture_one(qtbot, controller)
    dialog = main_window_module.DescribeDialog(
        controller.session, controller.session.capture(capture_id), controller.main)
    qtbot.addWidget(dialog)
    author = dialog.panel.inputs["author"]
    assert isinstance(author, QLineEdit)
    author.setText("J. Smith")
    dialog.save()
    assert controller.session.capture(capture_id).details.author == "J. Smith"
    assert not dialog.view.has_image()  # dropped on close


def test_editor_dialog_stores_annotations_and_keeps_the_original(qtbot, controller) -> None:  # type: ignore[no-untyped-def]
    capture_id = _capture_one(qtbot, controller)
    original = controller.session.original(capture_id)
    dialog = main_window_module.EditorDialog(controller.session, capture_id, controller.main)
    qtbot.addWidget(dialog)
    data = {"version": 1, "items": [{"type": "redact", "rect": [300, 150, 200, 40]}]}
    editor = AnnotationEditor(original, data)
    qtbot.addWidget(editor)
    dialog.editor = editor
    dialog.save()
    stored = controller.session.annotations(capture_id)
    assert stored is not None and stored["items"][0]["type"] == "redact"
    assert controller.session.original(capture_id) == original
    assert controller.session.audit_entries()[-1].action == "annotation.changed"
    assert controller.session.capture(capture_id).has_annotations


def test_delete_asks_for_a_reason(qtbot, controller) -> None:  # type: ignore[no-untyped-def]
    _capture_one(qtbot, controller)
    messages.set_next_text("taken by mistake")
    controller.main.delete_capture()
    assert controller.session.captures() == []
    assert controller.session.audit_entries()[-1].details["reason"] == "taken by mistake"


def test_new_and_renamed_incidents(qtbot, controller) -> None:  # type: ignore[no-untyped-def]
    create_vault(qtbot, controller)
    messages.set_next_text("School Facebook page")
    controller.main.new_incident()
    assert controller.main.incident_model.rowCount() == 2
    assert controller.main.current_incident_id() == controller.session.incidents()[1].id
    messages.set_next_text("Facebook: school page")
    controller.main.rename_incident()
    assert controller.session.incidents()[1].title == "Facebook: school page"


def test_an_incident_is_described_and_a_cancelled_prompt_changes_nothing(  # type: ignore[no-untyped-def]
        qtbot, controller) -> None:
    create_vault(qtbot, controller)
    messages.set_next_text("School Facebook page")
    controller.main.new_incident()
    about = "Started on 3 March.\nThree accounts so far."
    messages.set_next_text(about)
    controller.main.describe_incident()
    assert messages.shown[-1][0] == "Describe incident"
    assert controller.session.incidents()[1].description == about
    messages.set_next_text("typed, then cancelled", accepted=False)
    controller.main.rename_incident()
    assert messages.shown[-1] == ("Rename incident", "New title:")
    assert controller.session.incidents()[1].title == "School Facebook page"


def test_crash_dialog_report_holds_no_message(qtbot, monkeypatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from evidence_recorder.core import paths
    from evidence_recorder.ui import crash

    monkeypatch.setattr(paths, "crash_log", lambda: tmp_path / "crash.log")
    shown: list[str] = []
    monkeypatch.setattr(crash.CrashDialog, "exec", lambda self: shown.append(
        self.report.toPlainText()) or 0)
    evidence = "https://" + "secret.example/post/1 note text"  # data, as evidence always is
    try:
        raise ValueError(evidence)
    except ValueError as exc:
        crash.handle_exception(type(exc), exc, exc.__traceback__)
    assert shown and "ValueError" in shown[0]
    assert "secret.example" not in shown[0]
    logged = (tmp_path / "crash.log").read_text()
    assert "ValueError" in logged and "secret.example" not in logged


def _unnamed_controls(root: QWidget) -> list[str]:
    """Focusable controls a screen reader could not name."""
    from PySide6.QtWidgets import QAbstractButton, QLabel

    buddies = {label.buddy() for label in root.findChildren(QLabel) if label.buddy()}
    missing = []
    for widget in [root, *root.findChildren(QWidget)]:
        if widget.focusPolicy() == Qt.FocusPolicy.NoFocus or not widget.isVisibleTo(root):
            continue
        if widget.accessibleName() or widget in buddies:
            continue
        if isinstance(widget, QAbstractButton) and widget.text().strip():
            continue
        if type(widget).__name__ in ("QWidget", "QFrame", "QTabBar"):
            continue  # plain containers and viewports; tab bars are named by their tabs
        if widget.parent() is not None and type(widget.parent()).__name__ in (
                "QComboBox", "QAbstractSpinBox", "QDateEdit", "QSpinBox"):
            continue  # the inner editor of a named control
        missing.append(f"{type(widget).__name__} {widget.objectName()}")
    return missing


def test_every_control_has_a_name_for_screen_readers(qtbot, controller) -> None:  # type: ignore[no-untyped-def]
    assert _unnamed_controls(controller.start) == []
    create_vault(qtbot, controller)
    controller.main.act_screen.trigger()
    wait_until(qtbot, lambda: controller.main.capture_model.rowCount() == 1)
    assert _unnamed_controls(controller.main) == []


def test_window_capture_waits_for_a_click_then_keeps_only_that_window(qtbot, controller) -> None:  # type: ignore[no-untyped-def]
    create_vault(qtbot, controller)
    capturer = controller.main.capturer
    capturer._window_check = lambda: None
    capturer._window_rect = lambda: (300, 150, 681, 251)
    controller.main.capture("window")  # no delay asked: it still counts down 3 seconds
    assert capturer._countdown is not None
    wait_until(qtbot, lambda: controller.main.capture_model.rowCount() == 1, 8000)
    saved = controller.session.captures()[0]
    assert saved.kind.value == "window"
    assert (saved.width, saved.height) == (681, 251)


def test_window_capture_where_impossible_says_so(qtbot, controller) -> None:  # type: ignore[no-untyped-def]
    create_vault(qtbot, controller)

    def not_here() -> None:
        raise capture.CaptureFailed("Capturing a single window is only possible on X11 desktops.")

    controller.main.capturer._window_check = not_here
    messages.set_next_answer(messages.Button.Ok)
    controller.main.act_window.trigger()
    wait_until(qtbot, lambda: messages.shown[-1][0] == "Not captured")
    assert not controller.main.capturer.busy


def test_export_dialog_seals_a_bundle_that_verifies(qtbot, controller, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from evidence_recorder.core.bundle.check import verify_bundle
    from evidence_recorder.ui.export_dialog import ExportDialog

    capture_id = _capture_one(qtbot, controller)
    dialog = ExportDialog(controller.session, controller.settings, [capture_id], None,
                          controller.main)
    qtbot.addWidget(dialog)
    dialog.incidents_button.setChecked(True)
    for i in range(dialog.incident_list.count()):
        dialog.incident_list.item(i).setCheckState(Qt.CheckState.Unchecked)
    with pytest.raises(Exception, match="Tick at least one incident"):
        dialog.chosen_options()
    dialog.selected_button.setChecked(True)
    dialog.police_button.setChecked(True)
    assert not dialog.originals.isEnabled() and dialog.originals.isChecked()
    dialog.encrypt.setChecked(True)
    dialog.own.setChecked(True)
    dialog.passphrase.setText(BUNDLE_PASSPHRASE)
    dialog.confirm.setText("river stone 99")
    with pytest.raises(Exception, match="not the same"):
        dialog.chosen_options()
    dialog.confirm.setText(BUNDLE_PASSPHRASE)
    dialog.name.setText("A. Teacher")
    chosen = dialog.chosen_options()
    assert chosen.capture_ids == [capture_id] and chosen.audience == "police"
    messages.set_next_answer(messages.Button.Ok)
    dialog.export_to(tmp_path / "b.zip", chosen)
    wait_until(qtbot, lambda: dialog.written is not None)
    assert verify_bundle(tmp_path / "b.zip", BUNDLE_PASSPHRASE).ok
    assert controller.settings.get(options.YOUR_NAME) == "A. Teacher"
    assert controller.session.audit_entries()[-1].action == "export"


def test_a_received_bundle_is_opened_checked_kept_and_shown_again(  # type: ignore[no-untyped-def]
        qtbot, controller, tmp_path: Path, monkeypatch) -> None:
    from evidence_recorder.core.bundle.seal import export_bundle
    from evidence_recorder.ui import app as app_module
    from evidence_recorder.ui.received import ReceivedBundlesDialog

    # Someone else's vault makes a bundle.
    sender_dir = tmp_path / "sender"
    with Vault.create(sender_dir, PASSPHRASE, kdf=FAST_KDF)[0] as sender:
        from test_vault import add
        add(sender, description="sent to the head")
        sent = export_bundle(sender, tmp_path / "sent.zip")

    # The headteacher opens it from the start window, before having a vault.
    monkeypatch.setattr(app_module.filedialogs, "open_files", lambda *a: [sent])
    qtbot.mouseClick(controller.start.create_page.bundle_button, Qt.MouseButton.LeftButton)
    # The one on show: viewers closed by earlier tests may not be deleted yet.
    viewer = next(w for w in QApplication.topLevelWidgets()
                  if type(w).__name__ == "BundleViewer" and w.isVisible())
    qtbot.addWidget(viewer)
    wait_until(qtbot, lambda: viewer.verdict() == "intact")

    # Saving asks for a vault first, then keeps it once the vault exists.
    told: list[tuple[object, str]] = []
    real_info = messages.info
    monkeypatch.setattr(messages, "info", lambda parent, title, *a, **k: (
        told.append((parent, title)), real_info(parent, title, *a, **k))[-1])
    messages.set_next_answer(messages.Button.Ok)
    viewer.act_save.trigger()
    assert controller.start.isVisible()
    messages.set_next_answer(messages.Button.Ok)
    create_vault(qtbot, controller)
    wait_until(qtbot, lambda: len(controller.session.vault.received_bundles()) == 1)
    kept = controller.session.vault.received_bundles()[0]
    assert kept.verdict["ok"] is True and kept.byte_size == sent.stat().st_size
    # ... and the reader is back at the bundle, still open, told over it that it is kept.
    wait_until(qtbot, lambda: any(title == "Saved in your vault" for _p, title in told))
    assert [p for p, title in told if title == "Saved in your vault"] == [viewer]
    assert viewer.isVisible() and viewer.is_loaded() and viewer.verdict() == "intact"
    wait_until(qtbot, lambda: QApplication.activeWindow() is viewer)

    dialog = ReceivedBundlesDialog(controller.session, controller.main)
    qtbot.addWidget(dialog)
    again = dialog.open_selected()
    assert again is not None
    qtbot.addWidget(again)
    wait_until(qtbot, lambda: again.verdict() == "intact")
    viewer.close()
    again.close()


def test_a_jump_of_the_wall_clock_means_the_machine_slept(qtbot) -> None:  # type: ignore[no-untyped-def]
    from evidence_recorder.ui.idle import SessionWatcher

    clock = {"wall": 1000.0, "mono": 50.0}
    watcher = SessionWatcher(wall=lambda: clock["wall"], monotonic=lambda: clock["mono"])
    fired: list[bool] = []
    watcher.lock_requested.connect(lambda: fired.append(True))
    clock["wall"] += 5
    clock["mono"] += 5
    watcher.check()
    assert fired == []  # five seconds of ordinary running
    clock["wall"] += 3600  # an hour asleep: the monotonic clock stood still
    clock["mono"] += 5
    watcher.check()
    assert fired == [True]
    watcher._poll.stop()


def test_windows_lock_and_sleep_messages_are_recognised() -> None:
    from evidence_recorder.ui import idle

    assert idle.windows_message_means_lock(idle.WM_WTSSESSION_CHANGE, idle.WTS_SESSION_LOCK)
    assert idle.windows_message_means_lock(idle.WM_POWERBROADCAST, idle.PBT_APMSUSPEND)
    assert not idle.windows_message_means_lock(idle.WM_WTSSESSION_CHANGE, 0x8)  # unlock
    assert not idle.windows_message_means_lock(idle.WM_POWERBROADCAST, 0x7)  # resume
    assert idle.mac_screen_is_locked() is False  # not macOS: unknown means "not locked"


def test_a_session_lock_signal_locks_the_vault(qtbot, controller) -> None:  # type: ignore[no-untyped-def]
    create_vault(qtbot, controller)
    controller.watcher.lock_requested.emit()
    assert not controller.session.is_unlocked
    assert controller.start.isVisible()


def test_a_bundle_exported_from_the_app_passes_every_standard_tool(  # type: ignore[no-untyped-def]
        qtbot, controller, tmp_path: Path) -> None:
    from test_bundle_export import check_with_standard_tools

    from evidence_recorder.ui.export_dialog import ExportDialog

    _capture_one(qtbot, controller)
    dialog = ExportDialog(controller.session, controller.settings, [], None, controller.main)
    qtbot.addWidget(dialog)
    messages.set_next_answer(messages.Button.Ok)
    dialog.export_to(tmp_path / "app.zip", dialog.chosen_options())
    wait_until(qtbot, lambda: dialog.written is not None)
    check_with_standard_tools(tmp_path / "app.zip", tmp_path / "x")


def test_a_large_incident_shows_its_newest_captures_first_then_the_rest(  # type: ignore[no-untyped-def]
        qtbot, controller, monkeypatch) -> None:
    """Opening an incident larger than FIRST_PAGE shows the newest at once; the rest
    arrive from a background read, and the count is the full one from the start."""
    monkeypatch.setattr(main_window_module, "FIRST_PAGE", 3)
    create_vault(qtbot, controller)
    main = controller.main
    for n in range(1, 6):
        main.act_screen.trigger()
        wait_until(qtbot, lambda n=n: main.capture_model.rowCount() == n)
    newest = sorted(c.id for c in controller.session.captures())[-3:]

    seen: list[list[int]] = []
    shown = main._show_captures
    monkeypatch.setattr(main, "_show_captures", lambda captures, count: (
        seen.append(sorted(c.id for c in captures)), shown(captures, count)))
    main.reload_captures(first_page=True)
    assert seen == [newest]  # at once: the newest three
    assert "5 captures" in main.statusBar().currentMessage()
    wait_until(qtbot, lambda: main.capture_model.rowCount() == 5)
    assert len(seen) == 2 and len(seen[1]) == 5

    # A reload after an edit reads everything at once (no jump back to a first page).
    seen.clear()
    main.reload_captures()
    assert [len(ids) for ids in seen] == [5]


def test_a_saved_redaction_shows_the_covered_copy_badged_with_show_original(  # type: ignore[no-untyped-def]
        qtbot, controller, monkeypatch) -> None:
    from PySide6.QtCore import QRect
    from PySide6.QtGui import QFont, QIcon

    from evidence_recorder.ui import delegates, models

    capture_id = _capture_one(qtbot, controller)
    main = controller.main
    main.show()
    index = main.capture_model.index(0, 0)
    main.grid.setCurrentIndex(main.proxy.mapFromSource(index))

    def picture_dark_at(image, x: float, y: float) -> bool:  # type: ignore[no-untyped-def]
        colour = image.pixelColor(int(x * image.width()), int(y * image.height()))
        return max(colour.red(), colour.green(), colour.blue()) < 60

    def thumbnail():  # type: ignore[no-untyped-def]
        main.capture_model.data(index, Qt.ItemDataRole.DecorationRole)  # asks for it
        wait_until(qtbot, lambda: main.capture_model.thumbnails_pending() == 0)
        icon = main.capture_model.data(index, Qt.ItemDataRole.DecorationRole)
        assert isinstance(icon, QIcon)
        return icon.pixmap(icon.availableSizes()[0]).toImage()

    def preview():  # type: ignore[no-untyped-def]
        return main.viewer._item.pixmap().toImage()

    # The middle of the post (640, 275 of 1280 × 800) is white before anything is covered.
    spot = (640 / 1280, 275 / 800)
    assert not picture_dark_at(preview(), *spot)
    assert not picture_dark_at(thumbnail(), *spot)
    assert not main.preview_bar.isVisibleTo(main)
    assert not main.capture_model.data(index, models.COVERED_ROLE)

    # The teacher covers the post and saves, through the window's own Highlight and redact.
    data = {"version": 1, "items": [{"type": "redact", "rect": [300, 150, 680, 250]}]}

    def edit(dialog) -> int:  # type: ignore[no-untyped-def]
        dialog.editor = AnnotationEditor(
            controller.session.original(capture_id), data)
        qtbot.addWidget(dialog.editor)
        dialog.save()
        return 1

    monkeypatch.setattr(main_window_module.EditorDialog, "exec", edit)
    badges: list[tuple[QRect, QFont]] = []
    real_badge = delegates.paint_covered_badge
    monkeypatch.setattr(delegates, "paint_covered_badge",
                        lambda painter, frame, font: (badges.append((QRect(frame), QFont(font))),
                                                      real_badge(painter, frame, font)))
    main.act_annotate.trigger()
    wait_until(qtbot, lambda: main.capture_model.rowCount() == 1)
    index = main.capture_model.index(0, 0)

    # The preview and the thumbnail are the covered copy now, each with its badge.
    assert picture_dark_at(preview(), *spot)
    assert main.preview_bar.isVisibleTo(main) and main.covered_badge.isVisibleTo(main)
    assert main.covered_badge.text() == "Covered copy"
    assert picture_dark_at(thumbnail(), *spot)
    assert main.capture_model.data(index, models.COVERED_ROLE) is True
    assert "covered copy" in main.capture_model.data(
        index, Qt.ItemDataRole.AccessibleTextRole)
    assert main.capture_model.data(index, Qt.ItemDataRole.ToolTipRole).startswith(
        "Covered copy: what you covered is hidden")
    main.tabs.setCurrentWidget(main.grid)
    main.grid.viewport().repaint()
    assert badges, "no badge was painted on the covered thumbnail"
    item = main.grid.visualRect(main.proxy.mapFromSource(index))
    frame = badges[-1][0]
    badge = delegates.covered_badge_rect(frame, badges[-1][1])
    assert item.contains(badge) and badge.width() > 40  # on the picture, wide enough to read
    # The original in the vault is untouched.
    assert not picture_dark_at(
        models.QImage.fromData(controller.session.original(capture_id)), *spot)

    # "Show original" shows the untouched capture, without the badge, and back.
    qtbot.mouseClick(main.show_original_button, Qt.MouseButton.LeftButton)
    assert main.showing_original() and not picture_dark_at(preview(), *spot)
    assert not main.covered_badge.isVisibleTo(main)
    qtbot.mouseClick(main.show_original_button, Qt.MouseButton.LeftButton)
    assert not main.showing_original() and picture_dark_at(preview(), *spot)
    assert main.covered_badge.isVisibleTo(main)

    # Choosing the capture again always starts from the covered copy.
    qtbot.mouseClick(main.show_original_button, Qt.MouseButton.LeftButton)
    main._show_capture(capture_id)
    assert not main.showing_original() and picture_dark_at(preview(), *spot)


def _three_captures(qtbot, controller) -> list[int]:  # type: ignore[no-untyped-def]
    create_vault(qtbot, controller)
    for n in range(3):
        controller.main.act_screen.trigger()
        wait_until(qtbot, lambda n=n: controller.main.capture_model.rowCount() == n + 1)
    return [c.id for c in controller.session.captures()]


def test_saving_in_the_detail_pane_stays_on_the_capture(qtbot, controller) -> None:  # type: ignore[no-untyped-def]
    main = controller.main
    ids = _three_captures(qtbot, controller)
    main.select_capture(ids[1])
    panel = main.details
    wait_until(qtbot, lambda: panel.capture_id() == ids[1])
    author = panel.inputs["author"]
    assert isinstance(author, QLineEdit)
    author.setText("J. Smith")
    panel.save_requested.emit()
    assert controller.session.capture(ids[1]).details.author == "J. Smith"
    qtbot.wait(50)
    current = main.grid.currentIndex()
    assert current.isValid()
    assert main.capture_model.capture_at(main.proxy.mapToSource(current).row()).id == ids[1]
    assert main.grid.selectionModel().isSelected(current)
    assert panel.capture_id() == ids[1] and author.text() == "J. Smith"
    assert main.viewer.has_image()  # the picture stays too
    assert not panel.has_changes()  # what is shown is what was saved


def test_escape_in_the_describe_window_asks_before_dropping_typed_words(  # type: ignore[no-untyped-def]
        qtbot, controller) -> None:
    capture_id = _capture_one(qtbot, controller)
    session = controller.session

    def shown_dialog() -> main_window_module.DescribeDialog:
        dialog = main_window_module.DescribeDialog(session, session.capture(capture_id),
                                                   controller.main)
        qtbot.addWidget(dialog)
        dialog.show()
        qtbot.waitExposed(dialog)
        return dialog

    dialog = shown_dialog()
    before = len(messages.shown)
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)  # nothing typed: closes without a word
    assert not dialog.isVisible() and len(messages.shown) == before

    dialog = shown_dialog()
    author = dialog.panel.inputs["author"]
    assert isinstance(author, QLineEdit)
    author.setText("J. Smith")
    messages.set_next_answer(messages.Button.No)
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert messages.shown[-1][0] == "Discard what you typed?"
    assert dialog.isVisible() and author.text() == "J. Smith"  # kept
    messages.set_next_answer(messages.Button.Yes)
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert not dialog.isVisible()
    assert dialog.result() == QDialog.DialogCode.Rejected
    assert session.capture(capture_id).details.author == ""

    dialog = shown_dialog()  # the vault locking closes it at once, with no question
    dialog.panel.inputs["author"].setFocus()
    qtbot.keyClicks(dialog.panel.inputs["author"], "typed")
    before = len(messages.shown)
    controller.lock()
    assert not dialog.isVisible() and len(messages.shown) == before


def test_the_describe_window_has_room_for_two_columns(qtbot, controller) -> None:  # type: ignore[no-untyped-def]
    capture_id = _capture_one(qtbot, controller)
    dialog = main_window_module.DescribeDialog(
        controller.session, controller.session.capture(capture_id), controller.main)
    qtbot.addWidget(dialog)
    dialog.resize(1280, 720)
    dialog.show()
    qtbot.waitExposed(dialog)
    qtbot.waitUntil(dialog.panel.is_two_columns)
    assert dialog.view.width() >= 300  # and the picture beside it
    dialog.close()


@pytest.mark.parametrize("count", [1, 3])
def test_an_import_opens_the_describe_step_for_what_came_in(  # type: ignore[no-untyped-def]
        qtbot, controller, tmp_path: Path, monkeypatch, count: int) -> None:
    create_vault(qtbot, controller)
    steps: list[list[int]] = []

    def describe(dialog: main_window_module.DescribeDialog) -> int:
        steps.append(dialog.capture_ids())
        author = dialog.panel.inputs["author"]
        assert isinstance(author, QLineEdit)
        author.setText("J. Smith")
        handle = dialog.panel.inputs["handle"]
        assert isinstance(handle, QLineEdit)
        handle.setText("jsmith")
        dialog.save()
        return int(dialog.result())

    monkeypatch.setattr(main_window_module.DescribeDialog, "exec", describe)
    paths = []
    for n in range(count):
        path = tmp_path / f"phone{n}.png"
        fake_screen().save(path)
        paths.append(path)
    controller.main.import_paths(paths)
    wait_until(qtbot, lambda: len(steps) == 1)
    captures = controller.session.captures()
    assert steps == [[c.id for c in captures]]  # one step for all of them
    assert {(c.details.author, c.details.handle) for c in captures} == {("J. Smith", "@jsmith")}
    edits = [e for e in controller.session.audit_entries() if e.action == "capture.edited"]
    assert len(edits) == count  # each capture's edit is in the audit log
    panel = controller.main.details
    assert panel.capture_id() == captures[-1].id
    wait_until(qtbot, lambda: panel.inputs["author"].text() == "J. Smith")  # type: ignore[attr-defined]


def test_a_handle_with_a_space_is_not_saved_and_the_words_stay(qtbot, controller) -> None:  # type: ignore[no-untyped-def]
    capture_id = _capture_one(qtbot, controller)
    panel = controller.main.details
    wait_until(qtbot, lambda: panel.capture_id() == capture_id)
    handle = panel.inputs["handle"]
    assert isinstance(handle, QLineEdit)
    handle.setText("sam jones")
    messages.set_next_answer(messages.Button.Ok)
    panel.save_requested.emit()
    assert messages.shown[-1][0] == "Not saved" and "no spaces" in messages.shown[-1][1]
    assert handle.text() == "sam jones" and panel.has_changes()
    assert controller.session.capture(capture_id).details.handle == ""
    handle.setText("samjones")
    panel.save_requested.emit()
    assert controller.session.capture(capture_id).details.handle == "@samjones"
    assert handle.text() == "@samjones" and not panel.has_changes()


def test_locking_closes_the_editor_at_once_even_with_unsaved_marks(  # type: ignore[no-untyped-def]
        qtbot, controller) -> None:
    """A question box would keep the picture on screen after the vault locked."""
    capture_id = _capture_one(qtbot, controller)
    dialog = main_window_module.EditorDialog(controller.session, capture_id, controller.main)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    dialog.editor.is_modified = lambda: True  # marks drawn and not saved
    before = len(messages.shown)
    controller.lock()
    assert not dialog.isVisible() and len(messages.shown) == before
