"""The verification scripts an officer runs without the app: docs/verify/verify.sh and
verify.cmd, the same bytes that travel in every bundle.

verify.sh runs for real (with ``sh`` and ``bash``) on real bundles made by the exporter,
unzipped and then tampered with in every way the app's own verifier catches on an
unzipped folder; each case also goes back into a ZIP and must fail ``verify_bundle``, so
the two verdicts are compared on the same tampered bundle. verify.cmd is checked
statically here, and run under Wine's cmd.exe where that is installed
(see test_verify_cmd_under_wine.py).
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import shutil
import stat
import subprocess
import zipfile
from collections.abc import Callable
from pathlib import Path

import hostile_bundles as hb
import hostile_files as hf
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from tsa import LoopbackTsa, tsa_server_fixture  # noqa: F401

from evidence_recorder.core.bundle import layout as bundle_layout
from evidence_recorder.core.bundle import sshsig
from evidence_recorder.core.bundle import texts as bundle_texts
from evidence_recorder.core.bundle.check import verify_bundle
from evidence_recorder.core.bundle.seal import ExportOptions, export_bundle

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs" / "verify"
ORIGINAL = "data/captures/1/original.png"
ALTERED = "RESULT: THE BUNDLE HAS BEEN ALTERED OR IS INCOMPLETE. Do not rely on it."
INTACT = "RESULT: the bundle is intact."


# ---------------------------------------------------------------------------- one source


def test_the_published_scripts_are_the_ones_in_every_bundle(tmp_path: Path) -> None:
    """docs/verify/ is what an officer takes from the project: byte for byte what the
    exporter writes (verify.cmd with Windows line ends, as cmd.exe needs)."""
    how = "copy the script between docs/verify/ and core/bundle/texts.py"
    assert (DOCS / "verify.sh").read_bytes() == bundle_texts.VERIFY_SH_BYTES, how
    assert (DOCS / "verify.cmd").read_bytes() == bundle_texts.VERIFY_CMD_BYTES, how
    assert b"\r\n" in bundle_texts.VERIFY_CMD_BYTES
    assert b"\n" not in bundle_texts.VERIFY_CMD_BYTES.replace(b"\r\n", b"")
    assert b"\r" not in bundle_texts.VERIFY_SH_BYTES


def test_the_bundle_carries_the_published_scripts(sealed: Path) -> None:
    assert (sealed / "verify.sh").read_bytes() == (DOCS / "verify.sh").read_bytes()
    assert (sealed / "verify.cmd").read_bytes() == (DOCS / "verify.cmd").read_bytes()


def test_the_app_never_runs_the_scripts() -> None:
    """The scripts are for people without the app; the app checks bundles itself."""
    package = REPO / "evidence_recorder"
    for source in package.rglob("*.py"):
        text = source.read_text(encoding="utf-8")
        if "verify.sh" not in text and "verify.cmd" not in text \
                and "VERIFY_SH" not in text and "VERIFY_CMD" not in text:
            continue
        for line in text.splitlines():
            if re.search(r"subprocess|Popen|os\.system|QProcess|check_output|\.run\(", line):
                assert not re.search(r"verify\.(sh|cmd)|VERIFY_(SH|CMD)", line), \
                    f"{source.name}: {line.strip()}"
        assert not re.search(r"(subprocess|QProcess|os\.system)[^\n]*\n?[^\n]*VERIFY_(SH|CMD)",
                             text), source.name


# ---------------------------------------------------------------------------- the words


NOTHING_BY_ITSELF = "a script inside a bundle proves nothing by itself"


def leads_with_the_commands(text: str, windows: bool = True) -> None:
    """The manual commands come before any mention of the scripts, and the warning is
    there."""
    flat = " ".join(text.split())
    first_script = min(flat.index("verify.sh"), flat.index("verify.cmd"))
    commands = ["sha256sum -c manifest-sha256.txt", "sha256sum -c tagmanifest-sha256.txt",
                "ssh-keygen -Y verify -f allowed_signers", "openssl ts -verify"]
    if windows:
        commands.append("certutil -hashfile")
    for command in commands:
        assert flat.index(command) < first_script, command
    assert NOTHING_BY_ITSELF in flat.lower()
    assert "docs/verify/" in flat


def test_readme_verify_leads_with_the_commands(sealed: Path) -> None:
    readme = (sealed / bundle_layout.README_VERIFY).read_text()
    leads_with_the_commands(readme[readme.index("Step by step"):])  # after the file list
    assert "never runs these scripts" in " ".join(readme.split())


def test_the_report_leads_with_the_commands(sealed: Path) -> None:
    from test_report import _pdf_text

    html = (sealed / bundle_layout.REPORT_HTML).read_text()
    check = html[html.index("How to check this bundle"):html.index("<h2>Incidents")]
    leads_with_the_commands(check.replace("&lt;", "<").replace("&quot;", '"'))
    pdf = _pdf_text((sealed / bundle_layout.REPORT_PDF).read_bytes())
    flat = " ".join(pdf.split())
    leads_with_the_commands(flat[flat.index("How to check this bundle"):])


def test_the_police_guide_leads_with_the_commands() -> None:
    guide = (REPO / "docs" / "guide-police.md").read_text()
    body = guide[guide.index("## 1. Unpack"):]
    leads_with_the_commands(body)
    intro = guide[:guide.index("## What a bundle is")].lower().replace("**", "")
    assert NOTHING_BY_ITSELF in " ".join(intro.split())
    readme = (DOCS / "README.md").read_text()
    assert NOTHING_BY_ITSELF in " ".join(readme.lower().replace("**", "").split())


# ---------------------------------------------------------------------------- the bundles


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> hb.Sample:
    return hb.seal_sample(tmp_path_factory.mktemp("verify-scripts"))


def unzip(raw: bytes, dest: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    (dest / "b.zip").write_bytes(raw)
    with zipfile.ZipFile(dest / "b.zip") as zf:
        zf.extractall(dest / "out")
        top = zf.namelist()[0].split("/")[0]
    (dest / "b.zip").unlink()
    return dest / "out" / top


@pytest.fixture
def sealed(sample: hb.Sample, tmp_path: Path) -> Path:
    """A fresh unzipped copy of the sample bundle, for one test to change."""
    return unzip(sample.sealed, tmp_path / "bundle")


def rezip(folder: Path) -> bytes:
    """The folder as a bundle again, exactly as it is: links stay links, empty folders
    stay (as folder entries), so the app judges what the script judged."""
    entries: list[tuple[zipfile.ZipInfo | str, bytes]] = []
    top = folder.name
    for path in sorted(folder.rglob("*")):
        name = f"{top}/{path.relative_to(folder).as_posix()}"
        if path.is_symlink():
            entries.append(hb.symlink(name, os.readlink(path).encode()))
        elif path.is_dir():
            if not any(path.iterdir()):
                info = zipfile.ZipInfo(name + "/")
                info.external_attr = (stat.S_IFDIR | 0o755) << 16
                entries.append((info, b""))
        else:
            entries.append((name, path.read_bytes()))
    return hb.zip_of(entries)


def run_sh(folder: Path, *args: str, shell: str = "sh",
           script: Path = DOCS / "verify.sh") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "SSH_AUTH_SOCK"}
    return subprocess.run([shell, str(script), str(folder), *args], cwd=folder.parent,
                          env=env, capture_output=True, text=True, timeout=120, check=False)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def relist(folder: Path, manifest: str, path: str, digest: str | None = None) -> None:
    """Rewrite ``path``'s line in a manifest with the file's new hash (or ``digest``)."""
    target = folder / manifest
    new = digest or sha((folder / path).read_bytes())
    lines = [f"{new}  {path}" if line.split("  ", 1)[1] == path else line
             for line in target.read_text().splitlines()]
    target.write_text("\n".join(lines) + "\n")


def add_line(folder: Path, manifest: str, line: str) -> None:
    with (folder / manifest).open("a") as fh:
        fh.write(line + "\n")


def reseal_tagmanifest(folder: Path) -> None:
    """What a careful forger does next: make the tag manifest match the new manifest
    (the seal over it then no longer matches)."""
    relist(folder, bundle_layout.TAGMANIFEST, bundle_layout.MANIFEST)


# ---------------------------------------------------------------------------- the cases

Edit = Callable[[Path], None]
CASES: dict[str, tuple[Edit, str, bool]] = {}


def case(words: str, *, app_catches: bool = True) -> Callable[[Edit], Edit]:
    """A tampering of an unzipped bundle; ``words`` must appear in verify.sh's output.
    ``app_catches=False`` marks a case only the script catches (told to the reader)."""
    def register(edit: Edit) -> Edit:
        CASES[edit.__name__] = (edit, words, app_catches)
        return edit
    return register


@case(f"{ORIGINAL}: FAILED")
def replaced_picture(f: Path) -> None:
    (f / ORIGINAL).write_bytes(hf.png())


@case("manifest-sha256.txt: FAILED")
def replaced_picture_and_rewritten_manifest(f: Path) -> None:
    (f / ORIGINAL).write_bytes(hf.png())
    relist(f, bundle_layout.MANIFEST, ORIGINAL)


@case("the seal does not match")
def replaced_picture_and_both_manifests_rewritten(f: Path) -> None:
    (f / ORIGINAL).write_bytes(hf.png())
    relist(f, bundle_layout.MANIFEST, ORIGINAL)
    reseal_tagmanifest(f)


@case("the seal does not match")
def rewritten_tagmanifest(f: Path) -> None:
    with (f / bundle_layout.TAGMANIFEST).open("a") as fh:
        fh.write("\n")


@case("the seal does not match")
def signature_by_another_key(f: Path) -> None:
    other = Ed25519PrivateKey.from_private_bytes(sha(b"other")[:32].encode())
    (f / bundle_layout.SIGNATURE).write_text(sshsig.sign(
        other, (f / bundle_layout.TAGMANIFEST).read_bytes(), bundle_layout.NAMESPACE))


@case("the seal does not match")
def swapped_key_without_new_seal(f: Path) -> None:
    other = Ed25519PrivateKey.from_private_bytes(sha(b"other")[:32].encode())
    identity = (f / bundle_layout.ALLOWED_SIGNERS).read_text().split()[0]
    (f / bundle_layout.ALLOWED_SIGNERS).write_text(
        f'{identity} namespaces="{bundle_layout.NAMESPACE}" {sshsig.public_key_line(other)}\n')
    reseal_tagmanifest(f)
    relist(f, bundle_layout.TAGMANIFEST, bundle_layout.ALLOWED_SIGNERS)


@case("tagmanifest-sha256.txt.sig is missing")
def missing_signature(f: Path) -> None:
    (f / bundle_layout.SIGNATURE).unlink()


@case("allowed_signers is missing")
def missing_allowed_signers(f: Path) -> None:
    (f / bundle_layout.ALLOWED_SIGNERS).unlink()


@case("data/captures/1/metadata.json: FAILED")
def removed_payload_file(f: Path) -> None:
    (f / "data/captures/1/metadata.json").unlink()


@case("report.pdf: FAILED")
def removed_report(f: Path) -> None:
    (f / bundle_layout.REPORT_PDF).unlink()


@case("report-CORRECTED.pdf was added")
def extra_corrected_report(f: Path) -> None:
    shutil.copy(f / bundle_layout.REPORT_PDF, f / "report-CORRECTED.pdf")


@case("data/captures/1/unredacted.png was added")
def extra_unredacted_copy_in_data(f: Path) -> None:
    (f / "data/captures/1/unredacted.png").write_bytes(hf.png())


@case("data/.hidden was added")
def extra_hidden_file(f: Path) -> None:
    (f / "data/.hidden").write_bytes(b"x")


@case("data/captures/9/original.png was added")
def extra_folder_with_a_picture(f: Path) -> None:
    (f / "data/captures/9").mkdir()
    (f / "data/captures/9/original.png").write_bytes(hf.png())


@case("data/captures/1/ORIGINAL.png was added")
def extra_file_differing_in_case(f: Path) -> None:
    (f / "data/captures/1/ORIGINAL.png").write_bytes(hf.png())


@case("data/captures/1/??riginal.png was added")
def extra_cyrillic_lookalike(f: Path) -> None:
    (f / "data/captures/1/\u043eriginal.png").write_bytes(hf.png())


@case("was added")
def renamed_payload_file(f: Path) -> None:
    (f / ORIGINAL).rename(f / "data/captures/1/original.jpg")


@case("bag-info.txt: FAILED")
def changed_bag_info(f: Path) -> None:
    with (f / bundle_layout.BAG_INFO).open("a") as fh:
        fh.write("Contact-Name: someone else\n")


@case("a file is listed twice")
def duplicated_manifest_line(f: Path) -> None:
    line = next(x for x in (f / bundle_layout.MANIFEST).read_text().splitlines() if ORIGINAL in x)
    add_line(f, bundle_layout.MANIFEST, line)
    reseal_tagmanifest(f)


@case("manifest-sha256.txt has lines that are not")
def manifest_path_with_quote_and_ampersand(f: Path) -> None:
    """A name that would run commands if a script pasted it into a command line."""
    name = 'data/captures/1/x" & touch PWNED & echo ".png'
    (f / name).write_bytes(hf.png())
    add_line(f, bundle_layout.MANIFEST, f"{sha(hf.png())}  {name}")
    reseal_tagmanifest(f)


@case("manifest-sha256.txt has lines that are not")
def manifest_path_with_percent_caret_and_pipe(f: Path) -> None:
    name = "data/captures/1/%PATH%^|x.png"
    (f / name).write_bytes(hf.png())
    add_line(f, bundle_layout.MANIFEST, f"{sha(hf.png())}  {name}")
    reseal_tagmanifest(f)


@case("manifest-sha256.txt has lines that are not")
def manifest_path_with_dot_dot(f: Path) -> None:
    (f.parent / "outside.txt").write_bytes(b"outside")
    add_line(f, bundle_layout.MANIFEST, f"{sha(b'outside')}  data/../../outside.txt")
    reseal_tagmanifest(f)


@case("manifest-sha256.txt has lines that are not")
def manifest_absolute_path(f: Path) -> None:
    add_line(f, bundle_layout.MANIFEST, f"{sha(Path('/etc/hostname').read_bytes())}  /etc/hostname")
    reseal_tagmanifest(f)


@case("tagmanifest-sha256.txt has lines that are not")
def tagmanifest_path_outside(f: Path) -> None:
    (f.parent / "outside.txt").write_bytes(b"outside")
    add_line(f, bundle_layout.TAGMANIFEST, f"{sha(b'outside')}  ../outside.txt")


@case("is not an ordinary file")
def picture_replaced_by_a_link(f: Path) -> None:
    """A link to a copy outside: the hashes match, but the folder no longer holds it."""
    outside = f.parent / "kept-elsewhere.png"
    (f / ORIGINAL).rename(outside)
    (f / ORIGINAL).symlink_to(outside)


@case("bagit.txt is missing")
def missing_bagit_txt(f: Path) -> None:
    (f / bundle_layout.BAGIT_TXT).unlink()


@case("does not list bag-info.txt")
def tagmanifest_no_longer_covering_bag_info(f: Path) -> None:
    tag = f / bundle_layout.TAGMANIFEST
    tag.write_text("".join(line + "\n" for line in tag.read_text().splitlines()
                           if not line.endswith("  bag-info.txt")))


@case("data/captures/1/inner.zip was added")
def nested_zip_in_data(f: Path) -> None:
    (f / "data/captures/1/inner.zip").write_bytes(b"PK\x05\x06" + bytes(18))


@case("the seal does not match")
def audit_entry_changed_and_every_hash_redone(f: Path) -> None:
    audit = f / "data/audit.jsonl"
    audit.write_text(audit.read_text().replace('"export"', '"exported"', 1))
    relist(f, bundle_layout.MANIFEST, "data/audit.jsonl")
    reseal_tagmanifest(f)


@case("was added")
def original_renamed_to_a_lookalike(f: Path) -> None:
    (f / ORIGINAL).rename(f / "data/captures/1/origin\u0430l.png")


@case("is empty")
def empty_folder_added(f: Path) -> None:
    (f / "data/captures/7").mkdir()


CASE_NAMES = sorted(CASES)


@pytest.mark.parametrize("name", CASE_NAMES)
def test_verify_sh_fails_every_tampering_the_app_catches(name: str, sealed: Path) -> None:
    edit, words, app_catches = CASES[name]
    edit(sealed)
    for shell in ("sh", "bash"):
        done = run_sh(sealed, shell=shell)
        out = done.stdout + done.stderr
        assert done.returncode == 1, f"{shell}\n{out}"
        assert ALTERED in done.stdout, out
        assert INTACT not in out
        assert words in out, out
    assert not (sealed.parent / "PWNED").exists() and not (sealed / "PWNED").exists()
    report = verify_bundle(io.BytesIO(rezip(sealed)))
    assert report.ok is not app_catches, report.problems


def test_the_case_list_covers_what_the_task_names() -> None:
    for needed in ("replaced_picture", "replaced_picture_and_rewritten_manifest",
                   "rewritten_tagmanifest", "signature_by_another_key", "removed_payload_file",
                   "extra_corrected_report", "extra_unredacted_copy_in_data",
                   "manifest_path_with_quote_and_ampersand", "manifest_path_with_dot_dot",
                   "empty_folder_added"):
        assert needed in CASES


def test_verify_sh_passes_an_untouched_bundle_and_says_what_it_did_not_check(
        sample: hb.Sample, sealed: Path) -> None:
    for shell in ("sh", "bash"):
        done = run_sh(sealed, shell=shell)
        assert done.returncode == 0, done.stdout + done.stderr
        assert INTACT in done.stdout
        last = done.stdout.strip().splitlines()[-1]
        assert last.startswith("NOT CHECKED by this script:"), last
        assert sample.fingerprint in last and "by phone" in last
    assert verify_bundle(io.BytesIO(rezip(sealed))).ok
    # The copy inside the bundle, run as the README says, agrees.
    done = subprocess.run(["sh", "verify.sh"], cwd=sealed, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0 and INTACT in done.stdout, done.stdout + done.stderr


def test_verify_sh_shows_another_fingerprint_for_a_resealed_bundle(sample: hb.Sample,
                                                                    sealed: Path) -> None:
    """A forger who reseals everything with their own key gets a good seal: only the
    fingerprint, compared by phone, tells. The script must show the forger's."""
    other = Ed25519PrivateKey.from_private_bytes(sha(b"forger")[:32].encode())
    (sealed / ORIGINAL).write_bytes(hf.png())
    relist(sealed, bundle_layout.MANIFEST, ORIGINAL)
    identity = (sealed / bundle_layout.ALLOWED_SIGNERS).read_text().split()[0]
    (sealed / bundle_layout.ALLOWED_SIGNERS).write_text(
        f'{identity} namespaces="{bundle_layout.NAMESPACE}" {sshsig.public_key_line(other)}\n')
    reseal_tagmanifest(sealed)
    relist(sealed, bundle_layout.TAGMANIFEST, bundle_layout.ALLOWED_SIGNERS)
    (sealed / bundle_layout.SIGNATURE).write_text(sshsig.sign(
        other, (sealed / bundle_layout.TAGMANIFEST).read_bytes(), bundle_layout.NAMESPACE))
    done = run_sh(sealed)
    assert done.returncode == 0, done.stdout
    assert sshsig.fingerprint(other) in done.stdout.splitlines()[-1]
    assert sample.fingerprint not in done.stdout
    assert verify_bundle(io.BytesIO(rezip(sealed))).fingerprint == sshsig.fingerprint(other)


