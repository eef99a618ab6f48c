"""E-mails as evidence (issue 13): .eml, Outlook .msg and mbox read into messages with
their headers verbatim, attachments kept as artefacts, DKIM checked without ever calling
a lookup problem a failure, and hostile MIME met within bounds."""

from __future__ import annotations

import base64
import email
import hashlib
import json
import os
import re
import tracemalloc
from email import policy
from pathlib import Path
from typing import Any

import dkim
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from evidence_recorder.core.conversation import MessageKind, messages_json
from evidence_recorder.core.errors import RefusedInput
from evidence_recorder.core.gather import recorder
from evidence_recorder.core.gather.messages import detect, email_files, limits
from evidence_recorder.core.model import ArtefactRole
from evidence_recorder.core.vault.store import Vault

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / ".." / "shared" / "corpora" / "email"
# Files in the corpus that are not e-mails (a delivery-status fragment, a saved web page
# in MHTML): no From, Date or Subject header, so refused with a sentence.
NOT_EMAILS = {"flanker-bounce-delayed-broken.eml", "mimekit-multipart-related-mhtml.eml"}


def corpus(folder: str) -> list[Path]:
    if not CORPUS.is_dir():
        return []
    return sorted((CORPUS / folder).iterdir())


def need_corpus() -> None:
    if not CORPUS.is_dir():
        pytest.skip("the third-party e-mail corpus (../shared/corpora/email) is not here")


def index_rows() -> dict[str, dict[str, str]]:
    rows: dict[str, dict[str, str]] = {}
    lines = (CORPUS / "INDEX.tsv").read_text(encoding="utf-8").splitlines()
    head = lines[0].split("\t")
    for line in lines[1:]:
        row = dict(zip(head, line.split("\t"), strict=False))
        rows[Path(row["file"]).name] = row
    return rows


def ids(paths: list[Path]) -> list[str]:
    return [p.name for p in paths]


# --- A signing key of our own, and a lookup that answers with it ------------------------

