"""Faults the environment causes: a killed process, a full disk, a second copy, damage.

* Crash suite: a child process runs one operation in a loop against a real vault
  (capture, import, edit, annotate, delete, export, passphrase change, change of all
  keys) and is killed
  with SIGKILL at random moments. It prints ``begin …`` before each call and ``done …``
  only after the call returned, so the parent knows what was promised and which single
  call was cut off. After every kill the vault must open (with exactly one of the two
  passphrases), verify, and hold everything that was reported done.
  ``ER_CRASH_KILLS`` is the total number of kills, spread over the operations (quick
  by default); ``ER_FULL=1`` raises it to at least 210 (30 per operation) for CI.
* Full disk: capture, import and export onto a small tmpfs that fills up (root can
  mount one); without that, a child process with ``RLIMIT_FSIZE`` stands in.
* Two instances: the real CLI against a vault another process holds open.
* Damage: truncated or bit-flipped files give a plain message, are left as they are,
  and a backup made earlier brings everything back.
"""

from __future__ import annotations

import errno
import hashlib
import io
import math
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from conftest import FAST_KDF, PASSPHRASE, REPO, run_cli
from PIL import Image

from evidence_recorder.core.bundle import check as bundle_check
from evidence_recorder.core.bundle import seal as bundle
from evidence_recorder.core.errors import EvidenceError, VaultDamaged, WrongSecret
from evidence_recorder.core.gather import capture, recorder
from evidence_recorder.core.model import CaptureDetails
from evidence_recorder.core.paths import KEYFILE_NAME
from evidence_recorder.core.vault import backup
from evidence_recorder.core.vault.keyfile import KeyFile
from evidence_recorder.core.vault.store import DB_NAME, Vault

SECOND_PASSPHRASE = "copper meadow violin 77"
REDACT = {"version": 1, "items": [{"type": "redact", "rect": [0, 0, 5, 5]}]}
OPERATIONS = ("capture", "import", "edit", "annotate", "delete", "export", "passwd",
              "rekey")
FULL = os.environ.get("ER_FULL") == "1"
TOTAL_KILLS = int(os.environ.get("ER_CRASH_KILLS", "28"))
if FULL:
    TOTAL_KILLS = max(TOTAL_KILLS, 30 * len(OPERATIONS))
KILLS_PER_OPERATION = max(1, math.ceil(TOTAL_KILLS / len(OPERATIONS)))
# How long after "ready" a kill may come: about one or two calls of that operation.
KILL_WINDOW = {"capture": 0.6, "import": 0.6, "edit": 0.15, "annotate": 0.15,
               "delete": 0.15, "export": 2.2, "passwd": 0.25, "rekey": 1.2}
STALE_TEMP = re.compile(r"^\.(b-\d+\.zip)\.[0-9a-f]+\.tmp$")

