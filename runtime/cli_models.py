"""`journeys simulate` and `journeys models …`: a simulated shop's history for the predictive models, and
the models themselves, through the API like every marketer command."""

from __future__ import annotations

import csv
import json
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from engine.errors import JourneysError
from engine.settings import get_settings

models = typer.Typer(help="Predictive models: train them, list their versions.", no_args_is_help=True)
BATCH = 400  # messages per /v1/import call: well under its 500 KB


def simulate(
    customers: Annotated[int, typer.Option(min=1, help="how many customers")] = 2000,
    days: Annotated[int, typer.Option(min=1, help="days of history, ending now")] = 365,
    seed: Annotated[int, typer.Option(help="the same seed gives the same shop")] = 1,
    truth: Annotated[
        Path | None, typer.Option(help="write each customer's truth (rate, dropout, future orders) as CSV")
    ] = None,
) -> None:
    """Post a simulated shop's history to /v1/import: customers who buy, log in, fill carts and open emails
    as the BG/NBD story says real ones do. History enrolls no one (docs/predictions.md)."""
    from engine.simulation.shop import simulate as run
    from runtime.api_client import JourneysClient

    settings = get_settings()
    shop = run(customers, days, datetime.now(UTC), settings.horizon_days, seed)
    try:
        with (
            JourneysClient(settings, timeout=60) as client,
            typer.progressbar(
                range(0, len(shop.messages), BATCH), label=f"importing {len(shop.messages):,} events"
            ) as starts,
        ):
            for start in starts:
                client.import_history(shop.messages[start : start + BATCH])
    except JourneysError as error:
        typer.echo(f"error: {error.message}", err=True)
        raise typer.Exit(1) from error
    if truth is not None:
        with truth.open("w", newline="") as file:
            writer = csv.DictWriter(file, fieldnames=list(asdict(shop.truth[0])))
            writer.writeheader()
            writer.writerows(asdict(row) for row in shop.truth)
    typer.echo(f"{customers:,} customers, {len(shop.messages):,} events over {days} days imported")


@models.command()
def train() -> None:
    """Train on every stored event as of now and print how the models compared on held-out customers."""
    from runtime.api_client import JourneysClient

    try:
        with JourneysClient(get_settings(), timeout=600) as client:
            result = client.train_models()
    except JourneysError as error:
        typer.echo(f"error: {error.message}", err=True)
        raise typer.Exit(1) from error
    typer.echo(f"model {result['id']}: {result['customers']:,} customers, trained in {result['seconds']} s")
    for name, figures in result["held_out"]["churn"].items():
        shipped = " (shipped)" if result["shipped"]["churn_risk"] == name else ""
        auc, calibration = figures["auc"], figures["calibration_error"]
        typer.echo(f"  churn {name:<10} AUC {auc:.3f}  calibration error {calibration:.3f}{shipped}")


@models.command("list")
def list_models() -> None:
    """Model versions, newest first, as JSON."""
    from runtime.api_client import JourneysClient

    with JourneysClient(get_settings()) as client:
        typer.echo(json.dumps(client.models(), indent=2))
