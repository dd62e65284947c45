"""Service-level auth: rotation as a state machine, expiry, throttling numbers (time passed in as `now=`)."""

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from photochanger.auth import access
from photochanger.auth.exceptions import InvalidToken
from photochanger.auth.permissions import Role
from photochanger.auth.tokens import REFRESH_ABSOLUTE_TTL, REFRESH_IDLE_TTL, IssuedTokens, TokenCodec
from photochanger.core.db import create_engine, create_sessionmaker
from photochanger.core.time import utcnow
from photochanger.models import User
from photochanger.users import service, sessions, throttle
from photochanger.users.exceptions import InvalidCredentials, TooManyLoginAttempts
from tests.support.auth import DEFAULT_PASSWORD
from tests.support.db import DatabaseFactory

CODEC = TokenCodec("service-test-secret-" + "z" * 40)
T0 = datetime(2026, 11, 22, 12, 0, tzinfo=utcnow().tzinfo)


@pytest.fixture
async def sessionmaker(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(database_url)
    try:
        yield create_sessionmaker(engine)
    finally:
        await engine.dispose()


@pytest.fixture
async def user(sessionmaker: async_sessionmaker[AsyncSession]) -> User:
    async with sessionmaker() as session:
        created = await service.create_user(
            session, username="serg", password=DEFAULT_PASSWORD, role=Role.admin, actor="test", now=T0
        )
        await session.commit()
    return created


async def _login(
    sm: async_sessionmaker[AsyncSession],
    *,
    password: str = DEFAULT_PASSWORD,
    client: str,
    now: datetime,
    username: str = "serg",
) -> IssuedTokens:
    async with sm() as session:
        issued = await sessions.login(
            session, CODEC, username=username, password=password, client=client, now=now
        )
        await session.commit()
    return issued


async def _refresh(sm: async_sessionmaker[AsyncSession], token: str, now: datetime) -> IssuedTokens:
    async with sm() as session:
        try:
            issued = await sessions.refresh(session, CODEC, token, now=now)
        except BaseException:
            await session.rollback()
            raise
        await session.commit()
    return issued


async def _access_ok(sm: async_sessionmaker[AsyncSession], token: str, now: datetime) -> bool:
    async with sm() as session:
        try:
            await access.authenticate_access(session, CODEC, token, now=now)
        except InvalidToken:
            return False
    return True


# --- refresh rotation as a state machine ----------------------------------------------------------------


@dataclass
class _Family:
    tokens: list[tuple[str, str]] = field(default_factory=list)  # (refresh, access), oldest first
    alive: bool = True


@dataclass
class _Model:
    families: list[_Family] = field(default_factory=list)


OPS = st.lists(
    st.tuples(st.sampled_from(["login", "refresh", "logout"]), st.integers(0, 7), st.integers(0, 7)),
    min_size=1,
    max_size=12,
)


async def _play(url: str, user_id: uuid.UUID, ops: list[tuple[str, int, int]]) -> None:
    engine = create_engine(url)
    sm = create_sessionmaker(engine)
    model = _Model()
    now = T0
    try:
        async with sm() as session:
            user = await session.get(User, user_id)
            assert user is not None
            first = await sessions._issue(session, CODEC, user, now=now)
            await session.commit()
        model.families.append(_Family([(first.refresh_token, first.access_token)]))
        for kind, fam_pick, tok_pick in ops:
            now += timedelta(seconds=1)
            if kind == "login":
                async with sm() as session:
                    user = await session.get(User, user_id)
                    assert user is not None
                    issued = await sessions._issue(session, CODEC, user, now=now)
                    await session.commit()
                model.families.append(_Family([(issued.refresh_token, issued.access_token)]))
                continue
            family = model.families[fam_pick % len(model.families)]
            index = tok_pick % len(family.tokens)
            refresh_token = family.tokens[index][0]
            if kind == "logout":
                async with sm() as session:
                    await sessions.logout(session, CODEC, refresh_token, now=now)
                    await session.commit()
                family.alive = False
                continue
            expect_ok = family.alive and index == len(family.tokens) - 1
            try:
                issued = await _refresh(sm, refresh_token, now)
            except InvalidToken:
                assert not expect_ok, "a live, current refresh token was refused"
                family.alive = False  # a rotated token presented again: reuse kills the family
            else:
                assert expect_ok, "a dead or already-rotated refresh token was accepted"
                family.tokens.append((issued.refresh_token, issued.access_token))
            # Invariant: only the current access token of a live family is usable; nothing else is.
            for fam in model.families:
                for i, (_, access) in enumerate(fam.tokens):
                    should_work = fam.alive and i == len(fam.tokens) - 1
                    # Older access tokens of a live family stay valid until they expire (15 min, stateless
                    # apart from the family check), so only assert on the ones that must be dead.
                    if not fam.alive:
                        assert not await _access_ok(sm, access, now)
                    elif should_work:
                        assert await _access_ok(sm, access, now)
    finally:
        await engine.dispose()


@pytest.fixture
def state_machine_db(db_factory: DatabaseFactory, tmp_path: Path) -> Iterator[tuple[str, uuid.UUID]]:
    async def setup() -> tuple[str, uuid.UUID]:
        url = await db_factory.create(tmp_path)
        engine = create_engine(url)
        try:
            async with create_sessionmaker(engine)() as session:
                created = await service.create_user(
                    session, username="machine", password=DEFAULT_PASSWORD, role=Role.admin, actor="test"
                )
                await session.commit()
        finally:
            await engine.dispose()
        return url, created.id

    url, user_id = asyncio.run(setup())
    yield url, user_id
    asyncio.run(db_factory.drop(url))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=OPS)
