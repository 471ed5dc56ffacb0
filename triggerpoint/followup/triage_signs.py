"""Triage rules for signs with a window of their own (issue 14), kept out of triage.py.

* ``TRI-TOXIN-SPREAD`` — after botulinum toxin, a drooping eyelid, double or blurred vision,
  trouble swallowing or speaking, breathing difficulty or weakness all over can be the
  toxin spreading beyond the injected muscle (the boxed warning on every botulinum toxin
  label). Within the ``toxin_spread`` window (12 weeks, warning_windows.yaml) each sign
  takes the disposition its symptom entry names (``toxin_spread_disposition``: swallowing,
  speech, breathing and generalised weakness are emergencies; eyelid and vision urgent).
  When the caller does not say whether toxin was given, it is assumed it may have been:
  the dedicated spread signs are acted on as if it had (never under-triage); breathing,
  already an emergency on its own, gets the toxin reason only when toxin is known.
* ``TRI-URG-NEURO-SIGN`` — the same signs with no toxin given (or after the toxin window)
  are still a new nerve sign after a needle: the on-call clinician is paged within the
  follow-up window (after it, triage folds them into one routine review like any sign).
* ``TRI-EMERG-TEXT-ALARM-WORD`` / ``TRI-URG-TEXT-ALARM-WORD`` — a message that mentions
  breathing, the chest, the throat, the tongue or lips, or fainting in words the scanner did
  not understand is an emergency; one that mentions swelling or swallowing that way is paged.
  Never left for a business day, at any time (text_scan.unread_alarm_words).

Pure module: no Django, no ORM, no HTTP.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from triggerpoint.core.rules import Rule
from triggerpoint.followup.content import SymptomCatalog
from triggerpoint.followup.windows import TOXIN_SPREAD, load_windows

TOXIN_RULE = "TRI-TOXIN-SPREAD"
NEURO_RULE = "TRI-URG-NEURO-SIGN"
ALARM_RULE = "TRI-URG-TEXT-ALARM-WORD"
EMERGENCY_ALARM_RULE = "TRI-EMERG-TEXT-ALARM-WORD"
#: Findings of these rules keep their own disposition after the follow-up window.
NOT_FOLDED_LATE = frozenset({TOXIN_RULE, ALARM_RULE, EMERGENCY_ALARM_RULE})
_EMERGENCY, _URGENT = "emergency", "urgent"
_ALARM_SOURCES = ("Trigger Point Clinic protocol, seed page 002: shortness of breath is a warning sign",
              "Drugs.com trigger point injection discharge care: trouble breathing, chest pain, swelling of mouth or "
              "throat, fainting -> call 911 https://www.drugs.com/cg/trigger-point-injection-discharge-care.html")


@dataclass(frozen=True)
class SignOutcome:
    """What one of these rules says; triage turns it into a Finding."""

    disposition: str
    rule: str
    message: str
    data: dict[str, Any] = field(default_factory=dict)


def sign_rules(toxin_window_days: int, reporting_window_days: int) -> list[Rule]:
    toxin = load_windows().get(TOXIN_SPREAD)
    weeks = toxin_window_days // 7
    return [
        Rule(TOXIN_RULE, 1, f"Possible spread of botulinum toxin within {weeks} weeks",
             f"{toxin.basis} Within {toxin_window_days} days of a toxin injection (day 0 is the injection day), "
             f"trouble swallowing, speaking or breathing and weakness all over call for emergency care; a drooping "
             f"eyelid or double or blurred vision pages the on-call clinician. If the procedure's drugs are not "
             f"known, toxin is assumed possible.", toxin.sources),
        Rule(NEURO_RULE, 1, "New nerve sign after an injection",
             f"A drooping eyelid, double vision, trouble swallowing or speaking, or weakness all over with no "
             f"botulinum toxin given (or after the toxin window) is not expected after trigger point injections "
             f"and may mean nerve injury, a haematoma or a stroke; within the {reporting_window_days}-day "
             f"follow-up window the on-call clinician is paged.",
             ("Trigger Point Clinic protocol, seed page 002: sudden weakness is a warning sign",)),
        Rule(EMERGENCY_ALARM_RULE, 1, "Message mentions breathing, chest, throat or fainting in unread words",
             "The message names breathing, the chest, the throat, the tongue or lips, or fainting in words the "
             "software could not read. These are the body parts of the emergency warning signs, so until a "
             "clinician has read it the patient is told to call 911, at any time after the procedure (issue 14).",
             _ALARM_SOURCES),
        Rule(ALARM_RULE, 1, "Message mentions swelling or swallowing in unread words",
             "The message names swelling or swallowing in words the software could not read. Until a clinician "
             "has read it, it is treated as a possible warning sign and the on-call clinician is paged, at any "
             "time after the procedure (issue 14).",
             _ALARM_SOURCES),
    ]


def _labels(ids: Iterable[str], catalog: SymptomCatalog) -> str:
    return "; ".join(catalog.get(i).label_en.lower() for i in sorted(ids))


def toxin_outcomes(
    symptoms: frozenset[str],
    catalog: SymptomCatalog,
    *,
    day: int,
    toxin_given: bool | None,
    toxin_window_days: int,
    from_text: frozenset[str] = frozenset(),
) -> list[SignOutcome]:
    """TRI-TOXIN-SPREAD / TRI-URG-NEURO-SIGN for the reported signs (empty when none apply)."""
    dedicated = {s for s in symptoms if catalog.get(s).rule == TOXIN_RULE}
    also_spread = {s for s in symptoms if catalog.get(s).toxin_spread_disposition and s not in dedicated}
    if toxin_given is not False and day <= toxin_window_days:
        signs = dedicated | (also_spread if toxin_given else set())
        if not signs:
            return []
        disposition = (_EMERGENCY if any(catalog.get(s).toxin_spread_disposition == _EMERGENCY for s in signs)
                       else _URGENT)
        given = "after botulinum toxin" if toxin_given else "(botulinum toxin not ruled out)"
        source = " (from your message)" if signs <= from_text else ""
        return [SignOutcome(disposition, TOXIN_RULE,
                            f"Possible spread of botulinum toxin on day {day} {given}: "
                            f"{_labels(signs, catalog)}{source}.",
                            {"symptoms": sorted(signs), "day": day, "toxin_given": toxin_given})]
    if not dedicated:
        return []
    why = "no botulinum toxin was given" if toxin_given is False else f"after the {toxin_window_days}-day toxin window"
    return [SignOutcome(_URGENT, NEURO_RULE,
                        f"New nerve sign on day {day} ({why}): {_labels(dedicated, catalog)}.",
                        {"symptoms": sorted(dedicated), "day": day})]


def alarm_outcome(unread_alarm_words: tuple[str, ...], unread_emergency_words: tuple[str, ...] = ()) -> SignOutcome | None:
    if not unread_alarm_words:
        return None
    words = ", ".join(f"“{word}”" for word in unread_alarm_words)
    if unread_emergency_words:
        return SignOutcome(_EMERGENCY, EMERGENCY_ALARM_RULE,
                           f"Your message mentions {words}, which could be an emergency warning sign, in words "
                           f"we could not read.", {"words": list(unread_alarm_words)})
    return SignOutcome(_URGENT, ALARM_RULE,
                       f"Your message mentions {words}, which could be a warning sign; a clinician will call you.",
                       {"words": list(unread_alarm_words)})
