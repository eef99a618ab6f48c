"""Long work off the GUI thread, through one helper (after Anki's QueryOp).

The job runs in Qt's thread pool and never touches widgets; its result, failure or
progress reaches the callbacks on the GUI thread through queued signals. A failure
that is an :class:`EvidenceError` is the environment's doing and goes to
``on_failure``; anything else is a bug and goes to the crash handler.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from evidence_recorder.core.errors import EvidenceError

Progress = Callable[[int, int], None]


class _Signals(QObject):
    succeeded = Signal(object)
    failed = Signal(object)
    crashed = Signal(object)
    progressed = Signal(int, int)


class _Job(QRunnable):
    def __init__(self, fn: Callable[[Progress], Any], signals: _Signals) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self._fn = fn
        self._signals = signals

    def run(self) -> None:
        try:
            result = self._fn(self._signals.progressed.emit)
        except EvidenceError as exc:
            self._signals.failed.emit(exc)
        except BaseException as exc:
            self._signals.crashed.emit(exc)
        else:
            self._signals.succeeded.emit(result)


_running: set[_Signals] = set()  # keeps the signal objects alive until the job reports


def run_task(fn: Callable[[Progress], Any], *, on_success: Callable[[Any], None],
             on_failure: Callable[[EvidenceError], None],
             on_progress: Progress | None = None, pool: QThreadPool | None = None,
             on_finished: Callable[[], None] | None = None) -> None:
    """Run ``fn(progress)`` in the background; callbacks run later on the GUI thread.

    ``on_finished`` runs after whichever way the job ended, a crash included (for
    book-keeping that must not wait on a bug, such as a lock put off until a save ends).
    """
    signals = _Signals()
    _running.add(signals)

    def finish() -> None:
        _running.discard(signals)
        signals.deleteLater()

    def finished() -> None:
        if on_finished is not None:
            on_finished()

    def succeeded(result: Any) -> None:
        finish()
        try:
            on_success(result)
        finally:
            finished()

    def failed(exc: EvidenceError) -> None:
        finish()
        try:
            on_failure(exc)
        finally:
            finished()

    def crashed(exc: BaseException) -> None:
        finish()
        try:
            sys.excepthook(type(exc), exc, exc.__traceback__)
        finally:
            finished()

    signals.succeeded.connect(succeeded)
    signals.failed.connect(failed)
    signals.crashed.connect(crashed)
    if on_progress is not None:
        signals.progressed.connect(on_progress)
    (pool or QThreadPool.globalInstance()).start(_Job(fn, signals))


def wait_for_tasks(timeout_ms: int = 30_000) -> bool:
    """Block until background jobs finish (used when quitting and in tests)."""
    return QThreadPool.globalInstance().waitForDone(timeout_ms)
