"""SQLite and SQLCipher errors told apart by their error codes, never by their words.

After qutebrowser's ``misc/sql.py``: what the environment caused (a full disk, a
failing or read-only disk, a damaged file, another program holding the vault) becomes
the plain sentence the user can act on; anything else (no such column, a broken
constraint, misuse of the library) is a bug in this program. A bug is never reported
as "the vault may be damaged, restore a backup": that would send a distressed person
to restore a backup of a vault that is fine. It becomes :class:`DatabaseBug`, which is
not an :class:`EvidenceError`, so the app shows its crash dialog and the CLI writes a
crash report.

sqlcipher3, like the standard ``sqlite3`` since Python 3.11, puts SQLite's result code
on every error SQLite reports (``sqlite_errorcode``, and its name in
``sqlite_errorname``); when it is an extended code (778 = SQLITE_IOERR_WRITE) the primary
code is its low byte.
"""

from __future__ import annotations

from typing import Final

from evidence_recorder.core.errors import EvidenceError, VaultDamaged, VaultInUse

# SQLite's primary result codes (https://sqlite.org/rescode.html), named as in sqlite3.h.
SQLITE_ERROR: Final = 1
SQLITE_INTERNAL: Final = 2
SQLITE_PERM: Final = 3
SQLITE_ABORT: Final = 4
SQLITE_BUSY: Final = 5
SQLITE_LOCKED: Final = 6
SQLITE_NOMEM: Final = 7
SQLITE_READONLY: Final = 8
SQLITE_INTERRUPT: Final = 9
SQLITE_IOERR: Final = 10
SQLITE_CORRUPT: Final = 11
SQLITE_NOTFOUND: Final = 12
SQLITE_FULL: Final = 13
SQLITE_CANTOPEN: Final = 14
SQLITE_PROTOCOL: Final = 15
SQLITE_SCHEMA: Final = 17
SQLITE_TOOBIG: Final = 18
SQLITE_CONSTRAINT: Final = 19
SQLITE_MISMATCH: Final = 20
SQLITE_MISUSE: Final = 21
SQLITE_NOLFS: Final = 22
SQLITE_AUTH: Final = 23
SQLITE_RANGE: Final = 25
SQLITE_NOTADB: Final = 26

DISK_FULL_MESSAGE: Final = (
    "The disk is full, so nothing was saved. Free some space and try again; everything "
    "saved before is safe.")
NOT_WRITABLE_MESSAGE: Final = "The vault folder cannot be written to, so nothing was saved."
BUSY_MESSAGE: Final = "The vault is busy in another Evidence Recorder window. Try again."
DAMAGED_MESSAGE: Final = (
    "Part of the vault could not be read; it may be damaged. Nothing was changed. Keep the "
    "vault folder as it is and restore from a backup copy.")
NO_MEMORY_MESSAGE: Final = (
    "The computer ran out of memory, so nothing was saved. Close other programs and try "
    "again; everything saved before is safe.")

# What the environment can cause, by primary code. Every code not here is a bug.
FULL: Final = frozenset({SQLITE_FULL})
NOT_WRITABLE: Final = frozenset({SQLITE_READONLY, SQLITE_PERM, SQLITE_NOLFS})
BUSY: Final = frozenset({SQLITE_BUSY, SQLITE_LOCKED, SQLITE_PROTOCOL})
DAMAGED: Final = frozenset({SQLITE_IOERR, SQLITE_CORRUPT, SQLITE_NOTADB, SQLITE_CANTOPEN})
NO_MEMORY: Final = frozenset({SQLITE_NOMEM})
ENVIRONMENT: Final = FULL | NOT_WRITABLE | BUSY | DAMAGED | NO_MEMORY

# Extended codes that look like a broken disk but mean something else.
SQLITE_IOERR_NOMEM: Final = SQLITE_IOERR | (12 << 8)  # 3082: out of memory while reading
SQLITE_IOERR_LOCK: Final = SQLITE_IOERR | (15 << 8)  # 3850: a lock another program holds


