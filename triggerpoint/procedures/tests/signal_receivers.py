"""`procedure_signed`'s receivers in other apps, taken off and put back through the signal's public API.

Unit tests of signing run without aftercare's, follow-up's and outcomes' receivers (each app tests
its own; the integration tests keep them all). `only_receivers` disconnects them by the dispatch_uid
their `AppConfig.ready` connected them with, and connects them again afterwards in INSTALLED_APPS
order, so no test reaches into the signal's private receiver list.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from triggerpoint.aftercare.receivers import create_plan_on_signature
from triggerpoint.followup import checkins as followup_checkins
from triggerpoint.outcomes import outcome_requests
from triggerpoint.procedures.signals import procedure_signed

# Every receiver an app connects in its AppConfig.ready, by dispatch_uid, in INSTALLED_APPS order.
RECEIVERS = {
    "aftercare.create_plan_on_signature": create_plan_on_signature,
    "followup.schedule_checkins": followup_checkins.on_procedure_signed,
    "outcomes.schedule_requests": outcome_requests.on_procedure_signed,
}


@contextmanager
def only_receivers(*kept: str) -> Iterator[None]:
    """Run the block with only the `kept` receivers (none: signing sends to nobody but the test's own)."""
    unknown = set(kept) - set(RECEIVERS)
    assert not unknown, f"no such procedure_signed receiver: {sorted(unknown)}"
    for uid in RECEIVERS:
        if uid not in kept:
            assert procedure_signed.disconnect(dispatch_uid=uid), f"{uid} is not connected to procedure_signed"
    try:
        # Nothing else listens (a receiver an app added without listing it here would run in unit tests).
        assert procedure_signed.has_listeners() == bool(kept), (
            "procedure_signed has receivers other than those kept: list the new one in RECEIVERS"
            if not kept else f"{kept} is not connected to procedure_signed"
        )
        yield
    finally:
        for uid in RECEIVERS:
            procedure_signed.disconnect(dispatch_uid=uid)
        for uid, receiver in RECEIVERS.items():
            procedure_signed.connect(receiver, dispatch_uid=uid)
