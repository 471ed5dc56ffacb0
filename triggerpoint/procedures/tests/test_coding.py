"""Specification of session coding (procedures/codes): CPT, HCPCS and warnings."""

from dataclasses import replace
from datetime import date

import pytest
import yaml
from jsonschema import Draft202012Validator

from triggerpoint.atlas.catalog import load_atlas
from triggerpoint.core.rules import RuleInputError
from triggerpoint.procedures._data import DATA_DIR, load_schema
from triggerpoint.procedures.coding import code_session, load_code_tables
from triggerpoint.procedures.schemas import parse_codes_request

SERVICE_DATE = "2025-06-02"
# Muscle ids the atlas guarantees (BRIEF_MUSCLE_IDS, checked by atlas/tests/test_catalog.py).
GUARANTEED = [
    "upper_trapezius",
    "levator_scapulae",
    "rhomboids",
    "infraspinatus",
    "supraspinatus",
    "deltoid",
    "sternocleidomastoid",
    "splenius_capitis",
    "quadratus_lumborum",
    "gluteus_medius",
]


def site(muscle, side="right", technique="injection", insertions=None):
    row = {"muscle": muscle, "side": side, "technique": technique}
    if insertions is not None:
        row["insertions"] = insertions
    return row


def codes(sites, guidance="landmark", injectates=(), service_date=SERVICE_DATE, **extra):
    """Code a session on `service_date`, given as the coder's date (the API's body refuses dates
    outside the plausible clinical window, and these rules must be checked on fixed historical dates)."""
    payload = {"sites": list(sites), "guidance": guidance, "injectates": list(injectates)}
    payload.update(extra)
    return code_session(parse_codes_request(payload), today=date.fromisoformat(service_date)).as_dict()


def cpt_codes(result):
    return [(line["code"], line["units"]) for line in result["cpt"]]


def hcpcs_codes(result):
    return [(line["code"], line["units"]) for line in result["hcpcs"]]


def warning_rules(result):
    return [warning["rule"] for warning in result["warnings"]]


def same_region_pair():
    atlas = load_atlas()
    present = [m for m in GUARANTEED if atlas.has_muscle(m)]
    for first in present:
        for second in present:
            if first != second and atlas.muscle(first).body_region == atlas.muscle(second).body_region:
                return first, second
    pytest.fail("the atlas has no two guaranteed muscles in one region")


def different_region_pair():
    atlas = load_atlas()
    present = [m for m in GUARANTEED if atlas.has_muscle(m)]
    for first in present:
        for second in present:
            if atlas.muscle(first).body_region != atlas.muscle(second).body_region:
                return first, second
    pytest.fail("the atlas has no two guaranteed muscles in different regions")


# --- data files ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data_file", "schema"),
    [
        ("cpt.yaml", "cpt.schema.json"),
        ("hcpcs.yaml", "hcpcs.schema.json"),
        ("payers.yaml", "payers.schema.json"),
        ("diagnosis_flags.yaml", "diagnosis_flags.schema.json"),
    ],
)
def test_each_code_table_matches_its_schema(data_file, schema):
    document = yaml.safe_load((DATA_DIR / data_file).read_text(encoding="utf-8"))
    Draft202012Validator(load_schema(schema)).validate(document)


def test_every_code_row_cites_a_source():
    tables = load_code_tables()
    assert all(row.sources for row in (*tables.cpt, *tables.hcpcs))
    assert all(payer.sources for payer in tables.payers.values())


# --- trigger point injection: counting muscles --------------------------------------------------


def test_one_muscle_is_20552():
    assert cpt_codes(codes([site("upper_trapezius")])) == [("20552", 1)]


def test_two_muscles_are_20552():
    assert cpt_codes(codes([site("upper_trapezius"), site("levator_scapulae")])) == [("20552", 1)]


def test_three_muscles_are_20553():
    result = codes([site("upper_trapezius"), site("levator_scapulae"), site("rhomboids")])
    assert cpt_codes(result) == [("20553", 1)]
    assert result["cpt"][0]["muscle_count"] == 3


