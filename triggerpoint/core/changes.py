"""One signal for "these patients' records changed" where Django's model signals do not fire.

`post_save`/`post_delete` tell every listener about a change made through a model instance. A write made
with `QuerySet.update()`, `bulk_create()` or raw SQL tells nobody, so an app that writes a patient's records
that way (the outbox's delivery states, the check-in and alert claims) sends this after the write:

    patient_records_changed.send(sender=Notification, patient_ids=[note.patient_id])

Listeners (the chart timeline's cache, `patients.timeline`) must be cheap and must not fail the writer.
It lives in the kernel so that any app can send it without depending on who listens.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.dispatch import Signal

patient_records_changed = Signal()  # kwargs: patient_ids (an iterable of Patient primary keys)

# Sent by `ClinicalRecord.save_versioned` (a conditional UPDATE, so no post_save) after a successful write;
# kwargs: instance. Listeners treat it like post_save.
versioned_record_saved = Signal()


def records_changed(sender: type, patient_ids: Iterable[int | None]) -> None:
    """Tell the listeners that these patients' records were written without model signals."""
    ids = sorted({pid for pid in patient_ids if pid is not None})
    if ids:
        patient_records_changed.send(sender=sender, patient_ids=ids)
