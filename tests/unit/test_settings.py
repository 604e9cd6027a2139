from __future__ import annotations

import pytest

from shared.platform.settings import load_settings


def test_shared_value_applies_to_every_service(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROOFLINE_DATABASE_URL", "postgresql+asyncpg://db/shared")
    assert load_settings("billing").database_url == "postgresql+asyncpg://db/shared"
    assert load_settings("jobs").database_url == "postgresql+asyncpg://db/shared"


def test_service_override_wins_for_that_service_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROOFLINE_DATABASE_URL", "postgresql+asyncpg://db/shared")
    monkeypatch.setenv("ROOFLINE_BILLING__DATABASE_URL", "postgresql+asyncpg://db/billing")
    monkeypatch.setenv("ROOFLINE_BILLING__CONSUMER_MAX_RECORDS", "42")
    billing = load_settings("billing")
    assert billing.database_url == "postgresql+asyncpg://db/billing"
    assert billing.consumer_max_records == 42
    assert load_settings("jobs").database_url == "postgresql+asyncpg://db/shared"


def test_names_follow_the_service() -> None:
    settings = load_settings("billing")
    assert settings.own_topic == "roofline.billing.events"
    assert settings.schema_name == "billing"
    assert settings.consumer_group == "roofline.billing"


def test_bad_value_names_the_field(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROOFLINE_TOPIC_PARTITIONS", "zero")
    with pytest.raises(ValueError, match="topic_partitions"):
        load_settings("jobs")
