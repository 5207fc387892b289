"""Request and response bodies of sign-up, account deletion and account administration."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from sandpit.api.schemas import Body, Credentials, JsonInt, Timestamp
from sandpit.services.users import PASSWORD_MAX

RoleName = Literal["user", "reviewer", "admin"]


class Registration(Credentials):
    """Sign-up: the credentials, and an invitation code (needed while sign-up is closed)."""

    invitation: str | None = Field(default=None, max_length=100)


class RegistrationInfo(BaseModel):
    """What the sign-up form needs to know before it is filled in."""

    open: bool = Field(description="Whether an account can be made without an invitation code.")


class AccountDeletion(Body):
    """The account's password, so a session left open cannot delete it."""

    password: str = Field(max_length=PASSWORD_MAX)


class AdminUserCreate(Credentials):
    role: RoleName = "user"


class AccountOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    username: str
    role: str
    disabled: bool
    created_at: Timestamp


class AdminUserUpdate(Body):
    disabled: bool | None = None
    role: RoleName | None = None


class ImportedRow(BaseModel):
    """One row of a class list: made (with the generated password, shown once) or not (`error`)."""

    line: int
    username: str
    role: str
    password: str | None = None
    error: str | None = None


class InvitationCreate(Body):
    uses: JsonInt = Field(default=1, ge=1, le=10_000, description="Accounts it can make.")
    expires_in_s: JsonInt | None = Field(
        default=7 * 24 * 3600, ge=60, le=366 * 24 * 3600, description="None: never expires."
    )
    role: RoleName = "user"
    note: str = Field(default="", max_length=200)


class InvitationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    role: str
    uses_left: int
    expires_at: Timestamp | None
    note: str
    created_at: Timestamp


class NewInvitationOut(InvitationOut):
    code: str = Field(description="The code to hand out; shown only now.")
