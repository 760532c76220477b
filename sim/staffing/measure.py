"""What one replication tells the staffing search, per staffed pool and hour of the week.

The pools the search sets (the front desks, and with ``staffing.services`` the services
behind them) are observed (every claim kept, ``sim.model.simulate``'s ``observe``).
Claims that join in the reporting window on an ordinary day are counted by the hour of
the week they join in:

* ``hist``: how many were in the pool (busy or waiting) as each claim joined, the
  distribution the iterative staffing algorithm reads (by PASTA, the time-average);
* per norm: claims offered and claims that met it. A wait is measured at the pool's own
  queue (a 112 call's national desk is not the MKA's). Urgent and regular lines count
  a call as met when it was answered within the desk's ``answer_norm``; abandonment counts
  public calls that hung up while waiting; call-backs count attempts started within the
  call-back norm. Claims handed back because a desk closed are not offered.
* a service's care norms come from the requests instead (``count_care``): per urgency,
  requests that a professional reached within their need's target, by the hour of the
  week they arrived in.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.codes import CLAIM_ABANDONED, CLAIM_CLOSED, CLAIM_SERVED, QUEUE_REGULAR, QUEUE_URGENT
from sim.measures.kpis import cost_key_of_pool, desk_pool_name
from sim.model import simulate
from sim.model.calendar import Timeline
from sim.scenario.schema import Scenario
from sim.staffing.fleet import FLEET_TABLE

#: Pool occupancy above this is counted at it (far above any desk's staff).
MAX_IN_SYSTEM = 400

#: The norms, in the order they are reported: (key, label).
NORMS: tuple[tuple[str, str], ...] = (
    ("urgent", "urgent-line calls answered within the norm"),
    ("regular", "regular-line calls answered within the norm"),
    ("abandoned", "public calls abandoned while waiting"),
    ("callback", "call-backs started within the norm"),
)


@dataclass(frozen=True)
class StaffPool:
    """A staffed pool the search sets: the model's pool, its staffing table in the file,
    the hours of the week it is open (168 flags), and what its norms are. A front desk's
    pool has the desk's answering norms (``desk``; ``intake`` for its call-back intake
    staff); a service's pool (``service``: ``gp_consult``, ``gp_visit``, ``ambulance``)
    has the care norms of the urgencies in ``care``. The ambulance fleet's table is
    ``ambulances.on_duty`` even with a geography, where the posts' tables follow from it
    (``sim.staffing.fleet``)."""

    pool: str
    table: str
    desk: str
    intake: bool
    open_how: tuple[bool, ...]
    service: str = ""
    care: tuple[str, ...] = ()
    # the fleet on a map: the search scales the scenario's plan (``sim.staffing.fleet``)
    scaled: bool = False

    @property
    def label(self) -> str:
        """A name for people: 'GP-post intake staff', 'MKA call-takers', 'GP cars', ..."""
        if self.service:
            return SERVICE_LABELS[self.service]
        desk = {"mka": "MKA", "gp_post": "GP-post", "coordination": "coordination-desk"}[self.desk]
        if self.intake:
            return f"{desk} intake staff"
        role = {"mka": "call-takers", "gp_post": "triagists", "coordination": "agents"}
        return f"{desk} {role[self.desk]}"

    @property
    def cost_key(self) -> str:
        """Its key in ``costs.per_hour``."""
        return cost_key_of_pool(self.pool)


#: The services the search can staff: model service -> (pool, staffing table).
SERVICES: dict[str, tuple[str, str]] = {
    "gp_consult": ("gp_consult_gps", "gp_post.consult_gps"),
    "gp_visit": ("gp_visit_cars", "gp_post.visit_cars"),
    "ambulance": ("ambulances", FLEET_TABLE),
}
SERVICE_LABELS = {"gp_consult": "GP consult GPs", "gp_visit": "GP cars", "ambulance": "ambulances"}


def _open_after_hours(sc: Scenario) -> np.ndarray:
    """Per hour of the week: whether the GP post's number is open on an ordinary day."""
    tl = Timeline.from_scenario(sc)
    ordinary = tl.day_type == 0
    out = np.zeros(168, dtype=bool)
    np.logical_or.at(out, tl.hour_of_week[ordinary], tl.after_hours[ordinary])
    return out


