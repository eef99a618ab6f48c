"""The bundle's layout: the names of its files, its signing namespace and the limits a
received bundle must keep. Shared by sealing (seal.py), checking (check.py) and reading
(evidence.py, opened.py), so that the three never disagree about the format.
"""

from __future__ import annotations

from typing import Final

from evidence_recorder.core.model import ORIGINAL_EXTENSIONS

NAMESPACE: Final = "evidence-recorder-bundle"
# data/evidence.json: schema 1 listed "captures" (with "schema_version": 1); schema 2 lists
# "items", each with its artefacts (and says "schema": 2). Readers accept both.
SCHEMA_VERSION: Final = 2
KNOWN_SCHEMAS: Final = (1, 2)
BAGIT_VERSION: Final = "1.0"

BAGIT_TXT: Final = "bagit.txt"
BAG_INFO: Final = "bag-info.txt"
MANIFEST: Final = "manifest-sha256.txt"
TAGMANIFEST: Final = "tagmanifest-sha256.txt"
ALLOWED_SIGNERS: Final = "allowed_signers"
SIGNATURE: Final = "tagmanifest-sha256.txt.sig"
TIMESTAMP: Final = "tagmanifest-sha256.txt.sig.tsr"
REPORT_PDF: Final = "report.pdf"
REPORT_HTML: Final = "report.html"
README_VERIFY: Final = "README-VERIFY.txt"
VERIFY_SH: Final = "verify.sh"
VERIFY_CMD: Final = "verify.cmd"
SIGNED_TAG_FILES: Final = (BAGIT_TXT, BAG_INFO, MANIFEST, ALLOWED_SIGNERS)

# Limits on a received bundle. Ours stay far below them: originals are capped at
# import, and they are stored uncompressed, so no entry of ours compresses 200:1.
MAX_ENTRIES: Final = 10_000
MAX_ENTRY_BYTES: Final = 200 * 1024 * 1024
MAX_RATIO: Final = 200
MAX_TAG_FILE_BYTES: Final = 16 * 1024 * 1024  # manifests for 10,000 files are ~1 MB
# zipfile reads the whole central directory into memory and makes an object per
# entry before we can count them, so its declared size and count are checked first.
# Ours take about 110 bytes an entry: 10,000 entries need about 1.1 MB.
MAX_DIRECTORY_BYTES: Final = 4 * 1024 * 1024
EVIDENCE_JSON: Final = "data/evidence.json"
AUDIT_JSONL: Final = "data/audit.jsonl"
# The file extension an original gets in the bag, by its media type.
# An original's name in a bundle is its name in the vault (one table for both).
MEDIA_EXTENSIONS: Final = ORIGINAL_EXTENSIONS