_CHILD = r"""
import hashlib, random, sys, time
from pathlib import Path
from PIL import Image
from evidence_recorder.core.bundle import seal as bundle
from evidence_recorder.core.gather import capture
from evidence_recorder.core.gather import recorder
from evidence_recorder.core.vault.keyfile import KdfParams
from evidence_recorder.core.model import CaptureDetails
from evidence_recorder.core.vault.store import Vault

folder, passphrase, op, seed, extra = sys.argv[1:6]
rng = random.Random(int(seed))
vault = Vault.open(folder, passphrase)

def say(*words):  # one write per line: PYTHONUNBUFFERED would split print()'s pieces
    sys.stdout.write(" ".join(map(str, words)) + "\n")
    sys.stdout.flush()

say("ready")
REDACT = {"version": 1, "items": [{"type": "redact", "rect": [0, 0, 5, 5]}]}
ids = [c.id for c in vault.captures()]
k = 0
if op == "capture":
    while True:
        size = (rng.randint(200, 700), rng.randint(150, 500))
        image = Image.effect_noise(size, rng.randint(10, 120)).convert("RGB")
        grab = capture.grab(capture.FakeGrabber(image))
        say("begin")
        cid = recorder.save_grab(vault, grab, CaptureDetails(description="crash %d" % k))
        say("done", cid, hashlib.sha256(grab.png).hexdigest())
        k += 1
elif op == "import":
    files = sorted(Path(extra).iterdir())
    while True:
        path = files[k % len(files)]
        say("begin")
        outcome = recorder.import_files(vault, [path])
        assert not outcome.refused, outcome.refused
        for _, cid in outcome.saved:
            say("done", cid, hashlib.sha256(path.read_bytes()).hexdigest())
        k += 1
elif op == "edit":
    while True:
        cid, value = ids[k % len(ids)], "edit-%s-%d" % (seed, k)
        say("begin", cid, value)
        vault.edit_capture(cid, {"description": value})
        say("done", cid, value)
        k += 1
elif op == "annotate":
    while True:
        cid = ids[k % len(ids)]
        new = vault.annotations(cid) is None
        say("begin", cid, int(new))
        vault.set_annotations(cid, REDACT if new else None)
        say("done", cid, int(new))
        k += 1
elif op == "delete":
    for cid in ids:
        say("begin", cid)
        vault.delete_capture(cid, "crash test")
        say("done", cid)
    say("empty")
    time.sleep(60)
elif op == "export":
    while True:
        name = "b-%d.zip" % (k % 3)  # the same names each round: stale temps get reused
        say("begin", name)
        bundle.export_bundle(vault, Path(extra) / name)
        say("done", name)
        k += 1
elif op == "passwd":
    current, other = passphrase, extra
    while True:
        say("begin", other)
        vault.change_passphrase(other, KdfParams(1, 8, 1))
        say("done", other)
        current, other = other, current
elif op == "rekey":
    current, other = passphrase, extra
    while True:
        say("begin", other)
        recovery = vault.change_all_keys(other, kdf=KdfParams(1, 8, 1))
        say("done", recovery, other)
        current, other = other, current
"""


def noise_png(size: tuple[int, int], sigma: int = 60) -> bytes:
    buf = io.BytesIO()
    Image.effect_noise(size, sigma).convert("RGB").save(buf, "PNG")
    return buf.getvalue()


def add_capture(vault: Vault, size: tuple[int, int] = (48, 32), note: str = "") -> int:
    image = Image.effect_noise(size, 60).convert("RGB")
    grab = capture.grab(capture.FakeGrabber(image))
    return recorder.save_grab(vault, grab, CaptureDetails(description=note))


def file_hashes(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.iterdir()) if p.is_file()}


@dataclass
class Round:
    """What one killed child said: the calls it finished, and the one it was in."""

    lines: list[list[str]]
    ready: bool = False
    done: list[list[str]] = field(default_factory=list)
    in_progress: list[str] | None = None

    @classmethod
    def parse(cls, text: str) -> Round:
        whole = text.split("\n")[:-1]  # a line the kill cut short was never said
        found = cls([line.split() for line in whole if line.strip()])
        for words in found.lines:
            if words[0] == "ready":
                found.ready = True
            elif words[0] == "begin":
                found.in_progress = words[1:]
            elif words[0] == "done":
                found.done.append(words[1:])
                found.in_progress = None
        return found


def run_and_kill(folder: Path, passphrase: str, op: str, seed: int, extra: str,
                 rng: random.Random) -> Round:
    """Start the child, kill it at a random moment, return what it reported."""
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(folder), passphrase, op, str(seed), extra],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert child.stdout is not None
    first = ""
    try:
        roll = rng.random()
        if roll < 0.15:  # sometimes while it is still starting or unlocking
            time.sleep(rng.uniform(0.0, 1.2))
        else:
            first = child.stdout.readline()
            if roll < 0.5:
                # Half the rounds wait for one finished call first, so that kills after
                # real work happen however slow a loaded machine makes each call.
                while (line := child.stdout.readline()) and not line.startswith("done"):
                    first += line
                first += line
            time.sleep(rng.uniform(0.0, KILL_WINDOW[op]))
    finally:
        child.send_signal(signal.SIGKILL)
        # Read through the same buffered pipes as readline() did (communicate() would
        # skip what readline had already buffered); the child is dead, so nothing blocks.
        out = child.stdout.read()
        assert child.stderr is not None
        err = child.stderr.read()
        child.wait(timeout=60)
        child.stdout.close()
        child.stderr.close()
    assert child.returncode == -signal.SIGKILL, (op, child.returncode, err[-2000:])
    assert "Traceback" not in err, err
    return Round.parse(first + out)


