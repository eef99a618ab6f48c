"""The bundle viewer: verdict, summary, timeline, one capture veiled, closing, errors.

The core opener is written elsewhere, so these tests drive the window with a fake
that honours the same protocol (``report``, ``bundle_name``, ``contents`` and
``contents_problem`` from the real typed reader, ``read``, ``close``) and real PNGs made
with Pillow.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from conftest import BUNDLE_PASSPHRASE
from PIL import Image, ImageDraw
from PySide6.QtCore import QUrl
from PySide6.QtWidgets import QAbstractButton, QApplication, QLabel, QWidget
from pytestqt.qtbot import QtBot

from evidence_recorder.core.bundle.evidence import BundleEvidence, EvidenceDamaged, read_evidence
from evidence_recorder.core.errors import EvidenceError, RefusedInput, WrongSecret
from evidence_recorder.ui import bundle_details, bundle_viewer, messages
from evidence_recorder.ui.bundle_details import TimelineModel, captures_of
from evidence_recorder.ui.bundle_viewer import BundleViewer, open_bundle_window
from evidence_recorder.ui.bundle_wording import (
    _GREEN,
    _NEUTRAL,
    ALTERED_HEADLINE,
    INTACT_HEADLINE,
    NO_ORIGINAL_NOTE,
    NO_PICTURE_NOTE,
    NO_REDACTED_NOTE,
    UNREADABLE_HEADLINE,
)
from evidence_recorder.ui.tasks import wait_for_tasks

FINGERPRINT = "SHA256:3q2+7wAAAAC0ZmFrZWZpbmdlcnByaW50Zm9ydGVzdHM"
SEAL_NUMBER = "01234 56789 00042 99999 12345 67890 11111 22222 33333 44444 55555 66666"
Button = messages.Button


# ---------------------------------------------------------------------- fakes


def screenshot_png(accent: tuple[int, int, int], *, redacted: bool = False,
                   size: tuple[int, int] = (900, 560)) -> bytes:
    """A picture that looks a little like a post: a header, a face, lines of text."""
    image = Image.new("RGB", size, (246, 247, 249))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, size[0], 56), fill=accent)
    draw.ellipse((30, 86, 110, 166), fill=(150, 160, 175))
    draw.rectangle((130, 100, 420, 118), fill=(40, 40, 40))
    draw.rectangle((130, 130, 300, 144), fill=(140, 140, 140))
    for row in range(6):
        draw.rectangle((30, 200 + row * 36, size[0] - 60 - (row % 3) * 90, 216 + row * 36),
                       fill=(70, 70, 70))
    if redacted:
        draw.rectangle((20, 76, 440, 176), fill=(0, 0, 0))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


@dataclass
class FakeReport:
    ok: bool = True
    problems: list[str] = field(default_factory=list)
    fingerprint: str | None = FINGERPRINT
    seal_number: str | None = SEAL_NUMBER
    timestamp: str | None = "2026-11-25T12:00:03Z (Example TSA)"
    timestamp_state: str | None = "trusted"
    timestamp_reason: str = ""


@dataclass
class FakeBundle:
    """``evidence`` is the bundle's evidence.json, which a test may change before the
    bundle is opened; the viewer gets it as the real opener gives it, through the typed
    reader (``contents``, or ``contents_problem`` saying why not)."""

    report: FakeReport
    evidence: dict[str, Any]
    files: dict[str, bytes]
    bundle_name: str = "evidence-bundle-20261125-120000"
    closed: bool = False
    reads: list[str] = field(default_factory=list)

    @property
    def contents(self) -> BundleEvidence | None:
        try:
            return read_evidence(json.dumps(self.evidence))
        except EvidenceDamaged:
            return None

    @property
    def contents_problem(self) -> str | None:
        try:
            read_evidence(json.dumps(self.evidence))
        except EvidenceDamaged as exc:
            return str(exc)
        return None

    def read(self, path: str) -> bytes:
        self.reads.append(path)
        if self.closed:
            raise EvidenceError("The bundle is closed.")
        if path not in self.files:
            raise EvidenceError(f"{path} is not in the bundle.")
        return self.files[path]

    def close(self) -> None:
        self.closed = True


def capture_dict(number: int, captured_at: str, *, site: str, author: str, handle: str,
                 description: str, kind: str = "region", redacted: bool = True,
                 source: dict[str, Any] | None = None, posted_at: str = "2h",
                 category: str = "harassment") -> dict[str, Any]:
    base = f"data/captures/{number}"
    details = {
        "site": site, "url": f"https://www.example.com/posts/{number}", "author": author,
        "handle": handle,
        "profile_url": f"https://www.example.com/{handle.lstrip('@')}" if handle else "",
        "author_id": "", "posted_at": posted_at, "category": category,
        "description": description, "context": "Posted under the school's notice.",
        "people": "", "platform_ref": "", "police_ref": "",
    }
    return {
        "id": number, "incident": 1, "kind": kind, "captured_at": captured_at,
        "tz_name": "Europe/London", "utc_offset": "+00:00", "sha256": "", "width": 900,
        "height": 560, "site": site, "url": details["url"], "author": author,
        "category": category, "note": description, "media_type": "image/png",
        "byte_size": 0, "environment": {"os_user": "teacher", "host": "laptop", "os": "Linux"},
        "source": source, "details": details, "has_annotations": redacted,
        "files": {"original": f"{base}/original.png",
                  "redacted": f"{base}/redacted.png" if redacted else None,
                  "metadata": f"{base}/metadata.json"},
    }


def make_bundle(report: FakeReport | None = None) -> FakeBundle:
    """Three captures, listed out of time order; the import has no redacted copy."""
    import hashlib

    captures = [
        capture_dict(2, "2026-11-24T19:05:10.000Z", site="Instagram", author="Sam Jones",
                     handle="sam_j", description="Comment calling the teacher a liar."),
        capture_dict(1, "2026-11-23T08:15:00.000Z", site="Facebook", author="Parent Group",
                     handle="@parents_of_5b", description="Post with the teacher's photo "
                     "and a made-up claim about her class."),
        capture_dict(3, "2026-11-25T07:45:30.500Z", site="WhatsApp", author="Unknown number",
                     handle="", kind="import", redacted=False, posted_at="Yesterday at 21:04",
                     description="Forwarded message threatening to 'wait outside'.",
                     category="threat",
                     source={"file_name": "IMG_2041.PNG", "file_size": 182_304,
                             "file_mtime": "2026-11-24T21:06:00.000Z",
                             "claimed_time": "2026:11:24 21:05:12"}),
    ]
    files: dict[str, bytes] = {}
    accents = {1: (59, 89, 152), 2: (193, 53, 132), 3: (37, 211, 102)}
    for item in captures:
        paths = item["files"]
        original = screenshot_png(accents[item["id"]])
        files[paths["original"]] = original
        item["sha256"] = hashlib.sha256(original).hexdigest()
        item["byte_size"] = len(original)
        if paths["redacted"]:
            files[paths["redacted"]] = screenshot_png(accents[item["id"]], redacted=True)
    evidence = {
        "schema_version": 1, "exported_at": "2026-11-25T12:00:00.000Z",
        "exported_by": "A. Teacher", "role": "Class teacher", "audience": "headteacher",
        "incidents": [{"id": 1, "title": "Posts about Ms Teacher, Year 5",
                       "description": "", "started_at": "2026-11-23"}],
        "captures": captures,
    }
    return FakeBundle(report or FakeReport(), evidence, files)


class FakeOpener:
    """Opens ``bundle``; if ``passphrase`` is set, only with it (WrongSecret otherwise)."""

    def __init__(self, bundle: FakeBundle | None = None, *, passphrase: str | None = None,
                 error: EvidenceError | None = None) -> None:
        self.bundle = bundle or make_bundle()
        self.passphrase = passphrase
        self.error = error
        self.attempts: list[tuple[Path, str | None]] = []

    def __call__(self, path: Path, passphrase: str | None = None) -> FakeBundle:
        self.attempts.append((path, passphrase))
        if self.error is not None:
            raise self.error
        if self.passphrase is not None and passphrase != self.passphrase:
            raise WrongSecret("That passphrase does not open this bundle.")
        return self.bundle


@pytest.fixture
def bundle_file(tmp_path: Path) -> Path:
    path = tmp_path / "evidence-bundle-20261125-120000.zip"
    path.write_bytes(b"PK\x05\x06" + bytes(18))  # the fake opener never reads it
    return path


@pytest.fixture
def open_viewer(qtbot: QtBot, bundle_file: Path, windows: list[BundleViewer]
                ) -> Callable[..., BundleViewer]:
    def _open(opener: FakeOpener) -> BundleViewer:
        viewer = open_bundle_window(bundle_file, opener=opener)
        assert viewer is not None
        windows.append(viewer)
        qtbot.waitUntil(viewer.is_loaded, timeout=5000)
        return viewer

    return _open


@pytest.fixture(autouse=True)
def _no_leftover_answers() -> Iterator[None]:
    messages.shown.clear()
    yield
    leftover = list(messages._next_answers)
    messages._next_answers.clear()
    assert not leftover, f"message boxes were expected but not shown: {leftover}"


def shots_dir(tmp_path: Path) -> Path:
    """Where screenshots go: $EVIDENCE_RECORDER_SHOTS to look at them, else the test's tmp."""
    chosen = os.environ.get("EVIDENCE_RECORDER_SHOTS")
    folder = Path(chosen) if chosen else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    return folder


