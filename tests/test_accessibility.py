"""Accessibility: a screen reader can name every control, forms are walked in reading
order, dialogs answer Escape and Enter, and text meets WCAG 2.x AA contrast in the
light and the dark system theme.

Real screen readers (Orca, NVDA, VoiceOver) cannot run here; these tests ask Qt's own
accessibility layer (QAccessible) what it would hand them, which is what they read.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import PASSPHRASE
from PySide6.QtCore import QEvent, QModelIndex, QPoint, Qt
from PySide6.QtGui import QAccessible, QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractScrollArea,
    QAbstractSlider,
    QAbstractSpinBox,
    QApplication,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QGroupBox,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QScrollBar,
    QTabBar,
    QTableView,
    QTextEdit,
    QWidget,
)
from pytestqt.qtbot import QtBot
from test_app import create_vault

from evidence_recorder.ui import main_window as main_window_module
from evidence_recorder.ui import messages, theme
from evidence_recorder.ui.app import AppController
from evidence_recorder.ui.describe import DescribePanel
from evidence_recorder.ui.tasks import wait_for_tasks

# ------------------------------------------------------------------------ WCAG 2.x maths


def _channel(value: int) -> float:
    c = value / 255
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def luminance(colour: QColor) -> float:
    """Relative luminance, WCAG 2.x (sRGB)."""
    return (0.2126 * _channel(colour.red()) + 0.7152 * _channel(colour.green())
            + 0.0722 * _channel(colour.blue()))


def over(fore: QColor, back: QColor) -> QColor:
    """``fore`` as seen painted over the opaque ``back`` (placeholder text is half see-through)."""
    a = fore.alphaF()
    return QColor(round(fore.red() * a + back.red() * (1 - a)),
                  round(fore.green() * a + back.green() * (1 - a)),
                  round(fore.blue() * a + back.blue() * (1 - a)))


def contrast(fore: QColor, back: QColor) -> float:
    lighter, darker = sorted((luminance(over(fore, back)), luminance(back)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def test_the_contrast_maths_matches_the_wcag_examples() -> None:
    assert contrast(QColor("black"), QColor("white")) == pytest.approx(21.0)
    assert contrast(QColor("#777777"), QColor("white")) == pytest.approx(4.48, abs=0.01)
    assert contrast(QColor("#767676"), QColor("white")) == pytest.approx(4.54, abs=0.01)


NORMAL_TEXT = 4.5  # WCAG 2.x 1.4.3 AA
LARGE_TEXT = 3.0  # 18pt, or 14pt bold; also 1.4.11 for parts of controls


# ------------------------------------------------------------------------ themes


def dark_palette() -> QPalette:
    """What Qt hands a Fusion app on a dark desktop (qt_fusionPalette(dark) in Qt 6).

    The offscreen platform ignores QStyleHints.setColorScheme, so the dark theme is
    built by hand with Qt's own numbers; the link colour is Qt's default, which dark
    desktops often leave alone.
    """
    window_text = QColor(240, 240, 240)
    background = QColor(50, 50, 50)
    light = background.lighter(150)
    mid = background.darker(130)
    base = background.darker(140)
    dark = background.darker(150)
    palette = QPalette()
    roles = QPalette.ColorRole
    for role, colour in ((roles.WindowText, window_text), (roles.Window, background),
                         (roles.Button, background), (roles.ButtonText, window_text),
                         (roles.Light, light), (roles.Midlight, mid.lighter(110)),
                         (roles.Mid, mid), (roles.Dark, dark), (roles.Shadow, dark.darker(135)),
                         (roles.Text, window_text), (roles.BrightText, QColor("white")),
                         (roles.Base, base), (roles.AlternateBase, background),
                         (roles.Link, QColor("blue")), (roles.LinkVisited, QColor("magenta"))):
        palette.setColor(role, colour)
    placeholder = QColor(window_text)
    placeholder.setAlpha(128)
    palette.setColor(QPalette.ColorRole.PlaceholderText, placeholder)
    palette.setColor(QPalette.ColorRole.Highlight, QColor(48, 140, 198))
    palette.setColor(QPalette.ColorRole.HighlightedText, window_text)
    palette.setColor(QPalette.ColorRole.ToolTipBase, QColor(60, 60, 60))
    palette.setColor(QPalette.ColorRole.ToolTipText, window_text)
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text,
                 QPalette.ColorRole.ButtonText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor(130, 130, 130))
    return palette


@pytest.fixture(params=["light", "dark"])
def system_theme(request: pytest.FixtureRequest, qapp: QApplication) -> Iterator[str]:
    """The desktop's theme, then the readable palette the app's main() puts on top."""
    before = QPalette(qapp.palette())
    if request.param == "dark":
        qapp.setPalette(dark_palette())
    theme.use_readable_palette(qapp)
    yield request.param
    qapp.setPalette(before)


def test_the_dark_theme_really_is_dark(qapp: QApplication) -> None:
    assert luminance(dark_palette().color(QPalette.ColorRole.Window)) < 0.1


# The text/background role pairs that widgets actually paint with.
ROLE_PAIRS = [
    ("WindowText", "Window"),  # labels, group boxes, check boxes
    ("WindowText", "Base"),  # the picture view's "no picture" words
    ("Text", "Base"),  # line edits, text boxes, lists
    ("ButtonText", "Button"),  # push buttons, tool buttons, combo boxes
    ("HighlightedText", "Highlight"),  # the selected row or text
    ("PlaceholderText", "Base"),  # hints inside empty fields
    ("PlaceholderText", "Window"),  # the muted notes drawn with palette(placeholder-text)
    ("Link", "Base"),  # links in the help browser
    ("Link", "Window"),  # links in labels
    ("ToolTipText", "ToolTipBase"),
]


def test_palette_roles_meet_aa_in_both_themes(system_theme: str, qapp: QApplication) -> None:
    palette = qapp.palette()
    failures = []
    for group in (QPalette.ColorGroup.Active, QPalette.ColorGroup.Inactive):
        for fore, back in ROLE_PAIRS:
            ratio = contrast(palette.color(group, getattr(QPalette.ColorRole, fore)),
                             palette.color(group, getattr(QPalette.ColorRole, back)))
            if ratio < NORMAL_TEXT:
                failures.append(f"{group.name} {fore} on {back}: {ratio:.2f}")
    assert failures == []


def test_the_readable_palette_changes_only_what_fails(qapp: QApplication) -> None:
    """Text colours the desktop chose and that pass are left exactly as they were."""
    for source in (QPalette(qapp.palette()), dark_palette()):
        fixed = theme.readable_palette(source)
        for role in (QPalette.ColorRole.Window, QPalette.ColorRole.WindowText,
                     QPalette.ColorRole.Base, QPalette.ColorRole.Text):
            assert fixed.color(role) == source.color(role)


# ------------------------------------------------------------------------ the app


def _with_captures(qtbot: QtBot, ctl: AppController, count: int = 2) -> list[int]:
    create_vault(qtbot, ctl)
    for n in range(1, count + 1):
        ctl.main.act_screen.trigger()
        qtbot.waitUntil(lambda n=n: ctl.main.capture_model.rowCount() == n, timeout=10_000)
    return [c.id for c in ctl.session.captures()]


def _shown(qtbot: QtBot, widget: QWidget) -> QWidget:
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


# ------------------------------------------------------------------------ names

# Controls a person can reach or operate; a screen reader must be able to say each.
INTERACTIVE = (QAbstractButton, QLineEdit, QTextEdit, QPlainTextEdit, QComboBox,
               QAbstractSpinBox, QAbstractItemView, QAbstractSlider, QAbstractScrollArea,
               QTabBar)
# The part-controls Qt builds inside a named control, which screen readers announce
# through their owner: the line edit of a combo or spin box, a scroll area's viewport and
# scroll bars (named "vertical"/"horizontal" by Qt), a table's headers (named by their
# column titles) and corner button, a tab bar's scroll arrows, the toolbar's "more" arrow.
_QT_PARTS = re.compile(r"^qt_|^ScrollLeftButton$|^ScrollRightButton$")


def _is_qt_part(widget: QWidget) -> bool:
    if _QT_PARTS.search(widget.objectName()) or isinstance(widget, (QScrollBar, QHeaderView)):
        return True
    parent = widget.parentWidget()
    if isinstance(parent, (QComboBox, QAbstractSpinBox, QTabBar)):
        return True
    if isinstance(parent, QAbstractScrollArea) and parent.viewport() is widget:
        return True  # a graphics view's viewport is unnamed; the view itself is announced
    return type(widget).__name__ == "QTableCornerButton"


def spoken_name(widget: QWidget) -> str:
    face = QAccessible.queryAccessibleInterface(widget)
    if face is None:
        return ""
    if isinstance(widget, QComboBox):
        # On Linux (AT-SPI) Qt gives a combo box's current text as its name and leaves
        # naming it to its label, through the "labelled by" relation; so a combo box needs
        # a label with setBuddy (QFormLayout.addRow(text, combo) makes one).
        labels = [label.text(QAccessible.Text.Name)
                  for label, _flag in face.relations(QAccessible.RelationFlag.Label)]
        return " ".join(labels).replace("&", "").strip()
    return face.text(QAccessible.Text.Name).replace("&", "").strip()


def unnamed_controls(window: QWidget) -> list[str]:
    """Every visible control in ``window`` that a screen reader could not name."""
    missing = []
    for widget in [window, *window.findChildren(QWidget)]:
        if not widget.isVisibleTo(window) or _is_qt_part(widget):
            continue  # hidden widgets are not in the accessibility tree
        focusable = bool(widget.focusPolicy() & Qt.FocusPolicy.TabFocus) and not widget.isWindow()
        if not isinstance(widget, INTERACTIVE) and not focusable:
            continue
        if isinstance(widget, QAbstractScrollArea) and not isinstance(
                widget, (QAbstractItemView, QTextEdit, QPlainTextEdit)) and not focusable:
            continue  # a plain scroll area is a container, not a control
        where = (f"{type(widget).__name__} {widget.objectName()!r} in "
                 f"{type(widget.parentWidget()).__name__} of {type(window).__name__}")
        if isinstance(widget, QTabBar):
            face = QAccessible.queryAccessibleInterface(widget)
            for i in range(face.childCount() if face else 0):
                tab = face.child(i)
                if tab.role() == QAccessible.Role.PageTab and not tab.text(
                        QAccessible.Text.Name).replace("&", "").strip():
                    missing.append(f"{where} tab {i}")
            continue
        if not spoken_name(widget):
            missing.append(where)
    return missing


def silent_cells(window: QWidget) -> list[str]:
    """Cells of the visible lists and tables that show only a picture: a screen reader
    reads a cell's text (Qt.AccessibleTextRole, else Qt.DisplayRole), never its icon."""
    silent = []
    for view in window.findChildren(QAbstractItemView):
        if not view.isVisibleTo(window) or isinstance(view, QHeaderView) or view.model() is None:
            continue
        model = view.model()
        try:
            columns = model.columnCount(QModelIndex())
        except TypeError:  # a list model, whose columnCount is private in Python
            columns = 1
        for row in range(min(model.rowCount(QModelIndex()), 5)):
            for column in range(columns):
                if isinstance(view, QTableView) and view.isColumnHidden(column):
                    continue
                index = model.index(row, column)
                said = model.data(index, Qt.ItemDataRole.AccessibleTextRole) or model.data(
                    index, Qt.ItemDataRole.DisplayRole)
                shown = model.data(index, Qt.ItemDataRole.DecorationRole)
                if shown is not None and not str(said or "").strip():
                    silent.append(f"{view.accessibleName()!r} row {row} column {column}")
    return silent