def test_left_and_right_of_one_muscle_count_as_two():
    result = codes([site("upper_trapezius", "left"), site("upper_trapezius", "right")])
    assert cpt_codes(result) == [("20552", 1)]
    assert result["cpt"][0]["muscle_count"] == 2


def test_both_trapezii_and_both_levators_are_one_unit_of_20553():
    sides = ("left", "right")
    result = codes([site(m, s) for m in ("upper_trapezius", "levator_scapulae") for s in sides])
    assert cpt_codes(result) == [("20553", 1)]
    assert result["cpt"][0]["muscle_count"] == 4


def test_several_insertions_into_one_muscle_count_once():
    result = codes([site("upper_trapezius", insertions=5), site("upper_trapezius", insertions=2)])
    assert cpt_codes(result) == [("20552", 1)]
    assert result["cpt"][0]["muscle_count"] == 1


def test_many_muscles_are_still_one_unit_per_session():
    result = codes([site(m, s) for m in GUARANTEED[:6] for s in ("left", "right")])
    assert cpt_codes(result) == [("20553", 1)]


def test_each_code_line_names_its_rule_and_basis():
    line = codes([site("upper_trapezius")])["cpt"][0]
    assert line["rule"] == "CODE-TPI-COUNT"
    assert "1 or 2 muscles" in line["basis"]
    assert line["modifiers"] == []


# --- dry needling -------------------------------------------------------------------------------


def test_dry_needling_one_or_two_muscles_is_20560():
    result = codes(
        [site("upper_trapezius", technique="dry_needling"), site("rhomboids", technique="dry_needling")]
    )
    assert cpt_codes(result) == [("20560", 1)]


def test_dry_needling_three_muscles_is_20561():
    result = codes([site(m, technique="dry_needling") for m in ("upper_trapezius", "rhomboids", "deltoid")])
    assert cpt_codes(result) == [("20561", 1)]


def test_dry_needling_has_no_code_before_2020():
    result = codes([site("upper_trapezius", technique="dry_needling")], service_date="2019-12-31")
    assert result["cpt"] == []
    assert "CODE-NO-CODE-ON-DATE" in warning_rules(result)


def test_dry_needling_has_its_code_from_2020():
    result = codes([site("upper_trapezius", technique="dry_needling")], service_date="2020-01-01")
    assert cpt_codes(result) == [("20560", 1)]


def test_a_needled_muscle_that_was_also_injected_is_not_billed_as_dry_needling():
    result = codes([site("upper_trapezius"), site("upper_trapezius", technique="dry_needling")])
    assert cpt_codes(result) == [("20552", 1)]
    assert "CODE-DN-SAME-MUSCLE" in warning_rules(result)


def test_the_other_side_of_an_injected_muscle_may_be_dry_needled():
    result = codes(
        [site("upper_trapezius", "left"), site("upper_trapezius", "right", technique="dry_needling")]
    )
    assert cpt_codes(result) == [("20552", 1), ("20560", 1)]
    assert "CODE-DN-SAME-MUSCLE" not in warning_rules(result)


def test_injection_and_dry_needling_of_different_muscles_bill_both_with_a_warning():
    result = codes([site("upper_trapezius"), site("rhomboids", technique="dry_needling")])
    assert cpt_codes(result) == [("20552", 1), ("20560", 1)]
    assert "CODE-DN-WITH-TPI" in warning_rules(result)


def test_injection_alone_carries_no_dry_needling_warning():
    assert "CODE-DN-WITH-TPI" not in warning_rules(codes([site("upper_trapezius")]))


# --- ultrasound guidance ------------------------------------------------------------------------


def test_ultrasound_adds_76942_once_per_session_with_the_lcd_warning():
    sites = [
        site(m, s) for m in ("upper_trapezius", "levator_scapulae", "rhomboids") for s in ("left", "right")
    ]
    result = codes(sites, guidance="ultrasound", payer="bcbs_2_01_103")
    assert cpt_codes(result) == [("20553", 1), ("76942", 1)]
    warning = next(w for w in result["warnings"] if w["rule"] == "CODE-US-GUIDANCE")
    assert "L34211" in warning["message"]
    assert "L36859" in warning["message"]


