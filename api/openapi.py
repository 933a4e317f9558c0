"""The OpenAPI description, completed: the journey definition and Segment message models (routes read
those bodies raw, so FastAPI cannot see them), and the error answers every route can give, each with the
one error body (api/errors.py), so clients and fuzzers know every status to expect."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from engine.ingestion.schemas import SegmentMessage
from engine.journeys.dsl import JourneyDefinition

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error", "message"],
    "properties": {
        "error": {"type": "string"},
        "message": {"type": "string"},
        "problems": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["path", "message"],
                "properties": {"path": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
}
WHY = {
    "400": "The body is malformed (not JSON, nested too deep, a NUL character…); `problems` says where",
    "401": "No valid credentials: the admin token for /api, a write key for /v1",
    "404": "Nothing by that name or id",
    "409": "The resource's state forbids it now (archived, still closing, already ended…)",
    "413": "The body is over the size limit",
    "415": "The body is in a format this route does not read",
    "422": "The request is well-formed but invalid; `problems` lists every problem with its path",
    "429": "Over the write key's or the address's request budget: retry after Retry-After seconds",
    "503": "PostgreSQL or Temporal is unreachable for the moment: retry (see Retry-After)",
}
PUBLIC = ("/health", "/ready", "/metrics", "/unsubscribe", "/docs")


def _statuses(path: str, method: str, operation: dict[str, Any]) -> set[str]:
    found = {"503"}
    if not path.startswith(PUBLIC):
        found.add("401")
    if "{" in path or path.startswith("/api/"):  # a path's id, or one a body names, may not exist
        found.add("404")
    if method in ("post", "put", "patch", "delete") and path.startswith("/api/"):
        found |= {"409", "422"}
    if method in ("post", "put", "patch"):
        found |= {"400", "413", "415", "422"}
    if operation.get("parameters"):
        found.add("422")
    if path.startswith("/v1/"):
        found.add("429")
    return found


def complete_openapi(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, summary=app.summary, routes=app.routes)
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            definitions = JourneyDefinition.model_json_schema(ref_template="#/components/schemas/{model}")
            components.update(definitions.pop("$defs", {}))
            components["JourneyDefinition"] = definitions
            components["SegmentMessage"] = SegmentMessage.model_json_schema(
                ref_template="#/components/schemas/{model}"
            )
            components["Error"] = ERROR_SCHEMA
            error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
            for path, operations in schema["paths"].items():
                for method, operation in operations.items():
                    responses = operation.setdefault("responses", {})
                    for status in sorted(_statuses(path, method, operation)):
                        described = responses.setdefault(status, {"description": WHY[status]})
                        described["content"] = error  # FastAPI's own 422 body is replaced by ours
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
