"""A captured page becomes a web item: its files hashed at intake, a WARC that warcio
validates, a certificate chain that openssl reads, honest judging of gone pages, and the
link from a later check to the page it checked."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography import x509
from PIL import Image
from warcio.archiveiterator import ArchiveIterator
from web_records import (
    NOT_AFTER,
    NOT_BEFORE,
    WHEN,
    page,
    picture,
    png,
    response,
    tall_png,
)

from evidence_recorder.core.errors import CaptureFailed, NotFound, RefusedInput
from evidence_recorder.core.gather import web
from evidence_recorder.core.gather.webpage import LoadState, PagePicture
from evidence_recorder.core.model import (
    ArtefactRole,
    CaptureDetails,
    CaptureKind,
    PageState,
    iso_utc,
)
from evidence_recorder.core.vault.store import Vault

WARCIO = Path(sys.executable).with_name("warcio")


def _records(warc: bytes) -> list[tuple[str, dict[str, str], bytes, object]]:
    """Every record: (type, WARC headers, payload, http headers), digests checked."""
    out = []
    for record in ArchiveIterator(io.BytesIO(warc), check_digests="raise"):
        payload = record.content_stream().read()
        out.append((record.rec_type, dict(record.rec_headers.headers), payload,
                    record.http_headers))
    return out


# ------------------------------------------------------------------------ save_page


def test_a_page_is_kept_with_every_file_hashed_and_audited(vault: Vault) -> None:
    record = page()
    item_id = web.save_page(vault, record)
    item = vault.capture(item_id)
    assert item.kind is CaptureKind.WEB
    names = {a.name: a for a in item.artefacts}
    assert list(names) == ["full-page-1.png", "full-page-2.png", "visible.png", "page.mhtml",
                           "network.warc.gz", "certificate-chain.pem"]
    roles = {n: (a.role, a.media_type) for n, a in names.items()}
    assert roles == {
        "full-page-1.png": (ArtefactRole.FULL_PAGE, "image/png"),
        "full-page-2.png": (ArtefactRole.FULL_PAGE, "image/png"),
        "visible.png": (ArtefactRole.VISIBLE, "image/png"),
        "page.mhtml": (ArtefactRole.PAGE_ARCHIVE, "multipart/related"),
        "network.warc.gz": (ArtefactRole.NETWORK_ARCHIVE, "application/warc"),
        "certificate-chain.pem": (ArtefactRole.CERTIFICATE, "application/x-pem-file"),
    }
    assert item.primary is not None and item.primary.name == "full-page-1.png"
    # the bytes handed over are the bytes kept, and their hashes are the ones recorded
    handed = {"full-page-1.png": record.full_page[0].png,
              "full-page-2.png": record.full_page[1].png,
              "visible.png": record.visible.png if record.visible else b"",
              "page.mhtml": record.mhtml}
    for name, data in handed.items():
        assert vault.artefact_bytes(item_id, name) == data
        assert names[name].sha256 == hashlib.sha256(data or b"").hexdigest()
    assert item.sha256 == names["full-page-1.png"].sha256
    assert (item.width, item.height) == (1280, 2400)
    added = [e for e in vault.audit_entries() if e.action == "capture.added"][-1]
    logged = {a["name"]: a["sha256"] for a in added.details["artefacts"]}
    assert logged == {n: a.sha256 for n, a in names.items()}
    assert added.details["source"]["final_url"] == record.final_url
    assert added.details["title"] == "A post"
    assert vault.verify().ok


def test_the_record_of_the_page_is_filled_in(vault: Vault) -> None:
    record = page(redirects=("http://127.0.0.1:8000/p",), requested_url="http://127.0.0.1:8000/p")
    item = vault.capture(web.save_page(vault, record))
    assert item.web is not None
    w = item.web
    leaf = x509.load_der_x509_certificate(record.certificate_chain[0])
    assert w.requested_url == "http://127.0.0.1:8000/p"
    assert w.final_url == record.final_url
    assert w.redirects == ["http://127.0.0.1:8000/p"]
    assert (w.http_status, w.server_ip, w.title) == (200, "127.0.0.1", "A post")
    assert w.user_agent == "Mozilla/5.0 TestBrowser/1.0"
    assert w.certificate_sha256 == hashlib.sha256(record.certificate_chain[0]).hexdigest()
    assert w.certificate_subject == "CN=127.0.0.1" == leaf.subject.rfc4514_string()
    assert w.certificate_issuer == "CN=Evidence Test Root,O=Test CA\\, Ltd,C=GB"
    assert w.certificate_valid_from == iso_utc(NOT_BEFORE) == "2026-01-01T00:00:00.000Z"
    assert w.certificate_valid_to == iso_utc(NOT_AFTER)
    assert (w.tls_protocol, w.certificate_error) == ("TLS 1.3", "")
    assert (w.page_state, w.full_page_parts, w.scroll_height) == ("available", 2, 3600)
    assert w.page_state_reason == "the page loaded (the server answered 200)"
    assert w.recheck_of is None
    assert item.title == "A post"
    assert item.captured_at == WHEN
    assert item.tz_name and item.utc_offset
    assert item.environment["user_agent"] == "Mozilla/5.0 TestBrowser/1.0"
    assert item.environment["capture_backend"] == "qtwebengine"
    assert item.details.url == record.final_url and item.details.site == ""


def test_a_certificate_error_is_recorded(vault: Vault) -> None:
    record = page()
    record.tls = dataclasses.replace(record.tls, error="The certificate authority is not "
                                                      "trusted.")  # type: ignore[arg-type]
    item = vault.capture(web.save_page(vault, record))
    assert item.web is not None
    assert item.web.certificate_error == "The certificate authority is not trusted."


def test_the_pem_reparses_to_the_same_chain(vault: Vault) -> None:
    record = page()
    item_id = web.save_page(vault, record)
    pem = vault.artefact_bytes(item_id, "certificate-chain.pem")
    certs = x509.load_pem_x509_certificates(pem)
    assert [c.public_bytes(serialization_der()) for c in certs] == list(record.certificate_chain)
    if shutil.which("openssl"):
        shown = subprocess.run(["openssl", "x509", "-noout", "-subject", "-fingerprint",
                                "-sha256"], input=pem, capture_output=True, check=True)
        text = shown.stdout.decode()
        assert "CN = 127.0.0.1" in text or "CN=127.0.0.1" in text
        leaf_sha = hashlib.sha256(record.certificate_chain[0]).hexdigest()
        assert text.split("=")[-1].strip().replace(":", "").lower() == leaf_sha


def serialization_der():  # type: ignore[no-untyped-def]
    from cryptography.hazmat.primitives import serialization

    return serialization.Encoding.DER


def test_plain_http_has_no_certificate_file(vault: Vault) -> None:
    item = vault.capture(web.save_page(vault, page("http://127.0.0.1:8000/post")))
    assert "certificate-chain.pem" not in {a.name for a in item.artefacts}
    assert item.web is not None and item.web.certificate_sha256 == ""
    assert item.web.tls_protocol == ""
    # sent from https to plain http: the chain handed over is not the final page's
    moved = page("https://127.0.0.1:8443/post", final_url="http://127.0.0.1:8000/post")
    item = vault.capture(web.save_page(vault, moved))
    assert "certificate-chain.pem" not in {a.name for a in item.artefacts}
    assert item.web is not None and item.web.certificate_sha256 == ""
    assert item.web.certificate_subject == ""


def test_one_part_is_full_page_png_and_visible_only_makes_visible_primary(vault: Vault) -> None:
    one = vault.capture(web.save_page(vault, page(full_page=(picture(1280, 3000),))))
    assert [a.name for a in one.artefacts][:2] == ["full-page.png", "visible.png"]
    assert one.primary is not None and one.primary.name == "full-page.png"
    seen = vault.capture(web.save_page(vault, page(full_page=())))
    assert seen.primary is not None and seen.primary.name == "visible.png"
    assert (seen.width, seen.height) == (1280, 800)
    assert seen.web is not None and seen.web.full_page_parts == 0


def test_details_start_from_the_address_and_the_callers_win(vault: Vault) -> None:
    record = page("https://www.facebook.com/groups/1/posts/2", certificate_chain=())
    item = vault.capture(web.save_page(vault, record, CaptureDetails(author="J. Smith")))
    assert (item.details.site, item.details.url, item.details.author) == (
        "Facebook", record.final_url, "J. Smith")
    own = vault.capture(web.save_page(vault, record, CaptureDetails(site="Other", url="x")))
    assert (own.details.site, own.details.url) == ("Other", "x")
    # suggestions are offered, never written
    record.suggested_author, record.suggested_handle = "Sam Jones", "@samj"
    assert web.suggestions(record) == {"author": "Sam Jones", "handle": "@samj"}
    item = vault.capture(web.save_page(vault, record))
    assert (item.details.author, item.details.handle) == ("", "")


def test_suggestions_only_name_what_is_there() -> None:
    assert web.suggestions(page()) == {}
    assert web.suggestions(page(suggested_handle="  samj ")) == {"handle": "@samj"}
    assert web.suggestions(page(suggested_handle="sam j", suggested_author="  Sam\n J ")) == {
        "author": "Sam J"}


def test_first_details_guess_the_site_from_the_final_address() -> None:
    record = page("https://t.co/abc", final_url="https://x.com/someone/status/1")
    assert web.first_details(record) == CaptureDetails(site="X/Twitter",
                                                       url="https://x.com/someone/status/1")
    assert web.first_details(page("https://www.reddit.com/r/x/comments/1/")).site == "Reddit"
    assert web.first_details(page("https://facebook.com.evil.example/")).site == ""


def test_the_thumbnail_shows_the_top_of_a_tall_page_not_a_sliver(vault: Vault) -> None:
    tall = PagePicture(tall_png(1280, 30_000), 1280, 30_000, css_height=30_000)
    item_id = web.save_page(vault, page(full_page=(tall,)))
    with Image.open(io.BytesIO(vault.thumbnail(item_id))) as thumb:
        assert thumb.height <= thumb.width * 1.5 + 1 and thumb.width >= 200
        red = thumb.getpixel((thumb.width // 2, 2))
        assert red[0] > 150 and red[2] < 100  # the page's red top band
    previews = vault.previews(item_id)
    assert previews is not None
    with Image.open(io.BytesIO(previews[0])) as preview:
        assert preview.size == (853, 1280)


def test_a_page_wider_than_pillows_limit_still_gets_a_thumbnail(vault: Vault) -> None:
    # 2560 x 40,000 is 102 megapixels: past Pillow's bomb warning, which fails tests.
    huge = PagePicture(tall_png(2560, 40_000), 2560, 40_000)
    item_id = web.save_page(vault, page(full_page=(huge,)))
    assert vault.capture(item_id).height == 40_000
    with Image.open(io.BytesIO(vault.thumbnail(item_id))) as thumb:
        assert thumb.size == (213, 320)


def test_an_unreadable_picture_is_refused_and_nothing_is_saved(vault: Vault) -> None:
    with pytest.raises(CaptureFailed, match="not a PNG"):
        web.save_page(vault, page(visible=PagePicture(b"GIF89a" + b"\0" * 40, 10, 10)))
    with pytest.raises(CaptureFailed, match="no picture"):
        web.save_page(vault, page(visible=None, full_page=()))
    assert vault.capture_count() == 0


def test_a_long_title_is_shortened_not_refused(vault: Vault) -> None:
    item = vault.capture(web.save_page(vault, page(title="word " * 200)))
    assert len(item.title) == 300 and item.title.endswith("…")


# ------------------------------------------------------------------------------ WARC


def test_the_warc_validates_with_warcio(vault: Vault, tmp_path: Path) -> None:
    record = page()
    item_id = web.save_page(vault, record)
    warc = vault.artefact_bytes(item_id, "network.warc.gz")
    assert warc[:2] == b"\x1f\x8b"
    path = tmp_path / "network.warc.gz"
    path.write_bytes(warc)
    checked = subprocess.run([str(WARCIO), "check", "-v", str(path)], capture_output=True,
                             text=True, check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "digest pass" in checked.stdout and "digest fail" not in checked.stdout
    records = _records(warc)
    # warcio writes each response, then the request that fetched it
    assert [r[0] for r in records] == ["warcinfo", "response", "request", "response",
                                       "request"]
    info = records[0]
    assert info[1]["WARC-Date"] == "2026-11-25T11:52:25.123000Z"
    assert b"software: Evidence Recorder" in info[2]
    assert b"format: WARC File Format 1.1" in info[2]
    _, headers, payload, http = records[1]
    assert headers["WARC-Target-URI"] == record.final_url
    assert headers["WARC-IP-Address"] == "127.0.0.1"
    assert headers["WARC-Date"] == "2026-11-25T11:52:23.123000Z"
    assert "WARC-Truncated" not in headers
    assert payload == record.responses[0].body
    assert http.get_statuscode() == "200" and http.protocol == "HTTP/1.1"
    assert http.get_header("Content-Length") == str(len(payload))
    assert http.get_header("Content-Encoding") is None  # the body is decoded
    assert http.get_header("X-Archive-Orig-Content-Encoding") == "gzip"
    assert records[2][1]["WARC-Concurrent-To"] == headers["WARC-Record-ID"]
    assert records[2][1]["WARC-Target-URI"] == record.final_url
    request = records[2][3]
    assert request.protocol == "GET" and request.statusline == "/post/1 HTTP/1.1"
    assert request.get_header("Host") == "127.0.0.1:8443"


def test_a_body_not_kept_is_marked_truncated_never_complete(vault: Vault) -> None:
    item_id = web.save_page(vault, page())
    _, headers, payload, http = _records(vault.artefact_bytes(item_id, "network.warc.gz"))[3]
    assert headers["WARC-Truncated"] == "unspecified"
    assert payload == b""
    assert http.get_header("Content-Length") is None
    assert headers["WARC-Protocol"] == "h2"


def test_sign_in_secrets_never_reach_the_warc() -> None:
    secret = "sessionid=SECRET-abc123"
    record = page(responses=(response(
        "https://127.0.0.1:8443/post/1",
        request_headers=(("Cookie", secret), ("Authorization", "Bearer SECRET-t")),
        response_headers=(("Set-Cookie", "a=SECRET-1\nb=SECRET-2"), (":status", "200"),
                          ("Vary", "Accept\nCookie"))),))
    warc = web.build_warc(record)
    text = b"".join(r[2] + str(r[3]).encode() for r in _records(warc))
    assert b"SECRET" not in text
    reply = _records(warc)[1][3]
    assert reply.get_header("Set-Cookie") == web.SECRET_REMOVED
    assert [v for k, v in reply.headers if k == "Vary"] == ["Accept", "Cookie"]
    assert all(not k.startswith(":") for k, _ in reply.headers)


def test_a_post_request_says_its_body_is_not_in_the_warc() -> None:
    warc = web.build_warc(page(responses=(response("https://127.0.0.1:8443/api",
                                                   method="POST"),)))
    request = _records(warc)[2]
    assert request[0] == "request" and request[1]["WARC-Truncated"] == "unspecified"


# ----------------------------------------------------------------------- judge_page


@pytest.mark.parametrize(("changes", "state", "reason"), [
    ({}, PageState.AVAILABLE, "the page loaded (the server answered 200)"),
    ({"http_status": 404}, PageState.GONE, "the server answered 404 (not found)"),
    ({"http_status": 410}, PageState.GONE, "the server answered 410 (gone)"),
    ({"http_status": 403}, PageState.AVAILABLE, "the server answered 403 (forbidden); this "
     "alone does not show whether the post is still there"),
    ({"http_status": 503}, PageState.AVAILABLE, "the server answered 503 (service "
     "unavailable); this alone does not show whether the post is still there"),
    ({"load_state": LoadState.FAILED, "http_status": None}, PageState.UNREACHABLE,
     "nothing could be loaded from it; the browser could not reach the address"),
    ({"load_state": LoadState.TIMED_OUT, "http_status": None, "visible": None,
      "full_page": ()}, PageState.UNREACHABLE,
     "nothing answered in time; the browser could not reach the address"),
    ({"load_state": LoadState.TIMED_OUT}, PageState.AVAILABLE,
     "the page loaded (the server answered 200) (the page was still loading when it was "
     "captured)"),
    ({"http_status": None}, PageState.AVAILABLE,
     "the page loaded; its HTTP status was not recorded"),
])
def test_judge_page_by_status(changes: dict[str, object], state: PageState,
                              reason: str) -> None:
    assert web.judge_page(page(**changes)) == (state, reason)  # type: ignore[arg-type]


@pytest.mark.parametrize(("url", "text", "state"), [
    ("https://www.facebook.com/x/posts/1", "This content isn't available right now. "
     "When this happens, it's usually because the owner only shared it with a small group",
     PageState.GONE),
    ("https://www.instagram.com/p/abc/", "Sorry, this page isn\u2019t available. The link "
     "you followed may be broken", PageState.GONE),
    ("https://x.com/someone/status/1", "Hmm...this page doesn't exist. Try searching for "
     "something else.", PageState.GONE),
    ("https://x.com/someone/status/1", "This post was deleted by the post author.",
     PageState.GONE),
    ("https://www.tiktok.com/@a/video/1", "Video currently unavailable", PageState.GONE),
    ("https://www.reddit.com/r/a/comments/1/", "Sorry, this post was deleted by the person "
     "who originally posted it.", PageState.GONE),
    ("https://www.youtube.com/watch?v=1", "Video unavailable This video has been removed by "
     "the uploader", PageState.GONE),
    ("https://www.facebook.com/x/posts/1", "You must log in to continue.",
     PageState.LOGIN_WALL),
    # another site's words, or the words on a page that says much else: not gone
    ("https://example.org/blog", "This content isn't available right now", PageState.AVAILABLE),
    ("https://www.facebook.com/x/posts/1", "A long post sharing another. This content isn't "
     "available right now. " + "Comment. " * 400, PageState.AVAILABLE),
])
def test_judge_page_by_the_sites_own_words(url: str, text: str, state: PageState) -> None:
    got, reason = web.judge_page(page(url, text_sample=text, certificate_chain=()))
    assert got is state, reason
    if state is not PageState.AVAILABLE:
        assert reason.startswith("the page says “") and "(the server answered 200)" in reason


def test_judge_page_reports_a_notice_among_other_content() -> None:
    text = "Post. This content isn't available right now. " + "Comment. " * 400
    _, reason = web.judge_page(page("https://www.facebook.com/1", text_sample=text))
    assert "among other content" in reason and "look at the picture" in reason


def test_the_wording_table_names_only_known_sites() -> None:
    from evidence_recorder.core.gather.sites import SITES

    assert {site for site, _, _ in web.SITE_WORDING} <= set(SITES)
    assert {site for site, _, _ in web.SITE_WORDING} == {
        "Facebook", "Instagram", "X/Twitter", "TikTok", "Reddit", "YouTube"}


@pytest.mark.parametrize(("final", "state"), [
    ("https://www.facebook.com/login/?next=https%3A%2F%2Fwww.facebook.com%2Fx",
     PageState.LOGIN_WALL),
    ("https://www.instagram.com/accounts/login/?next=/p/abc/", PageState.LOGIN_WALL),
    ("https://x.com/i/flow/login", PageState.LOGIN_WALL),
    ("https://accounts.google.com/ServiceLogin?continue=x", PageState.LOGIN_WALL),
    ("https://www.facebook.com/loginhelp/post", PageState.AVAILABLE),
])
def test_judge_page_sees_a_login_wall_by_address(final: str, state: PageState) -> None:
    record = page("https://www.facebook.com/x/posts/1", final_url=final)
    assert web.judge_page(record)[0] is state


def test_asking_for_the_sign_in_page_itself_is_no_wall() -> None:
    url = "https://www.facebook.com/login/"
    assert web.judge_page(page(url))[0] is PageState.AVAILABLE


# --------------------------------------------------------------------------- checks


def test_later_checks_link_to_the_page_they_checked(vault: Vault) -> None:
    first = web.save_page(vault, page())
    other = web.save_page(vault, page())
    gone = web.save_page(vault, page(http_status=404, captured_at=WHEN.replace(hour=13)),
                         recheck_of=first)
    again = web.save_page(vault, page(captured_at=WHEN.replace(hour=12)), recheck_of=first)
    checks = web.checks_of(vault, first)
    assert [c.id for c in checks] == [again, gone]  # oldest first
    assert [web.page_state_of(c) for c in checks] == [PageState.AVAILABLE, PageState.GONE]
    assert web.checks_of(vault, other) == []
    gone_item = vault.capture(gone)
    assert gone_item.web is not None and gone_item.web.recheck_of == first
    assert gone_item.web.page_state_reason == "the server answered 404 (not found)"
    added = [e for e in vault.audit_entries() if e.action == "capture.added"][-2]
    assert added.details["source"]["recheck_of"] == first
    assert web.checks_by_original(vault) == {first: checks}


def test_a_check_of_something_not_a_web_page_is_refused(vault: Vault) -> None:
    shot = png(40, 30)
    picture_id = vault.add_capture(
        original=shot, sha256=hashlib.sha256(shot).hexdigest(), kind=CaptureKind.IMPORT,
        width=40, height=30, media_type="image/png", captured_at=iso_utc(WHEN), tz_name="UTC",
        utc_offset="+00:00", environment={}, thumbnail=b"jpeg")
    with pytest.raises(RefusedInput, match="not a web page"):
        web.save_page(vault, page(), recheck_of=picture_id)
    with pytest.raises(NotFound):
        web.save_page(vault, page(), recheck_of=999)
    assert vault.capture_count() == 1


# ------------------------------------------------------------------------ addresses


@pytest.mark.parametrize("url", ["https://example.org/a?b=c", "http://127.0.0.1:8000/",
                                 "  HTTPS://Example.org/  "])
def test_web_addresses_are_accepted(url: str) -> None:
    assert web.check_url(url) == url.strip()


@pytest.mark.parametrize(("url", "words"), [
    ("file:///etc/passwd", "“file:” address cannot"),
    ("data:text/html,<b>x</b>", "“data:” address cannot"),
    ("javascript:alert(1)", "“javascript:” address cannot"),
    ("example.org/post", "starting with https://"),
    ("https://", "names no web site"),
    ("https://exa mple.org", "no spaces"),
    ("", "Give the address"),
    ("https://example.org/" + "a" * 9000, "too long"),
])
def test_other_addresses_are_refused_in_a_sentence(url: str, words: str) -> None:
    with pytest.raises(RefusedInput, match=words) as caught:
        web.check_url(url)
    assert "passwd" not in caught.value.message and "alert" not in caught.value.message


def test_addresses_and_headers_beyond_ascii_make_a_valid_warc(tmp_path: Path) -> None:
    record = page(responses=(response(
        "https://127.0.0.1:8443/pöst/ü?q=é x",
        response_headers=(("Content-Disposition", 'attachment; filename="résumé.pdf"'),
                          ("Link", "<a>\r\nInjected: yes"))),))
    warc = web.build_warc(record)
    path = tmp_path / "w.warc.gz"
    path.write_bytes(warc)
    checked = subprocess.run([str(WARCIO), "check", str(path)], capture_output=True,
                             check=False)
    assert checked.returncode == 0, checked.stdout
    _, headers, _, http = _records(warc)[1]
    assert headers["WARC-Target-URI"] == "https://127.0.0.1:8443/p%C3%B6st/%C3%BC?q=%C3%A9%20x"
    assert http.get_header("Injected") is None  # a line break never makes a header
    request = _records(warc)[2][3]
    assert request.statusline == "/p%C3%B6st/%C3%BC?q=%C3%A9%20x HTTP/1.1"


def test_nothing_of_the_page_reaches_the_disk_in_the_clear(vault: Vault, vault_dir: Path,
                                                           session_root: Path) -> None:
    marker = "page-marker-" + hashlib.sha256(b"unique web marker").hexdigest()[:16]
    body = f"<p>{marker}</p>".encode()
    record = page(mhtml=b"MIME-Version: 1.0\r\n\r\n" + body, title=marker,
                  responses=(response("https://127.0.0.1:8443/" + marker, body=body),))

    def files() -> set[Path]:
        return {p for p in session_root.rglob("*") if p.is_file()}

    assert session_root in vault_dir.parents  # so the scan below sees the vault's files
    before = files()
    web.save_page(vault, record)
    vault.close()
    made = files() - before
    assert all(vault_dir in p.parents for p in made)  # nothing new outside the vault
    for path in vault_dir.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert marker.encode() not in data and b"\x89PNG" not in data, path
