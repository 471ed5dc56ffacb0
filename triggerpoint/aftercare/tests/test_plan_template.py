"""The shipped template is valid data, and broken edits are refused with every problem named."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from triggerpoint.aftercare.education import load_articles
from triggerpoint.aftercare.plan_template import TEMPLATE_DIR, TemplateError, build_template, load_template

DEFAULT_PATH = Path(TEMPLATE_DIR) / "default.yaml"


@pytest.fixture
def document():
    return yaml.safe_load(DEFAULT_PATH.read_text(encoding="utf-8"))


def test_the_default_template_loads_and_has_the_protocol_offsets(template):
    assert template.offsets.activity_restriction == 3
    assert template.offsets.warning_window == 5
    assert template.last_day == 10


def test_every_task_cites_a_basis_with_known_sources(template):
    for task in template.tasks:
        assert task.rule.basis, task.id
        assert task.rule.sources and all(len(source) > 20 for source in task.rule.sources), task.id
        assert task.rule.id.startswith("AFT-DEFAULT-")


def test_every_task_and_reminder_is_written_in_english_and_spanish(template):
    for item in (*template.tasks, *template.reminders):
        assert set(item.text) == {"en", "es"}
        assert item.text["en"] != item.text["es"]


def test_every_article_a_task_links_exists_in_english_and_spanish(template):
    articles = load_articles()
    for slug in template.article_ids:
        assert (slug, "en") in articles and (slug, "es") in articles, slug


def test_unknown_template_name_is_refused_with_the_available_names():
    with pytest.raises(KeyError, match="default"):
        load_template("no-such-template")


def test_a_schema_violation_is_refused(document):
    del document["offsets"]["warning_window"]
    with pytest.raises(TemplateError, match="warning_window"):
        build_template(document)


def test_a_missing_spanish_text_is_refused(document):
    del document["tasks"][0]["text"]["es"]
    with pytest.raises(TemplateError, match="'es' is a required property"):
        build_template(document)


def test_it_lists_every_cross_reference_problem_at_once(document):
    broken = copy.deepcopy(document)
    tasks = {task["id"]: task for task in broken["tasks"]}
    tasks["ice"]["basis"]["sources"] = ["no-such-source"]
    tasks["heat"]["text"]["en"] = "Heat the {muscel_name}."
    tasks["steroid_blood_glucose"]["when"]["condition"] = "diabetis"
    broken["reminders"][0]["requires_task"] = "no_such_task"
    with pytest.raises(TemplateError) as caught:
        build_template(broken)
    message = str(caught.value)
    assert "no-such-source" in message
    assert "muscel_name" in message
    assert "diabetis" in message
    assert "no_such_task" in message


def test_risk_muscles_placeholder_is_refused_outside_thoracic_only_tasks(document):
    tasks = {task["id"]: task for task in document["tasks"]}
    tasks["warning_signs"]["text"]["en"] += " ({risk_muscles})"
    with pytest.raises(TemplateError, match="risk_muscles"):
        build_template(document)


def test_a_reminder_on_a_day_its_task_does_not_cover_is_refused(document):
    reminder = next(r for r in document["reminders"] if r["requires_task"] == "stretch")
    reminder["day"] = 0  # stretching starts on day 1
    with pytest.raises(TemplateError, match="outside task 'stretch'"):
        build_template(document)


def test_a_clinic_can_change_the_offsets_and_dependent_days_follow(document):
    document["offsets"]["activity_restriction"] = 4
    template = build_template(document)
    activity = next(task for task in template.tasks if task.id == "avoid_strenuous_activity")
    resume = next(r for r in template.reminders if r.requires_task == "avoid_strenuous_activity")
    assert activity.last_day == 4
    assert resume.day == 4