def test_landmark_guidance_adds_no_imaging_code():
    result = codes([site("upper_trapezius")], guidance="landmark")
    assert "76942" not in [code for code, _ in cpt_codes(result)]
    assert "CODE-US-GUIDANCE" not in warning_rules(result)


# --- drugs (HCPCS) ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("drug", "dose", "expected"),
    [
        ("Kenalog", {"dose_mg": 40}, [("J3301", 4)]),
        ("triamcinolone", {"dose_mg": 10}, [("J3301", 1)]),
        ("triamcinolone", {"dose_mg": 25}, [("J3301", 3)]),
        ("triamcinolone", {"dose_mg": 5}, [("J3301", 1)]),
        ("Decadron", {"dose_mg": 4}, [("J1100", 4)]),
        ("dexamethasone_sodium_phosphate", {"dose_mg": 2.5}, [("J1100", 3)]),
        ("Depo-Medrol", {"dose_mg": 40}, [("J1010", 40)]),
        ("methylprednisolone_acetate", {"dose_mg": 40.5}, [("J1010", 41)]),
        ("Botox", {"dose_units": 100}, [("J0585", 100)]),
        ("onabotulinumtoxinA", {"dose_units": 12.5}, [("J0585", 13)]),
        ("Dysport", {"dose_units": 300}, [("J0586", 60)]),
        ("Dysport", {"dose_units": 302}, [("J0586", 61)]),
        ("Xeomin", {"dose_units": 50}, [("J0588", 50)]),
        ("Myobloc", {"dose_units": 2500}, [("J0587", 25)]),
        ("Myobloc", {"dose_units": 2550}, [("J0587", 26)]),
    ],
)
def test_drug_billing_units_round_a_partial_unit_up(drug, dose, expected):
    result = codes([site("upper_trapezius")], injectates=[{"drug": drug, **dose}])
    assert hcpcs_codes(result) == expected


def test_rows_of_one_drug_are_summed_before_rounding():
    # 15 mg + 15 mg = 30 mg = 3 units of J3301; rounding each row would give 4.
    result = codes(
        [site("upper_trapezius")],
        injectates=[{"drug": "triamcinolone", "dose_mg": 15}, {"drug": "Kenalog", "dose_mg": 15}],
    )
    assert hcpcs_codes(result) == [("J3301", 3)]


def test_a_rounded_line_shows_the_dose_given_and_the_dose_billed():
    line = codes([site("upper_trapezius")], injectates=[{"drug": "triamcinolone", "dose_mg": 25}])["hcpcs"][0]
    assert (line["dose"], line["billed_dose"], line["dose_unit"]) == (25.0, 30.0, "mg")
    assert "rounded up" in line["basis"]


def test_methylprednisolone_uses_j1010_per_mg_from_april_2024_and_notes_the_source_conflict():
    result = codes(
        [site("upper_trapezius")],
        injectates=[{"drug": "Depo-Medrol", "dose_mg": 80}],
        service_date="2024-04-01",
    )
    assert hcpcs_codes(result) == [("J1010", 80)]
    assert "Conflict" in result["hcpcs"][0]["basis"]


@pytest.mark.parametrize(
    ("dose_mg", "expected"),
    [
        (40, [("J1030", 1)]),
        (80, [("J1040", 1)]),
        (20, [("J1020", 1)]),
        (60, [("J1030", 1), ("J1020", 1)]),
        (100, [("J1040", 1), ("J1020", 1)]),
        (50, [("J1030", 1), ("J1020", 1)]),
    ],
)
def test_methylprednisolone_before_april_2024_uses_the_20_40_80_mg_codes(dose_mg, expected):
    result = codes(
        [site("upper_trapezius")],
        injectates=[{"drug": "Depo-Medrol", "dose_mg": dose_mg}],
        service_date="2024-03-31",
    )
    assert hcpcs_codes(result) == expected


