"""The `journeys` command line. Operator commands run services; marketer commands talk to the API."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import warnings
from pathlib import Path
from typing import Annotated, Any, Literal

import typer

from engine.errors import JourneysError, StartupError
from engine.settings import Settings, get_settings
from engine.stats.scale import Scale
from runtime import cli_experiences, cli_models

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
    from runtime.devstack.supervisor import DevStack

    try:
        DevStack(get_settings(), say=lambda line: typer.echo(line)).run()
    except StartupError as error:
        fail(error.message)


def _refuse_development_secrets(settings: Settings) -> None:
    missing = settings.development_secrets()
    if missing and not settings.allow_dev_secrets:
        fail(
            f"refusing to serve with development secrets: set {', '.join(missing)}"
            " (or JOURNEYS_ALLOW_DEV_SECRETS=true on a machine of your own)"
        )


@app.command()
def api() -> None:
    """Serve the HTTP API (production: point DATABASE_URL and TEMPORAL_ADDRESS at real services)."""
    import uvicorn

    from api.app import create_app
    from engine.logs import configure_logging

    settings = get_settings()
    _refuse_development_secrets(settings)
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
    from runtime.worker import run_worker

    settings = get_settings()
    _refuse_development_secrets(settings)
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
    from runtime import migrate as migrations

    asyncio.run(migrations.upgrade(get_settings()))
    typer.echo("database is at the latest revision")


@app.command()
def check() -> None:
    """Prove the whole stack works: run a workflow whose activity queries PostgreSQL through the worker."""
    from runtime.stack_check import run_stack_check

    try:
        probe = asyncio.run(run_stack_check(get_settings()))
    except Exception as error:
        fail(f"stack check failed: {error}")
    typer.echo(f"ok: worker reached PostgreSQL {probe.server_version} (database {probe.database})")


DefinitionFile = Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="journey YAML or JSON")]


def _api_failure(error: JourneysError) -> None:
    for problem in error.problems:
        typer.echo(f"  {problem.path}: {problem.message}", err=True)
    fail(error.message)


@app.command()
def validate(
    file: DefinitionFile,
) -> None:
    """Check a journey definition and list every problem with its path (exit 1 if any)."""
    from runtime.api_client import JourneysClient

    try:
        with JourneysClient(get_settings()) as client:
            result = client.validate(file)
    except JourneysError as error:
        _api_failure(error)
    _warn(file, result)
    if result["valid"]:
        typer.echo(f"{file}: valid")
        return
    for problem in result["problems"]:
        typer.echo(f"{file}: {problem['path']}: {problem['message']}")
    raise typer.Exit(1)


@app.command()
def publish(
    file: DefinitionFile,
) -> None:
    """Publish a journey: a new version if it changed, nothing if not."""
    from runtime.api_client import JourneysClient

    try:
        with JourneysClient(get_settings()) as client:
            result = client.publish(file)
    except JourneysError as error:
        _api_failure(error)
    _warn(file, result)
    verb = "published" if result["created"] else "unchanged, still"
    typer.echo(f"{result['key']}: {verb} version {result['version']} ({result['status']})")


def _warn(file: Path, result: dict[str, Any]) -> None:
    for warning in result.get("warnings", []):
        typer.secho(
            f"{file}: warning: {warning['path']}: {warning['message']}", err=True, fg=typer.colors.YELLOW
        )


@app.command("list")
def list_journeys() -> None:
    """List journeys with their status and latest version."""
    from runtime.api_client import JourneysClient

    try:
        with JourneysClient(get_settings()) as client:
            rows = client.list()
    except JourneysError as error:
        _api_failure(error)
    typer.echo(f"{'KEY':<24} {'STATUS':<9} {'VERSION':>7}  NAME")
    for row in rows:
        typer.echo(f"{row['key']:<24} {row['status']:<9} {row['latest_version'] or '-':>7}  {row['name']}")


@app.command()
def show(key: str = typer.Argument(..., help="journey key, e.g. abandoned-cart")) -> None:
    """Show a journey: status, versions, and the latest definition as YAML."""
    import yaml

    from runtime.api_client import JourneysClient

    try:
        with JourneysClient(get_settings()) as client:
            journey = client.show(key)
    except JourneysError as error:
        _api_failure(error)
    typer.echo(f"{journey['key']}: {journey['name']} ({journey['status']})")
    for version in journey["versions"]:
        typer.echo(f"  v{version['version']}  {version['published_at']}  by {version['author']}")
    if journey["draft"] is not None:
        typer.echo("  (has an unpublished draft)")
    if journey["definition"] is not None:
        typer.echo(yaml.safe_dump(journey["definition"], sort_keys=False).rstrip())


@app.command()
def report(
    key: Annotated[str, typer.Argument(help="journey key")],
    goal: Annotated[str | None, typer.Option(help="only this goal")] = None,
    version: Annotated[int | None, typer.Option(help="only this version")] = None,
    scale: Annotated[
        Scale, typer.Option(help="relative: lift as treatment/control − 1; absolute: difference of means")
    ] = "relative",
    format: Annotated[
        Literal["table", "json", "csv"], typer.Option(help="table to read, json or csv for a tool")
    ] = "table",
) -> None:
    """Print the variant report of a journey: lift, intervals, p-values, SRM check, verdict."""
    from runtime.api_client import JourneysClient

    params = {"goal": goal, "version": version, "scale": scale, "format": "csv" if format == "csv" else None}
    try:
        with JourneysClient(get_settings()) as client:
            data = client.report(key, {k: v for k, v in params.items() if v is not None})
    except JourneysError as error:
        _api_failure(error)
    if format != "table":
        typer.echo(data.rstrip("\n") if format == "csv" else json.dumps(data, indent=2))
        return
    percent = scale == "relative"
    for split in [*data["splits"], *data["holdout"]]:
        typer.echo(f"\n{split['node']} · goal {split['goal']} · control {split['control']}")
        header = ("variant", "exposed", "conv", "rate", "lift", "95% CI", "p(Holm)", "P(beat)")
        typer.echo("  {:<16}{:>9}{:>7}{:>8}{:>9}{:>19}{:>9}{:>8}".format(*header))
        for v in split["variants"]:
            lift = _effect(v["lift"], percent)
            bounds = v["lift_interval"]
            ci = f"{_effect(bounds['low'], percent)}..{_effect(bounds['high'], percent)}" if bounds else "-"
            p = f"{v['p_value_holm']:.3f}" if v["p_value_holm"] is not None else "-"
            beat = f"{v['chance_to_beat_control']:.0%}" if v["chance_to_beat_control"] is not None else "-"
            typer.echo(
                f"  {v['variant']:<16}{v['exposures']:>9}{v['conversions']:>7}{v['conversion_rate']:>8.1%}"
                f"{lift:>9}{ci:>19}{p:>9}{beat:>8}"
            )
        typer.echo(f"  {split['verdict']}")
    if not data["splits"] and not data["holdout"]:
        typer.echo(f"{key}: no exposures yet")


def _effect(value: float | None, percent: bool) -> str:
    if value is None:
        return "-"
    return f"{value:+.1%}" if percent else f"{value:+.3f}"


def _value(text: str) -> Any:
    """`total=42` is a number, `vip=true` a boolean, anything that is not JSON a string."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


