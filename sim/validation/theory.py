"""Reductions of the real model to cases queueing theory solves, checked against theory.

Plain scenario files in ``scenarios/validation/`` reduce the model (through ordinary
fields, nothing special-cased) to an M/M/c desk, an Erlang-A desk with impatient callers,
a two-class priority desk, an ambulance fleet with three non-preemptive priorities, and
separate against pooled desks. ``theory_checks`` runs them at given loads and pairs every
simulated figure (mean with its interval over replications) with the exact value from
``sim.validation.queueing``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sim.codes import AMBULANCE_A1, AMBULANCE_A2, AMBULANCE_B, DESK_INDEX
from sim.experiments.executors import LocalExecutor
from sim.experiments.replicate import run_replication
from sim.experiments.statistics import t_interval
from sim.model.demand import DAYS_PER_YEAR
from sim.paths import VALIDATION_SCENARIOS_DIR
from sim.scenario.loader import load_scenario
from sim.scenario.schema import Scenario
from sim.validation.queueing import ErlangA, MMc, mmc_priority_mean_waits

VALIDATION_DIR = VALIDATION_SCENARIOS_DIR
MINUTES_PER_YEAR = DAYS_PER_YEAR * 1440.0


@dataclass(frozen=True)
class TheoryRow:
    """One simulated figure of a reduction with its exact theoretical value."""

    case: str
    load: float
    metric: str
    theory: float
    mean: float
    low: float
    high: float
    n: int

    @property
    def half_width(self) -> float:
        """Half the width of the simulation's interval."""
        return 0.5 * (self.high - self.low)

    @property
    def agrees(self) -> bool:
        """Whether the theoretical value lies inside the simulation's interval."""
        return self.low <= self.theory <= self.high


def _volume_for(rate_per_min: float, population: int) -> float:
    """requests_per_1000_per_year that gives an arrival rate (per minute) for a population."""
    return rate_per_min * MINUTES_PER_YEAR * 1000.0 / population


def _desk_metrics(sc: Scenario, replication: int, seed: int) -> dict[str, float]:
    """Queue figures of every front desk and of the ambulance fleet, one replication."""
    result = run_replication(sc, replication, seed)
    ctx = result.context
    c = ctx.rec.calls
    out: dict[str, float] = {}
    window = ctx.call_reported & ctx.call_public
    for desk in sc.active_desks():
        m = window & (c["desk"] == DESK_INDEX[desk])
        wait = ctx.call_wait[m]
        abandoned = c["abandoned"][m]
        served = ~np.isnan(wait)
        out[f"{desk}.mean_wait_served"] = float(wait[served].mean()) if served.any() else math.nan
        waited = abandoned | (np.nan_to_num(wait, nan=1.0) > 1e-12)
        out[f"{desk}.p_wait"] = float(np.mean(waited)) if m.any() else math.nan
        out[f"{desk}.p_abandon"] = float(np.mean(abandoned)) if m.any() else math.nan
        for urgent, name in ((True, "urgent"), (False, "regular")):
            mm = served & (c["urgent"][m] == urgent)
            out[f"{desk}.{name}.mean_wait"] = float(wait[mm].mean()) if mm.any() else math.nan
    for pool in ("coordination_agents", "mka_call_takers", "gp_post_triagists", "ambulances"):
        if f"utilisation.{pool}" in result.kpis:
            out[f"utilisation.{pool}"] = result.kpis[f"utilisation.{pool}"]
    rides = ctx.rec.rides
    for priority in (AMBULANCE_A1, AMBULANCE_A2, AMBULANCE_B):
        m = ctx.ride_reported & (rides["priority"] == priority)
        w = (rides["assigned_min"] - rides["requested_min"])[m]
        out[f"ambulance.p{priority}.mean_wait"] = float(w.mean()) if w.size else math.nan
    return out


def _run_case(
    path: Path, overrides: tuple[str, ...], replications: int, weeks: int, workers: int | None
) -> dict[str, list[float]]:
    sc = load_scenario(path, (f"run.weeks={weeks}", *overrides))
    jobs = [(sc, r, sc.run.seed) for r in range(replications)]
    per_rep: dict[int, dict[str, float]] = {}
    for i, res in LocalExecutor(workers).run(_desk_metrics, jobs):
        per_rep[i] = res
    keys = per_rep[0].keys()
    return {k: [per_rep[r][k] for r in range(replications)] for k in keys}


DESK_SERVICE_RATE = 1.0 / 6.0  # per minute: 6-minute calls
DESK_SERVERS = 5
POPULATION = 10000


