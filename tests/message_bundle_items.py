"""E-mail and chat items made directly in a vault from MessageExports built by hand (as
the parsers will return them), with real artefacts: the export's bytes, an attachment
with an unsafe name, a picture. Shared by test_message_bundle.py and
test_message_viewer.py.
"""

from __future__ import annotations

import io

from evidence_recorder.core.conversation import (
    DkimResult,
    MediaFile,
    Message,
    MessageAttachment,
    MessageExport,
    MessageKind,
    MessageSource,
)
from evidence_recorder.core.gather import images
from evidence_recorder.core.model import ArtefactRole, CaptureKind
from evidence_recorder.core.vault.items import NewArtefact
from evidence_recorder.core.vault.store import Vault

# A line that would reorder text if obeyed, and markup that would run if not escaped.
HOSTILE = "<b>bold</b> <script>alert(1)</script> \u202edesrever"
EMAIL_SUBJECT = "You will regret this"
EMAIL_BODY = ("Sam,\n\nEveryone at school knows what you did.\n"
              + "This line goes on and on. " * 400 + "\nEND OF THE E-MAIL BODY")
ATTACHMENT = b"%PDF-1.4 not really a pdf, but bytes all the same\n"
EML = (b"From: Jane Doe <jane@example.org>\r\nTo: sam@example.net\r\n"
       b"Subject: You will regret this\r\n\r\nSam, ...\r\n")
CHAT_TXT = b"01/12/2026, 09:00 - Alex: hi\n" * 30


def _jpeg() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (120, 80), (200, 40, 40)).save(out, "JPEG")
    return out.getvalue()


PICTURE = _jpeg()


def email_export() -> MessageExport:
    headers = [["Received", "from mx.example.org by mail.example.net; Mon, 7 Dec 2026 "
                            "09:15:02 +0000"],
               ["Received", "from laptop by mx.example.org; Mon, 7 Dec 2026 09:15:00 +0000"],
               ["From", "Jane Doe <jane@example.org>"], ["To", "sam@example.net"],
               ["Cc", "head@school.example"], ["Subject", EMAIL_SUBJECT],
               ["Date", "Mon, 7 Dec 2026 09:14:59 +0000"],
               ["Message-ID", "<1234.abcd@example.org>"]]
    dkim = DkimResult("pass", domain="example.org", selector="s1", key="v=DKIM1; p=AAAA",
                      checked_at="2026-12-07T10:00:00.000Z")
    message = Message(
        0, "Jane Doe <jane@example.org>", EMAIL_BODY, sent_at="2026-12-07T09:14:59.000Z",
        written_at="Mon, 7 Dec 2026 09:14:59 +0000", sender_id="jane@example.org",
        attachments=[MessageAttachment("Report (final).pdf", artefact="Report (final).pdf",
                                       media_type="application/pdf", size=len(ATTACHMENT))],
        extra={"headers": headers, "from": "Jane Doe <jane@example.org>",
               "to": ["sam@example.net"], "cc": ["head@school.example"],
               "date": "Mon, 7 Dec 2026 09:14:59 +0000", "subject": EMAIL_SUBJECT,
               "message_id": "<1234.abcd@example.org>",
               "received": [headers[0][1], headers[1][1]], "dkim": dkim.as_dict()})
    source = MessageSource(format="eml", parser="email/1", file_name="message.eml",
                           file_size=len(EML), file_mtime="2026-12-07T09:20:00.000Z",
                           title=EMAIL_SUBJECT, participants=["jane@example.org",
                                                              "sam@example.net"])
    export = MessageExport("email", source, [message], original_media_type="message/rfc822",
                           original_name="message.eml",
                           media=[MediaFile("Report (final).pdf", "application/pdf",
                                            len(ATTACHMENT), lambda: io.BytesIO(ATTACHMENT))])
    export.finish()
    return export


def chat_text(index: int) -> str:
    return f"chat message number {index}"


def chat_export(count: int = 30) -> MessageExport:
    messages = [Message(i, "Alex" if i % 2 else "Sam", chat_text(i),
                        sent_at=f"2026-12-01T{9 + i // 60:02d}:{i % 60:02d}:00.000Z",
                        written_at=f"01/12/2026, {9 + i // 60:02d}:{i % 60:02d}",
                        sender_id="+44 7700 900123" if i % 2 else "")
                for i in range(count)]
    messages[12].text = "THE THREAT: I know where you live"
    messages[13].text = HOSTILE
    messages[13].sender = "Alex\u202e"
    messages[20].attachments = [MessageAttachment("IMG-1.jpg", artefact="IMG-1.jpg",
                                                  media_type="image/jpeg")]
    messages[21].attachments = [MessageAttachment("VID-2.mp4", omitted=True)]
    messages.append(Message(count, "", "12/11/2026 garbled line", kind=MessageKind.UNREADABLE))
    source = MessageSource(format="whatsapp-android", parser="whatsapp/1",
                           file_name="WhatsApp Chat with Alex.txt", file_size=len(CHAT_TXT),
                           file_mtime="2026-12-01T12:00:00.000Z", title="Chat with Alex",
                           participants=["Alex", "Sam"], zone_assumed="Europe/London",
                           date_order="day-first", clock="24-hour")
    export = MessageExport("chat", source, messages, original_media_type="text/plain",
                           original_name="WhatsApp Chat with Alex.txt",
                           media=[MediaFile("IMG-1.jpg", "image/jpeg", len(PICTURE),
                                            lambda: io.BytesIO(PICTURE))])
    export.finish()
    return export


def add_export(vault: Vault, export: MessageExport, data: bytes) -> int:
    """Store ``export`` as the recorder does: its file (``data``) as the primary artefact,
    each media file as an attachment derived from it."""
    role = ArtefactRole.RAW_MESSAGE if export.kind == "email" else ArtefactRole.EXPORT
    artefacts = [NewArtefact(export.original_name, role, export.original_media_type, data,
                             primary=True)]
    artefacts += [NewArtefact(m.name, ArtefactRole.ATTACHMENT, m.media_type, m.open(),
                              derived_from=export.original_name) for m in export.media]
    return vault.add_item(CaptureKind(export.kind), artefacts,
                          captured_at="2026-12-07T10:00:00.000Z", tz_name="Europe/London",
                          utc_offset="+00:00", environment={},
                          thumbnail=images.message_card(export.kind, export.source.title,
                                                        export.source.message_count),
                          title=export.source.title, messages=export)


def add_email(vault: Vault) -> int:
    return add_export(vault, email_export(), EML)


def add_chat(vault: Vault, *, flag: bool = True) -> int:
    item = add_export(vault, chat_export(), CHAT_TXT)
    if flag:
        vault.flag_messages(item, [12], category="threat", note="the threat to Sam")
        vault.flag_messages(item, [25], category="harassment", note="")
    return item
