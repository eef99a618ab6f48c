"""Readable colours in any desktop theme: WCAG 2.x AA contrast for the palette and for
the few colours the app chooses itself.

Desktop themes do not always meet AA: Qt's own Fusion palette draws white on a mid
blue for selections (3.7:1), half-transparent placeholder text (4:1 on white) and, on
dark desktops, dark blue links. ``readable_palette`` nudges only the colours that fail
towards black or white until they pass, and leaves every colour that passes alone.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from PySide6.QtCore import QCoreApplication, QObject, QTimer
from PySide6.QtGui import QColor, QGuiApplication, QPalette

AA_TEXT = 4.5  # WCAG 2.x 1.4.3, normal-sized text

_Role = QPalette.ColorRole
# (text, backgrounds it is drawn on); the text colour moves if a pair fails.
_TEXT_ON = (
    (_Role.WindowText, (_Role.Window,)),
    (_Role.Text, (_Role.Base,)),
    (_Role.ButtonText, (_Role.Button,)),
    (_Role.PlaceholderText, (_Role.Base, _Role.Window)),
    (_Role.Link, (_Role.Base, _Role.Window)),
    (_Role.LinkVisited, (_Role.Base, _Role.Window)),
    (_Role.ToolTipText, (_Role.ToolTipBase,)),
)
# (background, text drawn on it); the background moves: a selection's colour is a
# swatch, and its text is usually the theme's plain white or near-white.
_BACKGROUND_UNDER = ((_Role.Highlight, _Role.HighlightedText),)


def _linear(value: int) -> float:
    c = value / 255
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def luminance(colour: QColor) -> float:
    return (0.2126 * _linear(colour.red()) + 0.7152 * _linear(colour.green())
            + 0.0722 * _linear(colour.blue()))


def _mix(a: QColor, b: QColor, t: float) -> QColor:
    """``a`` moved a fraction ``t`` of the way to ``b`` (alpha of ``b`` when ``t`` is 1)."""
    return QColor(round(a.red() + (b.red() - a.red()) * t),
                  round(a.green() + (b.green() - a.green()) * t),
                  round(a.blue() + (b.blue() - a.blue()) * t))


def flattened(fore: QColor, back: QColor) -> QColor:
    """A see-through ``fore`` as it looks painted on the opaque ``back``."""
    return _mix(back, QColor(fore.red(), fore.green(), fore.blue()), fore.alphaF())


def contrast(fore: QColor, back: QColor) -> float:
    one, two = luminance(flattened(fore, back)), luminance(back)
    return (max(one, two) + 0.05) / (min(one, two) + 0.05)


def is_dark(palette: QPalette) -> bool:
    return luminance(palette.color(_Role.Window)) < 0.2


def _readable_on(fore: QColor, backs: list[QColor], ratio: float = AA_TEXT) -> QColor:
    """``fore``, or the nearest colour towards black or white that passes on all ``backs``."""
    if all(contrast(fore, back) >= ratio for back in backs):
        return fore
    darkest = min(backs, key=luminance)
    lightest = max(backs, key=luminance)
    target = QColor("white") if luminance(darkest) < 0.18 else QColor("black")
    start = flattened(fore, lightest if target == QColor("white") else darkest)
    return _nudged(start, target, lambda moved: all(contrast(moved, back) >= ratio
                                                    for back in backs))


def _passes_under(fore: QColor, back: QColor) -> bool:
    return contrast(fore, back) >= AA_TEXT


def _nudged(start: QColor, target: QColor, passes: Callable[[QColor], bool]) -> QColor:
    """The first of twenty steps from ``start`` towards ``target`` that ``passes``."""
    for step in range(1, 21):
        moved = _mix(start, target, step / 20)
        if passes(moved):
            return moved
    return target


def readable_palette(source: QPalette) -> QPalette:
    """``source`` with every failing text/background pair nudged until it meets AA."""
    palette = QPalette(source)
    for group in (QPalette.ColorGroup.Active, QPalette.ColorGroup.Inactive):
        for back_role, fore_role in _BACKGROUND_UNDER:
            fore = palette.color(group, fore_role)
            back = palette.color(group, back_role)
            if contrast(fore, back) < AA_TEXT:
                away = QColor("black") if luminance(fore) > 0.18 else QColor("white")
                back = _nudged(back, away, partial(_passes_under, fore))
                palette.setColor(group, back_role, back)
        for fore_role, back_roles in _TEXT_ON:
            fore = palette.color(group, fore_role)
            fixed = _readable_on(fore, [palette.color(group, r) for r in back_roles])
            if fixed != fore:
                palette.setColor(group, fore_role, fixed)
    return palette


def error_colour(palette: QPalette) -> str:
    """Red for problem text that reads on this palette's window colour, light or dark."""
    back = palette.color(_Role.Window)
    for candidate in ("#b00020", "#8c0019") if not is_dark(palette) else ("#ff8a80", "#ffb4ab"):
        if contrast(QColor(candidate), back) >= AA_TEXT:
            return candidate
    return palette.color(_Role.WindowText).name()


def use_readable_palette(app: QCoreApplication) -> None:
    """Give ``app`` a readable palette now, and again whenever the desktop theme changes."""
    if not isinstance(app, QGuiApplication):
        return  # no windows, no colours
    app.setPalette(readable_palette(app.palette()))
    hints = app.styleHints()
    if not hasattr(hints, "colorSchemeChanged") or app.property("readablePalette"):
        return
    app.setProperty("readablePalette", True)

    def refit() -> None:
        app.setPalette(QPalette())  # back to the desktop's own palette
        app.setPalette(readable_palette(app.palette()))

    # The new palette arrives after the signal: refit once the event loop has applied it.
    holder = QObject(app)
    hints.colorSchemeChanged.connect(lambda _scheme: QTimer.singleShot(0, holder, refit))


def problem_style(palette: QPalette) -> str:
    """The style sheet for a bold red problem line, worked out for ``palette``.

    Set it when the line is shown, so it follows the theme in use at that moment.
    """
    return f"color: {error_colour(palette)}; font-weight: bold;"


# The child-protection stop (policy 4.7.3) is red in every theme: a swatch with its own
# text colour, so it reads the same on a light or a dark desktop.
STOP_RED = "#b3261e"
STOP_RED_PRESSED = "#8c1d18"


def stop_colours(*, pressed: bool = False) -> tuple[QColor, QColor]:
    """(background, text) for the red stop: white text, or whatever meets AA on the red."""
    back = QColor(STOP_RED_PRESSED if pressed else STOP_RED)
    return back, _readable_on(QColor("white"), [back])


def stop_style(selector: str) -> str:
    """The style sheet for a red stop button matched by ``selector``.

    Its own focus ring, since a styled button loses the desktop's one.
    """
    back, fore = stop_colours()
    down, down_fore = stop_colours(pressed=True)
    return (f"{selector} {{ background: {back.name()}; color: {fore.name()}; font-weight: bold;"
            f" padding: 4px 10px; border: 2px solid {back.name()}; border-radius: 4px; }}"
            f" {selector}:hover, {selector}:pressed {{ background: {down.name()};"
            f" color: {down_fore.name()}; border-color: {down.name()}; }}"
            f" {selector}:focus {{ border: 2px solid {fore.name()}; }}")
