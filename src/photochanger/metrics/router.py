"""`GET /metrics`: Prometheus text format, behind `Authorization: Bearer <PHOTOCHANGER_METRICS_TOKEN>` when set."""

import secrets

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST

from photochanger.config import AppConfig
from photochanger.core.errors import PhotoChangerError, problem_responses
from photochanger.deps import ConfigDep, MetricsDep, SessionmakerDep

router = APIRouter(tags=["metrics"])


class MetricsTokenRequired(PhotoChangerError):
    status_code = 401
    code = "not_authenticated"
    title = "Metrics token required"


def _check_token(request: Request, config: AppConfig) -> None:
    if config.metrics_token is None:
        return
    expected = config.metrics_token.get_secret_value().encode()
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not secrets.compare_digest(given.strip().encode(), expected):
        raise MetricsTokenRequired(
            "Send `Authorization: Bearer <PHOTOCHANGER_METRICS_TOKEN>`.",
            headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
        )


@router.get(
    "/metrics",
    summary="Prometheus metrics of this node (every worker of `photochanger serve`)",
    response_class=Response,
    responses={
        200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Prometheus text format"},
        **problem_responses(MetricsTokenRequired),
    },
)
async def get_metrics(
    request: Request, config: ConfigDep, sessionmaker: SessionmakerDep, metrics: MetricsDep
) -> Response:
    _check_token(request, config)
    await metrics.refresh(sessionmaker)
    return Response(
        metrics.exposition(),
        media_type=CONTENT_TYPE_LATEST,
        headers={"Cache-Control": "no-store"},
    )