@pytest.mark.parametrize("drug", ["lidocaine", "Marcaine", "ropivacaine", "procaine", "chloroprocaine", "NS"])
def test_local_anesthetic_and_saline_are_not_separately_coded(drug):
    result = codes([site("upper_trapezius")], injectates=[{"drug": drug, "dose_mg": 50}])
    assert result["hcpcs"] == []
    assert "CODE-DRUG-NOT-CODED" in warning_rules(result)


def test_a_drug_without_a_code_row_asks_the_coder():
    from triggerpoint.catalogues.drugs import load_drugs
    from triggerpoint.procedures.coding import build_code_tables

    def document(name):
        return yaml.safe_load((DATA_DIR / name).read_text(encoding="utf-8"))

    hcpcs = document("hcpcs.yaml")
    hcpcs["codes"] = [row for row in hcpcs["codes"] if row["drug"] != "magnesium_sulfate"]
    tables = build_code_tables(
        document("cpt.yaml"), hcpcs, document("payers.yaml"), document("diagnosis_flags.yaml"), load_drugs()
    )
    payload = {"sites": [site("upper_trapezius")], "guidance": "landmark",
               "injectates": [{"drug": "magnesium", "dose_mg": 500}], "service_date": SERVICE_DATE}
    result = code_session(parse_codes_request(payload), tables=tables).as_dict()
    assert result["hcpcs"] == []
    assert "CODE-DRUG-NO-CODE" in warning_rules(result)


@pytest.mark.parametrize(("dose_mg", "units"), [(500, 1), (500.1, 2), (1000, 2), (1001, 3)])
def test_magnesium_sulfate_is_billed_as_j3475_per_500_mg(dose_mg, units):
    result = codes([site("upper_trapezius")], injectates=[{"drug": "magnesium_sulfate", "dose_mg": dose_mg}])
    assert hcpcs_codes(result) == [("J3475", units)]


# --- single-dose vials: JW / JZ and NDC -----------------------------------------------------------


def test_a_toxin_with_nothing_discarded_gets_jz():
    result = codes([site("upper_trapezius")], injectates=[{"drug": "Botox", "dose_units": 100, "discarded": 0}])
    assert [(line["code"], line["units"], line["modifiers"]) for line in result["hcpcs"]] == [("J0585", 100, ["JZ"])]
    assert result["hcpcs"][0]["rule"] == "CODE-DRUG-WASTE-JW-JZ"


def test_a_toxin_with_waste_gets_a_separate_jw_line_for_the_discarded_units():
    result = codes([site("upper_trapezius")], injectates=[{"drug": "Botox", "dose_units": 60, "discarded": 40}])
    assert [(line["code"], line["units"], line["modifiers"]) for line in result["hcpcs"]] == [
        ("J0585", 60, []),
        ("J0585", 40, ["JW"]),
    ]


def test_waste_covered_by_rounding_up_is_not_billed_again():
    # Dysport J0586 is 5 units: 52 units administered bill as 11 units (55); 3 discarded fit in that rounding.
    result = codes([site("upper_trapezius")], injectates=[{"drug": "Dysport", "dose_units": 52, "discarded": 3}])
    assert [(line["code"], line["units"], line["modifiers"]) for line in result["hcpcs"]] == [("J0586", 11, ["JZ"])]
    # 4 discarded go 1 unit beyond: 11 administered units and 1 JW unit.
    result = codes([site("upper_trapezius")], injectates=[{"drug": "Dysport", "dose_units": 52, "discarded": 4}])
    assert [(line["code"], line["units"], line["modifiers"]) for line in result["hcpcs"]] == [
        ("J0586", 11, []),
        ("J0586", 1, ["JW"]),
    ]


def test_a_single_dose_toxin_without_its_discarded_amount_asks_for_it():
    result = codes([site("upper_trapezius")], injectates=[{"drug": "Botox", "dose_units": 100}])
    assert result["hcpcs"][0]["modifiers"] == []
    assert "CODE-DRUG-WASTE-MISSING" in warning_rules(result)


