"""Usage as the stats API exports it."""

from datetime import date

from pydantic import BaseModel


class UsageRow(BaseModel):
    day: date
    provider: str
    # An admin key by its last four characters ("…abcd"), "env" for the environment's key.
    key: str
    slot_id: str
    model: str
    # The slot's chain link: 0 the primary configuration, 1.. a fallback.
    link: int
    calls: int
    images: int
    refusals: int
    failures: int
    # Estimated: images x the model's price per image set in the admin.
    cost: float


class UsageRead(BaseModel):
    days: int
    rows: list[UsageRow]
    total_cost: float
    today_cost: float
    today_images: int
