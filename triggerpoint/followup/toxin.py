"""Whether a procedure included botulinum toxin, read from its injectates.

Triage needs this for the 12-week toxin-spread window (triage_signs.TRI-TOXIN-SPREAD) and the
check-in form shows the toxin-spread checkboxes only when it may apply. Kept here, small, so
follow-up does not depend on a procedures selector that another branch may add; the drug
class comes from the procedures app's drug catalogue, the one place drug classes live.

Follow-up reads a patient's notes of one procedure date as one episode (`procedures_of_day`,
`day_included_toxin`): one set of check-ins asks about all of them.
"""

from __future__ import annotations

from triggerpoint.catalogues.drugs import load_drugs
from triggerpoint.patients.selectors import chart_ids
from triggerpoint.procedures.selectors import signed_procedures

BOTULINUM_TOXIN_CLASS = "botulinum_toxin"


def procedure_included_toxin(procedure) -> bool | None:
    """True if any injectate is a botulinum toxin, False if none is, None if a drug is unknown.

    None ("cannot tell") makes triage treat toxin as possible, which is the safe reading.
    """
    drugs = load_drugs()
    unknown = False
    for drug_id in procedure.injectates.values_list("drug", flat=True):
        if drug_id not in drugs.drugs:
            unknown = True
            continue
        if drugs.get(drug_id).drug_class == BOTULINUM_TOXIN_CLASS:
            return True
    return None if unknown else False


def procedures_of_day(procedure) -> list:
    """The patient's signed notes of this note's procedure date, first signed first (this note always among them).

    Follow-up treats one patient's day as one episode: two notes of one day (other muscles, a second
    session) share one set of check-ins, and triage, the report window and the summaries read every
    note of the day, so a warning the second note needs (its toxin, its chest-wall site) is not lost.
    """
    notes = list(
        signed_procedures(patient_id__in=chart_ids(procedure.patient_id), procedure_date=procedure.procedure_date)
        .select_related("performed_by")
        .order_by("signed_at", "id")
    )
    if all(note.pk != procedure.pk for note in notes):
        notes.insert(0, procedure)
    return notes


def day_included_toxin(procedure) -> bool | None:
    """`procedure_included_toxin` over every note of the procedure's day: True if any had toxin, None if any cannot tell."""
    answers = [procedure_included_toxin(note) for note in procedures_of_day(procedure)]
    if True in answers:
        return True
    return None if None in answers else False
