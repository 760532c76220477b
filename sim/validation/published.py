"""Validation against published Dutch figures.

``python run_sim.py validate`` runs the Groningen ``separate`` scenario (today's
organisation, which the published figures describe) over several replications and prints,
for each published figure, the model's value with its 95 % interval, the source's band and
whether the interval's mean lies inside the band. ``docs/VALIDATION.md`` keeps the latest
table and explains every figure that measures something different from the model;
docs/PARAMETERS.md lists the publications in full.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sim.codes import AMBULANCE_A1, AMBULANCE_A2, CALL_FIRST, CHANNEL_112, DESK_GP_POST, DESK_MKA
from sim.experiments.executors import LocalExecutor
from sim.experiments.replicate import ReplicationResult, run_replication
from sim.experiments.statistics import t_interval
from sim.model.demand import DAYS_PER_YEAR
from sim.paths import groningen
from sim.report.formatting import format_number, format_value
from sim.scenario.loader import load_scenario
from sim.scenario.schema import Scenario

SCENARIO = groningen("separate")
#: What a target of the user's own file checks (it marks those rows in the table).
YOUR_FIGURE = "your figure"


@dataclass(frozen=True)
class Target:
    """A published figure: its band, source, and which part of the model it checks."""

    key: str
    label: str
    low: float
    high: float
    unit: str  # "share", "min" or a count unit
    source: str
    checks: str


TARGETS: tuple[Target, ...] = (
    Target(
        "hap_contacts_per_1000",
        "GP-post contacts per 1,000 inhabitants per year",
        200,
        265,
        "per 1,000/yr",
        "250 (200-265) per 1,000 (Keizer et al., BMC Fam Pract 2015, c. 2015); ~230 after "
        "the 2023-24 decline (InEen Benchmark 2024; vzinfo.nl)",
        "demand",
    ),
    Target(
        "hap_advice_share",
        "GP-post dispositions: telephone advice",
        0.38,
        0.40,
        "share",
        "38-40 % (Keizer et al. 2015; Rutten et al. 2017; Keizer et al. 2017, BMC Fam Pract)",
        "triage routing",
    ),
    Target(
        "hap_consult_share",
        "GP-post dispositions: consultation at the post",
        0.50,
        0.52,
        "share",
        "50-52 % (Keizer et al. 2015; Rutten et al. 2017; Keizer et al. 2017, BMC Fam Pract)",
        "triage routing",
    ),
    Target(
        "hap_visit_share",
        "GP-post dispositions: home visit (GP or team)",
        0.09,
        0.10,
        "share",
        "9-10 % (Keizer et al. 2015; Rutten et al. 2017; Keizer et al. 2017, BMC Fam Pract)",
        "triage routing",
    ),
    Target(
        "hap_u1_share",
        "GP-post urgency U1 (ambulance-level)",
        0.015,
        0.02,
        "share",
        "U1 1.5-2 % (Keizer et al. 2015; Rutten et al. 2017, BMC Fam Pract)",
        "triage routing",
    ),
    Target(
        "hap_u2_share",
        "GP-post urgency U2",
        0.11,
        0.15,
        "share",
        "U2 11-15 % (Keizer et al. 2015; Rutten et al. 2017, BMC Fam Pract)",
        "triage routing",
    ),
    Target(
        "hap_u3u4_share",
        "GP-post urgency U3 and U4 together",
        0.56,
        0.60,
        "share",
        "U3 38 % + U4 18-22 % (Keizer et al. 2015; Rutten et al. 2017, BMC Fam Pract)",
        "triage routing",
    ),
    Target(
        "hap_u5_share",
        "GP-post urgency U5 (advice)",
        0.26,
        0.27,
        "share",
        "U5 26-27 % (Keizer et al. 2015; Rutten et al. 2017, BMC Fam Pract)",
        "triage routing",
    ),
    Target(
        "hap_ambulance_share",
        "GP-post contacts handed to an ambulance",
        0.010,
        0.020,
        "share",
        "~1.0-1.5 %, up to ~2 % (estimated from U1 share x ~60 %: Keizer et al. 2015; "
        "Plat et al., Fam Pract 2017)",
        "HAP-to-ambulance flow",
    ),
    Target(
        "hap_urgent_answer_mean_min",
        "GP-post urgent line: mean time to answer",
        0.0,
        0.5,
        "min",
        "12 s mean (InEen Benchmark 2024, via ICT&health); norm 90 % within 30 s (IGZ)",
        "triage staffing",
    ),
    Target(
        "hap_saturday_evening_wait_min",
        "GP-post regular line, Saturday 17-23 h: mean time to answer",
        0.0,
        4.0,
        "min",
        "Groningen 0 min (2022), about 4 (2023), 1.5 (2024, with call-back) (Interswitch "
        "2022-2024); with call-back the wait for the intake",
        "weekend triage staffing (with call-back: intake staffing)",
    ),
    Target(
        "hap_callback_wait_mean_min",
        "GP-post call-back: mean wait from the end of the intake to the call-back",
        0.0,
        30.0,
        "min",
        "no published figure for an ordinary day (estimated band): NTS U3 care within a few "
        "hours leaves a call-back of minutes, not hours; Groningen's exceptional Saturday: "
        "about 2.5 h for 100+ callers (OOG tv 2021)",
        "triagist staffing with call-back (a weak check)",
    ),
    Target(
        "visit_within_1h_share",
        "GP home visits reached within 1 h of the call being answered",
        0.85,
        0.93,
        "share",
        "88.7 % within 1 h (Giesen et al., Huisarts Wet 2007)",
        "visiting-GP fleet and travel",
    ),
    Target(
        "ambulance_rides_per_1000",
        "Ambulance deployments per 1,000 inhabitants per year (all hours)",
        75,
        86,
        "per 1,000/yr",
        "80.6 per 1,000 (vzinfo.nl 2022; AZN Sectorkompas)",
        "demand",
    ),
    Target(
        "ambulance_urgent_share",
        "Urgent (A1/A2) share of ambulance deployments",
        0.74,
        0.80,
        "share",
        "~78 % (2022, vzinfo.nl), 74 % (2016, AZN Sectorkompas)",
        "demand",
    ),
    Target(
        "calls_112_per_1000",
        "112 calls for ambulance care per 1,000 per year (all hours)",
        40,
        50,
        "per 1,000/yr",
        "~45 per 1,000 (Meldkamer Oost-Nederland; Netwerk Acute Zorg regio Zwolle)",
        "demand",
    ),
    Target(
        "a1_within_15_share",
        "A1 rides on scene within 15 min of the call being taken",
        0.90,
        0.93,
        "share",
        "92.4 % nationally (2018; RIVM Referentiekader 2019 via Medisch Contact); "
        "Drenthe ~90-92 % (RTV Drenthe 2021)",
        "fleet and travel",
    ),
    Target(
        "a1_p95_min",
        "A1 response, 95th percentile",
        16.0,
        18.0,
        "min",
        "17:00 min nationally (2022; vzinfo.nl A1 indicator; RTL analysis via NH Nieuws 2025)",
        "fleet and travel",
    ),
    Target(
        "urgent_on_scene_mean_min",
        "Urgent rides: call taken to on scene, mean",
        9.0,
        12.0,
        "min",
        "~10 min (RIVM 2010, Tijdsduren in de ambulancezorg, 2009 rides)",
        "task durations",
    ),
    Target(
        "gp_type_112_rides_share",
        "Out-of-hours 112-triggered rides that were GP-type in hindsight",
        0.34,
        0.44,
        "share",
        "39 % out of office hours (Smits et al., NTvG 2014)",
        "baseline misrouting",
    ),
    Target(
        "a1_share_112_rides",
        "112-triggered rides sent as A1 (the rest A2)",
        0.70,
        0.80,
        "share",
        "74.1 % A1, 25.9 % A2 of 598 112-triggered rides, all hours (Smits et al., NTvG 2014); "
        "ProQA regions send more A1 (SiRM 2019)",
        "MKA over-triage split A1/A2",
    ),
    Target(
        "hap_u1_ambulance_only",
        "GP-post U1 cases: ambulance only",
        0.45,
        0.61,
        "share",
        "53 % (Plat et al., Fam Pract 2017); band ±8 points for the replication noise of a few "
        "hundred U1 cases",
        "the U1 rule (an input: true by construction)",
    ),
    Target(
        "hap_u1_gp_only",
        "GP-post U1 cases: GP visit only",
        0.29,
        0.45,
        "share",
        "37 % (Plat et al., Fam Pract 2017); band ±8 points for replication noise",
        "the U1 rule (an input: true by construction)",
    ),
    Target(
        "hap_u1_both",
        "GP-post U1 cases: ambulance and GP",
        0.03,
        0.17,
        "share",
        "10 % (Plat et al., Fam Pract 2017); band ±7 points for replication noise",
        "the U1 rule (an input: true by construction)",
    ),
    Target(
        "visit_u1_within_15_share",
        "GP visits reaching a U1 patient within 15 min of the call being answered",
        0.167,
        0.688,
        "share",
        "68.8 % nationally, falling from 86.5 % under 2.5 km to 16.7 % over 20 km (Giesen et "
        "al., Huisarts Wet 2007): a rural province lies between the farthest stratum and the "
        "national figure",
        "GP-car dispatch at the decision, travel",
    ),
    Target(
        "zone.het_hogeland.a1_within_15.share",
        "A1 rides on scene within 15 min, Het Hogeland (the rural north)",
        0.70,
        0.85,
        "share",
        "below 85 % in the former municipality of Eemsmond, now part of Het Hogeland (2016; "
        "Sociaal Planbureau Groningen); lower end a judgement",
        "posts, zones and drive times",
    ),
)


def measure(result: ReplicationResult) -> dict[str, float]:
    """The model's counterpart of every target, for one replication."""
    return _gp_post_figures(result) | _ambulance_figures(result) | _u1_figures(result)


