"""The vault database's schema and its migrations, one function per version step.

``PRAGMA user_version`` records the version. A new vault is "migrated" from version
0, so the path that upgrades old vaults is the one every vault takes.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlcipher3

SCHEMA_VERSION = 3

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


# MIGRATIONS[n] takes a version-n database to version n + 1.
MIGRATIONS: dict[int, Callable[[sqlcipher3.Connection], None]] = {0: _to_v1, 1: _to_v2, 2: _to_v3}