def test_start_window_controls_have_names(qtbot: QtBot, controller: AppController) -> None:
    start = controller.start
    assert start.stack.currentWidget() is start.create_page
    assert unnamed_controls(start) == []
    page = start.create_page
    page.passphrase.setText(PASSPHRASE)
    page.confirm.setText(PASSPHRASE)
    page.create_button.click()
    qtbot.waitUntil(lambda: start.stack.currentWidget() is start.key_page, timeout=10_000)
    assert unnamed_controls(start) == []  # the recovery key page
    start.key_page.confirm.setChecked(True)
    start.key_page.continue_button.click()
    qtbot.waitUntil(controller.main.isVisible, timeout=10_000)
    controller.lock()
    assert start.stack.currentWidget() is start.unlock_page
    assert unnamed_controls(start) == []
    start.stack.setCurrentWidget(start.recover_page)
    assert unnamed_controls(start) == []


def test_main_window_and_its_dialogs_have_names(qtbot: QtBot, controller: AppController) -> None:
    from evidence_recorder.ui.audit_view import AuditDialog
    from evidence_recorder.ui.export_dialog import ExportDialog
    from evidence_recorder.ui.guide import ChildProtectionDialog, GuideDialog
    from evidence_recorder.ui.received import ReceivedBundlesDialog
    from evidence_recorder.ui.settings_dialog import SettingsDialog

    ids = _with_captures(qtbot, controller)
    main = controller.main
    assert unnamed_controls(main) == []
    for tab in range(main.tabs.count()):  # the grid and the table of captures
        main.tabs.setCurrentIndex(tab)
        assert unnamed_controls(main) == []
        assert silent_cells(main) == []
    session = controller.session
    built: list[Callable[[], QWidget]] = [
        lambda: main_window_module.DescribeDialog(session, session.capture(ids[0]), main),
        lambda: main_window_module.EditorDialog(session, ids[0], main),
        lambda: ExportDialog(session, controller.settings, ids, None, main),
        lambda: SettingsDialog(controller.settings, [(1, "Incident")], main),
        lambda: AuditDialog(session.audit_entries(), main),
        lambda: ReceivedBundlesDialog(session, main),
        lambda: GuideDialog(main),
        lambda: ChildProtectionDialog(main),
    ]
    for make in built:
        window = _shown(qtbot, make())
        assert unnamed_controls(window) == []
        window.close()


