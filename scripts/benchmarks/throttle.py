"""A loopback TCP proxy whose client-to-server direction shares one link limited to a rate: the uplink of
an event venue between the server and its provider.

`python -m scripts.benchmarks.throttle TARGET_PORT MBIT` prints its own port on one line, then answers each
line read on stdin with the bytes sent upstream so far; it ends when stdin closes.
"""

import asyncio
import sys
import threading

PIECE = 16 * 1024


class Link:
    """One shared uplink: every piece waits for the link to be free, then holds it `len / rate` seconds."""

    def __init__(self, bytes_per_second: float) -> None:
        self.rate = bytes_per_second
        self.free_at = 0.0
        self.sent = 0

    async def send(self, writer: asyncio.StreamWriter, data: bytes) -> None:
        loop = asyncio.get_running_loop()
        for start in range(0, len(data), PIECE):
            piece = data[start : start + PIECE]
            now = loop.time()
            self.free_at = max(self.free_at, now) + len(piece) / self.rate
            # Sent once the link has carried it, as a modem would deliver it.
            await asyncio.sleep(self.free_at - now)
            writer.write(piece)
            await writer.drain()
            self.sent += len(piece)


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, link: Link | None) -> None:
    try:
        while data := await reader.read(256 * 1024):
            if link is None:
                writer.write(data)
                await writer.drain()
            else:
                await link.send(writer, data)
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        writer.close()


async def main() -> int:
    target, mbit = int(sys.argv[1]), float(sys.argv[2])
    link = Link(mbit * 1_000_000 / 8)

    async def handle(client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        upstream_r, upstream_w = await asyncio.open_connection("127.0.0.1", target)
        await asyncio.gather(_pump(client_r, upstream_w, link), _pump(upstream_r, client_w, None))

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    loop = asyncio.get_running_loop()
    done = asyncio.Event()

    def answer_stdin() -> None:
        for _line in sys.stdin:
            print(link.sent, flush=True)
        loop.call_soon_threadsafe(done.set)

    threading.Thread(target=answer_stdin, daemon=True).start()
    async with server:
        await done.wait()
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
