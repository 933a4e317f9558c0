"""The README and docs/ say what the code does: their commands run as written, their links lead somewhere,
and every setting the code reads is documented."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from typer.testing import CliRunner

from engine.settings import Settings, get_settings
from runtime.cli import app
from tests.support.live_api import live_api

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = sorted((ROOT / "docs").glob("*.md"))


def bash_lines(path: Path) -> list[str]:
    """The commands of a document's ```bash blocks, comments cut."""
    blocks = re.findall(r"```bash\n(.*?)```", path.read_text(), flags=re.S)
    joined = [line for block in blocks for line in block.replace("\\\n", " ").splitlines()]
    return [line.split("  #")[0].strip() for line in joined if line.strip()]


def section(text: str, title: str) -> list[str]:
    lines = text.splitlines()
    start = lines.index(f"## {title}")
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    return lines[start:end]


def test_readme_is_a_short_read() -> None:
    text = README.read_text()
    assert len(text.splitlines()) <= 250
    assert len(section(text, "Performance")) <= 30


@pytest.mark.parametrize("document", [README, *DOCS], ids=lambda p: p.name)
def test_links_lead_to_files_in_the_repo(document: Path) -> None:
    targets = re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", document.read_text())
    local = [t for t in targets if not t.startswith(("http://", "https://"))]
    missing = [t for t in local if not (document.parent / t).exists()]
    assert missing == []


def test_every_setting_is_documented() -> None:
    table = (ROOT / "docs" / "operations.md").read_text()
    undocumented = []
    for name, field in Settings.model_fields.items():
        alias = field.validation_alias
        env = alias.choices[0] if alias is not None else f"JOURNEYS_{name.upper()}"  # type: ignore[union-attr]
        if f"| `{env}` |" not in table:
            undocumented.append(env)
    assert undocumented == []


def test_quickstart_run_command_answers_help() -> None:
    result = subprocess.run(
        ["bash", "scripts/run.sh", "--help"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert "Run everything on embedded PostgreSQL and Temporal" in result.stdout


def test_benchmark_commands_answer_help() -> None:
    for module in ("bench", "bench.journey"):
        result = subprocess.run(
            [sys.executable, "-m", module, "--help"], cwd=ROOT, capture_output=True, text=True, timeout=60
        )
        assert result.returncode == 0, result.stderr
        assert "usage:" in result.stdout


@pytest.fixture
def cli_env(settings: Settings, db_engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    with live_api(settings) as url:
        monkeypatch.setenv("JOURNEYS_API_URL", url)
        monkeypatch.setenv("JOURNEYS_ADMIN_TOKEN", settings.admin_token)
        monkeypatch.setenv("JOURNEYS_WRITE_KEYS", ",".join(settings.write_keys))
        monkeypatch.chdir(ROOT)
        get_settings.cache_clear()
        try:
            yield url
        finally:
            get_settings.cache_clear()


def test_readme_journeys_commands_run_as_written(cli_env: str) -> None:
    commands = [line for line in bash_lines(README) if line.startswith(".venv/bin/journeys ")]
    assert [shlex.split(c)[1] for c in commands] == ["validate", "publish", "send", "report"]
    for command in commands:
        result = CliRunner().invoke(app, shlex.split(command)[1:], terminal_width=200)
        assert result.exit_code == 0, f"{command}: {result.output}"
    assert "abandoned-cart" in result.output  # the report names its journey


@pytest.mark.parametrize("document", [README, *DOCS], ids=lambda p: p.name)
def test_every_journeys_command_in_the_docs_exists(document: Path) -> None:
    named = {
        shlex.split(line)[1] for line in bash_lines(document) if re.match(r"(\.venv/bin/)?journeys \w", line)
    }
    for command in named:
        result = CliRunner().invoke(app, [command, "--help"])
        assert result.exit_code == 0, f"journeys {command}: {result.output}"
