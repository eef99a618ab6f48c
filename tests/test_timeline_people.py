"""The timeline merges flagged messages with the captures by time, opens their
conversation at them, and filters by person: one person's course of conduct across
screenshots, web pages, e-mails and chats."""

from __future__ import annotations

import io
from pathlib import Path

from message_items import add_chat, add_email
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from test_app import create_vault, wait_until

from evidence_recorder.core.gather.images import make_thumbnail
from evidence_recorder.core.gather.recorder import ImportOutcome
from evidence_recorder.core.model import ArtefactRole, CaptureDetails, CaptureKind
from evidence_recorder.core.vault.items import NewArtefact
from evidence_recorder.core.vault.store import Vault
from evidence_recorder.ui import main_window as main_window_module
from evidence_recorder.ui.conversation import ConversationWindow
from evidence_recorder.ui.conversation_model import local_time_text
from evidence_recorder.ui.models import (
    Column,
    FlaggedMessage,
    flagged_row_id,
    flagged_row_item,
)


def add_picture(vault: Vault, when: str, details: CaptureDetails,
                incident_id: int | None = None) -> int:
    out = io.BytesIO()
    Image.new("RGB", (80, 60), (30, 90, 200)).save(out, "PNG")
    data = out.getvalue()
    return vault.add_item(CaptureKind.IMPORT, [NewArtefact(
        "original.png", ArtefactRole.ORIGINAL, "image/png", data, primary=True)],
        captured_at=when, tz_name="Europe/London", utc_offset="+01:00", environment={},
        thumbnail=make_thumbnail(data), width=80, height=60, details=details,
        incident_id=incident_id)


def fill(controller) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    """A picture posted by Alex, a chat with two flagged messages (Alex's and Sam's)
    and an e-mail, in the incident on show."""
    create_vault_if_needed(controller)
    main = controller.main
    vault = controller.session.vault
    incident = main.current_incident_id()
    picture = add_picture(vault, "2026-10-01T12:30:00.000Z",
                          CaptureDetails(site="Instagram", author="Alex", handle="alex99",
                                         description="the post"), incident)
    chat = add_chat(vault, 40, incident_id=incident)
    mail = add_email(vault, incident_id=incident)
    vault.flag_messages(chat, [3], category="threat", note="Alex threatens")
    vault.flag_messages(chat, [6], category="harassment")
    main.reload_captures()
    return picture, chat, mail


def create_vault_if_needed(controller) -> None:  # type: ignore[no-untyped-def]
    if not controller.main.isVisible():
        raise AssertionError("create the vault first")


def timeline_rows(main) -> list[tuple[int, str]]:  # type: ignore[no-untyped-def]
    """(row id, kind column) of the rows the timeline shows, in its order by time."""
    proxy = main.proxy
    rows = []
    for row in range(proxy.rowCount()):
        capture = proxy.capture_at(row)
        rows.append((capture.id, proxy.index(row, Column.KIND).data()))
    return rows


def test_row_ids_of_flagged_messages_round_trip() -> None:
    assert flagged_row_item(flagged_row_id(7, 99_999)) == (7, 99_999)
    assert flagged_row_id(7, 0) < 0 and flagged_row_id(7, 0) != flagged_row_id(7, 1)


def test_flagged_messages_are_merged_by_time(qtbot, controller) -> None:  # type: ignore[no-untyped-def]
    create_vault(qtbot, controller)
    picture, chat, mail = fill(controller)
    main = controller.main
    main.proxy.sort(Column.CAPTURED, Qt.SortOrder.AscendingOrder)
    rows = timeline_rows(main)
    ids = [r[0] for r in rows]
    assert set(ids) == {picture, chat, mail, flagged_row_id(chat, 3), flagged_row_id(chat, 6)}
    # picture 12:30 UTC, Alex's message 13:00 UTC, Sam's 16:00 UTC, then the imports
    assert ids.index(picture) < ids.index(flagged_row_id(chat, 3)) \
        < ids.index(flagged_row_id(chat, 6)) < ids.index(chat)
    flagged = ids.index(flagged_row_id(chat, 3))
    assert rows[flagged][1] == "Flagged message"
    proxy = main.proxy
    assert proxy.index(flagged, Column.AUTHOR).data() == "Alex"
    assert proxy.index(flagged, Column.CATEGORY).data() == "Threat"
    assert proxy.index(flagged, Column.DESCRIPTION).data().startswith("message number 3")
    assert "Written in the export as" in proxy.index(flagged, Column.CAPTURED).data(
        Qt.ItemDataRole.ToolTipRole)
    assert rows[ids.index(chat)][1] == "Chat export" and rows[ids.index(mail)][1] == "E-mail"


