"""One source for the warning-sign windows (issue 14): the aftercare plan, the "Risks and warning
signs" article and the check-in instructions take 5 / 14 days and 12 weeks from the table triage
reads (followup/data/warning_windows.yaml), and follow it when it changes."""

from __future__ import annotations

import dataclasses
from datetime import date
from pathlib import Path

import pytest
import yaml

from triggerpoint.aftercare import education
from triggerpoint.aftercare.plan import build_plan, parse_plan_request
from triggerpoint.aftercare.plan_template import TEMPLATE_DIR, build_template, load_template
from triggerpoint.followup import windows as windows_module
from triggerpoint.followup.tests.helpers import checkin
from triggerpoint.followup.triage import parse_triage_request, triage
from triggerpoint.followup.windows import load_windows

ARTICLES = Path(education.__file__).resolve().parent / "data" / "articles"


def plan(template=None, drug="lidocaine", language="en"):
    body = {"procedure_date": "2026-04-14", "sites": [{"muscle": "gluteus_medius", "side": "left"}],
            "injectates": [{"drug": drug}], "patient": {"conditions": []}}
    template = template or load_template("default")
    return build_plan(parse_plan_request(body, template=template), template=template, language=language)


def task_text(built, task_id):
    return next(task.text for day in built.days for task in day.tasks if task.id == task_id)


def test_the_plan_warning_days_are_the_fever_allergy_window():
    assert load_template("default").offsets.warning_window == 5
    assert plan().warning_window_until == date(2026, 4, 19)


def test_the_plan_and_instructions_name_the_5_and_14_day_windows_in_both_languages():
    english, spanish = plan(), plan(language="es")
    assert "in the first 5 days" in task_text(english, "warning_signs")
    assert "in the first 14 days" in task_text(english, "warning_signs")
    assert "primeros 5 días" in task_text(spanish, "warning_signs")
    assert "primeros 14 días" in task_text(spanish, "warning_signs")
    result = triage(parse_triage_request(checkin(symptoms=["bruising"])), None)
    assert "in the first 5 days" in result.instructions and "in the first 14 days" in result.instructions


def test_the_toxin_task_names_the_12_week_window():
    built = plan(drug="onabotulinumtoxinA")
    assert "For 12 weeks after the shot, call 911" in task_text(built, "botulinum_toxin_spread")
    assert "Durante 12 semanas" in task_text(plan(drug="onabotulinumtoxinA", language="es"), "botulinum_toxin_spread")


@pytest.mark.parametrize("language", ["en", "es"])
def test_the_article_takes_its_windows_from_the_table_and_does_not_repeat_them(language):
    raw = (ARTICLES / f"risks-and-warning-signs.{language}.md").read_text(encoding="utf-8")
    assert "{{window:fever_allergy}}" in raw and "{{window:local_infection}}" in raw
    assert "{{window_weeks:toxin_spread}}" in raw
    body = education.get_article("risks-and-warning-signs", language).body
    first = "in the first" if language == "en" else "en los primeros"
    assert f"{first} 5 " in body and f"{first} 14 " in body and " 12 " in body
    assert "{{" not in body


@pytest.fixture
def longer_site_window(monkeypatch):
    """The table as a clinic might change it: site infection signs for 10 days, fever for 3."""
    real = load_windows()
    changed = dataclasses.replace(real, windows=tuple(
        dataclasses.replace(w, days={"fever_allergy": 3, "local_infection": 10}.get(w.id, w.days))
        for w in real.windows))
    monkeypatch.setattr(windows_module, "load_windows", lambda: changed)
    education.load_articles.cache_clear()
    yield changed
    education.load_articles.cache_clear()


def test_changing_the_table_changes_the_plan_and_the_article(longer_site_window):
    document = yaml.safe_load((TEMPLATE_DIR / "default.yaml").read_text(encoding="utf-8"))
    template = build_template(document)
    assert template.offsets.warning_window == 3
    built = plan(template)
    assert "in the first 3 days" in task_text(built, "warning_signs")
    assert "in the first 10 days" in task_text(built, "warning_signs")
    body = education.get_article("risks-and-warning-signs", "en").body
    assert "in the first 3 days" in body and "in the first 10 days" in body
