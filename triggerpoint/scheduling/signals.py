"""Signals other apps listen to (the patient's messages in `patient_messages`; apps above: the worklist, the chart).

Each is sent INSIDE the transaction that changed the appointment, so a receiver that writes
rows (an outbox message timed to the appointment) commits or rolls back with the change.
Receivers must be idempotent and must not assume the sender's request.

- ``appointment_booked(appointment)``
- ``appointment_moved(appointment, previous_starts_at, previous_ends_at)``
- ``appointment_cancelled(appointment, reason)``
- ``appointment_status_changed(appointment, previous, status)``: every status change,
  cancellation and no-show included.
"""

from __future__ import annotations

import django.dispatch

appointment_booked = django.dispatch.Signal()
appointment_moved = django.dispatch.Signal()
appointment_cancelled = django.dispatch.Signal()
appointment_status_changed = django.dispatch.Signal()
