"""What the desktop app leaves on the computer besides the vault and the exports asked for.

The whole app runs in a child process whose HOME, TMPDIR and XDG folders all point into
one scratch folder, with the vault and the chosen export inside it. A scripted session
goes through the real windows: create a vault, capture, describe, import through the
file dialog, annotate, export a sealed bundle, lock, quit. Every other file in the
scratch folder is then read byte by byte for pictures and for the unique words typed
into the capture's details, and for the passphrase and recovery key. The files that
ARE written are printed for a reviewer (``pytest -s``). The session runs offscreen and
again on Xvfb (xcb), where Qt's real X11 platform code is in play.

Also here: core dumps are forbidden (in the running app, not only in a helper), and
locking clears a clipboard the app filled but not one another program owns. Qt's
offscreen platform keeps the clipboard inside the process and never reports owning
it, so ``AppController._clear_our_clipboard`` does nothing there: the clipboard test
needs a real X server. Wayland, Windows and macOS clipboards are not tested here.
"""

from __future__ import annotations

import inspect
import io
import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import PASSPHRASE, REPO
from PIL import Image
from test_plaintext import IMAGE_SIGNATURES as PLAINTEXT_SIGNATURES
from xvfb import XvfbDisplay

from evidence_recorder.core.vault.store import Vault
from evidence_recorder.ui import app as app_module

# The plaintext scan's signatures, plus PDF: an export's report must not leak either.
IMAGE_SIGNATURES = {**PLAINTEXT_SIGNATURES, "PDF": b"%PDF"}
SCRATCH_FOLDERS = ("home", "tmp", "xdg-data", "xdg-config", "xdg-cache", "xdg-state",
                   "xdg-runtime")
TIMEOUT = 120