@app.command()
def send(
    event: Annotated[str, typer.Argument(help="event name, e.g. cart_updated")],
    user: Annotated[str | None, typer.Option("--user", "-u", help="userId")] = None,
    anonymous: Annotated[str | None, typer.Option("--anonymous", "-a", help="anonymousId")] = None,
    prop: Annotated[
        list[str] | None, typer.Option("--prop", "-p", help="property as key=value (repeat)")
    ] = None,
) -> None:
    """Send a track event to the API, as an app would (uses the first JOURNEYS_WRITE_KEYS key)."""
    from runtime.api_client import JourneysClient

    if user is None and anonymous is None:
        fail("give --user or --anonymous")
    properties: dict[str, Any] = {}
    for item in prop or []:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            fail(f"--prop {item!r}: write key=value")
        properties[key] = _value(raw)
    message = {"event": event, "userId": user, "anonymousId": anonymous, "properties": properties}
    try:
        with JourneysClient(get_settings()) as client:
            result = client.track({k: v for k, v in message.items() if v is not None})
    except JourneysError as error:
        _api_failure(error)
    verb = "accepted" if result["accepted"] else "already received (same messageId)"
    typer.echo(f"{event}: {verb}")


app.command()(cli_models.simulate)
app.add_typer(cli_models.models, name="models")
app.add_typer(cli_experiences.experiences, name="experiences")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
