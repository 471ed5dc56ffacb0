"""The synthetic registry: its vectorised outcome rows equal the exact per-procedure path, and its effects show."""

from __future__ import annotations

import numpy as np
import pytest
from freezegun import freeze_time

from triggerpoint.conftest import make_staff
from triggerpoint.outcomes import analytics, registry, registry_population, services
from triggerpoint.outcomes.models import Measurement, ProcedureOutcome
from triggerpoint.procedures.models import InjectionSite, Procedure

pytestmark = pytest.mark.django_db


@pytest.fixture
def small_registry(clinic_a, physician, nurse):
    other = make_staff("registry.doc", "physician", clinic_a, with_totp=False)
    with freeze_time("2026-06-15 14:00:00"):
        from datetime import date

        rng = np.random.default_rng(11)
        today = date(2026, 6, 15)
        patient_ids, clinics = registry_population.create_patients(rng, [clinic_a.pk], 150, today, [1.0])
        made = registry.generate(
            seed=5, today=today, n_procedures=600, patient_ids=patient_ids, patient_clinics=clinics,
            practitioners=[registry_population.Practitioner(physician.pk, clinic_a.pk, 0.03),
                           registry_population.Practitioner(other.pk, clinic_a.pk, -0.02)],
            show_progress=False,
        )
        analytics.rebuild_rollups([clinic_a.pk])
    return made


def test_it_writes_signed_notes_with_sites_injectates_and_about_five_measurements_each(small_registry):
    assert small_registry.procedures == 600
    assert Procedure.objects.filter(status="signed").count() == 600
    assert InjectionSite.objects.count() == small_registry.sites >= 600
    per_procedure = Measurement.objects.count() / 600
    assert 4.0 <= per_procedure <= 6.0


def test_its_vectorised_outcome_rows_equal_the_exact_path(small_registry):
    for procedure in Procedure.objects.filter(pk__in=small_registry.procedure_ids.tolist()).select_related("clinic"):
        stored = ProcedureOutcome.objects.get(procedure=procedure)
        fresh = {**services.grouping_facts(procedure), **services.summarize_procedure(procedure).as_row()}
        got = {k: getattr(stored, k) for k in fresh}
        assert got == fresh, procedure.pk


def test_signed_registry_notes_stay_immutable(small_registry):
    from triggerpoint.core.errors import ImmutableRecord

    procedure = Procedure.objects.filter(status="signed").first()
    procedure.notes = "changed"
    with pytest.raises(ImmutableRecord):
        procedure.save()


def test_the_simulated_effects_point_the_expected_way(small_registry, clinic_a):
    report = analytics.clinic_report(clinic_a.pk, use_cache=False)
    ultrasound = report.group("guidance", "ultrasound").responders_2w.rate
    landmark = report.group("guidance", "landmark").responders_2w.rate
    assert ultrasound > landmark
    fibromyalgia = report.group("condition", "M79.7")
    neck = report.group("condition", "M54.2")
    assert fibromyalgia is not None and neck is not None, "the simulated registry has both condition groups"
    assert fibromyalgia.responders_2w.rate < neck.responders_2w.rate
