"""Validation against published Dutch figures (``domain/parameters.md`` §3).

``python run_sim.py validate`` runs the Groningen ``separate`` scenario (today's
organisation, which the published figures describe) over several replications and prints,
for each published figure, the model's value with its 95 % interval, the source's band and
whether the interval's mean lies inside the band. ``docs/VALIDATION.md`` keeps the latest
table and explains every figure that measures something different from the model.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sim.demand import CHANNEL_112
from sim.experiment import LocalExecutor, t_interval
from sim.kpis import KpiContext
from sim.model import World
from sim.records import CALL_FIRST, DESK_INDEX
from sim.scenario import Scenario, load_scenario
from sim.services import PRIORITY_RANK

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "scenarios" / "groningen_separate.yaml"
DAYS_PER_YEAR = 365.25
GP_POST = DESK_INDEX["gp_post"]
MKA = DESK_INDEX["mka"]


@dataclass(frozen=True)
class Target:
    key: str
    label: str
    low: float
    high: float
    unit: str  # "share", "min" or a count unit
    source: str
    checks: str


TARGETS: tuple[Target, ...] = (
    Target("hap_contacts_per_1000", "GP-post contacts per 1,000 inhabitants per year", 200, 265, "per 1,000/yr",
           "§2a/§3.1: 250 (200-265) per 1,000 (Giesen group, c. 2015); ~230 after the 2023-24 decline", "demand"),
    Target("hap_advice_share", "GP-post dispositions: telephone advice", 0.38, 0.40, "share",
           "§2b/§3.2: 38-40 % (Giesen et al., BMC Fam Pract)", "triage routing"),
    Target("hap_consult_share", "GP-post dispositions: consultation at the post", 0.50, 0.52, "share",
           "§2b/§3.2: 50-52 %", "triage routing"),
    Target("hap_visit_share", "GP-post dispositions: home visit (GP or team)", 0.09, 0.10, "share",
           "§2b/§3.2: 9-10 %", "triage routing"),
    Target("hap_u1_share", "GP-post urgency U1 (ambulance-level)", 0.015, 0.02, "share",
           "§2b/§3.3: U1 1.5-2 %", "triage routing"),
    Target("hap_u2_share", "GP-post urgency U2", 0.11, 0.15, "share", "§2b/§3.3: U2 11-15 %", "triage routing"),
    Target("hap_u3u4_share", "GP-post urgency U3 and U4 together", 0.56, 0.60, "share",
           "§2b/§3.3: U3 38 % + U4 18-22 %", "triage routing"),
    Target("hap_u5_share", "GP-post urgency U5 (advice)", 0.26, 0.27, "share", "§2b/§3.3: U5 26-27 %", "triage routing"),
    Target("hap_ambulance_share", "GP-post contacts handed to an ambulance", 0.010, 0.020, "share",
           "§2b/§3.13: ~1.0-1.5 %, up to ~2 % (estimated from U1 share x ~60 %)", "HAP-to-ambulance flow"),
    Target("hap_urgent_answer_mean_min", "GP-post urgent line: mean time to answer", 0.0, 0.5, "min",
           "§2e/§3.5: 12 s mean (InEen 2024); norm 90 % within 30 s", "triage staffing"),
    Target("hap_saturday_evening_wait_min", "GP-post regular line, Saturday 17-23 h: mean time to answer", 0.0, 4.0, "min",
           "§2e/§3.6: Groningen 0-4 min (Interswitch 2022-2024)", "weekend triage staffing"),
    Target("visit_within_1h_share", "GP home visits reached within 1 h of the call being answered", 0.85, 0.93, "share",
           "§2d/§3.7: 88.7 % within 1 h (Giesen et al. 2007)", "visiting-GP fleet and travel"),
    Target("ambulance_rides_per_1000", "Ambulance deployments per 1,000 inhabitants per year (all hours)", 75, 86, "per 1,000/yr",
           "§2a/§3.8: 80.6 per 1,000 (vzinfo; AZN)", "demand"),
    Target("ambulance_urgent_share", "Urgent (A1/A2) share of ambulance deployments", 0.74, 0.80, "share",
           "§2a/§3.8: ~78 % (2022), 74 % (2016)", "demand"),
    Target("calls_112_per_1000", "112 calls for ambulance care per 1,000 per year (all hours)", 40, 50, "per 1,000/yr",
           "§2a/§3.9: ~45 per 1,000 (Meldkamer Oost-Nederland)", "demand"),
    Target("a1_within_15_share", "A1 rides on scene within 15 min of the call being taken", 0.90, 0.93, "share",
           "§2c/§3.10: 92.4 % nationally (2018); Drenthe ~90-92 %", "fleet and travel"),
    Target("a1_p95_min", "A1 response, 95th percentile", 16.0, 18.0, "min", "§2c/§3.10: 17:00 min nationally (2022)", "fleet and travel"),
    Target("urgent_on_scene_mean_min", "Urgent rides: call taken to on scene, mean", 9.0, 12.0, "min",
           "§2d/§3.11: ~10 min (RIVM 2009)", "task durations"),
    Target("gp_type_112_rides_share", "Out-of-hours 112-triggered rides that were GP-type in hindsight", 0.34, 0.44, "share",
           "§2h/§3.12: 39 % out of office hours (Smits et al., NTvG 2014)", "baseline misrouting"),
)


def measure(sc: Scenario, world: World, rec: Any) -> dict[str, float]:
    """The model's counterpart of every target, for one replication."""
    tl = world.timeline
    ctx = KpiContext(sc, tl, rec)
    r, c, rides = rec.requests, rec.calls, rec.rides
    n_weeks = sc.run.weeks
    per_1000_year = DAYS_PER_YEAR / 7.0 / n_weeks / sc.region.population * 1000.0
    need_service = np.array([n.service for n in sc.needs.values()], dtype=object)
    need_urgency = np.array([n.urgency for n in sc.needs.values()], dtype=object)
    need_gp_type = ctx.need_gp_type
    out: dict[str, float] = {}

    # GP-post contacts: reported requests that a GP-post triagist spoke to
    answered_gp = (c["desk"] == GP_POST) & ~np.isnan(c["answered_min"])
    contact = np.zeros(len(r["id"]), dtype=bool)
    contact[c["request"][answered_gp]] = True
    contact &= ctx.reported
    out["hap_contacts_per_1000"] = contact.sum() * per_1000_year
    # dispositions of requests whose first triage was at the GP post
    first_gp = ctx.reported & (r["first_desk"] == GP_POST) & (r["first_assigned"] >= 0)
    service = need_service[r["first_assigned"][first_gp]]
    urgency = need_urgency[r["first_assigned"][first_gp]]
    n = max(1, len(service))
    # the published disposition mix (advice/consult/visit) sums to 100 % without the cases
    # handed to the ambulance service, so the model's shares are taken the same way
    n_gp = max(1, int(np.sum(service != "ambulance")))
    out["hap_advice_share"] = float(np.sum(service == "advice")) / n_gp
    out["hap_consult_share"] = float(np.sum(service == "gp_consult")) / n_gp
    out["hap_visit_share"] = float(np.sum(np.isin(service, ("gp_visit", *sc.teams)))) / n_gp
    out["hap_ambulance_share"] = float(np.sum(service == "ambulance")) / n
    out["hap_u1_share"] = float(np.sum(np.isin(urgency, ("A1", "A2")))) / n
    out["hap_u2_share"] = float(np.sum(urgency == "U2")) / n
    out["hap_u3u4_share"] = float(np.sum(np.isin(urgency, ("U3", "U4")))) / n
    out["hap_u5_share"] = float(np.sum(urgency == "U5")) / n
    # GP-post answering
    public = ctx.call_reported & ctx.call_public & (c["desk"] == GP_POST)
    urgent = public & c["urgent"]
    out["hap_urgent_answer_mean_min"] = _nanmean(ctx.call_wait[urgent & ~np.isnan(ctx.call_wait)])
    how = tl.hour_of_week[np.minimum((c["placed_min"] // 60).astype(np.int64), tl.n_hours - 1)]
    saturday_evening = (how >= 5 * 24 + 17) & (how < 5 * 24 + 23)
    regular_sat = public & ~c["urgent"] & saturday_evening & ~np.isnan(ctx.call_wait)
    out["hap_saturday_evening_wait_min"] = _nanmean(ctx.call_wait[regular_sat])
    # GP visits: answered call to GP arrival, for requests whose care was a GP visit
    visit = ctx.reported & (r["care_service"] == world.service_index["gp_visit"])
    to_visit = (r["care_min"] - r["first_answer_min"])[visit]
    out["visit_within_1h_share"] = float(np.mean(to_visit <= 60.0)) if to_visit.size else math.nan
    # ambulance volume over all hours of the reporting weeks
    in_weeks = (r["arrival_min"] >= tl.warmup_end_min) & (r["arrival_min"] < tl.arrivals_end_min)
    ride_in = in_weeks[rides["request"]]
    out["ambulance_rides_per_1000"] = float(ride_in.sum()) * per_1000_year
    out["ambulance_urgent_share"] = float(np.mean(rides["priority"][ride_in] <= PRIORITY_RANK["A2"])) if ride_in.any() else math.nan
    first_112 = np.zeros(len(r["id"]), dtype=bool)
    first_112[c["request"][(c["desk"] == MKA) & (c["kind"] == CALL_FIRST)]] = True
    out["calls_112_per_1000"] = float((first_112 & in_weeks & (r["channel"] == CHANNEL_112)).sum()) * per_1000_year
    # A1 response (rides of reported requests)
    a1 = ctx.ride_reported & (rides["priority"] == PRIORITY_RANK["A1"])
    resp = (rides["on_scene_min"] - rides["call_taken_min"])[a1]
    out["a1_within_15_share"] = float(np.mean(resp <= 15.0)) if resp.size else math.nan
    out["a1_p95_min"] = float(np.percentile(resp, 95)) if resp.size else math.nan
    urgent_rides = ctx.ride_reported & (rides["priority"] <= PRIORITY_RANK["A2"])
    out["urgent_on_scene_mean_min"] = _nanmean((rides["on_scene_min"] - rides["call_taken_min"])[urgent_rides])
    # 112-triggered rides: rides of reported public requests whose first door was the MKA via 112
    public_112 = ctx.reported & (r["channel"] == CHANNEL_112) & (r["first_desk"] == MKA)
    ride_112 = public_112[rides["request"]]
    gp_type = need_gp_type[r["need"][rides["request"]]] if len(rides["request"]) else np.zeros(0, bool)
    out["gp_type_112_rides_share"] = float(np.mean(gp_type[ride_112])) if ride_112.any() else math.nan
    return out


def _nanmean(x: np.ndarray) -> float:
    x = x[~np.isnan(x)]
    return float(x.mean()) if x.size else math.nan


def _replicate(sc: Scenario, replication: int, seed: int) -> dict[str, float]:
    world = World(sc, replication, seed)
    rec = world.run()
    return measure(sc, world, rec)


@dataclass(frozen=True)
class Row:
    target: Target
    mean: float
    low: float
    high: float

    @property
    def inside(self) -> bool:
        return self.target.low <= self.mean <= self.target.high


def run_validation(replications: int = 10, weeks: int = 4, workers: int | None = None,
                   scenario: Path = SCENARIO, overrides: tuple[str, ...] = ()) -> list[Row]:
    sc = load_scenario(scenario, (f"run.weeks={weeks}", *overrides))
    values: dict[int, dict[str, float]] = {}
    for i, res in LocalExecutor(workers).run(_replicate, [(sc, r, sc.run.seed) for r in range(replications)]):
        values[i] = res
    rows = []
    for t in TARGETS:
        iv = t_interval(values[r][t.key] for r in range(replications))
        rows.append(Row(t, iv.mean, iv.low, iv.high))
    return rows


def _fmt(value: float, unit: str) -> str:
    if math.isnan(value):
        return "n/a"
    if unit == "share":
        return f"{100 * value:.1f} %"
    if unit == "min":
        return f"{value:.2f} min"
    return f"{value:.1f}"


def format_table(rows: list[Row], markdown: bool = False) -> str:
    def band(t: Target) -> str:
        return f"{_fmt(t.low, t.unit)} - {_fmt(t.high, t.unit)}"

    def model(row: Row) -> str:
        ci = "" if math.isnan(row.low) else f" [{_fmt(row.low, row.target.unit)}, {_fmt(row.high, row.target.unit)}]"
        return _fmt(row.mean, row.target.unit) + ci

    if markdown:
        lines = ["| figure | model (95 % CI) | source band | in band | source | checks |", "|---|---|---|---|---|---|"]
        for row in rows:
            t = row.target
            lines.append(f"| {t.label} | {model(row)} | {band(t)} | {'yes' if row.inside else '**no**'} | {t.source} | {t.checks} |")
        return "\n".join(lines)
    width = max(len(r.target.label) for r in rows)
    lines = [f"{'figure':<{width}}  {'model [95 % CI]':>32}  {'source band':>22}  in band"]
    for row in rows:
        lines.append(f"{row.target.label:<{width}}  {model(row):>32}  {band(row.target):>22}  {'yes' if row.inside else 'NO'}")
    return "\n".join(lines)



# --------------------------------------------------------------------------- theory checks

VALIDATION_DIR = ROOT / "scenarios" / "validation"
MINUTES_PER_YEAR = DAYS_PER_YEAR * 1440.0


@dataclass(frozen=True)
class TheoryRow:
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
        return 0.5 * (self.high - self.low)

    @property
    def agrees(self) -> bool:
        return self.low <= self.theory <= self.high


def _volume_for(rate_per_min: float, population: int) -> float:
    """requests_per_1000_per_year that gives an arrival rate (per minute) for a population."""
    return rate_per_min * MINUTES_PER_YEAR * 1000.0 / population


def _desk_metrics(sc: Scenario, replication: int, seed: int) -> dict[str, float]:
    """Queue figures of every front desk and of the ambulance fleet, one replication."""
    world = World(sc, replication, seed)
    rec = world.run()
    ctx = KpiContext(sc, world.timeline, rec)
    c = rec.calls
    out: dict[str, float] = {}
    window = ctx.call_reported & ctx.call_public
    for desk in sc.active_desks():
        m = window & (c["desk"] == DESK_INDEX[desk])
        wait = ctx.call_wait[m]
        abandoned = c["abandoned"][m]
        served = ~np.isnan(wait)
        out[f"{desk}.mean_wait_served"] = float(wait[served].mean()) if served.any() else math.nan
        out[f"{desk}.p_wait"] = float(np.mean(abandoned | (np.nan_to_num(wait, nan=1.0) > 1e-12))) if m.any() else math.nan
        out[f"{desk}.p_abandon"] = float(np.mean(abandoned)) if m.any() else math.nan
        for urgent, name in ((True, "urgent"), (False, "regular")):
            mm = served & (c["urgent"][m] == urgent)
            out[f"{desk}.{name}.mean_wait"] = float(wait[mm].mean()) if mm.any() else math.nan
    kpis = world_kpis(sc, world, rec)
    for pool in ("coordination_agents", "mka_call_takers", "gp_post_triagists", "ambulances"):
        if f"utilisation.{pool}" in kpis:
            out[f"utilisation.{pool}"] = kpis[f"utilisation.{pool}"]
    rides = rec.rides
    for priority in (0, 1, 2):
        m = ctx.ride_reported & (rides["priority"] == priority)
        w = (rides["assigned_min"] - rides["requested_min"])[m]
        out[f"ambulance.p{priority}.mean_wait"] = float(w.mean()) if w.size else math.nan
    return out


def world_kpis(sc: Scenario, world: World, rec: Any) -> dict[str, float]:
    from sim.kpis import compute_kpis

    return compute_kpis(sc, world.timeline, rec)


def _run_case(path: Path, overrides: tuple[str, ...], replications: int, weeks: int, workers: int | None) -> dict[str, list[float]]:
    sc = load_scenario(path, (f"run.weeks={weeks}", *overrides))
    jobs = [(sc, r, sc.run.seed) for r in range(replications)]
    per_rep: dict[int, dict[str, float]] = {}
    for i, res in LocalExecutor(workers).run(_desk_metrics, jobs):
        per_rep[i] = res
    keys = per_rep[0].keys()
    return {k: [per_rep[r][k] for r in range(replications)] for k in keys}


def theory_checks(
    replications: int = 10,
    weeks: int = 2,
    loads: Sequence[float] = (0.8, 0.95),
    workers: int | None = None,
    confidence: float = 0.999,
) -> list[TheoryRow]:
    """Run every reduction at the given loads and pair each simulated figure with theory."""
    from sim.queueing import ErlangA, MMc, mmc_priority_mean_waits

    rows: list[TheoryRow] = []

    def add(case: str, load: float, metric: str, theory: float, values: list[float]) -> None:
        iv = t_interval(values, confidence)
        rows.append(TheoryRow(case, load, metric, theory, iv.mean, iv.low, iv.high, iv.n))

    mu = 1.0 / 6.0
    servers = 5
    population = 10000
    for rho in loads:
        lam = rho * servers * mu
        vol = f"demand.groups.calls.requests_per_1000_per_year={_volume_for(lam, population)!r}"
        # M/M/c
        m = _run_case(VALIDATION_DIR / "mmc_desk.yaml", (vol,), replications, weeks, workers)
        q = MMc(lam, mu, servers)
        add("M/M/5 desk", rho, "mean wait (min)", q.mean_wait, m["coordination.mean_wait_served"])
        add("M/M/5 desk", rho, "P(wait)", q.p_wait, m["coordination.p_wait"])
        add("M/M/5 desk", rho, "utilisation", q.utilisation, m["utilisation.coordination_agents"])
        # Erlang A (patience exponential, mean 10 min)
        a = _run_case(VALIDATION_DIR / "erlang_a_desk.yaml", (vol,), replications, weeks, workers)
        ea = ErlangA(lam, mu, servers, 1.0 / 10.0)
        add("M/M/5+M desk", rho, "P(abandon)", ea.p_abandon, a["coordination.p_abandon"])
        add("M/M/5+M desk", rho, "mean wait of served (min)", ea.mean_wait_served, a["coordination.mean_wait_served"])
        add("M/M/5+M desk", rho, "P(wait)", ea.p_wait, a["coordination.p_wait"])
        add("M/M/5+M desk", rho, "utilisation", ea.utilisation, a["utilisation.coordination_agents"])
        # two priority classes on one desk (30 % urgent line)
        p = _run_case(VALIDATION_DIR / "priority_desk.yaml", (vol,), replications, weeks, workers)
        w_urgent, w_regular = mmc_priority_mean_waits([0.3 * lam, 0.7 * lam], mu, servers)
        add("2-class priority desk", rho, "urgent line mean wait (min)", w_urgent, p["coordination.urgent.mean_wait"])
        add("2-class priority desk", rho, "regular line mean wait (min)", w_regular, p["coordination.regular.mean_wait"])
    # the ambulance fleet: 3 priority classes, 6 vehicles, exponential 30-minute rides
    amb_mu, amb_c, shares = 1.0 / 30.0, 6, (0.2, 0.3, 0.5)
    for rho in loads:
        lam = rho * amb_c * amb_mu
        vol = f"demand.groups.requests.requests_per_1000_per_year={_volume_for(lam, population)!r}"
        r = _run_case(VALIDATION_DIR / "ambulance_priority.yaml", (vol,), replications, weeks, workers)
        waits = mmc_priority_mean_waits([s * lam for s in shares], amb_mu, amb_c)
        for k, label in enumerate(("A1", "A2", "B")):
            add("ambulance fleet, A1>A2>B", rho, f"{label} wait for a vehicle (min)", waits[k], r[f"ambulance.p{k}.mean_wait"])
        add("ambulance fleet, A1>A2>B", rho, "utilisation", lam / (amb_c * amb_mu), r["utilisation.ambulances"])
    # pooling: MKA (3) and GP post (4) separately, then one desk of 7
    lam_mka, lam_gp = 0.4, 0.5333333333333333
    sep = _run_case(VALIDATION_DIR / "pooling_separate.yaml", (), replications, weeks, workers)
    pooled = _run_case(VALIDATION_DIR / "pooling_central.yaml", (), replications, weeks, workers)
    add("pooling: separate MKA", 0.8, "mean wait (min)", MMc(lam_mka, mu, 3).mean_wait, sep["mka.mean_wait_served"])
    add("pooling: separate GP post", 0.8, "mean wait (min)", MMc(lam_gp, mu, 4).mean_wait, sep["gp_post.mean_wait_served"])
    add("pooling: one desk of 7", 0.8, "mean wait (min)", MMc(lam_mka + lam_gp, mu, 7).mean_wait, pooled["coordination.mean_wait_served"])
    # the pooling gain itself: arrival-weighted separate wait minus pooled wait, per replication
    gain = [
        (lam_mka * a + lam_gp * b) / (lam_mka + lam_gp) - c
        for a, b, c in zip(sep["mka.mean_wait_served"], sep["gp_post.mean_wait_served"], pooled["coordination.mean_wait_served"], strict=True)
    ]
    theory_gain = (lam_mka * MMc(lam_mka, mu, 3).mean_wait + lam_gp * MMc(lam_gp, mu, 4).mean_wait) / (lam_mka + lam_gp) - MMc(lam_mka + lam_gp, mu, 7).mean_wait
    add("pooling gain (separate - pooled)", 0.8, "mean wait (min)", theory_gain, gain)
    return rows


def format_theory(rows: list[TheoryRow], markdown: bool = False) -> str:
    if markdown:
        lines = ["| case | load | figure | theory | simulation (mean, 99.9 % CI) | half-width | agrees |", "|---|---|---|---|---|---|---|"]
        for r in rows:
            lines.append(f"| {r.case} | {r.load:.2f} | {r.metric} | {r.theory:.4f} | {r.mean:.4f} [{r.low:.4f}, {r.high:.4f}] | {r.half_width:.4f} | {'yes' if r.agrees else '**no**'} |")
        return "\n".join(lines)
    lines = [f"{'case':<34}{'load':>6}  {'figure':<32}{'theory':>10}{'simulation [CI]':>34}  agrees"]
    for r in rows:
        lines.append(f"{r.case:<34}{r.load:>6.2f}  {r.metric:<32}{r.theory:>10.4f}{f'{r.mean:.4f} [{r.low:.4f}, {r.high:.4f}]':>34}  {'yes' if r.agrees else 'NO'}")
    return "\n".join(lines)