def unlock(folder: Path, passphrases: tuple[str, ...]) -> tuple[Vault, str]:
    """Open with whichever passphrase works, insisting that exactly one does."""
    opened: list[tuple[Vault, str]] = []
    for phrase in passphrases:
        try:
            vault = Vault.open(folder, phrase)
        except WrongSecret:
            continue
        if opened:
            vault.close()
        opened.append((vault, phrase))
    assert len(opened) == 1, f"{len(opened)} of the passphrases open the vault"
    return opened[0]


def check_vault(vault: Vault, expected: dict[int, str]) -> dict[int, str]:
    """The vault is whole and holds every capture promised; returns what it holds."""
    report = vault.verify()
    assert report.ok, report.problems
    assert vault.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    stored = {c.id: c.sha256 for c in vault.captures()}
    for capture_id, sha in expected.items():
        assert stored.get(capture_id) == sha, f"capture {capture_id} lost or changed"
    for capture_id, sha in stored.items():
        assert hashlib.sha256(vault.original(capture_id)).hexdigest() == sha
        assert vault.thumbnail(capture_id)
    assert not [p for p in vault.folder.iterdir() if p.name.endswith(".tmp")]
    return stored


@pytest.fixture
def crash_vault(tmp_path: Path) -> tuple[Path, str]:
    folder = tmp_path / "vault"
    vault, recovery = Vault.create(folder, PASSPHRASE, kdf=FAST_KDF)
    with vault:
        for n in range(6):
            add_capture(vault, note=f"seed {n}")
    return folder, recovery


