"""Telegram, Facebook / Messenger / Instagram and Discord JSON exports (chat_json): every
corpus file in ../shared/corpora/chat-exports read with its senders, times (UTC),
replies, edits and system lines; Facebook's mojibake put right (and good text left
alone); broken, truncated, over-deep and oversized files refused in a sentence; entries
of the wrong shape kept as unreadable rows; imported into a real vault."""

from __future__ import annotations

import hashlib
import json
import zoneinfo
from pathlib import Path
from typing import Any

import pytest
from conftest import chat_export as corpus
from conftest import parsed_export as parsed

from evidence_recorder.core.conversation import MessageKind
from evidence_recorder.core.errors import RefusedInput
from evidence_recorder.core.gather import recorder
from evidence_recorder.core.gather.messages import chat_json, detect, limits
from evidence_recorder.core.model import ArtefactRole
from evidence_recorder.core.vault.store import Vault


@pytest.fixture(autouse=True)
def _london(monkeypatch: pytest.MonkeyPatch) -> None:
    """Times written without a zone are taken in the computer's zone: pin it."""
    monkeypatch.setattr(chat_json.times, "import_zone",
                        lambda: ("Europe/London", zoneinfo.ZoneInfo("Europe/London")))


def write_json(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


# --- detection -----------------------------------------------------------------------------

FOLDERS = {"telegram": "telegram-json", "messenger-instagram": "facebook-json",
           "discord": "discord-json"}


@pytest.mark.parametrize("folder", sorted(FOLDERS))
def test_every_corpus_file_is_taken_for_its_format(folder: str) -> None:
    files = sorted(corpus(folder).iterdir())
    assert files
    for path in files:
        fmt = detect.what_is(path)
        assert fmt is not None and fmt.id == FOLDERS[folder], path.name


def test_an_empty_telegram_chat_is_recognised() -> None:
    export = parsed(corpus("telegram/telegram-chat-parser-personal.json"))
    assert export.source.title == "otherperson" and export.messages == []
    assert export.source.message_count == 0


@pytest.mark.parametrize("data", [
    {"name": "my-app", "version": "1.0.0", "dependencies": {"left-pad": "1"}},
    {"messages": ["hello", "world"]},
    {"type": "FeatureCollection", "features": []},
    [1, 2, 3],
    {"messages": {"en": {"greeting": "hi"}}, "locale": "en"},
])
def test_other_json_is_not_taken_for_a_chat(tmp_path: Path, vault: Vault, data: Any) -> None:
    path = write_json(tmp_path / "data.json", data)
    assert detect.what_is(path) is None
    outcome = recorder.import_files(vault, [path])
    assert outcome.saved == [] and len(outcome.refused) == 1


def test_a_whole_telegram_account_export_is_recognised_by_its_opening(tmp_path: Path) -> None:
    contacts = [{"first_name": f"Contact {n}", "phone_number": "+44 7700 900000",
                 "date": "2020-01-01T00:00:00"} for n in range(2000)]  # beyond the sniff
    data = {"about": "Here is the data you requested.",
            "personal_information": {"first_name": "Sam"},
            "contacts": {"about": "", "list": contacts},
            "chats": {"about": "", "list": [
                {"name": "Alex", "type": "personal_chat", "id": 1, "messages": [
                    {"id": 1, "type": "message", "date": "2020-01-01T10:00:00",
                     "date_unixtime": "1577872800", "from": "Alex", "from_id": "user1",
                     "text": "hi"}]}]}}
    path = write_json(tmp_path / "result.json", data)
    assert detect.what_is(path) == detect.FORMATS["telegram-json"]
    export = parsed(path)
    assert [m.text for m in export.messages] == ["hi"] and export.source.title == "Alex"


# --- Telegram ------------------------------------------------------------------------------

# file: (rows, unreadable rows, system rows, senders of messages). The INDEX's
# "DM_2A_7M" is chat-analytics' count: 2 authors, 6 messages and a phone call.
TELEGRAM = {
    "chat-analytics-DM_2A_7M.json": (8, 0, 2, {"Alice", "Bob"}),
    "chat-miner-test_batch_export.json": (2, 0, 0, {"Author 1", "Author 2"}),
    "chat-miner-test_single_export.json": (2, 0, 0, {"Author 1", "Author 2"}),
    "telegram-chat-parser-bot.json": (2, 0, 0, {"Bot User", "Real User"}),
    "telegram-chat-parser-error-unexpected.json": (16, 3, 1, {"Ben"}),
    "telegram-chat-parser-personal.json": (0, 0, 0, set()),
    "telegram-chat-parser-private_channel.json": (7, 0, 2, {"test"}),
    "telegram-chat-parser-private_group.json": (2, 0, 1, {"Ben"}),
    "telegram-chat-parser-public_channel.json": (7, 0, 2, {"test"}),
    "telegram-chat-parser-public_supergroup.json": (4, 0, 3, {"Ben"}),
    "telegram-chat-parser-saved.json": (21, 0, 1, {"Ben", "test"}),
    "telegram-chat-parser-users_test.json": (9, 0, 1, {"User1", "User2", "User4"}),
}


@pytest.mark.parametrize("name", sorted(TELEGRAM))
def test_telegram_corpus_files_read_whole(name: str) -> None:
    path = corpus(f"telegram/{name}")
    rows, unreadable, system, senders = TELEGRAM[name]
    export = parsed(path)
    raw = json.loads(path.read_text(encoding="utf-8"))
    chats = raw["chats"]["list"] if "chats" in raw else [raw]
    assert len(export.messages) == rows == sum(len(c["messages"]) for c in chats)
    assert [m.index for m in export.messages] == list(range(rows))
    kinds = [m.kind for m in export.messages]
    assert kinds.count(MessageKind.UNREADABLE) == unreadable == export.source.unreadable_count
    assert kinds.count(MessageKind.SYSTEM) == system
    assert {m.sender for m in export.messages if m.kind is MessageKind.MESSAGE} == senders
    assert export.source.format == "telegram-json" and export.source.parser == "telegram/1"
    assert export.kind == "chat" and export.original_name == name
    assert export.source.file_size == path.stat().st_size


def test_telegram_text_entities_are_joined_to_plain_text() -> None:
    export = parsed(corpus("telegram/telegram-chat-parser-saved.json"))
    assert export.messages[1].text == ("bold italic strikethrough underline @person "
                                       "http://google.com monospace "
                                       "http://mystery.knightlab.com/")
    assert export.messages[2].text == ("Learning SQL by solving an SQL murder mystery\n"
                                       "http://mystery.knightlab.com/")
    assert export.messages[3].extra["forwarded_from"] == "Other Person"


def test_telegram_times_prefer_the_utc_unix_time_and_say_when_a_zone_was_assumed() -> None:
    export = parsed(corpus("telegram/chat-analytics-DM_2A_7M.json"))
    first, _, alice, bob = export.messages[:4]
    # "date" alone: local time of the exporting computer, taken in this one's (London).
    assert (first.written_at, first.sent_at) == ("2019-07-05T16:55:32",
                                                 "2019-07-05T15:55:32.000Z")  # BST
    assert (alice.written_at, alice.sent_at) == ("2022-03-08T13:07:42",
                                                 "2022-03-08T13:07:42.000Z")  # GMT
    assert (bob.written_at, bob.sent_at) == ("1652135033", "2022-05-09T22:23:53.000Z")
    assert (bob.sender, bob.sender_id) == ("Bob", "user700000000")
    # Both given: the unix time wins (the "date" was another computer's local time).
    call = export.messages[7]
    assert call.written_at == "2023-08-10T23:11:02"
    assert call.sent_at == "2023-08-11T02:11:02.000Z"
    assert export.source.zone_assumed == "Europe/London"
    assert export.source.first_at == "2019-07-05T15:55:32.000Z"
    only_unix = parsed(corpus("telegram/chat-miner-test_single_export.json"))
    assert only_unix.source.zone_assumed == ""
    assert only_unix.messages[0].sent_at == "2018-12-05T10:39:10.000Z"


def test_telegram_replies_point_to_indexes_and_service_lines_are_system() -> None:
    export = parsed(corpus("telegram/telegram-chat-parser-private_channel.json"))
    assert export.messages[2].reply_to == 1 and export.messages[6].reply_to == 5
    assert export.messages[2].text == "reply in test channel"
    pin = export.messages[3]
    assert pin.kind is MessageKind.SYSTEM and pin.extra["action"] == "pin_message"
    assert pin.text == "pin message" and pin.sender == "test"
    users = parsed(corpus("telegram/telegram-chat-parser-users_test.json"))
    assert [m.reply_to for m in users.messages[6:9]] == [4, 4, None]


def test_telegram_edits_and_replies_to_missing_messages(tmp_path: Path) -> None:
    path = write_json(tmp_path / "result.json", {
        "name": "Alex", "type": "personal_chat", "id": 5, "messages": [
            {"id": 10, "type": "message", "date": "2026-11-25T09:00:00",
             "date_unixtime": "1795597200", "from": "Alex", "from_id": "user5",
             "text": "first", "edited": "2026-11-25T09:05:00",
             "edited_unixtime": "1795597500"},
            {"id": 11, "type": "message", "date": "2026-11-25T09:01:00",
             "date_unixtime": "1795597260", "from": "Sam", "from_id": "user6",
             "text": "fixed later", "edited_unixtime": "1795597560"},
            {"id": 12, "type": "message", "date_unixtime": "1795597320", "from": "Alex",
             "from_id": "user5", "reply_to_message_id": 999, "text": "to a lost one"},
            {"id": 13, "type": "message", "date_unixtime": "1795597380", "from": None,
             "from_id": "user7", "reply_to_message_id": 10, "text": "deleted account"}]})
    export = parsed(path)
    first, second, lost, deleted = export.messages
    assert first.edited_at == "2026-11-25T09:05:00"
    assert second.edited_at == "2026-11-25T09:06:00.000Z"
    assert lost.reply_to is None and lost.extra["reply_to_id"] == 999
    assert any("not in the export" in n for n in export.source.notes)
    assert deleted.reply_to == 0 and deleted.sender == "" and deleted.sender_id == "user7"


def test_telegram_entries_of_the_wrong_shape_are_kept_as_unreadable_rows() -> None:
    path = corpus("telegram/telegram-chat-parser-error-unexpected.json")
    export = parsed(path)
    rows = {m.index: m for m in export.messages if m.kind is MessageKind.UNREADABLE}
    assert sorted(rows) == [0, 2, 6]
    assert "ERROR:wrong_type" in rows[0].text and "photo_1@01-08-2020" in rows[0].text
    assert "ERROR: text is object" in rows[2].text
    assert "Message from myself to another person" in rows[6].text
    assert json.loads(rows[6].text)["ERROR:text"].startswith("Message from myself")
    # What reads around them is kept, duplicate ids and all.
    assert export.messages[1].text == "1234567"
    assert export.messages[4].text == "A text message straight to saved."
    assert any("share an id" in n for n in export.source.notes)


def test_telegram_media_are_listed_as_not_in_the_export_file() -> None:
    export = parsed(corpus("telegram/telegram-chat-parser-saved.json"))
    assert export.media == []
    photo = export.messages[0].attachments[0]
    assert photo.name == "photos/photo_1@01-08-2020_22-01-49.jpg"
    assert photo.omitted and photo.artefact == "" and photo.note == chat_json.NOT_IN_FILE
    assert photo.media_type == "image/jpeg"
    video = export.messages[5].attachments[0]
    assert video.media_type == "video/mp4" and video.omitted
    too_big = export.messages[13].attachments[0]
    assert too_big.omitted and "File exceeds maximum size" in too_big.note
    assert too_big.note.startswith(chat_json.NOT_IN_FILE)


def test_telegram_media_beside_the_export_are_kept_and_nothing_outside_it(
        tmp_path: Path) -> None:
    folder = tmp_path / "ChatExport"
    (folder / "photos").mkdir(parents=True)
    picture = b"\xff\xd8\xff\xe0 a small jpeg" * 10
    (folder / "photos" / "photo_1.jpg").write_bytes(picture)
    (tmp_path / "secret.txt").write_text("not part of the export")
    path = write_json(folder / "result.json", {
        "name": "Alex", "type": "personal_chat", "id": 5, "messages": [
            {"id": 1, "type": "message", "date_unixtime": "1795597200", "from": "Alex",
             "photo": "photos/photo_1.jpg", "text": ""},
            {"id": 2, "type": "message", "date_unixtime": "1795597201", "from": "Alex",
             "file": "../secret.txt", "text": ""},
            {"id": 3, "type": "message", "date_unixtime": "1795597202", "from": "Alex",
             "file": str(tmp_path / "secret.txt"), "text": ""}]})
    export = parsed(path)
    kept = export.messages[0].attachments[0]
    assert not kept.omitted and kept.artefact == "photo_1.jpg" and kept.size == len(picture)
    assert [m.name for m in export.media] == ["photo_1.jpg"]
    with export.media[0].open() as stream:
        assert stream.read() == picture
    for message in export.messages[1:]:
        assert message.attachments[0].omitted and message.attachments[0].artefact == ""


def test_a_whole_telegram_export_is_one_item_with_each_message_s_chat(tmp_path: Path) -> None:
    def chat(name: str, texts: list[str]) -> dict[str, Any]:
        return {"name": name, "type": "personal_chat", "id": len(name), "messages": [
            {"id": n + 1, "type": "message", "date_unixtime": str(1795597200 + n),
             "from": name, "from_id": f"user{len(name)}", "text": text,
             **({"reply_to_message_id": n} if n else {})}
            for n, text in enumerate(texts)]}

    path = write_json(tmp_path / "result.json", {"chats": {"list": [
        chat("Alex", ["a0", "a1"]), chat("Sam Smith", ["s0", "s1", "s2"])]}})
    export = parsed(path)
    assert export.source.title == "Telegram export (2 chats)"
    assert [m.extra["chat"] for m in export.messages] == ["Alex"] * 2 + ["Sam Smith"] * 3
    # Ids repeat across chats: a reply points inside its own chat.
    assert [m.reply_to for m in export.messages] == [None, 0, None, 2, 3]
    assert any("2 chats" in note and "one item" in note for note in export.source.notes)
    assert export.source.participants == ["Alex", "Sam Smith"]
    single = parsed(corpus("telegram/chat-miner-test_batch_export.json"))
    assert single.source.title == "Chatname"  # one chat: its own name
    assert {m.extra["chat"] for m in single.messages} == {"Chatname"}


# --- refusals -------------------------------------------------------------------------------

def test_a_broken_telegram_file_is_refused_in_a_sentence() -> None:
    with pytest.raises(RefusedInput, match=r"its JSON is broken at line 5, column 3\."):
        detect.parse(corpus("telegram/telegram-chat-parser-error.json"))


@pytest.mark.parametrize(("name", "what"), [
    ("telegram/telegram-chat-parser-saved.json", "Telegram export"),
    ("discord/chat-analytics-SV_5A_5M.json", "Discord chat export"),
    ("messenger-instagram/chat-analytics-messenger-2A_7M.json",
     "Facebook, Messenger or Instagram chat export"),
])
@pytest.mark.parametrize("fraction", [0.5, 0.93])
def test_a_truncated_export_is_refused_as_cut_off(tmp_path: Path, name: str, what: str,
                                                  fraction: float) -> None:
    data = corpus(name).read_bytes()
    path = tmp_path / "cut.json"
    path.write_bytes(data[:int(len(data) * fraction)])
    with pytest.raises(RefusedInput) as refused:
        detect.parse(path)
    assert refused.value.message == (f"cut.json is not a complete {what}: the file ends in "
                                     "the middle (it may have been cut off while copying).")


def test_a_file_cut_in_the_middle_of_a_string_is_refused_as_cut_off(tmp_path: Path) -> None:
    path = tmp_path / "result.json"
    path.write_text('{"name": "A", "type": "personal_chat", "messages": [{"id": 1, "type": '
                    '"message", "date": "2020-01-01T00:00:00", "text": "he said \\" '
                    + "[" * 100 + ' \\"', encoding="utf-8")
    with pytest.raises(RefusedInput, match="ends in the middle"):
        detect.parse(path)


def test_json_nested_100000_deep_is_refused_without_a_recursion_error(
        tmp_path: Path, vault: Vault) -> None:
    path = tmp_path / "result.json"
    path.write_text('{"name": "A", "type": "personal_chat", "date": "x", "messages": ['
                    + "[" * 100_000 + "]" * 100_000 + "]}", encoding="utf-8")
    assert detect.what_is(path) == detect.FORMATS["telegram-json"]
    with pytest.raises(RefusedInput, match=r"nested far deeper than any export \(100,002"):
        detect.parse(path)
    outcome = recorder.import_files(vault, [path])
    assert outcome.saved == [] and "nested far deeper" in outcome.refused[0][1]
    deep_objects = tmp_path / "objects.json"
    deep_objects.write_text('{"guild": {}, "channel": {}, "messages": ['
                            + '{"a":' * 100_000 + "1" + "}" * 100_000 + "]}")
    with pytest.raises(RefusedInput, match="nested far deeper"):
        detect.parse(deep_objects)


def test_brackets_inside_text_do_not_count_as_nesting(tmp_path: Path) -> None:
    path = write_json(tmp_path / "result.json", {
        "name": "A", "type": "personal_chat", "messages": [
            {"id": 1, "type": "message", "date_unixtime": "1795597200", "from": "A",
             "text": "[" * 500 + ' "quoted" \\ {{{'}]})
    assert parsed(path).messages[0].text.startswith("[" * 500)


def test_an_export_beyond_the_size_bound_is_refused(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    path = corpus("discord/chat-analytics-SV_5A_5M.json")
    monkeypatch.setattr(limits, "MAX_JSON_BYTES", 1024)
    with pytest.raises(RefusedInput, match="is too large for this app to read as a Discord "
                                           "chat export"):
        detect.parse(path)


def test_json_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "result.json"
    path.write_bytes('{"name": "Zoë", "type": "personal_chat", "messages": []}'
                     .encode("latin-1"))
    with pytest.raises(RefusedInput, match="not UTF-8 text"):
        detect.parse(path, detect.FORMATS["telegram-json"])


def test_a_chat_format_without_messages_is_refused(tmp_path: Path) -> None:
    path = write_json(tmp_path / "x.json", {"guild": {}, "channel": {}, "messages": 3})
    with pytest.raises(RefusedInput, match="not a Discord chat export: it holds no list"):
        detect.parse(path)


# --- Facebook, Messenger, Instagram ------------------------------------------------------

def test_messenger_corpus_file_keeps_the_export_order_newest_first() -> None:
    path = corpus("messenger-instagram/chat-analytics-messenger-2A_7M.json")  # UTF-8 BOM
    export = parsed(path)
    assert export.source.title == "Alice" and export.source.participants == ["Alice", "Bob"]
    assert export.source.message_count == 7 and export.source.unreadable_count == 0
    assert [m.sender for m in export.messages] == ["Alice", "Bob", "Bob", "Bob", "Alice",
                                                   "Bob", "Bob"]
    assert export.messages[0].text == "Hello"
    assert export.messages[0].sent_at == "2014-11-05T00:35:32.056Z"
    assert export.messages[0].written_at == "1415147732056"
    assert export.messages[0].sent_at > export.messages[6].sent_at  # index is export order
    assert export.source.first_at == export.messages[6].sent_at
    assert any("newest message first" in n for n in export.source.notes)
    names = [a.name for m in export.messages for a in m.attachments]
    assert names == ["messages/inbox/alice_aaaaaaaaaa/files/blabla.docx",
                     "messages/inbox/alice_aaaaaaaaaa/audio/audioclip11111.mp4",
                     "messages/stickers_used/123123123123123.png",
                     "messages/inbox/alice_aaaaaaaaaa/photos/123123123123123.jpg"]
    assert all(a.omitted and a.note == chat_json.NOT_IN_FILE
               for m in export.messages for a in m.attachments)
    assert not any("garbled" in n for n in export.source.notes)


def test_instagram_minimal_layout() -> None:
    export = parsed(corpus("messenger-instagram/chat-miner-instagram-test_export.json"))
    assert [(m.sender, m.text, m.sent_at) for m in export.messages] == [
        ("John Doe", "Hello Jane!", "2020-01-17T20:49:00.000Z"),
        ("Jane Doe", "Hello John!", "2019-12-24T11:23:00.000Z")]
    assert export.source.title == "Chat with John Doe, Jane Doe"
    assert export.source.format == "facebook-json" and export.source.parser == "facebook/1"


def mojibake(text: str) -> str:
    """How Facebook writes ``text``: its UTF-8 bytes as Latin-1 code points."""
    return text.encode("utf-8").decode("latin-1")


def facebook_file(path: Path, names: list[str], texts: list[str], title: str,
                  reaction: str = mojibake("😂")) -> Path:
    data = {"participants": [{"name": n} for n in names], "title": title,
            "thread_type": "Regular", "messages": [
                {"sender_name": names[i % len(names)], "timestamp_ms": 1795597200000 - i * 1000,
                 "content": t, "type": "Generic",
                 "reactions": [{"reaction": reaction, "actor": names[0]}]}
                for i, t in enumerate(texts)]}
    # ensure_ascii: \u00c3\u00a9 escapes, exactly as Facebook's files have them
    path.write_text(json.dumps(data, ensure_ascii=True), encoding="ascii")
    return path


def test_facebook_mojibake_is_put_right(tmp_path: Path) -> None:
    names, texts = ["Zoë Łukasiewicz", "Renée"], ["café 😂", "Привет", "naïve — “quoted”",
                                                   "plain ascii"]
    path = facebook_file(tmp_path / "message_1.json", [mojibake(n) for n in names],
                         [mojibake(t) for t in texts], mojibake("Zoë & Renée"))
    assert "\\u00c3\\u00a9" in path.read_text(encoding="ascii")  # really escaped
    export = parsed(path)
    assert [m.text for m in export.messages] == texts
    assert [m.sender for m in export.messages] == [names[0], names[1]] * 2
    assert export.source.title == "Zoë & Renée" and export.source.participants == names
    assert export.messages[0].extra["reactions"] == [{"reaction": "😂", "actor": names[0]}]
    assert any("garbled" in n and "put right" in n for n in export.source.notes)


def test_facebook_text_that_was_fine_is_not_repaired(tmp_path: Path) -> None:
    # Real UTF-8 text (a character beyond U+00FF somewhere): nothing is touched, not even
    # a string that happens to look like mojibake.
    path = facebook_file(tmp_path / "message_1.json", ["Renée", "Zoë"],
                         ["café", "Ã© is what a garbled é looks like", "emoji 😂"], "Chat")
    export = parsed(path)
    assert [m.text for m in export.messages] == ["café", "Ã© is what a garbled é looks like",
                                                 "emoji 😂"]
    assert not any("garbled" in n for n in export.source.notes)
    # All within Latin-1 but not UTF-8 bytes (a genuine "é"): left as it is.
    latin = facebook_file(tmp_path / "message_2.json", ["Renée"], ["café au lait"], "Renée",
                          reaction="<3")
    export = parsed(latin)
    assert export.messages[0].text == "café au lait" and export.source.title == "Renée"
    assert not any("garbled" in n for n in export.source.notes)


def test_chat_json_repair_only_when_it_round_trips() -> None:
    assert chat_json.repair_mojibake(mojibake("déjà vu 😂")) == "déjà vu 😂"
    assert chat_json.repair_mojibake("déjà vu") == "déjà vu"
    assert chat_json.repair_mojibake("plain") == "plain"
    assert chat_json.repair_mojibake("→ Ã©") == "→ Ã©"


def test_facebook_entries_of_the_wrong_shape_are_kept(tmp_path: Path) -> None:
    path = write_json(tmp_path / "message_1.json", {
        "participants": [{"name": "A"}], "messages": [
            {"sender_name": "A", "timestamp_ms": 1795597200000, "content": "fine"},
            {"sender_name": "A", "timestamp_ms": "yesterday", "content": "bad time"},
            "just a string",
            {"sender_name": "A", "timestamp_ms": 1795597100000, "type": "Subscribe",
             "content": "A added B to the group."},
            {"sender_name": "B", "timestamp_ms": 1795597000000,
             "share": {"link": "https://example.org/post/1"}}]})
    export = parsed(path)
    kinds = [m.kind for m in export.messages]
    assert kinds == [MessageKind.MESSAGE, MessageKind.UNREADABLE, MessageKind.UNREADABLE,
                     MessageKind.SYSTEM, MessageKind.MESSAGE]
    assert "bad time" in export.messages[1].text
    assert export.messages[2].text == '"just a string"'
    assert export.messages[4].text == "https://example.org/post/1"


def test_the_newer_facebook_layout(tmp_path: Path) -> None:
    """Messenger's end-to-end encrypted chats download as ``senderName``/``text``/
    ``timestamp`` with a ``media`` list and ``threadName``."""
    path = write_json(tmp_path / "Alex_1.json", {
        "participants": ["Alex", "Sam"], "threadName": "Alex", "messages": [
            {"isUnsent": False, "media": [{"uri": "./media/photo_1.jpeg"}], "reactions": [],
             "senderName": "Alex", "text": "look", "timestamp": 1795597260000,
             "type": "media"},
            {"isUnsent": False, "media": [], "reactions": [], "senderName": "Sam",
             "text": "stop it", "timestamp": 1795597200000, "type": "text"}]})
    assert detect.what_is(path) == detect.FORMATS["facebook-json"]
    export = parsed(path)
    assert export.source.title == "Alex" and export.source.participants == ["Alex", "Sam"]
    look, stop = export.messages
    assert (look.sender, look.text, look.sent_at) == ("Alex", "look",
                                                      "2026-11-25T09:01:00.000Z")
    assert look.attachments[0].name == "./media/photo_1.jpeg"
    assert look.attachments[0].omitted and look.attachments[0].media_type == "image/jpeg"
    assert (stop.sender, stop.text) == ("Sam", "stop it")


# --- Discord --------------------------------------------------------------------------------

# file: (rows, system rows, senders of messages); the INDEX's "2M"/"5M" count chat-
# analytics' way (a call and channel changes are system lines here).
DISCORD = {
    "chat-analytics-DM_2A_2M.json": (3, 1, {"mlomb", "Someones nickname"}),
    "chat-analytics-GC_3A_5M.json": (6, 3, {"theplant", "lombi", "mlomb"}),
    "chat-analytics-SV_5A_5M.json": (5, 0, {"Deleted User", "mlomb"}),
}


@pytest.mark.parametrize("name", sorted(DISCORD))
def test_discord_corpus_files_read_whole(name: str) -> None:
    rows, system, senders = DISCORD[name]
    export = parsed(corpus(f"discord/{name}"))
    assert len(export.messages) == rows and export.source.unreadable_count == 0
    assert [m.kind for m in export.messages].count(MessageKind.SYSTEM) == system
    assert {m.sender for m in export.messages if m.kind is MessageKind.MESSAGE} == senders
    assert all(m.sent_at.endswith("Z") and m.sender_id for m in export.messages)


def test_discord_nicknames_replies_times_and_calls() -> None:
    export = parsed(corpus("discord/chat-analytics-GC_3A_5M.json"))
    assert export.source.title == "a group chat"
    plant = export.messages[1]
    assert (plant.sender, plant.sender_id) == ("theplant", "333333333333333333")
    assert plant.extra["author_name"] == "not a plant"
    reply = export.messages[4]
    assert reply.reply_to == 1 and reply.text == "woah nice :custom_emoji:"
    assert reply.written_at == "2023-01-18T20:12:12.123+00:00"
    assert reply.sent_at == "2023-01-18T20:12:12.123Z"
    call = export.messages[5]
    assert call.kind is MessageKind.SYSTEM and call.extra["type"] == "Call"
    assert any("says it holds 5 messages; 6 were found" in n for n in export.source.notes)
    assert export.source.zone_assumed == ""


def test_discord_edits_duplicates_and_attachments() -> None:
    export = parsed(corpus("discord/chat-analytics-SV_5A_5M.json"))
    assert export.source.title == "DefleMask – #general-chiptune"
    assert export.messages[0].edited_at == "2018-05-20T16:09:56.439+00:00"
    assert export.messages[0].text == export.messages[1].text  # both copies kept
    assert any("more than once with the same id" in n for n in export.source.notes)
    attachment = export.messages[3].attachments[0]
    assert attachment.name == "unknown.png" and attachment.size == 165152
    assert attachment.omitted and attachment.note == "the file was not in the export"
    assert attachment.media_type == "image/png" and export.media == []
    assert export.messages[4].extra["reactions"][0]["count"] == 3


def discord_with_media(folder: Path, picture: bytes) -> Path:
    (folder / "chat.json_Files").mkdir(parents=True)
    (folder / "chat.json_Files" / "photo-A1B2.png").write_bytes(picture)
    return write_json(folder / "chat.json", {
        "guild": {"id": "1", "name": "School"}, "channel": {"id": "2", "name": "year-9"},
        "messages": [
            {"id": "10", "type": "Default", "timestamp": "2026-11-25T09:00:00.000+01:00",
             "timestampEdited": None, "content": "look at this",
             "author": {"id": "77", "name": "bully", "nickname": "B"},
             "attachments": [{"id": "5", "url": "chat.json_Files/photo-A1B2.png",
                              "fileName": "photo.png", "fileSizeBytes": len(picture)}]},
            {"id": "11", "type": "Reply", "timestamp": "2026-11-25T09:01:00+01:00",
             "content": "stop", "author": {"id": "78", "name": "pupil"},
             "attachments": [], "reference": {"messageId": "10"}}]})


def test_discord_attachments_in_the_export_folder_are_kept(tmp_path: Path) -> None:
    picture = b"\x89PNG\r\n\x1a\n not really a png"
    export = parsed(discord_with_media(tmp_path / "export", picture))
    assert export.source.title == "School – #year-9"
    first, reply = export.messages
    assert first.sent_at == "2026-11-25T08:00:00.000Z" and reply.reply_to == 0
    kept = first.attachments[0]
    assert kept.name == "photo.png" and kept.artefact == "photo-A1B2.png" and not kept.omitted
    with export.media[0].open() as stream:
        assert stream.read() == picture


# --- into a real vault --------------------------------------------------------------------

def test_imported_into_a_vault_with_the_export_and_its_media_kept(tmp_path: Path,
                                                                  vault: Vault) -> None:
    picture = b"\x89PNG\r\n\x1a\n a picture sent in the chat" * 20
    discord = discord_with_media(tmp_path / "export", picture)
    telegram = corpus("telegram/chat-analytics-DM_2A_7M.json")
    outcome = recorder.import_files(vault, [discord, telegram])
    assert outcome.refused == []
    (_, discord_id), (_, telegram_id) = outcome.saved
    assert outcome.taken_as[discord] == "a Discord chat export"
    assert outcome.taken_as[telegram] == "a Telegram chat export"
    item = vault.capture(discord_id)
    assert item.messages is not None and item.messages.message_count == 2
    artefacts = {a.name: a for a in vault.artefacts(discord_id)}
    assert artefacts["chat.json"].role is ArtefactRole.EXPORT
    assert artefacts["chat.json"].sha256 == hashlib.sha256(discord.read_bytes()).hexdigest()
    assert artefacts["photo-A1B2.png"].role is ArtefactRole.ATTACHMENT
    assert artefacts["photo-A1B2.png"].sha256 == hashlib.sha256(picture).hexdigest()
    assert vault.artefact_bytes(discord_id, "photo-A1B2.png") == picture
    stored = vault.messages(telegram_id)
    assert [m.as_dict() for m in stored] == [m.as_dict() for m in parsed(telegram).messages]
    assert vault.capture(telegram_id).title == "Bob"
    assert vault.artefact_bytes(telegram_id) == telegram.read_bytes()


WRONG_VALUES: list[Any] = [None, True, -1, 10**30, 1e308, "", "x", "half \ud83d",
                           "nul \x00 " * 40 + "and a long line\n" * 30, [],
                           [1, "x", {}], {}, {"text": 1}, {"\udc00": "\ud800"}]


@pytest.mark.parametrize("name", [
    "telegram/chat-analytics-DM_2A_7M.json", "telegram/telegram-chat-parser-saved.json",
    "telegram/chat-miner-test_batch_export.json",
    "messenger-instagram/chat-analytics-messenger-2A_7M.json",
    "discord/chat-analytics-GC_3A_5M.json", "discord/chat-analytics-SV_5A_5M.json"])
def test_a_value_of_any_wrong_type_is_read_or_kept_never_a_crash(tmp_path: Path,
                                                                  name: str) -> None:
    """Every key of every message (and of the file itself), given each wrong value in
    turn: the file still parses, every entry is still there (read or unreadable), or the
    whole file is refused in a sentence."""
    raw = json.loads(corpus(name).read_text(encoding="utf-8-sig"))
    fmt = detect.what_is(corpus(name))
    assert fmt is not None
    holders = [raw] + (raw["chats"]["list"] if "chats" in raw else [])
    entries = [e for holder in holders for e in holder.get("messages", [])]
    path = tmp_path / "export.json"
    tried = 0
    for target in [raw, *holders[1:], *entries[:4]]:
        for key in list(target):
            kept = target[key]
            for value in WRONG_VALUES:
                target[key] = value
                path.write_text(json.dumps(raw), encoding="utf-8")
                try:
                    export = detect.parse(path, fmt)
                except RefusedInput as exc:
                    assert exc.message.startswith("export.json is not a")
                else:
                    export.finish()
                    if target in entries:
                        assert len(export.messages) == len(entries)
                tried += 1
            target[key] = kept
    assert tried > 100


def test_a_lone_utf16_half_or_nul_is_read_as_a_replacement_character(tmp_path: Path,
                                                             vault: Vault) -> None:
    path = tmp_path / "result.json"
    path.write_text('{"name": "A\\ud83d", "type": "personal_chat", "messages": [{"id": 1, '
                    '"type": "message", "date_unixtime": "1795597200", "from": "A", '
                    '"text": "a \\ud83d\\ude00 b \\ud83d c \\ude00\\u0000", '
                    '"poll": {"\\udc00": 1}}]}', encoding="ascii")
    export = parsed(path)
    assert export.messages[0].text == "a \U0001f600 b \ufffd c \ufffd\ufffd"
    assert export.source.title == "A\ufffd" and export.messages[0].extra["poll"] == {"\ufffd": 1}
    ((_, item_id),) = recorder.import_files(vault, [path]).saved
    assert vault.messages(item_id)[0].text == "a \U0001f600 b \ufffd c \ufffd\ufffd"
    assert [m.index for m in vault.messages(item_id, search="c \ufffd")] == [0]


def test_a_chat_name_becomes_a_title_the_vault_takes(tmp_path: Path, vault: Vault) -> None:
    path = write_json(tmp_path / "result.json", {
        "name": "Year 9\n\tgroup " + "x" * 400, "type": "private_group", "messages": []})
    export = parsed(path)
    assert export.source.title.startswith("Year 9 group xxx")
    assert len(export.source.title) == chat_json.TITLE_CHARS
    assert export.source.title.endswith("…")
    ((_, item_id),) = recorder.import_files(vault, [path]).saved
    assert vault.capture(item_id).title == export.source.title
