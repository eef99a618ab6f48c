"""Timestamp verdicts as strong as what was checked: integrity, binding, trust.

A real openssl TSA on loopback makes the tokens, real bundles carry them, the
real CLI and viewer report them, and ``openssl ts -verify`` cross-checks the
verdicts. Third-party tokens from ../shared/corpora/rfc3161 (PROVENANCE.md there)
are checked against the verdicts their upstream projects expect.
"""

from __future__ import annotations

import json
import re
import subprocess
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import FAST_KDF, PASSPHRASE, REPO, run_cli
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from tsa import (
    TSA_COMMON_NAME,
    LoopbackTsa,
    make_tsa_pki,
    openssl_reply,
    serve,
    tsa_server_fixture,  # noqa: F401 - provides the tsa_server fixture
)

from evidence_recorder.core.bundle import trust
from evidence_recorder.core.bundle.check import verify_bundle
from evidence_recorder.core.bundle.cms import _children, _tlv
from evidence_recorder.core.bundle.seal import ExportOptions, export_bundle
from evidence_recorder.core.bundle.timestamp import (
    StampState,
    TimestampForged,
    TimestampMismatch,
    check_timestamp,
    request_timestamp,
)
from evidence_recorder.core.errors import EvidenceError, NotFound, RefusedInput
from evidence_recorder.core.settings import CONFIG_ENV
from evidence_recorder.core.vault.store import Vault

SIGNATURE = b"-----BEGIN SSH SIGNATURE-----\nU1NIU0lHAAAAAQ==\n-----END SSH SIGNATURE-----\n"
TSR = "tagmanifest-sha256.txt.sig.tsr"
CORPUS = REPO / ".." / "shared" / "corpora" / "rfc3161"  # tests that read it skip where absent


@pytest.fixture(autouse=True)
def own_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test's imported roots live in its own folder, never the real home."""
    settings = tmp_path / "config" / "settings.json"
    monkeypatch.setenv(CONFIG_ENV, str(settings))
    return settings


@pytest.fixture(scope="module")
def token(tsa_server: LoopbackTsa) -> bytes:
    return request_timestamp(SIGNATURE, tsa_server.url, timeout=10)


def root_of(tsa: LoopbackTsa) -> x509.Certificate:
    return x509.load_pem_x509_certificate(tsa.ca_pem)


def openssl_verify(directory: Path, tsr: bytes, data: bytes, *extra: str) -> bool:
    (directory / "t.tsr").write_bytes(tsr)
    (directory / "data").write_bytes(data)
    done = subprocess.run(["openssl", "ts", "-verify", "-in", "t.tsr", "-data", "data", *extra],
                          cwd=directory, capture_output=True, text=True, timeout=60, check=False)
    return done.returncode == 0 and "Verification: OK" in done.stdout


def forge_time(tsr: bytes) -> bytes:
    """Move genTime back a year: the DER still parses, only the signature can tell."""
    match = re.search(rb"\x18\x0f(\d{4})", tsr)
    assert match is not None
    year = int(match.group(1))
    return tsr.replace(match.group(0), b"\x18\x0f" + str(year - 1).encode(), 1)


# --- The three facts, one by one ---------------------------------------------------------


def test_a_token_chaining_to_an_imported_root_is_trusted(
        tsa_server: LoopbackTsa, token: bytes, tmp_path: Path) -> None:
    (added,) = trust.add_root(tsa_server.ca_pem_path)
    assert added.fingerprint == trust.fingerprint(root_of(tsa_server))
    check = check_timestamp(token, SIGNATURE, roots=trust.trusted_roots())
    assert check.state is StampState.TRUSTED and check.trusted
    assert TSA_COMMON_NAME in check.tsa
    assert abs(datetime.now(UTC) - check.time) < timedelta(minutes=5)
    assert check.sentence().startswith("Trusted timestamp:")
    # openssl agrees with the same root
    assert openssl_verify(tmp_path, token, SIGNATURE, "-CAfile", str(tsa_server.ca_pem_path))