def _gp_post_figures(result: ReplicationResult) -> dict[str, float]:
    sc = result.simulated.scenario
    ctx = result.context
    tl = ctx.tl
    r, c = ctx.rec.requests, ctx.rec.calls
    per_1000_year = _per_1000_year(sc)
    need_service = np.array([n.service for n in sc.needs.values()], dtype=object)
    need_urgency = np.array([n.urgency for n in sc.needs.values()], dtype=object)
    out: dict[str, float] = {}
    # GP-post contacts: reported requests that a GP-post triagist spoke to
    answered_gp = (c["desk"] == DESK_GP_POST) & ~np.isnan(c["answered_min"])
    contact = np.zeros(len(r["id"]), dtype=bool)
    contact[c["request"][answered_gp]] = True
    contact &= ctx.reported
    out["hap_contacts_per_1000"] = contact.sum() * per_1000_year
    # dispositions of requests whose first triage was at the GP post
    first_gp = ctx.reported & (r["first_desk"] == DESK_GP_POST) & (r["first_assigned"] >= 0)
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
    # U1: triaged as an ambulance case or as a U1 GP visit (both are NTS U1 at the post)
    out["hap_u1_share"] = float(np.sum(np.isin(urgency, ("A1", "A2", "U1")))) / n
    out["hap_u2_share"] = float(np.sum(urgency == "U2")) / n
    out["hap_u3u4_share"] = float(np.sum(np.isin(urgency, ("U3", "U4")))) / n
    out["hap_u5_share"] = float(np.sum(urgency == "U5")) / n
    # GP-post answering
    public = ctx.call_reported & ctx.call_public & (c["desk"] == DESK_GP_POST)
    urgent = public & c["urgent"]
    out["hap_urgent_answer_mean_min"] = _nanmean(ctx.call_wait[urgent & ~np.isnan(ctx.call_wait)])
    how = tl.hour_of_week[np.minimum((c["placed_min"] // 60).astype(np.int64), tl.n_hours - 1)]
    saturday_evening = (how >= 5 * 24 + 17) & (how < 5 * 24 + 23)
    regular_sat = public & ~c["urgent"] & saturday_evening & ~np.isnan(ctx.call_wait)
    out["hap_saturday_evening_wait_min"] = _nanmean(ctx.call_wait[regular_sat])
    if "callback.wait.mean_min" in result.kpis:  # only with call-back mode
        out["hap_callback_wait_mean_min"] = result.kpis["callback.wait.mean_min"]
    # GP visits: answered call to GP arrival, for requests whose care was a GP visit
    visit = ctx.reported & (r["care_service"] == result.simulated.service_index["gp_visit"])
    to_visit = (r["care_min"] - r["first_answer_min"])[visit]
    out["visit_within_1h_share"] = float(np.mean(to_visit <= 60.0)) if to_visit.size else math.nan
    return out


def _ambulance_figures(result: ReplicationResult) -> dict[str, float]:
    sc = result.simulated.scenario
    ctx = result.context
    tl = ctx.tl
    r, c, rides = ctx.rec.requests, ctx.rec.calls, ctx.rec.rides
    per_1000_year = _per_1000_year(sc)
    out: dict[str, float] = {}
    # ambulance volume over all hours of the reporting weeks
    in_weeks = (r["arrival_min"] >= tl.warmup_end_min) & (r["arrival_min"] < tl.arrivals_end_min)
    ride_in = in_weeks[rides["request"]]
    out["ambulance_rides_per_1000"] = float(ride_in.sum()) * per_1000_year
    urgent_in = rides["priority"][ride_in] <= AMBULANCE_A2
    out["ambulance_urgent_share"] = float(np.mean(urgent_in)) if ride_in.any() else math.nan
    first_112 = np.zeros(len(r["id"]), dtype=bool)
    first_112[c["request"][(c["desk"] == DESK_MKA) & (c["kind"] == CALL_FIRST)]] = True
    calls_112 = first_112 & in_weeks & (r["channel"] == CHANNEL_112)
    out["calls_112_per_1000"] = float(calls_112.sum()) * per_1000_year
    # A1 response (rides of reported requests)
    a1 = ctx.ride_reported & (rides["priority"] == AMBULANCE_A1)
    resp = (rides["on_scene_min"] - rides["call_taken_min"])[a1]
    out["a1_within_15_share"] = float(np.mean(resp <= 15.0)) if resp.size else math.nan
    out["a1_p95_min"] = float(np.percentile(resp, 95)) if resp.size else math.nan
    urgent_rides = ctx.ride_reported & (rides["priority"] <= AMBULANCE_A2)
    response = rides["on_scene_min"] - rides["call_taken_min"]
    out["urgent_on_scene_mean_min"] = _nanmean(response[urgent_rides])
    # 112-triggered rides: rides of reported public requests whose first door was the MKA
    public_112 = ctx.reported & (r["channel"] == CHANNEL_112) & (r["first_desk"] == DESK_MKA)
    ride_112 = public_112[rides["request"]]
    if len(rides["request"]):
        gp_type = ctx.need_gp_type[r["need"][rides["request"]]]
    else:
        gp_type = np.zeros(0, bool)
    out["gp_type_112_rides_share"] = (
        float(np.mean(gp_type[ride_112])) if ride_112.any() else math.nan
    )
    a1_112 = rides["priority"][ride_112] == AMBULANCE_A1
    out["a1_share_112_rides"] = float(np.mean(a1_112)) if ride_112.any() else math.nan
    return out


def _u1_figures(result: ReplicationResult) -> dict[str, float]:
    """What GP posts do with U1: the dispositions of requests the GP post triaged as U1, and
    how soon a GP visit reaches a U1 patient."""
    sc = result.simulated.scenario
    ctx = result.context
    r = ctx.rec.requests
    urgency = np.array([n.urgency for n in sc.needs.values()], dtype=object)
    first = np.maximum(r["first_assigned"], 0)
    u1_at_post = ctx.reported & (r["first_desk"] == DESK_GP_POST) & (r["first_assigned"] >= 0)
    u1_at_post &= urgency[first] == "U1"
    ambulance = r["n_ambulance_rides"] > 0
    gp_sent = r["n_visits"] > 0
    n = max(1, int(u1_at_post.sum()))
    out = {
        "hap_u1_ambulance_only": float((u1_at_post & ambulance & ~gp_sent).sum()) / n,
        "hap_u1_gp_only": float((u1_at_post & gp_sent & ~ambulance).sum()) / n,
        "hap_u1_both": float((u1_at_post & ambulance & gp_sent).sum()) / n,
    }
    visit_index = result.simulated.service_index["gp_visit"]
    visited = ~np.isnan(r["care_min"]) & (r["care_service"] == visit_index)
    true_u1 = ctx.reported & (urgency[r["need"]] == "U1") & visited
    wait = (r["care_min"] - r["first_answer_min"])[true_u1]
    out["visit_u1_within_15_share"] = float(np.mean(wait <= 15.0)) if wait.size else math.nan
    return out


def _per_1000_year(sc: Scenario) -> float:
    """Factor from a count over the reporting weeks to a rate per 1,000 inhabitants a year."""
    return DAYS_PER_YEAR / 7.0 / sc.run.weeks / sc.region.population * 1000.0


def _nanmean(x: np.ndarray) -> float:
    x = x[~np.isnan(x)]
    return float(x.mean()) if x.size else math.nan


def _replicate(sc: Scenario, replication: int, seed: int) -> dict[str, float]:
    """The built-in figures and every KPI of one replication (a target may name either)."""
    result = run_replication(sc, replication, seed)
    return result.kpis | measure(result)


@dataclass(frozen=True)
class Row:
    """A target with the model's mean and interval."""

    target: Target
    mean: float
    low: float
    high: float

    @property
    def inside(self) -> bool:
        """Whether the model's mean lies inside the source's band."""
        return self.target.low <= self.mean <= self.target.high


def run_validation(
    replications: int = 10,
    weeks: int = 4,
    workers: int | None = None,
    scenario: Path | Scenario = SCENARIO,
    overrides: tuple[str, ...] = (),
    overlays: tuple[Path, ...] = (),
    targets: tuple[Target, ...] = TARGETS,
) -> list[Row]:
    """Run the scenario and pair the model's value of every target with the target. A
    target the scenario cannot measure (a zone's figure without a geography) is left out."""
    if isinstance(scenario, Scenario):
        sc = scenario
    else:
        sc = load_scenario(scenario, (f"run.weeks={weeks}", *overrides), overlays)
    values: dict[int, dict[str, float]] = {}
    for i, res in LocalExecutor(workers).run(
        _replicate, [(sc, r, sc.run.seed) for r in range(replications)]
    ):
        values[i] = res
    rows = []
    for t in targets:
        if any(t.key not in values[r] for r in range(replications)):
            continue
        iv = t_interval(values[r][t.key] for r in range(replications))
        rows.append(Row(t, iv.mean, iv.low, iv.high))
    return rows


def _fmt(value: float, unit: str) -> str:
    if unit in ("share", "min"):
        return format_value(value, unit)
    return "n/a" if math.isnan(value) else format_number(value, unit)


def format_table(rows: list[Row], markdown: bool = False) -> str:
    """The validation table as plain text or Markdown."""

    def band(t: Target) -> str:
        return f"{_fmt(t.low, t.unit)} - {_fmt(t.high, t.unit)}"

    def model(row: Row) -> str:
        ci = (
            ""
            if math.isnan(row.low)
            else f" [{_fmt(row.low, row.target.unit)}, {_fmt(row.high, row.target.unit)}]"
        )
        return _fmt(row.mean, row.target.unit) + ci

    if markdown:
        lines = [
            "| figure | model (95 % CI) | source band | in band | source | checks |",
            "|---|---|---|---|---|---|",
        ]
        for row in rows:
            t = row.target
            lines.append(
                f"| {t.label} | {model(row)} | {band(t)} | "
                f"{'yes' if row.inside else '**no**'} | {t.source} | {t.checks} |"
            )
        return "\n".join(lines)

    def label(t: Target) -> str:
        return t.label + (" *" if t.checks == YOUR_FIGURE else "")

    width = max(len(label(r.target)) for r in rows)
    lines = [f"{'figure':<{width}}  {'model [95 % CI]':>32}  {'source band':>22}  in band"]
    for row in rows:
        lines.append(
            f"{label(row.target):<{width}}  {model(row):>32}  {band(row.target):>22}  "
            f"{'yes' if row.inside else 'NO'}"
        )
    if any(r.target.checks == YOUR_FIGURE for r in rows):
        lines.append("* your figure (--targets)")
    return "\n".join(lines)
