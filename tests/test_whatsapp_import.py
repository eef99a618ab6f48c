"""WhatsApp (.txt, .zip) and Signal text exports: every real sample in the shared corpus
read as its own app wrote it, the day/month order and clock inferred from the whole
file, media linked or marked left out, unreadable lines kept, plain refusals, and
hostile zips ending in a clean result or refusal; imported into a real vault."""

from __future__ import annotations

import hashlib
import io
import stat
import zipfile
from pathlib import Path

import pytest
from conftest import chat_export as corpus

from evidence_recorder.core.conversation import MessageExport, MessageKind, messages_json
from evidence_recorder.core.errors import RefusedInput
from evidence_recorder.core.gather import recorder
from evidence_recorder.core.gather.messages import detect, limits, signal, whatsapp
from evidence_recorder.core.model import CaptureKind
from evidence_recorder.core.vault.store import Vault

REPO = Path(__file__).resolve().parent.parent
CORPORA = REPO / ".." / "shared" / "corpora"
CHATS = CORPORA / "chat-exports"
HOSTILE = CORPORA / "zips-hostile"


@pytest.fixture(autouse=True)
def _london(monkeypatch: pytest.MonkeyPatch) -> None:
    """Naive export times are taken in the computer's zone: pin it."""
    monkeypatch.setenv("TZ", "Europe/London")


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def parse(path: Path) -> MessageExport:
    export = detect.parse(path)
    export.finish()
    return export


def kinds(export: MessageExport, kind: MessageKind) -> list[int]:
    return [m.index for m in export.messages if m.kind is kind]


MINER = {"John Doe", "Jahn Doe", "John-John Doe", "John Doe \U0001f913", "\U0001f913"}
ELON = {"Elon Musk", "Dmitry S"}

