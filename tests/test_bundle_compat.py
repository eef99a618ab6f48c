"""Bundles already sent keep verifying and opening; today's format reads back whole.

The schema-1 bundles in tests/fixtures/bundles/ were made by the code before
evidence.json schema 2 (README.md there says how, and what verdict that code gave).
They must get the same verdict now, from ``verify_bundle``, the CLI and the published
verify.sh, and read through the typed reader with the same facts. A schema-2 bundle
made now must read back exactly what the vault holds, and a hostile evidence.json,
however it is wrong, must be refused in a sentence, never with a crash.
"""

from __future__ import annotations

import copy
import hashlib
import io
import json
import os
import random
import subprocess
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import hostile_bundles as hb
import pytest
from conftest import BUNDLE_PASSPHRASE, REPO, run_cli
from PIL import Image, ImageDraw

from evidence_recorder.core.bundle.check import verify_bundle
from evidence_recorder.core.bundle.evidence import (
    BundleEvidence,
    EvidenceDamaged,
    JsonDamaged,
    read_evidence,
)
from evidence_recorder.core.bundle.opened import open_bundle
from evidence_recorder.core.bundle.seal import ExportOptions, export_bundle
from evidence_recorder.core.model import (
    CaptureDetails,
    CaptureKind,
    ImportSource,
    iso_utc,
    parse_iso_utc,
)
from evidence_recorder.core.vault.store import Vault

FIXTURES = REPO / "tests" / "fixtures" / "bundles"
HEADTEACHER = FIXTURES / "schema1-headteacher.zip"
LOCKED = FIXTURES / "schema1-headteacher-locked.zip"
POLICE = FIXTURES / "schema1-police.zip"
# The verdict the code of commit c1341e6 gave when it made them (fixtures/bundles/README.md).
FINGERPRINT = "SHA256:JUXOlLGVih+LWp7let7Ixd8SkrqYkY400XvJzvJQDg0"
IDENTITY = "evidence-recorder-vault-547308980e520b0f44d12fd495abe844"
SEAL_NUMBER = "14261 69783 69014 63148 47136 52155 33694 84511 09800 96082 84987 88357"
DETAILS = CaptureDetails(
    site="Facebook", url="https://www.facebook.com/groups/1/posts/2", author="J. Smith",
    handle="@jsmith123", profile_url="https://www.facebook.com/jsmith123", author_id="100042",
    posted_at="2h", category="harassment", description="A post naming a pupil",
    context="In the class parents' group", people="Pupil A; Mrs B", platform_ref="FB-123",
    police_ref="CR/2026/1")
COVER = {"version": 1, "items": [{"type": "redact", "rect": [36, 26, 128, 48]}]}
NEWER = "was made by a newer version of Evidence Recorder"


def members(path: Path, passphrase: str | None = None) -> dict[str, bytes]:
    import pyzipper

    with pyzipper.AESZipFile(path) as zf:
        if passphrase:
            zf.setpassword(passphrase.encode())
        return {info.filename.split("/", 1)[1]: zf.read(info) for info in zf.infolist()}


# ============================================================================ schema 1


@pytest.mark.parametrize(("path", "passphrase", "files_checked"), [
    (HEADTEACHER, None, 18), (LOCKED, BUNDLE_PASSPHRASE, 18), (POLICE, None, 19)])
def test_a_schema_1_bundle_gets_the_verdict_it_got_when_it_was_made(
        path: Path, passphrase: str | None, files_checked: int) -> None:
    report = verify_bundle(path, passphrase)
    assert report.as_dict() == {
        "ok": True, "problems": [], "fingerprint": FINGERPRINT, "seal_number": SEAL_NUMBER,
        "identity": IDENTITY, "files_checked": files_checked, "timestamp": None,
        "timestamp_check": None, "encrypted": passphrase is not None}


