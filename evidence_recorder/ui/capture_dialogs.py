"""The dialogs the main window opens over one capture: describe it, and highlight and
redact it. Each saves through the :class:`VaultSession` and asks before discarding edits.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from evidence_recorder.core.errors import EvidenceError
from evidence_recorder.core.model import Capture
from evidence_recorder.ui import messages
from evidence_recorder.ui.describe import DescribePanel
from evidence_recorder.ui.editor import AnnotationEditor
from evidence_recorder.ui.geometry import remember_geometry
from evidence_recorder.ui.i18n import error_text
from evidence_recorder.ui.imageview import ImageView
from evidence_recorder.ui.session import VaultSession


class DescribeDialog(QDialog):
    """Opens right after a capture or an import: the picture, and the form to say what it shows.

    After importing several pictures (say, screenshots of one conversation), one form
    describes them all: what is written here is saved to each (``also``), and each can
    be told apart later in the detail pane. One step, not one window per picture, for a
    person who is upset and has just brought in a dozen screenshots.
    """

    def __init__(self, session: VaultSession, capture: Capture, parent: QWidget | None,
                 *, also: Sequence[int] = (), suggestions: dict[str, str] | None = None,
                 notes: Sequence[str] = ()) -> None:
        """``suggestions`` (a web page's author and @handle, from its metadata) are
        offered beside their fields, never filled in; ``notes`` say how a page capture
        went ("the page kept loading more posts…")."""
        super().__init__(parent)
        self.session = session
        self.capture = capture
        self.also = tuple(also)
        outer = QVBoxLayout(self)
        if self.also:
            count = 1 + len(self.also)
            self.setWindowTitle(self.tr("Describe these pictures"))
            saved = QLabel(self.tr(
                "Your {count} pictures are saved, each with its time and fingerprint. Say what "
                "they show, then press Save: what you write is added to all {count}, and you can "
                "change each one later. The first one is shown.").format(count=count))
        elif capture.web is not None:
            self.setWindowTitle(self.tr("Describe this web page"))
            saved = QLabel(self.tr(
                "The page is saved, with its address, its time and its fingerprints: "
                "“{title}”, {address}. Add what you know about it now (you can also do it "
                "later), then press Save.").format(
                    title=capture.title or capture.web.title or self.tr("no title"),
                    address=capture.web.final_url))
            saved.setTextFormat(Qt.TextFormat.PlainText)  # a page's title is the page's words
        else:
            self.setWindowTitle(self.tr("Describe this capture"))
            saved = QLabel(self.tr("Your capture is saved, with its time and fingerprint. Add "
                                   "what you know about it now (you can also do it later), then "
                                   "press Save."))
        saved.setWordWrap(True)
        saved.setAccessibleName(self.tr("Capture saved"))
        outer.addWidget(saved)
        if notes:
            self.notes = QLabel("\n".join(notes))
            self.notes.setTextFormat(Qt.TextFormat.PlainText)
            self.notes.setWordWrap(True)
            self.notes.setAccessibleName(self.tr("How the capture went"))
            outer.addWidget(self.notes)
        layout = QHBoxLayout()
        outer.addLayout(layout, 1)  # the picture and form take the height, not the label
        splitter = QSplitter()
        self.view = ImageView()
        self.view.set_image(session.original(capture.id))
        self.panel = DescribePanel()
        self.panel.set_capture(capture, session.incidents())
        if suggestions:
            self.panel.offer_suggestions(suggestions)
        splitter.addWidget(self.view)
        splitter.addWidget(self.panel)
        # The form takes the larger share, so that it has room for its two columns.
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 3)
        splitter.setSizes([420, 760])
        layout.addWidget(splitter)
        self.panel.save_requested.connect(self.save)
        self.resize(1180, 680)

    def capture_ids(self) -> list[int]:
        """Every capture this step describes: the one shown, then the others imported with it."""
        return [self.capture.id, *self.also]

    def save(self) -> None:
        changes, incident = self.panel.changed_fields(), self.panel.incident_id()
        try:
            for capture_id in self.capture_ids():  # again after a failure: saved ones no-op
                self.session.edit_capture(capture_id, changes, incident)
        except EvidenceError as exc:
            messages.error(self, self.tr("Not saved"), error_text(exc))
            return
        self.panel.mark_saved()
        self.accept()

    def reject(self) -> None:
        """Escape or closing: words typed and not saved are not thrown away without asking.

        When the vault locks, the window closes at once: nothing may stay on screen.
        """
        if self.session.is_unlocked and self.panel.has_changes() and not messages.ask(
                self, self.tr("Discard what you typed?"),
                self.tr("Close without saving what you wrote? The capture itself stays saved; "
                        "you can describe it later.")):
            return
        super().reject()

    def done(self, result: int) -> None:
        self.view.clear()
        self.panel.clear()
        super().done(result)


class EditorDialog(QDialog):
    """Annotate and redact a copy; the original in the vault is never touched."""

    def __init__(self, session: VaultSession, capture_id: int, parent: QWidget | None) -> None:
        super().__init__(parent)
        self.session = session
        self.capture_id = capture_id
        self.setWindowTitle(self.tr("Highlight and redact: capture {capture_id}")
                            .format(capture_id=capture_id))
        layout = QVBoxLayout(self)
        self.editor = AnnotationEditor(session.original(capture_id),
                                       session.annotations(capture_id))
        layout.addWidget(self.editor)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self._geometry = remember_geometry(self, "editor", QSize(1180, 760))

    def save(self) -> None:
        data = self.editor.annotations()
        try:
            self.session.set_annotations(self.capture_id, data if data.get("items") else None)
        except EvidenceError as exc:
            messages.error(self, self.tr("Not saved"), error_text(exc))
            return
        self.editor.mark_saved()
        self.accept()

    def reject(self) -> None:
        """Unsaved marks are not thrown away without asking, except when the vault locks:
        then the window closes at once, since nothing may stay on screen."""
        if self.session.is_unlocked and self.editor.is_modified() and not messages.ask(
                self, self.tr("Discard changes?"), self.tr("Close without saving your highlights "
                                                           "and redactions?")):
            return
        super().reject()
