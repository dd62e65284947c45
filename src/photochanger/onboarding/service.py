"""The dashboard's setup checklist: upload a frame, configure a slot, connect DSLR Remote Pro, take a
test shot. Every step is read from what exists, so the list ticks itself as the operator goes."""

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from photochanger.onboarding import repository

# The booth should wait a little longer than the server's own deadline, so it hears the server's answer
# (the result, the original as a fallback, or a 504) instead of giving up first: upload time and a margin.
BOOTH_TIMEOUT_MARGIN_SECONDS = 15


def booth_timeout_seconds(t_sync_response_seconds: int) -> int:
    """The timeout to enter in DSLR Remote Pro for a server deadline of `t_sync_response_seconds`."""
    return t_sync_response_seconds + BOOTH_TIMEOUT_MARGIN_SECONDS


@dataclass(frozen=True)
class SetupProgress:
    template_uploaded: bool
    slot_id: str | None  # the first configured slot, where the booth setup card points
    booth_connected: bool
    wrong_password_seen: bool
    shot_processed: bool

    @property
    def complete(self) -> bool:
        return (
            self.template_uploaded
            and self.slot_id is not None
            and self.booth_connected
            and self.shot_processed
        )


async def progress(session: AsyncSession) -> SetupProgress:
    return SetupProgress(
        template_uploaded=await repository.has_template(session),
        slot_id=await repository.first_configured_slot(session),
        booth_connected=await repository.has_booth_job(session, done=False),
        wrong_password_seen=await repository.has_wrong_password(session),
        shot_processed=await repository.has_booth_job(session, done=True),
    )
