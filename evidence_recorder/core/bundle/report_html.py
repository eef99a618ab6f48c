"""The report as one HTML page at the bag root: :func:`write_html`, in the words of
:mod:`.report_words`. Every piece of text is escaped and isolated (``<bdi>``); the page
has no script and no external resources."""

from __future__ import annotations

import html
from collections.abc import Iterable
from typing import Final
from urllib.parse import quote

from evidence_recorder.core.bundle.report_data import ReportCapture, ReportData
from evidence_recorder.core.bundle.report_words import (
    _CHECK_STEPS,
    _TIMELINE_FIELD_HEADINGS,
    CONFIRM_FINGERPRINT,
    CONFIRM_SEAL,
    CONVERSATION_INTRO,
    DERIVED_NOTE,
    HONEST_STATEMENT,
    SEAL_NUMBER_LABEL,
    TITLE,
    _about_sentences,
    _audience,
    _author_handle,
    _category,
    _copy_note,
    _exported_local,
    _fields,
    _one_line,
    _timeline_time,
    _timestamp_sentence,
    _utc_text,
    attachment_rows,
    conversation_runs,
    email_rows,
    flag_words,
    message_heading,
    timeline_description,
    timeline_site,
    visible_text,
)
from evidence_recorder.core.bundle.sealnumber import seal_number_rows


def _h(text: str, *, multiline: bool = True) -> str:
    """Escape for HTML text and attributes alike, after making controls visible."""
    return html.escape(visible_text(text, multiline=multiline), quote=True)


def _src(path: str) -> str:
    return html.escape(quote(path, safe="/"), quote=True)


def _seal_number_html(number: str) -> list[str]:
    """The seal number in rows of four groups; no group breaks across lines."""
    if not number:
        return []
    rows = "<br>".join(" ".join(f"<span>{_h(group, multiline=False)}</span>"
                                for group in row.split())
                       for row in seal_number_rows(number))
    return [f'<div class="muted"><strong>{_h(SEAL_NUMBER_LABEL)}</strong></div>',
            f'<div class="sealno">{rows}</div>']

_CSS: Final = """
:root { color-scheme: light; }
body { font: 15px/1.5 "DejaVu Sans", "Segoe UI", Arial, sans-serif; color: #191919;
       max-width: 60em; margin: 2em auto; padding: 0 1.5em; }
h1 { color: #183456; font-size: 2em; margin: 0 0 .1em; }
h2 { color: #183456; font-size: 1.3em; margin: 1.8em 0 .6em;
     border-bottom: 1px solid #bbb; padding-bottom: .2em; }
.sub, .muted { color: #5f5f5f; }
dl.facts { display: grid; grid-template-columns: 16em 1fr; gap: .35em 1em; margin: 0; }
dl.facts dt { color: #5f5f5f; font-weight: bold; }
dl.facts dd { margin: 0; white-space: pre-wrap; overflow-wrap: anywhere; }
.mono, .fp { font-family: "DejaVu Sans Mono", Consolas, monospace; }
.fpbox { background: #f2f2f2; border: 1px solid #bbb; padding: 1em 1.3em; margin: 1.5em 0; }
.fp { font-size: 1.5em; overflow-wrap: anywhere; }
.sealno { font-family: "DejaVu Sans Mono", Consolas, monospace; font-size: 1.5em;
          margin: 0.2em 0; }
.sealno span { white-space: nowrap; }
.incident { margin-bottom: 1em; }
.incident p { white-space: pre-wrap; overflow-wrap: anywhere; margin: .2em 0; }
table { border-collapse: collapse; width: 100%; font-size: .85em; }
th, td { text-align: left; vertical-align: top; padding: .35em .5em;
         border-bottom: 1px solid #ccc; overflow-wrap: anywhere; }
th { background: #f2f2f2; color: #183456; }
section.capture { border-top: 2px solid #183456; margin-top: 2.5em; padding-top: .5em; }
.note { background: #f2f2f2; padding: .4em .7em; }
.note.redacted { background: #fff3cd; font-weight: bold; }
figure { margin: 1em 0; text-align: center; }
figure img { max-width: 100%; height: auto; border: 1px solid #bbb; }
.empty { color: #5f5f5f; font-style: italic; }
.msg { margin: .6em 0; padding-left: .6em; border-left: 3px solid transparent; }
.msg.flagged { border-left-color: #c87800; }
.msg .who { color: #5f5f5f; font-size: .85em; font-weight: bold; }
.msg.flagged .who { color: #183456; }
.msg p, .body { white-space: pre-wrap; overflow-wrap: anywhere; margin: .1em 0; }
.run { border-top: 1px solid #ccc; margin-top: 1em; }
footer { margin-top: 3em; font-size: .85em; color: #5f5f5f; }
@media print { section.capture { break-before: page; } body { max-width: none; } }
"""