def front_desk_pools(sc: Scenario) -> list[StaffPool]:
    """The pools of the front desks of the scenario's form, intake staff included."""
    after = tuple(bool(x) for x in _open_after_hours(sc))
    always = (True,) * 168
    out = []
    for desk in sc.active_desks():
        pool = desk_pool_name(desk)
        open_how = always if desk == "mka" or sc.organisation == "central" else after
        out.append(StaffPool(pool, cost_key_of_pool(pool), desk, False, open_how))
        if desk != "mka" and sc.triage_of(desk).callback is not None:
            intake = f"{desk}_intake"
            out.append(StaffPool(intake, cost_key_of_pool(intake), desk, True, after))
    return out


def service_pools(sc: Scenario) -> list[StaffPool]:
    """The pools of the services behind the desks: GP consult GPs and GP cars in the GP
    post's hours, the ambulance fleet round the clock; each with the care norms of the
    urgencies of the needs it is meant for."""
    after = tuple(bool(x) for x in _open_after_hours(sc))
    norms = sc.staffing.norms.care
    out = []
    for service, (pool, table) in SERVICES.items():
        urgencies = {n.urgency for n in sc.needs.values() if n.service == service}
        care = tuple(u for u in norms if u in urgencies)
        fleet = service == "ambulance"
        open_how = (True,) * 168 if fleet else after
        scaled = fleet and sc.geography is not None
        out.append(StaffPool(pool, table, "", False, open_how, service, care, scaled))
    return out


def staffed_pools(sc: Scenario) -> list[StaffPool]:
    """The pools a staffing search sets: the front desks, and the services when
    ``staffing.services`` is on."""
    return front_desk_pools(sc) + (service_pools(sc) if sc.staffing.services else [])


def norm_keys(sc: Scenario, pool: StaffPool) -> list[tuple[str, str, float, bool]]:
    """The norms of a pool: (key, what it counts, target, whether the target is a most).
    A desk's norms are ``urgent``, ``regular``, ``abandoned`` and ``callback`` (those the
    scenario sets); a service's ``care_<urgency>``."""
    norms = sc.staffing.norms
    if pool.service:
        return [
            (f"care_{u}", f"{u} requests reached within their target", norms.care[u], False)
            for u in pool.care
        ]
    targets = {
        "urgent": norms.urgent_answered_share,
        "regular": norms.regular_answered_share,
        "abandoned": norms.abandoned_share_max,
        "callback": norms.callback.share if norms.callback is not None else math.nan,
    }
    return [
        (key, label, targets[key], key == "abandoned")
        for key, label in NORMS
        if not math.isnan(targets[key])
    ]


