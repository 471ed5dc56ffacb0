"""The clinic outcomes report: responders, pain change and duration of relief by condition, muscle,
injectate, guidance and clinician, over any date range — at registry scale.

How it stays fast: every procedure's outcome row (``ProcedureOutcome``) adds its
counts, sums and sums of squares, and its (days, event) pair, to the rollup rows
of its clinic, month and groups (``OutcomeRollup``, ``ReliefRollup``). All of these
add up, so the report for a date range is

* the sum of the rollup rows of the whole months inside the range (a few
  thousand rows for a million procedures), plus
* the same statistics computed on the fly from the outcome rows of the partial
  months at either end (at most two months of procedures),

and the statistics of ``stats.py`` (Wilson and t intervals, Kaplan-Meier with
lifelines on the counted durations) are computed from those totals. When one
procedure's outcome changes, ``apply_change`` subtracts its old contribution
and adds the new one: the rollups are maintained incrementally, and
``rebuild_rollups`` recomputes them from scratch (tested to agree).
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import pandas as pd
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Max, Min, Q, Sum

from triggerpoint.core import generations
from triggerpoint.outcomes import bulk, relief, stats
from triggerpoint.outcomes.models import Dimension, OutcomeRollup, ProcedureOutcome, ReliefRollup

BREAKDOWNS = (Dimension.CONDITION, Dimension.MUSCLE, Dimension.INJECTATE, Dimension.GUIDANCE, Dimension.CLINICIAN)
UNSPECIFIED = "unspecified"
SUMMARY_FIELDS = (
    "clinic_id", "procedure_date", "condition", "muscles", "injectates", "guidance", "clinician_id",
    "responder_2w", "responder_6w", "change_2w", "change_6w", "mcid_6w", "relief_days", "relief_event",
)


# ----------------------------------------------------------------------------- contributions
def _month(day: date) -> date:
    return day.replace(day=1)


def _groups(row: Mapping) -> list[tuple[str, str]]:
    """Every (dimension, value) a procedure counts in."""
    keys = [(Dimension.ALL.value, "all"), (Dimension.CONDITION.value, row["condition"] or UNSPECIFIED)]
    keys += [(Dimension.MUSCLE.value, m) for m in sorted(set(row["muscles"] or []))]
    keys += [(Dimension.INJECTATE.value, d) for d in sorted(set(row["injectates"] or []))]
    keys.append((Dimension.GUIDANCE.value, row["guidance"] or UNSPECIFIED))
    keys.append((Dimension.CLINICIAN.value, str(row["clinician_id"]) if row["clinician_id"] else UNSPECIFIED))
    return keys


def _stat_vector(row: Mapping) -> dict[str, float]:
    c2, c6 = row["change_2w"], row["change_6w"]
    return {
        "n": 1,
        "n_2w": int(row["responder_2w"] is not None),
        "resp_2w": int(bool(row["responder_2w"])),
        "n_6w": int(row["responder_6w"] is not None),
        "resp_6w": int(bool(row["responder_6w"])),
        "n_change_2w": int(c2 is not None),
        "sum_change_2w": c2 or 0.0,
        "sumsq_change_2w": (c2 or 0.0) ** 2,
        "n_change_6w": int(c6 is not None),
        "sum_change_6w": c6 or 0.0,
        "sumsq_change_6w": (c6 or 0.0) ** 2,
        "n_mcid_6w": int(bool(row["mcid_6w"])),
        "n_not_evaluable": int(row["relief_days"] is None),
    }


def row_of(outcome: ProcedureOutcome | None) -> dict | None:
    if outcome is None:
        return None
    return {name: getattr(outcome, name) for name in SUMMARY_FIELDS}


@transaction.atomic
def apply_change(old: Mapping | None, new: Mapping | None) -> None:
    """Move one procedure's contribution in the rollups from ``old`` to ``new`` (either may be None)."""
    deltas: dict[tuple, dict[str, float]] = defaultdict(lambda: dict.fromkeys(stats.STAT_FIELDS, 0))
    relief_deltas: dict[tuple, int] = defaultdict(int)
    for row, sign in ((old, -1), (new, 1)):
        if row is None:
            continue
        month = _month(row["procedure_date"])
        vector = _stat_vector(row)
        for dimension, value in _groups(row):
            key = (row["clinic_id"], month, dimension, value)
            for name, amount in vector.items():
                deltas[key][name] += sign * amount
            if row["relief_days"] is not None:
                relief_deltas[(*key, int(row["relief_days"]), bool(row["relief_event"]))] += sign
    for (clinic_id, month, dimension, value), delta in deltas.items():
        if not any(delta.values()):
            continue
        _upsert(
            OutcomeRollup,
            {"clinic_id": clinic_id, "month": month, "dimension": dimension, "value": value},
            delta,
        )
    for (clinic_id, month, dimension, value, days, event), delta in relief_deltas.items():
        if delta:
            _upsert(
                ReliefRollup,
                {"clinic_id": clinic_id, "month": month, "dimension": dimension, "value": value, "days": days,
                 "event": event},
                {"count": delta},
            )
    for clinic_id in {k[0] for k in deltas}:
        _bump_version(clinic_id)