# file -> (format, rows, system rows, date order, clock, senders), counted from the files
CORPUS = {
    "chat-analytics-4A_11M.txt": ("whatsapp-android", 14, 3, "ambiguous", "24-hour",
                                  {"Bob", "Eve", "Alice", "Mallory", "Trent"}),
    "chat-analytics-4A_11M.zip": ("whatsapp-android", 14, 3, "ambiguous", "24-hour",
                                  {"Bob", "Eve", "Alice", "Mallory", "Trent"}),
    "chat-miner-test_[mmddyy]_24hrs.txt": ("whatsapp-ios", 9, 2, "month-first", "24-hour",
                                           MINER),
    "chat-miner-test_ddmmyy_24hrs.txt": ("whatsapp-android", 9, 2, "day-first", "24-hour",
                                         MINER),
    "chat-miner-test_mmddyy_24hrs.txt": ("whatsapp-android", 9, 2, "month-first", "24-hour",
                                         MINER),
    "chat-miner-test_mmddyyyy_12hrs.txt": ("whatsapp-android", 9, 2, "month-first",
                                           "12-hour", MINER),
    "chat-miner-test_yyyymmdd_24hrs.txt": ("whatsapp-android", 9, 2, "year-first", "24-hour",
                                           MINER),
    "sodascience-_chat.txt": ("whatsapp-ios", 10, 1, "day-first", "24-hour",
                              {"person1", "person2", "person3", "person4"}),
    "sodascience-whatsapp_chat.zip": ("whatsapp-ios", 10, 1, "day-first", "24-hour",
                                      {"person1", "person2", "person3", "person4"}),
    "whats_json-android-Chat WhatsApp s\xa0uživatelem Dmitry S CZ Android.txt":
        ("whatsapp-android", 60, 1, "day-first", "24-hour", {"Dmitry S", "Elon"}),
    "whats_json-android-WhatsApp Chat with Dmitry S EN Android.txt":
        ("whatsapp-android", 60, 1, "day-first", "24-hour", {"Dmitry S", "Elon"}),
    "whats_json-android-WhatsApp Chat with Dmitry S EN+Media Android.txt":
        ("whatsapp-android", 60, 1, "day-first", "24-hour", {"Dmitry S", "Elon"}),
    "whats_json-android-WhatsApp Chat with Group Chat XXX Android.txt":
        ("whatsapp-android", 20, 16, "ambiguous", "24-hour", {"Dmitry S"}),
    "whats_json-android-Чат WhatsApp с\xa0контактом Dmitry S RU Android.txt":
        ("whatsapp-android", 60, 1, "day-first", "24-hour", {"Dmitry S", "Elon"}),
    "whats_json-calendars-Buddhist iOS.txt": ("whatsapp-ios", 28, 3, "month-first",
                                              "24-hour", ELON),
    "whats_json-calendars-Japanese iOS.txt": ("whatsapp-ios", 28, 3, "month-first",
                                              "24-hour", ELON),
    "whats_json-ios-WhatsApp Chat - Elon Musk (Arabic).txt": ("whatsapp-ios", 25, 3,
                                                              "day-first", "24-hour", ELON),
    "whats_json-ios-WhatsApp Chat - Elon Musk (EN).txt": ("whatsapp-ios", 25, 3,
                                                          "month-first", "24-hour", ELON),
    "whats_json-ios-WhatsApp Chat - Elon Musk (EN+Media).txt": ("whatsapp-ios", 25, 3,
                                                                "month-first", "24-hour", ELON),
    "whats_json-ios-WhatsApp Chat - Elon Musk (FR).txt": ("whatsapp-ios", 25, 3,
                                                          "month-first", "24-hour", ELON),
    "whats_json-ios-WhatsApp Chat - Elon Musk (German).txt": ("whatsapp-ios", 25, 3,
                                                              "month-first", "24-hour", ELON),
    "whats_json-ios-WhatsApp Chat - Elon Musk (RU).txt": ("whatsapp-ios", 25, 3,
                                                          "month-first", "24-hour", ELON),
    "whats_json-ios-WhatsApp Chat - Elon Musk (RU).zip": ("whatsapp-ios", 25, 3,
                                                          "month-first", "24-hour",
                                                          {"Elon Musk", "Dmitry Starkov"}),
    "whats_json-ios-WhatsApp Chat - Elon Musk (Spanish).txt": ("whatsapp-ios", 25, 3,
                                                               "month-first", "24-hour", ELON),
    "whats_json-ios-iOS Hindi.txt": ("whatsapp-ios", 28, 3, "month-first", "24-hour", ELON),
    "whats_json-ios-iOS Japanese.txt": ("whatsapp-ios", 28, 3, "month-first", "24-hour", ELON),
    "whats_json-ios-iOS Thai.txt": ("whatsapp-ios", 28, 3, "month-first", "24-hour", ELON),
    "whatstk-lorem.txt": ("whatsapp-ios", 500, 0, "day-first", "24-hour",
                          {"Mary", "+1 123 456 789", "Giuseppe", "John"}),
    "whatstk-pokemon.txt": ("whatsapp-android", 20, 1, "day-first", "24-hour",
                            {"Pokemon Chat", "Ash Ketchum", "Brock", "Misty", "Prof. Oak",
                             "Jessie & James", "Raichu", "Meowth", "Wobbuffet"}),
}


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_every_corpus_whatsapp_file_is_read_whole(name: str) -> None:
    fmt, rows, system, order, clock, senders = CORPUS[name]
    path = corpus("whatsapp", name)
    taken = detect.what_is(path)
    assert taken is not None
    assert taken.id == ("whatsapp-zip" if name.endswith(".zip") else "whatsapp-text")
    export = parse(path)
    source = export.source
    assert export.kind == "chat" and source.parser == "whatsapp/1" and source.format == fmt
    assert len(export.messages) == rows and source.unreadable_count == 0
    assert len(kinds(export, MessageKind.SYSTEM)) == system
    assert [m.index for m in export.messages] == list(range(rows))
    assert source.date_order == order and source.clock == clock
    assert {m.sender for m in export.messages if m.sender} == senders
    assert set(source.participants) == senders
    assert source.zone_assumed == "Europe/London"
    assert all(m.sent_at and m.written_at for m in export.messages)
    assert source.first_at <= source.last_at
    if order == "ambiguous":
        assert any("day first or month first" in n for n in source.notes)
    assert export.original_name == ("chat.zip" if name.endswith(".zip") else "chat.txt")
    assert export.original_media_type == ("application/zip" if name.endswith(".zip")
                                          else "text/plain")


def test_the_signal_text_export_is_read_as_signal() -> None:
    path = corpus("signal", "chat-miner-signal-test_export.txt")
    assert detect.what_is(path) == detect.FORMATS["signal-text"]
    export = parse(path)
    assert export.source.format == "signal-text" and export.source.parser == "signal/1"
    assert [(m.sender, m.text, m.sent_at) for m in export.messages] == [
        ("Jane Doe", "Hello John!", "2019-12-24T12:23:00.000Z"),
        ("John Doe", "Hello\nJane!", "2020-01-17T21:49:00.000Z")]
    assert export.source.date_order == "year-first"
    assert export.source.title == "Jane Doe, John Doe"


