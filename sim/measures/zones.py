"""Ambulance figures per demand zone (with a geography): A1 within 15 minutes, mean and
90th-percentile A1 response, and coverage: the share of the reported after-hours time in
which the zone had an idle ambulance at a post within the cover drive (12 minutes: the
drive budget of the 15-minute A1 norm).

Coverage is computed after the run from the rides' posts and busy intervals (assigned to
free again) and the posts' vehicles on duty per hour: a post has an idle vehicle while its
vehicles on duty outnumber its busy ones.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from sim.codes import AMBULANCE_A1
from sim.model.geography import cover_matrix, post_vehicles_per_hour

#: A measurement context (``sim.measures.kpis.KpiContext``; this module sits below it).
KpiContext = Any

#: The A1 response norm (minutes from the call being taken to on scene).
A1_NORM_MIN = 15.0


def zone_a1_response(ctx: KpiContext, zone: int) -> np.ndarray:
    """Response times (call taken to on scene) of the reported A1 rides in ``zone``."""
    rides = ctx.rec.rides
    m = ctx.ride_reported & (rides["priority"] == AMBULANCE_A1) & (rides["zone"] == zone)
    return rides["on_scene_min"][m] - rides["call_taken_min"][m]


def zone_coverage(ctx: KpiContext) -> np.ndarray:
    """Per zone, the share of the reported after-hours minutes with an idle vehicle at a
    post that covers it (nan when the window has no after-hours minute)."""
    cached = ctx.cache.get("zone_coverage")
    if cached is not None:
        return cached
    sc, tl = ctx.sc, ctx.tl
    vehicles = post_vehicles_per_hour(sc, tl).astype(np.int32)
    rides = ctx.rec.rides
    start, end, post = rides["assigned_min"], rides["released_min"], rides["post"]
    moves = getattr(ctx.rec, "moves", None) or {}
    edges = np.arange(tl.n_hours + 1) * 60.0
    move_times = [moves[k] for k in ("begin_min", "end_min") if k in moves]
    times = np.unique(np.concatenate([edges, start, end, *move_times]))
    times = times[times <= edges[-1]]
    seg_start, seg_len = times[:-1], np.diff(times)
    # 32-bit counts and hours: a year holds ~10^5 segments, and this is the largest
    # passing need of a replication's measures (it sets a long run's peak memory)
    hour = np.minimum((seg_start // 60.0).astype(np.int32), tl.n_hours - 1)
    weight = seg_len * ctx.window_hours[hour]
    del seg_len
    idle = np.zeros((vehicles.shape[0], len(seg_start)), dtype=bool)  # posts x segments
    n = len(seg_start)
    for p in range(vehicles.shape[0]):
        mine = post == p
        busy = _busy(start[mine], end[mine], seg_start, n)
        if moves and len(moves["post"]):
            busy -= _moved(moves, p, seg_start).astype(np.int32)
        idle[p] = vehicles[p, hour] > busy
    cover = cover_matrix(sc) > 0  # posts x zones
    total = float(weight.sum())
    out = np.full(cover.shape[1], np.nan)
    if total > 0:
        # zone by zone: a year holds ~10^5 segments, so a zones x segments table would be
        # the largest array of a replication's measures
        for zone in range(cover.shape[1]):
            covered = idle[cover[:, zone]].any(axis=0)
            out[zone] = (covered * weight).sum() / total
    ctx.cache["zone_coverage"] = out
    return out


def _busy(began: np.ndarray, ended: np.ndarray, at: np.ndarray, n: int) -> np.ndarray:
    """How many of the spans [began, ended) hold at each of the ``n`` sorted times ``at``
    (a span counts from the first ``at`` not before its start, and stops counting from the
    first not before its end): the rides placed among the segments, as one running sum."""
    counts = np.zeros(n + 1, dtype=np.int32)
    np.add.at(counts, np.searchsorted(at, began, "left"), 1)
    np.add.at(counts, np.searchsorted(at, ended, "left"), -1)
    return np.cumsum(counts[:n], out=counts[:n])


def _in_effect(begin: np.ndarray, until: np.ndarray, at: np.ndarray) -> np.ndarray:
    """How many of the spans [begin, until) hold at each time of ``at``."""
    return np.searchsorted(np.sort(begin), at, "right") - np.searchsorted(
        np.sort(until), at, "right"
    )


def _moved(moves: dict[str, np.ndarray], post: int, at: np.ndarray) -> np.ndarray:
    """What move-up's stand-ins add to (or take from) ``post`` at each time of ``at``."""
    if not moves or not len(moves["post"]):
        return np.zeros(len(at), dtype=np.int64)
    out = np.zeros(len(at), dtype=np.int64)
    for delta in (1, -1):
        m = (moves["post"] == post) & (moves["delta"] == delta)
        out += delta * _in_effect(moves["begin_min"][m], moves["end_min"][m], at)
    return out


def zone_kpi_formulas(
    zone: int,
) -> tuple[Callable[[KpiContext], float], ...]:
    """(A1 within 15 min, mean A1 response, P90 A1 response, coverage) of one zone."""

    def within(ctx: KpiContext) -> float:
        resp = zone_a1_response(ctx, zone)
        return float((resp <= A1_NORM_MIN + 1e-9).mean()) if resp.size else float("nan")

    def mean(ctx: KpiContext) -> float:
        resp = zone_a1_response(ctx, zone)
        return float(resp.mean()) if resp.size else float("nan")

    def p90(ctx: KpiContext) -> float:
        resp = zone_a1_response(ctx, zone)
        return float(np.percentile(resp, 90)) if resp.size else float("nan")

    def coverage(ctx: KpiContext) -> float:
        return float(zone_coverage(ctx)[zone])

    return within, mean, p90, coverage
