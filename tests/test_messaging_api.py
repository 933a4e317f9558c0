"""Templates (versions, preview, injection), consent (API, events, one-click link) and the in-app inbox,
through the HTTP API on real PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import ActivityEnvironment

from activities.messaging import MessagingActivities
from engine.db.models import Consent, TemplateVersion
from engine.enrollments.contracts import EventEnvelope, SendInput
from engine.settings import Settings

ADMIN = {"Authorization": "Bearer test-admin-token"}
WRITE = {"Authorization": "Bearer test-write-key"}
NOW = datetime(2026, 11, 22, 23, 30, tzinfo=UTC)

INJECTIONS = [
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    "{{ profile.traits['__class__'] }}",
    "{{ self._TemplateReference__context }}",
]


async def identify(api: httpx.AsyncClient, user: str, traits: dict[str, object]) -> None:
    response = await api.post("/v1/identify", json={"userId": user, "traits": traits}, headers=WRITE)
    assert response.status_code == 200, response.text


async def put(api: httpx.AsyncClient, name: str, **template: object) -> httpx.Response:
    return await api.put(f"/api/templates/{name}", json=template, headers=ADMIN)


async def test_saving_changed_content_makes_a_new_version(api_client: httpx.AsyncClient) -> None:
    first = await put(api_client, "greet", subject="Hi", body="Hello {{ profile.traits.first_name }}")
    same = await put(api_client, "greet", subject="Hi", body="Hello {{ profile.traits.first_name }}")
    changed = await put(api_client, "greet", subject="Hi!", body="Hello {{ profile.traits.first_name }}")
    assert [r.json()["version"] for r in (first, same, changed)] == [1, 1, 2]
    versions = (await api_client.get("/api/templates/greet/versions", headers=ADMIN)).json()
    assert [(v["version"], v["subject"]) for v in versions] == [(1, "Hi"), (2, "Hi!")]
    assert (await api_client.get("/api/templates/nope/versions", headers=ADMIN)).status_code == 404


async def test_injection_payloads_are_refused_and_change_nothing(
    api_client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    assert (await put(api_client, "safe", body="Hello")).status_code == 200
    for payload in INJECTIONS:
        response = await put(api_client, "safe", body=payload)
        assert response.status_code == 422, payload
        assert "internal attribute" in response.json()["message"], payload
        assert response.json()["problems"][0]["path"] == "body"
    async with sessionmaker() as session:
        count = await session.execute(select(func.count()).select_from(TemplateVersion))
        assert count.scalar_one() == 1  # still only the harmless first version


async def test_an_undefined_variable_or_filter_blocks_saving_with_its_name(
    api_client: httpx.AsyncClient,
) -> None:
    response = await put(api_client, "coupon", subject="{{ coupon_code }}", body="Hi")
    assert response.status_code == 422
    assert response.json()["problems"] == [
        {
            "path": "subject",
            "message": "template 'coupon' uses undefined variable 'coupon_code' (available: entry, event,"
            " journey, profile, unsubscribe_url, variant)",
        }
    ]
    unknown_filter = await put(api_client, "coupon", body="{{ entry.properties.total | shout }}")
    assert unknown_filter.status_code == 422
    assert "shout" in unknown_filter.json()["message"]
    assert (await api_client.get("/api/templates/coupon", headers=ADMIN)).status_code == 404


async def test_preview_renders_for_a_real_profile_with_data_kept_inert(api_client: httpx.AsyncClient) -> None:
    await identify(
        api_client,
        "zoe",
        {
            "first_name": "{{ 7*7 }}<script>alert(1)</script>",
            "timezone": "Asia/Tokyo",
            "email": "z@example.com",
        },
    )
    await put(
        api_client,
        "receipt",
        subject="Order for {{ profile.traits.first_name }}",
        body="Total {{ entry.properties.total | money('JPY') }}"
        " on {{ entry.properties.at | date('%Y-%m-%d') }}",
        html="<p>{{ profile.traits.first_name }}</p>",
    )
    response = await api_client.post(
        "/api/templates/receipt/preview",
        json={
            "profile": "zoe",
            "entry": {"name": "order", "properties": {"total": 12345.6, "at": "2026-11-22T20:00:00Z"}},
        },
        headers=ADMIN,
    )
    assert response.status_code == 200, response.text
    preview = response.json()
    # A customer's data is data: template syntax inside it is not evaluated, and HTML is escaped.
    assert preview["subject"] == "Order for {{ 7*7 }}<script>alert(1)</script>"
    assert preview["html"] == "<p>{{ 7*7 }}&lt;script&gt;alert(1)&lt;/script&gt;</p>"
    assert preview["body"] == "Total ¥12,346 on 2026-11-23"  # 20:00 UTC is the next morning in Tokyo

    missing = await api_client.post("/api/templates/receipt/preview", json={"profile": "zoe"}, headers=ADMIN)
    assert missing.status_code == 422
    assert "total" in missing.json()["message"]
    unknown = await api_client.post(
        "/api/templates/receipt/preview", json={"profile": "ghost"}, headers=ADMIN
    )
    assert unknown.status_code == 404


async def test_consent_by_api_event_and_one_click_link(
    api_client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await identify(api_client, "max", {"email": "max@example.com"})
    bad = await api_client.put("/api/profiles/max/consent/fax", json={"subscribed": False}, headers=ADMIN)
    assert bad.status_code == 422
    assert bad.json()["problems"][0]["path"] == "path.channel"
    async with sessionmaker() as session:
        assert (await session.execute(select(func.count()).select_from(Consent))).scalar_one() == 0

    tracked = await api_client.post(
        "/v1/track",
        json={"userId": "max", "event": "Unsubscribed", "properties": {"channel": "sms"}},
        headers=WRITE,
    )
    assert tracked.status_code == 200
    view = (await api_client.get("/api/profiles/max/consent", headers=ADMIN)).json()
    assert view["channels"] == {"email": True, "sms": False, "push": True, "in_app": True}

    await put(api_client, "bye", body="{{ unsubscribe_url }}")
    link = (
        await api_client.post("/api/templates/bye/preview", json={"profile": "max"}, headers=ADMIN)
    ).json()["body"]
    path = httpx.URL(link).path
    page = await api_client.get(path)
    assert page.status_code == 200
    assert '<form method="post">' in page.text
    view = (await api_client.get("/api/profiles/max/consent", headers=ADMIN)).json()
    assert view["channels"]["email"] is True  # opening the page (or a mail scanner) unsubscribes nobody
    tampered = await api_client.post(path[:-2] + ("AA" if not path.endswith("AA") else "BB"))
    assert tampered.status_code == 404
    clicked = await api_client.post(path, data={"List-Unsubscribe": "One-Click"})
    assert clicked.status_code == 200
    view = (await api_client.get("/api/profiles/max/consent", headers=ADMIN)).json()
    assert view["channels"] == {"email": False, "sms": False, "push": True, "in_app": True}

    resubscribed = await api_client.put(
        "/api/profiles/max/consent/all", json={"subscribed": True}, headers=ADMIN
    )
    assert resubscribed.json()["recorded"] == {"all": True}


async def test_in_app_messages_land_in_the_inbox(
    api_client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    await identify(api_client, "ivy", {"first_name": "Ivy"})
    await put(api_client, "tip", subject="Tip {{ journey.key }}", body="Hi {{ profile.traits.first_name }}")
    activities = MessagingActivities(sessionmaker, httpx.AsyncClient(), settings)
    entry = EventEnvelope(id="e", name="go", profile_id="ivy", timestamp=NOW)
    for visit in (1, 2):
        sent = await ActivityEnvironment().run(
            activities.send_message,
            SendInput(
                enrollment_id="enr-ivy",
                journey_key="tips",
                node_id="tip",
                visit=visit,
                profile_id="ivy",
                channel="in_app",
                template="tip",
                variant={},
                entry=entry,
                event=None,
                as_of=NOW,
                quiet_hours="00:00-23:59",  # an inbox is not a buzzing phone: quiet hours do not apply
            ),
        )
        assert sent.status == "sent"

    inbox = (await api_client.get("/api/profiles/ivy/inbox", headers=ADMIN)).json()
    assert [(m["subject"], m["body"], m["read_at"]) for m in inbox] == [("Tip tips", "Hi Ivy", None)] * 2
    newest = inbox[0]["id"]
    assert newest > inbox[1]["id"]
    read = await api_client.post(f"/api/profiles/ivy/inbox/{newest}/read", headers=ADMIN)
    assert read.status_code == 204
    unread = (await api_client.get("/api/profiles/ivy/inbox?unread=true", headers=ADMIN)).json()
    assert [m["id"] for m in unread] == [inbox[1]["id"]]
    assert (await api_client.post("/api/profiles/ivy/inbox/999999/read", headers=ADMIN)).status_code == 404
    assert (await api_client.get("/api/profiles/ivy/inbox?limit=0", headers=ADMIN)).status_code == 422
    newest_only = (await api_client.get("/api/profiles/ivy/inbox?limit=1", headers=ADMIN)).json()
    assert [m["id"] for m in newest_only] == [newest]
    # The person and their messages are one statement: someone with no message, and no one at all.
    await identify(api_client, "quiet", {"first_name": "Q"})
    assert (await api_client.get("/api/profiles/quiet/inbox", headers=ADMIN)).json() == []
    nobody = await api_client.get("/api/profiles/nobody/inbox", headers=ADMIN)
    assert (nobody.status_code, nobody.json()["message"]) == (
        404,
        "no profile, user id or anonymous id 'nobody'",
    )
