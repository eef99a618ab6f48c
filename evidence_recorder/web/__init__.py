"""The capture browser's engine: QtWebEngine pages captured as evidence.

The only package (with ``web/archive_view.py``) that imports QtWebEngine. It hands
core a Qt-free :class:`~evidence_recorder.core.gather.webpage.PageRecord`.

- :func:`prepare` before the QApplication is made (switches, sandbox policy).
- :func:`capture_page` for the command line (synchronous, no window).
- :class:`WebSession` for the browser window (asynchronous, signals).

Modules: ``runtime`` (start-up), ``page`` (profile and guarded page), ``devtools``
(the in-process archive bridge), ``network`` (responses, TLS), ``scripts`` (what runs
inside the page), ``pictures`` (visible and stitched full-page pictures), ``flow``
(bounded asynchronous steps), ``session`` (WebSession), ``headless`` (capture_page).
Importing this package does not import Qt; the names below load it when first used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from evidence_recorder.web.runtime import WebUnavailable, prepare

if TYPE_CHECKING:
    from evidence_recorder.web.headless import capture_page
    from evidence_recorder.web.session import WebSession


def __getattr__(name: str) -> Any:
    if name == "WebSession":
        from evidence_recorder.web.session import WebSession

        return WebSession
    if name == "capture_page":
        from evidence_recorder.web.headless import capture_page

        return capture_page
    raise AttributeError(name)


__all__ = ["WebSession", "WebUnavailable", "capture_page", "prepare"]
