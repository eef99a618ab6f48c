"""The sites a capture can come from, and a guess at the site from a pasted link.

The guess only fills an empty form field for the user, so it errs on the side of
``None``: a host must *be* the site's domain or a subdomain of it. Look-alikes such as
``facebook.com.evil.net`` or ``notfacebook.com`` are deliberately not recognised,
because a victim's record naming the wrong platform would mislead whoever reads it.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

SITES: tuple[str, ...] = (
    "Facebook",
    "Instagram",
    "X/Twitter",
    "TikTok",
    "Snapchat",
    "WhatsApp",
    "YouTube",
    "LinkedIn",
    "Reddit",
    "E-mail",
    "Text message",
    "Other",
)

# Registrable domains (and the platforms' own short-link domains) per site. A host
# matches when it equals one of these or ends with "." + one of these.
_DOMAINS: dict[str, str] = {
    "facebook.com": "Facebook",
    "fb.com": "Facebook",
    "fb.me": "Facebook",
    "fb.watch": "Facebook",
    "messenger.com": "Facebook",
    "instagram.com": "Instagram",
    "instagr.am": "Instagram",
    "x.com": "X/Twitter",
    "twitter.com": "X/Twitter",
    "t.co": "X/Twitter",
    "tiktok.com": "TikTok",
    "snapchat.com": "Snapchat",
    "whatsapp.com": "WhatsApp",
    "wa.me": "WhatsApp",
    "youtube.com": "YouTube",
    "youtu.be": "YouTube",
    "linkedin.com": "LinkedIn",
    "lnkd.in": "LinkedIn",
    "reddit.com": "Reddit",
    "redd.it": "Reddit",
}

# Schemes whose meaning is the channel itself rather than a web host.
_CHANNEL_SCHEMES: dict[str, str] = {
    "mailto": "E-mail",
    "sms": "Text message",
    "smsto": "Text message",
    "mms": "Text message",
    "tel": "Text message",
}

_WEB_SCHEMES = frozenset({"http", "https"})
_HIERARCHICAL = re.compile(r"^([a-z][a-z0-9+.\-]*)://")
_CHANNEL = re.compile(r"^(" + "|".join(_CHANNEL_SCHEMES) + r"):")
# A bare e-mail address pasted where a link was asked for ("someone@example.org").
_BARE_ADDRESS = re.compile(r"^[^\s@/:?#]+@[^\s@/:?#]+\.[a-z]{2,}$")
_MAX_INPUT = 8192  # longer than any real link; beyond this it is pasted text, not a URL


def guess_site(url: str) -> str | None:
    """The site a link points at, or ``None`` when it cannot be told with confidence."""
    if not isinstance(url, str):
        return None
    text = url.strip()
    if not text or len(text) > _MAX_INPUT:
        return None
    lowered = text.lower()
    if channel := _CHANNEL.match(lowered):
        return _CHANNEL_SCHEMES[channel.group(1)]
    if scheme := _HIERARCHICAL.match(lowered):
        if scheme.group(1) not in _WEB_SCHEMES:
            return None
    elif _BARE_ADDRESS.match(lowered):
        return "E-mail"
    else:
        # "facebook.com/x" or "www.facebook.com:443": no scheme, so read it as a host.
        lowered = "//" + lowered.lstrip("/")
    host = _host(lowered)
    if host is None:
        return None
    return _site_for_host(host)


def _host(text: str) -> str | None:
    # Browsers treat "\" as "/" in web URLs; without this, "https://evil.net\@facebook.com"
    # would look like Facebook here while the browser would open evil.net.
    text = text.replace("\\", "/")
    try:
        host = urlsplit(text).hostname
    except ValueError:
        return None
    if not host:
        return None
    return host.rstrip(".")


def _site_for_host(host: str) -> str | None:
    labels = host.split(".")
    # Try the host itself, then every parent domain: "m.facebook.com" -> "facebook.com".
    for start in range(len(labels) - 1):
        candidate = ".".join(labels[start:])
        if candidate in _DOMAINS:
            return _DOMAINS[candidate]
    return None


__all__ = ["SITES", "guess_site"]
