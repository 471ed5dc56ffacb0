"""Signals other modules listen to.

`procedure_signed` is sent INSIDE the signing transaction
(`procedure_signed.send(sender=Procedure, procedure=procedure)`) so receivers —
aftercare plan and reminders, follow-up check-ins, outcome requests — write their
rows atomically with the signature. Receivers must be idempotent.
"""

from __future__ import annotations

import django.dispatch

procedure_signed = django.dispatch.Signal()
