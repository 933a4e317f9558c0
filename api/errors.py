"""The one place where errors become HTTP responses: `{"error": code, "message": ..., "problems": [...]}`."""

from __future__ import annotations

import math
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from engine.errors import JourneysError, Problem, TooManyRequests


def error_body(code: str, message: str, problems: list[Problem] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"error": code, "message": message}
    if problems:
        body["problems"] = [{"path": p.path, "message": p.message} for p in problems]
    return body


def _path(location: tuple[Any, ...]) -> str:
    """FastAPI's `("body", "nodes", "a", 0)` → `body.nodes.a[0]`: a path a person can follow."""
    out = ""
    for part in location:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(JourneysError)
    async def _domain(_: Request, error: JourneysError) -> JSONResponse:
        headers = None
        if isinstance(error, TooManyRequests):  # whole seconds, rounded up, as HTTP wants them
            headers = {"Retry-After": str(max(1, math.ceil(error.retry_after)))}
        body = error_body(error.code, error.message, error.problems)
        return JSONResponse(body, error.status_code, headers=headers)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, error: StarletteHTTPException) -> JSONResponse:
        # FastAPI's and Starlette's own refusals (a body that is not JSON, no such route, a wrong method)
        # answer in the same shape as everything else.
        code = HTTPStatus(error.status_code).phrase.lower().replace(" ", "_")
        return JSONResponse(error_body(code, str(error.detail)), error.status_code, headers=error.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, error: RequestValidationError) -> JSONResponse:
        problems = [
            Problem(_path(tuple(e["loc"])), str(e["msg"]).removeprefix("Value error, "))
            for e in error.errors()
        ]
        first = problems[0] if problems else Problem("body", "invalid request")
        return JSONResponse(error_body("invalid", f"{first.path}: {first.message}", problems), 422)

    @app.exception_handler(DBAPIError)
    async def _database(_: Request, error: DBAPIError) -> JSONResponse:
        if not error.connection_invalidated:
            raise error  # a bug, not an outage: the server's 500
        # A pooled connection died (database restart, network): the pool is recycled; retrying works.
        body = error_body("database_unavailable", "the database connection was lost; retry the request")
        return JSONResponse(body, 503, headers={"Retry-After": "1"})

    @app.exception_handler(PoolTimeout)
    async def _busy(_: Request, __: PoolTimeout) -> JSONResponse:
        # Every pooled connection stayed busy past the pool's timeout: overload, not a bug; retry later.
        body = error_body("overloaded", "every database connection is busy; retry the request")
        return JSONResponse(body, 503, headers={"Retry-After": "1"})
