"""Browsing the vault (issue 10): dates, empty views, widths, moving captures; the audit
log in sentences; locking audited. Real SQLCipher vaults and the real main window."""

from __future__ import annotations

import dataclasses
import os
import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from conftest import PASSPHRASE, fake_screen
from PySide6.QtCore import QItemSelectionModel, QMimeData, QPointF, QRect, Qt
from PySide6.QtGui import QDropEvent

from evidence_recorder.core.errors import NotFound
from evidence_recorder.core.gather import capture, recorder
from evidence_recorder.core.model import AuditEntry, CaptureDetails
from evidence_recorder.core.vault.store import Vault
from evidence_recorder.ui import browse, messages
from evidence_recorder.ui.audit_view import ACTION_LABELS, AuditDialog, entry_sentence
from evidence_recorder.ui.models import CAPTURE_IDS_MIME

REPO = Path(__file__).resolve().parents[1]
SHOTS = os.environ.get("BROWSE_SHOTS")  # a folder: save what the windows look like


def create_vault(qtbot, ctl) -> None:  # type: ignore[no-untyped-def]
    page = ctl.start.create_page
    page.passphrase.setText(PASSPHRASE)
    page.confirm.setText(PASSPHRASE)
    page.create_button.click()
    qtbot.waitUntil(lambda: ctl.start.stack.currentWidget() is ctl.start.key_page,
                    timeout=10_000)
    ctl.start.key_page.confirm.setChecked(True)
    ctl.start.key_page.continue_button.click()
    qtbot.waitUntil(lambda: ctl.main.isVisible(), timeout=10_000)


def grab(vault: Vault, days_ago: int = 0, incident_id: int | None = None,
         **details: str) -> int:
    shot = capture.grab(capture.FakeGrabber(fake_screen()))
    shot = dataclasses.replace(shot, captured_at=shot.captured_at - timedelta(days=days_ago))
    return recorder.save_grab(vault, shot, CaptureDetails(**details), incident_id)


def shot(widget, name: str) -> None:  # type: ignore[no-untyped-def]
    if SHOTS:
        widget.grab().save(str(Path(SHOTS) / f"browse-{name}.png"))


# ---------------------------------------------------------------------- core


def test_moving_captures_is_one_audited_edit_each_and_verifies(vault: Vault) -> None:
    first, second = grab(vault), grab(vault)
    target = vault.new_incident("Comments on the school page")
    before = len(vault.audit_entries())
    assert vault.move_captures([first, second, first], target.id) == [first, second]
    assert {c.id for c in vault.captures(target.id)} == {first, second}
    moves = vault.audit_entries()[before:]
    assert [(e.action, e.details["capture"]) for e in moves] == [
        ("capture.edited", first), ("capture.edited", second)]
    assert moves[0].details["changes"] == {"incident": {"old": 1, "new": target.id}}
    assert vault.move_captures([first], target.id) == []  # already there: nothing logged
    assert len(vault.audit_entries()) == before + 2
    report = vault.verify()
    assert report.ok, report.problems
    # All or nothing: one unknown capture and none moves.
    with pytest.raises(NotFound):
        vault.move_captures([first, 999], vault.default_incident().id)
    with pytest.raises(NotFound):
        vault.move_captures([first], 999)
    assert {c.id for c in vault.captures(target.id)} == {first, second}


def test_locking_is_audited_before_the_key_is_forgotten(new_vault: tuple[Vault, str]) -> None:
    vault, _key = new_vault
    folder = vault.folder
    vault.close(how="idle")
    reopened = Vault.open(folder, PASSPHRASE)
    entries = reopened.audit_entries()
    assert [e.action for e in entries[-2:]] == ["vault.locked", "vault.unlocked"]
    assert entries[-2].details == {"how": "idle"}
    report = reopened.verify()
    assert report.ok, report.problems
    reopened.close()  # plain close (CLI, tests): nothing written
    again = Vault.open(folder, PASSPHRASE)
    assert [e.action for e in again.audit_entries()[-2:]] == ["vault.unlocked",
                                                              "vault.unlocked"]
    again.close()


