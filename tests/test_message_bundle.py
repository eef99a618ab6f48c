"""E-mails and chat exports in sealed bundles: every file byte for byte, the parsed
messages as messages.json (sealed, hashed as recorded at import, read back bounded),
the export's facts and flags in evidence.json, the README's words on what is derived,
and the report's pages (headers, DKIM in exact words, flagged messages with context)."""

from __future__ import annotations

import hashlib
import json
import subprocess
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import FAST_KDF, PASSPHRASE
from message_bundle_items import (
    ATTACHMENT,
    CHAT_TXT,
    EMAIL_SUBJECT,
    EML,
    add_chat,
    add_email,
    chat_text,
)
from test_web_bundle import add_screenshot

from evidence_recorder.core.bundle.check import verify_bundle
from evidence_recorder.core.bundle.evidence import (
    EvidenceDamaged,
    JsonDamaged,
    read_evidence,
    read_messages,
)
from evidence_recorder.core.bundle.opened import open_bundle
from evidence_recorder.core.bundle.report_words import dkim_words
from evidence_recorder.core.bundle.seal import ExportOptions, export_bundle
from evidence_recorder.core.conversation import messages_json
from evidence_recorder.core.errors import EvidenceError, VaultDamaged
from evidence_recorder.core.vault.store import Vault


@pytest.fixture(scope="module")
def sealed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[
        tuple[Vault, Path, dict[str, int]]]:
    """A screenshot, an e-mail and a flagged chat, sealed once for the module."""
    folder = tmp_path_factory.mktemp("messages")
    vault, _recovery = Vault.create(folder / "vault", PASSPHRASE, kdf=FAST_KDF)
    ids = {"shot": add_screenshot(vault), "email": add_email(vault), "chat": add_chat(vault)}
    out = folder / "out"
    out.mkdir()
    bundle = export_bundle(vault, out, options=ExportOptions(audience="headteacher"))
    yield vault, bundle, ids
    vault.close()


