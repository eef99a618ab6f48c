"""The user guides in docs/: their pictures, their key sections, the police guide's
commands against a real bundle, and the in-app Help that shows them offline."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import BUNDLE_PASSPHRASE, FAST_KDF, PASSPHRASE, REPO
from PIL import Image
from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QKeySequence
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from tsa import (
    LoopbackTsa,
    tsa_server_fixture,  # noqa: F401 - a fixture this module uses
)

from evidence_recorder.core.bundle import layout
from evidence_recorder.core.bundle.seal import (
    ExportOptions,
    export_bundle,
    signing_fingerprint,
    signing_seal_number,
)
from evidence_recorder.core.paths import docs_dir
from evidence_recorder.core.settings import Settings
from evidence_recorder.core.vault.store import Vault
from evidence_recorder.ui import bundle_viewer, bundle_wording, messages
from evidence_recorder.ui import help as help_module
from evidence_recorder.ui.app import AppController
from evidence_recorder.ui.session import VaultSession

DOCS = REPO / "docs"
GUIDES = {name: DOCS / file for name, file in help_module.GUIDE_FILES.items()}
EXAMPLE_FOLDER = re.compile(r"evidence-bundle-\d{8}-\d{6}")

KEY_SECTIONS = {
    "staff": ["If you see sexual images of a child", "Installing and starting",
              "Creating your vault", "Your recovery key", "Capturing evidence",
              "Screenshots from your phone", "Describing each capture",
              "Highlighting and covering names (redaction)",
              "The audit log and checking your vault",
              "Exporting a sealed report for your headteacher", "Backups",
              "What to do next"],
    "headteacher": ["Opening a bundle", "Checking it: what the verdict means",
                    "Confirm the fingerprint by phone", "Reading the captures",
                    "What the policy asks of you", "Keeping the bundle"],
    "police": ["What a bundle is", "1. Unpack the bundle", "2. Check the files",
               "3. Check that nothing was added", "4. Check the seal",
               "5. Confirm the key's fingerprint by phone",
               "6. The trusted timestamp (if present)", "7. BagIt validation",
               "8. The scripts", "What this evidence is, and is not"],
}


def text_of(name: str) -> str:
    return GUIDES[name].read_text(encoding="utf-8")


def flat(text: str) -> str:
    """Markdown wraps lines and marks words bold: compare words only."""
    return " ".join(text.replace("**", "").split())


def headings(text: str) -> list[str]:
    return [line.lstrip("#").strip() for line in text.splitlines() if line.startswith("#")]


def images_of(text: str) -> list[str]:
    return re.findall(r"!\[[^\]]*\]\(([^)\s]+)\)", text)


def code_blocks(text: str, language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", text, flags=re.MULTILINE | re.DOTALL)


# ---------------------------------------------------------------------------- the files


def test_the_help_finds_the_docs_of_this_checkout() -> None:
    assert docs_dir() == DOCS
    assert (DOCS / "README.md").is_file()
    for name, path in GUIDES.items():
        assert path.is_file(), name
        assert f"({path.name})" in (DOCS / "README.md").read_text()


@pytest.mark.parametrize("name", list(GUIDES))
def test_every_picture_a_guide_shows_exists_and_is_small(name: str) -> None:
    pictures = images_of(text_of(name))
    if name != "police":
        assert pictures, f"the {name} guide shows no pictures"
    for picture in pictures:
        path = DOCS / picture
        assert path.is_file(), f"{GUIDES[name].name} shows {picture}, which is missing"
        with Image.open(path) as image:
            assert image.width <= 1280 and image.height <= 800
        assert path.stat().st_size < 300_000


def test_every_picture_in_docs_images_is_used() -> None:
    used = {picture for name in GUIDES for picture in images_of(text_of(name))}
    present = {f"images/{p.name}" for p in (DOCS / "images").glob("*.png")}
    assert present <= used, f"not shown by any guide: {sorted(present - used)}"


@pytest.mark.parametrize("name", list(GUIDES))
def test_every_guide_has_its_key_sections(name: str) -> None:
    found = headings(text_of(name))
    missing = [h for h in KEY_SECTIONS[name] if h not in found]
    assert not missing, f"{GUIDES[name].name} lacks {missing}"


@pytest.mark.parametrize("name", list(GUIDES))
def test_links_between_guides_point_at_guides(name: str) -> None:
    for target in re.findall(r"\]\(([^)#\s]+\.md)(?:#[^)]*)?\)", text_of(name)):
        assert (DOCS / target).is_file(), f"{GUIDES[name].name} links to {target}"


def test_the_staff_guide_keeps_the_child_protection_stop_and_the_policy() -> None:
    from evidence_recorder.ui.guide import CHILD_PROTECTION_TITLE

    text = flat(text_of("staff"))
    assert CHILD_PROTECTION_TITLE in text
    for words in ("Do not capture, copy, save, download or forward", "LADO",
                  "999", "101", "designated safeguarding lead", "4.8.2",
                  "Whether to go to the police is your own decision", "recovery key",
                  "never changed", "solid black box"):
        assert words in text, words


def test_the_headteacher_guide_quotes_the_viewer_word_for_word() -> None:
    text = flat(text_of("headteacher"))
    for wording in (bundle_wording.INTACT_HEADLINE, bundle_wording.ALTERED_HEADLINE,
                    bundle_wording.ALTERED_ADVICE, bundle_wording.CHECKING_HEADLINE,
                    bundle_wording.CONFIRM_FINGERPRINT, bundle_wording.UNREADABLE_HEADLINE,
                    bundle_wording.UNREADABLE_ADVICE):
        assert flat(str(wording)) in text, wording
    for words in ("4.8.2", "5.2.1", "decide whether to report it to the police", "LADO"):
        assert words in text, words


def test_the_police_guide_names_what_a_bundle_holds() -> None:
    text = text_of("police")
    for name in (layout.NAMESPACE, layout.MANIFEST, layout.TAGMANIFEST, layout.SIGNATURE,
                 layout.TIMESTAMP, layout.ALLOWED_SIGNERS, layout.BAGIT_TXT, layout.BAG_INFO,
                 layout.REPORT_PDF, layout.REPORT_HTML, layout.README_VERIFY, layout.VERIFY_SH,
                 layout.VERIFY_CMD, "data/evidence.json", "data/audit.jsonl",
                 "data/export.json", "data/captures/N/original.", "data/captures/N/redacted.png",
                 "data/captures/N/metadata.json"):
        assert f"`{name}" in text, name
    assert f"BagIt {layout.BAGIT_VERSION}" in text
    # Every seal check uses the bundle's namespace, and the identity it signs with.
    for line in text.splitlines():
        if "ssh-keygen -Y verify" in line:
            assert f"-n {layout.NAMESPACE} -s {layout.SIGNATURE} < {layout.TAGMANIFEST}" in line
            assert f"-f {layout.ALLOWED_SIGNERS}" in line
    assert "evidence-recorder-vault-" in text


# ---------------------------------------------------------------------------- the commands


@pytest.fixture(scope="module")
def sealed(tmp_path_factory: pytest.TempPathFactory, tsa_server: LoopbackTsa) -> dict[str, Path]:
    """A real vault's bundles: timestamped, and locked with a passphrase."""
    from test_bundle import fill

    folder = tmp_path_factory.mktemp("guide-bundles")
    with Vault.create(folder / "vault", PASSPHRASE, kdf=FAST_KDF)[0] as vault:
        fill(vault)
        stamped = export_bundle(vault, folder / "stamped.zip", options=ExportOptions(
            audience="police", timestamp_url=tsa_server.url))
        locked = export_bundle(vault, folder / "locked.zip",
                               options=ExportOptions(passphrase=BUNDLE_PASSPHRASE))
        (folder / "fingerprint").write_text(signing_fingerprint(vault))
        (folder / "seal_number").write_text(signing_seal_number(vault))
    return {"stamped": stamped, "locked": locked, "ca": tsa_server.ca_pem_path,
            "fingerprint": folder / "fingerprint", "seal_number": folder / "seal_number"}


