"""glibc malloc settings for a server that handles many multi-megabyte buffers at once.

By default glibc raises its mmap threshold each time a large block is freed (up to 32 MiB) and gives
every thread its own arena. Uploads, provider bodies and decoded images then land in arena heaps that
fragment and are not returned to the system: under a burst of uploads the resident size grows to several
times the live data. A fixed threshold keeps buffers of 64 KiB and more (a socket read and up) in their
own mappings, handed back on free, and two arenas cap per-thread heaps. An operator's own `MALLOC_*`
settings win.
"""

import ctypes
import os
import sys

MMAP_THRESHOLD_BYTES = 64 * 1024
ARENA_MAX = 2
# mallopt(3) parameter numbers.
_M_MMAP_THRESHOLD = -3
_M_ARENA_MAX = -8
ENV = {"MALLOC_MMAP_THRESHOLD_": str(MMAP_THRESHOLD_BYTES), "MALLOC_ARENA_MAX": str(ARENA_MAX)}


def tune_malloc() -> bool:
    """Apply the settings to this process (glibc only) and to the environment its worker processes
    inherit. Returns whether this process's allocator took them; False off glibc or when the operator
    set any `MALLOC_*` variable (then nothing is changed)."""
    if any(name in os.environ for name in ENV):
        return False
    os.environ.update(ENV)
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    return bool(
        mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES) == 1 and mallopt(_M_ARENA_MAX, ARENA_MAX) == 1
    )
