"""Evidence items that hold artefacts: intake (bytes or streams, hashed and audited),
reading back, verify, deletion, rekey and backup, and the CLI's item words."""

from __future__ import annotations

import hashlib
import io
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import FAST_KDF, PASSPHRASE, REPO, raw_connection

from evidence_recorder.core.errors import EvidenceError, NotFound, RefusedInput
from evidence_recorder.core.model import ArtefactRole, CaptureKind, WebSource, iso_utc, utc_now
from evidence_recorder.core.vault import backup, items
from evidence_recorder.core.vault import store as store_module
from evidence_recorder.core.vault.items import NewArtefact
from evidence_recorder.core.vault.store import Vault

PAGE = b"<html><body>A post</body></html>" * 50
FULL_PAGE = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40
CERT = b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
WEB = WebSource(requested_url="https://example.org/post", final_url="https://example.org/post")


def add_page(vault: Vault, archive: bytes | io.BufferedIOBase = PAGE, **extra: Any) -> int:
    now = utc_now()
    extra.setdefault("web", WEB)  # a web item needs its page's record (add_item checks)
    return vault.add_item(
        CaptureKind.WEB,
        [NewArtefact("full-page.png", ArtefactRole.FULL_PAGE, "image/png", FULL_PAGE,
                     primary=True),
         NewArtefact("page.mhtml", ArtefactRole.PAGE_ARCHIVE, "multipart/related", archive),
         NewArtefact("certificate.pem", ArtefactRole.CERTIFICATE, "application/x-pem-file",
                     io.BytesIO(CERT), derived_from=None),
         NewArtefact("visible.png", ArtefactRole.VISIBLE, "image/png", FULL_PAGE[:100],
                     derived_from="full-page.png")],
        captured_at=iso_utc(now), tz_name="UTC", utc_offset="+00:00", environment={},
        thumbnail=b"thumb", width=10, height=20, title="A post on a school page", **extra)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# ------------------------------------------------------------------ intake and reading


def test_an_item_keeps_every_artefact_byte_for_byte_and_audits_each(vault: Vault) -> None:
    item_id = add_page(vault)
    item = vault.capture(item_id)
    assert item.kind == CaptureKind.WEB and item.title == "A post on a school page"
    # The capture row's facts are the primary artefact's.
    assert (item.sha256, item.media_type, item.byte_size) == (sha(FULL_PAGE), "image/png",
                                                              len(FULL_PAGE))
    assert [a.name for a in item.artefacts] == ["full-page.png", "page.mhtml",
                                                "certificate.pem", "visible.png"]
    assert item.primary is not None and item.primary.name == "full-page.png"
    assert vault.artefacts(item_id) == item.artefacts
    add_page(vault)
    listed = vault.captures(artefacts=True)
    assert listed[0].artefacts == item.artefacts and len(listed[1].artefacts) == 4
    assert [c.artefacts for c in vault.captures()] == [[], []]  # plain listings: not loaded
    for artefact, data in zip(item.artefacts, [FULL_PAGE, PAGE, CERT, FULL_PAGE[:100]],
                              strict=True):
        assert (artefact.size, artefact.sha256, artefact.item_id) == (len(data), sha(data),
                                                                      item_id)
        assert vault.artefact_bytes(item_id, artefact.name) == data
        with vault.open_artefact(item_id, artefact.name) as fh:
            assert fh.read() == data
    assert vault.artefact(item_id, "visible.png").derived_from == "full-page.png"
    # The thumbnail names the artefact it was made from.
    assert vault.conn.execute("SELECT made_from FROM thumbnail WHERE capture_id = ?",
                              (item_id,)).fetchone() == ("full-page.png",)
    assert vault.original(item_id) == FULL_PAGE  # the primary one
    entry = vault.audit_entries()[-2]
    assert entry.action == "capture.added" and entry.details["capture"] == item_id
    # Every key today's entries have, and each artefact besides.
    assert {"capture", "incident", "kind", "sha256", "captured_at", "tz_name", "utc_offset",
            "width", "height", "media_type", "byte_size", "source", "details",
            "pictures"} <= entry.details.keys()
    assert entry.details["title"] == "A post on a school page"
    assert entry.details["artefacts"][1] == {
        "name": "page.mhtml", "role": "page-archive", "media_type": "multipart/related",
        "size": len(PAGE), "sha256": sha(PAGE), "primary": False, "derived_from": None}
    assert [a["name"] for a in entry.details["artefacts"]] == [a.name for a in item.artefacts]
    report = vault.verify()
    assert report.ok, report.problems