def test_multi_line_messages_system_lines_and_twelve_hour_times() -> None:
    export = parse(corpus("whatsapp", "chat-miner-test_mmddyyyy_12hrs.txt"))
    m = export.messages
    assert (m[1].sender, m[1].text) == ("John Doe", ".")
    assert m[2].text == "Lorem ipsum dolor sit amet,\nconsectetur adipiscing elit. Duis libero."
    assert m[2].sent_at == "2019-01-30T20:49:00.000Z"  # 08:49 p. m., winter in London
    assert m[2].written_at == "01/30/2019, 08:49 p. m."
    assert (m[3].sender, m[3].text) == ("John-John Doe", "Lorem ipsum : dolor sit amet.")
    assert m[4].kind is MessageKind.SYSTEM and m[4].sender == ""
    assert m[4].text == '+12 345 578 created group "Groupname"'
    assert m[4].sent_at == "2020-06-19T23:08:00.000Z"  # 00:08 a. m. in summer time
    assert m[-1].text.endswith("Duis libero.")


def test_the_app_s_own_words_on_ios_are_system_rows() -> None:
    export = parse(corpus("whatsapp", "whats_json-ios-WhatsApp Chat - Elon Musk (EN).txt"))
    notice, security = export.messages[0], export.messages[23]
    assert notice.kind is MessageKind.SYSTEM and notice.sender == "Elon Musk"
    assert notice.text.startswith("Messages and calls are end-to-end encrypted.")
    assert security.kind is MessageKind.SYSTEM
    assert security.text.startswith("Your security code with Elon changed.")
    deleted = export.messages[20]
    assert (deleted.kind, deleted.text) == (MessageKind.MESSAGE, "This message was deleted.")


def test_day_and_month_order_come_from_the_whole_file() -> None:
    day = parse(corpus("whatsapp", "chat-miner-test_ddmmyy_24hrs.txt")).messages
    month = parse(corpus("whatsapp", "chat-miner-test_mmddyy_24hrs.txt")).messages
    # "01/01/19" is ambiguous alone; later lines settle each file's order
    assert [m.sent_at for m in day] == [m.sent_at for m in month]
    assert day[3].sent_at == "2020-06-10T14:55:00.000Z"  # 10 June, not 6 October


def test_marks_are_kept_in_written_at_and_calendars_converted() -> None:
    arabic = parse(corpus("whatsapp", "whats_json-ios-WhatsApp Chat - Elon Musk (Arabic).txt"))
    first = arabic.messages[0]
    assert "\u200f" in first.written_at and "\u060c" in first.written_at
    assert first.sent_at == "2022-03-18T14:56:01.000Z"
    for name in ("whats_json-calendars-Buddhist iOS.txt", "whats_json-calendars-Japanese iOS.txt"):
        export = parse(corpus("whatsapp", name))
        assert export.messages[0].sent_at == "2022-03-18T14:56:01.000Z"
        assert export.messages[-1].sent_at.startswith("2023-01-12T")
    assert parse(corpus("whatsapp", "whats_json-calendars-Buddhist iOS.txt")) \
        .messages[0].written_at == "3/18/2565 BE, 14:56:01"


def test_omitted_and_attached_media_in_text_exports() -> None:
    android = parse(corpus("whatsapp",
                           "whats_json-android-WhatsApp Chat with Dmitry S EN Android.txt"))
    omitted = [m for m in android.messages if m.attachments and m.attachments[0].omitted]
    assert omitted and all(m.text == "<Media omitted>" for m in omitted)
    vcf = [m for m in android.messages if m.text == "Alex.vcf (file attached)"]
    assert vcf[0].attachments[0].name == "Alex.vcf" and not vcf[0].attachments[0].omitted
    assert "only the chat's text" in vcf[0].attachments[0].note
    german = parse(corpus("whatsapp", "whats_json-ios-WhatsApp Chat - Elon Musk (German).txt"))
    bild = [m for m in german.messages if m.text == "Bild weggelassen"]
    assert len(bild) == 4 and all(m.attachments[0].omitted for m in bild)
    doc = next(m for m in german.messages if m.text.startswith("Template.docx"))
    assert (doc.attachments[0].name, doc.attachments[0].omitted) == ("Template.docx", True)
    media = parse(corpus("whatsapp", "whats_json-ios-WhatsApp Chat - Elon Musk (EN+Media).txt"))
    named = [a.name for m in media.messages for a in m.attachments if not a.omitted]
    assert "00000035-PHOTO-2022-03-27-21-41-55.jpg" in named and len(named) == 13
    czech = parse(corpus("whatsapp", "whats_json-android-Chat WhatsApp s\xa0uživatelem "
                         "Dmitry S CZ Android.txt"))
    assert sum(1 for m in czech.messages for a in m.attachments if a.omitted) == 27


