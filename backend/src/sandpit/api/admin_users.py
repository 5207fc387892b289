"""Administrators only: accounts and invitation codes.

Creating accounts one at a time or from a class list (CSV), disabling,
enabling and deleting them, and invitation codes for a server whose
self-sign-up is closed. Kept apart from `api.admin` (logs, limits, metrics).
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from sandpit.api.account_schemas import (
    AccountOut,
    AdminUserCreate,
    AdminUserUpdate,
    ImportedRow,
    InvitationCreate,
    InvitationOut,
    NewInvitationOut,
)
from sandpit.api.deps import Context, CurrentAdmin, DbSession
from sandpit.api.errors import responses
from sandpit.db.models import Role, User
from sandpit.errors import BadRequest, Conflict, NotFound, PayloadTooLarge
from sandpit.services import accounts, users, workspaces

router = APIRouter(prefix="/admin", tags=["admin"])

# A class list of MAX_IMPORT_ROWS rows of name, password and role fits easily.
MAX_CSV_BYTES = 256 * 1024


async def _user(db: DbSession, user_id: str) -> User:
    user = await users.get_user(db, user_id)
    if user is None:
        raise NotFound("There is no such user.")
    return user


@router.post(
    "/users",
    status_code=status.HTTP_201_CREATED,
    response_model=AccountOut,
    responses=responses(409, e409="The username is taken."),
)
async def create_user(body: AdminUserCreate, _admin: CurrentAdmin, db: DbSession) -> AccountOut:
    """Create an account (also while self-sign-up is closed)."""
    user = await users.create_user(db, body.username, body.password, Role(body.role))
    return AccountOut.model_validate(user)


@router.post(
    "/class-lists",
    response_model=list[ImportedRow],
    responses=responses(
        400,
        413,
        e400="Not UTF-8 text.",
        e413="Over 1000 rows, or over 256 KiB.",
    ),
    openapi_extra={
        "requestBody": {
            "content": {"text/plain": {"schema": {"type": "string"}}},
            # None (or only blank lines) makes no account: an empty answer.
            "required": False,
            "description": "A class list (CSV, sent as `text/csv` or `text/plain`): one "
            "`username[,password[,role]]` a line; an optional header row.",
        }
    },
)
async def import_users(_admin: CurrentAdmin, db: DbSession, request: Request) -> list[ImportedRow]:
    """Create the accounts of a class list; each row answers alone (made, or why not).

    An empty password is generated and returned here, the only time it is shown.
    """
    raw = await request.body()
    if len(raw) > MAX_CSV_BYTES:
        raise PayloadTooLarge(f"A class list is at most {MAX_CSV_BYTES // 1024} KiB; split it.")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest("The class list is not UTF-8 text.") from None
    rows = await accounts.import_csv(db, text)
    return [
        ImportedRow(
            line=row.line,
            username=row.username,
            role=row.role,
            password=row.password,
            error=row.error,
        )
        for row in rows
    ]


@router.patch(
    "/users/{user_id}",
    response_model=AccountOut,
    responses=responses(404, 409, e409="An administrator cannot disable themselves."),
)
async def update_user(
    user_id: str, body: AdminUserUpdate, admin: CurrentAdmin, db: DbSession, context: Context
) -> AccountOut:
    """Disable or enable an account (a disabled one cannot sign in; its sessions end), or
    change its role. Disabling ends the account's sandboxes."""
    user = await _user(db, user_id)
    if body.disabled is not None:
        if user.id == admin.id and body.disabled:
            raise Conflict("You cannot disable your own account.")
        await accounts.set_disabled(db, user, body.disabled)
        if body.disabled:
            for workspace in await _workspace_ids(db, user):
                await context.end_workspace(workspace)
    if body.role is not None:
        user.role = body.role
        await db.commit()
    return AccountOut.model_validate(user)


async def _workspace_ids(db: DbSession, user: User) -> list[str]:
    return [workspace.id for workspace in await workspaces.list_owned(db, user)]


@router.delete(
    "/users/{user_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=responses(404, 409, e409="An administrator cannot delete themselves here."),
)
async def delete_user(
    user_id: str, admin: CurrentAdmin, db: DbSession, context: Context
) -> Response:
    """Delete the account and everything of it (nothing is left on disk)."""
    user = await _user(db, user_id)
    if user.id == admin.id:
        raise Conflict("Delete your own account from your account page, not here.")
    await accounts.delete_account(db, context.settings, user, context.end_workspace)
    # Their versions and snapshots went with the records; now the contents only they had.
    await context.history.collect()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/invitations", status_code=status.HTTP_201_CREATED, response_model=NewInvitationOut)
async def create_invitation(
    body: InvitationCreate, admin: CurrentAdmin, db: DbSession
) -> NewInvitationOut:
    """A code that makes `uses` accounts (with `role`) while self-sign-up is closed."""
    made = await accounts.create_invitation(
        db,
        admin,
        uses=body.uses,
        expires_in_s=body.expires_in_s,
        role=Role(body.role),
        note=body.note,
    )
    out = InvitationOut.model_validate(made.invitation)
    return NewInvitationOut(**out.model_dump(), code=made.code)


@router.get("/invitations", response_model=list[InvitationOut])
async def list_invitations(_admin: CurrentAdmin, db: DbSession) -> list[InvitationOut]:
    """The invitation codes, newest first (their codes are never shown again)."""
    return [InvitationOut.model_validate(i) for i in await accounts.list_invitations(db)]


@router.delete(
    "/invitations/{invitation_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=responses(404),
)
async def delete_invitation(invitation_id: str, _admin: CurrentAdmin, db: DbSession) -> Response:
    if not await accounts.delete_invitation(db, invitation_id):
        raise NotFound("There is no such invitation.")
    return Response(status_code=status.HTTP_204_NO_CONTENT)