def test_the_command_line_verifies_a_schema_1_bundle() -> None:
    done = run_cli("verify", "--json", str(HEADTEACHER))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["fingerprint"] == FINGERPRINT
    locked = run_cli("verify", str(LOCKED),
                     env={"EVIDENCE_RECORDER_BUNDLE_PASSPHRASE": BUNDLE_PASSPHRASE})
    assert locked.returncode == 0, locked.stderr
    assert "The bundle is intact: 18 files match their seal." in locked.stdout


def test_the_published_verify_script_passes_a_schema_1_bundle(tmp_path: Path) -> None:
    with zipfile.ZipFile(POLICE) as zf:
        zf.extractall(tmp_path)
        top = zf.namelist()[0].split("/")[0]
    folder = tmp_path / top
    env = {k: v for k, v in os.environ.items() if k != "SSH_AUTH_SOCK"}
    done = subprocess.run(["sh", str(REPO / "docs" / "verify" / "verify.sh"), str(folder)],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "RESULT: the bundle is intact." in done.stdout


@pytest.mark.parametrize(("path", "passphrase"), [
    (HEADTEACHER, None), (LOCKED, BUNDLE_PASSPHRASE), (POLICE, None)])
def test_a_schema_1_bundle_opens_through_the_reader_with_every_fact(
        path: Path, passphrase: str | None) -> None:
    raw = json.loads(members(path, passphrase)["data/evidence.json"])
    assert raw["schema_version"] == 1
    opened = open_bundle(path, passphrase)
    try:
        assert opened.report.ok and opened.contents_problem is None
        evidence = opened.contents
        assert evidence is not None
        police = path == POLICE
        assert (evidence.schema, evidence.audience) == (1, "police" if police else "headteacher")
        assert (evidence.exported_by, evidence.role) == ("A. Teacher",
                                                         "Designated safeguarding lead")
        assert (evidence.signing_fingerprint, evidence.signing_identity) \
            == (FINGERPRINT, IDENTITY)
        assert evidence.originals_kept_back == (() if police else (1,))
        (incident,) = evidence.incidents
        assert (incident.id, incident.title, incident.description, incident.started_at) \
            == (2, "Messages on the class group", "Posts about a pupil", "2026-11-20")
        screen, imported = evidence.items
        assert [evidence.incident_title(i) for i in evidence.items] \
            == ["Messages on the class group"] * 2

        assert (screen.id, screen.kind, screen.title, screen.incident_id) \
            == (1, "region", "", 2)
        assert screen.captured_at == parse_iso_utc("2026-11-25T12:00:00.000Z")
        assert (screen.tz_name, screen.utc_offset, screen.width, screen.height) \
            == ("Europe/London", "+00:00", 320, 200)
        assert screen.details == DETAILS
        assert screen.source is None
        assert screen.environment == {"os_user": "teacher", "app_version": "fixture"}
        assert screen.has_annotations and screen.covered
        assert screen.original_included is police
        assert screen.metadata_path == "data/captures/1/metadata.json"
        original = screen.original
        assert original is not None
        assert (original.name, original.media_type, original.size) \
            == ("original.png", "image/png", 1975)
        assert original.sha256 == raw["captures"][0]["sha256"]
        assert original.path == ("data/captures/1/original.png" if police else None)
        if police:
            assert hashlib.sha256(opened.read(original.path or "")).hexdigest() \
                == original.sha256
        copy_ = screen.covered_copy
        marks = screen.annotations
        assert copy_ is not None and marks is not None
        assert (copy_.path, copy_.derived_from) == ("data/captures/1/redacted.png",
                                                   "original.png")
        assert opened.read(copy_.path or "").startswith(b"\x89PNG")
        assert json.loads(opened.read(marks.path or "")) == COVER

        assert (imported.id, imported.kind, imported.title) == (2, "import", "")
        assert imported.source == ImportSource("IMG_0042.png", 1647,
                                               "2026-11-21T08:00:00.000Z",
                                               "2026:11:21 07:59:58")
        assert imported.details == CaptureDetails(site="Instagram", author="Someone")
        assert not imported.has_annotations and not imported.covered
        assert imported.original_included
        assert [a.role for a in imported.artefacts] == ["original"]
        assert imported.original is not None
        assert hashlib.sha256(opened.read(imported.original.path or "")).hexdigest() \
            == imported.sha256 == raw["captures"][1]["sha256"]
    finally:
        opened.close()


# ============================================================================ schema 2


def picture(colour: tuple[int, int, int]) -> bytes:
    image = Image.new("RGB", (320, 200), (236, 238, 241))
    ImageDraw.Draw(image).rectangle((40, 30, 159, 69), fill=colour)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def add(vault: Vault, data: bytes, incident: int, **kwargs: Any) -> int:
    return vault.add_capture(
        original=data, sha256=hashlib.sha256(data).hexdigest(), width=320, height=200,
        media_type="image/png", captured_at=iso_utc(parse_iso_utc("2026-11-25T12:00:00Z")),
        tz_name="Europe/London", utc_offset="+00:00", environment={"os_user": "t"},
        thumbnail=b"thumb", incident_id=incident, **kwargs)


@pytest.fixture
def two_captures(vault: Vault) -> tuple[Vault, int, int]:
    incident = vault.new_incident("Messages on the class group", "Posts", "2026-11-20").id
    screen = add(vault, picture((255, 0, 255)), incident, kind=CaptureKind.REGION,
                 details=DETAILS)
    vault.set_annotations(screen, COVER)
    imported = add(vault, picture((0, 128, 255)), incident, kind=CaptureKind.IMPORT,
                   source=ImportSource("IMG_0042.png", 10, "2026-11-21T08:00:00.000Z", None),
                   details=CaptureDetails(site="Instagram"))
    return vault, screen, imported


@pytest.mark.parametrize("audience", ["headteacher", "police"])
def test_a_schema_2_bundle_reads_back_what_the_vault_holds(
        two_captures: tuple[Vault, int, int], tmp_path: Path, audience: str) -> None:
    vault, screen_id, imported_id = two_captures
    path = export_bundle(vault, tmp_path / "b.zip",
                         options=ExportOptions(audience=audience, exporter="A. Teacher"))
    files = members(path)
    raw = json.loads(files["data/evidence.json"])
    assert raw["schema"] == 2 and "captures" not in raw
    opened = open_bundle(path)
    try:
        assert opened.report.ok, opened.report.problems
        evidence = opened.contents
        assert evidence is not None and opened.contents_problem is None
        assert (evidence.schema, evidence.audience, evidence.exported_by) \
            == (2, audience, "A. Teacher")
        assert evidence.bundle == path.stem or evidence.bundle == opened.bundle_name
        police = audience == "police"
        assert evidence.originals_kept_back == (() if police else (screen_id,))
        assert [i.id for i in evidence.items] == [screen_id, imported_id]
        for item in evidence.items:
            capture = vault.capture(item.id)
            assert (item.kind, item.title, item.incident_id, item.captured_at,
                    item.tz_name, item.utc_offset, item.width, item.height, item.details,
                    item.source, item.environment, item.has_annotations) \
                == (capture.kind.value, "", capture.incident_id, capture.captured_at,
                    capture.tz_name, capture.utc_offset, capture.width, capture.height,
                    capture.details, capture.source, capture.environment,
                    capture.has_annotations)
            original = item.original
            assert original is not None
            assert (original.name, original.role, original.media_type, original.size,
                    original.sha256) == ("original.png", "original", "image/png",
                                         capture.byte_size, capture.sha256)
            for artefact in item.artefacts:  # size and hash as sent, for every file in it
                if artefact.path is not None:
                    data = opened.read(artefact.path)
                    assert (len(data), hashlib.sha256(data).hexdigest()) \
                        == (artefact.size, artefact.sha256)
            assert json.loads(opened.read(item.metadata_path or "")) \
                == next(i for i in raw["items"] if i["id"] == item.id)
        screen, imported = evidence.items
        assert screen.covered and screen.original_included is police
        assert (screen.original is not None
                and (screen.original.path is None) is not police)
        assert [(a.name, a.role, a.derived_from) for a in screen.artefacts] == [
            ("original.png", "original", None),
            ("redacted.png", "covered-copy", "original.png"),
            ("annotations.json", "annotations", "original.png")]
        assert [a.role for a in imported.artefacts] == ["original"]
        assert imported.original is not None and imported.original.path is not None
        assert opened.read(imported.original.path) == vault.original(imported_id)
    finally:
        opened.close()


def test_the_viewer_gets_a_schema_2_bundle_with_what_schema_1_gave_it(
        qapp: Any, two_captures: tuple[Vault, int, int], tmp_path: Path) -> None:
    """The viewer's captures, made from ``contents``, hold for a schema-2 bundle what a
    schema-1 bundle's list gave: the id, the kept-back original, the covered copy and
    the original's SHA-256."""
    from evidence_recorder.ui.bundle_details import captures_of

    vault, screen_id, _ = two_captures
    opened = open_bundle(export_bundle(vault, tmp_path / "b.zip"))
    try:
        screen = next(e for e in captures_of(opened.contents) if e.capture.id == screen_id)
        assert screen.original is None  # kept back, as schema 1 said it
        assert screen.redacted is not None
        assert opened.read(screen.redacted).startswith(b"\x89PNG")
        assert screen.capture.sha256 == vault.capture(screen_id).sha256
        assert screen.capture.details == vault.capture(screen_id).details
    finally:
        opened.close()


# ============================================================================ refused


def resealed(path: Path, evidence: bytes) -> bytes:
    return hb.reseal_bag(path.read_bytes(),
                         lambda files: files.update({"data/evidence.json": evidence}))


@pytest.mark.parametrize("schema", [3, 99])
def test_a_newer_schema_is_refused_plainly(
        two_captures: tuple[Vault, int, int], tmp_path: Path, schema: int) -> None:
    vault = two_captures[0]
    path = export_bundle(vault, tmp_path / "b.zip")
    raw = json.loads(members(path)["data/evidence.json"])
    raw["schema"] = schema
    changed = tmp_path / "newer.zip"
    changed.write_bytes(resealed(path, json.dumps(raw).encode()))
    report = verify_bundle(changed)
    assert not report.ok
    assert report.problems == [
        f"data/evidence.json {NEWER} (format {schema}), which this version cannot read. "
        "Open the bundle with the newest version of Evidence Recorder."]
    with pytest.raises(EvidenceDamaged, match=NEWER):
        read_evidence(json.dumps(raw))
    done = run_cli("verify", str(changed))
    assert done.returncode != 0
    assert NEWER in done.stderr
    opened = open_bundle(changed)
    try:
        assert opened.contents is None
        assert opened.contents_problem is not None and NEWER in opened.contents_problem
    finally:
        opened.close()


def test_a_schema_that_is_not_a_number_is_damage() -> None:
    for schema in ("2", True, 2.0, None, [2]):
        with pytest.raises(EvidenceDamaged, match="does not say which format"):
            read_evidence(json.dumps({"schema": schema, "items": [], "incidents": []}))


@pytest.fixture(scope="module")
def schema2_evidence(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any],
                                                                         set[str]]:
    """A schema-2 evidence.json made by today's code, and the bag's files."""
    from conftest import FAST_KDF, PASSPHRASE

    folder = tmp_path_factory.mktemp("schema2")
    vault, _ = Vault.create(folder / "vault", PASSPHRASE, kdf=FAST_KDF)
    try:
        incident = vault.new_incident("Incident").id
        screen = add(vault, picture((255, 0, 255)), incident, kind=CaptureKind.SCREEN,
                     details=DETAILS)
        vault.set_annotations(screen, COVER)
        add(vault, picture((0, 0, 255)), incident, kind=CaptureKind.IMPORT,
            source=ImportSource("a.png", 1, "2026-11-21T08:00:00.000Z", None))
        files = members(export_bundle(vault, folder / "b.zip"))
    finally:
        vault.close()
    return json.loads(files["data/evidence.json"]), set(files)


