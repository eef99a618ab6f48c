"""The conversation window reads a chat export or a mailbox from a real vault a page
at a time, searches it, jumps to a day, flags messages through the session (audited),
keeps pictures hidden until clicked, shows an e-mail's header block and never takes
an export's words for markup."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from conftest import FAST_KDF, PASSPHRASE, unlocked_session
from message_items import HOSTILE, add_chat, add_email, chat_messages
from PySide6.QtCore import QDate, QItemSelectionModel, QPoint, Qt
from PySide6.QtWidgets import QApplication, QDialog, QLabel, QPlainTextEdit
from pytestqt.qtbot import QtBot

from evidence_recorder.core.vault.store import Vault
from evidence_recorder.ui import conversation as conversation_module
from evidence_recorder.ui.conversation import ConversationWindow, FlagDialog, dkim_text
from evidence_recorder.ui.conversation_model import REPLY_ROLE, ConversationModel
from evidence_recorder.ui.session import VaultSession
from evidence_recorder.ui.tasks import wait_for_tasks


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    folder = tmp_path / "vault"
    Vault.create(folder, PASSPHRASE, kdf=FAST_KDF)[0].close()
    return folder


@pytest.fixture
def session(qtbot: QtBot, folder: Path) -> Iterator[VaultSession]:
    yield from unlocked_session(qtbot, folder)


def counting(session: VaultSession, monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, ...]]:
    """Record every read of messages the session is asked for."""
    calls: list[tuple[Any, ...]] = []
    real = session.messages

    def spy(item_id: int, start: int = 0, limit: int | None = None, **kw: Any) -> Any:
        calls.append((item_id, start, limit, tuple(sorted(kw.items()))))
        return real(item_id, start, limit, **kw)

    monkeypatch.setattr(session, "messages", spy)
    return calls


def open_window(qtbot: QtBot, session: VaultSession, item_id: int,
                **kw: Any) -> ConversationWindow:
    window = ConversationWindow(session, item_id, **kw)
    qtbot.addWidget(window)
    window.resize(700, 600)
    window.show()
    qtbot.waitExposed(window)
    QApplication.processEvents()
    return window


def select(window: ConversationWindow, rows: list[int]) -> None:
    model = window.view.selectionModel()
    model.clearSelection()
    for row in rows:
        model.select(window.model.index(row, 0),
                     QItemSelectionModel.SelectionFlag.Select
                     | QItemSelectionModel.SelectionFlag.Rows)


def test_the_model_reads_a_page_at_a_time(qtbot: QtBot, session: VaultSession,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    item = add_chat(session.vault, 1_200)
    calls = counting(session, monkeypatch)
    model = ConversationModel(session, item, page_size=100, pages_kept=3)
    assert model.rowCount() == 1_201 and calls == []  # only the count at open
    assert model.message(5) is not None and model.message(99) is not None
    assert len(calls) == 1 and calls[0][1:3] == (0, 100)
    assert model.message(250).index == 250  # type: ignore[union-attr]
    assert len(calls) == 2 and calls[1][1:3] == (200, 100)
    for row in (300, 400, 500):
        model.message(row)
    assert model.pages_kept() == 3  # the oldest pages were let go
    model.message(0)
    assert calls[-1][1:3] == (0, 100)  # read again, not kept for ever


def test_a_hundred_thousand_messages_open_without_touching_every_row(
        qtbot: QtBot, session: VaultSession, monkeypatch: pytest.MonkeyPatch) -> None:
    item = add_chat(session.vault, 100_000, picture=False)
    calls = counting(session, monkeypatch)
    window = open_window(qtbot, session, item)
    assert window.model.rowCount() == 100_001
    assert len(calls) <= 2  # the first page (and perhaps a reply's message)
    assert window.model.pages_read == 1
    assert 0 < window.delegate.measured < 100  # the rows on screen, not 100,000
    window.view.scroll_to_row(99_990)
    QApplication.processEvents()
    assert window.model.pages_read <= 3 and window.delegate.measured < 200  # the last two pages
    window.close()


def test_rows_take_their_wrapped_height(qtbot: QtBot, session: VaultSession) -> None:
    messages = chat_messages(3)
    messages[1].text = "a long message " * 80
    item = add_chat(session.vault, 3, messages=messages)
    window = open_window(qtbot, session, item)
    assert window.view.rowHeight(1) > 2 * window.view.rowHeight(0)
    window.close()


def test_search_highlights_and_enter_goes_to_the_next_match(
        qtbot: QtBot, session: VaultSession) -> None:
    item = add_chat(session.vault, 300)
    window = open_window(qtbot, session, item)
    window.search.setText("number 12")  # 12, 120-129
    qtbot.keyClick(window.search, Qt.Key.Key_Return)  # looked for in the background
    qtbot.waitUntil(lambda: not window.searching())
    assert window.view.currentIndex().row() == 12
    assert window.model.highlighted() == {12, *range(120, 130)}
    qtbot.keyClick(window.search, Qt.Key.Key_Return)
    assert window.view.currentIndex().row() == 120
    assert "Match 2 of 11" in window.statusBar().currentMessage()
    window.search.setText("nothing like this")
    assert window.find_next() is None
    qtbot.waitUntil(lambda: not window.searching())
    assert "No message holds" in window.statusBar().currentMessage()
    window.search.clear()
    assert window.model.highlighted() == set()
    window.close()


def test_jump_to_a_date(qtbot: QtBot, session: VaultSession) -> None:
    item = add_chat(session.vault, 3_000)
    window = open_window(qtbot, session, item)
    window.date.setDate(QDate(2026, 11, 3))
    row = window.jump_to_date()
    # midnight on the clock the item was imported on, as the timeline shows times
    expected = session.vault.first_message_at(
        item, datetime(2026, 11, 3, tzinfo=ZoneInfo("Europe/London")))
    assert row == expected and row is not None and row > 1_000
    assert window.view.currentIndex().row() == row
    rect = window.view.visualRect(window.model.index(row, 0))
    assert window.view.viewport().rect().intersects(rect)  # scrolled to it
    window.date.setDate(QDate(2030, 1, 1))
    assert window.jump_to_date() is None
    window.close()


def test_flag_and_unflag_round_trip_audited(qtbot: QtBot, session: VaultSession,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    item = add_chat(session.vault, 40)

    def answer(dialog: FlagDialog) -> int:
        dialog.category.setCurrentIndex(dialog.category.findData("threat"))
        dialog.note.setPlainText("he threatens her")
        return int(QDialog.DialogCode.Accepted)

    monkeypatch.setattr(conversation_module.FlagDialog, "exec", answer)
    window = open_window(qtbot, session, item)
    heard: list[int] = []
    session.messages_flagged.connect(heard.append)
    select(window, [7, 9])
    assert window.act_flag.isEnabled() and not window.act_unflag.isEnabled()
    assert window.flag_selected() == [7, 9]
    flags = session.message_flags(item)
    assert [(f.index, f.category, f.note) for f in flags] == [
        (7, "threat", "he threatens her"), (9, "threat", "he threatens her")]
    assert window.model.flag(7) is not None and heard == [item]
    assert "Flagged (Threat)" in str(window.model.index(7, 0).data())
    entry = [e for e in session.audit_entries() if e.action == "message.flagged"][-1]
    assert entry.details["messages"] == [7, 9]
    select(window, [7])
    assert window.act_unflag.isEnabled()
    assert window.unflag_selected() == [7]
    assert [f.index for f in session.message_flags(item)] == [9]
    assert session.audit_entries()[-1].action == "message.unflagged"
    assert window.model.flag(7) is None
    window.close()


def test_flag_by_shortcut_and_context_menu_actions(qtbot: QtBot, session: VaultSession,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    item = add_chat(session.vault, 20)
    monkeypatch.setattr(conversation_module.FlagDialog, "exec",
                        lambda self: int(QDialog.DialogCode.Accepted))
    window = open_window(qtbot, session, item)
    select(window, [2])
    window.view.setFocus()
    qtbot.keyClick(window.view, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
    assert [f.index for f in session.message_flags(item)] == [2]
    toolbar_actions = window.findChildren(type(window.act_flag))
    assert window.act_flag in toolbar_actions and window.act_unflag in toolbar_actions
    window.close()


def test_a_cancelled_flag_changes_nothing(qtbot: QtBot, session: VaultSession,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    item = add_chat(session.vault, 20)
    monkeypatch.setattr(conversation_module.FlagDialog, "exec",
                        lambda self: int(QDialog.DialogCode.Rejected))
    window = open_window(qtbot, session, item)
    select(window, [2])
    assert window.flag_selected() == []
    assert session.message_flags(item) == []
    window.close()


def test_pictures_stay_hidden_until_clicked(qtbot: QtBot, session: VaultSession,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    item = add_chat(session.vault, 20)
    reads: list[str] = []
    real = session.artefact_bytes
    monkeypatch.setattr(session, "artefact_bytes",
                        lambda i, name: reads.append(name) or real(i, name))
    window = open_window(qtbot, session, item)
    assert reads == []  # drawn as a hidden chip: the picture is not even read
    assert not window.delegate.is_revealed(3, 0)
    before = window.view.rowHeight(3)
    rect = window.view.visualRect(window.model.index(3, 0))
    chip = window.delegate.layout(3, window.model.message(3), None,  # type: ignore[arg-type]
                                  rect.width(), window.view.font()).chips[0][0]
    point = rect.topLeft() + chip.center()
    qtbot.mouseClick(window.view.viewport(), Qt.MouseButton.LeftButton, pos=point)
    QApplication.processEvents()
    assert reads == ["IMG-1.png"] and window.delegate.is_revealed(3, 0)
    assert window.view.rowHeight(3) > before
    window.close()


def test_a_file_left_out_of_the_export_says_so(qtbot: QtBot, session: VaultSession) -> None:
    item = add_chat(session.vault, 20)
    window = open_window(qtbot, session, item)
    window._attachment_clicked(5, 0)
    assert "not in the export" in window.statusBar().currentMessage()
    window.close()


def test_system_unreadable_and_reply_rows(qtbot: QtBot, session: VaultSession) -> None:
    item = add_chat(session.vault, 20)
    window = open_window(qtbot, session, item)
    last = window.model.rowCount() - 1
    assert str(window.model.index(last, 0).data()).startswith("Could not read this line:")
    assert window.model.index(4, 0).data(REPLY_ROLE).index == 3
    tip = window.model.index(2, 0).data(Qt.ItemDataRole.ToolTipRole)
    assert "Written in the export as: 1/10/2026, 12:00" in tip
    window.close()


def test_hostile_text_is_shown_as_plain_text(qtbot: QtBot, session: VaultSession) -> None:
    messages = chat_messages(2)
    messages[0].text = HOSTILE
    messages[0].sender = "<i>Mallory</i>"
    item = add_chat(session.vault, 2, messages=messages)
    window = open_window(qtbot, session, item)
    assert all(label.textFormat() == Qt.TextFormat.PlainText
               for label in window.findChildren(QLabel))
    data = window.model.index(0, 0).data()
    assert HOSTILE in data and "<i>Mallory</i>" in data  # characters, not markup
    window.close()
    mail = add_email(session.vault)
    window = open_window(qtbot, session, mail)
    assert window.email is not None
    body = window.email.body
    assert isinstance(body, QPlainTextEdit) and HOSTILE in body.toPlainText()
    assert all(label.textFormat() == Qt.TextFormat.PlainText
               for label in window.email.findChildren(QLabel) if label.text())
    window.close()


def test_an_email_shows_its_header_block(qtbot: QtBot, session: VaultSession,
                                         tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mail = add_email(session.vault)
    window = open_window(qtbot, session, mail)
    pane = window.email
    assert pane is not None
    assert pane.fields["from"].text() == "Pat Jones <pat@example.org>"
    assert pane.fields["to"].text() == "teacher@school.example"
    assert pane.fields["subject"].text() == "You will regret this"
    assert pane.fields["message_id"].text() == "<abc123@example.org>"
    assert pane.fields["date"].text().startswith("Fri, 20 Nov 2026 21:04:00 +0000")
    assert pane.fields["dkim"].text() == "Not checked: the key could not be looked up"
    assert not pane.received.isVisibleTo(window)  # the Received chain starts folded
    assert "2 servers" in pane.received_button.text()
    pane.received_button.click()
    assert pane.received.isVisibleTo(window)
    assert "from mx.example.org" in pane.received.toPlainText()
    assert session.has_artefact(mail, "letter.pdf") and not session.has_artefact(mail, "x.pdf")
    digest = next(a.sha256 for a in session.capture(mail).artefacts if a.name == "letter.pdf")
    assert pane.attachments.item(0, 0).text() == "letter.pdf"
    assert pane.attachments.item(0, 2).text() == digest
    target = tmp_path / "saved.pdf"
    monkeypatch.setattr(conversation_module.filedialogs, "save_file",
                        lambda *_a: target)
    pane.attachments.setCurrentCell(0, 0)
    pane.save_button.click()
    wait_for_tasks()
    qtbot.waitUntil(lambda: target.exists())
    assert target.read_bytes() == session.artefact_bytes(mail, "letter.pdf")
    entry = session.audit_entries()[-1]
    assert entry.action == "capture.extracted"
    assert entry.details == {"capture": mail, "artefact": "letter.pdf"}
    from evidence_recorder.ui.audit_view import entry_sentence

    assert entry_sentence(entry) == f"“letter.pdf” of capture {mail} saved to a file"
    window.close()


def test_dkim_words_are_never_stronger_than_recorded() -> None:
    assert dkim_text({"result": "pass", "domain": "example.org"}) == \
        "Signature checked: valid (example.org)"
    assert dkim_text({"result": "not-checked", "reason": ""}) == \
        "Not checked: the key could not be looked up"
    assert dkim_text({"result": "fail", "domain": "example.org"}).startswith(
        "Signature checked: not valid")
    assert dkim_text({"result": "none"}).startswith("Not signed")
    assert dkim_text(None).startswith("Not checked")
    assert dkim_text({"result": "something new"}).startswith("Not checked")


def test_opened_at_a_flagged_message_with_its_context(qtbot: QtBot,
                                                      session: VaultSession) -> None:
    item = add_chat(session.vault, 2_000)
    session.flag_messages(item, [1_500], category="threat")
    window = open_window(qtbot, session, item, scroll_to=1_500)
    assert window.view.currentIndex().row() == 1_500
    assert window.model.highlighted() == set(range(1_497, 1_504))
    rect = window.view.visualRect(window.model.index(1_500, 0))
    assert window.view.viewport().rect().intersects(rect)
    window.close()


def test_locking_closes_the_window_and_forgets(qtbot: QtBot, session: VaultSession) -> None:
    item = add_chat(session.vault, 20)
    window = open_window(qtbot, session, item)
    session.lock()
    assert not window.isVisible() and window.model.rowCount() == 0
    assert window.model.pages_kept() == 0


def test_copy_puts_plain_words_on_the_clipboard(qtbot: QtBot, session: VaultSession) -> None:
    item = add_chat(session.vault, 20)
    window = open_window(qtbot, session, item)
    select(window, [1])
    window.copy_selected()
    assert "message number 1" in QApplication.clipboard().text()
    QApplication.clipboard().clear()
    window.close()


def test_days_shown_follow_the_first_message(qtbot: QtBot, session: VaultSession) -> None:
    item = add_chat(session.vault, 20)
    window = open_window(qtbot, session, item)
    assert window.date.date().toPython() == date(2026, 10, 1)
    assert window.view.indexAt(QPoint(5, 5)).row() == 0
    window.close()


def test_flags_read_as_sentences_in_the_audit_log(qtbot: QtBot, session: VaultSession) -> None:
    from evidence_recorder.ui.audit_view import entry_sentence

    item = add_chat(session.vault, 20)
    session.flag_messages(item, [3, 4], category="threat")
    session.unflag_messages(item, [4])
    flagged, unflagged = session.audit_entries()[-2:]
    assert entry_sentence(flagged) == f"Messages 3, 4 of capture {item} flagged"
    assert entry_sentence(unflagged) == f"Flags removed from messages 4 of capture {item}"


def test_the_model_passes_the_model_tester(qtmodeltester: Any, session: VaultSession) -> None:
    item = add_chat(session.vault, 30)
    session.flag_messages(item, [2])
    model = ConversationModel(session, item, page_size=8, pages_kept=2)
    qtmodeltester.check(model, force_py=True)


def test_deleting_the_item_closes_its_window(qtbot: QtBot, session: VaultSession) -> None:
    item = add_chat(session.vault, 20)
    window = open_window(qtbot, session, item)
    session.delete_capture(item, "imported twice")
    assert not window.isVisible() and window.model.rowCount() == 0


def test_direction_overrides_are_shown_not_obeyed(qtbot: QtBot, session: VaultSession) -> None:
    from evidence_recorder.ui.conversation_delegate import visible, wrapped_height

    assert visible("Mallory \u202eevil") == "Mallory [U+202E]evil"
    assert visible("line one\r\nline two\u0007") == "line one\nline two[U+0007]"
    assert visible("\u200eplain \u05e9\u05dc\u05d5\u05dd") == "\u200eplain \u05e9\u05dc\u05d5\u05dd"
    mail = add_email(session.vault, subject="Invoice \u202egnp.exe")
    window = open_window(qtbot, session, mail)
    assert window.email is not None
    assert window.email.fields["subject"].text() == "Invoice [U+202E]gnp.exe"
    window.close()
    font = QApplication.font()
    one = wrapped_height("word", font, 300)
    assert wrapped_height("word " * 200, font, 300) > 5 * one  # wrapped between words
    assert wrapped_height("x" * 2_000, font, 300) > 5 * one  # a long link wraps too
    assert wrapped_height("a\nb\nc", font, 300) >= 3 * one  # its own lines kept


def test_pictures_shown_from_the_keyboard_and_opened_whole(
        qtbot: QtBot, session: VaultSession) -> None:
    item = add_chat(session.vault, 20)
    window = open_window(qtbot, session, item)
    select(window, [3])
    window.act_pictures.trigger()
    assert window.delegate.is_revealed(3, 0)
    message = window.model.message(3)
    assert message is not None
    dialog = window.show_picture(message.attachments[0])
    assert dialog is not None and dialog.isVisible()
    session.lock()  # the whole picture closes with the vault
    assert not dialog.isVisible()