def test_a_picture_capture_is_one_original_artefact(vault: Vault) -> None:
    data = FULL_PAGE
    capture_id = vault.add_capture(
        original=data, sha256=sha(data), kind=CaptureKind.IMPORT, width=1, height=1,
        media_type="image/jpeg", captured_at=iso_utc(utc_now()), tz_name="UTC",
        utc_offset="+00:00", environment={}, thumbnail=b"t")
    (only,) = vault.artefacts(capture_id)
    assert (only.name, only.role, only.primary, only.media_type) == (
        "original.jpg", ArtefactRole.ORIGINAL, True, "image/jpeg")
    entry = vault.audit_entries()[-1].details
    assert entry["sha256"] == sha(data) and entry["byte_size"] == len(data)
    assert entry["artefacts"][0]["name"] == "original.jpg"


@pytest.mark.parametrize(("artefacts", "words"), [
    ([], "at least one"),
    ([NewArtefact("a.png", "original", "image/png", b"x")], "main one"),
    ([NewArtefact("a.png", "original", "image/png", b"x", primary=True),
      NewArtefact("b.png", "original", "image/png", b"y", primary=True)], "main one"),
    ([NewArtefact("a.png", "original", "image/png", b"x", primary=True),
      NewArtefact("a.png", "export", "image/png", b"y")], "both called"),
    ([NewArtefact("../a.png", "original", "image/png", b"x", primary=True)], "cannot be"),
    ([NewArtefact("a.png", "selfie", "image/png", b"x", primary=True)], "not a kind"),
    ([NewArtefact("a.png", "original", "", b"x", primary=True)], "media type"),
    ([NewArtefact("a.png", "original", "image/png", b"x", primary=True,
                  derived_from="b.png")], "does not hold"),
])
def test_items_that_cannot_be_stored_are_refused_plainly(vault: Vault, artefacts: list[Any],
                                                         words: str) -> None:
    with pytest.raises(RefusedInput, match=words):
        vault.add_item(CaptureKind.WEB, artefacts, captured_at=iso_utc(utc_now()),
                       tz_name="UTC", utc_offset="+00:00", environment={}, thumbnail=b"",
                       web=WEB)
    assert vault.captures() == []


def test_bytes_that_changed_before_saving_store_nothing(vault: Vault) -> None:
    with pytest.raises(EvidenceError, match="changed in memory"):
        vault.add_item(CaptureKind.EMAIL,
                       [NewArtefact("message.eml", ArtefactRole.RAW_MESSAGE, "message/rfc822",
                                    io.BytesIO(b"From: a"), primary=True, sha256="0" * 64)],
                       captured_at=iso_utc(utc_now()), tz_name="UTC", utc_offset="+00:00",
                       environment={}, thumbnail=b"")
    assert vault.captures() == []
    assert vault.conn.execute("SELECT count(*) FROM artefact_chunk").fetchone()[0] == 0


def test_an_unknown_artefact_name_is_named_with_those_it_holds(vault: Vault) -> None:
    item_id = add_page(vault)
    with pytest.raises(NotFound, match=re.escape(
            "holds no file called “page.warc”. Its files are: full-page.png, page.mhtml, "
            "certificate.pem, visible.png.")):
        vault.open_artefact(item_id, "page.warc")
    with pytest.raises(NotFound):
        vault.artefacts(999)