def test_the_app_audits_each_way_of_locking(qtbot, controller) -> None:  # type: ignore[no-untyped-def]
    create_vault(qtbot, controller)
    folder = controller.session.folder

    def unlock() -> None:
        done: list[bool] = []
        controller.session.unlock(PASSPHRASE, lambda: done.append(True), pytest.fail)
        qtbot.waitUntil(lambda: bool(done), timeout=10_000)

    controller.main.act_lock.trigger()
    unlock()
    controller.watcher.lock_requested.emit()
    unlock()
    controller.idle.idle.emit()
    assert not controller.session.is_unlocked
    with Vault.open(folder, PASSPHRASE) as vault:
        hows = [e.details["how"] for e in vault.audit_entries() if e.action == "vault.locked"]
    assert hows == ["locked by you", "session locked", "idle"]


# ---------------------------------------------------------------------- the main window


def test_dates_run_from_the_first_capture_to_today_and_hide_nothing(qtbot, controller) -> None:  # type: ignore[no-untyped-def]
    create_vault(qtbot, controller)
    vault = controller.session.vault
    grab(vault, days_ago=400)
    grab(vault)
    grab(vault, days_ago=-1)  # a clock set ahead, or the app left open past midnight
    main = controller.main
    main.load()
    today = date.today()
    assert main.date_to.date().toPython() == today
    assert main.date_from.date().toPython() <= today - timedelta(days=399)
    assert main.proxy.rowCount() == 3  # the defaults filter nothing out
    main.date_to.setDate(main.date_to.date().addDays(-1))  # chosen by the person: applies
    assert main.proxy.rowCount() == 1
    main.clear_filters()
    assert main.date_to.date().toPython() == today
    assert main.proxy.rowCount() == 3
    # Left open overnight: dates still at yesterday's defaults move on at the next reload.
    yesterday = today - timedelta(days=1)
    main.date_to.setDate(main.date_to.date().addDays(-1))
    main._default_dates = (main._default_dates[0], yesterday)
    main.reload_captures()
    assert main.date_to.date().toPython() == today
    assert main.proxy.rowCount() == 3


def test_an_empty_search_says_so_and_offers_to_clear(qtbot, controller) -> None:  # type: ignore[no-untyped-def]
    create_vault(qtbot, controller)
    grab(controller.session.vault, site="Facebook")
    main = controller.main
    main.resize(1280, 720)
    main.load()
    overlays = main.empty_overlays
    assert all(o.isHidden() for o in overlays)
    main.search.setText("no such words anywhere")
    assert main.proxy.rowCount() == 0
    for overlay in overlays:
        assert not overlay.isHidden()
        assert overlay.label.text().startswith("No captures match")
        assert not overlay.button.isHidden()
    grid_overlay = overlays[0]
    assert grid_overlay.geometry() == main.grid.viewport().rect()
    qtbot.wait(50)
    shot(main, "empty-search")
    grid_overlay.button.click()
    assert main.search.text() == ""
    assert main.proxy.rowCount() == 1
    assert all(o.isHidden() for o in overlays)

    empty = controller.session.new_incident("Nothing in here")
    row = main.incident_model.row_of(empty.id)
    main.incident_view.setCurrentIndex(main.incident_model.index(row, 0))
    for overlay in overlays:
        assert overlay.label.text() == "No captures in this incident yet."
        assert overlay.button.isHidden()
    qtbot.wait(50)
    shot(main, "empty-incident")


