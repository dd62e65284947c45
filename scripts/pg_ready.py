"""Exit 0 when the PostgreSQL server named by the URL argument accepts a connection, else 1."""

import asyncio
import sys

import asyncpg
from sqlalchemy.engine import make_url


async def _check(url: str) -> bool:
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        conn = await asyncpg.connect(dsn, timeout=5)
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return False
    await conn.close()
    return True


def main() -> int:
    if len(sys.argv) != 2:
        print("usage: pg_ready.py DATABASE_URL", file=sys.stderr)
        return 2
    return 0 if asyncio.run(_check(sys.argv[1])) else 1


if __name__ == "__main__":
    raise SystemExit(main())
