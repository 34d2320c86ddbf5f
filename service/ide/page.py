"""strawberry's GraphiQL page with its CDN URLs replaced by the platform's own copies.

strawberry's page loads React, GraphiQL and the explorer plugin from unpkg, so on a network
without the internet (the municipal α/β models) it stays at "Loading...". The files are
installed from the npm registry at install or build time (service/ide/assets.py) and served
below /graphql/ide/ with the page's own integrity hashes; a Content-Security-Policy on the page
forbids every other origin, so any CDN left in a future strawberry page fails loudly in tests.
"""

from __future__ import annotations

import base64
import hashlib
import html
import logging
import re
from functools import lru_cache

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route

from service.ide import assets

logger = logging.getLogger("dxlink.ide")

IDE_PATH = "/graphql/ide"
INSTALL_COMMAND = "python -m service.ide"
_CDN_URL = re.compile(r"https://unpkg\.com/(?P<path>[^\"'\s<>]+)")
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)
# The files' names carry their versions, so a browser may keep them for good.
_IMMUTABLE = "public, max-age=31536000, immutable"


@lru_cache(maxsize=1)
def manifest() -> assets.Manifest:
    return assets.Manifest.load()


class UnpinnedAsset(Exception):
    """strawberry's page loads a file that assets.toml does not pin."""


@lru_cache(maxsize=4)
def _localise(template: str, prefix: str) -> tuple[str, str]:
    """The page with local URLs, and its Content-Security-Policy."""
    pinned = manifest().files()

    def local(match: re.Match[str]) -> str:
        path = match.group("path")
        if path not in pinned:
            raise UnpinnedAsset(match.group(0))
        return f"{prefix}/{path}"

    page = _CDN_URL.sub(local, template)
    # The page's own inline script is allowed by its hash; no other script, nothing from
    # another origin. Styles may be inline: GraphiQL's dialogs set inline styles
    # (react-remove-scroll), which a stricter style-src blocks.
    scripts = " ".join(
        f"'sha256-{base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()}'"
        for s in _INLINE_SCRIPT.findall(page)
    )
    policy = (
        "default-src 'none'; "
        f"script-src 'self' {scripts}; "
        "style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; "
        "font-src 'self' data:; "
        "connect-src 'self'; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )
    return page, policy


def graphiql_page(request: Request, template: str) -> Response:
    """strawberry's GraphiQL ``template`` served with the platform's copies of its files, or a
    page that says how to install them (never a blank IDE)."""
    missing = manifest().missing(assets.ASSETS_DIR)
    if missing:
        logger.warning("GraphiQL's files are not installed: run %s", INSTALL_COMMAND)
        return _unavailable(
            "GraphiQL's files are not installed on this server. Install them with "
            f"<code>{INSTALL_COMMAND}</code> in the service's Python environment "
            "(in a checkout: <code>.venv/bin/python -m service.ide</code>; "
            "<code>./scripts/serve</code> runs it), then reload this page."
        )
    try:
        page, policy = _localise(template, request.scope.get("root_path", "") + IDE_PATH)
    except UnpinnedAsset as exc:
        logger.error(
            "strawberry's GraphiQL page loads %s, unpinned in service/ide/assets.toml", exc
        )
        return _unavailable(
            "This version of strawberry-graphql's GraphiQL page loads "
            f"<code>{html.escape(str(exc))}</code>, which <code>service/ide/assets.toml</code> "
            "does not pin. Pin the files the page loads there."
        )
    return HTMLResponse(page, headers={"Content-Security-Policy": policy})


def _unavailable(message: str) -> HTMLResponse:
    body = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        "<title>dxlink: GraphiQL unavailable</title></head>"
        f"<body><h1>GraphiQL is unavailable</h1><p>{message}</p>"
        "<p>The GraphQL API itself works: POST queries to this URL.</p></body></html>"
    )
    return HTMLResponse(
        body, status_code=503, headers={"Content-Security-Policy": "default-src 'none'"}
    )


async def _asset(request: Request) -> Response:
    # Only the manifest's files, whatever else lies in the folder (e.g. a partial download).
    path = request.path_params["path"]
    if path not in manifest().files():
        return PlainTextResponse("Not found", status_code=404)
    file = assets.ASSETS_DIR / path
    if not file.is_file():
        return PlainTextResponse(f"Not installed: run {INSTALL_COMMAND}", status_code=404)
    return FileResponse(
        file, headers={"Cache-Control": _IMMUTABLE, "X-Content-Type-Options": "nosniff"}
    )


def asset_route() -> Route:
    return Route(IDE_PATH + "/{path:path}", _asset, methods=["GET", "HEAD"], name="ide")
