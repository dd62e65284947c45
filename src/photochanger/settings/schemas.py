"""Runtime setting values, their defaults and bounds."""

from datetime import datetime
from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr, StrictInt

INGEST_PASSWORD_KEY = "ingest_password"  # noqa: S105 - the setting key, not a secret

T = TypeVar("T")


class RuntimeSettings(BaseModel):
    """Every tunable runtime setting with its default; the ingest password is kept apart (hash only)."""

    model_config = ConfigDict(frozen=True)

    t_sync_response_seconds: Annotated[
        int, Field(ge=5, le=120, title="T_sync_response", description="Seconds a booth waits for its result")
    ] = 45
    result_ttl_hours: Annotated[
        int, Field(ge=1, le=24 * 30, title="Result TTL", description="Hours a result stays downloadable")
    ] = 72
    slot_concurrency: Annotated[
        int, Field(ge=1, le=64, title="Per-slot concurrency", description="Jobs one slot may run at once")
    ] = 4
    provider_concurrency: Annotated[
        int,
        Field(
            ge=1, le=256, title="Per-provider concurrency", description="Jobs one provider may run at once"
        ),
    ] = 8
    global_concurrency: Annotated[
        int, Field(ge=1, le=512, title="Global concurrency", description="Jobs the server runs at once")
    ] = 16
    upload_max_mb: Annotated[
        int, Field(ge=1, le=100, title="Upload cap (MiB)", description="Largest accepted upload")
    ] = 20


RUNTIME_SETTING_KEYS: tuple[str, ...] = tuple(RuntimeSettings.model_fields)


INGEST_PASSWORD_MIN_LENGTH = 8
INGEST_PASSWORD_MAX_LENGTH = 128


def _not_null(value: T) -> T:
    if value is None:
        raise ValueError("must not be null; leave the key out to keep the current value")
    return value


def _ingest_password_length(value: SecretStr | None) -> SecretStr | None:
    if value is not None and not (
        INGEST_PASSWORD_MIN_LENGTH <= len(value.get_secret_value()) <= INGEST_PASSWORD_MAX_LENGTH
    ):
        raise ValueError(
            f"must be {INGEST_PASSWORD_MIN_LENGTH} to {INGEST_PASSWORD_MAX_LENGTH} characters long"
        )
    return value


# Bounds are checked against `RuntimeSettings` by the service, so they live in one place.
_PartialInt = Annotated[StrictInt | None, AfterValidator(_not_null)]


class SettingsUpdate(BaseModel):
    """`PUT /api/settings`: any subset of the runtime keys; `ingest_password` takes the new plaintext."""

    model_config = ConfigDict(extra="forbid")

    t_sync_response_seconds: _PartialInt = None
    result_ttl_hours: _PartialInt = None
    slot_concurrency: _PartialInt = None
    provider_concurrency: _PartialInt = None
    global_concurrency: _PartialInt = None
    upload_max_mb: _PartialInt = None
    ingest_password: Annotated[
        SecretStr | None, AfterValidator(_not_null), AfterValidator(_ingest_password_length)
    ] = None

    def runtime_changes(self) -> dict[str, Any]:
        return {key: getattr(self, key) for key in RUNTIME_SETTING_KEYS if key in self.model_fields_set}


class SettingValueRead(BaseModel):
    value: int
    updated_at: datetime | None
    updated_by: str | None


class IngestPasswordRead(BaseModel):
    """Metadata only: never the password or its hash."""

    set: bool
    updated_at: datetime | None
    updated_by: str | None


class SettingsRead(BaseModel):
    t_sync_response_seconds: SettingValueRead
    result_ttl_hours: SettingValueRead
    slot_concurrency: SettingValueRead
    provider_concurrency: SettingValueRead
    global_concurrency: SettingValueRead
    upload_max_mb: SettingValueRead
    ingest_password: IngestPasswordRead
