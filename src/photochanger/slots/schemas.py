"""How a slot's `settings` JSON is read: parameters plus output and failure policy."""

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field


class OutputFormat(StrEnum):
    jpeg = "jpeg"
    png = "png"
    webp = "webp"

    @property
    def mime(self) -> str:
        return f"image/{self.value}"


class OnFailure(StrEnum):
    error = "error"
    original = "original"


class ChainLink(BaseModel):
    """A fallback of the slot's chain: another provider or model, with its own parameters."""

    model_config = ConfigDict(extra="forbid")

    provider: Annotated[str, Field(min_length=1, max_length=40)]
    operation: Annotated[str, Field(min_length=1, max_length=60)]
    params: dict[str, Any] = Field(default_factory=dict)


MAX_FALLBACKS = 4
# Hedging: start the next link when the current one has not answered after this many seconds.
HedgeSeconds = Annotated[float, Field(ge=0.5, le=300)]


class SlotSettings(BaseModel):
    """The JSON stored in `slot.settings`. Unknown keys are kept so later features can add their own."""

    model_config = ConfigDict(extra="allow")

    params: dict[str, Any] = Field(default_factory=dict)
    size_limit_mb: Annotated[int | None, Field(ge=1, le=100)] = None
    output_format: OutputFormat = OutputFormat.jpeg
    on_failure: OnFailure = OnFailure.error
    # Optional job-end callback; the secret signs each delivery and is never returned by the API.
    webhook_url: Annotated[str | None, Field(max_length=2048)] = None
    webhook_secret: Annotated[str | None, Field(min_length=16, max_length=200)] = None
    # Tried in order after the primary (provider, operation, params), inside the same deadline.
    fallbacks: Annotated[list[ChainLink], Field(max_length=MAX_FALLBACKS)] = Field(default_factory=list)
    hedge_after_seconds: HedgeSeconds | None = None


class SlotUpdate(BaseModel):
    """`PUT /api/slots/{id}`: the whole editable configuration plus the `version` it was read at.

    `on_failure` may be left out to keep the current policy.
    """

    model_config = ConfigDict(extra="forbid")

    display_name: Annotated[str, Field(min_length=1, max_length=120)]
    provider: Annotated[str, Field(min_length=1, max_length=40)]
    operation: Annotated[str, Field(min_length=1, max_length=60)]
    params: dict[str, Any] = Field(default_factory=dict)
    is_active: bool
    size_limit_mb: Annotated[int | None, Field(ge=1, le=100)] = None
    output_format: OutputFormat = OutputFormat.jpeg
    on_failure: OnFailure | None = None
    # Left out: keep the current webhook. "" clears it. The secret is write-only.
    webhook_url: Annotated[str | None, Field(max_length=2048)] = None
    webhook_secret: Annotated[str | None, Field(max_length=200)] = None
    # Left out: keep the current chain and hedging; `[]` / `null` clear them.
    fallbacks: Annotated[list[ChainLink] | None, Field(max_length=MAX_FALLBACKS)] = None
    hedge_after_seconds: HedgeSeconds | None = None
    version: Annotated[int, Field(ge=1)]


class TrialSettings(BaseModel):
    """Unsaved settings to try in a test run; anything left out is taken from the saved slot."""

    model_config = ConfigDict(extra="forbid")

    provider: Annotated[str | None, Field(min_length=1, max_length=40)] = None
    operation: Annotated[str | None, Field(min_length=1, max_length=60)] = None
    params: dict[str, Any] | None = None
    size_limit_mb: Annotated[int | None, Field(ge=1, le=100)] = None
    output_format: OutputFormat | None = None
    on_failure: OnFailure | None = None


class OperationRead(BaseModel):
    id: str
    title: str
    params_schema: dict[str, Any]
    template_fields: list[str]


class ProviderRead(BaseModel):
    id: str
    title: str
    configured: bool
    operations: list[OperationRead]


class ConnectionCheckRead(BaseModel):
    """The answer of `POST /api/providers/{id}/check`: `ok`, else the provider's own error text."""

    provider: str
    ok: bool
    detail: str
    upstream_status: int | None = None


class ResultRead(BaseModel):
    job_id: str
    source: str
    created_at: datetime
    finished_at: datetime | None
    expires_at: datetime | None
    available: bool
    result_url: str
    preview_url: str
    # The chain link that produced it (0: the primary) and its provider; None for slots without a chain.
    result_link: int | None = None
    result_provider: str | None = None
    # Hidden by an admin: off every guest link and gallery (`available` still says whether it is stored).
    hidden: bool = False


class SlotSummaryRead(BaseModel):
    id: str
    display_name: str
    provider: str
    operation: str
    is_active: bool
    ingest_url: str
    version: int
    updated_at: datetime
    updated_by: str | None
    outcomes_last_hour: dict[str, int]


class SlotRead(BaseModel):
    id: str
    display_name: str
    provider: str
    operation: str
    params: dict[str, Any]
    is_active: bool
    size_limit_mb: int | None
    output_format: OutputFormat
    on_failure: OnFailure
    webhook_url: str | None = None
    webhook_secret_set: bool = False
    fallbacks: list[ChainLink] = Field(default_factory=list)
    hedge_after_seconds: float | None = None
    version: int
    ingest_url: str
    updated_at: datetime
    updated_by: str | None
    recent_results: list[ResultRead]
    # Set on the answer to a save: what works but may disappoint (e.g. slower than the booth waits),
    # located like validation errors.
    warnings: list[dict[str, Any]] = Field(default_factory=list)


class TrialRunRead(BaseModel):
    job_id: str
    status: str
    content_type: str
    result_url: str | None
    preview_url: str | None
    guest_url: str | None
    fallback: str | None
    duration_ms: int
