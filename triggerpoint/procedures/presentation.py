"""What the note pages show: names instead of ids, display numbers, the checks as rows.

Shared by the editor, the note page and the PDF so they always agree. No decisions
here — those are in `draft`, `dosing` and `coding`.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from django.db.models import F
from django.urls import reverse

from triggerpoint.atlas.catalog import load_atlas
from triggerpoint.catalogues.drugs import load_drugs
from triggerpoint.patients.selectors import surviving_chart
from triggerpoint.procedures import note_reads
from triggerpoint.procedures.coding import REPEAT_RULE_IDS
from triggerpoint.procedures.models import (
    Complication,
    DischargeCondition,
    Procedure,
    SiteMarked,
    SkinPrep,
    SterileTechnique,
)

PDF_CSS = Path(__file__).resolve().parent / "static" / "procedures" / "note_pdf.css"
COMPLICATION_CHOICES = list(Complication.choices)
DISCHARGE_CHOICES = list(DischargeCondition.choices)
COMPLICATION_LABELS = dict(Complication.choices)
SITE_MARKED_CHOICES = list(SiteMarked.choices)
SKIN_PREP_CHOICES = list(SkinPrep.choices)
STERILE_TECHNIQUE_CHOICES = list(SterileTechnique.choices)


def muscle_catalog(atlas) -> list[dict[str, Any]]:
    return [
        {
            "id": muscle.id,
            "name": muscle.name,
            "region": muscle.region,
            "body_region": muscle.body_region,
            "pneumothorax_risk": muscle.pneumothorax_risk,
            "ultrasound_advised": muscle.ultrasound_advised,
            "needle_depth": muscle.needle_depth,
        }
        for muscle in sorted(atlas.muscles.values(), key=lambda m: m.name)
    ]


def drug_catalog() -> list[dict[str, str]]:
    drugs = load_drugs()
    return [
        {"id": drug_id, "name": drugs.get(drug_id).name, "drug_class": drugs.get(drug_id).drug_class}
        for drug_id in drugs.ids
    ]


def muscle_name(muscle_id: str, atlas=None) -> str:
    if atlas is None:
        atlas = load_atlas()
    return atlas.muscle(muscle_id).name if atlas.has_muscle(muscle_id) else muscle_id.replace("_", " ")


def drug_name(drug_id: str) -> str:
    try:
        return load_drugs().get(drug_id).name
    except KeyError:
        return drug_id


def planned_sites(assessment, atlas) -> list[dict[str, str]]:
    """The muscles planned at the linked assessment, offered as one-click sites."""
    if assessment is None:
        return []
    rows = []
    for item in assessment.planned_sites or []:
        muscle, side = item.get("muscle"), item.get("side")
        if isinstance(muscle, str) and atlas.has_muscle(muscle) and side in ("left", "right"):
            rows.append({"muscle": muscle, "side": side, "name": atlas.muscle(muscle).name})
    return rows


def links(procedure: Procedure) -> dict[str, Any]:
    screening, consent, assessment = procedure.screening, procedure.consent, procedure.assessment
    return {
        "screening": screening,
        "screening_status": getattr(screening, "status", None),
        "screening_label": screening.get_status_display() if screening else None,
        "consent": consent,
        "consent_signed": bool(consent and consent.is_signed),
        "assessment": assessment,
    }


def number(value) -> str:
    """A clinical number without trailing zeros: 2.00 -> 2, 0.25 -> 0.25."""
    if value is None or value == "":
        return ""
    text = f"{Decimal(str(value)).normalize():f}"
    return text


def concentration(row: dict[str, Any]) -> str:
    if row.get("concentration_percent") is not None:
        return f"{number(row['concentration_percent'])} %"
    if row.get("concentration_mg_per_ml") is not None:
        return f"{number(row['concentration_mg_per_ml'])} mg/mL"
    if row.get("concentration_units_per_ml") is not None:
        return f"{number(row['concentration_units_per_ml'])} units/mL"
    return "—"


def _named_codes(codes: dict[str, Any] | None, atlas) -> dict[str, Any] | None:
    """The codes with muscle names for display ("left upper_trapezius" -> "Left Upper trapezius"); a copy."""
    if not codes:
        return codes
    named = dict(codes)
    named["cpt"] = []
    for line in codes.get("cpt", []):
        labels = []
        for label in line.get("muscles", []):
            side, _, muscle = label.partition(" ")
            labels.append(f"{side.capitalize()} {muscle_name(muscle, atlas).lower()}")
        named["cpt"].append(dict(line, muscle_names=labels))
    return named


def _dose_row(item: dict[str, Any]) -> dict[str, Any]:
    """One dose item for display; a toxin's share of its per-session maximum is shown in units."""
    fraction = item.get("fraction_of_max")
    max_units, total_units = item.get("max_units"), item.get("total_units")
    if fraction is None and max_units and total_units is not None:
        fraction = total_units / max_units
    return {
        **item,
        "name": drug_name(item["drug"]),
        "percent": None if fraction is None else round(fraction * 100),
        "bar": None if fraction is None else min(100, round(fraction * 100 / 5) * 5),
        "over": fraction is not None and fraction > 1,
        "of_label": f"{max_units} units" if max_units else f"{item.get('max_mg')} mg",
    }


