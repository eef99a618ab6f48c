"""Property-based tampering of one sealed bundle: every change to the bag is named.

One real bundle (three captures, one annotated, so there are originals, a redacted
copy, metadata, the reports and every tag file) is sealed once for the module; then
Hypothesis changes it well over a thousand ways: bytes flipped inside entries,
entries cut short, added, removed, renamed, duplicated, reordered, the signature or
the signing key swapped, and raw bytes flipped in the ZIP container itself. Any change
to the bag must give ``not report.ok`` with a problem that names the file (or the
container); a pure reorder changes nothing and must still verify.

``ER_TAMPER_SCALE`` multiplies the number of examples (default 1).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import stat
import zipfile
from typing import Any

import hostile_bundles as hb
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from evidence_recorder.core.bundle import sshsig
from evidence_recorder.core.bundle.check import BundleReport, verify_bundle
from evidence_recorder.core.bundle.layout import (
    ALLOWED_SIGNERS,
    BAG_INFO,
    BAGIT_TXT,
    MANIFEST,
    NAMESPACE,
    SIGNATURE,
    TAGMANIFEST,
)
from evidence_recorder.core.errors import EvidenceError

SCALE = max(1, int(os.environ.get("ER_TAMPER_SCALE", "1")))
REQUIRED = (BAGIT_TXT, BAG_INFO, MANIFEST, TAGMANIFEST, ALLOWED_SIGNERS, SIGNATURE)
NAME_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789-_."


def examples(count: int) -> Any:
    return settings(max_examples=count * SCALE, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.filter_too_much])


class Bundle:
    """The sealed bundle, split into its entries (in ZIP order) for rewriting."""

    def __init__(self, sample: hb.Sample) -> None:
        self.sample = sample
        self.raw = sample.sealed
        self.top = sample.top
        self.entries = hb.entries_of(self.raw)
        self.paths = [info.filename.split("/", 1)[1] for info, _ in self.entries]
        self.contents = dict(zip(self.paths, (d for _, d in self.entries), strict=True))
        self.folded = {p.casefold() for p in self.paths}

    def write(self, entries: list[tuple[zipfile.ZipInfo, bytes]]) -> bytes:
        return hb.rebuild(entries)

    def with_files(self, files: list[tuple[str, bytes]]) -> bytes:
        """The bundle holding ``files`` (paths inside the bag), each keeping the
        attributes of the entry it came from when there was one."""
        infos = dict(zip(self.paths, (i for i, _ in self.entries), strict=True))
        template = infos["data/captures/1/metadata.json"]
        return hb.zip_of([(hb.clone(infos.get(p, template), f"{self.top}/{p}"), d)
                          for p, d in files])


@pytest.fixture(scope="module")
def sealed(tmp_path_factory: pytest.TempPathFactory) -> Bundle:
    return Bundle(hb.seal_sample(tmp_path_factory.mktemp("tamper")))


@pytest.fixture(scope="module")
def other(tmp_path_factory: pytest.TempPathFactory) -> Bundle:
    """A bundle from another vault, for swapping parts between bundles."""
    return Bundle(hb.seal_sample(tmp_path_factory.mktemp("tamper-other"), extra_captures=1))


def verify(raw: bytes) -> BundleReport:
    return verify_bundle(io.BytesIO(raw))


def assert_named(report: BundleReport, *paths: str) -> None:
    assert not report.ok, f"a change to {paths} was not noticed"
    for path in paths:
        assert any(path in problem for problem in report.problems), (path, report.problems)


def test_the_untouched_bundle_verifies(sealed: Bundle) -> None:
    report = verify(sealed.raw)
    assert report.ok, report.problems
    assert report.fingerprint == sealed.sample.fingerprint
    assert {"report.pdf", "data/captures/1/redacted.png", "data/captures/1/annotations.json",
            "data/captures/2/metadata.json", "data/audit.jsonl"} <= set(sealed.paths)


def test_rewriting_alone_changes_nothing(sealed: Bundle) -> None:
    """The rewriter itself is faithful: a plain rewrite must still verify."""
    assert verify(sealed.write(sealed.entries)).ok


# ----------------------------------------------------------------- entry contents


@st.composite
def flips(draw: st.DrawFn, length: int) -> list[tuple[int, int]]:
    count = draw(st.integers(1, 3))
    return [(draw(st.integers(0, length - 1)), draw(st.integers(1, 255))) for _ in range(count)]


def signature_still_valid(bundle: Bundle, signature: bytes) -> bool:
    """A changed signature *file* that still carries a valid signature of the same tag
    manifest by the same key (armour whitespace, base64 slack) changes nothing sealed."""
    evidence = json.loads(bundle.contents["data/evidence.json"])
    key = sshsig.parse_public_key(evidence["signing_key"]["public_key"])
    try:
        text = signature.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return sshsig.verify(text, bundle.contents[TAGMANIFEST], NAMESPACE, key)


@examples(260)
@given(data=st.data())
def test_flipped_bytes_in_any_entry_are_named(sealed: Bundle, data: st.DataObject) -> None:
    index = data.draw(st.integers(0, len(sealed.entries) - 1), label="entry")
    info, content = sealed.entries[index]
    path = sealed.paths[index]
    changed = bytearray(content)
    for at, mask in data.draw(flips(len(content)), label="flips"):
        changed[at] ^= mask
    assume(bytes(changed) != content)  # two flips of one byte can cancel out
    entries = list(sealed.entries)
    entries[index] = (info, bytes(changed))
    report = verify(sealed.write(entries))
    if path == SIGNATURE and signature_still_valid(sealed, bytes(changed)):
        assert report.ok, report.problems
        return
    assert_named(report, path)


@examples(130)
@given(data=st.data())
def test_truncated_entries_are_named(sealed: Bundle, data: st.DataObject) -> None:
    index = data.draw(st.integers(0, len(sealed.entries) - 1), label="entry")
    info, content = sealed.entries[index]
    keep = data.draw(st.integers(0, len(content) - 1), label="keep")
    entries = list(sealed.entries)
    entries[index] = (info, content[:keep])
    report = verify(sealed.write(entries))
    if sealed.paths[index] == SIGNATURE and signature_still_valid(sealed, content[:keep]):
        assert report.ok  # only the final newline went
        return
    assert_named(report, sealed.paths[index])


# ----------------------------------------------------------------- the set of entries

segment = st.text(NAME_CHARS, min_size=1, max_size=12).filter(lambda s: s not in (".", ".."))


@st.composite
def new_paths(draw: st.DrawFn, bundle: Bundle) -> str:
    """A path that no entry has (nor one differing only in case): in data/, in a
    capture's folder, or at the bag's top."""
    where = draw(st.sampled_from(["data", "data/captures/1", "data/captures/9", ""]))
    parts = draw(st.lists(segment, min_size=1, max_size=3))
    path = "/".join([where, *parts]) if where else "/".join(parts)
    assume(path.casefold() not in bundle.folded)
    assume(not any(p.startswith(path + "/") or path.startswith(p + "/")
                   for p in bundle.paths))
    return path


@examples(150)
@given(data=st.data(), content=st.binary(max_size=64))
def test_added_entries_are_named(sealed: Bundle, data: st.DataObject, content: bytes) -> None:
    path = data.draw(new_paths(sealed), label="path")
    files = list(sealed.contents.items())
    files.insert(data.draw(st.integers(0, len(files)), label="at"), (path, content))
    assert_named(verify(sealed.with_files(files)), path)


@examples(40)
@given(name=segment, content=st.binary(max_size=64))
def test_entries_added_outside_the_bag_folder_are_named(sealed: Bundle, name: str,
                                                       content: bytes) -> None:
    raw = hb.zip_of([(hb.clone(i), d) for i, d in sealed.entries] + [(name, content)])
    report = verify(raw)
    assert not report.ok
    assert any(repr(name) in p for p in report.problems), report.problems


@examples(90)
@given(data=st.data())
def test_removed_entries_are_named(sealed: Bundle, data: st.DataObject) -> None:
    gone = data.draw(st.sets(st.sampled_from(sealed.paths), min_size=1, max_size=3),
                     label="removed")
    files = [(p, d) for p, d in sealed.contents.items() if p not in gone]
    report = verify(sealed.with_files(files))
    required = [p for p in gone if p in REQUIRED]
    # Without a required file nothing else is read, so only those are named.
    assert_named(report, *(required or gone))


@examples(130)
@given(data=st.data())
def test_renamed_entries_are_named_under_both_names(sealed: Bundle,
                                                   data: st.DataObject) -> None:
    old = data.draw(st.sampled_from(sealed.paths), label="old")
    folder = old.rpartition("/")[0]
    sibling = data.draw(segment, label="new name")
    new = data.draw(st.one_of(st.just(f"{folder}/{sibling}" if folder else sibling),
                              new_paths(sealed)), label="new")
    assume(new.casefold() not in sealed.folded)
    assume(not any(p.startswith(new + "/") or new.startswith(p + "/") for p in sealed.paths))
    files = [(new if p == old else p, d) for p, d in sealed.contents.items()]
    report = verify(sealed.with_files(files))
    assert_named(report, *([old] if old in REQUIRED else [old, new]))


@examples(60)
@given(data=st.data())
def test_duplicated_entries_are_named(sealed: Bundle, data: st.DataObject) -> None:
    twice = data.draw(st.lists(st.integers(0, len(sealed.entries) - 1), min_size=1,
                               max_size=3, unique=True), label="duplicated")
    entries = list(sealed.entries)
    for index in twice:
        info, content = sealed.entries[index]
        copy = content if data.draw(st.booleans(), label="same bytes") else content + b"!"
        entries.insert(data.draw(st.integers(0, len(entries)), label="at"), (info, copy))
    report = verify(sealed.write(entries))
    assert not report.ok
    for index in twice:
        name = sealed.entries[index][0].filename
        assert any(repr(name) in p and "more than once" in p for p in report.problems), \
            report.problems


@examples(80)
@given(order=st.data())
def test_reordered_entries_still_verify(sealed: Bundle, order: st.DataObject) -> None:
    """The ZIP's order is not part of the bag: a reorder alone must not be flagged."""
    permutation = order.draw(st.permutations(range(len(sealed.entries))), label="order")
    report = verify(sealed.write([sealed.entries[i] for i in permutation]))
    assert report.ok, report.problems
    assert report.fingerprint == sealed.sample.fingerprint


