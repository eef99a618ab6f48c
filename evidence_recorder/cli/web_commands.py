"""The commands about web pages: capture-web (load a page without a window and keep it)
and recheck (visit a kept page's address again and keep what it shows now); and the
lines ``show`` prints for a web item.

The browser (:mod:`evidence_recorder.web`, QtWebEngine) is imported only inside the
commands, so every other command starts without it.
"""

from __future__ import annotations

import argparse
import math
import sys
from typing import Any

from evidence_recorder.cli.common import EXIT_OK, UsageError, _details, _local, _open
from evidence_recorder.core.errors import CaptureFailed, EvidenceError, RefusedInput
from evidence_recorder.core.gather.webpage import DEFAULT_TIMEOUT, LoadState, PageRecord
from evidence_recorder.core.model import Capture, CaptureDetails, CaptureKind, PageState, iso_utc

MAX_WAIT = 600.0  # seconds: longer than any page needs to settle
MAX_TIMEOUT = 600.0
MAX_SELECTOR = 1000  # characters of a CSS selector

# What a check found, as the person reads it ("Checked again as #12: …").
_FOUND = {
    PageState.AVAILABLE.value: "the page loaded",
    PageState.GONE.value: "the page is gone",
    PageState.LOGIN_WALL.value: "the site asked to sign in",
    PageState.UNREACHABLE.value: "the page could not be reached",
}


def _seconds(value: float, option: str, low: float, high: float) -> float:
    if not math.isfinite(value) or not low <= value <= high:
        raise UsageError(f"{option} must be between {low:g} and {high:g} seconds.")
    return value


def _capture_page(url: str, *, visible_only: bool = False, panel: str | None = None,
                  wait: float = 0.0, timeout: float = DEFAULT_TIMEOUT) -> PageRecord:
    """The browser's capture of ``url`` (no window). Its own failures become one plain
    sentence, whatever class the browser package gives them."""
    # Here, not at the top: the browser package is the one part that loads QtWebEngine.
    from evidence_recorder import web  # type: ignore[attr-defined, unused-ignore]

    try:
        prepare = getattr(web, "prepare", None)
        if prepare is not None:
            prepare()
        record: PageRecord = web.capture_page(url, visible_only=visible_only, panel=panel,
                                              wait=wait, timeout=timeout)
    except EvidenceError:
        raise
    except Exception as exc:
        unavailable = getattr(web, "WebUnavailable", None)
        if unavailable is not None and isinstance(exc, unavailable):
            raise CaptureFailed(str(exc) or "The web browser inside Evidence Recorder could "
                                "not start.") from exc
        raise
    return record


def _kept(record: PageRecord, visible_only: bool) -> list[str]:
    """What was kept, in the person's words."""
    kept = []
    parts = len(record.full_page)
    if parts == 1:
        kept.append("a picture of the whole page")
    elif parts > 1:
        kept.append(f"a picture of the whole page in {parts} parts")
    if record.visible is not None:
        kept.append("what was on screen" if not visible_only or parts else
                    "a picture of what was on screen")
    if record.mhtml:
        kept.append("the page as shown (MHTML)")
    n = len(record.responses)
    kept.append(f"its network traffic (WARC, {n} response{'' if n == 1 else 's'})")
    if record.certificate_chain and record.final_url.lower().startswith("https:"):
        kept.append("the site's certificate chain")
    return kept


def _warnings(record: PageRecord) -> list[str]:
    said = []
    if record.tls is not None and record.tls.error:
        said.append("The browser reported a problem with the site's certificate: "
                    f"{record.tls.error} (this is recorded with the page).")
    if record.load_state is LoadState.TIMED_OUT:
        said.append("The page was still loading when time ran out; what had loaded was "
                    "captured.")
    if len(record.full_page) > 1:
        said.append(f"The page was too tall for one picture, so it was split into "
                    f"{len(record.full_page)} parts; none of it was cut.")
    if record.final_url.lower().startswith("https:") and not record.certificate_chain:
        said.append("The site's certificate chain could not be recorded.")
    said.extend(note for note in record.notes if note)
    return said


def cmd_capture_web(args: argparse.Namespace) -> int:
    from evidence_recorder.core.gather import web as web_items

    url = web_items.check_url(args.url)
    wait = _seconds(args.wait, "--wait", 0, MAX_WAIT)
    timeout = _seconds(args.timeout, "--timeout", 1, MAX_TIMEOUT)
    panel = args.panel
    if panel is not None:
        panel = panel.strip()
        if not panel or len(panel) > MAX_SELECTOR or any(ord(c) < 0x20 for c in panel):
            raise UsageError(f"--panel takes a CSS selector such as “div.thread” (at most "
                             f"{MAX_SELECTOR} characters, on one line).")
    with _open(args) as vault:
        details = CaptureDetails(**_details(args))
        if args.incident is not None:
            vault.incident(args.incident)  # a wrong number is said before the page loads
        record = _capture_page(url, visible_only=args.visible_only, panel=panel, wait=wait,
                               timeout=timeout)
        if record.load_state is LoadState.FAILED:
            _state, reason = web_items.judge_page(record)
            raise CaptureFailed(f"The page could not be loaded ({reason}). Nothing was saved.")
        item_id = web_items.save_page(vault, record, details, args.incident)
        item = vault.capture(item_id)
    web = item.web
    assert web is not None  # save_page made a web item
    title = f"“{item.title}”" if item.title else "a page with no title"
    print(f"Saved web page {item_id}: {title}, captured {iso_utc(item.captured_at)}.")
    print("Kept: " + ", ".join(_kept(record, args.visible_only)) + ".")
    print(f"What the page showed: {web.page_state_reason}.")
    print("Nothing of it was written to disk outside the vault.")
    for line in _warnings(record):
        print(f"Note: {line}", file=sys.stderr)
    return EXIT_OK