class _Checks:
    """Runs reductions and collects their rows."""

    def __init__(self, replications: int, weeks: int, workers: int | None, confidence: float):
        self.replications = replications
        self.weeks = weeks
        self.workers = workers
        self.confidence = confidence
        self.rows: list[TheoryRow] = []

    def run(self, file_name: str, overrides: tuple[str, ...] = ()) -> dict[str, list[float]]:
        path = VALIDATION_DIR / file_name
        return _run_case(path, overrides, self.replications, self.weeks, self.workers)

    def add(self, case: str, load: float, metric: str, theory: float, values: list[float]) -> None:
        iv = t_interval(values, self.confidence)
        self.rows.append(TheoryRow(case, load, metric, theory, iv.mean, iv.low, iv.high, iv.n))

    def desks(self, rho: float) -> None:
        """M/M/5, M/M/5+M (exponential patience, mean 10 min), two priority classes."""
        mu, servers = DESK_SERVICE_RATE, DESK_SERVERS
        lam = rho * servers * mu
        volume = _volume_for(lam, POPULATION)
        vol = (f"demand.groups.calls.requests_per_1000_per_year={volume!r}",)
        m = self.run("mmc_desk.yaml", vol)
        q = MMc(lam, mu, servers)
        self.add(
            "M/M/5 desk", rho, "mean wait (min)", q.mean_wait, m["coordination.mean_wait_served"]
        )
        self.add("M/M/5 desk", rho, "P(wait)", q.p_wait, m["coordination.p_wait"])
        self.add(
            "M/M/5 desk", rho, "utilisation", q.utilisation, m["utilisation.coordination_agents"]
        )
        a = self.run("erlang_a_desk.yaml", vol)
        ea = ErlangA(lam, mu, servers, 1.0 / 10.0)
        case = "M/M/5+M desk"
        self.add(case, rho, "P(abandon)", ea.p_abandon, a["coordination.p_abandon"])
        served = a["coordination.mean_wait_served"]
        self.add(case, rho, "mean wait of served (min)", ea.mean_wait_served, served)
        self.add(case, rho, "P(wait)", ea.p_wait, a["coordination.p_wait"])
        self.add(case, rho, "utilisation", ea.utilisation, a["utilisation.coordination_agents"])
        # two priority classes on one desk (30 % urgent line)
        p = self.run("priority_desk.yaml", vol)
        w_urgent, w_regular = mmc_priority_mean_waits([0.3 * lam, 0.7 * lam], mu, servers)
        case = "2-class priority desk"
        urgent, regular = p["coordination.urgent.mean_wait"], p["coordination.regular.mean_wait"]
        self.add(case, rho, "urgent line mean wait (min)", w_urgent, urgent)
        self.add(case, rho, "regular line mean wait (min)", w_regular, regular)

    def ambulances(self, rho: float) -> None:
        """The ambulance fleet: 3 priority classes, 6 vehicles, exponential 30-minute rides."""
        amb_mu, amb_c, shares = 1.0 / 30.0, 6, (0.2, 0.3, 0.5)
        lam = rho * amb_c * amb_mu
        volume = _volume_for(lam, POPULATION)
        r = self.run(
            "ambulance_priority.yaml",
            (f"demand.groups.requests.requests_per_1000_per_year={volume!r}",),
        )
        waits = mmc_priority_mean_waits([s * lam for s in shares], amb_mu, amb_c)
        case = "ambulance fleet, A1>A2>B"
        for k, label in enumerate(("A1", "A2", "B")):
            metric = f"{label} wait for a vehicle (min)"
            self.add(case, rho, metric, waits[k], r[f"ambulance.p{k}.mean_wait"])
        self.add(case, rho, "utilisation", lam / (amb_c * amb_mu), r["utilisation.ambulances"])

    def pooling(self) -> None:
        """MKA (3) and GP post (4) separately, then one desk of 7, and the pooling gain."""
        mu = DESK_SERVICE_RATE
        lam_mka, lam_gp = 0.4, 0.5333333333333333
        sep = self.run("pooling_separate.yaml")
        pooled = self.run("pooling_central.yaml")
        mka, gp, one = MMc(lam_mka, mu, 3), MMc(lam_gp, mu, 4), MMc(lam_mka + lam_gp, mu, 7)
        metric = "mean wait (min)"
        self.add("pooling: separate MKA", 0.8, metric, mka.mean_wait, sep["mka.mean_wait_served"])
        separate_gp = sep["gp_post.mean_wait_served"]
        self.add("pooling: separate GP post", 0.8, metric, gp.mean_wait, separate_gp)
        pooled_wait = pooled["coordination.mean_wait_served"]
        self.add("pooling: one desk of 7", 0.8, metric, one.mean_wait, pooled_wait)
        # the pooling gain itself: arrival-weighted separate wait minus pooled wait
        gain = [
            (lam_mka * a + lam_gp * b) / (lam_mka + lam_gp) - c
            for a, b, c in zip(sep["mka.mean_wait_served"], separate_gp, pooled_wait, strict=True)
        ]
        theory_gain = (lam_mka * mka.mean_wait + lam_gp * gp.mean_wait) / (
            lam_mka + lam_gp
        ) - one.mean_wait
        self.add("pooling gain (separate - pooled)", 0.8, metric, theory_gain, gain)


def theory_checks(
    replications: int = 10,
    weeks: int = 2,
    loads: Sequence[float] = (0.8, 0.95),
    workers: int | None = None,
    confidence: float = 0.999,
) -> list[TheoryRow]:
    """Run every reduction at the given loads and pair each simulated figure with theory."""
    checks = _Checks(replications, weeks, workers, confidence)
    for rho in loads:
        checks.desks(rho)
    for rho in loads:
        checks.ambulances(rho)
    checks.pooling()
    return checks.rows


def format_theory(rows: list[TheoryRow], markdown: bool = False) -> str:
    """The theory checks as plain text or Markdown."""
    if markdown:
        lines = [
            "| case | load | figure | theory | simulation (mean, 99.9 % CI) | half-width "
            "| agrees |",
            "|---|---|---|---|---|---|---|",
        ]
        for r in rows:
            lines.append(
                f"| {r.case} | {r.load:.2f} | {r.metric} | {r.theory:.4f} | "
                f"{r.mean:.4f} [{r.low:.4f}, {r.high:.4f}] | {r.half_width:.4f} | "
                f"{'yes' if r.agrees else '**no**'} |"
            )
        return "\n".join(lines)
    lines = [
        f"{'case':<34}{'load':>6}  {'figure':<32}{'theory':>10}{'simulation [CI]':>34}  agrees"
    ]
    for r in rows:
        lines.append(
            f"{r.case:<34}{r.load:>6.2f}  {r.metric:<32}{r.theory:>10.4f}"
            f"{f'{r.mean:.4f} [{r.low:.4f}, {r.high:.4f}]':>34}  {'yes' if r.agrees else 'NO'}"
        )
    return "\n".join(lines)
