"""Finding the window the user means: the active top-level window of an X11 desktop.

This module owns the question "where on the screen is the window the user last
clicked?". It asks the X server directly through libxcb (loaded with ctypes; mss
needs the same library, so nothing new is installed) and answers in screen pixels,
the frame the window manager draws around the window included. The pixels
themselves are grabbed by :mod:`evidence_recorder.core.gather.capture` like any region.

Only X11 is supported: Wayland deliberately tells applications nothing about other
windows, and Windows and macOS would need backends of their own. Every other case
raises :class:`CaptureFailed` with a sentence that says what to do instead.
"""

from __future__ import annotations

import ctypes
import functools
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from evidence_recorder.core.errors import CaptureFailed
from evidence_recorder.core.gather import xcb
from evidence_recorder.core.i18n import QT_TRANSLATE_NOOP

_log = logging.getLogger(__name__)

Rect = tuple[int, int, int, int]
"""left, top, width, height in screen pixels."""

NOT_X11_MESSAGE = (
    QT_TRANSLATE_NOOP("EvidenceError", "Capturing a single window is only possible on X11 desktops "
                                       "here; use “Capture a region” instead.")
)
NO_WINDOW_MANAGER_MESSAGE = (
    QT_TRANSLATE_NOOP("EvidenceError", "The desktop does not say which window is active (no window "
                                       "manager reports it), so a single window cannot be "
                                       "captured; use “Capture a region” instead.")
)
NO_ACTIVE_WINDOW_MESSAGE = QT_TRANSLATE_NOOP("EvidenceError", "No window is active. Click the "
                                                              "window you want during the "
                                                              "countdown.")
NOT_VIEWABLE_MESSAGE = (
    QT_TRANSLATE_NOOP("EvidenceError", "The active window is not on screen (it is minimised, "
                                       "hidden or has just closed). Click the window you want "
                                       "during the countdown.")
)

# Window-manager frames are a level or two deep; a chain longer than this is not a
# real desktop, and stopping keeps a confused server from holding us in a loop.
_MAX_TREE_DEPTH = 32

_XCB_ATOM_WINDOW = 33
_XCB_MAP_STATE_VIEWABLE = 2


# --- the requests asked here, bound on the one libxcb binding (gather/xcb.py) -------


class _GetPropertyReply(ctypes.Structure):
    _fields_ = [
        ("response_type", ctypes.c_uint8),
        ("format", ctypes.c_uint8),
        ("sequence", ctypes.c_uint16),
        ("length", ctypes.c_uint32),
        ("type", ctypes.c_uint32),
        ("bytes_after", ctypes.c_uint32),
        ("value_len", ctypes.c_uint32),
        ("pad0", ctypes.c_uint8 * 12),
    ]


class _GetWindowAttributesReply(ctypes.Structure):
    _fields_ = [
        ("response_type", ctypes.c_uint8),
        ("backing_store", ctypes.c_uint8),
        ("sequence", ctypes.c_uint16),
        ("length", ctypes.c_uint32),
        ("visual", ctypes.c_uint32),
        ("_class", ctypes.c_uint16),
        ("bit_gravity", ctypes.c_uint8),
        ("win_gravity", ctypes.c_uint8),
        ("backing_planes", ctypes.c_uint32),
        ("backing_pixel", ctypes.c_uint32),
        ("save_under", ctypes.c_uint8),
        ("map_is_installed", ctypes.c_uint8),
        ("map_state", ctypes.c_uint8),
        ("override_redirect", ctypes.c_uint8),
        ("colormap", ctypes.c_uint32),
        ("all_event_masks", ctypes.c_uint32),
        ("your_event_mask", ctypes.c_uint32),
        ("do_not_propagate_mask", ctypes.c_uint16),
        ("pad0", ctypes.c_uint8 * 2),
    ]


class _QueryTreeReply(ctypes.Structure):
    _fields_ = [
        ("response_type", ctypes.c_uint8),
        ("pad0", ctypes.c_uint8),
        ("sequence", ctypes.c_uint16),
        ("length", ctypes.c_uint32),
        ("root", ctypes.c_uint32),
        ("parent", ctypes.c_uint32),
        ("children_len", ctypes.c_uint16),
        ("pad1", ctypes.c_uint8 * 14),
    ]


class _GetGeometryReply(ctypes.Structure):
    _fields_ = [
        ("response_type", ctypes.c_uint8),
        ("depth", ctypes.c_uint8),
        ("sequence", ctypes.c_uint16),
        ("length", ctypes.c_uint32),
        ("root", ctypes.c_uint32),
        ("x", ctypes.c_int16),
        ("y", ctypes.c_int16),
        ("width", ctypes.c_uint16),
        ("height", ctypes.c_uint16),
        ("border_width", ctypes.c_uint16),
        ("pad0", ctypes.c_uint8 * 2),
    ]


