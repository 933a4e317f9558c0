"""The console (console/, a React single-page app) served at /console from its built files, and `/`
sending people there. Client-side routes (/console/journeys/abandoned-cart) answer with index.html; files
under /console/assets carry their content hash, so browsers keep them for good. Without a build, every
console URL says so plainly, as the API's start-up log does."""

from __future__ import annotations

import logging
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from api.deps import StateDep

router = APIRouter(include_in_schema=False)
log = logging.getLogger(__name__)

# Everything from this origin; inline style attributes are how the graph library positions nodes.
POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
NOT_BUILT = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>journeys console</title>
</head><body><h1>The console is not built</h1><p>Its files are missing from <code>{path}</code>. Run
<code>scripts/bootstrap.sh</code> (or <code>npm ci --prefix console &amp;&amp; npm run build --prefix
console</code>) and reload. The API itself works: see <a href="/docs">/docs</a>.</p></body></html>"""


def built(console_dir: Path) -> bool:
    return (console_dir / "index.html").is_file()


def warn_if_missing(console_dir: Path) -> None:
    if not built(console_dir):
        log.warning("the console is not built (%s has no index.html): run scripts/bootstrap.sh", console_dir)


@router.get("/")
async def root() -> RedirectResponse:
    return RedirectResponse("/console/")


@router.get("/console")
@router.get("/console/{path:path}")
async def console(state: StateDep, path: str = "") -> Response:
    root = state.settings.console_dir.resolve()
    if not built(root):
        return HTMLResponse(NOT_BUILT.format(path=root), status_code=503)
    asset = (root / path).resolve()
    if path.startswith("assets/") and asset.is_relative_to(root):
        if asset.is_file():
            return FileResponse(asset, headers={"Cache-Control": "public, max-age=31536000, immutable"})
        return Response("no such console file", status_code=404, media_type="text/plain")
    return FileResponse(
        root / "index.html",
        headers={"Cache-Control": "no-cache", "Content-Security-Policy": POLICY},
    )