def test_titles_come_from_the_export_name_else_the_people() -> None:
    assert parse(corpus("whatsapp", "whats_json-android-WhatsApp Chat with Dmitry S EN "
                        "Android.txt")).source.title == "WhatsApp Chat with Dmitry S EN Android"
    assert parse(corpus("whatsapp", "whats_json-android-Чат WhatsApp с\xa0контактом Dmitry S RU "
                        "Android.txt")).source.title.startswith("Чат WhatsApp с контактом")
    assert parse(corpus("whatsapp", "sodascience-_chat.txt")).source.title == \
        "person1, person2, person3, person4"


def test_detection_takes_chats_but_not_e_mails_or_json(tmp_path: Path) -> None:
    for path in (CHATS / "whatsapp").glob("*"):
        fmt = detect.what_is(path)
        assert fmt is not None and fmt.id.startswith("whatsapp-"), path.name
    email = CORPORA / "email"
    if not email.exists() or not CHATS.exists():
        pytest.skip("the shared corpora are not here")
    for path in [*email.rglob("*.eml"), *email.rglob("*.mbox"), *CHATS.rglob("*.json"),
                 *CHATS.rglob("*.xml")]:
        fmt = detect.what_is(path)
        assert fmt is None or fmt.id not in ("whatsapp-text", "signal-text"), path.name
    quoted = write(tmp_path, "mail.eml", "From: a@example.org\nTo: b@example.org\n"
                   "Subject: look\n\nShe wrote:\n12/31/20, 11:59 - Sam: text\n"
                   "12/31/20, 11:59 - Sam: more\n")
    assert detect.what_is(quoted) == detect.FORMATS["eml"]
    assert detect.what_is(write(tmp_path, "a.json", '[{"a": 1}]')) is None


SAMPLE = ("10/01/24, 09:00 - Sam: first\n"
          "11/01/24, 09:00 - Alex: second\n"
          "12/01/24, 21:30 - +44 7700 900123: third\n"
          "01/02/24, 09:00 - Alex: fourth\n")


def test_order_settled_by_the_sequence_of_messages_is_said(tmp_path: Path) -> None:
    export = parse(write(tmp_path, "chat.txt", SAMPLE))
    assert export.source.date_order == "day-first"
    assert any("taken from the order of the messages" in n for n in export.source.notes)
    assert export.messages[3].sent_at == "2024-02-01T09:00:00.000Z"
    phone = export.messages[2]
    assert (phone.sender, phone.sender_id) == ("+44 7700 900123", "+447700900123")


def test_contradictory_dates_are_kept_without_a_time(tmp_path: Path) -> None:
    text = ("13/01/24, 09:00 - Sam: day first\n01/14/24, 09:00 - Sam: month first\n"
            "15/01/24, 09:00 - Sam: day first again\n")
    export = parse(write(tmp_path, "chat.txt", text))
    assert export.source.date_order == "ambiguous"
    assert [bool(m.sent_at) for m in export.messages] == [True, False, True]
    assert export.messages[1].written_at == "01/14/24, 09:00"
    assert any("no time" in n for n in export.source.notes)


def test_calendars_not_converted_safely_leave_no_time(tmp_path: Path) -> None:
    text = "[3/18/S60, 14:56:01] Sam: an era this does not convert\n" \
           "[3/18/2565, 14:56:01] Sam: a year not marked as Buddhist\n" \
           "[3/19/22, 10:00:00] Sam: fine\n"
    export = parse(write(tmp_path, "chat.txt", text))
    assert [m.sent_at for m in export.messages][:2] == ["", ""]
    assert export.messages[2].sent_at == "2022-03-19T10:00:00.000Z"
    assert any("calendar" in n for n in export.source.notes)


