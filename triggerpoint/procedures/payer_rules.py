"""Payer rules: coverage of the session (regions, dry needling, imaging, injectates) and how often it repeats.

Thresholds are the payer table's (``data/payers.yaml``). They warn the coder and never
change the codes; the repeat rules (interval, 12-month counts) also stop signing until a
physician overrides, and show on the screening result. Whether a repeat limit is met is decided by
the one repeat-timing rule, `catalogues.repeat_limits` (the outcomes repeat policy uses it too);
this module words the warnings.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from triggerpoint.catalogues.repeat_limits import REGION_SESSIONS, SESSIONS, RepeatLimits, timing_checks
from triggerpoint.core.rules import Finding, Rule
from triggerpoint.procedures.code_tables import (
    SEVERITY_INFO,
    SEVERITY_WARNING,
    CodeTables,
    PayerPolicy,
    load_code_tables,
)
from triggerpoint.procedures.drug_codes import CodingInjectate
from triggerpoint.procedures.drugs import DrugCatalog

PAYER_HISTORY_MISSING_RULE = Rule(
    id="PAYER-HISTORY-MISSING",
    version=1,
    title="Payer frequency limits not checked",
    basis="The payer limits how often TPI is covered; without the session history the limit cannot be checked.",
    sources=("data/payers.yaml",),
)
PAYER_FREQUENCY_RULE = Rule(
    id="PAYER-FREQ-12M",
    version=1,
    title="Sessions per rolling 12 months",
    basis="The payer covers a limited number of TPI sessions in a rolling 12 months (this session included).",
    sources=("data/payers.yaml",),
)
PAYER_REGION_FREQUENCY_RULE = Rule(
    id="PAYER-FREQ-REGION-12M",
    version=1,
    title="Sessions per body region per 12 months",
    basis="The payer covers a limited number of sessions in one body region per year (this session included).",
    sources=("data/payers.yaml",),
)
PAYER_INTERVAL_RULE = Rule(
    id="PAYER-INTERVAL-SAME-REGION",
    version=1,
    title="Interval before repeating in the same region",
    basis="The payer requires a minimum interval before TPI is repeated in the same location.",
    sources=("data/payers.yaml",),
)
PAYER_MULTI_REGION_RULE = Rule(
    id="PAYER-MULTI-REGION",
    version=1,
    title="Several anatomic regions in one session",
    basis="The payer does not cover injections into multiple anatomic regions in one session.",
    sources=("data/payers.yaml", "Muscle.body_region from the atlas"),
)
PAYER_DRY_NEEDLING_RULE = Rule(
    id="PAYER-DRY-NEEDLING",
    version=1,
    title="Dry needling not covered",
    basis="The payer does not cover dry needling.",
    sources=("data/payers.yaml",),
)
PAYER_IMAGING_RULE = Rule(
    id="PAYER-IMAGING",
    version=1,
    title="Imaging guidance not covered",
    basis="The payer treats ultrasound, fluoroscopy or MRI guidance of TPI as not covered or investigational.",
    sources=("data/payers.yaml",),
)
PAYER_SALINE_ONLY_RULE = Rule(
    id="PAYER-SALINE-ONLY",
    version=1,
    title="Saline-only injectate not covered",
    basis="The payer does not cover injections of saline alone.",
    sources=("data/payers.yaml",),
)
PAYER_INJECTATE_RULE = Rule(
    id="PAYER-INJECTATE-CLASS",
    version=1,
    title="Injectate class not covered",
    basis="The payer covers only some injectate classes for TPI.",
    sources=("data/payers.yaml",),
)


@dataclass(frozen=True)
class SessionHistory:
    """What the payer rules need to know about earlier sessions (None = not known)."""

    sessions_last_12_months: int | None = None
    sessions_same_region_last_12_months: int | None = None
    days_since_same_region: int | None = None

    @property
    def is_empty(self) -> bool:
        return (
            self.sessions_last_12_months is None
            and self.sessions_same_region_last_12_months is None
            and self.days_since_same_region is None
        )



def payer_warnings(
    payer: PayerPolicy,
    history: SessionHistory,
    guidance: str,
    injectates: Iterable[CodingInjectate],
    injected: list[tuple[str, str]],
    needled: list[tuple[str, str]],
    regions: tuple[str, ...],
    drugs: DrugCatalog,
    warnings: list[Finding],
) -> None:
    def warn(rule: Rule, message: str, **data: Any) -> None:
        basis_rule = Rule(
            rule.id, rule.version, rule.title, f"{rule.basis} Payer policy: {payer.name}.", payer.sources
        )
        warnings.append(
            Finding.of(basis_rule, SEVERITY_WARNING, f"{payer.name}: {message}", payer=payer.id, **data)
        )

    has_limits = (
        payer.max_sessions_per_12_months is not None
        or payer.max_sessions_per_region_per_12_months is not None
        or payer.min_days_between_sessions_same_region is not None
    )
    if injected and has_limits and history.is_empty:
        warnings.append(
            Finding.of(
                PAYER_HISTORY_MISSING_RULE,
                SEVERITY_INFO,
                f"{payer.name}: session history not given, so frequency and interval limits were not checked.",
                payer=payer.id,
            )
        )
    if injected:
        _frequency_warnings(payer, history, warn)
        if len(regions) > 1 and not payer.multiple_regions_per_session_covered:
            warn(
                PAYER_MULTI_REGION_RULE,
                f"injections into {len(regions)} anatomic regions in one session ({', '.join(regions)}) are not "
                "covered.",
                regions=list(regions),
            )
    if needled and not payer.dry_needling_covered:
        warn(PAYER_DRY_NEEDLING_RULE, "dry needling is not covered.")
    if guidance == "ultrasound" and not payer.imaging_guidance_covered:
        warn(PAYER_IMAGING_RULE, "imaging guidance of trigger point injections is not covered.")
    classes = {drugs.get(injectate.drug).drug_class for injectate in injectates}
    if injected and classes == {"saline"} and not payer.saline_only_covered:
        warn(PAYER_SALINE_ONLY_RULE, "injections of saline alone are not covered.")
    if payer.covered_injectate_classes is not None:
        uncovered = sorted(
            {injectate.drug for injectate in injectates}
            - {
                injectate.drug
                for injectate in injectates
                if drugs.get(injectate.drug).drug_class in payer.covered_injectate_classes
            }
        )
        if uncovered:
            warn(
                PAYER_INJECTATE_RULE,
                f"{', '.join(uncovered)} not covered (covered: {', '.join(sorted(payer.covered_injectate_classes))}).",
                drugs=uncovered,
            )


# The payer rules about repeating a session too soon or too often. They warn the coder, and
# the same findings stop signing (until a physician overrides) and show on the screening result.
REPEAT_RULE_IDS = frozenset({PAYER_FREQUENCY_RULE.id, PAYER_REGION_FREQUENCY_RULE.id, PAYER_INTERVAL_RULE.id})


def repeat_findings(
    payer_id: str | None, history: SessionHistory, tables: CodeTables | None = None
) -> tuple[Finding, ...]:
    """The payer's interval and 12-month count findings for a planned session in some body regions.

    `payer_id` None means the clinic's default payer. Thresholds are the payer table's
    (``data/payers.yaml``), the same ones the coder's warnings use.
    """
    tables = tables or load_code_tables()
    payer_id = payer_id or tables.default_payer
    if payer_id is None:
        return ()
    payer = tables.payers[payer_id]
    found: list[Finding] = []

    def warn(rule: Rule, message: str, **data: Any) -> None:
        basis_rule = Rule(
            rule.id, rule.version, rule.title, f"{rule.basis} Payer policy: {payer.name}.", payer.sources
        )
        found.append(Finding.of(basis_rule, SEVERITY_WARNING, f"{payer.name}: {message}", payer=payer.id, **data))

    _frequency_warnings(payer, history, warn)
    return tuple(found)


def payer_repeat_limits(payer: PayerPolicy) -> RepeatLimits:
    """The payer table's repeat thresholds as the repeat-timing rule takes them (`catalogues.repeat_limits`)."""
    return RepeatLimits(
        min_days_same_region=payer.min_days_between_sessions_same_region,
        max_sessions_in_window=payer.max_sessions_per_12_months,
        max_region_sessions_in_window=payer.max_sessions_per_region_per_12_months,
    )


def _frequency_warnings(payer: PayerPolicy, history: SessionHistory, warn: Any) -> None:
    """A warning for each repeat limit not met; the decision is `catalogues.repeat_limits.timing_checks`."""
    checks = timing_checks(
        payer_repeat_limits(payer),
        earlier_in_window=history.sessions_last_12_months,
        earlier_in_region_in_window=history.sessions_same_region_last_12_months,
        days_since_same_region=history.days_since_same_region,
    )
    for check in checks:
        if check.met:
            continue
        if check.criterion == SESSIONS:
            warn(
                PAYER_FREQUENCY_RULE,
                f"this would be session {check.value} in 12 months; at most {check.limit} are covered.",
                sessions_including_this=check.value,
                limit=check.limit,
            )
        elif check.criterion == REGION_SESSIONS:
            warn(
                PAYER_REGION_FREQUENCY_RULE,
                f"this would be session {check.value} in this body region in 12 months; at most {check.limit} are "
                "covered.",
                sessions_including_this=check.value,
                limit=check.limit,
            )
        else:
            warn(
                PAYER_INTERVAL_RULE,
                f"the same region was treated {check.value} days ago; at least {check.limit} days are required.",
                days_since_same_region=check.value,
                minimum_days=check.limit,
            )