# The app as a user runs it: the real ``main()`` (with tiny KDF costs), driven from a
# timer inside its own event loop. The results come back as one JSON line.
_SESSION = r"""
import faulthandler, json, resource, sys, time, traceback
from pathlib import Path
from PIL import Image
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QFileDialog, QLineEdit
app = QApplication(sys.argv[:1])
from evidence_recorder.core.gather import capture
from evidence_recorder.core.vault.keyfile import KdfParams
from evidence_recorder.ui import app as app_module, main_window, messages
from evidence_recorder.ui.bundle_viewer import open_bundle_window
from evidence_recorder.ui.export_dialog import ExportDialog
from evidence_recorder.ui.guide import GuideDialog
from evidence_recorder.ui.main_window import MainWindow
from evidence_recorder.ui.tasks import wait_for_tasks
from evidence_recorder.ui.unlock import StartWindow

args = json.loads(sys.argv[1])
main_window.DescribeDialog.exec = lambda self: 0  # the modal describe box, answered at once
report = {}
faulthandler.dump_traceback_later(int(args["timeout"]), exit=True)


def step(name):
    print("STEP " + name, file=sys.stderr, flush=True)


def wait(condition, seconds=60):
    end = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > end:
            raise AssertionError("timed out")
        app.processEvents()
        wait_for_tasks(20)
        time.sleep(0.01)


def window(kind):
    return next(w for w in QApplication.topLevelWidgets() if isinstance(w, kind))


def close_guides():  # the first-run guide, closed as a user would
    for widget in QApplication.topLevelWidgets():
        if isinstance(widget, GuideDialog) and widget.isVisible():
            widget.reject()


guide_closer = QTimer()
guide_closer.timeout.connect(close_guides)
guide_closer.start(50)


def answer_file_dialog(path, tries=200):
    dialog = next((w for w in QApplication.topLevelWidgets()
                   if isinstance(w, QFileDialog) and w.isVisible()), None)
    if dialog is None:
        if tries:
            QTimer.singleShot(50, lambda: answer_file_dialog(path, tries - 1))
        return
    dialog.selectFile(path)
    dialog.findChild(QLineEdit, "fileNameEdit").setText(path)  # as if typed
    dialog.accept()
    if dialog.isVisible() and tries:
        QTimer.singleShot(100, lambda: answer_file_dialog(path, tries - 1))


def fill_export_dialog(tries=200):
    dialog = next((w for w in QApplication.topLevelWidgets()
                   if isinstance(w, ExportDialog) and w.isVisible()), None)
    if dialog is None:
        if tries:
            QTimer.singleShot(50, lambda: fill_export_dialog(tries - 1))
        return
    try:
        dialog.all_button.setChecked(True)
        dialog.name.setText("A. Teacher")
        dialog.role.setText("Class teacher")
        messages.set_next_answer(messages.Button.Ok)  # "Report exported"
        QTimer.singleShot(50, lambda: answer_file_dialog(args["export"]))
        dialog.export_button.click()
    except BaseException:
        report["error"] = traceback.format_exc()
        dialog.reject()


def drive():
    try:
        report["core_limit"] = list(resource.getrlimit(resource.RLIMIT_CORE))
        start = window(StartWindow)  # the main window is made at the first unlock
        screen = Image.effect_noise((1024, 640), 70).convert("RGB")

        step("create")
        page = start.create_page
        page.passphrase.setText(args["passphrase"])
        page.confirm.setText(args["passphrase"])
        page.create_button.click()
        wait(lambda: start.stack.currentWidget() is start.key_page)
        report["recovery_key"] = start.key_page._key  # a secret to look for on disk too
        start.key_page.confirm.setChecked(True)
        start.key_page.continue_button.click()
        wait(lambda: any(isinstance(w, MainWindow) and w.isVisible()
                         for w in QApplication.topLevelWidgets()))
        main = window(MainWindow)
        main.capturer._grabber_factory = lambda: capture.FakeGrabber(screen)
        session = main.session

        step("capture")
        main.act_screen.trigger()
        wait(lambda: len(session.captures()) == 1)
        capture_id = session.captures()[0].id
        wait(lambda: main.details.capture_id() == capture_id)
        main.details.inputs["description"].setPlainText(args["note"])
        main.details.inputs["url"].setText(args["url"])
        main.details.inputs["author"].setText(args["author"])
        main.details.save_button.click()
        saved = session.capture(capture_id).details
        assert (saved.description, saved.url, saved.author) == (
            args["note"], args["url"], args["author"]), saved

        step("import")
        QTimer.singleShot(50, lambda: answer_file_dialog(args["import"]))
        main.import_dialog()  # Qt's own file dialog, answered with the phone's picture
        wait(lambda: len(session.captures()) == 2)

        step("annotate")
        session.set_annotations(capture_id, {"version": 1, "items": [
            {"type": "redact", "rect": [10, 10, 200, 40]},
            {"type": "text", "pos": [50, 300], "text": args["annotation"],
             "color": "#e5383b", "size": 28}]})
        assert session.capture(capture_id).has_annotations

        step("export")  # Vault > Export, every capture, saved through Qt's file dialog
        QTimer.singleShot(50, fill_export_dialog)
        main.act_export.trigger()  # returns when the export dialog closes
        assert "error" not in report, report.get("error")
        assert Path(args["export"]).is_file(), "not exported"

        step("view")  # the sealed bundle, opened in the app's own viewer
        viewer = open_bundle_window(Path(args["export"]))
        wait(lambda: viewer.verdict() != "checking")
        assert viewer.verdict() == "intact", viewer.verdict()
        viewer.close()

        step("lock")
        main.act_lock.trigger()
        wait(lambda: not session.is_unlocked and start.isVisible())
        report["locked"] = True
        main.close()  # saves the window geometry, as closing it while unlocked would
        start.close()  # quitting from the unlock page ends the app
        QTimer.singleShot(2000, app.quit)  # in case closing did not
    except BaseException:
        report["error"] = traceback.format_exc()
        app.quit()


# Core dumps allowed at first, as on many desktops: main() must forbid them itself.
resource.setrlimit(resource.RLIMIT_CORE, (1 << 20, resource.RLIM_INFINITY))
QTimer.singleShot(0, drive)
code = app_module.main(Path(args["vault"]), kdf=KdfParams(1, 8, 1))
report["exit_code"] = code
print("REPORT " + json.dumps(report))
"""


