"""Locking when the person walks away: idle time, session lock and sleep.

A shared family computer is the common case, so the vault locks itself after a few
idle minutes (a setting, on by default), and when the desktop session locks or the
machine goes to sleep where the platform tells us (logind on Linux, over D-Bus).
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QEvent, QObject, QTimer, Signal, Slot
from PySide6.QtWidgets import QApplication

_ACTIVITY = {
    QEvent.Type.MouseMove, QEvent.Type.MouseButtonPress, QEvent.Type.KeyPress,
    QEvent.Type.Wheel, QEvent.Type.TouchBegin, QEvent.Type.TabletPress,
}


class IdleLock(QObject):
    """Emits ``idle`` after ``minutes`` without keyboard or mouse activity in the app."""

    idle = Signal()

    def __init__(self, minutes: int, enabled: bool = True, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.idle)
        self._enabled = enabled
        self.set_minutes(minutes)
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)

    def set_minutes(self, minutes: int) -> None:
        self.set_interval_ms(max(1, minutes) * 60_000)

    def set_interval_ms(self, ms: int) -> None:
        self._timer.setInterval(ms)
        if self._timer.isActive():
            self._timer.start()

    def set_enabled(self, enabled: bool) -> None:
        self._enabled = enabled
        if not enabled:
            self._timer.stop()

    def start(self) -> None:
        if self._enabled:
            self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def is_running(self) -> bool:
        return self._timer.isActive()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in _ACTIVITY and self._timer.isActive():
            self._timer.start()  # activity: start counting again
        return False


class SessionWatcher(QObject):
    """Emits ``lock_requested`` when the desktop session locks or the machine sleeps."""

    lock_requested = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.connected = False
        if sys.platform.startswith("linux"):
            self._connect_logind()

    def _connect_logind(self) -> None:
        try:
            from PySide6.QtDBus import QDBusConnection
        except ImportError:
            return
        bus = QDBusConnection.systemBus()
        if not bus.isConnected():
            return
        service, path = "org.freedesktop.login1", "/org/freedesktop/login1"
        sleep = bus.connect(service, path, "org.freedesktop.login1.Manager", "PrepareForSleep",
                            self, "_on_sleep(bool)")  # type: ignore[call-overload]
        lock = bus.connect(service, "/org/freedesktop/login1/session/auto",
                           "org.freedesktop.login1.Session", "Lock", self,
                           "_on_lock()")  # type: ignore[call-overload]
        self.connected = bool(sleep or lock)

    @Slot(bool)
    def _on_sleep(self, going_to_sleep: bool) -> None:
        if going_to_sleep:
            self.lock_requested.emit()

    @Slot()
    def _on_lock(self) -> None:
        self.lock_requested.emit()
