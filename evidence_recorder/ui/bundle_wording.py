"""The bundle viewer's texts, verdict colours, and the helpers that turn the bundle's
(untrusted, though checked) values into plain text and times into the reader's words.
"""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import Any

from PySide6.QtCore import QCoreApplication, QLocale, QObject

from evidence_recorder.core.i18n import QT_TRANSLATE_NOOP
from evidence_recorder.core.model import handle_text, parse_iso_utc
from evidence_recorder.ui.wording import format_clock, format_day

# ---------------------------------------------------------------------- wording

WINDOW_TITLE = QT_TRANSLATE_NOOP("BundleViewer", "Evidence bundle")
INTACT_HEADLINE = QT_TRANSLATE_NOOP(
    "BundleViewer", "This bundle is intact: nothing in it has changed since it was sealed.")
ALTERED_HEADLINE = QT_TRANSLATE_NOOP(
    "BundleViewer", "Warning: this bundle has been altered or is damaged. Do not rely on it.")
ALTERED_ADVICE = QT_TRANSLATE_NOOP("BundleViewer",
                                   "Keep this file as it is, and ask the person who sent it to "
                                   "send the bundle again.")
# The seal holds but the list of evidence inside cannot be read: the seal's verdict, no
# stronger, and never without saying that nothing of the evidence can be shown.
UNREADABLE_HEADLINE = QT_TRANSLATE_NOOP(
    "BundleViewer", "The seal is intact, but the list of the evidence inside this bundle "
    "could not be read, so none of it can be shown.")
CONTENTS_UNREADABLE = QT_TRANSLATE_NOOP(
    "BundleViewer", "The list of the evidence inside this bundle could not be read: {reason}")
UNREADABLE_ADVICE = QT_TRANSLATE_NOOP(
    "BundleViewer", "Nothing in it has changed since it was sealed, but it may have been made "
    "wrongly or by a newer version of Evidence Recorder. Keep this file as it is, and ask "
    "the person who sent it to send the bundle again.")
CHECKING_HEADLINE = QT_TRANSLATE_NOOP("BundleViewer", "Checking the bundle…")
CHECKING_DETAIL = QT_TRANSLATE_NOOP("BundleViewer",
                                    "Making sure nothing in it has changed since it was sealed. "
                                    "A large bundle can take a moment.")
CONFIRM_FINGERPRINT = QT_TRANSLATE_NOOP(
    "BundleViewer", "confirm this fingerprint with the person who sent it, by phone.")
NO_ORIGINAL_NOTE = QT_TRANSLATE_NOOP("BundleViewer",
                                     "The sender did not include the uncovered original.")
NO_PICTURE_NOTE = QT_TRANSLATE_NOOP("BundleViewer",
                                    "This bundle holds no picture for this capture.")
NO_REDACTED_NOTE = QT_TRANSLATE_NOOP("BundleViewer",
                                     "Nothing was covered on this capture, so the original is "
                                     "shown.")
SHOW_COVERED_BUTTON = QT_TRANSLATE_NOOP("BundleViewer", "Show what the sender co&vered")
SHOW_COPY_BUTTON = QT_TRANSLATE_NOOP("BundleViewer", "Back to the co&vered copy")
BUNDLE_FILTER = QT_TRANSLATE_NOOP("BundleViewer", "Evidence bundles (*.zip);;All files (*)")

_AUDIENCES = {"headteacher": QT_TRANSLATE_NOOP("BundleViewer", "{sentence} for the headteacher"),
              "police": QT_TRANSLATE_NOOP("BundleViewer", "{sentence} for the police")}
_SHORT_DESCRIPTION = 120
_TOOLTIP_LIMIT = 1_000


def _tr(text: str) -> str:
    """One of the texts marked above, in the user's language."""
    return QCoreApplication.translate("BundleViewer", text)


_MAX_INCIDENT_TITLES = 3
_PROBLEM_LINES = 6  # problems shown without scrolling

