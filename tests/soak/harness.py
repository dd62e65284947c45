"""The soak's machinery: a Gemini fake that reports its calls, a forking parent for fast restarts, the books."""

import json
import os
import random
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from starlette.responses import Response

from tests.fakes.gemini import GeminiFake
from tests.fakes.server import Received, Reply

REPO = Path(__file__).resolve().parents[2]


class SoakGemini(GeminiFake):
    """The Gemini fake answering after a random delay, reporting when a call starts and when it is answered."""

    def __init__(self) -> None:
        super().__init__()
        self.on_call: Callable[[str, float], None] | None = None
        self.rng = random.Random(15)

    def _default(self, received: Received) -> Reply:
        return replace(super()._default(received), delay=self.rng.uniform(0.05, 0.4))

    async def _respond(self, reply: Reply) -> Response:
        if self.on_call is not None:
            self.on_call("provider", reply.delay)
        response = await super()._respond(reply)
        if self.on_call is not None:
            self.on_call("storing", 0.0)
        return response


class Zygote:
    """`tests/soak/zygote.py` in a subprocess: forks a server per cycle without paying the import again."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.soak.zygote"],
            cwd=REPO,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        assert self.proc.stdout.readline().strip() == "ready"

    def spawn(self, args: list[str], env: dict[str, str], log: Path) -> int:
        assert self.proc.stdin is not None
        assert self.proc.stdout is not None
        self.proc.stdin.write(json.dumps({"args": args, "env": env, "log": str(log)}) + "\n")
        self.proc.stdin.flush()
        return int(self.proc.stdout.readline())

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        self.proc.wait(timeout=10)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@dataclass
class Books:
    """What the booths were told, and the figures of the run."""

    acknowledged: dict[str, str] = field(default_factory=dict)  # job id -> sha256 of the 200's body
    accepted: set[str] = field(default_factory=set)  # job ids answered 202
    statuses: Counter[str] = field(default_factory=Counter)
    kills: Counter[str] = field(default_factory=Counter)
    offenders: dict[str, set[str]] = field(default_factory=dict)  # kind -> distinct job ids or paths
    permit_checks: int = 0
    restarts_seconds: list[float] = field(default_factory=list)

    def violation(self, kind: str, items: list[str]) -> None:
        if items:
            self.offenders.setdefault(kind, set()).update(items)

    def count(self, *kinds: str) -> int:
        return sum(len(self.offenders.get(kind, ())) for kind in kinds)
