"""Wiring of one replication: a pure function of (scenario, replication number, base seed).

``run_replication`` builds a fresh SimPy environment, the staffed pools of the active
organisational form, the arrival processes of every demand group, runs to the end of the
drain period and returns the replication's records and KPIs. Nothing is global: two calls
with the same arguments give identical results, in any process and in any order.
"""

from __future__ import annotations

import gc
import itertools
from array import array
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import simpy
from scipy.special import ndtri

from sim import desks as desks_mod
from sim.demand import GroupDemand, n_simulated_weeks
from sim.desks import Desk
from sim.pools import StaffedPool
from sim.records import (
    CallLog,
    MonitorTable,
    ReplicationRecords,
    Request,
    RequestColumns,
    RideLog,
)
from sim.scenario import Scenario
from sim.services import PRIORITY_RANK
from sim.streams import Streams
from sim.timeline import Timeline, staffing_per_hour_of_week


class World:
    """Everything one replication's processes share: the clock, pools, tables and logs."""

    def __init__(self, sc: Scenario, replication: int, base_seed: int):
        self.sc = sc
        self.env = simpy.Environment()
        self.timeline = Timeline.from_scenario(sc)
        self.streams = Streams(base_seed, replication)
        self.overflow = self.streams.get("overflow")
        self.form = sc.organisation
        self.central = self.form == "central"
        self.colocated = self.form == "colocated"
        self.max_calls = sc.behaviour.max_calls_per_request

        need_names = list(sc.needs)
        self.need_names = need_names
        needs = [sc.needs[n] for n in need_names]
        self.services = sc.services
        self.service_index = {s: i for i, s in enumerate(self.services)}
        self.need_service = [n.service for n in needs]
        self.need_ok = [frozenset((n.service, *n.acceptable_services)) for n in needs]
        self.need_alternatives = [tuple(n.acceptable_services) for n in needs]
        self.need_acuity = [n.acuity for n in needs]
        self.need_priority = [PRIORITY_RANK.get(n.ambulance_priority or "A2", 1) for n in needs]
        self.need_home = [n.home_door for n in needs]
        self.need_conveyance = [n.conveyance_share for n in needs]
        self.need_ed_referral = [n.ed_referral_share for n in needs]
        self.need_recontact = [n.recontact_after_advice_share for n in needs]

        # samplers
        amb = sc.ambulances
        self.dispatch_delay = amb.dispatch.sampler()
        self.amb_turnout = amb.turnout.sampler()
        self.amb_drive = amb.drive_to_scene.sampler()
        self.amb_on_scene = amb.on_scene.sampler()
        self.amb_transport = amb.transport.sampler()
        self.amb_handover = amb.handover.sampler()
        self.amb_return = amb.return_to_base.sampler()
        self.national_desk_delay = sc.mka.national_desk_delay.sampler()
        self.referral_give_up = sc.mka.referral.give_up_share
        self.referral_delay = sc.mka.referral.redial_delay.sampler()
        self.travel_to_post = sc.gp_post.travel_to_post.sampler()
        self.consultation = sc.gp_post.consultation.sampler()
        self.recontact_delay = sc.behaviour.recontact_delay.sampler()
        self.escalation_delay = sc.behaviour.escalation_delay.sampler()
        self.visit_times: dict[str, tuple[Callable[[list[float], int], float], Callable[[list[float], int], float]]] = {
            "gp_visit": (sc.gp_post.visit_travel.sampler(), sc.gp_post.visit_on_site.sampler())
        }
        for name, team in sc.teams.items():
            self.visit_times[name] = (team.travel.sampler(), team.on_site.sampler())
        self.alternatives_threshold = sc.coordination.alternatives_when_queue_at_least
        self.alternative_services = frozenset(sc.coordination.alternative_services)

        # pools
        tl = self.timeline
        gp_open = tl.open_changes()
        self.pools: dict[str, StaffedPool] = {}

        handover = sc.behaviour.shift_change == "handover"
        part_of_how = sc.calendar.day_part_of_hour()

        def pool(name: str, staffing: dict[str, int], opening: Any = None) -> StaffedPool:
            per_how = staffing_per_hour_of_week(sc, staffing)
            if handover:
                changes = tl.shift_changes(per_how, part_of_how)
            else:
                changes = tl.hourly_series_changes(per_how)
            p = StaffedPool(self.env, name, changes, opening, handover)
            self.pools[name] = p
            return p

        self.desks: dict[str, Desk] = {}
        if self.central:
            self.desks["coordination"] = Desk(
                "coordination", pool("coordination_agents", sc.coordination.agents), sc.coordination.triage, need_names, self.services
            )
        else:
            self.desks["mka"] = Desk("mka", pool("mka_call_takers", sc.mka.call_takers), sc.mka.triage, need_names, self.services)
            self.desks["gp_post"] = Desk(
                "gp_post", pool("gp_post_triagists", sc.gp_post.triagists, gp_open), sc.gp_post.triage, need_names, self.services
            )
        # which active desk owns (dispatches) each service
        self.owner: dict[str, str] = {}
        for desk in self.desks.values():
            for service in desk.dispatches:
                self.owner.setdefault(service, desk.name)
        if not self.central:
            # a service both desks may give (advice) belongs to the GP post when referred on
            for service in self.desks["gp_post"].dispatches:
                self.owner[service] = "gp_post"
            for service in self.desks["mka"].dispatches:
                if service not in self.desks["gp_post"].dispatches:
                    self.owner[service] = "mka"
        self.ambulances = pool("ambulances", sc.ambulances.on_duty)
        self.service_pools: dict[str, StaffedPool] = {
            "ambulance": self.ambulances,
            "gp_consult": pool("gp_consult_gps", sc.gp_post.consult_gps, gp_open),
            "gp_visit": pool("gp_visit_cars", sc.gp_post.visit_cars, gp_open),
        }
        for name, team in sc.teams.items():
            self.service_pools[name] = pool(f"team_{name}", team.staff)

        self.alive: dict[int, Request] = {}
        self.columns = RequestColumns()
        self.calls = CallLog()
        self.rides = RideLog()

    def spawn(self, req: Request, generator: Any) -> simpy.Process:
        """Start a process that belongs to a request; when a request's last process ends,
        its record is written to the columns and the object is let go."""
        req.live += 1
        process = self.env.process(generator)
        process.callbacks.append(lambda _event: self._process_ended(req))
        return process

    def _process_ended(self, req: Request) -> None:
        req.live -= 1
        if req.live == 0:
            self.columns.add(req)
            del self.alive[req.id]

    def fresh_row(self, length: int) -> list[float]:
        """More random numbers for a request (uniforms at even, normal quantiles at odd
        positions), from the overflow stream: used past the numbers drawn at creation."""
        u = self.overflow.random((length + 1) // 2)
        row = np.empty(2 * len(u))
        row[0::2] = u
        row[1::2] = ndtri(u)
        return row[:length].tolist()

    # ------------------------------------------------------------------ arrivals
    def _arrivals(self, group: GroupDemand, counter: itertools.count):
        env = self.env
        alive = self.alive
        start = desks_mod.request_process
        for batch in group.batches(self.streams, n_simulated_weeks(self.timeline)):
            times = batch.times.tolist()
            needs = batch.needs.tolist()
            channels = batch.channels.tolist()
            urgent = batch.urgent_line.tolist()
            rows = batch.rows
            for i, t in enumerate(times):
                yield env.timeout(t - env.now)
                # a compact array of doubles: a request's random numbers cost 8 bytes each
                req = Request(next(counter), group.index, needs[i], channels[i], urgent[i], array("d", rows[i].tobytes()), env.now)
                alive[req.id] = req
                self.spawn(req, start(self, req))

    def run(self) -> ReplicationRecords:
        counter = itertools.count()
        for index, name in enumerate(self.sc.demand.groups):
            group = GroupDemand(self.sc, self.timeline, index, name)
            self.env.process(self._arrivals(group, counter))
        # The cyclic garbage collector rescans every live object as the run's records grow,
        # which made the cost per request rise with the horizon; a run creates almost no
        # reference cycles, so it is paused during the run (and restored afterwards).
        gc_was_enabled = gc.isenabled()
        gc.disable()
        try:
            self.env.run(until=self.timeline.end_min)
            return self._records()
        finally:
            if gc_was_enabled:
                gc.enable()

    def _records(self) -> ReplicationRecords:
        monitors = {}
        end = self.timeline.end_min
        for name, p in self.pools.items():
            t = np.append(np.array(p.log_t, dtype=float), end)
            busy, present, waiting = (
                np.append(np.array(col, dtype=np.int64), col[-1]) for col in (p.log_busy, p.log_present, p.log_waiting)
            )
            still = sum(end - c.joined for c in p.waiting_now())
            monitors[name] = MonitorTable(name, t, busy, present, waiting, p.n_claims, p.total_wait + still)
        n_events = _events_scheduled(self.env)
        # requests still in the system at the end are written as they stand
        for rid in sorted(self.alive):
            self.columns.add(self.alive[rid])
        self.alive = {}
        return ReplicationRecords(
            requests=self.columns.table(),
            calls=self.calls.table(),
            rides=self.rides.table(),
            monitors=monitors,
            n_events=n_events,
        )


def _events_scheduled(env: simpy.Environment) -> int:
    """How many events the environment scheduled (SimPy numbers them with a counter)."""
    counter = getattr(env, "_eid", None)
    if counter is None:
        return -1
    return next(counter)


@dataclass
class ReplicationResult:
    scenario: Scenario
    replication: int
    base_seed: int
    records: ReplicationRecords
    kpis: dict[str, float]


def run_replication(sc: Scenario, replication: int = 0, base_seed: int | None = None) -> ReplicationResult:
    from sim.kpis import compute_kpis

    seed = sc.run.seed if base_seed is None else base_seed
    world = World(sc, replication, seed)
    records = world.run()
    kpis = compute_kpis(sc, world.timeline, records)
    return ReplicationResult(sc, replication, seed, records, kpis)