def scratch_env(scratch: Path) -> dict[str, str]:
    """An environment whose home, temp and XDG folders are all inside ``scratch``."""
    folders = {}
    for name in SCRATCH_FOLDERS:
        folders[name] = scratch / name
        folders[name].mkdir(parents=True, mode=0o700)
    env = {k: v for k, v in os.environ.items() if not k.startswith("EVIDENCE_RECORDER_")}
    env.update({
        "HOME": str(folders["home"]),
        "TMPDIR": str(folders["tmp"]),
        "XDG_DATA_HOME": str(folders["xdg-data"]),
        "XDG_CONFIG_HOME": str(folders["xdg-config"]),
        "XDG_CACHE_HOME": str(folders["xdg-cache"]),
        "XDG_STATE_HOME": str(folders["xdg-state"]),
        "XDG_RUNTIME_DIR": str(folders["xdg-runtime"]),
        "QT_QPA_PLATFORM": "offscreen",
    })
    return env


def files_under(root: Path, skip: list[Path]) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink()
                  and not any(p == s or s in p.parents for s in skip))


def evidence_in(paths: list[Path], markers: list[str]) -> list[str]:
    needles = dict(IMAGE_SIGNATURES)
    for marker in markers:
        needles[f"marker {marker}"] = marker.encode()
        needles[f"marker {marker} (UTF-16)"] = marker.encode("utf-16-le")
    found = []
    for path in paths:
        data = path.read_bytes()
        found += [f"{path}: {name}" for name, needle in needles.items() if needle in data]
    return found


def picture_from_a_phone(folder: Path) -> Path:
    """A JPEG with Exif, as phones write them, outside every scanned folder."""
    folder.mkdir()
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    buf = io.BytesIO()
    Image.effect_noise((400, 300), 60).convert("RGB").save(buf, "JPEG", exif=exif)
    path = folder / "IMG_0042.jpg"
    path.write_bytes(buf.getvalue())
    return path