def test_nbsp_am_pm_marks_and_a_quoted_colon(tmp_path: Path) -> None:
    text = ("\u200e1/2/24, 9:05\u202fPM - \u202a+44 7700 900123\u202c: \u200ehi\n"
            '1/2/24, 9:06\u202fPM - Alice created group "Class 7: maths"\n'
            "1/2/24, 9:07\u202fPM - Alice a changé le sujet : « Maths »\n"
            "1/13/24, 12:10\u202fAM - Sam: after midnight\n")
    export = parse(write(tmp_path, "chat.txt", text))
    first, system, french, late = export.messages
    assert (first.sender, first.text, first.sent_at) == ("+44 7700 900123", "hi",
                                                         "2024-01-02T21:05:00.000Z")
    assert first.written_at == "1/2/24, 9:05\u202fPM"
    assert system.kind is MessageKind.SYSTEM and french.kind is MessageKind.SYSTEM
    assert late.sent_at == "2024-01-13T00:10:00.000Z"
    assert export.source.clock == "12-hour" and export.source.date_order == "month-first"


def test_unreadable_lines_are_kept_never_dropped(tmp_path: Path) -> None:
    text = ("garbage before the chat\n" + SAMPLE + "12/02/24, 09:59 Sam half a line, cut\n"
            "12/02/24, 10:00 - Sam: after it\n12/25/2024 was a date in the text\n")
    path = write(tmp_path, "chat.txt", text)
    export = parse(path)
    unreadable = [m for m in export.messages if m.kind is MessageKind.UNREADABLE]
    assert [m.text for m in unreadable] == ["garbage before the chat",
                                            "12/02/24, 09:59 Sam half a line, cut"]
    assert export.messages[-1].text == "after it\n12/25/2024 was a date in the text"
    assert export.source.unreadable_count == 2 and export.source.message_count == 5
    assert any("could not be read" in n for n in export.source.notes)


def test_a_file_with_no_chat_line_is_refused_with_a_sentence(tmp_path: Path) -> None:
    path = write(tmp_path, "notes.txt", "just some notes\nabout nothing\n")
    with pytest.raises(RefusedInput, match="does not look like a WhatsApp chat export: no line "
                                           "starts with a date and time"):
        whatsapp.parse_text(path)
    with pytest.raises(RefusedInput, match="does not look like a Signal chat export"):
        signal.parse_text(path)
    with pytest.raises(RefusedInput):
        whatsapp.parse_text(write(tmp_path, "empty.txt", ""))


def test_encodings_utf16_bom_and_bad_bytes(tmp_path: Path) -> None:
    utf16 = tmp_path / "u16.txt"
    utf16.write_bytes(b"\xff\xfe" + SAMPLE.encode("utf-16-le"))
    assert detect.what_is(utf16) == detect.FORMATS["whatsapp-text"]
    assert [m.text for m in parse(utf16).messages] == ["first", "second", "third", "fourth"]
    bom = tmp_path / "bom.txt"
    bom.write_bytes(b"\xef\xbb\xbf" + SAMPLE.encode())
    assert whatsapp.parse_text(bom).messages[0].written_at == "10/01/24, 09:00"
    bad = tmp_path / "bad.txt"
    bad.write_bytes(SAMPLE.encode() + b"12/02/24, 10:00 - Sam: caf\xe9\r\n")
    export = whatsapp.parse_text(bad)
    assert export.messages[-1].text == "caf\ufffd"
    assert any("not UTF-8" in n for n in export.source.notes)


def test_bounds_refuse_or_cut_with_a_note(tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, "chat.txt", SAMPLE + "12/02/24, 10:00 - Sam: " + "x" * 500 + "\n"
                 + "more of it\n" * 50)
    monkeypatch.setattr(limits, "MAX_MESSAGES", 3)
    with pytest.raises(RefusedInput, match="more messages than this app reads"):
        whatsapp.parse_text(path)
    monkeypatch.setattr(limits, "MAX_MESSAGES", 100)
    monkeypatch.setattr(limits, "MAX_LINE_BYTES", 100)
    monkeypatch.setattr(limits, "MAX_MESSAGE_CHARS", 300)
    export = whatsapp.parse_text(path)
    assert len(export.messages[-1].text) < 400
    assert any("were cut short" in n for n in export.source.notes)
    monkeypatch.setattr(whatsapp, "_BLOCK", 64)  # an overlong line across reads
    export = whatsapp.parse_text(path)
    assert len(export.messages) == 5 and export.messages[0].text == "first"
    monkeypatch.setattr(limits, "MAX_PARSED_TEXT_BYTES", 100)
    with pytest.raises(RefusedInput, match="more text than this app reads"):
        whatsapp.parse_text(path)


