"""What a SMART Backend Services client does on its side: make keys, publish the public half, sign assertions.

Written the way a client's code is (joserfc, RFC 7523 claims), with no help from the server's modules,
so the tests exercise the server as a real client would.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from urllib.parse import urlencode

from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
TOKEN_PATH = "/accounts/smart/token"
AUDIENCE = "http://testserver" + TOKEN_PATH  # the URL the test client posts to, as a real client names it
FORM = "application/x-www-form-urlencoded"


def rsa_key(kid: str = "rsa-1") -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": kid})


def ec_key(kid: str = "ec-1") -> ECKey:
    return ECKey.generate_key("P-384", parameters={"kid": kid})


def public_jwks(*keys) -> str:
    return json.dumps({"keys": [k.as_dict(private=False) for k in keys]})


def sign(key, client_id: str, *, alg: str | None = None, kid: str | None = None, aud=AUDIENCE, lifetime: int = 240,
         now: float | None = None, **claims) -> str:
    """A client assertion: iss = sub = client_id, aud = token endpoint, exp ahead, a fresh jti."""
    now = int(now if now is not None else time.time())
    alg = alg or ("RS384" if isinstance(key, RSAKey) else "ES384")
    body = {"iss": client_id, "sub": client_id, "aud": aud, "exp": now + lifetime, "iat": now,
            "jti": uuid.uuid4().hex}
    body.update(claims)
    body = {k: v for k, v in body.items() if v is not None}
    header = {"alg": alg, "kid": kid if kid is not None else key.kid, "typ": "JWT"}
    return jwt.encode(header, body, key, algorithms=[alg])


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned(header: dict, claims: dict, signature: bytes = b"") -> str:
    return f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}.{b64(signature)}"


def hs256_with_public_key(key, client_id: str) -> str:
    """The classic key-confusion forgery: HMAC-SHA256 keyed with the client's *public* key."""
    now = int(time.time())
    header = {"alg": "HS256", "kid": key.kid, "typ": "JWT"}
    claims = {"iss": client_id, "sub": client_id, "aud": AUDIENCE, "exp": now + 120, "jti": uuid.uuid4().hex}
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    secret = key.as_pem(private=False)
    return f"{signing_input}.{b64(hmac.new(secret, signing_input.encode(), hashlib.sha256).digest())}"


def token_form(assertion: str, scope: str | None = "system/*.read", **extra) -> str:
    data = {"grant_type": "client_credentials", "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": assertion, "scope": scope}
    data.update(extra)
    return urlencode({k: v for k, v in data.items() if v is not None})


def post_token(client, body: str, content_type: str = FORM):
    return client.post(TOKEN_PATH, data=body, content_type=content_type)


def b64decode_header(assertion: str) -> bytes:
    part = assertion.split(".")[0]
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