def test_large_artefacts_go_in_many_chunks_and_read_back_by_seek(
        vault: Vault, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(items, "ARTEFACT_CHUNK", 1000)
    monkeypatch.setattr(store_module, "ARTEFACT_CHUNK", 1000)
    big = bytes(range(251)) * 50  # 12,550 bytes: 13 chunks

    class Trickle(io.RawIOBase):  # a stream that hands out a few bytes at a time
        def __init__(self) -> None:
            self.pos = 0

        def readable(self) -> bool:
            return True

        def readinto(self, buffer: Any) -> int:
            n = min(len(buffer), 333, len(big) - self.pos)
            buffer[:n] = big[self.pos:self.pos + n]
            self.pos += n
            return n

    item_id = add_page(vault, archive=Trickle())  # type: ignore[arg-type]
    archive = vault.artefact(item_id, "page.mhtml")
    sizes = [r[0] for r in vault.conn.execute(
        "SELECT length(bytes) FROM artefact_chunk WHERE artefact_id = ? ORDER BY seq",
        (archive.id,))]
    assert sizes == [1000] * 12 + [550]
    with vault.open_artefact(item_id, "page.mhtml") as fh:
        fh.seek(2990)
        assert fh.read(25) == big[2990:3015]
        fh.seek(-10, io.SEEK_END)
        assert fh.read() == big[-10:]
    assert vault.artefact_bytes(item_id, "page.mhtml") == big
    assert vault.verify().ok


def test_a_stream_is_never_held_whole(tmp_path: Path) -> None:
    """64 MB streamed in and read back: the process's peak memory grows by a bounded
    amount (a few chunks' worth, the same for 8 MB as for 64 MB), far less than 64 MB."""
    script = r"""
import hashlib, io, resource, sys
from evidence_recorder.core.model import ArtefactRole, CaptureKind
from evidence_recorder.core.vault.items import NewArtefact
from evidence_recorder.core.vault.keyfile import KdfParams
from evidence_recorder.core.vault.store import Vault

class Lazy(io.RawIOBase):  # made as it is read: never in memory whole
    def __init__(self, size):
        self.pos, self.digest, self.size = 0, hashlib.sha256(), size
    def readable(self):
        return True
    def readinto(self, buffer):
        n = min(len(buffer), self.size - self.pos)
        block = hashlib.sha256(str(self.pos).encode()).digest() * (n // 32 + 1)
        buffer[:n] = block[:n]
        self.digest.update(block[:n])
        self.pos += n
        return n

def peak():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

vault, _ = Vault.create(sys.argv[1], "plum orchard lantern 42", kdf=KdfParams(1, 8, 1))
def add(data):
    return vault.add_item(CaptureKind.CHAT, [NewArtefact("export.zip", ArtefactRole.EXPORT,
                          "application/zip", data, primary=True)],
                          captured_at="2026-12-07T10:00:00.000Z", tz_name="UTC",
                          utc_offset="+00:00", environment={}, thumbnail=b"t")
add(io.BytesIO(b"warm up" * 1000))
before = peak()
add(io.BufferedReader(Lazy(8 * 1024 * 1024), 1024 * 1024))
small = peak()
stream = Lazy(64 * 1024 * 1024)
item = add(io.BufferedReader(stream, 1024 * 1024))
after = peak()
artefact = vault.artefact(item)
assert artefact.size == stream.size and artefact.sha256 == stream.digest.hexdigest()
with vault.open_artefact(item) as fh:
    check = hashlib.sha256()
    while block := fh.read(1024 * 1024):
        check.update(block)
assert check.hexdigest() == artefact.sha256
assert vault.verify().ok
print(after - before, after - small, peak() - before)
vault.close()
"""
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path / "v")], cwd=REPO,
                          capture_output=True, text=True, timeout=600, check=True)
    intake, beyond_small, reading = (int(n) for n in done.stdout.split())
    mib = 1024 * 1024
    assert intake < 40 * mib, intake  # 64 MB in (and 8 MB before it)
    assert beyond_small < 8 * mib, beyond_small  # eight times the size, no more memory
    assert reading < 40 * mib, reading  # and read back, and verified


# ------------------------------------------------------------------ verify and delete


def _tamper(vault: Vault, *sql: str) -> list[str]:
    folder = vault.folder
    vault.close()
    conn = raw_connection(folder)
    for statement in sql:
        conn.execute(statement)
    conn.close()
    with Vault.open(folder, PASSPHRASE) as reopened:
        return reopened.verify().problems


def _id_of(item_id: int, name: str) -> str:
    return f"(SELECT id FROM artefact WHERE item_id = {item_id} AND name = '{name}')"


def test_verify_names_a_changed_artefact(vault: Vault) -> None:
    item_id = add_page(vault)
    problems = _tamper(vault, "DROP TRIGGER artefact_chunk_never_changes",
                       f"UPDATE artefact_chunk SET bytes = x'00' WHERE artefact_id = "
                       f"{_id_of(item_id, 'page.mhtml')}")
    assert problems == [f"Capture {item_id}: its file “page.mhtml” no longer matches the "
                        "SHA-256 recorded when it was saved."]