def _top(path: Path) -> str:
    with zipfile.ZipFile(path) as zf:
        return zf.namelist()[0].split("/")[0]


def _shell(command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "SSH_AUTH_SOCK"}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return subprocess.run(["bash", "-c", command], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120, check=False)


def test_every_command_in_the_police_guide_works_on_a_real_bundle(
        sealed: dict[str, Path], tmp_path: Path) -> None:
    top = _top(sealed["stamped"])
    shutil.copy(sealed["stamped"], tmp_path / f"{top}.zip")
    folder = tmp_path / top
    fingerprint = sealed["fingerprint"].read_text()
    commands = [line for block in code_blocks(text_of("police"), "sh")
                for line in block.replace("\\\n", " ").splitlines()
                if line.strip() and not line.startswith("#")]
    assert len(commands) >= 8
    ran = []
    for command in commands:
        command = EXAMPLE_FOLDER.sub(top, command)
        if command.startswith("cd "):
            assert command == f"cd {top}"
            continue
        if "TSA-CA.pem" in command:  # beside the folder: in it, it would be an added file
            shutil.copy(sealed["ca"], tmp_path / "TSA-CA.pem")
        if "seal_number.py" in command:  # the officer's own copy, beside the folder too
            shutil.copy(REPO / "docs" / "verify" / "seal_number.py", tmp_path)
        done = _shell(command, tmp_path if command.startswith("unzip") else folder)
        output = done.stdout + done.stderr
        assert done.returncode == 0, f"{command}\n{output}"
        ran.append(command.split()[0])
        if "ssh-keygen -Y verify" in command:
            assert f'Good "{layout.NAMESPACE}" signature for evidence-recorder-vault-' in output
        if "ssh-keygen -lf" in command or command.startswith("sh verify.sh"):
            assert fingerprint in output
        if command.startswith("sh verify.sh"):
            assert "RESULT: the bundle is intact." in output
            assert "the timestamp: checked against the root certificate you gave" in output
        if "openssl ts -verify" in command:
            assert "Verification: OK" in output
        if "seal_number.py" in command:
            groups = sealed["seal_number"].read_text().split()
            assert output.splitlines() == [" ".join(groups[i:i + 4]) for i in (0, 4, 8)]
        if "openssl ts -reply" in command:
            assert "Time stamp:" in output
        if command.startswith("bagit.py"):
            assert "is valid" in output
    assert {"unzip", "sha256sum", "find", "ssh-keygen", "awk", "openssl", "sh",
            "bagit.py"} <= set(ran)


