"""A synthetic outcome registry: signed procedures with sites, injectates and outcome measurements, fast.

Used by ``triggerpoint demo`` (a few hundred procedures for the normal demo,
``--procedures N`` for registry scale) and by ``bench/outcomes_bench.py``.
Everything is drawn with numpy from one seed, column by column, and written
with :mod:`bulk` (COPY on PostgreSQL), so a million procedures and five million
measurements take minutes, not hours.

The simulated effects are deliberately modest and in the direction the
literature leans (``shared/domain/tpi-clinical-facts.md`` §7): ultrasound
guidance and lidocaine slightly better, dry needling a little worse on relief
and with more post-needling soreness, fibromyalgia clearly worse, and a
practitioner effect. They exist so the dashboard shows differences; they are
not evidence.

A signed note's sites and injectates cannot be inserted once the note is
signed (database triggers). The registry writes the children first and the
signed notes after them in the same transaction; the foreign keys are checked
at commit (Django declares them deferrable), so the end state is exactly what
signing produces.

Here: the drawing and writing (``generate``). The parameters and the population are in
``registry_population``, the vectorised outcome rows in ``registry_summary``; neither
imports this module.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

import numpy as np
from tqdm import tqdm

from triggerpoint.catalogues import instruments as inst
from triggerpoint.outcomes import bulk
from triggerpoint.outcomes.models import Measurement, ProcedureOutcome
from triggerpoint.outcomes.registry_population import (
    BASE_RELIEF,
    CONDITIONS,
    DRY_NEEDLING_IMMEDIATE,
    DRY_NEEDLING_SHARE,
    DRY_NEEDLING_SHIFT,
    FOLLOW_UPS,
    MIXES,
    PAYERS,
    RELIEF_TAU_DAYS,
    SPAN_DAYS,
    ULTRASOUND_SHARE,
    ULTRASOUND_SHIFT,
    Practitioner,
    weighted_choice,
)
from triggerpoint.outcomes.registry_summary import vectorised_summary
from triggerpoint.procedures.selectors import note_tables


@dataclass
class RegistryResult:
    patients: int = 0
    procedures: int = 0
    sites: int = 0
    injectates: int = 0
    measurements: int = 0
    procedure_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))


def _group_rank(keys: np.ndarray) -> np.ndarray:
    """0, 1, 2... within each run of equal keys (keys sorted)."""
    starts = np.r_[0, np.flatnonzero(np.diff(keys)) + 1]
    lengths = np.diff(np.r_[starts, len(keys)])
    return np.arange(len(keys)) - np.repeat(starts, lengths)


def generate(
    *,
    seed: int,
    today: date,
    n_procedures: int,
    patient_ids: np.ndarray,
    patient_clinics: np.ndarray,
    practitioners: Sequence[Practitioner],
    span_days: int = SPAN_DAYS,
    latest_days_ago: int = 1,
    show_progress: bool = True,
    progress_label: str = "outcome registry",
) -> RegistryResult:
    """Draw and insert ``n_procedures`` signed procedures with their sites, injectates and measurements.

    Also writes each procedure's ``ProcedureOutcome`` row (vectorised form of
    ``summary.summarize``; a test checks both agree). Rollups are rebuilt by the caller.
    """
    rng = np.random.default_rng(seed)
    n = n_procedures
    result = RegistryResult()
    if n <= 0:
        return result
    today64 = np.datetime64(today)

    # --- who and when --------------------------------------------------------------------------
    n_patients = len(patient_ids)
    patient_index = np.sort(rng.integers(0, n_patients, n))
    rank = _group_rank(patient_index)
    gaps = rng.integers(42, 150, n)
    gaps[rank == 0] = 0
    offset = np.cumsum(gaps)
    group_start = np.maximum.accumulate(np.where(rank == 0, offset, 0))
    within = offset - group_start  # days since the patient's first procedure in this draw
    span_of_patient = np.zeros(n_patients, dtype=np.int64)
    np.maximum.at(span_of_patient, patient_index, within)
    latest_start = np.maximum(span_days - span_of_patient, 1)
    first_day_ago = latest_days_ago + span_of_patient + (rng.random(n_patients) * latest_start).astype(np.int64)
    days_ago = first_day_ago[patient_index] - within
    procedure_day = today64 - days_ago.astype("timedelta64[D]")
    is_last = np.r_[patient_index[1:] != patient_index[:-1], True]
    next_gap = np.r_[np.diff(days_ago) * -1, 0]
    next_gap = np.where(is_last, 10**6, next_gap)  # days until the patient's next procedure

    pid = np.asarray(patient_ids)[patient_index]
    clinic = np.asarray(patient_clinics)[patient_index]

    # practitioner: mostly the patient's own physician within the clinic
    by_clinic: dict[int, list[Practitioner]] = {}
    for practitioner in practitioners:
        by_clinic.setdefault(practitioner.clinic_id, []).append(practitioner)
    clinician = np.zeros(n, dtype=np.int64)
    clinician_shift = np.zeros(n)
    ultrasound_share = np.full(n, ULTRASOUND_SHARE)
    own_pick = rng.integers(0, 1 << 30, n_patients)[patient_index]
    any_pick = rng.integers(0, 1 << 30, n)
    sticky = rng.random(n) < 0.75
    for clinic_id, people in by_clinic.items():
        mask = clinic == clinic_id
        choice = np.where(sticky[mask], own_pick[mask], any_pick[mask]) % len(people)
        clinician[mask] = np.asarray([p.user_id for p in people])[choice]
        clinician_shift[mask] = np.asarray([p.relief_shift for p in people])[choice]
        ultrasound_share[mask] = np.asarray([p.ultrasound_share for p in people])[choice]
    if not np.all(np.isin(clinic, list(by_clinic))):
        raise ValueError("every clinic of the registry patients needs at least one practitioner")

    # --- what was treated --------------------------------------------------------------------------
    patient_condition = weighted_choice(rng, [c[1] for c in CONDITIONS], n_patients)
    condition = patient_condition[patient_index]
    n_muscles = 1 + weighted_choice(rng, [0.32, 0.36, 0.22, 0.10], n)
    muscle_names: list[str] = []
    proc_of_site: list[np.ndarray] = []
    muscle_of_site: list[np.ndarray] = []
    muscles_json = np.empty(n, dtype=object)
    for ci, (_code, _w, muscles, _shift) in enumerate(CONDITIONS):
        rows = np.flatnonzero(condition == ci)
        if len(rows) == 0:
            continue
        names = [m for m, _ in muscles]
        weights = np.log(np.asarray([w for _, w in muscles]))
        keys = weights + rng.gumbel(size=(len(rows), len(names)))
        order = np.argsort(-keys, axis=1)
        k = np.minimum(n_muscles[rows], len(names))
        base = len(muscle_names)
        muscle_names.extend(names)
        for width in range(1, len(names) + 1):
            sel = k == width
            if not sel.any():
                continue
            picked = np.sort(order[sel, :width], axis=1)
            proc_of_site.append(np.repeat(rows[sel], width))
            muscle_of_site.append((picked + base).ravel())
            labels = np.asarray(names)[picked]
            muscles_json[rows[sel]] = [json.dumps(sorted(set(row))) for row in labels.tolist()]
    site_proc = np.concatenate(proc_of_site)
    site_muscle = np.asarray(muscle_names)[np.concatenate(muscle_of_site)]
    bilateral = rng.random(len(site_proc)) < 0.35
    first_side = np.where(rng.random(len(site_proc)) < 0.5, "left", "right")
    side = np.r_[first_side, np.where(first_side[bilateral] == "left", "right", "left")]
    site_proc = np.r_[site_proc, site_proc[bilateral]]
    site_muscle = np.r_[site_muscle, site_muscle[bilateral]]
    order = np.argsort(site_proc, kind="stable")
    site_proc, site_muscle, side = site_proc[order], site_muscle[order], side[order]
    position = _group_rank(site_proc)

    dry = rng.random(n) < DRY_NEEDLING_SHARE
    mix = weighted_choice(rng, [m[1] for m in MIXES], n)
    technique = np.where(dry, "dry_needling", "injection")
    guidance = np.where(rng.random(n) < ultrasound_share, "ultrasound", "landmark")
    sites_per_proc = np.bincount(site_proc, minlength=n)

    injectate_proc: list[np.ndarray] = []
    injectate_drug: list[np.ndarray] = []
    injectate_conc: list[tuple[np.ndarray, str, float]] = []
    injectates_json = np.full(n, '["dry_needling"]', dtype=object)
    immediate = np.full(n, DRY_NEEDLING_IMMEDIATE)
    mix_shift = np.full(n, DRY_NEEDLING_SHIFT)
    for mi, (drugs, _w, imm, shift) in enumerate(MIXES):
        rows = np.flatnonzero((mix == mi) & ~dry)
        if len(rows) == 0:
            continue
        immediate[rows] = imm
        mix_shift[rows] = shift
        injectates_json[rows] = json.dumps(sorted({d for d, _, _ in drugs}))
        for drug, unit, strength in drugs:
            injectate_proc.append(rows)
            injectate_drug.append(np.full(len(rows), drug))
            injectate_conc.append((rows, unit, strength))
    inj_proc = np.concatenate(injectate_proc) if injectate_proc else np.zeros(0, dtype=np.int64)
    inj_drug = np.concatenate(injectate_drug) if injectate_drug else np.zeros(0, dtype=str)
    inj_unit = np.concatenate([np.full(len(r), u) for r, u, _ in injectate_conc]) if injectate_conc else np.zeros(0)
    inj_strength = np.concatenate([np.full(len(r), s) for r, _, s in injectate_conc]) if injectate_conc else np.zeros(0)

    # --- how it went ---------------------------------------------------------------------------
    condition_shift = np.asarray([c[3] for c in CONDITIONS])[condition]
    patient_effect = rng.normal(0, 0.12, n_patients)[patient_index]
    fibro = np.asarray([c[0] == "M79.7" for c in CONDITIONS])[condition]
    pre = np.clip(np.rint(rng.normal(6.8, 1.4, n) + fibro * 0.8), 3, 10)
    r0 = (BASE_RELIEF + condition_shift + mix_shift + np.where(guidance == "ultrasound", ULTRASOUND_SHIFT, 0)
          + clinician_shift + patient_effect + rng.normal(0, 0.08, n))
    r0 = np.clip(r0, 0.0, 0.97)
    tau = RELIEF_TAU_DAYS * np.exp(rng.normal(0, 0.5, n)) * np.where(guidance == "ultrasound", 1.1, 1.0)
    post = np.clip(np.rint(pre * (1 - np.clip(immediate + rng.normal(0, 0.12, n), 0, 0.95))), 0, 10)

    def relief_at(day: np.ndarray) -> np.ndarray:
        return r0 * np.exp(-np.maximum(day - 7, 0) / tau)

    follow: dict[str, dict[str, np.ndarray]] = {}
    for tp, due, answer_rate in FOLLOW_UPS:
        delay = np.minimum(rng.geometric(0.45, n) - 1, 6)
        day = due + delay
        answered = (rng.random(n) < answer_rate) & (days_ago - day >= 1) & (day < next_gap)
        true_relief = relief_at(day)
        reported = np.clip(np.rint((100 * true_relief + rng.normal(0, 8, n)) / 5) * 5, 0, 100)
        pain_now = np.clip(np.rint(pre * (1 - true_relief) + rng.normal(0, 0.7, n)), 0, 10)
        average = np.clip(pain_now + rng.integers(-1, 2, n), 0, 10)
        worst = np.clip(np.maximum(pain_now, average) + rng.integers(1, 4, n), 0, 10)
        follow[tp] = {
            "answered": answered, "day": day, "relief": np.where(answered, reported, np.nan),
            "now": np.where(answered, pain_now, np.nan), "average": average, "worst": worst,
        }

    # --- write ------------------------------------------------------------------------------------
    n_sites = len(site_proc)
    n_inj = len(inj_proc)
    n_meas = 2 * n + 2 * int(sum(f["answered"].sum() for f in follow.values()))
    total = n + n_sites + n_inj + n_meas + n
    bar = tqdm(total=total, desc=progress_label, unit="row", disable=not show_progress, mininterval=1.0)
    tables = note_tables()
    with bulk.fast_load([tables.site, tables.injectate, tables.procedure, Measurement, ProcedureOutcome], total):
        proc_ids = bulk.next_ids(tables.procedure, n)
        site_ids = bulk.next_ids(tables.site, n_sites)

        bulk.insert_columns(
            tables.site,
            {
                "id": site_ids,
                "procedure_id": proc_ids[site_proc],
                "position": position,
                "muscle": site_muscle.tolist(),
                "side": side.tolist(),
                "technique": technique[site_proc].tolist(),
                "insertions": rng.integers(1, 5, n_sites),
                "needle_gauge": np.where(rng.random(n_sites) < 0.6, 25, 27),
                "needle_length_mm": np.where(rng.random(n_sites) < 0.7, 25, 38),
                "local_twitch": rng.random(n_sites) < 0.55,
                "uses_shared_mix": ~dry[site_proc],
            },
            n_sites,
            progress=bar.update,
        )
        volume = np.round(np.maximum(sites_per_proc[inj_proc], 1) * rng.uniform(0.8, 2.0, n_inj), 1)
        percent = np.where(inj_unit == "percent", inj_strength, np.nan)
        mg_per_ml = np.where(inj_unit == "mg_per_ml", inj_strength, np.where(inj_unit == "percent", inj_strength * 10, np.nan))
        units_per_ml = np.where(inj_unit == "units_per_ml", inj_strength, np.nan)
        is_saline = inj_drug == "saline"
        volume = np.where(inj_unit == "mg_per_ml", 1.0, volume)
        bulk.insert_columns(
            tables.injectate,
            {
                "procedure_id": proc_ids[inj_proc],
                "drug": inj_drug.tolist(),
                "concentration_percent": percent,
                "concentration_mg_per_ml": np.where(is_saline, np.nan, mg_per_ml),
                "concentration_units_per_ml": units_per_ml,
                "volume_ml": volume,
                "dose_mg": np.where(is_saline | np.isnan(mg_per_ml), np.nan, np.round(volume * mg_per_ml, 1)),
                "dose_units": np.where(np.isnan(units_per_ml), np.nan, np.round(volume * units_per_ml, 1)),
                "lot_number": [f"L{v:06d}" for v in rng.integers(0, 999999, n_inj).tolist()],
            },
            n_inj,
            progress=bar.update,
        )
        performed = procedure_day.astype("datetime64[s]") + (rng.integers(13 * 60, 21 * 60, n) * 60).astype("timedelta64[s]")
        performed_text = bulk.datetime_text(performed)
        signed_text = bulk.datetime_text(performed + np.timedelta64(45 * 60, "s"))
        payer = np.asarray([p for p, _ in PAYERS])[weighted_choice(rng, [w for _, w in PAYERS], n)]
        codes = np.asarray([json.dumps([c[0]]) for c in CONDITIONS])[condition]
        bulk.insert_columns(
            tables.procedure,
            {
                "id": proc_ids,
                "public_id": bulk.uuid_hex(rng, n),
                "clinic_id": clinic,
                "created_at": performed_text,
                "updated_at": signed_text,
                "created_by_id": clinician,
                "updated_by_id": clinician,
                "patient_id": pid,
                "performed_by_id": clinician,
                "procedure_date": bulk.date_text(procedure_day),
                "performed_at": performed_text,
                "status": "signed",
                "signed_at": signed_text,
                "signed_by_id": clinician,
                "guidance": guidance.tolist(),
                "pre_nrs": pre.astype(np.int64),
                "post_nrs": post.astype(np.int64),
                "observation_minutes": 20,
                "discharge_condition": "stable",
                "payer": payer.tolist(),
                "diagnosis_codes": codes.tolist(),
            },
            n,
            progress=bar.update,
        )

        # measurements: baseline and immediate NRS from the note, then NRS + percent relief per answered follow-up
        nrs = inst.get_instrument("nrs_pain")
        relief_instrument = inst.get_instrument("percent_relief")
        parts: list[dict] = []
        clinic_time = performed
        parts.append({"rows": np.arange(n), "instrument": nrs, "tp": "baseline", "at": clinic_time - np.timedelta64(20 * 60, "s"),
                      "answers": [f'{{"now": {int(v)}}}' for v in pre.tolist()], "score": np.full(n, np.nan), "source": "clinic"})
        parts.append({"rows": np.arange(n), "instrument": nrs, "tp": "immediate", "at": clinic_time + np.timedelta64(20 * 60, "s"),
                      "answers": [f'{{"now": {int(v)}}}' for v in post.tolist()], "score": np.full(n, np.nan), "source": "clinic"})
        for tp, _due, _rate in FOLLOW_UPS:
            f = follow[tp]
            rows = np.flatnonzero(f["answered"])
            at = (procedure_day[rows].astype("datetime64[s]") + (f["day"][rows] * 86400).astype("timedelta64[s]")
                  + (rng.integers(13 * 3600, 23 * 3600, len(rows))).astype("timedelta64[s]"))
            source = np.where(rng.random(len(rows)) < 0.7, "checkin", "portal").tolist()
            now_v, avg_v, worst_v = f["now"][rows], f["average"][rows], f["worst"][rows]
            parts.append({"rows": rows, "instrument": nrs, "tp": tp, "at": at,
                          "answers": [f'{{"now": {int(a)}, "average": {int(b)}, "worst": {int(c)}}}'
                                      for a, b, c in zip(now_v.tolist(), avg_v.tolist(), worst_v.tolist(), strict=True)],
                          "score": avg_v.astype(float), "source": source})
            parts.append({"rows": rows, "instrument": relief_instrument, "tp": tp, "at": at,
                          "answers": [f'{{"relief": {int(v)}}}' for v in f["relief"][rows].tolist()],
                          "score": f["relief"][rows], "source": source})
        for part in parts:
            rows = part["rows"]
            count = len(rows)
            at_text = bulk.datetime_text(part["at"])
            bulk.insert_columns(
                Measurement,
                {
                    "public_id": bulk.uuid_hex(rng, count),
                    "clinic_id": clinic[rows],
                    "created_at": at_text,
                    "updated_at": at_text,
                    "patient_id": pid[rows],
                    "procedure_id": proc_ids[rows],
                    "instrument": part["instrument"].id,
                    "instrument_version": part["instrument"].version,
                    "time_point": part["tp"],
                    "measured_at": at_text,
                    "answers": part["answers"],
                    "score": part["score"],
                    "source": part["source"],
                },
                count,
                progress=bar.update,
            )
            result.measurements += count

        # --- the report rows (the vectorised form of summary.summarize) ---------------------------------
        summary = vectorised_summary(pre, post, follow, nrs=nrs, relief_instrument=relief_instrument)
        bulk.insert_columns(
            ProcedureOutcome,
            {
                "procedure_id": proc_ids,
                "clinic_id": clinic,
                "patient_id": pid,
                "procedure_date": bulk.date_text(procedure_day),
                "clinician_id": clinician,
                "condition": np.asarray([c[0] for c in CONDITIONS])[condition].tolist(),
                "muscles": muscles_json.tolist(),
                "injectates": injectates_json.tolist(),
                "technique": technique.tolist(),
                "guidance": guidance.tolist(),
                **summary,
            },
            n,
            progress=bar.update,
        )
    bar.close()
    bulk.reset_sequences([tables.procedure, tables.site])
    result.procedures = n
    result.sites = n_sites
    result.injectates = n_inj
    result.procedure_ids = proc_ids
    return result
