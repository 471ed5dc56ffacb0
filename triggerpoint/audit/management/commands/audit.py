"""`triggerpoint audit verify`: check every audit chain and name the first broken link of each."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from triggerpoint.audit import chain
from triggerpoint.audit.models import AuditChainHead, AuditEvent


class Command(BaseCommand):
    help = (
        "Audit trail tools. `verify` recomputes each clinic's hash chain and reports the first broken link "
        "per chain (an edited, deleted, inserted or re-ordered event); it exits non-zero if any chain is broken."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        verify = sub.add_parser("verify", help="recompute every chain; non-zero exit if one is broken")
        verify.add_argument("--clinic", type=int, default=None, help="check only this clinic's chain (its id)")

    def handle(self, *args, action, **opts):
        getattr(self, f"_{action}")(**opts)

    def _verify(self, clinic=None, **_):
        heads = {head.key: head for head in AuditChainHead.objects.all()}
        events = AuditEvent.objects.all()
        clinic_ids = set(events.order_by().values_list("clinic_id", flat=True).distinct())
        clinic_ids |= {int(key.split(":", 1)[1]) for key in heads if key.startswith("clinic:")}
        if chain.SYSTEM_CHAIN in heads:
            clinic_ids.add(None)
        if clinic is not None:
            clinic_ids = {clinic}
        breaks = []
        for clinic_id in sorted(clinic_ids, key=lambda c: (c is not None, c or 0)):
            key = chain.chain_key(clinic_id)
            head = heads.get(key)
            found = chain.first_break(
                key, chain.iter_chain(events, clinic_id),
                head.last_seq if head else None, head.last_hash if head else None,
            )
            if head is None and found is None and events.filter(clinic_id=clinic_id).exists():
                found = chain.Break(key, None, None, "events exist but the chain head is missing")
            if found is None:
                seq, digest = (head.last_seq, head.last_hash) if head else (0, chain.GENESIS_HASH)
                self.stdout.write(f"OK     {key}: {seq} events, head {digest}")
            else:
                breaks.append(found)
                self.stdout.write(f"BROKEN {found}")
        if breaks:
            raise CommandError(f"{len(breaks)} audit chain(s) broken; the first broken link of each is listed above.")
        self.stdout.write("All audit chains verify.")
