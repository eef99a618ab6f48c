"""A web page's archive (``page.mhtml``) shown offline, from memory, with nothing run.

Owns :class:`ArchivedPageWindow` (the window the bundle viewer's "Open the archived
page" opens), :func:`parse_mhtml` and :func:`register_scheme`.

A received bundle is hostile input, and so is the page inside it: it may carry scripts,
pictures and styles that call out to the site (which would tell the site it was seen,
and from where) or try to exhaust memory. So the archive is:

- parsed here with the standard library's e-mail parser, within bounds (size, number
  of parts, nesting), never by Chromium's own MHTML loader (which reads only files);
- served from memory through a scheme of our own (``er-archive:``), so no byte of it is
  written to disk (the bundle may be an encrypted one, opened in memory);
- shown in a view with its own off-the-record profile (nothing on disk), JavaScript,
  plugins and pop-ups off, and a request interceptor that blocks every request that is
  not for our own scheme: the page's references to its site were rewritten to the
  archived parts where the archive has them, and everything else is refused before it
  leaves the process (each refusal is counted and can be listed).

The scheme is declared to QtWebEngine before its first profile exists
(:func:`evidence_recorder.web.runtime.register_schemes`, which every maker of a profile
calls), since Qt reads custom schemes only when QtWebEngine starts.
"""

from __future__ import annotations

import email.parser
import email.policy
import html
import re
from dataclasses import dataclass, field
from email.message import Message
from typing import Final

import shiboken6
from PySide6.QtCore import QBuffer, QByteArray, QCoreApplication, QIODevice, QObject, QUrl
from PySide6.QtGui import QCloseEvent
from PySide6.QtWebEngineCore import (
    QWebEnginePage,
    QWebEngineProfile,
    QWebEngineSettings,
    QWebEngineUrlRequestInfo,
    QWebEngineUrlRequestInterceptor,
    QWebEngineUrlRequestJob,
    QWebEngineUrlSchemeHandler,
)
from PySide6.QtWebEngineWidgets import QWebEngineView
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from evidence_recorder.web.runtime import ARCHIVE_SCHEME, register_schemes

SCHEME: Final = ARCHIVE_SCHEME
_HOST: Final = "page"
MAX_ARCHIVE_BYTES: Final = 256 * 1024 * 1024  # Chromium's own archives of a long feed
MAX_PARTS: Final = 5_000
MAX_PART_BYTES: Final = 64 * 1024 * 1024  # one decoded part
MAX_TOTAL_BYTES: Final = 512 * 1024 * 1024  # every decoded part together
MAX_NESTING: Final = 4
# What a rewritten page may load: its own parts only; no script whatever it says.
_CSP: Final = (f"default-src {SCHEME}: 'unsafe-inline'; script-src 'none'; object-src "
               "'none'; frame-src " + SCHEME + ": ; base-uri 'none'; form-action 'none'")
_TEXT_TYPES: Final = ("text/html", "text/css", "image/svg+xml")


class ArchiveUnreadable(ValueError):
    """The archive cannot be shown; the message is a plain sentence."""


@dataclass(slots=True)
class ArchivedPage:
    """An MHTML archive's parts, by number; the page is the first HTML part."""

    parts: list[tuple[str, bytes]] = field(default_factory=list)  # (media type, bytes)
    by_location: dict[str, int] = field(default_factory=dict)  # Content-Location -> number
    by_cid: dict[str, int] = field(default_factory=dict)  # Content-ID (no <>) -> number
    main: int = -1
    title: str = ""

    def url_of(self, number: int) -> str:
        return f"{SCHEME}://{_HOST}/part/{number}"


def _leaves(message: Message, depth: int = 0) -> list[Message]:
    if depth > MAX_NESTING:
        raise ArchiveUnreadable("The archived page is nested too deeply to show.")
    if not message.is_multipart():
        return [message]
    leaves: list[Message] = []
    for part in message.get_payload():
        if isinstance(part, Message):
            leaves += _leaves(part, depth + 1)
        if len(leaves) > MAX_PARTS:
            raise ArchiveUnreadable("The archived page has too many parts to show.")
    return leaves


