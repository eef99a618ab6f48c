"""core/ never imports Qt: the CLI and the tests must run it without a display."""

from __future__ import annotations

import ast
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO

import evidence_recorder.core

CORE = Path(evidence_recorder.core.__file__).parent


def test_no_core_module_names_qt() -> None:
    offenders = []
    for path in CORE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names
                          if n.split(".")[0] in {"PySide6", "PyQt5", "PyQt6", "shiboken6"}
                          or n.startswith("evidence_recorder.ui")]
    assert offenders == []


def test_importing_all_of_core_and_the_cli_loads_no_qt() -> None:
    modules = [f"evidence_recorder.core.{m.name}" for m in pkgutil.iter_modules([str(CORE)])]
    code = (
        "import importlib, sys\n"
        f"for name in {[*modules, 'evidence_recorder.cli']!r}:\n"
        "    importlib.import_module(name)\n"
        "from evidence_recorder import cli\n"
        "cli.build_parser()\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('PySide6', 'shiboken6', 'PyQt5', 'PyQt6'))\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True, timeout=60)


def _imported_names(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_only_paths_asks_platformdirs_for_folders() -> None:
    """One paths module (qutebrowser's standarddir): the CLI, the app and settings all
    find their folders through core/paths.py, where the overrides live."""
    package = CORE.parent
    askers = sorted(str(path.relative_to(package)) for path in package.rglob("*.py")
                    if "platformdirs" in _imported_names(path))
    assert askers == ["core/paths.py"]


def test_one_libxcb_binding_for_the_app_and_the_screen_tests() -> None:
    """libxcb is loaded, and its shared calls and structures declared, in
    core/gather/xcb.py alone: window finding and the Xvfb tests bind one library one
    way (a second binding in the same process could redeclare a call differently)."""
    shared = ('"xcb_connect"', '"xcb_setup_roots_iterator"', '"xcb_intern_atom_reply"',
              "class _Cookie", "class _Screen", "libxcb.so.1")  # declared, not merely used
    sources = [*CORE.parent.rglob("*.py"), *(REPO / "tests").glob("*.py")]
    owners = {str(path.relative_to(REPO)) for path in sources
              for word in shared if word in path.read_text(encoding="utf-8")
              and path.name != "test_layers.py"}
    assert owners == {"evidence_recorder/core/gather/xcb.py"}


PACKAGE = CORE.parent


def test_no_importlib_tricks_get_round_the_import_contracts() -> None:
    """The contracts in pyproject.toml see ``import`` statements only: a module named in a
    string and loaded with import_module or __import__ would slip past them."""
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if "import_module" in line or "__import__" in line:
                offenders.append(f"{path.relative_to(PACKAGE)}:{number}: {line.strip()}")
    assert offenders == []


def test_widgets_do_not_hold_the_vault() -> None:
    """Only the session touches its Vault: a widget reading ``session.vault`` would reach
    the vault's methods without any import the contracts could see."""
    offenders = []
    for path in (PACKAGE / "ui").glob("*.py"):
        if path.name == "session.py":
            continue
        text = path.read_text(encoding="utf-8")
        offenders += [f"{path.name}: {line.strip()}" for line in text.splitlines()
                      if "session.vault" in line or "._vault" in line]
    assert offenders == []


def test_the_import_contracts_are_kept() -> None:
    """lint-imports (as scripts/test runs it): core has no Qt; cli over ui over core;
    widgets reach the vault, bundle and recorder modules only through ui.session."""
    lint_imports = Path(sys.executable).parent / "lint-imports"
    if not lint_imports.exists():
        pytest.skip("import-linter is not installed (pip install -e '.[test]')")
    done = subprocess.run([str(lint_imports), "--no-cache"], cwd=REPO, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


def test_importing_the_ui_loads_no_vault_bundle_or_recorder_code() -> None:
    """Widgets name core types through ui.session under TYPE_CHECKING, and the session
    imports the vault, bundle and recorder code only when an operation runs: the start
    window shows without loading SQLCipher, the bundle format or cryptography (which
    alone cost the start window a tenth of its time), nor QtWebEngine, which only the
    capture browser and the archived-page viewer need."""
    code = (
        "import importlib, pkgutil, sys\n"
        "import evidence_recorder.ui as ui\n"
        "for m in pkgutil.iter_modules(ui.__path__):\n"
        "    importlib.import_module('evidence_recorder.ui.' + m.name)\n"
        "heavy = ('evidence_recorder.core.vault', 'evidence_recorder.core.bundle.seal',\n"
        "         'evidence_recorder.core.gather.recorder', 'evidence_recorder.core.gather.web',\n"
        "         'sqlcipher3', 'cryptography', 'warcio', 'PySide6.QtWebEngineCore',\n"
        "         'PySide6.QtWebEngineWidgets')\n"
        "bad = sorted(m for m in sys.modules for h in heavy if m == h or m.startswith(h + '.'))\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True, timeout=60)


def test_only_the_web_package_imports_qtwebengine() -> None:
    """QtWebEngine (a whole Chromium) is loaded only where a page is shown or captured:
    evidence_recorder/web/. The app's other windows and the CLI reach it through it."""
    package = CORE.parent
    offenders = sorted(
        f"{path.relative_to(package)}: {name}"
        for path in package.rglob("*.py") if "web" not in path.relative_to(package).parts[:1]
        for name in _imported_names(path) if name.startswith("PySide6.QtWebEngine"))
    assert offenders == []
    assert any(name.startswith("PySide6.QtWebEngine")
               for name in _imported_names(package / "web" / "page.py"))
