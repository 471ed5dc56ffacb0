"""Whether a procedure included botulinum toxin, read from its injectates.

Triage needs this for the 12-week toxin-spread window (triage_signs.TRI-TOXIN-SPREAD) and the
check-in form shows the toxin-spread checkboxes only when it may apply. Kept here, small, so
follow-up does not depend on a procedures selector that another branch may add; the drug
class comes from the procedures app's drug catalogue, the one place drug classes live.
"""

from __future__ import annotations

from triggerpoint.catalogues.drugs import load_drugs

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