def test_verify_names_a_changed_original_as_today(vault: Vault) -> None:
    data = FULL_PAGE
    capture_id = vault.add_capture(
        original=data, sha256=sha(data), kind=CaptureKind.SCREEN, width=1, height=1,
        media_type="image/png", captured_at=iso_utc(utc_now()), tz_name="UTC",
        utc_offset="+00:00", environment={}, thumbnail=b"t")
    problems = _tamper(vault, "DROP TRIGGER artefact_chunk_never_changes",
                       "DELETE FROM artefact_chunk WHERE seq = 0")
    assert problems == [f"Capture {capture_id}: its original image no longer matches the "
                        "SHA-256 recorded when it was captured."]


def test_verify_names_a_removed_an_added_and_a_relabelled_artefact(vault: Vault) -> None:
    item_id = add_page(vault)
    problems = _tamper(
        vault,
        f"DELETE FROM artefact_chunk WHERE artefact_id = {_id_of(item_id, 'certificate.pem')}",
        f"DELETE FROM artefact WHERE item_id = {item_id} AND name = 'certificate.pem'",
        "DROP TRIGGER artefact_never_changes",
        f"UPDATE artefact SET role = 'attachment' WHERE item_id = {item_id} "
        "AND name = 'visible.png'",
        "INSERT INTO artefact (id, item_id, name, role, media_type, byte_size, sha256, "
        f"is_primary) VALUES (99, {item_id}, 'extra.txt', 'attachment', 'text/plain', 0, "
        f"'{sha(b'')}', 0)")
    assert sorted(problems) == sorted([
        f"Capture {item_id}: its file “certificate.pem” is missing.",
        f"Capture {item_id}: the record of its file “visible.png” was changed outside "
        "Evidence Recorder.",
        f"Capture {item_id}: it holds a file “extra.txt” that the audit log does not record: "
        "it was added outside Evidence Recorder."])


def test_deleting_an_item_removes_every_artefact(vault: Vault) -> None:
    keep = add_page(vault)
    gone = add_page(vault)
    vault.delete_capture(gone, "duplicate")
    held = {r[0] for r in vault.conn.execute("SELECT item_id FROM artefact")}
    assert held == {keep}
    assert vault.conn.execute(
        "SELECT count(*) FROM artefact_chunk WHERE artefact_id NOT IN "
        "(SELECT id FROM artefact)").fetchone()[0] == 0
    with pytest.raises(NotFound):
        vault.original(gone)
    assert vault.verify().ok
    again = add_page(vault)  # an artefact id freed by the deletion may be taken again
    assert vault.artefact_bytes(again, "page.mhtml") == PAGE
    assert vault.verify().ok


# ------------------------------------------------------------------ rekey and backup


def test_change_all_keys_carries_every_artefact(vault: Vault) -> None:
    item_id = add_page(vault)
    before = {a.name: vault.artefact_bytes(item_id, a.name) for a in vault.artefacts(item_id)}
    vault.change_all_keys("copper meadow violin 77", kdf=FAST_KDF)
    assert {a.name: vault.artefact_bytes(item_id, a.name)
            for a in vault.artefacts(item_id)} == before
    for trigger in ("artefact_never_changes", "artefact_chunk_never_changes"):
        assert vault.conn.execute("SELECT 1 FROM sqlite_master WHERE name = ?",
                                  (trigger,)).fetchone()
    assert vault.verify().ok


def test_backup_and_restore_carry_every_artefact(vault: Vault, tmp_path: Path) -> None:
    item_id = add_page(vault)
    before = {a.name: vault.artefact_bytes(item_id, a.name) for a in vault.artefacts(item_id)}
    saved = backup.make_backup(vault, tmp_path / "backups")
    vault.close()
    restored = tmp_path / "restored"
    assert backup.restore_backup(saved, restored).ok
    with Vault.open(restored, PASSPHRASE) as again:
        assert {a.name: again.artefact_bytes(item_id, a.name)
                for a in again.artefacts(item_id)} == before
        assert again.verify().ok


# ------------------------------------------------------------------ command line


@pytest.fixture
def page_vault(closed_vault: Path) -> int:
    with Vault.open(closed_vault, PASSPHRASE) as vault:
        return add_page(vault)


