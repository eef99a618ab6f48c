"""``capture_page``: load and capture one page without a window (the command line)."""

from __future__ import annotations

from PySide6.QtCore import QEventLoop

from evidence_recorder.core.errors import CaptureFailed
from evidence_recorder.core.gather.webpage import DEFAULT_TIMEOUT, PageRecord
from evidence_recorder.web.runtime import ensure_app


def capture_page(url: str, *, visible_only: bool = False, panel: str | None = None,
                 wait: float = 0.0, timeout: float = DEFAULT_TIMEOUT) -> PageRecord:
    """Load ``url`` in a private, hidden browser and capture it, within ``timeout`` seconds.

    A page that fails to load still gives a record (``load_state`` FAILED, with notes);
    :class:`~evidence_recorder.core.errors.CaptureFailed` is raised only when nothing
    could be captured (or the panel asked for is not there), with a plain sentence.
    """
    from evidence_recorder.web.session import WebSession

    ensure_app()
    session = WebSession(headless=True, accept_certificate_errors=True)
    loop = QEventLoop()
    outcome: dict[str, object] = {}

    def done(record: object) -> None:
        outcome["record"] = record
        loop.quit()

    def failed(message: str) -> None:
        outcome["error"] = message
        loop.quit()

    session.captured.connect(done)
    session.failed.connect(failed)
    mode = "visible" if visible_only else "page"
    session.load_and_capture(url, mode, panel_selector=panel or "", wait=wait, timeout=timeout)
    if not outcome:
        loop.exec()
    session.close()
    if "record" in outcome:
        record = outcome["record"]
        assert isinstance(record, PageRecord)
        return record
    raise CaptureFailed(str(outcome.get("error") or "The page could not be captured."))
