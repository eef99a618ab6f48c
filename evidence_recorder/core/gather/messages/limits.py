"""Every bound on the work one e-mail or chat export may cause (hostile files).

A file beyond a bound is refused with a plain sentence (``RefusedInput``), or, where
the rest is still useful, kept whole with a note saying what was left out. Parsers
read exports as streams; nothing here lets a file decide how much memory is used.
"""

from __future__ import annotations

MAX_EXPORT_BYTES = 4 * 1024**3  # the original file kept byte for byte (streamed)
MAX_PARSED_TEXT_BYTES = 512 * 1024**2  # text read out of one export, in all
MAX_MESSAGES = 500_000  # messages of one export
MAX_MESSAGE_CHARS = 100_000  # one message's text (longer is cut, with a note)
MAX_LINE_BYTES = 1024**2  # one line of a text export
# A JSON export is parsed in memory: Python holds it at about 20 times its size (a
# 42 MB Telegram export of 200,000 messages peaked near 850 MB), so the bound keeps a
# family laptop usable; a longer chat can be exported a period at a time.
MAX_JSON_BYTES = 128 * 1024**2
MAX_JSON_DEPTH = 64
MAX_XML_BYTES = 1024**3  # an SMS backup (its MMS parts carry pictures as base64)

MAX_ZIP_MEMBERS = 10_000  # files in a chat export's ZIP
MAX_MEMBER_BYTES = 512 * 1024**2  # one file unpacked from a ZIP
MAX_UNPACKED_BYTES = 2 * 1024**3  # all files unpacked from a ZIP
MAX_ZIP_RATIO = 200  # unpacked / packed size of one member (a bomb beyond)

MAX_EMAIL_BYTES = 256 * 1024**2  # one e-mail (an .eml, a .msg, one message of a mbox)
MAX_MIME_PARTS = 1_000  # parts of one e-mail looked at
MAX_MIME_DEPTH = 30  # nesting of multiparts and enclosed messages
MAX_HEADER_CHARS = 64 * 1024  # one header's value as shown (decoded)
MAX_ENCODED_WORDS = 500  # RFC 2047 words decoded in one header; beyond, kept as written
MAX_ATTACHMENTS = 1_000  # files kept from one export
MAX_MBOX_MESSAGES = 100_000
