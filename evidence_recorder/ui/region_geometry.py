"""The geometry of choosing a region: screens in physical pixels and their scales,
the mapping between logical and physical points, and the selection's handles.

Nothing here draws; :mod:`~evidence_recorder.ui.region` does, with these numbers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF

Rect = tuple[int, int, int, int]
"""left, top, width, height in physical screen pixels, as mss numbers them."""


# Two to three percent absorbs Qt rounding logical sizes (2560 px at 150 % -> 1707).
_SCALE_TOLERANCE = 0.03


# The eight handles of a finished selection, by the edges each one moves
# (left, top, right, bottom); "inside" moves the whole rectangle.
HANDLES: dict[str, tuple[bool, bool, bool, bool]] = {
    "top-left": (True, True, False, False), "top": (False, True, False, False),
    "top-right": (False, True, True, False), "right": (False, False, True, False),
    "bottom-right": (False, False, True, True), "bottom": (False, False, False, True),
    "bottom-left": (True, False, False, True), "left": (True, False, False, False),
}
INSIDE = "inside"
HANDLE_SIZE = 8.0  # logical pixels: the square drawn
_HANDLE_REACH = 7.0  # logical pixels either side of a handle or edge that still grab it


# --- the pure mapping ---------------------------------------------------------------


@dataclass(frozen=True)
class ScreenArea:
    """A rectangle in whole pixels: a monitor as mss reports it, or a QScreen's geometry."""

    left: int
    top: int
    width: int
    height: int

    @property
    def right(self) -> int:
        return self.left + self.width

    @property
    def bottom(self) -> int:
        return self.top + self.height

    def as_tuple(self) -> Rect:
        return (self.left, self.top, self.width, self.height)

    @staticmethod
    def bounding(areas: Sequence[ScreenArea]) -> ScreenArea:
        left = min(a.left for a in areas)
        top = min(a.top for a in areas)
        right = max(a.right for a in areas)
        bottom = max(a.bottom for a in areas)
        return ScreenArea(left, top, right - left, bottom - top)


@dataclass(frozen=True)
class ScreenMap:
    """One QScreen's logical geometry and where it lies in physical pixels.

    Linear in each axis: a logical point ``x`` lands at
    ``origin_x + (x - logical.left) * scale_x``. Scales are floats so a mapping
    also works where Qt rounded a fractional size.
    """

    logical: ScreenArea
    origin_x: float
    origin_y: float
    scale_x: float
    scale_y: float

    def to_physical(self, x: float, y: float) -> tuple[float, float]:
        return (self.origin_x + (x - self.logical.left) * self.scale_x,
                self.origin_y + (y - self.logical.top) * self.scale_y)

    def to_logical(self, x: float, y: float) -> tuple[float, float]:
        return (self.logical.left + (x - self.origin_x) / self.scale_x,
                self.logical.top + (y - self.origin_y) / self.scale_y)

    @property
    def physical(self) -> tuple[float, float, float, float]:
        """left, top, width, height of this screen in physical pixels."""
        return (self.origin_x, self.origin_y,
                self.logical.width * self.scale_x, self.logical.height * self.scale_y)

    def distance_to(self, x: float, y: float) -> float:
        """How far a logical point lies outside this screen; 0 when it is on it."""
        area = self.logical
        dx = max(area.left - x, 0.0, x - area.right)
        dy = max(area.top - y, 0.0, y - area.bottom)
        return math.hypot(dx, dy)


@dataclass(frozen=True)
class ScreenLayout:
    """Every screen's mapping, in the order Qt listed the screens, and the physical desktop."""

    maps: tuple[ScreenMap, ...]
    desktop: ScreenArea  # bounding box of the mss monitors: what the frozen picture covers
    paired: bool  # False when the single-scale fallback was used

    def map_at(self, x: float, y: float) -> ScreenMap:
        """The screen a logical point is on, or the nearest one for points in a gap."""
        return min(self.maps, key=lambda m: m.distance_to(x, y))

    def to_physical(self, x: float, y: float) -> tuple[float, float]:
        """A logical desktop point in physical pixels, kept inside the physical desktop."""
        px, py = self.map_at(x, y).to_physical(x, y)
        desk = self.desktop
        return (min(max(px, desk.left), desk.right), min(max(py, desk.top), desk.bottom))


def _corner_key(area: ScreenArea) -> tuple[int, int]:
    return (area.left, area.top)


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= _SCALE_TOLERANCE * max(abs(a), abs(b))


def map_screens(screens: Sequence[tuple[ScreenArea, float]],
                monitors: Sequence[ScreenArea]) -> ScreenLayout:
    """Pair QScreens (logical geometry, device pixel ratio) with mss monitors.

    Pure, so the rules can be tested without real screens; the module docstring
    explains the pairing assumption and the fallback.
    """
    if not screens or not monitors:
        raise ValueError("need at least one screen and one monitor")
    desktop = ScreenArea.bounding(monitors)
    if len(screens) == len(monitors):
        by_corner = sorted(range(len(screens)), key=lambda i: _corner_key(screens[i][0]))
        physical = sorted(monitors, key=_corner_key)
        paired: dict[int, ScreenMap] = {}
        for index, monitor in zip(by_corner, physical, strict=True):
            logical, ratio = screens[index]
            if logical.width <= 0 or logical.height <= 0:
                break
            sx, sy = monitor.width / logical.width, monitor.height / logical.height
            if not _close(sx, sy) or not (_close(sx, ratio) or _close(sx, 1.0)):
                break
            paired[index] = ScreenMap(logical, monitor.left, monitor.top, sx, sy)
        else:
            return ScreenLayout(tuple(paired[i] for i in range(len(screens))), desktop, True)
    return _single_scale(screens, desktop)