def _set(path: tuple[Any, ...], value: Any) -> Callable[[dict[str, Any]], None]:
    def change(raw: dict[str, Any]) -> None:
        target: Any = raw
        for key in path[:-1]:
            target = target[key]
        if value is _DELETE:
            del target[path[-1]]
        else:
            target[path[-1]] = value
    return change


_DELETE = object()
HUGE = "x" * 1_000_001
HOSTILE: dict[str, tuple[Callable[[dict[str, Any]], None], str]] = {
    "items not a list": (_set(("items",), {"0": {}}), "items should be a list"),
    "items missing": (_set(("items",), _DELETE), "items is missing"),
    "incidents missing": (_set(("incidents",), _DELETE), "incidents is missing"),
    "item not a record": (_set(("items", 0), "item"), "items[0] should be a group"),
    "id missing": (_set(("items", 0, "id"), _DELETE), "items[0].id is missing"),
    "id as text": (_set(("items", 0, "id"), "1"), "items[0].id should be a whole number"),
    "id negative": (_set(("items", 0, "id"), -1), "items[0].id should be a whole number"),
    "id as true": (_set(("items", 0, "id"), True), "items[0].id should be a whole number"),
    "kind missing": (_set(("items", 0, "kind"), _DELETE), "items[0].kind is missing"),
    "kind with markup": (_set(("items", 0, "kind"), "<b>screen</b>"),
                         "items[0].kind is not a single lower-case word"),
    "title missing": (_set(("items", 0, "title"), _DELETE), "items[0].title is missing"),
    "title huge": (_set(("items", 0, "title"), HUGE), "items[0].title is longer"),
    "detail huge": (_set(("items", 0, "details", "description"), HUGE),
                    "items[0].details.description is longer"),
    "detail not text": (_set(("items", 0, "details", "site"), ["a"]),
                        "items[0].details.site should be text"),
    "detail unknown": (_set(("items", 0, "details", "password"), "x"),
                       "holds a detail this version does not know"),
    "environment string huge": (_set(("items", 0, "environment", "os_user"), HUGE),
                                "items[0].environment is longer"),
    "captured_at not a time": (_set(("items", 0, "captured_at"), "yesterday"),
                               "items[0].captured_at is not a date and time"),
    "captured_at missing": (_set(("items", 0, "captured_at"), _DELETE),
                            "items[0].captured_at is missing"),
    "incident unknown": (_set(("items", 0, "incident"), 999),
                         "names an incident the bundle does not list"),
    "artefacts missing": (_set(("items", 0, "artefacts"), _DELETE),
                          "items[0].artefacts is missing"),
    "size as text": (_set(("items", 0, "artefacts", 0, "size"), "12"),
                     "items[0].artefacts[0].size should be a whole number"),
    "sha256 short": (_set(("items", 0, "artefacts", 0, "sha256"), "abc"),
                     "items[0].artefacts[0].sha256 is not a SHA-256"),
    "sha256 missing": (_set(("items", 0, "artefacts", 0, "sha256"), _DELETE),
                       "items[0].artefacts[0].sha256 is missing"),
    "path escapes": (_set(("items", 0, "artefacts", 1, "path"), "data/../../etc/passwd"),
                     "is not a path inside the bundle's data folder"),
    "path outside data": (_set(("items", 0, "artefacts", 1, "path"), "report.pdf"),
                          "is not a path inside the bundle's data folder"),
    "path absolute": (_set(("items", 0, "artefacts", 1, "path"), "/etc/passwd"),
                      "is not a path inside the bundle's data folder"),
    "path backslash": (_set(("items", 0, "artefacts", 1, "path"), "data\\..\\x"),
                       "is not a path inside the bundle's data folder"),
    "path control": (_set(("items", 0, "artefacts", 1, "path"), "data/\x1b[2Jx.png"),
                     "is not a path inside the bundle's data folder"),
    "path absent": (_set(("items", 0, "artefacts", 1, "path"), "data/captures/1/x.png"),
                    "names a file that is not in the bundle"),
    "path twice": (_set(("items", 0, "artefacts", 2, "path"), "data/captures/1/redacted.png"),
                   "names a file already named for another entry"),
    "name twice": (_set(("items", 0, "artefacts", 2, "name"), "redacted.png"),
                   "repeats another artefact's name"),
    "name with folder": (_set(("items", 0, "artefacts", 1, "name"), "../redacted.png"),
                         "items[0].artefacts[1].name is not a file name"),
    "derived from nothing": (_set(("items", 0, "artefacts", 1, "derived_from"), "ghost.png"),
                             "names no artefact of this item"),
    "role missing": (_set(("items", 0, "artefacts", 0, "role"), _DELETE),
                     "items[0].artefacts[0].role is missing"),
    "source without name": (_set(("items", 1, "source", "file_name"), _DELETE),
                            "items[1].source.file_name is missing"),
    "flag as text": (_set(("items", 0, "covered"), "yes"),
                     "items[0].covered should be true or false"),
    "kept back not numbers": (_set(("originals_kept_back",), ["1"]),
                              "originals_kept_back[0] should be a whole number"),
    "exported_at not a time": (_set(("exported_at",), 12), "exported_at should be text"),
    "incident id twice": (lambda raw: raw["incidents"].append(dict(raw["incidents"][0])),
                          "repeats another incident's number"),
    "item id twice": (lambda raw: raw["items"].append(_unplaced(raw["items"][1])),
                      "repeats another item's number"),
}