# Verdict colours: dark ink on a pale tint, readable whatever the desktop theme,
# always with an icon and words beside them.
_GREEN = ("#e6f4ea", "#1e7b34", "#0b3d1a")  # background, border, text
_RED = ("#fdecea", "#b3261e", "#5c0f0a")
_NEUTRAL = ("#f1f3f4", "#5f6368", "#202124")  # a timestamp that is not trusted


# ---------------------------------------------------------------------- plain text


def _text(value: Any) -> str:
    """Text for a scalar value (of the sender's environment block, say); nothing for
    lists, objects or a missing value."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return str(value)
    return ""


def _one_line(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def _timestamp_words(timestamp: str) -> str:
    """``2026-11-25T12:00:03Z from CN=Example TSA,O=Example`` as a person reads it:
    ``25 Nov 2026 at 12:00:03 your time (25 Nov 2026 12:00:03 UTC), from “Example TSA”``."""
    when_text, _, authority = timestamp.partition(" from ")
    when = _parse_time(when_text.strip())
    if when is None:
        return timestamp
    translate = QCoreApplication.translate
    local = when.astimezone()
    words = translate("BundleViewer",
                      "{day} at {time} your time ({utc_day} {utc_time} UTC)").format(
        day=format_day(local), time=format_clock(local, seconds=True),
        utc_day=format_day(when), utc_time=format_clock(when, seconds=True))
    names = [part.split("=", 1)[1] for part in authority.split(",")
             if part.strip().upper().startswith("CN=")]
    name = names[0].strip() if names else authority.strip()
    if name:
        words = translate("BundleViewer", "{when}, from “{authority}”").format(
            when=words, authority=name)
    return words


def _moment_words(text: str) -> str:
    """An ISO instant from the bundle as ``24 Nov 2026 at 21:06:00 your time (… UTC)``;
    text that is not one is shown as it was written."""
    when = _parse_time(text.strip())
    if when is None:
        return text
    local = when.astimezone()
    return QCoreApplication.translate(
        "BundleViewer", "{day} at {time} your time ({utc_day} {utc_time} UTC)").format(
        day=format_day(local), time=format_clock(local, seconds=True),
        utc_day=format_day(when), utc_time=format_clock(when, seconds=True))


def _written_date_words(text: str) -> str:
    """A date written inside a picture file (EXIF ``2026:11:24 21:05:12``, no time zone)
    as ``24 Nov 2026 at 21:05:12``; anything else exactly as written."""
    cleaned = text.strip()
    for pattern in ("%Y:%m:%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"):
        try:
            moment = datetime.strptime(cleaned[:19], pattern)  # it has no zone
        except ValueError:
            continue
        if len(cleaned) > 19 and cleaned[19:].strip():
            return QCoreApplication.translate(
                "BundleViewer", "{day} at {time} (written as “{text}”)").format(
                day=format_day(moment), time=format_clock(moment, seconds=True), text=cleaned)
        return QCoreApplication.translate("BundleViewer", "{day} at {time}").format(
            day=format_day(moment), time=format_clock(moment, seconds=True))
    return text


def _parse_time(text: str) -> datetime | None:
    if not text:
        return None
    try:
        moment = parse_iso_utc(text)
    except (ValueError, OverflowError):
        return None
    return moment


def make_plain_text(rich: str) -> str:
    """A caption's words without its bold tags (for screen readers)."""
    return rich.replace("<b>", "").replace("</b>", "")


@contextlib.contextmanager
def _blocked(widget: QObject) -> Any:
    was = widget.blockSignals(True)
    try:
        yield
    finally:
        widget.blockSignals(was)


def _byte_size(size: int) -> str:
    # The locale writes the number (1.5 or 1,5); Qt's own unit names are translated.
    return QLocale().formattedDataSize(size, 1 if size >= 1024 * 1024 else 0,
                                       QLocale.DataSizeFormat.DataSizeSIFormat)


def _handle(text: str) -> str:
    return handle_text(text)
