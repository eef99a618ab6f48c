"""Received bundles are hostile: their text is shown as text, their JSON cannot crash
the reader, their folder is theirs only as sealed, and what is kept is what was checked.

Real sealed bundles (:func:`hostile_bundles.seal_sample`, and resealed ones a sender
could write with their own key), real vaults, the real viewer and message boxes.
"""

from __future__ import annotations

import hashlib
import io
import json
import stat
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import hostile_bundles as hb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PySide6.QtCore import Qt
from PySide6.QtGui import Qt as QtGuiNamespace
from PySide6.QtGui import QTextDocument
from PySide6.QtWidgets import QLabel, QLineEdit, QMessageBox
from pytestqt.qtbot import QtBot
from test_bundle_viewer import FakeOpener, make_bundle, shots_dir

from evidence_recorder.core.bundle import check as bundle_check
from evidence_recorder.core.bundle.check import keep_received_bundle, verify_bundle
from evidence_recorder.core.bundle.evidence import MAX_JSON_DEPTH, JsonDamaged, load_bundle_json
from evidence_recorder.core.bundle.opened import open_bundle
from evidence_recorder.core.errors import RefusedInput
from evidence_recorder.core.vault.store import Vault
from evidence_recorder.ui import messages
from evidence_recorder.ui.bundle_details import TimelineColumn
from evidence_recorder.ui.bundle_viewer import BundleViewer, open_bundle_window

HOSTILE = '<span style="color:green">✔ fingerprint checked</span>'
PICTURE = '<img src="file:///etc/hostile.png">'
# The same markup as a file name in the bag: the reader refuses "//" in a path.
PICTURE_FILE = '<img src="hostile.png">'
NESTED = "nested too deeply"


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> hb.Sample:
    return hb.seal_sample(tmp_path_factory.mktemp("received-sample"))


def verify(raw: bytes) -> bundle_check.BundleReport:
    return verify_bundle(io.BytesIO(raw))


# ====================================================================== deep JSON


def nest(depth: int) -> str:
    return "[" * depth + "]" * depth


def test_json_nested_up_to_the_limit_is_read_and_deeper_is_damage() -> None:
    assert load_bundle_json(nest(MAX_JSON_DEPTH), "x.json") is not None
    with pytest.raises(JsonDamaged, match=NESTED):
        load_bundle_json(nest(MAX_JSON_DEPTH + 1), "x.json")
    with pytest.raises(JsonDamaged, match=f"^data/evidence.json is damaged .*{NESTED}"):
        load_bundle_json(b"[" * 100_000, "data/evidence.json")  # never closed
    with pytest.raises(JsonDamaged, match=NESTED):
        load_bundle_json('{"a": ' * 70_000 + "1" + "}" * 70_000, "x.json")


def test_brackets_inside_strings_do_not_count_as_nesting() -> None:
    text = '{"note": "' + "[{" * 5_000 + '\\"]", "more": ["]]]"]}'
    assert load_bundle_json(text, "x.json")["more"] == ["]]]"]


def test_broken_json_is_damage_but_not_called_nested() -> None:
    with pytest.raises(JsonDamaged, match="not readable JSON"):
        load_bundle_json('{"captures": [1, 2', "x.json")
    with pytest.raises(JsonDamaged, match="not UTF-8"):
        load_bundle_json(b"\xff\xfe{", "x.json")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet='[]{}"\\:, ab\n'),
    lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(st.text(alphabet='[]{}"\\ab', max_size=4), inner, max_size=3),
    max_leaves=30)


def depth_of(value: Any) -> int:
    if isinstance(value, list):
        return 1 + max((depth_of(v) for v in value), default=0)
    if isinstance(value, dict):
        return 1 + max((depth_of(v) for v in value.values()), default=0)
    return 0


@settings(max_examples=300, deadline=None, database=None)
@given(value=json_values, indent=st.sampled_from([None, 2]))
def test_any_json_within_the_limit_reads_as_json_does(value: Any, indent: int | None) -> None:
    text = json.dumps(value, indent=indent, ensure_ascii=False)
    assert load_bundle_json(text, "x.json") == value


