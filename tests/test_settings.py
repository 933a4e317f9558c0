from pathlib import Path

import pytest

from engine.settings import Settings, to_asyncpg_dsn


def test_defaults_serve_the_embedded_stack(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DATABASE_URL", "TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE", "JOURNEYS_WRITE_KEYS"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings()
    assert settings.embedded_database
    assert settings.embedded_temporal
    assert settings.sqlalchemy_url == "postgresql+asyncpg://postgres@127.0.0.1:55432/journeys"
    assert settings.temporal_target == "127.0.0.1:7233"
    assert settings.temporal_namespace == "default"


def test_operator_environment_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgres://app:secret@db.internal:5432/journeys")
    monkeypatch.setenv("TEMPORAL_ADDRESS", "temporal.internal:7233")
    monkeypatch.setenv("TEMPORAL_NAMESPACE", "prod")
    monkeypatch.setenv("JOURNEYS_STATE_DIR", "/var/lib/journeys")
    monkeypatch.setenv("JOURNEYS_API_HOST", "0.0.0.0")
    monkeypatch.setenv("JOURNEYS_API_PORT", "9000")
    monkeypatch.setenv("JOURNEYS_ADMIN_TOKEN", "s3cret")
    monkeypatch.setenv("JOURNEYS_WRITE_KEYS", "key-a, key-b,,key-c")
    monkeypatch.setenv("JOURNEYS_PG_PORT", "6543")
    monkeypatch.setenv("JOURNEYS_TEMPORAL_PORT", "7300")
    monkeypatch.setenv("JOURNEYS_TEMPORAL_API_KEY", "cloud-key")
    monkeypatch.setenv("JOURNEYS_WEBHOOK_ALLOWED_HOSTS", "crm.internal, 10.0.0.5")
    settings = Settings()
    assert settings.sqlalchemy_url == "postgresql+asyncpg://app:secret@db.internal:5432/journeys"
    assert to_asyncpg_dsn(settings.sqlalchemy_url) == "postgresql://app:secret@db.internal:5432/journeys"
    assert settings.temporal_target == "temporal.internal:7233"
    assert settings.temporal_namespace == "prod"
    assert settings.state_dir == Path("/var/lib/journeys")
    assert (settings.api_host, settings.api_port) == ("0.0.0.0", 9000)
    assert settings.admin_token == "s3cret"
    assert settings.write_keys == ["key-a", "key-b", "key-c"]
    assert (settings.pg_port, settings.temporal_port) == (6543, 7300)
    assert settings.temporal_api_key == "cloud-key"
    assert settings.webhook_allowed_hosts == ["crm.internal", "10.0.0.5"]
    assert not settings.embedded_database
    assert not settings.embedded_temporal


def test_a_bad_port_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JOURNEYS_API_PORT", "not-a-port")
    with pytest.raises(ValueError, match="api_port"):
        Settings()
