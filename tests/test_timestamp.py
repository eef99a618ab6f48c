"""RFC 3161 timestamps: against a real ``openssl ts`` TSA on loopback, checked by real openssl."""

from __future__ import annotations

import hashlib
import re
import subprocess
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tsa import (
    TSA_COMMON_NAME,
    LoopbackTsa,
    closed_port_url,
    make_tls_certificate,
    make_tsa_pki,
    openssl_reply,
    serve,
    tsa_server_fixture,  # noqa: F401 - provides the tsa_server fixture
)

from evidence_recorder.core.bundle.cms import _sorted_certificates
from evidence_recorder.core.bundle.timestamp import (
    MAX_RESPONSE_BYTES,
    TimestampForged,
    TimestampInfo,
    TimestampMismatch,
    TimestampUntrusted,
    inspect_timestamp,
    request_timestamp,
)
from evidence_recorder.core.errors import EvidenceError, RefusedInput

SIGNATURE = b"-----BEGIN SSH SIGNATURE-----\nU1NIU0lHAAAAAQ==\n-----END SSH SIGNATURE-----\n"
REJECTION = bytes.fromhex("30053003020102")  # TimeStampResp{status: rejection}


def openssl_verify(directory: Path, tsr: bytes, data: bytes, *extra: str,
                   ) -> subprocess.CompletedProcess[str]:
    """The check a police officer runs on tagmanifest-sha256.txt.sig.tsr."""
    (directory / "tagmanifest-sha256.txt.sig.tsr").write_bytes(tsr)
    (directory / "tagmanifest-sha256.txt.sig").write_bytes(data)
    return subprocess.run(
        ["openssl", "ts", "-verify", "-in", "tagmanifest-sha256.txt.sig.tsr",
         "-data", "tagmanifest-sha256.txt.sig", *extra],
        cwd=directory, capture_output=True, text=True, timeout=60, check=False)


def assert_plain(error: pytest.ExceptionInfo[EvidenceError]) -> str:
    """One sentence on one line, no traceback, no exception chain for the user to read."""
    message = str(error.value)
    assert message == error.value.message
    assert "\n" not in message and "Traceback" not in message
    assert re.fullmatch(r"[A-Z][^\n]*\.", message), message
    assert error.value.__cause__ is None
    assert error.value.__suppress_context__ or error.value.__context__ is None
    return message


@pytest.fixture(scope="module")
def token(tsa_server: LoopbackTsa) -> bytes:
    return request_timestamp(SIGNATURE, tsa_server.url, timeout=10)


# --- The happy path, checked by the real thing ---------------------------------------


def test_openssl_verifies_the_timestamp(tsa_server: LoopbackTsa, token: bytes,
                                        tmp_path: Path) -> None:
    done = openssl_verify(tmp_path, token, SIGNATURE, "-CAfile", str(tsa_server.ca_pem_path))
    assert done.returncode == 0, done.stderr
    assert "Verification: OK" in done.stdout


def test_openssl_verifies_with_the_tsa_certificate_given_separately(
        tsa_server: LoopbackTsa, token: bytes, tmp_path: Path) -> None:
    done = openssl_verify(tmp_path, token, SIGNATURE, "-CAfile", str(tsa_server.ca_pem_path),
                          "-untrusted", str(tsa_server.tsa_pem_path))
    assert done.returncode == 0, done.stderr


def test_openssl_verifies_after_the_tsa_certificate_expires(
        tsa_server: LoopbackTsa, token: bytes, tmp_path: Path) -> None:
    """Years later the TSA certificate will have expired and plain -verify says so."""
    later = str(int(time.time()) + 10 * 24 * 3600)  # the test TSA's certificate lasts 2 days
    expired = openssl_verify(tmp_path, token, SIGNATURE, "-CAfile", str(tsa_server.ca_pem_path),
                             "-attime", later)
    assert expired.returncode != 0
    assert "certificate has expired" in expired.stderr
    # our own check keeps working then: it verifies the chain at the time of the stamp
    assert inspect_timestamp(token, SIGNATURE, ca_pem=tsa_server.ca_pem)