def test_verify_sh_without_ssh_keygen_proves_nothing(sealed: Path, tmp_path: Path) -> None:
    tools = tmp_path / "bin"
    tools.mkdir()
    for tool in ("sh", "find", "sed", "grep", "cut", "tr", "sort", "uniq", "comm", "cat",
                 "sha256sum", "mktemp", "rm", "awk", "openssl"):
        where = shutil.which(tool)
        assert where is not None
        (tools / tool).symlink_to(where)
    done = subprocess.run([str(tools / "sh"), str(DOCS / "verify.sh"), str(sealed)],
                          env={"PATH": str(tools)}, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "the seal was NOT checked" in done.stdout
    assert "RESULT: NOT VERIFIED" in done.stdout and INTACT not in done.stdout


# ---------------------------------------------------------------------------- timestamps


@pytest.fixture(scope="module")
def stamped(tmp_path_factory: pytest.TempPathFactory,
            tsa_server: LoopbackTsa) -> tuple[bytes, bytes]:
    """Two timestamped bundles of one vault (to swap a timestamp between them)."""
    from conftest import FAST_KDF, PASSPHRASE
    from test_bundle import fill

    from evidence_recorder.core.vault.store import Vault

    folder = tmp_path_factory.mktemp("stamped")
    with Vault.create(folder / "vault", PASSPHRASE, kdf=FAST_KDF)[0] as vault:
        fill(vault)
        options = ExportOptions(timestamp_url=tsa_server.url)
        first = export_bundle(vault, folder / "one.zip", options=options)
        second = export_bundle(vault, folder / "two.zip", options=options)
    return first.read_bytes(), second.read_bytes()


def test_verify_sh_checks_a_timestamp_only_with_the_authoritys_root(
        stamped: tuple[bytes, bytes], tsa_server: LoopbackTsa, tmp_path: Path) -> None:
    folder = unzip(stamped[0], tmp_path / "one")
    done = run_sh(folder)
    assert done.returncode == 0, done.stdout
    assert "Time stamp:" in done.stdout
    assert "the timestamp: made for this seal, but its authority NOT checked" in \
        done.stdout.splitlines()[-1]
    done = run_sh(folder, str(tsa_server.ca_pem_path))
    assert done.returncode == 0, done.stdout
    assert "the timestamp: checked against the root certificate you gave" in done.stdout
    # Another authority's root: the time is not confirmed, and the verdict says so.
    other = tmp_path / "other-root.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-keyout", str(tmp_path / "k"),
                    "-out", str(other), "-days", "2", "-subj", "/CN=Another root"],
                   check=True, capture_output=True, timeout=60)
    done = run_sh(folder, str(other))
    assert done.returncode == 1, done.stdout
    assert "RESULT: NOT VERIFIED. The files and the seal are intact, but the timestamp does " \
        "not verify" in done.stdout
    assert INTACT not in done.stdout


