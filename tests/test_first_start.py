"""The first start in a worried person's hands: the recovery key sheet and where it prints,
the strength bar, Caps Lock, the start window's two choices and text that is never cut off."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import FAST_KDF, PASSPHRASE
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QPageSize
from PySide6.QtPrintSupport import QPrintDialog, QPrinter, QPrinterInfo
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QLabel, QLineEdit, QWidget
from pytestqt.qtbot import QtBot

from evidence_recorder.ui import messages
from evidence_recorder.ui import unlock as unlock_module
from evidence_recorder.ui.keys_dialog import ChangeAllKeysDialog, ChangePassphraseDialog
from evidence_recorder.ui.passphrase_hints import strength_hint
from evidence_recorder.ui.recovery_sheet import paint_recovery_sheet
from evidence_recorder.ui.session import VaultSession
from evidence_recorder.ui.unlock import RecoveryKeyPage, StartWindow

KEY = "ABCD-EFGH-JKLM-NPQR-STUV-WXYZ-2345-6789"
LINE_ONE, LINE_TWO = "ABCD  EFGH  JKLM  NPQR", "STUV  WXYZ  2345  6789"


@pytest.fixture
def start(qtbot: QtBot, tmp_path: Path) -> Iterator[StartWindow]:
    window = StartWindow(VaultSession(tmp_path / "vault", FAST_KDF))
    qtbot.addWidget(window)
    yield window
    messages._next_answers.clear()


def _pdf_printer(path: Path, size: QPageSize.PageSizeId = QPageSize.PageSizeId.A4) -> QPrinter:
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(path))
    printer.setPageSize(QPageSize(size))
    return printer


def _pdf_text(path: Path) -> str:
    tool = shutil.which("pdftotext")
    if tool is None:
        pytest.skip("pdftotext is not installed (poppler-utils; scripts/setup --test)")
    return subprocess.run([tool, "-layout", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout


# ------------------------------------------------------------------ printing the key

@pytest.mark.parametrize("size", [QPageSize.PageSizeId.A4, QPageSize.PageSizeId.A6])
def test_the_printed_sheet_says_what_it_is_and_keeps_the_key_on_two_lines(
        qapp: object, tmp_path: Path, size: QPageSize.PageSizeId) -> None:
    pdf = tmp_path / "sheet.pdf"
    assert paint_recovery_sheet(_pdf_printer(pdf, size), KEY)
    text = _pdf_text(pdf)
    lines = [" ".join(line.split()) for line in text.splitlines()]
    assert "Evidence Recorder — recovery key" in " ".join(" ".join(lines).split())
    # Eight groups of four, four to a line, each line whole even on a small page.
    assert " ".join(LINE_ONE.split()) in lines and " ".join(LINE_TWO.split()) in lines
    flat = " ".join(text.split())
    assert "Printed on" in flat
    assert "only way back into your evidence" in flat
    assert "Where to keep it" in flat and "photo on your phone" in flat
    assert "does not hold your passphrase" in flat
    assert "/" not in flat  # no folder: it would say where the evidence is


def test_without_a_printer_printing_says_so_and_writes_no_pdf(
        qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Before: the print dialog offered "Print to File (PDF)" in the home folder."""
    dialogs: list[QPrintDialog] = []
    monkeypatch.setattr(QPrinterInfo, "availablePrinters", staticmethod(list))
    monkeypatch.setattr(QPrintDialog, "exec",
                        lambda self: dialogs.append(self) or QPrintDialog.DialogCode.Rejected)
    page = RecoveryKeyPage()
    qtbot.addWidget(page)
    page.set_key(KEY)
    messages.set_next_answer(messages.Button.Ok)
    page.print_button.click()
    assert dialogs == []
    assert messages.shown[-1][0] == "No printer"
    assert "write it on paper" in messages.shown[-1][1]


