"""glibc malloc settings for a server that handles many multi-megabyte buffers at once.

By default glibc raises its mmap threshold each time a large block is freed (up to 32 MiB) and gives
every thread its own arena. Uploads, provider bodies and decoded images then land in arena heaps that
fragment and are not returned to the system: under a burst of uploads the resident size grows to several
times the live data. A fixed threshold keeps whole photos, bitmaps and request bodies (1 MiB and more) in
their own mappings, handed back on free, and two arenas cap per-thread heaps. An operator's own `MALLOC_*`
settings win.

The threshold sits above the buffers every upload makes by the hundred (64 KiB socket reads, 256 KiB
parser batches, the decoder's 64 KiB file reads): below it they are recycled from the heap, where a
mapping each would cost an mmap, a munmap and sixteen zeroed page faults, about 35 ms of CPU per 12 MB
upload at the 64 KiB this module used to set (`make bench`, passthrough CPU per upload: 243 ms at 64 KiB,
208 ms at 1 MiB, 176 ms with glibc's sliding threshold, which holds 40 MB more at the holding load).
What a burst leaves in the heap goes back when the last upload is done (`trim_malloc`).
"""

import ctypes
import os
import sys

MMAP_THRESHOLD_BYTES = 1024 * 1024
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


def trim_malloc() -> bool:
    """Give the heap's free pages back to the system (`malloc_trim(0)`, glibc only): called when the last
    upload in flight is done, so the heap a burst grew does not stay resident while the server idles.
    Returns whether memory was released. Blocking for a moment on a large heap: run it in a thread."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        malloc_trim = ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return False
    return bool(malloc_trim(0))
