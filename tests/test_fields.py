"""The capture-detail fields are declared once (core/fields.py) and every reader uses it.

Two kinds of test: a scan of the package that fails if any module lists the fields
itself, and one test per reader (the model, the vault, the CLI, the describe panel,
the tables, the viewer, the audit log, the report) that changes or inspects the
declaration and sees the reader follow it.
"""

from __future__ import annotations

import ast
import dataclasses
import json
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtWidgets import QLabel

from evidence_recorder import cli
from evidence_recorder.core import fields
from evidence_recorder.core.bundle import report, report_words
from evidence_recorder.core.bundle.evidence import BundleEvidence, read_evidence
from evidence_recorder.core.bundle.report_data import ReportCapture, ReportData
from evidence_recorder.core.errors import RefusedInput
from evidence_recorder.core.model import (
    IMPORTANT_DETAILS,
    Capture,
    CaptureDetails,
    CaptureKind,
    Incident,
)
from evidence_recorder.core.vault.store import Vault

REPO = Path(__file__).resolve().parent.parent
PACKAGE = REPO / "evidence_recorder"
DECLARATION = PACKAGE / "core" / "fields.py"

# Every field filled in with a value that names it, so that a reader's output shows
# which fields it printed.
FILLED = CaptureDetails(**{
    f.name: "harassment" if f.value is fields.Value.CATEGORY else f"value-of-{f.name}"
    for f in fields.FIELDS})


def _capture(details: CaptureDetails = FILLED) -> Capture:
    return Capture(
        id=7, incident_id=1, kind=CaptureKind.REGION,
        captured_at=datetime(2026, 11, 25, 14, 2, 31, tzinfo=UTC), tz_name="Europe/London",
        utc_offset="+00:00", sha256="ab" * 32, width=10, height=10, media_type="image/png",
        byte_size=1, environment={}, source=None, details=details,
    )


# ---------------------------------------------------------------------- nobody else lists them

_CONTAINERS = (ast.Tuple, ast.List, ast.Set, ast.Dict, ast.Call)


def field_lists(source: str) -> list[int]:
    """Lines where a literal (tuple, list, set, dict or a call's arguments) names three
    or more fields as strings, or five or more as attributes (``d.site, d.url, …``)."""
    found: list[int] = []

    def visit(node: ast.AST, inside: bool) -> None:
        container = isinstance(node, _CONTAINERS)
        if container and not inside:
            strings = {n.value for n in ast.walk(node)
                       if isinstance(n, ast.Constant) and n.value in fields.NAMES}
            attributes = {n.attr for n in ast.walk(node)
                          if isinstance(n, ast.Attribute) and n.attr in fields.NAMES}
            if len(strings) >= 3 or len(attributes) >= 5:
                found.append(node.lineno)
                return
        for child in ast.iter_child_nodes(node):
            visit(child, inside or (container and not isinstance(node, ast.Call)))

    visit(ast.parse(source), False)
    return found


def test_the_scan_finds_a_list_of_fields() -> None:
    """The scan below would catch the lists this declaration replaced."""
    old_cli = textwrap.dedent('''
        DETAIL_OPTIONS = (
            ("--site", "site", "the site or app"),
            ("--url", "url", "the address of the post or message"),
            ("--author", "author", "the display name of whoever posted it"),
        )''')
    old_blocks = 'BLOCKS = {"where": ("site", "url", "author", "handle")}'
    old_haystack = textwrap.dedent('''
        def haystack(d):
            return "\\n".join((d.site, d.url, d.author, d.handle, d.profile_url,
                               d.author_id, d.posted_at, d.description))''')
    old_audit = 'if name in ("description", "context", "people"): pass'
    for source in (old_cli, old_blocks, old_haystack, old_audit):
        assert field_lists(source), source
    # One or two names (a hook for one field's behaviour) are not a list of the fields.
    assert not field_lists('if name in ("site", "category"): pass')
    assert not field_lists("row = (fields.SITE, fields.URL, fields.AUTHOR, fields.HANDLE, "
                           "fields.POSTED_AT, fields.CATEGORY)")