@pytest.mark.parametrize("with_root", [False, True])
def test_verify_sh_fails_a_timestamp_swapped_from_another_bundle(
        stamped: tuple[bytes, bytes], tsa_server: LoopbackTsa, tmp_path: Path,
        with_root: bool) -> None:
    folder = unzip(stamped[0], tmp_path / "one")
    other = unzip(stamped[1], tmp_path / "two")
    shutil.copy(other / bundle_layout.TIMESTAMP, folder / bundle_layout.TIMESTAMP)
    done = run_sh(folder, *([str(tsa_server.ca_pem_path)] if with_root else []))
    assert done.returncode == 1, done.stdout
    assert "the timestamp was not made for this seal" in done.stdout
    assert ALTERED in done.stdout
    assert not verify_bundle(io.BytesIO(rezip(folder))).ok


def test_verify_sh_fails_a_damaged_timestamp(stamped: tuple[bytes, bytes],
                                             tmp_path: Path) -> None:
    folder = unzip(stamped[0], tmp_path / "one")
    stamp = folder / bundle_layout.TIMESTAMP
    stamp.write_bytes(stamp.read_bytes()[:-40])
    done = run_sh(folder)
    assert done.returncode == 1, done.stdout
    assert ALTERED in done.stdout
    assert not verify_bundle(io.BytesIO(rezip(folder))).ok


