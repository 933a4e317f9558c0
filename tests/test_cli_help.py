from typer.testing import CliRunner

from runtime.cli import app


def test_help_lists_every_command_with_a_description() -> None:
    result = CliRunner().invoke(app, ["--help"], terminal_width=200)
    assert result.exit_code == 0
    lines = result.output.splitlines()
    for command in ("dev", "api", "worker", "migrate", "check"):
        line = next((line for line in lines if line.strip("│ ").startswith(command + " ")), None)
        assert line is not None, f"{command} missing from --help"
        assert len(line.strip("│ ").split(maxsplit=1)) == 2, f"{command} has no description"