def test_the_same_token_without_the_root_is_neutral(token: bytes) -> None:
    check = check_timestamp(token, SIGNATURE, roots=trust.trusted_roots())  # certifi + system
    assert check.state is StampState.UNKNOWN_AUTHORITY and not check.trusted
    sentence = check.sentence()
    assert "from an authority this computer does not know, claiming" in sentence
    assert TSA_COMMON_NAME in sentence
    assert "trusted" not in sentence.lower()


def test_an_edited_time_is_a_forgery_even_with_the_root(
        tsa_server: LoopbackTsa, token: bytes, tmp_path: Path) -> None:
    forged = forge_time(token)
    for roots in ([], [root_of(tsa_server)]):
        with pytest.raises(TimestampForged) as error:
            check_timestamp(forged, SIGNATURE, roots=roots)
        assert "changed after the time-stamping service signed it" in error.value.message
    assert not openssl_verify(tmp_path, forged, SIGNATURE, "-CAfile",
                              str(tsa_server.ca_pem_path))


def test_a_token_for_another_seal_does_not_belong(tsa_server: LoopbackTsa) -> None:
    other = request_timestamp(b"another bundle's seal", tsa_server.url, timeout=10)
    with pytest.raises(TimestampMismatch):
        check_timestamp(other, SIGNATURE, roots=[root_of(tsa_server)])


def test_a_tsa_certificate_expired_at_stamp_time_is_not_trusted(tmp_path: Path) -> None:
    """openssl's -no_check_time would pass it; validity must hold at genTime."""
    make_tsa_pki(tmp_path / "pki", expired=True)
    with serve(openssl_reply(tmp_path / "pki")) as url:
        tsr = request_timestamp(SIGNATURE, url, timeout=10)
    root = x509.load_pem_x509_certificate((tmp_path / "pki" / "ca.pem").read_bytes())
    check = check_timestamp(tsr, SIGNATURE, roots=[root])
    assert check.state is StampState.NOT_TRUSTED
    assert check.reason == "its certificate was not valid at the time the timestamp claims."
    assert "cannot be trusted" in check.sentence()
    ca = ("-CAfile", str(tmp_path / "pki" / "ca.pem"))
    assert not openssl_verify(tmp_path, tsr, SIGNATURE, *ca)


# --- Injected certificates: the signer is who the SignerInfo names ---------------------------


def _der(tag: int, content: bytes) -> bytes:
    n = len(content)
    if n < 0x80:
        return bytes([tag, n]) + content
    size = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(size)]) + size + content


def inject_certificates(tsr: bytes, extra: list[x509.Certificate]) -> bytes:
    """The token with ``extra`` added to its (unsigned) certificate bag."""
    def kids(start: int, end: int) -> list[tuple[int, int, int, int]]:
        return list(_children(tsr, start, end))

    _, start, end = _tlv(tsr, 0, len(tsr))
    status, content_info = kids(start, end)
    oid, explicit = kids(content_info[2], content_info[3])
    (signed,) = kids(explicit[2], explicit[3])
    parts = kids(signed[2], signed[3])
    bag = [c.public_bytes(serialization.Encoding.DER) for c in extra]
    for part in (p for p in parts if p[0] == 0xA0):
        bag += [tsr[s:e] for _, s, _, e in kids(part[2], part[3])]
    kept = [tsr[p[1]:p[3]] for p in parts if p[0] != 0xA0]
    # version, digestAlgorithms, encapContentInfo, then the bag (a SET: DER order)
    body = b"".join(kept[:3]) + _der(0xA0, b"".join(sorted(bag))) + b"".join(kept[3:])
    content = tsr[oid[1]:oid[3]] + _der(0xA0, _der(0x30, body))
    return _der(0x30, tsr[status[1]:status[3]] + _der(0x30, content))


