"""The words and times the capture lists show: kinds, categories, and the user's clock.

Dates and times follow the user's locale and the zone the user's clock was in at
capture, so the table, the detail pane, the audit log and the report agree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from PySide6.QtCore import QCoreApplication, QDate, QLocale, QTime

from evidence_recorder.core import fields
from evidence_recorder.core.i18n import QT_TRANSLATE_NOOP
from evidence_recorder.core.model import (
    CATEGORY_LABELS,
    Capture,
    CaptureDetails,
    CaptureKind,
    PageState,
    WebSource,
    handle_text,
)
from evidence_recorder.ui.i18n import category_text

# Labels are kept in British English and translated where they are shown (kind_label,
# column_title), so that a translator loaded after import still takes effect.
KIND_LABELS: dict[CaptureKind, str] = {
    CaptureKind.SCREEN: QT_TRANSLATE_NOOP("CaptureKind", "Whole screen"),
    CaptureKind.MONITOR: QT_TRANSLATE_NOOP("CaptureKind", "One screen"),
    CaptureKind.REGION: QT_TRANSLATE_NOOP("CaptureKind", "Part of the screen"),
    CaptureKind.WINDOW: QT_TRANSLATE_NOOP("CaptureKind", "One window"),
    CaptureKind.IMPORT: QT_TRANSLATE_NOOP("CaptureKind", "Imported file"),
    CaptureKind.WEB: QT_TRANSLATE_NOOP("CaptureKind", "Web page"),
    CaptureKind.EMAIL: QT_TRANSLATE_NOOP("CaptureKind", "E-mail"),
    CaptureKind.CHAT: QT_TRANSLATE_NOOP("CaptureKind", "Chat export"),
}


def kind_label(kind: str) -> str:
    """How a capture was made, in the user's language (the raw value if unknown)."""
    label = KIND_LABELS.get(kind)  # type: ignore[call-overload]  # a str finds a StrEnum key
    return QCoreApplication.translate("CaptureKind", label) if label else str(kind)


def category_label(value: str) -> str:
    """A category value's label in the user's language; an unknown value as it is."""
    label = _CATEGORY_BY_VALUE.get(value)
    return category_text(label) if label else value


# ---------------------------------------------------------------------- time text


