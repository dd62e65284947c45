"""One admin test run: an uploaded photo through the real ingest pipeline as a `ui_test` job (with the saved
settings or a trial of unsaved ones), and what the page shows of it: original and result side by side."""

import base64
import time
from typing import Any

from fastapi import Request

from photochanger.admin.rendering import error_message, problem_text
from photochanger.core import images
from photochanger.core.errors import PhotoChangerError
from photochanger.core.multipart import ParsedUpload
from photochanger.ingest.service import IngestRequest, IngestService
from photochanger.slots.schemas import SlotSettings

ORIGINAL_PREVIEW_SIDE = 640


def data_url(data: bytes, content_type: str) -> str:
    return f"data:{content_type};base64,{base64.b64encode(data).decode()}"


async def run(
    request: Request,
    parsed: ParsedUpload,
    slot_id: str,
    arrived_at: float,
    override: tuple[str, str, SlotSettings] | None = None,
) -> dict[str, Any]:
    """The outcome for `slot_test.html`/`_trial.html`: `ok`, `seconds`, `original` (a data URL or None),
    then `result_url` and `fallback`, or `error` and `detail`. Never raises a domain error."""
    ingest: IngestService = request.app.state.ingest
    outcome: dict[str, Any] = {}
    try:
        original = await images.run_image_work(images.thumbnail, parsed.path, ORIGINAL_PREVIEW_SIDE)
        outcome["original"] = data_url(original, "image/jpeg")
    except images.ImageProblem:
        outcome["original"] = None
    try:
        received = await ingest.receive(IngestRequest.test_run(slot_id, parsed, arrived_at, override))
        result = await ingest.process(received)
    except PhotoChangerError as exc:
        outcome.update(
            ok=False,
            error=error_message(request, exc),
            detail=exc.detail,
            code=exc.code,
            seconds=f"{time.monotonic() - arrived_at:.1f}",
        )
    else:
        outcome.update(
            ok=result.fallback is None,
            job_id=result.job_id,
            fallback=problem_text(request, result.fallback) if result.fallback else None,
            result_url=f"/public/results/{result.job_id}",
            seconds=f"{result.duration_ms / 1000:.1f}",
        )
    return outcome
