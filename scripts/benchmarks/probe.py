"""Event-loop lag from the outside: a tight loop of `GET /health/live` on one keep-alive connection.

`python -m scripts.benchmarks.probe HOST PORT SECONDS` prints a JSON list of latencies in ms. It runs in a
process of its own so the load generator's own event loop never inflates the numbers.
"""

import http.client
import json
import sys
import time


def main() -> int:
    host, port, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    conn = http.client.HTTPConnection(host, port, timeout=30)
    latencies: list[float] = []
    stop = time.monotonic() + seconds
    while time.monotonic() < stop:
        started = time.perf_counter()
        try:
            conn.request("GET", "/health/live")
            response = conn.getresponse()
            response.read()
        except (OSError, http.client.HTTPException):
            conn.close()
            conn = http.client.HTTPConnection(host, port, timeout=30)
            continue
        latencies.append((time.perf_counter() - started) * 1000)
        time.sleep(0.002)  # a probe, not a load: about 400 requests a second at most
    print(json.dumps(latencies))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
