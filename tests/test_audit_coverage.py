"""What ``audit --verify`` covers beyond originals: changes made behind the app's back.

Each test changes a real SQLCipher vault with its key, as someone holding it could (the
app is closed, the database opened directly), then checks that ``Vault.verify`` names
exactly what changed in one plain sentence, and that an export refuses to seal it.
Before this check existed, every one of these vaults verified as intact.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import FAST_KDF, PASSPHRASE, raw_connection, run_cli
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from PIL import Image

from evidence_recorder.core.bundle import check as bundle_check
from evidence_recorder.core.bundle import seal as bundle
from evidence_recorder.core.bundle import sshsig
from evidence_recorder.core.errors import VaultDamaged
from evidence_recorder.core.gather import capture, recorder
from evidence_recorder.core.vault import anchor, audit
from evidence_recorder.core.vault.keyfile import KeyFile
from evidence_recorder.core.vault.store import Vault

MARKS = {"version": 1, "items": [{"type": "redact", "rect": [0, 0, 40, 30]}]}


def jpeg(colour: str, size: tuple[int, int] = (320, 240)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, "JPEG")
    return buf.getvalue()


def grab(vault: Vault, colour: str = "navy", incident_id: int | None = None) -> int:
    """A real capture through the recorder, so it has a thumbnail and both previews."""
    shot = capture.grab(capture.FakeGrabber(Image.new("RGB", (400, 300), colour)))
    return recorder.save_grab(vault, shot, incident_id=incident_id)


def tamper(vault: Vault, *sql: str | tuple[str, tuple[Any, ...]]) -> Path:
    """Close the vault, run ``sql`` on its database directly; returns the folder."""
    folder = vault.folder
    vault.close()
    conn = raw_connection(folder)
    for statement in sql:
        if isinstance(statement, tuple):
            conn.execute(*statement)
        else:
            conn.execute(statement)
    conn.close()
    return folder


def problems_after(vault: Vault, *sql: str | tuple[str, tuple[Any, ...]]) -> list[str]:
    with Vault.open(tamper(vault, *sql), PASSPHRASE) as reopened:
        return reopened.verify().problems


def rewrite_log(folder: Path, change: Callable[[str, dict[str, Any]], dict[str, Any]], *,
                anchor_too: bool = True) -> None:
    """Rewrite every entry's details and re-chain the whole log, as someone holding the
    key could: the result is a perfectly consistent history.

    With ``anchor_too`` this computer's history anchor is re-signed at the new head as
    well (the key holder can do that too; for the tests of vaults made by older
    versions it stands for "no anchor had been written yet")."""
    conn = raw_connection(folder)
    conn.execute("DROP TRIGGER audit_never_changes")
    rows = conn.execute("SELECT seq, at, action, subject, details FROM audit "
                        "ORDER BY seq").fetchall()
    prev = audit.GENESIS_HASH
    for seq, at, action, subject, details in rows:
        new = change(action, json.loads(details))
        digest = audit.entry_hash(seq, at, action, subject, new, prev)
        conn.execute("UPDATE audit SET details = ?, prev_hash = ?, hash = ? WHERE seq = ?",
                     (json.dumps(new, sort_keys=True, ensure_ascii=False), prev, digest, seq))
        prev = digest
    conn.close()
    if anchor_too:
        key = anchor.mac_key(KeyFile.load(folder).unlock_with_passphrase(PASSPHRASE))
        path = anchor._anchor_path(KeyFile.load(folder).vault_id)
        record = anchor.decode(path.read_bytes(), key, KeyFile.load(folder).vault_id)
        path.write_bytes(anchor.encode(dataclasses.replace(record, hash=prev), key))


@pytest.fixture
def vault(tmp_path: Path) -> Any:
    made, _ = Vault.create(tmp_path / "vault", PASSPHRASE, kdf=FAST_KDF)
    yield made
    made.close()


# ------------------------------------------------------------------ no false alarms


def test_a_vault_used_normally_verifies_with_nothing_left_unchecked(vault: Vault,
                                                                   tmp_path: Path) -> None:
    """Captures, an import, annotations (saved, changed, removed), incident edits,
    a deletion and exports: every check runs and none complains."""
    incident = vault.new_incident("Comments on the school page", "From a parent", "May")
    first = grab(vault, "navy", incident.id)
    second = grab(vault, "teal")
    (tmp_path / "in.png").write_bytes(capture.grab(capture.FakeGrabber(
        Image.new("RGB", (200, 100), "olive"))).png)
    imported = recorder.import_files(vault, [tmp_path / "in.png"]).saved[0][1]
    vault.set_annotations(first, MARKS)
    vault.set_annotations(second, MARKS)
    vault.set_annotations(second, {**MARKS, "items": [*MARKS["items"],
                                                     {"type": "redact", "rect": [5, 5, 9, 9]}]})
    vault.set_annotations(imported, MARKS)
    vault.set_annotations(imported, None)
    vault.edit_incident(incident.id, title="Comments on the page", started_at="June")
    vault.edit_incident(vault.default_incident().id, description="Not sorted yet")
    vault.edit_capture(second, {"site": "TikTok"}, incident_id=incident.id)
    bundle.export_bundle(vault, tmp_path / "a.zip")
    bundle.export_bundle(vault, tmp_path / "b.zip",
                         options=bundle.ExportOptions(audience="police"))
    vault.delete_capture(first, "duplicate")
    report = vault.verify()
    assert report.ok, report.problems
    assert report.not_checked == []
    assert (report.captures_checked, report.incidents_checked) == (2, 2)
    added = next(e for e in vault.audit_entries() if e.action == "capture.added")
    assert set(added.details["pictures"]) == {"thumbnail", "preview", "small"}
    assert vault.audit_entries()[0].details["key_fingerprint"] == \
        bundle.signing_fingerprint(vault)
    folder = tamper(vault)  # closed and reopened: still nothing to say
    checked = run_cli("audit", "--verify", env={"EVIDENCE_RECORDER_PASSPHRASE": PASSPHRASE,
                                                "EVIDENCE_RECORDER_VAULT": str(folder)})
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.startswith("Nothing was found changed.")
    assert "Not checked" not in checked.stdout
    with Vault.open(folder, PASSPHRASE) as reopened:
        assert reopened.verify().ok
        assert not any(e.action.endswith(".recorded") for e in reopened.audit_entries())


# ------------------------------------------------------------------ report pictures


def test_a_swapped_report_picture_is_named_and_not_sealed(vault: Vault, tmp_path: Path) -> None:
    """The reported attack: with the key, swap the stored preview so the sealed PDF
    shows another picture than the original. verify used to say intact."""
    capture_id = grab(vault)
    folder = tamper(vault, ("UPDATE preview SET jpeg = ? WHERE capture_id = ?",
                            (jpeg("red"), capture_id)))
    sentence = (f"The picture used for capture {capture_id} in reports was changed after it "
                "was made.")
    checked = run_cli("audit", "--verify", env={"EVIDENCE_RECORDER_PASSPHRASE": PASSPHRASE,
                                                "EVIDENCE_RECORDER_VAULT": str(folder)})
    assert checked.returncode == 1
    assert sentence in checked.stderr
    with Vault.open(folder, PASSPHRASE) as reopened:
        assert reopened.verify().problems == [sentence]
        with pytest.raises(VaultDamaged, match="No bundle was sealed") as refused:
            bundle.export_bundle(reopened, tmp_path)
        assert sentence in refused.value.message
        assert list(tmp_path.glob("*.zip")) == []
        assert reopened.audit_entries()[-1].action != "export"


def test_the_smaller_report_picture_and_the_thumbnail_are_checked_too(vault: Vault) -> None:
    capture_id = grab(vault)
    problems = problems_after(
        vault, ("UPDATE preview SET small = ? WHERE capture_id = ?", (jpeg("red"), capture_id)),
        ("UPDATE thumbnail SET jpeg = ? WHERE capture_id = ?", (jpeg("red"), capture_id)))
    assert problems == [
        f"The thumbnail shown for capture {capture_id} in the app was changed after it was made.",
        f"The picture used for capture {capture_id} in reports was changed after it was made."]


def test_report_pictures_added_or_removed_behind_the_apps_back_are_named(
        vault: Vault, tmp_path: Path) -> None:
    with_previews = grab(vault)
    data = capture.grab(capture.FakeGrabber(Image.new("RGB", (64, 48), "gray"))).png
    without = vault.add_capture(
        original=data, sha256=hashlib.sha256(data).hexdigest(),
        kind=capture.CaptureKind.SCREEN, width=64, height=48, media_type="image/png",
        captured_at="2026-12-01T10:00:00.000Z", tz_name="UTC", utc_offset="+00:00",
        environment={}, thumbnail=jpeg("gray", (64, 48)))
    folder = tamper(vault, f"DELETE FROM preview WHERE capture_id = {with_previews}",
                    ("INSERT INTO preview (capture_id, jpeg, small) VALUES (?, ?, ?)",
                     (without, jpeg("red"), jpeg("red"))))
    with Vault.open(folder, PASSPHRASE) as reopened:
        assert reopened.verify().problems == [
            f"The picture used for capture {with_previews} in reports is missing.",
            f"Capture {without} has a picture for reports that Evidence Recorder did not make."]
        with pytest.raises(VaultDamaged, match=f"capture {without} in reports was changed"):
            bundle.export_bundle(reopened, tmp_path, [without])
        # A missing preview is made again from the (checked) original.
        assert bundle_check.verify_bundle(bundle.export_bundle(reopened, tmp_path,
                                                         [with_previews])).ok


# ------------------------------------------------------------------ annotations


def test_annotations_edited_behind_the_apps_back_are_named_and_not_sealed(
        vault: Vault, tmp_path: Path) -> None:
    capture_id = grab(vault)
    vault.set_annotations(capture_id, MARKS)
    moved = json.dumps({**MARKS, "items": [{"type": "redact", "rect": [200, 200, 1, 1]}]},
                       sort_keys=True)
    folder = tamper(vault, ("UPDATE annotation SET data = ? WHERE capture_id = ?",
                            (moved, capture_id)))
    sentence = (f"The highlights and redactions on capture {capture_id} were changed after "
                "they were saved.")
    with Vault.open(folder, PASSPHRASE) as reopened:
        assert reopened.verify().problems == [sentence]
        with pytest.raises(VaultDamaged, match="No bundle was sealed") as refused:
            bundle.export_bundle(reopened, tmp_path)
        assert sentence in refused.value.message


def test_annotations_added_or_removed_behind_the_apps_back_are_named(vault: Vault) -> None:
    marked, plain = grab(vault), grab(vault, "teal")
    vault.set_annotations(marked, MARKS)
    problems = problems_after(
        vault, f"DELETE FROM annotation WHERE capture_id = {marked}",
        ("INSERT INTO annotation (capture_id, data, updated_at) VALUES (?, ?, ?)",
         (plain, json.dumps(MARKS, sort_keys=True), "2026-12-01T10:00:00.000Z")))
    assert problems == [
        f"The highlights and redactions on capture {plain} are not in the audit log: they "
        "were added outside Evidence Recorder.",
        f"The highlights and redactions on capture {marked} are missing, but the audit log "
        "has no record of their removal."]


# ------------------------------------------------------------------ incidents


def test_incident_rows_edited_behind_the_apps_back_are_named(vault: Vault) -> None:
    incident = vault.new_incident("Fake profile on TikTok", "Uses a pupil's photo", "March")
    vault.edit_incident(incident.id, title="Fake profile")
    default = vault.default_incident().id
    problems = problems_after(
        vault, f"UPDATE incident SET title = 'Nothing happened' WHERE id = {incident.id}",
        f"UPDATE incident SET started_at = 'April' WHERE id = {incident.id}",
        f"UPDATE incident SET created_at = '2020-01-01T00:00:00.000Z' WHERE id = {incident.id}",
        f"UPDATE incident SET description = '' WHERE id = {default}")
    assert problems == [
        "Incident 1 (“Unsorted captures”): its description was changed outside Evidence "
        "Recorder.",
        f"Incident {incident.id} (“Fake profile”): its title was changed outside Evidence "
        "Recorder.",
        f"Incident {incident.id} (“Fake profile”): its start date was changed outside "
        "Evidence Recorder.",
        f"Incident {incident.id} (“Fake profile”): its creation time was changed outside "
        "Evidence Recorder."]


def test_incidents_added_or_removed_behind_the_apps_back_are_named(vault: Vault) -> None:
    gone = vault.new_incident("Group chat")
    problems = problems_after(
        vault, f"DELETE FROM incident WHERE id = {gone.id}",
        "INSERT INTO incident (id, title, created_at) VALUES (9, 'Made up', "
        "'2026-12-01T10:00:00.000Z')",
        "UPDATE incident SET is_default = 0 WHERE id = 1")
    assert problems == [
        "Incident 1 (“Unsorted captures”): whether it is where unsorted captures go was "
        "changed outside Evidence Recorder.",
        "Incident 9 is not in the audit log: it was added outside Evidence Recorder.",
        f"Incident {gone.id} (“Group chat”) is missing, but Evidence Recorder never deletes "
        "incidents."]


# ------------------------------------------------------------------ the signing key


def test_a_replaced_signing_key_is_named_and_not_used(vault: Vault, tmp_path: Path) -> None:
    recorded = bundle.signing_fingerprint(vault)
    grab(vault)
    other = bytes(range(32))
    replaced = sshsig.fingerprint(Ed25519PrivateKey.from_private_bytes(other))
    folder = tamper(vault, ("UPDATE meta SET value = ? WHERE key = 'signing_key'",
                            (other.hex(),)))
    with Vault.open(folder, PASSPHRASE) as reopened:
        assert reopened.verify().problems == [
            f"The vault's signing key was replaced: it is not the key recorded in the audit "
            f"log ({recorded}), so a bundle sealed now would show another fingerprint "
            f"({replaced})."]
        with pytest.raises(VaultDamaged, match="signing key is not the one recorded"):
            bundle.export_bundle(reopened, tmp_path)
        assert list(tmp_path.glob("*.zip")) == []


def test_an_export_sealed_with_another_key_is_named(vault: Vault, tmp_path: Path) -> None:
    """An export entry whose fingerprint is not the vault's: a bundle sealed while the
    key was swapped, then the key put back."""
    grab(vault)
    bundle.export_bundle(vault, tmp_path)
    vault.record("export", "bundle:evidence-bundle-20261201-100000", {
        "bundle": "evidence-bundle-20261201-100000", "key_fingerprint": "SHA256:someone-else"})
    seq = vault.audit_entries()[-1].seq
    report = vault.verify()
    assert report.problems == [
        f"Audit log entry {seq}: evidence-bundle-20261201-100000 was sealed with a key "
        f"(SHA256:someone-else) that is not this vault's signing key "
        f"({bundle.signing_fingerprint(vault)})."]


# ------------------------------------------------------------------ vaults from before


def as_older_versions_wrote_it(action: str, details: dict[str, Any]) -> dict[str, Any]:
    """An entry without what this version adds to it."""
    dropped = {"vault.created": ("key_fingerprint", "default_incident"),
               "capture.added": ("pictures",), "incident.created": ("created_at",)}
    return {k: v for k, v in details.items() if k not in dropped.get(action, ())}


def test_an_older_vault_records_its_pictures_and_key_once_and_says_from_when(
        vault: Vault, tmp_path: Path) -> None:
    kept = grab(vault)
    incident = vault.new_incident("Group chat")
    vault.edit_incident(incident.id, description="Year 9")
    vault.edit_incident(vault.default_incident().id, title="To sort")
    fingerprint = bundle.signing_fingerprint(vault)
    folder = tamper(vault)
    rewrite_log(folder, as_older_versions_wrote_it)
    with Vault.open(folder, PASSPHRASE) as upgraded:
        entries = upgraded.audit_entries()
        recorded = [e for e in entries if e.action.endswith(".recorded")]
        assert [(e.action, e.subject) for e in recorded] == [
            ("pictures.recorded", f"capture:{kept}"), ("signing_key.recorded", "vault")]
        assert recorded[1].details["key_fingerprint"] == fingerprint
        report = upgraded.verify()
        assert report.ok, report.problems
        when = recorded[0].at
        assert report.not_checked == [
            f"The thumbnails and report pictures of capture {kept} were first recorded on "
            f"{when[:10]} at {when[11:16]} UTC, when this version first opened the vault: a "
            "change made before then cannot be detected.",
            f"The signing key's fingerprint was first recorded on {recorded[1].at[:10]} at "
            f"{recorded[1].at[11:16]} UTC, when this version first opened the vault: a key "
            "replaced before then shows up only through the exports made before then."]
        count = len(entries)
    with Vault.open(folder, PASSPHRASE) as again:  # once only
        assert len(again.audit_entries()) == count + 1  # just "vault.unlocked"
        again.set_annotations(kept, MARKS)
    assert problems_after(Vault.open(folder, PASSPHRASE),
                          ("UPDATE preview SET jpeg = ? WHERE capture_id = ?",
                           (jpeg("red"), kept))) == [
        f"The picture used for capture {kept} in reports was changed after it was made."]


def test_pictures_an_older_version_never_recorded_are_said_unchecked_not_intact(
        vault: Vault, tmp_path: Path) -> None:
    """A capture added by an older version after this one first opened the vault (the
    same vault used with both): its pictures cannot be checked, verify says so, and an
    export makes its report pictures afresh from the original instead of trusting them."""
    capture_id = grab(vault)
    folder = tamper(vault, ("UPDATE preview SET jpeg = ? WHERE capture_id = ?",
                            (jpeg("red"), capture_id)))
    rewrite_log(folder, lambda action, details: {k: v for k, v in details.items()
                                                 if action != "capture.added"
                                                 or k != "pictures"})
    with Vault.open(folder, PASSPHRASE) as reopened:
        report = reopened.verify()
        assert report.ok and report.problems == []
        assert report.not_checked == [
            f"The thumbnails and report pictures of capture {capture_id} were made by an "
            "older version of Evidence Recorder that did not record their SHA-256, so they "
            "could not be checked."]
        assert reopened.checked_previews(capture_id, reopened.recorded_hashes()) is None
        assert bundle_check.verify_bundle(bundle.export_bundle(reopened, tmp_path)).ok
    checked = run_cli("audit", "--verify", env={"EVIDENCE_RECORDER_PASSPHRASE": PASSPHRASE,
                                                "EVIDENCE_RECORDER_VAULT": str(folder)})
    assert checked.returncode == 0
    assert checked.stdout.startswith("Apart from what is listed below as not checked, "
                                     "nothing was found changed.")
    assert f"Not checked: The thumbnails and report pictures of capture {capture_id}" \
        in checked.stdout


def swap_preview_and_rechain(vault: Vault, *, anchor_too: bool) -> Path:
    """Change a report picture and its recorded hash, and re-chain the log, with the key."""
    capture_id = grab(vault)
    swapped = jpeg("red")
    folder = tamper(vault, ("UPDATE preview SET jpeg = ? WHERE capture_id = ?",
                            (swapped, capture_id)))

    def forge(action: str, details: dict[str, Any]) -> dict[str, Any]:
        if action == "capture.added":
            details["pictures"]["preview"] = hashlib.sha256(swapped).hexdigest()
        return details

    rewrite_log(folder, forge, anchor_too=anchor_too)
    return folder


def test_a_log_rewritten_and_rechained_with_the_key_is_not_detected(vault: Vault) -> None:
    """The documented limit (SECURITY.md): whoever holds the key can change a picture
    and its recorded hash and re-chain the log (and re-sign this computer's anchor);
    only bundles already sent anchor the past. This test fails if that ever stops being
    true, so the docs must change."""
    folder = swap_preview_and_rechain(vault, anchor_too=True)
    with Vault.open(folder, PASSPHRASE) as reopened:
        assert reopened.verify().ok


def test_a_log_rewritten_with_the_key_is_caught_by_this_computers_anchor(vault: Vault) -> None:
    """The same forgery, unless the forger also re-signs the anchor this computer keeps
    outside the vault: its head no longer matches what this computer last saw."""
    folder = swap_preview_and_rechain(vault, anchor_too=False)
    with Vault.open(folder, PASSPHRASE) as reopened:
        report = reopened.verify()
        assert not report.ok
        assert any("not the copy that was last opened on this computer" in p
                   for p in report.problems), report.problems


# ------------------------------------------------------------------ the app's verdict


def test_the_app_does_not_call_a_partly_unchecked_vault_intact(
        qtbot: Any, controller: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Verify vault in the app: "intact" only when everything could be checked; what an
    older version never recorded comes first in the message and in the details."""
    from PySide6.QtCore import Qt

    from evidence_recorder.ui import messages

    page = controller.start.create_page
    page.passphrase.setText(PASSPHRASE)
    page.confirm.setText(PASSPHRASE)
    qtbot.mouseClick(page.create_button, Qt.MouseButton.LeftButton)
    key_page = controller.start.key_page
    qtbot.waitUntil(lambda: controller.start.stack.currentWidget() is key_page)
    key_page.confirm.setChecked(True)
    qtbot.mouseClick(key_page.continue_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: controller.main.isVisible())

    messages.set_next_answer(messages.Button.Ok)
    controller.main.verify_vault()
    qtbot.waitUntil(lambda: bool(messages.shown) and messages.shown[-1][0] == "Vault intact")
    assert "signing key" in messages.shown[-1][1]

    real = Vault.verify
    note = "The thumbnails and report pictures of capture 1 were made by an older version."

    def partly_checkable(self: Vault, progress: Any = None) -> Any:
        report = real(self, progress)
        report.not_checked.append(note)  # as verify reports a vault an older version used
        return report

    monkeypatch.setattr(Vault, "verify", partly_checkable)
    messages.set_next_answer(messages.Button.Ok)
    controller.main.verify_vault()
    qtbot.waitUntil(lambda: messages.shown[-1][0] == "Nothing found altered")
    assert messages.shown[-1][1].startswith("Some things could not be checked")