def test_a_steroid_gets_jw_jz_only_when_the_note_says_the_vial_was_single_dose():
    multi = codes([site("upper_trapezius")], injectates=[{"drug": "triamcinolone", "dose_mg": 40}])
    assert multi["hcpcs"][0]["modifiers"] == [] and "CODE-DRUG-WASTE-MISSING" not in warning_rules(multi)
    single = codes(
        [site("upper_trapezius")],
        injectates=[{"drug": "triamcinolone", "dose_mg": 40, "single_dose_vial": True, "discarded": 0}],
    )
    assert single["hcpcs"][0]["modifiers"] == ["JZ"]


@pytest.mark.parametrize(
    ("given", "stored"),
    [("00023-1145-01", "00023-1145-01"), ("00023114501", "00023-1145-01"), ("0023-1145-01", "00023-1145-01"),
     ("00023-145-01", "00023-0145-01"), ("00023-1145-1", "00023-1145-01")],
)
def test_the_ndc_is_carried_on_the_drug_line_in_the_11_digit_format(given, stored):
    result = codes([site("upper_trapezius")], injectates=[{"drug": "Botox", "dose_units": 100, "discarded": 0, "ndc": given}])
    assert result["hcpcs"][0]["ndc"] == stored


@pytest.mark.parametrize("bad", ["1234", "0023114501", "000231-1145-01", "ABCDE-1145-01"])
def test_a_malformed_ndc_is_refused(bad):
    with pytest.raises(RuleInputError) as error:
        parse_codes_request({"sites": [site("upper_trapezius")], "guidance": "landmark",
                             "injectates": [{"drug": "Botox", "dose_units": 10, "ndc": bad}]})
    assert "ndc" in str(error.value)


def test_botulinum_toxin_carries_the_label_warning():
    result = codes([site("upper_trapezius")], injectates=[{"drug": "Botox", "dose_units": 50}])
    assert "CODE-TOXIN-LABEL" in warning_rules(result)


# --- diagnoses ----------------------------------------------------------------------------------


@pytest.mark.parametrize("diagnosis", ["M79.7", "m79.7"])
def test_a_fibromyalgia_diagnosis_warns_about_tender_points(diagnosis):
    result = codes([site("upper_trapezius")], diagnoses=["M79.18", diagnosis])
    assert warning_rules(result).count("CODE-DX-FIBROMYALGIA") == 1


def test_a_myalgia_diagnosis_carries_no_fibromyalgia_warning():
    result = codes([site("upper_trapezius")], diagnoses=["M79.18", "M54.2"])
    assert "CODE-DX-FIBROMYALGIA" not in warning_rules(result)


@pytest.mark.parametrize(("service_date", "warned"), [("2021-09-30", False), ("2021-10-01", True)])
def test_m54_5_is_flagged_from_october_2021(service_date, warned):
    result = codes([site("upper_trapezius")], diagnoses=["M54.5"], service_date=service_date)
    assert ("CODE-DX-INVALID" in warning_rules(result)) is warned


# --- payer policy -------------------------------------------------------------------------------


def test_medicare_is_the_default_payer():
    assert codes([site("upper_trapezius")])["payer"] == "medicare"


@pytest.mark.parametrize(("prior_sessions", "warned"), [(2, False), (3, True)])
def test_medicare_covers_three_sessions_in_twelve_months(prior_sessions, warned):
    result = codes([site("upper_trapezius")], history={"sessions_last_12_months": prior_sessions})
    assert ("PAYER-FREQ-12M" in warning_rules(result)) is warned


@pytest.mark.parametrize(("days", "warned"), [(41, True), (42, False)])
def test_medicare_wants_six_weeks_before_the_same_region_again(days, warned):
    result = codes([site("upper_trapezius")], history={"days_since_same_region": days})
    assert ("PAYER-INTERVAL-SAME-REGION" in warning_rules(result)) is warned


