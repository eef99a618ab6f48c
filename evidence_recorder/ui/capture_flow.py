"""Capturing from the app: delay and countdown, hiding our windows, region selection.

The grab itself is the core's, run as a background job (reading the screen and encoding
the PNG take a moment on a large desktop); this module only choreographs the windows
around it so that the app never appears in its own evidence. A region capture grabs the whole
desktop first and lets the user select on that frozen picture, so what they chose is
exactly what is kept, with the time of that first grab.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QApplication, QLabel, QVBoxLayout, QWidget

from evidence_recorder.core.errors import EvidenceError
from evidence_recorder.core.gather import capture, windows
from evidence_recorder.core.gather.capture import Grab, ScreenGrabber
from evidence_recorder.ui.i18n import error_text
from evidence_recorder.ui.tasks import Progress, run_task

HIDE_SETTLE_MS = 350  # time for the window manager to take our windows off the screen
WINDOW_MIN_DELAY = 3  # seconds to click the window to capture (ours is hidden meanwhile)


class Countdown(QWidget):
    """A small always-on-top countdown, hidden a moment before the grab."""

    cancelled = Signal()

    def __init__(self) -> None:
        super().__init__(None, Qt.WindowType.Tool | Qt.WindowType.FramelessWindowHint
                         | Qt.WindowType.WindowStaysOnTopHint
                         | Qt.WindowType.WindowDoesNotAcceptFocus)
        # It must never become the active window, or "capture a window" would take it.
        self.setAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating)
        self.setAccessibleName(self.tr("Capture countdown"))
        layout = QVBoxLayout(self)
        self.label = QLabel()
        font = self.label.font()
        font.setPointSizeF(font.pointSizeF() * 1.6)
        font.setBold(True)
        self.label.setFont(font)
        layout.addWidget(self.label)
        hint = QLabel(self.tr("Press Esc to cancel"))
        layout.addWidget(hint)
        self.setStyleSheet("background: #1f2937; color: white; padding: 6px;")
        QShortcut(QKeySequence(Qt.Key.Key_Escape), self, self.cancelled.emit)

    def show_seconds(self, seconds: int) -> None:
        self.label.setText(self.tr("Capturing in {seconds}…").format(seconds=seconds))
        self.adjustSize()
        screen = QApplication.primaryScreen()
        if screen is not None:
            area = screen.availableGeometry()
            self.move(area.right() - self.width() - 24, area.top() + 24)
        self.show()
        self.raise_()


class CaptureController(QObject):
    """Runs one capture at a time; emits ``grabbed`` with the Grab, or ``failed``."""

    grabbed = Signal(object)
    failed = Signal(str)
    cancelled = Signal()

    def __init__(self, grabber_factory: Callable[[], ScreenGrabber] = capture.default_grabber,
                 region_selector: Callable[[Grab], tuple[int, int, int, int] | None]
                 | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._grabber_factory = grabber_factory
        self._region_selector = region_selector or _select_region_on_screen
        self._countdown: Countdown | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(1000)
        self._timer.timeout.connect(self._tick)
        self._left = 0
        self._pending: tuple[str, int | None] | None = None
        self._hidden: list[QWidget] = []
        self.hide_windows = True
        self.busy = False
        # Tests replace these; the real ones ask the X server for the active window.
        self._window_check: Callable[[], None] = windows.check_supported
        self._window_rect: Callable[[], tuple[int, int, int, int]] = windows.active_window_rect

    def start(self, kind: str, monitor: int | None = None, delay: int = 0) -> None:
        """Begin a capture: ``kind`` is "screen", "monitor", "region" or "window"."""
        if self.busy:
            return
        if kind == "window":
            try:
                self._window_check()
            except EvidenceError as exc:
                self.failed.emit(error_text(exc))
                return
            delay = max(delay, WINDOW_MIN_DELAY)
        self.busy = True
        self._pending = (kind, monitor)
        if self.hide_windows:
            self._hidden = [w for w in QApplication.topLevelWidgets()
                            if w.isVisible() and not isinstance(w, Countdown)]
            for widget in self._hidden:
                widget.hide()
        if delay > 0:
            self._left = delay
            self._countdown = Countdown()
            self._countdown.cancelled.connect(self.cancel)
            self._countdown.show_seconds(self._left)
            self._timer.start()
        else:
            QTimer.singleShot(HIDE_SETTLE_MS if self.hide_windows else 0, self, self._grab)

    def cancel(self) -> None:
        self._timer.stop()
        self._close_countdown()
        self._restore()
        self.busy = False
        self.cancelled.emit()

    def _tick(self) -> None:
        self._left -= 1
        if self._left > 0 and self._countdown is not None:
            self._countdown.show_seconds(self._left)
            return
        self._timer.stop()
        self._close_countdown()
        QTimer.singleShot(HIDE_SETTLE_MS, self, self._grab)

    def _close_countdown(self) -> None:
        if self._countdown is not None:
            self._countdown.hide()
            self._countdown.deleteLater()
            self._countdown = None

    def _grab(self) -> None:
        """Grab in the background (reading the screen and encoding the PNG take a moment
        on a large desktop); the windows stay hidden until it is done. A region is then
        marked on the frozen desktop and cut out, in the background too."""
        assert self._pending is not None
        kind, monitor = self._pending
        make_grabber, window_rect = self._grabber_factory, self._window_rect

        def job(_progress: Progress) -> Grab:
            grabber = make_grabber()
            if kind == "region":
                return capture.grab(grabber)
            if kind == "window":
                return capture.grab_window(grabber, window_rect=window_rect)
            return capture.grab(grabber, monitor=monitor if kind == "monitor" else None)

        run_task(job, on_success=self._choose_region if kind == "region" else self._done,
                 on_failure=self._grab_failed)

    def _choose_region(self, desktop: Grab) -> None:
        region = self._region_selector(desktop)
        if region is None:
            self.cancel()
            return
        run_task(lambda _progress: capture.crop(desktop, region), on_success=self._done,
                 on_failure=self._grab_failed)

    def _done(self, result: Grab) -> None:
        self._restore()
        self.busy = False
        self.grabbed.emit(result)

    def _grab_failed(self, exc: EvidenceError) -> None:
        self._restore()
        self.busy = False
        self.failed.emit(error_text(exc))

    def _restore(self) -> None:
        for widget in self._hidden:
            widget.show()
        if self._hidden:
            self._hidden[0].raise_()
            self._hidden[0].activateWindow()
        self._hidden = []


def _select_region_on_screen(desktop: Grab) -> tuple[int, int, int, int] | None:
    from evidence_recorder.ui.region import select_region

    monitors = [(m.left, m.top, m.width, m.height) for m in desktop.monitors]
    return select_region(desktop.png, monitors)
