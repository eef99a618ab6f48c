"""The vault database's schema and its migrations, one function per version step.

``PRAGMA user_version`` records the version. A new vault is "migrated" from version
0, so the path that upgrades old vaults is the one every vault takes. Each step runs
inside one transaction (see ``Vault._migrate``), with foreign keys switched off for
the step as SQLite's own recipe for rebuilding a table asks; a step checks the keys
of what it made before it returns.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlcipher3

from evidence_recorder.core import fsutil
from evidence_recorder.core.model import original_name

SCHEMA_VERSION = 5
ARTEFACT_CHUNK = 4 * 1024 * 1024  # bytes per stored chunk, as received bundles

_V1 = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

CREATE TABLE incident (
    id          INTEGER PRIMARY KEY,
    title       TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    started_at  TEXT NOT NULL DEFAULT '',
    created_at  TEXT NOT NULL,
    is_default  INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE capture (
    id           INTEGER PRIMARY KEY,
    incident_id  INTEGER NOT NULL REFERENCES incident(id),
    kind         TEXT NOT NULL CHECK (kind IN ('screen', 'monitor', 'region', 'window', 'import')),
    captured_at  TEXT NOT NULL,
    tz_name      TEXT NOT NULL,
    utc_offset   TEXT NOT NULL,
    sha256       TEXT NOT NULL CHECK (length(sha256) = 64),
    width        INTEGER NOT NULL,
    height       INTEGER NOT NULL,
    media_type   TEXT NOT NULL,
    byte_size    INTEGER NOT NULL,
    environment  TEXT NOT NULL,
    source       TEXT,
    site         TEXT NOT NULL DEFAULT '',
    url          TEXT NOT NULL DEFAULT '',
    author       TEXT NOT NULL DEFAULT '',
    handle       TEXT NOT NULL DEFAULT '',
    profile_url  TEXT NOT NULL DEFAULT '',
    author_id    TEXT NOT NULL DEFAULT '',
    posted_at    TEXT NOT NULL DEFAULT '',
    category     TEXT NOT NULL DEFAULT '',
    description  TEXT NOT NULL DEFAULT '',
    context      TEXT NOT NULL DEFAULT '',
    people       TEXT NOT NULL DEFAULT '',
    platform_ref TEXT NOT NULL DEFAULT '',
    police_ref   TEXT NOT NULL DEFAULT ''
);
CREATE INDEX capture_incident ON capture (incident_id, captured_at);
CREATE INDEX capture_time ON capture (captured_at);

-- The original bytes, exactly as grabbed or imported. Never updated: see the trigger.
CREATE TABLE original (
    capture_id INTEGER PRIMARY KEY REFERENCES capture(id),
    bytes      BLOB NOT NULL
);
CREATE TABLE thumbnail (
    capture_id INTEGER PRIMARY KEY REFERENCES capture(id),
    jpeg       BLOB NOT NULL
);
-- Vector annotations (boxes, arrows, labels, redactions) drawn over a capture.
CREATE TABLE annotation (
    capture_id INTEGER PRIMARY KEY REFERENCES capture(id),
    data       TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE audit (
    seq       INTEGER PRIMARY KEY,
    at        TEXT NOT NULL,
    action    TEXT NOT NULL,
    subject   TEXT NOT NULL,
    details   TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL
);

CREATE TRIGGER original_never_changes BEFORE UPDATE ON original
BEGIN SELECT RAISE(ABORT, 'originals never change'); END;

CREATE TRIGGER capture_facts_never_change
BEFORE UPDATE OF kind, captured_at, tz_name, utc_offset, sha256, width, height, media_type,
                 byte_size, environment, source ON capture
BEGIN SELECT RAISE(ABORT, 'what was recorded at capture never changes'); END;

CREATE TRIGGER audit_never_changes BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;

CREATE TRIGGER audit_never_shrinks BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
"""