def live_context(checks, atlas) -> dict[str, Any]:
    """The dose rows (with a 0-100 % bar), combined fraction, code lines and warnings for display."""
    dose = checks.dose.as_dict() if checks.dose else None
    rows = [_dose_row(item) for item in dose["items"]] if dose else []
    combined = dose["combined_local_anesthetic_fraction"] if dose else None
    codes = _named_codes(checks.codes.as_dict() if checks.codes else None, atlas)
    return {
        "dose": dose,
        "dose_rows": rows,
        "local_anesthetic_rows": sum(1 for row in rows if row.get("drug_class", "").endswith("local_anesthetic")),
        "combined_percent": None if combined is None else round(combined * 100),
        "combined_bar": None if combined is None else min(100, round(combined * 100 / 5) * 5),
        "dose_findings": [f for f in (dose or {}).get("findings", [])],
        "dose_blocks": bool(dose and dose["blocks_signing"]),
        "dose_missing": list(checks.dose_missing),
        "codes": codes,
        "codes_problems": list(checks.codes_problems),
        "diagnosis_problems": list(checks.diagnosis_problems),
        "repeat_findings": [f.as_dict() for f in checks.repeat_findings],
    }


def stored_live_context(procedure: Procedure) -> dict[str, Any]:
    """For a signed note: the dose check and codes as stored at signing (what the software said then)."""
    dose = procedure.dose_check
    rows = [_dose_row(item) for item in (dose or {}).get("items", [])]
    combined = (dose or {}).get("combined_local_anesthetic_fraction")
    return {
        "dose": dose,
        "dose_rows": rows,
        "local_anesthetic_rows": sum(1 for row in rows if row.get("drug_class", "").endswith("local_anesthetic")),
        "combined_percent": None if combined is None else round(combined * 100),
        "combined_bar": None if combined is None else min(100, round(combined * 100 / 5) * 5),
        "dose_findings": (dose or {}).get("findings", []),
        "dose_blocks": bool(dose and dose.get("blocks_signing")),
        "dose_missing": [],
        "codes": _named_codes(procedure.codes, None),
        "codes_problems": [],
        "diagnosis_problems": [],
        "repeat_findings": [w for w in (procedure.codes or {}).get("warnings", []) if w.get("rule") in REPEAT_RULE_IDS],
    }


