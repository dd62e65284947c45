"""Forks `photochanger serve` processes from one parent that has already imported the server.

The soak kills and restarts the server hundreds of times; on this machine a cold `python -m photochanger`
spends about three seconds importing before it serves. The parent imports once, then for each line
`{"args": [...], "env": {...}, "log": "..."}` on stdin forks a child that runs the very command line
(`photochanger.cli.main`, uvicorn, the lifespan with its start-up recovery) and prints the child's pid.
Children are reaped by the kernel (SIGCHLD ignored), so a killed one simply disappears.
"""

import json
import os
import signal
import sys

import photochanger.app
import photochanger.cli

# Loaded by the server at start; imported here so the children inherit them.
__all__ = ["photochanger"]


def _spawn(request: dict[str, object]) -> int:
    pid = os.fork()
    if pid:
        return pid
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        log = os.open(str(request["log"]), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(log, 1)
        os.dup2(log, 2)
        env = request["env"]
        assert isinstance(env, dict)
        os.environ.clear()
        os.environ.update({str(k): str(v) for k, v in env.items()})
        args = request["args"]
        assert isinstance(args, list)
        code = photochanger.cli.main([str(a) for a in args])
    except BaseException:  # a child must never return into the parent's loop
        import traceback

        traceback.print_exc()
        code = 70
    os._exit(code)


def main() -> None:
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    for line in sys.stdin:
        if not line.strip():
            continue
        sys.stdout.write(f"{_spawn(json.loads(line))}\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
