"""What a captured web page shows about its post, without the vault: is it still there,
which site is it, what does it suggest about its author, and is an address one we open.

Split from :mod:`evidence_recorder.core.gather.web` (which re-exports all of it) so
that widgets can call these pure functions without importing the vault. No Qt here.

The rule that governs :func:`judge_page`: a page is called *gone* only on the server's
own word (404, 410) or the site's own words for a removed post, seen on a page that
shows little else. Anything less certain stays *available*, with a reason that says
what was seen, because a victim told "deleted" about a post still up would stop
collecting evidence of it.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from evidence_recorder.core import fields
from evidence_recorder.core.errors import RefusedInput
from evidence_recorder.core.gather.sites import guess_site
from evidence_recorder.core.gather.webpage import LoadState, PageRecord
from evidence_recorder.core.model import CaptureDetails, PageState

#: The longest address we open (and keep as the item's address): longer is pasted text.
MAX_URL = 8192

# The sites' own words when a post or page was removed, or when they ask to sign in
# instead of showing it: (site as guess_site names it, what the page says, state). Each
# is looked for, case and spacing aside, only on that site's own pages. Keep them here,
# in this one table.
SITE_WORDING: tuple[tuple[str, str, PageState], ...] = (
    ("Facebook", "This content isn't available right now", PageState.GONE),
    ("Facebook", "This content isn't available at the moment", PageState.GONE),
    ("Facebook", "This page isn't available", PageState.GONE),
    ("Facebook", "You must log in to continue", PageState.LOGIN_WALL),
    ("Facebook", "Log in to Facebook", PageState.LOGIN_WALL),
    ("Instagram", "Sorry, this page isn't available", PageState.GONE),
    ("Instagram", "The link you followed may be broken, or the page may have been removed",
     PageState.GONE),
    ("Instagram", "Log in to see photos and videos", PageState.LOGIN_WALL),
    ("X/Twitter", "Hmm...this page doesn't exist", PageState.GONE),
    ("X/Twitter", "This post was deleted", PageState.GONE),
    ("X/Twitter", "This Tweet was deleted", PageState.GONE),
    ("X/Twitter", "This post is unavailable", PageState.GONE),
    ("X/Twitter", "This account doesn't exist", PageState.GONE),
    ("X/Twitter", "Account suspended", PageState.GONE),
    ("X/Twitter", "Sign in to X", PageState.LOGIN_WALL),
    ("TikTok", "Video currently unavailable", PageState.GONE),
    ("TikTok", "This video is unavailable", PageState.GONE),
    ("TikTok", "Couldn't find this account", PageState.GONE),
    ("TikTok", "Log in to TikTok", PageState.LOGIN_WALL),
    ("Reddit", "Sorry, this post was deleted", PageState.GONE),
    ("Reddit", "Sorry, this post has been removed", PageState.GONE),
    ("Reddit", "Sorry, nobody on Reddit goes by that name", PageState.GONE),
    ("Reddit", "Log in to Reddit", PageState.LOGIN_WALL),
    ("YouTube", "Video unavailable", PageState.GONE),
    ("YouTube", "This video has been removed by the uploader", PageState.GONE),
    ("YouTube", "This video isn't available anymore", PageState.GONE),
    ("YouTube", "Sign in to confirm your age", PageState.LOGIN_WALL),
    ("YouTube", "Sign in to confirm you're not a bot", PageState.LOGIN_WALL),
)

#: A page whose visible text is longer than this shows more than a "removed" notice:
#: the words may be about something shared inside a post (Facebook shows "This content
#: isn't available" in place of a deleted post that a live post shared), so they are
#: reported, not taken as the page's verdict.
NOTICE_TEXT_LIMIT = 2000

# The last part of an address's path that means "sign in" on the big sites
# (facebook.com/login.php, instagram.com/accounts/login/, x.com/i/flow/login,
# accounts.google.com/ServiceLogin, reddit.com/login, tiktok.com/login).
_LOGIN_SEGMENTS = frozenset({"login", "log-in", "signin", "sign-in", "login.php",
                             "servicelogin", "logon", "sign_in", "log_in"})

_STATUS_WORDS = {
    400: "bad request", 401: "sign-in required", 403: "forbidden", 404: "not found",
    408: "request timed out", 410: "gone", 429: "too many requests",
    451: "unavailable for legal reasons", 500: "server error", 502: "bad gateway",
    503: "service unavailable", 504: "gateway timeout",
}

_SPACE = re.compile(r"\s+")
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u2026": "..."})


def _plain(text: str) -> str:
    """Text compared the way a reader sees it: case, curly quotes and spacing aside."""
    return _SPACE.sub(" ", text.translate(_APOSTROPHES)).strip().casefold()


def _status_text(status: int) -> str:
    word = _STATUS_WORDS.get(status)
    return f"the server answered {status} ({word})" if word else f"the server answered {status}"


def _login_path(url: str) -> bool:
    try:
        path = urlsplit(url).path
    except ValueError:
        return False
    segments = [s.casefold() for s in path.split("/") if s]
    return bool(segments) and (segments[-1] in _LOGIN_SEGMENTS
                               or (len(segments) >= 2 and segments[-2] in _LOGIN_SEGMENTS))


def judge_page(record: PageRecord) -> tuple[PageState, str]:
    """What the page at the address shows: ``(state, reason in plain English)``.

    In this order: nothing loaded (unreachable); the server's 404 or 410 (gone); an
    address that ended on the site's sign-in page (login wall); the site's own words
    for a removed post or a sign-in wall, on a page showing little else (gone, login
    wall). Everything else is *available*, and the reason says what was seen (another
    error status, the site's words beside much else, a load cut short): never "gone"
    on a guess.
    """
    timed_out = record.load_state is LoadState.TIMED_OUT
    cut_short = " (the page was still loading when it was captured)" if timed_out else ""
    if record.load_state is LoadState.FAILED or (timed_out and record.http_status is None
                                                 and not record.full_page
                                                 and record.visible is None):
        how = "nothing answered in time" if timed_out else "nothing could be loaded from it"
        return PageState.UNREACHABLE, f"{how}; the browser could not reach the address"
    status = record.http_status
    if status in (404, 410):
        return PageState.GONE, _status_text(status) + cut_short
    if _login_path(record.final_url) and not _login_path(record.requested_url):
        return PageState.LOGIN_WALL, ("the site sent the browser to its sign-in page "
                                      "instead of showing the page" + cut_short)
    site = guess_site(record.final_url) or guess_site(record.requested_url)
    shown = _plain(record.text_sample)
    said = next(((words, state) for name, words, state in SITE_WORDING
                 if name == site and _plain(words) in shown), None)
    status_part = _status_text(status) if status is not None else "no HTTP status was recorded"
    if said is not None:
        words, state = said
        if len(shown) <= NOTICE_TEXT_LIMIT:
            return state, f"the page says “{words}” ({status_part}){cut_short}"
        return PageState.AVAILABLE, (
            f"the page loaded ({status_part}); it shows “{words}” among other content, which "
            f"may be about something shared in it, so look at the picture{cut_short}")
    if status is None:
        return PageState.AVAILABLE, f"the page loaded; its HTTP status was not recorded{cut_short}"
    if status >= 400:
        return PageState.AVAILABLE, (f"{_status_text(status)}; this alone does not show "
                                     f"whether the post is still there{cut_short}")
    return PageState.AVAILABLE, f"the page loaded ({status_part}){cut_short}"


def first_details(record: PageRecord) -> CaptureDetails:
    """The details a page capture starts with: the site guessed from its final address,
    and that address. Nothing else is filled in without the person's say."""
    url = record.final_url or record.requested_url
    limit = fields.BY_NAME["url"].max_length
    return CaptureDetails(site=guess_site(url) or "", url=url if len(url) <= limit else "")


def suggestions(record: PageRecord) -> dict[str, str]:
    """The author and @handle the page's own metadata names, to offer, never to write:
    ``{"author": ..., "handle": ...}`` with only the non-empty ones (the handle as ``@name``)."""
    out: dict[str, str] = {}
    author = " ".join(record.suggested_author.split())[:200]
    handle = record.suggested_handle.strip().lstrip("@").strip()
    if author:
        out["author"] = author
    if handle and not any(c.isspace() for c in handle) and len(handle) <= 200:
        out["handle"] = "@" + handle
    return out


def check_url(text: str) -> str:
    """The address to open, or :class:`RefusedInput` saying in a sentence why not.

    Only web addresses (http and https) with a host: a ``file:`` address would read
    this computer's files into the evidence, ``data:`` and ``javascript:`` are not
    pages anywhere. The message never repeats the address (it may be evidence).
    """
    if not isinstance(text, str):
        raise RefusedInput("A web address must be text.")
    url = text.strip()
    if not url:
        raise RefusedInput("Give the address of the page to capture, starting with https://.")
    if len(url) > MAX_URL:
        raise RefusedInput(f"That address is too long to be a web page's address "
                           f"({len(url):,} characters; the limit is {MAX_URL:,}).")
    if any(ord(c) < 0x20 or c == "\x7f" or c.isspace() for c in url):
        raise RefusedInput("A web address has no spaces or line breaks in it; check that the "
                           "whole address was copied, and nothing else.")
    scheme, colon, _rest = url.partition(":")
    if not colon or not re.fullmatch(r"[A-Za-z][A-Za-z0-9+.\-]*", scheme):
        raise RefusedInput("Give the whole address of the page, starting with https:// "
                           "(or http://).")
    if scheme.lower() not in ("http", "https"):
        raise RefusedInput(f"Only web pages (addresses starting with https:// or http://) can "
                           f"be captured; a “{scheme.lower()}:” address cannot.")
    try:
        host = urlsplit(url.replace("\\", "/")).hostname
    except ValueError:
        host = None
    if not host:
        raise RefusedInput("That address names no web site; check that it was copied whole.")
    return url


__all__ = ["MAX_URL", "NOTICE_TEXT_LIMIT", "SITE_WORDING", "check_url", "first_details",
           "judge_page", "suggestions"]
