"""The body-map → WPI area map (data/wpi_zone_map.yaml) and the pain-drawing helper."""

import pytest

from triggerpoint.assessment._data import AssessmentDataError, read_yaml, validate_document
from triggerpoint.assessment.fibromyalgia import build_wpi_map, load_wpi_map, wpi_areas_from_pain_drawing
from triggerpoint.atlas.catalog import load_atlas
from triggerpoint.core.rules import RuleInputError


def test_the_map_file_matches_its_schema():
    validate_document(read_yaml("wpi_zone_map.yaml"), "wpi_zone_map.schema.json", "wpi_zone_map.yaml")


def test_every_body_map_zone_is_either_in_one_wpi_area_or_deliberately_unmapped():
    wpi_map = load_wpi_map()
    zones = set(load_atlas().zones)
    assert len(zones) == 147
    mapped, unmapped = set(wpi_map.zone_to_area), set(wpi_map.unmapped_zones)
    assert mapped.isdisjoint(unmapped)
    assert mapped | unmapped == zones


def test_every_area_has_at_least_one_zone_and_no_zone_is_in_two_areas():
    wpi_map = load_wpi_map()
    assert all(area.zones for area in wpi_map.areas.values())
    total = sum(len(area.zones) for area in wpi_map.areas.values())
    assert total == len(wpi_map.zone_to_area)


def test_sided_zones_map_to_areas_of_the_same_side():
    wpi_map = load_wpi_map()
    atlas = load_atlas()
    for zone_id, area_id in wpi_map.zone_to_area.items():
        side = atlas.zones[zone_id].side
        if area_id.endswith("_left"):
            assert side == "left", zone_id
        elif area_id.endswith("_right"):
            assert side == "right", zone_id


def test_a_zone_listed_in_two_areas_is_refused_at_load():
    document = read_yaml("wpi_zone_map.yaml")
    document["areas"][1]["zones"].append(document["areas"][0]["zones"][0])
    with pytest.raises(AssessmentDataError, match="is in both"):
        build_wpi_map(document)


def test_a_pain_drawing_proposes_the_wpi_areas_it_covers():
    result = wpi_areas_from_pain_drawing(
        ["neck-back-l", "neck-side-r", "scapula-l", "temple-r", "jaw-angle-r", "sole-l"]
    )
    assert result.areas == frozenset({"neck", "shoulder_girdle_left", "jaw_right"})
    assert result.zones_by_area["neck"] == frozenset({"neck-back-l", "neck-side-r"})
    assert result.zones_without_area == frozenset({"temple-r", "sole-l"})


def test_an_empty_drawing_proposes_no_area():
    assert wpi_areas_from_pain_drawing([]).areas == frozenset()


def test_a_drawing_with_unknown_zones_is_refused_naming_them_all():
    with pytest.raises(RuleInputError) as error:
        wpi_areas_from_pain_drawing(["neck-back-l", "tail", "wing-l"])
    assert "tail" in str(error.value) and "wing-l" in str(error.value)
