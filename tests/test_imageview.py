"""The picture viewer: decoding in memory, fit and zoom, panning, clearing, the veil."""

from __future__ import annotations

import io

import hostile_files as hostile
import pytest
from PIL import Image
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QPoint, QPointF, Qt
from PySide6.QtGui import QColor, QImage, QWheelEvent
from PySide6.QtWidgets import QApplication, QGraphicsBlurEffect, QGraphicsPixmapItem
from pytestqt.qtbot import QtBot

from evidence_recorder.ui.imageview import (
    UNREADABLE_MESSAGE,
    VEIL_MESSAGE,
    ZOOM_STEP,
    ImageView,
)

CTRL = Qt.KeyboardModifier.ControlModifier
RED = QColor(200, 30, 30)


def png_of(width: int, height: int, colour: QColor = RED) -> bytes:
    image = QImage(width, height, QImage.Format.Format_RGB32)
    image.fill(colour)
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    assert image.save(buffer, "PNG")
    return bytes(data.data())


@pytest.fixture
def view(qtbot: QtBot) -> ImageView:
    widget = ImageView()
    qtbot.addWidget(widget)
    widget.resize(420, 320)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def expected_fit(view: ImageView, width: int, height: int) -> float:
    viewport = view.viewport().size()
    return min(1.0, (viewport.width() - 0.5) / width, (viewport.height() - 0.5) / height)


def items(view: ImageView) -> list[QGraphicsPixmapItem]:
    return [i for i in view.scene().items() if isinstance(i, QGraphicsPixmapItem)]


