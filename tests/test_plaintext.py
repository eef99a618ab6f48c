"""Nothing captured reaches the disk in the clear: not the vault folder, not temp, not home.

Captures, imports and edits run in child processes whose TMPDIR, HOME and XDG folders
point into folders this test then reads byte by byte, looking for image signatures
and for unique markers typed into notes and URLs.
"""

from __future__ import annotations

import io
import os
import secrets
import subprocess
import sys
from pathlib import Path

from conftest import PASSPHRASE, REPO, run_cli
from PIL import Image

# Long enough that none can turn up in encrypted bytes by chance.
IMAGE_SIGNATURES = {
    "PNG": b"\x89PNG\r\n\x1a\n",
    "PNG header": b"IHDR",
    "JPEG (JFIF)": b"JFIF\x00",
    "JPEG (Exif)": b"Exif\x00\x00",
    "GIF": b"GIF89a",
    "WebP": b"WEBPVP8",
    "HEIC": b"ftypheic",
}


def scan(folders: list[Path], markers: list[str]) -> list[str]:
    found = []
    needles = dict(IMAGE_SIGNATURES)
    for marker in markers:
        needles[f"marker {marker}"] = marker.encode()
        needles[f"marker {marker} (UTF-16)"] = marker.encode("utf-16-le")
    for folder in folders:
        for path in folder.rglob("*"):
            if path.is_file() and not path.is_symlink():
                data = path.read_bytes()
                found += [f"{path}: {name}" for name, needle in needles.items() if needle in data]
    return found


def test_no_plaintext_after_captures_imports_and_edits(closed_vault: Path,
                                                       tmp_path: Path) -> None:
    scratch = tmp_path / "scratch"  # what the child processes get as TMPDIR, HOME, XDG
    env = {"TMPDIR": str(scratch / "tmp"), "HOME": str(scratch / "home")}
    for sub in ("data", "config", "cache", "state"):
        env[f"XDG_{sub.upper()}_HOME"] = str(scratch / "home" / sub)
    for folder in (Path(v) for v in env.values()):
        folder.mkdir(parents=True, exist_ok=True)
    env |= {"EVIDENCE_RECORDER_VAULT": str(closed_vault),
            "EVIDENCE_RECORDER_PASSPHRASE": PASSPHRASE}

    markers = [f"MARKER{secrets.token_hex(8)}" for _ in range(4)]
    note, url, author, edited = markers

    # Pictures to import live outside every scanned folder, as a phone's files would.
    sources = tmp_path / "phone"
    sources.mkdir()
    files = []
    for fmt, ext in (("PNG", "png"), ("JPEG", "jpg"), ("WEBP", "webp"), ("GIF", "gif")):
        buf = io.BytesIO()
        Image.effect_noise((300, 200), 60).convert("RGB").save(buf, fmt)
        (sources / f"shot.{ext}").write_bytes(buf.getvalue())
        files.append(str(sources / f"shot.{ext}"))
    result = run_cli("import", *files, "--note", note, "--url", f"https://x.com/{url}",
                     "--author", author, env=env)
    assert result.returncode == 0, result.stderr

    child = f"""
from PIL import Image
from evidence_recorder.core.gather import capture
from evidence_recorder.core.gather import recorder
from evidence_recorder.core.model import CaptureDetails
from evidence_recorder.core.vault.store import Vault
with Vault.open({str(closed_vault)!r}, {PASSPHRASE!r}) as vault:
    grab = capture.grab(capture.FakeGrabber(Image.effect_noise((800, 600), 50).convert("RGB")))
    recorder.save_grab(vault, grab, CaptureDetails(description={note!r}, url={url!r}))
"""
    subprocess.run([sys.executable, "-c", child], cwd=REPO, check=True, timeout=120,
                   env={**os.environ, **env})
    result = run_cli("edit", "1", "--context", edited, env=env)
    assert result.returncode == 0, result.stderr
    assert run_cli("audit", "--verify", env=env).returncode == 0
    listing = run_cli("list", "--json", env=env)
    assert note in listing.stdout  # it is there, only encrypted

    assert scan([closed_vault, scratch], markers) == []