@settings(max_examples=300, deadline=None, database=None)
@given(text=st.text(alphabet='[]{}"\\:,0 ', max_size=200))
def test_any_text_is_json_or_damage_never_a_crash(text: str) -> None:
    try:
        expected = json.loads(text)
    except ValueError:
        expected = ValueError
    try:
        got = load_bundle_json(text, "x.json")
    except JsonDamaged:
        assert expected is ValueError or depth_of(expected) > MAX_JSON_DEPTH
    else:
        assert got == expected


def test_a_resealed_bundle_verifies_so_its_cases_test_one_thing(sample: hb.Sample) -> None:
    report = verify(hb.reseal_bag(sample.sealed, lambda files: None))
    assert report.ok, report.problems
    assert report.fingerprint != sample.fingerprint


@pytest.mark.parametrize(("case", "label"), [
    ("deep_json_in_audit_log_resealed", "data/audit.jsonl line 1"),
    ("deep_json_as_evidence_list_resealed", "data/evidence.json"),
])
def test_deep_json_in_a_well_sealed_bundle_is_reported_as_damage(
        sample: hb.Sample, case: str, label: str) -> None:
    raw = hb.CASES[case](sample).data
    expected = f"{label} is damaged (its contents are nested too deeply to read)."
    report = verify(raw)
    assert report.problems == [expected]
    assert report.fingerprint is not None  # everything else was checked
    opened = open_bundle(io.BytesIO(raw))
    try:
        assert opened.report.problems == [expected]
        if "evidence" in case:
            assert opened.contents is None and opened.contents_problem == expected
    finally:
        opened.close()


# ====================================================================== the bag folder


def test_a_renamed_folder_is_named_with_both_names(sample: hb.Sample) -> None:
    report = verify(hb.CASES["renamed_bag_folder"](sample).data)
    assert report.problems == [
        "The bundle's folder is called 'evidence-bundle-20991231-235959', but it was sealed "
        f"as {sample.top!r}: it has been renamed or packed again since it was sealed."]
    assert report.fingerprint == sample.fingerprint


def test_a_bundle_that_never_recorded_its_folder_name_still_verifies(
        sample: hb.Sample) -> None:
    def forget_the_name(files: dict[str, bytes]) -> None:
        files["bag-info.txt"] = b"".join(
            line for line in files["bag-info.txt"].splitlines(keepends=True)
            if not line.startswith(b"External-Identifier:"))

    report = verify(hb.reseal_bag(sample.sealed, forget_the_name, top="any-name"))
    assert report.ok, report.problems


def test_folder_entries_over_files_are_harmless(sample: hb.Sample) -> None:
    """``zip -r`` and others write an entry for each folder: those hold files."""
    entries = hb.entries_of(sample.sealed)
    folders = sorted({info.filename.rsplit("/", 1)[0] + "/" for info, _ in entries}
                     | {f"{sample.top}/"})
    made = []
    for name in folders:
        info = zipfile.ZipInfo(name)
        info.external_attr = (stat.S_IFDIR | 0o755) << 16 | 0x10
        made.append((info, b""))
    report = verify(hb.zip_of(made + [(hb.clone(i), d) for i, d in entries]))
    assert report.ok, report.problems


def test_an_empty_folder_is_reported_and_the_rest_still_checked(sample: hb.Sample) -> None:
    report = verify(hb.CASES["empty_folder_entry"](sample).data)
    assert report.problems == [
        f"The bundle holds an empty folder '{sample.top}/data/unredacted/' that was added "
        "after it was sealed (the seal covers files only)."]
    assert report.fingerprint == sample.fingerprint


# ====================================================================== keeping a copy


def shown_by_viewer(path: Path) -> dict[str, Any]:
    """What the viewer's report_summary() gives for the bundle at ``path``."""
    opened = open_bundle(path)
    try:
        report = opened.report
        return {"ok": report.ok, "problems": list(report.problems),
                "fingerprint": report.fingerprint, "timestamp": report.timestamp,
                "sealed_sha256": report.sealed_sha256}
    finally:
        opened.close()