def _certificate(subject: x509.Name, issuer: x509.Name, key: Any, signer: Any, serial: int,
                 *, ca: bool) -> x509.Certificate:
    now = datetime.now(UTC)
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer)
               .public_key(key.public_key()).serial_number(serial)
               .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=1))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if not ca:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
    return builder.sign(signer, hashes.SHA256())


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def test_an_injected_certificate_from_a_trusted_root_is_not_taken_for_the_signer(
        tsa_server: LoopbackTsa, token: bytes) -> None:
    """The bag holds a genuine-looking TSA certificate under a root the user trusts."""
    root_key, spoof_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(
        ec.SECP256R1())
    root = _certificate(_name("Attacker Trusted Root"), _name("Attacker Trusted Root"),
                        root_key, root_key, 1, ca=True)
    spoof = _certificate(_name("Spoofed TSA"), root.subject, spoof_key, root_key, 2, ca=False)
    injected = inject_certificates(token, [spoof])
    check = check_timestamp(injected, SIGNATURE, roots=[root])
    assert check.state is StampState.UNKNOWN_AUTHORITY
    assert TSA_COMMON_NAME in check.tsa and "Spoofed" not in check.tsa


def test_an_injected_certificate_copying_the_signers_issuer_and_serial_is_not_trusted(
        tsa_server: LoopbackTsa, token: bytes) -> None:
    """Same issuer name and serial as the real signer, from a root with the real CA's name."""
    real = x509.load_pem_x509_certificate(tsa_server.tsa_pem_path.read_bytes())
    root_key, spoof_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(
        ec.SECP256R1())
    root = _certificate(real.issuer, real.issuer, root_key, root_key, 1, ca=True)
    spoof = _certificate(_name("Spoofed TSA"), real.issuer, spoof_key, root_key,
                         real.serial_number, ca=False)
    injected = inject_certificates(token, [spoof, root])
    check = check_timestamp(injected, SIGNATURE, roots=[root])
    assert not check.trusted
    assert TSA_COMMON_NAME in check.tsa and "Spoofed" not in check.tsa
    # and the real root still trusts the real signer despite the clutter
    assert check_timestamp(injected, SIGNATURE, roots=[root_of(tsa_server)]).trusted


def test_a_certificate_remade_around_the_signers_key_cannot_rename_the_authority(
        tsa_server: LoopbackTsa, token: bytes) -> None:
    """Same key, issuer and serial, another name: the signature alone would still check.

    Only the ESS signing-certificate attribute (a hash of the whole certificate,
    signed with the token) exposes it.
    """
    real = x509.load_pem_x509_certificate(tsa_server.tsa_pem_path.read_bytes())
    stranger = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    remade = (x509.CertificateBuilder().subject_name(_name("Official Police TSA"))
              .issuer_name(real.issuer).public_key(real.public_key())
              .serial_number(real.serial_number).not_valid_before(now - timedelta(days=1))
              .not_valid_after(now + timedelta(days=1))
              .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]),
                             critical=True)
              .sign(stranger, hashes.SHA256()))
    swapped = inject_certificates(_strip_bag(token), [remade, root_of(tsa_server)])
    with pytest.raises(TimestampForged) as error:
        check_timestamp(swapped, SIGNATURE)
    assert "names a different certificate" in error.value.message


def test_a_token_whose_signer_certificate_was_removed_cannot_be_checked(
        tsa_server: LoopbackTsa, token: bytes) -> None:
    real = x509.load_pem_x509_certificate(tsa_server.tsa_pem_path.read_bytes())
    stripped = _strip_bag(token)
    with pytest.raises(TimestampForged) as error:
        check_timestamp(stripped, SIGNATURE, roots=[root_of(tsa_server)])
    assert "does not include the certificate" in error.value.message
    # given the certificate separately (as openssl's -untrusted), it checks and is trusted
    assert check_timestamp(stripped, SIGNATURE, roots=[root_of(tsa_server)],
                           certificates=[real]).trusted


def _strip_bag(tsr: bytes) -> bytes:
    _, start, end = _tlv(tsr, 0, len(tsr))
    status, content_info = list(_children(tsr, start, end))
    oid, explicit = list(_children(tsr, content_info[2], content_info[3]))
    (signed,) = list(_children(tsr, explicit[2], explicit[3]))
    body = b"".join(tsr[p[1]:p[3]] for p in _children(tsr, signed[2], signed[3])
                    if p[0] != 0xA0)
    content = tsr[oid[1]:oid[3]] + _der(0xA0, _der(0x30, body))
    return _der(0x30, tsr[status[1]:status[3]] + _der(0x30, content))