@pytest.mark.slow
@pytest.mark.parametrize("op", OPERATIONS)
def test_crash_sigkill_at_random_moments(op: str, crash_vault: tuple[Path, str],
                                         tmp_path: Path) -> None:
    folder, recovery = crash_vault
    rng = random.Random(f"20261125-{op}")
    extra = ""
    if op == "import":
        phone = tmp_path / "phone"
        phone.mkdir()
        for n in range(4):
            (phone / f"shot{n}.png").write_bytes(noise_png((300 + 40 * n, 240)))
        extra = str(phone)
    elif op == "export":
        extra = str(tmp_path / "out")
        Path(extra).mkdir()
    passphrases = (PASSPHRASE, SECOND_PASSPHRASE)
    current, other = PASSPHRASE, SECOND_PASSPHRASE
    with Vault.open(folder, PASSPHRASE) as vault:
        expected = check_vault(vault, {})
        descriptions = {c.id: c.details.description for c in vault.captures()}
        annotated = {c.id: vault.annotations(c.id) is not None for c in vault.captures()}
    stale: dict[Path, str] = {}  # export temp files left by a kill, and their bundle name
    rounds_with_work = rounds_cut = 0

    for round_no in range(KILLS_PER_OPERATION):
        if op == "delete":  # keep enough captures for the child to delete
            with Vault.open(folder, PASSPHRASE) as vault:
                while len(expected) < 40:
                    new_id = add_capture(vault)
                    expected[new_id] = vault.capture(new_id).sha256
        if op in ("passwd", "rekey"):
            extra = other
        seen = run_and_kill(folder, current, op, round_no, extra, rng)
        rounds_with_work += bool(seen.done)
        rounds_cut += seen.in_progress is not None

        vault, working = unlock(folder, passphrases if op in ("passwd", "rekey")
                                else (PASSPHRASE,))
        with vault:
            promised = dict(expected)
            maybe_new = 0
            if op in ("capture", "import"):
                promised |= {int(cid): sha for cid, sha in seen.done}
                maybe_new = 1 if seen.in_progress is not None else 0
            elif op == "delete":
                for (cid,) in seen.done:
                    promised.pop(int(cid))
                if seen.in_progress:
                    promised.pop(int(seen.in_progress[0]))
            stored = check_vault(vault, promised)
            unexpected = set(stored) - set(promised)
            if op == "delete":
                gone = {int(cid) for (cid,) in seen.done}
                assert not gone & set(stored), "a deletion reported done did not stick"
                assert unexpected <= {int(seen.in_progress[0])} if seen.in_progress else \
                    not unexpected
            else:
                assert len(unexpected) <= maybe_new, f"unreported captures {unexpected}"
            expected = stored

            if op == "edit":
                for cid, value in seen.done:
                    descriptions[int(cid)] = value
                now = {c.id: c.details.description for c in vault.captures()}
                for cid, value in now.items():
                    allowed = {descriptions[cid]}
                    if seen.in_progress and int(seen.in_progress[0]) == cid:
                        allowed.add(seen.in_progress[1])
                    assert value in allowed, (cid, value, allowed)
                descriptions = now
            elif op == "annotate":
                for cid, flag in seen.done:
                    annotated[int(cid)] = flag == "1"
                for c in vault.captures():
                    data = vault.annotations(c.id)
                    assert data is None or data["items"][0]["rect"] == [0, 0, 5, 5]
                    allowed = {annotated[c.id]}
                    if seen.in_progress and int(seen.in_progress[0]) == c.id:
                        allowed.add(seen.in_progress[1] == "1")
                    assert (data is not None) in allowed, (c.id, allowed)
                    annotated[c.id] = data is not None
            elif op == "export":
                out = Path(extra)
                done_names = {name for (name,) in seen.done}
                for path in list(stale):  # the next export of that name sweeps it away
                    if stale[path] in done_names:
                        assert not path.exists(), f"{path.name} was not cleaned up"
                        del stale[path]
                for path in out.iterdir():
                    if path.name.startswith("."):
                        match = STALE_TEMP.match(path.name)
                        assert match, f"unexpected file {path.name}"
                        stale[path] = match.group(1)
                    else:  # anything under a final name is a whole, sealed bundle
                        assert bundle_check.verify_bundle(path).ok, path.name
                for name in done_names:
                    assert (out / name).is_file()
            elif op == "passwd":
                if seen.done and seen.in_progress is None:  # passphrases hold spaces
                    assert working == " ".join(seen.done[-1])
                elif not seen.done and seen.in_progress is None:
                    assert working == current
                keyfile = KeyFile.load(folder)
                assert keyfile.unlock_with_recovery(recovery) == \
                    keyfile.unlock_with_passphrase(working)
                current = working
                other = SECOND_PASSPHRASE if working == PASSPHRASE else PASSPHRASE
            elif op == "rekey":
                # Each call reports the new recovery key and passphrase; a call cut off
                # past its commit point leaves the new passphrase and a recovery key
                # nobody saw (the dialog and the docs say so).
                keyfile = KeyFile.load(folder)
                if seen.done and seen.in_progress is None:
                    assert working == " ".join(seen.done[-1][1:])
                elif not seen.done and seen.in_progress is None:
                    assert working == current
                if seen.done:
                    recovery = seen.done[-1][0]
                if seen.in_progress is not None and working == " ".join(seen.in_progress):
                    if recovery:
                        with pytest.raises(WrongSecret):  # the old one was revoked
                            keyfile.unlock_with_recovery(recovery)
                    recovery = ""
                if recovery:
                    assert keyfile.unlock_with_recovery(recovery) == \
                        keyfile.unlock_with_passphrase(working)
                current = working
                other = SECOND_PASSPHRASE if working == PASSPHRASE else PASSPHRASE

    if op == "export" and stale:
        with Vault.open(folder, PASSPHRASE) as vault:
            for path, name in list(stale.items()):
                bundle.export_bundle(vault, Path(extra) / name)
                assert not path.exists(), f"{path.name} was not cleaned up"
        assert not [p for p in Path(extra).iterdir() if p.name.startswith(".")]
    print(f"{op}: {KILLS_PER_OPERATION} kills, {rounds_cut} in the middle of a call, "
          f"{rounds_with_work} after finishing at least one")
    assert rounds_with_work >= KILLS_PER_OPERATION // 3, "the child rarely finished a call"