def test_the_bundle_kept_is_the_one_checked(vault: Vault, sample: hb.Sample,
                                            tmp_path: Path) -> None:
    path = tmp_path / "sent.zip"
    path.write_bytes(sample.sealed)
    shown = shown_by_viewer(path)
    bundle_id = keep_received_bundle(vault, path, shown)
    (kept,) = vault.received_bundles()
    assert kept.id == bundle_id
    assert kept.sha256 == hashlib.sha256(sample.sealed).hexdigest()
    assert kept.verdict["ok"] is True
    assert kept.verdict["sealed_sha256"] == shown["sealed_sha256"] is not None
    assert vault.audit_entries()[-1].details["sha256"] == kept.sha256


@pytest.mark.parametrize("swap", ["altered", "another_sealed_bundle", "not_a_bundle"])
def test_a_file_swapped_after_it_was_checked_is_not_kept(
        vault: Vault, sample: hb.Sample, tmp_path: Path, swap: str) -> None:
    path = tmp_path / "sent.zip"
    path.write_bytes(sample.sealed)
    shown = shown_by_viewer(path)
    audit_before = len(vault.audit_entries())
    swapped = {
        "altered": hb.edit_bag(sample.sealed, lambda files: files.update(
            {"data/evidence.json": files["data/evidence.json"].replace(b"1", b"2")})),
        # Sealed by the same key, so "intact" with the same fingerprint: only the
        # sealed contents' digest tells it from the bundle that was shown.
        "another_sealed_bundle": hb.rebuild(list(reversed(hb.entries_of(
            hb.seal_sample(tmp_path / "again").sealed)))),
        "not_a_bundle": b"PK\x05\x06" + bytes(18),
    }[swap]
    path.write_bytes(swapped)
    if swap == "another_sealed_bundle":
        assert verify(swapped).ok
    with pytest.raises(RefusedInput, match="changed on the disk since it was checked"):
        keep_received_bundle(vault, path, shown)
    assert vault.received_bundles() == []
    assert len(vault.audit_entries()) == audit_before
    assert vault.verify().ok


