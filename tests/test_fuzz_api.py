"""A bounded schemathesis pass over the whole OpenAPI description, against the real app on a local port
with real PostgreSQL, with each kind of credential: no answer is a 5xx, and every answer's status and
body are the ones the description documents."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance
from sqlalchemy.ext.asyncio import AsyncEngine

from api.app import create_app
from engine.settings import Settings
from tests.support.live_api import live_api

ADMIN = {"Authorization": "Bearer test-admin-token"}
WRITE = {"Authorization": "Bearer test-write-key"}


# Bounded, for every run: the schema's examples and 8 generated requests per operation, the same ones each
# time (a fixed seed); no coverage or stateful phases, which run for many minutes on the journey schema.
CONFIG = schemathesis.Config.from_dict(
    {
        "seed": 20261207,
        "phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}},
        "generation": {"max-examples": 8},
    }
)
# The description the app serves at /openapi.json (computing it needs no database).
schema = schemathesis.openapi.from_dict(create_app(Settings()).openapi(), config=CONFIG)


@pytest.fixture
def api_url(settings: Settings, db_engine: AsyncEngine) -> Iterator[str]:
    with live_api(settings) as url:
        yield url


@schema.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_error_and_only_documented_answers(case: schemathesis.Case[Any], api_url: str) -> None:
    credentials = WRITE if case.path.startswith("/v1") else ADMIN
    case.call_and_validate(
        base_url=api_url,
        headers=credentials,
        checks=[not_a_server_error, status_code_conformance, response_schema_conformance],
    )