def test_crash_dialog_has_names(qtbot: QtBot) -> None:
    from evidence_recorder.ui.crash import CrashDialog

    dialog = _shown(qtbot, CrashDialog("Traceback: ValueError"))
    assert unnamed_controls(dialog) == []
    dialog.close()


def _dispose(viewer: QWidget) -> None:
    """Close and delete a viewer: other tests find "the" viewer among the top-level widgets."""
    viewer.close()
    wait_for_tasks()
    viewer.deleteLater()
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


def test_bundle_viewer_has_names(qtbot: QtBot, tmp_path: Path) -> None:
    from test_bundle_viewer import FakeOpener

    from evidence_recorder.ui.bundle_viewer import open_bundle_window

    path = tmp_path / "evidence-bundle-20261125-120000.zip"
    path.write_bytes(b"PK\x05\x06" + bytes(18))
    viewer = open_bundle_window(path, opener=FakeOpener())
    assert viewer is not None
    try:
        qtbot.waitUntil(viewer.is_loaded, timeout=5000)
        assert viewer.verdict() == "intact"
        assert unnamed_controls(viewer) == []
        assert silent_cells(viewer) == []
    finally:
        _dispose(viewer)


def test_help_window_has_names(qtbot: QtBot) -> None:
    from evidence_recorder.ui import help as help_module

    window = help_module.show_guide("staff")
    try:
        qtbot.waitExposed(window)
        assert unnamed_controls(window) == []
    finally:
        window.close()