# ---------------------------------------------------------------------------- verify.cmd
#
# Windows is not here, and Wine 8's findstr, certutil and where do nothing (they print
# nothing and succeed), so verify.cmd cannot run for real on this machine. These tests
# read it: the order of its checks, and its findstr patterns applied (as the regular
# expressions they are) to the same tampered manifests verify.sh refuses.

CMD = (DOCS / "verify.cmd").read_bytes().decode("ascii")
CMD_LINES = CMD.split("\r\n")
VALIDATION = re.compile(r'^findstr /r (/v )?/c:"([^"]+)" (manifest-sha256\.txt|tagmanifest-sha256'
                        r'\.txt) >nul 2>nul && set "lists="$')
PATH_VARIABLES = ("found", "name", "file", "want", "got", "identity", "bundle")


def line_of(text: str) -> int:
    return next(n for n, line in enumerate(CMD_LINES) if text in line)


def test_verify_cmd_validates_every_manifest_line_before_using_it() -> None:
    checks = [n for n, line in enumerate(CMD_LINES) if VALIDATION.match(line)]
    assert len(checks) == 4
    first_use = min(n for n, line in enumerate(CMD_LINES)
                    if "manifest-sha256.txt" in line and ("for /f" in line or "call :" in line))
    assert max(checks) < line_of('if not defined lists (') < first_use
    assert CMD_LINES[line_of('if not defined lists (') + 4].strip() == "goto seal"
    # The manifests are read in one place only, the :check routine, after the gate.
    readers = [n for n, line in enumerate(CMD_LINES) if line.lstrip().startswith("for /f")
               and '("%~1")' in line]
    assert len(readers) == 1 and readers[0] > line_of(":check")
    assert [line.strip() for line in CMD_LINES if line.strip().startswith("call ")] == [
        "call :check manifest-sha256.txt", "call :check tagmanifest-sha256.txt",
        "call :listed"]


