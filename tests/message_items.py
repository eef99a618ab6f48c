"""Chat and e-mail items made by hand (the shapes the parsers return) and stored in a
real vault, for the conversation view and timeline tests (the real parsers are tested
on their own)."""

from __future__ import annotations

import io
from collections.abc import Sequence

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

HOSTILE = "<b>bold</b> <a href='https://evil.example/'>click me</a> &amp; <img src=x>"


def png_bytes(colour: str = "red") -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (60, 40), colour).save(out, "PNG")
    return out.getvalue()


def chat_messages(count: int, senders: Sequence[tuple[str, str]] = (
        ("Sam", ""), ("Alex", "+44 7700 900123"))) -> list[Message]:
    out = []
    for i in range(count):
        sender, sender_id = senders[i % len(senders)]
        day = 1 + (i // 50) % 28
        month = 10 + (i // 1400) % 3
        out.append(Message(i, sender, f"message number {i}" + (" and more words " * (i % 4)),
                           sent_at=f"2026-{month:02d}-{day:02d}T{10 + i % 12:02d}:00:00.000Z",
                           written_at=f"{day}/{month}/2026, {10 + i % 12:02d}:00",
                           sender_id=sender_id))
    return out


def add_chat(vault: Vault, count: int = 40, *, title: str = "Chat with Alex",
             incident_id: int | None = None, picture: bool = True,
             messages: list[Message] | None = None) -> int:
    """A chat export item: a picture on message 3 (kept), a file left out on message 5,
    a reply on message 4, a system line on 0 and an unreadable line at the end."""
    items = messages if messages is not None else chat_messages(count)
    media: list[MediaFile] = []
    if count > 5 and messages is None:
        items[0].kind = MessageKind.SYSTEM
        items[0].sender = ""
        items[0].text = "Messages and calls are end-to-end encrypted."
        if picture:
            data = png_bytes()
            items[3].attachments = [MessageAttachment("IMG-1.png", artefact="IMG-1.png",
                                                      media_type="image/png", size=len(data))]
            media.append(MediaFile("IMG-1.png", "image/png", len(data),
                                   lambda: io.BytesIO(data)))
        items[4].reply_to = 3
        items[5].attachments = [MessageAttachment("VID-2.mp4", omitted=True)]
        items.append(Message(len(items), "", "12/11/2026 garbled ### line",
                             kind=MessageKind.UNREADABLE))
    source = MessageSource(format="whatsapp-android", parser="whatsapp/1", file_name="chat.txt",
                           file_size=123, file_mtime="2026-12-01T00:00:00.000Z", title=title,
                           zone_assumed="Europe/London")
    export = MessageExport("chat", source, items, original_media_type="text/plain",
                           original_name="chat.txt", media=media)
    export.finish()
    artefacts = [NewArtefact("chat.txt", ArtefactRole.EXPORT, "text/plain", b"the export",
                             primary=True)]
    artefacts += [NewArtefact(m.name, ArtefactRole.ATTACHMENT, m.media_type, m.open(),
                              derived_from="chat.txt") for m in export.media]
    return vault.add_item(CaptureKind.CHAT, artefacts, captured_at="2026-12-07T10:00:00.000Z",
                          tz_name="Europe/London", utc_offset="+00:00", environment={},
                          thumbnail=images.message_card("chat", title, len(items)),
                          title=title, messages=export, incident_id=incident_id)


def add_email(vault: Vault, *, subject: str = "You will regret this",
              incident_id: int | None = None, body: str = "") -> int:
    """One e-mail with headers, a DKIM result, a Received chain and an attachment."""
    pdf = b"%PDF-1.4 not really"
    dkim = DkimResult("not-checked", domain="example.org", selector="s1",
                      reason="the key could not be looked up")
    message = Message(
        0, "Pat Jones <pat@example.org>", body or f"Hello,\n{HOSTILE}\nYou will regret it.",
        sent_at="2026-11-20T21:04:00.000Z", written_at="Fri, 20 Nov 2026 21:04:00 +0000",
        sender_id="pat@example.org",
        attachments=[MessageAttachment("letter.pdf", artefact="letter.pdf",
                                       media_type="application/pdf", size=len(pdf))],
        extra={"from": "Pat Jones <pat@example.org>", "to": "teacher@school.example",
               "cc": "", "date": "Fri, 20 Nov 2026 21:04:00 +0000", "subject": subject,
               "message_id": "<abc123@example.org>",
               "received": ["from mx.example.org by mail.school.example; 20 Nov 2026 21:04:02",
                            "from pat-laptop by mx.example.org; 20 Nov 2026 21:04:01"],
               "dkim": dkim.as_dict(),
               "headers": [["From", "Pat Jones <pat@example.org>"], ["Subject", subject]]})
    source = MessageSource(format="eml", parser="email/1", file_name="message.eml",
                           file_size=456, file_mtime="2026-12-01T00:00:00.000Z", title=subject)
    export = MessageExport("email", source, [message], original_media_type="message/rfc822",
                           original_name="message.eml",
                           media=[MediaFile("letter.pdf", "application/pdf", len(pdf),
                                            lambda: io.BytesIO(pdf))])
    export.finish()
    artefacts = [NewArtefact("message.eml", ArtefactRole.RAW_MESSAGE, "message/rfc822",
                             b"From: pat@example.org\r\n\r\nHello", primary=True),
                 NewArtefact("letter.pdf", ArtefactRole.ATTACHMENT, "application/pdf", pdf,
                             derived_from="message.eml")]
    return vault.add_item(CaptureKind.EMAIL, artefacts, captured_at="2026-12-07T10:05:00.000Z",
                          tz_name="Europe/London", utc_offset="+00:00", environment={},
                          thumbnail=images.message_card("email", subject, 1), title=subject,
                          messages=export, incident_id=incident_id)