# --- The trust store ------------------------------------------------------------------------


def test_bundled_roots_are_mozillas_via_certifi() -> None:
    import certifi

    assert len(trust.bundled_roots()) > 50
    assert Path(certifi.where()).is_file()
    assert all(trust._is_authority(c) or c.subject == c.issuer for c in trust.bundled_roots())


def test_trust_add_list_remove(tsa_server: LoopbackTsa, own_config: Path) -> None:
    env = {CONFIG_ENV: str(own_config)}
    fingerprint = trust.fingerprint(root_of(tsa_server))
    listed = run_cli("trust", "list", env=env)
    assert listed.returncode == 0 and "not added any" in listed.stdout
    mozilla = re.search(r"Also trusted: (\d+) roots from Mozilla's list", listed.stdout)
    assert mozilla and int(mozilla.group(1)) == len(trust.bundled_roots()) > 50
    added = run_cli("trust", "add", str(tsa_server.ca_pem_path), env=env)
    assert added.returncode == 0, added.stderr
    assert fingerprint in added.stdout and "now trusted" in added.stdout
    assert (own_config.parent / "timestamp-roots" / f"{fingerprint}.pem").is_file()
    as_json = json.loads(run_cli("trust", "list", "--json", env=env).stdout)
    assert [r["fingerprint"] for r in as_json] == [fingerprint]
    removed = run_cli("trust", "remove", fingerprint[:16].lower(), env=env)
    assert removed.returncode == 0, removed.stderr
    assert trust.imported_roots() == []
    again = run_cli("trust", "remove", fingerprint, env=env)
    assert again.returncode == 1 and "trust list" in again.stderr


def test_trust_add_refuses_what_is_not_an_authority(tsa_server: LoopbackTsa,
                                                    tmp_path: Path, own_config: Path) -> None:
    env = {CONFIG_ENV: str(own_config)}
    leaf = run_cli("trust", "add", str(tsa_server.tsa_pem_path), env=env)
    assert leaf.returncode == 4 and "not a certificate authority's" in leaf.stderr
    (tmp_path / "junk.pem").write_bytes(b"hello")
    junk = run_cli("trust", "add", str(tmp_path / "junk.pem"), env=env)
    assert junk.returncode == 4 and "does not hold a certificate" in junk.stderr
    (tmp_path / "huge.pem").write_bytes(b"A" * (trust.MAX_ROOT_FILE_BYTES + 1))
    with pytest.raises(RefusedInput):
        trust.add_root(tmp_path / "huge.pem")
    with pytest.raises(NotFound):
        trust.remove_root("ABCD")  # too short to name one
    assert trust.imported_roots() == []


def test_a_der_root_is_imported_as_pem(tsa_server: LoopbackTsa, tmp_path: Path) -> None:
    der = tmp_path / "root.cer"
    der.write_bytes(root_of(tsa_server).public_bytes(serialization.Encoding.DER))
    (root,) = trust.add_root(der)
    stored = trust.roots_folder() / f"{root.fingerprint}.pem"
    assert stored.read_bytes().startswith(b"-----BEGIN CERTIFICATE-----")


# --- Whole bundles: verify, --json, the viewer ----------------------------------------------


@pytest.fixture(scope="module")
def stamped(tmp_path_factory: pytest.TempPathFactory, tsa_server: LoopbackTsa) -> Path:
    from test_bundle import fill

    folder = tmp_path_factory.mktemp("stamped")
    with Vault.create(folder / "vault", PASSPHRASE, kdf=FAST_KDF)[0] as vault:
        fill(vault)
        return export_bundle(vault, folder / "stamped.zip",
                             options=ExportOptions(timestamp_url=tsa_server.url))


