"""Aggregates of one replication: histograms on fixed bins and sums by hour of the week
(which add up over replications; the report draws distributions and weekly profiles from
them), and the headline KPIs per day type and per calendar date.
"""

from __future__ import annotations

import math

import numpy as np

from sim.codes import AMBULANCE_A1, DESK_INDEX
from sim.measures.kpis import Kpi, KpiContext, pool_names, registry

# fixed histogram bins, so replications add up
ANSWER_EDGES = np.arange(0.0, 20.0 + 1e-9, 0.25)
CARE_RATIO_EDGES = np.arange(0.0, 3.0 + 1e-9, 0.05)
A1_EDGES = np.arange(0.0, 40.0 + 1e-9, 0.5)


def histograms(ctx: KpiContext) -> dict[str, list[float]]:
    """Time to answer per desk (minutes), time to care over target per urgency (with a last
    bin counting requests that never got care), and A1 response (minutes)."""
    sc = ctx.sc
    c = ctx.rec.calls
    out: dict[str, list[float]] = {}
    public = ctx.call_reported & ctx.call_public
    for desk in sc.active_desks():
        m = public & (c["desk"] == DESK_INDEX[desk]) & ~np.isnan(ctx.call_wait)
        w = np.minimum(ctx.call_wait[m], ANSWER_EDGES[-1] - 1e-9)
        out[f"answer.{desk}"] = np.histogram(w, ANSWER_EDGES)[0].astype(float).tolist()
    for urgency in dict.fromkeys(n.urgency for n in sc.needs.values()):
        m = ctx.reported & ctx.of_urgency(urgency)
        ratio = ctx.time_to_care[m] / ctx.target_of(m)
        reached = ratio[~np.isnan(ratio)]
        h = np.histogram(np.minimum(reached, CARE_RATIO_EDGES[-1] - 1e-9), CARE_RATIO_EDGES)[0]
        out[f"care.{urgency}"] = h.astype(float).tolist() + [float(np.isnan(ratio).sum())]
    rides = ctx.rec.rides
    a1 = ctx.ride_reported & (rides["priority"] == AMBULANCE_A1)
    resp = rides["on_scene_min"][a1] - rides["call_taken_min"][a1]
    clipped = np.minimum(resp, A1_EDGES[-1] - 1e-9)
    out["a1_response"] = np.histogram(clipped, A1_EDGES)[0].astype(float).tolist()
    return out


def hour_of_week_sums(ctx: KpiContext) -> dict[str, list[float]]:
    """Sums by hour of week (after warm-up): busy and on-duty minutes per pool; answer
    waits and answered calls per desk."""
    sc = ctx.sc
    tl = ctx.tl
    hours = np.arange(tl.n_hours)
    lo = int(tl.warmup_end_min // 60)
    hi = int(math.ceil(tl.arrivals_end_min / 60))
    window = (hours >= lo) & (hours < hi)
    how = tl.hour_of_week
    out: dict[str, list[float]] = {}
    for name in pool_names(sc):
        busy, present = ctx.pool_areas[name]
        out[f"busy.{name}"] = np.bincount(how[window], weights=busy[window], minlength=168).tolist()
        out[f"present.{name}"] = np.bincount(
            how[window], weights=present[window], minlength=168
        ).tolist()
    c = ctx.rec.calls
    placed_hour = np.minimum((c["placed_min"] // 60).astype(np.int32), tl.n_hours - 1)
    public = ctx.call_reported & ctx.call_public & ~np.isnan(ctx.call_wait)
    for desk in sc.active_desks():
        m = public & (c["desk"] == DESK_INDEX[desk])
        h = how[placed_hour[m]]
        out[f"wait_sum.{desk}"] = np.bincount(h, weights=ctx.call_wait[m], minlength=168).tolist()
        out[f"wait_n.{desk}"] = np.bincount(h, minlength=168).astype(float).tolist()
    return out


#: The figure of a day that counts its reported requests (beside the headline KPIs).
REQUESTS_KEY = "requests.reported"


def calendar_kpis(ctx: KpiContext) -> dict[str, dict[str, dict[str, float]]]:
    """The headline KPIs and the count of reported requests for each day type and each
    calendar date of the reported window (a request belongs to the day it arrives on)."""
    tl = ctx.tl
    headline = [k for k in registry(ctx.sc) if k.headline]
    hours = np.arange(tl.n_hours)
    lo = int(tl.warmup_end_min // 60)
    hi = int(math.ceil(tl.arrivals_end_min / 60))
    window = (hours >= lo) & (hours < hi)
    day = hours // 24
    by_type = {
        tl.day_type_names[code]: _day_figures(ctx.narrowed(tl.day_type == code), headline)
        for code in np.unique(tl.day_type[window]).tolist()
    }
    dates = tl.dates()
    days = np.unique(day[window]).tolist()
    by_date = {
        dates[d].isoformat(): _day_figures(sub, headline)
        for d, sub in zip(days, ctx.narrowed_by(day, days), strict=True)
    }
    return {"day_type": by_type, "date": by_date}


def _day_figures(sub: KpiContext, kpis: list[Kpi]) -> dict[str, float]:
    out = {REQUESTS_KEY: float(sub.n_reported)}
    out.update({k.name: k.formula(sub) for k in kpis})
    return out
