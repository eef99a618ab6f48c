"""The vault's history warning in the app: a red banner that stays, and the choice.

When the vault is older than (or not) the copy this computer last saw (see
``core/vault/anchor.py``), the person is told at once, in a box with two choices in words,
and a red banner stays above the captures until they say they put the older copy back
on purpose (which the audit log records). Everything goes through the session.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

from evidence_recorder.ui import messages
from evidence_recorder.ui.session import VaultSession
from evidence_recorder.ui.wording import format_short

if TYPE_CHECKING:
    from evidence_recorder.ui.session import HistoryWarning


class HistoryBanner(QFrame):
    """A red strip that says, in one sentence, that captures may be missing.

    White on #b3261e, as the child-protection button: it passes WCAG AA on any theme.
    """

    details_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("historyBanner")
        self.setStyleSheet("QFrame#historyBanner { background: #b3261e; border-radius: 4px; }"
                           "QFrame#historyBanner QLabel { color: white; background: #b3261e; "
                           "font-weight: bold; }")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 10, 6)
        self.label = QLabel()
        self.label.setWordWrap(True)
        layout.addWidget(self.label, 1)
        self.button = QPushButton(self.tr("What should I do?"))
        self.button.setAccessibleName(self.tr("What should I do about the missing captures?"))
        self.button.clicked.connect(self.details_requested)
        layout.addWidget(self.button)
        self.setAccessibleName(self.tr("Warning: this vault is older than last time"))
        self.hide()

    def show_warning(self, warning: HistoryWarning | None) -> None:
        if warning is None:
            self.label.clear()
            self.hide()
            return
        self.label.setText(headline(self, warning))
        self.show()


def headline(context: QWidget, warning: HistoryWarning) -> str:
    """The one sentence that says what may be missing."""
    if warning.kind == "unreadable":
        return context.tr("This computer's record of your vault's history could not be read, "
                          "so it cannot tell whether this is an older copy of your vault.")
    if warning.copy_ends_at is not None:
        return context.tr("This vault is older than the last time it was opened on this "
                          "computer: captures made after {when} may be missing.").format(
            when=format_short(warning.copy_ends_at.astimezone()))
    seen = warning.anchor_at.astimezone() if warning.anchor_at else None
    return context.tr("This is not the copy of your vault that was last opened on this "
                      "computer: captures made up to {when} may be missing.").format(
        when=format_short(seen) if seen else context.tr("then"))


def warn(parent: QWidget, session: VaultSession) -> None:
    """The loud warning, with the two choices. Nothing happens unless they choose."""
    warning = session.history_warning()
    if warning is None:
        return
    if warning.kind == "unreadable":
        title = parent.tr("Your vault's history could not be checked")
        yes = parent.tr("Start a new record from this vault")
        detail = parent.tr(
            "The record may have been damaged or altered. If you have not changed anything "
            "yourself, keep the vault folder as it is and ask your IT support for help.\n\n"
            "If you know why (for example, you changed the vault's keys on another computer), "
            "choose “Start a new record from this vault”. That choice is recorded in the "
            "audit log.")
    else:
        title = parent.tr("Captures may be missing")
        yes = parent.tr("I put back an older copy on purpose")
        held = parent.tr("On {when} this computer saw {seen} captures. This copy held {now} "
                         "when it was opened.").format(
            when=format_short(warning.anchor_at.astimezone()) if warning.anchor_at else "",
            seen=warning.anchor_captures, now=warning.vault_captures)
        detail = held + "\n\n" + parent.tr(
            "If you did not put back an older copy yourself, someone may have replaced your "
            "vault with an older one. Do not delete anything. Keep the vault folder as it is, "
            "and ask your IT support or your safeguarding lead for help: a backup or another "
            "copy may still hold the missing captures.\n\n"
            "If you put back an older copy on purpose (for example, from a backup), choose "
            "“I put back an older copy on purpose”. That choice is recorded in the audit log.")
    if messages.choose(parent, title, headline(parent, warning), yes_text=yes,
                       no_text=parent.tr("Keep warning me"), detail=detail):
        session.accept_history()


def last_opened_text(context: QWidget, session: VaultSession) -> str:
    """“Last opened … on this computer, holding N captures.”, or why there is none."""
    found = session.last_opened()
    if found is None:
        return (context.tr("This is the first time this vault has been opened on this "
                           "computer.") if session.first_time_here() else "")
    when, count = found
    text = (context.tr("Last opened {when} on this computer, holding 1 capture.") if count == 1
            else context.tr("Last opened {when} on this computer, holding {count} captures."))
    return text.format(when=format_short(when.astimezone()), count=count)


def history_checked_text(context: QWidget, session: VaultSession) -> str:
    """What "intact" covers about the vault's age: only as much as was compared."""
    if session.history_checked():
        return context.tr("It is not older than the last time it was opened on this computer.")
    return context.tr("This computer has no earlier record of this vault, so whether it is "
                      "an older copy could not be checked.")
