"""What a marketer and an analyst see in the console, in Chromium, against the whole stack."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from playwright.async_api import ViewportSize, expect
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from engine.journeys.bundled import EXAMPLES
from tests.console.conftest import Console
from tests.ingestion.conftest import ADMIN, WRITE, eventually
from tests.predictions.conftest import import_shop
from tests.support.exposures import seed

PHONE: ViewportSize = {"width": 390, "height": 844}
DESKTOP: ViewportSize = {"width": 1280, "height": 800}


async def test_sign_in_shows_the_three_reference_journeys(console: Console) -> None:
    page = console.page
    await page.goto(f"{console.url}/")  # the root sends people to the console
    await page.get_by_label("Admin or analyst token").fill("not-the-token")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("alert")).to_have_text("That token is not valid here.")

    await console.sign_in()
    table = page.get_by_role("table", name="Journeys")
    for name in ("Abandoned cart recovery", "Onboarding", "Churn rescue"):
        await expect(table.get_by_role("link", name=name)).to_be_visible()
    await expect(table.locator("[data-journey=abandoned-cart]")).to_contain_text("live")
    await expect(table.locator("[data-journey=abandoned-cart]")).to_contain_text("v1")
    await console.screenshot("journeys")
    await page.set_viewport_size(PHONE)
    await console.screenshot("journeys-phone")
    await page.set_viewport_size(DESKTOP)

    # Pausing asks first, then the list says so.
    row = table.locator("[data-journey=onboarding]")
    await row.get_by_role("button", name="Pause").click()
    dialog = page.get_by_role("dialog", name="Pause onboarding?")
    await dialog.get_by_role("button", name="Pause").click()
    await expect(row).to_contain_text("paused")
    journeys = (await console.stack.api.get("/api/journeys", headers=ADMIN)).json()
    assert {j["key"]: j["status"] for j in journeys}["onboarding"] == "paused"

    await page.get_by_role("button", name="Sign out").click()
    await expect(page.get_by_label("Admin or analyst token")).to_be_visible()
    await page.reload()  # the cookie is gone: still signed out
    await expect(page.get_by_label("Admin or analyst token")).to_be_visible()


async def test_an_event_moves_the_count_on_the_journey_graph(console: Console) -> None:
    page = console.page
    await console.sign_in()
    await page.get_by_role("link", name="Abandoned cart recovery").click()
    first = page.locator("[data-node=wait_purchase]")
    await expect(first).to_contain_text("wait_for_event")
    await expect(first).to_contain_text("timeout 1h")
    await expect(first.locator("[data-count=entered]")).to_have_text("entered 0")
    await expect(page.get_by_text("case 1: cart_value ≥ 150 and engagement_score ≥ 60")).to_be_visible()

    response = await console.stack.api.post(
        "/v1/track",
        json={"userId": "dana", "event": "cart_updated", "properties": {"cart_id": "c-1", "total": 80}},
        headers=WRITE,
    )
    assert response.status_code == 200
    await expect(first.locator("[data-count=entered]")).to_have_text("entered 1", timeout=10_000)
    await expect(first.locator("[data-count=waiting]")).to_have_text("waiting 1")
    enrollments = page.get_by_role("table", name="Enrollments")
    await expect(enrollments.get_by_role("link", name="dana")).to_be_visible(timeout=10_000)
    await console.screenshot("journey")


def _onboarding(change: str, to: str) -> str:
    source = (EXAMPLES / "onboarding.yaml").read_text()
    assert change in source
    return source.replace(change, to, 1)


async def test_the_editor_shows_a_dangling_edge_and_publishes_once_it_is_fixed(console: Console) -> None:
    page = console.page
    await console.sign_in()
    await page.goto(f"{console.url}/console/journeys/onboarding/edit")
    editor = page.locator(".cm-content")
    await expect(editor).to_contain_text("key: onboarding")

    broken = _onboarding("    next: wait_project\n", "    next: wait_projekt\n")
    line = broken.splitlines().index("    next: wait_projekt") + 1
    await editor.click()
    await page.keyboard.press("Control+A")
    await page.keyboard.insert_text(broken)

    problem = page.get_by_role("list", name="Problems").locator(f"li[data-line='{line}']")
    await expect(problem).to_contain_text(f"Line {line}: nodes.welcome.next")
    await expect(problem).to_contain_text("wait_projekt")
    await expect(page.locator("[data-node=welcome][data-problem]")).to_be_visible()
    # Underlined in the editor itself (the nodes cut off by the broken edge are reported unreachable too).
    await expect(page.locator(".cm-lintRange-error").first).to_have_text("wait_projekt")
    await expect(page.get_by_role("button", name="Publish…")).to_be_disabled()
    await expect(page.get_by_text("Publishing is refused until the problems are fixed.")).to_be_visible()
    await console.screenshot("editor-problem")

    await editor.click()
    await page.keyboard.press("Control+A")
    await page.keyboard.insert_text(_onboarding("    timeout: 2d\n", "    timeout: 3d\n"))
    await expect(page.get_by_role("status").first).to_have_text("Valid")
    await expect(page.locator("[data-problem]")).to_have_count(0)
    await page.get_by_role("button", name="Publish…").click()
    dialog = page.get_by_role("dialog", name="Publish onboarding?")
    await expect(dialog).to_contain_text("v1 → v2")
    await expect(dialog.locator(".diff")).to_contain_text("+    timeout: 3d")
    await console.screenshot("editor-publish")
    await dialog.get_by_role("button", name="Publish").click()

    await expect(page).to_have_url(re.compile(r"/console/journeys/onboarding$"))
    await expect(page.get_by_label("Version", exact=True)).to_have_value("2")
    detail = (await console.stack.api.get("/api/journeys/onboarding", headers=ADMIN)).json()
    assert detail["latest_version"] == 2
    assert detail["definition"]["nodes"]["wait_project"]["timeout"] == "3d"


async def _enrolled(console: Console, person: str) -> dict[str, Any]:
    async def found() -> dict[str, Any] | None:
        answer = await console.stack.api.get(f"/api/profiles/{person}/enrollments", headers=ADMIN)
        listed: list[dict[str, Any]] = answer.json() if answer.status_code == 200 else []
        return listed[0] if listed and listed[0]["current_node"] != "triage" else None

    enrollment: dict[str, Any] = await eventually(found)
    return enrollment


async def test_an_enrollment_shows_the_signal_values_its_branch_read(console: Console) -> None:
    """churn-rescue admits a customer the trained churn model says is at risk: her one order is 200 days
    old when she opens a support ticket; its first node branches on live signals, and the timeline shows
    the values it read."""
    await import_shop(console.stack.api)
    assert (await console.stack.api.post("/api/models/train", headers=ADMIN)).status_code == 201
    long_ago = (datetime.now(UTC) - timedelta(days=200)).isoformat()
    posted = await console.stack.api.post(
        "/v1/track",
        json={
            "userId": "erin",
            "event": "order_completed",
            "properties": {"revenue": 30},
            "timestamp": long_ago,
        },
        headers=WRITE,
    )
    assert posted.status_code == 200
    ticket = {"userId": "erin", "event": "ticket_opened"}
    assert (await console.stack.api.post("/v1/track", json=ticket, headers=WRITE)).status_code == 200
    enrollment = await _enrolled(console, "erin")
    assert enrollment["journey"] == "churn-rescue"

    page = console.page
    await console.sign_in()
    await page.goto(f"{console.url}/console/enrollments/{enrollment['id']}")
    triage = page.locator("[data-step=triage]")
    await expect(triage).to_contain_text("Values read")
    read = triage.get_by_role("table", name="signals read at triage")
    await expect(read.get_by_role("row", name=re.compile(r"open_tickets\s+1"))).to_be_visible()
    await expect(triage).to_contain_text("Case 1 matched → adoption_help")
    await console.screenshot("enrollment")

    await page.get_by_role("link", name="erin").first.click()
    await expect(page.get_by_role("heading", name=re.compile("Profile"))).to_be_visible()
    await expect(page.get_by_role("table", name="Recent events")).to_contain_text("order_completed")
    await expect(page.get_by_role("table", name="Live signals")).to_contain_text("days_since_last_order")
    await console.screenshot("profile")
    await page.set_viewport_size(PHONE)
    await console.screenshot("profile-phone")
    await page.set_viewport_size(DESKTOP)

    await page.get_by_role("button", name="Erase…").click()
    await page.get_by_role("dialog").get_by_role("button", name="Erase for good").click()
    await expect(page.get_by_role("status")).to_contain_text("Erased erin")
    gone = await console.stack.api.get("/api/profiles/erin", headers=ADMIN)
    assert gone.status_code == 404


async def test_a_template_previews_for_a_real_profile(console: Console) -> None:
    await console.stack.api.post(
        "/v1/identify", json={"userId": "fay", "traits": {"first_name": "Fay"}}, headers=WRITE
    )
    page = console.page
    await console.sign_in()
    await page.get_by_role("navigation", name="Main").get_by_role("link", name="Templates").click()
    await page.get_by_role("navigation", name="Templates").get_by_role("link", name="welcome").click()
    await page.get_by_label("Preview for profile").fill("fay")
    await page.get_by_role("button", name="Preview").click()
    await expect(page.get_by_label("Rendered preview")).to_contain_text("Fay")
    await console.screenshot("templates")


async def test_the_report_shows_variants_interval_bars_and_the_srm_banner(
    console: Console, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await seed(sessionmaker, "offer", {"plain_reminder": (600, 0.10, 50.0), "discount": (400, 0.15, 50.0)})
    page = console.page
    await console.sign_in()
    await page.goto(f"{console.url}/console/journeys/abandoned-cart/report")
    table = page.get_by_role("table", name="offer · goal order_completed variants")
    await expect(table.locator("[data-variant=plain_reminder]")).to_contain_text("600")
    await expect(table.locator("[data-variant=discount]")).to_contain_text("400")
    await expect(table.locator("[data-variant=plain_reminder]")).to_contain_text("control")
    await expect(table.get_by_role("img")).to_have_count(3)  # two rate intervals, one lift interval
    await expect(page.get_by_role("alert")).to_contain_text("Sample ratio mismatch")
    await expect(page.locator(".verdict").first).not_to_be_empty()
    await expect(page.get_by_role("figure", name="offer over time").locator("svg").first).to_be_visible()
    await console.screenshot("report")
    csv = await console.page.request.get(f"{console.url}/api/journeys/abandoned-cart/report?format=csv")
    assert csv.status == 200
    assert "discount" in await csv.text()
