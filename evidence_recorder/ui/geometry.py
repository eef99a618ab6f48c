"""Window size, position and splitter layout, remembered the same way for every window.

Picard's ``PreserveGeometry`` idea: a window says once, with :func:`remember_geometry`,
under which settings key it keeps its layout. The window's geometry and its splitters'
states are put back there and then, and saved whenever the window closes or is hidden
(a dialog's Save, Cancel or Close hides it without a close event), so no window saves
by hand and none forgets to. Only sizes and positions are stored, never anything the
user captured or typed.

Keys are ``<key>/geometry`` and ``<key>/splitter`` (``<key>/splitter2`` and on for a
second splitter), which are the keys the main window and the bundle viewer always used,
so a user's layout survives the move to this helper.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QByteArray, QEvent, QObject, QSettings, QSize
from PySide6.QtWidgets import QSplitter, QWidget


def _splitter_key(key: str, position: int) -> str:
    return f"{key}/splitter" if position == 0 else f"{key}/splitter{position + 1}"


class GeometryKeeper(QObject):
    """Saves one window's layout when it closes or hides; a child of it, so it goes with it."""

    def __init__(self, window: QWidget, key: str, splitters: Sequence[QSplitter] = ()) -> None:
        super().__init__(window)
        self._window = window
        self._key = key
        self._splitters = tuple(splitters)
        window.installEventFilter(self)

    def restore(self, default_size: QSize) -> None:
        """The saved layout, or ``default_size`` for a window never seen before."""
        store = QSettings()
        geometry = store.value(f"{self._key}/geometry")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self._window.restoreGeometry(geometry)
        else:
            self._window.resize(default_size)
        for position, splitter in enumerate(self._splitters):
            state = store.value(_splitter_key(self._key, position))
            if isinstance(state, QByteArray) and not state.isEmpty():
                splitter.restoreState(state)

    def save(self) -> None:
        store = QSettings()
        store.setValue(f"{self._key}/geometry", self._window.saveGeometry())
        for position, splitter in enumerate(self._splitters):
            store.setValue(_splitter_key(self._key, position), splitter.saveState())

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        # A spontaneous hide is the window being minimised: nothing to keep then.
        if watched is self._window and (
                event.type() == QEvent.Type.Close
                or (event.type() == QEvent.Type.Hide and not event.spontaneous())):
            self.save()
        return False  # the window still handles the event itself


def remember_geometry(window: QWidget, key: str, default_size: QSize,
                      splitters: Sequence[QSplitter] = ()) -> GeometryKeeper:
    """Put back ``window``'s saved layout under ``key`` now, and save it from now on.

    Call it once the window's splitters exist (they are restored too), before the
    window is shown.
    """
    keeper = GeometryKeeper(window, key, splitters)
    keeper.restore(default_size)
    return keeper


__all__ = ["GeometryKeeper", "remember_geometry"]
