"""The demo clinic's follow-up: rotas, current check-ins made by the receiver, one open and one acknowledged alert."""

from __future__ import annotations

from triggerpoint.followup.models import Alert, CallNote, CheckIn, OnCallSlot
from triggerpoint.shell import demo_clinic as demo


def test_the_demo_has_rotas_current_check_ins_and_an_open_and_an_acknowledged_alert(db):
    ctx = demo.build_demo(patients=24, seed=7, only_apps=("followup",))
    assert [s.user.username for s in OnCallSlot.objects.filter(schedule__clinic=ctx.clinics[0])] == [
        "nurse.okafor", "dr.rivera", "dr.chen"]
    assert OnCallSlot.objects.filter(schedule__clinic=ctx.clinics[1]).count() == 2
    scheduled = CheckIn.objects.filter(kind="scheduled")
    assert scheduled.exists() and scheduled.filter(status="answered").exists()
    assert CheckIn.objects.filter(patient=ctx.portal_patient, status="due").exists()
    assert Alert.objects.filter(status="open", disposition="urgent").count() == 1
    acknowledged = Alert.objects.get(status="acknowledged")
    assert CallNote.objects.filter(alert=acknowledged).exists()
    assert any(note.startswith("followup:") for note in ctx.notes)