# ---------------------------------------------------------------------- the verdict


def test_intact_bundle_says_so_and_shows_the_fingerprint(
        qtbot: QtBot, open_viewer: Callable[..., BundleViewer], bundle_file: Path) -> None:
    viewer = open_viewer(FakeOpener())
    banner = viewer.banner
    assert viewer.verdict() == "intact"
    assert banner.headline.text() == INTACT_HEADLINE
    assert FINGERPRINT in banner.fingerprint_label.text()
    assert "confirm this fingerprint with the person who sent it, by phone" \
        in banner.fingerprint_label.text()
    assert banner.fingerprint_label.isVisibleTo(viewer)
    assert "Example TSA" in banner.timestamp_label.text()
    assert not banner.problems.isVisibleTo(viewer)
    assert banner.icon.accessibleName() == "Intact"  # not colour alone
    assert not viewer.is_busy() and not viewer.busy_bar.isVisibleTo(viewer)

    summary = viewer.summary.text()
    for part in ("A. Teacher", "Class teacher", "for the headteacher", "3 captures",
                 "1 incident", "12:00 UTC", "Posts about Ms Teacher"):
        assert part in summary

    # The seal number, grouped three rows of four, and Copy takes both forms.
    assert "01234 56789 00042 99999<br>12345 67890 11111 22222<br>33333 44444 55555 66666" \
        in banner.fingerprint_label.text()
    viewer.copy_fingerprint()
    assert QApplication.clipboard().text() == (f"Fingerprint: {FINGERPRINT}\n"
                                               f"Seal number: {SEAL_NUMBER}")

    assert viewer.act_save.isEnabled()
    with qtbot.waitSignal(viewer.save_requested, timeout=1000) as saved:
        viewer.act_save.trigger()
    assert saved.args == [bundle_file]