def test_without_history_the_frequency_limits_are_reported_as_unchecked():
    result = codes([site("upper_trapezius")])
    assert "PAYER-HISTORY-MISSING" in warning_rules(result)
    assert "PAYER-FREQ-12M" not in warning_rules(result)


def test_medicare_does_not_cover_several_regions_in_one_session():
    first, second = different_region_pair()
    result = codes([site(first), site(second)])
    assert "PAYER-MULTI-REGION" in warning_rules(result)
    atlas = load_atlas()
    assert result["body_regions"] == sorted(
        {atlas.muscle(first).body_region, atlas.muscle(second).body_region}
    )


def test_several_muscles_in_one_region_carry_no_region_warning():
    first, second = same_region_pair()
    result = codes([site(first, "left"), site(second, "right")])
    assert "PAYER-MULTI-REGION" not in warning_rules(result)


def test_a_payer_that_allows_several_regions_does_not_warn():
    first, second = different_region_pair()
    assert "PAYER-MULTI-REGION" not in warning_rules(
        codes([site(first), site(second)], payer="evicore_cmm_202")
    )


def test_medicare_does_not_cover_dry_needling_or_imaging_guidance():
    result = codes(
        [site("upper_trapezius", technique="dry_needling")], guidance="ultrasound", payer="medicare"
    )
    assert {"PAYER-DRY-NEEDLING", "PAYER-IMAGING"} <= set(warning_rules(result))


def test_a_payer_that_covers_dry_needling_does_not_warn():
    result = codes([site("upper_trapezius", technique="dry_needling")], payer="bcbs_2_01_103")
    assert "PAYER-DRY-NEEDLING" not in warning_rules(result)


@pytest.mark.parametrize(("prior", "warned"), [(3, False), (4, True)])
def test_evicore_covers_four_sessions_per_region_per_year(prior, warned):
    result = codes(
        [site("upper_trapezius")],
        payer="evicore_cmm_202",
        history={"sessions_same_region_last_12_months": prior},
    )
    assert ("PAYER-FREQ-REGION-12M" in warning_rules(result)) is warned


@pytest.mark.parametrize(("days", "warned"), [(59, True), (60, False)])
def test_evicore_wants_two_months_between_sessions_in_a_region(days, warned):
    result = codes(
        [site("upper_trapezius")], payer="evicore_cmm_202", history={"days_since_same_region": days}
    )
    assert ("PAYER-INTERVAL-SAME-REGION" in warning_rules(result)) is warned


def test_evicore_does_not_cover_saline_alone():
    result = codes([site("upper_trapezius")], injectates=[{"drug": "saline"}], payer="evicore_cmm_202")
    assert "PAYER-SALINE-ONLY" in warning_rules(result)
    with_lidocaine = codes(
        [site("upper_trapezius")],
        injectates=[{"drug": "saline"}, {"drug": "lidocaine"}],
        payer="evicore_cmm_202",
    )
    assert "PAYER-SALINE-ONLY" not in warning_rules(with_lidocaine)


def test_emblemhealth_covers_only_local_anesthetics_and_corticosteroids():
    result = codes(
        [site("upper_trapezius")],
        injectates=[{"drug": "Botox", "dose_units": 50}, {"drug": "lidocaine"}],
        payer="emblemhealth",
    )
    warning = next(w for w in result["warnings"] if w["rule"] == "PAYER-INJECTATE-CLASS")
    assert warning["data"]["drugs"] == ["onabotulinumtoxinA"]


def test_a_clinic_can_configure_a_payer():
    tables = load_code_tables()
    strict = replace(tables.payers["medicare"], max_sessions_per_12_months=1)
    custom = replace(tables, payers={**tables.payers, "medicare": strict})
    payload = {
        "sites": [site("upper_trapezius")],
        "guidance": "landmark",
        "history": {"sessions_last_12_months": 1},
    }
    assert "PAYER-FREQ-12M" not in warning_rules(code_session(parse_codes_request(payload)).as_dict())
    result = code_session(parse_codes_request(payload, tables=custom), tables=custom).as_dict()
    assert "PAYER-FREQ-12M" in warning_rules(result)


