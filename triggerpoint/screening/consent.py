"""The consent form for a planned trigger point procedure.

It states the procedure, each muscle and side, the injectates, whether ultrasound guides
the needle, and the risks in plain words. The general risks of the clinic protocol are
always named; pneumothorax is named when any planned muscle carries that risk in the
atlas, and steroid, botulinum toxin, local anesthetic and dry-needling specifics when
the plan includes them. Risk texts are data (``data/consent_risks.yaml``), so the form's
`version` (the data version) tells which wording the patient signed.

A Spanish-preferring patient gets the form in Spanish (``language="es"``): procedure, guidance,
muscle names (atlas ``muscle_name``), medicine names and risks from ``data/consent_es.yaml``.
The English form is unchanged. A risk added to consent_risks.yaml before its Spanish exists
falls back to English for that risk only (a test fails until the Spanish is written).

Pure module: no Django, no ORM, no HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass

from triggerpoint.atlas.catalog import Atlas, muscle_name
from triggerpoint.catalogues.drugs import DrugCatalog
from triggerpoint.screening.content import load_consent_es, load_consent_risks
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
    language: str = "en"

    def risk_ids(self) -> tuple[str, ...]:
        return tuple(risk.id for risk in self.risks)


def consent_conditions(plan: PlanFacts, atlas: Atlas, drugs: DrugCatalog) -> frozenset[str]:
    """The `applies_when` conditions this plan meets (see data/consent_risks.yaml)."""
    conditions = {"always", f"technique:{plan.technique}"}
    if any(atlas.muscle(site.muscle).pneumothorax_risk for site in plan.sites):
        conditions.add("pneumothorax_site")
    conditions |= {f"drug_class:{drugs.get(injectate.drug).drug_class}" for injectate in plan.injectates}
    return frozenset(conditions)


def build_consent(plan: PlanFacts, atlas: Atlas, drugs: DrugCatalog, language: str = "en") -> ConsentDocument:
    """The consent form for `plan` in `language` (en | es); muscles and drugs named from the catalogues."""
    if language not in ("en", "es"):
        raise ValueError(f"language must be en or es, not {language!r}")
    texts = load_consent_risks()
    conditions = consent_conditions(plan, atlas, drugs)
    spanish = load_consent_es() if language == "es" else None

    def muscle(site) -> str:
        return muscle_name(site.muscle, "es") if spanish else atlas.muscle(site.muscle).name

    def drug(drug_id: str) -> str:
        english = drugs.get(drug_id).name
        return spanish.drugs.get(drug_id, english) if spanish else english

    def risk(entry) -> Risk:
        words = spanish.risks.get(entry.id) if spanish else None
        if words is None:
            return Risk(entry.id, entry.title, entry.text, entry.sources)
        return Risk(entry.id, words["title"], words["plain_text"], entry.sources)

    sites = tuple(dict.fromkeys(ConsentSite(site.muscle, muscle(site), site.side) for site in plan.sites))
    injectates = tuple(dict.fromkeys(drug(drugs.get(injectate.drug).id) for injectate in plan.injectates))
    risks = tuple(risk(entry) for entry in texts.entries if conditions.intersection(entry.applies_when))
    return ConsentDocument(
        procedure=spanish.procedures[plan.technique] if spanish else PROCEDURE_NAMES[plan.technique],
        sites=sites,
        injectates=injectates,
        guidance=plan.guidance,
        guidance_text=spanish.guidance[plan.guidance] if spanish else GUIDANCE_TEXT[plan.guidance],
        risks=risks,
        version=texts.version,
        language=language,
    )
