"""AppConfig: defaults, production refusal, the development secret file."""

import stat
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from photochanger.config import DEFAULT_DATABASE_URL, AppConfig, Environment
from photochanger.core import passwords
from photochanger.core.passwords import PRODUCTION_PROFILE, HashProfile


def _config(**values: Any) -> AppConfig:
    return AppConfig(**values)


def test_defaults_are_the_embedded_sqlite_on_localhost(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("PHOTOCHANGER_DATABASE_URL", "PHOTOCHANGER_HOST", "PHOTOCHANGER_PORT", "PHOTOCHANGER_ENV"):
        monkeypatch.delenv(name, raising=False)
    config = _config()
    assert config.database_url == DEFAULT_DATABASE_URL == "sqlite+aiosqlite:///./var/photochanger.db"
    assert (config.host, config.port) == ("127.0.0.1", 8000)
    assert config.media_root == Path("media")
    assert config.env is Environment.development


def test_environment_variables_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PHOTOCHANGER_PORT", "9123")
    monkeypatch.setenv("PHOTOCHANGER_PUBLIC_BASE_URL", "https://photos.example.org/booth/")
    config = _config()
    assert config.port == 9123
    assert config.absolute_url("/r/abc") == "https://photos.example.org/booth/r/abc"


def test_production_refuses_to_start_without_a_real_secret() -> None:
    with pytest.raises(ValidationError, match="PHOTOCHANGER_JWT_SECRET"):
        _config(env="production")
    with pytest.raises(ValidationError, match="PHOTOCHANGER_JWT_SECRET"):
        _config(env="production", jwt_secret="short")
    with pytest.raises(ValidationError, match="PHOTOCHANGER_SECRET_KEY"):
        _config(env="production", jwt_secret="s" * 40, metrics_token="m" * 40)
    with pytest.raises(ValidationError, match="PHOTOCHANGER_SECRET_KEY"):
        _config(env="production", jwt_secret="s" * 40, secret_key="short", metrics_token="m" * 40)
    assert _config(
        env="production", jwt_secret="s" * 40, secret_key="k" * 40, metrics_token="m" * 40
    ).is_production


def test_production_refuses_to_start_with_open_or_weak_metrics() -> None:
    with pytest.raises(ValidationError, match="PHOTOCHANGER_METRICS_TOKEN"):
        _config(env="production", jwt_secret="s" * 40, secret_key="k" * 40)
    with pytest.raises(ValidationError, match="PHOTOCHANGER_METRICS_TOKEN"):
        _config(env="production", jwt_secret="s" * 40, secret_key="k" * 40, metrics_token="short")
    # Development keeps the open endpoint for a local Prometheus.
    assert _config(env="development").metrics_token is None


def test_development_secret_key_is_generated_once_with_0600_apart_from_the_jwt_secret(
    tmp_path: Path,
) -> None:
    config = _config(var_dir=tmp_path / "var")
    first = config.resolved_secret_key()
    path = tmp_path / "var" / "secret_key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(first) >= 32
    assert _config(var_dir=tmp_path / "var").resolved_secret_key() == first
    assert config.resolved_jwt_secret() != first
    assert _config(var_dir=tmp_path / "v2", secret_key="q" * 40).resolved_secret_key() == "q" * 40


def test_development_secret_is_generated_once_with_0600(tmp_path: Path) -> None:
    config = _config(var_dir=tmp_path / "var")
    first = config.resolved_jwt_secret()
    path = tmp_path / "var" / "jwt_secret"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(first) >= 32
    assert _config(var_dir=tmp_path / "var").resolved_jwt_secret() == first


def test_explicit_secret_wins_and_writes_nothing(tmp_path: Path) -> None:
    config = _config(var_dir=tmp_path / "var", jwt_secret="z" * 40)
    assert config.resolved_jwt_secret() == "z" * 40
    assert not (tmp_path / "var").exists()


def test_password_hashing_defaults_are_owasps_argon2id_parameters(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("TIME_COST", "MEMORY_KIB", "PARALLELISM"):
        monkeypatch.delenv(f"PHOTOCHANGER_PASSWORD_HASH_{name}", raising=False)
    profile = _config().password_hash_profile
    # OWASP Password Storage Cheat Sheet: argon2id with m=19 MiB, t=2, p=1.
    assert (profile.time_cost, profile.memory_kib, profile.parallelism) == (2, 19456, 1)
    assert profile == PRODUCTION_PROFILE


def test_a_hash_made_under_one_profile_verifies_under_another() -> None:
    previous = passwords.current_profile()
    try:
        passwords.configure(HashProfile(time_cost=1, memory_kib=8, parallelism=1))
        cheap = passwords.hash_password_sync("correct horse")
        assert cheap.startswith("$argon2id$v=19$m=8,t=1,p=1$")
        passwords.configure(PRODUCTION_PROFILE)
        assert passwords.verify_password_sync(cheap, "correct horse")
        assert passwords.needs_rehash(cheap)
        assert passwords.hash_password_sync("x").startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    finally:
        passwords.configure(previous)


def test_a_heartbeat_slower_than_half_the_node_ttl_is_refused() -> None:
    with pytest.raises(ValidationError, match="NODE_HEARTBEAT_SECONDS"):
        _config(node_ttl_seconds=10, node_heartbeat_seconds=6)
    assert _config(node_ttl_seconds=10, node_heartbeat_seconds=5).node_heartbeat_seconds == 5