def cmd_recheck(args: argparse.Namespace) -> int:
    from evidence_recorder.core.gather import web as web_items

    wait = _seconds(args.wait, "--wait", 0, MAX_WAIT)
    timeout = _seconds(args.timeout, "--timeout", 1, MAX_TIMEOUT)
    with _open(args) as vault:
        original = vault.capture(args.id)
        if original.kind is not CaptureKind.WEB or original.web is None:
            raise RefusedInput(f"Capture {args.id} is {_kind_words(original)}, not a web page, "
                               "so there is no address to check again.")
        url = web_items.check_url(original.web.final_url or original.web.requested_url)
        record = _capture_page(url, wait=wait, timeout=timeout)
        if not record.full_page and record.visible is None:
            _state, reason = web_items.judge_page(record)
            raise CaptureFailed(f"The page could not be checked again ({reason}). Nothing "
                                "was saved.")
        item_id = web_items.save_page(vault, record, incident_id=original.incident_id,
                                      recheck_of=original.id)
        item = vault.capture(item_id)
    web = item.web
    assert web is not None  # save_page made a web item
    if web.page_state == PageState.AVAILABLE.value:
        # "the page loaded (…)" or "the server answered 403 (…); this alone does not…"
        found = (f"{web.page_state_reason}; compare the pictures to see whether the post is "
                 "still on it")
    else:
        found = f"{_FOUND.get(web.page_state, web.page_state)} — {web.page_state_reason}"
    print(f"Checked again as #{item_id}: {found}.")
    if record.tls is not None and record.tls.error:
        print("Note: the browser reported a problem with the site's certificate: "
              f"{record.tls.error}", file=sys.stderr)
    return EXIT_OK


def _kind_words(item: Capture) -> str:
    return {CaptureKind.IMPORT: "an imported picture", CaptureKind.EMAIL: "an e-mail",
            CaptureKind.CHAT: "a chat export"}.get(item.kind, "a screenshot")


# ----------------------------------------------------------------------------- show


def web_rows(item: Capture, checks: list[Capture]) -> list[tuple[str, str]]:
    """The lines ``show`` prints for a web item: address, status, server, certificate,
    what the page showed, its parts and its later checks."""
    web = item.web
    if web is None:
        return []
    rows = [("Address", web.final_url)]
    if web.requested_url and web.requested_url != web.final_url:
        rows.append(("Address asked for", web.requested_url))
    if web.redirects:
        rows.append(("Redirects", str(len(web.redirects))))
    rows.append(("HTTP status", str(web.http_status) if web.http_status is not None
                 else "not recorded"))
    rows.append(("Server", web.server_ip or "not recorded"))
    if web.certificate_sha256:
        rows += [("Certificate subject", web.certificate_subject or "could not be read"),
                 ("Certificate issuer", web.certificate_issuer or "could not be read"),
                 ("Certificate valid", f"{web.certificate_valid_from or '?'} to "
                                       f"{web.certificate_valid_to or '?'}"),
                 ("Certificate SHA-256", web.certificate_sha256)]
    if web.tls_protocol:
        rows.append(("Connection", web.tls_protocol))
    if web.certificate_error:
        rows.append(("Certificate problem", web.certificate_error))
    rows.append(("Page state", f"{web.page_state} — {web.page_state_reason}"
                 if web.page_state_reason else web.page_state))
    if web.load_state == LoadState.TIMED_OUT.value:
        rows.append(("Loading", "still loading when captured; what had loaded was kept"))
    if web.full_page_parts > 1:
        rows.append(("Whole page", f"{web.full_page_parts} parts"))
    if web.panel:
        rows.append(("Panel captured whole", web.panel))
    if web.recheck_of is not None:
        rows.append(("Checks again", f"#{web.recheck_of}"))
    for check in checks:
        state = check.web.page_state if check.web else ""
        rows.append(("Checked again", f"#{check.id} on {_local(check)}: {state}"))
    return rows


def checks_json(checks: list[Capture]) -> list[dict[str, Any]]:
    """``show --json``'s "checks": each later check's id, time and what it found."""
    return [{"id": c.id, "captured_at": iso_utc(c.captured_at),
             "page_state": c.web.page_state if c.web else None} for c in checks]