def _upsert(model, keys: dict, delta: Mapping[str, float]) -> None:
    increments = {name: F(name) + amount for name, amount in delta.items() if amount}
    if model.objects.filter(**keys).update(**increments):
        return
    try:
        with transaction.atomic():
            model.objects.create(**keys, **delta)
    except IntegrityError:  # created by a concurrent request between our update and insert
        model.objects.filter(**keys).update(**increments)


# ----------------------------------------------------------------------------- pandas path
def summary_frame(rows: Iterable[Mapping] | pd.DataFrame) -> pd.DataFrame:
    frame = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(list(rows), columns=list(SUMMARY_FIELDS))
    frame = frame.copy()
    for name in ("muscles", "injectates"):
        frame[name] = [json.loads(v) if isinstance(v, str) else (v or []) for v in frame[name].tolist()]
    frame["procedure_date"] = pd.to_datetime(frame["procedure_date"])
    return frame


def _present(series: pd.Series) -> pd.Series:
    return series.notna().astype(np.int64)


def _true(series: pd.Series) -> pd.Series:
    return series.eq(True).astype(np.int64)  # None/NaN count as not true


def _stat_frame(frame: pd.DataFrame) -> pd.DataFrame:
    c2 = pd.to_numeric(frame["change_2w"], errors="coerce")
    c6 = pd.to_numeric(frame["change_6w"], errors="coerce")
    days = pd.to_numeric(frame["relief_days"], errors="coerce")
    return pd.DataFrame(
        {
            "clinic_id": frame["clinic_id"].astype(np.int64),
            "month": frame["procedure_date"].dt.to_period("M").dt.to_timestamp().dt.date,
            "n": 1,
            "n_2w": _present(frame["responder_2w"]),
            "resp_2w": _true(frame["responder_2w"]),
            "n_6w": _present(frame["responder_6w"]),
            "resp_6w": _true(frame["responder_6w"]),
            "n_change_2w": c2.notna().astype(np.int64),
            "sum_change_2w": c2.fillna(0.0),
            "sumsq_change_2w": c2.fillna(0.0) ** 2,
            "n_change_6w": c6.notna().astype(np.int64),
            "sum_change_6w": c6.fillna(0.0),
            "sumsq_change_6w": c6.fillna(0.0) ** 2,
            "n_mcid_6w": _true(frame["mcid_6w"]),
            "n_not_evaluable": days.isna().astype(np.int64),
            "relief_days": days,
            "relief_event": frame["relief_event"].eq(True),
        },
        index=frame.index,
    )


def _labelled(series: pd.Series) -> pd.Series:
    return series.fillna("").astype(str).replace("", UNSPECIFIED)


def _dimension_values(frame: pd.DataFrame) -> Iterable[tuple[str, pd.Series]]:
    """(dimension, value series indexed like the frame; repeated index for multi-valued dimensions)."""
    yield Dimension.ALL.value, pd.Series("all", index=frame.index)
    yield Dimension.CONDITION.value, _labelled(frame["condition"])
    yield Dimension.MUSCLE.value, frame["muscles"].explode().dropna()  # lists are stored sorted and unique
    yield Dimension.INJECTATE.value, frame["injectates"].explode().dropna()
    yield Dimension.GUIDANCE.value, _labelled(frame["guidance"])
    clinician = pd.to_numeric(frame["clinician_id"], errors="coerce").fillna(-1).astype(np.int64).astype(str)
    yield Dimension.CLINICIAN.value, clinician.replace("-1", UNSPECIFIED)