def parse_mhtml(data: bytes) -> ArchivedPage:
    """The parts of an MHTML archive (multipart/related), within bounds, rewritten so
    that the page refers to its own parts and to nothing outside."""
    if len(data) > MAX_ARCHIVE_BYTES:
        raise ArchiveUnreadable("The archived page is too large to show here.")
    message = email.parser.BytesParser(policy=email.policy.compat32).parsebytes(data)
    if not message.is_multipart():
        raise ArchiveUnreadable("The archived page is not in the format expected (MHTML).")
    page = ArchivedPage()
    total = 0
    for leaf in _leaves(message):
        body = leaf.get_payload(decode=True)
        if not isinstance(body, bytes):
            body = b""
        if len(body) > MAX_PART_BYTES:
            continue  # a huge part is left out; the rest of the page still shows
        total += len(body)
        if total > MAX_TOTAL_BYTES:
            raise ArchiveUnreadable("The archived page is too large to show here.")
        number = len(page.parts)
        media_type = leaf.get_content_type().lower()
        page.parts.append((media_type, body))
        location = (leaf.get("Content-Location") or "").strip()
        if location and location not in page.by_location:
            page.by_location[location] = number
        cid = (leaf.get("Content-ID") or "").strip().strip("<>")
        if cid:
            page.by_cid.setdefault(cid, number)
        if page.main < 0 and media_type == "text/html":
            page.main = number
    if page.main < 0:
        raise ArchiveUnreadable("The archived page holds no web page to show.")
    subject = message.get("Subject")
    page.title = str(subject or "")
    for number, (media_type, body) in enumerate(page.parts):
        if media_type in _TEXT_TYPES:
            page.parts[number] = (media_type, _rewrite(page, body, media_type,
                                                       number == page.main))
    return page


_REFERENCE: Final = re.compile(r"""cid:([^"'\s)>]+)""")
_HEAD: Final = re.compile(r"<head(\s[^>]*)?>", re.IGNORECASE)
_DOCTYPE: Final = re.compile(r"\s*<!doctype[^>]*>", re.IGNORECASE)


def _rewrite(page: ArchivedPage, body: bytes, media_type: str, main: bool) -> bytes:
    """References to archived parts point at our scheme; a policy that forbids all else
    goes first in the page (the interceptor blocks it anyway)."""
    text = body.decode("utf-8", errors="replace")
    # Longest first, so that one address that begins another is not cut in two.
    for location in sorted(page.by_location, key=len, reverse=True):
        target = page.url_of(page.by_location[location])
        text = text.replace(location, target)
        escaped = html.escape(location, quote=True)
        if escaped != location:
            text = text.replace(escaped, target)
    text = _REFERENCE.sub(lambda found: page.url_of(page.by_cid[found.group(1)])
                          if found.group(1) in page.by_cid else "about:blank", text)
    if main and media_type == "text/html":
        policy = (f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">'
                  '<meta name="referrer" content="no-referrer">')
        # First thing in the head, after any doctype (without one the page would be laid
        # out in quirks mode, unlike the capture).
        head = _HEAD.search(text)
        at = head.end() if head else (doctype.end() if (doctype := _DOCTYPE.match(text))
                                      else 0)
        text = text[:at] + policy + text[at:]
    return text.encode("utf-8")


class _ArchiveHandler(QWebEngineUrlSchemeHandler):
    """Serves the parts of one archive from memory."""

    def __init__(self, page: ArchivedPage, parent: QObject) -> None:
        super().__init__(parent)
        self._page = page

    def requestStarted(self, job: QWebEngineUrlRequestJob) -> None:
        url = job.requestUrl()
        found = re.fullmatch(r"/part/(\d{1,6})", url.path())
        number = int(found.group(1)) if found and url.host() == _HOST else -1
        if not 0 <= number < len(self._page.parts):
            job.fail(QWebEngineUrlRequestJob.Error.UrlNotFound)
            return
        media_type, body = self._page.parts[number]
        buffer = QBuffer(job)
        buffer.setData(QByteArray(body))
        buffer.open(QIODevice.OpenModeFlag.ReadOnly)
        kind = "text/html; charset=utf-8" if media_type == "text/html" else media_type
        job.reply(kind.encode("ascii", "replace"), buffer)


