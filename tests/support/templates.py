"""Template media helpers for tests: a frame PNG with a transparent window, uploaded through the API."""

import io

import httpx
from PIL import Image

FRAME_COLOR = (20, 30, 200)


def frame_png(width: int = 100, height: int = 80, border: int = 10) -> bytes:
    """An opaque blue frame `border` px wide around a fully transparent window."""
    img = Image.new("RGBA", (width, height), (*FRAME_COLOR, 255))
    img.paste((0, 0, 0, 0), (border, border, width - border, height - border))
    buffer = io.BytesIO()
    img.save(buffer, "PNG")
    return buffer.getvalue()


async def upload_template(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    data: bytes,
    *,
    name: str | None = "Wedding frame",
    filename: str = "frame.png",
    content_type: str = "image/png",
) -> httpx.Response:
    fields = {"name": name} if name is not None else {}
    return await client.post(
        "/api/template-media",
        headers=headers,
        data=fields,
        files={"file": (filename, data, content_type)},
    )