def _single_scale(screens: Sequence[tuple[ScreenArea, float]],
                  desktop: ScreenArea) -> ScreenLayout:
    """Map the logical desktop onto the physical one with one scale for both axes.

    The scale is whatever makes the two bounding boxes agree when they have the
    same shape; when they do not, the first (primary) screen's pixel ratio is the
    best guess left.
    """
    virtual = ScreenArea.bounding([area for area, _ratio in screens])
    sx = desktop.width / virtual.width if virtual.width > 0 else 0.0
    sy = desktop.height / virtual.height if virtual.height > 0 else 0.0
    scale = sx if sx > 0 and _close(sx, sy) else (screens[0][1] or 1.0)
    maps = tuple(
        ScreenMap(area,
                  desktop.left + (area.left - virtual.left) * scale,
                  desktop.top + (area.top - virtual.top) * scale,
                  scale, scale)
        for area, _ratio in screens
    )
    return ScreenLayout(maps, desktop, False)


def physical_rect(a: tuple[float, float], b: tuple[float, float]) -> ScreenArea:
    """The whole-pixel rectangle between two physical points, dragged in any direction."""
    left, right = round(min(a[0], b[0])), round(max(a[0], b[0]))
    top, bottom = round(min(a[1], b[1])), round(max(a[1], b[1]))
    return ScreenArea(left, top, right - left, bottom - top)


def size_text(area: ScreenArea) -> str:
    """The label beside the selection, in the pixels that will be kept (not logical ones)."""
    return f"{area.width} \N{MULTIPLICATION SIGN} {area.height}"


def handle_points(rect: QRectF) -> dict[str, QPointF]:
    """Where each handle sits on a rectangle: its corners and the middles of its sides."""
    cx, cy = rect.center().x(), rect.center().y()
    return {
        "top-left": rect.topLeft(), "top": QPointF(cx, rect.top()),
        "top-right": rect.topRight(), "right": QPointF(rect.right(), cy),
        "bottom-right": rect.bottomRight(), "bottom": QPointF(cx, rect.bottom()),
        "bottom-left": rect.bottomLeft(), "left": QPointF(rect.left(), cy),
    }


def hit_test(rect: QRectF, point: QPointF) -> str | None:
    """Which part of a selection (in window coordinates) a point grabs, if any.

    Handles first (corners before sides, so a tiny selection can still be resized
    diagonally), then anywhere along an edge, then the inside.
    """
    reach = _HANDLE_REACH
    for name, spot in sorted(handle_points(rect).items(), key=lambda kv: "-" not in kv[0]):
        if abs(point.x() - spot.x()) <= reach and abs(point.y() - spot.y()) <= reach:
            return name
    within_x = rect.left() - reach <= point.x() <= rect.right() + reach
    within_y = rect.top() - reach <= point.y() <= rect.bottom() + reach
    if within_y and abs(point.x() - rect.left()) <= reach:
        return "left"
    if within_y and abs(point.x() - rect.right()) <= reach:
        return "right"
    if within_x and abs(point.y() - rect.top()) <= reach:
        return "top"
    if within_x and abs(point.y() - rect.bottom()) <= reach:
        return "bottom"
    if rect.contains(point):
        return INSIDE
    return None


def adjusted(area: ScreenArea, grip: str, dx: float, dy: float,
             desktop: ScreenArea) -> ScreenArea:
    """The selection after dragging ``grip`` by (dx, dy) physical pixels.

    Dragging an edge past the opposite one flips the rectangle rather than
    leaving it inside out; it always keeps at least one pixel and stays on the
    desktop.
    """
    if grip == INSIDE:
        moved = ScreenArea(round(area.left + dx), round(area.top + dy), area.width, area.height)
        return _clamp_moved(moved, desktop)
    move_left, move_top, move_right, move_bottom = HANDLES[grip]
    left = area.left + dx if move_left else area.left
    right = area.right + dx if move_right else area.right
    top = area.top + dy if move_top else area.top
    bottom = area.bottom + dy if move_bottom else area.bottom
    left, right = (min(max(v, desktop.left), desktop.right) for v in (left, right))
    top, bottom = (min(max(v, desktop.top), desktop.bottom) for v in (top, bottom))
    rect = physical_rect((left, top), (right, bottom))
    width, height = max(1, rect.width), max(1, rect.height)
    return _clamp_moved(ScreenArea(rect.left, rect.top, width, height), desktop)


def _clamp_moved(area: ScreenArea, desktop: ScreenArea) -> ScreenArea:
    """Keep a moved selection on the desktop without changing its size."""
    width, height = min(area.width, desktop.width), min(area.height, desktop.height)
    left = min(max(area.left, desktop.left), desktop.right - width)
    top = min(max(area.top, desktop.top), desktop.bottom - height)
    return ScreenArea(left, top, width, height)
