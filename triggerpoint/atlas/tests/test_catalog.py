"""Atlas data integrity, laterality and search (pure: no Django)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft202012Validator

from triggerpoint.atlas import catalog
from triggerpoint.atlas.catalog import AtlasDataError, build_atlas, load_atlas, resolve_zone_token

REPO_ROOT = Path(__file__).resolve().parents[3]
SHARED_ZONES = REPO_ROOT.parent / "shared" / "design" / "bodymap-zones.json"

BRIEF_MUSCLE_IDS = (
    "upper_trapezius middle_trapezius lower_trapezius levator_scapulae rhomboids serratus_anterior "
    "serratus_posterior_superior pectoralis_major pectoralis_minor infraspinatus supraspinatus teres_major "
    "teres_minor subscapularis deltoid latissimus_dorsi scalenes sternocleidomastoid splenius_capitis "
    "splenius_cervicis semispinalis_capitis suboccipitals temporalis masseter lateral_pterygoid "
    "iliocostalis_thoracis iliocostalis_lumborum longissimus_thoracis multifidus quadratus_lumborum "
    "rectus_abdominis iliopsoas gluteus_maximus gluteus_medius gluteus_minimus piriformis tensor_fasciae_latae "
    "biceps_brachii triceps_brachii brachioradialis supinator wrist_extensors rectus_femoris vastus_medialis "
    "vastus_lateralis hamstrings_medial biceps_femoris adductor_longus gastrocnemius soleus tibialis_anterior "
    "peroneus_longus intercostals"
).split()
BRIEF_PNEUMOTHORAX_IDS = (
    "upper_trapezius middle_trapezius lower_trapezius rhomboids serratus_anterior serratus_posterior_superior "
    "pectoralis_major pectoralis_minor intercostals iliocostalis_thoracis scalenes levator_scapulae "
    "latissimus_dorsi longissimus_thoracis"
).split()
BILLING_REGIONS = {
    "cephalic",
    "facial",
    "cervical",
    "thoracic",
    "scapular",
    "shoulder",
    "upper_limb",
    "chest_wall",
    "abdominal",
    "lumbar",
    "pelvic_gluteal",
    "lower_limb",
}


@pytest.fixture(scope="module")
def atlas():
    return load_atlas()


@pytest.fixture(scope="module")
def muscles_document():
    return yaml.safe_load(catalog.MUSCLES_FILE.read_text(encoding="utf-8"))


def minimal_muscle(muscle_id="test_muscle", essential=("temple",), spillover=()):
    return {
        "id": muscle_id,
        "name": "Test muscle",
        "region": "head_jaw",
        "body_region": "cephalic",
        "innervation": "Test nerve",
        "referral": {"essential": list(essential), "spillover": list(spillover)},
        "trigger_points": [{"location": "Somewhere", "palpation": "Press it", "zones": ["temple"]}],
        "activities": ["Testing"],
        "stretches": [{"id": f"{muscle_id}_stretch", "name": "A stretch", "instructions": "x" * 40}],
        "injection": {
            "needle_depth": "1 cm",
            "ultrasound_advised": False,
            "pneumothorax_risk": False,
            "non_compressible": False,
            "hazards": [],
        },
        "sources": ["Travell & Simons"],
    }


# --- zone vocabulary ---------------------------------------------------------------------------


def test_zone_file_is_a_verbatim_copy_of_the_shared_vocabulary():
    if not SHARED_ZONES.is_file():
        pytest.skip(f"shared design folder not reachable at {SHARED_ZONES}; cannot compare the copy")
    assert catalog.ZONES_FILE.read_bytes() == SHARED_ZONES.read_bytes()


def test_zone_vocabulary_has_147_unique_ids(atlas):
    ids = [row["id"] for row in json.loads(catalog.ZONES_FILE.read_text(encoding="utf-8"))["zones"]]
    assert len(ids) == 147
    assert len(set(ids)) == 147
    assert set(atlas.zones) == set(ids)


def test_every_sided_zone_has_a_twin_on_the_other_side(atlas):
    for zone in atlas.zones.values():
        if zone.side == "left":
            assert zone.id.endswith("-l") and zone.id[:-2] + "-r" in atlas.zones
        elif zone.side == "right":
            assert zone.id.endswith("-r") and zone.id[:-2] + "-l" in atlas.zones


# --- muscle data integrity ---------------------------------------------------------------------


def test_muscles_yaml_matches_its_schema(muscles_document):
    schema = json.loads(catalog.MUSCLES_SCHEMA_FILE.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    errors = list(Draft202012Validator(schema).iter_errors(muscles_document))
    assert errors == []


def test_the_atlas_has_at_least_70_muscles_with_no_duplicate_ids(muscles_document, atlas):
    ids = [row["id"] for row in muscles_document["muscles"]]
    assert len(ids) == len(set(ids))
    assert len(atlas.muscles) >= 70


def test_every_muscle_id_the_brief_guarantees_exists(atlas):
    assert [muscle_id for muscle_id in BRIEF_MUSCLE_IDS if not atlas.has_muscle(muscle_id)] == []


def test_every_muscle_cites_a_source_and_has_an_essential_zone(atlas):
    for muscle in atlas.muscles.values():
        assert muscle.sources, muscle.id
        for side in ("left", "right"):
            essential, _ = atlas.referred_zones(muscle.id, side)
            assert essential, (muscle.id, side)


def test_every_referenced_zone_exists_in_the_body_map(atlas):
    for muscle in atlas.muscles.values():
        for side in ("left", "right"):
            essential, spillover = atlas.referred_zones(muscle.id, side)
            assert (essential | spillover) <= set(atlas.zones), muscle.id
            assert not essential & spillover, muscle.id


def test_every_muscle_has_a_billing_region_and_one_or_two_stretches(atlas):
    stretch_ids = []
    for muscle in atlas.muscles.values():
        assert muscle.body_region in BILLING_REGIONS, muscle.id
        assert 1 <= len(muscle.stretches) <= 2, muscle.id
        assert all(len(stretch.instructions) >= 40 for stretch in muscle.stretches), muscle.id
        stretch_ids.extend(stretch.id for stretch in muscle.stretches)
    assert len(stretch_ids) == len(set(stretch_ids))


def test_pneumothorax_risk_is_flagged_on_every_thoracic_muscle_the_brief_names(atlas):
    assert [m for m in BRIEF_PNEUMOTHORAX_IDS if not atlas.muscle(m).pneumothorax_risk] == []


NON_COMPRESSIBLE_IDS = (
    "gluteus_maximus", "gluteus_medius", "gluteus_minimus", "piriformis", "quadratus_lumborum", "iliopsoas", "multifidus",
)


def test_deep_non_compressible_sites_are_exactly_the_ones_issue_14_names(atlas):
    """Gluteals, piriformis, quadratus lumborum, iliopsoas and the deep paraspinal (multifidus); nothing else."""
    flagged = sorted(m.id for m in atlas.muscles.values() if m.non_compressible)
    assert flagged == sorted(NON_COMPRESSIBLE_IDS)


def test_muscles_away_from_the_thorax_carry_no_pneumothorax_flag(atlas):
    for muscle_id in ("temporalis", "gluteus_maximus", "soleus", "brachioradialis", "quadratus_lumborum"):
        assert atlas.muscle(muscle_id).pneumothorax_risk is False


def test_no_referral_pattern_uses_a_contralateral_zone_without_its_own_side(muscles_document):
    """A 'contra:' zone alone would let the opposite twin outrank the muscle for a one-sided drawing."""
    for row in muscles_document["muscles"]:
        tokens = row["referral"]["essential"] + row["referral"]["spillover"]
        for token in tokens:
            if token.startswith("contra:"):
                assert token.removeprefix("contra:") in tokens, row["id"]


# --- loading and validation --------------------------------------------------------------------


def test_load_atlas_is_cached():
    atlas = load_atlas()
    assert isinstance(atlas, catalog.Atlas) and atlas.muscles  # "is" alone would also hold for None
    assert load_atlas() is atlas


def test_it_refuses_a_pattern_naming_an_unknown_zone(muscles_document):
    document = {
        "version": "t",
        "muscles": [minimal_muscle(essential=("temple", "elbow-top")), minimal_muscle("other", ("nowhere",))],
    }
    with pytest.raises(AtlasDataError) as error:
        build_atlas(catalog.read_zones_document(), document)
    assert any("elbow-top" in problem for problem in error.value.problems)
    assert any("nowhere" in problem for problem in error.value.problems)


def test_it_refuses_duplicate_muscle_ids():
    document = {
        "version": "t",
        "muscles": [
            minimal_muscle("same"),
            minimal_muscle("same")
            | {"stretches": [{"id": "other_stretch", "name": "A stretch", "instructions": "y" * 40}]},
        ],
    }
    with pytest.raises(AtlasDataError, match="duplicate muscle id same"):
        build_atlas(catalog.read_zones_document(), document)


def test_it_refuses_a_muscle_that_breaks_the_schema():
    broken = minimal_muscle()
    del broken["sources"]
    broken["body_region"] = "elbowish"
    with pytest.raises(AtlasDataError) as error:
        build_atlas(catalog.read_zones_document(), {"version": "t", "muscles": [broken]})
    assert len(error.value.problems) == 2


def test_it_refuses_a_muscle_without_an_essential_zone():
    with pytest.raises(AtlasDataError, match="essential"):
        build_atlas(
            catalog.read_zones_document(), {"version": "t", "muscles": [minimal_muscle(essential=())]}
        )


def test_it_refuses_a_zone_file_with_duplicate_ids():
    zones = catalog.read_zones_document()
    zones = copy.deepcopy(zones)
    zones["zones"].append(dict(zones["zones"][0]))
    with pytest.raises(AtlasDataError, match="duplicate zone id"):
        build_atlas(zones, {"version": "t", "muscles": [minimal_muscle()]})


def test_muscle_lookup_raises_key_error_for_an_unknown_id(atlas):
    with pytest.raises(KeyError):
        atlas.muscle("not_a_muscle")
    assert atlas.has_muscle("not_a_muscle") is False
    assert atlas.has_muscle("masseter") is True


# --- laterality --------------------------------------------------------------------------------

MIDLINE = frozenset({"head-top", "throat", "sternum", "sacrum", "coccyx"})


@pytest.mark.parametrize(
    ("token", "side", "expected"),
    [
        ("temple", "left", ("temple-l",)),
        ("temple", "right", ("temple-r",)),
        ("contra:temple", "left", ("temple-r",)),
        ("contra:temple", "right", ("temple-l",)),
        ("both:temple", "right", ("temple-l", "temple-r")),
        ("sacrum", "left", ("sacrum",)),
        ("sacrum", "right", ("sacrum",)),
    ],
)
def test_side_relative_tokens_resolve_to_real_zone_ids(token, side, expected):
    assert resolve_zone_token(token, side, MIDLINE) == expected


def test_a_contralateral_pattern_lands_on_the_other_side():
    atlas = build_atlas(
        catalog.read_zones_document(),
        {
            "version": "t",
            "muscles": [minimal_muscle(essential=("temple",), spillover=("contra:forehead", "sternum"))],
        },
    )
    assert atlas.referred_zones("test_muscle", "left") == (
        frozenset({"temple-l"}),
        frozenset({"forehead-r", "sternum"}),
    )
    assert atlas.referred_zones("test_muscle", "right") == (
        frozenset({"temple-r"}),
        frozenset({"forehead-l", "sternum"}),
    )


def test_left_and_right_patterns_are_mirror_images(atlas):
    def mirror(zone_id):
        if zone_id.endswith("-l"):
            return zone_id[:-2] + "-r"
        if zone_id.endswith("-r"):
            return zone_id[:-2] + "-l"
        return zone_id

    for muscle_id in atlas.muscles:
        left = atlas.referred_zones(muscle_id, "left")
        right = atlas.referred_zones(muscle_id, "right")
        assert tuple(frozenset(map(mirror, zones)) for zones in left) == right, muscle_id


def test_upper_trapezius_refers_to_the_temple_on_its_own_side(atlas):
    essential, spillover = atlas.referred_zones("upper_trapezius", "left")
    assert "temple-l" in essential and "temple-r" not in essential | spillover


def test_referred_zones_rejects_an_unknown_side(atlas):
    with pytest.raises(ValueError, match="side"):
        atlas.referred_zones("masseter", "both")


# --- search ------------------------------------------------------------------------------------


def test_search_finds_a_muscle_by_name(atlas):
    assert [m.id for m in atlas.search("Piriformis")] == ["piriformis"]


def test_search_ranks_name_matches_before_zone_matches(atlas):
    results = [m.id for m in atlas.search("temporalis")]
    assert results[0] == "temporalis"


def test_search_finds_muscles_by_painful_zone_label(atlas):
    results = {m.id for m in atlas.search("temple")}
    assert {"temporalis", "upper_trapezius"} <= results
    assert "soleus" not in results


def test_search_finds_muscles_by_region(atlas):
    results = {m.id for m in atlas.search("leg foot")}
    assert {"soleus", "tibialis_anterior"} <= results


def test_search_with_an_empty_query_returns_nothing(atlas):
    assert atlas.search("   ") == ()


def test_list_items_are_whole_phrases_not_fragments_of_a_split_sentence(atlas):
    # YAML flow lists split on commas: "[Holding the shoulders raised (painting, typing)]" becomes two
    # fragments unless quoted. A fragment starts in lower case or leaves a parenthesis open.
    for muscle in atlas.muscles.values():
        for item in (*muscle.activities, *muscle.hazards):
            assert item[:1].isupper(), f"{muscle.id}: {item!r} looks like the tail of a split phrase"
            assert item.count("(") == item.count(")"), f"{muscle.id}: {item!r} has an unbalanced parenthesis"


def test_every_trigger_point_is_marked_on_a_zone_of_each_side(atlas):
    for muscle in atlas.muscles.values():
        assert all(point.zones for point in muscle.trigger_points), muscle.id
        for side in catalog.SIDES:
            zones = atlas.trigger_point_zones(muscle.id, side)
            assert zones and zones <= atlas.zone_ids, (muscle.id, side)


def test_a_left_muscles_trigger_point_is_on_the_left(atlas):
    assert atlas.trigger_point_zones("upper_trapezius", "left") == {"shoulder-top-l"}
    assert atlas.trigger_point_zones("upper_trapezius", "right") == {"shoulder-top-r"}


def test_it_refuses_a_trigger_point_on_an_unknown_zone():
    muscle = minimal_muscle()
    muscle["trigger_points"][0]["zones"] = ["elbowpit"]
    with pytest.raises(catalog.AtlasDataError, match="trigger point zone 'elbowpit'"):
        catalog.build_atlas(catalog.read_zones_document(), {"version": "t", "muscles": [muscle]})


def test_every_pneumothorax_flagged_muscle_gets_the_cited_warning(atlas):
    note = atlas.safety_notes["pneumothorax"]
    assert note.sources and len(note.text) > 100
    for muscle in atlas.muscles.values():
        assert atlas.safety_notes_for(muscle.id) == ((note,) if muscle.pneumothorax_risk else ())


def test_it_refuses_a_flagged_muscle_without_the_pneumothorax_note():
    muscle = minimal_muscle()
    muscle["injection"]["pneumothorax_risk"] = True
    with pytest.raises(catalog.AtlasDataError, match="safety_notes.pneumothorax is required"):
        catalog.build_atlas(catalog.read_zones_document(), {"version": "t", "muscles": [muscle]})


def test_token_labels_describe_a_zone_for_either_side(atlas):
    assert atlas.token_label("temple") == "Temple"
    assert atlas.token_label("contra:temple") == "Temple (other side)"
    assert atlas.token_label("both:low-back") == "Low back (both sides)"
    assert atlas.token_label("sacrum") == "Sacrum"


def test_muscles_sharing_a_main_zone_are_offered_as_the_differential(atlas):
    related = {m.id for m in atlas.sharing_essential_zones("upper_trapezius", "left")}
    assert "temporalis" in related  # both refer to the temple
    assert "upper_trapezius" not in related
    assert "soleus" not in related
