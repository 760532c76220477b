"""What one replication tells the staffing search, per front-desk pool and hour of the week.

The pools of the front desks are observed (every claim kept, ``sim.model.simulate``'s
``observe``). Claims that join in the reporting window on an ordinary day are counted by
the hour of the week they join in:

* ``hist``: how many were in the pool (busy or waiting) as each claim joined, the
  distribution the iterative staffing algorithm reads (by PASTA, the time-average);
* per norm: claims offered and claims that met it. A wait is measured at the pool's own
  queue (a 112 call's national desk is not the MKA's). Urgent and regular lines count
  a call as met when it was answered within the desk's ``answer_norm``; abandonment counts
  public calls that hung up while waiting; call-backs count attempts started within the
  call-back norm. Claims handed back because a desk closed are not offered.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.codes import CLAIM_ABANDONED, CLAIM_CLOSED, CLAIM_SERVED, QUEUE_REGULAR, QUEUE_URGENT
from sim.measures.kpis import cost_key_of_pool, desk_pool_name
from sim.model import simulate
from sim.model.calendar import Timeline
from sim.scenario.schema import Scenario

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
class DeskPool:
    """A front desk's staff pool: the model's pool, its staffing table in the file, the
    desk whose norms apply, and the hours of the week it is open (168 flags)."""

    pool: str
    table: str
    desk: str
    intake: bool
    open_how: tuple[bool, ...]

    @property
    def label(self) -> str:
        """A name for people: 'GP-post intake staff', 'MKA call-takers', ..."""
        desk = {"mka": "MKA", "gp_post": "GP-post", "coordination": "coordination-desk"}[self.desk]
        if self.intake:
            return f"{desk} intake staff"
        role = {"mka": "call-takers", "gp_post": "triagists", "coordination": "agents"}
        return f"{desk} {role[self.desk]}"


def _open_after_hours(sc: Scenario) -> np.ndarray:
    """Per hour of the week: whether the GP post's number is open on an ordinary day."""
    tl = Timeline.from_scenario(sc)
    ordinary = tl.day_type == 0
    out = np.zeros(168, dtype=bool)
    np.logical_or.at(out, tl.hour_of_week[ordinary], tl.after_hours[ordinary])
    return out


def front_desk_pools(sc: Scenario) -> list[DeskPool]:
    """The pools of the front desks of the scenario's form, intake staff included."""
    after = tuple(bool(x) for x in _open_after_hours(sc))
    always = (True,) * 168
    out = []
    for desk in sc.active_desks():
        pool = desk_pool_name(desk)
        open_how = always if desk == "mka" or sc.organisation == "central" else after
        out.append(DeskPool(pool, cost_key_of_pool(pool), desk, False, open_how))
        if desk != "mka" and sc.triage_of(desk).callback is not None:
            intake = f"{desk}_intake"
            out.append(DeskPool(intake, cost_key_of_pool(intake), desk, True, after))
    return out


def count_claims(
    sc: Scenario, tl: Timeline, pool: DeskPool, claims: dict[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """The counts of one observed pool (see the module): ``hist`` (168 x MAX_IN_SYSTEM+1)
    and, per norm, ``<norm>_n`` and ``<norm>_met`` (168 each)."""
    joined = claims["joined_min"]
    hour = np.minimum((joined // 60).astype(np.int64), tl.n_hours - 1)
    keep = (joined >= tl.warmup_end_min) & (joined < tl.arrivals_end_min) & (tl.day_type[hour] == 0)
    how = tl.hour_of_week[hour[keep]]
    prio = claims["priority"][keep]
    state = claims["state"][keep]
    wait = claims["decided_min"][keep] - joined[keep]
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
    out = {"hist": _histogram(how, claims["in_system"][keep])}
    for key, (n, met) in masks.items():
        out[f"{key}_n"] = np.bincount(how[n], minlength=168)
        out[f"{key}_met"] = np.bincount(how[n & met], minlength=168)
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
    sc: Scenario, replication: int, seed: int, pools: tuple[DeskPool, ...]
) -> dict[str, dict[str, np.ndarray]]:
    """Simulate one replication with the pools observed; their counts by pool name."""
    simulated = simulate(sc, replication, seed, observe=[p.pool for p in pools])
    claims = simulated.records.claims
    return {p.pool: count_claims(sc, simulated.timeline, p, claims[p.pool]) for p in pools}


def summed(counts: list[dict[str, dict[str, np.ndarray]]], pool: str, key: str) -> np.ndarray:
    """One count of one pool summed over replications."""
    return np.sum([c[pool][key] for c in counts], axis=0)