def replace_tsr(bundle: Path, out: Path, change: Callable[[bytes], bytes]) -> Path:
    with zipfile.ZipFile(bundle) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename.endswith("/" + TSR):
                data = change(data)
            dst.writestr(info, data)
    return out


def verify_cli(bundle: Path, config: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return run_cli("verify", str(bundle), *extra, env={CONFIG_ENV: str(config)})


def test_verify_says_trusted_only_with_the_root(stamped: Path, tsa_server: LoopbackTsa,
                                                own_config: Path) -> None:
    neutral = verify_cli(stamped, own_config)
    assert neutral.returncode == 0, neutral.stderr
    assert "from an authority this computer does not know, claiming" in neutral.stdout
    assert "Trusted timestamp" not in neutral.stdout
    data = json.loads(verify_cli(stamped, own_config, "--json").stdout)
    assert data["ok"] is True
    assert data["timestamp_check"]["state"] == "unknown-authority"
    assert data["timestamp_check"]["trusted"] is False
    assert TSA_COMMON_NAME in data["timestamp_check"]["tsa"]

    trust.add_root(tsa_server.ca_pem_path)
    trusted = verify_cli(stamped, own_config)
    assert trusted.returncode == 0, trusted.stderr
    assert "Trusted timestamp:" in trusted.stdout
    data = json.loads(verify_cli(stamped, own_config, "--json").stdout)
    assert data["timestamp_check"]["state"] == "trusted"


@pytest.mark.parametrize(("change", "words"), [
    (forge_time, "changed after the time-stamping service signed it"),
    (lambda tsr: tsr[:-7] + b"\x00" * 7, ""),  # a damaged signature
])
def test_verify_fails_on_an_altered_token(stamped: Path, tsa_server: LoopbackTsa,
                                          own_config: Path, tmp_path: Path,
                                          change: Callable[[bytes], bytes], words: str) -> None:
    trust.add_root(tsa_server.ca_pem_path)  # even a trusted authority's altered token fails
    altered = replace_tsr(stamped, tmp_path / "altered.zip", change)
    done = verify_cli(altered, own_config)
    assert done.returncode == 1
    assert TSR in done.stderr and words in done.stderr
    assert "Trusted timestamp" not in done.stdout + done.stderr
    report = verify_bundle(altered)
    assert not report.ok and report.timestamp_check is None and report.timestamp is None


def test_verify_fails_on_a_token_for_another_seal(stamped: Path, tsa_server: LoopbackTsa,
                                                  own_config: Path, tmp_path: Path) -> None:
    trust.add_root(tsa_server.ca_pem_path)
    foreign = request_timestamp(b"another seal", tsa_server.url, timeout=10)
    swapped = replace_tsr(stamped, tmp_path / "swapped.zip", lambda _old: foreign)
    done = verify_cli(swapped, own_config)
    assert done.returncode == 1
    assert "does not belong to this signature" in done.stderr


def test_the_viewer_never_sounds_sure_of_an_unknown_authority(
        qtbot: Any, stamped: Path, tsa_server: LoopbackTsa) -> None:
    from PySide6.QtWidgets import QApplication

    from evidence_recorder.ui.bundle_viewer import open_bundle_window
    from evidence_recorder.ui.tasks import wait_for_tasks

    def shown() -> tuple[str, str]:
        viewer = open_bundle_window(stamped)
        assert viewer is not None
        try:
            qtbot.waitUntil(viewer.is_loaded, timeout=20_000)
            assert viewer.verdict() == "intact", viewer.banner.problems.toPlainText()
            label = viewer.banner.timestamp_label
            assert label.isVisibleTo(viewer)
            return label.text(), label.objectName()
        finally:
            viewer.close()
            wait_for_tasks()
            QApplication.processEvents()

    text, name = shown()
    assert "from an authority this computer does not know, claiming" in text
    # The time as a person reads it, and the authority by its name, not ISO and X.500.
    assert "your time (" in text and "UTC), from “" in text
    assert not re.search(r"\d{4}-\d\d-\d\dT", text) and "CN=" not in text
    assert "trust" not in text.lower() and "existed, exactly as it is" not in text
    assert name == "neutralTimestamp"
    trust.add_root(tsa_server.ca_pem_path)
    text, name = shown()
    assert "this computer trusts" in text and name == "trustedTimestamp"


# --- Third-party tokens (PROVENANCE.md gives the expected verdicts) --------------------------


def _corpus(relative: str) -> Path:
    path = CORPUS / relative
    if not path.exists():
        pytest.skip(f"the RFC 3161 corpus is not here ({path})")
    return path


def _certificates(relative: str) -> list[x509.Certificate]:
    return trust._certificates_in(_corpus(relative).read_bytes())


def _chain(relative: str) -> tuple[list[x509.Certificate], list[x509.Certificate]]:
    """(roots, others) from a chain file: the self-signed ones are the roots."""
    certificates = _certificates(relative)
    roots = [c for c in certificates if c.subject == c.issuer]
    return roots, [c for c in certificates if c not in roots]


HELLO = b"hello"
EXPECTED = [  # response, chain file, verdict with the chain's root, verdict without it
    ("test_tsa/response.tsr", "test_tsa/ts_chain.pem", "trusted", "unknown-authority"),
    ("test_tsa/response-injected-certs.tsr", "test_tsa/ts_chain.pem", "trusted",
     "unknown-authority"),
    ("test_tsa/other_response.tsr", "test_tsa/ts_chain.pem", "not-trusted", "unknown-authority"),
    ("sigstage/response-sha256.tsr", "sigstage/ts_chain.pem", "trusted", "unknown-authority"),
    ("sigstage/response-sha384.tsr", "sigstage/ts_chain.pem", "trusted", "unknown-authority"),
    ("sigstage/response-sha512.tsr", "sigstage/ts_chain.pem", "trusted", "unknown-authority"),
    ("sigstage/response-no-embedded-cert.tsr", "sigstage/ts_chain.pem", "trusted",
     "unknown-authority"),
    ("sigstage/response-invalid-signature.tsr", "sigstage/ts_chain.pem", "forged", "forged"),
    # IdenTrust's TSA certificate has expired since: valid at genTime is what counts
    ("identrust/issue-104.tsr", "identrust/ts_chain.pem", "trusted", "unknown-authority"),
    # the mock TSA's whole chain has expired since (rfc3161-client issue #171)
    ("sigstore.mock/response-expired.tsr", "sigstore.mock/ts_chain.pem", "trusted",
     "unknown-authority"),
]


def _verdict(tsr: bytes, data: bytes, **kwargs: Any) -> str:
    try:
        return check_timestamp(tsr, data, **kwargs).state.value
    except TimestampForged:
        return "forged"


@pytest.mark.parametrize(("response", "chain", "with_root", "without_root"), EXPECTED)
def test_corpus_verdicts(response: str, chain: str, with_root: str, without_root: str) -> None:
    tsr = _corpus(response).read_bytes()
    data = (_corpus("sigstore.mock/payload").read_bytes() if response.startswith("sigstore.mock")
            else HELLO)
    roots, others = _chain(chain)
    assert roots, chain
    assert _verdict(tsr, data, roots=roots, certificates=others) == with_root
    assert _verdict(tsr, data, roots=[], certificates=others) == without_root
    if with_root != "forged":
        with pytest.raises(TimestampMismatch):
            check_timestamp(tsr, data + b"!", roots=roots, certificates=others)


def test_corpus_injected_certificates_name_the_real_signer() -> None:
    tsr = _corpus("test_tsa/response-injected-certs.tsr").read_bytes()
    roots, others = _chain("test_tsa/ts_chain.pem")
    check = check_timestamp(tsr, HELLO, roots=roots, certificates=others)
    assert check.tsa == "CN=Test TSA Timestamping,O=local"
    assert check.info.time == datetime(2024, 10, 8, 15, 40, 32, tzinfo=UTC)


def test_corpus_no_embedded_certificate_needs_it_given() -> None:
    tsr = _corpus("sigstage/response-no-embedded-cert.tsr").read_bytes()
    with pytest.raises(TimestampForged) as error:
        check_timestamp(tsr, HELLO, roots=_chain("sigstage/ts_chain.pem")[0])
    assert "does not include the certificate" in error.value.message


@pytest.mark.parametrize("response", ["digitorus/respNonce", "digitorus/respNoNonce"])
def test_corpus_globalsign_tokens_chain_below_a_root_not_included(response: str) -> None:
    """Real GlobalSign tokens (2017): genuine, but Adobe's root is not known here."""
    tsr = _corpus(response).read_bytes()
    digest = _corpus("digitorus/hashedMessage").read_bytes()
    check = check_timestamp(tsr, digest, roots=trust.trusted_roots(), prehashed=True)
    assert check.state is StampState.UNKNOWN_AUTHORITY
    assert "GlobalSign TSA for Adobe CDS - G2" in check.tsa
    # trusting the intermediate the token carries (openssl's -partial_chain) is enough
    intermediate = next(c for c in _embedded(tsr)
                        if "Primary SHA256 CA" in c.subject.rfc4514_string())
    assert check_timestamp(tsr, digest, roots=[intermediate], prehashed=True).trusted
    with pytest.raises(TimestampMismatch):
        check_timestamp(tsr, bytes(32), roots=[intermediate], prehashed=True)


def test_corpus_globalsign_token_without_certificates() -> None:
    tsr = _corpus("digitorus/respNoCert").read_bytes()
    digest = _corpus("digitorus/hashedMessage").read_bytes()
    with pytest.raises(TimestampForged):
        check_timestamp(tsr, digest, prehashed=True)
    embedded = _embedded(_corpus("digitorus/respNonce").read_bytes())
    check = check_timestamp(tsr, digest, certificates=embedded, prehashed=True)
    assert check.state is StampState.UNKNOWN_AUTHORITY


def _embedded(tsr: bytes) -> list[x509.Certificate]:
    from rfc3161_client import decode_timestamp_response

    from evidence_recorder.core.bundle.cms import _sorted_certificates

    response = decode_timestamp_response(_sorted_certificates(tsr))
    return [x509.load_der_x509_certificate(d) for d in response.signed_data.certificates]


def test_a_stored_refusal_or_garbage_is_never_a_verdict() -> None:
    for garbage in (b"", b"\x30\x03\x02\x01\x00", b"junk" * 20):
        with pytest.raises(EvidenceError):
            check_timestamp(garbage, SIGNATURE)


def test_no_single_changed_byte_changes_what_a_token_says(tsa_server: LoopbackTsa,
                                                          token: bytes) -> None:
    """Every byte, flipped in turn: refused, or a verdict that says exactly the same.

    Only bytes outside the signature's reach (the certificate bag's order, say) may
    change without a complaint, and then nothing the user reads changes with them.
    """
    roots = [root_of(tsa_server)]
    genuine = check_timestamp(token, SIGNATURE, roots=roots)
    assert genuine.trusted
    for position in range(len(token)):
        for mask in (0x01, 0x80):
            changed = bytearray(token)
            changed[position] ^= mask
            try:
                check = check_timestamp(bytes(changed), SIGNATURE, roots=roots)
            except EvidenceError as exc:
                assert "\n" not in exc.message
                continue
            assert (check.time, check.tsa, check.info.serial) == (
                genuine.time, genuine.tsa, genuine.info.serial), position
            assert check.trusted or check.state is not StampState.TRUSTED


@pytest.mark.parametrize("usage", ["none", "not-critical", "other-purpose", "timestamps"])
def test_only_a_time_stamping_certificate_is_trusted(usage: str) -> None:
    """openssl ts -reply refuses such signers, so the chain judgement is tested directly."""
    from evidence_recorder.core.bundle.timestamp import _judge_trust

    root_key, leaf_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(
        ec.SECP256R1())
    root = _certificate(_name("Root"), _name("Root"), root_key, root_key, 1, ca=True)
    now = datetime.now(UTC)
    builder = (x509.CertificateBuilder().subject_name(_name("Some TSA")).issuer_name(root.subject)
               .public_key(leaf_key.public_key()).serial_number(7)
               .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=1)))
    purposes = {"not-critical": ([ExtendedKeyUsageOID.TIME_STAMPING], False),
                "other-purpose": ([ExtendedKeyUsageOID.SERVER_AUTH], True),
                "timestamps": ([ExtendedKeyUsageOID.TIME_STAMPING], True)}
    if usage in purposes:
        oids, critical = purposes[usage]
        builder = builder.add_extension(x509.ExtendedKeyUsage(oids), critical=critical)
    leaf = builder.sign(root_key, hashes.SHA256())
    state, reason = _judge_trust(leaf, [], [root], now)
    if usage == "timestamps":
        assert state is StampState.TRUSTED
    else:
        assert state is StampState.NOT_TRUSTED
        assert reason == "its certificate is not one for making timestamps."
    # and never before or after the certificate's validity
    assert _judge_trust(leaf, [], [root], now + timedelta(days=2))[0] is StampState.NOT_TRUSTED


