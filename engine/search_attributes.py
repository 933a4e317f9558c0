"""Search attributes on every enrollment, so operators can find them in the Temporal UI / CLI
(`temporal workflow list --query "JourneyKey='abandoned-cart'"`)."""

from __future__ import annotations

from temporalio.common import SearchAttributeKey

JOURNEY_KEY = SearchAttributeKey.for_keyword("JourneyKey")
JOURNEY_VERSION = SearchAttributeKey.for_int("JourneyVersion")
CURRENT_NODE = SearchAttributeKey.for_keyword("CurrentNode")
PROFILE_ID = SearchAttributeKey.for_keyword("ProfileId")

ALL: list[SearchAttributeKey] = [JOURNEY_KEY, JOURNEY_VERSION, CURRENT_NODE, PROFILE_ID]  # type: ignore[type-arg]


def dev_server_flags() -> list[str]:
    """`--search-attribute Name=Type` flags that register them on a dev server at start-up."""
    flags: list[str] = []
    for key in ALL:
        flags += ["--search-attribute", f"{key.name}={key.indexed_value_type.name.title()}"]
    return flags
