"""The consent form for a planned trigger point procedure.

It states the procedure, each muscle and side, the injectates, whether ultrasound guides
the needle, and the risks in plain words. The general risks of the clinic protocol are
always named; pneumothorax is named when any planned muscle carries that risk in the
atlas, and steroid, botulinum toxin, local anesthetic and dry-needling specifics when
the plan includes them. Risk texts are data (``data/consent_risks.yaml``), so the form's
`version` (the data version) tells which wording the patient signed.

Pure module: no Django, no ORM, no HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass

from triggerpoint.atlas.catalog import Atlas
from triggerpoint.procedures.drugs import DrugCatalog
from triggerpoint.screening.content import load_consent_risks
from triggerpoint.screening.rules import PlanFacts

PROCEDURE_NAMES = {
    "injection": "Trigger point injection",
    "dry_needling": "Trigger point dry needling",
}
GUIDANCE_TEXT = {
    "ultrasound": "The needle will be guided by ultrasound.",
    "landmark": "The needle will be placed by feel, without ultrasound.",
}


@dataclass(frozen=True)
class Risk:
    id: str
    title: str
    plain_text: str
    sources: tuple[str, ...] = ()


@dataclass(frozen=True)
class ConsentSite:
    muscle: str  # atlas id
    muscle_name: str
    side: str


@dataclass(frozen=True)
class ConsentDocument:
    procedure: str
    sites: tuple[ConsentSite, ...]
    injectates: tuple[str, ...]  # drug names, in plan order
    guidance: str  # landmark | ultrasound
    guidance_text: str
    risks: tuple[Risk, ...]
    version: int

    def risk_ids(self) -> tuple[str, ...]:
        return tuple(risk.id for risk in self.risks)


def consent_conditions(plan: PlanFacts, atlas: Atlas, drugs: DrugCatalog) -> frozenset[str]:
    """The `applies_when` conditions this plan meets (see data/consent_risks.yaml)."""
    conditions = {"always", f"technique:{plan.technique}"}
    if any(atlas.muscle(site.muscle).pneumothorax_risk for site in plan.sites):
        conditions.add("pneumothorax_site")
    conditions |= {f"drug_class:{drugs.get(injectate.drug).drug_class}" for injectate in plan.injectates}
    return frozenset(conditions)


def build_consent(plan: PlanFacts, atlas: Atlas, drugs: DrugCatalog) -> ConsentDocument:
    """The consent form for `plan`; muscles and drugs are named from the atlas and the drug catalogue."""
    texts = load_consent_risks()
    conditions = consent_conditions(plan, atlas, drugs)
    sites = tuple(
        dict.fromkeys(ConsentSite(site.muscle, atlas.muscle(site.muscle).name, site.side) for site in plan.sites)
    )
    injectates = tuple(dict.fromkeys(drugs.get(injectate.drug).name for injectate in plan.injectates))
    risks = tuple(
        Risk(entry.id, entry.title, entry.text, entry.sources)
        for entry in texts.entries
        if conditions.intersection(entry.applies_when)
    )
    return ConsentDocument(
        procedure=PROCEDURE_NAMES[plan.technique],
        sites=sites,
        injectates=injectates,
        guidance=plan.guidance,
        guidance_text=GUIDANCE_TEXT[plan.guidance],
        risks=risks,
        version=texts.version,
    )
