"""The capture-detail fields, declared once: what each is called, holds and is for.

Everything that shows, asks for, checks or prints a capture's details reads
:data:`FIELDS`: :class:`~evidence_recorder.core.model.CaptureDetails` (checked against
it at import), ``IMPORTANT_DETAILS``, the vault's checks, the CLI's ``--site``/``--url``/…
options and ``show``, the describe panel, the capture table and the bundle viewer's
timeline, the viewer's details pane, the audit log's sentences and the report. Adding a
field (an e-mail's subject, say) is one entry here, one attribute of ``CaptureDetails``
and one vault column; nothing else lists the fields.

The words are British English. Those the app shows are marked for translation under
one context, :data:`~evidence_recorder.core.i18n.FIELD_CONTEXT` (the describe panel's,
where most of them were first written); the CLI and the report use them as they are.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from evidence_recorder.core.i18n import QT_TRANSLATE_NOOP

#: Characters one detail may hold: pages of text, not a pasted file.
MAX_TEXT: Final = 20_000


class Group(StrEnum):
    """The questions police and helplines ask of a screenshot, in the order they ask."""

    WHERE = "where"
    WHO = "who"
    WHEN = "when"
    WHAT = "what"
    REFERENCES = "references"


#: What each group is headed, in the form and in the viewer's details.
GROUP_HEADINGS: Final[dict[Group, str]] = {
    Group.WHERE: QT_TRANSLATE_NOOP("DescribePanel", "Where it was"),
    Group.WHO: QT_TRANSLATE_NOOP("DescribePanel", "Who posted it"),
    Group.WHEN: QT_TRANSLATE_NOOP("DescribePanel", "When"),
    Group.WHAT: QT_TRANSLATE_NOOP("DescribePanel", "What it was"),
    Group.REFERENCES: QT_TRANSLATE_NOOP("DescribePanel", "Reports made"),
}

#: The order someone reading a record takes the groups in (the viewer, the report):
#: when first, because a course of conduct is read as a timeline.
READING_ORDER: Final[tuple[Group, ...]] = (
    Group.WHEN, Group.WHERE, Group.WHO, Group.WHAT, Group.REFERENCES)


class Value(StrEnum):
    """The kind of value a field holds, which decides how it is asked for and shown."""

    SITE = "site"  # a site or app: chosen from a list or typed; shown as it is
    URL = "url"  # an address: shown as a link, may break anywhere in print
    HANDLE = "handle"  # an @name: stored and shown as "@name"
    NUMBER = "number"  # an account number or id: one line, may break anywhere in print
    LINE = "line"  # one line of text
    TEXT = "text"  # several lines, the user's own words
    CATEGORY = "category"  # one of core.model.Category, or "" before one is chosen


#: The kinds of evidence (``CaptureKind`` values), today's and those the next steps add.
PICTURE_KINDS: Final = frozenset({"screen", "monitor", "region", "window", "import"})
WEB: Final = "web"
EMAIL: Final = "email"
CHAT: Final = "chat"
EVERY_KIND: Final = PICTURE_KINDS | {WEB, EMAIL, CHAT}


@dataclass(frozen=True, slots=True)
class Field:
    """One detail of a capture, and everything the readers need to know of it."""

    name: str  # the CaptureDetails attribute, vault column and JSON key
    group: Group
    value: Value
    label: str  # the describe panel's label, with its mnemonic
    title: str  # its name as a heading: viewer, tables, report, ``show``
    short: str  # its name inside a sentence ("Worth adding: site, link."; the audit log)
    hint: str  # what to write there: the panel's grey line (or example) under the box
    option: str  # the CLI option of capture, import and edit
    option_help: str  # that option's help
    max_length: int = MAX_TEXT
    # The app marks it while empty: the guidance says a capture should carry it.
    important: bool = False
    # The report keeps it even when empty ("not recorded"): its absence is information.
    reported_when_empty: bool = False
    # The audit log may quote its old and new value in a one-line sentence (not for
    # long texts or the names of people).
    quoted_in_log: bool = True
    hint_is_example: bool = False  # the hint is only the format ("@name"), shown in the box
    lines: int = 0  # for TEXT: how many lines its box shows before it scrolls
    summary_key: str | None = None  # its key in ``list --json`` (and evidence.json schema 1)
    kinds: frozenset[str] = EVERY_KIND  # the evidence kinds that ask for it
    # Kinds whose intake fills it in (a web page's address): the user need not type it.
    automatic: frozenset[str] = frozenset()

    def used_by(self, kind: str) -> bool:
        return kind in self.kinds


# Mnemonics avoid C, E, V and H (the main window's Capture, Evidence, Vault and Help
# menus) and P and T (its Pictures and Timeline tabs), so Alt+letter is never ambiguous.
# lupdate needs the context as a literal in each call: it is FIELD_CONTEXT.
SITE: Final = Field(
    "site", Group.WHERE, Value.SITE,
    label=QT_TRANSLATE_NOOP("DescribePanel", "&Site"),
    title=QT_TRANSLATE_NOOP("DescribePanel", "Site"),
    short=QT_TRANSLATE_NOOP("DescribePanel", "site"),
    hint=QT_TRANSLATE_NOOP("DescribePanel", "Choose or type the site"),
    option="--site", option_help="the site or app, e.g. Facebook, X/Twitter, WhatsApp",
    important=True, reported_when_empty=True, summary_key="site",
)
URL: Final = Field(
    "url", Group.WHERE, Value.URL,
    label=QT_TRANSLATE_NOOP("DescribePanel", "&Link to the post or message"),
    title=QT_TRANSLATE_NOOP("DescribePanel", "Link to the post"),
    short=QT_TRANSLATE_NOOP("DescribePanel", "link"),
    hint=QT_TRANSLATE_NOOP("DescribePanel", "Copy it from the address bar, e.g. https://…"),
    option="--url", option_help="the address of the post or message",
    important=True, reported_when_empty=True, summary_key="url",
    kinds=PICTURE_KINDS | {WEB, CHAT},  # an e-mail has no address to link to
    automatic=frozenset({WEB}),  # the address of the page captured
)
AUTHOR: Final = Field(
    "author", Group.WHO, Value.LINE,
    label=QT_TRANSLATE_NOOP("DescribePanel", "&Author's name"),
    title=QT_TRANSLATE_NOOP("DescribePanel", "Author"),
    short=QT_TRANSLATE_NOOP("DescribePanel", "author"),
    hint=QT_TRANSLATE_NOOP("DescribePanel", "The name shown on the post"),
    option="--author", option_help="the display name of whoever posted it",
    important=True, reported_when_empty=True, summary_key="author",
)
HANDLE: Final = Field(
    "handle", Group.WHO, Value.HANDLE,
    label=QT_TRANSLATE_NOOP("DescribePanel", "@han&dle"),
    title=QT_TRANSLATE_NOOP("DescribePanel", "Handle"),
    short=QT_TRANSLATE_NOOP("DescribePanel", "handle"),
    hint=QT_TRANSLATE_NOOP("DescribePanel", "@name"), hint_is_example=True,
    option="--handle", option_help="their @handle",
    reported_when_empty=True,
)
PROFILE_URL: Final = Field(
    "profile_url", Group.WHO, Value.URL,
    label=QT_TRANSLATE_NOOP("DescribePanel", "Link to their pro&file"),
    title=QT_TRANSLATE_NOOP("DescribePanel", "Link to their profile"),
    short=QT_TRANSLATE_NOOP("DescribePanel", "profile link"),
    hint="https://…", hint_is_example=True,
    option="--profile-url", option_help="the address of their profile",
)
AUTHOR_ID: Final = Field(
    "author_id", Group.WHO, Value.NUMBER,
    label=QT_TRANSLATE_NOOP("DescribePanel", "Their &user number (if known)"),
    title=QT_TRANSLATE_NOOP("DescribePanel", "User number"),
    short=QT_TRANSLATE_NOOP("DescribePanel", "user number"),
    hint=QT_TRANSLATE_NOOP("DescribePanel", "Often the number in their profile link"),
    option="--author-id", option_help="their numeric user id, if known",
)
POSTED_AT: Final = Field(
    "posted_at", Group.WHEN, Value.LINE,
    label=QT_TRANSLATE_NOOP("DescribePanel", "Ti&me shown on the post"),
    title=QT_TRANSLATE_NOOP("DescribePanel", "Posted (as shown)"),
    short=QT_TRANSLATE_NOOP("DescribePanel", "time on the post"),
    hint=QT_TRANSLATE_NOOP("DescribePanel", "e.g. 2h, Yesterday at 21:04"),
    option="--posted-at",
    option_help="the time shown on the post, as displayed (e.g. \"2h\")",
    important=True, reported_when_empty=True,
)
CATEGORY: Final = Field(
    "category", Group.WHAT, Value.CATEGORY,
    label=QT_TRANSLATE_NOOP("DescribePanel", "Cate&gory"),
    title=QT_TRANSLATE_NOOP("DescribePanel", "Category"),
    short=QT_TRANSLATE_NOOP("DescribePanel", "category"),
    hint="",
    option="--category", option_help="what kind of abuse",  # the CLI adds the choices
    reported_when_empty=True, summary_key="category",
)
DESCRIPTION: Final = Field(
    "description", Group.WHAT, Value.TEXT,
    label=QT_TRANSLATE_NOOP("DescribePanel", "&What happened"),
    title=QT_TRANSLATE_NOOP("DescribePanel", "What happened"),
    short=QT_TRANSLATE_NOOP("DescribePanel", "what happened"),
    hint=QT_TRANSLATE_NOOP("DescribePanel", "What was posted or sent, in your own words"),
    option="--note", option_help="what happened",
    important=True, reported_when_empty=True, quoted_in_log=False, lines=7,
    summary_key="note",
)
CONTEXT: Final = Field(
    "context", Group.WHAT, Value.TEXT,
    label=QT_TRANSLATE_NOOP("DescribePanel", "Conte&xt / the conversation around it"),
    title=QT_TRANSLATE_NOOP("DescribePanel", "Context"),
    short=QT_TRANSLATE_NOOP("DescribePanel", "context"),
    hint=QT_TRANSLATE_NOOP("DescribePanel", "What came before and after it, and why it matters"),
    option="--context", option_help="the surrounding conversation, and why it matters",
    quoted_in_log=False, lines=4,
)
PEOPLE: Final = Field(
    "people", Group.WHAT, Value.LINE,
    label=QT_TRANSLATE_NOOP("DescribePanel", "People involved o&r witnesses"),
    title=QT_TRANSLATE_NOOP("DescribePanel", "People involved or witnesses"),
    short=QT_TRANSLATE_NOOP("DescribePanel", "people involved"),
    hint=QT_TRANSLATE_NOOP("DescribePanel", "Others who were named, tagged or saw it"),
    option="--people", option_help="people involved, or witnesses",
    quoted_in_log=False,
)
PLATFORM_REF: Final = Field(
    "platform_ref", Group.REFERENCES, Value.LINE,
    label=QT_TRANSLATE_NOOP("DescribePanel", "Platform report refere&nce"),
    title=QT_TRANSLATE_NOOP("DescribePanel", "Platform report reference"),
    short=QT_TRANSLATE_NOOP("DescribePanel", "platform's reference"),
    hint=QT_TRANSLATE_NOOP("DescribePanel", "From the site's reply to your report"),
    option="--platform-ref", option_help="the platform's reference for your report",
)
POLICE_REF: Final = Field(
    "police_ref", Group.REFERENCES, Value.LINE,
    label=QT_TRANSLATE_NOOP("DescribePanel", "P&olice reference"),
    title=QT_TRANSLATE_NOOP("DescribePanel", "Police reference"),
    short=QT_TRANSLATE_NOOP("DescribePanel", "police reference"),
    hint=QT_TRANSLATE_NOOP("DescribePanel", "A crime reference number, if you have one"),
    option="--police-ref", option_help="a police crime reference",
)

#: Every field, in the order the describe form asks for them.
FIELDS: Final[tuple[Field, ...]] = (
    SITE, URL, AUTHOR, HANDLE, PROFILE_URL, AUTHOR_ID, POSTED_AT,
    CATEGORY, DESCRIPTION, CONTEXT, PEOPLE, PLATFORM_REF, POLICE_REF,
)
BY_NAME: Final[dict[str, Field]] = {f.name: f for f in FIELDS}
NAMES: Final[tuple[str, ...]] = tuple(f.name for f in FIELDS)
#: The fields the app marks while they are empty.
IMPORTANT: Final[tuple[str, ...]] = tuple(f.name for f in FIELDS if f.important)


def in_group(group: Group) -> tuple[Field, ...]:
    return tuple(f for f in FIELDS if f.group is group)


def in_reading_order() -> Iterator[Field]:
    """The fields group by group in :data:`READING_ORDER` (the viewer, the report)."""
    for group in READING_ORDER:
        yield from in_group(group)


def fields_for(kind: str) -> tuple[Field, ...]:
    """The fields a kind of evidence asks for (every field, for today's pictures)."""
    return tuple(f for f in FIELDS if f.used_by(kind))


__all__ = [
    "AUTHOR", "AUTHOR_ID", "BY_NAME", "CATEGORY", "CHAT", "CONTEXT", "DESCRIPTION", "EMAIL",
    "EVERY_KIND", "FIELDS", "GROUP_HEADINGS", "HANDLE", "IMPORTANT", "MAX_TEXT", "NAMES",
    "PEOPLE", "PICTURE_KINDS", "PLATFORM_REF", "POLICE_REF", "POSTED_AT", "PROFILE_URL",
    "READING_ORDER", "SITE", "URL", "WEB", "Field", "Group", "Value", "fields_for",
    "in_group", "in_reading_order",
]
