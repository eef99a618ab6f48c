"""The strips the capture browser shows above the page: a certificate warning with its
two choices, the "click the thread" hint, and "Capturing the whole page…" while busy.

Each is a plain frame with words and buttons; the window decides when to show them.
The certificate warning is red like the history banner (white on #b3261e passes WCAG
AA on any theme): a site whose certificate fails may not be the site it claims to be.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget

from evidence_recorder.ui.plain import make_plain


class CertificateBar(QFrame):
    """A certificate problem, said plainly, with "Go on (recorded)" and "Go back"."""

    go_on = Signal()
    go_back = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("certificateBar")
        self.setStyleSheet("QFrame#certificateBar { background: #b3261e; border-radius: 4px; }"
                           "QFrame#certificateBar QLabel { color: white; background: #b3261e; "
                           "font-weight: bold; }")
        self.setAccessibleName(self.tr("Warning: this site's certificate has a problem"))
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 10, 6)
        self.label = QLabel()
        make_plain(self.label)  # the browser's words for the problem may name the site
        self.label.setWordWrap(True)
        layout.addWidget(self.label, 1)
        self.back_button = QPushButton(self.tr("Go back"))
        self.back_button.setToolTip(self.tr("Do not open this page"))
        self.back_button.clicked.connect(self.go_back)
        self.on_button = QPushButton(self.tr("Go on (the warning is recorded)"))
        self.on_button.setToolTip(self.tr("Open the page anyway; a capture of it records "
                                          "this warning"))
        self.on_button.clicked.connect(self.go_on)
        layout.addWidget(self.back_button)
        layout.addWidget(self.on_button)
        self.hide()

    def show_problem(self, problem: str) -> None:
        """``problem``: the browser's sentence ("This website's security certificate has
        a problem: … Someone may be pretending to be this website.")."""
        self.label.setText(self.tr(
            "{problem} Go back unless you know why this happens; if you go on, a capture "
            "records the warning.").format(problem=problem.strip() or self.tr(
                "This website's security certificate has a problem.")))
        self.show()
        self.back_button.setFocus()


class HintBar(QFrame):
    """One plain sentence about what the next click does, with a way out."""

    cancel = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("hintBar")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 10, 6)
        self.label = QLabel()
        self.label.setWordWrap(True)
        layout.addWidget(self.label, 1)
        self.cancel_button = QPushButton(self.tr("Cancel"))
        self.cancel_button.clicked.connect(self.cancel)
        layout.addWidget(self.cancel_button)
        self.hide()

    def show_hint(self, text: str) -> None:
        self.label.setText(text)
        self.show()


class BusyBar(QFrame):
    """"Capturing the whole page…" with a moving bar, while a capture runs."""

    cancel = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("busyBar")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 10, 6)
        self.label = QLabel()
        self.label.setWordWrap(True)
        font = self.label.font()
        font.setBold(True)
        self.label.setFont(font)
        layout.addWidget(self.label, 1)
        self.bar = QProgressBar()
        self.bar.setRange(0, 0)
        self.bar.setMaximumWidth(160)
        self.bar.setTextVisible(False)
        self.bar.setAccessibleName(self.tr("Capturing"))
        layout.addWidget(self.bar)
        self.cancel_button = QPushButton(self.tr("Stop"))
        self.cancel_button.setToolTip(self.tr("Stop capturing; nothing is saved"))
        self.cancel_button.clicked.connect(self.cancel)
        layout.addWidget(self.cancel_button)
        self.hide()

    def start(self, text: str, *, can_cancel: bool) -> None:
        self.label.setText(text)
        self.cancel_button.setVisible(can_cancel)
        self.show()

    def stop(self) -> None:
        self.hide()


__all__ = ["BusyBar", "CertificateBar", "HintBar"]
