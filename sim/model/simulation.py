"""One replication: a pure function of (scenario, replication number, base seed).

``simulate`` builds a fresh world (SimPy environment, the staffed pools of the active
organisational form), starts the arrival process of every demand group, runs to the end of
the drain period and returns the replication's records. Nothing is global: two calls with
the same arguments give identical records, in any process and in any order.
"""

from __future__ import annotations

import gc
import itertools
from array import array
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import simpy

from sim.codes import CHANNEL_WALK_IN
from sim.model.calendar import Timeline
from sim.model.demand import GroupDemand, n_simulated_weeks
from sim.model.desks import request_process
from sim.model.geography import Map
from sim.model.pools import ObservedPool
from sim.model.records import MonitorTable, ReplicationRecords, new_request
from sim.model.services import self_care_online, walk_in
from sim.model.world import Process, World
from sim.scenario.schema import Scenario

try:  # noqa: SIM105  (Cython reads this import at compile time; a context manager hides it)
    import cython  # noqa: F401  (the compiled build reads the local types it names)
except ImportError:  # Cython is needed only to build the compiled core
    pass


@dataclass
class Simulated:
    """The outcome of one replication: its records and the timeline they refer to."""

    scenario: Scenario
    replication: int
    base_seed: int
    timeline: Timeline
    records: ReplicationRecords
    service_index: dict[str, int]


def simulate(
    sc: Scenario, replication: int = 0, base_seed: int | None = None, observe: Sequence[str] = ()
) -> Simulated:
    """Run one replication of a scenario (base seed: the scenario's ``run.seed`` if None).
    ``observe``: pools whose every claim is kept in the records (``claims``); the results
    are the same with or without."""
    seed = sc.run.seed if base_seed is None else base_seed
    world = World(sc, replication, seed, observe)
    records = _run(world)
    return Simulated(sc, replication, seed, world.timeline, records, world.service_index)


#: Requests created together, just before the first of them arrives: few enough that the
#: event queue and the memory stay small, many enough that the wait between chunks is rare.
ARRIVAL_CHUNK = 16


def _arrivals(world: World, group: GroupDemand, counter: itertools.count[int]) -> Process:
    """The requests of one demand group. Each week's arrival times and random numbers are
    drawn at once; the requests are then created a chunk at a time, just before the
    chunk's first arrival, and each one's process is set to start at its arrival time (a
    person who walks into the emergency department needs no process: their record is
    complete at once)."""
    env = world.env
    in_progress = world.requests_in_progress
    columns = world.columns
    for batch in group.batches(world.streams, n_simulated_weeks(world.timeline)):
        times: list = batch.times.tolist()
        needs: list = batch.needs.tolist()
        channels: list = batch.channels.tolist()
        urgent: list = batch.urgent_line.tolist()
        self_care = batch.self_care.tolist() if batch.self_care is not None else None
        zones = None
        if world.map is not None:
            # where each person lives: a stream of its own (nobody else changes)
            u = world.streams.get(f"zones/{group.name}{group.stream_suffix}").random(len(times))
            zones = world.map.zones_of(u).tolist()
        # compact arrays of doubles: a request's random numbers cost 8 bytes each
        # (one copy of the block: through bytes it was two; an empty view cannot be cast)
        rows = array("d")
        if batch.rows.size:
            rows.frombytes(np.ascontiguousarray(batch.rows, dtype=np.float64).data.cast("B"))
        width: cython.Py_ssize_t = batch.rows.shape[1]
        first: cython.Py_ssize_t
        i: cython.Py_ssize_t
        for first in range(0, len(times), ARRIVAL_CHUNK):
            yield times[first] - env.now
            now: float = env.now
            for i in range(first, min(first + ARRIVAL_CHUNK, len(times))):
                delay: float = times[i] - now
                t: float = now + delay  # the clock's own sum: the process starts at exactly t
                request = new_request(
                    next(counter),
                    group.index,
                    needs[i],
                    channels[i],
                    urgent[i],
                    rows[i * width : (i + 1) * width],
                    t,
                )
                if channels[i] == CHANNEL_WALK_IN:
                    walk_in(request)
                    columns.add(request)
                    continue
                if self_care is not None and self_care[i]:
                    self_care_online(world, request)
                    columns.add(request)
                    continue
                if zones is not None:
                    request.zone = zones[i]
                in_progress[request.id] = request
                world.spawn_at(request, request_process(world, request), delay)