def test_altered_bundle_lists_problems_and_cannot_be_saved(
        qtbot: QtBot, open_viewer: Callable[..., BundleViewer]) -> None:
    problems = ["data/captures/3/original.png was changed after the bundle was sealed.",
                "The signature does not match the bundle's contents."]
    viewer = open_viewer(FakeOpener(make_bundle(FakeReport(
        ok=False, problems=problems, fingerprint=None, timestamp=None))))
    banner = viewer.banner
    assert viewer.verdict() == "altered"
    assert banner.headline.text() == ALTERED_HEADLINE
    listed = banner.problems.toPlainText()
    assert all(problem in listed for problem in problems)
    assert banner.problems.isVisibleTo(viewer)
    assert not banner.fingerprint_label.isVisibleTo(viewer)
    assert banner.icon.accessibleName() == "Warning"
    assert not viewer.act_save.isEnabled()
    fired: list[object] = []
    viewer.save_requested.connect(fired.append)
    viewer.act_save.trigger()
    viewer.request_save()
    assert fired == []
    # The captures are still there to read, for whoever must judge the damage.
    assert viewer.model.rowCount() == 3


def test_a_report_that_is_ok_but_lists_problems_is_not_called_intact(
        open_viewer: Callable[..., BundleViewer]) -> None:
    viewer = open_viewer(FakeOpener(make_bundle(FakeReport(ok=True, problems=["odd"]))))
    assert viewer.verdict() == "altered"
    assert not viewer.act_save.isEnabled()


def test_a_sound_seal_over_a_list_that_cannot_be_read_is_not_called_intact(
        open_viewer: Callable[..., BundleViewer]) -> None:
    """The seal's verdict, no stronger, and in the same banner, in its neutral style, a
    plain sentence that the list of evidence inside could not be read."""
    bundle = make_bundle()
    bundle.evidence["captures"][1]["id"] = "two"
    viewer = open_viewer(FakeOpener(bundle))
    banner = viewer.banner
    assert viewer.verdict() == "unreadable"
    assert banner.headline.text() == UNREADABLE_HEADLINE != INTACT_HEADLINE
    assert banner.headline.text().startswith("The seal is intact, but the list of the "
                                             "evidence inside this bundle could not be read")
    listed = banner.problems.toPlainText()
    assert listed == ("• The list of the evidence inside this bundle could not be read: "
                      "data/evidence.json is damaged: its field captures[1].id should be a "
                      "whole number of at least 0.")
    assert banner.problems.isVisibleTo(viewer) and banner.advice.isVisibleTo(viewer)
    assert "send the bundle again" in banner.advice.text()
    assert banner.icon.accessibleName() == "Warning"  # not colour alone
    assert _NEUTRAL[1] in banner.styleSheet() and _GREEN[1] not in banner.styleSheet()
    # The seal itself was checked: whose key it is, as strong as for an intact bundle.
    assert FINGERPRINT in banner.fingerprint_label.text()
    assert banner.fingerprint == FINGERPRINT
    assert viewer.model.rowCount() == 0
    assert "could not be read" in viewer.summary.text()
    for action in (viewer.act_save, viewer.act_report, viewer.act_print):
        assert not action.isEnabled()


def test_an_altered_bundle_whose_list_cannot_be_read_says_both(
        open_viewer: Callable[..., BundleViewer]) -> None:
    bundle = make_bundle(FakeReport(ok=False, problems=["The signature does not match."],
                                    fingerprint=None, timestamp=None))
    bundle.evidence["incidents"] = "none"
    viewer = open_viewer(FakeOpener(bundle))
    assert viewer.verdict() == "altered"
    assert viewer.banner.headline.text() == ALTERED_HEADLINE
    assert viewer.banner.problems.toPlainText().splitlines() == [
        "• The signature does not match.",
        "• The list of the evidence inside this bundle could not be read: data/evidence.json "
        "is damaged: its field incidents should be a list."]
    assert viewer.model.rowCount() == 0


# ---------------------------------------------------------------------- the timeline


def test_timeline_lists_captures_oldest_first(open_viewer: Callable[..., BundleViewer]) -> None:
    viewer = open_viewer(FakeOpener())
    model = viewer.model
    assert [model.entry_at(r).capture.id for r in range(model.rowCount())] == [1, 2, 3]
    assert model.data(model.index(0, 0)) == "23 Nov 2026 08:15"
    assert model.data(model.index(0, 1)) == "Facebook"
    assert model.data(model.index(1, 2)) == "Sam Jones (@sam_j)"
    assert model.data(model.index(2, 3)) == "Yesterday at 21:04"
    assert model.data(model.index(2, 4)) == "Threat"
    assert "UTC" in model.data(model.index(0, 0), bundle_details._TOOLTIP)
    assert model.headerData(0, bundle_viewer.Qt.Orientation.Horizontal) == "Captured"
    # The first capture is selected, so the reader sees something straight away.
    assert viewer.timeline.currentIndex().row() == 0


def test_the_timeline_is_made_from_the_typed_reader_and_never_from_odd_fields() -> None:
    """A later version's kind is shown as the bundle names it; a field of the wrong type
    is refused by the reader (in a sentence), so the viewer never shows half a list."""
    bundle = make_bundle()
    bundle.evidence["captures"][0]["kind"] = "teleport"
    entries = captures_of(bundle.contents)
    assert [e.capture.id for e in entries] == [1, 2, 3]  # oldest first
    assert entries[1].kind_text == "teleport"
    assert entries[0].incident_title == "Posts about Ms Teacher, Year 5"
    assert captures_of(None) == []
    bundle.evidence["captures"][0]["details"]["site"] = ["not", "text"]
    assert bundle.contents is None
    assert bundle.contents_problem == ("data/evidence.json is damaged: its field "
                                       "captures[0].details.site should be text.")


def test_timeline_model_passes_the_model_tester(qtmodeltester) -> None:  # type: ignore[no-untyped-def]
    model = TimelineModel()
    model.set_entries(captures_of(make_bundle().contents))
    qtmodeltester.check(model, force_py=True)
    model.clear()
    qtmodeltester.check(model, force_py=True)


# ---------------------------------------------------------------------- one capture


