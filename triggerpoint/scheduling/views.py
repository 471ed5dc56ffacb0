"""The schedule pages for the front desk, nurses and physicians: day and week views, book, move, steps.

Thin: parse the form, call the service, show what it said. Times are typed and shown on the
clinic's local clock; the services store UTC. Every page that lists appointments audits each
patient it shows.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from triggerpoint.accounts.decorators import staff_required
from triggerpoint.accounts.policy import can
from triggerpoint.core import plausible
from triggerpoint.core.errors import StaleVersion
from triggerpoint.core.rules import RuleInputError
from triggerpoint.patients.selectors import get_patient_for_user, patient_by_mrn
from triggerpoint.scheduling import appointment_notes, day_table, rules, selectors, services
from triggerpoint.scheduling.models import AppointmentType, Room


def _day_from(request) -> date:
    raw = request.GET.get("date") or request.POST.get("date") or ""
    if raw:
        try:
            day = date.fromisoformat(raw)
        except ValueError:
            day = None
        if day is not None and plausible.problem("scheduled", day) is None:
            return day
    return selectors.clinic_today(request.user.clinic)


def _filters(request):
    """The clinician (by username) and room (by id) a view is narrowed to; unknown values mean "all"."""
    clinic = request.user.clinic
    clinician = room = None
    username = request.GET.get("clinician") or ""
    if username:
        clinician = selectors.clinicians(clinic).filter(username=username).first()
    room_id = request.GET.get("room") or ""
    if room_id:
        try:
            room = selectors.get_clinic_record(request.user, Room, room_id)
        except (Http404, ValidationError):  # an unknown or malformed id is just no filter
            room = None
    return clinician, room


def _query(day: date, clinician, room) -> str:
    parts = [f"date={day.isoformat()}"]
    if clinician is not None:
        parts.append(f"clinician={clinician.username}")
    if room is not None:
        parts.append(f"room={room.public_id}")
    return "?" + "&".join(parts)


def _common(request, day, clinician, room):
    clinic = request.user.clinic
    return {
        "day": day,
        "clinicians": selectors.clinicians(clinic),
        "rooms": selectors.rooms(clinic),
        "clinician": clinician,
        "room": room,
        "zone": clinic.zone.key,
        "today": selectors.clinic_today(clinic),
        "query": _query(day, clinician, room),
    }


@staff_required("schedule.view")
def day_view(request):
    """The day, every appointment in one table; built from plain values and written out by `day_table`
    (a 400-appointment day: one query for the rows, one for the note links, one audit INSERT batch)."""
    clinic = request.user.clinic
    day = _day_from(request)
    clinician, room = _filters(request)
    rows = selectors.day_rows(clinic, day, clinician=clinician, room=room)
    services.view_day_rows(request.user, rows, clinic, channel="web",
                           details={"view": "day", "date": day.isoformat()})
    context = _common(request, day, clinician, room)
    held = sum(row["status"] in rules.BLOCKING for row in rows)
    # Clinic admins book but do not open charts; the front desk gets no note links.
    charts = reverse("patients:search") if can(request.user, "patient.view") else ""  # a chart is <patients>/<id>/
    notes = appointment_notes.note_urls(row["pk"] for row in rows) if can(request.user, "procedure.view") else {}
    here = request.get_full_path()
    context.update(
        rows_html=day_table.render_rows(rows, zone=clinic.zone, now=timezone.now(), base=reverse("scheduling:day"),
                                        charts=charts, notes=notes, csrf_token=get_token(request), here=here),
        counts={"total": held,
                "arrived": sum(row["status"] in (rules.ARRIVED, rules.IN_ROOM) for row in rows),
                "done": sum(row["status"] == rules.DONE for row in rows), "gone": len(rows) - held},
        previous=_query(day - timedelta(days=1), clinician, room),
        next=_query(day + timedelta(days=1), clinician, room),
        here=here,
    )
    return render(request, "scheduling/day.html", context)


@staff_required("schedule.view")
def week_view(request):
    clinic = request.user.clinic
    day = _day_from(request)
    clinician, room = _filters(request)
    monday = day - timedelta(days=day.weekday())
    start, _ = selectors.day_bounds(clinic, monday)
    _, end = selectors.day_bounds(clinic, monday + timedelta(days=6))
    appointments = list(selectors.appointments_between(clinic, start, end, clinician=clinician, room=room))
    services.view_day(request.user, appointments, channel="web", details={"view": "week", "date": monday.isoformat()})
    zone = clinic.zone
    days = [{"date": monday + timedelta(days=i), "rows": []} for i in range(7)]
    for a in appointments:
        local = a.starts_at.astimezone(zone)
        days[(local.date() - monday).days]["rows"].append({"a": a, "start": local})
    context = _common(request, day, clinician, room)
    context.update(days=days, previous=_query(monday - timedelta(days=7), clinician, room),
                   next=_query(monday + timedelta(days=7), clinician, room), monday=monday)
    return render(request, "scheduling/week.html", context)


class BookForm(forms.Form):
    patient_mrn = forms.CharField(label="Patient MRN", max_length=32)
    appointment_type = forms.ModelChoiceField(queryset=AppointmentType.objects.none(), label="Type",
                                              to_field_name="public_id", empty_label=None)
    clinician = forms.ChoiceField(label="Clinician")
    room = forms.ModelChoiceField(queryset=Room.objects.none(), required=False, label="Room",
                                  to_field_name="public_id", empty_label="No room (phone/video)")
    date = forms.DateField(label="Date", widget=forms.DateInput(attrs={"type": "date"}),
                           validators=[plausible.form_validator("scheduled")])
    time = forms.TimeField(label="Start (clinic time)", widget=forms.TimeInput(attrs={"type": "time", "step": 300}))
    minutes = forms.IntegerField(label="Minutes", required=False, min_value=5, max_value=480,
                                 help_text="Leave empty for the type's usual length.")
    note = forms.CharField(label="Note for the day", max_length=300, required=False)

    def __init__(self, clinic, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["appointment_type"].queryset = selectors.appointment_types(clinic)
        self.fields["room"].queryset = selectors.rooms(clinic)
        self.fields["clinician"].choices = [(u.username, services.clinician_name(u)) for u in
                                            selectors.clinicians(clinic)]


class MoveForm(forms.Form):
    date = forms.DateField(label="New date", widget=forms.DateInput(attrs={"type": "date"}),
                           validators=[plausible.form_validator("scheduled")])
    time = forms.TimeField(label="New start (clinic time)",
                           widget=forms.TimeInput(attrs={"type": "time", "step": 300}))
    clinician = forms.ChoiceField(label="Clinician")
    room = forms.ModelChoiceField(queryset=Room.objects.none(), required=False, label="Room",
                                  to_field_name="public_id", empty_label="No room (phone/video)")
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def __init__(self, clinic, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["room"].queryset = selectors.rooms(clinic)
        self.fields["clinician"].choices = [(u.username, services.clinician_name(u)) for u in
                                            selectors.clinicians(clinic)]


def _start(form, clinic) -> datetime:
    return rules.local_to_utc(form.cleaned_data["date"], form.cleaned_data["time"], clinic.zone)


def _day_url(appointment_or_day, clinic, request=None) -> str:
    nxt = (request.POST.get("next") or request.GET.get("next")) if request is not None else ""
    if nxt and url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}, require_https=False):
        return nxt
    day = appointment_or_day if isinstance(appointment_or_day, date) else \
        appointment_or_day.starts_at.astimezone(clinic.zone).date()
    return reverse("scheduling:day") + f"?date={day.isoformat()}"


@staff_required("appointment.book")
@require_http_methods(["GET", "POST"])
def book(request):
    clinic = request.user.clinic
    day = _day_from(request)
    initial = {"date": day, "clinician": request.GET.get("clinician", "")}
    patient = None
    if request.GET.get("patient"):
        patient = get_patient_for_user(request.user, request.GET["patient"], "appointment.book")
        initial["patient_mrn"] = patient.mrn
    form = BookForm(clinic, request.POST or None, initial=initial)
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        patient = patient or patient_by_mrn(clinic, data["patient_mrn"])
        if patient is None:
            form.add_error("patient_mrn", "No patient of this clinic has that MRN.")
            status = 422
        else:
            try:
                starts_at = _start(form, clinic)
                ends_at = starts_at + timedelta(minutes=data["minutes"]) if data["minutes"] else None
                appointment = services.book(
                    request.user, patient=patient, appointment_type=data["appointment_type"],
                    clinician=selectors.clinicians(clinic).get(username=data["clinician"]), room=data["room"],
                    starts_at=starts_at, ends_at=ends_at, note=data["note"])
            except services.SchedulingRefused as exc:
                for message in exc.messages:
                    form.add_error(None, message)
                status = exc.status
            except RuleInputError as exc:
                for message in exc.problems:
                    form.add_error("time", message)
                status = 422
            else:
                local = appointment.starts_at.astimezone(clinic.zone)
                messages.success(request, f"Booked {patient.given_name} {patient.family_name} on "
                                          f"{local:%a %d %b} at {local:%H:%M}.")
                return redirect(_day_url(appointment, clinic))
    elif request.method == "POST":
        status = 422
    return render(request, "scheduling/book.html",
                  {"form": form, "day": day, "zone": clinic.zone.key, "patient": patient}, status=status)


@staff_required("appointment.change")
@require_http_methods(["GET", "POST"])
def move(request, patient_id, public_id):
    clinic = request.user.clinic
    appointment = selectors.get_appointment_for_user(request.user, public_id, "appointment.change", patient_id)
    local = appointment.starts_at.astimezone(clinic.zone)
    form = MoveForm(clinic, request.POST or None, initial={
        "date": local.date(), "time": local.time().replace(second=0, microsecond=0),
        "clinician": appointment.clinician.username, "room": appointment.room.public_id if appointment.room else None,
        "version": appointment.version})
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.move(request.user, appointment, data["version"], starts_at=_start(form, clinic),
                          clinician=selectors.clinicians(clinic).get(username=data["clinician"]), room=data["room"])
        except services.SchedulingRefused as exc:
            for message in exc.messages:
                form.add_error(None, message)
            status = exc.status
        except RuleInputError as exc:
            for message in exc.problems:
                form.add_error("time", message)
            status = 422
        else:
            messages.success(request, "Appointment moved.")
            return redirect(_day_url(appointment, clinic))
    elif request.method == "POST":
        status = 422
    else:
        services.view_appointment(request.user, appointment, channel="web")
    return render(request, "scheduling/move.html", {
        "form": form, "a": appointment, "start": local, "clinician": services.clinician_name(appointment.clinician),
        "zone": clinic.zone.key}, status=status)


def _version(request) -> int:
    try:
        return int(request.POST.get("version", ""))
    except ValueError:
        return 0


def _act(request, patient_id, public_id, change):
    """Run one lifecycle change from a day-view button; say what happened or why not, back to the day."""
    appointment = selectors.get_appointment_for_user(request.user, public_id, "appointment.change", patient_id)
    try:
        change(appointment, _version(request))
    except services.SchedulingRefused as exc:
        messages.error(request, " ".join(exc.messages))
    except StaleVersion:
        messages.error(request, "Someone changed this appointment a moment ago; here is the day as it is now.")
    else:
        patient = appointment.patient
        messages.success(request, f"{patient.given_name} {patient.family_name}: {appointment.status_label.lower()}.")
    return redirect(_day_url(appointment, request.user.clinic, request))


@staff_required("appointment.change")
@require_POST
def step(request, patient_id, public_id):
    target = request.POST.get("status", "")
    return _act(request, patient_id, public_id, lambda a, v: services.advance_status(request.user, a, v, target))


@staff_required("appointment.change")
@require_POST
def cancel(request, patient_id, public_id):
    reason = request.POST.get("reason", "")
    return _act(request, patient_id, public_id, lambda a, v: services.cancel(request.user, a, v, reason))


@staff_required("appointment.change")
@require_POST
def no_show(request, patient_id, public_id):
    return _act(request, patient_id, public_id, lambda a, v: services.mark_no_show(request.user, a, v))
