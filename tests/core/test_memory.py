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