@pytest.mark.parametrize("confirm", [False, True])
def test_printing_to_a_file_warns_first(qtbot: QtBot, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch, confirm: bool) -> None:
    pdf = tmp_path / "key.pdf"
    monkeypatch.setattr(unlock_module, "real_printer",
                        lambda: QPrinter(QPrinter.PrinterMode.HighResolution))
    page = RecoveryKeyPage()
    qtbot.addWidget(page)
    page.set_key(KEY)

    def person_picks_print_to_file(printer: QPrinter) -> bool:
        printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
        printer.setOutputFileName(str(pdf))
        return True

    monkeypatch.setattr(page, "_run_print_dialog", person_picks_print_to_file)
    messages.set_next_answer(messages.Button.Yes if confirm else messages.Button.No)
    page.print_button.click()
    title, text = messages.shown[-1]
    assert title == "Save the key as a file?" and "anyone who finds it" in text
    assert pdf.exists() == confirm
    if confirm:
        assert LINE_ONE.split()[0] in _pdf_text(pdf)


def test_printing_to_paper_asks_nothing(qtbot: QtBot, monkeypatch: pytest.MonkeyPatch) -> None:
    printed: list[QPrinter] = []
    paper = QPrinter(QPrinter.PrinterMode.HighResolution)
    monkeypatch.setattr(unlock_module, "real_printer", lambda: paper)
    monkeypatch.setattr(unlock_module, "prints_to_file", lambda printer: False)
    monkeypatch.setattr(unlock_module, "paint_recovery_sheet",
                        lambda printer, key: printed.append(printer) or True)
    page = RecoveryKeyPage()
    qtbot.addWidget(page)
    page.set_key(KEY)
    monkeypatch.setattr(page, "_run_print_dialog", lambda printer: True)
    before = len(messages.shown)
    page.print_button.click()
    assert printed == [paper] and len(messages.shown) == before


# ------------------------------------------------------------------ strength and Caps Lock

def test_repeated_password_reads_weak_and_words_read_strong() -> None:
    """Before: "password1password1" was "Good" (it is long, so it passed the word count)."""
    assert strength_hint("password1password1").startswith("Very weak")
    assert "same thing twice" in strength_hint("password1password1")
    assert strength_hint("qwertyuiop123").startswith(("Very weak", "Weak"))
    assert strength_hint(PASSPHRASE).startswith("Strong")
    assert "well-known example" in strength_hint("correct horse battery staple")


def _strength_forms(start: StartWindow, qtbot: QtBot) -> list[QWidget]:
    change = ChangePassphraseDialog(start.session, start)
    every = ChangeAllKeysDialog(start.session, start)
    qtbot.addWidget(change)
    qtbot.addWidget(every)
    return [start.create_page, start.recover_page, change.form, every.form]


def test_every_new_passphrase_has_the_strength_bar(qtbot: QtBot, start: StartWindow) -> None:
    start.resize(1280, 720)
    start.show()
    for form in _strength_forms(start, qtbot):
        meter = form.strength  # type: ignore[attr-defined]
        field: QLineEdit = form.passphrase  # type: ignore[attr-defined]
        field.setText("password1password1")
        assert meter.score == 0 and meter.bar.value() == 1
        weak = meter.bar.styleSheet()
        assert meter.text().startswith("Very weak")
        field.setText(PASSPHRASE)
        assert meter.score == 4 and meter.bar.value() == meter.bar.maximum()
        assert meter.bar.styleSheet() != weak  # red, then green
        assert meter.bar.accessibleName() == "Passphrase strength"
        field.clear()
        assert meter.score is None and "12 characters" in meter.text()


def _type(field: QLineEdit, key: Qt.Key, text: str, shift: bool = False) -> None:
    modifier = Qt.KeyboardModifier.ShiftModifier if shift else Qt.KeyboardModifier.NoModifier
    QTest.sendKeyEvent(QTest.KeyAction.Press, field, key, text, modifier)
    QTest.sendKeyEvent(QTest.KeyAction.Release, field, key, text, modifier)