def run_script(conn: sqlcipher3.Connection, script: str) -> None:
    """Run statements one by one, inside the caller's transaction (executescript commits)."""
    pending = ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlcipher3.complete_statement(pending):
            conn.execute(pending)
            pending = ""
    if pending.strip() and not pending.strip().startswith("--"):
        raise ValueError("incomplete SQL statement at the end of a migration script")


# Version 2: report bundles received from someone else, kept byte for byte (so their
# seal still verifies) in chunks, so that a large bundle never has to fit in memory.
_V2 = """
CREATE TABLE received_bundle (
    id          INTEGER PRIMARY KEY,
    file_name   TEXT NOT NULL,
    byte_size   INTEGER NOT NULL,
    sha256      TEXT NOT NULL CHECK (length(sha256) = 64),
    received_at TEXT NOT NULL,
    verdict     TEXT NOT NULL
);
CREATE TABLE received_chunk (
    bundle_id INTEGER NOT NULL REFERENCES received_bundle(id) DEFERRABLE INITIALLY DEFERRED,
    seq       INTEGER NOT NULL,
    bytes     BLOB NOT NULL,
    PRIMARY KEY (bundle_id, seq)
);
CREATE TRIGGER received_chunk_never_changes BEFORE UPDATE ON received_chunk
BEGIN SELECT RAISE(ABORT, 'received bundles never change'); END;
CREATE TRIGGER received_bundle_never_changes BEFORE UPDATE ON received_bundle
BEGIN SELECT RAISE(ABORT, 'received bundles never change'); END;
"""


def _to_v1(conn: sqlcipher3.Connection) -> None:
    run_script(conn, _V1)


def _to_v2(conn: sqlcipher3.Connection) -> None:
    run_script(conn, _V2)


# Version 3: a report-size JPEG beside each original, made when it is captured, so an
# export copies it into the report instead of decoding every original again. Not
# evidence (the original is): captures from before version 3 get theirs at export.
_V3 = """
CREATE TABLE preview (
    capture_id INTEGER PRIMARY KEY REFERENCES capture(id),
    jpeg       BLOB NOT NULL,  -- at most 1280 pixels across
    small      BLOB NOT NULL   -- at most 640, for reports of very many captures
);
"""


def _to_v3(conn: sqlcipher3.Connection) -> None:
    run_script(conn, _V3)


# Version 4: an evidence item holds one or more artefacts (files kept byte for byte),
# stored in chunks like received bundles so that a 500 MB export never has to sit in
# memory whole. Every original moves into an artefact named "original.<ext>" (role
# "original", primary, with the SHA-256 and size recorded when it was captured) and
# the old "original" table goes: there is one place for the bytes of evidence.
# The capture table is rebuilt (SQLite cannot change a CHECK in place) to take the
# kinds that come next (web page, e-mail, chat export) and a title.
# The thumbnail and the report previews of an item name the artefact they were made
# from (its primary one); a bundle's covered copy names it in evidence.json.
# The column list repeats version 1's on purpose: each step's SQL is frozen as it ran,
# so an old vault is always upgraded by exactly the text that was tested then.
_V4_CAPTURE = """
CREATE TABLE capture_v4 (
    id           INTEGER PRIMARY KEY,
    incident_id  INTEGER NOT NULL REFERENCES incident(id),
    kind         TEXT NOT NULL CHECK (kind IN ('screen', 'monitor', 'region', 'window',
                                              'import', 'web', 'email', 'chat')),
    captured_at  TEXT NOT NULL,
    tz_name      TEXT NOT NULL,
    utc_offset   TEXT NOT NULL,
    sha256       TEXT NOT NULL CHECK (length(sha256) = 64),  -- the primary artefact's
    width        INTEGER NOT NULL,  -- of the primary picture; 0 where there is none
    height       INTEGER NOT NULL,
    media_type   TEXT NOT NULL,  -- the primary artefact's
    byte_size    INTEGER NOT NULL,  -- the primary artefact's
    environment  TEXT NOT NULL,
    source       TEXT,
    site         TEXT NOT NULL DEFAULT '',
    url          TEXT NOT NULL DEFAULT '',
    author       TEXT NOT NULL DEFAULT '',
    handle       TEXT NOT NULL DEFAULT '',
    profile_url  TEXT NOT NULL DEFAULT '',
    author_id    TEXT NOT NULL DEFAULT '',
    posted_at    TEXT NOT NULL DEFAULT '',
    category     TEXT NOT NULL DEFAULT '',
    description  TEXT NOT NULL DEFAULT '',
    context      TEXT NOT NULL DEFAULT '',
    people       TEXT NOT NULL DEFAULT '',
    platform_ref TEXT NOT NULL DEFAULT '',
    police_ref   TEXT NOT NULL DEFAULT '',
    title        TEXT NOT NULL DEFAULT ''
);
"""

