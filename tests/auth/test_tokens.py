"""Forged and misused tokens are refused with 401: alg none, wrong key, expired, wrong typ/aud/iss."""

import base64
import json
import warnings
from collections.abc import Callable
from typing import Any

import httpx
import jwt
import pytest
from fastapi import FastAPI

from photochanger.auth.exceptions import InvalidToken
from photochanger.auth.tokens import AUDIENCE, ISSUER, TokenCodec
from photochanger.config import AppConfig
from photochanger.core.time import utcnow
from tests.support.auth import bearer, create_user, login


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _alg_none(claims: dict[str, Any], _secret: str) -> str:
    return f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."


def _signed(**changes: Any) -> Callable[[dict[str, Any], str], str]:
    def forge(claims: dict[str, Any], secret: str) -> str:
        updated = {**claims, **changes}
        return jwt.encode({k: v for k, v in updated.items() if v is not None}, secret, algorithm="HS256")

    return forge


def _wrong_key(claims: dict[str, Any], _secret: str) -> str:
    return jwt.encode(claims, "another-secret-" + "y" * 40, algorithm="HS256")


def _hs512(claims: dict[str, Any], secret: str) -> str:
    with warnings.catch_warnings():  # PyJWT warns that the key is short for SHA-512; irrelevant to a forgery
        warnings.simplefilter("ignore")
        return jwt.encode(claims, secret, algorithm="HS512")


def _tampered_payload(claims: dict[str, Any], secret: str) -> str:
    header, _, signature = jwt.encode(claims, secret, algorithm="HS256").split(".")
    return f"{header}.{_b64({**claims, 'permissions': ['users:write']})}.{signature}"


FORGERIES: dict[str, Callable[[dict[str, Any], str], str]] = {
    "alg none": _alg_none,
    "wrong key": _wrong_key,
    "other algorithm": _hs512,
    "tampered payload": _tampered_payload,
    "expired": _signed(exp=1_000_000_000),
    "typ refresh": _signed(typ="refresh"),
    "no typ": _signed(typ=None),
    "wrong aud": _signed(aud="someone-else"),
    "no aud": _signed(aud=None),
    "wrong iss": _signed(iss="evil"),
    "no jti": _signed(jti=None),
    "old token version": _signed(ver=0),
    "unknown user": _signed(sub="00000000-0000-0000-0000-000000000000"),
    "sub not a uuid": _signed(sub="admin"),
    "unknown family": _signed(fam="f" * 32),
}


@pytest.mark.parametrize("forgery", list(FORGERIES))
async def test_forged_access_tokens_are_401(
    app: FastAPI, client: httpx.AsyncClient, config: AppConfig, forgery: str
) -> None:
    await create_user(app, "serg")
    tokens = await login(client, "serg")
    claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    # The genuine token works, so each refusal below is down to the one thing forged.
    assert (await client.get("/api/auth/me", headers=bearer(tokens["access_token"]))).status_code == 200
    secret = config.resolved_jwt_secret()
    forged = FORGERIES[forgery](claims, secret)
    response = await client.get("/api/auth/me", headers=bearer(forged))
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_token"


@pytest.mark.parametrize("forgery", ["alg none", "wrong key", "expired", "wrong aud", "typ access"])
async def test_forged_refresh_tokens_are_401(
    app: FastAPI, client: httpx.AsyncClient, config: AppConfig, forgery: str
) -> None:
    await create_user(app, "serg")
    tokens = await login(client, "serg")
    claims = jwt.decode(tokens["refresh_token"], options={"verify_signature": False})
    forge = _signed(typ="access") if forgery == "typ access" else FORGERIES[forgery]
    forged = forge(claims, config.resolved_jwt_secret())
    response = await client.post("/api/auth/refresh", json={"refresh_token": forged})
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_token"


def test_codec_round_trip_and_claims() -> None:
    codec = TokenCodec("s" * 48)
    now = utcnow()
    token, jti = codec.encode_access(
        user_id="u1", family_id="fam", version=3, permissions=["b", "a"], now=now
    )
    claims = jwt.decode(token, "s" * 48, algorithms=["HS256"], audience=AUDIENCE, issuer=ISSUER)
    assert claims["typ"] == "access"
    assert claims["permissions"] == ["a", "b"]
    assert claims["exp"] - claims["iat"] == 900
    decoded = codec.decode_access(token, now=now)
    assert (decoded.user_id, decoded.jti, decoded.family_id, decoded.version) == ("u1", jti, "fam", 3)
    with pytest.raises(InvalidToken):
        codec.decode_refresh(token, now=now)
    with pytest.raises(InvalidToken):
        TokenCodec("t" * 48).decode_access(token, now=now)
