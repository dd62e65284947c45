"""The site root: a person who opens the server's address lands on the admin."""

from fastapi import APIRouter
from fastapi.responses import RedirectResponse

router = APIRouter(include_in_schema=False)


@router.get("/")
async def get_root() -> RedirectResponse:
    return RedirectResponse("/admin", status_code=307)
