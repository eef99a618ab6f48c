"""The page's network log (DevTools Network events) as :class:`NetworkResponse` records.

Bodies are fetched one by one (``Network.getResponseBody``) within bounds: one body
over :data:`BODY_LIMIT` bytes, or bodies beyond :data:`TOTAL_LIMIT` in all, are not
kept (``body=None``) and the capture says so.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from evidence_recorder.core.gather.webpage import NetworkResponse, TlsFacts
from evidence_recorder.web.devtools import DevToolsBridge
from evidence_recorder.web.flow import Steps

BODY_LIMIT = 50_000_000
TOTAL_LIMIT = 300_000_000
_NO_BODY_STATUSES = frozenset({204, 304})


@dataclass
class NetworkFacts:
    responses: list[NetworkResponse] = field(default_factory=list)
    main: dict[str, Any] | None = None  # the main document's DevTools response
    redirects: list[str] = field(default_factory=list)
    skipped_bodies: int = 0
    dropped_events: int = 0


def _version(protocol: str) -> str:
    p = (protocol or "").lower()
    if p.startswith("http/"):
        return p.upper()
    return p  # "h2", "h3", "" unknown


def _headers(headers: dict[str, Any] | None) -> tuple[tuple[str, str], ...]:
    out: list[tuple[str, str]] = []
    for name, value in (headers or {}).items():
        for line in str(value).split("\n"):  # DevTools joins repeated headers with \n
            out.append((str(name), line))
    return tuple(out)


def _when(wall: object) -> datetime | None:
    if isinstance(wall, (int, float)) and wall > 0:
        return datetime.fromtimestamp(wall, UTC)
    return None


def _response(request: dict[str, Any], response: dict[str, Any], body: bytes | None,
              wall: object) -> NetworkResponse:
    return NetworkResponse(
        url=str(response.get("url") or request.get("url", "")),
        method=str(request.get("method", "GET")),
        status=int(response.get("status") or 0),
        status_text=str(response.get("statusText") or ""),
        http_version=_version(str(response.get("protocol") or "")),
        request_headers=_headers(response.get("requestHeaders") or request.get("headers")),
        response_headers=_headers(response.get("headers")),
        body=body,
        remote_ip=str(response.get("remoteIPAddress") or ""),
        remote_port=int(response.get("remotePort") or 0),
        mime_type=str(response.get("mimeType") or ""),
        fetched_at=_when(wall),
    )


def collect(bridge: DevToolsBridge, loader_ids: list[str], main_frame: str) -> Steps:
    """Steps giving :class:`NetworkFacts` for the documents ``loader_ids`` (main first)."""
    data = yield from bridge.events(loader_ids)
    facts = NetworkFacts(dropped_events=int(data.get("dropped", 0)))
    requests: dict[str, dict[str, Any]] = {}
    walls: dict[str, object] = {}
    responses: dict[str, dict[str, Any]] = {}
    finished: dict[str, float] = {}
    order: list[str] = []
    main_id = loader_ids[0] if loader_ids else ""
    for name, p in data.get("events", []):
        rid = p.get("requestId", "")
        if name == "requestWillBeSent":
            redirect = p.get("redirectResponse")
            if redirect and rid in requests:  # one hop of a redirect chain
                facts.responses.append(_response(requests[rid], redirect, b"", walls.get(rid)))
                if rid == main_id and p.get("frameId") == main_frame:
                    facts.redirects.append(str(redirect.get("url", "")))
            requests[rid] = p.get("request", {})
            walls[rid] = p.get("wallTime")
            if rid not in order:
                order.append(rid)
        elif name == "responseReceived":
            responses[rid] = p.get("response", {})
        elif name == "loadingFinished":
            finished[rid] = float(p.get("encodedDataLength") or 0)
    total = 0
    for rid in order:
        response = responses.get(rid)
        if response is None:
            continue  # blocked, failed or still waiting: nothing was received
        body: bytes | None = None
        status = int(response.get("status") or 0)
        if rid in finished and status not in _NO_BODY_STATUSES:
            if finished[rid] > BODY_LIMIT or total + finished[rid] > TOTAL_LIMIT:
                facts.skipped_bodies += 1
            else:
                try:
                    got = yield from bridge.call("networkAgent", "getResponseBody",
                                                 {"requestId": rid}, timeout_s=15.0)
                    raw = str(got.get("body", ""))
                    body = base64.b64decode(raw) if got.get("base64Encoded") else raw.encode()
                    if len(body) > BODY_LIMIT or total + len(body) > TOTAL_LIMIT:
                        body = None
                        facts.skipped_bodies += 1
                    else:
                        total += len(body)
                except RuntimeError:
                    body = None  # Chromium no longer held it
                    facts.skipped_bodies += 1
        elif status in _NO_BODY_STATUSES:
            body = b""
        facts.responses.append(_response(requests.get(rid, {}), response, body, walls.get(rid)))
        if rid == main_id:
            facts.main = response
    return facts


def tls_facts(response: dict[str, Any] | None, error: str) -> TlsFacts | None:
    """The main document's TLS facts, from its DevTools ``securityDetails``."""
    details = (response or {}).get("securityDetails")
    if not details and not error:
        return None
    details = details or {}
    cipher = str(details.get("cipher") or "")
    if details.get("keyExchange"):
        cipher = f"{cipher} ({details['keyExchange']})" if cipher else str(details["keyExchange"])
    return TlsFacts(
        protocol=str(details.get("protocol") or ""),
        cipher=cipher,
        subject=str(details.get("subjectName") or ""),
        issuer=str(details.get("issuer") or ""),
        valid_from=_when(details.get("validFrom")),
        valid_to=_when(details.get("validTo")),
        error=error,
    )