@pytest.fixture(scope="module")
def signer() -> tuple[bytes, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM,
                                serialization.PrivateFormat.TraditionalOpenSSL,
                                serialization.NoEncryption())
    public = key.public_key().public_bytes(serialization.Encoding.DER,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
    return private, "v=DKIM1; k=rsa; p=" + base64.b64encode(public).decode("ascii")


class Lookup:
    """A key lookup that never leaves the process: answers from a table, counts calls."""

    def __init__(self, records: dict[str, str | None] | None = None,
                 error: Exception | None = None) -> None:
        self.records = records or {}
        self.error = error
        self.calls: list[str] = []

    def __call__(self, name: str, timeout: float) -> str | None:
        self.calls.append(name)
        assert timeout <= email_files.DNS_TIMEOUT_SECONDS
        if self.error is not None:
            raise self.error
        return self.records.get(name)


PLAIN = (b"From: Sam Sender <sam@school.example>\r\n"
         b"To: Head Teacher <head@school.example>\r\n"
         b"Subject: What they wrote\r\n"
         b"Date: Tue, 01 Dec 2026 09:30:00 +0100\r\n"
         b"Message-ID: <1@school.example>\r\n"
         b"\r\n"
         b"You will regret this.\r\n")


def signed(private: bytes, message: bytes = PLAIN) -> bytes:
    header = dkim.sign(message, b"sel", b"school.example", private,
                       include_headers=[b"from", b"to", b"subject", b"date"])
    return bytes(header) + message


def write(tmp_path: Path, data: bytes, name: str = "in.eml") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


# --- The corpus -----------------------------------------------------------------------

@pytest.mark.parametrize("path", corpus("eml") + corpus("mbox") + corpus("msg"),
                         ids=ids(corpus("eml") + corpus("mbox") + corpus("msg")))
def test_every_corpus_email_is_read_or_refused_with_a_sentence(path: Path) -> None:
    fmt = detect.what_is(path)
    assert fmt is not None and fmt.kind == "email"
    if path.name in NOT_EMAILS:
        with pytest.raises(RefusedInput, match="does not look like an e-mail"):
            detect.parse(path, fmt)
        return
    export = detect.parse(path, fmt)
    export.finish()
    assert export.kind == "email"
    assert export.messages and [m.index for m in export.messages] == \
        list(range(len(export.messages)))
    json.loads(messages_json(export.messages))  # storable: no stray surrogates
    for message in export.messages:
        assert message.sent_at == "" or re.fullmatch(
            r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", message.sent_at)
        assert message.extra["dkim"]["result"] in ("none", "not-checked")  # tests are offline
        assert len(message.text) <= limits.MAX_MESSAGE_CHARS
    for media in export.media:
        with media.open() as stream:
            assert len(stream.read()) == media.size
    row = index_rows().get(path.name)
    if row and fmt.id == "eml":
        observed = re.search(r"subject='(.*)'$", row["python3.11_email_observed"])
        subject = observed.group(1) if observed else ""
        if subject and "\ufffd" not in subject and \
                "encoded_words=3302" not in row["structure"]:
            assert export.source.title.startswith(subject.strip())


@pytest.mark.parametrize("path", corpus("eml"), ids=ids(corpus("eml")))
def test_headers_are_kept_verbatim_in_order(path: Path) -> None:
    if path.name in NOT_EMAILS:
        pytest.skip("not an e-mail")
    raw = path.read_bytes()
    headers = email_files.parse_eml(path).messages[0].extra["headers"]
    assert headers, "every e-mail here has headers"
    block = email_files.header_block(raw)
    position = 0
    for name, value in headers:
        for encoding in ("utf-8", "latin-1"):
            written = f"{name}:".encode(encoding)
            found = block.find(written, position)
            if found >= 0 and block.find(value.encode(encoding), found) >= 0:
                position = found + len(written)
                break
        else:
            pytest.fail(f"{name} is not in the file as written")
    # every line above the first empty one is there (continuations within their
    # header), none added
    written = [ln for ln in block.split(b"\n")
               if ln[:1] not in (b" ", b"\t", b"") and not ln.startswith(b"From ")]
    assert len(headers) == len(written)


def test_the_received_chain_is_listed_newest_first() -> None:
    need_corpus()
    path = CORPUS / "eml" / "flanker-enclosed-broken.eml"
    extra = email_files.parse_eml(path).messages[0].extra
    received = extra["received"]
    assert len(received) == 5  # those of the e-mail itself, not of the one it encloses
    assert received[0].startswith("by 10.231.77.161 with SMTP id")  # the topmost: newest
    stdlib = email.message_from_bytes(path.read_bytes(), policy=policy.compat32)
    assert received == [re.sub(r"\r?\n(?=[ \t])", "", v).strip()
                        for v in stdlib.get_all("Received")]
    shown = email.message_from_bytes(path.read_bytes(), policy=policy.default)
    assert extra["from"] == str(shown["From"]) == "Bob Marley <bob@example.net>"
    assert extra["subject"] == "Wow"
    assert extra["message_id"] == str(shown["Message-ID"]).strip()


def _stdlib_attachments(raw: bytes) -> list[bytes]:
    parsed = email.message_from_bytes(raw, policy=policy.default)
    found = []
    for part in parsed.walk():
        if part.is_multipart():
            continue
        if part.get_content_disposition() == "attachment" or part.get_filename() or \
                part.get_content_maintype() != "text":
            found.append(part.get_payload(decode=True) or b"")
    return found


def test_attachments_are_kept_as_artefacts_hashed_and_linked(vault: Vault) -> None:
    need_corpus()
    path = CORPUS / "eml" / "mail-parser-mail_test_5.eml"
    outcome = recorder.import_files(vault, [path])
    assert outcome.taken_as[path] == detect.FORMATS["eml"].label
    item_id = outcome.saved[0][1]
    artefacts = {a.name: a for a in vault.artefacts(item_id)}
    assert artefacts["message.eml"].sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert artefacts["message.eml"].role is ArtefactRole.RAW_MESSAGE
    message = vault.messages(item_id)[0]
    expected = _stdlib_attachments(path.read_bytes())
    assert len(message.attachments) == len(expected) == 5
    for attachment, data in zip(message.attachments, expected, strict=True):
        kept = artefacts[attachment.artefact]
        assert kept.role is ArtefactRole.ATTACHMENT
        assert attachment.artefact.startswith("attachment-")
        assert kept.sha256 == hashlib.sha256(data).hexdigest()
        assert kept.size == attachment.size == len(data)
        assert vault.artefact_bytes(item_id, attachment.artefact) == data


def test_a_mailbox_is_one_item_with_each_emails_attachments(vault: Vault) -> None:
    need_corpus()
    path = CORPUS / "mbox" / "mimekit-simple.mbox"
    outcome = recorder.import_files(vault, [path])
    item_id = outcome.saved[0][1]
    assert outcome.taken_as[path] == detect.FORMATS["mbox"].label
    messages = vault.messages(item_id)
    assert len(messages) == 3
    artefacts = {a.name: a for a in vault.artefacts(item_id)}
    assert artefacts["mailbox.mbox"].role is ArtefactRole.EXPORT
    assert artefacts["mailbox.mbox"].sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    linked = [a for m in messages for a in m.attachments]
    assert linked and all(a.artefact in artefacts for a in linked)
    for message in messages:
        for attachment in message.attachments:
            number = message.extra["mailbox_index"] + 1
            assert attachment.artefact.startswith(f"message-{number}-attachment-")
    # each kept attachment is exactly the part's decoded bytes
    raw = path.read_bytes()
    chunks = re.split(rb"(?m)^From - \r?\n", raw)[1:]
    for message, chunk in zip(messages, chunks, strict=True):
        for attachment, data in zip(message.attachments, _stdlib_attachments(chunk),
                                    strict=True):
            assert artefacts[attachment.artefact].sha256 == hashlib.sha256(data).hexdigest()


def test_mailboxes_split_only_on_real_from_lines() -> None:
    need_corpus()
    unmunged = email_files.parse_mbox(CORPUS / "mbox" / "mimekit-unmunged.mbox")
    assert len(unmunged.messages) == 2  # "From Russia with love" stays in the body
    assert "From Russia with love" in unmunged.messages[0].text
    assert len(email_files.parse_mbox(CORPUS / "mbox" / "mimekit-content-length.mbox")
               .messages) == 29


def test_chosen_emails_of_a_mailbox_can_be_taken_alone() -> None:
    need_corpus()
    path = CORPUS / "mbox" / "mimekit-issue1189.mbox"
    summaries = email_files.mbox_summaries(path)
    assert [s[0] for s in summaries] == [0, 1, 2, 3]
    assert all(isinstance(s[3], str) for s in summaries)
    chosen = email_files.parse_mbox(path, only={2})
    assert len(chosen.messages) == 1
    message = chosen.messages[0]
    assert message.index == 0 and message.extra["mailbox_index"] == 2
    assert message.extra["subject"] == summaries[2][3]


@pytest.mark.parametrize("path", corpus("msg"), ids=ids(corpus("msg")))
def test_outlook_msg_files_are_read_and_closed(path: Path) -> None:
    import extract_msg

    fds = len(os.listdir("/proc/self/fd"))
    export = email_files.parse_msg(path)
    assert len(os.listdir("/proc/self/fd")) == fds  # extract-msg's handles closed
    message = export.messages[0]
    assert export.original_name == "message.msg"
    assert export.original_media_type == "application/vnd.ms-outlook"
    with extract_msg.openMsg(str(path)) as opened:
        assert message.extra["subject"] == opened.subject
        sizes = [len(a.data) for a in opened.attachments]
    assert [m.size for m in export.media] == sizes
    assert [a.size for a in message.attachments] == sizes
    if path.name == "msg-extractor-strangeDate.msg":
        assert message.sent_at == ""
        assert any("no time" in n for n in export.source.notes)
    if path.name == "msg-extractor-unicode.msg":
        assert message.sent_at == "2013-11-18T08:26:24.000Z"
        assert message.extra["received"] and message.extra["dkim"]["result"] == "not-checked"
        assert [m.media_type for m in export.media] == ["image/tiff", "image/tiff"]


def test_a_damaged_msg_is_refused_with_a_sentence(tmp_path: Path) -> None:
    need_corpus()
    data = (CORPUS / "msg" / "msg-extractor-strangeDate.msg").read_bytes()
    path = write(tmp_path, data[:4096], "cut.msg")
    with pytest.raises(RefusedInput, match="could not be read as an Outlook e-mail"):
        email_files.parse_msg(path)


# --- Reading one .eml -----------------------------------------------------------------------

def test_an_eml_is_read_into_one_message(tmp_path: Path) -> None:
    export = email_files.parse_eml(write(tmp_path, PLAIN))
    export.finish()
    message = export.messages[0]
    assert message.sender == "Sam Sender <sam@school.example>"
    assert message.sender_id == "sam@school.example"
    assert message.text == "You will regret this."
    assert message.sent_at == "2026-12-01T08:30:00.000Z"
    assert message.written_at == "Tue, 01 Dec 2026 09:30:00 +0100"
    assert export.source.title == "What they wrote"
    assert export.source.format == "eml" and export.source.parser == email_files.PARSER
    assert export.original_name == "message.eml"
    assert export.original_media_type == "message/rfc822"
    assert message.extra["to"] == "Head Teacher <head@school.example>"
    assert message.extra["dkim"]["result"] == "none"


def test_an_html_only_body_is_reduced_to_text_never_rendered(tmp_path: Path) -> None:
    html = (b"<html><head><title>t</title><style>p{color:red}</style>"
            b"<script>alert('x')</script></head><body><p>First &amp; <b>bold</b></p>"
            b"<img src='http://tracker.example/x.png'><div>Second</div></body></html>")
    data = PLAIN.replace(b"\r\n\r\nYou will regret this.\r\n",
                         b"\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" + html)
    message = email_files.parse_eml(write(tmp_path, data)).messages[0]
    assert message.text.split() == ["First", "&", "bold", "Second"]
    assert "\n" in message.text
    assert message.extra["body_from_html"] is True


def test_an_unreadable_date_leaves_no_time_and_says_so(tmp_path: Path) -> None:
    data = PLAIN.replace(b"Tue, 01 Dec 2026 09:30:00 +0100", b"the day after tomorrow")
    export = email_files.parse_eml(write(tmp_path, data))
    assert export.messages[0].sent_at == ""
    assert export.messages[0].written_at == "the day after tomorrow"
    assert any("Date header could not be read" in n for n in export.source.notes)


def test_raw_eight_bit_headers_are_kept_as_text(tmp_path: Path) -> None:
    data = PLAIN.replace(b"What they wrote", b"Caf\xe9 \xff\r!")
    message = email_files.parse_eml(write(tmp_path, data)).messages[0]
    assert ["Subject", "Caf\xe9 \xff\r!"] in message.extra["headers"]
    json.loads(messages_json([message]))


def test_attachment_names_are_made_safe() -> None:
    assert email_files.safe_name("../../etc/passwd", "x") == "passwd"
    assert email_files.safe_name("C:\\Users\\me\\report final.pdf", "x") == \
        "report-final.pdf"
    assert email_files.safe_name("отчёт.pdf", "file.pdf") == "pdf"
    assert email_files.safe_name("...", "file.bin") == "file.bin"
    assert len(email_files.safe_name("a" * 300 + ".pdf", "x")) <= 80


def test_something_that_is_not_an_email_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, b"Dear diary,\nToday nothing happened.\n", "notes.eml")
    with pytest.raises(RefusedInput, match=r"does not look like an e-mail \(no From, Date "
                                           r"or Subject header\)"):
        email_files.parse_eml(path)
    assert detect.what_is(path) is None


def test_an_email_larger_than_the_bound_is_refused(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "MAX_EMAIL_BYTES", 100)
    with pytest.raises(RefusedInput, match="larger than this app reads"):
        email_files.parse_eml(write(tmp_path, PLAIN))


# --- DKIM -------------------------------------------------------------------------------

def test_a_good_dkim_signature_passes_and_the_key_is_recorded(
        tmp_path: Path, signer: tuple[bytes, str]) -> None:
    private, record = signer
    lookup = Lookup({"sel._domainkey.school.example.": record})
    message = email_files.parse_eml(write(tmp_path, signed(private)), lookup).messages[0]
    result = message.extra["dkim"]
    assert result["result"] == "pass"
    assert result["domain"] == "school.example" and result["selector"] == "sel"
    assert result["key"] == record
    assert result["checked_at"].endswith("Z")
    assert lookup.calls == ["sel._domainkey.school.example."]


@pytest.mark.parametrize(("old", "new"), [(b"regret", b"regreT"),
                                          (b"What they wrote", b"What they Wrote")])
def test_a_changed_byte_fails_the_dkim_check(tmp_path: Path, signer: tuple[bytes, str],
                                            old: bytes, new: bytes) -> None:
    private, record = signer
    data = signed(private).replace(old, new)
    lookup = Lookup({"sel._domainkey.school.example.": record})
    result = email_files.parse_eml(write(tmp_path, data), lookup).messages[0].extra["dkim"]
    assert result["result"] == "fail"
    assert result["key"] == record
    assert result["reason"]


def test_a_key_that_cannot_be_looked_up_is_not_checked_never_failed(
        tmp_path: Path, signer: tuple[bytes, str]) -> None:
    private, _ = signer
    data = signed(private).replace(b"regret", b"regreT")  # even a changed e-mail
    lookup = Lookup(error=TimeoutError("no network"))
    result = email_files.parse_eml(write(tmp_path, data), lookup).messages[0].extra["dkim"]
    assert result["result"] == "not-checked"
    assert result["reason"] == email_files.OFFLINE
    assert "could not be looked up" in result["reason"]
    assert result["key"] == ""


def test_a_key_no_longer_published_is_not_checked(tmp_path: Path,
                                                  signer: tuple[bytes, str]) -> None:
    private, _ = signer
    result = email_files.parse_eml(write(tmp_path, signed(private)),
                                   Lookup({})).messages[0].extra["dkim"]
    assert result["result"] == "not-checked"
    assert "no longer publishes" in result["reason"]


def test_an_offline_mailbox_looks_up_once(tmp_path: Path, signer: tuple[bytes, str]) -> None:
    private, _ = signer
    one = signed(private)
    data = b"".join(b"From sam@school.example Tue Dec  1 09:30:00 2026\n" + one + b"\n"
                    for _ in range(5))
    lookup = Lookup(error=OSError("unreachable"))
    export = email_files.parse_mbox(write(tmp_path, data, "box.mbox"), lookup=lookup)
    assert len(export.messages) == 5
    assert {m.extra["dkim"]["result"] for m in export.messages} == {"not-checked"}
    assert len(lookup.calls) == 1


def test_dkim_in_a_mailbox_checks_each_email_with_its_own_bytes(
        tmp_path: Path, signer: tuple[bytes, str]) -> None:
    private, record = signer
    good = signed(private)
    data = (b"From sam@school.example Tue Dec  1 09:30:00 2026\n" + good + b"\n"
            b"From sam@school.example Tue Dec  1 09:31:00 2026\n"
            + good.replace(b"regret", b"enjoy") + b"\n")
    lookup = Lookup({"sel._domainkey.school.example.": record})
    export = email_files.parse_mbox(write(tmp_path, data, "box.mbox"), lookup=lookup)
    assert [m.extra["dkim"]["result"] for m in export.messages] == ["pass", "fail"]
    assert len(lookup.calls) == 1  # the key is looked up once per import


def test_tests_never_reach_real_dns(tmp_path: Path, signer: tuple[bytes, str]) -> None:
    """The product's own lookup answers "offline" under ER_TESTS_NO_DNS (set for every
    test and the CLI children by conftest): a signed e-mail is not checked."""
    assert os.environ.get("ER_TESTS_NO_DNS")
    private, _ = signer
    result = email_files.parse_eml(write(tmp_path, signed(private))).messages[0].extra["dkim"]
    assert result["result"] == "not-checked"
    assert result["reason"] == email_files.OFFLINE


def test_the_real_lookup_gives_up_on_a_silent_resolver(monkeypatch: pytest.MonkeyPatch) -> None:
    """dnspython asked with a short lifetime, against a loopback port where nothing
    answers: the lookup says it could not look up, and never that there is no key."""
    import dns.resolver

    monkeypatch.delenv("ER_TESTS_NO_DNS")
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = ["127.0.0.1"]
    resolver.port = 9  # discard: nothing answers DNS there
    monkeypatch.setattr(dns.resolver, "default_resolver", resolver)
    with pytest.raises(email_files.KeyLookupError):
        email_files.lookup_txt("sel._domainkey.school.example.", 0.5)


# --- Hostile MIME -------------------------------------------------------------------------

def test_thousands_of_parts_are_bounded_with_a_note() -> None:
    need_corpus()
    export = email_files.parse_eml(CORPUS / "eml" / "flanker-enclosed-endless.eml")
    assert f"Parts beyond {limits.MAX_MIME_PARTS} not read; the whole file is kept as it is." \
        in export.source.notes
    assert export.messages[0].extra["subject"] == "Wow"


def test_mime_nested_thousands_deep_reads_without_recursion_error(tmp_path: Path) -> None:
    depth = 5000
    data = [PLAIN.split(b"\r\n\r\n")[0], b"\r\nMIME-Version: 1.0\r\n"]
    for level in range(depth):
        data.append(b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n'
                    % (level, level))
    data.append(b"Content-Type: text/plain\r\n\r\ndeep down\r\n")
    data += [b"--b%d--\r\n" % level for level in reversed(range(depth))]
    export = email_files.parse_eml(write(tmp_path, b"".join(data)))
    assert export.messages[0].extra["subject"] == "What they wrote"
    assert any(f"nested deeper than {limits.MAX_MIME_DEPTH} levels not read" in n
               for n in export.source.notes)


def test_enclosed_emails_nested_thousands_deep_are_bounded(tmp_path: Path) -> None:
    head = PLAIN.split(b"\r\n\r\n")[0] + b"\r\n"
    data = head + b"Content-Type: message/rfc822\r\n\r\n" * 3000 + head + b"\r\ninside\r\n"
    export = email_files.parse_eml(write(tmp_path, data))
    assert export.messages[0].sender == "Sam Sender <sam@school.example>"
    assert any("nested deeper than" in n for n in export.source.notes)


def test_a_header_of_3000_encoded_words_is_kept_as_written(tmp_path: Path) -> None:
    words = b" ".join(b"=?utf-8?q?w=C3=B6rd" + str(i).encode() + b"?=" for i in range(3000))
    data = PLAIN.replace(b"Subject: What they wrote", b"Subject: " + words)
    message = email_files.parse_eml(write(tmp_path, data)).messages[0]
    assert message.extra["subject"].startswith("=?utf-8?q?w=C3=B6rd0?= =?utf-8?q?w=C3=B6rd1?=")
    below = PLAIN.replace(b"Subject: What they wrote", b"Subject: " + b" ".join(
        words.split(b" ")[:10]))
    shown = email_files.parse_eml(write(tmp_path, below, "b.eml")).messages[0]
    assert shown.extra["subject"].startswith("wörd0wörd1")  # decoded below the bound


def test_a_mailbox_is_streamed_not_read_whole(tmp_path: Path) -> None:
    """Peak memory does not grow with the mailbox: four times the e-mails, about the
    same peak (one e-mail at a time; attachments are not held)."""
    blob = base64.encodebytes(os.urandom(250_000))
    one = (PLAIN.replace(b"\r\n\r\nYou will regret this.\r\n", b"")
           + b"\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"B\"\r\n\r\n"
           b"--B\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n--B\r\n"
           b"Content-Type: application/octet-stream\r\n"
           b"Content-Disposition: attachment; filename=\"photo.bin\"\r\n"
           b"Content-Transfer-Encoding: base64\r\n\r\n" + blob + b"\r\n--B--\r\n")

    def mailbox(count: int) -> Path:
        path = tmp_path / f"{count}.mbox"
        with path.open("wb") as out:
            for number in range(count):
                out.write(b"From sam@school.example Tue Dec  1 09:%02d:00 2026\n" % number)
                out.write(one + b"\n")
        return path

    def peak_of(path: Path) -> tuple[int, Any]:
        tracemalloc.start()
        try:
            export = email_files.parse_mbox(path)
            return tracemalloc.get_traced_memory()[1], export
        finally:
            tracemalloc.stop()

    email_files.parse_mbox(mailbox(1))  # imports and caches, before measuring
    small, _ = peak_of(mailbox(6))
    path = mailbox(24)
    big, export = peak_of(path)
    assert len(export.messages) == 24 and len(export.media) == 24
    assert big < small * 1.5
    assert big < path.stat().st_size // 2
    with export.media[-1].open() as stream:
        assert len(stream.read()) == export.media[-1].size == 250_000


def test_a_mailbox_beyond_the_message_bound_is_read_up_to_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "MAX_MBOX_MESSAGES", 3)
    data = b"".join(b"From sam@school.example Tue Dec  1 09:30:00 2026\n" + PLAIN + b"\n"
                    for _ in range(5))
    export = email_files.parse_mbox(write(tmp_path, data, "box.mbox"))
    assert len(export.messages) == 3
    assert any("more than 3 e-mails; only the first 3 were read" in n
               for n in export.source.notes)
    assert len(email_files.mbox_summaries(tmp_path / "box.mbox")) == 3


