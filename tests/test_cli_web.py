"""capture-web, recheck and show of web items, run in-process as scripts use them.

The browser is stood in for: ``evidence_recorder.web`` is replaced by a module whose
``capture_page`` returns a hand-built PageRecord (the real browser is tested end to end
elsewhere). Everything after it is real: the vault, the WARC, list, show and extract.
"""

from __future__ import annotations

import hashlib
import io
import json
import sys
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import PASSPHRASE
from PIL import Image
from web_records import page

from evidence_recorder import cli
from evidence_recorder.core.gather.webpage import LoadState, PageRecord, TlsFacts

URL = "https://127.0.0.1:8443/post/1"


class Browser:
    """The stand-in browser: what it was asked to do, and what it hands back."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.record: PageRecord = page(URL)
        self.error: Exception | None = None

    def capture_page(self, url: str, **options: Any) -> PageRecord:
        self.calls.append((url, options))
        if self.error is not None:
            raise self.error
        return self.record


class WebUnavailable(Exception):  # the browser package's name for it
    pass


@pytest.fixture
def browser(monkeypatch: pytest.MonkeyPatch) -> Browser:
    fake = Browser()
    module = types.ModuleType("evidence_recorder.web")
    module.capture_page = fake.capture_page  # type: ignore[attr-defined]
    module.prepare = lambda: None  # type: ignore[attr-defined]
    module.WebUnavailable = WebUnavailable  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "evidence_recorder.web", module)
    return fake


@pytest.fixture
def run(closed_vault: Path, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> Callable[..., tuple[int, str, str]]:
    secret = tmp_path / "passphrase.txt"
    secret.write_text(PASSPHRASE + "\n", encoding="utf-8")

    def _run(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = cli.main(["--vault", str(closed_vault), "--passphrase-file", str(secret),
                         *args])
        out, err = capsys.readouterr()
        return code, out, err

    return _run


def _json(run: Callable[..., tuple[int, str, str]], *args: str) -> Any:
    code, out, err = run(*args)
    assert code == 0, err
    return json.loads(out)


def test_capture_web_keeps_the_page_and_says_what_it_kept(browser: Browser, run) -> None:  # type: ignore[no-untyped-def]
    code, out, err = run("capture-web", URL, "--author", "J. Smith", "--category", "threat")
    assert code == 0, err
    assert browser.calls == [(URL, {"visible_only": False, "panel": None, "wait": 0.0,
                                    "timeout": 60.0})]
    lines = out.splitlines()
    assert lines[0].startswith("Saved web page 1: “A post”, captured 2026-11-25T11:52:25.123Z")
    assert lines[1] == ("Kept: a picture of the whole page in 2 parts, what was on screen, "
                        "the page as shown (MHTML), its network traffic (WARC, 2 responses), "
                        "the site's certificate chain.")
    assert lines[2] == "What the page showed: the page loaded (the server answered 200)."
    assert lines[3] == "Nothing of it was written to disk outside the vault."
    assert "split into 2 parts; none of it was cut" in err
    items = _json(run, "list", "--json")
    assert [(i["id"], i["kind"], i["title"], i["url"], i["author"]) for i in items] == [
        (1, "web", "A post", URL, "J. Smith")]


def test_capture_web_passes_its_options_to_the_browser(browser: Browser, run) -> None:  # type: ignore[no-untyped-def]
    browser.record = page(URL, full_page=())
    code, out, err = run("capture-web", URL, "--visible-only", "--wait", "2.5",
                         "--timeout", "30")
    assert code == 0, err
    assert browser.calls[0][1] == {"visible_only": True, "panel": None, "wait": 2.5,
                                   "timeout": 30.0}
    assert "Kept: a picture of what was on screen," in out
    code, _, err = run("capture-web", URL, "--panel", " div.thread ")
    assert code == 0, err
    assert browser.calls[1][1]["panel"] == "div.thread"


def test_capture_web_says_every_warning(browser: Browser, run) -> None:  # type: ignore[no-untyped-def]
    record = page(URL, load_state=LoadState.TIMED_OUT, http_status=404,
                  tls=TlsFacts(protocol="TLS 1.3", error="The certificate has expired."),
                  notes=["The page kept loading more posts; it was captured after 60 seconds."])
    browser.record = record
    code, out, err = run("capture-web", URL)
    assert code == 0
    assert ("Note: The browser reported a problem with the site's certificate: The "
            "certificate has expired. (this is recorded with the page).") in err
    assert "Note: The page was still loading when time ran out" in err
    assert "Note: The page kept loading more posts" in err
    assert ("What the page showed: the server answered 404 (not found) (the page was "
            "still loading when it was captured).") in out.splitlines()


def test_show_prints_a_web_item_and_json_has_its_facts(browser: Browser, run) -> None:  # type: ignore[no-untyped-def]
    browser.record = page(URL, tls=TlsFacts(protocol="TLS 1.3", error="Not trusted."))
    assert run("capture-web", URL)[0] == 0
    code, out, _ = run("show", "1")
    assert code == 0
    shown = dict(line.split(": ", 1) for line in out.splitlines())
    shown = {k.strip(): v.strip() for k, v in shown.items()}
    leaf_sha = hashlib.sha256(browser.record.certificate_chain[0]).hexdigest()
    assert shown["Address"] == URL
    assert shown["Title"] == "A post"
    assert shown["HTTP status"] == "200"
    assert shown["Server"] == "127.0.0.1"
    assert shown["Certificate subject"] == "CN=127.0.0.1"
    assert shown["Certificate issuer"] == "CN=Evidence Test Root,O=Test CA\\, Ltd,C=GB"
    assert shown["Certificate valid"] == "2026-01-01T00:00:00.000Z to 2027-01-01T00:00:00.000Z"
    assert shown["Certificate SHA-256"] == leaf_sha
    assert shown["Certificate problem"] == "Not trusted."
    assert shown["Whole page"] == "2 parts"
    assert shown["Page state"] == "available — the page loaded (the server answered 200)"
    full = _json(run, "show", "1", "--json")
    assert (full["final_url"], full["http_status"], full["server_ip"],
            full["certificate_sha256"]) == (URL, 200, "127.0.0.1", leaf_sha)
    assert full["web"]["certificate_error"] == "Not trusted."
    assert full["checks"] == []
    assert [a["name"] for a in full["artefacts"]] == [
        "full-page-1.png", "full-page-2.png", "visible.png", "page.mhtml", "network.warc.gz",
        "certificate-chain.pem"]


def test_extract_writes_each_file_of_a_web_item(browser: Browser, run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert run("capture-web", URL)[0] == 0
    full = _json(run, "show", "1", "--json")
    for artefact in full["artefacts"]:
        out = tmp_path / artefact["name"]
        code, said, err = run("extract", "1", "--artefact", artefact["name"], "--out", str(out))
        assert code == 0, err
        assert hashlib.sha256(out.read_bytes()).hexdigest() == artefact["sha256"]
        assert f"Wrote {artefact['name']} of capture 1" in said
    assert (tmp_path / "page.mhtml").read_bytes() == browser.record.mhtml
    main = tmp_path / "main.png"
    assert run("extract", "1", "--out", str(main))[0] == 0
    assert main.read_bytes() == browser.record.full_page[0].png


@pytest.mark.parametrize(("url", "words"), [
    ("file:///etc/passwd", "“file:” address cannot"),
    ("data:text/html,hello", "“data:” address cannot"),
    ("javascript:alert(1)", "“javascript:” address cannot"),
    ("https://example.org/" + "a" * 9000, "too long"),
    ("www.example.org/post", "starting with https://"),
])
def test_capture_web_refuses_other_addresses_plainly(browser: Browser, run, url: str,  # type: ignore[no-untyped-def]
                                                     words: str) -> None:
    code, out, err = run("capture-web", url)
    assert code == cli.EXIT_REFUSED
    assert words in err and len(err.strip().splitlines()) == 1
    assert browser.calls == [] and out == ""


@pytest.mark.parametrize("args", [
    ["--wait", "-1"], ["--wait", "601"], ["--timeout", "0"], ["--timeout", "nan"],
    ["--panel", "div\nb"], ["--panel", "   "],
])
def test_capture_web_refuses_bad_options(browser: Browser, run, args: list[str]) -> None:  # type: ignore[no-untyped-def]
    code, _, err = run("capture-web", URL, *args)
    assert code == cli.EXIT_USAGE
    assert len(err.strip().splitlines()) == 1
    assert browser.calls == []


def test_visible_only_and_panel_do_not_go_together(browser: Browser, run) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SystemExit) as stopped:
        run("capture-web", URL, "--visible-only", "--panel", "div")
    assert stopped.value.code == cli.EXIT_USAGE


def test_a_page_that_could_not_load_is_not_saved(browser: Browser, run) -> None:  # type: ignore[no-untyped-def]
    browser.record = page(URL, load_state=LoadState.FAILED, http_status=None)
    code, _, err = run("capture-web", URL)
    assert code == 1
    assert err.strip() == ("The page could not be loaded (nothing could be loaded from it; "
                           "the browser could not reach the address). Nothing was saved.")
    assert _json(run, "list", "--json") == []


def test_a_browser_that_cannot_start_says_so_plainly(browser: Browser, run) -> None:  # type: ignore[no-untyped-def]
    browser.error = WebUnavailable("The web browser cannot run as the administrator.")
    code, _, err = run("capture-web", URL)
    assert code == 1
    assert err.strip() == "The web browser cannot run as the administrator."


def test_capture_web_help_says_what_it_records_and_keeps_nothing_outside(  # type: ignore[no-untyped-def]
        capsys) -> None:
    with pytest.raises(SystemExit):
        cli.main(["capture-web", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "Nothing is kept on disk outside the vault" in text
    for words in ("MHTML", "WARC", "certificate chain", "HTTP status", "--visible-only",
                  "--panel", "--wait", "--timeout", "--author", "--incident"):
        assert words in text, words


def test_recheck_keeps_a_new_item_linked_to_the_first(browser: Browser, run) -> None:  # type: ignore[no-untyped-def]
    incident = run("incident", "new", "--title", "Group posts")
    assert incident[0] == 0
    assert run("capture-web", URL, "--incident", "2")[0] == 0
    browser.record = page(URL, http_status=404, text_sample="Not found")
    code, out, err = run("recheck", "1", "--timeout", "20")
    assert code == 0, err
    assert out.strip() == ("Checked again as #2: the page is gone — the server answered 404 "
                           "(not found).")
    assert browser.calls[-1] == (URL, {"visible_only": False, "panel": None, "wait": 0.0,
                                       "timeout": 20.0})
    second = _json(run, "show", "2", "--json")
    assert second["web"]["recheck_of"] == 1 and second["incident"] == 2
    assert second["web"]["page_state"] == "gone"
    first = _json(run, "show", "1", "--json")
    assert first["checks"] == [{"id": 2, "captured_at": second["captured_at"],
                                "page_state": "gone"}]
    code, out, _ = run("show", "1")
    checked = [line for line in out.splitlines() if line.startswith("Checked again:")]
    assert len(checked) == 1 and "#2 on " in checked[0] and checked[0].endswith(": gone")
    code, out, _ = run("show", "2")
    assert "Checks again:" in out and "#1" in out


def test_recheck_of_a_page_still_there_does_not_overclaim(browser: Browser, run) -> None:  # type: ignore[no-untyped-def]
    assert run("capture-web", URL)[0] == 0
    code, out, _ = run("recheck", "1")
    assert code == 0
    assert out.strip() == ("Checked again as #2: the page loaded (the server answered 200); "
                           "compare the pictures to see whether the post is still on it.")


def test_recheck_refuses_what_is_not_a_web_page(browser: Browser, run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    picture = tmp_path / "shot.png"
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), (10, 120, 200)).save(buf, "PNG")
    picture.write_bytes(buf.getvalue())
    assert run("import", str(picture))[0] == 0
    code, _, err = run("recheck", "1")
    assert code == cli.EXIT_REFUSED
    assert err.strip() == ("Capture 1 is an imported picture, not a web page, so there is no "
                           "address to check again.")
    code, _, err = run("recheck", "9")
    assert code == 1 and err.strip() == "There is no capture 9 in this vault."
    assert browser.calls == []


def test_show_of_a_picture_has_no_web_lines_or_checks(browser: Browser, run,  # type: ignore[no-untyped-def]
                                                      tmp_path: Path) -> None:
    picture = tmp_path / "shot.png"
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), (10, 120, 200)).save(buf, "PNG")
    picture.write_bytes(buf.getvalue())
    assert run("import", str(picture))[0] == 0
    full = _json(run, "show", "1", "--json")
    assert "checks" not in full and "final_url" not in full
    assert "Address:" not in run("show", "1")[1]
