""""Check again": visit a web item's address once more, out of sight, and keep what it shows.

A hidden :class:`evidence_recorder.web.WebSession` (its own off-the-record browser; no
sign-in is used) loads the item's final address while the app stays usable, captures
the page as it is now, and saves it through the session as a new item linked to the
first (``recheck_of``). The core judges what the new capture shows (the post, gone, a
sign-in page, nothing answering); this module only says it back in plain words.

The browser must run on the GUI thread (Chromium's view lives there), so this is not a
background job but a chain of signals (the app stays usable meanwhile); the engine's
60-second bound on loading and capturing together makes sure it always ends.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal

from evidence_recorder.core.errors import EvidenceError
from evidence_recorder.core.model import Capture
from evidence_recorder.ui.i18n import error_text
from evidence_recorder.ui.session import VaultSession

if TYPE_CHECKING:
    from evidence_recorder.ui.session import PageRecord

CAPTURE_TIMEOUT = 60.0  # loading and capturing together


def _make_web_session(parent: QObject) -> Any:
    from evidence_recorder import web
    from evidence_recorder.ui import idle

    idle.start_web_engine()  # raises WebUnavailable (a plain sentence) where it cannot run
    return web.WebSession(parent, headless=True, accept_certificate_errors=True)


class PageChecker(QObject):
    """One "Check again" of one web item: ``done(new_id)``, ``failed(reason)`` or
    ``abandoned()`` (the vault locked first; nothing to tell), once."""

    done = Signal(int)
    failed = Signal(str)
    abandoned = Signal()

    def __init__(self, session: VaultSession, capture: Capture,
                 make_web_session: Callable[[QObject], Any] = _make_web_session,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        if capture.web is None:
            raise EvidenceError(self.tr("Only a web page can be checked again."))
        self.session = session
        self.capture = capture
        self.address = capture.web.final_url or capture.web.requested_url
        self._make_web_session = make_web_session
        self._web: Any = None
        self._finished = False
        self._saving = False
        session.locking.connect(self._abandon)

    def start(self) -> None:
        """Load and capture the address in a hidden, private browser of its own (no
        sign-in is used). A certificate problem does not stop it: the new capture
        records the problem."""
        web = self._web = self._make_web_session(self)
        web.captured.connect(self._save)
        web.failed.connect(self._failed)
        web.load_and_capture(self.address, "page", timeout=CAPTURE_TIMEOUT)

    def _save(self, record: PageRecord) -> None:
        if self._finished:
            return
        self._saving = True
        self._close_browser()
        if not self.session.is_unlocked:
            self._end()  # locked meanwhile: nothing kept, nothing to say
            return
        try:
            self.session.save_web_page(
                record, self.session.first_web_details(record), self.capture.id,
                incident_id=self.capture.incident_id,
                on_done=lambda new_id: self._end(new_id=new_id),
                on_failure=lambda exc: self._end(failed=error_text(exc)))
        except EvidenceError as exc:
            self._end(failed=error_text(exc))

    def _failed(self, reason: str) -> None:
        self._close_browser()
        self._end(failed=reason)

    def _abandon(self) -> None:
        """The vault is locking: stop, and keep nothing of the page in memory."""
        if not self._saving:
            self._end()

    def _close_browser(self) -> None:
        web, self._web = self._web, None
        if web is not None:
            web.close()

    def _end(self, *, new_id: int | None = None, failed: str | None = None) -> None:
        if self._finished:
            return
        self._finished = True
        self._close_browser()
        if new_id is not None:
            self.done.emit(new_id)
        elif failed is not None:
            self.failed.emit(failed)
        else:
            self.abandoned.emit()
        self.deleteLater()


__all__ = ["PageChecker"]
