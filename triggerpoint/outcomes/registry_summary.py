"""``summary.summarize`` for the synthetic registry's arrays: each procedure's outcome row, vectorised.

Apart from the drawing (``registry``) because it is the one piece that must agree with
``summary.summarize`` row for row (``tests/test_registry.py`` checks both agree).
"""

from __future__ import annotations

import numpy as np

from triggerpoint.outcomes import relief


def vectorised_summary(pre, post, follow, *, nrs, relief_instrument) -> dict[str, np.ndarray | list]:
    """``summary.summarize`` for registry arrays (follow-ups at increasing days, none after the next procedure)."""
    threshold = relief_instrument.responder.threshold
    loss = relief.DEFAULT_RELIEF_POLICY
    mcid = nrs.mcid
    out: dict[str, np.ndarray | list] = {"baseline_pain": pre.astype(float), "immediate_pain": post.astype(float)}
    for tp in ("2w", "6w", "12w"):
        out[f"pain_{tp}"] = follow[tp]["now"]
        out[f"relief_{tp}"] = follow[tp]["relief"]
    reliefs = np.vstack([follow[tp]["relief"] for tp in ("2w", "6w", "12w")])
    any_relief = ~np.all(np.isnan(reliefs), axis=0)
    out["best_relief"] = np.where(any_relief, np.nanmax(np.where(np.isnan(reliefs), -1, reliefs), axis=0), np.nan)
    for tp in ("2w", "6w"):
        r = follow[tp]["relief"]
        out[f"responder_{tp}"] = np.where(np.isnan(r), np.nan, (r >= threshold).astype(float))
        out[f"change_{tp}"] = follow[tp]["now"] - pre
    improvement = pre - follow["6w"]["now"]
    beats = []
    if mcid.points is not None:
        beats.append(np.round(improvement, 9) >= mcid.points)
    if mcid.percent is not None:
        beats.append(np.round(improvement / pre * 100, 9) >= mcid.percent)
    met = np.all(beats, axis=0) if mcid.combine == "all" else np.any(beats, axis=0)
    out["mcid_6w"] = np.where(np.isnan(improvement), np.nan, met.astype(float))

    n = len(pre)
    days = np.full(n, np.nan)
    event = np.zeros(n, dtype=bool)
    decided = np.zeros(n, dtype=bool)
    last_seen = np.full(n, np.nan)
    for tp in ("2w", "6w", "12w"):
        f = follow[tp]
        seen = f["answered"]
        lost = seen & ~decided & (
            (f["relief"] < loss.min_relief_percent) | (f["now"] >= pre * loss.pain_return_fraction_of_baseline)
        )
        days = np.where(lost, f["day"], days)
        event |= lost
        decided |= lost
        last_seen = np.where(seen, f["day"], last_seen)
    censored = ~decided & ~np.isnan(last_seen)
    days = np.where(censored, last_seen, days)
    out["relief_days"] = days
    out["relief_event"] = event
    out["relief_status"] = np.where(event, "relief_ended", np.where(censored, "censored", "not_evaluable")).tolist()
    return out
