"""Local page servers for the web capture tests (127.0.0.1 only, random ports).

Others reuse this; the API is small:

- ``start_servers(tmp_dir, extra_root=None) -> PageServers``: an HTTP and an HTTPS
  server (threads) serving ``tests/web_pages/``, and ``extra_root`` (e.g. the saved
  corpus pages) under ``/corpus/``. The HTTPS certificate chain (a CA of its own and
  a leaf for 127.0.0.1 and localhost) is made with ``openssl`` in ``tmp_dir``.
- ``PageServers.url(path, https=False)``; ``.leaf_der`` / ``.ca_der`` (the chain the
  HTTPS server presents, DER); ``.close()``.
- Special routes: ``/_/redirect-loop``, ``/_/redirect-once`` (to ``/plain.html``),
  ``/_/never-ends`` (a page whose response never finishes), ``/_/download`` (an
  attachment), ``/_/404``, ``/_/410``, ``/_/image.svg?n=N`` (a small picture),
  ``/_/hits`` (how many times each path was asked for, JSON).
- ``network_is_loopback_only()``: only ``lo`` exists (as inside ``unshare -n``).
"""

from __future__ import annotations

import collections
import http.server
import json
import os
import ssl
import subprocess
import threading
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

PAGES = Path(__file__).parent / "web_pages"


def network_is_loopback_only() -> bool:
    """True when this network namespace has no interface but loopback.

    Asked of the kernel for the current namespace (``if_nameindex``): /sys/class/net
    shows the namespace sysfs was mounted in, which ``unshare -n`` does not change.
    """
    import socket

    try:
        return [name for _, name in socket.if_nameindex()] == ["lo"]
    except OSError:
        return False


def make_tls(tmp_dir: Path) -> tuple[Path, Path, Path]:
    """A CA and a leaf for 127.0.0.1/localhost; returns (chain.pem, leaf.key, ca.pem)."""
    tmp_dir.mkdir(parents=True, exist_ok=True)

    def run(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=tmp_dir, check=True, capture_output=True)

    run("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-keyout", "ca.key", "-out", "ca.pem", "-days", "30",
        "-subj", "/CN=Evidence Recorder Test CA",
        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign")
    run("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-keyout", "leaf.key", "-out", "leaf.csr", "-subj", "/CN=localhost")
    (tmp_dir / "leaf.ext").write_text(
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n"
        "extendedKeyUsage=serverAuth\n")
    run("x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-out", "leaf.pem", "-days", "30", "-extfile", "leaf.ext")
    chain = tmp_dir / "chain.pem"
    chain.write_bytes((tmp_dir / "leaf.pem").read_bytes() + (tmp_dir / "ca.pem").read_bytes())
    return chain, tmp_dir / "leaf.key", tmp_dir / "ca.pem"


def _der(pem: Path) -> bytes:
    return ssl.PEM_cert_to_DER_cert(pem.read_text())


_SVG = ('<svg xmlns="http://www.w3.org/2000/svg" width="200" height="150">'
        '<rect width="200" height="150" fill="#00c000"/></svg>')


def _handler(root: Path, extra: Path | None, hits: collections.Counter[str],
             stop: threading.Event) -> type[http.server.SimpleHTTPRequestHandler]:
    class Handler(http.server.SimpleHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, directory=str(root), **kwargs)  # type: ignore[arg-type]

        def log_message(self, format: str, *args: object) -> None:
            pass

        def guess_type(self, path: str | os.PathLike[str]) -> str:
            kind = super().guess_type(path)
            return f"{kind}; charset=utf-8" if kind in ("text/html", "text/css") else kind

        def translate_path(self, path: str) -> str:
            clean = urllib.parse.urlsplit(path).path
            if extra is not None and clean.startswith("/corpus/"):
                rel = urllib.parse.unquote(clean[len("/corpus/"):])
                target = (extra / rel).resolve()
                if extra.resolve() in target.parents:
                    return str(target)
                return str(root / "missing")
            return super().translate_path(path)

        def _send(self, status: int, body: bytes, kind: str = "text/html; charset=utf-8",
                  headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def do_GET(self) -> None:
            parts = urllib.parse.urlsplit(self.path)
            hits[parts.path] += 1
            route = parts.path
            if route == "/_/redirect-loop":
                n = int(urllib.parse.parse_qs(parts.query).get("n", ["0"])[0])
                self._send(302, b"", headers={"Location": f"/_/redirect-loop?n={n + 1}"})
            elif route == "/_/redirect-once":
                self._send(302, b"", headers={"Location": "/plain.html"})
            elif route in ("/_/404", "/_/410"):
                status = int(route[3:])
                self._send(status, b"<!doctype html><title>Gone</title><p>This content "
                           b"isn't available.</p>")
            elif route == "/_/download":
                self._send(200, b"secret file contents\n", "application/octet-stream",
                           {"Content-Disposition": 'attachment; filename="report.bin"'})
            elif route == "/_/image.svg":
                self._send(200, _SVG.encode(), "image/svg+xml")
            elif route == "/_/hits":
                self._send(200, json.dumps(dict(hits)).encode(), "application/json")
            elif route == "/_/never-ends":
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.end_headers()
                self.wfile.write(b"<!doctype html><title>Never ends</title><h1>Still "
                                 b"loading</h1>" + b" " * 2048)
                self.wfile.flush()
                while not stop.wait(0.5):  # a byte now and then, never the end
                    try:
                        self.wfile.write(b" ")
                        self.wfile.flush()
                    except OSError:
                        return
                self.close_connection = True
            else:
                super().do_GET()

    return Handler


@dataclass
class PageServers:
    http_port: int
    https_port: int
    leaf_der: bytes
    ca_der: bytes
    ca_pem: Path
    hits: collections.Counter[str] = field(default_factory=collections.Counter)
    _servers: list[http.server.ThreadingHTTPServer] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def url(self, path: str, https: bool = False) -> str:
        path = path if path.startswith("/") else "/" + path
        if https:
            return f"https://localhost:{self.https_port}{path}"
        return f"http://127.0.0.1:{self.http_port}{path}"

    def close(self) -> None:
        self._stop.set()
        for server in self._servers:
            server.shutdown()
            server.server_close()


def start_servers(tmp_dir: Path, extra_root: Path | None = None) -> PageServers:
    """Start the HTTP and HTTPS page servers on 127.0.0.1 (see the module docstring)."""
    chain, key, ca = make_tls(Path(tmp_dir))
    hits: collections.Counter[str] = collections.Counter()
    stop = threading.Event()
    handler = _handler(PAGES, extra_root, hits, stop)
    plain = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    secure = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(chain, key)
    secure.socket = context.wrap_socket(secure.socket, server_side=True)
    for server in (plain, secure):
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
    leaf_pem = Path(tmp_dir) / "leaf.pem"
    return PageServers(plain.server_address[1], secure.server_address[1], _der(leaf_pem),
                       _der(ca), ca, hits, [plain, secure], stop)
