"""Request and response bodies of the auth, user and admin-stats endpoints."""

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, StringConstraints

from photochanger.auth.permissions import Role

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024

Username = Annotated[
    str,
    StringConstraints(strip_whitespace=True, to_lower=True, min_length=1, max_length=64),
]
NewUsername = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        to_lower=True,
        min_length=2,
        max_length=64,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.@-]*$",
    ),
]
LoginPassword = Annotated[SecretStr, Field(min_length=1, max_length=MAX_PASSWORD_LENGTH)]
NewPassword = Annotated[SecretStr, Field(min_length=MIN_PASSWORD_LENGTH, max_length=MAX_PASSWORD_LENGTH)]


class LoginRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: Username
    password: LoginPassword


class RefreshRequest(BaseModel):
    """The refresh token in the body (scripts); browsers leave it out and send the cookie."""

    model_config = ConfigDict(extra="forbid")

    refresh_token: Annotated[str, Field(max_length=4096)] | None = None


class TokenPairRead(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the OAuth2 token type name
    expires_in: int = Field(description="Seconds the access token stays valid")


class MeRead(BaseModel):
    id: uuid.UUID
    username: str
    role: Role
    permissions: list[str]


class ChangePasswordRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    current_password: LoginPassword
    new_password: NewPassword


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    username: str
    role: Role
    is_active: bool
    created_at: datetime
    updated_at: datetime
    last_login_at: datetime | None


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: NewUsername
    password: NewPassword
    role: Role = Role.operator


class UserRoleUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Role


class UserActiveUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    is_active: bool
