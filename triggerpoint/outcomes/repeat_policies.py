"""Repeat-injection payer policies: the thresholds of every criterion, and the presets file that names them.

A `RepeatPolicy` per payer (defaults: the Medicare LCDs), read from ``data/repeat_policies.yaml``
and checked against its schema. The rules that apply a policy are in ``repeat``, which imports
this module.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import jsonschema
import yaml

from triggerpoint.core.rules import RuleInputError

DATA_DIR = Path(__file__).resolve().parent / "data"
POLICIES_PATH = DATA_DIR / "repeat_policies.yaml"
POLICIES_SCHEMA_PATH = DATA_DIR / "repeat_policies.schema.json"


_MEDICARE_SOURCES = (
    "Medicare LCD L34211 https://cms.gov/medicare-coverage-database/view/lcd.aspx?LCDId=34211",
    "Medicare LCD L36859 https://www.cms.gov/medicare-coverage-database/view/lcd.aspx?LCDId=36859&CptHcpcsCode=20552",
    "LCD summaries https://verity.backworkai.com/policy/L36859 ; https://verity.backworkai.com/policy/L34211",
    "Billing article A57701 summary https://verity.backworkai.com/policy/A57701",
    "CMS proposed LCD notes DL39662/DL39671 (6 weeks before the same location) "
    "https://cms.gov/medicare-coverage-database/view/lcd.aspx?lcdid=39661",
)


@dataclass(frozen=True)
class RepeatPolicy:
    """The thresholds of every repeat criterion (defaults: Medicare LCDs). None turns a criterion off."""

    id: str = "medicare_lcd"
    name: str = "Medicare LCDs L34211 / L36859 (2024 harmonized TPI)"
    min_relief_percent: float | None = 50
    min_relief_duration_weeks: int | None = 6
    min_functional_improvement_percent: float | None = 50
    min_weeks_since_same_area: int | None = 6
    max_sessions_per_12_months: int | None = 3
    max_sessions_per_region_per_year: int | None = None
    window_days: int = 365
    sources: tuple[str, ...] = _MEDICARE_SOURCES
    notes: str = ""


DEFAULT_REPEAT_POLICY = RepeatPolicy()


@lru_cache(maxsize=1)
def load_repeat_policies() -> dict[str, RepeatPolicy]:
    """The payer presets from ``data/repeat_policies.yaml``, validated against their schema (cached)."""
    schema = json.loads(POLICIES_SCHEMA_PATH.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    data = yaml.safe_load(POLICIES_PATH.read_text(encoding="utf-8"))
    errors = list(jsonschema.Draft202012Validator(schema).iter_errors(data))
    if errors:
        raise RuleInputError(
            [
                f"{POLICIES_PATH.name}: {'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}"
                for e in errors
            ]
        )
    policies: dict[str, RepeatPolicy] = {}
    problems: list[str] = []
    for entry in data["policies"]:
        if entry["id"] in policies:
            problems.append(f"{POLICIES_PATH.name}: policy {entry['id']!r} is defined twice")
        policies[entry["id"]] = RepeatPolicy(**{**entry, "sources": tuple(entry["sources"])})
    if data["default"] not in policies:
        problems.append(f"{POLICIES_PATH.name}: default {data['default']!r} is not a defined policy")
    if problems:
        raise RuleInputError(problems)
    return policies


def get_repeat_policy(policy_id: str) -> RepeatPolicy:
    policies = load_repeat_policies()
    try:
        return policies[policy_id]
    except KeyError:
        raise RuleInputError(
            f"unknown repeat policy {policy_id!r}; allowed: {', '.join(sorted(policies))}"
        ) from None