def test_no_check_time_is_the_way_round_an_expired_tsa_certificate(tmp_path: Path) -> None:
    """The README's long-term command: the TSA's signature still holds, -no_check_time."""
    make_tsa_pki(tmp_path / "pki", expired=True)
    with serve(openssl_reply(tmp_path / "pki")) as url:
        tsr = request_timestamp(SIGNATURE, url, timeout=10)
    ca = ("-CAfile", str(tmp_path / "pki" / "ca.pem"))
    plain = openssl_verify(tmp_path, tsr, SIGNATURE, *ca)
    assert plain.returncode != 0
    assert "certificate has expired" in plain.stderr
    done = openssl_verify(tmp_path, tsr, SIGNATURE, *ca, "-no_check_time")
    assert done.returncode == 0, done.stderr
    # a token made while the certificate was already expired is not trusted by us
    with pytest.raises(TimestampUntrusted):
        inspect_timestamp(tsr, SIGNATURE, ca_pem=(tmp_path / "pki" / "ca.pem").read_bytes())


def test_openssl_refuses_a_changed_signature(tsa_server: LoopbackTsa, token: bytes,
                                             tmp_path: Path) -> None:
    changed = bytearray(SIGNATURE)
    changed[40] ^= 1
    done = openssl_verify(tmp_path, token, bytes(changed), "-CAfile", str(tsa_server.ca_pem_path))
    assert done.returncode != 0
    assert "Verification: FAILED" in done.stdout


def test_the_answer_is_kept_exactly_as_sent(tsa_server: LoopbackTsa, token: bytes,
                                            tmp_path: Path) -> None:
    """openssl reads the DER the TSA sent; we must not re-encode (e.g. sort) it."""
    text = subprocess.run(["openssl", "ts", "-reply", "-in", "/dev/stdin", "-text"],
                          input=token, capture_output=True, check=True, timeout=60).stdout
    assert b"Status: Granted." in text
    assert _sorted_certificates(token) != token  # openssl lists the signer first, unsorted
    assert len(_sorted_certificates(token)) == len(token)


def test_inspect_says_when_and_who(token: bytes) -> None:
    info = inspect_timestamp(token, SIGNATURE)
    assert isinstance(info, TimestampInfo)
    assert info.time.tzinfo is not None and info.time.utcoffset() == timedelta(0)
    assert abs(datetime.now(UTC) - info.time) < timedelta(minutes=1)
    assert TSA_COMMON_NAME in info.tsa
    assert info.hash_algorithm == "SHA-256"
    assert info.serial > 0


def test_inspect_with_the_trusted_root(tsa_server: LoopbackTsa, token: bytes) -> None:
    info = inspect_timestamp(token, SIGNATURE, ca_pem=tsa_server.ca_pem)
    assert TSA_COMMON_NAME in info.tsa


def test_each_timestamp_has_its_own_serial(tsa_server: LoopbackTsa) -> None:
    first = inspect_timestamp(request_timestamp(b"one", tsa_server.url), b"one")
    second = inspect_timestamp(request_timestamp(b"two", tsa_server.url), b"two")
    assert first.serial != second.serial


@pytest.mark.parametrize(("option", "name"), [("-sha512", "SHA-512"), ("-sha384", "SHA-384")])
def test_inspect_reads_tokens_made_by_other_tools(tsa_server: LoopbackTsa, tmp_path: Path,
                                                  option: str, name: str) -> None:
    """A token asked for with `openssl ts -query` (another hash) is read too."""
    (tmp_path / "sig").write_bytes(SIGNATURE)
    subprocess.run(["openssl", "ts", "-query", "-data", "sig", option, "-cert", "-out", "q.tsq"],
                   cwd=tmp_path, check=True, capture_output=True, timeout=60)
    request = urllib.request.Request(  # noqa: S310 - loopback test TSA
        tsa_server.url, data=(tmp_path / "q.tsq").read_bytes(),
        headers={"Content-Type": "application/timestamp-query"})
    with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
        tsr = answer.read()
    info = inspect_timestamp(tsr, SIGNATURE, ca_pem=tsa_server.ca_pem)
    assert info.hash_algorithm == name
    with pytest.raises(TimestampMismatch):
        inspect_timestamp(tsr, SIGNATURE + b" ")


# --- Wrong data, wrong signer, tampering -----------------------------------------------


def test_a_changed_byte_is_a_mismatch(token: bytes) -> None:
    changed = bytearray(SIGNATURE)
    changed[-5] ^= 0x20
    with pytest.raises(TimestampMismatch) as error:
        inspect_timestamp(token, bytes(changed))
    assert assert_plain(error) == "The timestamp does not belong to this signature."


def test_another_root_is_not_trusted(token: bytes, tmp_path: Path) -> None:
    make_tsa_pki(tmp_path / "other")
    with pytest.raises(TimestampUntrusted) as error:
        inspect_timestamp(token, SIGNATURE, ca_pem=(tmp_path / "other" / "ca.pem").read_bytes())
    assert_plain(error)