def capture_zone(capture: Capture) -> tzinfo:
    """The zone the user's clock was in at capture: the IANA name, else the stored offset.

    The table shows the time the user saw on their own clock when they captured, so
    that it matches their memory and their notes, whatever zone the app runs in later.
    """
    if capture.tz_name:
        try:
            return ZoneInfo(capture.tz_name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    match = re.fullmatch(r"([+-])(\d{2}):?(\d{2})", capture.utc_offset or "")
    if match:
        sign = -1 if match.group(1) == "-" else 1
        minutes = int(match.group(2)) * 60 + int(match.group(3))
        if minutes < 24 * 60:
            return timezone(sign * timedelta(minutes=minutes))
    return UTC


def zone_label(capture: Capture) -> str:
    """``Europe/London``, or ``UTC+01:00`` when only the offset is known."""
    zone = capture_zone(capture)
    if isinstance(zone, ZoneInfo):
        return zone.key
    offset = capture.captured_at.astimezone(zone).utcoffset() or timedelta()
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def local_captured_at(capture: Capture) -> datetime:
    return capture.captured_at.astimezone(capture_zone(capture))


# Dates and times follow the user's locale: QLocale(), which the app leaves at the
# system's and tests pin with QLocale.setDefault. The day is written with the month's
# short name (the locale's long date without the weekday, "25 Nov 2026" in Britain,
# "Nov 25, 2026" in the US), which cannot be misread as day/month or month/day.
# QLocale.toString costs microseconds and the table formats ten thousand rows, so each
# day and each clock time is formatted once per locale and kept.


class _LocaleTimes:
    """Formats for one locale, and the texts already made with them."""

    def __init__(self, locale: QLocale) -> None:
        self.locale = locale
        long_date = locale.dateFormat(QLocale.FormatType.LongFormat)
        day = re.sub(r"d{4}(?:'[^']*'|[^dMy'])*", "", long_date)  # no weekday
        day = re.sub(r"M{4}", "MMM", day).strip(" ,،")
        self.day_format = day or "d MMM yyyy"
        no_year = re.sub(r"^y+(?:'[^']*'|[^dMy'])*|(?:'[^']*'|[^dMy'])*y+", "", self.day_format)
        self.day_month_format = no_year.strip(" ,،") or "d MMM"
        clock = locale.timeFormat(QLocale.FormatType.ShortFormat)
        self.clock_format = clock
        self.seconds_format = re.sub(r"mm", "mm:ss", clock, count=1) if "ss" not in clock \
            else clock
        self.days: dict[tuple[int, int, int, bool], str] = {}
        self.clocks: dict[tuple[int, int, int], str] = {}

    def day(self, moment: datetime | date, year: bool = True) -> str:
        key = (moment.year, moment.month, moment.day, year)
        text = self.days.get(key)
        if text is None:
            text = self.locale.toString(QDate(moment.year, moment.month, moment.day),
                                        self.day_format if year else self.day_month_format)
            self.days[key] = text
        return text

    def clock(self, moment: datetime, seconds: bool) -> str:
        key = (moment.hour, moment.minute, moment.second if seconds else -1)
        text = self.clocks.get(key)
        if text is None:
            when = QTime(moment.hour, moment.minute, moment.second if seconds else 0)
            text = self.locale.toString(when, self.seconds_format if seconds
                                        else self.clock_format)
            self.clocks[key] = text
        return text


_times: _LocaleTimes | None = None


def _locale_times() -> _LocaleTimes:
    global _times
    locale = QLocale()
    if _times is None or _times.locale != locale:
        _times = _LocaleTimes(locale)
    return _times


def day_format() -> str:
    """The QDateTime pattern ``format_day`` uses, for date editors that should match it."""
    return _locale_times().day_format


def format_day(moment: datetime | date) -> str:
    """``25 Nov 2026`` in Britain; the user's locale decides."""
    return _locale_times().day(moment)


def format_clock(moment: datetime, *, seconds: bool = False) -> str:
    """``14:02`` or ``14:02:31`` in Britain, ``2:02 PM`` in the US."""
    return _locale_times().clock(moment, seconds)


def format_short(moment: datetime) -> str:
    """``25 Nov 2026 14:02``."""
    times = _locale_times()
    return f"{times.day(moment)} {times.clock(moment, False)}"


def format_caption_time(moment: datetime, today: date | None = None) -> str:
    """``25 Nov 14:02`` this year, ``25 Nov 2025 14:02`` otherwise."""
    today = today or datetime.now(moment.tzinfo).date()
    times = _locale_times()
    return f"{times.day(moment, moment.year != today.year)} {times.clock(moment, False)}"


def format_moment(moment: datetime) -> str:
    """``25 Nov 2026 at 14:02:31``: one instant in full, in the user's words."""
    return QCoreApplication.translate("CaptureTime", "{day} at {time}").format(
        day=format_day(moment), time=format_clock(moment, seconds=True))


def format_utc(moment: datetime, beside: datetime | None = None) -> str:
    """``14:02:31 UTC``, with the UTC day too when it differs from the ``beside`` day."""
    utc = moment.astimezone(UTC)
    if beside is not None and beside.date() == utc.date():
        text = format_clock(utc, seconds=True)
    else:
        text = format_moment(utc)
    return QCoreApplication.translate("CaptureTime", "{time} UTC").format(time=text)


def format_local_and_utc(moment: datetime) -> str:
    """A recorded instant on this computer's clock, with UTC beside it (the audit log)."""
    local = moment.astimezone()
    return QCoreApplication.translate("CaptureTime", "{local} ({zone}) · {utc}").format(
        local=format_moment(local), zone=local.tzname() or "", utc=format_utc(moment, local))


def captured_tooltip(capture: Capture) -> str:
    local = local_captured_at(capture)
    return QCoreApplication.translate(
        "CaptureTime", "Captured {local} ({zone})\n{utc}").format(
        local=format_moment(local), zone=zone_label(capture), utc=format_utc(capture.captured_at))


def utc_sort_key(capture: Capture) -> str:
    """``2026-11-25T14:02:31.123Z``, the same text as ``iso_utc``, built without strftime."""
    return capture.captured_at.astimezone(UTC).replace(tzinfo=None) \
        .isoformat(timespec="milliseconds") + "Z"


def _one_line(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def _author_text(capture: Capture) -> str:
    details = capture.details
    handle = handle_text(details.handle)
    author = details.author.strip()
    if author and handle:
        return f"{author} ({handle})"
    return author or handle


_CATEGORY_BY_VALUE: dict[str, str] = {c.value: label for c, label in CATEGORY_LABELS.items()}


# ---------------------------------------------------------------------- the table

_SHORT_DESCRIPTION = 120  # characters of "what happened" shown in the table


@dataclass(slots=True)
class _Row:
    """The strings one capture shows, made the first time anything asks for them."""

    display: tuple[str, ...]
    sort: tuple[str, ...]
    caption: str
    local_day: date
    haystack: str  # everything the free-text filter searches, case-folded


def _search_text(details: CaptureDetails, field: fields.Field, category: str) -> str:
    """What the filter finds a field by: as shown (the @handle, the category's label)."""
    if field.value is fields.Value.HANDLE:
        return handle_text(details.handle)
    if field.value is fields.Value.CATEGORY:
        return category
    return str(getattr(details, field.name))


def _row_for(capture: Capture, time_key: str, today: date,
             checks: list[Capture] | None = None) -> _Row:
    d = capture.details
    local = local_captured_at(capture)
    category = category_label(d.category)
    captured = format_short(local)
    status = check_status(checks, local) if checks else ""
    if status:  # a second line: the row has room for it beside the thumbnail
        captured = f"{captured}\n{status}"
    display = (
        captured,
        _one_line(d.posted_at, 60),
        d.site,
        _one_line(_author_text(capture), 80),
        category,
        web_kind_text(capture) if capture.web is not None else kind_label(capture.kind),
        _one_line(d.description, _SHORT_DESCRIPTION),
    )
    sort = (time_key, *(text.casefold() for text in display[1:]))
    caption = QCoreApplication.translate("CaptureTableModel", "{site} · {time}").format(
        site=d.site or QCoreApplication.translate("CaptureTableModel", "Unknown site"),
        time=format_caption_time(local, today))
    haystack = "\n".join(_search_text(d, field, category) for field in fields.FIELDS)
    if capture.web is not None:  # a page is found by its title and address too
        haystack += "\n" + "\n".join((capture.title, capture.web.final_url))
    haystack = haystack.casefold()
    return _Row(display, sort, caption, local.date(), haystack)


# ---------------------------------------------------------------------- web pages
# What a web item's later checks ("Check again") found, said no stronger than they
# found it: "gone" only when a check found the post gone (404, 410, the site's own
# "content isn't available"); a sign-in page or no answer is said as such, since
# neither shows that the post was removed.


def latest_finding(checks: list[Capture]) -> tuple[str, Capture] | None:
    """What the newest check found, and the check to date it by: for a page still gone,
    the first of the checks in a row that found it gone (it was gone *by* then)."""
    found = [c for c in checks if c.web is not None]
    if not found:
        return None
    last = found[-1]
    assert last.web is not None
    state = last.web.page_state
    if state == PageState.GONE.value:
        first = last
        for check in reversed(found):
            if check.web is None or check.web.page_state != PageState.GONE.value:
                break
            first = check
        return state, first
    return state, last


def _summary_templates() -> dict[str, str]:
    translate = QCoreApplication.translate
    return {
        PageState.GONE.value: translate("WebCheck", "Captured on {first}, gone by {then}"),
        PageState.AVAILABLE.value: translate("WebCheck",
                                             "Captured on {first}, still there on {then}"),
        PageState.LOGIN_WALL.value: translate(
            "WebCheck", "Captured on {first}; on {then} the site showed a sign-in page "
                        "instead"),
        PageState.UNREACHABLE.value: translate(
            "WebCheck", "Captured on {first}; on {then} the page could not be reached"),
        "": translate("WebCheck", "Captured on {first}; checked again on {then}"),
    }


def _status_templates() -> dict[str, str]:
    translate = QCoreApplication.translate
    return {
        PageState.GONE.value: translate("WebCheck", "gone by {then}"),
        PageState.AVAILABLE.value: translate("WebCheck", "still there on {then}"),
        PageState.LOGIN_WALL.value: translate("WebCheck", "a sign-in page on {then}"),
        PageState.UNREACHABLE.value: translate("WebCheck", "not reached on {then}"),
        "": translate("WebCheck", "checked again on {then}"),
    }


def check_summary(capture: Capture, checks: list[Capture], *, full: bool = False) -> str:
    """``Captured on 25 Nov 2026, gone by 3 Dec 2026`` ("" with no later check).

    ``full`` gives the times as well, and the reason the check gave (the item's details);
    the short form is for the timeline."""
    finding = latest_finding(checks)
    if finding is None:
        return ""
    state, check = finding

    def when(item: Capture) -> str:
        local = local_captured_at(item)
        return format_moment(local) if full else format_day(local)

    templates = _summary_templates()
    text = templates.get(state, templates[""]).format(first=when(capture), then=when(check))
    reason = check.web.page_state_reason if check.web is not None else ""
    if full and reason:
        text = QCoreApplication.translate("WebCheck", "{summary} ({reason}).").format(
            summary=text, reason=reason)
    elif full:
        text += "."
    return text


def check_status(checks: list[Capture], since: datetime | None = None) -> str:
    """The timeline's few words under the capture time: ``gone by 3 Dec 2026`` (without
    the year when it is the year of ``since``, the capture's own time)."""
    finding = latest_finding(checks)
    if finding is None:
        return ""
    state, check = finding
    local = local_captured_at(check)
    then = _locale_times().day(local, since is None or since.year != local.year)
    templates = _status_templates()
    return templates.get(state, templates[""]).format(then=then)


def check_result_text(web: WebSource) -> str:
    """What to tell the person once a "Check again" is saved, in one or two sentences."""
    translate = QCoreApplication.translate
    reason = web.page_state_reason
    if web.page_state == PageState.GONE.value:
        head = (translate("WebCheck", "The post is gone: {reason}.").format(reason=reason)
                if reason else translate("WebCheck", "The post is gone."))
    elif web.page_state == PageState.AVAILABLE.value:
        head = (translate("WebCheck", "The page is still there: {reason}.").format(
            reason=reason) if reason else translate("WebCheck", "The page is still there."))
    else:
        if web.page_state == PageState.LOGIN_WALL.value:
            head = translate("WebCheck", "The site showed a sign-in page instead of the post, "
                                         "so this check cannot tell whether the post is still "
                                         "there.")
        else:
            head = translate("WebCheck", "The page could not be reached, which does not show "
                                         "that the post was removed.")
        if reason:
            head += " " + translate("WebCheck", "({reason})").format(reason=reason)
    return head + " " + translate("WebCheck", "What the address shows now is saved as a new "
                                              "capture, linked to the first.")


def web_kind_text(capture: Capture) -> str:
    """The timeline's "Kind" for a web page: ``Web page: “Title”``, or the check it is."""
    web = capture.web
    if web is None:
        return kind_label(capture.kind)
    translate = QCoreApplication.translate
    title = _one_line(capture.title or web.title, 60)
    if web.recheck_of is not None:
        check = translate("WebCheck", "Check of capture {capture}").format(
            capture=web.recheck_of)
        return f"{check}: “{title}”" if title else check
    if not title:
        return kind_label(capture.kind)
    return translate("WebCheck", "Web page: “{title}”").format(title=title)


def web_facts_text(capture: Capture) -> str:
    """A web item's title and address, with its status and server, for tooltips and the
    item's details (plain text)."""
    web = capture.web
    if web is None:
        return ""
    translate = QCoreApplication.translate
    lines = [capture.title or web.title, web.final_url]
    if web.final_url != web.requested_url and web.requested_url:
        lines.append(translate("WebCheck", "(asked for {address})").format(
            address=web.requested_url))
    if web.http_status is not None and web.server_ip:
        lines.append(translate("WebCheck", "The server ({ip}) answered {status}.").format(
            ip=web.server_ip, status=web.http_status))
    elif web.http_status is not None:
        lines.append(translate("WebCheck", "The server answered {status}.").format(
            status=web.http_status))
    elif web.server_ip:
        lines.append(translate("WebCheck", "Server: {ip}.").format(ip=web.server_ip))
    if web.certificate_error:
        lines.append(translate("WebCheck", "The browser warned about its certificate: "
                                           "{error}").format(error=web.certificate_error))
    return "\n".join(line for line in lines if line)


__all__ = [
    "KIND_LABELS",
    "capture_zone",
    "captured_tooltip",
    "category_label",
    "check_result_text",
    "check_status",
    "check_summary",
    "day_format",
    "format_caption_time",
    "format_clock",
    "format_day",
    "format_local_and_utc",
    "format_moment",
    "format_short",
    "format_utc",
    "kind_label",
    "local_captured_at",
    "utc_sort_key",
    "web_facts_text",
    "web_kind_text",
    "zone_label",
]
