"""Accessibility: axe-core's WCAG 2.1 A/AA rules on every page a clinician or a patient reaches in the demo clinic.

The pages are found, not listed: starting from the home page, the test follows
the links a user can click (one page per route, so every view is checked once)
over the deterministic demo clinic, as a physician, a clinic admin and a
patient. A new page is therefore checked as soon as something links to it.
"""

from __future__ import annotations

import io
from collections import deque
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command
from django.urls import Resolver404, resolve

from triggerpoint.conftest import browser_login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WCAG_21_AA = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
    "resultTypes": ["violations"],
}
# Links that are not pages: files, downloads, the benchmark views.
NOT_PAGES = ("pdf", "ics", "export", "csv", "parquet", "image", "download", "trivial", "signed_in_baseline", "logout")
PAGE_LIMIT = 60


def _route(path: str) -> str | None:
    try:
        return resolve(urlsplit(path).path).view_name
    except Resolver404:
        return None


def _sweep(pg, base_url: str, start: str) -> dict[str, list[dict]]:
    """axe violations per route name, for every page reachable by links from `start`."""
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    checked: dict[str, list[dict]] = {}
    queue = deque([start])
    while queue and len(checked) < PAGE_LIMIT:
        path = queue.popleft()
        route = _route(path)
        if route is None or route in checked or any(word in route for word in NOT_PAGES):
            continue
        response = pg.goto(base_url + path)
        if response is None or "text/html" not in response.headers.get("content-type", ""):
            continue  # a file, not a page
        if response.status != 200:
            # A link the user was shown but cannot follow is a problem of its own.
            checked[route] = [{"id": f"http-{response.status}", "impact": "broken link", "help": "the link fails",
                               "where": [], "page": path}]
            continue
        pg.wait_for_load_state("networkidle")  # fragments loaded by htmx (the chart's timeline) are part of the page
        checked[route] = [
            {"id": v["id"], "impact": v["impact"], "help": v["help"], "where": [n["target"] for n in v["nodes"]][:3],
             "page": path}
            for v in axe.run(pg, options=WCAG_21_AA).response["violations"]
        ]
        hrefs = pg.eval_on_selector_all("a[href]", "links => links.map(a => a.getAttribute('href'))")
        queue.extend(h.split("#")[0] for h in hrefs if h.startswith("/") and not h.startswith("//"))
    return checked


def _report(checked: dict[str, list[dict]]) -> tuple[list[dict], str]:
    """Every violation, whatever its impact: the pages are clean today and should stay so."""
    found = [v for violations in checked.values() for v in violations]
    return found, "\n".join(f"{v['impact']:<9} {v['id']} on {v['page']} at {v['where']}: {v['help']}" for v in found)


@pytest.fixture
def demo_clinic():
    from triggerpoint.accounts.models import User

    call_command("demo", patients=20, seed=3, stdout=io.StringIO())  # enough for a screening in every status
    return {user.username: user for user in User.objects.all()}


def test_staff_pages_pass_wcag_21_aa(demo_clinic, browser, live_server):
    checked: dict[str, list[dict]] = {}
    # How many pages each sweep must reach, so a broken link or login cannot pass the test by checking nothing.
    for username, at_least in (("dr.rivera", 15), ("admin.patel", 5)):
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        pg = context.new_page()
        browser_login(pg, live_server, demo_clinic[username], password="demo-clinic-2026")
        pg.wait_for_url(f"{live_server.url}/**")
        seen = _sweep(pg, live_server.url, "/")
        context.close()
        assert len(seen) >= at_least, f"{username}'s sweep reached too few pages to mean anything: {sorted(seen)}"
        checked.update(seen)
    problems, report = _report(checked)
    assert not problems, f"{len(problems)} accessibility problems:\n{report}"


def _link_pages() -> dict[str, str]:
    """Start pages of the tokenised links patients receive by email or SMS: each kind the demo has, once for a
    patient who reads English and once for one who reads Spanish."""
    from datetime import timedelta

    from triggerpoint.aftercare.models import AftercarePlan
    from triggerpoint.followup.models import CheckIn, CheckInStatus
    from triggerpoint.notifications.services import issue_link
    from triggerpoint.outcomes.models import OutcomeRequest, RequestStatus
    from triggerpoint.screening.models import ScreeningRecord, ScreeningStatus

    targets = {
        "screening.questionnaire": ("/screening/q/{}/", ScreeningRecord.objects.filter(status=ScreeningStatus.PENDING)),
        "followup.checkin": ("/followup/c/{}/", CheckIn.objects.filter(status=CheckInStatus.DUE)),
        "aftercare.plan": ("/aftercare/p/{}/", AftercarePlan.objects.all()),
        "outcomes.request": ("/outcomes/r/{}/", OutcomeRequest.objects.filter(status=RequestStatus.PENDING)),
    }
    pages = {}
    used_patients: set[int] = set()  # one language per patient, so the two sweeps cannot see each other's
    for purpose, (path, records) in targets.items():
        languages = iter(("en", "es"))
        for record in records.select_related("patient").order_by("pk"):
            if record.patient_id in used_patients:
                continue
            language = next(languages, None)
            if language is None:
                break
            used_patients.add(record.patient_id)
            record.patient.preferred_language = language
            record.patient.save(update_fields=["preferred_language"])
            _link, token = issue_link(record.patient, purpose, record, timedelta(days=2))
            pages[f"{purpose} ({language})"] = path.format(token)
    return pages


def test_patient_pages_pass_wcag_21_aa_on_a_phone(demo_clinic, phone_page, live_server, screenshot):
    """The portal (signed in) and every kind of link a patient is sent, in English and in Spanish."""
    links = _link_pages()
    kinds = {name.split(" ")[0] for name in links}
    assert kinds == {"screening.questionnaire", "followup.checkin", "aftercare.plan", "outcomes.request"}, kinds
    checked: dict[str, list[dict]] = {}
    for name, start in links.items():
        for route, found in _sweep(phone_page, live_server.url, start).items():
            checked[f"{route} via {name}"] = found
        phone_page.goto(live_server.url + start)  # what the patient sees first, kept for a person to look at
        screenshot(phone_page, "patient-link-" + name.replace(".", "-").replace(" (", "-").rstrip(")"))
    browser_login(phone_page, live_server, demo_clinic["patient.demo"], password="demo-clinic-2026")
    phone_page.wait_for_url(f"{live_server.url}/**")
    portal = _sweep(phone_page, live_server.url, "/portal/")
    assert len(portal) >= 5, f"the portal sweep reached too few pages to mean anything: {sorted(portal)}"
    checked.update(portal)
    problems, report = _report(checked)
    assert not problems, f"{len(problems)} accessibility problems:\n{report}"
