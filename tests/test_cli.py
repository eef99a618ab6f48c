"""The command line as scripts use it: exit codes, JSON, plain one-line errors."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import pytest
from conftest import BUNDLE_PASSPHRASE, PASSPHRASE, run_cli
from PIL import Image

NEW = "seventeen quiet herons"


def assert_plain_error(stderr: str) -> None:
    assert "Traceback" not in stderr
    assert len(stderr.strip().splitlines()) == 1, stderr


def make_png(path: Path, colour: tuple[int, int, int] = (10, 120, 200)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (120, 80), colour).save(buf, "PNG")
    path.write_bytes(buf.getvalue())
    return buf.getvalue()


def test_help_lists_the_commands() -> None:
    result = run_cli("--help")
    assert result.returncode == 0
    assert "capture" in result.stdout and "import" in result.stdout


def test_no_command_without_a_desktop_says_so() -> None:
    result = run_cli(env={"DISPLAY": "", "WAYLAND_DISPLAY": "", "QT_QPA_PLATFORM": ""})
    assert result.returncode == 1
    assert "needs a desktop" in result.stderr
    assert_plain_error(result.stderr)


def test_every_command_has_help() -> None:
    for command in ("init", "capture", "import", "list", "show", "edit", "extract", "delete",
                    "incident", "audit", "passwd", "recover"):
        result = run_cli(command, "--help")
        assert result.returncode == 0, command
        assert "usage:" in result.stdout


def test_usage_errors_exit_2(cli) -> None:  # type: ignore[no-untyped-def]
    for args in (["frobnicate"], ["show"], ["show", "abc"], ["delete", "1"],
                 ["capture", "--monitor", "1", "--region", "0,0,5,5"],
                 ["edit", "1", "--category", "rude"]):
        result = cli(*args)
        assert result.returncode == 2, args
        assert_plain_error(result.stderr)


def test_init_prints_the_recovery_key_once(tmp_path: Path) -> None:
    folder = tmp_path / "v"
    result = run_cli("init", "--vault", str(folder),
                     env={"EVIDENCE_RECORDER_PASSPHRASE": PASSPHRASE})
    assert result.returncode == 0, result.stderr
    key = next(line.strip() for line in result.stdout.splitlines() if line.count("-") == 7)
    again = run_cli("init", "--vault", str(folder),
                    env={"EVIDENCE_RECORDER_PASSPHRASE": PASSPHRASE})
    assert again.returncode == 4
    assert_plain_error(again.stderr)
    recovered = run_cli("recover", "--vault", str(folder),
                        env={"EVIDENCE_RECORDER_RECOVERY_KEY": key,
                             "EVIDENCE_RECORDER_NEW_PASSPHRASE": NEW})
    assert recovered.returncode == 0, recovered.stderr
    assert run_cli("list", "--vault", str(folder),
                   env={"EVIDENCE_RECORDER_PASSPHRASE": NEW}).returncode == 0


def test_init_refuses_a_weak_passphrase(tmp_path: Path) -> None:
    result = run_cli("--vault", str(tmp_path / "v"), "init",
                     env={"EVIDENCE_RECORDER_PASSPHRASE": "secret"})
    assert result.returncode == 4
    assert "at least 12 characters" in result.stderr
    assert not (tmp_path / "v").exists()


def test_wrong_passphrase_exits_3(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli("list", env={"EVIDENCE_RECORDER_PASSPHRASE": "not it at all"})
    assert result.returncode == 3
    assert result.stderr.strip() == "That passphrase does not open this vault."
    secret = tmp_path / "pass.txt"
    secret.write_text(PASSPHRASE + "\n")
    assert cli("list", "--passphrase-file", str(secret),
               env={"EVIDENCE_RECORDER_PASSPHRASE": "ignored"}).returncode == 0


def test_no_vault_yet(tmp_path: Path) -> None:
    result = run_cli("list", "--vault", str(tmp_path / "none"),
                     env={"EVIDENCE_RECORDER_PASSPHRASE": PASSPHRASE})
    assert result.returncode == 1
    assert "evidence-recorder init" in result.stderr
    assert_plain_error(result.stderr)


def test_no_passphrase_and_no_terminal(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("list", env={"EVIDENCE_RECORDER_PASSPHRASE": ""})
    assert result.returncode == 3  # an empty passphrase is simply wrong
    import os
    env = {k: v for k, v in os.environ.items() if k != "EVIDENCE_RECORDER_PASSPHRASE"}
    result = run_cli("list", "--vault", "/nonexistent-folder-for-test", env=env)
    assert result.returncode in (1, 2)
    assert_plain_error(result.stderr)


def test_import_list_show_edit_extract_delete(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    a = make_png(tmp_path / "a.png")
    make_png(tmp_path / "b.png", (0, 0, 0))
    (tmp_path / "notes.txt").write_text("not a picture")
    result = cli("import", str(tmp_path / "a.png"), str(tmp_path / "notes.txt"),
                 str(tmp_path / "b.png"), "--site", "Instagram", "--url",
                 "https://instagram.com/p/xyz", "--note", "Comment under my photo")
    assert result.returncode == 4  # one file refused, the others saved
    assert "notes.txt" in result.stderr
    assert result.stdout.count("Saved capture") == 2

    listed = json.loads(cli("list", "--json").stdout)
    assert len(listed) == 2
    first = listed[0]
    assert first["kind"] == "import" and first["site"] == "Instagram"
    assert first["sha256"] == hashlib.sha256(a).hexdigest()
    assert first["captured_at"].endswith("Z")
    assert (first["width"], first["height"]) == (120, 80)
    assert first["note"] == "Comment under my photo"

    shown = json.loads(cli("show", str(first["id"]), "--json").stdout)
    assert shown["source"]["file_name"] == "a.png"
    assert "Instagram" in cli("show", str(first["id"])).stdout

    edited = cli("edit", str(first["id"]), "--author", "Sam", "--category", "harassment")
    assert edited.returncode == 0, edited.stderr
    audit = json.loads(cli("audit", "--json").stdout)["entries"]
    changes = next(e for e in audit if e["action"] == "capture.edited")["details"]["changes"]
    assert changes["author"] == {"old": "", "new": "Sam"}

    out = tmp_path / "out.png"
    assert cli("extract", str(first["id"]), "--out", str(out)).returncode == 0
    assert out.read_bytes() == a
    assert cli("extract", str(first["id"]), "--out", str(out)).returncode == 4

    assert cli("delete", str(listed[1]["id"]), "--reason", "duplicate").returncode == 0
    assert len(json.loads(cli("list", "--json").stdout)) == 1
    missing = cli("show", str(listed[1]["id"]))
    assert missing.returncode == 1
    assert_plain_error(missing.stderr)

    verified = cli("audit", "--verify", "--json")
    assert verified.returncode == 0
    assert json.loads(verified.stdout)["verify"]["ok"] is True


def test_incidents(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("incident", "new", "--title", "Fake profile on TikTok")
    assert result.returncode == 0, result.stderr
    incidents = json.loads(cli("incident", "list", "--json").stdout)
    assert [i["title"] for i in incidents] == ["Unsorted captures", "Fake profile on TikTok"]
    assert cli("list", "--incident", "99").returncode == 1


def test_passwd(cli) -> None:  # type: ignore[no-untyped-def]
    weak = cli("passwd", env={"EVIDENCE_RECORDER_NEW_PASSPHRASE": "abc"})
    assert weak.returncode == 4
    result = cli("passwd", env={"EVIDENCE_RECORDER_NEW_PASSPHRASE": NEW})
    assert result.returncode == 0, result.stderr
    assert cli("list").returncode == 3
    assert cli("list", env={"EVIDENCE_RECORDER_PASSPHRASE": NEW}).returncode == 0


@pytest.mark.parametrize("bad", ["1,2,3", "a,b,c,d", "0,0,0,10", "0,0,-5,10"])
def test_bad_region_is_refused(cli, bad: str) -> None:  # type: ignore[no-untyped-def]
    result = cli("capture", "--region", bad)
    assert result.returncode in (2, 4)
    assert_plain_error(result.stderr)


def test_capture_without_a_display_fails_plainly(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("capture", env={"DISPLAY": "", "WAYLAND_DISPLAY": ""})
    assert result.returncode == 1
    assert "screen" in result.stderr.lower()
    assert_plain_error(result.stderr)


def test_export_and_verify(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    make_png(tmp_path / "a.png")
    assert cli("import", str(tmp_path / "a.png"), "--site", "TikTok").returncode == 0
    out = tmp_path / "bundle.zip"
    done = cli("export", "--out", str(out), "--name", "A. Teacher", "--role", "Teacher")
    assert done.returncode == 0, done.stderr
    assert "SHA256:" in done.stdout
    assert cli("export", "--out", str(out)).returncode == 4  # exists
    checked = run_cli("verify", str(out))
    assert checked.returncode == 0, checked.stderr
    assert "intact" in checked.stdout
    report = json.loads(run_cli("verify", str(out), "--json").stdout)
    assert report["ok"] is True and report["fingerprint"].startswith("SHA256:")

    import zipfile
    tampered = tmp_path / "tampered.zip"
    with zipfile.ZipFile(out) as src, zipfile.ZipFile(tampered, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename.endswith("original.png"):
                data = data[:-1] + bytes([data[-1] ^ 1])
            dst.writestr(info, data)
    bad = run_cli("verify", str(tampered))
    assert bad.returncode == 1
    assert "original.png has been changed" in bad.stderr
    assert "Traceback" not in bad.stderr
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"not a zip at all")
    assert run_cli("verify", str(junk)).returncode == 1


def test_encrypted_export_needs_its_passphrase(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    make_png(tmp_path / "a.png")
    assert cli("import", str(tmp_path / "a.png")).returncode == 0
    out = tmp_path / "secret.zip"
    secret = {"EVIDENCE_RECORDER_BUNDLE_PASSPHRASE": BUNDLE_PASSPHRASE}
    assert cli("export", "--out", str(out), "--encrypt", env=secret).returncode == 0
    assert run_cli("verify", str(out), env=secret).returncode == 0
    wrong = run_cli("verify", str(out), env={"EVIDENCE_RECORDER_BUNDLE_PASSPHRASE": "nope nope"})
    assert wrong.returncode == 3
    assert_plain_error(wrong.stderr)


def test_handle_option_stores_and_shows_at_name(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    make_png(tmp_path / "a.png")
    result = cli("import", str(tmp_path / "a.png"), "--handle", "samj")
    assert result.returncode == 0, result.stderr
    capture_id = json.loads(cli("list", "--json").stdout)[0]["id"]

    def handle() -> str:
        return str(json.loads(cli("show", str(capture_id), "--json").stdout)["details"]["handle"])

    assert handle() == "@samj"
    assert "@samj" in cli("show", str(capture_id)).stdout
    assert cli("edit", str(capture_id), "--handle", " @@Sam_J ").returncode == 0
    assert handle() == "@Sam_J"
    refused = cli("edit", str(capture_id), "--handle", "sam j")
    assert refused.returncode == 4 and "no spaces" in refused.stderr