def test_region_selector_has_a_name(qtbot: QtBot) -> None:
    from test_region import png_of, screen_rect

    from evidence_recorder.ui.region import RegionOverlay

    _x, _y, width, height = screen_rect()
    overlay = RegionOverlay(png_of(width, height), [(0, 0, width, height)])
    qtbot.addWidget(overlay)
    overlay.start()
    try:
        qtbot.waitExposed(overlay)
        assert spoken_name(overlay)
        assert overlay.accessibleDescription()  # how to use it without seeing it
        assert unnamed_controls(overlay) == []
    finally:
        overlay.close()


# ------------------------------------------------------------------------ focus order

EDITABLE = (QLineEdit, QTextEdit, QPlainTextEdit, QComboBox, QAbstractSpinBox, QCheckBox,
            QRadioButton)


def _fields(root: QWidget) -> list[QWidget]:
    found = []
    for widget in root.findChildren(QWidget):
        if not isinstance(widget, EDITABLE) or _is_qt_part(widget):
            continue
        if isinstance(widget, (QTextEdit, QPlainTextEdit)) and widget.isReadOnly():
            continue
        if widget.isVisible() and widget.isEnabled() and \
                widget.focusPolicy() & Qt.FocusPolicy.TabFocus:
            found.append(widget)
    return found


