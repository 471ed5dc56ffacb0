"""`triggerpoint worker`: the background worker a clinic runs next to the web servers.

Runs django-tasks' database worker (deliveries, escalation deadlines) and, in
a side thread, the safety-net sweeps every --sweep-every seconds: due outbox
messages whose task was lost, overdue follow-up alerts, expired check-ins
and outcome questionnaires; and each app's `sweeps.sweep()` (core.plugins: the FHIR exports'
expired files and stalled jobs).
Each sweep is idempotent, so running several workers is safe.
"""

from __future__ import annotations

import logging
import threading

from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import close_old_connections

from triggerpoint.core import plugins
from triggerpoint.core.context import acting_as
from triggerpoint.followup import tasks as followup
from triggerpoint.notifications import services as notifications
from triggerpoint.outcomes import outcome_requests

log = logging.getLogger(__name__)


def run_sweeps() -> dict[str, int]:

    with acting_as(None):
        delivered = notifications.deliver_due()
        followed = followup.sweep()
        expired = outcome_requests.expire_lapsed_requests()
        swept: dict[str, int] = {}
        for module in plugins.modules("sweeps"):  # apps above the shell's imports (the FHIR exports' expiry)
            swept.update(module.sweep())
    return {"delivered": sum(delivered.values()), **followed, "expired_outcome_requests": expired, **swept}


class Command(BaseCommand):
    help = "Run background tasks (reminders, paging, escalation) plus periodic safety-net sweeps."

    def add_arguments(self, parser):
        parser.add_argument("--sweep-every", type=int, default=60, help="seconds between sweeps (0 = no sweeps)")
        parser.add_argument("--once", action="store_true", help="run one sweep and exit (for cron or tests)")

    def handle(self, *args, sweep_every: int, once: bool, **options):
        if once:
            self.stdout.write(f"sweep: {run_sweeps()}")
            return
        stop = threading.Event()
        if sweep_every > 0:
            threading.Thread(target=self._sweep_loop, args=(sweep_every, stop), daemon=True).start()
        try:
            call_command("db_worker")
        finally:
            stop.set()

    def _sweep_loop(self, every: int, stop: threading.Event) -> None:
        while not stop.wait(every):
            try:
                close_old_connections()
                run_sweeps()
            except Exception:  # a failed sweep must not kill the worker; the next one retries
                log.exception("worker sweep failed")
            finally:
                close_old_connections()
