"""Throttle races and sidesteps (issue 15, item 6): atomic check-and-record, the per-account ceiling,
IPv6 keyed by /64, and change-password under the same limits. Time is passed in (`now=`) except over HTTP."""

import asyncio
from collections import Counter
from datetime import datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from photochanger.core.clients import client_key
from photochanger.models import LoginAttempt, User
from photochanger.users import service, sessions, throttle
from photochanger.users.exceptions import InvalidCredentials, TooManyLoginAttempts, WrongPassword
from tests.support.auth import DEFAULT_PASSWORD, bearer, create_user, login
from tests.users.test_service import CODEC, T0, sessionmaker, user

__all__ = ["sessionmaker", "user"]


WRONG = "wrong password!"


async def _try(
    sm: async_sessionmaker[AsyncSession], *, client: str, now: datetime, password: str = WRONG
) -> str:
    """One login; returns the outcome's name."""
    async with sm() as session:
        try:
            await sessions.login(session, CODEC, username="serg", password=password, client=client, now=now)
        except InvalidCredentials:
            return "evaluated"
        except TooManyLoginAttempts:
            return "throttled"
        await session.commit()
    return "ok"


async def _failures(sm: async_sessionmaker[AsyncSession]) -> int:
    async with sm() as session:
        query = select(func.count()).select_from(LoginAttempt).where(LoginAttempt.succeeded.is_(False))
        return int((await session.execute(query)).scalar_one())


@pytest.mark.usefixtures("user")
async def test_150_concurrent_wrong_passwords_get_exactly_the_limit_evaluated(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    outcomes = Counter(
        await asyncio.gather(*(_try(sessionmaker, client="10.0.0.1", now=T0) for _ in range(150)))
    )
    assert outcomes == {"evaluated": throttle.USER_CLIENT_FAILURE_LIMIT, "throttled": 140}
    assert await _failures(sessionmaker) == throttle.USER_CLIENT_FAILURE_LIMIT


@pytest.mark.usefixtures("user")
async def test_many_clients_share_one_ceiling_per_account_and_a_known_client_still_gets_in(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    # The real admin logged in from home yesterday.
    assert await _try(
        sessionmaker, client="198.51.100.7", now=T0 - timedelta(days=1), password=DEFAULT_PASSWORD
    )
    # Five addresses, each below its own per-pair limit, guess at one account.
    outcomes: Counter[str] = Counter()
    for i in range(50):
        outcomes[await _try(sessionmaker, client=f"203.0.113.{i % 5}", now=T0 + timedelta(seconds=i))] += 1
    assert outcomes == {"evaluated": throttle.ACCOUNT_FAILURE_LIMIT, "throttled": 30}
    later = T0 + timedelta(seconds=60)
    # A new client is slowed too, with Retry-After until the oldest failure leaves the window...
    async with sessionmaker() as session:
        with pytest.raises(TooManyLoginAttempts) as slowed:
            await sessions.login(
                session, CODEC, username="serg", password=DEFAULT_PASSWORD, client="192.0.2.99", now=later
            )
    assert slowed.value.headers["Retry-After"] == str(15 * 60 - 60)
    # ...and gets its turn then: a slowdown, not a lockout.
    assert (
        await _try(sessionmaker, client="192.0.2.99", now=T0 + timedelta(minutes=15, seconds=1))
        == "evaluated"
    )
    # The admin, from the client that logged in before, is not locked out at all.
    assert await _try(sessionmaker, client="198.51.100.7", now=later, password=DEFAULT_PASSWORD) == "ok"


@pytest.mark.usefixtures("user")
async def test_an_ipv6_client_is_one_client_across_its_64(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    for i in range(throttle.USER_CLIENT_FAILURE_LIMIT):
        outcome = await _try(sessionmaker, client=f"2001:db8:1:2::{i + 1:x}", now=T0 + timedelta(seconds=i))
        assert outcome == "evaluated"
    rotated = await _try(
        sessionmaker, client="2001:db8:1:2:ffff:ffff:ffff:fffe", now=T0 + timedelta(seconds=11)
    )
    assert rotated == "throttled"
    # The neighbouring /64 is somebody else.
    assert await _try(sessionmaker, client="2001:db8:1:3::1", now=T0 + timedelta(seconds=12)) == "evaluated"


def test_client_keys() -> None:
    assert client_key("2001:db8:1:2:aaaa:bbbb:cccc:dddd") == "2001:db8:1:2::/64"
    assert client_key("2001:DB8:1:2::1") == client_key("2001:db8:1:2::ffff")
    assert client_key("::ffff:203.0.113.7") == "203.0.113.7"
    assert client_key("203.0.113.7") == "203.0.113.7"
    assert client_key("fe80::1%eth0") == "fe80::/64"
    assert client_key(None) == "unknown"
    assert client_key("testclient") == "testclient"


async def test_wrong_current_passwords_on_change_password_are_throttled(
    sessionmaker: async_sessionmaker[AsyncSession], user: User
) -> None:
    async def change(current: str, now: datetime) -> str:
        async with sessionmaker() as session:
            row = await service.get_user(session, user.id)
            try:
                await sessions.change_password(
                    session,
                    CODEC,
                    row,
                    current_password=current,
                    new_password="a brand new passphrase",
                    client="10.0.0.5",
                    now=now,
                )
            except WrongPassword:
                return "wrong"
            except TooManyLoginAttempts:
                return "throttled"
        return "changed"

    outcomes = Counter(await asyncio.gather(*(change("not it at all", T0) for _ in range(30))))
    assert outcomes == {"wrong": throttle.USER_CLIENT_FAILURE_LIMIT, "throttled": 20}
    # Even the right current password waits out the lockout, like a login would.
    assert await change(DEFAULT_PASSWORD, T0 + timedelta(minutes=1)) == "throttled"
    assert await change(DEFAULT_PASSWORD, T0 + timedelta(minutes=15, seconds=1)) == "changed"


async def test_change_password_over_http_answers_429_with_retry_after(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await create_user(app, "tanya")
    headers = bearer((await login(client, "tanya"))["access_token"])
    body = {"current_password": "not my password", "new_password": "another long passphrase"}
    codes = [
        (await client.post("/api/auth/change-password", json=body, headers=headers)).status_code
        for _ in range(throttle.USER_CLIENT_FAILURE_LIMIT)
    ]
    assert codes == [403] * throttle.USER_CLIENT_FAILURE_LIMIT
    locked = await client.post("/api/auth/change-password", json=body, headers=headers)
    assert locked.status_code == 429
    assert locked.headers["content-type"] == "application/problem+json"
    assert locked.json()["code"] == "too_many_attempts"
    assert 880 <= int(locked.headers["retry-after"]) <= 900