def test_selected_capture_shows_details_and_the_covered_copy_alone_veiled(
        qtbot: QtBot, open_viewer: Callable[..., BundleViewer]) -> None:
    bundle = make_bundle()
    viewer = open_viewer(FakeOpener(bundle))
    viewer.timeline.setCurrentIndex(viewer.model.index(1, 0))  # Instagram, redacted
    entry = viewer.model.entry_at(1)
    text = viewer.details.toPlainText()
    for part in ("Instagram", "Sam Jones", "@sam_j", "https://www.example.com/posts/2",
                 "Comment calling the teacher a liar.", entry.capture.sha256,
                 "matches the original in this bundle", "Europe/London", "19:05:10",
                 "Posted under the school's notice.", "Harassment or bullying"):
        assert part in text, part
    assert 'href="https://www.example.com/posts/2"' in viewer.details.toHtml()

    # The covered copy alone, veiled; the original is not even decoded.
    original, redacted = viewer.original_view, viewer.redacted_view
    assert redacted.has_image() and redacted.is_veiled()
    assert not original.has_image()
    assert viewer.picture_stack.currentWidget() is redacted and not viewer.showing_original()
    assert "Covered copy" in viewer.picture_caption.text()
    assert viewer.show_original_button.isVisibleTo(viewer)
    assert viewer.show_original_button.text().replace("&", "") == "Show what the sender covered"
    with qtbot.waitSignal(redacted.revealed, timeout=1000):
        qtbot.mouseClick(redacted.viewport(), bundle_viewer.Qt.MouseButton.LeftButton)
    assert not redacted.is_veiled()

    # Only a deliberate click shows the original, and it arrives veiled.
    qtbot.mouseClick(viewer.show_original_button, bundle_viewer.Qt.MouseButton.LeftButton)
    assert viewer.showing_original() and viewer.picture_stack.currentWidget() is original
    assert original.has_image() and original.is_veiled()
    assert "Original" in viewer.picture_caption.text()
    with qtbot.waitSignal(original.revealed, timeout=1000):
        qtbot.mouseClick(original.viewport(), bundle_viewer.Qt.MouseButton.LeftButton)
    assert not original.is_veiled()
    # And back: the original's pixels are dropped as soon as it is hidden.
    qtbot.mouseClick(viewer.show_original_button, bundle_viewer.Qt.MouseButton.LeftButton)
    assert not viewer.showing_original() and not original.has_image()

    # The next capture arrives covered and veiled again, whatever was revealed before.
    qtbot.mouseClick(viewer.show_original_button, bundle_viewer.Qt.MouseButton.LeftButton)
    viewer.timeline.setCurrentIndex(viewer.model.index(0, 0))
    assert not viewer.showing_original() and not viewer.show_original_button.isChecked()
    assert redacted.has_image() and redacted.is_veiled() and not original.has_image()


def test_imported_capture_without_redaction_shows_the_original_alone(
        open_viewer: Callable[..., BundleViewer]) -> None:
    viewer = open_viewer(FakeOpener())
    viewer.timeline.setCurrentIndex(viewer.model.index(2, 0))  # the WhatsApp import
    text = viewer.details.toPlainText()
    assert "Imported from a file" in text
    assert "Imported\n25 Nov 2026 at 07:45:30" in text
    assert "IMG_2041.PNG" in text
    assert "Date written in the file (not verified)" in text
    assert "24 Nov 2026 at 21:05:12" in text  # the date written in the file, in words
    assert viewer.original_view.has_image() and viewer.original_view.is_veiled()
    assert viewer.showing_original()
    assert not viewer.show_original_button.isVisibleTo(viewer)  # nothing was covered
    assert not viewer.redacted_view.has_image()
    assert NO_REDACTED_NOTE in viewer.picture_note.text()
    assert viewer.picture_note.isVisibleTo(viewer)


def test_a_bundle_without_originals_shows_the_redacted_copy_alone(
        open_viewer: Callable[..., BundleViewer]) -> None:
    bundle = make_bundle()
    for item in bundle.evidence["captures"]:
        del bundle.files[item["files"]["original"]]
        item["files"]["original"] = None
    viewer = open_viewer(FakeOpener(bundle))
    viewer.timeline.setCurrentIndex(viewer.model.index(1, 0))  # has a redacted copy
    assert not viewer.showing_original()
    assert not viewer.show_original_button.isVisibleTo(viewer)  # there is nothing to show
    assert viewer.redacted_view.has_image() and viewer.redacted_view.is_veiled()
    assert viewer.picture_note.text() == NO_ORIGINAL_NOTE
    assert NO_ORIGINAL_NOTE == "The sender did not include the uncovered original."
    assert "The original itself is not in this bundle." in viewer.details.toPlainText()
    viewer.show_original_button.setChecked(True)  # even if it were forced: nothing to read
    assert not viewer.showing_original() and not viewer.original_view.has_image()
    viewer.timeline.setCurrentIndex(viewer.model.index(2, 0))  # neither
    assert not viewer.redacted_view.has_image()
    assert not viewer.original_view.has_image()
    assert viewer.picture_note.text() == NO_PICTURE_NOTE


def test_a_picture_that_does_not_match_its_hash_is_pointed_out(
        open_viewer: Callable[..., BundleViewer]) -> None:
    bundle = make_bundle()
    bundle.files["data/captures/1/original.png"] = screenshot_png((0, 0, 0))
    viewer = open_viewer(FakeOpener(bundle))
    assert "does not match the original in this bundle" in viewer.details.toPlainText()


def test_a_missing_picture_is_explained_not_fatal(
        open_viewer: Callable[..., BundleViewer]) -> None:
    bundle = make_bundle()
    del bundle.files["data/captures/1/original.png"]
    viewer = open_viewer(FakeOpener(bundle))
    assert not viewer.original_view.has_image()
    assert "could not be read from the bundle" in viewer.picture_note.text()
    assert "Facebook" in viewer.details.toPlainText()


