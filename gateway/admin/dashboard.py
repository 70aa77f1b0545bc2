"""/dashboard: the static page in gateway/static, served as shipped (no build step).

The page holds no data of its own: it asks for the admin token and reads the admin API,
so serving it needs no authentication. Its Content-Security-Policy allows nothing but
this origin, which is all it uses.
"""

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
_HEADERS = {
    "content-security-policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
    "x-content-type-options": "nosniff",
    "cache-control": "no-cache",
}


def dashboard_routes() -> list[BaseRoute]:
    async def page(request: Request) -> FileResponse:
        return FileResponse(STATIC_DIR / "dashboard.html", headers=_HEADERS)

    async def slash(request: Request) -> RedirectResponse:
        return RedirectResponse("/dashboard", status_code=308)

    return [
        Route("/dashboard", page, methods=["GET", "HEAD"]),
        Route("/dashboard/", slash, methods=["GET", "HEAD"]),
        Mount("/dashboard/assets", StaticFiles(directory=STATIC_DIR), name="dashboard-assets"),
    ]
