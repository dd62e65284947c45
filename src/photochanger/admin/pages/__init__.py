"""Admin page modules, each an `APIRouter` included by `admin.router`."""