def test_a_forged_time_is_caught_by_the_signature(tsa_server: LoopbackTsa, token: bytes,
                                                  tmp_path: Path) -> None:
    """Moving the time back a year parses fine; only the TSA's signature exposes it."""
    match = re.search(rb"\x18\x0f(\d{4})", token)
    assert match is not None
    year = int(match.group(1))
    forged = token.replace(match.group(0), b"\x18\x0f" + str(year - 1).encode(), 1)
    # the signature is checked with or without a trusted root: an altered token is never read
    with pytest.raises(TimestampForged) as error:
        inspect_timestamp(forged, SIGNATURE)
    assert "changed after" in assert_plain(error)
    with pytest.raises(TimestampForged):
        inspect_timestamp(forged, SIGNATURE, ca_pem=tsa_server.ca_pem)
    done = openssl_verify(tmp_path, forged, SIGNATURE, "-CAfile", str(tsa_server.ca_pem_path))
    assert done.returncode != 0


def test_an_unreadable_trust_file_is_refused(token: bytes) -> None:
    with pytest.raises(RefusedInput) as error:
        inspect_timestamp(token, SIGNATURE, ca_pem=b"not a certificate")
    assert_plain(error)


@pytest.mark.parametrize("tsr", [b"", b"\x00", b"garbage" * 10, b"\x30\x84\xff\xff\xff\xff",
                                 b"\x30\x80" + b"\x00" * 8])
def test_garbage_files_are_refused(tsr: bytes) -> None:
    with pytest.raises(RefusedInput) as error:
        inspect_timestamp(tsr, SIGNATURE)
    assert assert_plain(error) == "The timestamp file is damaged or is not a timestamp."


def test_a_stored_refusal_is_not_a_timestamp() -> None:
    with pytest.raises(RefusedInput) as error:
        inspect_timestamp(REJECTION, SIGNATURE)
    assert "refusal" in assert_plain(error)


def test_a_huge_file_is_refused_before_parsing() -> None:
    with pytest.raises(RefusedInput) as error:
        inspect_timestamp(b"\x30" * (MAX_RESPONSE_BYTES + 1), SIGNATURE)
    assert "too large" in assert_plain(error)


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(flips=st.lists(st.tuples(st.integers(min_value=0), st.integers(1, 255)),
                      min_size=1, max_size=4),
       cut=st.integers(min_value=0))
def test_damaged_tokens_never_escape_as_bugs(token: bytes, flips: list[tuple[int, int]],
                                             cut: int) -> None:
    damaged = bytearray(token)
    for position, mask in flips:
        damaged[position % len(damaged)] ^= mask
    damaged = damaged[:len(damaged) - cut % 64]
    try:
        inspect_timestamp(bytes(damaged), SIGNATURE)
    except EvidenceError as exc:
        assert "\n" not in exc.message


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600))
def test_random_bytes_never_escape_as_bugs(tsr: bytes) -> None:
    try:
        inspect_timestamp(tsr, SIGNATURE)
    except EvidenceError as exc:
        assert "\n" not in exc.message


# --- Services that fail -------------------------------------------------------------


def test_an_unreachable_service_fails_quickly_and_plainly() -> None:
    started = time.monotonic()
    with pytest.raises(EvidenceError) as error:
        request_timestamp(SIGNATURE, closed_port_url(), timeout=10)
    assert time.monotonic() - started < 5
    assert assert_plain(error) == ("The time-stamping service at 127.0.0.1 did not answer, "
                                   "so the bundle was not timestamped.")


def test_a_server_error_is_plain() -> None:
    with serve(lambda _: (500, "text/html", b"<h1>Internal Server Error</h1>")) as url, \
            pytest.raises(EvidenceError) as error:
        request_timestamp(SIGNATURE, url)
    assert "answered with an error (HTTP 500)" in assert_plain(error)


def test_garbage_from_the_service_is_plain() -> None:
    with serve(lambda _: (200, "application/timestamp-reply", b"\x30\x03garbage")) as url, \
            pytest.raises(RefusedInput) as error:
        request_timestamp(SIGNATURE, url)
    assert "sent an answer that is not a timestamp" in assert_plain(error)


@pytest.mark.parametrize("content_length", [True, False], ids=["declared", "undeclared"])
def test_a_huge_answer_is_cut_off(content_length: bool) -> None:
    five_mb = b"\x30" * (5 * 1024 * 1024)
    with serve(lambda _: (200, "application/timestamp-reply", five_mb),
               content_length=content_length) as url, \
            pytest.raises(EvidenceError) as error:
        request_timestamp(SIGNATURE, url)
    assert "far too large" in assert_plain(error)


