"""Settings from the environment.

Operators rely on the un-prefixed names `DATABASE_URL`, `TEMPORAL_ADDRESS` and `TEMPORAL_NAMESPACE`
(the conventions of Heroku-style platforms and of Temporal's own tooling); everything else is
`JOURNEYS_*`. Leaving `DATABASE_URL` / `TEMPORAL_ADDRESS` unset means "use the embedded services",
which `journeys dev` starts on the ports configured here.
"""

from __future__ import annotations

from datetime import timedelta
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from engine.durations import parse_duration


def to_sqlalchemy_url(url: str) -> str:
    """Accept the usual `postgres://` / `postgresql://` spellings and select the asyncpg driver."""
    for prefix in ("postgres://", "postgresql://", "postgresql+psycopg://", "postgresql+psycopg2://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    return url


def to_asyncpg_dsn(url: str) -> str:
    """asyncpg itself (LISTEN/NOTIFY, readiness) wants the plain libpq form."""
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


def parse_cap(rule: str, channel: str = "") -> tuple[int, timedelta]:
    """`2/1d` → (2, one day): at most 2 messages per rolling day."""
    count, _, window = rule.partition("/")
    if not count.strip().isdigit() or int(count) < 1 or not window:
        raise ValueError(f"frequency cap {channel}={rule!r}: expected count/window, e.g. 2/1d")
    return int(count), parse_duration(window.strip())


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="JOURNEYS_", extra="ignore", populate_by_name=True)

    database_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("DATABASE_URL", "JOURNEYS_DATABASE_URL"),
        description="PostgreSQL URL; unset = embedded PostgreSQL on `pg_port`.",
    )
    temporal_address: str | None = Field(
        default=None,
        validation_alias=AliasChoices("TEMPORAL_ADDRESS", "JOURNEYS_TEMPORAL_ADDRESS"),
        description="Temporal frontend host:port; unset = embedded dev server on `temporal_port`.",
    )
    temporal_namespace: str = Field(
        default="default", validation_alias=AliasChoices("TEMPORAL_NAMESPACE", "JOURNEYS_TEMPORAL_NAMESPACE")
    )
    database_pool_size: int = Field(
        default=20, ge=1, description="PostgreSQL connections each API process keeps open"
    )
    database_pool_timeout: float = Field(
        default=5.0, gt=0, description="seconds an API request waits for a free connection before its 503"
    )
    dispatch_concurrency: int = Field(
        default=4, ge=1, le=64, description="outbox events each worker routes to Temporal at once"
    )
    task_queue: str = "journeys"
    # Temporal Cloud / mTLS: either a client certificate pair or an API key.
    temporal_tls: bool = False
    temporal_tls_cert: Path | None = None
    temporal_tls_key: Path | None = None
    temporal_tls_server_ca: Path | None = None
    temporal_api_key: str | None = None

    state_dir: Path = Path(".journeys")
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    api_url: str | None = Field(default=None, description="where CLI commands reach the API")
    admin_token: str = "dev-admin-token"
    write_keys: Annotated[list[str], NoDecode] = ["dev-write-key"]
    # Write keys a website may hold in its page source: ingestion only (no /v1/import), from the origins
    # of `cors_origins` only. Server keys (`write_keys`) may do everything ingestion offers.
    client_write_keys: Annotated[list[str], NoDecode] = []
    sdk_dir: Path = Field(
        default=Path("sdk/node_modules"), description="where `npm ci --prefix sdk` put the browser SDKs"
    )
    console_dir: Path = Field(
        default=Path("console/dist"), description="the console's built files (`npm run build` in console/)"
    )
    console_session_seconds: int = Field(
        default=12 * 3600, ge=60, description="how long a console sign-in lasts"
    )
    # Origins whose pages may call /v1/* from a browser (CORS); "*" = any. /api/* allows none.
    cors_origins: Annotated[list[str], NoDecode] = []
    # Read-only keys for /api/* (reports, journeys, enrollments, profiles): an analyst's, a BI tool's.
    analyst_tokens: Annotated[list[str], NoDecode] = []
    person_token_max_seconds: int = Field(
        default=30 * 86400,
        ge=60,
        description="longest life of a per-person token (POST /api/profiles/{id}/token)",
    )
    max_body_bytes: int = 1_000_000
    rate_limit_per_key: float = Field(
        default=5000,
        ge=0,
        description="ingestion requests a second per write key (bursts of twice that); 0: off",
    )
    rate_limit_per_ip: float = Field(
        default=5000,
        ge=0,
        description="ingestion requests a second per client address (bursts of twice that); 0: off",
    )

    # Embedded services (only used when the URLs above are unset).
    pg_port: int = 55432
    temporal_port: int = 7233
    temporal_ui_port: int = 8233

    worker_metrics_port: int = 9464
    worker_max_concurrent_activities: int = 100
    worker_max_concurrent_workflow_tasks: int = 100
    # Workflows kept in memory between tasks (else replayed from history): RSS versus replay cost.
    worker_max_cached_workflows: int = 1000
    default_timezone: str = "UTC"
    audience_sweep_seconds: int = Field(
        default=900, ge=10, description="how often audience journeys are re-checked"
    )
    prediction_horizon: str = Field(
        default="90d", description="how far ahead churn risk and expected orders look (e.g. 90d)"
    )
    order_event: str = Field(
        default="order_completed", min_length=1, description="the event predictive models count as an order"
    )
    order_value_properties: Annotated[list[str], NoDecode] = ["revenue", "total"]
    model_retrain_seconds: int = Field(
        default=86400, ge=60, description="how often the predictive models retrain (a Temporal schedule)"
    )
    webhook_secret: str = Field(default="dev-webhook-secret", description="HMAC key for webhook signatures")
    webhook_timeout_seconds: float = 10.0
    # Hosts webhooks may call even on internal addresses; "*" (the default) = any public host, no
    # internal one; a list without "*" = only those hosts.
    webhook_allowed_hosts: Annotated[list[str], NoDecode] = ["*"]

    # Messaging. A channel without a provider configured stores its messages in the outbox (dev default).
    public_url: str | None = Field(default=None, description="base of links in messages (unsubscribe)")
    link_secret: str = Field(default="dev-link-secret", description="HMAC key for unsubscribe links")
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    smtp_tls: bool = False
    smtp_timeout_seconds: float = 10.0
    email_from: str = "Journeys <journeys@localhost>"
    sms_provider_url: str | None = Field(default=None, description="HTTP endpoint that sends an SMS")
    push_provider_url: str | None = Field(default=None, description="HTTP endpoint that sends a push")
    provider_token: str | None = Field(default=None, description="bearer token for the HTTP providers")
    provider_timeout_seconds: float = 10.0
    quiet_hours: str | None = Field(
        default=None,
        pattern=r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$",
        description="default quiet hours in the profile's timezone, e.g. 21:00-08:00 (journeys may override)",
    )
    frequency_caps: Annotated[dict[str, str], NoDecode] = Field(
        default_factory=dict,
        description="per channel, across all journeys: `email=2/1d,sms=1/12h` (messages per rolling window)",
    )

    allow_dev_secrets: bool = Field(
        default=False,
        description="let `journeys api`/`worker` start with the development secrets (journeys dev sets it)",
    )
    log_level: str = "INFO"
    log_format: Literal["auto", "json", "text"] = "auto"

    @field_validator(
        "write_keys",
        "client_write_keys",
        "cors_origins",
        "analyst_tokens",
        "webhook_allowed_hosts",
        "order_value_properties",
        mode="before",
    )
    @classmethod
    def _split_keys(cls, value: object) -> object:
        if isinstance(value, str):
            return [key.strip() for key in value.split(",") if key.strip()]
        return value

    @field_validator("frequency_caps", mode="before")
    @classmethod
    def _split_caps(cls, value: object) -> object:
        if isinstance(value, str):
            pairs = [item.split("=", 1) for item in value.split(",") if item.strip()]
            if any(len(pair) != 2 for pair in pairs):
                raise ValueError("expected channel=count/window pairs, e.g. email=2/1d")
            return {channel.strip(): rule.strip() for channel, rule in pairs}
        return value

    @field_validator("frequency_caps")
    @classmethod
    def _check_caps(cls, value: dict[str, str]) -> dict[str, str]:
        for channel, rule in value.items():
            parse_cap(rule, channel)
        return value

    @field_validator("prediction_horizon")
    @classmethod
    def _check_horizon(cls, value: str) -> str:
        days = parse_duration(value).total_seconds() / 86400
        if days < 7 or not days.is_integer():
            raise ValueError("a whole number of days, at least 7 (e.g. 90d)")
        return value

    @property
    def horizon_days(self) -> int:
        return int(parse_duration(self.prediction_horizon).total_seconds() // 86400)

    def development_secrets(self) -> list[str]:
        """The settings still at their development values: anyone who read this code knows them (an admin
        token, a write key, HMAC keys whose links and signatures could then be forged), and without a
        public URL the links in messages point at wherever the API happens to listen."""
        defaults = type(self).model_fields
        found = [
            f"JOURNEYS_{name.upper()}"
            for name in ("admin_token", "webhook_secret", "link_secret")
            if getattr(self, name) == defaults[name].default
        ]
        if set(self.write_keys) & {"dev-write-key"}:
            found.append("JOURNEYS_WRITE_KEYS")
        if self.public_url is None:
            found.append("JOURNEYS_PUBLIC_URL")
        return found

    @cached_property
    def caps(self) -> dict[str, tuple[int, timedelta]]:
        """`frequency_caps` parsed once (the send path reads them for every message)."""
        return {channel: parse_cap(rule, channel) for channel, rule in self.frequency_caps.items()}

    @property
    def link_base_url(self) -> str:
        return (self.public_url or self.api_base_url).rstrip("/")

    @property
    def embedded_database(self) -> bool:
        return self.database_url is None

    @property
    def embedded_temporal(self) -> bool:
        return self.temporal_address is None

    @property
    def sqlalchemy_url(self) -> str:
        if self.database_url is not None:
            return to_sqlalchemy_url(self.database_url)
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.pg_port}/journeys"

    @property
    def api_base_url(self) -> str:
        return self.api_url or f"http://{self.api_host}:{self.api_port}"

    @property
    def temporal_target(self) -> str:
        return self.temporal_address or f"127.0.0.1:{self.temporal_port}"


@lru_cache
def get_settings() -> Settings:
    return Settings()
