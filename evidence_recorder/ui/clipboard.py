"""Putting a secret (a recovery key, a bundle passphrase) on the clipboard.

Clipboard managers keep a history, and Windows and some desktops sync the clipboard to
other devices and to the cloud. Password managers mark what they copy so that those
leave it out (KeePassXC's ``Clipboard``); we do the same, for every secret we copy:

* KDE Klipper, and Wayland tools that honour it: ``x-kde-passwordManagerHint`` = ``secret``;
* Windows: the registered formats ``ExcludeClipboardContentFromMonitorProcessing`` (its
  presence is the hint), ``CanIncludeInClipboardHistory`` and ``CanUploadToCloudClipboard``
  (a DWORD 0). Qt names a native Windows format ``application/x-qt-windows-mime;value="…"``;
* macOS: ``org.nspasteboard.ConcealedType`` (nspasteboard.org), which Qt puts on the
  pasteboard through the converter below.

The secret is also taken off the clipboard after two minutes if it is still there.
"""

from __future__ import annotations

import sys
from typing import Any

from PySide6.QtCore import QByteArray, QMimeData, QTimer
from PySide6.QtGui import QGuiApplication

CLEAR_AFTER_MS = 120_000

KDE_HINT = "x-kde-passwordManagerHint"
CONCEALED_MIME = "application/x-nspasteboard-concealed-type"
CONCEALED_UTI = "org.nspasteboard.ConcealedType"
_NO = QByteArray(b"\x00\x00\x00\x00")  # a little-endian DWORD 0


def _windows_format(name: str) -> str:
    return f'application/x-qt-windows-mime;value="{name}"'


SECRET_HINTS: dict[str, QByteArray] = {
    KDE_HINT: QByteArray(b"secret"),
    _windows_format("ExcludeClipboardContentFromMonitorProcessing"): QByteArray(b"\x01"),
    _windows_format("CanIncludeInClipboardHistory"): _NO,
    _windows_format("CanUploadToCloudClipboard"): _NO,
    CONCEALED_MIME: QByteArray(b"secret"),
}


def secret_mime_data(text: str) -> QMimeData:
    """``text`` as plain text, with every hint that keeps it out of histories and sync."""
    data = QMimeData()
    data.setText(text)
    for mime, value in SECRET_HINTS.items():
        data.setData(mime, value)
    return data


def copy_secret(text: str, clear_after_ms: int = CLEAR_AFTER_MS) -> None:
    """Copy ``text`` with the hints, and clear it after two minutes if it is still ours."""
    _register_mac_converter()
    QGuiApplication.clipboard().setMimeData(secret_mime_data(text))

    def clear_if_still_ours() -> None:
        clipboard = QGuiApplication.clipboard()
        if clipboard.text() == text:
            clipboard.clear()

    # Bound to the application, which outlives every window: no widget is held.
    app = QGuiApplication.instance()
    if app is not None:
        QTimer.singleShot(clear_after_ms, app, clear_if_still_ours)


_mac_converter: Any = None


def _register_mac_converter() -> None:
    """On macOS, map CONCEALED_MIME to its pasteboard type (Qt 6.5's QUtiMimeConverter;
    without one, Qt would file it under a private ``com.trolltech.anymime`` type)."""
    global _mac_converter
    if _mac_converter is not None or sys.platform != "darwin":
        return
    from PySide6 import QtGui

    base = getattr(QtGui, "QUtiMimeConverter", None)
    if base is None:  # a PySide6 without the class: the other hints still apply
        return

    class ConcealedType(base):  # type: ignore[misc, valid-type]
        def mimeForUti(self, uti: str) -> str:  # Qt's names, called by Qt
            return CONCEALED_MIME if uti == CONCEALED_UTI else ""

        def utiForMime(self, mime: str) -> str:
            return CONCEALED_UTI if mime == CONCEALED_MIME else ""

        def convertToMime(self, _mime: str, data: list[QByteArray], _uti: str) -> Any:
            return data[0] if data else QByteArray()

        def convertFromMime(self, _mime: str, data: Any, _uti: str) -> list[QByteArray]:
            return [QByteArray(data) if data is not None else QByteArray()]

    _mac_converter = ConcealedType()
