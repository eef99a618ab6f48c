"""Signal chat exports in the text form some exporters write
(``[2019-12-24, 12:23] Jane Doe: Hello``): dated lines, read by WhatsApp's machinery.

Signal itself has no "export chat"; tools that read its backups write this layout.
The dates are year first and the times have no zone, taken in the computer's zone at
import as for WhatsApp (``whatsapp.read_chat``, ``whatsapp.settle_times``).
"""

from __future__ import annotations

from pathlib import Path

from evidence_recorder.core.conversation import MessageExport
from evidence_recorder.core.errors import RefusedInput
from evidence_recorder.core.gather.messages import detect, limits, whatsapp

PARSER = "signal/1"
NOT_A_CHAT = ("{name} does not look like a Signal chat export: no line starts with a date "
              "and time, as “[2019-12-24, 12:23] Name: text” does.")


def parse_text(path: Path) -> MessageExport:
    """A Signal chat in the text layout above."""
    name, size, _ = detect.file_facts(path)
    if size > limits.MAX_PARSED_TEXT_BYTES:
        raise RefusedInput(f"{name} holds more text than this app reads from one chat "
                           f"export ({limits.MAX_PARSED_TEXT_BYTES // 1024**2} MB).")
    try:
        with path.open("rb", buffering=1024 * 1024) as stream:
            chat = whatsapp.read_chat(stream, name)
    except RefusedInput as exc:
        if exc.message == whatsapp.NOT_A_CHAT.format(name=name):
            raise RefusedInput(NOT_A_CHAT.format(name=name)) from exc
        raise
    for message in chat.messages:
        message.extra.pop("marked", None)  # WhatsApp's iOS media marks mean nothing here
    title = ", ".join(chat.participants[:4]) + (", …" if len(chat.participants) > 4 else "")
    return whatsapp.build_export(chat, path, fmt="signal-text", parser=PARSER, media=[],
                                 original_media_type="text/plain", original_name="chat.txt",
                                 title=title)
