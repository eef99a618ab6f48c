"""A real RFC 3161 time-stamping authority on loopback, for the tests.

The certificates are made with the ``openssl`` command and every answer is
signed by ``openssl ts -reply``, so the tokens are the ones a police officer's
``openssl ts -verify`` would meet from a real service. Nothing leaves
127.0.0.1.

Use it from a test module or a conftest::

    from tsa import tsa_server_fixture   # in a test module
    from tsa import tsa_server           # in a conftest

(each with ruff's F401 silenced, as conftest does for ``xvfb_display``)
and take ``tsa_server`` (a :class:`LoopbackTsa`) as a fixture argument.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

TSA_COMMON_NAME = "Evidence Recorder Test TSA"
TSA_SUBJECT = f"/O=Evidence Recorder Tests/CN={TSA_COMMON_NAME}"
CA_SUBJECT = "/O=Evidence Recorder Tests/CN=Evidence Recorder Test Root CA"
TSA_POLICY = "1.3.6.1.4.1.99999.1.1"

_EXTENSIONS = """\
[ ca_ext ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash

[ tsa_ext ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, nonRepudiation
extendedKeyUsage = critical, timeStamping
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
"""

_TS_CONFIG = """\
[ tsa ]
default_tsa = tsa_config

[ tsa_config ]
dir = {dir}
serial = $dir/tsaserial
crypto_device = builtin
signer_cert = $dir/tsa.pem
certs = $dir/ca.pem
signer_key = $dir/tsa.key
signer_digest = sha256
default_policy = {policy}
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = no
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
"""


@dataclass(frozen=True)
class LoopbackTsa:
    """A running test TSA: where to reach it and what to trust it with."""

    url: str
    ca_pem_path: Path
    tsa_pem_path: Path
    directory: Path

    @property
    def ca_pem(self) -> bytes:
        return self.ca_pem_path.read_bytes()


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def make_tsa_pki(directory: Path, *, tsa_subject: str = TSA_SUBJECT,
                 ca_subject: str = CA_SUBJECT, expired: bool = False) -> None:
    """Write ca.key/ca.pem, tsa.key/tsa.pem and tsa.cnf into ``directory``.

    ``expired`` gives the TSA a certificate that ran out yesterday, to play a bundle
    checked years after it was sealed (``openssl x509`` cannot backdate, so
    cryptography re-signs it with the CA key).
    """
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "ext.cnf").write_text(_EXTENSIONS)
    ec = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes")
    _openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "3",
             "-subj", ca_subject, "-config", "ext.cnf", "-extensions", "ca_ext",
             cwd=directory)
    _openssl("req", "-new", *ec, "-keyout", "tsa.key", "-out", "tsa.csr", "-subj", tsa_subject,
             cwd=directory)
    _openssl("x509", "-req", "-in", "tsa.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
             "-set_serial", "4242", "-days", "2", "-out", "tsa.pem",
             "-extfile", "ext.cnf", "-extensions", "tsa_ext", cwd=directory)
    if expired:
        _backdate(directory)
    (directory / "tsaserial").write_text("01\n")
    (directory / "tsa.cnf").write_text(_TS_CONFIG.format(dir=directory, policy=TSA_POLICY))


Answer = Callable[[bytes], tuple[int, str, bytes]]
"""Given the query bytes, the HTTP status, Content-Type and body to send back."""


def _backdate(directory: Path) -> None:
    ca_key = serialization.load_pem_private_key((directory / "ca.key").read_bytes(), None)
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
    ca = x509.load_pem_x509_certificate((directory / "ca.pem").read_bytes())
    old = x509.load_pem_x509_certificate((directory / "tsa.pem").read_bytes())
    now = datetime.now(UTC)
    builder = (x509.CertificateBuilder().subject_name(old.subject).issuer_name(ca.subject)
               .public_key(old.public_key()).serial_number(old.serial_number)
               .not_valid_before(now - timedelta(days=30))
               .not_valid_after(now - timedelta(days=1)))
    for extension in old.extensions:
        builder = builder.add_extension(extension.value, extension.critical)
    certificate = builder.sign(ca_key, hashes.SHA256())
    (directory / "tsa.pem").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))


def make_tls_certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed HTTPS certificate for 127.0.0.1: (certificate, key)."""
    directory.mkdir(parents=True, exist_ok=True)
    _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-keyout", "https.key", "-out", "https.pem", "-days", "2", "-subj", "/CN=127.0.0.1",
             "-addext", "subjectAltName=IP:127.0.0.1", cwd=directory)
    return directory / "https.pem", directory / "https.key"


def _make_handler(answer: Answer, *, content_length: bool, delay: float,
                  ) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            query = self.rfile.read(min(length, 1 << 16))
            status, content_type, body = answer(query)
            time.sleep(delay)
            with contextlib.suppress(OSError):  # the client may have given up already
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                if content_length:
                    self.send_header("Content-Length", str(len(body)))
                if 300 <= status < 400:
                    self.send_header("Location", "http://127.0.0.1:9/elsewhere")
                self.end_headers()
                self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            """Keep the test output quiet."""

    return Handler


@contextlib.contextmanager
def serve(answer: Answer, *, content_length: bool = True, delay: float = 0.0,
          tls: tuple[Path, Path] | None = None) -> Iterator[str]:
    """Serve POSTs on 127.0.0.1 with ``answer``; yield the URL.

    Without ``content_length`` the body's end is marked by closing the connection;
    ``delay`` seconds pass before the answer, to play a slow service; ``tls`` is a
    (certificate, key) pair to serve HTTPS with.
    """
    server = ThreadingHTTPServer(("127.0.0.1", 0),
                                 _make_handler(answer, content_length=content_length,
                                               delay=delay))
    scheme = "http"
    if tls is not None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(tls[0], tls[1])
        server.socket = context.wrap_socket(server.socket, server_side=True)
        scheme = "https"
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="test-tsa", daemon=True)
    thread.start()
    try:
        yield f"{scheme}://127.0.0.1:{server.server_address[1]}/tsa"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def openssl_reply(directory: Path) -> Answer:
    """An answer function that signs each query with ``openssl ts -reply``."""
    lock = threading.Lock()  # openssl ts -reply updates the serial file

    def answer(query: bytes) -> tuple[int, str, bytes]:
        with lock, tempfile.TemporaryDirectory(dir=directory) as work:
            query_file = Path(work) / "q.tsq"
            reply_file = Path(work) / "r.tsr"
            query_file.write_bytes(query)
            done = subprocess.run(
                ["openssl", "ts", "-reply", "-config", str(directory / "tsa.cnf"),
                 "-queryfile", str(query_file), "-out", str(reply_file)],
                cwd=directory, capture_output=True, timeout=60, check=False)
            if done.returncode != 0 or not reply_file.exists():
                return 500, "text/plain", done.stderr
            return 200, "application/timestamp-reply", reply_file.read_bytes()

    return answer


@contextlib.contextmanager
def running_tsa(directory: Path) -> Iterator[LoopbackTsa]:
    """Make a fresh PKI in ``directory`` and serve a real openssl TSA from it."""
    make_tsa_pki(directory)
    with serve(openssl_reply(directory)) as url:
        yield LoopbackTsa(url=url, ca_pem_path=directory / "ca.pem",
                          tsa_pem_path=directory / "tsa.pem", directory=directory)


@pytest.fixture(scope="session", name="tsa_server")
def tsa_server_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoopbackTsa]:
    """A real openssl TSA on loopback, shared by the whole session (key making is the slow part)."""
    with running_tsa(tmp_path_factory.mktemp("tsa")) as tsa:
        yield tsa


# The same fixture under its own name, for a conftest to import (marked as F401-exempt, as
# conftest does for xvfb_display). A test module should import ``tsa_server_fixture``
# instead, or ruff sees every test argument called ``tsa_server`` as redefining it (F811).
tsa_server = tsa_server_fixture


def closed_port_url() -> str:
    """A loopback URL on which nothing listens, so connecting is refused at once."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/tsa"
