"""A real X screen for tests that grab pixels: Xvfb, and a way to draw on it and split it.

The ``xvfb_display`` fixture starts one Xvfb for the whole session (on the first
test that asks for it), points ``DISPLAY`` at it for each such test only, and
stops it when pytest finishes. Without Xvfb those tests fail, not skip: CI installs
it through ``scripts/setup --test`` and a skipped screen test proves nothing.

Drawing goes straight to the X server through libxcb (which mss needs anyway), on the
app's own binding (evidence_recorder/core/gather/xcb.py) with the calls only tests make
added to it, so no
window manager, toolkit or timing is involved: the root window's background is set
to a picture, exactly as ``xsetroot`` does, and the pixels on screen are then known
to the bit. Monitors are made with RandR 1.5 ``SetMonitor``, as ``xrandr
--setmonitor`` does.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from PIL import Image

from evidence_recorder.core.gather import xcb as core_xcb

SCREEN_WIDTH = 1280
SCREEN_HEIGHT = 720
START_TIMEOUT = 15.0

Rect = tuple[int, int, int, int]


class XvfbError(Exception):
    pass


# --- what painting and RandR monitors need, on the app's libxcb binding ------------


class _RandrVersionReply(ctypes.Structure):
    _fields_ = [
        ("response_type", ctypes.c_uint8),
        ("pad0", ctypes.c_uint8),
        ("sequence", ctypes.c_uint16),
        ("length", ctypes.c_uint32),
        ("major_version", ctypes.c_uint32),
        ("minor_version", ctypes.c_uint32),
    ]


class _MonitorInfo(ctypes.Structure):
    # xcb_randr_monitor_info_t; nOutput output ids (uint32) follow it in memory.
    _fields_ = [
        ("name", ctypes.c_uint32),
        ("primary", ctypes.c_uint8),
        ("automatic", ctypes.c_uint8),
        ("nOutput", ctypes.c_uint16),
        ("x", ctypes.c_int16),
        ("y", ctypes.c_int16),
        ("width", ctypes.c_uint16),
        ("height", ctypes.c_uint16),
        ("width_in_millimeters", ctypes.c_uint32),
        ("height_in_millimeters", ctypes.c_uint32),
    ]


class _IoVec(ctypes.Structure):
    _fields_ = [("iov_base", ctypes.c_void_p), ("iov_len", ctypes.c_size_t)]


class _ProtocolRequest(ctypes.Structure):
    # xcb_protocol_request_t
    _fields_ = [
        ("count", ctypes.c_size_t),
        ("ext", ctypes.c_void_p),
        ("opcode", ctypes.c_uint8),
        ("isvoid", ctypes.c_uint8),
    ]


_P, _U8, _U16, _U32, _I16 = core_xcb.P, core_xcb.U8, core_xcb.U16, core_xcb.U32, core_xcb.I16
_Cookie = core_xcb.Cookie
_bind = core_xcb.bind
_XCB_IMAGE_FORMAT_Z_PIXMAP = 2
_XCB_CW_BACK_PIXMAP = 1
_XCB_REQUEST_CHECKED = 1
_XCB_RANDR_SET_MONITOR = 43


class _Xcb(core_xcb.Connection):
    """One connection to an X server, with the calls these tests make added."""

    def __init__(self, display: str) -> None:
        library = core_xcb.library()
        self.lib = xcb = library.xcb
        self.randr = randr = core_xcb.load("xcb-randr", "libxcb-randr.so.0")
        self.libc = library.libc
        _bind(xcb, "xcb_generate_id", _U32, _P)
        _bind(xcb, "xcb_get_maximum_request_length", _U32, _P)
        _bind(xcb, "xcb_request_check", ctypes.POINTER(core_xcb.GenericError), _P, _Cookie)
        _bind(xcb, "xcb_create_pixmap_checked", _Cookie, _P, _U8, _U32, _U32, _U16, _U16)
        _bind(xcb, "xcb_free_pixmap_checked", _Cookie, _P, _U32)
        _bind(xcb, "xcb_create_gc_checked", _Cookie, _P, _U32, _U32, _U32, _P)
        _bind(xcb, "xcb_free_gc_checked", _Cookie, _P, _U32)
        _bind(
            xcb, "xcb_put_image_checked", _Cookie,
            _P, _U8, _U32, _U32, _U16, _U16, _I16, _I16, _U8, _U8, _U32, ctypes.c_char_p,
        )  # fmt: skip
        _bind(xcb, "xcb_change_window_attributes_checked", _Cookie, _P, _U32, _U32, _P)
        _bind(xcb, "xcb_clear_area_checked", _Cookie, _P, _U8, _U32, _I16, _I16, _U16, _U16)
        _bind(randr, "xcb_randr_query_version", _Cookie, _P, _U32, _U32)
        _bind(
            randr, "xcb_randr_query_version_reply", ctypes.POINTER(_RandrVersionReply),
            _P, _Cookie, _P,
        )  # fmt: skip
        _bind(randr, "xcb_randr_get_screen_resources_current", _Cookie, _P, _U32)
        _bind(randr, "xcb_randr_get_screen_resources_current_reply", _P, _P, _Cookie, _P)
        _bind(randr, "xcb_randr_get_screen_resources_current_outputs", ctypes.POINTER(_U32), _P)
        _bind(randr, "xcb_randr_get_screen_resources_current_outputs_length", ctypes.c_int, _P)
        _bind(xcb, "xcb_send_request", ctypes.c_uint, _P, ctypes.c_int, _P, _P)
        _bind(randr, "xcb_randr_delete_monitor_checked", _Cookie, _P, _U32, _U32)
        try:
            super().__init__(library, display)
        except core_xcb.XcbError as exc:
            raise XvfbError(f"cannot connect to X display {display}") from exc

    def check(self, cookie: _Cookie, what: str) -> int:
        """Wait for a request; return its X error code (0 when it succeeded)."""
        error = self.lib.xcb_request_check(self.conn, cookie)
        if self.lib.xcb_connection_has_error(self.conn):
            # xcb_request_check also says "no error" once the server has hung up.
            raise XvfbError(f"the X server closed the connection after {what or 'a request'}")
        if not error:
            return 0
        code = int(error.contents.error_code)
        self.libc.free(ctypes.cast(error, _P))
        if what:
            raise XvfbError(f"X request {what} failed with error code {code}")
        return code

    def reply(self, pointer: object, what: str) -> None:
        if not pointer:
            raise XvfbError(f"X request {what} got no reply")

    def paint_root(self, image: Image.Image) -> None:
        if image.size != (self.width, self.height):
            raise XvfbError(f"pattern is {image.size}, screen is {(self.width, self.height)}")
        xcb = self.lib
        data = image.convert("RGB").tobytes("raw", "BGRX")  # ZPixmap, 32 bpp, LSB first
        row = self.width * 4
        limit = min(xcb.xcb_get_maximum_request_length(self.conn) * 4, 1 << 20) - 64
        rows_per_request = max(1, limit // row)
        pixmap = xcb.xcb_generate_id(self.conn)
        gc = xcb.xcb_generate_id(self.conn)
        cookies = [
            (xcb.xcb_create_pixmap_checked(
                self.conn, self.depth, pixmap, self.root, self.width, self.height
            ), "CreatePixmap"),
            (xcb.xcb_create_gc_checked(self.conn, gc, pixmap, 0, None), "CreateGC"),
        ]  # fmt: skip
        for y in range(0, self.height, rows_per_request):
            rows = min(rows_per_request, self.height - y)
            chunk = data[y * row : (y + rows) * row]
            cookies.append((xcb.xcb_put_image_checked(
                self.conn, _XCB_IMAGE_FORMAT_Z_PIXMAP, pixmap, gc, self.width, rows, 0, y, 0,
                self.depth, len(chunk), chunk,
            ), "PutImage"))  # fmt: skip
        value = (ctypes.c_uint32 * 1)(pixmap)
        cookies += [
            (xcb.xcb_change_window_attributes_checked(
                self.conn, self.root, _XCB_CW_BACK_PIXMAP, ctypes.cast(value, _P)
            ), "ChangeWindowAttributes"),
            (xcb.xcb_clear_area_checked(self.conn, 0, self.root, 0, 0, 0, 0), "ClearArea"),
            # The root window keeps its own reference to the pixmap, as with xsetroot.
            (xcb.xcb_free_gc_checked(self.conn, gc), "FreeGC"),
            (xcb.xcb_free_pixmap_checked(self.conn, pixmap), "FreePixmap"),
        ]  # fmt: skip
        for cookie, what in cookies:
            self.check(cookie, what)

    def _atom(self, name: str) -> int:
        raw = name.encode()
        reply = self.lib.xcb_intern_atom_reply(
            self.conn, self.lib.xcb_intern_atom(self.conn, 0, len(raw), raw), None
        )
        self.reply(reply, "InternAtom")
        atom = int(reply.contents.atom)
        self.libc.free(ctypes.cast(reply, _P))
        return atom

    def _randr_version(self) -> tuple[int, int]:
        randr = self.randr
        reply = randr.xcb_randr_query_version_reply(
            self.conn, randr.xcb_randr_query_version(self.conn, 1, 6), None
        )
        self.reply(reply, "RRQueryVersion")
        version = (int(reply.contents.major_version), int(reply.contents.minor_version))
        self.libc.free(ctypes.cast(reply, _P))
        return version

    def _first_output(self) -> int:
        randr = self.randr
        reply = randr.xcb_randr_get_screen_resources_current_reply(
            self.conn, randr.xcb_randr_get_screen_resources_current(self.conn, self.root), None
        )
        self.reply(reply, "RRGetScreenResourcesCurrent")
        try:
            if randr.xcb_randr_get_screen_resources_current_outputs_length(reply) < 1:
                raise XvfbError("the X server reports no RandR output")
            return int(randr.xcb_randr_get_screen_resources_current_outputs(reply)[0])
        finally:
            self.libc.free(reply)

    def set_monitor(self, name: str, rect: Rect, *, with_output: bool) -> None:
        """Define a RandR monitor; the first one takes over the screen's only output."""
        if self._randr_version() < (1, 5):
            raise XvfbError("the X server's RandR is older than 1.5; it cannot split monitors")
        outputs = [self._first_output()] if with_output else []

        left, top, width, height = rect
        info = _MonitorInfo(
            name=self._atom(name), primary=int(with_output), automatic=0,
            nOutput=len(outputs), x=left, y=top, width=width, height=height,
            width_in_millimeters=width // 4, height_in_millimeters=height // 4,
        )  # fmt: skip
        body = bytes(info) + b"".join(o.to_bytes(4, sys.byteorder) for o in outputs)
        cookie = self._send_set_monitor(body)
        self.check(cookie, "RRSetMonitor")

    def _send_set_monitor(self, body: bytes) -> _Cookie:
        """RRSetMonitor by hand: libxcb before 1.16 sends it with a bad length and the
        server drops the connection, so ``xcb_randr_set_monitor`` cannot be used."""
        header = (ctypes.c_uint8 * 8)()  # opcodes and length are filled in by xcb
        ctypes.c_uint32.from_buffer(header, 4).value = self.root
        payload = ctypes.create_string_buffer(body, len(body))
        parts = (_IoVec * 4)()  # xcb uses the two slots before the request's own
        parts[2] = _IoVec(ctypes.addressof(header), 8)
        parts[3] = _IoVec(ctypes.addressof(payload), len(body))
        request = _ProtocolRequest(
            count=2,
            ext=ctypes.addressof(ctypes.c_char.in_dll(self.randr, "xcb_randr_id")),
            opcode=_XCB_RANDR_SET_MONITOR,
            isvoid=1,
        )
        sequence = self.lib.xcb_send_request(
            self.conn,
            _XCB_REQUEST_CHECKED,
            ctypes.addressof(parts) + 2 * ctypes.sizeof(_IoVec),
            ctypes.addressof(request),
        )
        return _Cookie(sequence)

    def delete_monitor(self, name: str) -> None:
        cookie = self.randr.xcb_randr_delete_monitor_checked(self.conn, self.root, self._atom(name))
        self.check(cookie, "")  # BadValue when there is no such monitor: nothing to undo