class _OwnSchemeOnly(QWebEngineUrlRequestInterceptor):
    """Blocks every request that is not for the archive's own scheme."""

    def __init__(self, parent: QObject) -> None:
        super().__init__(parent)
        self.blocked: list[str] = []  # what the page asked for and did not get

    def interceptRequest(self, info: QWebEngineUrlRequestInfo) -> None:
        url = info.requestUrl()
        if url.scheme() == SCHEME and url.host() == _HOST:
            return
        if len(self.blocked) < 1_000:
            self.blocked.append(url.toString())
        info.block(True)


class _QuietPage(QWebEnginePage):
    """A page whose console messages go nowhere: they quote the page (the evidence),
    which must never reach a log."""

    def javaScriptConsoleMessage(self, level: QWebEnginePage.JavaScriptConsoleMessageLevel,
                                 message: str, line: int, source: str) -> None:
        del level, message, line, source


def register_scheme() -> None:
    """Declare the archive's scheme to QtWebEngine (``runtime.register_schemes``).

    The window does it itself; call it earlier only where something else may start
    QtWebEngine first without going through ``page.make_profile`` (the tests)."""
    register_schemes()


class ArchivedPageWindow(QWidget):
    """One archived page, shown offline in its own window, with a line saying so."""

    def __init__(self, data: bytes, title: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        register_schemes()  # before this window's profile, if QtWebEngine is not running yet
        self.archive = parse_mhtml(data)
        del data
        self.setWindowTitle(title or QCoreApplication.translate(
            "ArchivedPage", "Archived page"))
        self.resize(1100, 800)
        # Off the record (no name): nothing of it is kept on disk. Neither the profile
        # nor the page is a child of this window: release() deletes them in the order
        # QtWebEngine needs (the page first).
        self.profile: QWebEngineProfile | None = QWebEngineProfile()
        self.profile.setHttpCacheType(QWebEngineProfile.HttpCacheType.MemoryHttpCache)
        self.profile.setPersistentCookiesPolicy(
            QWebEngineProfile.PersistentCookiesPolicy.NoPersistentCookies)
        self.interceptor = _OwnSchemeOnly(self)
        self.profile.setUrlRequestInterceptor(self.interceptor)
        self.handler = _ArchiveHandler(self.archive, self)
        self.profile.installUrlSchemeHandler(SCHEME.encode("ascii"), self.handler)
        self.view: QWebEngineView | None = QWebEngineView(self)
        self.page: QWebEnginePage | None = _QuietPage(self.profile)
        settings = self.page.settings()
        attribute = QWebEngineSettings.WebAttribute
        for name, on in ((attribute.JavascriptEnabled, False),
                         (attribute.JavascriptCanOpenWindows, False),
                         (attribute.JavascriptCanAccessClipboard, False),
                         (attribute.PluginsEnabled, False),
                         (attribute.LocalContentCanAccessRemoteUrls, False),
                         (attribute.LocalContentCanAccessFileUrls, False),
                         (attribute.AutoLoadIconsForPage, False),
                         (attribute.DnsPrefetchEnabled, False),
                         (attribute.NavigateOnDropEnabled, False),
                         (attribute.AutoLoadImages, True)):
            settings.setAttribute(name, on)
        self.view.setPage(self.page)
        self.note = QLabel(QCoreApplication.translate(
            "ArchivedPage", "The page as it was archived when it was captured, shown "
                            "offline: nothing on it runs, and nothing is fetched from the "
                            "internet, so parts that were not archived may be missing."))
        self.note.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.note)
        layout.addWidget(self.view, 1)
        self.page.load(QUrl(self.archive.url_of(self.archive.main)))

    @property
    def blocked(self) -> list[str]:
        """The addresses the page asked for and was refused (for tests and the log's
        count; never logged themselves)."""
        return list(self.interceptor.blocked)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.release()
        super().closeEvent(event)

    def release(self) -> None:
        """Delete the view, then the page, then its profile (QtWebEngine asks for that
        order), and drop the archive's bytes with them."""
        view, page, profile = self.view, self.page, self.profile
        self.view = self.page = self.profile = None
        for thing in (view, page, profile):
            if thing is not None and shiboken6.isValid(thing):
                shiboken6.delete(thing)
        self.archive = ArchivedPage()
        self.handler._page = self.archive


__all__ = ["SCHEME", "ArchiveUnreadable", "ArchivedPage", "ArchivedPageWindow",
           "parse_mhtml", "register_scheme"]