# ----------------------------------------------------------------- signatures and keys


@pytest.mark.parametrize("part", [SIGNATURE, ALLOWED_SIGNERS, TAGMANIFEST, MANIFEST,
                                  BAG_INFO, "data/evidence.json", "data/audit.jsonl"])
def test_a_part_swapped_in_from_another_bundle_is_named(sealed: Bundle, other: Bundle,
                                                        part: str) -> None:
    assert sealed.contents[part] != other.contents[part]
    files = [(p, other.contents[p] if p == part else d) for p, d in sealed.contents.items()]
    report = verify(sealed.with_files(files))
    # A foreign tag manifest is named through the signature that no longer fits it.
    assert_named(report, part)


def test_the_whole_signature_set_from_another_bundle_is_named(sealed: Bundle,
                                                               other: Bundle) -> None:
    swapped = {SIGNATURE, ALLOWED_SIGNERS, TAGMANIFEST}
    files = [(p, other.contents[p] if p in swapped else d) for p, d in sealed.contents.items()]
    report = verify(sealed.with_files(files))
    # Every tag file the other manifest lists differs: bag-info at least, and the data.
    assert_named(report, BAG_INFO, MANIFEST)


keys = st.binary(min_size=32, max_size=32).map(Ed25519PrivateKey.from_private_bytes)
identities = st.text(NAME_CHARS + "@", min_size=1, max_size=30).filter(
    lambda s: not s.startswith("#"))


