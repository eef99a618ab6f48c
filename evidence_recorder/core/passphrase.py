"""Which passphrases we refuse, and why, in words a person can act on; how strong a new
one looks while it is typed (zxcvbn); and the passphrases we make for locking a bundle."""

from __future__ import annotations

import functools
import itertools
import math
import secrets

from evidence_recorder.core import paths
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


# ---------------------------------------------------------------- bundle passphrases
#
# A bundle locked "for transport" is a WinZip AES ZIP, the format 7-Zip opens. Its key
# comes from only 1,000 rounds of PBKDF2-SHA1, so anyone who gets the file (a forwarded
# e-mail, a lost USB stick) can try millions of guesses a second on one graphics card.
# Only the passphrase's own strength protects it: we offer a generated one, and refuse
# a chosen one that is easier to guess than the weakest we would generate.

WORDLIST_FILE = "eff_large_wordlist.txt"  # resources/wordlists/, see LICENSE there
WORDLIST_SIZE = 7776
GENERATED_WORDS = 6  # about 77.5 bits
MIN_WORDS = 5  # the bar for a chosen passphrase: as hard to guess as five random words
BUNDLE_MIN_GUESSES_LOG10 = MIN_WORDS * math.log10(WORDLIST_SIZE)  # about 19.4 (64.6 bits)
_ESTIMATE_CHARS = 100  # zxcvbn slows down on long input; more is never weaker

BUNDLE_TOO_WEAK = QT_TRANSLATE_NOOP(
    "EvidenceError",
    "That passphrase is too easy to guess to protect a bundle: anyone who gets the file can "
    "try millions of guesses a second against it. Use the passphrase made for you, or choose "
    "a longer one, such as five or more unrelated words.",
)


@functools.cache
def wordlist() -> tuple[str, ...]:
    """The EFF large word list (7,776 words), read once from ``resources/wordlists``."""
    path = paths.resource_dir() / "wordlists" / WORDLIST_FILE
    words = tuple(path.read_text(encoding="utf-8").split())
    if len(words) != WORDLIST_SIZE or len(set(words)) != WORDLIST_SIZE:
        # Fewer words would mean weaker passphrases than we promise: a broken install.
        raise RuntimeError(f"{WORDLIST_FILE} should hold {WORDLIST_SIZE} different words")
    return words


def generate_passphrase(words: int = GENERATED_WORDS) -> str:
    """Random words from the EFF list, chosen with ``secrets``, separated by spaces."""
    if words < MIN_WORDS:
        raise ValueError(f"a bundle passphrase has at least {MIN_WORDS} words")
    choices = wordlist()
    return " ".join(secrets.choice(choices) for _ in range(words))


def estimated_guesses_log10(passphrase: str) -> float:
    """zxcvbn's estimate of how many guesses (as a power of ten) find ``passphrase``."""
    from zxcvbn import zxcvbn

    if not passphrase:
        return 0.0
    return float(zxcvbn(passphrase[:_ESTIMATE_CHARS])["guesses_log10"])


def _famous(passphrase: str) -> bool:
    """E.g. "correct horse battery staple": random once, famous now, so tried first."""
    return "".join(passphrase.casefold().split()) in _COMMON


def bundle_passphrase_strength(passphrase: str) -> float:
    """0 to 1: how far ``passphrase`` is towards the bar for a bundle (1 = enough)."""
    if _famous(passphrase):
        return 0.0
    return min(1.0, estimated_guesses_log10(passphrase) / BUNDLE_MIN_GUESSES_LOG10)


def bundle_passphrase_problem(passphrase: str) -> str | None:
    """Why a chosen bundle passphrase is refused, or ``None`` when it is strong enough."""
    if _famous(passphrase) or estimated_guesses_log10(passphrase) < BUNDLE_MIN_GUESSES_LOG10:
        return BUNDLE_TOO_WEAK
    return None


# ---------------------------------------------------------------- strength while typing
#
# The bar under a new passphrase: zxcvbn's score (0 to 4), and its warning in our own
# plain words. zxcvbn knows repeats, keyboard runs, dates and common passwords, so
# "password1password1" reads weak, where counting words and characters called it good.

STRENGTH_CONTEXT = "PassphraseStrength"
MAX_SCORE = 4

_ZXCVBN_WARNINGS = {
    "Straight rows of keys are easy to guess.": QT_TRANSLATE_NOOP(
        "PassphraseStrength", "Rows of keys next to each other are easy to guess."),
    "Short keyboard patterns are easy to guess.": QT_TRANSLATE_NOOP(
        "PassphraseStrength", "Patterns on the keyboard are easy to guess."),
    'Repeats like "aaa" are easy to guess.': QT_TRANSLATE_NOOP(
        "PassphraseStrength", "The same letter again and again is easy to guess."),
    'Repeats like "abcabcabc" are only slightly harder to guess than "abc".': QT_TRANSLATE_NOOP(
        "PassphraseStrength", "Typing the same thing twice hardly makes it harder to guess."),
    'Sequences like "abc" or "6543" are easy to guess.': QT_TRANSLATE_NOOP(
        "PassphraseStrength", "Runs such as abc or 6543 are easy to guess."),
    "Recent years are easy to guess.": QT_TRANSLATE_NOOP(
        "PassphraseStrength", "Years are easy to guess."),
    "Dates are often easy to guess.": QT_TRANSLATE_NOOP(
        "PassphraseStrength", "Dates are easy to guess."),
    "This is a top-10 common password.": QT_TRANSLATE_NOOP(
        "PassphraseStrength", "This is one of the most common passwords."),
    "This is a top-100 common password.": QT_TRANSLATE_NOOP(
        "PassphraseStrength", "This is one of the most common passwords."),
    "This is a very common password.": QT_TRANSLATE_NOOP(
        "PassphraseStrength", "This is a very common password."),
    "This is similar to a commonly used password.": QT_TRANSLATE_NOOP(
        "PassphraseStrength", "This is very like a common password."),
    "A word by itself is easy to guess.": QT_TRANSLATE_NOOP(
        "PassphraseStrength", "One word on its own is easy to guess."),
    "Names and surnames by themselves are easy to guess.": QT_TRANSLATE_NOOP(
        "PassphraseStrength", "Names on their own are easy to guess."),
    "Common names and surnames are easy to guess.": QT_TRANSLATE_NOOP(
        "PassphraseStrength", "Common names are easy to guess."),
}
_OTHER_WARNING = QT_TRANSLATE_NOOP(
    "PassphraseStrength", "It follows a pattern that people often use.")
_FAMOUS_WARNING = QT_TRANSLATE_NOOP(
    "PassphraseStrength", "This is a well-known example, so it is among the first tried.")


def passphrase_strength(passphrase: str) -> tuple[int, str | None]:
    """zxcvbn's score from 0 (guessed at once) to 4 (very hard), and what makes it weak.

    The warning is plain English marked for translation in ``STRENGTH_CONTEXT``. A
    passphrase :func:`passphrase_problem` refuses always scores 0.
    """
    from zxcvbn import zxcvbn

    if not passphrase:
        return 0, None
    if passphrase_problem(passphrase) is not None:
        return 0, None
    if _famous(passphrase):
        return 0, _FAMOUS_WARNING
    result = zxcvbn(passphrase[:_ESTIMATE_CHARS])
    score = max(0, min(MAX_SCORE, int(result["score"])))
    said = str(result["feedback"].get("warning") or "")
    warning = _ZXCVBN_WARNINGS.get(said, _OTHER_WARNING) if said else None
    if warning is None and score <= 1:
        warning = _OTHER_WARNING
    return score, warning
