"""`/api/auth/*` (and `/api/login`) and `/api/users`."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Request, Response, status

from photochanger.auth import permissions
from photochanger.auth.cookies import clear_session_cookies, set_session_cookies
from photochanger.auth.dependencies import (
    REFRESH_COOKIE,
    CodecDep,
    Principal,
    PrincipalDep,
    check_csrf,
    requires,
)
from photochanger.auth.exceptions import CsrfFailed, InvalidToken, NotAuthenticated
from photochanger.auth.tokens import IssuedTokens
from photochanger.core.db import SessionDep
from photochanger.core.errors import ValidationFailed, problem_responses
from photochanger.deps import AUTH_ERRORS
from photochanger.users import service, sessions
from photochanger.users.exceptions import (
    CannotDeleteSelf,
    InvalidCredentials,
    LastAdmin,
    TooManyLoginAttempts,
    UsernameTaken,
    UserNotFound,
    WeakPassword,
    WrongPassword,
)
from photochanger.users.schemas import (
    ChangePasswordRequest,
    LoginRequest,
    MeRead,
    RefreshRequest,
    TokenPairRead,
    UserActiveUpdate,
    UserCreate,
    UserRead,
    UserRoleUpdate,
)

router = APIRouter(prefix="/api/auth", tags=["auth"])
login_router = APIRouter(prefix="/api", tags=["auth"])
users_router = APIRouter(prefix="/api/users", tags=["users"])

UsersReader = Annotated[Principal, requires(permissions.USERS_READ)]
UsersWriter = Annotated[Principal, requires(permissions.USERS_WRITE)]


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _pair(issued: IssuedTokens) -> TokenPairRead:
    return TokenPairRead(
        access_token=issued.access_token, refresh_token=issued.refresh_token, expires_in=issued.expires_in
    )


def _refresh_token_from(request: Request, body: RefreshRequest | None) -> str:
    """The body's token (scripts), else the cookie (browser; then the CSRF header is required too)."""
    if body is not None and body.refresh_token:
        return body.refresh_token
    cookie = request.cookies.get(REFRESH_COOKIE)
    if not cookie:
        raise NotAuthenticated("No refresh token in the body or cookie.")
    check_csrf(request)
    return cookie


async def _login(
    body: LoginRequest, request: Request, response: Response, session: SessionDep, codec: CodecDep
) -> TokenPairRead:
    issued = await sessions.login(
        session,
        codec,
        username=body.username,
        password=body.password.get_secret_value(),
        client=_client(request),
    )
    set_session_cookies(request, response, issued)
    return _pair(issued)


for _router, _name in ((router, "login"), (login_router, "login_documented_path")):
    _router.add_api_route(
        "/login",
        _login,
        methods=["POST"],
        name=_name,
        response_model=TokenPairRead,
        responses=problem_responses(InvalidCredentials, TooManyLoginAttempts, ValidationFailed),
        summary="Log in with username and password",
    )


@router.post(
    "/refresh",
    response_model=TokenPairRead,
    responses=problem_responses(InvalidToken, NotAuthenticated, CsrfFailed),
)
async def refresh_tokens(
    request: Request,
    response: Response,
    session: SessionDep,
    codec: CodecDep,
    body: RefreshRequest | None = None,
) -> TokenPairRead:
    issued = await sessions.refresh(session, codec, _refresh_token_from(request, body))
    set_session_cookies(request, response, issued)
    return _pair(issued)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT, responses=problem_responses(CsrfFailed))
async def logout(
    request: Request, session: SessionDep, codec: CodecDep, body: RefreshRequest | None = None
) -> Response:
    try:
        token = _refresh_token_from(request, body)
    except NotAuthenticated:
        token = None
    if token is not None:
        await sessions.logout(session, codec, token)
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    clear_session_cookies(request, response)
    return response


@router.get("/me", response_model=MeRead, responses=problem_responses(*AUTH_ERRORS))
async def get_me(principal: PrincipalDep) -> MeRead:
    return MeRead(
        id=principal.user_id,
        username=principal.username,
        role=principal.role,
        permissions=sorted(principal.permissions),
    )


@router.post(
    "/change-password",
    response_model=TokenPairRead,
    responses=problem_responses(*AUTH_ERRORS, WrongPassword, WeakPassword, TooManyLoginAttempts),
)
async def change_password(
    body: ChangePasswordRequest,
    request: Request,
    response: Response,
    principal: PrincipalDep,
    session: SessionDep,
    codec: CodecDep,
) -> TokenPairRead:
    user = await service.get_user(session, principal.user_id)
    issued = await sessions.change_password(
        session,
        codec,
        user,
        current_password=body.current_password.get_secret_value(),
        new_password=body.new_password.get_secret_value(),
        client=_client(request),
    )
    set_session_cookies(request, response, issued)
    return _pair(issued)


@users_router.get("", response_model=list[UserRead], responses=problem_responses(*AUTH_ERRORS))
async def list_users(_principal: UsersReader, session: SessionDep) -> list[UserRead]:
    return [UserRead.model_validate(user) for user in await service.list_users(session)]


@users_router.post(
    "",
    response_model=UserRead,
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(*AUTH_ERRORS, UsernameTaken, WeakPassword),
)
async def create_user(body: UserCreate, principal: UsersWriter, session: SessionDep) -> UserRead:
    user = await service.create_user(
        session,
        username=body.username,
        password=body.password.get_secret_value(),
        role=body.role,
        actor=principal,
    )
    return UserRead.model_validate(user)


@users_router.delete(
    "/{user_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(*AUTH_ERRORS, UserNotFound, CannotDeleteSelf, LastAdmin),
)
async def delete_user(user_id: uuid.UUID, principal: UsersWriter, session: SessionDep) -> Response:
    await service.delete_user(session, user_id, actor=principal)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@users_router.put(
    "/{user_id}/role",
    response_model=UserRead,
    responses=problem_responses(*AUTH_ERRORS, UserNotFound, LastAdmin),
)
async def update_user_role(
    user_id: uuid.UUID, body: UserRoleUpdate, principal: UsersWriter, session: SessionDep
) -> UserRead:
    return UserRead.model_validate(await service.set_role(session, user_id, body.role, actor=principal))


@users_router.put(
    "/{user_id}/active",
    response_model=UserRead,
    responses=problem_responses(*AUTH_ERRORS, UserNotFound, CannotDeleteSelf, LastAdmin),
)
async def update_user_active(
    user_id: uuid.UUID, body: UserActiveUpdate, principal: UsersWriter, session: SessionDep
) -> UserRead:
    return UserRead.model_validate(
        await service.set_active(session, user_id, body.is_active, actor=principal)
    )