def test_evidence_text_is_shown_as_text_never_as_markup(
        open_viewer: Callable[..., BundleViewer]) -> None:
    bundle = make_bundle()
    hostile = bundle.evidence["captures"][1]["details"]
    hostile["description"] = '<img src="file:///etc/passwd"><a href="https://evil">x</a>'
    hostile["url"] = "javascript:alert(1)"
    viewer = open_viewer(FakeOpener(bundle))
    markup = viewer.details.toHtml()
    assert "<img" not in markup and 'href="https://evil"' not in markup
    assert 'href="javascript' not in markup  # only web addresses become links
    assert "javascript:alert(1)" in viewer.details.toPlainText()
    assert '<img src="file:///etc/passwd">' in viewer.details.toPlainText()


def test_links_open_only_after_asking(
        monkeypatch: pytest.MonkeyPatch, open_viewer: Callable[..., BundleViewer]) -> None:
    opened: list[QUrl] = []
    monkeypatch.setattr(bundle_viewer.QDesktopServices, "openUrl",
                        lambda url: opened.append(url) or True)
    viewer = open_viewer(FakeOpener())
    link = QUrl("https://www.example.com/posts/1")
    messages.set_next_answer(Button.Cancel)
    viewer.details.anchorClicked.emit(link)
    assert opened == []
    assert messages.shown[-1][0] == "Open this link?"
    messages.set_next_answer(Button.Open)
    viewer.details.anchorClicked.emit(link)
    assert opened == [link]
    viewer.details.anchorClicked.emit(QUrl("file:///etc/passwd"))  # never, not even asked
    assert opened == [link]


# ---------------------------------------------------------------------- closing


def test_closing_drops_pictures_and_text_and_closes_the_bundle(
        open_viewer: Callable[..., BundleViewer]) -> None:
    bundle = make_bundle()
    viewer = open_viewer(FakeOpener(bundle))
    viewer.timeline.setCurrentIndex(viewer.model.index(1, 0))
    viewer.show_original_button.setChecked(True)
    viewer.show_original_button.setChecked(False)
    viewer.show_original_button.setChecked(True)
    assert viewer.original_view.has_image()
    viewer.close()
    assert bundle.closed
    assert not viewer.original_view.has_image() and not viewer.redacted_view.has_image()
    assert viewer.model.rowCount() == 0
    assert viewer.details.toPlainText() == ""
    assert viewer.summary.text() == ""
    assert FINGERPRINT not in viewer.banner.fingerprint_label.text()
    assert not viewer.is_loaded()
    assert viewer not in bundle_viewer._open_viewers


def test_a_bundle_that_finishes_opening_after_the_window_closed_is_closed(
        qtbot: QtBot, bundle_file: Path, windows: list[BundleViewer]) -> None:
    release = threading.Event()
    bundle = make_bundle()

    def slow(path: Path, passphrase: str | None = None) -> FakeBundle:
        release.wait(5)
        return bundle

    viewer = open_bundle_window(bundle_file, opener=slow)
    assert viewer is not None
    windows.append(viewer)
    assert viewer.is_busy() and viewer.verdict() == "checking"
    assert not viewer.act_save.isEnabled()
    viewer.close()
    release.set()
    wait_for_tasks()
    qtbot.waitUntil(lambda: bundle.closed, timeout=5000)
    assert not viewer.is_loaded()


def test_opening_another_bundle_closes_the_first(
        qtbot: QtBot, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
        open_viewer: Callable[..., BundleViewer]) -> None:
    first, second = make_bundle(), make_bundle(FakeReport(ok=False, problems=["Broken."]))
    second.bundle_name = "second-bundle"
    bundles = iter([first, second])
    viewer = open_viewer(lambda path, passphrase=None: next(bundles))
    other = tmp_path / "second.zip"
    monkeypatch.setattr(bundle_viewer.filedialogs, "open_files", lambda *a: [other])
    viewer.act_open.trigger()
    qtbot.waitUntil(lambda: first.closed, timeout=5000)
    assert viewer.verdict() == "altered" and "second-bundle" in viewer.windowTitle()
    assert viewer.bundle_path() == other


# ---------------------------------------------------------------------- errors


def test_a_file_that_is_not_a_bundle_gets_a_plain_message(
        qtbot: QtBot, bundle_file: Path, windows: list[BundleViewer]) -> None:
    plain = "This file is not an evidence bundle from Evidence Recorder."
    messages.set_next_answer(Button.Ok)
    viewer = open_bundle_window(bundle_file, opener=FakeOpener(error=RefusedInput(plain)))
    assert viewer is not None
    windows.append(viewer)
    qtbot.waitUntil(lambda: not viewer.isVisible(), timeout=5000)
    assert messages.shown == [("Bundle not opened", plain)]
    assert not viewer.is_loaded()


def test_the_real_opener_refuses_a_file_that_is_not_a_bundle(
        qtbot: QtBot, tmp_path: Path, windows: list[BundleViewer]) -> None:
    """Through ``core.bundle.opened.open_bundle``: a plain message, no traceback."""
    junk = tmp_path / "holiday-photos.zip"
    junk.write_bytes(b"this is not a zip file at all")
    with pytest.raises(EvidenceError):
        bundle_viewer.default_opener(junk)
    messages.set_next_answer(Button.Ok)
    viewer = open_bundle_window(junk)
    assert viewer is not None
    windows.append(viewer)
    qtbot.waitUntil(lambda: not viewer.isVisible(), timeout=10_000)
    assert messages.shown and messages.shown[0][0] == "Bundle not opened"
    assert "Traceback" not in messages.shown[0][1]


def test_a_missing_file_is_reported_without_a_window(tmp_path: Path, qtbot: QtBot) -> None:
    messages.set_next_answer(Button.Ok)
    opener = FakeOpener()
    assert open_bundle_window(tmp_path / "gone.zip", opener=opener) is None
    assert messages.shown[0][0] == "Bundle not opened" and "gone.zip" in messages.shown[0][1]
    assert opener.attempts == []


