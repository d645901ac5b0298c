"""The customer chat page (``/``) and the embeddable widget (``/widget.js``, ``/widget.css``).

The files are read once when the app is built and served from memory with a strong ETag, so a
revalidation costs a header compare. The page carries a strict Content-Security-Policy: no
inline script or style, and it talks to its own origin only.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

WEB_DIR = Path(__file__).resolve().parents[1] / "web"

PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
_COMMON_HEADERS = {"x-content-type-options": "nosniff", "referrer-policy": "no-referrer"}
# The page is revalidated every time (it is tiny); the assets may be reused for five minutes,
# then revalidated, so a deploy reaches every embedding site within minutes.
_ASSETS = {
    "/": ("index.html", "text/html; charset=utf-8", "no-cache"),
    "/widget.js": ("widget.js", "text/javascript; charset=utf-8", "public, max-age=300"),
    "/widget.css": ("widget.css", "text/css; charset=utf-8", "public, max-age=300"),
}


@dataclass(frozen=True, slots=True)
class StaticAsset:
    body: bytes
    media_type: str
    etag: str
    cache_control: str

    def respond(self, request: Request, *, csp: str | None = None) -> Response:
        headers = {"etag": self.etag, "cache-control": self.cache_control, **_COMMON_HEADERS}
        if csp is not None:
            headers["content-security-policy"] = csp
        if request.headers.get("if-none-match") == self.etag:
            return Response(status_code=304, headers=headers)
        return Response(self.body, media_type=self.media_type, headers=headers)


def load_assets(web_dir: Path = WEB_DIR) -> dict[str, StaticAsset]:
    """Read the widget's files; a missing file fails app creation, not the first request."""
    assets: dict[str, StaticAsset] = {}
    for path, (name, media_type, cache_control) in _ASSETS.items():
        body = (web_dir / name).read_bytes()
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        assets[path] = StaticAsset(body, media_type, etag, cache_control)
    return assets


def build_router(assets: dict[str, StaticAsset] | None = None) -> APIRouter:
    files = assets if assets is not None else load_assets()
    router = APIRouter(include_in_schema=False)

    @router.get("/")
    async def page(request: Request) -> Response:
        return files["/"].respond(request, csp=PAGE_CSP)

    @router.get("/widget.js")
    async def widget_script(request: Request) -> Response:
        return files["/widget.js"].respond(request)

    @router.get("/widget.css")
    async def widget_style(request: Request) -> Response:
        return files["/widget.css"].respond(request)

    return router


# What a widget on another site sends and reads (preflighted because of the JSON body and keys).
CORS_HEADERS = ("content-type", "authorization", "x-api-key", "idempotency-key", "last-event-id")
CORS_EXPOSED = ("x-trace-id", "x-turn-id", "retry-after")


def cors_options(allowed_origins: tuple[str, ...]) -> dict[str, Any]:
    """Keyword arguments of Starlette's ``CORSMiddleware`` for the embedding sites."""
    return {
        "allow_origins": list(allowed_origins),
        "allow_methods": ["GET", "POST"],
        "allow_headers": list(CORS_HEADERS),
        "expose_headers": list(CORS_EXPOSED),
        "max_age": 600,
    }