def test_no_sequence_of_refresh_logout_and_reuse_revives_a_dead_token(
    state_machine_db: tuple[str, uuid.UUID], ops: list[tuple[str, int, int]]
) -> None:
    url, user_id = state_machine_db
    asyncio.run(_play(url, user_id, ops))


async def test_every_rotated_token_triggers_reuse_detection(
    sessionmaker: async_sessionmaker[AsyncSession], user: User
) -> None:
    """Exhaustive over a chain of 4 rotations: replaying any non-current token revokes the family."""
    for replay in range(4):
        issued = await _login(sessionmaker, client="10.0.0.1", now=T0)
        chain = [issued.refresh_token]
        for step in range(4):
            chain.append(
                (await _refresh(sessionmaker, chain[-1], T0 + timedelta(seconds=step + 1))).refresh_token
            )
        with pytest.raises(InvalidToken):
            await _refresh(sessionmaker, chain[replay], T0 + timedelta(minutes=1))
        with pytest.raises(InvalidToken):
            await _refresh(sessionmaker, chain[-1], T0 + timedelta(minutes=1))


async def test_two_concurrent_refreshes_with_one_token_yield_one_pair(
    sessionmaker: async_sessionmaker[AsyncSession], user: User
) -> None:
    issued = await _login(sessionmaker, client="10.0.0.1", now=T0)
    results = await asyncio.gather(
        _refresh(sessionmaker, issued.refresh_token, T0 + timedelta(seconds=1)),
        _refresh(sessionmaker, issued.refresh_token, T0 + timedelta(seconds=1)),
        return_exceptions=True,
    )
    winners = [r for r in results if isinstance(r, IssuedTokens)]
    losers = [r for r in results if isinstance(r, InvalidToken)]
    assert (len(winners), len(losers)) == (1, 1), results
    # The loser presented an already-rotated token: that is reuse, so the winner's pair is revoked too.
    with pytest.raises(InvalidToken):
        await _refresh(sessionmaker, winners[0].refresh_token, T0 + timedelta(seconds=2))


