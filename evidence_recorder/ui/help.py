"""The offline Help: the three user guides from ``docs/``, in a window of their own.

Owns :class:`HelpWindow` and :func:`show_guide`. The guides are the same Markdown files
that ship as ``docs/`` (so they can be read, printed or sent without the app); this
window renders them with Qt's own Markdown reader. Nothing is fetched from a network:
pictures come from ``docs/images`` (the browser's search paths), links between guides
open here, and a web address is opened in the browser only after asking, because the
person reading may not want to leave the app (or be seen visiting a site).

There is one Help window at a time. It never keeps the app running on its own
(``WA_QuitOnClose`` is off), closes with Escape like a dialog, and deletes itself when
closed.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import shiboken6
from PySide6.QtCore import QCoreApplication, QSize, Qt, QUrl
from PySide6.QtGui import (
    QDesktopServices,
    QImageReader,
    QKeyEvent,
    QKeySequence,
    QResizeEvent,
    QShortcut,
    QTextCursor,
    QTextDocument,
    QTextImageFormat,
)
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from evidence_recorder import APP_NAME
from evidence_recorder.core.paths import docs_dir
from evidence_recorder.ui import messages

GUIDE_FILES: dict[str, str] = {
    "staff": "guide-staff.md",
    "headteacher": "guide-headteacher.md",
    "police": "guide-police.md",
}
_IMAGE_MARGIN = 36  # room for the scroll bar and the document margins
_MIN_IMAGE_WIDTH = 240


def guide_title(name: str) -> str:
    """The guide's name as menus and buttons show it."""
    titles = {
        "staff": QCoreApplication.translate("Help", "Guide for staff"),
        "headteacher": QCoreApplication.translate("Help", "Guide for headteachers"),
        "police": QCoreApplication.translate("Help", "Guide for police officers"),
    }
    return titles[name]


def guide_path(name: str) -> Path:
    return docs_dir() / GUIDE_FILES[name]


def heading_slug(text: str) -> str:
    """The anchor GitHub gives a heading, so ``guide.md#some-heading`` links work here too."""
    slug = re.sub(r"[^\w\- ]", "", text.strip().lower())
    return slug.replace(" ", "-")