def test_the_copy_in_the_vault_is_checked_not_the_file_on_disk(
        vault: Vault, sample: hb.Sample, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The file changes while the copy is being checked: the copy is unaffected."""
    path = tmp_path / "sent.zip"
    path.write_bytes(sample.sealed)
    shown = shown_by_viewer(path)
    real_verify = bundle_check.verify_bundle
    checked: list[object] = []

    def swap_then_verify(source: Any, passphrase: str | None = None) -> Any:
        path.write_bytes(b"swapped while the copy was being checked")
        checked.append(source)
        return real_verify(source, passphrase)

    monkeypatch.setattr(bundle_check, "verify_bundle", swap_then_verify)
    keep_received_bundle(vault, path, shown)
    assert checked and not isinstance(checked[0], Path)
    (kept,) = vault.received_bundles()
    assert kept.sha256 == hashlib.sha256(sample.sealed).hexdigest()
    with vault.received_bundle_file(kept.id) as fh:
        assert fh.read() == sample.sealed


def test_an_encrypted_bundle_is_checked_with_its_passphrase(
        vault: Vault, sample: hb.Sample, tmp_path: Path) -> None:
    path = tmp_path / "sent.zip"
    path.write_bytes(sample.encrypted)
    report = verify_bundle(path, hb.PASSPHRASE_FOR_TRANSPORT)
    shown = {"ok": report.ok, "problems": [], "fingerprint": report.fingerprint,
             "sealed_sha256": report.sealed_sha256}
    with pytest.raises(bundle_check.BundleLocked):
        keep_received_bundle(vault, path, shown)
    assert vault.received_bundles() == []
    keep_received_bundle(vault, path, shown, hb.PASSPHRASE_FOR_TRANSPORT)
    assert vault.received_bundles()[0].verdict["encrypted"] is True


# ====================================================================== plain text on screen


@pytest.fixture(autouse=True)
def _no_leftover_answers() -> Iterator[None]:
    messages.shown.clear()
    yield
    leftover = list(messages._next_answers)
    messages._next_answers.clear()
    assert not leftover, f"message boxes were expected but not shown: {leftover}"


def hostile_bundle() -> Any:
    bundle = make_bundle()
    evidence = bundle.evidence
    evidence["exported_by"] = HOSTILE
    evidence["role"] = PICTURE
    evidence["incidents"][0]["title"] = f"{HOSTILE} {PICTURE}"
    capture = evidence["captures"][2]  # the import: it has a source file name
    capture["details"]["site"] = HOSTILE
    capture["details"]["author"] = PICTURE
    capture["details"]["description"] = f"{HOSTILE}\n{PICTURE}"
    capture["source"]["file_name"] = f"{PICTURE}.png"
    capture["files"]["redacted"] = f"data/{PICTURE_FILE}.png"  # a path that is not there
    return bundle


def rendered(tip: str) -> str:
    """What a tooltip shows: Qt renders it as markup when it looks like markup."""
    if not QtGuiNamespace.mightBeRichText(tip):
        return tip
    document = QTextDocument()
    document.setHtml(tip)
    return document.toPlainText()


def test_a_bundles_words_are_shown_as_the_characters_they_are(
        qtbot: QtBot, tmp_path: Path, windows: list[BundleViewer]) -> None:
    path = tmp_path / '<b style="color:green">✔ checked.zip'
    path.write_bytes(b"PK\x05\x06" + bytes(18))  # the fake opener never reads it
    viewer = open_bundle_window(path, opener=FakeOpener(hostile_bundle()))
    assert viewer is not None
    windows.append(viewer)
    qtbot.waitUntil(viewer.is_loaded, timeout=5000)
    row = next(r for r in range(viewer.model.rowCount())
               if viewer.model.entry_at(r).capture.details.site == HOSTILE)
    viewer.timeline.setCurrentIndex(viewer.model.index(row, 0))

    assert HOSTILE in viewer.summary.text() and PICTURE in viewer.summary.text()
    outside = ("fingerprint checked", "<img", "hostile")
    labels = viewer.findChildren(QLabel)
    assert viewer.picture_note in labels and PICTURE_FILE in viewer.picture_note.text()
    for label in labels:
        if any(word in label.text() for word in outside):
            assert label.textFormat() == Qt.TextFormat.PlainText, label.accessibleName()
        elif label.textFormat() != Qt.TextFormat.PlainText:  # ours, may use markup
            assert not any(word in label.text() for word in outside), label.text()
    # The banner says only what was checked: no line in it comes from the bundle.
    banner = " ".join(label.text() for label in viewer.banner.findChildren(QLabel))
    assert "fingerprint checked" not in banner

    details = viewer.details.toPlainText()
    assert f"{HOSTILE}\n{PICTURE}" in details and f"{PICTURE}.png" in details
    assert "<img" not in viewer.details.toHtml()

    for column in TimelineColumn:
        index = viewer.model.index(row, column)
        tip = viewer.model.data(index, Qt.ItemDataRole.ToolTipRole)
        shown = viewer.model.data(index, Qt.ItemDataRole.DisplayRole)
        if tip and column == TimelineColumn.DESCRIPTION:
            assert rendered(tip) == f"{HOSTILE}\n{PICTURE}"
        elif tip and column != TimelineColumn.CAPTURED:
            assert rendered(tip) == shown, column


def test_the_viewer_screenshot_with_a_hostile_bundle(
        qtbot: QtBot, tmp_path: Path, windows: list[BundleViewer]) -> None:
    path = tmp_path / "hostile.zip"
    path.write_bytes(b"PK\x05\x06" + bytes(18))
    viewer = open_bundle_window(path, opener=FakeOpener(hostile_bundle()))
    assert viewer is not None
    windows.append(viewer)
    viewer.resize(1280, 720)
    qtbot.waitUntil(viewer.is_loaded, timeout=5000)
    viewer.timeline.setCurrentIndex(viewer.model.index(viewer.model.rowCount() - 1, 0))
    assert HOSTILE in viewer.details.toPlainText()
    assert viewer.grab().save(str(shots_dir(tmp_path) / "hostile-viewer.png"))


def test_every_message_box_shows_its_text_as_text(qtbot: QtBot) -> None:
    box = messages.make_box(QMessageBox.Icon.Warning, None, "Not saved", f"{HOSTILE} saved",
                            messages.Button.Ok, messages.Button.Ok, detail=PICTURE)
    qtbot.addWidget(box)
    assert box.textFormat() == Qt.TextFormat.PlainText
    texts = {label.text(): label for label in box.findChildren(QLabel) if label.text()}
    assert set(texts) >= {f"{HOSTILE} saved", PICTURE}
    for label in texts.values():
        assert label.textFormat() == Qt.TextFormat.PlainText and label.wordWrap()


def test_a_prompt_naming_a_file_shows_it_as_text(qtbot: QtBot) -> None:
    dialog = messages.make_text_dialog(None, "Passphrase needed", f"“{HOSTILE}.zip” is locked",
                                       QLineEdit.EchoMode.Password)
    qtbot.addWidget(dialog)
    (label,) = [lb for lb in dialog.findChildren(QLabel) if lb.text()]
    assert label.textFormat() == Qt.TextFormat.PlainText
    assert dialog.textEchoMode() == QLineEdit.EchoMode.Password


def test_deep_json_in_a_real_bundle_is_shown_as_damage_not_a_crash(
        qtbot: QtBot, sample: hb.Sample, tmp_path: Path, windows: list[BundleViewer]) -> None:
    path = tmp_path / "deep.zip"
    path.write_bytes(hb.CASES["deep_json_as_evidence_list_resealed"](sample).data)
    viewer = open_bundle_window(path)
    assert viewer is not None
    windows.append(viewer)
    qtbot.waitUntil(viewer.is_loaded, timeout=20_000)
    assert viewer.verdict() == "altered"
    assert NESTED in viewer.banner.problems.toPlainText()
    assert messages.shown == []
    assert not viewer.act_save.isEnabled()


def test_saving_a_bundle_swapped_on_disk_after_it_was_shown_keeps_nothing(
        qtbot: QtBot, controller: Any, sample: hb.Sample, tmp_path: Path,
        windows: list[BundleViewer]) -> None:
    from test_app import create_vault, wait_until

    create_vault(qtbot, controller)
    path = tmp_path / "sent.zip"
    path.write_bytes(sample.sealed)
    viewer = controller.open_bundle(path)
    assert viewer is not None
    windows.append(viewer)
    wait_until(qtbot, lambda: viewer.verdict() == "intact")

    path.write_bytes(hb.edit_bag(sample.sealed, lambda files: files.update(
        {"data/evidence.json": files["data/evidence.json"].replace(b"1", b"2")})))
    messages.set_next_answer(messages.Button.Ok)
    viewer.act_save.trigger()
    wait_until(qtbot, lambda: bool(messages.shown))
    assert messages.shown[-1][0] == "Not saved"
    assert "changed on the disk since it was checked" in messages.shown[-1][1]
    assert controller.session.vault.received_bundles() == []

    path.write_bytes(sample.sealed)  # as it was shown: now it is kept
    messages.set_next_answer(messages.Button.Ok)
    viewer.act_save.trigger()
    wait_until(qtbot, lambda: len(messages.shown) == 2)
    assert messages.shown[-1][0] == "Saved in your vault"
    (kept,) = controller.session.vault.received_bundles()
    assert kept.sha256 == hashlib.sha256(sample.sealed).hexdigest()
    assert kept.verdict["fingerprint"] == sample.fingerprint


def test_the_received_bundles_list_asks_about_a_file_name_as_text(
        qtbot: QtBot, vault: Vault, sample: hb.Sample, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from evidence_recorder.ui.received import ReceivedBundlesDialog
    from evidence_recorder.ui.session import VaultSession

    name = '<b style="color:green">✔ checked by the police.zip'
    path = tmp_path / name
    path.write_bytes(sample.sealed)
    keep_received_bundle(vault, path, shown_by_viewer(path))
    session = VaultSession(tmp_path / "unused")
    monkeypatch.setattr(VaultSession, "vault", property(lambda _self: vault))
    dialog = ReceivedBundlesDialog(session)
    qtbot.addWidget(dialog)
    assert dialog.table.item(0, 1).text() == name
    prompts: list[QLabel] = []

    def refuse(box: Any) -> int:
        prompts.extend(label for label in box.findChildren(QLabel) if label.text())
        return 0

    monkeypatch.setattr(messages.QInputDialog, "exec", refuse)
    dialog.delete_selected()
    (prompt,) = prompts
    assert name in prompt.text() and prompt.textFormat() == Qt.TextFormat.PlainText
    assert len(vault.received_bundles()) == 1  # refused: nothing deleted
