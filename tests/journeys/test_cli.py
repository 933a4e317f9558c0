"""`journeys validate|publish|list|show` against a real API server on a local port."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from typer.testing import CliRunner

from engine.journeys.bundled import EXAMPLES
from engine.settings import Settings, get_settings
from runtime.cli import app
from runtime.devstack.ports import free_port
from tests.support.live_api import live_api


@pytest.fixture
def api_url(settings: Settings, db_engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    with live_api(settings) as url:
        monkeypatch.setenv("JOURNEYS_API_URL", url)
        monkeypatch.setenv("JOURNEYS_ADMIN_TOKEN", settings.admin_token)
        get_settings.cache_clear()
        try:
            yield url
        finally:
            get_settings.cache_clear()


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), terminal_width=200)
    return result.exit_code, result.output


def test_validate_publish_list_show(api_url: str, tmp_path: Path) -> None:
    cart = EXAMPLES / "abandoned-cart.yaml"
    assert run("validate", str(cart)) == (0, f"{cart}: valid\n")

    broken = tmp_path / "broken.yaml"
    broken.write_text(cart.read_text().replace("timeout: 1h", "timeout: an hour"))
    code, output = run("validate", str(broken))
    assert code == 1
    assert f"{broken}: nodes.wait_purchase.timeout: 'an hour' is not a duration" in output

    assert run("publish", str(cart)) == (0, "abandoned-cart: published version 1 (live)\n")
    assert run("publish", str(cart)) == (0, "abandoned-cart: unchanged, still version 1 (live)\n")

    code, output = run("publish", str(broken))
    assert code == 1
    assert "nodes.wait_purchase.timeout: 'an hour' is not a duration" in output

    code, output = run("list")
    assert code == 0
    assert output.splitlines()[1].split()[:3] == ["abandoned-cart", "live", "1"]

    code, output = run("show", "abandoned-cart")
    assert code == 0
    assert output.startswith("abandoned-cart: Abandoned cart recovery (live)\n  v1  ")
    assert "start: wait_purchase" in output

    code, output = run("show", "nope")
    assert code == 1
    assert "no journey with key 'nope'" in output


def test_a_clear_message_when_the_api_is_down(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JOURNEYS_API_URL", f"http://127.0.0.1:{free_port()}")
    get_settings.cache_clear()
    try:
        code, output = run("list")
    finally:
        get_settings.cache_clear()
    assert code == 1
    assert "cannot reach the API at http://127.0.0.1:" in output


async def test_send_posts_a_track_event(
    api_url: str, settings: Settings, db_engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JOURNEYS_WRITE_KEYS", ",".join(settings.write_keys))
    get_settings.cache_clear()
    code, output = run(
        "send", "cart_updated", "--user", "cli-ann", "-p", "cart_id=c9", "-p", "total=42.5", "-p", "vip=true"
    )
    assert (code, output) == (0, "cart_updated: accepted\n")
    async with db_engine.connect() as connection:
        stored = (await connection.execute(text("SELECT profile_id, name, properties FROM events"))).one()
    assert tuple(stored) == ("cli-ann", "cart_updated", {"cart_id": "c9", "total": 42.5, "vip": True})
    code, output = run("send", "cart_updated")
    assert code == 1
    assert "give --user or --anonymous" in output
    code, output = run("send", "x", "-u", "u", "-p", "novalue")
    assert code == 1
    assert "--prop 'novalue': write key=value" in output


def test_experiences_publish_and_list(api_url: str, tmp_path: Path) -> None:
    hero = tmp_path / "hero.yaml"
    hero.write_text(
        "key: hero\nname: Hero\nplacement: homepage_hero\ndefault: calm\n"
        "variations:\n  calm: {content: '<h2>Hello</h2>'}\n"
    )
    assert run("experiences", "publish", str(hero)) == (0, "hero (homepage_hero): v1\n")
    assert run("experiences", "publish", str(hero)) == (0, "hero (homepage_hero): unchanged (v1)\n")
    broken = tmp_path / "broken.yaml"
    broken.write_text(hero.read_text().replace("default: calm", "default: loud"))
    code, output = run("experiences", "publish", str(broken))
    assert code == 1
    assert "no variation named 'loud'" in output
    code, output = run("experiences", "list")
    assert code == 0
    assert output.split() == ["hero", "homepage_hero", "v1"]