def note_context(procedure: Procedure) -> dict[str, Any]:
    """Everything the note page and the PDF print."""
    atlas = load_atlas()
    document = note_reads.note_document(procedure)
    sites = []
    for index, site in enumerate(document["sites"]):
        muscle = atlas.muscle(site["muscle"]) if atlas.has_muscle(site["muscle"]) else None
        sites.append(
            {
                **site,
                "number": index + 1,
                "name": muscle.name if muscle else site["muscle"],
                "pneumothorax_risk": bool(muscle and muscle.pneumothorax_risk),
                "technique_label": "Dry needling" if site["technique"] == "dry_needling" else "Injection",
                "twitch_label": {True: "Yes", False: "No", None: "—"}[site["local_twitch"]],
                "needle": " ".join(
                    part
                    for part in (
                        f"{site['needle_gauge']} G" if site["needle_gauge"] else "",
                        f"{site['needle_length_mm']} mm" if site["needle_length_mm"] else "",
                    )
                    if part
                )
                or "—",
                "mix_label": _site_mix_label(site, document),
            }
        )
    given = []
    receiving = sum(1 for s in document["sites"] if s["uses_shared_mix"] and s["technique"] == "injection")
    # The shared mix first, then each site's own injectates in site order.
    for row in procedure.injectates.select_related("site").order_by(F("site_id").asc(nulls_first=True), "id"):
        given.append(
            {
                "drug": drug_name(row.drug),
                "concentration": concentration(
                    {
                        "concentration_percent": row.concentration_percent,
                        "concentration_mg_per_ml": row.concentration_mg_per_ml,
                        "concentration_units_per_ml": row.concentration_units_per_ml,
                    }
                ),
                "with_epinephrine": row.with_epinephrine,
                "where": (
                    f"Shared mix: {number(row.ml_per_site)} mL × {receiving} site{'s' if receiving != 1 else ''}"
                    if row.site_id is None
                    else f"{row.site.side.title()} {muscle_name(row.site.muscle, atlas)}"
                ),
                "volume_ml": number(row.volume_ml),
                "dose": (
                    f"{number(row.dose_mg)} mg"
                    if row.dose_mg is not None
                    else f"{number(row.dose_units)} units" if row.dose_units is not None else "—"
                ),
                "lot_number": row.lot_number or "—",
                "expiry": row.expiry,
            }
        )
    checks = stored_live_context(procedure) if procedure.is_signed else live_context(note_reads.checks_for(procedure), atlas)
    techniques = {site["technique"] for site in document["sites"]}
    procedure_label = {
        frozenset({"dry_needling"}): "Dry needling of trigger points",
        frozenset({"injection", "dry_needling"}): "Trigger point injection and dry needling",
    }.get(frozenset(techniques), "Trigger point injection")
    return {
        "patient": procedure.patient,
        "procedure": procedure,
        "procedure_label": procedure_label,
        "clinic_zone": procedure.clinic.zone,
        "document": document,
        "sites": sites,
        "given": given,
        "live": checks,
        "links": links(procedure),
        "complications": [COMPLICATION_LABELS.get(c, c) for c in document["complications"]],
        "amendments": list(procedure.amendments.select_related("author")),
        "allergies": list(surviving_chart(procedure.patient).allergies.all()),  # moved there by a merge
        "images": guidance_images(procedure),
    }


def guidance_images(procedure: Procedure) -> list[dict[str, Any]]:
    """The note's ultrasound stills; `src` is the access-controlled view (the PDF swaps in a data: URI)."""
    return [
        {
            "image": image,
            "src": reverse("procedures:image", args=[procedure.patient.public_id, procedure.public_id, image.public_id]),
        }
        for image in procedure.images.select_related("uploaded_by")
    ]


def _site_mix_label(site: dict[str, Any], document: dict[str, Any]) -> str:
    if site["technique"] != "injection":
        return "—"
    if not site["uses_shared_mix"] or not document["mix"]:
        return "No shared mix"
    standard = sum(Decimal(str(c["ml_per_site"])) for c in document["mix"] if c["ml_per_site"] is not None)
    volume = site["mix_volume_ml"] if site["mix_volume_ml"] is not None else standard
    return f"{number(volume)} mL"