@contextlib.contextmanager
def _connected(display: str) -> Iterator[_Xcb]:
    x = _Xcb(display)
    try:
        yield x
    finally:
        x.close()


# --- the server ----------------------------------------------------------------------


@dataclass
class XvfbServer:
    """A running Xvfb, found through ``-displayfd`` so no display number is guessed."""

    process: subprocess.Popen[bytes]
    display: str
    log: Path
    width: int
    height: int

    @classmethod
    def start(cls, width: int = SCREEN_WIDTH, height: int = SCREEN_HEIGHT) -> XvfbServer:
        binary = shutil.which("Xvfb")
        if binary is None:
            raise XvfbError(
                "Xvfb is not installed, so the tests that grab a real screen cannot run. "
                "Install it with `scripts/setup --test` "
                "(on Debian or Ubuntu: apt-get install xvfb xauth)."
            )
        log_fd, log_name = tempfile.mkstemp(prefix="xvfb-", suffix=".log")
        os.close(log_fd)
        log = Path(log_name)
        read_fd, write_fd = os.pipe()
        try:
            with log.open("wb") as log_file:
                process = subprocess.Popen(
                    [
                        binary, "-displayfd", str(write_fd),
                        "-screen", "0", f"{width}x{height}x24",
                        "-nolisten", "tcp",
                        # Without -noreset the server forgets the root background and the
                        # monitors each time the last client (a grab) disconnects.
                        "-noreset",
                    ],
                    pass_fds=(write_fd,), stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent,
                    stdout=log_file, stderr=subprocess.STDOUT,
                )  # fmt: skip
            os.close(write_fd)
            write_fd = -1
            number = _read_display_number(read_fd, process, log)
        finally:
            os.close(read_fd)
            if write_fd >= 0:
                os.close(write_fd)
        server = cls(process, f":{number}", log, width, height)
        try:
            server.wait_until_ready()
        except BaseException:
            server.stop()
            raise
        return server

    def wait_until_ready(self) -> None:
        """Xvfb writes its number once it listens; connect once to be sure."""
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                with _connected(self.display):
                    return
            except XvfbError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise XvfbError(f"Xvfb on {self.display} did not accept a connection.\n"
                                    f"{self.log_text()}") from None  # fmt: skip
                time.sleep(0.05)

    def log_text(self) -> str:
        try:
            return self.log.read_text(errors="replace")[-2000:]
        except OSError:
            return ""

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self.log.unlink(missing_ok=True)