def test_the_browse_area_is_wide_enough_at_1280_by_720(qtbot, controller) -> None:  # type: ignore[no-untyped-def]
    create_vault(qtbot, controller)
    vault = controller.session.vault
    long_title = "Comments about Mr Hargreaves on the Year 9 parents' WhatsApp group"
    incident = controller.session.new_incident(long_title)
    author = "Alexandra Montgomery-Smythe"
    for _ in range(3):
        grab(vault, incident_id=incident.id, site="Facebook", author=author,
             handle="alexandra_ms_official", description="Posted a photo with a cruel caption")
    main = controller.main
    main.resize(1280, 720)
    main.load()
    row = main.incident_model.row_of(incident.id)
    index = main.incident_model.index(row, 0)
    main.incident_view.setCurrentIndex(index)
    main.tabs.setCurrentWidget(main.table)
    qtbot.wait(100)
    shot(main, "main-1280x720")

    assert main.search.width() >= 220
    # The incident's whole name is drawn: it wraps inside its row rather than being cut.
    view = main.incident_view
    rect = view.visualRect(index)
    text = index.data()
    needed = view.fontMetrics().boundingRect(QRect(0, 0, rect.width() - 8, 10_000),
                                             int(Qt.TextFlag.TextWordWrap), text)
    assert needed.height() <= rect.height()
    assert rect.right() <= view.viewport().width()
    # Timeline columns fit what they show.
    header = main.table.horizontalHeader()
    metrics = main.table.fontMetrics()
    author_text = f"{author} (@alexandra_ms_official)"
    assert header.sectionSize(3) >= min(metrics.horizontalAdvance(author_text),
                                        browse.COLUMN_CAP - 20)
    assert header.sectionSize(3) <= browse.COLUMN_CAP
    assert header.stretchLastSection()


def test_moving_several_captures_by_menu_and_by_drag_and_drop(qtbot, controller,  # type: ignore[no-untyped-def]
                                                             monkeypatch) -> None:
    create_vault(qtbot, controller)
    session = controller.session
    ids = [grab(session.vault, site=site) for site in ("Facebook", "Instagram", "TikTok")]
    target = session.new_incident("Instagram comments")
    main = controller.main
    main.resize(1280, 720)
    main.load()
    assert main.proxy.rowCount() == 3
    selection = main.grid.selectionModel()
    flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
    for proxy_row in (0, 1):
        selection.select(main.proxy.index(proxy_row, 0), flags)
    chosen = main.selected_capture_ids()
    assert len(chosen) == 2

    asked: list[tuple[list[int], int]] = []

    def answer(_parent, incidents, count):  # type: ignore[no-untyped-def]
        asked.append(([i.id for i in incidents], count))
        return target.id

    monkeypatch.setattr(browse, "choose_incident", answer)
    assert main.act_move in main.menuBar().actions()[1].menu().actions()
    main.act_move.trigger()
    assert asked == [([target.id], 2)]  # the incident being shown is not offered
    assert {c.id for c in session.captures(target.id)} == set(chosen)
    assert main.proxy.rowCount() == 1  # they left the incident shown
    row = main.incident_model.row_of(target.id)
    assert main.incident_model.index(row, 0).data() == "Instagram comments (2)"

    # Drag the last one onto the incident in the list: what the drag carries is the
    # capture number alone, and dropping it moves it.
    left = main.proxy.index(0, 0)
    mime = main.proxy.mimeData([left])
    assert mime.formats() == [CAPTURE_IDS_MIME]
    view = main.incident_view
    point = QPointF(view.visualRect(main.incident_model.index(row, 0)).center())
    drop = QDropEvent(point, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)
    view.dropEvent(drop)
    assert drop.isAccepted()
    # Something else dropped there (a file, text) is refused and moves nothing.
    other = QMimeData()
    other.setText("3")
    refused = QDropEvent(point, Qt.DropAction.CopyAction, other, Qt.MouseButton.LeftButton,
                         Qt.KeyboardModifier.NoModifier)
    view.dropEvent(refused)
    assert not refused.isAccepted()
    assert {c.id for c in session.captures(target.id)} == set(ids)
    assert main.incident_model.index(row, 0).data() == "Instagram comments (3)"
    moves = [e for e in session.audit_entries() if e.action == "capture.edited"]
    assert len(moves) == 3
    assert session.vault.verify().ok


def test_move_with_nothing_chosen_says_what_to_do(qtbot, controller) -> None:  # type: ignore[no-untyped-def]
    create_vault(qtbot, controller)
    messages.set_next_answer(messages.Button.Ok)
    controller.main.move_to_incident()
    assert messages.shown[-1][0] == "Choose captures"


# ---------------------------------------------------------------------- the audit log


