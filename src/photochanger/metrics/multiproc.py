"""prometheus_client's multiprocess mode for `photochanger serve`: every worker writes its counters, histograms
and gauges to memory-mapped files in one directory, and whichever worker answers `/metrics` sums them, so one
scrape target per node reports the whole node.

`serve` points `PROMETHEUS_MULTIPROC_DIR` at `var/metrics` (unless it is set already) and empties it before a
worker starts: the library reads the variable when it is first imported, and files left by an earlier run
would otherwise be added to this one's totals. Counters and histograms of a worker that died stay in the sum
(totals never go backwards while the node runs); the `livesum` gauges of a dead worker are dropped at the next
scrape.
"""

import os
import re
from pathlib import Path

from prometheus_client import multiprocess

ENV = "PROMETHEUS_MULTIPROC_DIR"
_LIVE_GAUGE = re.compile(r"^gauge_live[a-z]+_(\d+)\.db$")


def directory() -> Path | None:
    """The multiprocess directory this process writes to, or None (single-process mode)."""
    value = os.environ.get(ENV)
    return Path(value) if value else None


def prepare(path: Path) -> None:
    """Create `path` and remove the value files of an earlier run. Call before any worker starts."""
    path.mkdir(parents=True, exist_ok=True)
    for stale in path.glob("*.db"):
        stale.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def drop_dead_workers(path: Path) -> list[int]:
    """Forget the live gauges (jobs in flight) of workers that are gone; returns their pids."""
    dead = sorted(
        {
            int(m.group(1))
            for f in path.glob("gauge_live*.db")
            if (m := _LIVE_GAUGE.match(f.name)) is not None and not _alive(int(m.group(1)))
        }
    )
    for pid in dead:
        multiprocess.mark_process_dead(pid, str(path))  # type: ignore[no-untyped-call]
    return dead
