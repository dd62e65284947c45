"""Response bodies of the stats API."""

from datetime import datetime

from pydantic import BaseModel, Field


class Totals(BaseModel):
    total: int = 0
    pending: int = 0
    done: int = 0
    failed: int = 0
    timeout: int = 0
    success_rate: float | None = Field(None, description="done / finished (pending excluded); null: none")
    p50_ms: float | None = Field(
        None,
        description="median duration of finished jobs (interpolated); exact for windows up to 2 h, beyond "
        "estimated from log-spaced duration buckets: within 10 % of the exact value (50 ms below 50 ms)",
    )
    p95_ms: float | None = Field(None, description="95th percentile, computed like p50_ms (same error bound)")


class ProviderStats(Totals):
    provider: str


class TrafficStats(Totals):
    """One kind of traffic: booth uploads (`ingest`) or admin test runs (`ui_test`)."""

    failure_reasons: dict[str, int] = Field(default_factory=dict)
    providers: list[ProviderStats] = Field(default_factory=list)


class SlotTotals(BaseModel):
    slot_id: str
    total: int
    done: int
    failed: int
    timeout: int
    success_rate: float | None


class OverviewRead(BaseModel):
    window: str
    since: datetime
    until: datetime
    booth: TrafficStats
    ui_test: TrafficStats
    slots: list[SlotTotals] = Field(description="booth traffic per slot, busiest first")


class FailureRead(BaseModel):
    job_id: str
    created_at: datetime
    status: str
    failure_reason: str | None
    failure_detail: str | None
    provider: str
    source: str
    duration_ms: int | None


class SlotStatsRead(BaseModel):
    slot_id: str
    window: str
    since: datetime
    until: datetime
    booth: TrafficStats
    ui_test: TrafficStats
    recent_failures: list[FailureRead] = Field(description="the slot's last 20 failures in the window")


class UserStats(BaseModel):
    total: int
    active: int
    admins: int


class AdminStatsRead(BaseModel):
    users: UserStats
    active_sessions: int = Field(description="Refresh tokens that are neither revoked nor expired")
    jobs: dict[str, int] = Field(description="Job count per status, plus `total`")