def test_verify_cmd_checks_the_tagmanifest_the_listing_and_the_seal() -> None:
    assert line_of("call :check tagmanifest-sha256.txt") > 0
    assert "dir /s /b /a-d" in CMD and "dir /s /b /ad" in CMD and "dir /s /b /al" in CMD
    assert 'findstr /x /l /i /c:"!name!" "!work!\\listed"' in CMD
    for name in ("tagmanifest-sha256.txt", "tagmanifest-sha256.txt.sig",
                 "tagmanifest-sha256.txt.sig.tsr"):
        assert f"echo {name}>>\"%work%\\listed\"" in CMD
    assert ('ssh-keygen -Y verify -f allowed_signers -I "%identity%" -n evidence-recorder-bundle'
            " -s tagmanifest-sha256.txt.sig < tagmanifest-sha256.txt") in CMD
    assert line_of('findstr /r /x /c:"evidence-recorder-vault-') < line_of("ssh-keygen -Y verify")
    assert "where ssh-keygen" in CMD and "the seal was NOT checked" in CMD
    assert "The trusted timestamp was NOT checked" in CMD


def test_verify_cmd_never_percent_expands_a_name_from_the_bundle() -> None:
    """%VAR% is expanded before cmd.exe parses a line, so a name holding " & | would run
    commands; names are only read as !VAR! (after parsing) or as FOR variables."""
    for variable in PATH_VARIABLES:
        uses = re.findall(rf"%{variable}%", CMD, re.IGNORECASE)
        if variable in ("identity", "bundle"):
            # The identity after findstr /x has checked it; the folder the user gave.
            assert variable != "identity" or len(uses) == 1
            continue
        assert not uses, variable
    # Delayed expansion is on only where the text it reads has been checked (or comes
    # from a variable set while it was off).
    enabled = [n for n, line in enumerate(CMD_LINES) if "EnableDelayedExpansion" in line]
    assert len(enabled) == 3
    for n in enabled:
        assert n > line_of(":check") or CMD_LINES[n + 2].startswith("for /l")


