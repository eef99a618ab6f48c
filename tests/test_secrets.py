"""Keys and secrets: bundle passphrases, key-file bounds, safe temp files, CLI hygiene.

Each test reproduces an attack or a failure that the code before issue 9 let through.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
from conftest import BUNDLE_PASSPHRASE, FAST_KDF, PASSPHRASE, REPO, run_cli
from test_cli import assert_plain_error, make_png
from test_vault import add, png_bytes

from evidence_recorder import cli as er_cli
from evidence_recorder.core import fsutil, passphrase
from evidence_recorder.core.bundle.check import verify_bundle
from evidence_recorder.core.bundle.seal import ExportOptions, export_bundle
from evidence_recorder.core.errors import RefusedInput, VaultDamaged
from evidence_recorder.core.paths import KEYFILE_NAME
from evidence_recorder.core.vault import keyfile
from evidence_recorder.core.vault.keyfile import KdfParams, KeyFile
from evidence_recorder.core.vault.store import Vault

WORDLIST = REPO / "resources" / "wordlists"
# Accepted by the code before issue 9 (eight characters or more), and easy to guess.
WEAK_BUNDLE_PASSPHRASES = ["river stone 88", "password1", "correct horse battery staple",
                           "Summer2026!", "aaaaaaaaaaaaaaaaaaaaaa"]


# ---------------------------------------------------------------- bundle passphrases


def test_the_word_list_is_the_eff_list_its_licence_file_names() -> None:
    raw = (WORDLIST / passphrase.WORDLIST_FILE).read_bytes()
    licence = (WORDLIST / "LICENSE").read_text(encoding="utf-8")
    assert hashlib.sha256(raw).hexdigest() in licence
    assert "CC BY 3.0 US" in licence and "Electronic Frontier Foundation" in licence
    words = passphrase.wordlist()
    assert len(words) == len(set(words)) == 7776
    assert words[0] == "abacus" and words[-1] == "zoom"


def test_generated_passphrases_are_six_random_words_over_the_bar() -> None:
    words = set(passphrase.wordlist())
    made = [passphrase.generate_passphrase() for _ in range(20)]
    assert len(set(made)) == len(made)
    for text in made:
        assert len(text.split(" ")) == 6 and set(text.split(" ")) <= words
        assert passphrase.bundle_passphrase_problem(text) is None
    assert round(passphrase.BUNDLE_MIN_GUESSES_LOG10, 2) == 19.45  # five words
    with pytest.raises(ValueError):
        passphrase.generate_passphrase(4)


@pytest.mark.parametrize("weak", WEAK_BUNDLE_PASSPHRASES)
def test_a_weak_chosen_bundle_passphrase_is_refused(weak: str, vault: Vault,
                                                    tmp_path: Path) -> None:
    assert passphrase.bundle_passphrase_problem(weak) == passphrase.BUNDLE_TOO_WEAK
    add(vault, png_bytes())
    with pytest.raises(RefusedInput, match="too easy to guess"):
        export_bundle(vault, tmp_path / "weak.zip", options=ExportOptions(passphrase=weak))
    assert not [p for p in tmp_path.iterdir() if p.suffix in (".zip", ".tmp")]


def test_a_strong_chosen_bundle_passphrase_is_accepted(vault: Vault, tmp_path: Path) -> None:
    add(vault, png_bytes())
    path = export_bundle(vault, tmp_path / "ok.zip",
                         options=ExportOptions(passphrase=BUNDLE_PASSPHRASE))
    assert verify_bundle(path, BUNDLE_PASSPHRASE).ok


def test_cli_encrypt_makes_a_passphrase_and_says_to_send_it_apart(  # type: ignore[no-untyped-def]
        cli, tmp_path: Path) -> None:
    make_png(tmp_path / "a.png")
    assert cli("import", str(tmp_path / "a.png")).returncode == 0
    out = tmp_path / "locked.zip"
    done = cli("export", "--out", str(out), "--encrypt")
    assert done.returncode == 0, done.stderr
    assert "never in the same e-mail" in done.stdout and "phone" in done.stdout
    shown = re.search(r"shown only this once\):\n\n {4}(.+)\n", done.stdout)
    assert shown, done.stdout
    made = shown.group(1)
    assert len(made.split()) == 6 and set(made.split()) <= set(passphrase.wordlist())
    assert done.stdout.count(made) == 1  # shown once, not echoed again
    with zipfile.ZipFile(out) as zf:
        assert all(info.flag_bits & 0x1 for info in zf.infolist())
    assert run_cli("verify", str(out),
                   env={"EVIDENCE_RECORDER_BUNDLE_PASSPHRASE": made}).returncode == 0


def test_cli_refuses_a_weak_bundle_passphrase_with_exit_2(  # type: ignore[no-untyped-def]
        cli, tmp_path: Path) -> None:
    make_png(tmp_path / "a.png")
    assert cli("import", str(tmp_path / "a.png")).returncode == 0
    out = tmp_path / "weak.zip"
    done = cli("export", "--out", str(out), "--encrypt",
               env={"EVIDENCE_RECORDER_BUNDLE_PASSPHRASE": "river stone 88"})
    assert done.returncode == er_cli.EXIT_USAGE
    assert "too easy to guess" in done.stderr and "made for you" in done.stderr
    assert_plain_error(done.stderr)
    assert not out.exists()


# ---------------------------------------------------------------- key-file bounds

DAMAGED_KEY_PARAMS = [
    {"time_cost": 11},
    {"time_cost": 10**9},
    {"time_cost": 0},
    {"memory_cost": 32 * 1024},  # 32 MiB
    {"memory_cost": 2 * 1024 * 1024},  # 2 GiB
    {"memory_cost": 4 * 1024 * 1024},  # 4 GiB: the old limit let this through
    {"memory_cost": 2**40},
    {"parallelism": 0},
    {"parallelism": 17},
    {"parallelism": 2**31},
    {"time_cost": True},
    {"memory_cost": "65536"},
]


MADE, _ = KeyFile.create(os.urandom(32), PASSPHRASE, FAST_KDF)


def _keyfile(**changes: Any) -> KeyFile:
    return dataclasses.replace(MADE, passphrase_slot={**MADE.passphrase_slot, **changes})


@pytest.fixture
def product_bounds(monkeypatch: pytest.MonkeyPatch) -> None:
    """The product's reading floor (tests otherwise read FAST_KDF key files), and an
    Argon2 that fails the test if it is ever run."""
    monkeypatch.delenv(keyfile.TEST_TINY_KDF_ENV)

    def argon2_must_not_run(*_args: Any, **_kwargs: Any) -> bytes:
        raise AssertionError("Argon2 ran on costs that should have been refused first")

    monkeypatch.setattr(keyfile, "hash_secret_raw", argon2_must_not_run)


@pytest.mark.usefixtures("product_bounds")
@pytest.mark.parametrize("changes", DAMAGED_KEY_PARAMS, ids=lambda c: json.dumps(c))
def test_key_file_costs_out_of_bounds_mean_damage(changes: dict[str, Any]) -> None:
    raw = _keyfile(**changes).to_bytes()  # a valid checksum: damage the checksum misses
    with pytest.raises(VaultDamaged, match=r"key file .* is damaged"):
        KeyFile.from_bytes(raw)
    # A KeyFile made some other way is checked again before Argon2 runs.
    with pytest.raises(VaultDamaged, match=r"key file .* is damaged"):
        _keyfile(**changes).unlock_with_passphrase(PASSPHRASE)


@pytest.mark.usefixtures("product_bounds")
@pytest.mark.parametrize(("field", "size"), [("salt", 8), ("salt", 64), ("nonce", 16),
                                             ("wrapped", 16)])
def test_key_file_slots_of_the_wrong_size_mean_damage(field: str, size: int) -> None:
    for slot_name in ("passphrase_slot", "recovery_slot"):
        slot = {**getattr(MADE, slot_name), field: keyfile._b64(os.urandom(size))}
        damaged = dataclasses.replace(MADE, **{slot_name: slot})
        with pytest.raises(VaultDamaged, match="is damaged"):
            KeyFile.from_bytes(damaged.to_bytes())


@pytest.mark.usefixtures("product_bounds")
def test_product_costs_at_the_bounds_are_read() -> None:
    for params in (keyfile.KDF_FLOOR, KdfParams(10, 1024 * 1024, 16)):
        KeyFile.from_bytes(_keyfile(**params.as_dict()).to_bytes())


def test_an_argon2_error_means_damage_not_a_crash() -> None:
    # Within the (test) bounds, but Argon2 itself refuses: 8 KiB for four lanes.
    broken = _keyfile(memory_cost=8, parallelism=4)
    with pytest.raises(VaultDamaged, match="is damaged"):
        KeyFile.from_bytes(broken.to_bytes()).unlock_with_passphrase(PASSPHRASE)


def test_calibration_stays_within_what_is_read_back(monkeypatch: pytest.MonkeyPatch) -> None:
    # A machine so fast that Argon2 takes no time: passes must stop at the bound, or the
    # vault it creates could never be opened again.
    monkeypatch.setattr(keyfile, "derive_passphrase_key", lambda *_args: b"\0" * 32)
    params = keyfile.calibrate_kdf()
    assert params.time_cost == keyfile.READ_MAX_TIME_COST
    monkeypatch.delenv(keyfile.TEST_TINY_KDF_ENV)
    KeyFile.from_bytes(_keyfile(**params.as_dict()).to_bytes())


def test_cli_with_an_absurd_key_file_says_damaged_at_once(closed_vault: Path) -> None:
    path = closed_vault / KEYFILE_NAME
    planted = dataclasses.replace(
        KeyFile.from_bytes(path.read_bytes()), passphrase_slot={
            **KeyFile.from_bytes(path.read_bytes()).passphrase_slot,
            "time_cost": 1000, "memory_cost": 4 * 1024 * 1024})  # hours, and 4 GiB
    path.write_bytes(planted.to_bytes())
    done = run_cli("list", env={"EVIDENCE_RECORDER_VAULT": str(closed_vault),
                                "EVIDENCE_RECORDER_PASSPHRASE": PASSPHRASE})
    assert done.returncode == 1
    assert "key file (vault.key) is damaged" in done.stderr
    assert_plain_error(done.stderr)


# ---------------------------------------------------------------- safe temp files


def test_a_symlink_at_the_old_predictable_temp_name_is_not_followed(tmp_path: Path) -> None:
    victim = tmp_path / "elsewhere.txt"
    victim.write_bytes(b"someone else's file")
    folder = tmp_path / "out"
    folder.mkdir()
    target = folder / "settings.json"
    (folder / f".{target.name}.{os.getpid()}.tmp").symlink_to(victim)
    fsutil.atomic_write_bytes(target, b"ours")
    assert victim.read_bytes() == b"someone else's file"
    assert target.read_bytes() == b"ours" and not target.is_symlink()
    assert (target.stat().st_mode & 0o777) == 0o600


def test_a_temp_name_already_taken_is_never_opened(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    victim = tmp_path / "elsewhere.txt"
    victim.write_bytes(b"someone else's file")
    target = tmp_path / "vault.key"
    names = iter(["aaaa", "bbbb"])
    monkeypatch.setattr(fsutil.secrets, "token_hex", lambda _n: next(names))
    taken = tmp_path / ".vault.key.aaaa.tmp"
    taken.symlink_to(victim)  # planted at the very name the writer draws first
    fsutil.atomic_write_bytes(target, b"ours")
    assert victim.read_bytes() == b"someone else's file"
    assert taken.is_symlink() and target.read_bytes() == b"ours"


def test_two_writers_of_one_file_do_not_collide(tmp_path: Path) -> None:
    target = tmp_path / "report.zip"
    with fsutil.atomic_writer(target) as first, fsutil.atomic_writer(target) as second:
        first.write(b"A" * 5000)
        second.write(b"B" * 3000)
    assert target.read_bytes() == b"A" * 5000  # the last to finish wins, whole
    assert [p.name for p in tmp_path.iterdir()] == ["report.zip"]


def test_stale_random_temps_are_still_swept(tmp_path: Path) -> None:
    target = tmp_path / "b.zip"
    left = [fsutil.temp_path_for(target) for _ in range(3)]
    assert len(set(left)) == 3
    for path in left:
        path.write_bytes(b"half")
    other = tmp_path / ".other.zip.1234.tmp"
    other.write_bytes(b"not ours")
    fsutil.remove_stale_temps(tmp_path, target.name)
    assert sorted(p.name for p in tmp_path.iterdir()) == [other.name]


# ---------------------------------------------------------------- CLI hygiene


def test_cli_refuses_a_passphrase_file_that_is_not_utf8(  # type: ignore[no-untyped-def]
        cli, tmp_path: Path) -> None:
    secret = tmp_path / "passphrase.txt"
    secret.write_bytes(PASSPHRASE.encode("latin-1") + b"\xe9\xff\n")
    done = cli("list", "--passphrase-file", str(secret))
    assert done.returncode == 2
    assert "The passphrase file is not UTF-8 text" in done.stderr
    assert_plain_error(done.stderr)
    assert "bug" not in done.stderr


def test_secret_variables_leave_the_environment(closed_vault: Path,
                                                monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv(er_cli.PASSPHRASE_ENV, PASSPHRASE)
    monkeypatch.setenv(er_cli.NEW_PASSPHRASE_ENV, "a new one")
    monkeypatch.setenv(er_cli.RECOVERY_KEY_ENV, "AAAA-BBBB")
    monkeypatch.setenv(er_cli.BUNDLE_PASSPHRASE_ENV, BUNDLE_PASSPHRASE)
    assert er_cli.main(["--vault", str(closed_vault), "list"]) == 0  # it read the passphrase
    assert "No captures yet." in capsys.readouterr().out
    assert not [name for name in er_cli.SECRET_ENVS if name in os.environ]
    # Gone from the process's real environment too, not only from the os.environ mapping.
    child = subprocess.run(["env"], capture_output=True, text=True, check=True)
    assert "EVIDENCE_RECORDER_" not in child.stdout
    assert er_cli._env_secret(er_cli.BUNDLE_PASSPHRASE_ENV) == BUNDLE_PASSPHRASE


_CLI_START = """
import json, os, resource, sys
resource.setrlimit(resource.RLIMIT_CORE, (1 << 20, resource.RLIM_INFINITY))
from evidence_recorder import cli
code = cli.main(["--vault", sys.argv[1], "list"])
print(json.dumps({"code": code, "core": list(resource.getrlimit(resource.RLIMIT_CORE)),
                  "env": [n for n in cli.SECRET_ENVS if n in os.environ]}))
"""


def test_the_cli_forbids_core_dumps_first(tmp_path: Path) -> None:
    env = {**os.environ, er_cli.PASSPHRASE_ENV: PASSPHRASE}
    done = subprocess.run([sys.executable, "-c", _CLI_START, str(tmp_path / "none")],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=60,
                          check=True)
    seen = json.loads(done.stdout.splitlines()[-1])
    assert seen["code"] == 1  # no vault there: it failed, after forbidding dumps anyway
    assert seen["core"] == [0, 0]
    assert seen["env"] == []