def test_cli_list_and_show_speak_of_items(cli, page_vault: int, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    picture = tmp_path / "a.png"
    from PIL import Image

    Image.new("RGB", (30, 20), "navy").save(picture)
    assert cli("import", str(picture)).returncode == 0
    listed = json.loads(cli("list", "--json").stdout)
    assert [(i["kind"], i["title"]) for i in listed] == [
        ("web", "A post on a school page"), ("import", "")]
    assert {"id", "incident", "kind", "captured_at", "sha256", "width", "height", "site",
            "url", "author", "category", "note", "title"} == listed[0].keys()
    shown = json.loads(cli("show", str(page_vault), "--json").stdout)
    assert shown["title"] == "A post on a school page"
    assert shown["artefacts"][1] == {"name": "page.mhtml", "role": "page-archive",
                                     "media_type": "multipart/related", "size": len(PAGE),
                                     "sha256": sha(PAGE)}
    assert [a["name"] for a in shown["artefacts"]] == ["full-page.png", "page.mhtml",
                                                       "certificate.pem", "visible.png"]
    for key in ("tz_name", "utc_offset", "media_type", "byte_size", "environment", "source",
                "details", "has_annotations", "sha256"):
        assert key in shown
    imported = json.loads(cli("show", str(listed[1]["id"]), "--json").stdout)
    assert imported["artefacts"] == [{"name": "original.png", "role": "original",
                                      "media_type": "image/png", "size": imported["byte_size"],
                                      "sha256": imported["sha256"]}]
    text = cli("show", str(page_vault)).stdout
    assert "A post on a school page" in text and "page.mhtml" in text


def test_cli_extract_writes_one_artefact(cli, page_vault: int, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "page.mhtml"
    done = cli("extract", str(page_vault), "--artefact", "page.mhtml", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert out.read_bytes() == PAGE
    assert f"Wrote page.mhtml of capture {page_vault}" in done.stdout
    default = tmp_path / "main.png"
    done = cli("extract", str(page_vault), "--out", str(default))
    assert done.returncode == 0 and default.read_bytes() == FULL_PAGE
    assert f"Wrote the original of capture {page_vault} to {default} " \
           f"({len(FULL_PAGE):,} bytes)." in done.stdout
    audit = json.loads(cli("audit", "--json").stdout)["entries"]
    extracted = [e["details"] for e in audit if e["action"] == "capture.extracted"]
    assert extracted == [{"capture": page_vault, "artefact": "page.mhtml"},
                         {"capture": page_vault}]
    unknown = cli("extract", str(page_vault), "--artefact", "page.warc", "--out",
                  str(tmp_path / "x"))
    assert unknown.returncode == 2
    assert "no file called “page.warc”" in unknown.stderr
    assert "full-page.png, page.mhtml, certificate.pem, visible.png" in unknown.stderr
    assert "Traceback" not in unknown.stderr
    assert not (tmp_path / "x").exists()
    assert "--artefact" in cli("extract", "--help").stdout


def test_verify_names_files_and_bytes_that_belong_to_no_capture(vault: Vault) -> None:
    item_id = add_page(vault)
    problems = _tamper(vault, "PRAGMA foreign_keys = OFF",
                       "INSERT INTO artefact_chunk (artefact_id, seq, bytes) "
                       "VALUES (999, 0, x'00')",
                       "INSERT INTO artefact (id, item_id, name, role, media_type, byte_size, "
                       "sha256, is_primary) VALUES (77, 555, 'a.png', 'original', 'image/png', "
                       f"0, '{sha(b'')}', 1)")
    assert sorted(problems) == ["Files are stored for capture 555, which is not in the vault.",
                                "The vault holds stored bytes that belong to no capture."]
    assert item_id != 555


def test_an_unknown_kind_or_a_stream_that_fails_stores_nothing(vault: Vault) -> None:
    class Broken(io.RawIOBase):
        def readable(self) -> bool:
            return True

        def readinto(self, buffer: Any) -> int:
            raise OSError(5, "Input/output error")

    def add(kind: str, data: Any) -> int:
        return vault.add_item(kind,  # type: ignore[arg-type]
                              [NewArtefact("chat.zip", ArtefactRole.EXPORT, "application/zip",
                                           data, primary=True)],
                              captured_at=iso_utc(utc_now()), tz_name="UTC",
                              utc_offset="+00:00", environment={}, thumbnail=b"")

    with pytest.raises(RefusedInput, match="not a kind"):
        add("fax", b"x")
    with pytest.raises(EvidenceError, match=r"chat.zip could not be read \(Input/output"):
        add("chat", Broken())
    assert vault.captures() == []
    assert vault.conn.execute("SELECT count(*) FROM artefact_chunk").fetchone()[0] == 0
    assert add("chat", b"x") > 0 and vault.verify().ok
