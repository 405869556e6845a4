"""The caller's profile: their name, and moving the account to a new email address.

Changing the address is a sensitive action: it needs a recent step-up (`logic/step_up.py`), and
the new address must prove itself with a link sent there (24 h, single use, stored hashed). The
request answers the same whether or not the address is free, so nobody learns which addresses
have accounts; a taken address simply never receives a usable link. Confirming claims the new
address in the platform-wide index (a conditional put: if someone took it meanwhile, the link is
refused), releases the old one, updates the copies of the address kept on membership rows, and
tells the old address what happened, all in one transaction. Sessions stay: the person is the
same and proved it twice.
"""

from __future__ import annotations

from typing import Any

from functions.identity.dal.store import IdentityDb, workspaces_of
from functions.identity.logic import step_up, tokens
from functions.identity.logic.access import store_for
from functions.identity.logic.accounts import AccountSettings, email_op, event_op, home_tenant
from functions.identity.logic.common import RequestInfo, in_tenant, now_or, signed_in_user
from functions.identity.logic.throttle import EMAILS, Throttle, email_subject
from functions.identity.models.api import Accepted, ChangeEmailRequest, ConfirmEmailChange, Me, UpdateProfile
from functions.identity.models.errors import InvalidToken
from ninefold_core.dynamo import ConditionFailed
from ninefold_core.errors import Conflict
from ninefold_core.events.schemas.identity import UserEmailChanged, UserProfileUpdated
from ninefold_core.tenant import TenantContext

CHANGE_ACCEPTED = "If the address can be used, we sent it a link: follow it to move your account there."
CHANGE_LINK_SECONDS = 24 * 3600


def _member_copies(db: IdentityDb, user_id: str, changes: dict[str, Any]) -> list[dict[str, Any]]:
    """Updates of the address/name copies on each of the user's membership rows."""
    ops = []
    for tenant_id in workspaces_of(db.table_name, user_id, db.users.repo.client):
        store = store_for(db.table_name, tenant_id, db.users.repo.client)
        if store.member(user_id) is not None:
            ops.append(store.repo.update_op(("MEMBERS",), f"member#{user_id}", changes))
    return ops


def update(db: IdentityDb, ctx: TenantContext, body: UpdateProfile) -> Me:
    from functions.identity.logic.accounts import me

    user = signed_in_user(db, ctx.user_id)
    if user.get("name") != body.name:
        home = in_tenant(ctx, home_tenant(user))
        db.transact(
            [
                db.users.update_op(ctx.user_id, {"name": body.name}),
                *_member_copies(db, ctx.user_id, {"name": body.name}),
                event_op(db, UserProfileUpdated(user_id=ctx.user_id, name=body.name), home),
            ]
        )
    return me(db, ctx)


def request_email_change(
    db: IdentityDb,
    ctx: TenantContext,
    body: ChangeEmailRequest,
    *,
    settings: AccountSettings,
    now: float | None = None,
) -> Accepted:
    now = now_or(now)
    step_up.require_recent(ctx, now=now)
    user = signed_in_user(db, ctx.user_id)
    if body.new_email == user["email"]:
        raise Conflict("This is already your address.")
    Throttle(db.throttles).claim(EMAILS, email_subject(body.new_email), now=now)
    if db.users.id_for_email(body.new_email) is None:
        token = tokens.issue(
            db, tokens.CHANGE_EMAIL, user_id=ctx.user_id, email=body.new_email, now=now, lifetime=CHANGE_LINK_SECONDS
        )
        home = in_tenant(ctx, home_tenant(user))
        db.transact(
            [
                token.op,
                email_op(
                    db,
                    home,
                    to=body.new_email,
                    template="change-email",
                    variables={"link": settings.link("confirm-email", token.token)},
                ),
            ]
        )
    return Accepted(detail=CHANGE_ACCEPTED)


def confirm_email_change(
    db: IdentityDb,
    body: ConfirmEmailChange,
    *,
    settings: AccountSettings,
    request: RequestInfo,
    now: float | None = None,
) -> Accepted:
    now = now_or(now)
    record, consume = tokens.redeem(db, tokens.CHANGE_EMAIL, body.token, now=now)
    user = db.users.get(record["user_id"])
    if user is None or user.get("disabled"):
        raise InvalidToken()
    old, new = str(user["email"]), str(record["email"])
    actor = request.actor(home_tenant(user), user["user_id"])
    ops = [
        consume,
        db.users.emails.put_op((new,), "email", {"user_id": user["user_id"]}, if_absent=True),
        db.users.emails.delete_op((old,), "email", expected={"user_id": user["user_id"]}),
        db.users.update_op(
            user["user_id"],
            {"email": new, "email_verified": True, "email_verified_at": int(now)},
            expected={"email": old},
        ),
        *_member_copies(db, user["user_id"], {"email": new}),
        event_op(db, UserEmailChanged(user_id=user["user_id"], old_email=old, new_email=new), actor),
        email_op(
            db,
            actor,
            to=old,
            template="email-changed",
            variables={"new_email": new, "reset_link": f"{settings.app_url}/app/forgot-password"},
        ),
    ]
    try:
        db.transact(ops)
    except ConditionFailed:
        # The address was taken, or the account's address changed, since the link was sent.
        raise InvalidToken() from None
    return Accepted(detail=f"Your account now uses {new}.")