def test_the_authorities_window_adds_and_removes_a_root(
        qtbot: Any, tsa_server: LoopbackTsa) -> None:
    from evidence_recorder.ui import messages
    from evidence_recorder.ui.authorities import AuthoritiesDialog

    dialog = AuthoritiesDialog()
    qtbot.addWidget(dialog)
    assert dialog.model.rowCount() == 0 and dialog.empty.isVisibleTo(dialog)
    assert not dialog.remove_button.isEnabled()
    # A certificate that is not an authority's (the TSA's own) is refused, plainly.
    messages.set_next_answer(messages.Button.Ok)
    dialog.add_path(tsa_server.tsa_pem_path)
    assert messages.shown[-1][0] == "Not added"
    assert dialog.model.rowCount() == 0 and not dialog.changed
    messages.set_next_answer(messages.Button.Ok)
    dialog.add_path(tsa_server.ca_pem_path)
    assert messages.shown[-1][0] == "Root certificate added"
    assert dialog.changed and dialog.model.rowCount() == 1
    assert not dialog.empty.isVisibleTo(dialog)
    expected = trust.fingerprint(root_of(tsa_server))
    assert dialog.model.item(0, 2).text() == expected
    assert [r.fingerprint for r in trust.imported_roots()] == [expected]
    dialog.view.setCurrentIndex(dialog.model.index(0, 0))
    assert dialog.remove_button.isEnabled()
    messages.set_next_answer(messages.Button.No)  # changed their mind
    dialog.remove_selected()
    assert trust.imported_roots() != []
    messages.set_next_answer(messages.Button.Yes)
    dialog.remove_selected()
    assert trust.imported_roots() == [] and dialog.model.rowCount() == 0


