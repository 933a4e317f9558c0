"""`journeys experiences …`: real-time experiences, through the API like every marketer command."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from engine.errors import JourneysError
from engine.settings import get_settings

experiences = typer.Typer(help="Real-time experiences: publish them, list them.", no_args_is_help=True)


@experiences.command()
def publish(file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="YAML or JSON")]) -> None:
    """Publish an experience: a new version if it changed; every problem with its path if invalid."""
    from runtime.api_client import JourneysClient

    try:
        with JourneysClient(get_settings()) as client:
            result = client.put_experience(file)
    except JourneysError as error:
        for problem in error.problems or []:
            typer.echo(f"{file}: {problem.path}: {problem.message}", err=True)
        if not error.problems:
            typer.echo(f"{file}: {error.message}", err=True)
        raise typer.Exit(1) from error
    state = f"v{result['version']}" if result["created"] else f"unchanged (v{result['version']})"
    typer.echo(f"{result['key']} ({result['placement']}): {state}")


@experiences.command("list")
def list_experiences() -> None:
    """Every experience: key, placement, latest version."""
    from runtime.api_client import JourneysClient

    with JourneysClient(get_settings()) as client:
        for item in client.experiences():
            typer.echo(f"{item['key']:<30} {item['placement']:<24} v{item['version']}")
