"""One-click unsubscribe (RFC 8058), public: the signed token is the authorisation. GET shows a
confirmation button (mail scanners follow links, and must not unsubscribe anyone); POST unsubscribes,
which is what mail clients send for `List-Unsubscribe-Post: List-Unsubscribe=One-Click`."""

from __future__ import annotations

from html import escape

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from api.deps import SessionDep, SettingsDep
from engine.consent.links import read_token
from engine.consent.service import ConsentService

router = APIRouter(tags=["consent"])

PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>{title}</title></head>
<body style="font-family:sans-serif;max-width:32em;margin:4em auto">{content}</body></html>"""


@router.get("/unsubscribe/{token}", response_class=HTMLResponse)
async def confirm_page(token: str, settings: SettingsDep) -> HTMLResponse:
    """The page the unsubscribe link opens: one button."""
    _, channel = read_token(settings.link_secret, token)
    form = (
        f"<p>Stop receiving {escape(channel)} messages from us?</p>"
        f'<form method="post"><button type="submit">Unsubscribe</button></form>'
    )
    return HTMLResponse(PAGE.format(title="Unsubscribe", content=form))


@router.post("/unsubscribe/{token}", response_class=HTMLResponse)
async def unsubscribe(token: str, session: SessionDep, settings: SettingsDep) -> HTMLResponse:
    """Unsubscribe the person the link was made for, from the channel it was made for."""
    _, channel = await ConsentService(session).unsubscribe_by_token(settings.link_secret, token)
    done = f"<p>You will not receive {escape(channel)} messages from us any more.</p>"
    return HTMLResponse(PAGE.format(title="Unsubscribed", content=done))
