"""The failures the environment can cause, each with a sentence a person can act on.

Anything raised that is *not* an :class:`EvidenceError` is a bug: the CLI and the
app show it as such. Messages never contain passphrases, note text or URLs.
"""

from __future__ import annotations


class EvidenceError(Exception):
    """A failure caused by the environment or the user's input, not by a bug."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class WrongSecret(EvidenceError):
    """A passphrase or recovery key that does not open the vault."""

    exit_code = 3


class RefusedInput(EvidenceError):
    """Input we will not accept: a weak passphrase, an unsupported or hostile file."""

    exit_code = 4


class VaultNotFound(EvidenceError):
    """There is no vault where one was expected."""


class VaultDamaged(EvidenceError):
    """The vault's files are present but cannot be read as they should."""


class VaultInUse(EvidenceError):
    """Another copy of the program has this vault open."""


class CaptureFailed(EvidenceError):
    """The screen could not be grabbed (no display, no permission, bad region)."""


class NotFound(EvidenceError):
    """A capture or incident id that does not exist."""
