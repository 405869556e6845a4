"""Identity's HTTP API: accounts, sessions, the caller and their workspace.

Routes live in `handlers/routes/` (one Powertools router per topic). Each must also be declared
in `stacks/routes.py`, which the CDK stack reads; a unit test keeps the two lists equal.
"""

from __future__ import annotations

from functions.identity.config import IdentityApiConfig
from functions.identity.handlers.routes import (
    admin,
    api_keys,
    auth,
    invitations,
    me,
    members,
    sessions,
    two_factor,
    workspace,
)
from functions.identity.handlers.routes import roles as role_routes
from functions.identity.handlers.routes import teams as team_routes
from ninefold_core.http import http_app, http_handler

app = http_app()
for routes in (auth, me, sessions, workspace, admin, api_keys, two_factor, members, invitations):
    app.include_router(routes.router)
for routes in (role_routes, team_routes):  # custom roles and teams
    app.include_router(routes.router)

handler = http_handler(app, IdentityApiConfig)
