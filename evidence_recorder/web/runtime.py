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
from evidence_recorder.core.i18n import QT_TRANSLATE_NOOP

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
        raise WebUnavailable(QT_TRANSLATE_NOOP(
            "EvidenceError", "The built-in browser cannot run as the administrator (root) "
            "account. Please start Evidence Recorder as your normal user account."))
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


#: The scheme the archived-page viewer serves an archive's parts under (web/archive_view).
ARCHIVE_SCHEME = "er-archive"
_schemes_registered = False


def register_schemes() -> None:
    """Declare our own URL schemes to QtWebEngine: before its first profile exists.

    Qt reads custom schemes once, when QtWebEngine starts (the first profile or page),
    so every maker of a profile (``page.make_profile``, the archived-page viewer) calls
    this first. It is not done in :func:`prepare`, which would load QtWebEngine at every
    start of the app, browser or not. Later calls do nothing.
    """
    global _schemes_registered
    if _schemes_registered:
        return
    from PySide6.QtWebEngineCore import QWebEngineUrlScheme

    scheme = QWebEngineUrlScheme(ARCHIVE_SCHEME.encode("ascii"))
    scheme.setSyntax(QWebEngineUrlScheme.Syntax.Host)
    # Not LocalScheme: Chromium then refuses a page of the scheme its own pictures.
    # Nothing else may load it anyway: only the archive's own profile has its handler.
    scheme.setFlags(QWebEngineUrlScheme.Flag.SecureScheme)
    QWebEngineUrlScheme.registerScheme(scheme)
    _schemes_registered = True


def ensure_app() -> object:
    """The running QApplication, or a new one (offscreen when there is no display).

    For :func:`capture_page` from the command line; the desktop app makes its own.
    """
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is not None:
        if not isinstance(app, QApplication):
            raise WebUnavailable(QT_TRANSLATE_NOOP(
                "EvidenceError",
                "The built-in browser needs the full application, which is not running."))
        return app
    prepare()
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    # A person at a terminal should see our sentences, not Chromium's and Qt's notes
    # on how they draw without a graphics card: Chromium logs only fatal errors, and
    # Qt's known lines about the software fallback are dropped (any other still shows).
    flags = os.environ.get("QTWEBENGINE_CHROMIUM_FLAGS", "").split()
    if not any(flag.startswith("--log-level") for flag in flags):
        os.environ["QTWEBENGINE_CHROMIUM_FLAGS"] = " ".join([*flags, "--log-level=3"])
    _quiet_rendering_notes()
    return QApplication([sys.argv[0] if sys.argv else "evidence-recorder"])


#: Qt's own lines when QtWebEngine draws in software (no GPU, or none it can use).
RENDERING_NOTES = ("QRhiGles2", "Failed to create RHI", "support createPlatformVulkanInstance",
                   "QVulkanInstance", "GBM is not supported", "GPUInfo not initialized")


def _quiet_rendering_notes() -> None:
    from PySide6.QtCore import QtMsgType, qInstallMessageHandler

    def handler(kind: QtMsgType, context: object, message: str) -> None:
        del context
        if kind in (QtMsgType.QtDebugMsg, QtMsgType.QtInfoMsg):
            return
        if kind == QtMsgType.QtWarningMsg and any(n in message for n in RENDERING_NOTES):
            return
        print(message, file=sys.stderr)

    qInstallMessageHandler(handler)


def loopback_only() -> bool:
    """Whether every request beyond this computer is to be blocked (tests set it)."""
    return os.environ.get("ER_WEB_LOOPBACK_ONLY") == "1"
