"""`tune_malloc`: glibc's allocator settings for the server process and its workers (run in subprocesses,
so the test process keeps its own allocator)."""

import os
import subprocess
import sys

from photochanger.core.memory import ENV

SCRIPT = "import os; from photochanger.core.memory import tune_malloc; print(tune_malloc(), os.environ.get('MALLOC_ARENA_MAX'), os.environ.get('MALLOC_MMAP_THRESHOLD_'))"


def _run(**env: str) -> str:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], env={**clean, **env}, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def test_the_server_process_and_its_workers_get_the_settings() -> None:
    assert _run() == f"True {ENV['MALLOC_ARENA_MAX']} {ENV['MALLOC_MMAP_THRESHOLD_']}"


def test_an_operators_own_malloc_settings_win() -> None:
    assert _run(MALLOC_ARENA_MAX="4") == "False 4 None"


def test_the_threshold_leaves_chunk_sized_buffers_in_the_heap() -> None:
    # Socket reads (64 KiB), parser batches (256 KiB) and decoder reads recycle from the heap; whole photos
    # and bitmaps get mappings of their own, returned on free.
    assert int(ENV["MALLOC_MMAP_THRESHOLD_"]) == 1024 * 1024


def test_trim_hands_free_heap_pages_back() -> None:
    # 20 MB freed below a block still in use: the heap cannot shrink from its top, only trimming returns it.
    script = (
        "from photochanger.core.memory import trim_malloc\n"
        "held = [bytes(100_000) for _ in range(200)]\n"
        "keep = bytes(100_000)\n"
        "del held\n"
        "print(trim_malloc())"
    )
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    done = subprocess.run(
        [sys.executable, "-c", script], env=clean, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "True"
