"""Search attributes on every enrollment, so operators can find them in the Temporal UI / CLI
(`temporal workflow list --query "JourneyKey='abandoned-cart'"`)."""

from __future__ import annotations

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.client import Client
from temporalio.common import SearchAttributeKey
from temporalio.service import RPCError, RPCStatusCode

JOURNEY_KEY = SearchAttributeKey.for_keyword("JourneyKey")
JOURNEY_VERSION = SearchAttributeKey.for_int("JourneyVersion")
CURRENT_NODE = SearchAttributeKey.for_keyword("CurrentNode")
# A keyed hash of the profile id (engine.enrollments.pseudonyms), not the id: it outlives an erasure.
PERSON_KEY = SearchAttributeKey.for_keyword("PersonKey")

ALL: list[SearchAttributeKey] = [JOURNEY_KEY, JOURNEY_VERSION, CURRENT_NODE, PERSON_KEY]  # type: ignore[type-arg]


def dev_server_flags() -> list[str]:
    """`--search-attribute Name=Type` flags that register them on a dev server at start-up."""
    flags: list[str] = []
    for key in ALL:
        flags += ["--search-attribute", f"{key.name}={key.indexed_value_type.name.title()}"]
    return flags


async def register(client: Client, namespace: str) -> None:
    """Register the attributes on a server that lacks them (the time-skipping test server, a fresh
    self-hosted namespace). Already-registered attributes are left alone."""
    request = AddSearchAttributesRequest(
        namespace=namespace,
        search_attributes={
            key.name: IndexedValueType.Value(f"INDEXED_VALUE_TYPE_{key.indexed_value_type.name}")
            for key in ALL
        },
    )
    try:
        await client.operator_service.add_search_attributes(request)
    except RPCError as error:
        if error.status != RPCStatusCode.ALREADY_EXISTS:
            raise
