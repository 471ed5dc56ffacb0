"""Signals other apps listen to.

- ``screening_created(screening)``: a screening was planned for a procedure day. Sent inside the
  transaction that created it. The schedule (one layer up) listens, so a procedure booked before
  its screening existed still gets its preparation message and questionnaire link once the
  screening is planned, without screening knowing about appointments.
"""

from __future__ import annotations

import django.dispatch

screening_created = django.dispatch.Signal()