def test_an_email_too_large_in_a_mailbox_is_shown_unreadable(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    big = PLAIN + b"x" * 5000 + b"\r\n"
    data = (b"From a@b.example Tue Dec  1 09:30:00 2026\n" + PLAIN + b"\n"
            b"From a@b.example Tue Dec  1 09:31:00 2026\n" + big + b"\n"
            b"From a@b.example Tue Dec  1 09:32:00 2026\n" + PLAIN + b"\n")
    monkeypatch.setattr(limits, "MAX_EMAIL_BYTES", 2000)
    export = email_files.parse_mbox(write(tmp_path, data, "box.mbox"))
    assert [m.kind for m in export.messages] == [MessageKind.MESSAGE, MessageKind.UNREADABLE,
                                                 MessageKind.MESSAGE]
    assert "was not read" in export.messages[1].text


def test_a_file_without_a_from_line_is_not_a_mailbox(tmp_path: Path) -> None:
    with pytest.raises(RefusedInput, match="does not look like a mailbox"):
        email_files.parse_mbox(write(tmp_path, PLAIN, "box.mbox"))


# --- Detection -----------------------------------------------------------------------------

def test_detection_names_every_corpus_email_by_its_content() -> None:
    need_corpus()
    for path in corpus("msg"):
        assert detect.what_is(path) is detect.FORMATS["msg"]
    for path in corpus("mbox"):
        assert detect.what_is(path) is detect.FORMATS["mbox"]
    for path in corpus("eml"):
        # flanker's torture tests begin with a From_ line: a mailbox of one e-mail
        want = "mbox" if path.name.startswith("flanker-torture") else "eml"
        assert detect.what_is(path) is detect.FORMATS[want], path.name


def test_no_chat_export_is_taken_for_an_email() -> None:
    chats = REPO / ".." / "shared" / "corpora" / "chat-exports"
    if not chats.is_dir():
        pytest.skip("the third-party chat corpus (../shared/corpora/chat-exports) is not here")
    for path in sorted(chats.rglob("*")):
        if path.is_file():
            found = detect.what_is(path)
            assert found is None or found.kind != "email", path.name


@pytest.mark.parametrize("text", [
    b"From Russia with love\nTo: someone\n",
    b"From me to you: a poem\n\nroses are red\n",
    b"From: \n",
])
def test_text_starting_with_from_is_not_a_mailbox(text: bytes) -> None:
    assert detect.sniff(text) is not detect.FORMATS["mbox"]


def test_a_single_email_with_a_from_line_is_read_as_a_mailbox_of_one(tmp_path: Path) -> None:
    path = write(tmp_path, b"From sam@school.example Tue Dec  1 09:30:00 2026\n" + PLAIN)
    assert detect.what_is(path) is detect.FORMATS["mbox"]
    export = detect.parse(path)
    assert len(export.messages) == 1 and export.source.title == "What they wrote"
    # forced as .eml, the From_ line is skipped as the stdlib does
    assert email_files.parse_eml(path).messages[0].extra["headers"][0][0] == "From"


def test_an_outlook_msg_is_imported_with_its_attachments(vault: Vault) -> None:
    need_corpus()
    import extract_msg

    path = CORPUS / "msg" / "msg-extractor-unicode.msg"
    outcome = recorder.import_files(vault, [path])
    assert outcome.taken_as[path] == detect.FORMATS["msg"].label
    item_id = outcome.saved[0][1]
    artefacts = {a.name: a for a in vault.artefacts(item_id)}
    assert artefacts["message.msg"].role is ArtefactRole.RAW_MESSAGE
    assert artefacts["message.msg"].sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    message = vault.messages(item_id)[0]
    with extract_msg.openMsg(str(path)) as opened:
        expected = [hashlib.sha256(a.data).hexdigest() for a in opened.attachments]
    assert [artefacts[a.artefact].sha256 for a in message.attachments] == expected
    assert message.sender == "Brian Zhou <brizhou@gmail.com>"
    assert message.sender_id == "brizhou@gmail.com"


def test_a_byte_order_mark_before_the_headers_is_ignored(tmp_path: Path) -> None:
    message = email_files.parse_eml(write(tmp_path, b"\xef\xbb\xbf" + PLAIN)).messages[0]
    assert message.sender == "Sam Sender <sam@school.example>"
    assert message.extra["headers"][0] == ["From", "Sam Sender <sam@school.example>"]


def test_an_email_too_large_for_a_signature_check_is_not_checked(
        tmp_path: Path, signer: tuple[bytes, str], monkeypatch: pytest.MonkeyPatch) -> None:
    private, record = signer
    monkeypatch.setattr(email_files, "MAX_DKIM_BYTES", 100)
    lookup = Lookup({"sel._domainkey.school.example.": record})
    result = email_files.parse_eml(write(tmp_path, signed(private)),
                                   lookup).messages[0].extra["dkim"]
    assert result["result"] == "not-checked" and "larger than" in result["reason"]
    assert lookup.calls == []


MIXED_MBOX = (b"\n\xef\xbb\xbfFrom a@b.example Tue Dec  1 09:30:00 2026\r\n" + PLAIN + b"\r\n"
              b"From - \n" + PLAIN.replace(b"regret", b"\nFrom Russia with love\n") + b"\n"
              b"From 12345@xxx\n" + PLAIN + b"x" * 300 + b"\n\n"
              b"From - Mon Jun  3 12:50:27 1996\n" + PLAIN)


@pytest.mark.parametrize("block", [1, 7, 64, 4096])
def test_a_mailbox_splits_the_same_whatever_the_block_size(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, block: int) -> None:
    paths = [write(tmp_path, MIXED_MBOX, "mixed.mbox"), *corpus("mbox")]
    whole = {p: list(email_files.mbox_entries(p)) for p in paths}
    monkeypatch.setattr(email_files, "MBOX_BLOCK", block)
    for path in paths:
        raw = path.read_bytes()
        entries = list(email_files.mbox_entries(path))
        assert entries == whole[path]
        for entry in entries:
            assert entry.data == raw[entry.offset: entry.offset + entry.length]
    mixed = whole[paths[0]]
    assert len(mixed) == 4
    assert all(e.data and e.data.startswith(b"From: Sam") for e in mixed)
    assert b"From Russia with love" in (mixed[1].data or b"")


def test_a_mailbox_line_longer_than_the_line_bound_is_still_split_right(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "MAX_LINE_BYTES", 50)
    monkeypatch.setattr(email_files, "MBOX_BLOCK", 16)
    data = (b"From a@b.example Tue Dec  1 09:30:00 2026\n" + PLAIN + b"y" * 500 + b" From - \n"
            b"\nFrom a@b.example Tue Dec  1 09:31:00 2026\n" + PLAIN)
    entries = list(email_files.mbox_entries(write(tmp_path, data, "long.mbox")))
    assert len(entries) == 2
    assert entries[1].data == PLAIN


def test_the_walk_itself_stops_at_the_depth_bound(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Behind the scan before parsing, the walk over the parts is bounded too."""
    monkeypatch.setattr(email_files, "bound_mime", lambda raw: (raw, ""))
    monkeypatch.setattr(limits, "MAX_MIME_DEPTH", 2)
    data = [PLAIN.split(b"\r\n\r\n")[0], b"\r\nMIME-Version: 1.0\r\n"]
    for level in range(4):
        data.append(b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n'
                    % (level, level))
    data.append(b"Content-Type: text/plain\r\n\r\ndeep down\r\n")
    data += [b"--b%d--\r\n" % level for level in reversed(range(4))]
    export = email_files.parse_eml(write(tmp_path, b"".join(data)))
    assert "deep down" not in export.messages[0].text
    assert "Parts nested deeper than 2 levels not read." in export.source.notes


def _read_all(paths: list[Path]) -> list[dict[str, object]]:
    out = []
    for path in paths:
        fmt = detect.what_is(path)
        if fmt is None or fmt.id not in ("eml", "mbox"):
            continue
        try:
            export = detect.parse(path, fmt)
        except RefusedInput as exc:
            out.append({"refused": exc.message})
            continue
        messages = [m.as_dict() for m in export.messages]
        for m in messages:  # when the signature was checked differs from run to run
            for found in [m["extra"].get("dkim"), *m["extra"].get("dkim_signatures", [])]:
                if found:
                    found.pop("checked_at", None)
        out.append({"messages": messages, "notes": export.source.notes})
    return out


def test_the_fast_path_for_plain_emails_reads_exactly_what_the_full_parse_reads(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A plain single-part e-mail is read without the stdlib's parse tree (most of a big
    mailbox's time); every e-mail must come out the same either way."""
    made = []
    bodies = {"7bit": b"Hello there.\r\nSecond line.\r\n",
              "8bit": "Grüße, ça va? Ещё.\n".encode(),
              "quoted-printable": b"Caf=C3=A9 au lait =\r\nsoft break\r\n",
              "base64": base64.encodebytes("Base64 text: ĉu vi?\n".encode())}
    for n, (encoding, body) in enumerate(bodies.items()):
        for ctype in ("", "Content-Type: text/plain; charset=utf-8\r\n",
                      "Content-Type: text/plain; charset=\"iso-8859-1\"\r\n"):
            path = tmp_path / f"m{n}-{len(ctype)}.eml"
            path.write_bytes(b"From: A <a@example.org>\r\nSubject: s\r\n"
                             b"Date: Mon, 07 Dec 2026 10:00:00 +0000\r\n"
                             + ctype.encode() + f"Content-Transfer-Encoding: {encoding}\r\n"
                             .encode() + b"\r\n" + body)
            made.append(path)
    corpus = sorted((CORPUS / "eml").glob("*.eml")) + sorted((CORPUS / "mbox").glob("*"))
    paths = made + [p for p in corpus if p.is_file()]
    fast = _read_all(paths)
    monkeypatch.setattr(email_files, "SIMPLE_FAST_PATH", False)
    assert _read_all(paths) == fast
