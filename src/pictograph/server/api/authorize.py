"""The one check in front of every developer API route: the caller's role against the route's
rule in ``service.policy.TABLE``. ``deps.route`` attaches it to every route it registers."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Request

from pictograph.server.service import policy
from pictograph.server.service.keys import Principal

#: Where the access middleware finds the rule of the route a request reached (for the audit).
RULE_STATE = "rule"


def authorizer(rule: policy.Rule) -> Callable[[Request], Awaitable[None]]:
    """A dependency raising ``ForbiddenError`` when the caller's role is below ``rule``."""

    async def authorize(request: Request) -> None:
        state = request.scope.setdefault("state", {})
        principal: Principal = state["principal"]
        least = rule.role
        if rule.elevated_by is not None and await _flag_set(request, rule.elevated_by):
            least = rule.elevated_role
        policy.require(principal.role, least, rule.action)
        state[RULE_STATE] = rule

    return authorize


async def _flag_set(request: Request, name: str) -> bool:
    """Whether ``name`` is true in the query string or the JSON body."""
    if request.query_params.get(name, "").lower() in {"1", "true", "yes"}:
        return True
    body = await request.body()
    if not body:
        return False
    try:
        data: Any = json.loads(body)
    except ValueError:
        return False  # the route answers 422 for a body it cannot read
    return isinstance(data, dict) and data.get(name) is True
