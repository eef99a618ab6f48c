"""Locking when the person walks away: idle time, session lock and sleep.

A shared family computer is the common case, so the vault locks itself after a few
idle minutes (a setting, on by default), and when the desktop session locks or the
machine goes to sleep where the platform tells us (logind on Linux, over D-Bus).
"""

from __future__ import annotations

import sys
import time
import weakref
from collections.abc import Callable

from PySide6.QtCore import (
    QAbstractNativeEventFilter,
    QByteArray,
    QCoreApplication,
    QEvent,
    QObject,
    QTimer,
    Signal,
    Slot,
)
from PySide6.QtGui import QGuiApplication, QWindow
from PySide6.QtWidgets import QApplication

_ACTIVITY = {
    QEvent.Type.MouseMove, QEvent.Type.MouseButtonPress, QEvent.Type.KeyPress,
    QEvent.Type.Wheel, QEvent.Type.TouchBegin, QEvent.Type.TabletPress,
}


_idle_locks: weakref.WeakSet[IdleLock] = weakref.WeakSet()
_web_engine_started = False


def start_web_engine() -> None:
    """Everything the app does before QtWebEngine starts in this process, in one place
    (the browser, Check again and the archived-page viewer call it): its switches
    (``web.prepare()``, which raises ``WebUnavailable`` with a plain sentence where it
    cannot run) and then :func:`web_engine_starting`."""
    from evidence_recorder import web

    web.prepare()
    web_engine_starting()


def web_engine_starting() -> None:
    """The capture browser (QtWebEngine) is about to start in this process.

    An event filter written in Python on the whole application crashes the process
    (a segmentation fault in PySide 6.11) once QtWebEngine's objects get events, so
    from now on every :class:`IdleLock` watches our windows instead (see there).
    """
    global _web_engine_started
    _web_engine_started = True
    for lock in list(_idle_locks):
        lock.watch_windows()


class IdleLock(QObject):
    """Emits ``idle`` after ``minutes`` without keyboard or mouse activity in the app.

    It watches the whole application (an application event filter) until the capture
    browser first starts; from then on it watches each of the app's windows (their
    ``QWindow``, which sees every key and click in the window, the web page's too),
    taking in each window as it gets the focus. See :func:`web_engine_starting`.
    """

    idle = Signal()

    def __init__(self, minutes: int, enabled: bool = True, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.idle)
        self._enabled = enabled
        self._per_window = False
        self._watched: weakref.WeakSet[QWindow] = weakref.WeakSet()
        self.set_minutes(minutes)
        _idle_locks.add(self)
        if _web_engine_started:
            self.watch_windows()
            return
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)

    def watch_windows(self) -> None:
        """Watch each window of the app rather than the application (see the class)."""
        if self._per_window:
            return
        self._per_window = True
        app = QApplication.instance()
        if not isinstance(app, QGuiApplication):
            return
        app.removeEventFilter(self)
        app.focusWindowChanged.connect(self._window_focused)
        # Windows opened later (the browser's own among them) are taken in as they get
        # the focus, and by a look every second for those that never do.
        self._sweep = QTimer(self)
        self._sweep.setInterval(1000)
        self._sweep.timeout.connect(self._watch_new_windows)
        self._sweep.start()
        self._watch_new_windows()

    def _watch_new_windows(self) -> None:
        watched = self._watched
        for window in QGuiApplication.topLevelWindows():
            if window not in watched:
                window.installEventFilter(self)
                watched.add(window)

    def _window_focused(self, window: QWindow | None) -> None:
        if window is not None:
            if window not in self._watched:
                window.installEventFilter(self)
                self._watched.add(window)
            self._activity()

    def _activity(self) -> None:
        if self._timer.isActive():
            self._timer.start()  # activity: start counting again

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
        if event.type() in _ACTIVITY:
            self._activity()
        return False


# Windows messages (winuser.h, wtsapi32.h) for a locked session and a sleeping machine.
WM_WTSSESSION_CHANGE = 0x02B1
WTS_SESSION_LOCK = 0x7
WM_POWERBROADCAST = 0x0218
PBT_APMSUSPEND = 0x4
# A wall clock that jumps this much further than the monotonic clock means the
# machine slept (both clocks stop advancing together only while it runs).
SLEEP_GAP_SECONDS = 30.0
POLL_MS = 5000


def windows_message_means_lock(message: int, wparam: int) -> bool:
    """The session was locked, or the machine is about to sleep."""
    return ((message == WM_WTSSESSION_CHANGE and wparam == WTS_SESSION_LOCK)
            or (message == WM_POWERBROADCAST and wparam == PBT_APMSUSPEND))


