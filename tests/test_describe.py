"""The describe panel: filling, editing, guessing the site, marking, clearing, keyboard use."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QWidget,
)

from evidence_recorder.core.model import (
    IMPORTANT_DETAILS,
    Capture,
    CaptureDetails,
    CaptureKind,
    ImportSource,
    Incident,
)
from evidence_recorder.core.vault.store import MAX_TEXT
from evidence_recorder.ui.describe import DescribePanel, capture_time_text

CAPTURED = datetime(2026, 11, 25, 14, 2, 31, 123000, tzinfo=UTC)
INCIDENTS = [Incident(1, "Unsorted captures", "", "", CAPTURED, True, 3),
             Incident(2, "Year 10 group chat", "", "", CAPTURED, False, 1)]
FULL = CaptureDetails(
    site="Facebook", url="https://www.facebook.com/groups/1/posts/2", author="Sam Jones",
    handle="@samj", profile_url="https://www.facebook.com/samj", author_id="100012345",
    posted_at="2h", category="harassment", description="Called me a liar in front of parents",
    context="Thread under the school fête photos\nSecond line", people="Mrs Patel",
    platform_ref="FB-123", police_ref="CR/1234/26",
)


def capture(details: CaptureDetails | None = None, *, incident_id: int = 1,
            when: datetime = CAPTURED, tz_name: str = "Europe/London",
            kind: CaptureKind = CaptureKind.REGION,
            source: ImportSource | None = None) -> Capture:
    return Capture(
        id=42, incident_id=incident_id, kind=kind, captured_at=when, tz_name=tz_name,
        utc_offset="+00:00", sha256="0" * 64, width=10, height=10, media_type="image/png",
        byte_size=1, environment={}, source=source,
        details=CaptureDetails(**(details or CaptureDetails()).as_dict()),
    )


@pytest.fixture
def panel(qtbot) -> DescribePanel:  # type: ignore[no-untyped-def]
    widget = DescribePanel()
    qtbot.addWidget(widget)
    widget.resize(480, 700)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def line(panel: DescribePanel, name: str) -> QLineEdit:
    field = panel.inputs[name]
    assert isinstance(field, QLineEdit)
    return field


def text_box(panel: DescribePanel, name: str) -> QPlainTextEdit:
    field = panel.inputs[name]
    assert isinstance(field, QPlainTextEdit)
    return field


def combo(panel: DescribePanel, name: str) -> QComboBox:
    field = panel.inputs[name]
    assert isinstance(field, QComboBox)
    return field


def site_text(panel: DescribePanel) -> str:
    return combo(panel, "site").currentText()


# ------------------------------------------------------------------ loading


def test_set_capture_fills_every_field(panel: DescribePanel) -> None:
    panel.set_capture(capture(FULL, incident_id=2), INCIDENTS)
    assert panel.isEnabled()
    assert site_text(panel) == "Facebook"
    assert line(panel, "url").text() == FULL.url
    assert line(panel, "author").text() == "Sam Jones"
    assert line(panel, "handle").text() == "@samj"
    assert line(panel, "profile_url").text() == FULL.profile_url
    assert line(panel, "author_id").text() == "100012345"
    assert line(panel, "posted_at").text() == "2h"
    assert combo(panel, "category").currentText() == "Harassment or bullying"
    assert text_box(panel, "description").toPlainText() == FULL.description
    assert text_box(panel, "context").toPlainText() == FULL.context
    assert line(panel, "people").text() == "Mrs Patel"
    assert line(panel, "platform_ref").text() == "FB-123"
    assert line(panel, "police_ref").text() == "CR/1234/26"
    assert panel.incident_box.currentText() == "Year 10 group chat"
    assert panel.incident_id() == 2
    assert panel.details() == FULL
    assert panel.changed_fields() == {}
    assert not panel.has_changes()
    assert panel.capture_id() == 42
    assert panel.time_label.text() == (
        "Captured 25 Nov 2026 at 14:02:31 (your time, Europe/London)\u00a0· 14:02:31\u00a0UTC")


def test_capture_time_reads_in_local_time_with_utc_beside_it() -> None:
    summer = datetime(2026, 7, 1, 12, 0, 5, tzinfo=UTC)
    assert capture_time_text(capture(when=summer)) == (
        "Captured 1 Jul 2026 at 13:00:05 (your time, Europe/London)\u00a0· 12:00:05\u00a0UTC")
    # Late evening in New York is already tomorrow in UTC: say the UTC date too.
    late = datetime(2026, 11, 26, 2, 30, tzinfo=UTC)
    assert capture_time_text(capture(when=late, tz_name="America/New_York")) == (
        "Captured 25 Nov 2026 at 21:30:00 (your time, America/New_York)\u00a0· "
        "26 Nov 2026 at 02:30:00\u00a0UTC")
    imported = capture(kind=CaptureKind.IMPORT, source=ImportSource(
        "IMG_1.PNG", 10, "2026-11-20T10:00:00.000Z", "2026:11:03 21:04:00"))
    assert capture_time_text(imported).startswith("Imported 25 Nov 2026 at 14:02:31")
    assert "The file says it was taken 2026:11:03 21:04:00" in capture_time_text(imported)


def test_no_capture_shows_only_a_short_line(panel: DescribePanel) -> None:
    assert not panel.isEnabled()
    assert not panel.scroll_area.isVisible()
    assert not panel.hint.isVisible()
    assert panel.time_label.text().startswith("No capture selected.")


# ------------------------------------------------------------------ editing


def test_changed_fields_holds_only_what_the_user_changed(qtbot, panel: DescribePanel) -> None:  # type: ignore[no-untyped-def]
    panel.set_capture(capture(FULL), INCIDENTS)
    author = line(panel, "author")
    author.setFocus()
    author.selectAll()
    qtbot.keyClicks(author, "Sam J. Jones")
    assert panel.changed_fields() == {"author": "Sam J. Jones"}

    combo(panel, "category").setCurrentIndex(combo(panel, "category").findData("threat"))
    description = text_box(panel, "description")
    description.moveCursor(description.textCursor().MoveOperation.End)
    qtbot.keyClicks(description, " again")
    assert panel.changed_fields() == {
        "author": "Sam J. Jones", "category": "threat",
        "description": FULL.description + " again",
    }
    # Back to what was loaded: no change left.
    author.setText("Sam Jones")
    description.setPlainText(FULL.description)
    combo(panel, "category").setCurrentIndex(1)
    assert panel.changed_fields() == {}
    # White space around a one-line value is not a change.
    line(panel, "handle").setText("  @samj ")
    assert panel.changed_fields() == {}
    # Choosing "Choose…" clears the category.
    combo(panel, "category").setCurrentIndex(0)
    assert panel.changed_fields() == {"category": ""}


def test_changing_the_incident_is_a_change_but_not_a_detail(panel: DescribePanel) -> None:
    panel.set_capture(capture(FULL), INCIDENTS)
    panel.incident_box.setCurrentIndex(1)
    assert panel.incident_id() == 2
    assert panel.changed_fields() == {}
    assert panel.has_changes()
    panel.mark_saved()
    assert not panel.has_changes()


def test_save_button_and_shortcuts_ask_to_save_even_with_nothing_filled(  # type: ignore[no-untyped-def]
        qtbot, panel: DescribePanel) -> None:
    panel.set_capture(capture(), INCIDENTS)
    with qtbot.waitSignal(panel.save_requested):
        qtbot.mouseClick(panel.save_button, Qt.MouseButton.LeftButton)
    panel.activateWindow()
    line(panel, "author").setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is line(panel, "author"))
    with qtbot.waitSignal(panel.save_requested):
        qtbot.keyClick(line(panel, "author"), Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    text_box(panel, "description").setFocus()
    with qtbot.waitSignal(panel.save_requested):
        qtbot.keyClick(text_box(panel, "description"), Qt.Key.Key_Return,
                       Qt.KeyboardModifier.ControlModifier)
    assert text_box(panel, "description").toPlainText() == ""  # no newline typed


# ------------------------------------------------------------------ the site from the link


def test_typing_a_link_fills_an_empty_site_and_follows_it(qtbot, panel: DescribePanel) -> None:  # type: ignore[no-untyped-def]
    panel.set_capture(capture(), INCIDENTS)
    url = line(panel, "url")
    qtbot.keyClicks(url, "https://www.instagram.com/p/AbC/")
    assert site_text(panel) == "Instagram"
    assert panel.changed_fields()["site"] == "Instagram"
    url.setText("x.com/someone/status/1")  # the guess follows while the user has not chosen
    assert site_text(panel) == "X/Twitter"
    url.setText("https://example.org/forum")
    assert site_text(panel) == ""
    url.clear()
    assert site_text(panel) == ""


def test_pasting_a_link_fills_the_site(qtbot, panel: DescribePanel) -> None:  # type: ignore[no-untyped-def]
    panel.set_capture(capture(), INCIDENTS)
    QGuiApplication.clipboard().setText("https://vm.tiktok.com/ZMabc/")
    line(panel, "url").paste()
    assert site_text(panel) == "TikTok"


def test_a_site_the_user_chose_or_saved_is_never_overwritten(qtbot, panel: DescribePanel) -> None:  # type: ignore[no-untyped-def]
    panel.set_capture(capture(), INCIDENTS)
    site = combo(panel, "site")
    site.setCurrentIndex(site.findText("WhatsApp"))  # the user picks from the list
    line(panel, "url").setText("https://www.facebook.com/x")
    assert site_text(panel) == "WhatsApp"

    panel.set_capture(capture(CaptureDetails(site="Other")), INCIDENTS)
    line(panel, "url").setText("https://youtu.be/abc")
    assert site_text(panel) == "Other"

    panel.set_capture(capture(), INCIDENTS)
    line(panel, "url").setText("https://youtu.be/abc")
    assert site_text(panel) == "YouTube"
    site.lineEdit().selectAll()
    qtbot.keyClicks(site.lineEdit(), "A forum")  # typed over the guess: now the user's
    line(panel, "url").setText("https://www.linkedin.com/in/x")
    assert site_text(panel) == "A forum"


# ------------------------------------------------------------------ important fields


def test_empty_important_fields_are_marked_and_named_until_filled(  # type: ignore[no-untyped-def]
        qtbot, panel: DescribePanel) -> None:
    panel.set_capture(capture(), INCIDENTS)
    assert all(panel.is_marked(name) for name in IMPORTANT_DETAILS)
    assert not panel.is_marked("handle")
    assert not panel.is_marked("police_ref")
    assert panel.hint.isVisible()
    assert panel.hint_text.text().startswith(
        "Worth adding: site, link, author, time on the post, what happened.")
    assert "Worth adding" in line(panel, "author").accessibleDescription()

    qtbot.keyClicks(line(panel, "author"), "Sam")
    assert not panel.is_marked("author")
    assert line(panel, "author").accessibleDescription() == "The name shown on the post"
    assert panel.hint_text.text().startswith(
        "Worth adding: site, link, time on the post, what happened.")
    qtbot.keyClicks(line(panel, "url"), "https://twitter.com/x/status/1")  # site guessed too
    qtbot.keyClicks(line(panel, "posted_at"), "2h")
    assert panel.missing_important() == ["description"]
    qtbot.keyClicks(text_box(panel, "description"), "A threat")
    assert panel.missing_important() == []
    assert not any(panel.is_marked(name) for name in IMPORTANT_DETAILS)
    assert not panel.hint.isVisible()
    line(panel, "author").setText("   ")  # blank is empty
    assert panel.is_marked("author")
    assert panel.hint.isVisible()


def test_a_fully_described_capture_shows_no_marks(panel: DescribePanel) -> None:
    panel.set_capture(capture(FULL), INCIDENTS)
    assert panel.missing_important() == []
    assert not panel.hint.isVisible()


# ------------------------------------------------------------------ limits


def test_long_text_is_cut_at_the_vault_limit_with_a_gentle_note(panel: DescribePanel) -> None:
    panel.set_capture(capture(), INCIDENTS)
    box = text_box(panel, "description")
    box.insertPlainText("x" * (MAX_TEXT + 50))
    assert len(box.toPlainText()) == MAX_TEXT
    note = panel._rows["description"].note
    assert note.isVisible()
    assert "20,000 characters" in note.text()
    assert line(panel, "url").maxLength() == MAX_TEXT
    panel.set_capture(capture(), INCIDENTS)
    assert not note.isVisible()


def test_nul_characters_never_reach_the_vault(panel: DescribePanel) -> None:
    panel.set_capture(capture(), INCIDENTS)
    text_box(panel, "context").setPlainText("before\x00after")
    assert panel.changed_fields() == {"context": "beforeafter"}


# ------------------------------------------------------------------ locking


def test_clear_forgets_every_word_and_its_undo_history(qtbot, panel: DescribePanel) -> None:  # type: ignore[no-untyped-def]
    panel.set_capture(capture(FULL, incident_id=2), INCIDENTS)
    qtbot.keyClicks(line(panel, "author"), " typed")
    qtbot.keyClicks(text_box(panel, "description"), " typed")
    panel.clear()
    assert panel.details() == CaptureDetails()
    assert panel.changed_fields() == {}
    assert panel.incident_id() is None
    assert panel.incident_box.count() == 0
    assert panel.capture_id() is None
    assert panel.time_label.text().startswith("No capture selected.")
    assert not panel.isEnabled()
    for field in panel.findChildren(QLineEdit):
        field.undo()
        assert field.text() == ""
    for box in panel.findChildren(QPlainTextEdit):
        box.undo()
        assert box.toPlainText() == ""
    assert combo(panel, "site").currentIndex() == -1


# ------------------------------------------------------------------ keyboard and screen readers


def test_every_input_has_an_accessible_name_and_every_label_a_buddy(panel: DescribePanel) -> None:
    panel.set_capture(capture(), INCIDENTS)
    inputs = [*panel.findChildren(QLineEdit), *panel.findChildren(QPlainTextEdit),
              *panel.findChildren(QComboBox), *panel.findChildren(QPushButton)]
    assert len(inputs) >= 15
    for widget in inputs:
        assert widget.accessibleName().strip(), widget.objectName()
    mnemonics = []
    for name, label in panel.labels.items():
        assert isinstance(label, QLabel)
        assert label.buddy() is (panel.inputs.get(name) or panel.incident_box)
        text = label.text()
        assert text.count("&") == 1, text
        mnemonics.append(text[text.index("&") + 1].lower())
    assert len(mnemonics) == len(set(mnemonics)), mnemonics  # no two share a letter
    # Nor with the main window's menus (Capture, Evidence, Vault, Help) and tabs
    # (Pictures, Timeline), where Alt+letter would become ambiguous.
    assert not set(mnemonics) & set("cevhpt"), mnemonics


def test_tab_follows_the_visual_order(qtbot, panel: DescribePanel) -> None:  # type: ignore[no-untyped-def]
    panel.set_capture(capture(), INCIDENTS)
    expected = panel.focus_order()
    # The visual order: each field sits below (or beside) the one before.
    tops = [w.mapTo(panel, w.rect().topLeft()).y() for w in expected[:-1]]
    assert tops == sorted(tops)

    panel.activateWindow()
    first = expected[0]
    first.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(lambda: first.hasFocus())
    visited: list[QWidget] = []
    for _ in expected:
        focused = QApplication.focusWidget()
        assert focused is not None
        # An editable combo box hands focus to its line edit.
        owner = focused.parentWidget() if focused is combo(panel, "site").lineEdit() else focused
        visited.append(owner)
        qtbot.keyClick(focused, Qt.Key.Key_Tab)
    assert visited == expected


@pytest.mark.parametrize(("width", "height"), [(1280, 720), (360, 640)])
def test_layout_holds_wide_and_narrow(qtbot, panel: DescribePanel, width: int, height: int) -> None:  # type: ignore[no-untyped-def]
    panel.set_capture(capture(FULL), INCIDENTS)
    panel.resize(width, height)
    qtbot.wait(20)
    viewport = panel.scroll_area.viewport()
    content = panel.scroll_area.widget()
    assert content.width() <= viewport.width()
    for name, field in panel.inputs.items():
        row = panel._rows[name]
        assert field.width() > 50, name
        # Nothing clipped: every field keeps its full height inside its row.
        assert row.height() >= field.height(), name
        right = field.mapTo(content, field.rect().topRight()).x()
        assert right <= content.width(), name
    assert panel.save_button.isVisible()
    assert panel.save_button.mapTo(panel, panel.save_button.rect().bottomRight()).y() < height


def _rect(widget: QWidget, ancestor: QWidget) -> tuple[int, int, int, int]:
    """(left, top, right, bottom) of a widget in an ancestor's coordinates."""
    top_left = widget.mapTo(ancestor, widget.rect().topLeft())
    return (top_left.x(), top_left.y(), top_left.x() + widget.width(),
            top_left.y() + widget.height())


