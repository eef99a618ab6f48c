"""The vault keeps an e-mail's or chat export's parsed messages and the person's flags
(schema 5): in the item's transaction, read back a page at a time, filtered, audited."""

from __future__ import annotations

import io

import pytest

from evidence_recorder.core.conversation import (
    MediaFile,
    Message,
    MessageAttachment,
    MessageExport,
    MessageKind,
    MessageSource,
)
from evidence_recorder.core.errors import RefusedInput
from evidence_recorder.core.gather import images
from evidence_recorder.core.model import ArtefactRole, CaptureKind
from evidence_recorder.core.vault.items import NewArtefact
from evidence_recorder.core.vault.store import Vault


def make_export(count: int = 10) -> MessageExport:
    messages = [Message(i, "Alex" if i % 2 else "Sam", f"message number {i}",
                        sent_at=f"2026-11-{1 + i % 28:02d}T10:00:00.000Z",
                        written_at=f"{1 + i % 28}/11/2026, 10:00",
                        sender_id="+44 7700 900000" if i % 2 else "")
                for i in range(count)]
    messages[3].attachments = [MessageAttachment("IMG-1.jpg", artefact="IMG-1.jpg",
                                                 media_type="image/jpeg")]
    messages[4].reply_to = 3
    messages.append(Message(count, "", "12/11/2026 garbled line", kind=MessageKind.UNREADABLE))
    source = MessageSource(format="whatsapp-android", parser="whatsapp/1", file_name="chat.txt",
                           file_size=123, file_mtime="2026-12-01T00:00:00.000Z",
                           title="Chat with Alex", zone_assumed="Europe/London")
    export = MessageExport("chat", source, messages, original_media_type="text/plain",
                           original_name="chat.txt",
                           media=[MediaFile("IMG-1.jpg", "image/jpeg", 3,
                                            lambda: io.BytesIO(b"jpg"))])
    export.finish()
    return export


def add(vault: Vault, export: MessageExport) -> int:
    artefacts = [NewArtefact("chat.txt", ArtefactRole.EXPORT, "text/plain", b"the export",
                             primary=True)]
    artefacts += [NewArtefact(m.name, ArtefactRole.ATTACHMENT, m.media_type, m.open(),
                              derived_from="chat.txt") for m in export.media]
    return vault.add_item(CaptureKind.CHAT, artefacts, captured_at="2026-12-07T10:00:00.000Z",
                          tz_name="Europe/London", utc_offset="+00:00", environment={},
                          thumbnail=images.message_card("chat", "Chat with Alex", 10),
                          title=export.source.title, messages=export)


def test_messages_are_stored_with_the_item_and_read_back(vault: Vault) -> None:
    export = make_export()
    item_id = add(vault, export)
    item = vault.capture(item_id)
    assert item.kind is CaptureKind.CHAT and item.messages is not None
    assert item.messages.message_count == 10 and item.messages.unreadable_count == 1
    assert item.item_summary()["message_count"] == 10
    assert vault.message_count(item_id) == 11
    back = vault.messages(item_id)
    assert [m.as_dict() for m in back] == [m.as_dict() for m in export.messages]
    assert vault.messages(item_id, start=5, limit=2)[0].index == 5
    assert [m.index for m in vault.messages(item_id, search="NUMBER 7")] == [7]
    assert {m.sender for m in vault.messages(item_id, sender="+44 7700 900000")} == {"Alex"}
    assert all(m.sent_at >= "2026-11-20" for m in vault.messages(item_id, since="2026-11-20"))
    added = [e for e in vault.audit_entries() if e.action == "capture.added"][-1]
    assert added.details["source"]["messages_sha256"] == export.source.messages_sha256
    assert {a["name"] for a in added.details["artefacts"]} == {"chat.txt", "IMG-1.jpg"}


def test_flags_are_audited_and_checked(vault: Vault) -> None:
    item_id = add(vault, make_export())
    assert vault.flag_messages(item_id, [4, 2], category="threat", note="the threat") == [2, 4]
    flags = vault.message_flags(item_id)
    assert [(f.index, f.category, f.note) for f in flags] == [(2, "threat", "the threat"),
                                                              (4, "threat", "the threat")]
    assert vault.unflag_messages(item_id, [2, 9]) == [2]
    assert [f.index for f in vault.message_flags()] == [4]
    actions = [e.action for e in vault.audit_entries()]
    assert actions[-2:] == ["message.flagged", "message.unflagged"]
    with pytest.raises(RefusedInput, match="no message numbered 99"):
        vault.flag_messages(item_id, [99])
    with pytest.raises(RefusedInput, match="not a category"):
        vault.flag_messages(item_id, [1], category="rude")


def test_a_picture_has_no_messages_to_flag(vault: Vault) -> None:
    item_id = vault.add_item(CaptureKind.IMPORT, [NewArtefact(
        "original.png", ArtefactRole.ORIGINAL, "image/png", b"png", primary=True)],
        captured_at="2026-12-07T10:00:00.000Z", tz_name="UTC", utc_offset="+00:00",
        environment={}, thumbnail=b"jpg")
    with pytest.raises(RefusedInput, match="no messages to flag"):
        vault.flag_messages(item_id, [0])
    with pytest.raises(RefusedInput, match="e-mail or a chat export only"):
        vault.add_item(CaptureKind.IMPORT, [NewArtefact(
            "original.png", ArtefactRole.ORIGINAL, "image/png", b"png", primary=True)],
            captured_at="2026-12-07T10:00:00.000Z", tz_name="UTC", utc_offset="+00:00",
            environment={}, thumbnail=b"jpg", messages=make_export())


def test_deleting_an_item_removes_its_messages_and_flags(vault: Vault) -> None:
    item_id = add(vault, make_export())
    vault.flag_messages(item_id, [1])
    vault.delete_capture(item_id, "imported twice")
    assert vault.message_count(item_id) == 0 and vault.message_flags() == []


def test_verify_notices_changed_messages_and_flags(vault: Vault) -> None:
    item_id = add(vault, make_export())
    vault.flag_messages(item_id, [2], category="threat", note="n")
    assert vault.verify().ok, vault.verify().problems
    with vault._write() as cur:
        cur.execute("UPDATE message SET body = 'softened' WHERE item_id = ? AND idx = 2",
                    (item_id,))
        cur.execute("UPDATE message_flag SET note = 'other' WHERE item_id = ?", (item_id,))
        cur.execute("INSERT INTO message_flag (item_id, idx, flagged_at) VALUES (?, 5, 'x')",
                    (item_id,))
    problems = vault.verify().problems
    assert f"Capture {item_id}: its messages were changed outside" in " ".join(problems)
    assert any("flag on message 2 was added or changed" in p for p in problems)
    assert any("flag on message 5 was added or changed" in p for p in problems)


def test_change_all_keys_carries_messages_and_flags(vault: Vault) -> None:
    from conftest import FAST_KDF

    item_id = add(vault, make_export())
    vault.flag_messages(item_id, [3], category="threat", note="n")
    before = [m.as_dict() for m in vault.messages(item_id)]
    vault.change_all_keys("copper meadow violin 77", kdf=FAST_KDF)
    assert [m.as_dict() for m in vault.messages(item_id)] == before
    assert [(f.index, f.note) for f in vault.message_flags()] == [(3, "n")]
    assert vault.verify().ok
