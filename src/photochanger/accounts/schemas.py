"""Provider keys as the API shows them: never the key, only its last four characters and who set it."""

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

_KEY_MAX = 512


def _clean_key(value: SecretStr) -> SecretStr:
    text = value.get_secret_value().strip()
    if len(text) < 8:
        raise ValueError("an API key has at least 8 characters")
    if any(ch.isspace() for ch in text):
        raise ValueError("an API key has no spaces or line breaks")
    return SecretStr(text)


class ProviderKeyCreate(BaseModel):
    """A new key for `provider`; `api_key` is write-only."""

    model_config = ConfigDict(extra="forbid")

    provider: Annotated[str, Field(min_length=1, max_length=40)]
    api_key: Annotated[SecretStr, Field(max_length=_KEY_MAX)]
    label: Annotated[str, Field(max_length=80)] = ""

    _key = field_validator("api_key")(_clean_key)


class ProviderKeyReplace(BaseModel):
    """A new secret for an existing key (same label and position in the rotation)."""

    model_config = ConfigDict(extra="forbid")

    api_key: Annotated[SecretStr, Field(max_length=_KEY_MAX)]

    _key = field_validator("api_key")(_clean_key)


class ProviderKeyRead(BaseModel):
    id: uuid.UUID
    provider: str
    label: str
    last4: str
    status: str
    status_detail: str | None
    created_at: datetime
    created_by: str
    updated_at: datetime
    updated_by: str
    checked_at: datetime | None
    check_ok: bool | None
    check_detail: str | None


class ProviderAccountRead(BaseModel):
    """One provider's keys. `env_key` says a key comes from the environment; keys set here win over it."""

    provider: str
    title: str
    env_key: bool
    keys: list[ProviderKeyRead]


class KeyCheckRead(BaseModel):
    """A "check connection" with one key: `ok`, else the provider's own error text."""

    key_id: uuid.UUID
    provider: str
    ok: bool
    detail: str
    upstream_status: int | None = None


class ProviderSettingsUpdate(BaseModel):
    """Per-provider settings; a field left out keeps its value, `null` returns it to the default."""

    model_config = ConfigDict(extra="forbid")

    concurrency: Annotated[int | None, Field(ge=1, le=200)] = None
    default_model: Annotated[str | None, Field(min_length=1, max_length=120)] = None
    # Estimated price of one image, per model, in the admin's currency.
    prices: dict[
        Annotated[str, Field(min_length=1, max_length=120)], Annotated[float, Field(ge=0, le=1000)]
    ] = Field(default_factory=dict)


class ProviderSettingsRead(BaseModel):
    provider: str
    concurrency: int | None = None
    default_model: str | None = None
    prices: dict[str, float] = Field(default_factory=dict)
    models: list[str] = Field(default_factory=list)
    updated_at: datetime | None = None
    updated_by: str | None = None