def test_trusting_an_authority_in_the_viewer_checks_the_bundle_again(
        qtbot: Any, stamped: Path, tsa_server: LoopbackTsa,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from PySide6.QtWidgets import QApplication

    from evidence_recorder.ui import messages
    from evidence_recorder.ui.authorities import AuthoritiesDialog
    from evidence_recorder.ui.bundle_viewer import open_bundle_window
    from evidence_recorder.ui.tasks import wait_for_tasks

    viewer = open_bundle_window(stamped)
    assert viewer is not None
    try:
        qtbot.waitUntil(viewer.is_loaded, timeout=20_000)
        label = viewer.banner.timestamp_label
        assert label.objectName() == "neutralTimestamp"

        def the_person_adds_the_root(dialog: AuthoritiesDialog) -> int:
            messages.set_next_answer(messages.Button.Ok)
            dialog.add_path(tsa_server.ca_pem_path)
            return 0

        monkeypatch.setattr(AuthoritiesDialog, "exec", the_person_adds_the_root)
        viewer.act_authorities.trigger()
        qtbot.waitUntil(lambda: label.objectName() == "trustedTimestamp", timeout=20_000)
        assert "this computer trusts" in label.text()
        assert viewer.verdict() == "intact"
    finally:
        viewer.close()
        wait_for_tasks()
        QApplication.processEvents()
