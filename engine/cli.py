"""The `journeys` command line. Operator commands run services; marketer commands talk to the API."""

from __future__ import annotations

import asyncio
import os
import sys
import warnings

import typer

from engine.errors import StartupError
from engine.settings import get_settings

# pgserver falls back to /tmp when XDG_RUNTIME_DIR is unset and warns about it on every start.
warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")

app = typer.Typer(
    help="journeys: durable customer journeys on Temporal, with outcomes in PostgreSQL.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def fail(message: str) -> None:
    typer.secho(f"journeys: {message}", err=True, fg=typer.colors.RED)
    raise typer.Exit(1)


@app.command()
def dev() -> None:
    """Run everything on embedded PostgreSQL and Temporal (unless DATABASE_URL / TEMPORAL_ADDRESS are set)."""
    from engine.devstack.supervisor import DevStack

    try:
        DevStack(get_settings(), say=lambda line: typer.echo(line)).run()
    except StartupError as error:
        fail(error.message)


@app.command()
def api() -> None:
    """Serve the HTTP API (production: point DATABASE_URL and TEMPORAL_ADDRESS at real services)."""
    import uvicorn

    from api.app import create_app
    from engine.logs import configure_logging

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format, "api")
    uvicorn.run(
        create_app(settings),
        host=settings.api_host,
        port=settings.api_port,
        log_config=None,
        access_log=False,
    )


@app.command()
def worker() -> None:
    """Run the Temporal worker that executes journeys."""
    from engine.logs import configure_logging
    from engine.worker import run_worker

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format, "worker")
    code = 0
    try:
        asyncio.run(run_worker(settings))
    except StartupError as error:
        typer.secho(f"journeys: worker cannot start: {error.message}", err=True, fg=typer.colors.RED)
        code = 1
    # The Temporal SDK's Rust runtime (with its metrics thread) can abort the interpreter while it
    # finalizes (PyGILState_Release); everything is already shut down here, so leave without finalizing.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


@app.command()
def migrate() -> None:
    """Apply database migrations up to the latest revision."""
    from engine import migrate as migrations

    asyncio.run(migrations.upgrade(get_settings()))
    typer.echo("database is at the latest revision")


@app.command()
def check() -> None:
    """Prove the whole stack works: run a workflow whose activity queries PostgreSQL through the worker."""
    from engine.stack_check import run_stack_check

    try:
        probe = asyncio.run(run_stack_check(get_settings()))
    except Exception as error:
        fail(f"stack check failed: {error}")
    typer.echo(f"ok: worker reached PostgreSQL {probe.server_version} (database {probe.database})")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
