"""The principal (organisation, key, role) the access middleware resolved for a request."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from pictograph.server.service.keys import Principal


def get_principal(request: Request) -> Principal:
    principal: Principal = request.scope["state"]["principal"]
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]
