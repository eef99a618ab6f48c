"""Which passphrases we refuse, and why, in words a person can act on."""

from __future__ import annotations

import itertools

from evidence_recorder.core.i18n import QT_TRANSLATE_NOOP

MIN_LENGTH = 12

# The most common passphrases of twelve characters or more in public breach lists,
# plus the obvious keyboard and counting runs. Compared case-insensitively.
_COMMON = frozenset(
    {
        "123456789012", "1234567890123", "12345678901234", "123456789012345",
        "1234567890123456", "1q2w3e4r5t6y", "1qaz2wsx3edc", "qwertyuiopasdfghjkl",
        "qwertyuiop[]", "qwertyuiopas", "qwerty123456", "qwertyuiop12", "asdfghjkl123",
        "zxcvbnm12345", "password1234", "password12345", "password123456", "passwordpassword",
        "password!123", "p@ssw0rd1234", "iloveyou1234", "abcdefghijkl", "abcdefghijklm",
        "abc123abc123", "abcd1234abcd", "aaaaaaaaaaaa", "111111111111", "000000000000",
        "letmein12345", "welcome12345", "welcome123456", "changeme1234", "administrator",
        "football1234", "baseball1234", "sunshine1234", "princess1234", "monkey123456",
        "dragon123456", "trustno1trustno1", "myspace12345", "mypassword123", "mypassword1234",
        "secretpassword", "supersecret123", "evidencerecorder", "evidence1234", "teacher12345",
        "teacher123456", "school123456", "headteacher1", "correcthorsebatterystaple",
    }
)


def passphrase_problem(passphrase: str) -> str | None:
    """The reason ``passphrase`` is refused, or ``None`` when it is acceptable."""
    if len(passphrase) < MIN_LENGTH:
        return (
            f"Please choose a passphrase of at least {MIN_LENGTH} characters; "
            "a few ordinary words with spaces between them is easy to remember and hard to guess."
        )
    folded = passphrase.casefold()
    if folded in _COMMON or len(set(folded)) <= 2 or _is_run(folded):
        return QT_TRANSLATE_NOOP(
            "EvidenceError",
            "That passphrase is one of the first that anyone would try. "
            "Please choose something only you would think of, such as a few unrelated words.",
        )
    return None


def _is_run(text: str) -> bool:
    """Counting or alphabet runs such as "123456789012" or "abcdefghijkl"."""
    steps = {ord(b) - ord(a) for a, b in itertools.pairwise(text)}
    return steps in ({1}, {-1})