def test_caps_lock_is_noticed_on_every_passphrase_field(qtbot: QtBot, start: StartWindow) -> None:
    start.resize(1280, 720)
    start.show()
    pages: list[tuple[QWidget, QLineEdit]] = [
        (start.create_page, start.create_page.passphrase),
        (start.create_page, start.create_page.confirm),
        (start.unlock_page, start.unlock_page.passphrase),
        (start.recover_page, start.recover_page.passphrase)]
    for form in _strength_forms(start, qtbot)[2:]:
        pages.append((form, form.current))  # type: ignore[attr-defined]
    for page, field in pages:
        warning: QLabel = page.caps_warning  # type: ignore[attr-defined]
        _type(field, Qt.Key.Key_A, "a")
        assert not warning.isVisibleTo(page)
        _type(field, Qt.Key.Key_B, "B")  # upper case without Shift: Caps Lock
        assert warning.isVisibleTo(page) and warning.text() == "Caps Lock is on"
        _type(field, Qt.Key.Key_C, "c", shift=True)  # still on: Shift gives lower case
        assert warning.isVisibleTo(page)
        _type(field, Qt.Key.Key_1, "1")  # digits say nothing either way
        assert warning.isVisibleTo(page)
        _type(field, Qt.Key.Key_D, "D", shift=True)  # Shift gives upper case: off again
        assert not warning.isVisibleTo(page)
        assert field.text() == "aBc1D"  # the field still gets every key


# ------------------------------------------------------------------ the start window

def _cut_off(window: QWidget, page: QWidget) -> list[str]:
    """Visible wrapped labels shorter than their text needs, or outside the window."""
    problems = []
    for label in page.findChildren(QLabel):
        if not label.isVisibleTo(window) or not label.text():
            continue
        top_left = label.mapTo(window, QPoint(0, 0))
        if label.wordWrap() and label.height() < label.heightForWidth(label.width()):
            problems.append(f"squeezed: {label.text()[:40]!r}")
        if top_left.y() < 0 or top_left.y() + label.height() > window.height():
            problems.append(f"outside: {label.text()[:40]!r}")
    return problems


def test_a_mismatch_error_does_not_cut_off_the_welcome(qtbot: QtBot, start: StartWindow) -> None:
    """Before: at the window's own size the welcome paragraph lost its first and last lines."""
    start.resize(start.minimumSize())
    start.show()
    qtbot.waitExposed(start)
    page = start.create_page
    page.passphrase.setText("password1password1")
    page.confirm.setText("password1password2")
    page.create_button.click()
    assert page.error.isVisibleTo(start) and "not the same" in page.error.text()
    assert _cut_off(start, page) == []


def test_the_first_page_offers_both_choices_and_the_key_page_only_the_key(
        qtbot: QtBot, start: StartWindow) -> None:
    start.resize(1280, 720)
    start.show()
    qtbot.waitExposed(start)
    page = start.create_page
    assert start.stack.currentWidget() is page
    big = page.bundle_button
    assert big.isVisible() and big.text().startswith("Open a report bundle")
    assert not start.bundle_button.isVisible()  # not twice
    assert big.height() >= 40 and big.height() >= page.create_button.height()
    assert big.font().bold() and big.width() > start.help_button.width()
    assert big.mapTo(start, QPoint(0, 0)).y() < page.passphrase.mapTo(start, QPoint(0, 0)).y()
    with qtbot.waitSignal(start.open_bundle_requested, timeout=1000):
        qtbot.mouseClick(big, Qt.MouseButton.LeftButton)

    page.passphrase.setText(PASSPHRASE)
    page.confirm.setText(PASSPHRASE)
    page.create_button.click()
    qtbot.waitUntil(lambda: start.stack.currentWidget() is start.key_page, timeout=10_000)
    texts = [w.text() for w in start.findChildren(QWidget)
             if w.isVisible() and hasattr(w, "text") and isinstance(w.text(), str)]
    assert not [t for t in texts if "report bundle" in t]
    start.session.lock()

    start.reset()  # a vault now exists: the unlock page keeps the small button
    assert start.stack.currentWidget() is start.unlock_page
    assert start.bundle_button.isVisible()
