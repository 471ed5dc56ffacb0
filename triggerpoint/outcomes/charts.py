"""Server-rendered SVG charts: geometry only (pure). Templates draw the shapes; CSS classes colour them.

Hand-built rather than matplotlib so the charts are crisp at any zoom, carry
<title> tooltips and accessible labels, inherit the page's fonts, and obey the
strict CSP (no inline style: every colour is a class in ``outcomes.css``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

SERIES = 6  # distinct colour classes s0..s5


@dataclass(frozen=True)
class Box:
    width: int
    height: int
    left: int = 46
    right: int = 16
    top: int = 28
    bottom: int = 40

    @property
    def inner_width(self) -> int:
        return self.width - self.left - self.right

    @property
    def inner_height(self) -> int:
        return self.height - self.top - self.bottom

    @property
    def bottom_y(self) -> float:
        return self.height - self.bottom

    @property
    def right_x(self) -> float:
        return self.width - self.right


@dataclass(frozen=True)
class Tick:
    pos: float
    label: str


#: How an axis names a date: kind is "day" (Jun 02), "month" (Jun) or "month_year" (Jan 2026).
DateLabel = Callable[[date, str], str]
_ENGLISH_DATE_FORMATS = {"day": "%b %d", "month": "%b", "month_year": "%b %Y"}


def english_date_label(day: date, kind: str) -> str:
    return day.strftime(_ENGLISH_DATE_FORMATS[kind])


def _ticks_for_dates(start: date, end: date, box: Box, x, date_label: DateLabel = english_date_label) -> list[Tick]:
    span = (end - start).days
    ticks = []
    if span <= 120:
        day = start + timedelta(days=(7 - start.weekday()) % 7)
        while day <= end:
            ticks.append(Tick(x(day), date_label(day, "day")))
            day += timedelta(days=14 if span > 60 else 7)
        return ticks
    step = 1 if span <= 400 else (3 if span <= 1200 else 6)
    month = date(start.year, start.month, 1)
    while month <= end:
        if month >= start and (month.month - 1) % step == 0:
            ticks.append(Tick(x(month), date_label(month, "month_year" if month.month == 1 or not ticks else "month")))
        index = month.year * 12 + month.month
        month = date(index // 12, index % 12 + 1, 1)
    return ticks


# ----------------------------------------------------------------------------- patient pain chart
@dataclass(frozen=True)
class PainPoint:
    on: date
    pain: float
    kind: str  # baseline | immediate | follow_up | diary
    label: str


@dataclass(frozen=True)
class ProcedureMark:
    on: date
    number: int
    title: str
    relief_days: int | None = None
    relief_ended: bool = False
    relief_title: str = ""  # the band's tooltip in the reader's language; English when empty


@dataclass
class PainChart:
    box: Box
    points: list[dict] = field(default_factory=list)
    line: str = ""
    marks: list[dict] = field(default_factory=list)
    bands: list[dict] = field(default_factory=list)
    x_ticks: list[Tick] = field(default_factory=list)
    y_ticks: list[Tick] = field(default_factory=list)
    empty: bool = True


def pain_chart(points: Sequence[PainPoint], marks: Sequence[ProcedureMark], today: date,
               width: int = 960, height: int = 320, date_label: DateLabel = english_date_label) -> PainChart:
    box = Box(width, height)
    chart = PainChart(box=box)
    chart.y_ticks = [Tick(box.bottom_y - v / 10 * box.inner_height, str(v)) for v in range(0, 11, 2)]
    days = [p.on for p in points] + [m.on for m in marks]
    if not days:
        return chart
    start = min(days) - timedelta(days=7)
    end = max(max(days) + timedelta(days=7), min(today, max(days) + timedelta(days=90)))
    span = max((end - start).days, 1)

    def x(day: date) -> float:
        return round(box.left + (day - start).days / span * box.inner_width, 1)

    def y(pain: float) -> float:
        return round(box.bottom_y - pain / 10 * box.inner_height, 1)

    chart.empty = False
    chart.x_ticks = _ticks_for_dates(start, end, box, x, date_label)
    ordered = sorted(points, key=lambda p: (p.on, p.kind != "baseline"))
    chart.line = " ".join(f"{x(p.on)},{y(p.pain)}" for p in ordered if p.kind != "diary")
    chart.points = [{"x": x(p.on), "y": y(p.pain), "kind": p.kind, "label": p.label} for p in ordered]
    for mark in marks:
        mx = x(mark.on)
        chart.marks.append({"x": mx, "number": mark.number, "title": mark.title})
        if mark.relief_days is not None:
            end_x = x(min(mark.on + timedelta(days=mark.relief_days), end))
            chart.bands.append(
                {
                    "x": mx, "width": max(round(end_x - mx, 1), 2), "ended": mark.relief_ended,
                    "label": f"{'' if mark.relief_ended else '≥ '}{mark.relief_days} d",
                    "title": mark.relief_title or (f"Relief lasted {mark.relief_days} days" if mark.relief_ended
                              else f"Relief still held at the last answer, day {mark.relief_days}"),
                    "text_x": round(mx + 4, 1),
                }
            )
    return chart


# ----------------------------------------------------------------------------- Kaplan-Meier
@dataclass
class KMChart:
    box: Box
    curves: list[dict] = field(default_factory=list)
    x_ticks: list[Tick] = field(default_factory=list)
    y_ticks: list[Tick] = field(default_factory=list)
    median_y: float = 0.0
    empty: bool = True


def km_chart(groups: Sequence[tuple[str, object]], width: int = 620, height: int = 300, max_days: int | None = None) -> KMChart:
    """Step curves of relief over days with their confidence bands; ``groups`` = [(label, KMResult)]."""
    box = Box(width, height, left=46, bottom=40, top=16)
    chart = KMChart(box=box)
    chart.y_ticks = [Tick(box.bottom_y - v / 100 * box.inner_height, f"{v}%") for v in range(0, 101, 25)]
    chart.median_y = box.bottom_y - 0.5 * box.inner_height
    usable = [(label, km) for label, km in groups if km is not None and km.timeline]
    if not usable:
        return chart
    chart.empty = False
    top_day = max_days or max(max(km.timeline) for _, km in usable)
    top_day = max(top_day, 7)
    step = 14 if top_day <= 120 else 28

    def x(day: float) -> float:
        return round(box.left + min(day, top_day) / top_day * box.inner_width, 1)

    def y(share: float) -> float:
        return round(box.bottom_y - share * box.inner_height, 1)

    chart.x_ticks = [Tick(x(d), str(d)) for d in range(0, int(top_day) + 1, step)]
    for index, (label, km) in enumerate(usable):
        times = [0.0, *km.timeline] if km.timeline[0] != 0 else list(km.timeline)
        surv = [1.0, *km.survival] if km.timeline[0] != 0 else list(km.survival)
        low = [1.0, *km.ci_low] if km.timeline[0] != 0 else list(km.ci_low)
        high = [1.0, *km.ci_high] if km.timeline[0] != 0 else list(km.ci_high)
        path, upper, lower = [], [], []
        for i, t in enumerate(times):
            if t > top_day:
                break
            nxt = times[i + 1] if i + 1 < len(times) and times[i + 1] <= top_day else top_day
            path += [f"{x(t)},{y(surv[i])}", f"{x(nxt)},{y(surv[i])}"]
            upper += [f"{x(t)},{y(high[i])}", f"{x(nxt)},{y(high[i])}"]
            lower += [f"{x(t)},{y(low[i])}", f"{x(nxt)},{y(low[i])}"]
        chart.curves.append(
            {
                "label": label,
                "series": f"s{index % SERIES}",
                "line": " ".join(path),
                "band": " ".join(upper + list(reversed(lower))),
                "median": km.median_days,
                "n": km.n,
            }
        )
    return chart


# ----------------------------------------------------------------------------- forest / bar charts
@dataclass
class IntervalChart:
    box: Box
    rows: list[dict] = field(default_factory=list)
    x_ticks: list[Tick] = field(default_factory=list)
    zero_x: float | None = None
    empty: bool = True


def interval_chart(rows: Sequence[tuple[str, float | None, float | None, float | None, int]], low: float, high: float,
                   percent: bool = False, width: int = 620, row_height: int = 26) -> IntervalChart:
    """One row per group: a point (or bar from zero when ``percent``) with its confidence interval."""
    usable = [r for r in rows if r[1] is not None]
    box = Box(width, 40 + row_height * max(len(usable), 1), left=190, right=60, top=8, bottom=32)
    chart = IntervalChart(box=box)
    if not usable:
        return chart
    chart.empty = False

    def x(value: float) -> float:
        value = min(max(value, low), high)
        return round(box.left + (value - low) / (high - low) * box.inner_width, 1)

    ticks = 5
    chart.x_ticks = [
        Tick(x(low + i * (high - low) / ticks), f"{(low + i * (high - low) / ticks) * (100 if percent else 1):.0f}{'%' if percent else ''}")
        for i in range(ticks + 1)
    ]
    if low < 0 < high:
        chart.zero_x = x(0)
    for index, (label, value, ci_low, ci_high, n) in enumerate(usable):
        cy = box.top + row_height * index + row_height / 2
        chart.rows.append(
            {
                "label": label if len(label) <= 28 else label[:27] + "…",
                "full_label": label,
                "y": round(cy, 1),
                "text_y": round(cy + 4, 1),
                "x": x(value),
                "bar_x": x(0) if percent else None,
                "bar_width": round(x(value) - x(0), 1) if percent else None,
                "bar_y": round(cy - row_height * 0.3, 1),
                "bar_height": round(row_height * 0.6, 1),
                "ci_low_x": x(ci_low) if ci_low is not None else None,
                "ci_high_x": x(ci_high) if ci_high is not None else None,
                "value_text": f"{value * 100:.0f}%" if percent else f"{value:+.1f}",
                "n": n,
            }
        )
    return chart