def entry(action: str, details: dict, subject: str = "vault") -> AuditEntry:  # type: ignore[type-arg]
    return AuditEntry(1, "2026-12-07T16:04:05.123Z", action, subject, details, "0" * 64,
                      "f" * 64)


def test_audit_entries_read_as_sentences() -> None:
    edit = entry("capture.edited", {"capture": 12, "changes": {
        "site": {"old": "Facebook", "new": "Instagram"}}})
    assert entry_sentence(edit) == "Capture 12 edited: site Facebook → Instagram"
    assert entry_sentence(entry("capture.deleted", {"capture": 3, "sha256": "a",
                                                    "reason": "duplicate"})) == \
        "Capture 3 deleted: reason “duplicate”"
    assert entry_sentence(entry("export", {"captures": [1, 2, 3], "audience": "headteacher"})) \
        == "Report exported (3 captures, for the headteacher)"
    assert entry_sentence(entry("vault.unlocked", {"with": "passphrase"})) == \
        "Vault unlocked with the passphrase"
    assert entry_sentence(entry("vault.locked", {"how": "locked by you"})) == "Vault locked"
    moved = entry("capture.edited", {"capture": 4, "changes": {"incident": {"old": 1, "new": 2}}})
    assert entry_sentence(moved, {1: "Unsorted captures", 2: "Bus stop"}) == \
        "Capture 4 edited: moved from incident 1 (“Unsorted captures”) to incident 2 (“Bus stop”)"
    assert entry_sentence(entry("something.new", {})) == "Other action: something.new"
    # Details not as expected: the short name, never an exception.
    assert entry_sentence(entry("capture.deleted", {"oops": 1})) == "Capture deleted"


def test_every_action_the_code_writes_has_its_own_sentence() -> None:
    written: set[str] = set()
    for path in (REPO / "evidence_recorder").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        written |= set(re.findall(r'_append\(cur, "([a-z_.]+)"', text))
        written |= set(re.findall(r'record\(\s*"([a-z_.]+)"', text))
        written |= set(re.findall(r'_set_passphrase\([^)]*"([a-z_.]+)"\)', text))
        written |= set(re.findall(r'^ACTION_[A-Z]+ = "([a-z_.]+)"', text, re.MULTILINE))
    assert {"vault.locked", "export", "vault.backup", "bundle.received",
            "passphrase.changed", "vault.restored"} <= written
    assert written <= set(ACTION_LABELS), written - set(ACTION_LABELS)
    for action in written:
        assert not entry_sentence(entry(action, {})).startswith("Other action")


def test_the_audit_window_shows_sentences_one_time_and_the_raw_entry(qtbot, vault: Vault) -> None:  # type: ignore[no-untyped-def]
    capture_id = grab(vault, site="Facebook")
    vault.edit_capture(capture_id, {"site": "Instagram"})
    vault.new_incident("<b>Bold</b> title")
    dialog = AuditDialog(vault.audit_entries(), None,
                         {i.id: i.title for i in vault.incidents()})
    qtbot.addWidget(dialog)
    dialog.resize(1000, 560)
    dialog.show()
    model = dialog.table.model()
    assert model.columnCount() == 3
    sentences = [model.index(r, 2).data() for r in range(model.rowCount())]
    assert f"Capture {capture_id} edited: site Facebook → Instagram" in sentences
    assert not any(s.startswith("Other action") for s in sentences)
    when = model.index(0, 1)
    assert "UTC" not in when.data() and "·" not in when.data()  # one time per row
    assert when.data(Qt.ItemDataRole.ToolTipRole).endswith("UTC")
    # The title someone typed is shown as characters, not drawn as markup.
    last = model.rowCount() - 1
    assert "“<b>Bold</b> title”" in model.index(last, 2).data()
    assert "&lt;b&gt;" in model.index(last, 2).data(Qt.ItemDataRole.ToolTipRole)
    dialog.table.selectRow(last)
    raw = dialog.details.toPlainText()
    assert '"title": "<b>Bold</b> title"' in raw and "incident.created" in raw
    qtbot.wait(50)
    shot(dialog, "audit-log")
    dialog.close()
