"""A corpus of crafted hostile bundles and imports, each with the verdict it must get.

Every case (see :mod:`hostile_bundles`) must end in a plain refusal: a problem in
``verify_bundle``'s report, or an :class:`EvidenceError` with a one-line message,
never another exception, within seconds, without writing anything beside it. The
bomb cases run in a child process limited to 1 GiB of address space, so a reader that
believed a bomb would die there instead of taking the test machine with it.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import hostile_bundles as hb
import hostile_files as hf
import pytest

from evidence_recorder.core.bundle.check import verify_bundle
from evidence_recorder.core.bundle.opened import open_bundle
from evidence_recorder.core.errors import RefusedInput
from evidence_recorder.core.gather import images

TESTS = Path(__file__).resolve().parent
TIME_LIMIT = 10.0  # seconds a case may take: a sanity bound, not a benchmark


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> hb.Sample:
    return hb.seal_sample(tmp_path_factory.mktemp("hostile-sample"))


def listing(folder: Path) -> dict[str, int]:
    return {str(p.relative_to(folder)): p.stat().st_size for p in sorted(folder.rglob("*"))}


def judge_in_child(case: hb.Case, path: Path) -> dict[str, Any]:
    args = [sys.executable, str(TESTS / "hostile_bundles.py"), case.target, str(path)]
    if case.passphrase is not None:
        args.append(case.passphrase)
    done = subprocess.run(args, capture_output=True, text=True, timeout=120, check=False,
                          cwd=path.parent, env={**os.environ, "PYTHONPATH": str(TESTS)})
    assert done.returncode == 0, f"the child died: {done.stderr[-2000:]}"
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def assert_plain(text: str) -> None:
    assert text, "an empty message"
    assert "\n" not in text and "\r" not in text, f"not one line: {text!r}"
    assert "Traceback" not in text, text


@pytest.mark.parametrize("name", sorted(hb.CASES))
def test_hostile_case_gets_a_plain_verdict(name: str, sample: hb.Sample,
                                           tmp_path: Path) -> None:
    case = hb.CASES[name](sample)
    place = tmp_path / "place"
    place.mkdir()
    path = place / f"{name}{case.suffix}"
    path.write_bytes(case.data)
    before = listing(tmp_path)
    temp_before = sorted(os.listdir(tempfile.gettempdir()))

    start = time.monotonic()
    result = judge_in_child(case, path) if case.bomb else hb.judge(case.target, path,
                                                                    case.passphrase)
    elapsed = time.monotonic() - start

    assert listing(tmp_path) == before, "the case wrote or removed files"
    assert sorted(os.listdir(tempfile.gettempdir())) == temp_before, "temp files were left"
    assert result["seconds"] < TIME_LIMIT, f"{name} took {result['seconds']:.1f} s"
    assert elapsed < TIME_LIMIT + (10 if case.bomb else 0)
    if result["raised"] is not None:
        assert result["evidence_error"], f"{name}: a bug escaped: {result['raised']}: " \
                                         f"{result['message']}"
        assert_plain(result["message"])
    for problem in result["problems"] + result.get("open_problems", []):
        assert_plain(problem)

    if case.target == "import":
        if case.accepted:
            assert result["accepted"], result
            if case.extra.get("trailing", True):
                assert result["bytes_after_image"], "the trailing bytes were not reported"
            else:
                assert result["bytes_after_image"] == 0, result
        else:
            assert not result["accepted"], f"{name} was imported"
            assert result["raised"] in ("RefusedInput", "NotAPicture"), result
            assert any(word in result["message"] for word in case.expect), result["message"]
        return

    if case.error is not None:
        assert result["raised"] == case.error, result
        assert any(word in result["message"] for word in case.expect), result["message"]
        return
    assert result.get("ok") is False, f"{name} was reported as sound"
    assert any(word in p for p in result["problems"] for word in case.expect), \
        result["problems"]
    assert result.get("open_ok") is not True, "open_bundle said it was sound"
    if result["raised"] is not None:  # open_bundle refused it outright
        assert result["raised"] in ("RefusedInput", "EvidenceError"), result


def test_corpus_is_big_enough() -> None:
    assert len(hb.CASES) >= 25


def test_the_sample_itself_is_sound(sample: hb.Sample) -> None:
    report = verify_bundle(io.BytesIO(sample.sealed))
    assert report.ok, report.problems
    assert report.fingerprint == sample.fingerprint


def test_bytes_from_memory_get_the_same_verdict(sample: hb.Sample) -> None:
    """The in-memory path (a file object) must refuse as the file path does."""
    for name in ("path_traversal", "symlink_entry", "duplicate_names", "two_top_folders",
                 "missing_signature", "truncated_bundle_half", "nul_in_name"):
        case = hb.CASES[name](sample)
        report = verify_bundle(io.BytesIO(case.data))
        assert not report.ok, name
        assert any(word in p for p in report.problems for word in case.expect), name


def test_bytes_prepended_to_a_sealed_bundle_are_flagged(sample: hb.Sample) -> None:
    report = verify_bundle(io.BytesIO(hf.png() + sample.sealed))
    assert not report.ok


# ------------------------------------------------------------------ imports on disk


def test_import_of_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    start = time.monotonic()
    with pytest.raises(RefusedInput, match="pipe"):
        images.read_import_file(fifo)
    assert time.monotonic() - start < TIME_LIMIT


def test_import_of_a_symlink_to_a_device_is_refused(tmp_path: Path) -> None:
    link = tmp_path / "zeros.png"
    link.symlink_to("/dev/zero")
    with pytest.raises(RefusedInput, match="device"):
        images.read_import_file(link)


def test_import_of_a_huge_sparse_file_is_refused_unread(tmp_path: Path) -> None:
    big = tmp_path / "huge.png"
    with big.open("wb") as fh:
        fh.write(hf.png())
        fh.truncate(images.MAX_IMPORT_BYTES + 1)
    start = time.monotonic()
    with pytest.raises(RefusedInput) as caught:
        images.read_import_file(big)
    assert_plain(caught.value.message)
    assert time.monotonic() - start < 2


def test_open_bundle_refuses_a_non_bundle_plainly(tmp_path: Path) -> None:
    path = tmp_path / "x.zip"
    path.write_bytes(hf.TEXT)
    with pytest.raises(RefusedInput) as caught:
        open_bundle(path)
    assert_plain(caught.value.message)