class _WindowsFilter(QAbstractNativeEventFilter):
    """Reads WM_WTSSESSION_CHANGE and WM_POWERBROADCAST from the app's native events."""

    def __init__(self, on_lock: Callable[[], None]) -> None:
        super().__init__()
        self._on_lock = on_lock

    def nativeEventFilter(self, event_type: QByteArray | bytes | bytearray | memoryview,
                          message: int) -> tuple[bool, int]:
        name = event_type.data() if isinstance(event_type, QByteArray) else bytes(event_type)
        if name == b"windows_generic_MSG":
            from ctypes import wintypes

            msg = wintypes.MSG.from_address(int(message))
            if windows_message_means_lock(msg.message, int(msg.wParam)):
                self._on_lock()
        return False, 0


def mac_screen_is_locked() -> bool:
    """macOS: the login window's own flag, read through CoreGraphics; False if unknown."""
    try:
        import ctypes
        import ctypes.util

        cg = ctypes.cdll.LoadLibrary(ctypes.util.find_library("CoreGraphics") or "")
        cf = ctypes.cdll.LoadLibrary(ctypes.util.find_library("CoreFoundation") or "")
        cg.CGSessionCopyCurrentDictionary.restype = ctypes.c_void_p
        cf.CFDictionaryGetValue.restype = ctypes.c_void_p
        cf.CFDictionaryGetValue.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
        cf.CFStringCreateWithCString.restype = ctypes.c_void_p
        cf.CFStringCreateWithCString.argtypes = [ctypes.c_void_p, ctypes.c_char_p,
                                                 ctypes.c_uint32]
        cf.CFBooleanGetValue.argtypes = [ctypes.c_void_p]
        cf.CFRelease.argtypes = [ctypes.c_void_p]
        session = cg.CGSessionCopyCurrentDictionary()
        if not session:
            return False
        key = cf.CFStringCreateWithCString(None, b"CGSSessionScreenIsLocked", 0x08000100)
        try:
            value = cf.CFDictionaryGetValue(session, key)
            return bool(value) and bool(cf.CFBooleanGetValue(value))
        finally:
            cf.CFRelease(key)
            cf.CFRelease(session)
    except (OSError, AttributeError):
        return False


class SessionWatcher(QObject):
    """Emits ``lock_requested`` when the desktop session locks or the machine sleeps.

    Each platform reports these its own way: logind over D-Bus on Linux, window
    messages on Windows, the login window's flag on macOS. On every platform a jump
    of the wall clock past the monotonic clock also tells that the machine slept.
    """

    lock_requested = Signal()

    def __init__(self, parent: QObject | None = None,
                 wall: Callable[[], float] = time.time,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        super().__init__(parent)
        self.connected = False
        self._wall, self._monotonic = wall, monotonic
        self._last = (wall(), monotonic())
        self._mac_locked = False
        self._poll = QTimer(self)
        self._poll.setInterval(POLL_MS)
        self._poll.timeout.connect(self.check)
        self._poll.start()
        self._filter: _WindowsFilter | None = None
        if sys.platform.startswith("linux"):
            self._connect_logind()
        elif sys.platform == "win32":
            self._connect_windows()

    def check(self) -> None:
        """Runs every few seconds: did the machine sleep, or (macOS) the screen lock?"""
        wall, mono = self._wall(), self._monotonic()
        slept = (wall - self._last[0]) - (mono - self._last[1]) > SLEEP_GAP_SECONDS
        self._last = (wall, mono)
        if slept:
            self.lock_requested.emit()
        if sys.platform == "darwin":
            locked = mac_screen_is_locked()
            if locked and not self._mac_locked:
                self.lock_requested.emit()
            self._mac_locked = locked

    def _connect_windows(self) -> None:
        app = QCoreApplication.instance()
        if app is None:
            return
        self._filter = _WindowsFilter(self.lock_requested.emit)
        app.installNativeEventFilter(self._filter)
        try:
            import ctypes

            windll = ctypes.windll  # type: ignore[attr-defined]
            widget = next(iter(QApplication.topLevelWidgets()), None)
            if widget is not None:
                # NOTIFY_FOR_THIS_SESSION = 0: session changes reach this window.
                windll.wtsapi32.WTSRegisterSessionNotification(int(widget.winId()), 0)
            self.connected = True
        except (OSError, AttributeError):
            pass

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