_V3_CAPTURE_COLUMNS = (
    "id, incident_id, kind, captured_at, tz_name, utc_offset, sha256, width, height, "
    "media_type, byte_size, environment, source, site, url, author, handle, profile_url, "
    "author_id, posted_at, category, description, context, people, platform_ref, police_ref")

_V4_AFTER_REBUILD = """
CREATE INDEX capture_incident ON capture (incident_id, captured_at);
CREATE INDEX capture_time ON capture (captured_at);
CREATE TRIGGER capture_facts_never_change
BEFORE UPDATE OF kind, captured_at, tz_name, utc_offset, sha256, width, height, media_type,
                 byte_size, environment, source, title ON capture
BEGIN SELECT RAISE(ABORT, 'what was recorded at capture never changes'); END;

CREATE TABLE artefact (
    id           INTEGER PRIMARY KEY,
    item_id      INTEGER NOT NULL REFERENCES capture(id),
    name         TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 255),
    role         TEXT NOT NULL,
    media_type   TEXT NOT NULL,
    byte_size    INTEGER NOT NULL CHECK (byte_size >= 0),
    sha256       TEXT NOT NULL CHECK (length(sha256) = 64),
    is_primary   INTEGER NOT NULL DEFAULT 0 CHECK (is_primary IN (0, 1)),
    derived_from TEXT,  -- the name of the artefact of the same item it was made from
    UNIQUE (item_id, name)
);
-- At most one primary artefact per item (the code sees to at least one).
CREATE UNIQUE INDEX artefact_primary ON artefact (item_id) WHERE is_primary;
CREATE TABLE artefact_chunk (
    artefact_id INTEGER NOT NULL REFERENCES artefact(id) DEFERRABLE INITIALLY DEFERRED,
    seq         INTEGER NOT NULL,
    bytes       BLOB NOT NULL,
    PRIMARY KEY (artefact_id, seq)
);
CREATE TRIGGER artefact_never_changes BEFORE UPDATE ON artefact
BEGIN SELECT RAISE(ABORT, 'originals never change: what was recorded at intake stays'); END;
CREATE TRIGGER artefact_chunk_never_changes BEFORE UPDATE ON artefact_chunk
BEGIN SELECT RAISE(ABORT, 'originals never change'); END;

-- A derived picture names the artefact of its item it was made from.
ALTER TABLE thumbnail ADD COLUMN made_from TEXT NOT NULL DEFAULT '';
ALTER TABLE preview ADD COLUMN made_from TEXT NOT NULL DEFAULT '';
"""


