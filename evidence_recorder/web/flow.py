"""Linear, bounded asynchronous steps on the Qt event loop.

A capture is a series of waits (a script to run in the page, a pause for the page
to paint). Written as callbacks it becomes a maze; here it is a Python generator
that yields a wait and is resumed with its result. :class:`Flow` drives it, with a
bound on every wait (:class:`WaitTimedOut` is thrown in) and on the whole flow
(:class:`DeadlineReached` is thrown in at the deadline, so the flow can keep what it
has; a flow still running a few seconds after that is closed). A result arriving
after its wait was given up is dropped (each wait has a token).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Generator
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWebEngineCore import QWebEnginePage


class WaitTimedOut(Exception):
    """One wait ran past its own bound."""


class DeadlineReached(Exception):
    """The whole flow's time is up: keep what you have and finish."""


class Wait:
    """Something to wait for; ``start`` calls ``resume(value)`` once, when it is there."""

    timeout_ms = 10_000

    def start(self, owner: QObject, resume: Callable[[Any], None]) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        """Given up on (timed out, or the flow ended): let go of what ``start`` took."""


class Sleep(Wait):
    def __init__(self, ms: int) -> None:
        self.ms = ms
        self.timeout_ms = ms + 5_000

    def start(self, owner: QObject, resume: Callable[[Any], None]) -> None:
        QTimer.singleShot(self.ms, owner, lambda: resume(None))


class RunJs(Wait):
    """Run a script in a page (its result: what the script's last expression gave)."""

    def __init__(self, page: QWebEnginePage, code: str, world: int, timeout_ms: int = 10_000):
        self.page, self.code, self.world, self.timeout_ms = page, code, world, timeout_ms

    def start(self, owner: QObject, resume: Callable[[Any], None]) -> None:
        self.page.runJavaScript(self.code, self.world, resume)


class Marked(Wait):
    """Until a script of ours in ``page`` (a ``GuardedPage``) logs a message starting with
    ``mark``; its result: the rest of that message."""

    def __init__(self, page: Any, mark: str, timeout_ms: int = 10_000) -> None:
        self.page, self.mark, self.timeout_ms = page, mark, timeout_ms
        self._slot: Callable[[str], None] | None = None

    def start(self, owner: QObject, resume: Callable[[Any], None]) -> None:
        last = str(self.page.last_mark)
        if last.startswith(self.mark):
            QTimer.singleShot(0, owner, lambda: resume(last[len(self.mark):]))
            return

        def slot(message: str) -> None:
            if message.startswith(self.mark):
                self.stop()
                resume(message[len(self.mark):])

        self._slot = slot
        self.page.marked.connect(slot)

    def stop(self) -> None:
        if self._slot is not None:
            self.page.marked.disconnect(self._slot)
            self._slot = None


Steps = Generator[Wait, Any, Any]


class Flow(QObject):
    """Drives one generator of waits; emits ``done(result)`` or ``crashed(exception)``."""

    done = Signal(object)
    crashed = Signal(object)

    def __init__(self, steps: Steps, deadline_s: float, parent: QObject | None = None,
                 grace_s: float = 8.0) -> None:
        super().__init__(parent)
        self._steps = steps
        self._token = 0
        self._finished = False
        self.deadline = time.monotonic() + deadline_s
        self._wait_timer = QTimer(self)
        self._wait_timer.setSingleShot(True)
        self._wait_timer.timeout.connect(self._on_wait_timeout)
        self._deadline_timer = QTimer(self)
        self._deadline_timer.setSingleShot(True)
        self._deadline_timer.timeout.connect(self._on_deadline)
        self._hard_timer = QTimer(self)
        self._hard_timer.setSingleShot(True)
        self._hard_timer.timeout.connect(self._on_hard_stop)
        self._deadline_timer.start(max(0, int(deadline_s * 1000)))
        self._grace_ms = int(grace_s * 1000)
        self.deadline_passed = False
        self._wait: Wait | None = None

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def start(self) -> None:
        QTimer.singleShot(0, self, lambda: self._step(None, None))

    def cancel(self) -> None:
        if not self._finished:
            self._finish()
            self._steps.close()

    def _stop_wait(self) -> None:
        wait, self._wait = self._wait, None
        if wait is not None:
            wait.stop()

    def _finish(self) -> None:
        self._finished = True
        self._stop_wait()
        self._token += 1
        for timer in (self._wait_timer, self._deadline_timer, self._hard_timer):
            timer.stop()

    def _resume(self, token: int, value: Any) -> None:
        if token != self._token or self._finished:
            return  # a late answer to a wait already given up
        self._wait = None
        self._wait_timer.stop()
        self._step(value, None)

    def _on_wait_timeout(self) -> None:
        if not self._finished:
            self._stop_wait()
            self._token += 1
            self._step(None, WaitTimedOut())

    def _on_deadline(self) -> None:
        if not self._finished:
            self.deadline_passed = True
            self._stop_wait()
            self._token += 1
            self._wait_timer.stop()
            self._hard_timer.start(self._grace_ms)
            self._step(None, DeadlineReached())

    def _on_hard_stop(self) -> None:
        if not self._finished:
            self._finish()
            self._steps.close()
            self.crashed.emit(DeadlineReached())

    def _step(self, value: Any, exc: BaseException | None) -> None:
        try:
            wait = self._steps.send(value) if exc is None else self._steps.throw(exc)
        except StopIteration as stop:
            self._finish()
            self.done.emit(stop.value)
            return
        except Exception as error:  # handed to the owner, which decides what to say
            self._finish()
            self.crashed.emit(error)
            return
        self._token += 1
        token = self._token
        self._wait = wait
        self._wait_timer.start(wait.timeout_ms)
        wait.start(self, functools.partial(self._resume, token))