class _TranslateCoordinatesReply(ctypes.Structure):
    _fields_ = [
        ("response_type", ctypes.c_uint8),
        ("same_screen", ctypes.c_uint8),
        ("sequence", ctypes.c_uint16),
        ("length", ctypes.c_uint32),
        ("child", ctypes.c_uint32),
        ("dst_x", ctypes.c_int16),
        ("dst_y", ctypes.c_int16),
    ]


_P, _U8, _U32, _I16 = xcb.P, xcb.U8, xcb.U32, xcb.I16
_Cookie = xcb.Cookie
_ErrorOut = xcb.ErrorOut


def _bind_requests(lib: ctypes.CDLL) -> None:
    binds: list[tuple[str, Any, list[Any]]] = [
        ("xcb_get_property", _Cookie, [_P, _U8, _U32, _U32, _U32, _U32, _U32]),
        ("xcb_get_property_reply", ctypes.POINTER(_GetPropertyReply),
         [_P, _Cookie, _ErrorOut]),
        ("xcb_get_property_value", _P, [ctypes.POINTER(_GetPropertyReply)]),
        ("xcb_get_property_value_length", ctypes.c_int, [ctypes.POINTER(_GetPropertyReply)]),
        ("xcb_get_window_attributes", _Cookie, [_P, _U32]),
        ("xcb_get_window_attributes_reply", ctypes.POINTER(_GetWindowAttributesReply),
         [_P, _Cookie, _ErrorOut]),
        ("xcb_query_tree", _Cookie, [_P, _U32]),
        ("xcb_query_tree_reply", ctypes.POINTER(_QueryTreeReply), [_P, _Cookie, _ErrorOut]),
        ("xcb_get_geometry", _Cookie, [_P, _U32]),
        ("xcb_get_geometry_reply", ctypes.POINTER(_GetGeometryReply),
         [_P, _Cookie, _ErrorOut]),
        ("xcb_translate_coordinates", _Cookie, [_P, _U32, _U32, _I16, _I16]),
        ("xcb_translate_coordinates_reply", ctypes.POINTER(_TranslateCoordinatesReply),
         [_P, _Cookie, _ErrorOut]),
    ]  # fmt: skip
    for name, restype, argtypes in binds:
        xcb.bind(lib, name, restype, *argtypes)


@functools.cache
def _libs() -> xcb.Library:
    try:
        libs = xcb.library()
        _bind_requests(libs.xcb)
        return libs
    except (OSError, AttributeError) as exc:  # no libxcb, or one without these calls
        _log.info("libxcb is not usable: %s", exc)
        raise CaptureFailed(NOT_X11_MESSAGE) from exc


class _Connection:
    """One short-lived connection; every reply is checked and freed here."""

    def __init__(self, libs: xcb.Library, conn: int, root: int) -> None:
        self.libs = libs
        self.conn = conn
        self.root = root

    def _reply(self, name: str, cookie: _Cookie) -> Any | None:
        """The reply's contents (a copy), or ``None`` when the server answered with an error."""
        error = _P()
        reply = getattr(self.libs.xcb, f"{name}_reply")(self.conn, cookie, ctypes.byref(error))
        if error.value:
            self.libs.libc.free(error)
        if not reply:
            if self.libs.xcb.xcb_connection_has_error(self.conn):
                raise CaptureFailed(
                    QT_TRANSLATE_NOOP("EvidenceError", "The connection to the X display broke "
                                                       "while looking for the active window. Try "
                                                       "again.")
                )
            return None
        try:
            contents = reply.contents
            return type(contents).from_buffer_copy(contents)
        finally:
            self.libs.libc.free(ctypes.cast(reply, _P))

    def atom(self, name: str) -> int:
        """The atom's number, or 0 when no client has ever named it."""
        raw = name.encode()
        cookie = self.libs.xcb.xcb_intern_atom(self.conn, 1, len(raw), raw)
        reply = self._reply("xcb_intern_atom", cookie)
        return 0 if reply is None else int(reply.atom)

    def window_property(self, window: int, atom: int) -> int | None:
        """A WINDOW-typed property: ``None`` when it is not set, 0 when it names no window."""
        xcb = self.libs.xcb
        cookie = xcb.xcb_get_property(self.conn, 0, window, atom, _XCB_ATOM_WINDOW, 0, 1)
        error = _P()
        reply = xcb.xcb_get_property_reply(self.conn, cookie, ctypes.byref(error))
        if error.value:
            self.libs.libc.free(error)
        if not reply:
            return None
        try:
            head = reply.contents
            if head.type != _XCB_ATOM_WINDOW or head.format != 32 or head.value_len < 1:
                return None if head.type == 0 else 0
            if xcb.xcb_get_property_value_length(reply) < 4:
                return 0
            value = xcb.xcb_get_property_value(reply)
            return int(ctypes.c_uint32.from_address(value).value) if value else 0
        finally:
            self.libs.libc.free(ctypes.cast(reply, _P))

    def viewable(self, window: int) -> bool:
        cookie = self.libs.xcb.xcb_get_window_attributes(self.conn, window)
        reply = self._reply("xcb_get_window_attributes", cookie)
        return reply is not None and int(reply.map_state) == _XCB_MAP_STATE_VIEWABLE

    def top_level(self, window: int) -> int | None:
        """The ancestor of ``window`` that is a child of the root: the WM's frame, if any."""
        for _ in range(_MAX_TREE_DEPTH):
            reply = self._reply("xcb_query_tree", self.libs.xcb.xcb_query_tree(self.conn, window))
            if reply is None:
                return None
            if int(reply.parent) in (self.root, 0):
                return window
            window = int(reply.parent)
        return None

    def outer_rect(self, window: int) -> Rect | None:
        """The window and its border, in root coordinates."""
        xcb = self.libs.xcb
        geometry = self._reply("xcb_get_geometry", xcb.xcb_get_geometry(self.conn, window))
        if geometry is None:
            return None
        cookie = xcb.xcb_translate_coordinates(self.conn, window, self.root, 0, 0)
        origin = self._reply("xcb_translate_coordinates", cookie)
        if origin is None:
            return None
        border = int(geometry.border_width)
        return (
            int(origin.dst_x) - border,
            int(origin.dst_y) - border,
            int(geometry.width) + 2 * border,
            int(geometry.height) + 2 * border,
        )


