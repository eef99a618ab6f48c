"""The one minimal libxcb binding (ctypes): loading, the common structures, connecting.

:mod:`evidence_recorder.core.gather.windows` asks the X server which window is active
through it, and the tests that draw on Xvfb (tests/xvfb.py, tests/test_windows.py)
paint and make windows through the same binding, so that one process never binds one
libxcb call two ways. Each user binds the requests it alone makes with :func:`bind`.
libxcb is what mss needs anyway, so nothing new is installed.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
from typing import Any

P = ctypes.c_void_p
U8, U16, U32, I16 = ctypes.c_uint8, ctypes.c_uint16, ctypes.c_uint32, ctypes.c_int16


class Cookie(ctypes.Structure):
    _fields_ = [("sequence", ctypes.c_uint)]


class Screen(ctypes.Structure):
    """The fixed start of xcb_screen_t (the allowed depths follow it)."""

    _fields_ = [
        ("root", ctypes.c_uint32),
        ("default_colormap", ctypes.c_uint32),
        ("white_pixel", ctypes.c_uint32),
        ("black_pixel", ctypes.c_uint32),
        ("current_input_masks", ctypes.c_uint32),
        ("width_in_pixels", ctypes.c_uint16),
        ("height_in_pixels", ctypes.c_uint16),
        ("width_in_millimeters", ctypes.c_uint16),
        ("height_in_millimeters", ctypes.c_uint16),
        ("min_installed_maps", ctypes.c_uint16),
        ("max_installed_maps", ctypes.c_uint16),
        ("root_visual", ctypes.c_uint32),
        ("backing_stores", ctypes.c_uint8),
        ("save_unders", ctypes.c_uint8),
        ("root_depth", ctypes.c_uint8),
        ("allowed_depths_len", ctypes.c_uint8),
    ]


class ScreenIterator(ctypes.Structure):
    _fields_ = [("data", ctypes.POINTER(Screen)), ("rem", ctypes.c_int), ("index", ctypes.c_int)]


class GenericError(ctypes.Structure):
    _fields_ = [
        ("response_type", ctypes.c_uint8),
        ("error_code", ctypes.c_uint8),
        ("sequence", ctypes.c_uint16),
        ("resource_id", ctypes.c_uint32),
        ("minor_code", ctypes.c_uint16),
        ("major_code", ctypes.c_uint8),
    ]


class InternAtomReply(ctypes.Structure):
    _fields_ = [
        ("response_type", ctypes.c_uint8),
        ("pad0", ctypes.c_uint8),
        ("sequence", ctypes.c_uint16),
        ("length", ctypes.c_uint32),
        ("atom", ctypes.c_uint32),
    ]


ErrorOut = ctypes.POINTER(P)  # xcb_generic_error_t **: the caller frees what comes back


class XcbError(Exception):
    """No connection to the X display could be made."""


class NoScreen(XcbError):
    """The X server offers no screen with the number the display name asks for."""


def load(name: str, soname: str) -> ctypes.CDLL:
    return ctypes.CDLL(ctypes.util.find_library(name) or soname)


def bind(lib: ctypes.CDLL, name: str, restype: object, *argtypes: object) -> None:
    """Declare a C function's types; AttributeError when the library lacks it."""
    func = getattr(lib, name)
    func.restype = restype
    func.argtypes = list(argtypes)


class Library:
    """libxcb and libc, with the calls every connection makes."""

    def __init__(self) -> None:
        self.xcb = xcb = load("xcb", "libxcb.so.1")
        self.libc = load("c", "libc.so.6")
        bind(self.libc, "free", None, P)
        bind(xcb, "xcb_connect", P, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int))
        bind(xcb, "xcb_connection_has_error", ctypes.c_int, P)
        bind(xcb, "xcb_disconnect", None, P)
        bind(xcb, "xcb_get_setup", P, P)
        bind(xcb, "xcb_setup_roots_iterator", ScreenIterator, P)
        bind(xcb, "xcb_screen_next", None, ctypes.POINTER(ScreenIterator))
        bind(xcb, "xcb_intern_atom", Cookie, P, U8, U16, ctypes.c_char_p)
        bind(xcb, "xcb_intern_atom_reply", ctypes.POINTER(InternAtomReply), P, Cookie, ErrorOut)


@functools.cache
def library() -> Library:
    """The binding, made once per process; OSError or AttributeError without a usable libxcb."""
    return Library()


class Connection:
    """One connection to an X display and the root window of its screen."""

    def __init__(self, lib: Library, display: str) -> None:
        self.library = lib
        self._closed = False
        xcb = lib.xcb
        screen_number = ctypes.c_int()
        self.conn: int = xcb.xcb_connect(display.encode(), ctypes.byref(screen_number))
        try:
            if not self.conn or xcb.xcb_connection_has_error(self.conn):
                raise XcbError(f"cannot connect to X display {display}")
            roots = xcb.xcb_setup_roots_iterator(xcb.xcb_get_setup(self.conn))
            if roots.rem <= screen_number.value or not roots.data:
                raise NoScreen(f"X display {display} has no screen {screen_number.value}")
            for _ in range(screen_number.value):
                xcb.xcb_screen_next(ctypes.byref(roots))
        except XcbError:
            self.close()
            raise
        screen = roots.data.contents
        self.root = int(screen.root)
        self.depth = int(screen.root_depth)
        self.width = int(screen.width_in_pixels)
        self.height = int(screen.height_in_pixels)

    def close(self) -> None:
        if self.conn and not self._closed:
            self.library.xcb.xcb_disconnect(self.conn)
        self._closed = True

    def has_error(self) -> bool:
        return bool(self.library.xcb.xcb_connection_has_error(self.conn))

    def free(self, pointer: Any) -> None:
        """Free what libxcb handed over (a reply or an error)."""
        self.library.libc.free(ctypes.cast(pointer, P))
