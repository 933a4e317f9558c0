"""No Docker engine runs here, so the production compose file is checked as data: the services the docs
names exist, depend on each other sensibly, have health checks, and the app gets its settings."""

import re
from pathlib import Path
from typing import Any

import yaml

from engine.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return data


def test_every_service_the_docs_name_exists() -> None:
    services = compose()["services"]
    readme = (ROOT / "docs" / "operations.md").read_text()
    paragraph = readme.split("`docker-compose.yml` (with the `Dockerfile`)", 1)[1].split("\n\n", 1)[0]
    named = set(re.findall(r"`([a-z][a-z-]*)`", paragraph))
    assert {"postgres", "temporal", "temporal-ui", "api", "worker"} <= named
    assert named <= set(services), (
        f"docs/operations.md names services the compose file lacks: {named - set(services)}"
    )


def test_api_and_worker_get_database_and_temporal_addresses() -> None:
    services = compose()["services"]
    for name in ("api", "worker", "migrate"):
        env = services[name]["environment"]
        assert env["DATABASE_URL"].startswith("postgresql://")
        assert "@postgres:5432/" in env["DATABASE_URL"]
        assert env["TEMPORAL_ADDRESS"] == "temporal:7233"


def test_temporal_runs_on_the_postgres_schema_set_up_by_admin_tools() -> None:
    services = compose()["services"]
    assert "auto-setup" not in services["temporal"]["image"]
    assert services["temporal"]["environment"]["DB"] == "postgres12"
    assert services["temporal"]["environment"]["POSTGRES_SEEDS"] == "postgres"
    assert services["temporal-schema"]["image"].startswith("temporalio/admin-tools")
    assert (
        services["temporal"]["depends_on"]["temporal-schema"]["condition"] == "service_completed_successfully"
    )
    script = ROOT / services["temporal-schema"]["volumes"][0].split(":")[0]
    assert "update-schema" in script.read_text()


def test_long_running_services_have_health_checks() -> None:
    services = compose()["services"]
    for name in ("postgres", "temporal", "temporal-ui", "api", "worker"):
        assert "healthcheck" in services[name], name
    assert "/ready" in " ".join(services["api"]["healthcheck"]["test"])


def test_search_attributes_match_the_engine() -> None:
    from engine import search_attributes

    script = (ROOT / "deploy" / "temporal-namespace.sh").read_text()
    for key in search_attributes.ALL:
        assert f"{key.name}={key.indexed_value_type.name.title()}" in script


def test_secrets_come_from_an_uncommitted_env_file() -> None:
    text = (ROOT / "docker-compose.yml").read_text()
    assert not re.search(r"(TOKEN|KEYS|SECRET)\s*:", text), "a secret is written in the compose file"
    services = compose()["services"]
    for name in ("api", "worker", "migrate"):
        assert services[name]["env_file"] == "journeys.env"
    assert "journeys.env" in (ROOT / ".gitignore").read_text().split()
    example = (ROOT / "deploy" / "journeys.env.example").read_text()
    # Every setting the api and worker refuse to start without is in the example, to be filled in.
    for variable in Settings().development_secrets():
        assert f"\n{variable}=" in example
