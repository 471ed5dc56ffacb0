"""The note document (pure): parsing, what was given per drug, and the inputs of the dose check and the coder."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from triggerpoint.atlas.catalog import load_atlas
from triggerpoint.core.rules import RuleInputError
from triggerpoint.procedures import draft
from triggerpoint.procedures.coding import code_session
from triggerpoint.procedures.dosing import check_doses

ATLAS = load_atlas()


def parse(payload):
    return draft.parse_note(payload, atlas=ATLAS)


def site(muscle="upper_trapezius", side="left", **extra):
    return {"muscle": muscle, "side": side, **extra}


def test_a_shared_mix_component_is_given_at_every_injected_site():
    note = parse({"mix": [{"drug": "lidocaine", "concentration_percent": 1, "ml_per_site": 1.5}],
                  "sites": [site(), site(side="right"), site("rhomboids")]})
    (row,) = draft.given_doses(note)
    assert (row.volume_ml, row.dose_mg, row.sites_receiving) == (Decimal("4.5"), Decimal("45"), 3)


def test_a_dry_needled_site_and_a_site_without_the_mix_receive_none():
    note = parse({"mix": [{"drug": "lidocaine", "concentration_percent": 1, "ml_per_site": 1}],
                  "sites": [site(), site(side="right", technique="dry_needling"), site("rhomboids", uses_shared_mix=False)]})
    assert draft.given_doses(note)[0].volume_ml == Decimal("1")


def test_an_adjusted_site_scales_every_component_of_the_mix():
    note = parse({"mix": [{"drug": "lidocaine", "concentration_percent": 1, "ml_per_site": 1},
                          {"drug": "triamcinolone", "concentration_mg_per_ml": 40, "ml_per_site": 0.25}],
                  "sites": [site(mix_volume_ml=2.5), site(side="right")]})  # 2.5 mL = twice the 1.25 mL standard
    lidocaine, steroid = draft.given_doses(note)
    assert lidocaine.volume_ml == Decimal("3") and lidocaine.dose_mg == Decimal("30")
    assert steroid.volume_ml == Decimal("0.75") and steroid.dose_mg == Decimal("30")


def test_a_site_injectate_adds_to_the_same_drug_in_the_dose_check():
    note = parse({"mix": [{"drug": "lidocaine", "concentration_percent": 1, "ml_per_site": 2}],
                  "sites": [site(injectates=[{"drug": "Xylocaine", "concentration_mg_per_ml": 10, "volume_ml": 3}]),
                            site(side="right")]})
    result = check_doses(draft.dose_check_input(note, Decimal(70), None))
    assert [(i.drug, i.total_mg) for i in result.items] == [("lidocaine", Decimal("70"))]


def test_the_coder_gets_steroid_mg_and_toxin_units_from_the_note():
    note = parse({"guidance": "ultrasound",
                  "mix": [{"drug": "triamcinolone", "concentration_mg_per_ml": 40, "ml_per_site": 0.25}],
                  "sites": [site(), site(side="right"), site("levator_scapulae",
                            injectates=[{"drug": "onabotulinumtoxinA", "concentration_units_per_ml": 50, "volume_ml": 0.5}])]})
    result = code_session(draft.codes_input(note, service_date=None))
    assert [(line.code, line.units) for line in result.cpt] == [("20553", 1), ("76942", 1)]
    assert sorted((line.code, line.units) for line in result.hcpcs) == [("J0585", 25), ("J3301", 3)]


def test_parse_lists_every_problem():
    with pytest.raises(RuleInputError) as error:
        parse({"guidance": "fluoro", "complications": ["fainted"], "discharge_condition": "ok", "colour": "red",
               "mix": [{"drug": "lidocaine", "concentration_percent": 1, "concentration_mg_per_ml": 10, "ml_per_site": -1}],
               "sites": [site(side="middle", technique="laser", insertions=0, needle_gauge=50),
                         site("botox", technique="dry_needling", injectates=[{"drug": "saline", "volume_ml": 1}])]})
    problems = error.value.problems
    assert len(problems) >= 11, problems


@pytest.mark.parametrize(("value", "ok"), [(0, True), (10, True), (-1, False), (11, False)])
def test_pain_scores_are_0_to_10(value, ok):
    if ok:
        assert parse({"pre_nrs": value}).pre_nrs == value
    else:
        with pytest.raises(RuleInputError):
            parse({"pre_nrs": value})


def test_a_complete_note_has_no_completeness_problems(note_payload):
    assert draft.completeness_problems(parse(note_payload)) == []


def test_an_empty_note_lists_what_is_needed_to_sign():
    problems = draft.completeness_problems(parse({}))
    assert len(problems) == 9 and problems[0] == "add at least one treated site"
    assert problems[5:] == [
        "record whether the time-out was performed (Universal Protocol)",
        "record whether the site was marked",
        "enter the skin preparation agent",
        "enter the sterile technique used",
    ]


def test_a_timeout_needs_its_time_and_a_skipped_timeout_needs_a_reason(note_payload):
    without_time = dict(note_payload, timeout_time=None)
    assert draft.completeness_problems(parse(without_time)) == ["enter the time the time-out was performed"]
    skipped = dict(note_payload, timeout_performed="no", timeout_time=None)
    assert draft.completeness_problems(parse(skipped)) == ["the time-out was not performed: say why in the notes"]
    assert draft.completeness_problems(parse(dict(skipped, notes="Patient distressed; consent re-confirmed."))) == []


@pytest.mark.parametrize(
    ("field", "value"),
    [("timeout_performed", "maybe"), ("site_marked", "sometimes"), ("skin_prep_agent", "soap"),
     ("sterile_technique", "none"), ("timeout_time", "25:99")],
)
def test_universal_protocol_answers_outside_their_choices_are_refused(note_payload, field, value):
    with pytest.raises(RuleInputError) as caught:
        parse(dict(note_payload, **{field: value}))
    assert field in str(caught.value)


def test_the_universal_protocol_choices_match_the_model():
    from triggerpoint.procedures.models import SiteMarked, SkinPrep, SterileTechnique, YesNo

    assert draft.YES_NO == tuple(YesNo.values)
    assert draft.SITE_MARKED == tuple(SiteMarked.values)
    assert draft.SKIN_PREP_AGENTS == tuple(SkinPrep.values)
    assert draft.STERILE_TECHNIQUES == tuple(SterileTechnique.values)


@given(
    per_site=st.decimals(min_value=Decimal("0.1"), max_value=Decimal("5"), places=2),
    sites=st.integers(min_value=1, max_value=12),
    percent=st.sampled_from([Decimal("0.5"), Decimal("1"), Decimal("2")]),
)
def test_the_mix_total_is_per_site_volume_times_sites(per_site, sites, percent):
    note = parse({"mix": [{"drug": "lidocaine", "concentration_percent": percent, "ml_per_site": per_site}],
                  "sites": [site(muscle, side) for muscle in list(ATLAS.muscles)[:6] for side in ("left", "right")][:sites]})
    (row,) = draft.given_doses(note)
    assert row.volume_ml == per_site * sites
    assert row.dose_mg == per_site * sites * percent * 10
