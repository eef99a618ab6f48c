"""What ships: the Linux desktop files, the icons, the frozen layout, opening a bundle by path.

The build itself (PyInstaller, minutes) and the frozen binary's smoke test run in CI
through packaging/build-linux and packaging/smoke-test; these checks are the fast part.
"""

from __future__ import annotations

import argparse
import configparser
import fnmatch
import re
import shutil
import subprocess
import sys
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from conftest import REPO
from PIL import Image

from evidence_recorder import cli
from evidence_recorder.cli import common as cli_common
from evidence_recorder.core import paths

APP_ID = "uk.evidencerecorder.EvidenceRecorder"
LINUX = REPO / "packaging" / "linux"
DESKTOP = LINUX / f"{APP_ID}.desktop"
METAINFO = LINUX / f"{APP_ID}.metainfo.xml"
MIME_XML = LINUX / f"{APP_ID}.mime.xml"
ICONS = REPO / "resources" / "icons"
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
MIME_NS = "{http://www.freedesktop.org/standards/shared-mime-info}"


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed (scripts/setup --test installs it)")
    return path


def _xml(path: Path) -> ET.Element:
    return ET.parse(path).getroot()  # noqa: S314 - our own files, from this checkout


def _desktop_entry() -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    parser.read(DESKTOP, encoding="utf-8")
    return parser["Desktop Entry"]


# ------------------------------------------------------------- desktop integration


