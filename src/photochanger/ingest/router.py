"""`POST /api/ingest/{slot_id}`: the booth's upload, answered with the processed image itself."""

import time
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response

from photochanger.core.db import SessionDep
from photochanger.core.errors import problem_responses
from photochanger.core.forms import IMAGE_FILE, openapi_form
from photochanger.core.time import utcnow
from photochanger.ingest import jobs
from photochanger.ingest.exceptions import INGEST_ERRORS
from photochanger.ingest.jobs import JobAccepted, JobNotFound, JobRead
from photochanger.ingest.service import IngestRequest, IngestService

router = APIRouter(tags=["ingest"])

_BOOTH_FORM = openapi_form(
    {
        "fileToUpload": IMAGE_FILE,
        "password": {"type": "string", "description": "The shared ingest password"},
        "hash": {"type": "string", "description": "The booth's own hash, stored as given"},
        "time": {"type": "string"},
        "id": {"type": "string"},
        "name": {"type": "string"},
        "version": {"type": "string"},
    },
    required=["fileToUpload", "password"],
    extra_fields=True,
)

_IMAGE_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The processed image",
        "content": {"image/jpeg": {}, "image/png": {}, "image/webp": {}},
        "headers": {
            "X-Job-Id": {"schema": {"type": "string"}},
            "X-Result-Url": {"schema": {"type": "string"}},
            "X-PhotoChanger-Fallback": {
                "schema": {"type": "string"},
                "description": "Set when the original is returned",
            },
        },
    }
}


def _wants_async(request: Request) -> bool:
    """RFC 7240 `Prefer: respond-async`, or `?mode=async` for clients that cannot set headers."""
    if request.query_params.get("mode") == "async":
        return True
    prefer = ",".join(request.headers.getlist("prefer")).lower()
    return any(
        token.strip().split("=")[0] == "respond-async" for token in prefer.replace(";", ",").split(",")
    )


_ACCEPTED_RESPONSE: dict[int | str, dict[str, Any]] = {
    202: {
        "description": "Queued (`Prefer: respond-async` or `?mode=async`); poll the Location",
        "model": JobAccepted,
    }
}


@router.post(
    "/api/ingest/{slot_id}",
    summary="Upload a booth photo and receive the processed image",
    response_class=Response,
    responses={**_IMAGE_RESPONSE, **_ACCEPTED_RESPONSE, **problem_responses(*INGEST_ERRORS)},
    openapi_extra=_BOOTH_FORM,
)
async def ingest(
    slot_id: str,
    request: Request,
    mode: Annotated[Literal["sync", "async"], Query(description="`async` answers 202 at once")] = "sync",
) -> Response:
    arrived_at = time.monotonic()
    service: IngestService = request.app.state.ingest
    length = request.headers.get("content-length")
    received = await service.receive(
        IngestRequest(
            slot_id=slot_id,
            arrived_at=arrived_at,
            body=request.stream(),
            content_type=request.headers.get("content-type"),
            content_length=int(length) if length and length.isdigit() else None,
            idempotency_header=request.headers.get("idempotency-key"),
            client=request.client.host if request.client else None,
        )
    )
    if mode == "async" or _wants_async(request):
        accepted = await service.queue(received)
        body = JobAccepted(
            job_id=accepted.job_id,
            status_url=service.status_url(accepted.job_id),
            result_url=service.result_url(accepted.job_id),
            guest_url=service.guest_url(accepted.job_id),
        )
        return JSONResponse(
            body.model_dump(mode="json"),
            status_code=202,
            headers={
                "Location": f"/api/jobs/{accepted.job_id}",
                "Preference-Applied": "respond-async",
                "Cache-Control": "no-store",
            },
        )
    result = await service.process(received)
    headers = {
        "Cache-Control": "no-store",
        "X-Job-Id": result.job_id,
        "X-Result-Url": result.result_url,
        "X-Guest-Url": result.guest_url,
    }
    if result.fallback:
        headers["X-PhotoChanger-Fallback"] = result.fallback
    if result.joined:
        headers["X-PhotoChanger-Replayed"] = "true"
    return Response(content=result.data, media_type=result.content_type, headers=headers)


@router.get(
    "/api/jobs/{job_id}",
    summary="Status of a job (the unguessable id is the capability)",
    response_model=JobRead,
    responses=problem_responses(JobNotFound),
)
async def get_job(job_id: str, request: Request, session: SessionDep) -> JSONResponse:
    service: IngestService = request.app.state.ingest
    job = await jobs.get_job(session, job_id)
    read = jobs.job_read(job, service, now=utcnow())
    return JSONResponse(read.model_dump(mode="json"), headers={"Cache-Control": "no-store"})