# ---------------------------------------------------------------------- full disk


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path | None]:
    """A 4 MB tmpfs to fill up, or None where it cannot be mounted (not root)."""
    mount_point = tmp_path / "small-disk"
    mount_point.mkdir()
    if os.geteuid() != 0 or not shutil.which("mount"):
        yield None
        return
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m,mode=0700", "tmpfs",
                           str(mount_point)], capture_output=True, check=False)
    if done.returncode != 0:
        yield None
        return
    try:
        yield mount_point
    finally:
        if subprocess.run(["umount", str(mount_point)], check=False).returncode != 0:
            subprocess.run(["umount", "-l", str(mount_point)], check=False)


def fill(folder: Path, leave: int = 0) -> Path:
    """Fill the filesystem under ``folder``, leaving about ``leave`` bytes free."""
    filler = folder / "filler"
    with filler.open("wb") as fh:
        for block in (256 * 1024, 4096, 512):
            while True:
                free = os.statvfs(folder).f_bavail * os.statvfs(folder).f_frsize
                if free - block < leave:
                    break
                try:
                    fh.write(b"\0" * block)
                    fh.flush()
                except OSError as exc:
                    assert exc.errno == errno.ENOSPC
                    break
    return filler


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp")
                  or p.suffix == ".zip")


def test_full_disk_capture_and_import_save_nothing_and_lose_nothing(
        small_disk: Path | None, tmp_path: Path) -> None:
    if small_disk is None:
        pytest.skip("no tmpfs here (not root); test_file_size_limit_fallback stands in")
    folder = small_disk / "vault"
    vault, _ = Vault.create(folder, PASSPHRASE, kdf=FAST_KDF)
    with vault:
        before = {cid: vault.capture(cid).sha256 for cid in (add_capture(vault),
                                                            add_capture(vault))}
        filler = fill(small_disk)
        big = capture.grab(capture.FakeGrabber(Image.effect_noise((700, 500), 90)
                                               .convert("RGB")))
        with pytest.raises(EvidenceError, match="disk is full"):
            recorder.save_grab(vault, big, CaptureDetails(description="too big"))
        picture = tmp_path / "phone.png"  # outside the full disk, as on a phone
        picture.write_bytes(noise_png((700, 500), 90))
        with pytest.raises(EvidenceError, match="disk is full"):
            recorder.import_files(vault, [picture])
        assert vault.verify().ok
        assert {c.id: c.sha256 for c in vault.captures()} == before
        assert not [p for p in folder.iterdir() if p.name.endswith(".tmp")]

    # The command line says the same in one plain line.
    result = run_cli("import", str(picture), env={"EVIDENCE_RECORDER_VAULT": str(folder),
                                                  "EVIDENCE_RECORDER_PASSPHRASE": PASSPHRASE})
    assert result.returncode == 1
    assert "disk is full" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1

    filler.unlink()  # space again: everything is still there and saving works
    with Vault.open(folder, PASSPHRASE) as vault:
        assert {c.id: c.sha256 for c in vault.captures()} == before
        recorder.save_grab(vault, big)
        assert vault.verify().ok


def test_full_disk_export_leaves_no_partial_bundle(small_disk: Path | None,
                                                   closed_vault: Path) -> None:
    if small_disk is None:
        pytest.skip("no tmpfs here (not root); test_file_size_limit_fallback stands in")
    with Vault.open(closed_vault, PASSPHRASE) as vault:
        for _ in range(3):
            add_capture(vault, (500, 400))
        hashes = {c.id: c.sha256 for c in vault.captures()}
        fill(small_disk, leave=300 * 1024)  # room to start the bundle, not to finish it
        with pytest.raises(EvidenceError, match="disk is full"):
            bundle.export_bundle(vault, small_disk / "bundle.zip")
        assert leftovers(small_disk) == []
        assert vault.verify().ok
        assert {c.id: c.sha256 for c in vault.captures()} == hashes
    result = run_cli("export", "--out", str(small_disk / "bundle.zip"),
                     env={"EVIDENCE_RECORDER_VAULT": str(closed_vault),
                          "EVIDENCE_RECORDER_PASSPHRASE": PASSPHRASE})
    assert result.returncode == 1
    assert "disk is full" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert leftovers(small_disk) == []


