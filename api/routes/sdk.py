"""The browser SDKs, served by journeys itself, so a website's integration is the usual snippet with its
hosts changed and nothing is fetched from a CDN at run time. Installed from npm into sdk/ at build time
(`npm ci --prefix sdk`; JOURNEYS_SDK_DIR says where):

- analytics.js (@segment/analytics-next) and the code-split chunks it loads from its CDN host; its
  settings come from GET /v1/projects/{writeKey}/settings (api/routes/ingest.py);
- RudderStack's SDK (@rudderstack/analytics-js, its build with the plugins bundled in); its source
  configuration comes from GET /v1/sourceConfig/ (api/routes/ingest.py)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi import Path as Path_
from fastapi.responses import FileResponse

from api.deps import StateDep
from engine.errors import NotFound

SEGMENT = Path("@segment/analytics-next/dist/umd")
RUDDERSTACK = Path("@rudderstack/analytics-js/dist/npm/modern/bundled/umd/index.js")
CHUNK = r"^[A-Za-z0-9_.-]+\.js$"
SNIPPET = Path(__file__).parent.parent / "assets" / "journeys.js"  # part of the API, not from npm

router = APIRouter(tags=["browser SDKs"])


def _file(path: Path, immutable: bool = False) -> FileResponse:
    if not path.is_file():
        raise NotFound(f"{path.name}: not installed (run `npm ci --prefix sdk`)")
    # Chunk names carry their content hash; an entry point is re-read by browsers now and then.
    cache = "public, max-age=31536000, immutable" if immutable else "public, max-age=300"
    return FileResponse(path, media_type="text/javascript", headers={"Cache-Control": cache})


NOT_INSTALLED: dict[int | str, dict[str, str]] = {404: {"description": "The SDKs are not installed here"}}


@router.get("/sdk/analytics.js", response_class=FileResponse, responses=NOT_INSTALLED)
async def analytics_js(state: StateDep) -> FileResponse:
    """analytics.js for a website: load it after the snippet sets `analytics._writeKey` and
    `analytics._cdn` (this API's origin)."""
    return _file(state.settings.sdk_dir / SEGMENT / "standalone.js")


@router.get("/sdk/rudderstack.js", response_class=FileResponse, responses=NOT_INSTALLED)
async def rudderstack_js(state: StateDep) -> FileResponse:
    """RudderStack's SDK for a website: `new rudderanalytics.RudderAnalytics().load(writeKey, <this
    API's origin>, {configUrl: <this API's origin>/v1})`."""
    return _file(state.settings.sdk_dir / RUDDERSTACK)


@router.get("/sdk/journeys.js", response_class=FileResponse)
async def journeys_js() -> FileResponse:
    """The experiences snippet: decides every `data-placement` of a page, shows the content, and reports
    views and clicks (see the file's header for how to include it)."""
    return _file(SNIPPET)


@router.get("/analytics-next/bundles/{name}", response_class=FileResponse)
async def analytics_chunk(state: StateDep, name: str = Path_(pattern=CHUNK)) -> FileResponse:
    """The chunks analytics.js loads on demand, from where it believes its CDN is."""
    return _file(state.settings.sdk_dir / SEGMENT / name, immutable=True)