def test_payer_warnings_cite_the_payer_policy():
    result = codes([site("upper_trapezius")], history={"sessions_last_12_months": 5})
    warning = next(w for w in result["warnings"] if w["rule"] == "PAYER-FREQ-12M")
    assert "L34211" in warning["basis"]


# --- contract and service date ------------------------------------------------------------------


def test_the_response_keeps_the_contract_fields():
    result = codes([site("upper_trapezius")], injectates=[{"drug": "Kenalog", "dose_mg": 40}])
    assert {"cpt", "hcpcs", "warnings"} <= set(result)
    assert {"code", "units", "modifiers"} <= set(result["cpt"][0])
    assert {"code", "units"} <= set(result["hcpcs"][0])
    assert isinstance(result["warnings"], list)


def test_the_service_date_defaults_to_today():
    payload = {"sites": [site("upper_trapezius")], "guidance": "landmark"}
    result = code_session(parse_codes_request(payload), today=date(2024, 3, 31)).as_dict()
    assert result["service_date"] == "2024-03-31"


# --- bad input (4xx) ----------------------------------------------------------------------------


def parse_error(payload):
    with pytest.raises(RuleInputError) as error:
        parse_codes_request(payload)
    return error.value


def test_it_rejects_an_unknown_muscle():
    error = parse_error({"sites": [site("trapezius_maximus")], "guidance": "landmark"})
    assert "trapezius_maximus" in str(error)


@pytest.mark.parametrize(
    ("field", "value"), [("side", "both"), ("side", "LEFT"), ("technique", "acupuncture"), ("insertions", 0)]
)
def test_it_rejects_a_bad_site_field(field, value):
    bad = {**site("upper_trapezius"), field: value}
    assert field in str(parse_error({"sites": [bad], "guidance": "landmark"}))


def test_it_rejects_an_unknown_guidance():
    assert "guidance" in str(parse_error({"sites": [site("upper_trapezius")], "guidance": "fluoroscopy"}))


def test_it_rejects_an_unknown_drug_and_lists_the_allowed_ones():
    error = parse_error(
        {"sites": [site("upper_trapezius")], "guidance": "landmark", "injectates": [{"drug": "x"}]}
    )
    assert "lidocaine" in str(error)


@pytest.mark.parametrize(
    ("injectate", "expected"),
    [
        ({"drug": "Botox"}, "dose_units"),
        ({"drug": "Botox", "dose_mg": 5}, "dose_units"),
        ({"drug": "triamcinolone"}, "dose_mg"),
        ({"drug": "triamcinolone", "dose_units": 40}, "dose_mg"),
        ({"drug": "triamcinolone", "dose_mg": 40, "dose_units": 4}, "not both"),
        ({"drug": "triamcinolone", "dose_mg": 0}, "greater than 0"),
    ],
)
def test_it_rejects_a_missing_or_wrong_dose_for_toxins_and_steroids(injectate, expected):
    error = parse_error(
        {"sites": [site("upper_trapezius")], "guidance": "landmark", "injectates": [injectate]}
    )
    assert expected in str(error)


def test_it_rejects_an_unknown_payer_listing_the_known_ones():
    error = parse_error({"sites": [site("upper_trapezius")], "guidance": "landmark", "payer": "acme"})
    assert "medicare" in str(error)


def test_it_rejects_a_malformed_diagnosis_and_history():
    error = parse_error(
        {
            "sites": [site("upper_trapezius")],
            "guidance": "landmark",
            "diagnoses": ["fibro"],
            "history": {"sessions_last_12_months": -1},
        }
    )
    assert len(error.problems) == 2


def test_it_lists_every_problem_at_once():
    error = parse_error(
        {"sites": [site("nope", "middle", "laser")], "guidance": "x", "injectates": [{"drug": "y"}]}
    )
    assert len(error.problems) >= 5


def test_it_rejects_a_session_without_sites():
    assert "sites" in str(parse_error({"sites": [], "guidance": "landmark"}))