def _reading_order(widgets: list[QWidget], window: QWidget) -> list[QWidget]:
    """Top to bottom; side by side (overlapping heights) left to right."""
    boxes = {}
    for w in widgets:
        top_left = w.mapTo(window, QPoint(0, 0))
        boxes[w] = (top_left.y(), top_left.y() + w.height(), top_left.x())
    rows: list[list[QWidget]] = []
    for w in sorted(widgets, key=lambda w: (boxes[w][0] + boxes[w][1]) / 2):
        middle = (boxes[w][0] + boxes[w][1]) / 2
        if rows and any(boxes[o][0] <= middle <= boxes[o][1] for o in rows[-1]):
            rows[-1].append(w)
        else:
            rows.append([w])
    return [w for row in rows for w in sorted(row, key=lambda w: boxes[w][2])]


def _tab_order(fields: list[QWidget]) -> list[QWidget]:
    """The fields in the order the Tab key visits them, from the first field."""
    start = _reading_order(fields, fields[0].window())[0]
    wanted = set(fields)
    order = [start]
    widget = start.nextInFocusChain()
    while widget is not start and len(order) < len(wanted):
        if widget in wanted and widget not in order:
            order.append(widget)
        widget = widget.nextInFocusChain()
    return order


def _names(widgets: list[QWidget]) -> list[str]:
    return [spoken_name(w) or type(w).__name__ for w in widgets]


def assert_tab_follows_reading_order(root: QWidget) -> None:
    fields = _fields(root)
    assert len(fields) >= 2, f"no form found in {type(root).__name__}"
    assert _names(_tab_order(fields)) == _names(_reading_order(fields, root.window()))


def assert_tab_follows_columns(root: QWidget, panel: DescribePanel) -> None:
    """The describe form in two columns reads down the left column, then down the right;
    each column in reading order, and Tab the same way."""
    assert panel.is_two_columns()
    left = [panel.blocks["where"], panel.blocks["reports"]]
    right = panel.blocks["what"]
    for block in left:
        assert block.mapTo(root, block.rect().topRight()).x() <= right.mapTo(root, QPoint()).x()
    expected = [w for block in [*left, right] for w in _reading_order(_fields(block), root)]
    fields = _fields(root)
    assert set(expected) == set(fields)
    assert _names(_tab_order(fields)) == _names(expected)


def test_start_forms_tab_in_reading_order(qtbot: QtBot, controller: AppController) -> None:
    start = controller.start
    qtbot.waitExposed(start)
    assert_tab_follows_reading_order(start.create_page)
    create_vault(qtbot, controller)
    controller.lock()
    start.stack.setCurrentWidget(start.recover_page)
    QApplication.processEvents()
    assert_tab_follows_reading_order(start.recover_page)


def test_enter_moves_through_the_start_forms(qtbot: QtBot, controller: AppController) -> None:
    """The start window is not a dialog: Enter in the first passphrase goes to the second,
    and Enter there submits, as a default button would."""
    page = controller.start.create_page
    page.passphrase.setText(PASSPHRASE)
    page.passphrase.setFocus()
    qtbot.keyClick(page.passphrase, Qt.Key.Key_Return)
    assert page.confirm.hasFocus()
    page.confirm.setText(PASSPHRASE + "x")
    qtbot.keyClick(page.confirm, Qt.Key.Key_Return)
    assert page.error.isVisible()  # submitted: told the two are not the same


