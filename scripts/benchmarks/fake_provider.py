"""The fake Gemini upstream (tests/fakes) in a process of its own, answering every call after a delay.

`python -m scripts.benchmarks.fake_provider DELAY_SECONDS RESULT_MB` prints its base URL on one line, then
serves until stdin closes.
"""

import sys

from tests.fakes.gemini import GeminiFake
from tests.fakes.server import Reply
from tests.support.images import noisy_jpeg


class _Forgetful(GeminiFake):
    """Keeps no copy of what it received: hundreds of multi-megabyte requests would pile up otherwise."""

    def on_scripted(self, received: object) -> None:
        with self._lock:
            self.received.clear()


def main() -> int:
    delay, result_mb = float(sys.argv[1]), float(sys.argv[2])
    fake = _Forgetful()
    with fake.running():
        fake.always(
            Reply.slow(delay, GeminiFake.image_reply(noisy_jpeg(result_mb), "image/jpeg")), times=100_000
        )
        print(fake.url, flush=True)
        sys.stdin.read()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