class DatabaseBug(RuntimeError):
    """A database error no environment causes: a bug in Evidence Recorder.

    Its text is only the SQLite error name (the original exception, chained as its
    cause, keeps the details), so nothing of the user's reaches a crash report.
    """


def error_code(exc: BaseException) -> int | None:
    """SQLite's extended result code on ``exc``, or ``None`` when it carries none."""
    code = getattr(exc, "sqlite_errorcode", None)
    return code if isinstance(code, int) and not isinstance(code, bool) else None


def is_environment(exc: BaseException) -> bool:
    """True when the environment (disk, file, another program) caused ``exc``."""
    return isinstance(translate_db_error(exc), EvidenceError)


def is_disk_full(exc: BaseException) -> bool:
    """True for SQLITE_FULL (the disk, or its temporary folder, has no space left)."""
    translated = translate_db_error(exc)
    return isinstance(translated, EvidenceError) and translated.message == DISK_FULL_MESSAGE


def translate_db_error(exc: BaseException) -> Exception:
    """The exception to raise, ``from exc``, in place of a driver error.

    An :class:`EvidenceError` (with the plain sentence used everywhere in the vault)
    when the environment caused it, else a :class:`DatabaseBug`.
    """
    code = error_code(exc)
    if code is None:
        return _without_code(exc)
    primary = code & 0xFF
    if primary in FULL:
        return EvidenceError(DISK_FULL_MESSAGE)
    if primary in NO_MEMORY or code == SQLITE_IOERR_NOMEM:
        return EvidenceError(NO_MEMORY_MESSAGE)
    if primary in NOT_WRITABLE:
        return EvidenceError(NOT_WRITABLE_MESSAGE)
    if primary in BUSY or code == SQLITE_IOERR_LOCK:
        return VaultInUse(BUSY_MESSAGE)
    if primary in DAMAGED:
        return VaultDamaged(DAMAGED_MESSAGE)
    name = getattr(exc, "sqlite_errorname", None)
    return DatabaseBug(name if isinstance(name, str) and name.isidentifier()
                       else f"SQLite error {code}")


# The words SQLite's own sqlite3ErrStr() uses for the environment codes above.
_ENVIRONMENT_WORDS: Final = (
    ("database or disk is full", DISK_FULL_MESSAGE, EvidenceError),
    ("out of memory", NO_MEMORY_MESSAGE, EvidenceError),
    ("attempt to write a readonly database", NOT_WRITABLE_MESSAGE, EvidenceError),
    ("access permission denied", NOT_WRITABLE_MESSAGE, EvidenceError),
    ("database is locked", BUSY_MESSAGE, VaultInUse),
    ("database table is locked", BUSY_MESSAGE, VaultInUse),
    ("disk i/o error", DAMAGED_MESSAGE, VaultDamaged),
    ("database disk image is malformed", DAMAGED_MESSAGE, VaultDamaged),
    ("file is not a database", DAMAGED_MESSAGE, VaultDamaged),
    ("unable to open database file", DAMAGED_MESSAGE, VaultDamaged),
)


def _without_code(exc: BaseException) -> Exception:
    """The conservative fallback for an error that carries no SQLite code.

    sqlcipher3 (0.6) leaves ``sqlite_errorcode`` off the errors it makes itself, and
    those are misuse: ProgrammingError (a closed connection, two statements at once),
    InterfaceError (a value it cannot bind), Warning. They are bugs. An
    OperationalError or DatabaseError without a code can only come from a driver too
    old to set the attribute; for those alone we match SQLite's exact wording of the
    environment errors, and whatever does not match stays a bug, so a bug is never
    called damage on the strength of a guess.
    """
    if type(exc).__name__ in {"OperationalError", "DatabaseError"}:
        text = str(exc).lower()
        for words, message, kind in _ENVIRONMENT_WORDS:
            if words in text:
                return kind(message)
    return DatabaseBug(f"{type(exc).__name__} without an SQLite error code")