def test_wrong_passphrase_asks_again_until_right(
        qtbot: QtBot, monkeypatch: pytest.MonkeyPatch, bundle_file: Path,
        windows: list[BundleViewer]) -> None:
    prompts: list[str] = []
    answers = iter([("plum", True), ("plum orchard", True)])

    def get_text(parent: QWidget, title: str, label: str, echo: Any) -> tuple[str, bool]:
        assert echo == bundle_viewer.QLineEdit.EchoMode.Password
        prompts.append(label)
        return next(answers)

    monkeypatch.setattr(messages, "get_text", get_text)
    opener = FakeOpener(passphrase="plum orchard")
    viewer = open_bundle_window(bundle_file, opener=opener)
    assert viewer is not None
    windows.append(viewer)
    qtbot.waitUntil(viewer.is_loaded, timeout=5000)
    assert [p for _path, p in opener.attempts] == [None, "plum", "plum orchard"]
    assert "locked with a passphrase" in prompts[0]
    assert "does not open this bundle" in prompts[1]
    assert viewer.verdict() == "intact"
    assert messages.shown == []  # no error box on the way


def test_giving_up_on_the_passphrase_closes_the_window(
        qtbot: QtBot, monkeypatch: pytest.MonkeyPatch, bundle_file: Path,
        windows: list[BundleViewer]) -> None:
    monkeypatch.setattr(messages, "get_text", lambda *a: ("", False))
    opener = FakeOpener(passphrase="secret")
    viewer = open_bundle_window(bundle_file, opener=opener)
    assert viewer is not None
    windows.append(viewer)
    qtbot.waitUntil(lambda: not viewer.isVisible(), timeout=5000)
    assert len(opener.attempts) == 1 and not viewer.is_loaded()


# ---------------------------------------------------------------------- accessibility


def _unnamed_controls(root: QWidget) -> list[str]:
    """Focusable controls a screen reader could not name (as in test_app)."""
    buddies = {label.buddy() for label in root.findChildren(QLabel) if label.buddy()}
    missing = []
    for widget in [root, *root.findChildren(QWidget)]:
        if widget.focusPolicy() == bundle_viewer.Qt.FocusPolicy.NoFocus \
                or not widget.isVisibleTo(root):
            continue
        if widget.accessibleName() or widget in buddies:
            continue
        if isinstance(widget, QAbstractButton) and widget.text().strip():
            continue
        if type(widget).__name__ in ("QWidget", "QFrame", "QTabBar"):
            continue
        missing.append(f"{type(widget).__name__} {widget.objectName()}")
    return missing


def test_every_control_has_a_name_and_a_shortcut(
        open_viewer: Callable[..., BundleViewer]) -> None:
    viewer = open_viewer(FakeOpener())
    assert _unnamed_controls(viewer) == []
    for action in (viewer.act_open, viewer.act_save, viewer.act_close):
        assert not action.shortcut().isEmpty(), action.text()
    viewer.timeline.setCurrentIndex(viewer.model.index(2, 0))
    assert _unnamed_controls(viewer) == []


# ---------------------------------------------------------------------- how it looks


@pytest.mark.parametrize("state", ["intact", "altered", "unreadable"])
def test_screenshot_at_1280_by_720(state: str, qtbot: QtBot, tmp_path: Path,
                                   open_viewer: Callable[..., BundleViewer]) -> None:
    report = FakeReport() if state != "altered" else FakeReport(
        ok=False, fingerprint=None, timestamp=None,
        problems=["data/captures/3/original.png was changed after the bundle was sealed.",
                  "data/evidence.json was changed after the bundle was sealed.",
                  "The signature does not match the bundle's contents."])
    bundle = make_bundle(report)
    if state == "unreadable":
        bundle.evidence["captures"][1]["id"] = "two"
    viewer = open_viewer(FakeOpener(bundle))
    assert viewer.verdict() == state
    viewer.resize(1280, 720)
    viewer.timeline.setCurrentIndex(viewer.model.index(1, 0))
    qtbot.waitExposed(viewer)
    QApplication.processEvents()
    picture = viewer.grab()
    assert picture.width() >= 1280 * 0.99
    target = shots_dir(tmp_path) / f"bundle-viewer-{state}.png"
    assert picture.save(str(target))
    assert target.stat().st_size > 10_000


# ---------------------------------------------------------------------- the real thing


def _sealed_bundle(vault: Any, folder: Path, **options: Any) -> Path:
    """A real bundle from a real vault: one redacted capture, one plain."""
    import hashlib

    from evidence_recorder.core.bundle import seal as core_bundle
    from evidence_recorder.core.model import CaptureDetails, CaptureKind, iso_utc, utc_now

    ids = []
    for accent, site in (((59, 89, 152), "Facebook"), ((193, 53, 132), "Instagram")):
        data = screenshot_png(accent, size=(320, 200))
        ids.append(vault.add_capture(
            original=data, sha256=hashlib.sha256(data).hexdigest(), kind=CaptureKind.REGION,
            width=320, height=200, media_type="image/png", captured_at=iso_utc(utc_now()),
            tz_name="Europe/London", utc_offset="+00:00", environment={"os_user": "teacher"},
            thumbnail=b"thumb", details=CaptureDetails(site=site, author="Sam Jones",
                                                       description="A comment about her.")))
    vault.set_annotations(ids[0], {"version": 1,
                                   "items": [{"type": "redact", "rect": [10, 10, 120, 60]}]})
    choice = core_bundle.ExportOptions(exporter="A. Teacher", role="Class teacher",
                                       **options)
    return core_bundle.export_bundle(vault, folder, options=choice)


