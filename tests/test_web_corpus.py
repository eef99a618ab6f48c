"""Saved real web pages, served on 127.0.0.1, captured and kept as evidence.

Each page in ``../shared/corpora/web-pages/`` (19 pages from Mozilla Readability's
test suite: news, blogs, comment threads, a long Wikipedia article, five languages;
see its PROVENANCE.md and INDEX.tsv) is served on 127.0.0.1, captured with
``web.capture_page`` and kept with ``core.gather.web.save_page`` in a real vault:

- the full-page picture (its parts, decoded) is as tall as the document's scroll height
  times the device pixel ratio: the whole page, nothing cut;
- the final URL, the HTTP status and the title (what a browser shows as
  ``document.title``, INDEX.tsv's ``<title>`` column) are recorded;
- the MHTML reopens (the standard library's e-mail parser reads it as
  multipart/related with the page's HTML in it);
- the WARC passes ``warcio check`` and warcio's ArchiveIterator reads the page's own
  response from it;
- every artefact's hash, read back from the vault, is in the audit log's
  ``capture.added`` entry;
- nothing left this computer: the test runs in a network namespace with only loopback
  (scripts/isolated, which scripts/test uses; the test checks it), and every response
  the browser recorded came from 127.0.0.1. These pages name dozens of outside hosts;
  the browser's loopback-only rule blocks those requests (ER_WEB_LOOPBACK_ONLY=1).

Skipped, saying why, when the corpus is absent or the run is not inside
scripts/isolated (failed instead in CI, where CI=true). Each test has its own vault;
the servers are threads (one set per module), so the tests also run in parallel
(pytest-xdist) if wanted.
"""

from __future__ import annotations

import csv
import email
import email.policy
import hashlib
import io
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from PIL import Image

from evidence_recorder.core.model import CaptureKind
from evidence_recorder.core.vault.store import Vault

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / ".." / "shared" / "corpora" / "web-pages"
TITLE_COLUMN = "html_<title>_element(what a browser shows as document.title)"


def _index() -> dict[str, dict[str, str]]:
    index = CORPUS / "INDEX.tsv"
    if not index.is_file():
        return {}
    with index.open(encoding="utf-8", newline="") as f:
        return {row["page"]: row for row in csv.DictReader(f, delimiter="\t",
                                                          quoting=csv.QUOTE_NONE)}


INDEX = _index()

pytestmark = [
    pytest.mark.skipif(not INDEX, reason=f"the saved web pages are not at {CORPUS} "
                                         "(../shared/corpora/web-pages)"),
    # QtWebEngine's start-up on a machine without a GPU (offscreen, Xvfb): it says it
    # falls back to software rendering. Nothing else is let through (the page's own
    # console output never reaches the log: web/page.py drops it).
    pytest.mark.qt_log_ignore(r"^QRhiGles2: Failed to create", r"^Failed to create RHI",
                              r"^QVulkanInstance: Failed to initialize Vulkan",
                              r"^GBM is not supported", r"^GPUInfo not initialized"),
]


def _interfaces() -> list[str]:
    """This process's network namespace's interfaces, from /proc/self/net/dev."""
    lines = Path("/proc/self/net/dev").read_text().splitlines()[2:]
    return [line.split(":")[0].strip() for line in lines]


