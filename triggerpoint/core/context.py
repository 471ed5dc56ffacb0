"""Who is acting, from where, in which request — for audit events.

Services record audit events deep below the view layer; passing the request
through every call would leak HTTP into services. The middleware fills these
context variables instead, and management commands and tasks set them with
`acting_as`.
"""

from __future__ import annotations

import contextlib
import contextvars
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class RequestContext:
    request_id: str
    ip: str | None = None
    actor: Any = None  # a User, or None for the system
    # Refused accesses noted during the request; written by the middleware after the response, outside any
    # transaction the refusal rolled back (see note_refusal). Shared by copies made with dataclasses.replace.
    refusals: list[dict[str, Any]] = field(default_factory=list, compare=False, repr=False)


_current: contextvars.ContextVar[RequestContext | None] = contextvars.ContextVar("triggerpoint_request", default=None)


def current() -> RequestContext:
    ctx = _current.get()
    if ctx is None:
        return RequestContext(request_id=f"sys-{uuid.uuid4().hex[:12]}")
    return ctx


def note_refusal(refusal: dict[str, Any]) -> bool:
    """Keep a refused access for the request's audit; False when there is no request (write it now instead).

    A 403/404 raised inside a service's transaction rolls that transaction back,
    and an audit event written there would vanish with it; the request
    middleware writes noted refusals once the response is ready.
    """
    ctx = _current.get()
    if ctx is None:
        return False
    ctx.refusals.append(refusal)
    return True


def set_context(ctx: RequestContext) -> contextvars.Token:
    return _current.set(ctx)


def reset_context(token: contextvars.Token) -> None:
    _current.reset(token)


@contextlib.contextmanager
def acting_as(actor: Any, request_id: str | None = None, ip: str | None = None) -> Iterator[RequestContext]:
    """Run code (a command, a task) on behalf of `actor` so audit events name them."""
    ctx = RequestContext(request_id=request_id or f"job-{uuid.uuid4().hex[:12]}", ip=ip, actor=actor)
    token = set_context(ctx)
    try:
        yield ctx
    finally:
        reset_context(token)
