"""The day view's table rows, written out in Python: the one page where a template loop is too slow.

A clinic of 20 clinicians has 400 appointments a day. Through the template engine each row cost
about 0.2 ms of CPU (40-odd nodes, two CSRF tags, a details form), 80 ms for the day — 20 times
the chart. The rows are therefore built here from plain values (`selectors.day_rows`, no model
instances) with the standard library's HTML escaping: every value from the database goes
through `_e`, the only fixed markup is this module's. The page around the table stays a template
(`scheduling/day.html`), and `tests/test_pages.py` reads the rows as a user would.
"""

from __future__ import annotations

from datetime import datetime
from html import escape
from typing import Any

from django.utils.safestring import SafeString, mark_safe

from triggerpoint.scheduling import rules
from triggerpoint.scheduling.models import AppointmentStatus

# Buttons the day view offers for each status: (target status, label), in the order of the day.
STEP_BUTTONS = {
    rules.BOOKED: [(rules.CONFIRMED, "Confirm"), (rules.ARRIVED, "Arrived")],
    rules.CONFIRMED: [(rules.ARRIVED, "Arrived")],
    rules.ARRIVED: [(rules.IN_ROOM, "In room")],
    rules.IN_ROOM: [(rules.DONE, "Done")],
}
STATUS_LABELS = dict(AppointmentStatus.choices)


def _e(value: Any) -> str:
    return escape(str(value), quote=True)


def clinician_name(first: str, last: str, username: str) -> str:
    """As `services.clinician_name` says it for a user (full name, else the username)."""
    return f"{first} {last}".strip() or username


def status_time(row: dict[str, Any], zone) -> str:
    """"at 09:52" for an arrival, "since 10:02" in the room, the reason of a cancellation."""
    status = row["status"]
    if status == rules.ARRIVED and row["arrived_at"]:
        return f"at {row['arrived_at'].astimezone(zone):%H:%M}"
    if status == rules.IN_ROOM and row["in_room_at"]:
        return f"since {row['in_room_at'].astimezone(zone):%H:%M}"
    if status == rules.CANCELLED:
        return row["cancel_reason"]
    return ""


def render_rows(rows: list[dict[str, Any]], *, zone, now: datetime, base: str, charts: str, notes: dict[int, str],
                csrf_token: str, here: str) -> SafeString:
    """The <tr> elements of the day (`rows` from `selectors.day_rows`); `charts` is "" when charts are not linked."""
    hidden = (f'<input type="hidden" name="csrfmiddlewaretoken" value="{_e(csrf_token)}">'
              '<input type="hidden" name="version" value="{version}">'
              f'<input type="hidden" name="next" value="{_e(here)}">')
    out = []
    for row in rows:
        status = row["status"]
        appointment_id = _e(row["public_id"])
        patient_id = _e(row["patient__public_id"])
        url = f"{base}patients/{patient_id}/appointments/{appointment_id}/"
        name = f"{_e(row['patient__family_name'])}, {_e(row['patient__given_name'])}"
        fields = hidden.replace("{version}", str(int(row["version"])))
        start = row["starts_at"].astimezone(zone)
        end = row["ends_at"].astimezone(zone)
        patient = f'<a href="{charts}{patient_id}/">{name}</a>' if charts else f"<strong>{name}</strong>"
        note = f'<div class="sub note">{_e(row["note"])}</div>' if row["note"] else ""
        room = _e(row["room__name"]) if row["room__name"] else '<span class="muted">no room</span>'
        when = status_time(row, zone)
        when = f'<div class="sub">{_e(when)}</div>' if when else ""
        clinician = clinician_name(row["clinician__first_name"], row["clinician__last_name"], row["clinician__username"])
        steps = STEP_BUTTONS.get(status, [])
        transitions = rules.TRANSITIONS[status]
        no_show = rules.NO_SHOW in transitions and now >= row["starts_at"]
        actions = []
        if steps or no_show:
            buttons = " ".join(  # spaced as the template spaced them: inline buttons need the gap
                f'<button type="submit" name="status" value="{target}" class="small{" primary" if i == len(steps) - 1 else ""}">'
                f"{label}</button>" for i, (target, label) in enumerate(steps))
            if no_show:
                buttons += f' <button type="submit" formaction="{url}no-show/" class="small">No-show</button>'
            actions.append(f'<form method="post" action="{url}status/" class="inline">{fields}{buttons}</form>')
        if notes.get(row["pk"]):
            actions.append(f'<a class="button small-link" href="{_e(notes[row["pk"]])}">Note</a>')
        if status in rules.MOVABLE:
            actions.append(f'<a class="button small-link" href="{url}move/">Move</a>')
        if rules.CANCELLED in transitions:
            actions.append(
                f'<details class="cancel"><summary>Cancel…</summary><form method="post" action="{url}cancel/">{fields}'
                f'<label for="reason-{appointment_id}">Reason</label>'
                f'<input id="reason-{appointment_id}" name="reason" required maxlength="300" '
                'placeholder="e.g. patient called, unwell">'
                '<button type="submit" class="small danger">Cancel appointment</button></form></details>')
        out.append(
            f'<tr class="status-{status}" id="appt-{appointment_id}">'
            f'<td class="time" data-label="Time"><strong>{start:%H:%M}</strong>–{end:%H:%M}</td>'
            f'<td data-label="Patient">{patient}<div class="sub">DOB {row["patient__date_of_birth"].isoformat()} · '
            f'MRN <span class="mono">{_e(row["patient__mrn"])}</span></div>{note}</td>'
            f'<td data-label="Type">{_e(row["appointment_type__name"])}</td>'
            f'<td data-label="Clinician">{_e(clinician)}</td>'
            f'<td data-label="Room">{room}</td>'
            f'<td data-label="Status"><span class="pill st-{status}">{STATUS_LABELS[status]}</span>'
            f"{when}</td>"
            f'<td data-label="Actions"><div class="row-actions">{" ".join(actions)}</div></td></tr>')
    return mark_safe("\n".join(out))  # noqa: S308 - every value above is escaped by _e; the markup is this module's
