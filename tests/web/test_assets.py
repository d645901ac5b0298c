"""The chat page and widget files over real HTTP: content types, caching, CSP and weight."""

from __future__ import annotations

import gzip
import re
from collections.abc import Callable

import httpx

from service.api.web import load_assets
from service.settings import WebSettings
from tests.conftest import AppHandle

# The page and everything it loads, gzipped, must stay small enough for a phone on 3G.
PAGE_WEIGHT_BUDGET_GZIP = 16_384


def test_page_is_served_with_a_strict_content_security_policy(beacon: AppHandle) -> None:
    """`/` is HTML with a CSP that allows only same-origin scripts, styles and connections."""
    response = httpx.get(f"{beacon.url}/")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    csp = response.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src 'self'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "no-cache"


def test_page_has_no_inline_script_or_style() -> None:
    """Every script is loaded from a file and no element carries a style attribute."""
    html = load_assets()["/"].body.decode()
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    assert " style=" not in html and "<style" not in html
    script = load_assets()["/widget.js"].body.decode()
    assert "innerHTML" not in script and "eval(" not in script


def test_widget_files_have_their_types_and_revalidate_with_an_etag(beacon: AppHandle) -> None:
    """widget.js and widget.css carry their content types, a cache lifetime, and answer 304
    to a matching If-None-Match."""
    for path, media_type in (("/widget.js", "text/javascript"), ("/widget.css", "text/css")):
        response = httpx.get(f"{beacon.url}{path}")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith(media_type)
        assert response.headers["cache-control"] == "public, max-age=300"
        etag = response.headers["etag"]
        again = httpx.get(f"{beacon.url}{path}", headers={"if-none-match": etag})
        assert again.status_code == 304 and again.content == b""


def test_page_weight_stays_within_budget() -> None:
    """The page, the widget script and its stylesheet weigh under 16 KiB gzipped together."""
    assets = load_assets()
    raw = sum(len(asset.body) for asset in assets.values())
    packed = sum(len(gzip.compress(asset.body, 9)) for asset in assets.values())
    print(f"page weight: {raw} bytes, {packed} bytes gzipped")  # noqa: T201
    assert packed < PAGE_WEIGHT_BUDGET_GZIP


def test_web_routes_stay_out_of_the_openapi_document(beacon: AppHandle) -> None:
    """The API document lists the API, not the chat page's files."""
    paths = httpx.get(f"{beacon.url}/openapi.json").json()["paths"]
    assert "/" not in paths and "/widget.js" not in paths
    assert "/feedback" in paths and "/ask/turns/{turn_id}/stream" in paths


def test_embedding_site_gets_cors_answers(beacon_factory: Callable[..., AppHandle]) -> None:
    """A configured embedding site may POST /ask with its key and read x-trace-id; another
    origin gets no CORS grant."""
    beacon = beacon_factory(web=WebSettings(allowed_origins=("https://shop.example",)))
    preflight = {
        "origin": "https://shop.example",
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type,authorization,idempotency-key",
    }
    allowed = httpx.options(f"{beacon.url}/ask", headers=preflight)
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "https://shop.example"
    body = {"question": "How do I request a refund?"}
    answer = httpx.post(
        f"{beacon.url}/ask", json=body, headers={"origin": "https://shop.example"}, timeout=30
    )
    assert "x-trace-id" in answer.headers["access-control-expose-headers"]
    stranger = httpx.options(
        f"{beacon.url}/ask", headers={**preflight, "origin": "https://evil.example"}
    )
    assert "access-control-allow-origin" not in stranger.headers
