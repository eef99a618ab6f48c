"""The bundle viewer's verdict banner: is this bundle intact, whose key sealed it, how
far its timestamp can be trusted, and whether the list of evidence inside could be read,
in words and not only in colour.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QPainter, QPainterPath, QPen, QPixmap, QPolygonF
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from evidence_recorder.ui.bundle_wording import (
    _GREEN,
    _NEUTRAL,
    _PROBLEM_LINES,
    _RED,
    ALTERED_ADVICE,
    ALTERED_HEADLINE,
    CHECKING_DETAIL,
    CHECKING_HEADLINE,
    CONFIRM_FINGERPRINT,
    CONTENTS_UNREADABLE,
    INTACT_HEADLINE,
    UNREADABLE_ADVICE,
    UNREADABLE_HEADLINE,
    _timestamp_words,
    _tr,
)
from evidence_recorder.ui.plain import make_plain
from evidence_recorder.ui.seal_dialog import seal_number_html

if TYPE_CHECKING:
    from evidence_recorder.ui.bundle_viewer import BundleReportLike

# ---------------------------------------------------------------------- the verdict banner


def _verdict_icon(intact: bool, size: int = 40) -> QPixmap:
    """A tick in a green disc, or "!" in a red triangle: the shape carries the meaning too."""
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    colour = QColor(_GREEN[1] if intact else _RED[1])
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(colour)
    pen = QPen(QColor("white"), size / 9)
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    if intact:
        painter.drawEllipse(1, 1, size - 2, size - 2)
        tick = QPainterPath(QPointF(size * 0.28, size * 0.52))
        tick.lineTo(size * 0.44, size * 0.68)
        tick.lineTo(size * 0.73, size * 0.34)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(tick)
    else:
        painter.drawPolygon(QPolygonF([QPointF(size / 2, 2), QPointF(size - 1, size - 3),
                                       QPointF(1, size - 3)]))
        painter.setPen(pen)
        painter.drawLine(QPointF(size / 2, size * 0.36), QPointF(size / 2, size * 0.62))
        painter.drawPoint(QPointF(size / 2, size * 0.78))
    painter.end()
    return pixmap


class VerdictBanner(QFrame):
    """Intact, altered, unreadable (sealed, but its list of evidence cannot be read) or
    still checking: an icon, a headline and what follows from it."""

    copy_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("verdictBanner")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.state = "checking"
        self.fingerprint = ""
        self.seal_number = ""
        outer = QHBoxLayout(self)
        outer.setContentsMargins(14, 10, 14, 10)
        outer.setSpacing(12)
        self.icon = QLabel()
        self.icon.setFixedSize(40, 40)
        self.icon.setAlignment(Qt.AlignmentFlag.AlignTop)
        outer.addWidget(self.icon, 0, Qt.AlignmentFlag.AlignTop)
        column = QVBoxLayout()
        column.setSpacing(4)
        outer.addLayout(column, 1)

        self.headline = QLabel()
        self.headline.setObjectName("verdictHeadline")
        self.headline.setWordWrap(True)
        bold = QFont(self.headline.font())
        bold.setBold(True)
        bold.setPointSizeF(max(bold.pointSizeF(), 9.0) * 1.2)
        self.headline.setFont(bold)
        self.headline.setAccessibleName(self.tr("Verdict"))
        column.addWidget(self.headline)

        key_row = QHBoxLayout()
        key_row.setSpacing(8)
        self.fingerprint_label = QLabel()
        self.fingerprint_label.setWordWrap(True)
        self.fingerprint_label.setTextFormat(Qt.TextFormat.RichText)
        self.fingerprint_label.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse
            | Qt.TextInteractionFlag.TextSelectableByKeyboard)
        self.fingerprint_label.setAccessibleName(self.tr("Key that sealed the bundle"))
        key_row.addWidget(self.fingerprint_label, 1)
        self.copy_button = QToolButton()
        self.copy_button.setText(self.tr("Copy seal"))
        self.copy_button.setAccessibleName(self.tr("Copy the seal number and fingerprint"))
        self.copy_button.setToolTip(self.tr("Copy the seal number and fingerprint, to compare "
                                            "them with the ones the sender reads to you"))
        self.copy_button.clicked.connect(self.copy_requested.emit)
        key_row.addWidget(self.copy_button, 0, Qt.AlignmentFlag.AlignTop)
        column.addLayout(key_row)

        self.timestamp_label = QLabel()
        self.timestamp_label.setWordWrap(True)
        self.timestamp_label.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse)
        self.timestamp_label.setAccessibleName(self.tr("Timestamp"))
        column.addWidget(self.timestamp_label)

        self.problems = QPlainTextEdit()
        self.problems.setReadOnly(True)
        self.problems.setAccessibleName(self.tr("Problems found"))
        self.problems.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        column.addWidget(self.problems)

        self.advice = QLabel()
        self.advice.setWordWrap(True)
        self.advice.setAccessibleName(self.tr("What to do"))
        column.addWidget(self.advice)
        # The timestamp names the authority as the bundle's token gives it: outside text.
        make_plain(self.headline, self.timestamp_label, self.advice)
        # Word-wrapped labels alone in the column (while checking) would otherwise be laid
        # out at their narrowest, one word a line in the middle of the banner.
        for label in (self.headline, self.advice):
            label.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.show_checking()

    def _style(self, colours: tuple[str, str, str] | None) -> None:
        if colours is None:
            self.setStyleSheet("")
            return
        back, border, ink = colours
        self.setStyleSheet(
            f"QFrame#verdictBanner {{ background: {back}; border: 2px solid {border};"
            f" border-radius: 6px; }}"
            f" QFrame#verdictBanner QLabel {{ color: {ink}; background: transparent; }}"
            # a timestamp that is not trusted is neither green nor red: plain grey
            f" QFrame#verdictBanner QLabel#neutralTimestamp {{ color: {_NEUTRAL[2]};"
            f" background: {_NEUTRAL[0]}; border: 1px solid {_NEUTRAL[1]};"
            f" border-radius: 3px; padding: 4px; }}"
            f" QFrame#verdictBanner QPlainTextEdit {{ color: {ink}; background: white;"
            f" border: 1px solid {border}; }}"
            f" QFrame#verdictBanner QToolButton {{ color: {ink}; background: white;"
            f" border: 1px solid {border}; border-radius: 3px; padding: 2px 8px; }}")

    def _reset(self) -> None:
        self.fingerprint = ""
        self.seal_number = ""
        self.fingerprint_label.clear()
        self.timestamp_label.clear()
        self.problems.clear()
        self.advice.clear()
        for widget in (self.fingerprint_label, self.copy_button, self.timestamp_label,
                       self.problems, self.advice):
            widget.setVisible(False)

    def show_checking(self) -> None:
        self.state = "checking"
        self._reset()
        self._style(None)
        self.icon.clear()
        self.icon.setAccessibleName("")
        self.headline.setText(_tr(CHECKING_HEADLINE))
        self.advice.setText(_tr(CHECKING_DETAIL))
        self.advice.setVisible(True)

    def show_report(self, report: BundleReportLike, contents_problem: str | None = None) -> None:
        """The seal's verdict, and, when ``contents_problem`` says why the list of evidence
        inside could not be read, that too: a sound seal then reads "intact" only for the
        seal, never as a green all-clear above an empty list."""
        self._reset()
        problems = [str(p) for p in (report.problems or [])]
        sealed = bool(report.ok) and not problems
        unreadable = (_tr(CONTENTS_UNREADABLE).format(reason=contents_problem)
                      if contents_problem else None)
        intact = sealed and unreadable is None
        self.state = "intact" if intact else "unreadable" if sealed else "altered"
        self._style(_GREEN if intact else _NEUTRAL if sealed else _RED)
        self.icon.setPixmap(_verdict_icon(intact))
        self.icon.setAccessibleName(self.tr("Intact") if intact else self.tr("Warning"))
        self.icon.setToolTip(self.tr("Intact") if intact else self.tr("Warning"))
        fingerprint = (report.fingerprint or "").strip()
        number = (report.seal_number or "").strip() if fingerprint else ""
        timestamp = (report.timestamp or "").strip()
        if sealed:
            self.headline.setText(_tr(INTACT_HEADLINE if intact else UNREADABLE_HEADLINE))
            if fingerprint:
                text = self.tr("Sealed by the key <span style='font-family: monospace; "
                               "font-weight: 600'>{fingerprint}</span> — {advice}").format(
                    fingerprint=html.escape(fingerprint),
                    advice=html.escape(_tr(CONFIRM_FINGERPRINT)))
                if number:
                    text += "<br>" + self.tr("Seal number (the same key as digits, easier to "
                                             "read out):") + "<br>" + seal_number_html(number)
                self.fingerprint_label.setText(text)
                self.copy_button.setVisible(True)
            else:
                self.fingerprint_label.setText(
                    self.tr("The key that sealed it could not be identified. Ask the sender how "
                            "they sealed it before you rely on it."))
            self.fingerprint_label.setVisible(True)
            if timestamp:
                self._show_timestamp(report, timestamp)
            if unreadable is not None:
                self._show_problems([unreadable])
                self.advice.setText(_tr(UNREADABLE_ADVICE))
                self.advice.setVisible(True)
        else:
            self.headline.setText(_tr(ALTERED_HEADLINE))
            listed = problems or [self.tr("The check failed without saying why.")]
            if unreadable is not None and contents_problem not in listed:
                listed.append(unreadable)
            self._show_problems(listed)
            self.advice.setText(_tr(ALTERED_ADVICE))
            self.advice.setVisible(True)
        self.fingerprint = fingerprint if sealed else ""
        self.seal_number = number if sealed else ""

    def _show_problems(self, listed: list[str]) -> None:
        self.problems.setPlainText("\n".join(f"• {p}" for p in listed))
        # Tall enough for a few problems; a long list scrolls.
        lines = min(len(listed), _PROBLEM_LINES) + 0.6
        margins = 2 * (self.problems.frameWidth()
                       + int(self.problems.document().documentMargin()))
        self.problems.setFixedHeight(
            int(lines * self.problems.fontMetrics().lineSpacing()) + margins)
        self.problems.setVisible(True)

    def _show_timestamp(self, report: BundleReportLike, timestamp: str) -> None:
        """Only a timestamp whose authority chains to a trusted root may sound sure."""
        timestamp = _timestamp_words(timestamp)
        state = report.timestamp_state
        if state == "trusted":
            self.timestamp_label.setObjectName("trustedTimestamp")
            self.timestamp_label.setText(
                self.tr("Timestamped by an independent service that this computer trusts: "
                        "{timestamp}. The bundle existed, exactly as it is, at that time.")
                .format(timestamp=timestamp))
        elif state == "unknown-authority":
            self.timestamp_label.setObjectName("neutralTimestamp")
            self.timestamp_label.setText(
                self.tr("This bundle contains a timestamp from an authority this computer does "
                        "not know, claiming {timestamp}. It belongs to this bundle, but the "
                        "time is only that authority's claim.").format(timestamp=timestamp))
        else:
            self.timestamp_label.setObjectName("neutralTimestamp")
            self.timestamp_label.setText(
                self.tr("This bundle contains a timestamp claiming {timestamp}, but this "
                        "computer cannot trust it: {reason}")
                .format(timestamp=timestamp,
                        reason=report.timestamp_reason or self.tr("it could not be checked.")))
        style = self.timestamp_label.style()  # re-apply the banner's rules for the new name
        style.unpolish(self.timestamp_label)
        style.polish(self.timestamp_label)
        self.timestamp_label.setVisible(True)

    def clear(self) -> None:
        self.show_checking()
        self.headline.setText(self.tr("No bundle open."))
        self.advice.setVisible(False)