def _display_name(display: str | None) -> str:
    """The X display to ask, or a plain refusal where there is no X11 desktop."""
    if sys.platform in ("win32", "darwin"):
        raise CaptureFailed(NOT_X11_MESSAGE)
    if display is None:
        # A Wayland session may also offer an X display (Xwayland), but it knows
        # nothing of the Wayland windows the user sees, so its answer would mislead.
        if os.environ.get("WAYLAND_DISPLAY"):
            raise CaptureFailed(NOT_X11_MESSAGE)
        display = os.environ.get("DISPLAY", "")
    if not display:
        raise CaptureFailed(NOT_X11_MESSAGE)
    return display


@contextmanager
def _connect(display: str | None) -> Iterator[_Connection]:
    name = _display_name(display)
    libs = _libs()
    try:
        x = xcb.Connection(libs, name)
    except xcb.NoScreen as exc:
        raise CaptureFailed(NOT_X11_MESSAGE) from exc
    except xcb.XcbError as exc:
        _log.info("Could not connect to the X display %r", name)
        raise CaptureFailed(
            f"Evidence Recorder could not connect to the X display {name!r}, so it cannot "
            "tell which window is active; use “Capture a region” instead."
        ) from exc
    try:
        yield _Connection(libs, x.conn, x.root)
    finally:
        x.close()


def _active_property(x: _Connection) -> int:
    atom = x.atom("_NET_ACTIVE_WINDOW")
    value = x.window_property(x.root, atom) if atom else None
    if value is None:
        raise CaptureFailed(NO_WINDOW_MANAGER_MESSAGE)
    return value


def check_supported(display: str | None = None) -> None:
    """Raise :class:`CaptureFailed` now if no window could be found here at all.

    Called before a countdown, so the user learns that window capture cannot work
    on this desktop without waiting for it. It does not require a window to be
    active yet: the user is about to click one.
    """
    with _connect(display) as x:
        _active_property(x)


def active_window_rect(display: str | None = None) -> Rect:
    """Where the active window is, frame included, as (left, top, width, height).

    "Active" is what the window manager publishes in the root window's
    ``_NET_ACTIVE_WINDOW`` (EWMH): the window the user last clicked or switched
    to. Its rectangle may reach past the screen's edges; the caller clips it.
    ``display`` defaults to ``$DISPLAY``.
    """
    with _connect(display) as x:
        window = _active_property(x)
        if window in (0, x.root):
            raise CaptureFailed(NO_ACTIVE_WINDOW_MESSAGE)
        if not x.viewable(window):
            raise CaptureFailed(NOT_VIEWABLE_MESSAGE)
        frame = x.top_level(window)
        rect = x.outer_rect(frame) if frame is not None else None
        if frame is None or rect is None or not x.viewable(frame):
            raise CaptureFailed(NOT_VIEWABLE_MESSAGE)
        if rect[2] <= 0 or rect[3] <= 0:
            raise CaptureFailed(NOT_VIEWABLE_MESSAGE)
        return rect
