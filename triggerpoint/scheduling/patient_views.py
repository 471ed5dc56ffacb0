"""The patient's appointment page, opened from a confirmation or reminder message (no login).

A new module beside views.py (the staff pages): everything here is reached only with a token,
speaks the patient's language and shows nothing but the visit's day, time, kind and clinic.
"""

from __future__ import annotations

from django.shortcuts import render
from django.utils import translation
from django.utils.translation import gettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from triggerpoint.notifications.services import LinkInvalid
from triggerpoint.patients.language import link_page_language
from triggerpoint.scheduling import patient_link, rules
from triggerpoint.scheduling.patient_messages import visit_values, words_for

PAGE_WORDS = {
    "en": {
        "title": "Your visit",
        "when": "Your {what} at {clinic} is on {day} at {time}.",
        "confirm": "Yes, I will come",
        "confirmed": "Thank you. Your visit is confirmed. We look forward to seeing you.",
        "already_confirmed": "Your visit is confirmed.",
        "other_time": "I need another time",
        "other_time_hint": "Tell us which days or times suit you (optional). The clinic will call you to agree on a new time.",
        "requested": "Thank you. We got your request and will call you to find another time.",
        "already_requested": "You have already asked for another time. The clinic will call you.",
        "call": "Questions? Call us at {phone}.",
    },
    "es": {
        "title": "Su cita",
        "when": "Su {what} en {clinic} es el {day} a las {time}.",
        "confirm": "Sí, voy a ir",
        "confirmed": "Gracias. Su cita está confirmada. Lo esperamos.",
        "already_confirmed": "Su cita está confirmada.",
        "other_time": "Necesito otra fecha u hora",
        "other_time_hint": "Díganos qué días u horas le quedan bien (si quiere). La clínica lo llamará para acordar una nueva cita.",
        "requested": "Gracias. Recibimos su pedido y lo llamaremos para buscar otra fecha.",
        "already_requested": "Ya pidió otra fecha. La clínica lo llamará.",
        "call": "¿Preguntas? Llámenos al {phone}.",
    },
}


def _refusal(request, exc: LinkInvalid):
    """The shared link-invalid page, in the patient's language when the token is theirs."""
    language = link_page_language(exc.patient)
    with translation.override(language):
        response = render(request, "link_invalid.html", {"reason": gettext(str(exc))}, status=404)
    response["Content-Language"] = language
    return response


@never_cache
@require_http_methods(["GET", "POST"])
def appointment_link(request, token: str):
    try:
        appointment = patient_link.appointment_for_link(token)
    except LinkInvalid as exc:
        return _refusal(request, exc)
    language, words = words_for(appointment.patient)
    page = PAGE_WORDS.get(language, PAGE_WORDS["en"])
    notice = ""
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "confirm":
            notice = page["confirmed"] if patient_link.confirm(appointment) else page["already_confirmed"]
        elif action == "reschedule":
            asked = patient_link.request_reschedule(appointment, request.POST.get("message", ""))
            notice = page["requested"] if asked else page["already_requested"]
        else:
            with translation.override(language):
                return render(request, "link_invalid.html", {"reason": gettext("This link is not valid.")},
                              status=400)
    else:
        patient_link.opened(appointment)
    values = visit_values(appointment, language, words)
    context = {
        "page": page, "notice": notice, "when": page["when"].format(**values),
        "call": page["call"].format(**values) if appointment.clinic.phone else "",
        "can_confirm": appointment.status == rules.BOOKED,
        "confirmed": appointment.status == rules.CONFIRMED,
        "asked": appointment.note.startswith(patient_link.RESCHEDULE_MARK),
        "message_max": patient_link.REQUEST_MAX_CHARS,
    }
    with translation.override(language):
        response = render(request, "scheduling/patient_appointment.html", context)
    response["Content-Language"] = language
    return response