@pytest.mark.slow
@pytest.mark.parametrize("platform", [
    "offscreen",
    pytest.param("xcb", marks=pytest.mark.screen),  # a real X server: real clipboard, fonts
])
def test_a_whole_app_session_leaves_no_evidence_outside_the_vault(
        platform: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    scratch = tmp_path / "scratch"
    env = scratch_env(scratch)
    if platform == "xcb":
        display: XvfbDisplay = request.getfixturevalue("xvfb_display")
        env |= {"DISPLAY": display.name, "QT_QPA_PLATFORM": "xcb"}
    vault_dir = scratch / "home" / "Evidence vault"
    export = scratch / "home" / "Documents" / "report for the head.zip"
    export.parent.mkdir()
    source = picture_from_a_phone(tmp_path / "phone")
    token = secrets.token_hex(8)
    note, author, path_word, annotation = (f"MARKER{secrets.token_hex(8)}" for _ in range(4))
    url = f"https://social.example/{token}/posts/{path_word}"
    args = {"vault": str(vault_dir), "export": str(export), "import": str(source),
            "passphrase": PASSPHRASE, "note": note, "url": url, "author": author,
            "annotation": annotation, "timeout": TIMEOUT - 20}

    child = subprocess.run([sys.executable, "-c", _SESSION, json.dumps(args)], cwd=REPO,
                           env=env, capture_output=True, text=True, timeout=TIMEOUT,
                           check=False)
    lines = [line for line in child.stdout.splitlines() if line.startswith("REPORT ")]
    assert lines, f"the session did not finish:\n{child.stdout}\n{child.stderr}"
    report = json.loads(lines[-1].removeprefix("REPORT "))
    assert "error" not in report, report["error"]
    assert report["locked"] and report["exit_code"] == 0
    assert report["core_limit"] == [0, 0]  # main() forbade core dumps before anything else

    # The session really happened: the vault holds it, the export exists.
    with Vault.open(vault_dir, PASSPHRASE) as vault:
        captures = vault.captures()
        assert len(captures) == 2
        assert any(c.details.description == note and c.details.url == url for c in captures)
    assert export.stat().st_size > 0

    written = files_under(scratch, skip=[vault_dir, export])
    print("\nFiles the session wrote outside the vault and the export:")
    for path in written:
        print(f"  {path.relative_to(scratch)} ({path.stat().st_size} bytes)")
    recovery_key = report["recovery_key"]
    markers = [note, author, path_word, annotation, token, url, source.name, PASSPHRASE,
               recovery_key, recovery_key.replace("-", "")]
    assert evidence_in(written, markers) == []
    # The vault itself is ciphertext too (tests/test_plaintext.py covers the CLI's path).
    assert evidence_in(files_under(vault_dir, skip=[]), markers) == []

    # Qt's file dialog remembers recent folders and files unless the app wipes them.
    conf_files = [p for p in written if p.suffix == ".conf"]
    for conf in conf_files:
        text = conf.read_text(encoding="utf-8", errors="replace")
        print(f"--- {conf.relative_to(scratch)}\n{text}")
        for trace in ("history", "lastVisited", "filedialog", "FileDialog",
                      str(source.parent), str(export.parent)):
            assert trace not in text, f"{conf} remembers {trace!r}"

    # What is meant to be there: the settings (name and role for reports), nothing more.
    # A new option fails this on purpose: decide whether it may hold anything personal.
    settings_file = scratch / "xdg-config" / "EvidenceRecorder" / "settings.json"
    print(f"--- {settings_file.relative_to(scratch)}\n{settings_file.read_text()}")
    stored = json.loads(settings_file.read_text(encoding="utf-8"))
    assert stored["your_name"] == "A. Teacher"
    assert not set(stored) - {"your_name", "your_role", "guide_seen", "capture_delay",
                              "idle_lock_enabled", "idle_lock_minutes", "default_incident",
                              "hide_while_capturing", "timestamp_url"}


def test_core_dumps_are_forbidden_and_main_does_it_first(tmp_path: Path) -> None:
    # Core dumps allowed first (as on many desktops), so that the call has work to do.
    child = ("import resource\n"
             "from evidence_recorder.ui.app import disable_core_dumps\n"
             "resource.setrlimit(resource.RLIMIT_CORE, (1 << 20, resource.RLIM_INFINITY))\n"
             "print(list(resource.getrlimit(resource.RLIMIT_CORE)))\n"
             "disable_core_dumps()\n"
             "print(list(resource.getrlimit(resource.RLIMIT_CORE)))\n")
    env = scratch_env(tmp_path / "scratch")
    result = subprocess.run([sys.executable, "-c", child], cwd=REPO, env=env, text=True,
                            capture_output=True, timeout=60, check=True)
    before, after = result.stdout.splitlines()
    assert before != "[0, 0]"
    assert after == "[0, 0]"  # soft and hard: nothing in the process can raise it again
    # The running app's limit is checked by the whole-session test; here, that main()
    # forbids them before a QApplication (and so any evidence) exists.
    body = inspect.getsource(app_module.main)
    assert body.index("disable_core_dumps()") < body.index("QApplication")


# The recovery key's Copy button, then lock; and a second process taking the clipboard.
_CLIPBOARD = r"""
import sys, time
from pathlib import Path
from PySide6.QtWidgets import QApplication
app = QApplication([])
from evidence_recorder.core.vault.keyfile import KdfParams
from evidence_recorder.core.settings import Settings
from evidence_recorder.ui import messages, unlock
from evidence_recorder.ui.app import AppController
from evidence_recorder.ui.session import VaultSession
from evidence_recorder.ui.tasks import wait_for_tasks


def wait(condition, seconds=30):
    end = time.monotonic() + seconds
    while not condition() and time.monotonic() < end:
        app.processEvents(); wait_for_tasks(20); time.sleep(0.01)
    assert condition(), "timed out"


session = VaultSession(Path(sys.argv[1]), KdfParams(1, 8, 1))
ctl = AppController(session, Settings(Path(sys.argv[2])), show_guide=False)
ctl.run()
page = ctl.start.create_page
page.passphrase.setText(sys.argv[3]); page.confirm.setText(sys.argv[3])
page.create_button.click()
wait(lambda: ctl.start.stack.currentWidget() is ctl.start.key_page)
key = ctl.start.key_page._key
unlock.CLIPBOARD_CLEAR_MS = 300  # two minutes in the product
messages.set_next_answer(messages.Button.Ok)
ctl.start.key_page.copy_button.click()
wait(lambda: app.clipboard().text() == key)
wait(lambda: app.clipboard().text() == "", 10)
print("cleared by the timer", flush=True)
unlock.CLIPBOARD_CLEAR_MS = 120_000
messages.set_next_answer(messages.Button.Ok)
ctl.start.key_page.copy_button.click()
wait(lambda: app.clipboard().text() == key)
print("owns", app.clipboard().ownsClipboard(), flush=True)
ctl.start.key_page.confirm.setChecked(True)
ctl.start.key_page.continue_button.click()
wait(ctl.main.isVisible)
ctl.lock()
for _ in range(20):
    app.processEvents(); time.sleep(0.01)
print("after lock", repr(app.clipboard().text()), flush=True)

# Someone else's text: another process owns the clipboard when the vault locks.
ctl.start.unlock_page.passphrase.setText(sys.argv[3])
ctl.start.unlock_page.unlock_button.click()
wait(ctl.main.isVisible)
print("ready", flush=True)
sys.stdin.readline()  # the other process has set its text
wait(lambda: app.clipboard().text() == "someone else's text")
ctl.lock()
for _ in range(20):
    app.processEvents(); time.sleep(0.01)
print("foreign after lock", repr(app.clipboard().text()), flush=True)
"""

_OTHER_OWNER = r"""
import select, sys, time
from PySide6.QtWidgets import QApplication
app = QApplication([])
app.clipboard().setText("someone else's text")
for _ in range(50):
    app.processEvents(); time.sleep(0.01)
print("set", flush=True)
end = time.monotonic() + 60  # serve the clipboard until told to stop
while time.monotonic() < end and not select.select([sys.stdin], [], [], 0)[0]:
    app.processEvents(); time.sleep(0.01)
"""


@pytest.mark.screen
def test_locking_clears_a_clipboard_the_app_filled_but_not_anyone_elses(
        xvfb_display: XvfbDisplay, tmp_path: Path) -> None:
    """Offscreen Qt never reports owning the clipboard, so this runs on a real X server.

    "Someone else" is a second Qt process on the same display that takes the clipboard
    while the vault is open; locking must leave its text alone.
    """
    env = scratch_env(tmp_path / "scratch")
    env |= {"DISPLAY": xvfb_display.name, "QT_QPA_PLATFORM": "xcb"}
    app = subprocess.Popen(
        [sys.executable, "-c", _CLIPBOARD, str(tmp_path / "vault"), str(tmp_path / "s.json"),
         PASSPHRASE], cwd=REPO, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)
    other = None
    try:
        assert app.stdout is not None and app.stdin is not None
        lines = [app.stdout.readline().strip() for _ in range(4)]
        assert lines[0] == "cleared by the timer", lines
        assert lines[1] == "owns True", lines
        assert lines[2] == "after lock ''", lines  # the recovery key is gone
        assert lines[3] == "ready", lines
        other = subprocess.Popen([sys.executable, "-c", _OTHER_OWNER], cwd=REPO, env=env,
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert other.stdout is not None
        assert other.stdout.readline().strip() == "set"
        app.stdin.write("go\n")
        app.stdin.flush()
        last = app.stdout.readline().strip()
        assert last == "foreign after lock \"someone else's text\"", last
        assert app.wait(timeout=60) == 0
    finally:
        for process in (app, other):
            if process is not None:
                if process.poll() is None:
                    process.kill()
                process.communicate(timeout=30)  # reaps it and closes the pipes