def test_filter_by_person(qtbot, controller) -> None:  # type: ignore[no-untyped-def]
    create_vault(qtbot, controller)
    picture, chat, _mail = fill(controller)
    main = controller.main
    people = [main.person_filter.itemText(i) for i in range(main.person_filter.count())]
    assert {"Alex", "Sam", "+44 7700 900123", "@alex99"} <= set(people)
    main.person_filter.setEditText("alex")  # any case
    assert {r[0] for r in timeline_rows(main)} == {picture, flagged_row_id(chat, 3)}
    main.person_filter.setEditText("+44 7700 900123")  # the sender id finds the message
    assert {r[0] for r in timeline_rows(main)} == {flagged_row_id(chat, 3)}
    main.person_filter.setEditText("@alex99")
    assert {r[0] for r in timeline_rows(main)} == {picture}
    main.person_filter.setEditText("Sam")
    assert {r[0] for r in timeline_rows(main)} == {flagged_row_id(chat, 6)}
    main.clear_filters()
    assert len(timeline_rows(main)) == 5


def test_a_flagged_row_opens_its_conversation_with_context(qtbot, controller) -> None:  # type: ignore[no-untyped-def]
    create_vault(qtbot, controller)
    _picture, chat, _mail = fill(controller)
    main = controller.main
    main.tabs.setCurrentWidget(main.table)
    row = next(i for i, (rid, _k) in enumerate(timeline_rows(main))
               if rid == flagged_row_id(chat, 3))
    index = main.proxy.index(row, 0)
    main.table.setCurrentIndex(index)
    assert isinstance(main._current_flagged, FlaggedMessage)
    assert main.selected_capture_ids() == []  # never moved, deleted or exported as a capture
    assert "Alex threatens" in main.web_facts.text()
    main.table.setFocus()
    qtbot.keyClick(main.table, Qt.Key.Key_Return)
    window = main._conversations[chat]
    assert isinstance(window, ConversationWindow) and window.isVisible()
    assert window.view.currentIndex().row() == 3
    assert window.model.highlighted() == set(range(7))
    # the same time in both places: on the clock of the computer that imported it
    shown = main.proxy.index(row, Column.CAPTURED).data()
    assert shown == local_time_text(window.model.message(3), window.zone) == "1 Oct 2026 14:00"
    window.close()
    QApplication.processEvents()


def test_message_items_open_their_conversation(qtbot, controller) -> None:  # type: ignore[no-untyped-def]
    create_vault(qtbot, controller)
    _picture, chat, mail = fill(controller)
    main = controller.main
    for item in (chat, mail):
        main.select_capture(item)
        main.act_open_conversation.trigger()
        window = main._conversations[item]
        assert window.isVisible() and window.is_mailbox == (item == mail)
        window.close()
        QApplication.processEvents()
    main.select_capture(chat)
    main.annotate()  # nothing to draw on: it reads it instead
    assert main._conversations[chat].isVisible()
    main._conversations[chat].close()
    QApplication.processEvents()


def test_flagging_in_the_conversation_updates_the_timeline(
        qtbot, controller, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    create_vault(qtbot, controller)
    _picture, chat, _mail = fill(controller)
    main = controller.main
    window = main.open_conversation(chat)
    monkeypatch.setattr(type(window), "flag_selected", type(window).flag_selected)
    controller.session.flag_messages(chat, [10], category="hate")
    assert flagged_row_id(chat, 10) in {r[0] for r in timeline_rows(main)}
    controller.session.unflag_messages(chat, [3])
    assert flagged_row_id(chat, 3) not in {r[0] for r in timeline_rows(main)}
    assert window.model.flag(10) is not None and window.model.flag(3) is None
    window.close()
    QApplication.processEvents()


def test_import_offers_emails_and_chats_and_says_what_each_was_taken_for(
        tmp_path: Path) -> None:
    wanted = ("*.eml", "*.msg", "*.mbox", "*.txt", "*.zip", "*.json", "*.xml", "All files (*)")
    assert all(part in main_window_module.IMPORT_FILTER for part in wanted)
    outcome = ImportOutcome(saved=[(tmp_path / "chat.txt", 1), (tmp_path / "a.eml", 2)],
                            taken_as={tmp_path / "chat.txt": "a WhatsApp chat export",
                                      tmp_path / "a.eml": "an e-mail (.eml)"})
    assert main_window_module.import_taken_as(outcome).splitlines() == [
        "chat.txt: taken as a WhatsApp chat export", "a.eml: taken as an e-mail (.eml)"]


def test_locking_closes_conversations(qtbot, controller) -> None:  # type: ignore[no-untyped-def]
    create_vault(qtbot, controller)
    _picture, chat, _mail = fill(controller)
    main = controller.main
    window = main.open_conversation(chat)
    assert main.open_conversation(chat) is window  # one window per item
    controller.session.lock()
    assert not window.isVisible() and window.model.rowCount() == 0
    wait_until(qtbot, lambda: main.person_filter.count() == 0)
