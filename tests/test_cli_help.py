import pytest
from typer.testing import CliRunner

from engine.settings import get_settings
from runtime.cli import app


def test_help_lists_every_command_with_a_description() -> None:
    result = CliRunner().invoke(app, ["--help"], terminal_width=200)
    assert result.exit_code == 0
    lines = result.output.splitlines()
    for command in ("dev", "api", "worker", "migrate", "check"):
        line = next((line for line in lines if line.strip("│ ").startswith(command + " ")), None)
        assert line is not None, f"{command} missing from --help"
        assert len(line.strip("│ ").split(maxsplit=1)) == 2, f"{command} has no description"


@pytest.mark.parametrize("command", ["api", "worker"])
def test_serving_with_development_secrets_is_refused_with_one_line(
    command: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in (
        "JOURNEYS_ADMIN_TOKEN",
        "JOURNEYS_WRITE_KEYS",
        "JOURNEYS_PUBLIC_URL",
        "JOURNEYS_ALLOW_DEV_SECRETS",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("JOURNEYS_WEBHOOK_SECRET", "a-real-one")
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, [command], terminal_width=200)
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 1
    assert result.output.strip() == (
        "journeys: refusing to serve with development secrets: set JOURNEYS_ADMIN_TOKEN,"
        " JOURNEYS_LINK_SECRET, JOURNEYS_WRITE_KEYS, JOURNEYS_PUBLIC_URL"
        " (or JOURNEYS_ALLOW_DEV_SECRETS=true on a machine of your own)"
    )