def test_dialog_forms_tab_in_reading_order(qtbot: QtBot, controller: AppController) -> None:
    from evidence_recorder.ui.export_dialog import ExportDialog
    from evidence_recorder.ui.settings_dialog import SettingsDialog

    ids = _with_captures(qtbot, controller, 1)
    session = controller.session
    describe = _shown(qtbot, main_window_module.DescribeDialog(
        session, session.capture(ids[0]), controller.main))
    assert_tab_follows_columns(describe, describe.panel)
    describe.close()
    export = _shown(qtbot, ExportDialog(session, controller.settings, ids, None,
                                        controller.main))
    export.encrypt.setChecked(True)  # so the passphrase fields are in the walk
    assert_tab_follows_reading_order(export)
    export.close()
    settings = _shown(qtbot, SettingsDialog(controller.settings, [(1, "Incident")],
                                            controller.main))
    assert_tab_follows_reading_order(settings)
    settings.close()


def test_dialogs_answer_escape_and_enter(qtbot: QtBot, controller: AppController) -> None:
    from evidence_recorder.ui.export_dialog import ExportDialog
    from evidence_recorder.ui.settings_dialog import SettingsDialog

    ids = _with_captures(qtbot, controller, 1)
    session = controller.session
    # The describe form is long and has several lines fields, and a distressed user presses
    # Enter to end a line: Enter must not close it half-filled. Ctrl+Enter saves instead.
    describe = _shown(qtbot, main_window_module.DescribeDialog(
        session, session.capture(ids[0]), controller.main))
    assert not [b for b in describe.findChildren(QPushButton) if b.isDefault()]
    describe.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is describe)
    first = describe.panel.focus_order()[0]
    first.setFocus()
    with qtbot.waitSignal(describe.panel.save_requested, timeout=1000):
        qtbot.keyClick(first, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    describe.close()
    describe = _shown(qtbot, main_window_module.DescribeDialog(
        session, session.capture(ids[0]), controller.main))
    qtbot.keyClick(describe, Qt.Key.Key_Escape)
    assert not describe.isVisible() and describe.result() == QDialog.DialogCode.Rejected
    for make in (
        lambda: main_window_module.EditorDialog(session, ids[0], controller.main),
        lambda: ExportDialog(session, controller.settings, ids, None, controller.main),
        lambda: SettingsDialog(controller.settings, [(1, "Incident")], controller.main),
    ):
        dialog = _shown(qtbot, make())
        assert isinstance(dialog, QDialog)
        defaults = [b for b in dialog.findChildren(QPushButton)
                    if b.isDefault() and b.isVisible()]
        assert len(defaults) == 1, f"{type(dialog).__name__}: Enter presses no button"
        box = defaults[0].parentWidget()
        if isinstance(box, QDialogButtonBox):
            assert box.buttonRole(defaults[0]) == QDialogButtonBox.ButtonRole.AcceptRole
        messages.set_next_answer(messages.Button.Discard)  # if it asks about unsaved changes
        qtbot.keyClick(dialog, Qt.Key.Key_Escape)
        assert not dialog.isVisible(), f"{type(dialog).__name__} ignores Escape"
        assert dialog.result() == QDialog.DialogCode.Rejected
        messages._next_answers.clear()


# ------------------------------------------------------------------------ contrast in windows


def _paints_background(widget: QWidget) -> bool:
    return (widget.isWindow() or widget.autoFillBackground()
            or widget.testAttribute(Qt.WidgetAttribute.WA_StyledBackground))


def _background(widget: QWidget) -> QColor:
    """The colour behind ``widget``'s text: its own if it paints one, else its parents'."""
    if isinstance(widget, (QAbstractButton, QLineEdit, QAbstractScrollArea, QComboBox,
                           QAbstractSpinBox)) and not isinstance(widget, (QCheckBox,
                                                                          QRadioButton)):
        own = widget.palette().color(widget.backgroundRole())
        if own.alpha() == 255:
            return own
    current: QWidget | None = widget
    while current is not None:
        colour = current.palette().color(current.backgroundRole())
        if colour.alpha() == 255 and _paints_background(current):
            return colour
        current = current.parentWidget()
    return QGuiApplication.palette().color(QPalette.ColorRole.Window)


def _is_large(widget: QWidget) -> bool:
    font = widget.font()
    size = font.pointSizeF()
    return size >= 18 or (font.bold() and size >= 14)


def low_contrast_text(window: QWidget) -> list[str]:
    """Visible, enabled text in ``window`` below WCAG AA (disabled text is exempt)."""
    failures = []
    for widget in [window, *window.findChildren(QWidget)]:
        if not widget.isVisibleTo(window) or not widget.isEnabled() or _is_qt_part(widget):
            continue
        texts: list[tuple[str, QColor]] = []
        palette = widget.palette()
        if isinstance(widget, QLabel) and widget.text().strip():
            texts.append(("text", palette.color(widget.foregroundRole())))
            if "<a " in widget.text():
                texts.append(("link", palette.color(QPalette.ColorRole.Link)))
        elif (isinstance(widget, QAbstractButton) and widget.text().strip()) or (
                isinstance(widget, QGroupBox) and widget.title().strip()):
            texts.append(("text", palette.color(widget.foregroundRole())))
        elif isinstance(widget, (QLineEdit, QTextEdit, QPlainTextEdit, QAbstractItemView,
                                 QComboBox, QAbstractSpinBox)) and not isinstance(
                                     widget, QHeaderView):
            texts.append(("text", palette.color(QPalette.ColorRole.Text)))
        if not texts:
            continue
        back = _background(widget)
        need = LARGE_TEXT if _is_large(widget) else NORMAL_TEXT
        for what, fore in texts:
            ratio = contrast(fore, back)
            if ratio < need:
                label = widget.text()[:30] if isinstance(widget, (QLabel, QAbstractButton)) \
                    else widget.objectName()
                failures.append(f"{type(widget).__name__} {label!r} {what} {fore.name()} "
                                f"on {back.name()}: {ratio:.2f}")
    return failures


def test_windows_are_readable_in_both_themes(qtbot: QtBot, system_theme: str,
                                            controller: AppController, tmp_path: Path) -> None:
    from test_bundle_viewer import FakeOpener, FakeReport, make_bundle

    from evidence_recorder.ui.audit_view import AuditDialog
    from evidence_recorder.ui.bundle_viewer import open_bundle_window
    from evidence_recorder.ui.capture_flow import Countdown
    from evidence_recorder.ui.export_dialog import ExportDialog
    from evidence_recorder.ui.guide import ChildProtectionDialog, GuideDialog
    from evidence_recorder.ui.received import ReceivedBundlesDialog
    from evidence_recorder.ui.settings_dialog import SettingsDialog

    start = controller.start
    start.create_page.show_error("These passphrases are not the same.")
    assert low_contrast_text(start) == []
    ids = _with_captures(qtbot, controller, 1)
    main = controller.main
    assert low_contrast_text(main) == []
    main.resize(1280, 800)
    QApplication.processEvents()
    main.grab().save(f"/tmp/a11y-{system_theme}.png")  # to look at, not compared
    export = _shown(qtbot, ExportDialog(controller.session, controller.settings, ids, None, main))
    export._show_error("Tick at least one incident.")
    assert low_contrast_text(export) == []
    export.close()
    session = controller.session
    for make in (
        lambda: ChildProtectionDialog(main),
        lambda: GuideDialog(main),
        lambda: main_window_module.DescribeDialog(session, session.capture(ids[0]), main),
        lambda: main_window_module.EditorDialog(session, ids[0], main),  # its banner
        lambda: SettingsDialog(controller.settings, [(1, "Incident")], main),
        lambda: AuditDialog(session.audit_entries(), main),
        lambda: ReceivedBundlesDialog(session, main),
        Countdown,  # the "capturing in 3" bubble
    ):
        window = make()
        if isinstance(window, Countdown):
            qtbot.addWidget(window)
            window.show_seconds(3)
        else:
            window = _shown(qtbot, window)
        assert low_contrast_text(window) == [], type(window).__name__
        window.close()

    path = tmp_path / "evidence-bundle-20261125-120000.zip"
    path.write_bytes(b"PK\x05\x06" + bytes(18))
    unreadable = make_bundle()  # sealed, but its list of evidence cannot be read
    unreadable.evidence["incidents"] = "none"
    for bundle in (make_bundle(FakeReport()), unreadable,
                   make_bundle(FakeReport(ok=False, problems=["The signature does not match."]))):
        viewer = open_bundle_window(path, opener=FakeOpener(bundle))
        assert viewer is not None
        try:
            qtbot.waitUntil(viewer.is_loaded, timeout=5000)
            assert low_contrast_text(viewer) == []
        finally:
            _dispose(viewer)


def test_painted_colours_meet_aa() -> None:
    """Colours drawn with QPainter rather than a palette, checked where they are fixed."""
    from evidence_recorder.ui import region

    # The size label over the frozen screen: its back is nearly opaque, so check it over
    # both a white and a black screen.
    for screen in (QColor("white"), QColor("black")):
        back = over(region._LABEL_BACK, screen)
        assert contrast(region._LABEL_TEXT, back) >= NORMAL_TEXT


def test_the_palette_is_refitted_when_the_desktop_theme_changes(qtbot: QtBot,
                                                                qapp: QApplication) -> None:
    before = QPalette(qapp.palette())
    try:
        theme.use_readable_palette(qapp)
        unreadable = QPalette(qapp.palette())
        unreadable.setColor(QPalette.ColorRole.PlaceholderText, QColor(0, 0, 0, 40))
        qapp.setPalette(unreadable)
        QGuiApplication.styleHints().colorSchemeChanged.emit(Qt.ColorScheme.Light)

        def readable() -> bool:
            palette = qapp.palette()
            return contrast(palette.color(QPalette.ColorRole.PlaceholderText),
                            palette.color(QPalette.ColorRole.Base)) >= NORMAL_TEXT

        qtbot.waitUntil(readable, timeout=2000)
    finally:
        qapp.setPalette(before)


def test_the_app_starts_with_the_readable_palette() -> None:
    import inspect

    from evidence_recorder.ui import app

    assert "theme.use_readable_palette(app)" in inspect.getsource(app.main)


_TEXT_COLOUR = re.compile(r"(?<![-\w])color:\s*(?!palette\(|transparent)[#\w]")
_BACK_COLOUR = re.compile(r"background(-color)?:\s*(?!palette\(|transparent)[#\w]")


def test_no_fixed_text_colour_on_a_theme_background() -> None:
    """A style sheet that fixes a text colour must fix its background too (and then the
    window tests above check the pair), or take both from the palette: a fixed dark red on
    whatever the theme's window colour is fails on dark desktops."""
    import ast

    ui = Path(__file__).resolve().parent.parent / "evidence_recorder" / "ui"
    offenders = []
    for source in sorted(ui.glob("*.py")):
        text = source.read_text(encoding="utf-8")
        for node in ast.walk(ast.parse(text)):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "setStyleSheet" and node.args):
                continue
            sheet = ast.get_source_segment(text, node.args[0]) or ""
            for rule in sheet.split("}"):
                if _TEXT_COLOUR.search(rule) and not _BACK_COLOUR.search(rule):
                    offenders.append(f"{source.name}:{node.lineno}: {rule.strip()[:60]}")
    assert offenders == []


def test_fixed_marks_and_icons_stand_out(system_theme: str, qapp: QApplication) -> None:
    """Non-text colours the app fixes (WCAG 1.4.11, 3:1): the amber "worth adding" mark
    beside fields, on the window and in text boxes, and the verdict icons' white glyphs."""
    from evidence_recorder.ui import bundle_wording, describe_fields

    palette = qapp.palette()
    mark = QColor(describe_fields.MARK_COLOUR)
    for role in (QPalette.ColorRole.Window, QPalette.ColorRole.Base):
        assert contrast(mark, palette.color(role)) >= LARGE_TEXT, (system_theme, role)
    for colours in (bundle_wording._GREEN, bundle_wording._RED):
        back, border, ink = (QColor(c) for c in colours)
        assert contrast(QColor("white"), border) >= LARGE_TEXT  # the icon's tick or cross
        assert contrast(ink, back) >= NORMAL_TEXT  # the banner's words