class HelpBrowser(QTextBrowser):
    """A QTextBrowser that notes every picture it could not find (for tests and logs)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.missing: list[str] = []
        self.setOpenLinks(False)  # every link goes through HelpWindow._link_clicked
        self.setOpenExternalLinks(False)
        self.setSearchPaths([str(docs_dir()), str(docs_dir() / "images")])

    def loadResource(self, type_: int, name: QUrl | str) -> Any:
        data = super().loadResource(type_, name)
        if _is_image(type_) and _is_empty(data):
            self.missing.append(name.toString() if isinstance(name, QUrl) else name)
        return data

    def image_names(self) -> list[str]:
        """Every picture the document on show refers to, in order."""
        names: list[str] = []
        block = self.document().begin()
        while block.isValid():
            it = block.begin()
            while not it.atEnd():
                char_format = it.fragment().charFormat()
                if char_format.isImageFormat():
                    names.append(char_format.toImageFormat().name())
                it += 1
            block = block.next()
        return names

    def missing_images(self) -> list[str]:
        """The pictures of the document on show that cannot be loaded (should be none)."""
        image = QTextDocument.ResourceType.ImageResource.value
        return [name for name in self.image_names()
                if _is_empty(self.loadResource(image, self.source().resolved(QUrl(name))))]


def _is_image(type_: Any) -> bool:
    return int(getattr(type_, "value", type_)) == QTextDocument.ResourceType.ImageResource.value


def _is_empty(data: Any) -> bool:
    if data is None:
        return True
    is_null = getattr(data, "isNull", None)
    if callable(is_null) and is_null():
        return True
    is_empty = getattr(data, "isEmpty", None)
    return bool(callable(is_empty) and is_empty())


class HelpWindow(QWidget):
    """The guides, with a button for each, Back, and links between them."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        self.setAttribute(Qt.WidgetAttribute.WA_QuitOnClose, False)
        self.current = ""
        self._natural: dict[str, QSize] = {}
        layout = QVBoxLayout(self)
        row = QHBoxLayout()
        self.back_button = QPushButton(self.tr("&Back"))
        self.back_button.setEnabled(False)
        row.addWidget(self.back_button)
        row.addWidget(QLabel(self.tr("Guides:")))
        self.guide_buttons: dict[str, QPushButton] = {}
        for name in GUIDE_FILES:
            button = QPushButton(guide_title(name))
            button.setCheckable(True)
            button.clicked.connect(lambda _checked=False, n=name: self.show_guide(n))
            row.addWidget(button)
            self.guide_buttons[name] = button
        row.addStretch()
        close = QPushButton(self.tr("&Close"))
        close.clicked.connect(self.close)
        row.addWidget(close)
        layout.addLayout(row)
        self.browser = HelpBrowser(self)
        self.browser.setAccessibleName(self.tr("Guide"))
        self.browser.anchorClicked.connect(self._link_clicked)
        self.browser.backwardAvailable.connect(self.back_button.setEnabled)
        self.back_button.clicked.connect(self._back)
        layout.addWidget(self.browser)
        QShortcut(QKeySequence(QKeySequence.StandardKey.Close), self, self.close)
        QShortcut(QKeySequence(QKeySequence.StandardKey.Back), self, self._back)
        self.resize(940, 760)

    # ------------------------------------------------------------------ showing

    def show_guide(self, name: str, fragment: str = "") -> None:
        self.open_file(guide_path(name), fragment)

    def open_file(self, path: Path, fragment: str = "") -> None:
        if not path.is_file():
            self.current = ""
            self.browser.setHtml(self.tr(
                "<p>The guide <b>{name}</b> is missing from this copy of {app}. It should "
                "be in the folder {folder}.</p>").format(
                    name=path.name, app=APP_NAME, folder=str(path.parent)))
            return
        self.browser.missing.clear()
        self.browser.setSource(QUrl.fromLocalFile(str(path)),
                               QTextDocument.ResourceType.MarkdownResource)
        self._after_load(path, fragment)

    def _after_load(self, path: Path, fragment: str = "") -> None:
        self.current = next((n for n, f in GUIDE_FILES.items() if f == path.name), "")
        for name, button in self.guide_buttons.items():
            button.setChecked(name == self.current)
        title = self.browser.documentTitle() or (
            guide_title(self.current) if self.current else path.stem)
        self.setWindowTitle(self.tr("Help: {title} — {app}").format(title=title, app=APP_NAME))
        self.fit_images()
        if fragment:
            self.scroll_to_heading(fragment)

    def _back(self) -> None:
        if self.browser.isBackwardAvailable():
            self.browser.backward()
            source = self.browser.source()
            self._after_load(Path(source.toLocalFile()), source.fragment())

    def scroll_to_heading(self, fragment: str) -> bool:
        """Scroll to the heading whose GitHub-style anchor is ``fragment``."""
        document = self.browser.document()
        block = document.begin()
        while block.isValid():
            if block.blockFormat().headingLevel() and heading_slug(block.text()) == fragment:
                cursor = QTextCursor(block)
                self.browser.setTextCursor(cursor)
                top = document.documentLayout().blockBoundingRect(block).top()
                self.browser.verticalScrollBar().setValue(int(top))
                return True
            block = block.next()
        return False

    def fit_images(self) -> None:
        """Show each picture at its own size, or narrower to fit the window."""
        width = max(_MIN_IMAGE_WIDTH, self.browser.viewport().width() - _IMAGE_MARGIN)
        document = self.browser.document()
        changes: list[tuple[int, int, QTextImageFormat]] = []
        block = document.begin()
        while block.isValid():
            it = block.begin()
            while not it.atEnd():
                fragment = it.fragment()
                char_format = fragment.charFormat()
                if fragment.isValid() and char_format.isImageFormat():
                    image = char_format.toImageFormat()
                    natural = self._natural_size(image.name())
                    if natural.isValid() and natural.width() > 0:
                        shown = min(natural.width(), width)
                        image.setWidth(shown)
                        image.setHeight(natural.height() * shown / natural.width())
                        changes.append((fragment.position(), fragment.length(), image))
                it += 1
            block = block.next()
        cursor = QTextCursor(document)
        for position, length, image in changes:
            cursor.setPosition(position)
            cursor.setPosition(position + length, QTextCursor.MoveMode.KeepAnchor)
            cursor.setCharFormat(image)

    def _natural_size(self, name: str) -> QSize:
        if name not in self._natural:
            url = self.browser.source().resolved(QUrl(name))
            self._natural[name] = QImageReader(url.toLocalFile()).size()
        return self._natural[name]

    def keyPressEvent(self, event: QKeyEvent) -> None:
        # Escape closes Help as it closes every dialog (a key the browser passes on).
        if event.key() == Qt.Key.Key_Escape and not event.modifiers():
            self.close()
            return
        super().keyPressEvent(event)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self.browser.source().isValid():
            self.fit_images()

    # ------------------------------------------------------------------ links

    def _link_clicked(self, url: QUrl) -> None:
        scheme = url.scheme().lower()
        if scheme in ("http", "https", "mailto"):
            self._ask_to_open(url)
            return
        if scheme not in ("", "file"):
            return
        if not url.path() and url.fragment():
            self.scroll_to_heading(url.fragment())
            return
        target = self.browser.source().resolved(url)
        path = Path(target.toLocalFile())
        if path.suffix.lower() == ".md" and path.parent.resolve() == docs_dir().resolve():
            self.open_file(path, url.fragment())

    def _ask_to_open(self, url: QUrl) -> None:
        address = url.toString()
        if messages.ask(self, self.tr("Open this link?"),
                        self.tr("Open this address in your web browser?\n\n{address}").format(
                            address=address),
                        yes=messages.Button.Open, no=messages.Button.Cancel,
                        default=messages.Button.Cancel,
                        detail=self.tr("Everything in this guide works without it; the "
                                       "page is only for further reading.")):
            QDesktopServices.openUrl(url)


_window: HelpWindow | None = None


def _forget(_obj: object = None) -> None:
    global _window
    _window = None


def current_help_window() -> HelpWindow | None:
    """The open Help window, if there is one."""
    if _window is not None and shiboken6.isValid(_window):
        return _window
    return None


def show_guide(name: str, fragment: str = "") -> HelpWindow:
    """Open (or bring forward) the Help window at guide ``name``: staff, headteacher, police."""
    global _window
    window = current_help_window()
    if window is None:
        window = HelpWindow()
        window.destroyed.connect(_forget)
        _window = window
    window.show()
    window.show_guide(name, fragment)
    window.raise_()
    window.activateWindow()
    return window


__all__ = ["GUIDE_FILES", "HelpWindow", "current_help_window", "guide_path", "guide_title",
           "heading_slug", "show_guide"]