def test_the_failures_the_police_guide_shows_are_what_the_tools_print(
        sealed: dict[str, Path], tmp_path: Path) -> None:
    with zipfile.ZipFile(sealed["stamped"]) as zf:
        zf.extractall(tmp_path)
    folder = tmp_path / _top(sealed["stamped"])
    with (folder / "data/captures/1/metadata.json").open("a") as fh:
        fh.write(" ")
    text = text_of("police")
    done = _shell("sha256sum -c manifest-sha256.txt", folder)
    assert done.returncode != 0
    for line in ("data/captures/1/metadata.json: FAILED",
                 "sha256sum: WARNING: 1 computed checksum did NOT match"):
        assert line in done.stdout + done.stderr and line in text
    with (folder / "tagmanifest-sha256.txt").open("a") as fh:
        fh.write("\n")
    done = _shell(f'ssh-keygen -Y verify -f allowed_signers -I "$(cut -d\' \' -f1 '
                  f'allowed_signers)" -n {layout.NAMESPACE} -s {layout.SIGNATURE} '
                  f"< {layout.TAGMANIFEST}", folder)
    assert done.returncode != 0
    for line in ("Signature verification failed: incorrect signature",
                 "Could not verify signature."):
        assert line in done.stdout + done.stderr and line in text


def test_the_police_guide_lists_every_file_a_real_bundle_holds(sealed: dict[str, Path]) -> None:
    text = text_of("police")
    with zipfile.ZipFile(sealed["stamped"]) as zf:
        names = {name.split("/", 1)[1] for name in zf.namelist() if not name.endswith("/")}
    for name in sorted(names):
        generic = re.sub(r"^data/captures/\d+/", "data/captures/N/", name)
        generic = re.sub(r"/original\.\w+$", "/original.*", generic)
        assert f"`{generic}`" in text or f"`{generic}," in text, generic