def test_full_disk_backup_leaves_nothing_behind(small_disk: Path | None,
                                                closed_vault: Path) -> None:
    if small_disk is None:
        pytest.skip("no tmpfs here (not root); test_file_size_limit_fallback stands in")
    with Vault.open(closed_vault, PASSPHRASE) as vault:
        for _ in range(3):
            add_capture(vault, (500, 400))
        fill(small_disk, leave=200 * 1024)
        with pytest.raises(EvidenceError, match="disk is full"):
            backup.make_backup(vault, small_disk / "vault.erbackup")
        assert sorted(p.name for p in small_disk.iterdir()) == ["filler"]
        assert vault.verify().ok


_LIMITED_CHILD = r"""
import resource, signal, sys
from pathlib import Path
from PIL import Image
from evidence_recorder.core.bundle import seal as bundle
from evidence_recorder.core.gather import capture
from evidence_recorder.core.gather import recorder
from evidence_recorder.core.errors import EvidenceError
from evidence_recorder.core.vault.store import Vault

folder, passphrase, op, out, limit = sys.argv[1:6]
vault = Vault.open(folder, passphrase)
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (int(limit), int(limit)))
try:
    if op == "capture":
        image = Image.effect_noise((900, 700), 90).convert("RGB")
        recorder.save_grab(vault, capture.grab(capture.FakeGrabber(image)))
    else:
        bundle.export_bundle(vault, Path(out))
except EvidenceError as exc:
    print("refused:", exc.message)
else:
    print("saved")
vault.close()
"""


@pytest.mark.parametrize("op", ["capture", "export"])
def test_file_size_limit_fallback(op: str, closed_vault: Path, tmp_path: Path) -> None:
    """Where no small disk can be mounted, a per-process file size limit plays the full disk."""
    with Vault.open(closed_vault, PASSPHRASE) as vault:
        for _ in range(2):
            add_capture(vault, (400, 300))
        hashes = {c.id: c.sha256 for c in vault.captures()}
    biggest = max(p.stat().st_size for p in closed_vault.iterdir())
    out = tmp_path / "out"
    out.mkdir()
    limit = biggest + 64 * 1024 if op == "capture" else 100 * 1024
    done = subprocess.run([sys.executable, "-c", _LIMITED_CHILD, str(closed_vault), PASSPHRASE,
                           op, str(out / "bundle.zip"), str(limit)],
                          cwd=REPO, capture_output=True, text=True, timeout=120, check=False)
    assert "Traceback" not in done.stderr, done.stderr
    assert done.stdout.startswith("refused: "), done.stdout
    assert len(done.stdout.strip().splitlines()) == 1
    assert leftovers(out) == []
    with Vault.open(closed_vault, PASSPHRASE) as vault:
        assert vault.verify().ok
        assert {c.id: c.sha256 for c in vault.captures()} == hashes


# ---------------------------------------------------------------------- two instances


def test_the_cli_is_refused_while_another_process_holds_the_vault(closed_vault: Path) -> None:
    with Vault.open(closed_vault, PASSPHRASE) as vault:
        kept = add_capture(vault, (300, 200))
        sha = vault.capture(kept).sha256
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys\nfrom evidence_recorder.core.vault.store import Vault\n"
         "v = Vault.open(sys.argv[1], sys.argv[2])\nprint('open', flush=True)\n"
         "sys.stdin.read()\nv.close()\n", str(closed_vault), PASSPHRASE],
        cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
        env = {"EVIDENCE_RECORDER_VAULT": str(closed_vault),
               "EVIDENCE_RECORDER_PASSPHRASE": PASSPHRASE}
        for args in (("list",), ("edit", str(kept), "--note", "second copy")):
            result = run_cli(*args, env=env)
            assert result.returncode == 1, result
            assert len(result.stderr.strip().splitlines()) == 1
            assert "already open" in result.stderr
            assert "Traceback" not in result.stderr
    finally:
        holder.communicate("", timeout=60)
    assert holder.returncode == 0
    with Vault.open(closed_vault, PASSPHRASE) as vault:
        assert vault.verify().ok
        assert vault.capture(kept).sha256 == sha
        assert vault.capture(kept).details.description == ""


