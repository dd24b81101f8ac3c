"""The gallery's one router: sign-in, pages and image files, served from ``/``."""

from __future__ import annotations

from fastapi import APIRouter

from pictograph.server.gallery import files, pages, signin

router = APIRouter(include_in_schema=False)
for _module in (signin, pages, files):
    router.include_router(_module.router)