def test_a_real_bundle_from_a_vault_opens_intact(
        qtbot: QtBot, vault: Any, tmp_path: Path, windows: list[BundleViewer]) -> None:
    from evidence_recorder.core.bundle.seal import signing_fingerprint

    path = _sealed_bundle(vault, tmp_path, include_covered_originals=True)
    viewer = open_bundle_window(path)
    assert viewer is not None
    windows.append(viewer)
    qtbot.waitUntil(viewer.is_loaded, timeout=20_000)
    assert viewer.verdict() == "intact", viewer.banner.problems.toPlainText()
    assert signing_fingerprint(vault) in viewer.banner.fingerprint_label.text()
    from evidence_recorder.core.bundle.seal import signing_seal_number
    from evidence_recorder.core.bundle.sealnumber import seal_number_rows

    assert "<br>".join(seal_number_rows(signing_seal_number(vault))) \
        in viewer.banner.fingerprint_label.text()
    assert "A. Teacher" in viewer.summary.text() and "2 captures" in viewer.summary.text()
    assert viewer.model.rowCount() == 2
    # A bundle made as before (schema 1, originals inside): the covered copy comes first.
    row = next(r for r in range(2) if viewer.model.entry_at(r).redacted)
    viewer.timeline.setCurrentIndex(viewer.model.index(row, 0))
    assert viewer.redacted_view.has_image() and viewer.redacted_view.is_veiled()
    assert not viewer.original_view.has_image() and not viewer.showing_original()
    assert "matches the original in this bundle" in viewer.details.toPlainText()
    viewer.show_original_button.click()
    assert viewer.showing_original()
    assert viewer.original_view.has_image() and viewer.original_view.is_veiled()
    viewer.close()


