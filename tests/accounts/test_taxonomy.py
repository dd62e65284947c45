"""Which provider failures say the key itself is refused (so the rotation marks it broken)."""

import pytest

from photochanger.providers.base import (
    ProviderError,
    ProviderFailed,
    ProviderMisconfigured,
    ProviderRefused,
    ProviderUnavailable,
)


@pytest.mark.parametrize(
    ("error", "rejected"),
    [
        (ProviderMisconfigured("bad key", upstream_status=401), True),
        (ProviderFailed("no billing", upstream_status=403), True),
        (ProviderMisconfigured("API_KEY_INVALID", upstream_status=400, key_rejected=True), True),
        (ProviderMisconfigured("unknown model", upstream_status=404), False),
        (ProviderUnavailable("rate limited", upstream_status=429), False),
        # A moderation 403 refuses the photo, not the key.
        (ProviderRefused("flagged by moderation", upstream_status=403), False),
    ],
)
def test_key_rejection_follows_the_status_and_the_kind(error: ProviderError, rejected: bool) -> None:
    assert error.key_rejected is rejected
