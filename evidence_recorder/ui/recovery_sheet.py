"""The printed recovery key sheet: finding a real printer (never a PDF by default) and
drawing the one-page sheet. Nothing else goes on it: no passphrase, no vault folder.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, QDate, QLocale, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPen

from evidence_recorder import APP_NAME

if TYPE_CHECKING:
    from PySide6.QtPrintSupport import QPrinter


def real_printer() -> QPrinter | None:
    """The system's default printer (else its first), or None when it has none.

    Qt's own "Print to File (PDF)" is not a printer: without one, the print dialog would
    quietly write an unencrypted PDF of the recovery key to the home folder.
    """
    from PySide6.QtPrintSupport import QPrinter, QPrinterInfo

    printers = QPrinterInfo.availablePrinters()
    if not printers:
        return None
    chosen = QPrinterInfo.defaultPrinter()
    printer = QPrinter(printers[0] if chosen.isNull() else chosen,
                       QPrinter.PrinterMode.HighResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.NativeFormat)
    printer.setOutputFileName("")
    return printer


def prints_to_file(printer: QPrinter) -> bool:
    """Whether ``printer`` would write a file (PDF) rather than paper."""
    from PySide6.QtPrintSupport import QPrinter

    return (printer.outputFormat() == QPrinter.OutputFormat.PdfFormat
            or bool(printer.outputFileName()))


def recovery_sheet_lines(key: str) -> tuple[str, str]:
    """The key as two lines of four groups, the way the sheet and the page show it."""
    groups = key.split("-")
    return "  ".join(groups[:4]), "  ".join(groups[4:])


def paint_recovery_sheet(printer: QPrinter, key: str, when: QDate | None = None) -> bool:
    """Draw the one-page recovery key sheet: what it is, the key, where to keep it, the date.

    Nothing else: no passphrase, no vault folder (it would say where the evidence is). On
    a small page everything shrinks together so it stays one page. Returns False when the
    printer could not be started.
    """
    translate = QCoreApplication.translate
    printed = QLocale().toString(when or QDate.currentDate(), QLocale.FormatType.LongFormat)
    blocks: list[tuple[str, float, bool, float]] = [  # text, point size, bold, gap after (mm)
        (translate("unlock", "{app} — recovery key").format(app=APP_NAME), 20, True, 2),
        (translate("unlock", "Printed on {date}").format(date=printed), 10, False, 8),
        (translate("unlock", "If you forget your passphrase, this key is the only way back "
                             "into your evidence. Anyone who has this sheet and can use the "
                             "computer could open your vault."), 12, False, 4),
        ("", 0, False, 0),  # the key
        (translate("unlock", "Where to keep it"), 14, True, 2),
        (translate("unlock", "• Somewhere safe away from the computer, such as a locked drawer "
                             "at home."), 12, False, 2),
        (translate("unlock", "• Not in the computer's bag, not stuck to the screen, and not as "
                             "a photo on your phone."), 12, False, 2),
        (translate("unlock", "• If you lose it, open the vault and use Change all keys to get a "
                             "new one."), 12, False, 6),
        (translate("unlock", "This sheet does not hold your passphrase. Never write your "
                             "passphrase on it."), 12, True, 0),
    ]
    lines = recovery_sheet_lines(key)
    painter = QPainter()
    if not painter.begin(printer):
        return False
    try:
        dpi = printer.resolution()
        page = printer.pageLayout().paintRectPixels(dpi)
        mm = dpi / 25.4

        def key_font(width: float) -> QFont:
            # Monospaced and large; it shrinks rather than break a line of the key.
            font = QFont("DejaVu Sans Mono")
            font.setStyleHint(QFont.StyleHint.Monospace)
            font.setFixedPitch(True)
            for size in range(26, 7, -1):
                font.setPointSizeF(size)
                metrics = QFontMetricsF(font, printer)
                if max(metrics.horizontalAdvance(line) for line in lines) <= width - 12 * mm:
                    break
            return font

        def render(width: float, draw: bool) -> float:
            y = 0.0
            for text, size, bold, gap in blocks:
                if not text:  # the key, in a box, two lines of four groups
                    font = key_font(width)
                    line_height = QFontMetricsF(font, printer).lineSpacing()
                    box = QRectF(0, y, width, 2 * line_height + 12 * mm)
                    if draw:
                        painter.setPen(QPen(QColor("black"), 0.5 * mm))
                        painter.drawRoundedRect(box, 3 * mm, 3 * mm)
                        painter.setFont(font)
                        for row, line in enumerate(lines):
                            painter.drawText(
                                QRectF(0, y + 6 * mm + row * line_height, width, line_height),
                                int(Qt.AlignmentFlag.AlignHCenter)
                                | int(Qt.TextFlag.TextSingleLine), line)
                    y += box.height() + 8 * mm
                    continue
                font = QFont("DejaVu Sans")
                font.setStyleHint(QFont.StyleHint.SansSerif)
                font.setPointSizeF(size)
                font.setBold(bold)
                painter.setFont(font)
                flags = int(Qt.AlignmentFlag.AlignLeft) | int(Qt.TextFlag.TextWordWrap)
                height = painter.boundingRect(QRectF(0, y, width, 100_000), flags, text).height()
                if draw:
                    painter.drawText(QRectF(0, y, width, height), flags, text)
                y += height + gap * mm
            return y

        scale = 1.0
        for _ in range(6):  # a smaller scale means wider lines, fewer of them: settle
            needed = render(page.width() / scale, draw=False) * scale
            if needed <= page.height():
                break
            scale *= page.height() / needed * 0.98
        painter.scale(scale, scale)
        render(page.width() / scale, draw=True)
    finally:
        painter.end()
    return True