async def test_refresh_tokens_expire_when_idle_and_absolutely(
    sessionmaker: async_sessionmaker[AsyncSession], user: User
) -> None:
    idle = await _login(sessionmaker, client="10.0.0.1", now=T0)
    with pytest.raises(InvalidToken):
        await _refresh(sessionmaker, idle.refresh_token, T0 + REFRESH_IDLE_TTL + timedelta(seconds=1))

    token = (await _login(sessionmaker, client="10.0.0.1", now=T0)).refresh_token
    now = T0
    # Rotating every 6 days keeps the family alive, but never past its absolute lifetime.
    while now + timedelta(days=6) < T0 + REFRESH_ABSOLUTE_TTL:
        now += timedelta(days=6)
        token = (await _refresh(sessionmaker, token, now)).refresh_token
    with pytest.raises(InvalidToken):
        await _refresh(sessionmaker, token, T0 + REFRESH_ABSOLUTE_TTL + timedelta(seconds=1))


async def test_access_token_expires_after_15_minutes(
    sessionmaker: async_sessionmaker[AsyncSession], user: User
) -> None:
    issued = await _login(sessionmaker, client="10.0.0.1", now=T0)
    assert await _access_ok(sessionmaker, issued.access_token, T0 + timedelta(minutes=14, seconds=59))
    assert not await _access_ok(sessionmaker, issued.access_token, T0 + timedelta(minutes=15))


# --- throttling -------------------------------------------------------------------------------------------


async def _fail(
    sm: async_sessionmaker[AsyncSession], *, client: str, now: datetime, username: str = "serg"
) -> None:
    with pytest.raises(InvalidCredentials):
        await _login(sm, password="wrong password!", client=client, now=now, username=username)


async def test_ten_failures_lock_the_username_on_that_client_for_15_minutes(
    sessionmaker: async_sessionmaker[AsyncSession], user: User
) -> None:
    for i in range(10):
        await _fail(sessionmaker, client="10.0.0.1", now=T0 + timedelta(seconds=i))
    last = T0 + timedelta(seconds=9)
    # Locked even with the right password, with the remaining time in Retry-After.
    with pytest.raises(TooManyLoginAttempts) as locked:
        await _login(sessionmaker, client="10.0.0.1", now=last + timedelta(seconds=1))
    assert locked.value.status_code == 429
    assert locked.value.headers["Retry-After"] == "899"
    # Another client logs in as the same user at the same moment: nobody is locked out from elsewhere.
    other = await _login(sessionmaker, client="10.0.0.2", now=last + timedelta(seconds=1))
    assert other.user.username == "serg"
    with pytest.raises(TooManyLoginAttempts):
        await _login(sessionmaker, client="10.0.0.1", now=last + timedelta(minutes=14, seconds=59))
    assert await _login(sessionmaker, client="10.0.0.1", now=last + timedelta(minutes=15))


async def test_nine_failures_do_not_lock_and_a_success_resets_the_count(
    sessionmaker: async_sessionmaker[AsyncSession], user: User
) -> None:
    for i in range(9):
        await _fail(sessionmaker, client="10.0.0.1", now=T0 + timedelta(seconds=i))
    await _login(sessionmaker, client="10.0.0.1", now=T0 + timedelta(seconds=10))
    for i in range(9):
        await _fail(sessionmaker, client="10.0.0.1", now=T0 + timedelta(seconds=20 + i))
    assert await _login(sessionmaker, client="10.0.0.1", now=T0 + timedelta(seconds=30))


async def test_failures_spread_over_more_than_15_minutes_do_not_lock(
    sessionmaker: async_sessionmaker[AsyncSession], user: User
) -> None:
    for i in range(12):
        await _fail(sessionmaker, client="10.0.0.1", now=T0 + timedelta(minutes=2 * i))
    assert await _login(sessionmaker, client="10.0.0.1", now=T0 + timedelta(minutes=25))


async def test_thirty_failures_across_usernames_lock_the_client(
    sessionmaker: async_sessionmaker[AsyncSession], user: User
) -> None:
    for i in range(throttle.CLIENT_FAILURE_LIMIT):
        await _fail(sessionmaker, client="10.0.0.9", now=T0 + timedelta(seconds=i), username=f"guess{i % 10}")
    now = T0 + timedelta(seconds=throttle.CLIENT_FAILURE_LIMIT)
    with pytest.raises(TooManyLoginAttempts):
        await _login(sessionmaker, client="10.0.0.9", now=now)
    assert await _login(sessionmaker, client="10.0.0.8", now=now)
