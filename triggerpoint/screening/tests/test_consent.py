"""The consent form names the plan and its risks: general always; pneumothorax, steroid, toxin when planned."""


from triggerpoint.atlas.catalog import load_atlas
from triggerpoint.catalogues.drugs import load_drugs
from triggerpoint.screening.consent import build_consent
from triggerpoint.screening.content import load_consent_risks
from triggerpoint.screening.rules import parse_screening_request
from triggerpoint.screening.tests.builders import payload
from triggerpoint.screening.tests.readability import MAX_GRADE, reading_grade

GENERAL_RISKS = ("allergic_reaction", "infection", "bleeding", "nerve_injury", "temporary_pain_increase")


def consent_for(**plan):
    inp = parse_screening_request(payload(plan=plan))
    return build_consent(inp.plan, load_atlas(), load_drugs())


THORACIC = [{"muscle": "rhomboids", "side": "left"}, {"muscle": "upper_trapezius", "side": "right"}]
LUMBAR = [{"muscle": "quadratus_lumborum", "side": "left"}, {"muscle": "quadratus_lumborum", "side": "right"}]


def test_a_thoracic_plan_names_pneumothorax():
    consent = consent_for(sites=THORACIC)
    assert "pneumothorax" in consent.risk_ids()
    assert set(GENERAL_RISKS) <= set(consent.risk_ids())


def test_a_lumbar_plan_does_not_name_pneumothorax():
    consent = consent_for(sites=LUMBAR)
    assert "pneumothorax" not in consent.risk_ids()
    assert consent.risk_ids()[: len(GENERAL_RISKS)] == GENERAL_RISKS


def test_one_thoracic_site_among_lumbar_ones_is_enough_to_name_pneumothorax():
    assert "pneumothorax" in consent_for(sites=[*LUMBAR, THORACIC[0]]).risk_ids()


def test_the_form_names_each_muscle_and_side_and_the_injectates():
    consent = consent_for(sites=THORACIC, injectates=[{"drug": "bupivacaine"}, {"drug": "Kenalog"}], guidance="ultrasound")
    atlas = load_atlas()
    assert consent.procedure == "Trigger point injection"
    assert [(site.muscle_name, site.side) for site in consent.sites] == [
        (atlas.muscle("rhomboids").name, "left"),
        (atlas.muscle("upper_trapezius").name, "right"),
    ]
    assert consent.injectates == ("Bupivacaine", load_drugs().get("triamcinolone").name)
    assert consent.guidance == "ultrasound"
    assert "ultrasound" in consent.guidance_text
    assert consent.version == load_consent_risks().version


def test_a_landmark_plan_says_no_ultrasound():
    assert "without ultrasound" in consent_for(guidance="landmark").guidance_text


def test_a_steroid_plan_names_the_steroid_specifics():
    consent = consent_for(injectates=[{"drug": "lidocaine"}, {"drug": "triamcinolone"}])
    assert "corticosteroid_effects" in consent.risk_ids()
    (risk,) = [r for r in consent.risks if r.id == "corticosteroid_effects"]
    assert "blood sugar" in risk.plain_text


def test_a_botulinum_toxin_plan_names_the_toxin_specifics():
    consent = consent_for(injectates=[{"drug": "onabotulinumtoxinA"}])
    (risk,) = [r for r in consent.risks if r.id == "botulinum_toxin_effects"]
    assert "off-label" in risk.plain_text
    assert "corticosteroid_effects" not in consent.risk_ids()


def test_a_plain_anesthetic_plan_names_neither_steroid_nor_toxin_specifics():
    risk_ids = consent_for(injectates=[{"drug": "lidocaine"}]).risk_ids()
    assert "local_anesthetic_effects" in risk_ids
    assert "corticosteroid_effects" not in risk_ids and "botulinum_toxin_effects" not in risk_ids


def test_a_dry_needling_plan_says_so_and_names_its_soreness():
    consent = consent_for(injectates=[], technique="dry_needling")
    assert consent.procedure == "Trigger point dry needling"
    assert consent.injectates == ()
    assert "dry_needling_soreness" in consent.risk_ids()
    assert "local_anesthetic_effects" not in consent.risk_ids()


def test_a_site_listed_twice_appears_once():
    consent = consent_for(sites=[THORACIC[0], THORACIC[0]])
    assert len(consent.sites) == 1


def test_every_risk_cites_a_source():
    consent = consent_for(sites=THORACIC, injectates=[{"drug": "lidocaine"}, {"drug": "triamcinolone"}, {"drug": "Botox"}])
    assert all(risk.sources for risk in consent.risks)


def test_every_risk_reads_at_grade_8_or_lower():
    for entry in load_consent_risks().entries:
        assert reading_grade(entry.text) <= MAX_GRADE, entry.id
