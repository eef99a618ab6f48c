"""Translation: every user-visible string goes through Qt's tr(); dates follow the locale.

Three checks. The extraction script finds the app's strings (ui and the texts core
marks). No string literal reaches a Qt text API without tr() or translate(). And a
pseudo-translation, in which every message reads "[…]", shows that the texts on the
main window and the dialogs really are looked up at run time, in the right contexts.
"""

from __future__ import annotations

import ast
import io
import re
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import FAST_KDF, REPO
from PIL import Image
from PySide6.QtCore import QCoreApplication, QLocale, Qt, QTranslator
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QCalendarWidget,
    QDialogButtonBox,
    QLabel,
    QMenu,
    QTabBar,
    QTableView,
    QWidget,
)

from evidence_recorder.core.model import Capture, CaptureKind
from evidence_recorder.core.settings import Settings
from evidence_recorder.ui import i18n
from evidence_recorder.ui.describe import capture_time_text
from evidence_recorder.ui.wording import captured_tooltip, format_short

UI = REPO / "evidence_recorder" / "ui"
PSEUDO = re.compile(r"\[.*\]", re.DOTALL)


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The template the extraction script writes, in a folder of its own."""
    out = tmp_path_factory.mktemp("translations")
    subprocess.run([str(REPO / "scripts" / "update-translations"), str(out / "ts"),
                    str(out / "qm")], cwd=REPO, check=True, capture_output=True, timeout=120)
    return out / "ts" / "evidence_recorder.ts"


def _messages(ts: Path) -> dict[tuple[str, str], ET.Element]:
    root = ET.parse(ts).getroot()  # noqa: S314 - our own lupdate output
    return {(context.findtext("name") or "", message.findtext("source") or ""): message
            for context in root.iter("context") for message in context.iter("message")}


def test_the_script_extracts_ui_and_core_strings(extracted: Path) -> None:
    found = _messages(extracted)
    assert len(found) >= 500
    for key in [
        ("MainWindow", "&Capture"),
        ("MainWindow", "Capture whole &screen"),
        ("StartWindow", "Open a report bundle someone sent me…"),
        ("BundleViewer", "Evidence bundle"),
        ("DescribePanel", "&What happened"),
        ("Column", "Captured"),
        ("CaptureTime", "{day} at {time}"),
        ("Guide", "This involves sexual images of a child"),
        ("Category", "Harassment or bullying"),  # marked in core/model.py
        ("EvidenceError", "That is not a recovery key: it should be eight groups of four "
                          "letters and digits."),  # marked in core/vault/keyfile.py
    ]:
        assert key in found, key
    assert found[("MainWindow", "%n captures in this incident")].get("numerus") == "yes"
    assert (extracted.parent / "evidence_recorder_en_GB.ts").is_file()


def test_the_committed_template_holds_every_current_string(extracted: Path) -> None:
    """Translators work from translations/evidence_recorder.ts: it must not miss
    strings the code has gained (run scripts/update-translations) or keep dead ones."""
    committed = set(_messages(REPO / "translations" / "evidence_recorder.ts"))
    current = set(_messages(extracted))
    assert not current - committed, "new strings: run scripts/update-translations"
    assert not committed - current, "strings gone: run scripts/update-translations"


# ---------------------------------------------------------------------- no bare literals

# Qt calls whose string arguments the user reads, with the positions that hold text
# (None: every position).
_TEXT_CALLS: dict[str, tuple[int, ...] | None] = dict.fromkeys((
    "setText", "setWindowTitle", "setToolTip", "setPlaceholderText", "setStatusTip",
    "setWhatsThis", "setAccessibleName", "setAccessibleDescription", "showMessage",
    "setTitle", "setLabelText", "setInformativeText", "setDetailedText", "setSuffix",
    "setPrefix", "setSpecialValueText", "setHeaderLabels", "setHorizontalHeaderLabels",
    "setVerticalHeaderLabels", "addItem", "addMenu", "addToolBar", "addSection",
    "setCancelButtonText", "addButton", "setHtml", "addRow", "setUndoText",
    "QLabel", "QPushButton", "QCheckBox", "QRadioButton", "QGroupBox", "QMenu",
    "QToolBar", "QListWidgetItem", "QTableWidgetItem", "QCommandLinkButton",
), (0,))
_TEXT_CALLS.update({
    "addAction": None, "QAction": None, "QMessageBox": None, "QProgressDialog": None,
    "setTabText": (1,), "addTab": (1,),
    # QInputDialog and QFileDialog: the title and the label.
    "getText": (1, 2), "getMultiLineText": (1, 2), "getItem": (1, 2), "getInt": (1, 2),
    "get_text": (1, 2), "get_multiline_text": (1, 2),
    "getOpenFileNames": (1, 3), "getSaveFileName": (1, 3), "getExistingDirectory": (1,),
    # Our own wrappers around message boxes and file dialogs.
    "info": (1, 2), "warn": (1, 2), "error": (1, 2), "ask": (1, 2),
    "open_files": (1, 2), "save_file": (1, 3),
})
_TEXT_KEYWORDS = {"text", "title", "detail", "tip", "accessible_name"}
_SHORTCUT = re.compile(r"^(Ctrl|Alt|Shift|Meta)\+|^F\d+$")


def _literal_words(node: ast.AST) -> list[ast.AST]:
    """Parts of an argument that are string literals with words in them."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        text = node.value
        return [node] if re.search(r"[^\W\d_]", text) and not _SHORTCUT.match(text) else []
    if isinstance(node, ast.JoinedStr):
        words = "".join(v.value for v in node.values
                        if isinstance(v, ast.Constant) and isinstance(v.value, str))
        return [node] if re.search(r"[^\W\d_]", words) else []
    if isinstance(node, ast.IfExp):
        return _literal_words(node.body) + _literal_words(node.orelse)
    if isinstance(node, ast.BinOp):
        return _literal_words(node.left) + _literal_words(node.right)
    if isinstance(node, ast.List | ast.Tuple):
        return [hit for element in node.elts for hit in _literal_words(element)]
    return []  # a call (tr, translate, a helper), a name: not a bare literal