def test_no_module_but_the_declaration_lists_the_fields() -> None:
    offenders = [f"{path.relative_to(REPO)}:{line}"
                 for path in sorted(PACKAGE.rglob("*.py")) if path != DECLARATION
                 for line in field_lists(path.read_text(encoding="utf-8"))]
    assert not offenders, f"these list the detail fields instead of reading core/fields.py: " \
                          f"{offenders}"


# ---------------------------------------------------------------------- the declaration


def test_each_field_is_declared_whole() -> None:
    assert len(fields.FIELDS) == len(set(fields.NAMES)) == 13
    assert {f.option for f in fields.FIELDS} == {c[0] for c in cli.DETAIL_OPTIONS}
    assert len({f.option for f in fields.FIELDS}) == len(fields.FIELDS)
    for f in fields.FIELDS:
        assert f.label and f.title and f.short and f.option_help, f.name
        assert "&" in f.label, f"{f.name}: the describe panel's label needs a mnemonic"
        assert f.option.startswith("--") and f.max_length > 0
        assert f.kinds >= fields.PICTURE_KINDS, "every field is asked of today's pictures"
        assert f.automatic <= f.kinds
        assert (f.lines > 0) == (f.value is fields.Value.TEXT), f.name
    assert set(fields.GROUP_HEADINGS) == set(fields.Group) == set(fields.READING_ORDER)
    assert all(fields.in_group(group) for group in fields.Group)
    # A web page's address is taken from the page; an e-mail has none to ask for.
    assert fields.URL.automatic == {fields.WEB}
    assert fields.URL not in fields.fields_for(fields.EMAIL)
    assert fields.fields_for("region") == fields.FIELDS


def test_capture_details_and_important_details_follow_the_declaration() -> None:
    assert CaptureDetails.field_names() == fields.NAMES
    assert tuple(f.name for f in fields.FIELDS if f.important) == IMPORTANT_DETAILS
    summary = _capture().summary()
    assert {f.summary_key: getattr(FILLED, f.name) for f in fields.FIELDS
            if f.summary_key}.items() <= summary.items()


# ---------------------------------------------------------------------- the vault


def test_the_vault_checks_each_field_against_its_declared_limit(
        vault: Vault, monkeypatch: pytest.MonkeyPatch) -> None:
    from test_vault import add

    capture_id = add(vault, people="Ann")
    monkeypatch.setitem(fields.BY_NAME, "people", dataclasses.replace(fields.PEOPLE,
                                                                      max_length=5))
    with pytest.raises(RefusedInput, match="people is too long"):
        vault.edit_capture(capture_id, {"people": "Mrs Patel"})
    vault.edit_capture(capture_id, {"people": "Bob", "context": "x" * 6})  # others keep theirs
    assert vault.capture(capture_id).details.people == "Bob"
    with pytest.raises(RefusedInput, match="no detail called"):
        vault.edit_capture(capture_id, {"mood": "sad"})


# ---------------------------------------------------------------------- the CLI


def test_cli_has_an_option_per_field_with_its_help() -> None:
    parser = cli.build_parser()
    for command in ("capture", "capture-web", "import", "edit"):
        sub = parser._subparsers._group_actions[0].choices[command]  # type: ignore[union-attr]
        actions = {a.dest: a for a in sub._actions}
        for f in fields.FIELDS:
            assert actions[f.name].option_strings == [f.option], (command, f.name)
            help_text = actions[f.name].help or ""
            assert help_text.startswith(f.option_help), (command, f.name)