def test_the_recorded_hash_of_a_long_chat_is_that_of_its_messages_json(tmp_path: Path) -> None:
    lines = [f"{1 + i % 28:02d}/01/24, 10:{i % 60:02d} - P{i % 7}: message {i} é" for i in
             range(2500)]
    export = parse(write(tmp_path, "chat.txt", "\n".join(lines)))
    assert len(export.messages) == 2500
    assert export.source.messages_sha256 == \
        hashlib.sha256(messages_json(export.messages)).hexdigest()


# ------------------------------------------------------------------------------ zips

def jpeg(seed: int) -> bytes:
    return b"\xff\xd8\xff\xe0" + hashlib.sha256(str(seed).encode()).digest() * 40


def make_zip(path: Path, members: dict[str, bytes], *,
             compression: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


ANDROID_MEDIA = ("01/02/2024, 10:00 - Sam: IMG-20240201-WA0001.jpg (file attached)\n"
                 "look at this\n"
                 "01/02/2024, 10:01 - Sam: <Media omitted>\n"
                 "01/02/2024, 10:02 - Alex: VID-20240201-WA0002.mp4 (file attached)\n"
                 "13/02/2024, 10:03 - Alex: ok\n")


def test_a_zip_export_links_its_media_and_import_keeps_them(tmp_path: Path,
                                                             vault: Vault) -> None:
    photo = jpeg(1)
    path = make_zip(tmp_path / "WhatsApp Chat with Sam.zip", {
        "WhatsApp Chat with Sam.txt": ANDROID_MEDIA.encode(),
        "IMG-20240201-WA0001.jpg": photo,
        "__MACOSX/._IMG-20240201-WA0001.jpg": b"apple double"})
    assert detect.what_is(path) == detect.FORMATS["whatsapp-zip"]
    export = parse(path)
    assert export.source.title == "WhatsApp Chat with Sam"
    renamed = tmp_path / "from-my-phone.zip"
    renamed.write_bytes(path.read_bytes())
    assert parse(renamed).source.title == "WhatsApp Chat with Sam"  # the chat's own name
    assert [m.name for m in export.media] == ["IMG-20240201-WA0001.jpg"]
    linked = export.messages[0].attachments[0]
    assert (linked.artefact, linked.media_type, linked.size) == \
        ("IMG-20240201-WA0001.jpg", "image/jpeg", len(photo))
    assert export.messages[0].text == "IMG-20240201-WA0001.jpg (file attached)\nlook at this"
    assert export.messages[1].attachments[0].omitted
    missing = export.messages[2].attachments[0]
    assert missing.artefact == "" and "not in the zip" in missing.note

    outcome = recorder.import_files(vault, [path])
    assert not outcome.refused
    (_, item_id), = outcome.saved
    assert outcome.taken_as[path] == detect.FORMATS["whatsapp-zip"].label
    item = vault.capture(item_id)
    assert item.kind is CaptureKind.CHAT and item.messages is not None
    assert item.messages.message_count == 4 and item.title == "WhatsApp Chat with Sam"
    kept = {a.name: a for a in item.artefacts}
    assert set(kept) == {"chat.zip", "IMG-20240201-WA0001.jpg"}
    assert kept["IMG-20240201-WA0001.jpg"].sha256 == hashlib.sha256(photo).hexdigest()
    assert kept["chat.zip"].sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert vault.artefact_bytes(item_id, "IMG-20240201-WA0001.jpg") == photo
    stored = vault.messages(item_id)
    assert stored[0].attachments[0].artefact == "IMG-20240201-WA0001.jpg"
    assert [m.text for m in vault.messages(item_id, search="look at")] == \
        ["IMG-20240201-WA0001.jpg (file attached)\nlook at this"]


def test_an_ios_zip_links_attached_media(tmp_path: Path) -> None:
    photo = jpeg(2)
    text = ("[01/02/2024, 10:00:00] Sam: \u200eMessages and calls are end-to-end encrypted.\n"
            "\u200e[01/02/2024, 10:00:05] Sam: \u200e<attached: 00000012-PHOTO-2024-02-01.jpg>\n"
            "\u200e[01/02/2024, 10:00:09] Sam: \u200eimage omitted\n"
            "[13/02/2024, 10:00:10] Alex: seen\n")
    path = make_zip(tmp_path / "chat.zip", {"00000011-WhatsApp tips.txt": b"a document",
                                            "_chat.txt": text.encode(),
                                            "00000012-PHOTO-2024-02-01.jpg": photo})
    export = parse(path)
    assert export.source.format == "whatsapp-ios"
    assert export.messages[1].attachments[0].artefact == "00000012-PHOTO-2024-02-01.jpg"
    assert export.messages[2].attachments[0].omitted
    assert export.source.title == "Sam, Alex"
    assert {m.name for m in export.media} == {"00000011-WhatsApp tips.txt",
                                              "00000012-PHOTO-2024-02-01.jpg"}
    picture = next(m for m in export.media if m.name.endswith(".jpg"))
    with picture.open() as stream:
        assert stream.read() == photo


def test_member_names_are_made_safe_and_unique(tmp_path: Path, vault: Vault) -> None:
    path = make_zip(tmp_path / "odd.zip", {
        "_chat.txt": ANDROID_MEDIA.encode(), "../../evil.jpg": jpeg(3), "/abs/evil.jpg": jpeg(4),
        "dir\\evil.jpg": jpeg(5), "sub/evil.jpg": jpeg(6), "chat.zip": b"a name taken",
        "..": b"dots", "sub/": b""})
    export = parse(path)
    names = [m.name for m in export.media]
    assert len(names) == len(set(names)) == 6
    assert all("/" not in n and "\\" not in n and n not in (".", "..") for n in names)
    assert "chat.zip" not in names and "evil.jpg" in names and "evil (2).jpg" in names
    outcome = recorder.import_files(vault, [path])
    assert not outcome.refused
    assert {a.name for a in vault.capture(outcome.saved[0][1]).artefacts} == \
        {"chat.zip", *names}


def test_zip_bombs_and_lies_are_refused(tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    chat = ANDROID_MEDIA.encode()
    bomb = make_zip(tmp_path / "bomb.zip", {"_chat.txt": chat, "zeros.jpg": bytes(8 * 1024**2)})
    with pytest.raises(RefusedInput, match="zip bomb"):
        whatsapp.parse_zip(bomb)

    overlap = tmp_path / "overlap.zip"
    with zipfile.ZipFile(overlap, "w") as archive:
        archive.writestr("_chat.txt", chat)
        archive.writestr("a.jpg", jpeg(7))
        twin = archive.getinfo("a.jpg")
        copy = zipfile.ZipInfo("b.jpg", twin.date_time)
        for attr in ("compress_type", "CRC", "compress_size", "file_size", "header_offset",
                     "flag_bits"):
            setattr(copy, attr, getattr(twin, attr))
        archive.filelist.append(copy)
        archive.NameToInfo["b.jpg"] = copy
    with pytest.raises(RefusedInput, match="overlap"):
        whatsapp.parse_zip(overlap)

    plain = make_zip(tmp_path / "plain.zip", {"_chat.txt": chat, "a.jpg": jpeg(8),
                                              "b.jpg": jpeg(9)})
    monkeypatch.setattr(limits, "MAX_ZIP_MEMBERS", 2)
    with pytest.raises(RefusedInput, match="holds more than 2 files"):
        whatsapp.parse_zip(plain)
    monkeypatch.setattr(limits, "MAX_ZIP_MEMBERS", 10)
    monkeypatch.setattr(limits, "MAX_UNPACKED_BYTES", 1000)
    with pytest.raises(RefusedInput, match="would unpack to more than"):
        whatsapp.parse_zip(plain)


def test_damaged_links_and_locked_members_are_left_out_with_a_note(tmp_path: Path) -> None:
    path = tmp_path / "damaged.zip"
    good, broken = jpeg(10), jpeg(11)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("_chat.txt", ANDROID_MEDIA.encode())
        archive.writestr("good.jpg", good)
        archive.writestr("broken.jpg", broken)
        link = zipfile.ZipInfo("link.jpg")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(link, "/etc/passwd")
    data = bytearray(path.read_bytes())
    at = data.find(broken)
    data[at + 10] ^= 0xFF  # its bytes no longer match its checksum
    path.write_bytes(bytes(data))
    export = whatsapp.parse_zip(path)
    assert [m.name for m in export.media] == ["good.jpg"]
    notes = " ".join(export.source.notes)
    assert "“broken.jpg” in the zip is damaged" in notes
    assert "“link.jpg” in the zip is a link" in notes


def test_a_media_file_that_changes_after_reading_refuses_the_import(tmp_path: Path,
                                                                     vault: Vault) -> None:
    path = make_zip(tmp_path / "chat.zip", {"_chat.txt": ANDROID_MEDIA.encode(),
                                            "IMG-20240201-WA0001.jpg": jpeg(12)},
                    compression=zipfile.ZIP_STORED)
    export = whatsapp.parse_zip(path)
    data = path.read_bytes()
    path.write_bytes(data.replace(jpeg(12), jpeg(13)))
    stream = export.media[0].open()
    with pytest.raises(RefusedInput, match="changed or is damaged"):
        stream.read()
    stream.close()


def test_a_zip_without_a_chat_is_refused_plainly(tmp_path: Path) -> None:
    path = make_zip(tmp_path / "photos.zip", {"a.jpg": jpeg(14), "b.jpg": jpeg(15)})
    with pytest.raises(RefusedInput, match="holds no WhatsApp chat"):
        whatsapp.parse_zip(path)
    not_zip = write(tmp_path, "x.zip", "PK\x03\x04 not really")
    with pytest.raises(RefusedInput, match="not a readable ZIP file"):
        whatsapp.parse_zip(not_zip)


def test_every_hostile_zip_ends_in_a_result_or_a_plain_refusal() -> None:
    if not HOSTILE.exists():
        pytest.skip(f"the shared hostile zips are not here ({HOSTILE})")
    seen = 0
    for path in sorted(HOSTILE.iterdir()):
        if path.suffix in (".tsv", ".md"):
            continue
        seen += 1
        try:
            export = whatsapp.parse_zip(path)
        except RefusedInput as exc:
            assert exc.message.startswith(path.name)
        else:
            assert all("/" not in m.name for m in export.media)
    assert seen >= 40
    with pytest.raises(RefusedInput, match="zip bomb"):
        whatsapp.parse_zip(HOSTILE / "harimypala-zbsm-overlap-bomb.zip")


# ---------------------------------------------------------------------------- import

def test_import_files_takes_text_exports_into_the_vault(vault: Vault) -> None:
    paths = [corpus("whatsapp", "whatstk-pokemon.txt"),
             corpus("signal", "chat-miner-signal-test_export.txt"),
             corpus("whatsapp", "whats_json-ios-WhatsApp Chat - Elon Musk (EN).txt")]
    outcome = recorder.import_files(vault, paths)
    assert not outcome.refused and len(outcome.saved) == 3
    assert [outcome.taken_as[p] for p in paths] == [
        detect.FORMATS["whatsapp-text"].label, detect.FORMATS["signal-text"].label,
        detect.FORMATS["whatsapp-text"].label]
    pokemon = outcome.saved[0][1]
    assert vault.message_count(pokemon) == 20
    page = vault.messages(pokemon, start=2, limit=3)
    assert [(m.index, m.sender) for m in page] == [(2, "Ash Ketchum"), (3, "Brock"),
                                                   (4, "Misty")]
    assert [m.index for m in vault.messages(pokemon, sender="Raichu")] == [13, 15]
    item = vault.capture(pokemon)
    assert item.messages is not None and item.messages.zone_assumed == "Europe/London"
    assert item.item_summary()["message_count"] == 20
    kept = vault.artefact_bytes(pokemon, "chat.txt")
    assert kept == paths[0].read_bytes()
    assert {c.kind for c in vault.captures()} == {CaptureKind.CHAT}


def test_a_refused_chat_is_reported_and_the_others_go_in(tmp_path: Path, vault: Vault) -> None:
    bad = make_zip(tmp_path / "bomb.zip", {"_chat.txt": SAMPLE.encode(),
                                           "z.jpg": bytes(8 * 1024**2)})
    good = write(tmp_path, "chat.txt", SAMPLE)
    outcome = recorder.import_files(vault, [bad, good])
    assert [p for p, _ in outcome.refused] == [bad] and len(outcome.saved) == 1
    assert "zip bomb" in outcome.refused[0][1]
    assert io.BytesIO(vault.artefact_bytes(outcome.saved[0][1])).read() == SAMPLE.encode()
