"""Choosing the rectangle of the screen to keep, drawn over a frozen picture of the desktop.

This module owns the region-selection overlay and the mapping between Qt's logical
screen coordinates and the physical monitor pixels that ``core.capture`` (mss)
works in. The desktop is grabbed *before* the overlay appears, and the chosen
rectangle is later cropped from that same picture, so what the user framed is
exactly what is kept, even if a message pops up or a video moves meanwhile.

Why one window per screen rather than one window spanning the desktop: a window
has a single device pixel ratio, so a spanning window is drawn at the wrong scale
(blurry or half-size) on every monitor but one when they have different scaling;
Windows re-scales a window as it crosses monitors, macOS will not let a window
span displays that have their own Spaces, and X11 window managers clamp huge
windows. One frameless, always-on-top window per ``QScreen`` is what KDE's
Spectacle does for the same reasons. The selection itself lives in physical
pixels in one place (:class:`RegionOverlay`), so a drag may cross from one
monitor to another and each window simply draws its share of it.

Mapping assumption: Qt lists screens in its own order, mss in the platform's. Both
are sorted by their top-left corner (left, then top) and paired in that order.
This holds where Qt keeps each screen's native origin and only scales its size
(Windows and X11 with per-monitor scaling) and where everything is scaled by one
factor (macOS, where mss also measures in points, so the scale is 1). A pair is
only trusted when its width and height scales agree and equal either the screen's
device pixel ratio or 1; otherwise, or when the counts differ (mirrored displays,
an X server without RandR), the whole logical desktop is mapped onto the whole
physical one with a single scale.

The pure geometry (screens, their scales, the selection's handles) is in
:mod:`~evidence_recorder.ui.region_geometry`, testable without a window. This module
stays over 600 lines because :class:`RegionOverlay` and its per-screen panes share one
selection, one drag and one keyboard model.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence

from PySide6.QtCore import QCoreApplication, QEventLoop, QPointF, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QCloseEvent,
    QColor,
    QCursor,
    QFont,
    QFontMetricsF,
    QGuiApplication,
    QImage,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QPen,
    QPixmap,
    QScreen,
)
from PySide6.QtWidgets import QWidget

from evidence_recorder.core.i18n import QT_TRANSLATE_NOOP
from evidence_recorder.ui.region_geometry import (
    HANDLE_SIZE,
    INSIDE,
    Rect,
    ScreenArea,
    ScreenLayout,
    ScreenMap,
    _clamp_moved,
    adjusted,
    handle_points,
    hit_test,
    map_screens,
    physical_rect,
    size_text,
)

# British English; translated where they are drawn and read out (context "RegionOverlay").
HINT_TEXT = QT_TRANSLATE_NOOP(
    "RegionOverlay",
    "Drag to select, then drag the edges to adjust. "
    "Enter or double-click to capture, Esc to cancel.")
ACCESSIBLE_DESCRIPTION = QT_TRANSLATE_NOOP(
    "RegionOverlay",
    "{hint} Arrow keys move the selection by one pixel, or ten with Shift; "
    "Ctrl with the arrow keys changes its size. With no selection, an arrow key "
    "selects the middle of the screen.")


def _tr(text: str) -> str:
    return QCoreApplication.translate("RegionOverlay", text)

# A drag must cover this many logical pixels in both directions to count: a slightly
# shaky click on a HiDPI screen is several physical pixels wide and must not capture.
MIN_DRAG = 4


_DIM = QColor(0, 0, 0, 150)
_ACCENT = QColor(61, 139, 253)
_LABEL_BACK = QColor(24, 24, 27, 225)
_LABEL_TEXT = QColor(255, 255, 255)
_GUIDE_LIGHT = QColor(255, 255, 255, 170)
_GUIDE_DARK = QColor(0, 0, 0, 110)


_CURSORS = {
    "top-left": Qt.CursorShape.SizeFDiagCursor, "bottom-right": Qt.CursorShape.SizeFDiagCursor,
    "top-right": Qt.CursorShape.SizeBDiagCursor, "bottom-left": Qt.CursorShape.SizeBDiagCursor,
    "left": Qt.CursorShape.SizeHorCursor, "right": Qt.CursorShape.SizeHorCursor,
    "top": Qt.CursorShape.SizeVerCursor, "bottom": Qt.CursorShape.SizeVerCursor,
    INSIDE: Qt.CursorShape.SizeAllCursor,
}


# --- the windows --------------------------------------------------------------------


class _Pane(QWidget):
    """One screen's window: paints its share of the frozen desktop and the selection.

    Input is handed to the :class:`RegionOverlay`, which holds the one selection all
    panes share.
    """

    def __init__(self, overlay: RegionOverlay | None) -> None:
        super().__init__(None, Qt.WindowType.Window | Qt.WindowType.FramelessWindowHint
                         | Qt.WindowType.WindowStaysOnTopHint)
        self._overlay: RegionOverlay = overlay if overlay is not None else self  # type: ignore[assignment]
        self._map: ScreenMap | None = None
        self._pixmap = QPixmap()
        self._pixmap_target = QRectF()
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setWindowTitle(self.tr("Select a region to capture"))
        self.setAccessibleName(self.tr("Select a region to capture"))
        self.setAccessibleDescription(_tr(ACCESSIBLE_DESCRIPTION).format(hint=_tr(HINT_TEXT)))

    def _bind(self, screen_map: ScreenMap, pixmap: QPixmap, target: QRectF) -> None:
        self._map = screen_map
        self._pixmap = pixmap
        self._pixmap_target = target

    def _release(self) -> None:
        """Drop this pane's copy of the desktop picture: it may show private things."""
        self._pixmap = QPixmap()

    def _logical(self, local: QPointF) -> tuple[float, float]:
        """A window position as a logical desktop point.

        Worked out from the screen's geometry rather than ``mapToGlobal``, so a
        window manager nudging the window cannot skew the mapping.
        """
        area = self._map.logical if self._map is not None else ScreenArea(0, 0, 1, 1)
        return (area.left + local.x(), area.top + local.y())

    # -- input, forwarded ---------------------------------------------------------

    def _grip_at(self, local: QPointF) -> str | None:
        """The handle, edge or inside of the selection under a window position."""
        selection = self._overlay.selection
        if selection is None or self._map is None:
            return None
        return hit_test(self._local_rect(selection), local)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._overlay._press(self._logical(event.position()),
                                 self._grip_at(event.position()))
        event.accept()

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        """A double-click inside the selection takes it; anywhere else is a press."""
        if event.button() == Qt.MouseButton.LeftButton:
            if self._grip_at(event.position()) == INSIDE:
                self._overlay._take()
            else:
                self._overlay._press(self._logical(event.position()),
                                     self._grip_at(event.position()))
        event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        self._overlay._move(self._logical(event.position()))
        if not self._overlay.dragging:
            grip = self._grip_at(event.position())
            self.setCursor(_CURSORS.get(grip or "", Qt.CursorShape.CrossCursor))
        event.accept()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._overlay._release_at(self._logical(event.position()))
            grip = self._grip_at(event.position())
            self.setCursor(_CURSORS.get(grip or "", Qt.CursorShape.CrossCursor))
        event.accept()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if not self._overlay._key(event):
            super().keyPressEvent(event)

    # -- painting -------------------------------------------------------------------

    def _to_local(self, x: float, y: float) -> QPointF:
        assert self._map is not None
        lx, ly = self._map.to_logical(x, y)
        return QPointF(lx - self._map.logical.left, ly - self._map.logical.top)

    def _local_rect(self, area: ScreenArea) -> QRectF:
        return QRectF(self._to_local(area.left, area.top),
                      self._to_local(area.right, area.bottom)).normalized()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        try:
            self._paint(painter)
        finally:
            painter.end()

    def _paint(self, painter: QPainter) -> None:
        whole = QRectF(self.rect())
        painter.fillRect(whole, Qt.GlobalColor.black)
        if not self._pixmap.isNull():
            painter.drawPixmap(self._pixmap_target, self._pixmap, QRectF(self._pixmap.rect()))
        if self._map is None:
            return
        overlay = self._overlay
        selection = overlay.selection
        local_sel = self._local_rect(selection) if selection is not None else None
        if local_sel is not None and not local_sel.intersects(whole):
            local_sel = None

        shade = QPainterPath()
        shade.addRect(whole)
        if local_sel is not None:
            hole = QPainterPath()
            hole.addRect(local_sel)
            shade = shade.subtracted(hole)
        painter.fillPath(shade, _DIM)

        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        pointer = overlay.pointer
        if pointer is not None and not overlay.dragging and selection is None:
            self._paint_guides(painter, self._to_local(*pointer))
        if local_sel is not None and selection is not None:
            pen = QPen(_ACCENT, 2)
            pen.setJoinStyle(Qt.PenJoinStyle.MiterJoin)
            painter.setPen(pen)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            # Outside the selection, so the border never hides a pixel that will be kept.
            painter.drawRect(local_sel.adjusted(-1, -1, 1, 1))
            if pointer is not None and overlay.drawing_edges:
                # Outside the selection only: the guides must not cover what is framed.
                painter.save()
                painter.setClipPath(shade)
                self._paint_guides(painter, self._to_local(*pointer))
                painter.restore()
            if overlay.adjustable:
                self._paint_handles(painter, local_sel)
            if overlay.owns_label(self):
                self._paint_size(painter, local_sel, size_text(selection))
        self._paint_hint(painter, local_sel)

    def _paint_guides(self, painter: QPainter, at: QPointF) -> None:
        """Full-width and full-height lines through the pointer, for lining up edges."""
        if not QRectF(self.rect()).adjusted(-1, -1, 1, 1).contains(at):
            return
        x, y = math.floor(at.x()) + 0.5, math.floor(at.y()) + 0.5
        width, height = float(self.width()), float(self.height())
        dark = QPen(_GUIDE_DARK, 3)
        dark.setCosmetic(True)
        light = QPen(_GUIDE_LIGHT, 1)
        light.setCosmetic(True)
        for pen in (dark, light):
            painter.setPen(pen)
            painter.drawLine(QPointF(x, 0), QPointF(x, height))
            painter.drawLine(QPointF(0, y), QPointF(width, y))

    @staticmethod
    def _paint_handles(painter: QPainter, sel: QRectF) -> None:
        """Eight squares on the border: the selection can be resized, not only redrawn.

        They cover a few pixels at its edge here only: what is kept is cut from the
        frozen picture, not from what the overlay draws.
        """
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setPen(QPen(_ACCENT, 1.5))
        painter.setBrush(QColor(255, 255, 255))
        border = sel.adjusted(-1, -1, 1, 1)
        half = HANDLE_SIZE / 2
        for spot in handle_points(border).values():
            painter.drawRect(QRectF(spot.x() - half, spot.y() - half, HANDLE_SIZE, HANDLE_SIZE))
        painter.restore()

    def _label_font(self, grow: float = 0.0) -> QFont:
        font = QFont(self.font())
        size = font.pointSizeF() if font.pointSizeF() > 0 else 10.0
        font.setPointSizeF(size + grow)
        return font

    def _paint_size(self, painter: QPainter, sel: QRectF, text: str) -> None:
        """The size in pixels, just below the selection (above or inside if no room)."""
        font = self._label_font()
        metrics = QFontMetricsF(font)
        pad_x, pad_y, gap = 7.0, 3.0, 6.0
        box = QRectF(0, 0, metrics.horizontalAdvance(text) + 2 * pad_x,
                     metrics.height() + 2 * pad_y)
        below = sel.bottom() + gap + box.height() <= self.height()
        above = sel.top() - gap - box.height() >= 0
        if below:
            box.moveTopLeft(QPointF(sel.left(), sel.bottom() + gap))
        elif above:
            box.moveBottomLeft(QPointF(sel.left(), sel.top() - gap))
        else:
            box.moveTopLeft(QPointF(sel.left() + gap, sel.top() + gap))
        box.moveLeft(min(max(box.left(), 4.0), self.width() - box.width() - 4.0))
        self._paint_label(painter, box, text, font, 4.0)

    def _paint_hint(self, painter: QPainter, sel: QRectF | None) -> None:
        """The instructions, at the top unless the selection is there, then at the bottom."""
        font = self._label_font(1.0)
        metrics = QFontMetricsF(font)
        pad_x, pad_y, margin = 16.0, 9.0, 24.0
        text = _tr(HINT_TEXT)
        available = self.width() - 2 * margin - 2 * pad_x
        if metrics.horizontalAdvance(text) > available:
            text = metrics.elidedText(text, Qt.TextElideMode.ElideRight, available)
        box = QRectF(0, 0, metrics.horizontalAdvance(text) + 2 * pad_x,
                     metrics.height() + 2 * pad_y)
        box.moveCenter(QPointF(self.width() / 2, margin + box.height() / 2))
        pointer = self._overlay.pointer
        near_pointer = pointer is not None and box.adjusted(-8, -8, 8, 8).contains(
            self._to_local(*pointer))
        if (sel is not None and sel.intersects(box)) or near_pointer:
            box.moveBottom(self.height() - margin)
        self._paint_label(painter, box, text, font, 6.0)

    @staticmethod
    def _paint_label(painter: QPainter, box: QRectF, text: str, font: QFont,
                     radius: float) -> None:
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(_LABEL_BACK)
        painter.drawRoundedRect(box, radius, radius)
        painter.setFont(font)
        painter.setPen(_LABEL_TEXT)
        painter.drawText(box, int(Qt.AlignmentFlag.AlignCenter), text)
        painter.restore()