# ---------------------------------------------------------------------- damage


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _flip(offset_of: int) -> object:
    def damage(path: Path) -> None:
        data = bytearray(path.read_bytes())
        where = offset_of if offset_of >= 0 else len(data) + offset_of
        data[where] ^= 0x10
        path.write_bytes(bytes(data))
    return damage


DAMAGE = {
    "database truncated": (DB_NAME, _truncate),
    "database emptied": (DB_NAME, lambda p: p.write_bytes(b"")),
    "database first page flipped": (DB_NAME, _flip(200)),
    "key file truncated": (KEYFILE_NAME, _truncate),
    "key file flipped": (KEYFILE_NAME, _flip(-40)),
}
PAGE = 4096  # SQLCipher's page size


def _snapshot_and_backup(folder: Path, tmp_path: Path) -> tuple[dict[int, tuple[str, bytes]],
                                                                 Path]:
    with Vault.open(folder, PASSPHRASE) as vault:
        for n in range(3):
            add_capture(vault, (300, 200), note=f"kept {n}")
        before = {c.id: (c.sha256, vault.original(c.id)) for c in vault.captures()}
        saved = backup.make_backup(vault, tmp_path / "earlier.erbackup")
    return before, saved


def _restore_brings_back(saved: Path, before: dict[int, tuple[str, bytes]],
                         tmp_path: Path) -> None:
    restored = tmp_path / "restored"
    result = run_cli("backup", "--restore", str(saved), "--to", str(restored))
    assert result.returncode == 0, result.stderr
    with Vault.open(restored, PASSPHRASE) as vault:
        assert vault.verify().ok
        assert {c.id: (c.sha256, vault.original(c.id)) for c in vault.captures()} == before


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_damaged_vault_is_left_alone_and_a_backup_brings_it_back(
        damage: str, closed_vault: Path, tmp_path: Path) -> None:
    before, saved = _snapshot_and_backup(closed_vault, tmp_path)
    name, spoil = DAMAGE[damage]
    spoil(closed_vault / name)  # type: ignore[operator]
    damaged = file_hashes(closed_vault)
    env = {"EVIDENCE_RECORDER_VAULT": str(closed_vault),
           "EVIDENCE_RECORDER_PASSPHRASE": PASSPHRASE}
    for args in (("list",), ("audit", "--verify")):
        result = run_cli(*args, env=env)
        assert result.returncode == 1, (damage, result)
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert "Traceback" not in result.stderr and "bug" not in result.stderr
        assert "damaged" in result.stderr or "restore" in result.stderr.lower()
    with pytest.raises(VaultDamaged):
        Vault.open(closed_vault, PASSPHRASE)
    after = file_hashes(closed_vault)
    assert {k: v for k, v in after.items() if k in damaged} == damaged, "a file was rewritten"
    _restore_brings_back(saved, before, tmp_path)


def test_a_damaged_page_deep_inside_is_found_by_verify_and_not_overwritten(
        closed_vault: Path, tmp_path: Path) -> None:
    """A flipped bit in a page that opening does not read (an original's bytes).

    The vault still opens (opening only reads what it needs), so the damage shows up
    when the vault is checked, and the damaged page itself is never rewritten.
    """
    before, saved = _snapshot_and_backup(closed_vault, tmp_path)
    db = closed_vault / DB_NAME
    data = bytearray(db.read_bytes())
    where = len(data) - 2000  # inside the last page: the newest capture's original
    data[where] ^= 0x10
    db.write_bytes(bytes(data))
    page = slice(where - where % PAGE, where - where % PAGE + PAGE)
    damaged_page = bytes(data[page])
    keyfile = (closed_vault / KEYFILE_NAME).read_bytes()

    result = run_cli("audit", "--verify", env={"EVIDENCE_RECORDER_VAULT": str(closed_vault),
                                               "EVIDENCE_RECORDER_PASSPHRASE": PASSPHRASE})
    assert result.returncode == 1, result
    assert "Traceback" not in result.stderr and "bug" not in result.stderr
    assert "damaged" in result.stderr or "no longer matches" in result.stderr
    assert db.read_bytes()[page] == damaged_page
    assert (closed_vault / KEYFILE_NAME).read_bytes() == keyfile
    _restore_brings_back(saved, before, tmp_path)