def files_of(bundle: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(bundle) as zf:
        return {info.filename.split("/", 1)[1]: zf.read(info) for info in zf.infolist()}


def extract(bundle: Path, into: Path) -> Path:
    with zipfile.ZipFile(bundle) as zf:
        zf.extractall(into)
        return into / zf.namelist()[0].split("/", 1)[0]


def item_entry(files: dict[str, bytes], item_id: int) -> dict[str, Any]:
    evidence = json.loads(files["data/evidence.json"])
    return next(i for i in evidence["items"] if i["id"] == item_id)


def test_every_file_goes_in_byte_for_byte_and_bagit_validates(
        sealed: tuple[Vault, Path, dict[str, int]], tmp_path: Path) -> None:
    import bagit

    _vault, bundle, ids = sealed
    files = files_of(bundle)
    assert files[f"data/captures/{ids['email']}/message.eml"] == EML
    # An attachment's name the verifying scripts would refuse goes in under a safe one;
    # evidence.json keeps the name the e-mail gave it.
    assert files[f"data/captures/{ids['email']}/Report_final.pdf"] == ATTACHMENT
    assert files[f"data/captures/{ids['chat']}/WhatsApp_Chat_with_Alex.txt"] == CHAT_TXT
    names = {a["name"]: a["path"] for a in item_entry(files, ids["email"])["artefacts"]}
    assert names["Report (final).pdf"] == f"data/captures/{ids['email']}/Report_final.pdf"
    assert verify_bundle(bundle).ok
    bag = bagit.Bag(str(extract(bundle, tmp_path / "out")))
    bag.validate()  # raises if any file differs from its manifest line


def test_the_published_verify_script_passes_it_and_sha256sum_checks_it(
        sealed: tuple[Vault, Path, dict[str, int]], tmp_path: Path) -> None:
    """Names that need a safe spelling (spaces, brackets) never reach the scripts."""
    _vault, bundle, _ids = sealed
    folder = extract(bundle, tmp_path / "out")
    script = Path(__file__).resolve().parent.parent / "docs" / "verify" / "verify.sh"
    done = subprocess.run(["sh", str(script), str(folder)], cwd=folder.parent,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    done = subprocess.run(["sha256sum", "-c", "manifest-sha256.txt"], cwd=folder,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0 and "messages.json: OK" in done.stdout


def test_messages_json_is_the_reading_recorded_at_import_and_sealed(
        sealed: tuple[Vault, Path, dict[str, int]], tmp_path: Path) -> None:
    vault, bundle, ids = sealed
    files = files_of(bundle)
    manifest = files["manifest-sha256.txt"].decode()
    for key in ("email", "chat"):
        path = f"data/captures/{ids[key]}/messages.json"
        data = files[path]
        assert data == messages_json(vault.messages(ids[key]))
        digest = hashlib.sha256(data).hexdigest()
        assert f"{digest}  {path}\n" in manifest
        recorded = vault.capture(ids[key]).messages
        assert recorded is not None and digest == recorded.messages_sha256
        listed = next(a for a in item_entry(files, ids[key])["artefacts"]
                      if a["role"] == "parsed-messages")
        assert listed["sha256"] == digest and listed["derived_from"] in (
            "message.eml", "WhatsApp Chat with Alex.txt")
    # The import's audit entry in the bundle carries the same hash.
    audit = [json.loads(line) for line in files["data/audit.jsonl"].splitlines()]
    added = [e for e in audit if e["action"] == "capture.added"
             and e["subject"] == f"capture:{ids['chat']}"]
    assert added[0]["details"]["source"]["messages_sha256"] == hashlib.sha256(
        files[f"data/captures/{ids['chat']}/messages.json"]).hexdigest()
    # And the flags' own audit entries go with the item.
    assert [e["details"]["messages"] for e in audit if e["action"] == "message.flagged"] == [
        [12], [25]]


def test_evidence_json_carries_the_exports_facts_and_the_flags(
        sealed: tuple[Vault, Path, dict[str, int]]) -> None:
    _vault, bundle, ids = sealed
    files = files_of(bundle)
    chat = item_entry(files, ids["chat"])
    assert chat["kind"] == "chat"
    facts = chat["messages"]
    assert facts["format"] == "whatsapp-android" and facts["parser"] == "whatsapp/1"
    assert facts["participants"] == ["Alex", "Sam"] and facts["message_count"] == 30
    assert facts["unreadable_count"] == 1 and facts["zone_assumed"] == "Europe/London"
    assert facts["date_order"] == "day-first" and facts["clock"] == "24-hour"
    assert [(f["index"], f["category"], f["note"]) for f in chat["flags"]] == [
        (12, "threat", "the threat to Sam"), (25, "harassment", "")]
    assert all(f["flagged_at"] for f in chat["flags"])
    assert json.loads(files[f"data/captures/{ids['chat']}/metadata.json"]) == chat
    # The typed reader gives them back, checked.
    contents = read_evidence(files["data/evidence.json"], set(files))
    item = next(i for i in contents.items if i.id == ids["chat"])
    assert item.messages is not None and item.messages.title == "Chat with Alex"
    assert [f.index for f in item.flags] == [12, 25]
    assert item.parsed_messages is not None
    email = next(i for i in contents.items if i.id == ids["email"])
    assert email.messages is not None and email.messages.format == "eml"
    readme = files["README-VERIFY.txt"].decode()
    assert "messages.json" in readme and "NOT original" in readme


def test_opened_bundle_reads_the_messages_back(
        sealed: tuple[Vault, Path, dict[str, int]]) -> None:
    vault, bundle, ids = sealed
    opened = open_bundle(bundle)
    try:
        assert opened.contents is not None and opened.report.ok
        item = next(i for i in opened.contents.items if i.id == ids["chat"])
        back = opened.messages(item)
        assert [m.as_dict() for m in back] == [m.as_dict() for m in vault.messages(ids["chat"])]
        shot = next(i for i in opened.contents.items if i.id == ids["shot"])
        assert opened.messages(shot) == []
    finally:
        opened.close()


def rewrite(src: Path, dst: Path, path: str, data: bytes) -> Path:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            name = info.filename.split("/", 1)[1]
            zout.writestr(info, data if name == path else zin.read(info))
    return dst


def test_a_changed_messages_json_is_not_intact(
        sealed: tuple[Vault, Path, dict[str, int]], tmp_path: Path) -> None:
    _vault, bundle, ids = sealed
    path = f"data/captures/{ids['chat']}/messages.json"
    data = files_of(bundle)[path].replace(b"THE THREAT", b"THE JOKE..")
    tampered = rewrite(bundle, tmp_path / "tampered.zip", path, data)
    report = verify_bundle(tampered)
    assert not report.ok
    assert report.problems == [f"{path} has been changed since the bundle was sealed "
                               "(its SHA-256 does not match manifest-sha256.txt)."]
    opened = open_bundle(tampered)
    try:
        assert opened.contents is not None
        item = next(i for i in opened.contents.items if i.id == ids["chat"])
        with pytest.raises(EvidenceError, match="changed after the bundle was sealed"):
            opened.messages(item)
    finally:
        opened.close()


def test_an_older_bundle_without_messages_still_verifies_and_reads(
        tmp_path: Path, vault: Vault) -> None:
    """A bundle of screenshots only is exactly as before: no messages blocks, no
    messages.json, no words on messages in its README."""
    add_screenshot(vault)
    bundle = export_bundle(vault, tmp_path)
    files = files_of(bundle)
    assert verify_bundle(bundle).ok
    assert not any(name.endswith("messages.json") for name in files)
    entry = json.loads(files["data/evidence.json"])["items"][0]
    assert "messages" not in entry and "flags" not in entry
    assert "messages.json" not in files["README-VERIFY.txt"].decode()
    contents = read_evidence(files["data/evidence.json"], set(files))
    assert contents.items[0].messages is None and contents.items[0].flags == ()


@pytest.mark.parametrize(("change", "words"), [
    (lambda m: m.update(index="1"), "index should be a whole number"),
    (lambda m: m.update(kind="rant"), "not a kind of message"),
    (lambda m: m.update(text=["x"]), "text should be text"),
    (lambda m: m.update(attachments=[{}] * 1001), "more than 1,000"),
    (lambda m: m.update(text="x" * 100_001), "longer than the 100,000"),
])
def test_a_hostile_messages_json_is_damage_not_a_crash(change: Any, words: str) -> None:
    message = {"index": 0, "sender": "a", "text": "hi", "kind": "message"}
    change(message)
    with pytest.raises(EvidenceDamaged, match=words):
        read_messages(json.dumps([message]).encode())


def test_messages_json_is_bounded_in_nesting_and_order() -> None:
    with pytest.raises(JsonDamaged, match="nested too deeply"):
        read_messages(b"[" * 10_000 + b"]" * 10_000)
    with pytest.raises(EvidenceDamaged, match="does not follow"):
        read_messages(json.dumps([{"index": 2}, {"index": 1}]).encode())
    with pytest.raises(EvidenceDamaged, match="not a list"):
        read_messages(b'{"index": 0}')


def test_a_hostile_messages_block_in_evidence_json_is_damage(
        sealed: tuple[Vault, Path, dict[str, int]]) -> None:
    _vault, bundle, ids = sealed
    files = files_of(bundle)
    for field, value, words in (("participants", ["x"] * 10_001, "more than 10,000"),
                                ("message_count", -1, "whole number"),
                                ("messages_sha256", "abc", "not a SHA-256"),
                                ("title", {"a": 1}, "should be text")):
        evidence = json.loads(files["data/evidence.json"])
        entry = next(i for i in evidence["items"] if i["id"] == ids["chat"])
        entry["messages"][field] = value
        with pytest.raises(EvidenceDamaged, match=words):
            read_evidence(json.dumps(evidence), set(files))
    evidence = json.loads(files["data/evidence.json"])
    entry = next(i for i in evidence["items"] if i["id"] == ids["chat"])
    entry["flags"].append(dict(entry["flags"][0]))
    with pytest.raises(EvidenceDamaged, match="flagged already"):
        read_evidence(json.dumps(evidence), set(files))


def test_messages_changed_in_the_vault_stop_the_export(tmp_path: Path, vault: Vault) -> None:
    item = add_chat(vault, flag=False)
    with vault._write() as cur:  # as damage or tampering would leave it
        cur.execute("UPDATE message SET body = 'nothing to see' WHERE item_id = ? AND idx = 12",
                    (item,))
    with pytest.raises(VaultDamaged, match="no longer match"):
        export_bundle(vault, tmp_path)
    assert list(tmp_path.glob("*.zip")) == []


def pdf_text(bundle: Path, tmp_path: Path) -> str:
    path = tmp_path / "report.pdf"
    path.write_bytes(files_of(bundle)["report.pdf"])
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                          check=True, text=True).stdout


def test_the_report_shows_the_e_mail_and_the_flagged_messages_with_context(
        sealed: tuple[Vault, Path, dict[str, int]], tmp_path: Path) -> None:
    _vault, bundle, _ids = sealed
    text = pdf_text(bundle, tmp_path)
    flat = " ".join(text.split())
    # The e-mail's headers table, its text flowing across pages, its attachment's hash.
    for words in ("From Jane Doe <jane@example.org>", "To sam@example.net",
                  "Cc head@school.example", f"Subject {EMAIL_SUBJECT}",
                  "Message-ID <1234.abcd@example.org>",
                  "from mx.example.org by mail.example.net",
                  "DKIM Signature valid for example.org, checked on 7 Dec 2026",
                  "END OF THE E-MAIL BODY",
                  f"Report (final).pdf: {len(ATTACHMENT)} bytes, SHA-256 "
                  f"{hashlib.sha256(ATTACHMENT).hexdigest()}"):
        assert words in flat, words
    # The flagged message, marked, with three messages of context on each side.
    assert "FLAGGED by the sender as Threat: the threat to Sam" in flat
    assert "THE THREAT: I know where you live" in flat
    for index in (9, 10, 11, 13, 14, 15, 22, 28):
        assert f"#{index} · " in flat
    assert chat_text(9) in flat and chat_text(15) in flat
    assert chat_text(8) not in flat and chat_text(16) not in flat
    assert "01/12/2026, 09:12 (as written) · 2026-12-01 09:12:00 UTC" in flat
    assert ("Times without a zone were taken as Europe/London, the computer's zone at "
            "import.") in flat
    assert "WhatsApp chat export (Android)" in flat
    # The timeline says what each item is when the sender did not name a site.
    assert "UTC E-mail – – – You will regret this" in flat
    assert "UTC Chat export – – – Chat with Alex" in flat
    # Hostile text stays plain: the override is a visible marker, not obeyed.
    assert "[U+202E]desrever" in flat and "\u202e" not in text
    html = files_of(bundle)["report.html"].decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>" not in html
    assert "Signature valid for example.org, checked on 7 Dec 2026" in html


def test_dkim_words_are_never_stronger_than_what_was_recorded() -> None:
    assert dkim_words({"result": "pass", "domain": "example.org",
                       "checked_at": "2026-12-07T10:00:00.000Z"}) == \
        "Signature valid for example.org, checked on 7 Dec 2026"
    assert dkim_words({"result": "not-checked", "reason": "offline"}) == \
        "Not checked (offline)"
    assert dkim_words(None) == "Not checked"
    assert dkim_words({"result": "none"}) == "Not signed"
    failed = dkim_words({"result": "fail", "domain": "example.org", "reason": "body hash"})
    assert failed.startswith("Signature did not verify") and "valid" not in failed
    assert "valid" not in dkim_words({"result": "temperror", "domain": "example.org"})


def test_bag_names_are_safe_unique_and_never_the_bundles_own() -> None:
    from evidence_recorder.core.bundle.seal import _bag_names
    from evidence_recorder.core.model import Artefact, ArtefactRole

    def artefact(name: str, primary: bool = False) -> Artefact:
        return Artefact(0, 0, name, ArtefactRole.ATTACHMENT, "application/octet-stream", 1,
                        "0" * 64, None, primary)

    names = _bag_names([artefact("chat.txt", True), artefact("messages.json"),
                        artefact("metadata.json"), artefact("a b.pdf"), artefact("a_b.pdf"),
                        artefact("été (1).JPG"), artefact("..."), artefact("x." + "y" * 300)])
    assert names["chat.txt"] == "chat.txt"
    assert names["messages.json"] == "messages-2.json"
    assert names["metadata.json"] == "metadata-2.json"
    assert names["a b.pdf"] == "a_b.pdf" and names["a_b.pdf"] == "a_b-2.pdf"
    assert names["été (1).JPG"] == "t_1.JPG"
    assert len(set(names.values())) == len(names)
    import re

    assert all(re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}", n) for n in names.values())
