"""Which adapter serves which channel, from the settings. A channel without a configured provider
keeps its messages as `stored` ones, so the dev stack works with nothing to set up."""

from __future__ import annotations

import httpx

from engine.delivery.channels.base import Channel, StoredOnly
from engine.delivery.channels.http_provider import HttpProviderChannel
from engine.delivery.channels.smtp import SmtpChannel
from engine.settings import Settings

# Where each channel finds its recipient on the profile.
RECIPIENT_TRAIT = {"email": "email", "sms": "phone", "push": "push_token"}


def build_channels(settings: Settings, http: httpx.AsyncClient) -> dict[str, Channel]:
    stored = StoredOnly("stored")
    # "outbox": the old name of `stored`, for a send scheduled by a worker from before the rename.
    channels: dict[str, Channel] = {"stored": stored, "outbox": stored, "in_app": StoredOnly("in_app")}
    channels["email"] = SmtpChannel(settings) if settings.smtp_host else stored
    for name, url in (("sms", settings.sms_provider_url), ("push", settings.push_provider_url)):
        channels[name] = (
            HttpProviderChannel(name, url, http, settings.provider_token, settings.provider_timeout_seconds)
            if url
            else stored
        )
    return channels