def _bare_literals(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    problems = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if name not in _TEXT_CALLS:
            continue
        owner = func.value if isinstance(func, ast.Attribute) else None
        if isinstance(owner, ast.Name) and owner.id in {"log", "logger", "logging", "_log"}:
            continue
        positions = _TEXT_CALLS[name]
        arguments = [arg for i, arg in enumerate(node.args)
                     if positions is None or i in positions]
        arguments += [kw.value for kw in node.keywords if kw.arg in _TEXT_KEYWORDS]
        for argument in arguments:
            for hit in _literal_words(argument):
                problems.append(f"{path.name}:{hit.lineno}: {ast.unparse(hit)[:70]}")
    return problems


def test_no_literal_reaches_a_qt_text_api_untranslated() -> None:
    problems = [problem for path in sorted(UI.glob("*.py")) for problem in _bare_literals(path)]
    assert problems == []


def test_the_literal_check_catches_what_it_should(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        'label.setText("Hello")\n'
        'label.setText(self.tr("Hello"))\n'
        'button = QPushButton(f"Save {n}")\n'
        'messages.info(self, "Saved", QCoreApplication.translate("X", "Done"))\n'
        'action = menu.addAction("…")\n'
        'label.setToolTip("Ctrl+S")\n', encoding="utf-8")
    assert [p.split(": ", 1)[1] for p in _bare_literals(sample)] == [
        "'Hello'", "f'Save {n}'", "'Saved'"]


# ---------------------------------------------------------------------- pseudo-translation


def _pseudo_catalogue(template: Path, out: Path) -> Path:
    """Every message translated as "[source]", compiled to a .qm file."""
    tree = ET.parse(template)  # noqa: S314 - our own lupdate output
    root = tree.getroot()
    root.set("language", "en_GB")
    for message in root.iter("message"):
        source = message.findtext("source") or ""
        translation = message.find("translation")
        assert translation is not None
        translation.attrib.pop("type", None)
        for child in list(translation):
            translation.remove(child)
        if message.get("numerus") == "yes":
            translation.text = None
            for _ in range(2):
                ET.SubElement(translation, "numerusform").text = f"[{source}]"
        else:
            translation.text = f"[{source}]"
    ts = out / "pseudo.ts"
    tree.write(ts, encoding="utf-8", xml_declaration=True)
    qm = out / "pseudo.qm"
    subprocess.run([str(REPO / ".venv" / "bin" / "pyside6-lrelease"), str(ts), "-qm", str(qm)],
                   check=True, capture_output=True, timeout=60)
    return qm


@pytest.fixture
def pseudo(qapp: QApplication, extracted: Path, tmp_path: Path) -> Iterator[QTranslator]:
    translator = QTranslator()
    assert translator.load(str(_pseudo_catalogue(extracted, tmp_path)))
    assert qapp.installTranslator(translator)
    try:
        yield translator
    finally:
        qapp.removeTranslator(translator)


def _visible_texts(window: QWidget) -> list[tuple[str, str]]:
    """(kind, text) of every menu, action, button and label the window holds."""
    texts: list[tuple[str, str]] = []
    for menu in window.findChildren(QMenu):
        texts.append(("menu", menu.title()))
    for action in window.actions():
        texts += [("action", action.text()), ("tooltip", action.toolTip())]
    for button in window.findChildren(QAbstractButton):
        if _qt_own(button):
            continue
        texts.append(("button", button.text()))
    for label in window.findChildren(QLabel):
        texts.append(("label", label.text()))
    for widget in [window, *window.findChildren(QWidget)]:
        if not _qt_own(widget):
            texts.append(("accessible name", widget.accessibleName()))
    return [(kind, text) for kind, text in texts if re.search(r"[^\W\d_]", text)]


def _qt_own(widget: QWidget) -> bool:
    """Texts Qt writes itself: standard buttons, month names, tab-bar scroll buttons."""
    if isinstance(widget.parent(), QDialogButtonBox | QTabBar):
        return True
    parent: QWidget | None = widget
    while parent is not None:
        if isinstance(parent, QCalendarWidget):
            return True
        parent = parent.parentWidget()
    return False


def _untranslated(window: QWidget) -> list[tuple[str, str]]:
    return [(kind, text) for kind, text in _visible_texts(window) if not PSEUDO.search(text)]


def test_windows_and_dialogs_speak_through_the_catalogue(
        qtbot, pseudo: QTranslator, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from evidence_recorder.ui.audit_view import AuditDialog
    from evidence_recorder.ui.bundle_viewer import BundleViewer
    from evidence_recorder.ui.crash import CrashDialog
    from evidence_recorder.ui.editor import AnnotationEditor
    from evidence_recorder.ui.guide import GuideDialog
    from evidence_recorder.ui.main_window import MainWindow
    from evidence_recorder.ui.session import VaultSession
    from evidence_recorder.ui.settings_dialog import SettingsDialog
    from evidence_recorder.ui.unlock import StartWindow

    session = VaultSession(tmp_path / "vault", FAST_KDF)
    settings = Settings(tmp_path / "settings.json")
    main = MainWindow(session, settings)
    start = StartWindow(session)
    viewer = BundleViewer()
    picture = io.BytesIO()
    Image.new("RGB", (40, 30), "white").save(picture, "PNG")
    host = QWidget()
    AnnotationEditor(picture.getvalue(), None, parent=host)
    guide = GuideDialog()
    dialog = SettingsDialog(settings, [(1, "Unsorted")], main)
    audit = AuditDialog([], main)
    crash = CrashDialog("Traceback: nothing of the user's")
    windows: list[QWidget] = [main, start, viewer, host, guide, dialog, audit, crash]
    for window in windows:
        qtbot.addWidget(window)

    assert main.menuBar().actions()[0].text() == "[&Capture]"
    assert viewer.windowTitle().startswith("[")
    assert len(_visible_texts(main)) > 50
    untranslated = {type(window).__name__: _untranslated(window) for window in windows}
    assert untranslated == {name: [] for name in untranslated}
    assert main.capture_model.headerData(0, Qt.Orientation.Horizontal) == "[Captured]"
    assert viewer.model.headerData(0, Qt.Orientation.Horizontal) == "[Captured]"
    assert audit.findChild(QTableView).model().headerData(1, Qt.Orientation.Horizontal) == "[When]"
    for window in windows:
        window.close()


def test_core_texts_are_translated_where_the_app_shows_them(pseudo: QTranslator) -> None:
    from evidence_recorder.core.errors import WrongSecret
    from evidence_recorder.core.vault.keyfile import parse_recovery_key

    with pytest.raises(WrongSecret) as caught:
        parse_recovery_key("not a key")
    assert caught.value.message.startswith("That is not a recovery key")  # core: English
    assert i18n.error_text(caught.value).startswith("[That is not a recovery key")
    assert i18n.category_text("Threat") == "[Threat]"


def test_a_missing_catalogue_leaves_british_english(qapp: QApplication, tmp_path: Path) -> None:
    installed = i18n.install_translators(qapp, QLocale("fr_FR"), folder=tmp_path)
    try:
        assert QCoreApplication.translate("MainWindow", "&Capture") == "&Capture"
    finally:
        i18n.remove_translators(qapp, installed)


# ---------------------------------------------------------------------- dates


def _capture(when: datetime, tz_name: str = "Europe/London") -> Capture:
    return Capture(id=1, incident_id=1, kind=CaptureKind.REGION, captured_at=when,
                   tz_name=tz_name, utc_offset="+00:00", sha256="0" * 64, width=10,
                   height=10, media_type="image/png", byte_size=10, environment={}, source=None)


@pytest.fixture
def locale() -> Iterator[None]:
    yield
    QLocale.setDefault(QLocale(QLocale.Language.English, QLocale.Country.UnitedKingdom))


def test_dates_follow_the_locale_with_utc_beside_them(locale: None) -> None:
    winter = _capture(datetime(2026, 11, 25, 14, 2, 31, tzinfo=UTC))
    british = (format_short(winter.captured_at), captured_tooltip(winter),
               capture_time_text(winter))
    assert british[0] == "25 Nov 2026 14:02"
    assert british[1] == ("Captured 25 Nov 2026 at 14:02:31 (Europe/London)\n"
                          "25 Nov 2026 at 14:02:31 UTC")

    QLocale.setDefault(QLocale(QLocale.Language.English, QLocale.Country.UnitedStates))
    american = (format_short(winter.captured_at), captured_tooltip(winter),
                capture_time_text(winter))
    # Month first, a 12-hour clock (CLDR puts a narrow no-break space before "PM").
    assert re.fullmatch(r"Nov 25, 2026 2:02\WPM", american[0])
    assert re.search(r"Nov 25, 2026 at 2:02:31\WPM UTC", american[1])
    assert re.search(r"Captured Nov 25, 2026 at 2:02:31\WPM .*· 2:02:31\WPM\u00a0UTC",
                     american[2])
    assert american != british

    QLocale.setDefault(QLocale(QLocale.Language.German, QLocale.Country.Germany))
    summer = _capture(datetime(2026, 7, 1, 12, 0, 5, tzinfo=UTC), "Europe/Berlin")
    german = capture_time_text(summer)
    assert "1. Juli 2026" in german or "1. Jul. 2026" in german
    assert "14:00:05" in german and "12:00:05\u00a0UTC" in german
