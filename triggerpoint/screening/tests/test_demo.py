"""The demo clinic's screenings: every status shows up, decided by the rules, plus an override and signed consents."""

from __future__ import annotations

from triggerpoint.screening.models import Consent, ScreeningRecord
from triggerpoint.shell import demo_clinic as demo


def test_the_demo_has_screenings_in_every_status_an_override_and_signed_consents(db):
    ctx = demo.build_demo(patients=40, seed=7, only_apps=("screening",))
    statuses = set(ScreeningRecord.objects.values_list("status", flat=True))
    assert {"ready", "review", "defer", "contraindicated", "pending"} <= statuses
    assert ScreeningRecord.objects.filter(overridden_at__isnull=False).count() == 1
    assert Consent.objects.filter(signed_at__isnull=False).count() == 2
    assert ScreeningRecord.objects.filter(patient=ctx.portal_patient, status="pending").exists()
    note = next(note for note in ctx.notes if note.startswith("screening:"))
    assert "2 signed consents" in note

