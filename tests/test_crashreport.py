"""One crash report for the CLI and the app: the same writer, the same log, no messages.

A bug's report may be sent to the developers, so it says where the fault happened and
never what the exception's message says (it could quote a URL, a note, a passphrase).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from evidence_recorder import __version__, cli
from evidence_recorder.cli import evidence_commands
from evidence_recorder.core import crashreport, paths

SECRET = "https://secret.example/post/1 note text plum orchard"  # as evidence always is


class _Boom(RuntimeError):
    pass


def _raise_chain() -> BaseException:
    try:
        try:
            raise KeyError(SECRET)
        except KeyError as inner:
            raise _Boom(SECRET) from inner
    except _Boom as exc:
        return exc


def test_the_report_names_each_cause_and_where_but_no_message() -> None:
    report = crashreport.format_report(_raise_chain())
    assert f"Evidence Recorder {__version__} on " in report
    assert "builtins.KeyError" in report
    assert "test_crashreport._Boom" in report
    assert report.index("builtins.KeyError") < report.index("_Boom")  # oldest first
    assert "_raise_chain" in report  # the frames
    assert "secret.example" not in report and "plum" not in report


def test_a_sqlite_error_is_named_by_its_code_not_its_text() -> None:
    import sqlcipher3

    conn = sqlcipher3.connect(":memory:")
    try:
        conn.execute(f"SELECT * FROM \"{SECRET}\"")
    except sqlcipher3.Error as exc:
        report = crashreport.format_report(exc)
    finally:
        conn.close()
    assert "(SQLITE_ERROR)" in report
    assert "secret.example" not in report


def test_the_log_is_where_paths_says_in_a_private_folder(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    written = crashreport.write_report(crashreport.format_report(_raise_chain()))
    assert written == paths.crash_log()
    assert written.is_relative_to(tmp_path / "state")
    assert written.parent.stat().st_mode & 0o077 == 0
    crashreport.write_report("second\n")
    text = written.read_text(encoding="utf-8")
    assert text.count("--- crash ") == 2  # appended, never overwritten


def _cli_bug(monkeypatch: pytest.MonkeyPatch) -> None:
    """``list`` (before it touches any vault) meets a bug."""
    def broken(args: argparse.Namespace) -> int:
        raise _raise_chain()

    monkeypatch.setattr(evidence_commands, "cmd_list", broken)


def test_the_cli_and_the_app_write_the_same_report(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], qtbot,  # type: ignore[no-untyped-def]
        tmp_path: Path) -> None:
    from evidence_recorder.ui import crash

    log = tmp_path / "crash.log"
    monkeypatch.setattr(paths, "crash_log", lambda: log)
    _cli_bug(monkeypatch)
    assert cli.main(["list"]) == cli.EXIT_FAILED
    err = capsys.readouterr().err
    assert "this is a bug" in err and str(log) in err
    assert "secret.example" not in err

    shown: list[str] = []
    monkeypatch.setattr(crash.CrashDialog, "exec",
                        lambda self: shown.append(self.report.toPlainText()) or 0)
    exc = _raise_chain()
    crash.handle_exception(type(exc), exc, exc.__traceback__)
    entries = log.read_text(encoding="utf-8").split("--- crash ")[1:]
    assert len(entries) == 2
    for entry in entries:  # the same shape from both: version, every cause, the frames
        assert f"Evidence Recorder {__version__} on " in entry
        assert "builtins.KeyError" in entry and "test_crashreport._Boom" in entry
        assert "secret.example" not in entry
    assert shown and shown[0].strip() in entries[1]


def test_a_crash_log_that_cannot_be_written_still_ends_the_cli_plainly(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    monkeypatch.setattr(paths, "crash_log", lambda: blocker / "crash.log")
    _cli_bug(monkeypatch)
    assert cli.main(["list"]) == cli.EXIT_FAILED
    err = capsys.readouterr().err
    assert "this is a bug" in err and "could not be written" in err