def reseal(bundle: Bundle, key: Ed25519PrivateKey, identity: str, *,
           fix_manifest: bool = True, sign: bool = True) -> bytes:
    signers = f'{identity} namespaces="{NAMESPACE}" {sshsig.public_key_line(key)}\n'.encode()
    files = dict(bundle.contents)
    files[ALLOWED_SIGNERS] = signers
    if fix_manifest:
        lines = files[TAGMANIFEST].decode().splitlines()
        lines = [f"{hashlib.sha256(signers).hexdigest()}  {ALLOWED_SIGNERS}"
                 if line.endswith(f"  {ALLOWED_SIGNERS}") else line for line in lines]
        files[TAGMANIFEST] = ("\n".join(lines) + "\n").encode()
    if sign:
        files[SIGNATURE] = sshsig.sign(key, files[TAGMANIFEST], NAMESPACE).encode()
    return bundle.with_files(list(files.items()))


@examples(40)
@given(key=keys, identity=identities)
def test_a_resealed_bundle_verifies_but_shows_another_fingerprint(
        sealed: Bundle, key: Ed25519PrivateKey, identity: str) -> None:
    report = verify(reseal(sealed, key, identity))
    assert report.ok, report.problems
    assert report.fingerprint == sshsig.fingerprint(key)
    assert report.fingerprint != sealed.sample.fingerprint


@examples(30)
@given(key=keys, identity=identities, fix_manifest=st.booleans())
def test_a_swapped_key_without_a_new_signature_is_named(
        sealed: Bundle, key: Ed25519PrivateKey, identity: str, fix_manifest: bool) -> None:
    report = verify(reseal(sealed, key, identity, fix_manifest=fix_manifest, sign=False))
    assert report.fingerprint is None
    assert_named(report, SIGNATURE if fix_manifest else ALLOWED_SIGNERS)


# ----------------------------------------------------------------- the container


def bag_as_read(raw: bytes) -> list[tuple[str, bytes, int, int]] | None:
    """What a reader gets out of the ZIP: names, bytes, file type and encryption bit;
    ``None`` if any entry cannot be read. Read with pyzipper, the product's reader."""
    import pyzipper

    try:
        with pyzipper.AESZipFile(io.BytesIO(raw)) as zf:
            return sorted((info.filename, zf.read(info), stat.S_IFMT(info.external_attr >> 16),
                           info.flag_bits & 0x1) for info in zf.infolist())
    except Exception:  # any failure to read means the bag is not what was sealed
        return None


@examples(260)
@given(data=st.data())
def test_flipped_bytes_in_the_container_are_noticed(sealed: Bundle,
                                                    data: st.DataObject) -> None:
    raw = bytearray(sealed.raw)
    for at, mask in data.draw(flips(len(raw)), label="flips"):
        raw[at] ^= mask
    try:
        report = verify(bytes(raw))
    except EvidenceError as exc:  # a flipped encryption bit: "this bundle is encrypted"
        assert exc.message and "\n" not in exc.message
        return
    original = bag_as_read(sealed.raw)
    if bag_as_read(bytes(raw)) == original:
        return  # only a date, a permission bit, padding: the bag is unchanged
    assert not report.ok, "damage to the ZIP went unnoticed"
    names = [*sealed.paths, "bundle", "ZIP", "entry", "entries"]
    for problem in report.problems:
        assert problem and "\n" not in problem
    assert any(name in p for p in report.problems for name in names), report.problems
