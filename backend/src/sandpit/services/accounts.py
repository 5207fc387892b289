"""Accounts beyond sign-in: sign-up rules, invitations, class lists, disabling, deletion.

Sign-up (`register`) is limited per client address, because every account
multiplies every per-user limit and each costs an argon2 hash. It can be
closed (`SIGNUP_OPEN=false`): then only an invitation code (`Invitation`,
stored as its SHA-256 only) or an administrator creates accounts, one at a
time or from a class list (`import_csv`).

Deleting an account (`delete_account`) removes everything it has on disk:
the caller first ends what runs for each workspace (runs, terminals,
sandbox), then the workspaces' volumes, directories and run plots go, then
the records (workspaces, runs cascade with the user).
"""

from __future__ import annotations

import csv
import hashlib
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from sandpit.config import Settings
from sandpit.db.models import Invitation, Role, User, Workspace
from sandpit.errors import BadRequest, Conflict, Forbidden, PayloadTooLarge, RateLimited
from sandpit.security.ratelimit import RateLimiter, retry_after_seconds
from sandpit.services import users
from sandpit.services.workspaces import legacy_plot_runs, remove_files, remove_legacy_plots

# A class list of more rows than this is split by the administrator.
MAX_IMPORT_ROWS = 1000
GENERATED_PASSWORD_BYTES = 12


def code_hash(code: str) -> str:
    return hashlib.sha256(code.strip().encode()).hexdigest()


async def register(
    db: AsyncSession,
    settings: Settings,
    limiter: RateLimiter,
    address: str,
    username: str,
    password: str,
    invitation: str | None,
) -> User:
    """Create an account by self-sign-up.

    Raises `RateLimited` past `signups_per_address` attempts in the window
    (counted before any work, successful or not), `Forbidden` when sign-up is
    closed and no valid invitation code is given (or a given code is not
    valid), `Conflict` for a taken name. A code, when given, is used up by
    one account even while sign-up is open, and gives its role.
    """
    wait = limiter.hit(f"signup:{address}", settings.signups_per_address, settings.signup_window_s)
    if wait:
        seconds = retry_after_seconds(wait)
        raise RateLimited(
            f"Too many sign-ups from your address (at most {settings.signups_per_address} "
            f"in {settings.signup_window_s // 60} minutes); try again in {seconds} seconds.",
            seconds,
        )
    if invitation is None or not invitation.strip():
        if not settings.signup_open:
            raise Forbidden(
                "Sign-up is closed on this server; you need an invitation code from "
                "your instructor or administrator."
            )
        return await users.create_user(db, username, password)
    users.check_credentials_shape(username, password)
    role = await _use_invitation(db, invitation)
    user = await users.create_user(db, username, password, role, commit=False)
    await db.commit()  # the account and the code's use, together
    return user


async def _use_invitation(db: AsyncSession, code: str) -> Role:
    """Take one use of the code (atomically, in the open transaction); its role."""
    digest = code_hash(code)
    now = datetime.now(UTC)
    invitation = await db.scalar(select(Invitation).where(Invitation.code_hash == digest))
    taken = await db.execute(
        update(Invitation)
        .where(
            Invitation.code_hash == digest,
            Invitation.uses_left > 0,
            or_(Invitation.expires_at.is_(None), Invitation.expires_at > now),
        )
        .values(uses_left=Invitation.uses_left - 1)
    )
    if invitation is None or getattr(taken, "rowcount", 0) != 1:
        await db.rollback()
        raise Forbidden("This invitation code is not valid (unknown, used up or expired).")
    return Role(invitation.role)


@dataclass(frozen=True)
class NewInvitation:
    invitation: Invitation
    code: str  # shown once; only its hash is stored


