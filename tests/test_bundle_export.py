"""Export choices and the bundle's promises to its readers, checked with the real tools:
the bundle's own verify.sh, 7-Zip for encrypted bundles, openssl for timestamps."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from conftest import BUNDLE_PASSPHRASE
from PIL import Image
from test_bundle import extract, zip_contents
from test_vault import add, png_bytes
from tsa import LoopbackTsa, tsa_server_fixture  # noqa: F401 - provides tsa_server

from evidence_recorder.core.bundle.check import BundleLocked, verify_bundle
from evidence_recorder.core.bundle.opened import open_bundle
from evidence_recorder.core.bundle.seal import ExportOptions, export_bundle
from evidence_recorder.core.errors import RefusedInput, WrongSecret
from evidence_recorder.core.vault.store import Vault

REDACT = {"version": 1, "items": [{"type": "redact", "rect": [10, 10, 40, 20]}]}


@pytest.fixture
def two_incidents(vault: Vault) -> tuple[Vault, list[int]]:
    private = add(vault, png_bytes((250, 250, 250)), description="PRIVATE-NOTE-42")
    vault.edit_capture(private, {"context": "SECRET-CONTEXT-7"})
    incident = vault.new_incident("School page")
    shared = add(vault, png_bytes((250, 250, 250)), site="Facebook",
                 url="https://facebook.com/p/1")
    vault.edit_capture(shared, {"author": "J. Smith"}, incident_id=incident.id)
    vault.set_annotations(shared, REDACT)
    return vault, [private, shared, incident.id]


def test_an_incident_export_carries_only_its_captures_and_their_log(
        two_incidents: tuple[Vault, list[int]], tmp_path: Path) -> None:
    vault, (private, shared, incident) = two_incidents
    path = export_bundle(vault, tmp_path / "b.zip", options=ExportOptions(
        incident_ids=[incident], exporter="A. Teacher", role="Class teacher"))
    files = {k.split("/", 1)[1]: v for k, v in zip_contents(path).items()}
    assert f"data/captures/{shared}/redacted.png" in files  # covered: its copy only
    assert f"data/captures/{shared}/original.png" not in files
    assert not any(k.startswith(f"data/captures/{private}/") for k in files)
    everything = b"".join(files.values())
    assert b"PRIVATE-NOTE-42" not in everything and b"SECRET-CONTEXT-7" not in everything
    info = files["bag-info.txt"].decode()
    assert "Contact-Name: A. Teacher" in info and "Incident-Titles: School page" in info
    assert "Exporter-Role: Class teacher" in info and "Audience: headteacher" in info
    assert verify_bundle(path).ok


def test_the_redacted_copy_covers_what_was_redacted(two_incidents: tuple[Vault, list[int]],
                                                    tmp_path: Path) -> None:
    vault, (_, shared, _) = two_incidents
    path = export_bundle(vault, tmp_path / "b.zip", [shared],
                         options=ExportOptions(include_covered_originals=True))
    files = {k.split("/", 1)[1]: v for k, v in zip_contents(path).items()}
    redacted = Image.open(io.BytesIO(files[f"data/captures/{shared}/redacted.png"]))
    assert redacted.getpixel((20, 15)) == (0, 0, 0)
    assert files[f"data/captures/{shared}/original.png"] == vault.original(shared)


def test_headteacher_copy_leaves_covered_originals_out_but_police_always_get_them(
        two_incidents: tuple[Vault, list[int]], tmp_path: Path) -> None:
    vault, (private, shared, _) = two_incidents
    lean = export_bundle(vault, tmp_path / "h.zip", [shared, private])
    names = {n.split("/", 1)[1] for n in zip_contents(lean)}
    assert f"data/captures/{shared}/original.png" not in names
    assert f"data/captures/{shared}/redacted.png" in names
    assert f"data/captures/{private}/original.png" in names  # nothing covered: it goes
    assert verify_bundle(lean).ok
    police = export_bundle(vault, tmp_path / "p.zip", [shared],
                           options=ExportOptions(audience="police",
                                                 include_covered_originals=False))
    assert any(n.endswith(f"{shared}/original.png") for n in zip_contents(police))
    with pytest.raises(RefusedInput):
        export_bundle(vault, tmp_path / "x.zip", options=ExportOptions(audience="press"))


def test_verify_sh_passes_and_then_catches_a_change(two_incidents: tuple[Vault, list[int]],
                                                    tmp_path: Path) -> None:
    vault, _ = two_incidents
    folder = extract(export_bundle(vault, tmp_path / "b.zip"), tmp_path / "out")
    run = subprocess.run(["sh", "verify.sh"], cwd=folder, capture_output=True, text=True,
                         check=False, timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "RESULT: the bundle is intact." in run.stdout
    assert "SHA256:" in run.stdout
    report = folder / "report.html"
    report.write_bytes(report.read_bytes().replace(b"</body>", b"<p>added</p></body>"))
    run = subprocess.run(["sh", "verify.sh"], cwd=folder, capture_output=True, text=True,
                         check=False, timeout=60)
    assert run.returncode == 1
    assert "ALTERED" in run.stdout


def test_an_encrypted_bundle_opens_with_7zip_and_verifies(vault: Vault, tmp_path: Path) -> None:
    add(vault, png_bytes())
    path = export_bundle(vault, tmp_path / "secret.zip",
                         options=ExportOptions(passphrase=BUNDLE_PASSPHRASE))
    with zipfile.ZipFile(path) as zf:
        assert all(info.flag_bits & 0x1 for info in zf.infolist())
    with pytest.raises(BundleLocked):
        verify_bundle(path)
    with pytest.raises(WrongSecret):
        verify_bundle(path, "not the passphrase")
    report = verify_bundle(path, BUNDLE_PASSPHRASE)
    assert report.ok and report.encrypted, report.problems
    seven = shutil.which("7z")
    assert seven, "7-Zip (p7zip-full) is installed by scripts/setup --test"
    out = tmp_path / "x"
    done = subprocess.run([seven, "x", f"-p{BUNDLE_PASSPHRASE}", f"-o{out}", str(path)],
                          capture_output=True, text=True, check=False, timeout=60)
    assert done.returncode == 0, done.stdout
    (folder,) = out.iterdir()
    check = subprocess.run(["sha256sum", "--strict", "-c", "manifest-sha256.txt"], cwd=folder,
                           capture_output=True, text=True, check=False)
    assert check.returncode == 0, check.stdout
    with pytest.raises(RefusedInput):
        export_bundle(vault, tmp_path / "weak.zip", options=ExportOptions(passphrase="abc"))


def test_a_timestamped_bundle_verifies_with_openssl(vault: Vault, tmp_path: Path,
                                                    tsa_server: LoopbackTsa) -> None:
    add(vault, png_bytes())
    path = export_bundle(vault, tmp_path / "t.zip",
                         options=ExportOptions(timestamp_url=tsa_server.url))
    report = verify_bundle(path)
    assert report.ok, report.problems
    assert report.timestamp is not None and report.timestamp.startswith("20")
    folder = extract(path, tmp_path / "out")
    done = subprocess.run(
        ["openssl", "ts", "-verify", "-in", "tagmanifest-sha256.txt.sig.tsr",
         "-data", "tagmanifest-sha256.txt.sig", "-CAfile", str(tsa_server.ca_pem_path),
         "-untrusted", str(tsa_server.tsa_pem_path)],
        cwd=folder, capture_output=True, text=True, check=False, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Verification: OK" in done.stdout
    # A timestamp swapped in from another bundle is caught.
    other = export_bundle(vault, tmp_path / "t2.zip",
                          options=ExportOptions(timestamp_url=tsa_server.url))
    contents = zip_contents(path)
    foreign = {k.split("/", 1)[1]: v for k, v in zip_contents(other).items()}
    tsr_name = next(k for k in contents if k.endswith(".tsr"))
    contents[tsr_name] = foreign["tagmanifest-sha256.txt.sig.tsr"]
    swapped = tmp_path / "swapped.zip"
    with zipfile.ZipFile(swapped, "w") as zf:
        for name, data in contents.items():
            zf.writestr(name, data)
    assert any("tsr" in p for p in verify_bundle(swapped).problems)


def test_open_bundle_reads_files_without_extracting(two_incidents: tuple[Vault, list[int]],
                                                    tmp_path: Path) -> None:
    vault, (_, shared, _) = two_incidents
    path = export_bundle(vault, tmp_path / "b.zip",
                         options=ExportOptions(include_covered_originals=True))
    before = set(os.listdir(tmp_path))
    opened = open_bundle(path)
    try:
        assert opened.report.ok
        assert opened.contents is not None
        item = next(i for i in opened.contents.items if i.id == shared)
        assert item.original is not None and item.original.path is not None
        assert item.covered_copy is not None and item.covered_copy.path is not None
        assert opened.read(item.original.path) == vault.original(shared)
        assert opened.read(item.covered_copy.path).startswith(b"\x89PNG")
        with pytest.raises(Exception, match="not in this bundle"):
            opened.read("../../etc/passwd")
    finally:
        opened.close()
    assert set(os.listdir(tmp_path)) == before
    with pytest.raises(RefusedInput):
        open_bundle(tmp_path / "missing.zip")


def test_a_received_bundle_kept_in_the_vault_still_verifies(
        two_incidents: tuple[Vault, list[int]], tmp_path: Path) -> None:
    vault, _ = two_incidents
    path = export_bundle(vault, tmp_path / "b.zip")
    report = verify_bundle(path)
    bundle_id = vault.add_received_bundle(path, report.as_dict())
    path.unlink()
    with vault.received_bundle_file(bundle_id) as stored:
        again = verify_bundle(stored)
    assert again.ok and again.fingerprint == report.fingerprint


def test_audit_lines_end_with_this_export_and_are_checked(vault: Vault, tmp_path: Path) -> None:
    add(vault, png_bytes())
    path = export_bundle(vault, tmp_path / "b.zip")
    contents = zip_contents(path)
    name = next(k for k in contents if k.endswith("data/audit.jsonl"))
    lines = contents[name].decode().splitlines()
    assert json.loads(lines[-1])["action"] == "export"


@pytest.mark.parametrize("make", ["png", "jpeg", "webp", "gif", "bmp", "jpeg_with_exif",
                                  "animated_webp"])
def test_declared_size_reads_headers(make: str) -> None:
    import hostile_files

    from evidence_recorder.core.gather import image_formats

    data = getattr(hostile_files, make)(width=123, height=45)
    assert image_formats.declared_size(data[: image_formats.HEADER_BYTES]) == (123, 45)


def test_a_picture_bomb_in_a_bundle_is_refused_from_its_header(vault: Vault,
                                                               tmp_path: Path) -> None:
    import hostile_files

    add(vault, png_bytes())
    path = export_bundle(vault, tmp_path / "b.zip")
    contents = zip_contents(path)
    name = next(k for k in contents if k.endswith("original.png"))
    contents[name] = hostile_files.png_declaring(20_000, 10_000)  # 200 megapixels
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w") as zf:
        for entry, data in contents.items():
            zf.writestr(entry, data)
    problems = verify_bundle(bomb).problems
    assert any("larger than 80 megapixels" in p for p in problems), problems


def check_with_standard_tools(bundle_zip: Path, workdir: Path) -> None:
    """What a police officer would run: bagit-python, sha256sum, ssh-keygen, verify.sh."""
    import bagit

    folder = extract(bundle_zip, workdir)
    bagit.Bag(str(folder)).validate()
    for manifest in ("manifest-sha256.txt", "tagmanifest-sha256.txt"):
        done = subprocess.run(["sha256sum", "--strict", "-c", manifest], cwd=folder,
                              capture_output=True, text=True, check=False, timeout=60)
        assert done.returncode == 0, done.stdout
    identity = (folder / "allowed_signers").read_text().split()[0]
    with (folder / "tagmanifest-sha256.txt").open("rb") as data:
        done = subprocess.run(
            ["ssh-keygen", "-Y", "verify", "-f", "allowed_signers", "-I", identity, "-n",
             "evidence-recorder-bundle", "-s", "tagmanifest-sha256.txt.sig"],
            cwd=folder, stdin=data, capture_output=True, text=True, check=False, timeout=60,
            env={k: v for k, v in os.environ.items() if k != "SSH_AUTH_SOCK"})
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Good" in done.stdout + done.stderr


def test_a_cli_export_passes_every_standard_tool(closed_vault: Path, tmp_path: Path) -> None:
    from conftest import PASSPHRASE, run_cli

    env = {"EVIDENCE_RECORDER_VAULT": str(closed_vault),
           "EVIDENCE_RECORDER_PASSPHRASE": PASSPHRASE}
    picture = tmp_path / "phone.png"
    picture.write_bytes(png_bytes())
    assert run_cli("import", str(picture), "--site", "WhatsApp", env=env).returncode == 0
    out = tmp_path / "cli.zip"
    assert run_cli("export", "--out", str(out), "--audience", "police",
                   env=env).returncode == 0
    check_with_standard_tools(out, tmp_path / "x")
    assert run_cli("verify", str(out)).returncode == 0


def test_report_pictures_shrink_to_fit_the_budget() -> None:
    """The more captures, the smaller each report picture, so memory stays bounded."""
    from evidence_recorder.core.bundle.seal import _report_picture
    from evidence_recorder.core.gather import images

    picture = Image.effect_noise((1920, 1080), 40).convert("RGB")
    buffer = io.BytesIO()
    picture.save(buffer, "PNG")
    preview, small = images.make_thumbnails(buffer.getvalue(), (1280, 640))
    assert _report_picture((preview, small), len(preview)) == preview
    assert _report_picture((preview, small), len(small)) == small
    tighter = _report_picture((preview, small), len(small) // 3)
    assert 0 < len(tighter) <= 2 * (len(small) // 3)
    with Image.open(io.BytesIO(tighter)) as shown:
        assert max(shown.size) >= 320
    assert _report_picture((preview, small), 100) == b""  # none fits: the bundle has it
