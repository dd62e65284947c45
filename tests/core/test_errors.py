"""Every error leaves as application/problem+json with a stable code."""

import httpx
from fastapi import APIRouter, FastAPI

from photochanger.core.errors import Conflict, PhotoChangerError


async def test_unknown_route_is_problem_json_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/no/such/thing")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["type"] == "urn:photochanger:problem:not_found"
    assert body["title"] == "Not Found"
    assert body["status"] == 404
    assert body["code"] == "not_found"
    assert body["instance"] == "/no/such/thing"
    assert body["detail"]


async def test_wrong_method_is_problem_json_405(client: httpx.AsyncClient) -> None:
    response = await client.delete("/health/live")
    assert response.status_code == 405
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "method_not_allowed"


class SlotGone(PhotoChangerError):
    status_code = 410
    code = "slot_gone"
    title = "Slot gone"


def _attach_probe_routes(app: FastAPI) -> None:
    router = APIRouter()

    @router.get("/_probe/domain")
    async def domain_error() -> None:
        raise SlotGone("slot-099 was removed", headers={"Retry-After": "7"})

    @router.get("/_probe/conflict")
    async def conflict() -> None:
        raise Conflict("version 3 is stale", errors=[{"field": "version", "msg": "stale"}])

    @router.get("/_probe/crash")
    async def crash() -> None:
        raise RuntimeError("secret internals /var/lib/photochanger")

    @router.get("/_probe/typed")
    async def typed(count: int) -> dict[str, int]:
        return {"count": count}

    app.include_router(router)


async def test_domain_error_keeps_status_code_headers_and_detail(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    _attach_probe_routes(app)
    response = await client.get("/_probe/domain")
    assert response.status_code == 410
    assert response.headers["retry-after"] == "7"
    assert response.json() == {
        "type": "urn:photochanger:problem:slot_gone",
        "title": "Slot gone",
        "status": 410,
        "detail": "slot-099 was removed",
        "code": "slot_gone",
        "instance": "/_probe/domain",
    }


async def test_field_errors_travel_in_errors(app: FastAPI, client: httpx.AsyncClient) -> None:
    _attach_probe_routes(app)
    response = await client.get("/_probe/conflict")
    assert response.status_code == 409
    assert response.json()["errors"] == [{"field": "version", "msg": "stale"}]


async def test_validation_error_is_422_with_one_entry_per_field(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    _attach_probe_routes(app)
    response = await client.get("/_probe/typed", params={"count": "many"})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "validation_error"
    assert len(body["errors"]) == 1
    error = body["errors"][0]
    assert error["loc"] == ["query", "count"]
    assert error["field"] == "count"
    assert "many" not in str(body), "submitted values are never echoed"


async def test_unexpected_exception_is_500_problem_without_internals(app: FastAPI) -> None:
    _attach_probe_routes(app)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        response = await http.get("/_probe/crash")
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "internal_error"
    assert "/var/lib" not in response.text


async def test_openapi_declares_the_problem_schema(client: httpx.AsyncClient) -> None:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    assert "Problem" in response.json()["components"]["schemas"]
