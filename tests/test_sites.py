"""Guessing the site from a pasted link: right for real links, silent for look-alikes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from evidence_recorder.core.gather.sites import SITES, guess_site


def test_sites_are_the_ones_the_form_offers() -> None:
    assert SITES == ("Facebook", "Instagram", "X/Twitter", "TikTok", "Snapchat", "WhatsApp",
                     "YouTube", "LinkedIn", "Reddit", "E-mail", "Text message", "Other")


@pytest.mark.parametrize(("url", "site"), [
    ("https://www.facebook.com/some.person/posts/123", "Facebook"),
    ("https://m.facebook.com/story.php?story_fbid=1&id=2", "Facebook"),
    ("https://fb.com/x", "Facebook"),
    ("https://www.messenger.com/t/123456", "Facebook"),
    ("https://www.instagram.com/p/AbC123/", "Instagram"),
    ("https://x.com/someone/status/1", "X/Twitter"),
    ("https://twitter.com/someone/status/1", "X/Twitter"),
    ("https://mobile.twitter.com/someone", "X/Twitter"),
    ("https://t.co/AbCdEf", "X/Twitter"),
    ("https://www.tiktok.com/@someone/video/1", "TikTok"),
    ("https://vm.tiktok.com/ZMabc/", "TikTok"),
    ("https://www.snapchat.com/add/someone", "Snapchat"),
    ("https://story.snapchat.com/s/x", "Snapchat"),
    ("https://chat.whatsapp.com/invite", "WhatsApp"),
    ("https://web.whatsapp.com/", "WhatsApp"),
    ("https://wa.me/447700900123", "WhatsApp"),
    ("https://www.youtube.com/watch?v=abc", "YouTube"),
    ("https://m.youtube.com/watch?v=abc", "YouTube"),
    ("https://youtu.be/abc", "YouTube"),
    ("https://www.linkedin.com/in/someone", "LinkedIn"),
    ("https://lnkd.in/abc", "LinkedIn"),
    ("https://old.reddit.com/r/x/comments/abc/", "Reddit"),
    ("https://redd.it/abc", "Reddit"),
    ("mailto:someone@example.org", "E-mail"),
    ("MAILTO:someone@example.org?subject=hi", "E-mail"),
    ("someone@example.org", "E-mail"),
    ("sms:+447700900123", "Text message"),
    ("tel:+447700900123", "Text message"),
])
def test_known_links(url: str, site: str) -> None:
    assert guess_site(url) == site


@pytest.mark.parametrize(("url", "site"), [
    ("facebook.com/x", "Facebook"),  # no scheme, as people often paste
    ("www.instagram.com", "Instagram"),
    ("  https://www.facebook.com/x  \n", "Facebook"),  # surrounding white space
    ("HTTPS://WWW.FACEBOOK.COM/X", "Facebook"),  # upper case
    ("https://www.facebook.com:443/x", "Facebook"),  # port
    ("facebook.com:8443/x", "Facebook"),  # port, no scheme
    ("https://user:secret@twitter.com/x", "X/Twitter"),  # userinfo
    ("https://www.facebook.com./x", "Facebook"),  # trailing dot of a fully qualified name
    ("//www.tiktok.com/@a", "TikTok"),  # scheme-relative
    ("http://youtube.com", "YouTube"),
])
def test_forgiving_about_how_the_link_is_written(url: str, site: str) -> None:
    assert guess_site(url) == site


@pytest.mark.parametrize("url", [
    "https://facebook.com.evil.net/x",  # the real domain as a subdomain of another
    "https://notfacebook.com/x",  # the real name as a suffix of another label
    "https://facebook.co/x",
    "https://fa\u0441ebook.com/x",  # Cyrillic "es" in place of "c"
    "https://facebook.com@evil.net/x",  # userinfo that looks like the host
    "https://evil.net\\@facebook.com/x",  # a browser opens evil.net
    "https://evil.net/facebook.com",
    "https://evil.net/?u=https://facebook.com",
    "https://mytwitter.com",
    "https://t.co.uk",
    "ftp://facebook.com/x",  # not a web link
    "javascript:alert('facebook.com')",
    "fb://profile/123",
    "https://[::1]/x",
    "https://[::1/x",  # broken IPv6 literal
    "http://",
    "",
    "   ",
    "facebook",
    "Facebook",
    "see facebook.com",
    "x" * 100_000,
])
def test_look_alikes_and_garbage_are_not_guessed(url: str) -> None:
    assert guess_site(url) is None


def test_not_text_is_not_guessed() -> None:
    assert guess_site(None) is None  # type: ignore[arg-type]
    assert guess_site(b"https://facebook.com") is None  # type: ignore[arg-type]


@given(st.text(max_size=300))
def test_never_raises_and_only_answers_with_a_known_site(text: str) -> None:
    assert guess_site(text) in (*SITES, None)


@given(st.from_regex(r"https?://[a-z0-9.\-]{1,40}\.(com|net|org|co\.uk)(/[a-z0-9/]*)?",
                     fullmatch=True))
def test_hosts_outside_the_known_domains_are_never_guessed(url: str) -> None:
    host = url.split("/")[2]
    known = ("facebook.com", "fb.com", "messenger.com", "instagram.com", "x.com",
             "twitter.com", "tiktok.com", "snapchat.com", "whatsapp.com", "youtube.com",
             "linkedin.com")
    if not any(host == d or host.endswith("." + d) for d in known):
        assert guess_site(url) is None
