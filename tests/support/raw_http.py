"""Raw HTTP/1.1 over asyncio streams: uploads that trickle, stall or vanish, as no HTTP library sends them."""

import asyncio
import contextlib
from dataclasses import dataclass

from tests.ingest.conftest import booth_fields

BOUNDARY = "rawBoundary5c1d"


def multipart(password: str, photo: bytes, *, file_first: bool = False, **extra: str) -> tuple[bytes, bytes]:
    """The booth's body split where the photo begins: (what comes before the photo's bytes, the rest)."""
    fields = b"".join(
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
        for k, v in booth_fields(password, **extra).items()
    )
    head = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="fileToUpload"; filename="IMG.JPG"\r\n'
        "Content-Type: image/jpeg\r\n\r\n"
    ).encode()
    if file_first:
        return head, photo + b"\r\n" + fields + f"--{BOUNDARY}--\r\n".encode()
    return fields + head, photo + f"\r\n--{BOUNDARY}--\r\n".encode()


@dataclass
class RawResponse:
    status: int
    headers: dict[str, str]
    body: bytes


class RawUpload:
    """One connection posting a multipart body with a declared `Content-Length`, written as the test says."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, base_url: str, path: str, length: int) -> "RawUpload":
        host, port = base_url.removeprefix("http://").split(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        writer.write(
            (
                f"POST {path} HTTP/1.1\r\nHost: booth\r\nContent-Length: {length}\r\n"
                f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n\r\n"
            ).encode()
        )
        await writer.drain()
        return cls(reader, writer)

    async def send(self, data: bytes) -> bool:
        """Write `data`; False once the server has closed the connection."""
        try:
            self.writer.write(data)
            await self.writer.drain()
        except (ConnectionError, OSError):
            return False
        return True

    async def trickle(self, data: bytes, *, every: float, size: int = 1) -> None:
        """`size` bytes every `every` seconds until `data` is sent or the server hangs up."""
        for at in range(0, len(data), size):
            if not await self.send(data[at : at + size]):
                return
            await asyncio.sleep(every)

    async def response(self, within: float) -> RawResponse:
        async with asyncio.timeout(within):
            head = await self.reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            status = int(lines[0].split()[1])
            headers = {
                k.strip().lower(): v.strip()
                for k, _, v in (line.partition(":") for line in lines[1:] if line)
            }
            body = await self.reader.readexactly(int(headers.get("content-length", "0")))
        return RawResponse(status, headers, body)

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(ConnectionError, OSError):
            await self.writer.wait_closed()