def test_cli_show_prints_each_field_under_its_title(
        cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from PIL import Image

    picture = tmp_path / "shot.png"
    Image.new("RGB", (8, 8), (200, 30, 30)).save(picture)
    args = [arg for f in fields.FIELDS for arg in (f.option, getattr(FILLED, f.name))]
    made = cli("import", str(picture), *args)
    assert made.returncode == 0, made.stderr
    shown = cli("show", "1").stdout.splitlines()
    for f in fields.FIELDS:
        value = getattr(FILLED, f.name)
        value = "@" + value if f.value is fields.Value.HANDLE else value
        assert any(line.startswith(f.title + ":") and line.endswith(" " + value)
                   for line in shown), (f.name, shown)
    # The values start in one column, however long the longest title.
    columns = {line.index(" value-of-") for line in shown if " value-of-" in line}
    assert len(columns) == 1, shown


# ---------------------------------------------------------------------- the describe panel


def test_the_describe_panel_has_a_labelled_widget_per_field(qtbot) -> None:  # type: ignore[no-untyped-def]
    from evidence_recorder.ui.describe import DescribePanel

    panel = DescribePanel()
    qtbot.addWidget(panel)
    assert list(panel.inputs) == list(fields.NAMES)
    for f in fields.FIELDS:
        widget = panel.inputs[f.name]
        assert widget.objectName() == f.name
        assert panel.labels[f.name].text() == f.label
        assert panel.labels[f.name].buddy() is widget
        assert panel._rows[f.name].markable == f.important
    headings = {label.text() for label in panel.findChildren(QLabel)}
    assert set(fields.GROUP_HEADINGS.values()) <= headings
    # The form asks in the declared order, field by field.
    order = [w.objectName() for w in panel.focus_order() if w.objectName() in fields.NAMES]
    assert not panel.is_two_columns()
    assert order == list(fields.NAMES)


def test_the_describe_panel_takes_each_fields_limit_from_the_declaration(
        qtbot, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    from evidence_recorder.ui import describe, describe_fields

    spec = describe_fields._SPEC_BY_NAME["people"]
    monkeypatch.setitem(describe_fields._SPEC_BY_NAME, "people",
                        dataclasses.replace(spec, max_length=12))
    monkeypatch.setattr(describe, "_SPECS", tuple(
        describe_fields._SPEC_BY_NAME[s.name] for s in describe_fields._SPECS))
    panel = describe.DescribePanel()
    qtbot.addWidget(panel)
    assert panel.inputs["people"].maxLength() == 12  # type: ignore[attr-defined]
    assert panel.inputs["police_ref"].maxLength() == fields.POLICE_REF.max_length  # type: ignore[attr-defined]
    declared = tuple(
        describe_fields._Spec(f.name, f.label, describe_fields._KINDS.get(f.value, "line"),
                              f.hint, short=f.short, lines=f.lines,
                              example=f.hint_is_example, max_length=f.max_length)
        for f in fields.FIELDS)
    assert declared == describe_fields._SPECS


# ---------------------------------------------------------------------- the tables


def test_table_columns_are_headed_with_the_fields_titles(qtbot) -> None:  # type: ignore[no-untyped-def]
    from evidence_recorder.ui.bundle_details import TIMELINE_FIELDS, TimelineModel
    from evidence_recorder.ui.models import COLUMN_FIELDS, CaptureTableModel

    horizontal = Qt.Orientation.Horizontal
    table = CaptureTableModel()
    assert COLUMN_FIELDS
    for column, f in COLUMN_FIELDS.items():
        assert table.headerData(column, horizontal) == f.title
    timeline = TimelineModel()
    assert TIMELINE_FIELDS
    for column, f in TIMELINE_FIELDS.items():
        assert timeline.headerData(column, horizontal) == f.title


def test_the_table_filter_searches_every_field(qtbot) -> None:  # type: ignore[no-untyped-def]
    from evidence_recorder.ui.wording import _row_for

    row = _row_for(_capture(), "2026-11-25T14:02:31.000Z", datetime(2026, 11, 25).date())
    for f in fields.FIELDS:
        if f.value is not fields.Value.CATEGORY:
            assert f"value-of-{f.name}".casefold() in row.haystack, f.name
    assert "harassment or bullying" in row.haystack  # the category as it is shown


# ---------------------------------------------------------------------- the viewer


_FILES = {"original": "data/captures/7/original.png", "redacted": None,
          "metadata": "data/captures/7/metadata.json"}


def _schema_1(capture: dict[str, object]) -> BundleEvidence:
    """A schema-1 evidence list holding one capture, read as the viewer reads it."""
    return read_evidence(json.dumps({
        "schema_version": 1, "exported_at": "2026-11-25T12:00:00.000Z",
        "exported_by": "A. Teacher", "role": "", "audience": "headteacher",
        "incidents": [{"id": 1, "title": "Bus stop", "description": "", "started_at": ""}],
        "captures": [capture]}))


def test_the_viewer_details_show_each_field_in_its_group() -> None:
    from evidence_recorder.ui.bundle_details import captures_of, details_html

    (entry,) = captures_of(_schema_1({**_capture().full(), "files": _FILES}))
    assert entry.capture.details == FILLED
    text = details_html(entry)
    last = -1
    for group in fields.READING_ORDER:
        heading = text.index(f">{fields.GROUP_HEADINGS[group]}<")
        assert heading > last, group
        last = heading
        for f in fields.in_group(group):
            position = text.index(f">{f.title}<", last)
            last = position
            assert (f"value-of-{f.name}" in text or f.value is fields.Value.CATEGORY), f.name


def test_a_bundle_without_details_reads_the_declared_summary_keys() -> None:
    from evidence_recorder.ui.bundle_details import captures_of

    raw = {**_capture().summary(), "files": _FILES}
    (entry,) = captures_of(_schema_1(raw))
    for f in fields.FIELDS:
        expected = getattr(FILLED, f.name) if f.summary_key else ""
        assert getattr(entry.capture.details, f.name) == expected, f.name


# ---------------------------------------------------------------------- the audit log


def test_audit_sentences_name_fields_as_declared() -> None:
    from evidence_recorder.core.model import AuditEntry
    from evidence_recorder.ui.audit_view import entry_sentence

    for f in fields.FIELDS:
        change = {f.name: {"old": "", "new": getattr(FILLED, f.name)}}
        entry = AuditEntry(1, "2026-12-07T16:04:05.123Z", "capture.edited", "capture:3",
                           {"capture": 3, "changes": change}, "0" * 64, "f" * 64)
        sentence = entry_sentence(entry)
        assert f.short in sentence, (f.name, sentence)
        quoted = f"value-of-{f.name}" in sentence
        assert quoted == (f.quoted_in_log and f.value is not fields.Value.CATEGORY), sentence


# ---------------------------------------------------------------------- the report


def _report_data(details: CaptureDetails) -> ReportData:
    capture = _capture(details)
    return ReportData(
        exported_at=datetime(2026, 11, 25, 12, 0, tzinfo=UTC), exported_by="", role="",
        audience="police", incidents=[Incident(1, "Bus stop", "", "", capture.captured_at)],
        captures=[ReportCapture(capture, "Bus stop", b"", False,
                                "data/captures/7/original.png", None)],
        fingerprint="SHA256:x", app_version="0", bundle_name="b", timestamped=False,
    )


def test_the_report_shows_each_field_under_its_title_in_reading_order() -> None:
    rows = report_words._fields(_report_data(FILLED).captures[0])
    titles = [label for label, _value, _style in rows]
    shown = [titles.index(f.title) for f in fields.in_reading_order()]
    assert shown == sorted(shown)
    html = report.write_html(_report_data(FILLED)).decode()
    for f in fields.FIELDS:
        assert f">{f.title}<" in html, f.name


def test_the_report_keeps_only_the_declared_fields_when_empty() -> None:
    rows = report_words._fields(_report_data(CaptureDetails()).captures[0])
    titles = {label for label, _value, _style in rows}
    for f in fields.FIELDS:
        assert (f.title in titles) == f.reported_when_empty, f.name


def test_field_words_are_translated_under_one_context(qtbot) -> None:  # type: ignore[no-untyped-def]
    from evidence_recorder.core.i18n import FIELD_CONTEXT
    from evidence_recorder.ui.i18n import field_text

    assert field_text("") == ""
    assert field_text(fields.SITE.title) == QCoreApplication.translate(FIELD_CONTEXT, "Site")
    source = DECLARATION.read_text(encoding="utf-8")
    marked = [node for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Call)
              and getattr(node.func, "id", "") == "QT_TRANSLATE_NOOP"]
    assert marked
    assert {node.args[0].value for node in marked  # type: ignore[attr-defined]
            } == {FIELD_CONTEXT}