def centre_colour(view: ImageView) -> QColor:
    picture = view.grab().toImage()
    return picture.pixelColor(picture.width() // 2, picture.height() // 2)


# --- loading and fitting ----------------------------------------------------------------


def test_set_image_fits_a_large_picture(view: ImageView) -> None:
    assert view.set_image(png_of(1600, 1200))
    assert view.has_image()
    assert view.image_size() == (1600, 1200)
    assert view.is_fit_mode()
    assert view.zoom() == pytest.approx(expected_fit(view, 1600, 1200))
    assert view.transform().m11() == pytest.approx(view.zoom())
    assert not view.horizontalScrollBar().isVisible()
    assert not view.verticalScrollBar().isVisible()
    assert centre_colour(view).rgb() == RED.rgb()


def test_fit_never_enlarges_a_small_picture(view: ImageView) -> None:
    view.set_image(png_of(100, 50))
    assert view.zoom() == 1.0
    assert view.transform().m11() == 1.0


def test_fit_follows_the_window_until_the_user_zooms(qtbot: QtBot, view: ImageView) -> None:
    view.set_image(png_of(1600, 1200))
    before = view.zoom()
    with qtbot.waitSignal(view.zoom_changed, timeout=1000):
        view.resize(820, 620)
    assert view.zoom() == pytest.approx(expected_fit(view, 1600, 1200))
    assert view.zoom() > before
    view.zoom_in()
    zoomed = view.zoom()
    view.resize(500, 400)
    assert view.zoom() == zoomed
    assert not view.is_fit_mode()


def test_zoom_in_and_out_change_the_transform(qtbot: QtBot, view: ImageView) -> None:
    view.set_image(png_of(1600, 1200))
    fit = view.zoom()
    with qtbot.waitSignal(view.zoom_changed, timeout=1000) as blocker:
        view.zoom_in()
    assert blocker.args == [pytest.approx(fit * ZOOM_STEP)]
    assert view.transform().m11() == pytest.approx(fit * ZOOM_STEP)
    assert not view.is_fit_mode()
    view.zoom_out()
    view.zoom_out()
    assert view.transform().m11() == pytest.approx(fit / ZOOM_STEP)
    view.actual_size()
    assert view.zoom() == 1.0
    view.fit_to_window()
    assert view.zoom() == pytest.approx(fit)


def test_keyboard_shortcuts(qtbot: QtBot, view: ImageView) -> None:
    view.set_image(png_of(1600, 1200))
    fit = view.zoom()
    qtbot.keyClick(view, Qt.Key.Key_Equal, CTRL)
    assert view.zoom() == pytest.approx(fit * ZOOM_STEP)
    qtbot.keyClick(view, Qt.Key.Key_Minus, CTRL)
    qtbot.keyClick(view, Qt.Key.Key_Minus, CTRL)
    assert view.zoom() == pytest.approx(fit / ZOOM_STEP)
    qtbot.keyClick(view, Qt.Key.Key_1, CTRL)
    assert view.zoom() == 1.0
    qtbot.keyClick(view, Qt.Key.Key_0, CTRL)
    assert view.is_fit_mode()
    assert view.zoom() == pytest.approx(fit)


def test_ctrl_wheel_zooms_and_plain_wheel_does_not(view: ImageView) -> None:
    view.set_image(png_of(1600, 1200))
    fit = view.zoom()

    def wheel(modifiers: Qt.KeyboardModifier) -> None:
        at = QPointF(100, 100)
        event = QWheelEvent(at, QPointF(view.viewport().mapToGlobal(at.toPoint())), QPoint(0, 0),
                            QPoint(0, 120), Qt.MouseButton.NoButton, modifiers,
                            Qt.ScrollPhase.NoScrollPhase, False)
        QApplication.sendEvent(view.viewport(), event)

    wheel(Qt.KeyboardModifier.NoModifier)
    assert view.zoom() == pytest.approx(fit)
    wheel(CTRL)
    assert view.zoom() == pytest.approx(fit * ZOOM_STEP)


def test_arrow_keys_and_dragging_pan(qtbot: QtBot, view: ImageView) -> None:
    view.set_image(png_of(2000, 1500))
    view.actual_size()
    bar = view.horizontalScrollBar()
    start = bar.value()
    qtbot.keyClick(view, Qt.Key.Key_Right)
    assert bar.value() > start
    qtbot.keyClick(view, Qt.Key.Key_Left)
    assert bar.value() == start
    assert view.dragMode() == view.DragMode.ScrollHandDrag


# --- clearing -------------------------------------------------------------------------


def test_clear_drops_the_picture(view: ImageView) -> None:
    view.set_image(png_of(300, 200))
    assert len(items(view)) == 1
    view.clear()
    assert items(view) == []
    assert not view.has_image()
    assert view.image_size() is None
    view.set_image(png_of(300, 200))
    assert view.set_image(None) is False
    assert view.scene().items() == []


def test_unreadable_bytes_leave_a_message_not_an_error(view: ImageView) -> None:
    assert view.set_image(b"\x89PNG\r\n\x1a\n not really") is False
    assert not view.has_image()
    assert view.accessibleDescription() == UNREADABLE_MESSAGE


def test_heic_goes_through_core_since_qt_cannot_read_it(view: ImageView) -> None:
    assert view.set_image(hostile.heic(64, 48))
    assert view.image_size() == (64, 48)


def test_svg_is_never_decoded(view: ImageView) -> None:
    """Qt can read SVG, but the vault never holds it; sniffed formats are limited."""
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"></svg>'
    assert view.set_image(svg) is False


def test_exif_orientation_is_applied(view: ImageView) -> None:
    """A phone photo stored sideways with an orientation tag shows upright."""
    out = io.BytesIO()
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    Image.new("RGB", (40, 20), "blue").save(out, "JPEG", exif=exif)
    assert view.set_image(out.getvalue())
    assert view.image_size() == (20, 40)


# --- the veil ---------------------------------------------------------------------------


def test_veiled_picture_is_hidden_until_clicked(qtbot: QtBot, view: ImageView) -> None:
    view.set_veiled(True)
    view.set_image(png_of(1600, 1200))
    assert view.is_veiled()
    item = items(view)[0]
    assert isinstance(item.graphicsEffect(), QGraphicsBlurEffect)
    assert view.dragMode() == view.DragMode.NoDrag
    assert centre_colour(view).rgb() != RED.rgb()
    assert "upsetting" in view.accessibleDescription()
    assert VEIL_MESSAGE.startswith("This image may be upsetting.")

    with qtbot.waitSignal(view.revealed, timeout=1000):
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton)
    assert not view.is_veiled()
    assert item.graphicsEffect() is None
    assert view.dragMode() == view.DragMode.ScrollHandDrag
    assert centre_colour(view).rgb() == RED.rgb()


def test_veil_returns_for_the_next_picture_and_keys_reveal(qtbot: QtBot,
                                                           view: ImageView) -> None:
    view.set_veiled(True)
    view.set_image(png_of(300, 200))
    qtbot.keyClick(view, Qt.Key.Key_Space)
    assert not view.is_veiled()
    view.set_image(png_of(300, 200))
    assert view.is_veiled()
    qtbot.keyClick(view, Qt.Key.Key_Return)
    assert not view.is_veiled()
    view.set_veiled(False)
    view.set_image(png_of(300, 200))
    assert not view.is_veiled()


def test_veil_never_changes_the_picture(view: ImageView) -> None:
    view.set_image(png_of(64, 64))
    before = items(view)[0].pixmap().toImage()
    view.set_veiled(True)
    view.set_veiled(False)
    assert items(view)[0].pixmap().toImage() == before


def test_accessible_name_and_description(view: ImageView) -> None:
    assert view.accessibleName()
    view.set_placeholder_text("Select a capture to see it here.")
    assert view.accessibleDescription() == "Select a capture to see it here."
    view.set_image(png_of(100, 50))
    assert "100 by 50 pixels" in view.accessibleDescription()
    assert "100 percent" in view.accessibleDescription()
