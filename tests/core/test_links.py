"""`Links`: every path it builds is served by a route of the app (so a moved route cannot leave links dead)."""

import pytest
from fastapi import FastAPI
from starlette.routing import Match
from starlette.types import Scope

from photochanger.core.links import Links

JOB = "a" * 22
BUILT = {
    "result": Links.result(JOB),
    "preview": Links.preview(JOB),
    "views": Links.views(JOB) + "/1600",
    "share": Links.share(JOB),
    "guest_page": Links.guest_page(JOB),
    "job_status": Links.job_status(JOB),
    "ingest": Links.ingest("slot-001"),
    "gallery": Links.gallery("t" * 24),
    "event_logo": Links.event_logo("e" * 32),
    "slot_logo": Links.slot_logo("m" * 32),
}


def _served(app: FastAPI, path: str) -> bool:
    """Whether a route of the app matches the path (any method: a share link is POSTed to)."""
    scope: Scope = {"type": "http", "path": path, "root_path": "", "method": "GET", "headers": []}
    return any(route.matches(scope)[0] in (Match.FULL, Match.PARTIAL) for route in app.router.routes)


def test_every_builder_is_listed() -> None:
    builders = {name for name in vars(Links) if not name.startswith("_")}
    assert builders == set(BUILT)


@pytest.mark.parametrize("name", sorted(BUILT))
async def test_the_path_is_served(app: FastAPI, name: str) -> None:
    assert _served(app, BUILT[name]), BUILT[name]


async def test_an_unknown_path_is_not_served(app: FastAPI) -> None:
    assert not _served(app, "/public/nowhere/" + JOB)