_CSP: Final = (
    "default-src 'none'; img-src 'self' file:; style-src 'unsafe-inline'; "
    "base-uri 'none'; form-action 'none'"
)


def _facts(rows: Iterable[tuple[str, str, str]]) -> str:
    parts = ['<dl class="facts">']
    for label, value, style in rows:
        parts.append(f"<dt>{_h(label)}</dt>")
        if not value:
            parts.append('<dd class="empty">not recorded</dd>')
        else:
            css = ' class="mono"' if style == "mono" else ""
            parts.append(f"<dd{css}><bdi>{_h(value)}</bdi></dd>")
    parts.append("</dl>")
    return "\n".join(parts)


def _page_figures(item: ReportCapture, number: int, shown: str) -> list[str]:
    """A web page's full-page picture, part by part; the primary part as shown above
    (the covered copy where there is one)."""
    base = f"data/captures/{item.capture.id}"
    total = len(item.page_parts)
    out = []
    for index, name in enumerate(item.page_parts, 1):
        # The first part is the item's primary picture, the one a covered copy covers.
        path = shown if item.shows_redacted_copy and index == 1 else f"{base}/{name}"
        caption = (f"The whole page, part {index} of {total}" if total > 1
                   else "The whole page")
        out.append(f'<figure><img src="{_src(path)}" alt="{_h(f"Capture {number}: {caption}")}"'
                   f' loading="lazy"><figcaption class="muted">{_h(caption)}</figcaption>'
                   "</figure>")
    return out


def _message_parts(item: ReportCapture, number: int) -> list[str]:
    """An e-mail's headers, text and files, or a chat's flagged messages with their
    context: every piece of text escaped and isolated."""
    flagged = {flag.index: flag for flag in item.flags}
    out: list[str] = []
    if item.capture.kind.value == "email":
        total = len(item.messages) + item.left_out
        for message in item.messages:
            title = (f"Capture {number}: the e-mail" if total == 1
                     else f"Capture {number}: e-mail {message.index + 1} of {total:,}")
            out.append(f"<h3>{_h(title)}</h3>")
            if message.index in flagged:
                out.append(f'<p class="note redacted">{_h(flag_words(flagged[message.index]))}'
                           "</p>")
            out.append(_facts(email_rows(message)))
            out.append("<h4>Text of the e-mail</h4>")
            out.append(f'<div class="body"><bdi>{_h(message.text)}</bdi></div>'
                       if message.text.strip()
                       else '<p class="empty">The e-mail has no text part.</p>')
            out.append("<h4>Attachments</h4>")
            lines = attachment_rows(message, item.files)
            out.append("<ul>" + "".join(f"<li><bdi>{_h(line)}</bdi></li>" for line in lines)
                       + "</ul>" if lines else '<p class="empty">None.</p>')
        if item.left_out:
            out.append(f'<p class="note">{item.left_out:,} more e-mails of this mailbox are '
                       "not shown in this report; every one is in the original file and in "
                       f"{_h(item.messages_path)}.</p>")
        return out
    out.append(f"<h3>Capture {number}: the flagged messages</h3>")
    out.append(f'<p class="muted">{_h(CONVERSATION_INTRO)}</p>')
    if not item.flags:
        out.append("<p>The sender flagged no message of this conversation; the whole "
                   f"conversation is in the bundle ({_h(item.messages_path)}).</p>")
    for run in conversation_runs(item):
        out.append('<div class="run">')
        for message in run:
            flag = flagged.get(message.index)
            out.append(f'<div class="msg{" flagged" if flag is not None else ""}">')
            if flag is not None:
                out.append(f'<p class="note redacted">{_h(flag_words(flag))}</p>')
            out.append(f'<div class="who"><bdi>{_h(message_heading(message), multiline=False)}'
                       "</bdi></div>")
            text = f"<strong>{_h(message.text)}</strong>" if flag is not None \
                else _h(message.text)
            out.append(f"<p><bdi>{text}</bdi></p>")
            out += [f'<p class="muted">Attached: <bdi>{_h(line)}</bdi></p>'
                    for line in attachment_rows(message, item.files)]
            out.append("</div>")
        out.append("</div>")
    if item.left_out:
        out.append(f'<p class="note">{item.left_out:,} more flagged messages are not shown in '
                   "this report; metadata.json lists every flag and "
                   f"{_h(item.messages_path)} holds the whole conversation.</p>")
    return out


