"""Starting QtWebEngine safely: the one place that sets its process-wide switches.

QtWebEngine reads its switches once, when the first QApplication is made, so
:func:`prepare` must run before that. It never turns Chromium's sandbox off by
itself: the sandbox is off only when the environment already says
``QTWEBENGINE_DISABLE_SANDBOX=1`` (the tests and CI, which run as root, set it for
themselves). Run as root without it, Chromium would refuse to start; we say so in
plain words instead (:class:`WebUnavailable`).
"""

from __future__ import annotations

import os
import sys

from evidence_recorder.core.errors import EvidenceError

# Switches for Chromium: no background traffic of its own (updates, reports, pings);
# only what the page asks for goes on the network.
_CHROMIUM_FLAGS = (
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-domain-reliability",
    "--disable-breakpad",
    "--no-pings",
)


class WebUnavailable(EvidenceError):
    """The built-in browser cannot run here (said in a plain sentence)."""


def _running_as_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def prepare() -> None:
    """Set QtWebEngine's switches; call once, before the QApplication is made.

    Calling it again (or after the QApplication exists) is harmless: what can still
    be set is set. Raises :class:`WebUnavailable` when the browser cannot start.
    """
    if _running_as_root() and os.environ.get("QTWEBENGINE_DISABLE_SANDBOX") != "1":
        raise WebUnavailable(
            "The built-in browser cannot run as the administrator (root) account. "
            "Please start Evidence Recorder as your normal user account."
        )
    # Mesa would otherwise keep a shader cache in the home folder.
    os.environ["MESA_SHADER_CACHE_DISABLE"] = "true"
    flags = os.environ.get("QTWEBENGINE_CHROMIUM_FLAGS", "").split()
    for flag in _CHROMIUM_FLAGS:
        if flag not in flags:
            flags.append(flag)
    os.environ["QTWEBENGINE_CHROMIUM_FLAGS"] = " ".join(flags)

    from PySide6.QtCore import QCoreApplication, Qt

    if QCoreApplication.instance() is None:
        QCoreApplication.setAttribute(Qt.ApplicationAttribute.AA_ShareOpenGLContexts)


def ensure_app() -> object:
    """The running QApplication, or a new one (offscreen when there is no display).

    For :func:`capture_page` from the command line; the desktop app makes its own.
    """
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is not None:
        if not isinstance(app, QApplication):
            raise WebUnavailable(
                "The built-in browser needs the full application, which is not running."
            )
        return app
    prepare()
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    return QApplication([sys.argv[0] if sys.argv else "evidence-recorder"])


def loopback_only() -> bool:
    """Whether every request beyond this computer is to be blocked (tests set it)."""
    return os.environ.get("ER_WEB_LOOPBACK_ONLY") == "1"