def _die_with_parent() -> None:
    """Runs in the child before exec: if pytest is killed, the kernel stops Xvfb too."""
    pr_set_pdeathsig = 1
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM, 0, 0, 0)


def _read_display_number(read_fd: int, process: subprocess.Popen[bytes], log: Path) -> int:
    deadline = time.monotonic() + START_TIMEOUT
    received = b""
    while not received.endswith(b"\n"):
        remaining = deadline - time.monotonic()
        ready, _, _ = select.select([read_fd], [], [], max(0.0, remaining))
        chunk = os.read(read_fd, 64) if ready else b""
        if not chunk:
            process.kill()
            process.wait(timeout=5)
            why = "timed out" if not ready else "exited"
            text = log.read_text(errors="replace")[-2000:]
            log.unlink(missing_ok=True)
            raise XvfbError(f"Xvfb {why} before it reported its display number.\n{text}")
        received += chunk
    return int(received.strip())


# --- what a test gets ----------------------------------------------------------------


@dataclass
class XvfbDisplay:
    """The X screen a test may draw on and split into monitors."""

    server: XvfbServer
    _monitor_names: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.server.display

    @property
    def size(self) -> tuple[int, int]:
        return (self.server.width, self.server.height)

    def paint(self, image: Image.Image) -> None:
        """Make ``image`` the whole screen; it is on screen when this returns."""
        with _connected(self.name) as x:
            x.paint_root(image)

    def set_monitors(self, rects: Sequence[Rect]) -> None:
        """Split the screen into monitors, numbered as given (the first is primary)."""
        self.reset_monitors()
        with _connected(self.name) as x:
            for i, rect in enumerate(rects, start=1):
                name = f"ER-TEST-{i}"
                x.set_monitor(name, rect, with_output=i == 1)
                self._monitor_names.append(name)

    def reset_monitors(self) -> None:
        """Back to one monitor covering the screen."""
        if not self._monitor_names:
            return
        with _connected(self.name) as x:
            for name in self._monitor_names:
                x.delete_monitor(name)
        self._monitor_names.clear()


_SERVER = pytest.StashKey[XvfbServer]()


def _session_server(config: pytest.Config) -> XvfbServer:
    server = config.stash.get(_SERVER, None)
    if server is not None:
        if server.process.poll() is not None:
            pytest.fail(f"Xvfb on {server.display} died during the run.\n{server.log_text()}")
        return server
    problem = ""
    try:
        server = XvfbServer.start()
    except XvfbError as exc:
        problem = str(exc)
    if server is None:  # outside the except block, so the report shows the sentence once
        pytest.fail(problem, pytrace=False)
    config.stash[_SERVER] = server
    config.add_cleanup(server.stop)
    return server


@pytest.fixture
def xvfb_display(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> XvfbDisplay:
    """A real X screen (one per session), with ``DISPLAY`` pointing at it for this test."""
    display = XvfbDisplay(_session_server(request.config))
    monkeypatch.setenv("DISPLAY", display.name)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    request.addfinalizer(display.reset_monitors)
    return display
