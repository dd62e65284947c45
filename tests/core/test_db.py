"""Which database errors mean "unavailable right now" (503) rather than a bug (500)."""

import asyncpg
import pytest
from sqlalchemy import exc as sa_exc

from photochanger.core.db import is_unavailable_error


class _AdaptedError(Exception):
    """Stands in for SQLAlchemy's asyncpg DBAPI wrapper, which carries the server's SQLSTATE."""

    def __init__(self, sqlstate: str) -> None:
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


@pytest.mark.parametrize("sqlstate", ["57P01", "57P02", "57P03", "08006", "08001", "53300"])
def test_shutdown_restart_and_connection_states_are_unavailable(sqlstate: str) -> None:
    wrapped = sa_exc.DBAPIError("SELECT 1", None, _AdaptedError(sqlstate))
    assert is_unavailable_error(wrapped)


def test_asyncpg_errors_raised_directly_are_classified_by_sqlstate() -> None:
    assert is_unavailable_error(asyncpg.CannotConnectNowError("the database system is shutting down"))
    assert not is_unavailable_error(asyncpg.UniqueViolationError("duplicate key"))


@pytest.mark.parametrize("sqlstate", ["23505", "42P01", "22001"])
def test_query_errors_are_not_unavailable(sqlstate: str) -> None:
    assert not is_unavailable_error(sa_exc.DBAPIError("SELECT 1", None, _AdaptedError(sqlstate)))


def test_refused_connections_and_pool_timeouts_are_unavailable() -> None:
    assert is_unavailable_error(ConnectionRefusedError())
    assert is_unavailable_error(sa_exc.TimeoutError())
    assert not is_unavailable_error(ValueError("bad input"))
