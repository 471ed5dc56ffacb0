"""The audit action registry (audit/actions.py) is the one list of what the trail can say.

Checked three ways: writing an unregistered action raises before anything is stored; every
action named in the code is registered and follows ``<app>.<record>.<verb>``; and every
registered action is named somewhere in the code (no dead entries that a search would
promise but never find).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from django.apps import apps

from triggerpoint.audit import services as audit
from triggerpoint.audit.actions import (
    LEGACY_ACTIONS,
    AuditAction,
    UnregisteredAuditAction,
    actions_starting_with,
)
from triggerpoint.audit.models import AuditEvent

PACKAGE = Path(__file__).resolve().parents[2]
SCHEME = re.compile(r"^[a-z]+\.[a-z_]+\.[a-z_]+$")


def _named_actions() -> tuple[dict[str, list[str]], list[re.Pattern]]:
    """Literal actions passed to the audit writers in runtime code, and f-string actions as patterns."""
    literals: dict[str, list[str]] = {}
    patterns: list[re.Pattern] = []
    for path in PACKAGE.rglob("*.py"):
        if "tests" in path.parts or "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "attr", None) or getattr(node.func, "id", None)
            args = []
            if name in ("record", "record_patient_views") and node.args:
                args = [node.args[0]]
            args += [kw.value for kw in node.keywords if kw.arg == "action" and name == "AuditEvent"]
            for arg in args:
                options = [arg.body, arg.orelse] if isinstance(arg, ast.IfExp) else [arg]
                for option in options:
                    where = f"{path.relative_to(PACKAGE)}:{node.lineno}"
                    if isinstance(option, ast.Constant) and isinstance(option.value, str):
                        literals.setdefault(option.value, []).append(where)
                    elif isinstance(option, ast.JoinedStr):
                        parts = [re.escape(v.value) if isinstance(v, ast.Constant) else "[a-z_]+" for v in option.values]
                        patterns.append(re.compile("^" + "".join(parts) + "$"))
                    elif isinstance(option, ast.Name) and path.parent.name == "audit":
                        continue  # the writers themselves pass their caller's action through
                    else:
                        pytest.fail(f"{where}: audit action is neither a literal nor an f-string; the registry test cannot see it")
    return literals, patterns


def test_every_action_named_in_the_code_is_registered():
    literals, patterns = _named_actions()
    assert len(literals) > 50, "the scan found too few audit calls; has the audit API changed?"
    unregistered = {action: where for action, where in literals.items() if action not in AuditAction._value2member_map_}
    assert not unregistered, f"register these in audit/actions.py: {unregistered}"
    for pattern in patterns:
        assert any(pattern.match(a) for a in AuditAction), f"no registered action matches {pattern.pattern}"


def test_every_registered_action_is_named_in_the_code():
    literals, patterns = _named_actions()
    unused = [a.value for a in AuditAction if a.value not in literals and not any(p.match(a.value) for p in patterns)]
    assert not unused, f"registered but never recorded (remove them or record them): {unused}"


def test_actions_follow_one_scheme_app_record_verb():
    labels = {config.label for config in apps.get_app_configs()}
    for action in AuditAction:
        assert SCHEME.match(action.value), action.value
        assert action.value.split(".")[0] in labels, f"{action.value}: first part is not an installed app label"


@pytest.mark.django_db
def test_an_unregistered_action_raises_and_stores_nothing(patient):
    before = AuditEvent.objects.count()
    with pytest.raises(UnregisteredAuditAction, match="patient.viewd"):
        audit.record("patient.viewd", obj=patient)
    with pytest.raises(UnregisteredAuditAction):
        audit.record_patient_views("patients.patient.listd", [patient])
    assert AuditEvent.objects.count() == before
    audit.record(AuditAction.PATIENTS_PATIENT_VIEWED, obj=patient)
    assert AuditEvent.objects.count() == before + 1


def test_legacy_names_map_to_registered_actions_and_searches_find_both():
    assert LEGACY_ACTIONS["patient.viewed"] is AuditAction.PATIENTS_PATIENT_VIEWED
    found = actions_starting_with("patients.patient.")
    assert "patients.patient.viewed" in found and "patient.viewed" in found and "patient.listed" in found
    assert "screening.screening.viewed" not in found
    assert actions_starting_with("nothing.") == []
