"""Segment-compatible ingestion: /v1/track, identify, page, screen, group, alias, batch (and import).

Authentication as Segment does it: HTTP Basic with the write key as user name (what the SDKs send),
a bearer write key, or `writeKey` in the body. A 200 means the events are committed and will reach
every journey they concern.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import zlib
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError

from api.cors import origin_allowed
from api.deps import AppState, StateDep
from engine.errors import BadRequest, Forbidden, NotFound, PayloadTooLarge, Problem, Unauthorized
from engine.ingestion.schemas import MAX_BATCH_BYTES, MAX_EVENT_BYTES, IngestResult, SegmentMessage
from engine.ingestion.service import (
    IngestionService,
    nul_character,
    oversized,
    parse_message,
    problems_of,
    raced,
)
from engine.settings import Settings

router = APIRouter(prefix="/v1", tags=["ingestion (Segment-compatible)"])

MESSAGE_BODY: dict[str, Any] = {
    "requestBody": {
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/SegmentMessage"}}}
    }
}


MAX_DEPTH = 64  # objects and arrays inside each other: Segment's messages need a handful


def _header_key(request: Request) -> str | None:
    """The write key of the Authorization header ("" for a header that holds none); None without one."""
    header = request.headers.get("authorization", "")
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() == "basic":
        try:
            return base64.b64decode(credentials).decode().split(":", 1)[0]
        except (binascii.Error, UnicodeDecodeError):
            return ""
    if scheme.lower() == "bearer":
        return credentials.strip()
    return None


def _known(key: str, keys: list[str]) -> bool:
    return any(secrets.compare_digest(key.encode(), known.encode()) for known in keys)


def _require_key(key: str, settings: Settings) -> None:
    """A write key, server or client, for the SDKs' settings reads (which say nothing secret): 404 if
    there is none such."""
    if not (_known(key, settings.write_keys) or _known(key, settings.client_write_keys)):
        raise NotFound("no such write key")


def _authenticate(key: Any, request: Request, settings: Settings) -> str:
    """A server write key, or a client one (a website's: public) from an allowed origin, not importing."""
    if isinstance(key, str) and _known(key, settings.write_keys):
        return key
    if isinstance(key, str) and _known(key, settings.client_write_keys):
        if not origin_allowed(request.headers.get("origin"), settings.cors_origins):
            raise Forbidden("a client write key is accepted from the web pages of JOURNEYS_CORS_ORIGINS only")
        if request.url.path.endswith("/import"):
            raise Forbidden("a client write key cannot import history: use a server write key")
        return key
    raise Unauthorized("send a valid write key as the HTTP Basic user name (as Segment SDKs do)")


async def require_write_key(request: Request, state: StateDep) -> bool:
    """Calls of /v1 that are not messages (/v1/decide): the write key in the Authorization header; True
    for a client (public) key."""
    key = _authenticate(_header_key(request), request, state.settings)
    return not _known(key, state.settings.write_keys)


write_key_dependency = Depends(require_write_key)


def with_address(raw: Any, request: Request) -> Any:
    """The sender's address as `context.ip` when the SDK sent none (browsers do not know theirs)."""
    if isinstance(raw, dict) and request.client is not None:
        context = raw.get("context")
        if context is None:
            return {**raw, "context": {"ip": request.client.host}}
        if isinstance(context, dict) and "ip" not in context:
            return {**raw, "context": {**context, "ip": request.client.host}}
    return raw


def _too_deep(body: bytes, value: Any, limit: int) -> bool:
    """Whether objects and arrays nest deeper than `limit` (iterative: a deep body exhausts no stack).
    A body with fewer brackets than the limit cannot, and is not walked (the hot path's usual case)."""
    if body.count(b"[") + body.count(b"{") <= limit:
        return False
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        children = item.values() if isinstance(item, dict) else item
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def _gunzip(body: bytes, limit: int) -> bytes:
    """Segment SDKs may gzip; decompress at most `limit` + 1 bytes so a zip bomb stays small."""
    decompressor = zlib.decompressobj(wbits=zlib.MAX_WBITS | 16)
    try:
        data = decompressor.decompress(body, limit + 1)
    except zlib.error as error:
        raise BadRequest(f"body is not valid gzip: {error}", [Problem("(body)", "bad gzip")]) from error
    if len(data) > limit:
        raise PayloadTooLarge(f"request body is over {limit // 1024} KB once decompressed")
    return data


def _nesting() -> BadRequest:
    message = f"objects and arrays nest deeper than {MAX_DEPTH} levels"
    return BadRequest(f"body: {message}", [Problem("(body)", message)])


def _no_constant(name: str) -> Any:
    # Python's json reads NaN and Infinity; JSON (and PostgreSQL's jsonb) has neither.
    raise ValueError(f"{name} is not JSON (send null or a number)")


async def _read(request: Request, state: AppState, limit: int) -> Any:
    """The body as JSON, once its sender is known: a write key in the header is checked before the body
    is read; one in the body (`writeKey`) right after parsing, before anything else looks at it."""
    settings = state.settings
    header_key = _header_key(request)
    address = request.client.host if request.client else None
    if header_key is not None:
        state.limits.check(_authenticate(header_key, request, settings), address)
    body = await request.body()
    if request.headers.get("content-encoding", "").lower() == "gzip":
        body = _gunzip(body, limit)
    if len(body) > limit:
        raise PayloadTooLarge(f"request body is {len(body)} bytes; the limit is {limit // 1024} KB")
    try:
        parsed = json.loads(body or b"null", parse_constant=_no_constant)
    except RecursionError as error:  # nested past the parser's own limit
        if header_key is None:
            raise Unauthorized("send a valid write key as the HTTP Basic user name") from error
        raise _nesting() from error
    except ValueError as error:  # JSONDecodeError and UnicodeDecodeError among them
        if header_key is None:
            raise Unauthorized("send a valid write key as the HTTP Basic user name") from error
        raise BadRequest(f"body is not valid JSON: {error}", [Problem("(body)", str(error))]) from error
    if header_key is None:
        key = _authenticate(parsed.get("writeKey") if isinstance(parsed, dict) else None, request, settings)
        state.limits.check(key, address)
    if isinstance(parsed, dict | list) and _too_deep(body, parsed, MAX_DEPTH):
        raise _nesting()
    if not isinstance(parsed, dict):
        raise BadRequest("the body must be a JSON object", [Problem("(body)", "not an object")])
    return parsed


async def _ingest(state: AppState, messages: list[SegmentMessage], history: bool = False) -> IngestResult:
    """The request's unit of work, committed before the 200: known people's events in a statement shared
    with concurrent requests, anything else in a transaction of its own (so ingest routes take no
    SessionDep: the hot path has no use for a session of the request's own). History (/v1/import) always
    takes its own transaction: the shared statement routes what it stores."""
    received_at = datetime.now(UTC)
    result = None if history else await state.group_commit.ingest(messages, received_at)
    if result is not None:
        return result
    try:
        async with state.sessionmaker.begin() as session:
            return await IngestionService(session).ingest(messages, received_at, history)
    except DBAPIError as error:
        if not raced(error):
            raise
    # A person erased or merged under this request's feet (or a deadlock PostgreSQL broke): once more,
    # resolving everyone afresh. docs/identity.md says what an event arriving during an erasure does.
    async with state.sessionmaker.begin() as session:
        return await IngestionService(session).ingest(messages, received_at, history)


async def _single(request: Request, state: StateDep, kind: str) -> IngestResult:
    raw = with_address(await _read(request, state, MAX_EVENT_BYTES), request)
    if (nul := nul_character(raw, "body")) is not None:
        raise BadRequest(f"{nul.path}: {nul.message}", [nul])
    try:
        message = parse_message(raw, kind)
    except ValidationError as error:
        problems = problems_of(error, "body")
        raise BadRequest(f"{problems[0].path}: {problems[0].message}", problems) from error
    return await _ingest(state, [message])


@router.post("/track", openapi_extra=MESSAGE_BODY)
async def track(request: Request, state: StateDep) -> IngestResult:
    """Record an action (`event`, `properties`): the calls that enter, advance and convert journeys."""
    return await _single(request, state, "track")


@router.post("/identify", openapi_extra=MESSAGE_BODY)
async def identify(request: Request, state: StateDep) -> IngestResult:
    """Tie a user id to the visitor and merge `traits` into their profile."""
    return await _single(request, state, "identify")


@router.post("/page", openapi_extra=MESSAGE_BODY)
async def page(request: Request, state: StateDep) -> IngestResult:
    """Record a page view."""
    return await _single(request, state, "page")


@router.post("/screen", openapi_extra=MESSAGE_BODY)
async def screen(request: Request, state: StateDep) -> IngestResult:
    """Record a mobile screen view."""
    return await _single(request, state, "screen")


@router.post("/group", openapi_extra=MESSAGE_BODY)
async def group(request: Request, state: StateDep) -> IngestResult:
    """Associate the user with a group (account)."""
    return await _single(request, state, "group")


@router.post("/alias", openapi_extra=MESSAGE_BODY)
async def alias(request: Request, state: StateDep) -> IngestResult:
    """Link a previous id (`previousId`) to a user id: both become one profile."""
    return await _single(request, state, "alias")


@router.post("/batch")
async def batch(request: Request, state: StateDep) -> IngestResult:
    """Up to 500 KB of messages (`{"batch": [...]}`). Invalid items are reported by index in `rejected`
    and the valid ones are kept: an SDK retry of the whole batch could not fix them anyway."""
    return await _batch(request, state, history=False)


@router.post("/import")
async def import_history(request: Request, state: StateDep) -> IngestResult:
    """History, as `/batch` takes it (a server write key only): stored, and it updates profiles, traits,
    identities and live signals, but starts, advances and credits no enrollment: it already happened.
    For back-filling what models and reports learn from."""
    return await _batch(request, state, history=True)


async def _batch(request: Request, state: StateDep, history: bool) -> IngestResult:
    raw = await _read(request, state, MAX_BATCH_BYTES)
    items = raw.get("batch")
    if not isinstance(items, list) or not items:
        raise BadRequest(
            "`batch` must be a non-empty list of messages", [Problem("batch", "missing or empty")]
        )
    context = raw.get("context") if isinstance(raw.get("context"), dict) else {}
    messages: list[SegmentMessage] = []
    rejected: list[dict[str, Any]] = []
    for index, item in enumerate(items):
        if isinstance(item, dict) and context:
            item = {**item, "context": {**context, **(item.get("context") or {})}}
        item = with_address(item, request)
        if oversized(item):
            rejected.append(
                {"index": index, "problems": [{"path": f"batch[{index}]", "message": "over 32 KB"}]}
            )
            continue
        if (nul := nul_character(item, f"batch[{index}]")) is not None:
            rejected.append({"index": index, "problems": [{"path": nul.path, "message": nul.message}]})
            continue
        try:
            messages.append(parse_message(item, None))
        except ValidationError as error:
            problems = problems_of(error, f"batch[{index}]")
            rejected.append(
                {"index": index, "problems": [{"path": p.path, "message": p.message} for p in problems]}
            )
    result = await _ingest(state, messages, history)
    return result.model_copy(update={"rejected": rejected})


# analytics.js (@segment/analytics-next) posts each call to /v1/<its type's initial>.
for initial, call in (("t", track), ("i", identify), ("p", page), ("s", screen), ("g", group), ("a", alias)):
    router.add_api_route(f"/{initial}", call, methods=["POST"], include_in_schema=False)


@router.get("/sourceConfig/", responses={404: {"description": "No such write key"}})
async def rudderstack_source_config(request: Request, state: StateDep, writeKey: str = "") -> dict[str, Any]:
    """What RudderStack's SDK reads when it loads (its config URL pointed at journeys): a source with no
    destinations of its own, so every call goes to its data plane, journeys."""
    key = writeKey or (_header_key(request) or "")
    _require_key(key, state.settings)
    return {
        "isHosted": False,
        "source": {
            "id": "journeys",
            "name": "journeys",
            "writeKey": key,
            "workspaceId": "journeys",
            "enabled": True,
            "config": {"statsCollection": {"errors": {"enabled": False}, "metrics": {"enabled": False}}},
            "destinations": [],
        },
    }


@router.get("/projects/{write_key}/settings")
async def sdk_settings(write_key: str, request: Request, state: StateDep) -> dict[str, Any]:
    """What analytics.js reads when it loads (its CDN host pointed at journeys): send every call to
    journeys, through its Segment.io integration."""
    _require_key(write_key, state.settings)
    base = state.settings.public_url or str(request.base_url)
    host = base.split("://", 1)[-1].rstrip("/")
    return {
        "integrations": {
            "Segment.io": {
                "apiKey": write_key,
                "apiHost": f"{host}/v1",
                "protocol": base.split("://", 1)[0] if "://" in base else "https",
                "unbundledIntegrations": [],
                "addBundledMetadata": False,
                "maybeBundledConfigIds": {},
            }
        },
        "plan": {"track": {"__default": {"enabled": True}}, "identify": {"__default": {"enabled": True}}},
        "analyticsNextEnabled": True,
        "middlewareSettings": {},
        "enabledMiddleware": {},
        "metrics": {"sampleRate": 0},
        "remotePlugins": [],
    }
