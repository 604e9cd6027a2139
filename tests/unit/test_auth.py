from __future__ import annotations

from datetime import timedelta

import jwt
import pytest

from shared.platform.http.auth import decode_token, mint_token
from shared.platform.http.problems import Unauthorized
from shared.platform.settings import load_settings

SETTINGS = load_settings("jobs")


def test_minted_token_decodes_to_the_caller() -> None:
    token = mint_token(SETTINGS, user="ann", tenant="acme", roles=["csa", "sales"])
    caller = decode_token(SETTINGS, token)
    assert (caller.user_id, caller.tenant_id, caller.roles) == ("ann", "acme", {"csa", "sales"})


def test_unknown_role_is_refused_when_minting() -> None:
    with pytest.raises(ValueError, match="unknown role"):
        mint_token(SETTINGS, user="ann", tenant="acme", roles=["overlord"])


def test_token_without_tenant_is_refused() -> None:
    token = jwt.encode(
        {"sub": "ann", "iss": SETTINGS.jwt_issuer, "exp": 9999999999},
        SETTINGS.jwt_secret.get_secret_value(),
        "HS256",
    )
    with pytest.raises(Unauthorized, match="tenant"):
        decode_token(SETTINGS, token)


def test_expired_token_is_refused() -> None:
    token = mint_token(
        SETTINGS, user="ann", tenant="acme", roles=["csa"], ttl=timedelta(seconds=-1)
    )
    with pytest.raises(Unauthorized, match="expired"):
        decode_token(SETTINGS, token)


def test_unsigned_token_is_refused() -> None:
    token = jwt.encode(
        {
            "sub": "ann",
            "tenant": "acme",
            "roles": ["admin"],
            "iss": SETTINGS.jwt_issuer,
            "exp": 9999999999,
        },
        None,
        "none",
    )
    with pytest.raises(Unauthorized):
        decode_token(SETTINGS, token)


def test_unknown_roles_in_a_token_grant_nothing() -> None:
    token = jwt.encode(
        {
            "sub": "ann",
            "tenant": "acme",
            "roles": ["csa", "root"],
            "iss": SETTINGS.jwt_issuer,
            "exp": 9999999999,
        },
        SETTINGS.jwt_secret.get_secret_value(),
        "HS256",
    )
    assert decode_token(SETTINGS, token).roles == {"csa"}


@pytest.mark.parametrize(
    ("claim", "value"),
    [("sub", "u" * 101), ("sub", "a\x00b"), ("tenant", "t" * 101), ("tenant", "a\x00")],
)
def test_a_user_or_tenant_no_row_could_hold_is_refused(claim: str, value: str) -> None:
    claims = {"sub": "ann", "tenant": "acme", "iss": SETTINGS.jwt_issuer, "exp": 9999999999}
    claims[claim] = value
    token = jwt.encode(claims, SETTINGS.jwt_secret.get_secret_value(), "HS256")
    with pytest.raises(Unauthorized, match=claim):
        decode_token(SETTINGS, token)
    with pytest.raises(ValueError, match="1-100"):
        mint_token(SETTINGS, user=claims["sub"], tenant=claims["tenant"], roles=["csa"])