def _unplaced(item: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``item`` naming no file in the bag (so only its number repeats)."""
    twin = copy.deepcopy(item)
    twin["metadata"] = None
    for artefact in twin["artefacts"]:
        artefact["path"] = None
    return twin


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_a_hostile_evidence_list_is_refused_in_a_sentence(
        schema2_evidence: tuple[dict[str, Any], set[str]], name: str) -> None:
    good, files = schema2_evidence
    assert isinstance(read_evidence(json.dumps(good), files), BundleEvidence)
    change, expected = HOSTILE[name]
    raw = copy.deepcopy(good)
    change(raw)
    with pytest.raises(EvidenceDamaged) as caught:
        read_evidence(json.dumps(raw), files)
    message = str(caught.value)
    assert message.startswith("data/evidence.json is damaged: its field ")
    assert expected in message
    assert len(message) < 300 and "xxxxxxxxxx" not in message  # never quotes the file


@pytest.mark.parametrize("text", [b"", b"[]", b'"items"', b"\xff\xfe", b"[" * 100_000,
                                  b'{"schema": 2}', b'{"schema_version": 1}'])
def test_an_evidence_list_that_is_no_list_at_all_is_refused(text: bytes) -> None:
    with pytest.raises(JsonDamaged, match=r"^data/evidence\.json "):
        read_evidence(text)


def test_any_mutation_of_an_evidence_list_is_read_or_refused_never_a_crash(
        schema2_evidence: tuple[dict[str, Any], set[str]]) -> None:
    """Seeded random changes to a real evidence.json: each one reads, or is refused as
    damaged; nothing else escapes the reader."""
    good, files = schema2_evidence
    values: list[Any] = [None, True, 0, -1, 2 ** 70, 1.5, "", "x" * 200_000, [], {},
                         "data/../x", "2026-13-45T99:00:00Z", [[[]]], {"a": {"b": []}}]
    chance = random.Random(11)  # a fixed seed: the same changes every run
    refused = 0
    for _ in range(400):
        raw = copy.deepcopy(good)
        for _ in range(chance.randint(1, 3)):
            target: Any = raw
            while isinstance(target, dict | list) and target and chance.random() < 0.75:
                key = (chance.choice(list(target)) if isinstance(target, dict)
                       else chance.randrange(len(target)))
                child = target[key]
                if not isinstance(child, dict | list) or chance.random() < 0.3:
                    target[key] = chance.choice(values)
                    break
                target = child
        try:
            read_evidence(json.dumps(raw), files)
        except JsonDamaged as exc:
            refused += 1
            assert str(exc).startswith("data/evidence.json ")
    assert refused > 100  # the mutations did reach fields the reader checks


# ============================================================================ the viewer


def test_the_viewer_opens_a_schema_1_and_a_schema_2_bundle_alike(
        qtbot: Any, two_captures: tuple[Vault, int, int], tmp_path: Path,
        windows: list[Any]) -> None:
    """The viewer (it reads ``OpenedBundle.contents``, the typed reader's list) shows
    both formats with the same captures, covered copies and kept-back originals."""
    from evidence_recorder.ui.bundle_viewer import open_bundle_window

    vault = two_captures[0]
    made_now = export_bundle(vault, tmp_path / "now.zip")
    for path in (HEADTEACHER, made_now):
        viewer = open_bundle_window(path)
        assert viewer is not None
        windows.append(viewer)
        qtbot.waitUntil(viewer.is_loaded, timeout=20_000)
        assert viewer.verdict() == "intact", path.name
        entries = [viewer.model.entry_at(r) for r in range(viewer.model.rowCount())]
        assert [e.capture.kind.value for e in entries] == ["region", "import"], path.name
        screen, imported = entries
        assert screen.capture.details == DETAILS
        assert screen.original is None and screen.redacted is not None
        assert screen.capture.sha256 and len(screen.capture.sha256) == 64
        assert imported.original is not None and imported.redacted is None
        assert imported.capture.source is not None
        assert imported.incident_title == "Messages on the class group"


def test_every_artefact_an_item_holds_travels_in_the_bundle(
        vault: Vault, tmp_path: Path) -> None:
    """An item with more than one file (as a web page or an e-mail will be) carries them
    all, each at its own path, hashed in the manifest and listed with its role."""
    from evidence_recorder.core.model import ArtefactRole, WebSource
    from evidence_recorder.core.vault.items import NewArtefact

    shot = picture((200, 30, 30))
    archive = b"<html><body>A post</body></html>\n" * 40_000  # more than one chunk read
    item = vault.add_item(
        CaptureKind.WEB,
        [NewArtefact("full-page.png", ArtefactRole.FULL_PAGE, "image/png", shot,
                     primary=True),
         NewArtefact("page.mhtml", ArtefactRole.PAGE_ARCHIVE, "multipart/related",
                     io.BytesIO(archive))],
        captured_at=iso_utc(parse_iso_utc("2026-11-25T12:00:00Z")), tz_name="UTC",
        utc_offset="+00:00", environment={}, thumbnail=b"thumb", width=320, height=200,
        title="A post", web=WebSource(requested_url="https://example.org/post",
                                      final_url="https://example.org/post"))
    path = export_bundle(vault, tmp_path / "b.zip", options=ExportOptions(audience="police"))
    assert verify_bundle(path).ok
    opened = open_bundle(path)
    try:
        assert opened.contents is not None
        (read,) = opened.contents.items
        assert read.title == "A post"
        assert [(a.name, a.role, a.path) for a in read.artefacts] == [
            ("full-page.png", "full-page", f"data/captures/{item}/full-page.png"),
            ("page.mhtml", "page-archive", f"data/captures/{item}/page.mhtml")]
        assert opened.read(f"data/captures/{item}/page.mhtml") == archive
        assert read.artefacts[1].sha256 == hashlib.sha256(archive).hexdigest()
    finally:
        opened.close()