class RegionOverlay(_Pane):
    """The region picker: the window on the first screen, and keeper of the selection.

    ``selected`` carries ``(left, top, width, height)`` in physical pixels in the
    coordinates of the ``monitors`` list (mss's), ready for ``core.capture.crop``.
    ``cancelled`` follows Esc or the monitor layout changing under the picker.
    """

    selected = Signal(object)
    cancelled = Signal()

    def __init__(self, frozen_png: bytes, monitors: Sequence[tuple[int, int, int, int]],
                 parent: QWidget | None = None) -> None:
        super().__init__(None)
        self._done = True  # until fully built: closing a half-built overlay does nothing
        if parent is not None:
            # A frameless full-screen window must not become a child widget; the
            # parent only ties lifetimes together.
            self.setParent(parent, self.windowFlags())
        areas = [ScreenArea(*(int(v) for v in m)) for m in monitors]
        if not areas or any(a.width <= 0 or a.height <= 0 for a in areas):
            raise ValueError("the monitor layout is empty or has an empty monitor")
        self._monitors = areas
        self._desktop = ScreenArea.bounding(areas)
        # Decoded in memory only; the picture of the desktop never touches the disk.
        self._image = QImage.fromData(frozen_png)
        if self._image.isNull():
            raise ValueError("the frozen desktop is not a picture Qt can read")
        self._layout: ScreenLayout | None = None
        self._panes: list[_Pane] = []
        self._selection: ScreenArea | None = None
        self._previous: ScreenArea | None = None
        self._pointer: tuple[float, float] | None = None
        self._drag_from: tuple[float, float] | None = None  # logical, for the click test
        self._anchor: tuple[float, float] | None = None  # physical, while drawing a new one
        # While a handle or the inside is dragged: what is held, the selection when
        # the drag began, and where it began (physical).
        self._grip: tuple[str, ScreenArea, tuple[float, float]] | None = None
        self._started = False
        self._done = False

    # -- state the panes read -------------------------------------------------------

    @property
    def selection(self) -> ScreenArea | None:
        return self._selection

    @property
    def pointer(self) -> tuple[float, float] | None:
        return self._pointer

    @property
    def dragging(self) -> bool:
        """A button is down: a new selection is being drawn, or one is being adjusted."""
        return self._anchor is not None or self._grip is not None

    @property
    def drawing_edges(self) -> bool:
        """An edge follows the pointer: drawing a new selection or resizing one."""
        return self._anchor is not None or (self._grip is not None and self._grip[0] != INSIDE)

    @property
    def adjustable(self) -> bool:
        """The selection is finished (not being drawn) and shows its handles."""
        return self._selection is not None and self._anchor is None

    @property
    def layout_map(self) -> ScreenLayout | None:
        return self._layout

    def owns_label(self, pane: _Pane) -> bool:
        """Only one pane shows the size, so a selection across monitors has one label.

        It is the pane holding the selection's bottom-left corner, where the label
        goes, or failing that any pane the selection reaches.
        """
        sel = self._selection
        if sel is None:
            return False
        corner = (sel.left + 0.5, sel.bottom - 0.5)
        holders = [p for p in self._panes if p._map is not None
                   and _holds(p._map.physical, corner)]
        holders = holders or [p for p in self._panes if p._map is not None
                              and _overlaps(p._map.physical, sel)]
        return pane is (holders[0] if holders else self)

    # -- showing -------------------------------------------------------------------

    def start(self) -> None:
        """Cover every screen with the frozen desktop and wait for the user."""
        if self._started:
            return
        self._started = True
        screens = QGuiApplication.screens()
        self._layout = map_screens(
            [(_area(s.geometry()), s.devicePixelRatio()) for s in screens], self._monitors)
        for index, (screen, screen_map) in enumerate(zip(screens, self._layout.maps,
                                                         strict=True)):
            pane: _Pane = self if index == 0 else _Pane(self)
            pixmap, target = self._slice_for(screen_map)
            pane._bind(screen_map, pixmap, target)
            self._panes.append(pane)
            self._show_on(pane, screen)
        self._image = QImage()  # each pane holds its own slice now
        app = QGuiApplication.instance()
        if isinstance(app, QGuiApplication):
            app.screenAdded.connect(self._layout_changed)
            app.screenRemoved.connect(self._layout_changed)
        cursor = QCursor.pos()
        self._pointer = self._layout.to_physical(cursor.x(), cursor.y())
        focus = self._pane_at(cursor.x(), cursor.y())
        focus.activateWindow()
        focus.setFocus(Qt.FocusReason.ActiveWindowFocusReason)

    @staticmethod
    def _show_on(pane: _Pane, screen: QScreen) -> None:
        assert pane._map is not None
        area = pane._map.logical
        pane.setScreen(screen)
        pane.setGeometry(QRect(area.left, area.top, area.width, area.height))
        if sys.platform == "darwin":
            pane.show()  # full-screen on macOS means a new Space and an animation
        else:
            pane.showFullScreen()

    def _slice_for(self, screen_map: ScreenMap) -> tuple[QPixmap, QRectF]:
        """This screen's part of the frozen picture and where it goes in the window.

        The picture may be larger than the physical desktop (macOS Retina, where mss
        measures in points), hence the picture-per-desktop scale.
        """
        desk, image = self._desktop, self._image
        ix, iy = image.width() / desk.width, image.height() / desk.height
        left, top, width, height = screen_map.physical
        source = QRectF((left - desk.left) * ix, (top - desk.top) * iy, width * ix, height * iy)
        visible = source.intersected(QRectF(image.rect()))
        if visible.isEmpty():
            return QPixmap(), QRectF()
        pixels = visible.toAlignedRect().intersected(image.rect())
        logical = screen_map.logical
        a = screen_map.to_logical(desk.left + pixels.left() / ix, desk.top + pixels.top() / iy)
        b = screen_map.to_logical(desk.left + (pixels.right() + 1) / ix,
                                  desk.top + (pixels.bottom() + 1) / iy)
        target = QRectF(QPointF(a[0] - logical.left, a[1] - logical.top),
                        QPointF(b[0] - logical.left, b[1] - logical.top))
        return QPixmap.fromImage(image.copy(pixels)), target

    def _pane_at(self, x: float, y: float) -> _Pane:
        if self._layout is None or not self._panes:
            return self
        target = self._layout.map_at(x, y)
        return next((p for p in self._panes if p._map is target), self)

    # -- input ---------------------------------------------------------------------

    def _physical(self, logical: tuple[float, float]) -> tuple[float, float]:
        assert self._layout is not None
        return self._layout.to_physical(*logical)

    def _press(self, logical: tuple[float, float], grip: str | None = None) -> None:
        """A press on a handle or inside adjusts the selection; elsewhere starts a new one."""
        if self._done or self._layout is None or self.dragging:
            return  # e.g. the press a double-click repeats: the first one is under way
        if grip is not None and self._selection is not None:
            self._pointer = self._physical(logical)
            self._grip = (grip, self._selection, self._pointer)
            self._refresh()
            return
        self._previous = self._selection
        self._drag_from = logical
        self._anchor = self._pointer = self._physical(logical)
        self._selection = None
        self._refresh()

    def _move(self, logical: tuple[float, float]) -> None:
        if self._done or self._layout is None:
            return
        self._pointer = self._physical(logical)
        if self._anchor is not None:
            area = physical_rect(self._anchor, self._pointer)
            self._selection = area if area.width > 0 and area.height > 0 else None
        elif self._grip is not None:
            grip, start, (x, y) = self._grip
            self._selection = adjusted(start, grip, self._pointer[0] - x, self._pointer[1] - y,
                                       self._desktop)
        self._refresh()

    def _release_at(self, logical: tuple[float, float]) -> None:
        """The end of a drag leaves the selection on screen to adjust; it never captures."""
        if self._done:
            return
        if self._grip is not None:
            self._move(logical)
            self._grip = None
            self._refresh()
            return
        if self._anchor is None or self._drag_from is None:
            return
        self._move(logical)
        start = self._drag_from
        self._anchor = self._drag_from = None
        dragged = (abs(logical[0] - start[0]) >= MIN_DRAG
                   and abs(logical[1] - start[1]) >= MIN_DRAG)
        if not dragged or self._selection is None:
            # A click, or a drag too small to mean anything: as if it never happened.
            self._selection = self._previous
        self._refresh()

    def _take(self) -> None:
        """Enter or a double-click inside: capture what is selected now."""
        if not self._done and self._selection is not None:
            self._anchor = self._drag_from = self._grip = None
            self._accept()

    def _key(self, event: QKeyEvent) -> bool:
        """Handle a key from any pane; False lets Qt have it."""
        if self._done:
            return False
        key = event.key()
        if key == Qt.Key.Key_Escape:
            self._finish()
            self.cancelled.emit()
            return True
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self._take()
            return True
        steps = {Qt.Key.Key_Left: (-1, 0), Qt.Key.Key_Right: (1, 0),
                 Qt.Key.Key_Up: (0, -1), Qt.Key.Key_Down: (0, 1)}
        if key in steps and self._layout is not None and not self.dragging:
            modifiers = event.modifiers()
            step = 10 if modifiers & Qt.KeyboardModifier.ShiftModifier else 1
            dx, dy = (n * step for n in steps[Qt.Key(key)])
            if self._selection is None:
                self._selection = self._middle_of_screen()
            elif modifiers & Qt.KeyboardModifier.ControlModifier:
                self._selection = self._resized(self._selection, dx, dy)
            else:
                moved = ScreenArea(self._selection.left + dx, self._selection.top + dy,
                                   self._selection.width, self._selection.height)
                self._selection = _clamp_moved(moved, self._desktop)
            self._refresh()
            return True
        return False

    def _middle_of_screen(self) -> ScreenArea:
        """A starting selection for keyboard users: the middle half of the current screen."""
        assert self._layout is not None
        screen_map = self._layout.maps[0]
        if self._pointer is not None:
            pointer = self._pointer
            screen_map = next((m for m in self._layout.maps if _holds(m.physical, pointer)),
                              screen_map)
        left, top, width, height = screen_map.physical
        area = ScreenArea(round(left + width / 4), round(top + height / 4),
                          max(1, round(width / 2)), max(1, round(height / 2)))
        return _clamp_moved(area, self._desktop)

    def _resized(self, area: ScreenArea, dx: int, dy: int) -> ScreenArea:
        """Ctrl+arrows move the right or bottom edge; the selection keeps at least a pixel."""
        width = min(max(1, area.width + dx), self._desktop.right - area.left)
        height = min(max(1, area.height + dy), self._desktop.bottom - area.top)
        return ScreenArea(area.left, area.top, width, height)

    def _layout_changed(self, _screen: QScreen) -> None:
        """A monitor came or went: the frozen picture no longer matches, so give up."""
        if self._started and not self._done:
            self._finish()
            self.cancelled.emit()

    # -- finishing -------------------------------------------------------------------

    def _accept(self) -> None:
        assert self._selection is not None
        chosen = self._selection.as_tuple()
        self._finish()
        self.selected.emit(chosen)

    def _finish(self) -> None:
        """Hide every window and drop the desktop picture before anyone hears the result."""
        if self._done:
            return
        self._done = True
        self._anchor = self._drag_from = self._grip = None
        app = QGuiApplication.instance()
        if self._started and isinstance(app, QGuiApplication):
            app.screenAdded.disconnect(self._layout_changed)
            app.screenRemoved.disconnect(self._layout_changed)
        self._image = QImage()
        for pane in self._panes:
            pane._release()
            pane.hide()
            if pane is not self:
                pane.deleteLater()
        self._panes = [self]
        self.hide()

    def closeEvent(self, event: QCloseEvent) -> None:
        """Closing the overlay (or a test tearing it down) also closes the other screens."""
        if not self._done:
            self._finish()
            if self._started:
                self.cancelled.emit()
        super().closeEvent(event)

    def _refresh(self) -> None:
        for pane in self._panes or [self]:
            pane.update()

    def sizeHint(self) -> QSize:
        return QSize(self._desktop.width, self._desktop.height)


def _holds(rect: tuple[float, float, float, float], point: tuple[float, float]) -> bool:
    left, top, width, height = rect
    return left <= point[0] < left + width and top <= point[1] < top + height


def _overlaps(rect: tuple[float, float, float, float], area: ScreenArea) -> bool:
    left, top, width, height = rect
    return (left < area.right and area.left < left + width
            and top < area.bottom and area.top < top + height)


def _area(rect: QRect) -> ScreenArea:
    return ScreenArea(rect.x(), rect.y(), rect.width(), rect.height())


def select_region(frozen_png: bytes,
                  monitors: Sequence[tuple[int, int, int, int]]) -> Rect | None:
    """Show the picker and wait for a rectangle, or None if the user cancels.

    A local event loop keeps the capture flow a plain function call; the app's
    other windows are hidden during a capture, so nothing else competes for input.
    """
    overlay = RegionOverlay(frozen_png, monitors)
    loop = QEventLoop()
    chosen: list[Rect] = []
    overlay.selected.connect(chosen.append)
    overlay.selected.connect(loop.quit)
    overlay.cancelled.connect(loop.quit)
    try:
        overlay.start()
        loop.exec()
    finally:
        overlay.close()
        overlay.deleteLater()
    return chosen[0] if chosen else None
