"""The sealed bundle and its SSH signature, checked with the real tools a recipient has.

``ssh-keygen`` signs and verifies against our SSHSIG code, ``sha256sum -c`` and
bagit-python validate the extracted bag, and every kind of tampering must be named
by :func:`verify_bundle` in a sentence, as must hostile ZIP files.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import random
import re
import shutil
import stat
import subprocess
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from PIL import Image

from evidence_recorder.core import fsutil
from evidence_recorder.core.bundle import check as bundle_check
from evidence_recorder.core.bundle import seal as bundle
from evidence_recorder.core.bundle import sshsig
from evidence_recorder.core.bundle.check import verify_bundle
from evidence_recorder.core.bundle.layout import (
    ALLOWED_SIGNERS,
    MANIFEST,
    MAX_ENTRIES,
    NAMESPACE,
    SIGNATURE,
    TAGMANIFEST,
)
from evidence_recorder.core.bundle.seal import export_bundle, signing_fingerprint, signing_identity
from evidence_recorder.core.errors import EvidenceError, NotFound, RefusedInput, VaultDamaged
from evidence_recorder.core.model import CaptureDetails, CaptureKind, iso_utc, utc_now
from evidence_recorder.core.vault.store import Vault

SSH_KEYGEN = shutil.which("ssh-keygen")
FOLDER = re.compile(r"evidence-bundle-\d{8}-\d{6}")


def png_bytes(colour: tuple[int, int, int]) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(buf, "PNG")
    return buf.getvalue()


def add(vault: Vault, data: bytes, **details: str) -> int:
    return vault.add_capture(
        original=data, sha256=hashlib.sha256(data).hexdigest(), kind=CaptureKind.SCREEN,
        width=64, height=48, media_type="image/png", captured_at=iso_utc(utc_now()),
        tz_name="Europe/London", utc_offset="+00:00", environment={"os_user": "test"},
        thumbnail=b"thumb", details=CaptureDetails(**details),
    )


def ssh_env() -> dict[str, str]:
    """No agent: ssh-keygen must use the key file we give it."""
    return {k: v for k, v in os.environ.items() if k != "SSH_AUTH_SOCK"}


def ssh_keygen(*args: str, cwd: Path,
               stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    assert SSH_KEYGEN is not None
    return subprocess.run([SSH_KEYGEN, *args], cwd=cwd, input=stdin, capture_output=True,
                          env=ssh_env(), timeout=60, check=False)


def write_openssh_key(key: Ed25519PrivateKey, folder: Path) -> Path:
    path = folder / "id_ed25519"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(key.private_bytes(serialization.Encoding.PEM,
                                   serialization.PrivateFormat.OpenSSH,
                                   serialization.NoEncryption()))
    path.with_name("id_ed25519.pub").write_text(sshsig.public_key_line(key, "test") + "\n")
    return path


# ============================================================================ SSHSIG


def test_our_signature_is_byte_for_byte_what_ssh_keygen_makes(tmp_path: Path) -> None:
    key = Ed25519PrivateKey.generate()
    key_path = write_openssh_key(key, tmp_path)
    message = tmp_path / "message.txt"
    message.write_bytes(b"a message\nwith two lines\n")
    result = ssh_keygen("-Y", "sign", "-f", str(key_path), "-n", NAMESPACE, str(message),
                        cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    theirs = (tmp_path / "message.txt.sig").read_text()
    # Ed25519 is deterministic, so identical input gives an identical signature.
    assert sshsig.sign(key, message.read_bytes(), NAMESPACE) == theirs
    assert sshsig.verify(theirs, message.read_bytes(), NAMESPACE, key.public_key())
    assert not sshsig.verify(theirs, message.read_bytes() + b"!", NAMESPACE, key.public_key())
    assert not sshsig.verify(theirs, message.read_bytes(), "file", key.public_key())


def test_ssh_keygen_verifies_our_signature_and_rejects_tampering(tmp_path: Path) -> None:
    key = Ed25519PrivateKey.generate()
    data = bytes(range(256)) * 40
    (tmp_path / "data.sig").write_text(sshsig.sign(key, data, NAMESPACE))
    (tmp_path / "allowed_signers").write_text(
        f'someone@example namespaces="{NAMESPACE}" {sshsig.public_key_line(key)}\n')
    args = ("-Y", "verify", "-f", "allowed_signers", "-I", "someone@example",
            "-n", NAMESPACE, "-s", "data.sig")
    good = ssh_keygen(*args, cwd=tmp_path, stdin=data)
    assert good.returncode == 0, good.stderr
    assert b"Good" in good.stdout
    assert ssh_keygen(*args, cwd=tmp_path, stdin=data[:-1] + b"x").returncode != 0
    other_ns = list(args)
    other_ns[other_ns.index(NAMESPACE)] = "file"
    assert ssh_keygen(*other_ns, cwd=tmp_path, stdin=data).returncode != 0


def test_fingerprint_and_public_key_line_match_ssh_keygen(tmp_path: Path) -> None:
    key = Ed25519PrivateKey.generate()
    pub = tmp_path / "key.pub"
    pub.write_text(sshsig.public_key_line(key, "a-comment") + "\n")
    listed = ssh_keygen("-lf", str(pub), cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.decode().split()[1] == sshsig.fingerprint(key)
    expected = key.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                             serialization.PublicFormat.OpenSSH).decode()
    assert sshsig.public_key_line(key) == expected
    assert sshsig.public_key_line(key, "a-comment") == expected + " a-comment"
    assert sshsig.parse_public_key(pub.read_text()).public_bytes_raw() == \
        key.public_key().public_bytes_raw()


def test_verify_refuses_other_keys_and_malformed_signatures() -> None:
    key = Ed25519PrivateKey.generate()
    good = sshsig.sign(key, b"data", NAMESPACE)
    assert sshsig.verify(good, b"data", NAMESPACE, key)
    assert not sshsig.verify(good, b"data", NAMESPACE, Ed25519PrivateKey.generate())
    body = "".join(good.splitlines()[1:-1])
    for bad in ("", "nonsense", good.replace("A", "B", 1), good[:60] + good[-40:],
                f"{sshsig.BEGIN}\n!!!!\n{sshsig.END}\n",
                f"{sshsig.BEGIN}\n{body[:-8]}\n{sshsig.END}\n",
                f"{sshsig.BEGIN}\n{body}AAAA\n{sshsig.END}\n",
                "x" * 100_000):
        assert not sshsig.verify(bad, b"data", NAMESPACE, key)
    with pytest.raises(ValueError):
        sshsig.parse_public_key("ssh-rsa AAAAB3NzaC1yc2E")


# ============================================================================ export


def fill(vault: Vault) -> Vault:
    """Three captures in two incidents, one edited and one redacted: the usual sample."""
    first = add(vault, png_bytes((200, 30, 30)), site="Example", author="someone",
                description="threatening message")
    add(vault, png_bytes((30, 200, 30)))
    incident = vault.new_incident("Second incident")
    third = add(vault, png_bytes((30, 30, 200)))
    vault.edit_capture(third, {"site": "Elsewhere"}, incident_id=incident.id)
    vault.set_annotations(first, {"version": 1,
                                  "items": [{"type": "redact", "rect": [0, 0, 5, 5]}]})
    return vault


@pytest.fixture
def filled(vault: Vault) -> Vault:
    return fill(vault)


@pytest.fixture
def sealed(filled: Vault, tmp_path: Path) -> Path:
    return export_bundle(filled, tmp_path / "bundle.zip")


def zip_contents(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {info.filename: zf.read(info) for info in zf.infolist()}


def top_folder(path: Path) -> str:
    tops = {name.split("/")[0] for name in zip_contents(path)}
    assert len(tops) == 1
    return tops.pop()


def extract(path: Path, dest: Path) -> Path:
    with zipfile.ZipFile(path) as zf:
        zf.extractall(dest)
    return dest / top_folder(path)


def test_bundle_layout_and_contents(filled: Vault, sealed: Path) -> None:
    contents = zip_contents(sealed)
    folder = top_folder(sealed)
    assert FOLDER.fullmatch(folder)
    files = {name.removeprefix(folder + "/"): data for name, data in contents.items()}
    captures = filled.captures()
    expected = {"bagit.txt", "bag-info.txt", MANIFEST, TAGMANIFEST, ALLOWED_SIGNERS, SIGNATURE,
                "data/evidence.json", "data/audit.jsonl", "data/export.json", "report.pdf",
                "report.html", "README-VERIFY.txt", "verify.sh", "verify.cmd"}
    annotated = [c.id for c in captures if c.has_annotations]
    assert len(annotated) == 1
    for capture in captures:
        covered = capture.id in annotated  # its original stays with the sender
        expected.add(f"data/captures/{capture.id}/metadata.json")
        metadata = json.loads(files[f"data/captures/{capture.id}/metadata.json"])
        full = capture.full()
        # Every fact recorded about the capture (schema 2 keeps each one schema 1 had).
        assert {k: metadata[k] for k in ("id", "kind", "captured_at", "tz_name", "utc_offset",
                                         "width", "height", "environment", "source",
                                         "details", "has_annotations")} \
            == {k: full[k] for k in ("id", "kind", "captured_at", "tz_name", "utc_offset",
                                     "width", "height", "environment", "source", "details",
                                     "has_annotations")}
        assert metadata["incident"] == full["incident"]
        original = metadata["artefacts"][0]
        assert original["role"] == "original"
        assert (original["sha256"], original["media_type"], original["size"]) \
            == (full["sha256"], full["media_type"], full["byte_size"])
        assert {"site": full["site"], "url": full["url"], "author": full["author"],
                "category": full["category"], "description": full["note"]}.items() \
            <= metadata["details"].items()
        assert metadata["covered"] is covered
        assert metadata["original_included"] is not covered
        if covered:
            assert original["path"] is None
            continue
        expected.add(f"data/captures/{capture.id}/original.png")
        assert files[f"data/captures/{capture.id}/original.png"] == filled.original(capture.id)
        assert original["path"] == f"data/captures/{capture.id}/original.png"
    expected.add(f"data/captures/{annotated[0]}/annotations.json")
    expected.add(f"data/captures/{annotated[0]}/redacted.png")
    assert set(files) == expected

    evidence = json.loads(files["data/evidence.json"])
    assert evidence["schema"] == 2
    assert [c["id"] for c in evidence["items"]] == [c.id for c in captures]
    for item in evidence["items"]:
        assert item == json.loads(files[item["metadata"]])
    assert evidence["audience"] == "headteacher"
    assert {i["title"] for i in evidence["incidents"]} >= {"Second incident"}
    assert evidence["signing_key"]["fingerprint"] == signing_fingerprint(filled)

    audit = [json.loads(line) for line in files["data/audit.jsonl"].decode().splitlines()]
    assert [a["seq"] for a in audit] == [e.seq for e in filled.audit_entries()]
    assert audit[-1]["action"] == "export"
    assert audit[-1]["details"]["bundle"] == folder
    assert filled.verify().ok  # recording the export kept the hash chain sound

    assert files["bagit.txt"] == b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"
    info = dict(line.split(": ", 1) for line in files["bag-info.txt"].decode().splitlines())
    payload = {k: v for k, v in files.items() if k.startswith("data/")}
    assert info["Payload-Oxum"] == f"{sum(map(len, payload.values()))}.{len(payload)}"
    assert info["Capture-Count"] == "3"
    assert {"Bagging-Date", "Bag-Software-Agent", "External-Description"} <= set(info)
    for line in files[MANIFEST].decode().splitlines():
        assert re.fullmatch(r"[0-9a-f]{64}  data/\S+", line)
    assert files[ALLOWED_SIGNERS].decode() == (
        f'{signing_identity(filled)} namespaces="{NAMESPACE}" '
        f"{sshsig.public_key_line(sshsig.parse_public_key(evidence['signing_key']['public_key']))}\n")

    with zipfile.ZipFile(sealed) as zf:
        for info_ in zf.infolist():
            assert stat.S_ISREG(info_.external_attr >> 16)
            if info_.filename.endswith(".png"):
                assert info_.compress_type == zipfile.ZIP_STORED


def test_verify_bundle_accepts_a_fresh_bundle(filled: Vault, sealed: Path) -> None:
    report = verify_bundle(sealed)
    assert report.ok, report.problems
    assert report.fingerprint == signing_fingerprint(filled)
    assert report.identity == signing_identity(filled)
    assert report.files_checked == len(zip_contents(sealed)) - 1  # all but the signature


def test_bagit_python_validates_the_bag(sealed: Path, tmp_path: Path) -> None:
    import bagit
    bag = bagit.Bag(str(extract(sealed, tmp_path / "out")))
    bag.validate()  # raises BagValidationError with the details if anything is off
    assert bag.info["Capture-Count"] == "3"


def test_sha256sum_checks_both_manifests(sealed: Path, tmp_path: Path) -> None:
    folder = extract(sealed, tmp_path / "out")
    for manifest in (MANIFEST, TAGMANIFEST):
        result = subprocess.run(["sha256sum", "--strict", "-c", manifest], cwd=folder,
                                capture_output=True, text=True, timeout=60, check=False)
        assert result.returncode == 0, result.stdout + result.stderr
    (folder / "data" / "evidence.json").write_text("{}")
    result = subprocess.run(["sha256sum", "-c", MANIFEST], cwd=folder, capture_output=True,
                            text=True, timeout=60, check=False)
    assert result.returncode != 0


def test_ssh_keygen_verifies_the_bundle_signature(filled: Vault, sealed: Path,
                                                  tmp_path: Path) -> None:
    folder = extract(sealed, tmp_path / "out")
    args = ("-Y", "verify", "-f", ALLOWED_SIGNERS, "-I", signing_identity(filled),
            "-n", NAMESPACE, "-s", SIGNATURE)
    result = ssh_keygen(*args, cwd=folder, stdin=(folder / TAGMANIFEST).read_bytes())
    assert result.returncode == 0, result.stderr
    assert signing_fingerprint(filled).encode() in result.stdout
    tampered = (folder / TAGMANIFEST).read_bytes().replace(b"  ", b" ", 1)
    assert ssh_keygen(*args, cwd=folder, stdin=tampered).returncode != 0


def test_export_of_chosen_captures_into_a_folder(filled: Vault, tmp_path: Path) -> None:
    chosen = filled.captures()[-1]
    out = tmp_path / "exports"
    out.mkdir()
    path = export_bundle(filled, out, [chosen.id, chosen.id])
    assert path.parent == out
    assert FOLDER.fullmatch(path.stem)
    assert [p.name for p in out.iterdir()] == [path.name]  # no temp file left behind
    assert verify_bundle(path).ok
    evidence = json.loads(zip_contents(path)[f"{path.stem}/data/evidence.json"])
    assert [c["id"] for c in evidence["items"]] == [chosen.id]
    assert [i["id"] for i in evidence["incidents"]] == [chosen.incident_id]
    originals = [n for n in zip_contents(path) if n.endswith("original.png")]
    assert originals == [f"{path.stem}/data/captures/{chosen.id}/original.png"]


def test_export_of_an_unknown_capture_writes_nothing(filled: Vault, tmp_path: Path) -> None:
    before = len(filled.audit_entries())
    with pytest.raises(NotFound):
        export_bundle(filled, tmp_path / "b.zip", [999])
    assert not list(tmp_path.glob("*b.zip*"))
    assert len(filled.audit_entries()) == before


def test_damaged_original_stops_the_export(filled: Vault, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """A bundle that looks sound must never be made from an original that is not."""
    before = len(filled.audit_entries())
    monkeypatch.setattr(filled, "original", lambda capture_id: b"not what was captured")
    with pytest.raises(VaultDamaged, match="no longer matches"):
        export_bundle(filled, tmp_path / "b.zip")
    assert not [p for p in tmp_path.iterdir() if "b.zip" in p.name]
    assert len(filled.audit_entries()) == before


def test_export_to_a_missing_folder_is_refused(filled: Vault, tmp_path: Path) -> None:
    with pytest.raises(RefusedInput, match="does not exist"):
        export_bundle(filled, tmp_path / "no-such-folder" / "b.zip")


def test_manifest_paths_are_encoded_as_bagit_says() -> None:
    assert bundle._encode_path("data/a%b\nc\rd é") == "data/a%25b%0Ac%0Dd é"


@pytest.mark.parametrize("step", ["written", "synced"])
def test_interrupted_export_leaves_no_file(filled: Vault, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch, step: str) -> None:
    def fail(name: str) -> None:
        if name == step:
            raise OSError(28, "No space left on device")

    monkeypatch.setattr(fsutil, "_fault_hook", fail)
    with pytest.raises(EvidenceError, match="The disk is full"):
        export_bundle(filled, tmp_path / "b.zip")
    assert not [p for p in tmp_path.iterdir() if "b.zip" in p.name]
    assert filled.audit_entries()[-1].action == "export.failed"
    assert filled.verify().ok


# ============================================================================ tampering


def rewrite(src: Path, dst: Path, change: Callable[[dict[str, bytes]], dict[str, bytes]]) -> Path:
    """A copy of the bundle with its files changed as an attacker (or accident) might."""
    contents = change(zip_contents(src))
    with zipfile.ZipFile(dst, "w") as zf:
        for name, data in contents.items():
            zf.writestr(name, data)
    return dst


def problems_after(sealed: Path, tmp_path: Path,
                   change: Callable[[dict[str, str], dict[str, bytes]], None]) -> list[str]:
    folder = top_folder(sealed)

    def edit(contents: dict[str, bytes]) -> dict[str, bytes]:
        files = {name.removeprefix(folder + "/"): data for name, data in contents.items()}
        change({"folder": folder}, files)
        return {f"{folder}/{name}": data for name, data in files.items()}

    report = verify_bundle(rewrite(sealed, tmp_path / "tampered.zip", edit))
    assert not report.ok
    return report.problems


def first_original(files: dict[str, bytes]) -> str:
    return next(n for n in sorted(files) if n.endswith("original.png"))


def test_changed_payload_byte_is_named(sealed: Path, tmp_path: Path) -> None:
    name = ""

    def change(_: dict[str, str], files: dict[str, bytes]) -> None:
        nonlocal name
        name = first_original(files)
        data = bytearray(files[name])
        data[len(data) // 2] ^= 0x01
        files[name] = bytes(data)

    problems = problems_after(sealed, tmp_path, change)
    assert problems == [f"{name} has been changed since the bundle was sealed "
                        f"(its SHA-256 does not match {MANIFEST})."]


def test_added_payload_file_is_named(sealed: Path, tmp_path: Path) -> None:
    def change(_: dict[str, str], files: dict[str, bytes]) -> None:
        files["data/captures/1/extra.png"] = b"not evidence"

    problems = problems_after(sealed, tmp_path, change)
    assert len(problems) == 2
    assert "data/captures/1/extra.png was added" in problems[0]
    assert "Payload-Oxum" in problems[1]


def test_added_tag_file_is_named(sealed: Path, tmp_path: Path) -> None:
    def change(_: dict[str, str], files: dict[str, bytes]) -> None:
        files["README.txt"] = b"trust me"

    problems = problems_after(sealed, tmp_path, change)
    assert len(problems) == 1
    assert "README.txt was added" in problems[0]


def test_removed_file_is_named(sealed: Path, tmp_path: Path) -> None:
    def change(_: dict[str, str], files: dict[str, bytes]) -> None:
        del files["data/captures/2/metadata.json"]

    problems = problems_after(sealed, tmp_path, change)
    assert any(p.startswith("data/captures/2/metadata.json is listed in manifest-sha256.txt "
                            "but missing") for p in problems)


def test_renamed_file_is_named_under_both_names(sealed: Path, tmp_path: Path) -> None:
    def change(_: dict[str, str], files: dict[str, bytes]) -> None:
        files["data/captures/2/renamed.png"] = files.pop("data/captures/2/original.png")

    problems = " ".join(problems_after(sealed, tmp_path, change))
    assert "data/captures/2/renamed.png was added" in problems
    assert "data/captures/2/original.png is listed in manifest-sha256.txt but missing" in problems


def test_changed_bag_info_is_named(sealed: Path, tmp_path: Path) -> None:
    def change(_: dict[str, str], files: dict[str, bytes]) -> None:
        files["bag-info.txt"] = files["bag-info.txt"].replace(b"Capture-Count: 3",
                                                              b"Capture-Count: 2")

    problems = problems_after(sealed, tmp_path, change)
    assert problems == [f"bag-info.txt has been changed since the bundle was sealed "
                        f"(its SHA-256 does not match {TAGMANIFEST})."]


def test_rehashed_payload_is_caught_by_the_tag_manifest(sealed: Path, tmp_path: Path) -> None:
    """Fixing up manifest-sha256.txt after a change does not help without the key."""

    def change(_: dict[str, str], files: dict[str, bytes]) -> None:
        files["data/evidence.json"] = b"{}\n"
        lines = [
            f"{hashlib.sha256(files[path]).hexdigest()}  {path}"
            for path in (line.split("  ", 1)[1]
                         for line in files[MANIFEST].decode().splitlines())
        ]
        files[MANIFEST] = ("\n".join(lines) + "\n").encode()

    problems = problems_after(sealed, tmp_path, change)
    assert any(p.startswith(f"{MANIFEST} has been changed") for p in problems)
    assert any("Payload-Oxum" in p for p in problems)


def test_swapped_signature_is_named(sealed: Path, tmp_path: Path) -> None:
    def change(_: dict[str, str], files: dict[str, bytes]) -> None:
        other = Ed25519PrivateKey.generate()
        files[SIGNATURE] = sshsig.sign(other, files[TAGMANIFEST], NAMESPACE).encode()

    problems = problems_after(sealed, tmp_path, change)
    assert problems == [f"{SIGNATURE} is not a valid signature of {TAGMANIFEST} by the key "
                        f"in {ALLOWED_SIGNERS}."]


def test_signature_from_another_bundle_is_refused(filled: Vault, sealed: Path,
                                                  tmp_path: Path) -> None:
    add(filled, png_bytes((1, 2, 3)))
    later = export_bundle(filled, tmp_path / "later.zip")
    later_sig = zip_contents(later)[f"{top_folder(later)}/{SIGNATURE}"]

    def change(_: dict[str, str], files: dict[str, bytes]) -> None:
        files[SIGNATURE] = later_sig

    assert any(SIGNATURE in p for p in problems_after(sealed, tmp_path, change))


def test_resealing_with_another_key_shows_another_fingerprint(filled: Vault, sealed: Path,
                                                              tmp_path: Path) -> None:
    """Anyone can re-seal a changed bundle with their own key; the fingerprint tells."""
    impostor = Ed25519PrivateKey.generate()
    folder = top_folder(sealed)

    def edit(contents: dict[str, bytes]) -> dict[str, bytes]:
        signers = f'x namespaces="{NAMESPACE}" {sshsig.public_key_line(impostor)}\n'.encode()
        contents[f"{folder}/{ALLOWED_SIGNERS}"] = signers
        lines = contents[f"{folder}/{TAGMANIFEST}"].decode().splitlines()
        lines = [f"{hashlib.sha256(signers).hexdigest()}  {ALLOWED_SIGNERS}"
                 if line.endswith(ALLOWED_SIGNERS) else line for line in lines]
        tagmanifest = ("\n".join(lines) + "\n").encode()
        contents[f"{folder}/{TAGMANIFEST}"] = tagmanifest
        contents[f"{folder}/{SIGNATURE}"] = sshsig.sign(impostor, tagmanifest,
                                                        NAMESPACE).encode()
        return contents

    report = verify_bundle(rewrite(sealed, tmp_path / "resealed.zip", edit))
    assert report.ok
    assert report.fingerprint == sshsig.fingerprint(impostor) != signing_fingerprint(filled)


@pytest.mark.parametrize("name", [SIGNATURE, ALLOWED_SIGNERS, TAGMANIFEST, "bagit.txt"])
def test_removed_tag_file_is_named(sealed: Path, tmp_path: Path, name: str) -> None:
    def change(_: dict[str, str], files: dict[str, bytes]) -> None:
        del files[name]

    assert problems_after(sealed, tmp_path, change) == [f"{name} is missing from the bundle."]


def test_corrupt_bytes_inside_the_zip_become_a_plain_problem(sealed: Path,
                                                             tmp_path: Path) -> None:
    raw = bytearray(sealed.read_bytes())
    with zipfile.ZipFile(sealed) as zf:
        info = next(i for i in zf.infolist() if i.filename.endswith("original.png"))
    raw[info.header_offset + 30 + len(info.filename.encode()) + 40] ^= 0xFF
    damaged = tmp_path / "damaged.zip"
    damaged.write_bytes(bytes(raw))
    report = verify_bundle(damaged)
    assert report.problems == [f"{info.filename.split('/', 1)[1]} could not be read from the "
                               f"ZIP (Bad CRC-32 for file {info.filename!r})."]


def test_one_file_flagged_as_locked_is_damage_not_a_locked_bundle(sealed: Path,
                                                                  tmp_path: Path) -> None:
    """One flipped bit can mark one file as encrypted: the bundle is not then "locked"
    (which would ask for a passphrase), it is damaged, and said to be."""
    raw = bytearray(sealed.read_bytes())
    central = raw.index(b"PK\x01\x02")
    raw[central + 8] |= 0x1  # the general purpose flags of the first file: "encrypted"
    damaged = tmp_path / "damaged.zip"
    damaged.write_bytes(bytes(raw))
    report = verify_bundle(damaged)
    assert not report.ok
    assert report.problems == ["damaged.zip is damaged: some of its files are marked as "
                               "locked with a passphrase and others are not."]


def test_random_damage_never_raises(sealed: Path, tmp_path: Path) -> None:
    original = sealed.read_bytes()
    rng = random.Random(1234)
    damaged = tmp_path / "damaged.zip"
    for attempt in range(150):
        raw = bytearray(original)
        if attempt % 3 == 0:
            raw = raw[:rng.randrange(len(raw))]
        else:
            for _ in range(rng.randint(1, 4)):
                raw[rng.randrange(len(raw))] = rng.randrange(256)
        damaged.write_bytes(bytes(raw))
        report = verify_bundle(damaged)  # must not raise, whatever the damage
        assert all(isinstance(p, str) and p for p in report.problems)


# ============================================================================ hostile ZIPs


def hostile_zip(tmp_path: Path, entries: list[tuple[zipfile.ZipInfo | str, bytes]]) -> Path:
    path = tmp_path / "hostile.zip"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about duplicate names
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
            for info, data in entries:
                zf.writestr(info, data)
    return path


def symlink(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.create_system = 3
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info


@pytest.mark.parametrize(("entries", "expected"), [
    ([("b/data/x", b"1"), ("../evil", b"2")], "points outside the bundle folder"),
    ([("b/../../evil", b"2")], "points outside the bundle folder"),
    ([("/etc/evil", b"2")], "absolute path"),
    ([("C:/evil", b"2")], "absolute path"),
    ([("b\\..\\evil", b"2")], "backslashes"),
    ([("b/data/x", b"1"), ("b/data/x", b"2")], "appears more than once"),
    ([("b/data/X", b"1"), ("b/data/x", b"2")], "differ only in letter case"),
    ([("b/data/caf\u00e9", b"1"), ("b/data/cafe\u0301", b"2")], "differ only in letter case"),
    ([(symlink("b/data/link"), b"/etc/passwd")], "symbolic link"),
    ([("a/x", b"1"), ("b/x", b"2")], "exactly one folder"),
    ([("loose.txt", b"1")], "outside the bundle folder"),
    ([("b/data/bomb", bytes(10 * 1024 * 1024))], "compressed more than 200:1"),
    ([], "empty ZIP"),
])
def test_hostile_zip_is_refused_plainly(tmp_path: Path, entries: list[tuple[str, bytes]],
                                        expected: str) -> None:
    report = verify_bundle(hostile_zip(tmp_path, list(entries)))
    assert not report.ok
    assert any(expected in p for p in report.problems), report.problems
    assert report.fingerprint is None


def test_too_many_entries_are_refused(tmp_path: Path) -> None:
    path = hostile_zip(tmp_path, [(f"b/data/{n}", b"") for n in range(MAX_ENTRIES + 1)])
    assert verify_bundle(path).problems == ["The bundle has 10,001 entries; at most 10,000 "
                                            "are allowed."]


def test_entry_count_in_the_end_record_is_not_believed(tmp_path: Path) -> None:
    """zipfile walks the directory by its size, not its count; so do we, after parsing."""
    path = hostile_zip(tmp_path, [(f"b/data/{n}", b"") for n in range(MAX_ENTRIES + 1)])
    raw = bytearray(path.read_bytes())
    raw[-22 + 8:-22 + 12] = (5).to_bytes(2, "little") * 2  # entries on disk, total
    path.write_bytes(bytes(raw))
    assert verify_bundle(path).problems == ["The bundle has 10,001 entries; at most 10,000 "
                                            "are allowed."]


def test_huge_table_of_contents_is_refused_before_parsing(tmp_path: Path) -> None:
    path = hostile_zip(tmp_path, [(f"b/{n:05d}{'x' * 60_000}", b"") for n in range(70)])
    problems = verify_bundle(path).problems
    assert len(problems) == 1
    assert problems[0].startswith("The bundle's table of contents is 4,")


def test_oversized_entry_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bundle_check, "MAX_ENTRY_BYTES", 1000)
    path = hostile_zip(tmp_path, [("b/data/big", os.urandom(2000))])
    assert "more than the 0 MB allowed" in verify_bundle(path).problems[0]


def test_entry_lying_about_its_size_is_refused(sealed: Path, tmp_path: Path) -> None:
    """A header that declares a small size is not believed: the data is checked.

    The declared size bounds what is read (so it cannot be used to exhaust memory) and
    the CRC then fails, so the lie surfaces as a plain problem.
    """
    raw = bytearray(sealed.read_bytes())
    name = f"{top_folder(sealed)}/data/evidence.json".encode()
    central = raw.find(b"PK\x01\x02")
    while raw[central + 46:central + 46 + len(name)] != name:
        central = raw.find(b"PK\x01\x02", central + 1)
    raw[central + 24:central + 28] = (10).to_bytes(4, "little")  # uncompressed size
    lying = tmp_path / "lying.zip"
    lying.write_bytes(bytes(raw))
    report = verify_bundle(lying)
    assert len(report.problems) == 1
    assert report.problems[0].startswith("data/evidence.json could not be read from the ZIP")


@pytest.mark.parametrize("content", [b"", b"not a zip at all", b"PK\x05\x06" + bytes(18),
                                     b"PK\x03\x04" + bytes(100)])
def test_non_zip_files_are_refused_plainly(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "x.zip"
    path.write_bytes(content)
    report = verify_bundle(path)
    assert not report.ok
    assert report.problems[0].startswith(("x.zip ", "The bundle is an empty ZIP file."))


def test_missing_file_is_a_plain_problem(tmp_path: Path) -> None:
    assert verify_bundle(tmp_path / "nope.zip").problems == ["nope.zip does not exist."]


def test_bag_without_required_files_is_named(tmp_path: Path) -> None:
    path = hostile_zip(tmp_path, [("b/data/x", b"1"), ("b/bagit.txt", b"BagIt-Version: 1.0\n")])
    problems = verify_bundle(path).problems
    assert f"{MANIFEST} is missing from the bundle." in problems
    assert f"{SIGNATURE} is missing from the bundle." in problems
