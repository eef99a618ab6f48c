"""The headteacher viewer with e-mails and chat exports, from a real bundle sealed from a
real vault: the e-mail (headers, text, attachments with hashes, a copy saved), the
conversation (flagged messages with context first, the whole one from messages.json,
search), pictures veiled, hostile text plain, everything dropped on close."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import FAST_KDF, PASSPHRASE
from message_bundle_items import (
    ATTACHMENT,
    EMAIL_SUBJECT,
    HOSTILE,
    add_chat,
    add_email,
    chat_text,
)
from pytestqt.qtbot import QtBot
from test_web_bundle import add_screenshot

from evidence_recorder.core.bundle.seal import ExportOptions, export_bundle
from evidence_recorder.core.vault.store import Vault
from evidence_recorder.ui import bundle_viewer, filedialogs, messages
from evidence_recorder.ui.bundle_conversation import ConversationModel, Show
from evidence_recorder.ui.bundle_viewer import BundleViewer, open_bundle_window


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("viewer")
    vault, _recovery = Vault.create(folder / "vault", PASSPHRASE, kdf=FAST_KDF)
    add_screenshot(vault)
    add_email(vault)
    add_chat(vault)
    out = folder / "out"
    out.mkdir()
    path = export_bundle(vault, out, options=ExportOptions(audience="headteacher"))
    vault.close()
    yield path


@pytest.fixture
def viewer(qtbot: QtBot, bundle: Path, windows: list[BundleViewer]) -> BundleViewer:
    opened = open_bundle_window(bundle)
    assert opened is not None
    windows.append(opened)
    qtbot.waitUntil(opened.is_loaded, timeout=20_000)
    opened.resize(1280, 800)
    return opened


def row_of(viewer: BundleViewer, kind: str) -> int:
    return next(n for n in range(viewer.model.rowCount())
                if viewer.model.entry_at(n).capture.kind.value == kind)


def choose(qtbot: QtBot, viewer: BundleViewer, kind: str) -> None:
    """Select the item of ``kind`` and wait for its messages (read in the background)."""
    viewer.timeline.setCurrentIndex(viewer.model.index(row_of(viewer, kind), 0))
    if kind in ("email", "chat"):
        qtbot.waitUntil(lambda: not viewer.messages_panel.is_loading(), timeout=20_000)


def shots(tmp_path: Path) -> Path:
    chosen = os.environ.get("EVIDENCE_RECORDER_SHOTS")
    folder = Path(chosen) if chosen else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_the_conversation_shows_the_flagged_messages_with_context_first(
        qtbot: QtBot, viewer: BundleViewer, tmp_path: Path) -> None:
    assert viewer.banner.isVisible() and viewer.report_summary()["ok"]
    # The timeline says what each row is: the kind, and the subject or the chat's name.
    from evidence_recorder.ui.bundle_details import TimelineColumn

    chat_row = row_of(viewer, "chat")
    assert viewer.model.index(chat_row, TimelineColumn.SITE).data() == "Chat export"
    assert viewer.model.index(chat_row, TimelineColumn.DESCRIPTION).data() == "Chat with Alex"
    choose(qtbot, viewer, "chat")
    panel = viewer.messages_panel
    assert viewer.right_stack.currentWidget() is panel
    model = panel.model
    shown = [model.message_at(n).index for n in range(model.rowCount())]
    assert shown == [*range(9, 16), *range(22, 29)]
    # The first flagged message is selected, in full, with the flag's words.
    text = panel.shown_text()
    assert "THE THREAT: I know where you live" in text
    assert "Flagged by the sender as Threat: the threat to Sam" in text
    assert "01/12/2026, 09:12 as written" in text
    assert "Times without a zone were taken as Europe/London" in viewer.details.toPlainText()
    viewer.grab().save(str(shots(tmp_path) / "viewer-chat.png"))
    # The whole conversation, from messages.json: every message, the unreadable line too.
    panel.show_box.setCurrentIndex(int(Show.ALL))
    assert model.rowCount() == 31
    assert "could not be read" in model.data(model.index(30, 0))


def test_search_finds_a_message_in_the_whole_conversation(qtbot: QtBot,
                                                        viewer: BundleViewer) -> None:
    choose(qtbot, viewer, "chat")
    panel = viewer.messages_panel
    panel.search.setText(chat_text(3))
    assert [panel.model.message_at(n).index for n in range(panel.model.rowCount())] == [3]
    assert chat_text(3) in panel.shown_text()
    assert "1 of 31 messages match" in panel.count.text()
    panel.search.setText("no such words anywhere")
    assert panel.model.rowCount() == 0


def test_hostile_text_is_shown_plain(qtbot: QtBot, viewer: BundleViewer) -> None:
    choose(qtbot, viewer, "chat")
    panel = viewer.messages_panel
    row = panel.model.row_of(13)
    assert row is not None
    panel.list.setCurrentIndex(panel.model.index(row, 0))
    # The text as the export wrote it, in a plain-text widget: markup as characters, and
    # the direction override shown as a marker instead of reversing the line.
    shown = HOSTILE.replace("\u202e", "[U+202E]")
    assert shown in panel.shown_text() and "\u202e" not in panel.shown_text()
    row_text = panel.model.data(panel.model.index(row, 0))
    assert "Alex[U+202E]" in row_text and shown in row_text and "\u202e" not in row_text
    assert panel.text.document().toHtml().count("<script>") == 0


def test_the_e_mail_shows_its_headers_text_and_attachments_with_hashes(
        qtbot: QtBot, viewer: BundleViewer, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    choose(qtbot, viewer, "email")
    panel = viewer.messages_panel
    assert viewer.right_stack.currentWidget() is panel
    assert panel.model.rowCount() == 1
    text = panel.shown_text()
    for words in ("From: Jane Doe <jane@example.org>", "To: sam@example.net",
                  "Cc: head@school.example", f"Subject: {EMAIL_SUBJECT}",
                  "Message-ID: <1234.abcd@example.org>", "DKIM: Signature valid for "
                  "example.org, checked on", "from mx.example.org by mail.example.net",
                  "END OF THE E-MAIL BODY",
                  f"Report (final).pdf: {len(ATTACHMENT)} bytes, SHA-256 "
                  f"{hashlib.sha256(ATTACHMENT).hexdigest()}"):
        assert words in text, words
    viewer.grab().save(str(shots(tmp_path) / "viewer-email.png"))
    # A copy of the attachment, saved exactly as in the bundle, without a complaint.
    messages.shown.clear()
    target = tmp_path / "copy.pdf"
    monkeypatch.setattr(filedialogs, "save_file", lambda *_args: target)
    attachment = next(f for f in viewer.model.entry_at(row_of(viewer, "email")).files
                      if f.name == "Report (final).pdf")
    assert viewer.save_file_copy(attachment) == target
    assert target.read_bytes() == ATTACHMENT
    assert messages.shown == []


def test_a_picture_attached_to_a_message_arrives_veiled(qtbot: QtBot,
                                                      viewer: BundleViewer) -> None:
    choose(qtbot, viewer, "chat")
    panel = viewer.messages_panel
    panel.show_box.setCurrentIndex(int(Show.ALL))
    panel.list.setCurrentIndex(panel.model.index(20, 0))
    assert panel.picture.isVisibleTo(viewer)
    assert panel.picture.is_veiled()


def test_a_screenshot_still_shows_its_picture(qtbot: QtBot, viewer: BundleViewer) -> None:
    choose(qtbot, viewer, "region")
    assert viewer.right_stack.currentWidget() is not viewer.messages_panel
    assert viewer.original_view.has_image()


def test_closing_drops_the_messages(qtbot: QtBot, viewer: BundleViewer) -> None:
    choose(qtbot, viewer, "chat")
    assert viewer.messages_panel.model.rowCount() > 0
    viewer.close()
    assert viewer.messages_panel.model.rowCount() == 0
    assert viewer.messages_panel.shown_text() == ""
    assert viewer not in bundle_viewer._open_viewers


def test_the_conversation_model_passes_the_model_tester(qtmodeltester) -> None:  # type: ignore[no-untyped-def]
    from message_bundle_items import chat_export

    from evidence_recorder.core.conversation import MessageFlag

    model = ConversationModel()
    export = chat_export()
    model.set_messages(export.messages, [MessageFlag(1, 12, "threat", "n")])
    qtmodeltester.check(model, force_py=True)
    model.set_search("number 2")
    qtmodeltester.check(model, force_py=True)


def test_messages_read_for_an_item_no_longer_chosen_are_not_shown(
        qtbot: QtBot, viewer: BundleViewer) -> None:
    """The messages are read in the background: choosing another item meanwhile wins."""
    from evidence_recorder.ui import tasks

    viewer.timeline.setCurrentIndex(viewer.model.index(row_of(viewer, "chat"), 0))
    assert viewer.messages_panel.is_loading()
    viewer.timeline.setCurrentIndex(viewer.model.index(row_of(viewer, "region"), 0))
    assert tasks.wait_for_tasks()
    # The finished job's callback arrives through the event loop.
    qtbot.waitUntil(lambda: not tasks._running, timeout=20_000)
    assert viewer.right_stack.currentWidget() is not viewer.messages_panel
    assert viewer.messages_panel.model.rowCount() == 0