def _to_v4(conn: sqlcipher3.Connection) -> None:
    """Rebuild ``capture``, make the artefact tables, move every original, row by row
    (one original in memory at a time), then drop ``original``."""
    run_script(conn, _V4_CAPTURE)
    conn.execute(f"INSERT INTO capture_v4 ({_V3_CAPTURE_COLUMNS}) "  # noqa: S608 - constants
                 f"SELECT {_V3_CAPTURE_COLUMNS} FROM capture")
    conn.execute("DROP TABLE capture")  # its indexes and trigger go with it
    conn.execute("ALTER TABLE capture_v4 RENAME TO capture")
    run_script(conn, _V4_AFTER_REBUILD)
    fsutil._step("migrate.v4.tables")
    ids = [int(r[0]) for r in conn.execute("SELECT capture_id FROM original ORDER BY capture_id")]
    for artefact_id, capture_id in enumerate(ids, 1):
        row = conn.execute(
            "SELECT o.bytes, c.media_type, c.byte_size, c.sha256 FROM original o "
            "JOIN capture c ON c.id = o.capture_id WHERE o.capture_id = ?",
            (capture_id,)).fetchone()
        data, media_type, byte_size, sha256 = row
        view = memoryview(data)
        for seq, start in enumerate(range(0, len(view), ARTEFACT_CHUNK)):
            conn.execute("INSERT INTO artefact_chunk (artefact_id, seq, bytes) VALUES (?, ?, ?)",
                         (artefact_id, seq, bytes(view[start:start + ARTEFACT_CHUNK])))
        conn.execute(
            "INSERT INTO artefact (id, item_id, name, role, media_type, byte_size, sha256, "
            "is_primary, derived_from) VALUES (?, ?, ?, 'original', ?, ?, ?, 1, NULL)",
            (artefact_id, capture_id, original_name(media_type), media_type, byte_size, sha256))
        del data, view, row
        fsutil._step("migrate.v4.moved")
    conn.execute("DROP TABLE original")  # and its trigger
    for table in ("thumbnail", "preview"):  # both were made from the original
        conn.execute(f"UPDATE {table} SET made_from = (SELECT name FROM artefact "  # noqa: S608
                     f"WHERE item_id = {table}.capture_id AND is_primary)")
    for table in ("artefact", "artefact_chunk"):
        if conn.execute(f"PRAGMA foreign_key_check({table})").fetchone() is not None:
            raise sqlcipher3.IntegrityError(f"the move to schema 4 broke a link in {table}")
    fsutil._step("migrate.v4.moved_all")


# Version 5 (step 10): the messages parsed from an e-mail or a chat export, and the
# ones the person flagged. The export itself is the item's primary artefact; these
# rows can be rebuilt from it by the parser version its source records, so they are
# not append-only (a message's ``extra`` holds an e-mail's headers and DKIM result,
# a chat line's reply, edit and attachment facts, as JSON). A flag is the person's
# own word, audited like an edit of a capture's details.
_V5 = """
CREATE TABLE message (
    item_id    INTEGER NOT NULL REFERENCES capture(id),
    idx        INTEGER NOT NULL CHECK (idx >= 0),
    kind       TEXT NOT NULL DEFAULT 'message',
    sender     TEXT NOT NULL DEFAULT '',
    sender_id  TEXT NOT NULL DEFAULT '',
    sent_at    TEXT NOT NULL DEFAULT '',  -- ISO 8601 UTC, '' when the export gives none
    written_at TEXT NOT NULL DEFAULT '',  -- as the export wrote it
    body       TEXT NOT NULL DEFAULT '',
    extra      TEXT,  -- JSON: reply_to, edited_at, attachments, e-mail headers
    PRIMARY KEY (item_id, idx)
);
CREATE INDEX message_time ON message (item_id, sent_at);
CREATE TABLE message_flag (
    item_id    INTEGER NOT NULL REFERENCES capture(id),
    idx        INTEGER NOT NULL,
    category   TEXT NOT NULL DEFAULT '',
    note       TEXT NOT NULL DEFAULT '',
    flagged_at TEXT NOT NULL,
    PRIMARY KEY (item_id, idx)
);
"""


def _to_v5(conn: sqlcipher3.Connection) -> None:
    run_script(conn, _V5)


# Steps that rebuild a table, so run with foreign keys off (SQLite's recipe).
REBUILDS_TABLES = frozenset({3})

# MIGRATIONS[n] takes a version-n database to version n + 1.
MIGRATIONS: dict[int, Callable[[sqlcipher3.Connection], None]] = {
    0: _to_v1, 1: _to_v2, 2: _to_v3, 3: _to_v4, 4: _to_v5}