def test_verify_cmd_trusts_no_exit_status_of_a_built_in() -> None:
    """cmd.exe's built-ins (cd, mkdir) do not all set an exit status that || can read;
    their failure is checked with if errorlevel / if exist instead."""
    for line in CMD_LINES:
        if re.match(r"\s*(cd|mkdir|md|set|echo|type)\b", line, re.IGNORECASE):
            assert "||" not in line, line


def test_verify_cmd_character_classes_are_spelled_out() -> None:
    """findstr's ranges ([a-z]) follow collation order and take other characters too."""
    for line in CMD_LINES:
        for klass in re.findall(r"\[\^?([^\]]*)\]", line):
            if "findstr" not in line:
                continue
            assert not re.search(r"[0-9A-Za-z]-[0-9A-Za-z]", klass), line
            assert set(klass) <= set("0123456789abcdefghijklmnopqrstuvwxyz"
                                     "ABCDEFGHIJKLMNOPQRSTUVWXYZ ._/-"), line
            assert "-" not in klass or klass.endswith("-"), line


def cmd_refuses(folder: Path) -> bool:
    """What verify.cmd's findstr gate and :check line tests make of these manifests."""
    patterns = [VALIDATION.match(line) for line in CMD_LINES]
    for found in filter(None, patterns):
        inverted, pattern, manifest = found.groups()
        lines = (folder / manifest).read_bytes().decode("latin-1").split("\n")
        lines = lines[:-1] if lines and lines[-1] == "" else lines
        hits = [line for line in lines if re.search(pattern, line)]
        if (len(hits) < len(lines)) if inverted else hits:
            return True
    for condition in ('if "!want:~63,1!"=="" set "bad=1"', 'if not "!want:~64!"=="" set "bad=1"',
                      'if not "!name: =!"=="!name!" set "bad=1"',
                      'if not "!name:..=!"=="!name!" set "bad=1"',
                      'if not "!name://=!"=="!name!" set "bad=1"',
                      'if "!name:~-1!"=="/" set "bad=1"'):
        assert condition in CMD
    for manifest in (bundle_layout.MANIFEST, bundle_layout.TAGMANIFEST):
        for line in (folder / manifest).read_text(encoding="latin-1").splitlines():
            want, _, name = line.lstrip(" ").partition(" ")
            name = name.lstrip(" ")
            if len(want) != 64 or " " in name or ".." in name or "//" in name \
                    or name.endswith("/"):
                return True
    return False


PATH_CASES = sorted(n for n in CASES if n.startswith(("manifest_path", "manifest_absolute",
                                                      "tagmanifest_path")))


@pytest.mark.parametrize("name", PATH_CASES)
def test_verify_cmd_refuses_the_hostile_manifest_paths(name: str, sealed: Path) -> None:
    assert not cmd_refuses(sealed)
    CASES[name][0](sealed)
    assert cmd_refuses(sealed)


@pytest.mark.parametrize("line", ["data/captures/1/../../../x", "data/captures//x",
                                  "data/captures/1/", "data/a b.png", "data/a\tb.png",
                                  "data/a!b.png", "data/(x).png", "data/x>y", "data/caf\u00e9"])
def test_verify_cmd_refuses_odd_payload_names(line: str, sealed: Path) -> None:
    add_line(sealed, bundle_layout.MANIFEST, f"{sha(b'x')}  {line}")
    assert cmd_refuses(sealed)
