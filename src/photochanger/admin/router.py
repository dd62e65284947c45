"""`/admin/*`: the server-rendered admin UI, one module per area in `admin/pages/`. Every page calls the
same services as the JSON API; its route class (`routing.AdminRoute`) renders domain errors as HTML; the
session rides on the auth layer's HttpOnly cookies, and every form carries the double-submit CSRF token."""

from fastapi import APIRouter

from photochanger.admin.pages import (
    account,
    audit,
    booths,
    bulk,
    chain,
    dashboard,
    events,
    gallery,
    gallery_zip,
    ingest_password,
    media,
    problems,
    providers,
    removal,
    session,
    settings,
    setup,
    signout,
    slots,
    stats,
    trial,
    users,
)
from photochanger.admin.routing import AdminRoute

PREFIX = "/admin"
router = APIRouter(route_class=AdminRoute, include_in_schema=False)

# Each area under `/admin` (a prefix here, so the dashboard's own path can be the bare `/admin`), in the order
# their routes were first written; no two of them answer the same path and method.
router.include_router(session.router, prefix=PREFIX)
router.include_router(dashboard.router, prefix=PREFIX)
router.include_router(slots.router, prefix=PREFIX)
router.include_router(gallery.router, prefix=PREFIX)
router.include_router(media.router, prefix=PREFIX)
router.include_router(settings.router, prefix=PREFIX)
router.include_router(stats.router, prefix=PREFIX)
router.include_router(account.router, prefix=PREFIX)
router.include_router(users.router, prefix=PREFIX)
router.include_router(audit.router, prefix=PREFIX)
router.include_router(events.router, prefix=PREFIX)
router.include_router(problems.router, prefix=PREFIX)
router.include_router(booths.router, prefix=PREFIX)
router.include_router(signout.router, prefix=PREFIX)
router.include_router(ingest_password.router, prefix=PREFIX)
router.include_router(setup.router, prefix=PREFIX)
router.include_router(trial.router, prefix=PREFIX)
router.include_router(bulk.router, prefix=PREFIX)
router.include_router(gallery_zip.router, prefix=PREFIX)
router.include_router(removal.router, prefix=PREFIX)
router.include_router(providers.router, prefix=PREFIX)
router.include_router(chain.router, prefix=PREFIX)
