"""How JourneyWorkflow calls activities (timeouts, retries) and how it ends early."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy

In = TypeVar("In")
Out = TypeVar("Out")


async def local(activity: Callable[[Any, In], Awaitable[Out]], arg: In) -> Out:
    """Bookkeeping and short reads run as local activities: no extra round trip through the server."""
    return await workflow.execute_local_activity_method(
        activity,
        arg,
        start_to_close_timeout=timedelta(seconds=10),
        retry_policy=RetryPolicy(maximum_interval=timedelta(seconds=10)),
    )


async def remote(activity: Callable[[Any, In], Awaitable[Out]], arg: In) -> Out:
    """Deliveries run as regular activities: retried with backoff, idempotent by their delivery key."""
    return await workflow.execute_activity_method(
        activity,
        arg,
        start_to_close_timeout=timedelta(seconds=30),
        retry_policy=RetryPolicy(
            initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=5), maximum_attempts=10
        ),
    )


class Interrupted(Exception):
    """Ends the interpretation with a final status (goal, exit criterion, operator, failure)."""

    def __init__(self, status: str, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