def rollup_frames(frame: pd.DataFrame, by_month: bool = True) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The rollup rows of a summary frame: (statistics, relief counts), keyed by clinic, month, dimension, value."""
    base = _stat_frame(frame)
    keys = ["clinic_id", "month"] if by_month else ["clinic_id"]
    stat_parts, relief_parts = [], []
    stat_columns = list(stats.STAT_FIELDS)
    for dimension, values in _dimension_values(frame):
        if values.empty:
            continue
        part = base.loc[values.index, keys + stat_columns + ["relief_days", "relief_event"]].copy()
        part["dimension"] = dimension
        part["value"] = values.astype(str).to_numpy()
        stat_parts.append(part.groupby(keys + ["dimension", "value"], sort=False)[stat_columns].sum())
        evaluable = part[part["relief_days"].notna()]
        relief_parts.append(
            evaluable.groupby(keys + ["dimension", "value", "relief_days", "relief_event"], sort=False).size()
        )
    if not stat_parts:
        empty = pd.DataFrame(columns=keys + ["dimension", "value", *stat_columns])
        return empty, pd.DataFrame(columns=keys + ["dimension", "value", "days", "event", "count"])
    stat_df = pd.concat(stat_parts).reset_index()
    relief_df = pd.concat(relief_parts).rename("count").reset_index().rename(
        columns={"relief_days": "days", "relief_event": "event"}
    )
    relief_df["days"] = relief_df["days"].astype(np.int64)
    return stat_df, relief_df


def _summary_rows_sql(where: str, params: list) -> pd.DataFrame:
    table = ProcedureOutcome._meta.db_table
    columns = ", ".join(SUMMARY_FIELDS)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {columns} FROM {table} WHERE {where}", params)  # noqa: S608 - fixed columns
        rows = cursor.fetchall()
    frame = pd.DataFrame(rows, columns=list(SUMMARY_FIELDS))
    return summary_frame(frame)


@transaction.atomic
def rebuild_rollups(clinic_ids: Iterable[int] | None = None, chunk_days: int = 370) -> int:
    """Recompute every rollup row of these clinics (all clinics when None) from the outcome rows."""
    clinic_filter = Q() if clinic_ids is None else Q(clinic_id__in=list(clinic_ids))
    OutcomeRollup.objects.filter(clinic_filter).delete()
    ReliefRollup.objects.filter(clinic_filter).delete()
    span = ProcedureOutcome.objects.filter(clinic_filter).aggregate(
        first=Min("procedure_date"), last=Max("procedure_date")
    )
    if span["first"] is None:
        return 0
    written = 0
    start = _month(span["first"])
    while start <= span["last"]:
        stop = _add_months(start, max(chunk_days // 31, 1))
        where = "procedure_date >= %s AND procedure_date < %s"
        params: list = [start, stop]
        if clinic_ids is not None:
            ids = list(clinic_ids)
            where += f" AND clinic_id IN ({', '.join(['%s'] * len(ids))})"
            params += ids
        frame = _summary_rows_sql(where, params)
        if not frame.empty:
            stat_df, relief_df = rollup_frames(frame)
            written += _write_rollups(stat_df, relief_df)
        start = stop
    for clinic_id in clinic_ids or ProcedureOutcome.objects.values_list("clinic_id", flat=True).distinct():
        _bump_version(clinic_id)
    return written


def _write_rollups(stat_df: pd.DataFrame, relief_df: pd.DataFrame) -> int:
    stat_columns = {name: stat_df[name].to_numpy() for name in stats.STAT_FIELDS}
    for name in stats.STAT_FIELDS:
        if name.startswith("n") or name.startswith("resp"):
            stat_columns[name] = stat_columns[name].astype(np.int64)
        else:
            stat_columns[name] = stat_columns[name].astype(float)
    bulk.insert_columns(
        OutcomeRollup,
        {
            "clinic_id": stat_df["clinic_id"].to_numpy(np.int64),
            "month": [m.isoformat() for m in stat_df["month"]],
            "dimension": stat_df["dimension"].tolist(),
            "value": stat_df["value"].tolist(),
            **stat_columns,
        },
        len(stat_df),
    )
    bulk.insert_columns(
        ReliefRollup,
        {
            "clinic_id": relief_df["clinic_id"].to_numpy(np.int64),
            "month": [m.isoformat() for m in relief_df["month"]],
            "dimension": relief_df["dimension"].tolist(),
            "value": relief_df["value"].tolist(),
            "days": relief_df["days"].to_numpy(np.int64),
            "event": relief_df["event"].to_numpy(bool),
            "count": relief_df["count"].to_numpy(np.int64),
        },
        len(relief_df),
    )
    return len(stat_df) + len(relief_df)


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


# ----------------------------------------------------------------------------- the report
@dataclass(frozen=True)
class Report:
    clinic_id: int
    date_from: date | None
    date_to: date | None
    overall: stats.GroupResult
    breakdowns: dict[str, list[stats.GroupResult]]
    seconds: float = 0.0
    rollup_months: tuple[date, date] | None = None
    edge_procedures: int = 0
    notes: list[str] = field(default_factory=list)

    def group(self, dimension: str, value: str) -> stats.GroupResult | None:
        if dimension == Dimension.ALL:
            return self.overall
        return next((g for g in self.breakdowns.get(dimension, []) if g.value == value), None)


def _rollup_generation(clinic_id: int) -> str:
    return f"outcomes-rollup:{clinic_id}"


def _bump_version(clinic_id: int) -> None:
    """Reports computed before this rollup change are no longer served (see core.generations)."""
    generations.renew([_rollup_generation(clinic_id)])


def _full_months(date_from: date | None, date_to: date | None) -> tuple[date | None, date | None]:
    """First and last month lying wholly inside the range (None: unbounded on that side)."""
    first = None
    if date_from is not None:
        first = _month(date_from) if date_from.day == 1 else _add_months(_month(date_from), 1)
    last = None
    if date_to is not None:
        last = _month(date_to) if (date_to + timedelta(days=1)).day == 1 else _add_months(_month(date_to), -1)
    return first, last


def clinic_report(
    clinic_id: int,
    date_from: date | None = None,
    date_to: date | None = None,
    labels: Mapping[str, Mapping[str, str]] | None = None,
    use_cache: bool = True,
) -> Report:
    """The outcome report of one clinic for procedures dated ``date_from``..``date_to`` (inclusive)."""
    cache_key = f"outcomes:report:{clinic_id}:{date_from}:{date_to}"
    token = generations.INITIAL
    if use_cache:
        cached, token = generations.read(cache_key, _rollup_generation(clinic_id))
        if cached is not None:
            return cached
    started = time.perf_counter()
    first, last = _full_months(date_from, date_to)
    totals: dict[tuple[str, str], stats.GroupTotals] = defaultdict(stats.GroupTotals)
    counts: dict[tuple[str, str], dict[tuple[int, bool], int]] = defaultdict(lambda: defaultdict(int))

    month_filter = Q(clinic_id=clinic_id)
    if first is not None:
        month_filter &= Q(month__gte=first)
    if last is not None:
        month_filter &= Q(month__lte=last)
    has_full_months = first is None or last is None or first <= last
    if has_full_months:
        sums = {name: Sum(name) for name in stats.STAT_FIELDS}
        for row in OutcomeRollup.objects.filter(month_filter).values("dimension", "value").annotate(**sums).order_by():
            totals[(row["dimension"], row["value"])].add(row)
        relief_rows = (
            ReliefRollup.objects.filter(month_filter)
            .values_list("dimension", "value", "days", "event")
            .annotate(total=Sum("count"))
            .order_by()
        )
        for dimension, value, days, event, total in relief_rows:
            counts[(dimension, value)][(days, bool(event))] += total

    # partial months at the ends of the range come straight from the outcome rows
    edges: list[tuple[date, date]] = []
    if date_from is not None or date_to is not None:
        if not has_full_months:
            edges.append((date_from or date.min, date_to or date.max))
        else:
            if date_from is not None and first is not None and date_from < first:
                edges.append((date_from, first - timedelta(days=1)))
            if date_to is not None and last is not None and date_to >= _add_months(last, 1):
                edges.append((_add_months(last, 1), date_to))
    edge_count = 0
    for low, high in edges:
        frame = _summary_rows_sql("clinic_id = %s AND procedure_date >= %s AND procedure_date <= %s",
                                  [clinic_id, low, high])
        edge_count += len(frame)
        if frame.empty:
            continue
        stat_df, relief_df = rollup_frames(frame, by_month=False)
        for row in stat_df.to_dict("records"):
            totals[(row["dimension"], row["value"])].add(row)
        for row in relief_df.itertuples(index=False):
            counts[(row.dimension, row.value)][(int(row.days), bool(row.event))] += int(row.count)

    labels = labels or {}

    def result(dimension: str, value: str) -> stats.GroupResult:
        group_counts = [
            relief.DurationCount(days=d, event_observed=e, count=c) for (d, e), c in sorted(counts[(dimension, value)].items())
        ]
        label = labels.get(dimension, {}).get(value, value)
        return stats.group_result(dimension, value, label, totals[(dimension, value)], group_counts)

    overall = result(Dimension.ALL.value, "all") if (Dimension.ALL.value, "all") in totals else stats.group_result(
        Dimension.ALL.value, "all", "All procedures", stats.GroupTotals(), []
    )
    breakdowns: dict[str, list[stats.GroupResult]] = {}
    for dimension in BREAKDOWNS:
        groups = [result(d, v) for (d, v), t in totals.items() if d == dimension and t.n > 0]
        breakdowns[dimension.value] = sorted(groups, key=lambda g: (-g.n, g.label))
    report = Report(
        clinic_id=clinic_id,
        date_from=date_from,
        date_to=date_to,
        overall=overall,
        breakdowns=breakdowns,
        seconds=time.perf_counter() - started,
        rollup_months=(first, last) if has_full_months else None,
        edge_procedures=edge_count,
    )
    if use_cache:
        generations.write(cache_key, token, report, 600)
    return report


def report_rows(report: Report) -> list[dict]:
    """The report as flat rows (CSV and Parquet export, and the bench's comparison)."""
    rows = []
    for group in [report.overall, *[g for groups in report.breakdowns.values() for g in groups]]:
        km = group.relief
        rows.append(
            {
                "dimension": group.dimension,
                "value": group.value,
                "label": group.label,
                "procedures": group.n,
                "responders_2w": group.responders_2w.k,
                "answered_2w": group.responders_2w.n,
                "responder_rate_2w": group.responders_2w.rate,
                "responder_rate_2w_ci_low": group.responders_2w.ci_low,
                "responder_rate_2w_ci_high": group.responders_2w.ci_high,
                "responders_6w": group.responders_6w.k,
                "answered_6w": group.responders_6w.n,
                "responder_rate_6w": group.responders_6w.rate,
                "responder_rate_6w_ci_low": group.responders_6w.ci_low,
                "responder_rate_6w_ci_high": group.responders_6w.ci_high,
                "pain_change_2w_n": group.change_2w.n,
                "pain_change_2w_mean": group.change_2w.mean,
                "pain_change_2w_ci_low": group.change_2w.ci_low,
                "pain_change_2w_ci_high": group.change_2w.ci_high,
                "pain_change_6w_n": group.change_6w.n,
                "pain_change_6w_mean": group.change_6w.mean,
                "pain_change_6w_ci_low": group.change_6w.ci_low,
                "pain_change_6w_ci_high": group.change_6w.ci_high,
                "mcid_6w_rate": group.mcid_6w.rate,
                "relief_evaluable": km.n if km else 0,
                "relief_ended": km.events if km else 0,
                "median_relief_days": km.median_days if km else None,
                "median_relief_days_ci_low": km.median_ci_low if km else None,
                "median_relief_days_ci_high": km.median_ci_high if km else None,
            }
        )
    return rows
