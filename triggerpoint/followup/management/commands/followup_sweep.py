"""`triggerpoint followup_sweep [--every SECONDS]`: escalate overdue alerts, close expired check-ins.

The per-alert deadline task normally escalates on time; this sweep is the safety net
for a task lost with a crashed worker. With --every it loops (run it next to the worker).
"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand

from triggerpoint.core.context import acting_as
from triggerpoint.followup.tasks import sweep


class Command(BaseCommand):
    help = "Escalate unacknowledged follow-up alerts and mark expired check-ins as missed."

    def add_arguments(self, parser):
        parser.add_argument("--every", type=int, default=0, help="repeat every N seconds (0 = run once)")

    def handle(self, *args, every: int = 0, **options):
        while True:
            with acting_as(None):
                counts = sweep()
            self.stdout.write(f"followup sweep: {counts['escalated']} alert(s) escalated, "
                              f"{counts['missed']} check-in(s) missed")
            if every <= 0:
                return
            time.sleep(every)