async def create_invitation(
    db: AsyncSession,
    creator: User | None,
    *,
    uses: int,
    expires_in_s: int | None,
    role: Role = Role.USER,
    note: str = "",
) -> NewInvitation:
    code = secrets.token_urlsafe(12)
    expires = datetime.now(UTC) + timedelta(seconds=expires_in_s) if expires_in_s else None
    invitation = Invitation(
        code_hash=code_hash(code),
        role=role.value,
        uses_left=uses,
        expires_at=expires,
        note=note,
        created_by=creator.id if creator else None,
    )
    db.add(invitation)
    await db.commit()
    return NewInvitation(invitation, code)


async def list_invitations(db: AsyncSession) -> list[Invitation]:
    rows = await db.scalars(select(Invitation).order_by(Invitation.created_at.desc()))
    return list(rows)


async def delete_invitation(db: AsyncSession, invitation_id: str) -> bool:
    result = await db.execute(delete(Invitation).where(Invitation.id == invitation_id))
    await db.commit()
    return getattr(result, "rowcount", 0) == 1


@dataclass(frozen=True)
class Imported:
    """One row of a class list: the account made (with its password when generated)."""

    line: int
    username: str
    role: str
    password: str | None = None
    error: str | None = None


async def import_csv(db: AsyncSession, text: str) -> list[Imported]:
    """Create an account per line of a class list: `username[,password[,role]]`.

    A first line starting with `username` is a header; blank lines are
    skipped, so an empty list makes nothing. An empty password is generated
    (and returned, the only time it is shown). Each line succeeds or fails
    alone (`error` says why: not CSV, a bad or taken name, a bad role), so a
    list can be fixed and sent again. Raises `PayloadTooLarge` past
    `MAX_IMPORT_ROWS` lines.
    """
    lines = [(n, line) for n, line in enumerate(text.splitlines(), start=1) if line.strip()]
    if lines and lines[0][1].strip().lower().startswith("username"):
        lines = lines[1:]
    if len(lines) > MAX_IMPORT_ROWS:
        raise PayloadTooLarge(f"A class list has at most {MAX_IMPORT_ROWS} rows; split it.")
    results = []
    for line, raw in lines:
        try:
            cells = [cell.strip() for cell in next(csv.reader([raw]))] + ["", "", ""]
        except csv.Error as exc:
            results.append(Imported(line, "", "", error=f"Not a CSV line: {exc}."))
            continue
        results.append(await _import_row(db, line, *cells[:3]))
    return results


async def _import_row(
    db: AsyncSession, line: int, username: str, password: str, role_name: str
) -> Imported:
    role_name = role_name or Role.USER.value
    try:
        role = Role(role_name)
    except ValueError:
        return Imported(line, username, role_name, error=f"No role {role_name!r}.")
    generated = None
    if not password:
        password = generated = secrets.token_urlsafe(GENERATED_PASSWORD_BYTES)
    try:
        await users.create_user(db, username, password, role)
    except (BadRequest, Conflict) as exc:
        return Imported(line, username, role.value, error=exc.detail)
    return Imported(line, username, role.value, password=generated)


async def set_disabled(db: AsyncSession, user: User, disabled: bool) -> User:
    user.disabled = disabled
    await db.commit()
    return user


async def delete_account(
    db: AsyncSession,
    settings: Settings,
    user: User,
    end_workspace: Callable[[str], Awaitable[None]],
) -> None:
    """Delete the user and everything of theirs, on disk and in the database.

    `end_workspace` ends what runs for a workspace (runs, terminals, sandbox)
    and returns when nothing writes to its files any more.
    """
    workspace_ids = list(
        await db.scalars(select(Workspace.id).where(Workspace.owner_id == user.id))
    )
    for workspace_id in workspace_ids:
        await end_workspace(workspace_id)
    legacy = await legacy_plot_runs(db, workspace_ids)
    # The records first: a request racing with this one finds no account.
    await db.delete(user)
    await db.commit()
    for workspace_id in workspace_ids:
        await remove_files(settings, workspace_id)
    await remove_legacy_plots(settings, legacy)