def test_a_refusal_from_the_service_is_plain() -> None:
    with serve(lambda _: (200, "application/timestamp-reply", REJECTION)) as url, \
            pytest.raises(EvidenceError) as error:
        request_timestamp(SIGNATURE, url)
    assert "refused the request (rejection)" in assert_plain(error)


def test_an_answer_for_other_data_is_refused(token: bytes) -> None:
    with serve(lambda _: (200, "application/timestamp-reply", token)) as url, \
            pytest.raises(EvidenceError) as error:
        request_timestamp(b"some other signature", url)
    assert "answered for different data" in assert_plain(error)


def test_a_replayed_answer_is_refused_by_its_nonce(token: bytes) -> None:
    """Same data, but the answer was made for an earlier request."""
    with serve(lambda _: (200, "application/timestamp-reply", token)) as url, \
            pytest.raises(EvidenceError) as error:
        request_timestamp(SIGNATURE, url)
    assert "answered for different data" in assert_plain(error)


def test_a_slow_service_times_out() -> None:
    started = time.monotonic()
    with serve(lambda _: (200, "application/timestamp-reply", b""), delay=3) as url, \
            pytest.raises(EvidenceError) as error:
        request_timestamp(SIGNATURE, url, timeout=0.5)
    assert time.monotonic() - started < 2.5
    assert "did not answer in time" in assert_plain(error)


def test_a_redirect_is_not_followed() -> None:
    with serve(lambda _: (302, "text/html", b"moved")) as url, \
            pytest.raises(EvidenceError) as error:
        request_timestamp(SIGNATURE, url)
    assert "sent the request elsewhere (HTTP 302)" in assert_plain(error)


def test_an_untrusted_https_service_is_plain(tmp_path: Path) -> None:
    tls = make_tls_certificate(tmp_path)
    with serve(lambda _: (500, "text/plain", b""), tls=tls) as url, \
            pytest.raises(EvidenceError) as error:
        request_timestamp(SIGNATURE, url, timeout=5)
    assert "could not prove its identity" in assert_plain(error)


def test_a_trusted_https_service_works(tsa_server: LoopbackTsa, tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    tls = make_tls_certificate(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(tls[0]))  # trust it as the system would
    with serve(openssl_reply(tsa_server.directory), tls=tls) as url:
        assert url.startswith("https://")
        tsr = request_timestamp(SIGNATURE, url, timeout=10)
    assert inspect_timestamp(tsr, SIGNATURE, ca_pem=tsa_server.ca_pem).hash_algorithm == "SHA-256"


def test_the_query_is_a_proper_timestamp_query(tmp_path: Path) -> None:
    """What we send is what `openssl ts -query` would: SHA-256, a nonce, certReq."""
    seen: list[bytes] = []

    def capture(query: bytes) -> tuple[int, str, bytes]:
        seen.append(query)
        return 500, "text/plain", b""

    with serve(capture) as url, pytest.raises(EvidenceError):
        request_timestamp(SIGNATURE, url)
    (tmp_path / "q.tsq").write_bytes(seen[0])
    text = subprocess.run(["openssl", "ts", "-query", "-in", "q.tsq", "-text"], cwd=tmp_path,
                          capture_output=True, text=True, check=True, timeout=60).stdout
    assert "Hash Algorithm: sha256" in text
    assert "Certificate required: yes" in text
    assert "Nonce: 0x" in text
    digest = hashlib.sha256(SIGNATURE).hexdigest()
    dumped = "".join(re.findall(r"- ([0-9a-f -]+)  ", text)).replace("-", "").replace(" ", "")
    assert digest in dumped


def test_credentials_and_paths_stay_out_of_messages() -> None:
    url = closed_port_url().replace("http://", "http://agent:hunter2@") + "?case=secret"
    with pytest.raises(EvidenceError) as error:
        request_timestamp(SIGNATURE, url, timeout=5)
    message = assert_plain(error)
    assert "hunter2" not in message and "secret" not in message and "/tsa" not in message


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://127.0.0.1/tsa", "tsa.example",
                                 "http://", "https:///tsa", "http://127.0.0.1:port/",
                                 "javascript:alert(1)", ""])
def test_only_web_addresses_are_accepted(url: str) -> None:
    with pytest.raises(RefusedInput) as error:
        request_timestamp(SIGNATURE, url)
    assert "http:// or https://" in assert_plain(error)


def test_an_empty_signature_is_refused(tsa_server: LoopbackTsa) -> None:
    with pytest.raises(RefusedInput) as error:
        request_timestamp(b"", tsa_server.url)
    assert_plain(error)