def _run(world: World) -> ReplicationRecords:
    counter = itertools.count()
    sc = world.scenario
    for index, name in enumerate(sc.demand.groups):
        group = GroupDemand(sc, world.timeline, index, name)
        world.engine.start(_arrivals(world, group, counter))
    induced = sc.demand.induced_share
    if induced > 0:
        # extra GP-type requests an easier entry draws in, from streams of their own
        for index, name in enumerate(sc.demand.groups):
            if sc.demand.groups[name].after_hours_only:
                group = GroupDemand(sc, world.timeline, index, name, induced, "/induced")
                world.engine.start(_arrivals(world, group, counter))
    # The cyclic garbage collector rescans every live object as the run's records grow,
    # which made the cost per request rise with the horizon; a run creates almost no
    # reference cycles, so it is paused during the run (and restored afterwards).
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        world.env.run(until=world.timeline.end_min)
        return _collect(world)
    finally:
        if gc_was_enabled:
            gc.enable()


def _collect(world: World) -> ReplicationRecords:
    """The records at the end of the run: pool areas closed at the end time, and requests
    still in the system written as they stand."""
    monitors = {}
    end, n_hours = world.timeline.end_min, world.timeline.n_hours
    for name, p in world.pools.items():
        busy, present, waiting = p.areas(end, n_hours)  # new numpy columns
        still = sum(end - c.joined for c in p.waiting_now())
        monitors[name] = MonitorTable(
            name, busy, present, waiting, p.n_claims, p.total_wait + still
        )
        p.release_areas()  # the columns above are the areas from now on
    n_events = _events_scheduled(world.env)
    for rid in sorted(world.requests_in_progress):
        world.columns.add(world.requests_in_progress[rid])
    world.requests_in_progress = {}
    world._ended = None  # the bound method's cycle
    return ReplicationRecords(
        requests=world.columns.table(),
        calls=world.calls.table(),
        rides=world.rides.table(),
        monitors=monitors,
        n_events=n_events,
        moves={} if world.map is None or world.map.move_up is None else _moves(world.map),
        claims=_claims(world),
    )


def _claims(world: World) -> dict[str, dict[str, np.ndarray]]:
    """The kept claims of every observed pool, as columns."""
    out = {}
    for name, pool in world.pools.items():
        if isinstance(pool, ObservedPool):
            joined, priority, in_system, decided, state = pool.claim_columns()
            out[name] = {
                "joined_min": np.array(joined, dtype=float),
                "priority": np.array(priority, dtype=np.int32),
                "in_system": np.array(in_system, dtype=np.int32),
                "decided_min": np.array(decided, dtype=float),
                "state": np.array(state, dtype=np.int8),
            }
    return out


def _moves(geo_map: Map) -> dict[str, np.ndarray]:
    """Move-up's changes to the posts' counts as columns: post, +1 or -1, from, to."""
    assert geo_map.move_up is not None
    rows = np.array(geo_map.move_up.spans, dtype=float).reshape(-1, 4)
    return {
        "post": rows[:, 0].astype(np.int32),
        "delta": rows[:, 1].astype(np.int32),
        "begin_min": rows[:, 2],
        "end_min": np.maximum(rows[:, 2], rows[:, 3]),
    }


def _events_scheduled(env: simpy.Environment) -> int:
    """How many events the environment scheduled (the engine numbers them as SimPy does)."""
    return int(getattr(env, "_seq", -1))