def test_desktop_entry_is_valid() -> None:
    result = subprocess.run([_tool("desktop-file-validate"), str(DESKTOP)],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "error" not in result.stdout


def test_metainfo_is_valid() -> None:
    result = subprocess.run([_tool("appstreamcli"), "validate", "--no-net", str(METAINFO)],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_desktop_entry_starts_the_app_with_or_without_a_file() -> None:
    entry = _desktop_entry()
    # %f expands to nothing when started from the menu, to the bundle from a file manager.
    assert entry["Exec"] == "evidence-recorder %f"
    assert entry["Icon"] == APP_ID
    assert entry["MimeType"] == "application/x-evidence-recorder-bundle;"


def test_the_bundle_type_matches_what_export_writes() -> None:
    mime = _xml(MIME_XML).find(f"{MIME_NS}mime-type")
    assert mime is not None
    assert mime.get("type") == "application/x-evidence-recorder-bundle"
    sub_class = mime.find(f"{MIME_NS}sub-class-of")
    assert sub_class is not None and sub_class.get("type") == "application/zip"
    globs = [g.get("pattern") or "" for g in mime.iter(f"{MIME_NS}glob")]
    # core/bundle/seal.py names its exports evidence-bundle-YYYYMMDD-HHMMSS.zip.
    assert any(fnmatch.fnmatch("evidence-bundle-20261125-143925.zip", g) for g in globs)
    assert not any(fnmatch.fnmatch("holiday-photos.zip", g) for g in globs)
    assert cli.BUNDLE_SUFFIX == ".zip"


def test_one_app_id_everywhere() -> None:
    from evidence_recorder.ui import app

    assert app.APP_ID == APP_ID
    root = _xml(METAINFO)
    assert root.findtext("id") == APP_ID
    assert root.findtext("launchable") == DESKTOP.name
    spec = (REPO / "packaging" / "evidence-recorder.spec").read_text(encoding="utf-8")
    assert f'APP_ID = "{APP_ID}"' in spec
    assert APP_ID in (REPO / "packaging" / "windows" / "evidence-recorder.iss").read_text(
        encoding="utf-8")


def test_metainfo_release_is_this_version() -> None:
    from evidence_recorder import __version__

    versions = [r.get("version") for r in _xml(METAINFO).iter("release")]
    assert __version__ in versions


def test_packaging_scripts_parse() -> None:
    for script in ("build-linux", "make-icons", "linux/install.sh"):
        result = subprocess.run(["bash", "-n", str(REPO / "packaging" / script)],
                                capture_output=True, text=True, check=False)
        assert result.returncode == 0, f"{script}: {result.stderr}"
    smoke = (REPO / "packaging" / "smoke-test").read_text(encoding="utf-8")
    compile(smoke, "smoke-test", "exec")
    spec = (REPO / "packaging" / "evidence-recorder.spec").read_text(encoding="utf-8")
    compile(spec, "evidence-recorder.spec", "exec")


# --------------------------------------------------------------------------- icons


def test_icons_exist_at_every_size() -> None:
    assert (ICONS / "evidence-recorder.svg").is_file()
    assert _xml(ICONS / "evidence-recorder.svg").tag.endswith("svg")  # well-formed
    for size in ICON_SIZES:
        with Image.open(ICONS / f"evidence-recorder-{size}.png") as image:
            assert image.format == "PNG"
            assert image.size == (size, size)
            assert image.mode == "RGBA"
            # Transparent corners, an opaque middle: a shape, not a blank or a square.
            assert image.getpixel((0, 0))[3] == 0
            assert image.getpixel((size // 2, size // 2))[3] == 255
    with Image.open(ICONS / "evidence-recorder.ico") as ico:
        assert ico.format == "ICO"
        assert (256, 256) in ico.info["sizes"] and (16, 16) in ico.info["sizes"]


def test_window_icon_comes_from_the_shipped_pngs(qapp) -> None:  # type: ignore[no-untyped-def]
    from evidence_recorder.ui.app import ICON_SIZES as APP_SIZES
    from evidence_recorder.ui.app import app_icon

    assert tuple(APP_SIZES) == ICON_SIZES
    icon = app_icon()
    assert not icon.isNull()
    assert {s.width() for s in icon.availableSizes()} == set(ICON_SIZES)


# ------------------------------------------------------------------ frozen layout


def test_resources_found_in_a_checkout() -> None:
    assert paths.resource_dir() == REPO / "resources"
    assert (paths.resource_dir() / "fonts" / "DejaVuSans.ttf").is_file()


def test_resources_found_in_a_frozen_app(monkeypatch: pytest.MonkeyPatch,
                                         tmp_path: Path) -> None:
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert paths.resource_dir() == tmp_path / "resources"
    assert paths.docs_dir() == tmp_path / "docs"  # the spec ships docs/ there too


def test_meipass_alone_does_not_mean_frozen(monkeypatch: pytest.MonkeyPatch,
                                            tmp_path: Path) -> None:
    monkeypatch.delattr(sys, "frozen", raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert paths.resource_dir() == REPO / "resources"


def test_report_fonts_use_the_one_lookup() -> None:
    from evidence_recorder.core.bundle import report_pdf

    assert paths.resource_dir() / "fonts" == report_pdf.FONT_DIR
    assert not re.search(r"parents\[\d\]", (REPO / "evidence_recorder" / "core" / "bundle" /
                                            "report_pdf.py").read_text(encoding="utf-8"))


# ------------------------------------------------- `evidence-recorder BUNDLE.zip`


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> list[argparse.Namespace]:
    """Stands in for the desktop app: records what it would have been started with."""
    calls: list[argparse.Namespace] = []

    def fake_start(args: argparse.Namespace) -> int:
        calls.append(args)
        return 0

    monkeypatch.setattr(cli_common, "_start_app", fake_start)
    return calls


def test_a_bare_bundle_path_opens_the_viewer(started: list[argparse.Namespace],
                                             tmp_path: Path) -> None:
    bundle = tmp_path / "evidence-bundle-20261125-143925.ZIP"
    bundle.write_bytes(b"PK\x05\x06" + bytes(18))
    assert cli.main([str(bundle)]) == 0
    assert len(started) == 1 and started[0].bundle == bundle
    # ...exactly as `open FILE` does.
    assert cli.main(["open", str(bundle)]) == 0
    assert started[1].bundle == bundle


def test_a_bare_path_that_does_not_exist_says_so(started: list[argparse.Namespace],
                                                 tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "gone.zip"
    assert cli.main([str(missing)]) == cli.EXIT_FAILED
    assert "does not exist" in capsys.readouterr().err
    assert not started


def test_other_bare_words_are_still_usage_errors(started: list[argparse.Namespace],
                                                 tmp_path: Path) -> None:
    other = tmp_path / "notes.txt"
    other.write_text("x", encoding="utf-8")
    with pytest.raises(SystemExit) as exc:
        cli.main([str(other)])
    assert exc.value.code == cli.EXIT_USAGE
    # Commands and options keep their meaning; only a lone *.zip path is taken as a file.
    with pytest.raises(SystemExit):
        cli.main(["--version"])
    assert not started


def test_no_arguments_still_starts_the_app(started: list[argparse.Namespace]) -> None:
    assert cli.main([]) == 0
    assert len(started) == 1 and getattr(started[0], "bundle", None) is None


_SETUPTOOLS_NOISE = """\
/usr/lib/python3/dist-packages/setuptools/command/develop.py:40: EasyInstallDeprecationWarning
!!

        ********************************************************************************
        Editable installation is deprecated.
        ********************************************************************************
!!
"""


def _setup_checkout(tmp_path: Path, pip_exit: int) -> tuple[Path, dict[str, str]]:
    """A copy of ``scripts/setup`` whose pip prints setuptools' warning block, then exits."""
    checkout = tmp_path / "checkout"
    (checkout / "scripts").mkdir(parents=True)
    shutil.copy2(REPO / "scripts" / "setup", checkout / "scripts" / "setup")
    shutil.copy2(REPO / "pyproject.toml", checkout / "pyproject.toml")
    venv_bin = checkout / ".venv" / "bin"
    venv_bin.mkdir(parents=True)
    fake_python = venv_bin / "python"
    noise = _SETUPTOOLS_NOISE + ("ERROR: could not build the wheel\n" if pip_exit else "")
    fake_python.write_text(f"#!/bin/sh\ncat >&2 <<'NOISE'\n{noise}NOISE\nexit {pip_exit}\n")
    fake_python.chmod(0o755)
    tools = tmp_path / "tools"  # every system package counts as installed: no apt here
    tools.mkdir()
    dpkg = tools / "dpkg-query"
    dpkg.write_text("#!/bin/sh\nprintf 'install ok installed'\n")
    dpkg.chmod(0o755)
    env = {"PATH": f"{tools}:/usr/bin:/bin", "HOME": str(tmp_path), "PYTHON": sys.executable}
    return checkout, env


def test_first_setup_prints_one_plain_line_not_pips_warnings(tmp_path: Path) -> None:
    checkout, env = _setup_checkout(tmp_path, pip_exit=0)
    run = subprocess.run(["bash", "scripts/setup"], cwd=checkout, env=env, capture_output=True,
                         text=True, check=False)
    assert run.returncode == 0, run.stderr
    said = (run.stdout + run.stderr).strip().splitlines()
    assert said == ["Setting up Evidence Recorder (first time only, a minute or two)…"]
    assert "Editable installation" in (checkout / ".venv" / "setup.log").read_text()
    assert (checkout / ".venv" / ".setup-stamp").is_file()
    again = subprocess.run(["bash", "scripts/setup"], cwd=checkout, env=env,
                           capture_output=True, text=True, check=True)
    assert again.stdout == again.stderr == ""  # set up already: nothing at all


def test_a_failed_setup_shows_the_end_of_pips_log(tmp_path: Path) -> None:
    checkout, env = _setup_checkout(tmp_path, pip_exit=1)
    run = subprocess.run(["bash", "scripts/setup"], cwd=checkout, env=env, capture_output=True,
                         text=True, check=False)
    assert run.returncode != 0
    assert "did not work" in run.stderr and "could not build the wheel" in run.stderr
    assert not (checkout / ".venv" / ".setup-stamp").exists()  # tried again next time


def test_the_licence_is_shipped_whole() -> None:
    """pyproject says GPL-3.0-or-later: the repository, the wheel and the frozen app carry
    the licence's full text."""
    text = (REPO / "LICENSE").read_text(encoding="utf-8")
    assert "GNU GENERAL PUBLIC LICENSE" in text and "Version 3, 29 June 2007" in text
    assert "END OF TERMS AND CONDITIONS" in text  # the whole text, not a stub
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["license"] == "GPL-3.0-or-later"
    assert project["license-files"] == ["LICENSE"]
    spec = (REPO / "packaging" / "evidence-recorder.spec").read_text(encoding="utf-8")
    assert 'datas.append((str(ROOT / "LICENSE"), "."))' in spec