@pytest.fixture(scope="module")
def corpus_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Inside scripts/isolated, with the browser's own loopback-only rule on: the
    corpus served under /corpus/ on 127.0.0.1 by tests/webserver.py."""
    from webserver import network_is_loopback_only, start_servers

    if os.environ.get("ER_ISOLATED") != "1":
        reason = ("the saved pages name dozens of outside hosts: these tests run only "
                  "inside scripts/isolated, a network namespace with only loopback "
                  "(scripts/test runs every test there)")
        if os.environ.get("CI") == "true":  # .ci/run: never silently skipped there
            pytest.fail(reason)
        pytest.skip(reason)
    # Where scripts/isolated says we are, there must be nothing but loopback.
    assert _interfaces() == ["lo"]
    assert network_is_loopback_only()
    saved = {name: os.environ.get(name)
             for name in ("ER_WEB_LOOPBACK_ONLY", "QTWEBENGINE_DISABLE_SANDBOX")}
    os.environ["ER_WEB_LOOPBACK_ONLY"] = "1"
    if os.geteuid() == 0:  # QtWebEngine refuses root with its sandbox on; tests only
        os.environ["QTWEBENGINE_DISABLE_SANDBOX"] = "1"
    servers = start_servers(tmp_path_factory.mktemp("corpus-tls"), CORPUS)
    try:
        yield servers
    finally:
        servers.close()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _png_height(png: bytes) -> int:
    with Image.open(io.BytesIO(png)) as image:
        return int(image.size[1])


@pytest.mark.parametrize("page", sorted(INDEX))
def test_saved_page_is_captured_whole_and_kept(page: str, corpus_server: Any,
                                               vault: Vault, tmp_path: Path) -> None:
    from warcio.archiveiterator import ArchiveIterator

    from evidence_recorder import web
    from evidence_recorder.core.gather.web import save_page

    url = corpus_server.url(f"/corpus/{page}/source.html")
    assert urlsplit(url).hostname == "127.0.0.1"
    record = web.capture_page(url)
    item_id = save_page(vault, record)

    # The address, status and title, as the browser had them.
    assert record.final_url == url
    assert record.http_status == 200
    assert record.title == INDEX[page][TITLE_COLUMN]
    item = vault.capture(item_id)
    assert str(item.kind) == CaptureKind.WEB.value
    assert item.web is not None and item.web.final_url == url

    # The whole page: the parts, decoded, are as tall as the document times the dpr.
    assert record.scroll_height > 0 and record.full_page
    heights = [_png_height(part.png) for part in record.full_page]
    assert heights == [part.height for part in record.full_page]
    assert sum(heights) == round(record.scroll_height * record.device_pixel_ratio)
    assert not [n for n in record.notes if "stops at" in n or "captured down to" in n], \
        record.notes

    # What the vault keeps, read back: the pictures, the MHTML, the WARC.
    names = {a.name for a in vault.artefacts(item_id)}
    stored_parts = sorted(n for n in names if n.startswith("full-page"))
    assert len(stored_parts) == len(record.full_page)
    assert sum(_png_height(vault.artefact_bytes(item_id, n)) for n in stored_parts) \
        == sum(heights)

    mhtml = email.message_from_bytes(vault.artefact_bytes(item_id, "page.mhtml"),
                                     policy=email.policy.default)
    assert mhtml.get_content_type() == "multipart/related"
    html_parts = [p for p in mhtml.walk() if p.get_content_type() == "text/html"]
    assert html_parts and html_parts[0].get_payload(decode=True)

    warc = tmp_path / "network.warc.gz"
    warc.write_bytes(vault.artefact_bytes(item_id, "network.warc.gz"))
    checked = subprocess.run([sys.executable, "-m", "warcio.cli", "check", str(warc)],
                             capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    with warc.open("rb") as f:
        responses = {r.rec_headers.get_header("WARC-Target-URI"): r
                     for r in ArchiveIterator(f) if r.rec_type == "response"}
    assert url in responses

    # Every artefact's hash, as read back now, is in the log's capture.added entry.
    [added] = [e for e in vault.audit_entries()
               if e.action == "capture.added" and e.details.get("capture") == item_id]
    logged = {a["name"]: a["sha256"] for a in added.details["artefacts"]}
    assert logged == {n: hashlib.sha256(vault.artefact_bytes(item_id, n)).hexdigest()
                      for n in names}

    # Nothing beyond this computer: only loopback here, and every response the browser
    # recorded came from 127.0.0.1 (or was inline).
    assert _interfaces() == ["lo"]
    assert record.responses
    for response in record.responses:
        scheme = urlsplit(response.url).scheme
        assert scheme == "data" or urlsplit(response.url).hostname == "127.0.0.1", \
            response.url