def test_a_wide_form_has_two_columns_and_a_narrow_one_a_single_column(  # type: ignore[no-untyped-def]
        qtbot, panel: DescribePanel) -> None:
    panel.set_capture(capture(FULL), INCIDENTS)
    content = panel.scroll_area.widget()
    panel.resize(760, 680)  # the form's share of the describe window at 1280×720
    qtbot.waitUntil(lambda: panel.is_two_columns())
    qtbot.wait(20)
    where, what, reports = (_rect(panel.blocks[b], content) for b in ("where", "what", "reports"))
    assert where[2] <= what[0] and reports[2] <= what[0]  # where and reports left of what
    assert where[1] == what[1]  # side by side, from the top
    assert where[3] <= reports[1]
    # Who posted it on the left, what happened on the right, each field a real width.
    assert _rect(panel.inputs["author"], content)[2] <= _rect(panel.inputs["description"],
                                                              content)[0]
    assert all(field.width() >= 250 for field in panel.inputs.values())
    names = [w.objectName() for w in panel.focus_order()[:-1]]
    assert names[:6] == ["site", "url", "author", "handle", "profile_url", "author_id"]
    assert names[6:8] == ["platform_ref", "police_ref"]  # down the left column first
    assert names[-5:] == ["posted_at", "category", "description", "context", "people"]

    panel.resize(420, 680)  # the main window's detail pane
    qtbot.waitUntil(lambda: not panel.is_two_columns())
    qtbot.wait(20)
    where, what, reports = (_rect(panel.blocks[b], content) for b in ("where", "what", "reports"))
    assert where[3] <= what[1] and what[3] <= reports[1]  # stacked, in the guidance's order
    assert where[0] == what[0] == reports[0]
    names = [w.objectName() for w in panel.focus_order()[:-1]]
    assert names[5:7] == ["author_id", "posted_at"]


