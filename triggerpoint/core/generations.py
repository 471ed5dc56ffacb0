"""Generation tokens: invalidating cached things without racing the readers.

Each cached value is stored with the token that was current when it was
computed, and is served only while that token is still current. A writer
renews the token after its change, so a reader that computed from old rows
just before the change stores a value nobody will accept, which a plain
`delete` cannot promise. Value and token come back in one cache round trip.
Tokens are random rather than counted, so two racing writers can never agree
on the next value. They live in the shared cache, like everything they guard.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from django.core.cache import cache

INITIAL = "0"


def _token_key(name: str) -> str:
    return f"tp:generation:{name}"


def read(key: str, name: str) -> tuple[Any, str]:
    """(the value cached at `key` if it was computed under the current token of `name`, else None; that token)."""
    found = cache.get_many([key, _token_key(name)])
    token = found.get(_token_key(name), INITIAL)
    entry = found.get(key)
    if isinstance(entry, tuple) and len(entry) == 2 and entry[0] == token:
        return entry[1], token
    return None, token


def write(key: str, token: str, value: Any, timeout: int) -> None:
    """Cache `value`, computed while `token` (from `read`) was current."""
    cache.set(key, (token, value), timeout)


def renew(names: Iterable[str], keep_for: int | None = None) -> None:
    """New tokens for `names`; `keep_for` seconds must outlast every value cached under an older token."""
    cache.set_many({_token_key(name): uuid.uuid4().hex for name in names}, keep_for)