def test_a_locked_bundle_opens_with_7z_as_the_police_guide_says(
        sealed: dict[str, Path], tmp_path: Path) -> None:
    text = text_of("police")
    example = next(line for block in code_blocks(text, "text") for line in block.splitlines()
                   if line.startswith("7z x "))
    top = _top(sealed["locked"])
    shutil.copy(sealed["locked"], tmp_path / f"{top}.zip")
    refused = _shell(f"unzip {top}.zip", tmp_path)
    assert "unsupported compression method 99" in refused.stdout + refused.stderr
    assert "unsupported compression method 99" in text
    # The guide's command, with the passphrase given on the line instead of typed.
    given = shlex.quote(f"-p{BUNDLE_PASSPHRASE}")
    command = EXAMPLE_FOLDER.sub(top, example).replace("7z x ", f"7z x -y {given} ")
    done = _shell(command, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "RESULT: the bundle is intact." in _shell("sh verify.sh", tmp_path / top).stdout


def test_the_police_guide_agrees_with_the_instructions_in_the_bundle(
        sealed: dict[str, Path]) -> None:
    from evidence_recorder.core.bundle.texts import verify_readme

    readme = flat(verify_readme("evidence-recorder-vault-x", "SHA256:x"))
    guide = flat(text_of("police"))
    for command in ("sha256sum -c manifest-sha256.txt", "sha256sum -c tagmanifest-sha256.txt",
                    "shasum -a 256 -c manifest-sha256.txt",
                    "awk '{print $3\" \"$4}' allowed_signers | ssh-keygen -lf -",
                    "openssl ts -reply -in tagmanifest-sha256.txt.sig.tsr -text",
                    "certutil -hashfile data\\captures\\1\\original.png SHA256",
                    "-no_check_time", "-untrusted", "sh verify.sh", "verify.cmd",
                    "find . -type f | sort", "dir /s /b /a-d", "-CAfile ../TSA-CA.pem",
                    "proves nothing by itself", "docs/verify/"):
        assert command in readme, command
        assert command in guide, command


# ---------------------------------------------------------------------------- the Help window


@pytest.fixture
def no_help_window(qtbot) -> Iterator[None]:  # type: ignore[no-untyped-def]
    yield
    window = help_module.current_help_window()
    if window is not None:
        window.close()
    QApplication.processEvents()


@pytest.fixture
def controller(qtbot, tmp_path: Path, no_help_window: None) -> Iterator[AppController]:  # type: ignore[no-untyped-def]
    session = VaultSession(tmp_path / "vault", FAST_KDF)
    ctl = AppController(session, Settings(tmp_path / "settings.json"), show_guide=False)
    qtbot.addWidget(ctl.start)
    ctl.run()
    yield ctl
    session.lock()
    ctl.start.close()
    if ctl._main is not None:
        ctl._main.close()


def _showing(qtbot, name: str) -> help_module.HelpWindow:  # type: ignore[no-untyped-def]
    window = help_module.current_help_window()
    assert window is not None and window.isVisible()
    assert window.current == name
    browser = window.browser
    assert browser.source().toLocalFile() == str(GUIDES[name])
    assert browser.toPlainText().strip()
    expected = images_of(text_of(name))
    assert browser.image_names() == expected
    assert browser.missing_images() == []
    assert browser.missing == []
    return window


@pytest.mark.parametrize("name", list(GUIDES))
def test_each_guide_opens_offline_with_its_pictures(qtbot, no_help_window: None,  # type: ignore[no-untyped-def]
                                                     name: str) -> None:
    window = help_module.show_guide(name)
    _showing(qtbot, name)
    assert window.windowTitle().startswith("Help: ")
    assert window.guide_buttons[name].isChecked()


def test_main_window_help_menu_and_f1(qtbot, controller: AppController) -> None:  # type: ignore[no-untyped-def]
    main = controller.main
    qtbot.addWidget(main)
    f1 = [a for a in main.actions() if a.shortcut() == QKeySequence("F1")]
    assert f1 == [main.act_help_staff]
    help_menu = next(a.menu() for a in main.menuBar().actions()
                     if a.text().replace("&", "") == "Help")
    assert [main.act_help_staff, main.act_help_headteacher,
            main.act_help_police] == help_menu.actions()[:3]
    for action, name in ((main.act_help_headteacher, "headteacher"),
                         (main.act_help_police, "police"), (main.act_help_staff, "staff")):
        action.trigger()
        _showing(qtbot, name)
    assert len([w for w in QApplication.topLevelWidgets()
                if isinstance(w, help_module.HelpWindow) and w.isVisible()]) == 1


def test_start_window_help_button_and_f1(qtbot, controller: AppController) -> None:  # type: ignore[no-untyped-def]
    start = controller.start
    menu = start.help_button.menu()
    assert [a.text() for a in menu.actions()] == [
        help_module.guide_title(n) for n in ("staff", "headteacher", "police")]
    for action, name in zip(menu.actions(), ("staff", "headteacher", "police"), strict=True):
        action.trigger()
        _showing(qtbot, name)
    help_module.current_help_window().close()  # type: ignore[union-attr]
    QApplication.processEvents()
    shortcuts = [s for s in start.findChildren(__import__("PySide6.QtGui").QtGui.QShortcut)
                 if s.key() == QKeySequence(QKeySequence.StandardKey.HelpContents)]
    assert len(shortcuts) == 1
    shortcuts[0].activated.emit()
    _showing(qtbot, "staff")


def test_bundle_viewer_help_opens_the_headteacher_guide(qtbot, no_help_window: None,  # type: ignore[no-untyped-def]
                                                          sealed: dict[str, Path]) -> None:
    viewer = bundle_viewer.open_bundle_window(sealed["stamped"])
    assert viewer is not None
    qtbot.addWidget(viewer)
    qtbot.waitUntil(lambda: viewer.verdict() == "intact", timeout=20_000)
    assert viewer.act_help.shortcut() == QKeySequence(QKeySequence.StandardKey.HelpContents)
    viewer.act_help.trigger()
    _showing(qtbot, "headteacher")
    viewer.act_help_police.trigger()
    _showing(qtbot, "police")
    viewer.close()


def test_links_between_guides_open_here_and_web_links_ask_first(  # type: ignore[no-untyped-def]
        qtbot, no_help_window: None, monkeypatch: pytest.MonkeyPatch) -> None:
    window = help_module.show_guide("staff")
    window.browser.anchorClicked.emit(QUrl("guide-police.md"))
    _showing(qtbot, "police")
    window.browser.anchorClicked.emit(QUrl("guide-headteacher.md#keeping-the-bundle"))
    _showing(qtbot, "headteacher")
    assert window.browser.verticalScrollBar().value() > 0
    window.back_button.click()
    _showing(qtbot, "police")

    opened: list[str] = []
    monkeypatch.setattr(help_module.QDesktopServices, "openUrl",
                        lambda url: opened.append(url.toString()))
    messages.set_next_answer(messages.Button.Cancel)
    window.browser.anchorClicked.emit(QUrl("https://example.org/"))
    assert messages.shown[-1][0] == "Open this link?" and opened == []
    window.browser.anchorClicked.emit(QUrl("file:///etc/passwd"))
    window.browser.anchorClicked.emit(QUrl("javascript:alert(1)"))
    _showing(qtbot, "police")
    assert opened == []


def test_heading_anchors_match_the_headings() -> None:
    assert help_module.heading_slug("Keeping the bundle") == "keeping-the-bundle"
    assert help_module.heading_slug("4. Confirm the key's fingerprint by phone") == \
        "4-confirm-the-keys-fingerprint-by-phone"


def test_a_missing_guide_says_so_plainly(qtbot, no_help_window: None,  # type: ignore[no-untyped-def]
                                         tmp_path: Path) -> None:
    window = help_module.show_guide("staff")
    window.open_file(tmp_path / "guide-staff.md")
    assert "missing" in window.browser.toPlainText()


def test_escape_closes_the_help_window(qtbot, no_help_window: None) -> None:  # type: ignore[no-untyped-def]
    """Help reads like a dialog: Escape closes it, wherever the focus is inside it."""
    window = help_module.show_guide("staff")
    qtbot.waitExposed(window)
    window.activateWindow()
    window.browser.setFocus()
    QTest.keyClick(window.browser, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: help_module.current_help_window() is None
                    or not window.isVisible(), timeout=5_000)


def test_the_first_run_guide_shows_its_last_paragraph_whole(qtbot) -> None:  # type: ignore[no-untyped-def]
    from evidence_recorder.ui.guide import ChildProtectionDialog, GuideDialog

    for dialog in (GuideDialog(), ChildProtectionDialog()):
        qtbot.addWidget(dialog)
        dialog.show()
        qtbot.wait(50)
        label = dialog.text
        assert label.height() >= label.heightForWidth(label.width()), \
            f"{type(dialog).__name__} cuts its text off"
        dialog.close()
