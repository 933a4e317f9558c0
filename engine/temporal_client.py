"""The Temporal client, built once per process from Settings (embedded dev server, self-hosted or Cloud)."""

from __future__ import annotations

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.runtime import Runtime
from temporalio.service import TLSConfig

from engine.settings import Settings


def tls_config(settings: Settings) -> TLSConfig | bool:
    if settings.temporal_tls_cert and settings.temporal_tls_key:
        return TLSConfig(
            client_cert=settings.temporal_tls_cert.read_bytes(),
            client_private_key=settings.temporal_tls_key.read_bytes(),
            server_root_ca_cert=(
                settings.temporal_tls_server_ca.read_bytes() if settings.temporal_tls_server_ca else None
            ),
        )
    # An API key (Temporal Cloud) always travels over TLS.
    return settings.temporal_tls or settings.temporal_api_key is not None


async def connect(settings: Settings, *, lazy: bool = False, runtime: Runtime | None = None) -> Client:
    """`lazy=True` lets the API start while Temporal is down; `/ready` then reports it."""
    return await Client.connect(
        settings.temporal_target,
        namespace=settings.temporal_namespace,
        api_key=settings.temporal_api_key,
        tls=tls_config(settings),
        lazy=lazy,
        # Pydantic models are the input/output of every workflow, activity and signal.
        data_converter=pydantic_data_converter,
        runtime=runtime,
    )