def test_a_real_bundle_changed_after_sealing_is_shown_red(
        qtbot: QtBot, vault: Any, tmp_path: Path, windows: list[BundleViewer]) -> None:
    import zipfile

    path = _sealed_bundle(vault, tmp_path)
    altered = tmp_path / "altered.zip"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(altered, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename.endswith("data/evidence.json"):
                data = data.replace(b"A. Teacher", b"B. Teacher")
            dst.writestr(info, data)
    viewer = open_bundle_window(altered)
    assert viewer is not None
    windows.append(viewer)
    qtbot.waitUntil(viewer.is_loaded, timeout=20_000)
    assert viewer.verdict() == "altered"
    assert "evidence.json" in viewer.banner.problems.toPlainText()
    assert not viewer.act_save.isEnabled()


@pytest.mark.parametrize("change", ["damaged", "missing"])
def test_a_real_resealed_bundle_whose_list_cannot_be_read_says_so(
        qtbot: QtBot, vault: Any, tmp_path: Path, windows: list[BundleViewer],
        change: str) -> None:
    """Anyone can seal a bundle: one sealed again over an evidence.json the reader
    refuses (or without one) verifies, but the viewer does not call it intact."""
    import hostile_bundles as hb

    from evidence_recorder.core.bundle.check import verify_bundle

    path = _sealed_bundle(vault, tmp_path)

    def spoil(files: dict[str, bytes]) -> None:
        if change == "missing":
            del files["data/evidence.json"]
            return
        raw = json.loads(files["data/evidence.json"])
        raw["items" if "items" in raw else "captures"][0]["kind"] = 5
        files["data/evidence.json"] = json.dumps(raw).encode()

    resealed = tmp_path / "resealed.zip"
    resealed.write_bytes(hb.reseal_bag(path.read_bytes(), spoil))
    report = verify_bundle(resealed)
    assert report.ok and not report.problems  # the seal alone is sound
    viewer = open_bundle_window(resealed)
    assert viewer is not None
    windows.append(viewer)
    qtbot.waitUntil(viewer.is_loaded, timeout=20_000)
    assert viewer.verdict() == "unreadable"
    assert viewer.banner.headline.text() == UNREADABLE_HEADLINE
    listed = viewer.banner.problems.toPlainText()
    assert listed.startswith("• The list of the evidence inside this bundle could not be read: "
                             "data/evidence.json ")
    assert ("is missing from the bundle." if change == "missing"
            else "its field items[0].kind should be text.") in listed
    assert report.fingerprint and report.fingerprint in viewer.banner.fingerprint_label.text()
    assert viewer.model.rowCount() == 0
    assert not viewer.act_save.isEnabled()


def test_a_real_encrypted_bundle_asks_for_its_passphrase(
        qtbot: QtBot, monkeypatch: pytest.MonkeyPatch, vault: Any, tmp_path: Path,
        windows: list[BundleViewer]) -> None:
    path = _sealed_bundle(vault, tmp_path, passphrase=BUNDLE_PASSPHRASE)
    answers = iter([("plum", True), (BUNDLE_PASSPHRASE, True)])
    prompts: list[str] = []

    def get_text(parent: QWidget, title: str, label: str, echo: Any) -> tuple[str, bool]:
        prompts.append(label)
        return next(answers)

    monkeypatch.setattr(messages, "get_text", get_text)
    viewer = open_bundle_window(path)
    assert viewer is not None
    windows.append(viewer)
    qtbot.waitUntil(viewer.is_loaded, timeout=20_000)
    assert len(prompts) == 2 and "does not open" in prompts[1]
    assert viewer.verdict() == "intact", viewer.banner.problems.toPlainText()
    assert viewer.model.rowCount() == 2


# ---------------------------------------------------------------------- issue 10: the reader's path


def test_checking_the_bundle_is_laid_out_across_the_banner(
        qtbot: QtBot, bundle_file: Path, windows: list[BundleViewer]) -> None:
    """While checking, the headline and advice used to sit one word a line in the middle."""
    release = threading.Event()
    inner = FakeOpener()

    def slow(path: Path, passphrase: str | None = None) -> FakeBundle:
        release.wait(10)
        return inner(path, passphrase)

    viewer = open_bundle_window(bundle_file, opener=slow)
    assert viewer is not None
    windows.append(viewer)
    try:
        viewer.resize(1280, 720)
        qtbot.waitExposed(viewer)
        QApplication.processEvents()
        assert viewer.is_busy() and viewer.verdict() == "checking"
        banner = viewer.banner
        for label in (banner.headline, banner.advice):
            assert label.isVisible()
            assert label.width() > banner.width() * 0.6, label.geometry()
            assert label.x() < banner.width() * 0.2, label.geometry()
        line = banner.advice.fontMetrics().lineSpacing()
        assert banner.advice.height() < 3 * line  # one or two lines, not a column of words
    finally:
        release.set()
    qtbot.waitUntil(viewer.is_loaded, timeout=5000)


def test_dates_in_the_details_are_words_never_iso(
        open_viewer: Callable[..., BundleViewer]) -> None:
    viewer = open_viewer(FakeOpener())
    for row in range(viewer.model.rowCount()):
        viewer.timeline.setCurrentIndex(viewer.model.index(row, 0))
        text = viewer.details.toPlainText()
        assert not re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d", text), text
        assert not re.search(r"\d{4}:\d\d:\d\d \d\d:", text), text
    # The imported file's own time (2026-11-24T21:06:00.000Z), in words with UTC beside it.
    assert "24 Nov 2026 21:06:00 UTC" in viewer.details.toPlainText()


def _bundle_with_report(report: FakeReport | None = None) -> FakeBundle:
    bundle = make_bundle(report)
    bundle.files["report.pdf"] = b"%PDF-1.4\n% the sender's sealed report\n%%EOF\n"
    return bundle


def test_open_the_report_writes_a_private_copy_removed_on_close(
        monkeypatch: pytest.MonkeyPatch, open_viewer: Callable[..., BundleViewer]) -> None:
    import stat

    opened: list[QUrl] = []
    monkeypatch.setattr(bundle_viewer.QDesktopServices, "openUrl",
                        lambda url: opened.append(url) or True)
    bundle = _bundle_with_report()
    viewer = open_viewer(FakeOpener(bundle))
    assert viewer.act_report.isEnabled()
    assert viewer.report_copy() is None  # nothing on disk until asked
    viewer.act_report.trigger()
    copy = viewer.report_copy()
    assert copy is not None and opened == [QUrl.fromLocalFile(str(copy))]
    assert copy.read_bytes() == bundle.files["report.pdf"]
    assert stat.S_IMODE(copy.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(copy.stat().st_mode) == 0o600
    assert "removed when you close this window" in viewer.statusBar().currentMessage()
    viewer.close()
    assert not copy.exists() and not copy.parent.exists()


def test_report_and_print_only_for_an_intact_bundle(
        open_viewer: Callable[..., BundleViewer]) -> None:
    viewer = open_viewer(FakeOpener(_bundle_with_report(
        FakeReport(ok=False, problems=["report.pdf was changed after the bundle was sealed."]))))
    assert not viewer.act_report.isEnabled() and not viewer.act_print.isEnabled()
    viewer.open_report()
    assert viewer.report_copy() is None
    assert viewer.print_bundle() is False


def test_print_draws_every_capture_from_its_covered_copy(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
        open_viewer: Callable[..., BundleViewer]) -> None:
    from PySide6.QtPrintSupport import QPrinter

    target = tmp_path / "printed.pdf"

    def to_file(printer: QPrinter) -> bool:  # a fake printer: a PDF file, in the test only
        printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
        printer.setOutputFileName(str(target))
        printer.setResolution(96)
        return True

    bundle = make_bundle()
    viewer = open_viewer(FakeOpener(bundle))
    monkeypatch.setattr(viewer, "_ask_printer", to_file)
    bundle.reads.clear()
    assert viewer.act_print.isEnabled()
    assert viewer.print_bundle() is True
    data = target.read_bytes()
    assert data.startswith(b"%PDF")
    # A summary page, then details and picture for each of the three captures.
    assert len(re.findall(rb"/Type\s*/Page(?!s)", data)) == 7
    # Covered captures print their covered copy; their originals are never read.
    assert "data/captures/1/redacted.png" in bundle.reads
    assert "data/captures/2/redacted.png" in bundle.reads
    assert "data/captures/1/original.png" not in bundle.reads
    assert "data/captures/2/original.png" not in bundle.reads
    assert "data/captures/3/original.png" in bundle.reads  # nothing covered on it


@pytest.mark.skipif(os.name != "posix", reason="the sweep asks POSIX whether a process lives")
def test_report_copies_left_by_a_killed_viewer_are_swept(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from evidence_recorder.ui.bundle_viewer import REPORT_COPY_PREFIX, sweep_report_copies

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    left = tmp_path / f"{REPORT_COPY_PREFIX}{gone.pid}-abc"
    mine = tmp_path / f"{REPORT_COPY_PREFIX}{os.getpid()}-def"
    other = tmp_path / "evidence-report-notapid-x"
    for folder in (left, mine, other):
        folder.mkdir()
        (folder / "report.pdf").write_bytes(b"%PDF-1.4")
    sweep_report_copies()
    assert not left.exists(), "a copy whose viewer was killed stays behind"
    assert mine.exists() and other.exists()


def test_the_viewer_keeps_its_layout_under_the_keys_it_always_used(
        open_viewer: Callable[..., BundleViewer], qtbot: QtBot) -> None:
    """ui/geometry.py saves it now, still as bundleViewer/geometry and bundleViewer/splitter."""
    from PySide6.QtCore import QSettings

    QSettings().remove("bundleViewer")
    viewer = open_viewer(FakeOpener())
    qtbot.waitExposed(viewer)
    viewer.resize(760, 620)  # the offscreen screen is 800 x 800
    viewer.splitter.setSizes([300, 460])
    sizes = viewer.splitter.sizes()
    viewer.close()
    assert QSettings().value("bundleViewer/geometry") == viewer.saveGeometry()
    assert QSettings().value("bundleViewer/splitter") == viewer.splitter.saveState()
    again = open_viewer(FakeOpener())
    qtbot.waitExposed(again)
    assert (again.width(), again.height()) == (760, 620)
    assert again.splitter.sizes() == sizes
    again.close()
    QSettings().remove("bundleViewer")