@pytest.mark.parametrize("width", [320, 420, 760, 1280])
def test_hints_and_labels_are_never_cut_off(qtbot, panel: DescribePanel, width: int) -> None:  # type: ignore[no-untyped-def]
    panel.set_capture(capture(), INCIDENTS)
    panel.resize(width, 700)
    qtbot.wait(20)
    shown = 0
    for name, row in panel._rows.items():
        texts = [panel.labels[name], row.help]
        for label in texts:
            if label.isVisibleTo(panel) and label.text():
                assert label.wordWrap(), name
                assert label.height() >= label.heightForWidth(label.width()), name
                assert label.rect().right() <= row.parentWidget().width(), name
        shown += row.help.isVisibleTo(panel)
        field = panel.inputs[name]
        if isinstance(field, QLineEdit) and field.placeholderText():
            room = field.width() - 2 * field.fontMetrics().horizontalAdvance("M")
            assert field.fontMetrics().horizontalAdvance(field.placeholderText()) <= room, name
    assert shown >= 6  # the long hints are grey lines, no longer placeholders
    assert "address bar" in panel._rows["url"].help.text()


def test_what_happened_shows_at_least_six_lines(panel: DescribePanel) -> None:
    panel.set_capture(capture(), INCIDENTS)
    box = text_box(panel, "description")
    assert box.viewport().height() // box.fontMetrics().lineSpacing() >= 6


def test_handles_are_shown_as_at_name(qtbot, panel: DescribePanel) -> None:  # type: ignore[no-untyped-def]
    panel.set_capture(capture(CaptureDetails(handle="samj")), INCIDENTS)  # an older vault's
    handle = line(panel, "handle")
    assert handle.text() == "@samj"
    assert panel.changed_fields() == {}  # shown with its @, not rewritten unless edited
    panel.set_capture(capture(), INCIDENTS)
    handle.setFocus()
    qtbot.keyClicks(handle, "  Sam_J")
    assert panel.changed_fields() == {"handle": "@Sam_J"}
    handle.editingFinished.emit()  # the user moves on
    assert handle.text() == "@Sam_J"
    assert not panel._rows["handle"].note.isVisibleTo(panel)
    handle.setText("sam j")
    note = panel._rows["handle"].note
    assert note.isVisibleTo(panel) and "no spaces" in note.text()
    handle.editingFinished.emit()
    assert handle.text() == "sam j"  # left for the user to put right
    handle.setText("@samj")
    assert not note.isVisibleTo(panel)