def write_html(data: ReportData) -> bytes:
    """The same report as one HTML page that sits at the bag root beside ``data/``.

    No script, no external resources (a Content-Security-Policy says so too); pictures
    are referenced by their bundle-relative paths. URLs of evidence are shown as text,
    not links, so a hostile ``javascript:`` or tracking link cannot be followed by a click.
    """
    out: list[str] = [
        "<!DOCTYPE html>",
        '<html lang="en-GB">',
        "<head>",
        '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">',
        '<meta name="referrer" content="no-referrer">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{TITLE}</title>",
        f"<style>{_CSS}</style>",
        "</head>",
        "<body>",
        "<header>",
        f"<h1>{TITLE}</h1>",
        f'<p class="sub">Prepared for {_h(_audience(data.audience))} · confidential</p>',
        "</header>",
        _facts([
            ("Exported by", data.exported_by or "not given", ""),
            ("Role", data.role or "not given", ""),
            ("Exported (UTC)", _utc_text(data.exported_at), ""),
            ("Exported (local time)", _exported_local(data.exported_at), ""),
            ("Prepared for", _audience(data.audience), ""),
            ("Incidents", str(len(data.incidents)), ""),
            ("Captures", str(len(data.captures)), ""),
            ("Trusted timestamp", _timestamp_sentence(data.timestamped), ""),
            ("Bundle", data.bundle_name, ""),
            ("Made with", f"Evidence Recorder {data.app_version}", ""),
        ]),
        "<h2>About these captures</h2>",
        f"<p>{_h(HONEST_STATEMENT)}</p>",
    ]
    out += [f"<p>{_h(sentence)}</p>" for sentence in _about_sentences(data)]
    out += [
        '<div class="fpbox">',
        '<div class="muted"><strong>Signing key fingerprint</strong></div>',
        f'<div class="fp">{_h(data.fingerprint or "not available", multiline=False)}</div>',
        *_seal_number_html(data.seal_number),
        f"<p><strong>{CONFIRM_SEAL if data.seal_number else CONFIRM_FINGERPRINT}, not by "
        "e-mail or message.</strong><br>",
        '<span class="muted">If it differs, this bundle was not sealed with their key '
        "and should not be relied on.</span></p>",
        "</div>",
        "<h2>How to check this bundle has not been altered</h2>",
        "<ol>",
        *(f"<li>{_h(step)}</li>" for step in _CHECK_STEPS),
        "</ol>",
        "<h2>Incidents</h2>",
    ]
    if not data.incidents:
        out.append('<p class="empty">No incidents are recorded.</p>')
    for incident in data.incidents:
        out.append('<div class="incident">')
        out.append(f"<h3><bdi>{_h(incident.title or 'Untitled incident', multiline=False)}"
                   "</bdi></h3>")
        if incident.started_at:
            out.append(f'<p class="muted">Started: <bdi>{_h(incident.started_at)}</bdi></p>')
        if incident.description:
            out.append(f"<p><bdi>{_h(incident.description)}</bdi></p>")
        out.append("</div>")

    out += [
        "<h2>Timeline</h2>",
        '<p class="muted">Every capture in the order it was taken. Capture times come from '
        "the sender's computer clock; “Posted” is the time as the post showed it, which may "
        "be relative (for example “2h”).</p>",
    ]
    if data.captures:
        out.append("<table><thead><tr><th>#</th><th>Captured (UTC and local)</th>"
                   + "".join(f"<th>{_h(text)}</th>" for text in _TIMELINE_FIELD_HEADINGS)
                   + "</tr></thead><tbody>")
        for number, item in enumerate(data.captures, 1):
            capture = item.capture
            who = "<br>".join(f"<bdi>{_h(part, multiline=False)}</bdi>"
                              for part in _author_handle(capture).split("\n") if part)
            out.append(
                f'<tr><td><a href="#capture-{number}">{number}</a></td>'
                f"<td>{_h(_timeline_time(capture)).replace(chr(10), '<br>')}</td>"
                f"<td><bdi>{_h(timeline_site(capture), multiline=False)}</bdi></td>"
                f"<td>{who}</td>"
                f"<td><bdi>{_h(capture.details.posted_at, multiline=False)}</bdi></td>"
                f"<td>{_h(_category(capture.details.category))}</td>"
                f"<td><bdi>{_h(_one_line(timeline_description(capture), 200))}</bdi></td>"
                "</tr>"
            )
        out.append("</tbody></table>")
    else:
        out.append('<p class="empty">This bundle holds no captures.</p>')

    total = len(data.captures)
    for number, item in enumerate(data.captures, 1):
        if item.capture.messages is not None:  # an e-mail or a chat export: no picture
            out += [
                f'<section class="capture" id="capture-{number}">',
                f"<h2>Capture {number} of {total} "
                f'<span class="muted">(record no. {item.capture.id})</span></h2>',
                f'<p class="note">{_h(DERIVED_NOTE)} Original: <a href="'
                f'{_src(item.original_path)}">{_h(item.original_path)}</a></p>',
                _facts(_fields(item, data.captures)),
                *_message_parts(item, number),
                "</section>",
            ]
            continue
        shown = item.redacted_path if item.shows_redacted_copy and item.redacted_path \
            else item.original_path
        if item.shows_redacted_copy:
            text = _copy_note(item)
            link = (f' the bundle at <a href="{_src(item.original_path)}">'
                    f'{_h(item.original_path)}</a>' if item.original_path else "")
            note = f'<p class="note redacted">{_h(text)}{link}</p>'
            alt = (f"Capture {number}, covered copy" if item.covered
                   else f"Capture {number}, marked copy")
        else:
            note = ('<p class="note">Original capture: '
                    f'<a href="{_src(item.original_path)}">{_h(item.original_path)}</a></p>')
            alt = f"Capture {number}"
        figures = [f'<figure><img src="{_src(shown)}" alt="{_h(alt)}" loading="lazy">'
                   "</figure>"]
        if item.page_parts:  # a web page: every part of its full-page picture, in order
            figures = _page_figures(item, number, shown)
        out += [
            f'<section class="capture" id="capture-{number}">',
            f"<h2>Capture {number} of {total} "
            f'<span class="muted">(record no. {item.capture.id})</span></h2>',
            note,
            *figures,
            _facts(_fields(item, data.captures)),
            "</section>",
        ]
    out += [
        f"<footer>{_h(data.bundle_name)} · exported {_h(_utc_text(data.exported_at))} · "
        f"Evidence Recorder {_h(data.app_version)}</footer>",
        "</body>",
        "</html>",
        "",
    ]
    return "\n".join(out).encode("utf-8")