def _kept(tl: Timeline, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Which events (by time) fall in the reporting window on an ordinary day, and the
    hour of the week of those that do."""
    hour = np.minimum((times // 60).astype(np.int64), tl.n_hours - 1)
    keep = (times >= tl.warmup_end_min) & (times < tl.arrivals_end_min) & (tl.day_type[hour] == 0)
    return keep, tl.hour_of_week[hour[keep]]


def count_claims(
    sc: Scenario, tl: Timeline, pool: StaffPool, claims: dict[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """The counts of one observed pool (see the module): ``hist`` (168 x MAX_IN_SYSTEM+1)
    and, for a desk, per norm ``<norm>_n`` and ``<norm>_met`` (168 each)."""
    keep, how = _kept(tl, claims["joined_min"])
    out = {"hist": _histogram(how, claims["in_system"][keep])}
    if pool.service:
        return out
    prio = claims["priority"][keep]
    state = claims["state"][keep]
    wait = claims["decided_min"][keep] - claims["joined_min"][keep]
    served = state == CLAIM_SERVED
    offered = state != CLAIM_CLOSED
    norm = sc.triage_of(pool.desk).answer_norm
    spec = sc.staffing.norms.callback
    callback_min = spec.within_min if spec is not None else np.inf
    on_time = served & (np.nan_to_num(wait, nan=np.inf) <= _limits(prio, norm, callback_min))
    public = offered & ((prio == QUEUE_URGENT) | (prio == QUEUE_REGULAR))
    masks = {
        "urgent": (offered & (prio == QUEUE_URGENT), on_time),
        "regular": (offered & (prio == QUEUE_REGULAR), on_time),
        "abandoned": (public, state == CLAIM_ABANDONED),
        "callback": (offered & (prio > QUEUE_REGULAR), on_time),
    }
    for key, (n, met) in masks.items():
        out[f"{key}_n"] = np.bincount(how[n], minlength=168)
        out[f"{key}_met"] = np.bincount(how[n & met], minlength=168)
    return out


def count_care(
    sc: Scenario, tl: Timeline, pool: StaffPool, requests: dict[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """A service's care norms, by the hour of the week the request arrived in (reporting
    window, ordinary days): per urgency in ``pool.care``, ``care_<u>_n`` requests whose
    need has that urgency and is meant for the service, and ``care_<u>_met`` those a
    professional reached within the need's target (a request never reached fails)."""
    arrival = requests["arrival_min"]
    keep, how = _kept(tl, arrival)
    needs = list(sc.needs.values())
    need = requests["need"][keep]
    urgency = np.array([n.urgency for n in needs], dtype=object)[need]
    mine = np.array([n.service == pool.service for n in needs], dtype=bool)[need]
    target = np.array([n.target_min for n in needs], dtype=float)[need]
    waited = np.nan_to_num(requests["care_min"][keep] - arrival[keep], nan=np.inf)
    met = waited <= target + 1e-9
    out = {}
    for u in pool.care:
        n = mine & (urgency == u)
        out[f"care_{u}_n"] = np.bincount(how[n], minlength=168)
        out[f"care_{u}_met"] = np.bincount(how[n & met], minlength=168)
    return out


def _limits(prio: np.ndarray, norm: Any, callback_min: float) -> np.ndarray:
    """The answering limit (minutes) of each claim by its queue."""
    return (
        np.where(
            prio == QUEUE_URGENT,
            norm.urgent_min,
            np.where(prio == QUEUE_REGULAR, norm.regular_min, callback_min),
        )
        + 1e-9
    )


def _histogram(how: np.ndarray, in_system: np.ndarray) -> np.ndarray:
    """Claims by hour of the week and pool occupancy on joining."""
    n = np.minimum(in_system, MAX_IN_SYSTEM)
    flat = np.bincount(how * (MAX_IN_SYSTEM + 1) + n, minlength=168 * (MAX_IN_SYSTEM + 1))
    return flat.reshape(168, MAX_IN_SYSTEM + 1)


def measure(
    sc: Scenario, replication: int, seed: int, pools: tuple[StaffPool, ...]
) -> dict[str, dict[str, np.ndarray]]:
    """Simulate one replication with the pools observed; their counts by pool name."""
    simulated = simulate(sc, replication, seed, observe=[p.pool for p in pools])
    claims, tl = simulated.records.claims, simulated.timeline
    out = {p.pool: count_claims(sc, tl, p, claims[p.pool]) for p in pools}
    for p in pools:
        if p.care:
            out[p.pool].update(count_care(sc, tl, p, simulated.records.requests))
    return out


def summed(counts: list[dict[str, dict[str, np.ndarray]]], pool: str, key: str) -> np.ndarray:
    """One count of one pool summed over replications."""
    return np.sum([c[pool][key] for c in counts], axis=0)
