"""Staffed pools: servers whose number on duty follows a schedule, with a priority queue.

One mechanism serves every staff group and vehicle fleet (call-takers, triagists, the
coordination desk, GPs, visiting cars, ambulances, teams). The end-of-shift rule is
explicit: when the schedule lowers the number on duty, idle servers leave at once and busy
ones finish the job in hand and then leave (or, with the ``handover`` rule, every boundary
is a shift change: the incoming shift starts on time and the outgoing staff finish their
jobs). A waiting claim can be withdrawn (a caller who hangs up); a pool with opening hours
(the GP post) hands waiting claims back when it closes.

A claim decided at once costs no event. A waiting claim is resumed by the pool when it is
decided (served, abandoned or closed), inside the step that decides it; its patience timer
is the claim itself, scheduled on the environment (see ``sim.model.engine``).

Busy-, on-duty- and waiting-minutes are integrated exactly as the counts change and kept per
simulated hour, so utilisation is a time-weighted share rather than a sum of service times,
and a pool holds a few numbers per hour instead of a log of every change.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from heapq import heappop, heappush
from typing import Any

import numpy as np

try:
    import cython
except ImportError:  # Cython is needed only to build the compiled core
    from sim.model import _directives as cython

from sim.codes import CLAIM_ABANDONED, CLAIM_CLOSED, CLAIM_SERVED, CLAIM_WAITING
from sim.model.engine import Body, Engine, Entry, Priority, Proc

MIN_PER_HOUR = 60.0
#: Hours of areas a pool holds before its buffer first grows (a four-week run fits).
AREA_ROWS = 1024


@cython.freelist(256)  # a claim per call and per service: made and dropped all the time
@cython.cclass
class Claim(Entry):
    """A place in a pool's queue: a caller waiting for a desk, a patient for a GP, a ride for
    a vehicle. A claim decided at once (served, or the pool is closed) has its ``state`` set
    when ``claim`` returns; otherwise its owner yields it and is resumed once the pool has
    set it to CLAIM_SERVED, CLAIM_ABANDONED or CLAIM_CLOSED. Callers: ``if not claim.state:
    yield claim``, then read ``claim.state``."""

    __slots__ = ("callbacks", "proc", "pool", "state", "joined", "shift", "decided")
    decided: float  # when it was decided (set as it is; read only by an observed pool)
    _ok = True  # read by ``Environment.step`` when the claim is a patience timer

    def __init__(self, pool: StaffedPool, joined: float):
        self._fill(pool, joined)

    def _fill(self, pool: StaffedPool, joined: float) -> None:
        self.callbacks: list[Callable[[Any], None]] | None = None
        self.proc: Proc | None = None  # the process waiting for the decision
        self.pool = pool
        self.state = CLAIM_WAITING
        self.joined = joined
        self.shift = 0  # the shift that served it (handover rule)


def new_claim(pool: StaffedPool, joined: float) -> Claim:
    """``Claim(pool, joined)``, made without calling the class (a C call in the compiled
    build: a class call passes its arguments through a tuple)."""
    claim: Claim = Claim.__new__(Claim)
    claim._fill(pool, joined)
    return claim


def _patience_ends(claim: Claim) -> None:
    claim.pool.abandon(claim)


#: The callbacks of a patience timer (one shared list: the environment only reads it).
_PATIENCE_ENDS: list[Callable[[Any], None]] = [_patience_ends]


class StaffedPool:
    """Staff or vehicles whose number on duty follows a schedule, with one priority queue.

    Areas: for each count X (busy, on duty, waiting) the pool keeps X and the sum of
    (change x time) over its changes, so the area of X over [0, T] is X*T minus that sum: a
    change costs one addition, and an hour is closed (its area stored) at the first change
    after it ends."""

    def __init__(
        self,
        engine: Engine,
        name: str,
        capacity_changes: Sequence[tuple[float, float]],
        open_changes: Sequence[tuple[float, bool]] | None = None,
        handover: bool = False,
    ):
        self.engine = self.env = engine
        self.name = name
        self.handover = handover
        self.shift = 0
        self.present = 0
        self.busy = 0
        self.leaving = 0
        self.is_open = True
        self.n_waiting = 0
        self._queue: list[tuple[int, int, Claim]] = []
        self._seq = 0
        # Little's law bookkeeping: claims made, and minutes waited by claims that left the queue
        self.n_claims = 0
        self.total_wait = 0.0
        # sum of (change x time) of each count, the area up to the last closed hour, and
        # the areas of the closed hours
        self._busy_t = self._present_t = self._waiting_t = 0.0
        self._busy_done = self._present_done = self._waiting_done = 0.0
        self._hour_end = MIN_PER_HOUR
        # the areas of the closed hours: busy, on duty, waiting (a row per hour; grown by
        # doubling, written in place: a typed buffer in the compiled build)
        self._areas = np.zeros((AREA_ROWS, 3))
        self._hours = 0
        first = capacity_changes[0]
        if first[0] == 0.0:
            self._set_capacity(int(first[1]))
            capacity_changes = capacity_changes[1:]
        if capacity_changes:
            engine.start(self._roster(list(capacity_changes)))
        if open_changes is not None:
            self.is_open = bool(open_changes[0][1])
            if len(open_changes) > 1:
                engine.start(self._opening(list(open_changes[1:])))

    # ------------------------------------------------------------------ schedule
    def _roster(self, changes: list[tuple[float, float]]) -> Body:
        env = self.env
        for t, n in changes:
            yield float(t - env.now)
            self._set_capacity(int(n))

    def _opening(self, changes: list[tuple[float, bool]]) -> Body:
        env = self.env
        for t, is_open in changes:
            yield float(t - env.now)
            self.is_open = is_open
            if not is_open:
                self._close()

    def _set_capacity(self, target: int) -> None:
        now = self.env.now
        if now > self._hour_end:
            self._close_hours(now)
        before = self.present
        if self.handover:
            # a new shift: everyone busy now is outgoing and finishes the job in hand; the
            # whole incoming shift is on duty at once
            self.shift += 1
            self.leaving = self.busy
            self.present = self.busy + target
        else:
            staying = self.present - self.leaving
            if target > staying:
                cancel = min(self.leaving, target - staying)
                self.leaving -= cancel
                self.present += target - staying - cancel
            elif target < staying:
                remove = staying - target
                idle = self.present - self.busy
                from_idle = min(idle, remove)
                self.present -= from_idle
                self.leaving += remove - from_idle
        self._present_t += (self.present - before) * now
        self._serve(now)

    def _close(self) -> None:
        now = self.env.now
        if now > self._hour_end:
            self._close_hours(now)
        queue, self._queue = self._queue, []
        closed = []
        for _, _, claim in queue:
            if claim.state == CLAIM_WAITING:
                claim.state = CLAIM_CLOSED
                claim.decided = now
                self.total_wait += now - claim.joined
                closed.append(claim)
        self._waiting_t -= self.n_waiting * now
        self.n_waiting = 0
        engine = self.engine
        for claim in closed:
            engine.resume(claim.proc)  # type: ignore[arg-type]

    # ------------------------------------------------------------------ claims
    def claim(self, priority: Priority) -> Claim:
        """Join the queue (lower priority number goes first; FIFO within a priority)."""
        now = self.env.now
        self.n_claims += 1
        claim = new_claim(self, now)
        if not self.is_open:
            claim.state = CLAIM_CLOSED
            return claim
        if now > self._hour_end:
            self._close_hours(now)
        if self.busy < self.present and not self._queue:
            # served at once: no event, the caller reads ``state`` and goes on
            claim.state = CLAIM_SERVED
            claim.shift = self.shift
            self.busy += 1
            self._busy_t += now
            return claim
        self._seq += 1
        heappush(self._queue, (priority, self._seq, claim))
        self.n_waiting += 1
        self._waiting_t += now
        self._serve(now)
        return claim

    def give_up_after(self, claim: Claim, minutes: float) -> None:
        """The waiting ``claim`` is withdrawn after ``minutes`` unless decided before."""
        self.engine.call_at(claim, _PATIENCE_ENDS, minutes)

    def abandon(self, claim: Claim) -> None:
        """Withdraw the claim if it is still waiting, and resume its owner."""
        if claim.state == CLAIM_WAITING:
            now = self.env.now
            if now > self._hour_end:
                self._close_hours(now)
            claim.state = CLAIM_ABANDONED
            claim.decided = now
            self.n_waiting -= 1
            self._waiting_t -= now
            self.total_wait += now - claim.joined
            self.engine.resume(claim.proc)  # type: ignore[arg-type]

    def release(self, claim: Claim) -> None:
        """The server that served ``claim`` is done. Under the level rule the first servers
        to finish are the ones who leave; under the handover rule only outgoing staff (who
        started the job before the latest shift change) leave."""
        now = self.env.now
        if now > self._hour_end:
            self._close_hours(now)
        self.busy -= 1
        self._busy_t -= now
        if self.leaving and (not self.handover or claim.shift < self.shift):
            self.leaving -= 1
            self.present -= 1
            self._present_t -= now
        if self._queue:
            self._serve(now)

    def _serve(self, now: float) -> None:
        """Serve waiting claims while someone is free; their owners resume afterwards, in
        the order served, once the pool's counts are settled."""
        queue = self._queue
        if not queue or self.busy >= self.present:
            return
        served = []
        claim: Claim
        while queue and self.busy < self.present:
            claim = heappop(queue)[2]
            if claim.state != CLAIM_WAITING:
                continue
            claim.state = CLAIM_SERVED
            claim.shift = self.shift
            claim.decided = now
            self.total_wait += now - claim.joined
            self.busy += 1
            served.append(claim)
        n = len(served)
        self.n_waiting -= n
        self._waiting_t -= n * now
        self._busy_t += n * now
        engine = self.engine
        for claim in served:
            if claim.proc is not None:  # None: the claim just made, read by its caller
                engine.resume(claim.proc)

    def idle(self) -> int:
        """Staff on duty and free now."""
        return self.present - self.busy

    # ------------------------------------------------------------------ areas
    def _close_hours(self, now: float) -> None:
        """Store the areas of every hour that ended before ``now`` (no count has changed
        since the first of them began)."""
        while self._hour_end < now:
            self._close_at(self._hour_end)
            self._hour_end += MIN_PER_HOUR

    def _close_at(self, t: float) -> None:
        busy = self.busy * t - self._busy_t
        present = self.present * t - self._present_t
        waiting = self.n_waiting * t - self._waiting_t
        i: cython.Py_ssize_t = self._hours
        if i == self._areas.shape[0]:
            self._grow()
        areas = self._areas
        areas[i, 0] = busy - self._busy_done
        areas[i, 1] = present - self._present_done
        areas[i, 2] = waiting - self._waiting_done
        self._hours = i + 1
        self._busy_done, self._present_done, self._waiting_done = busy, present, waiting

    def _grow(self) -> None:
        grown = np.zeros((2 * self._hours, 3))
        grown[: self._hours] = np.asarray(self._areas)
        self._areas = grown

    def areas(self, end: float, n_hours: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Busy-, on-duty- and waiting-minutes in each of ``n_hours`` hours, the run ending
        at ``end`` (hours after it hold zero; nothing may change in the pool afterwards)."""
        self._close_hours(end)
        self._close_at(end)  # the hour that holds ``end``, up to ``end``
        out = np.zeros((max(n_hours, self._hours), 3))
        out[: self._hours] = np.asarray(self._areas)[: self._hours]
        return out[:, 0].copy(), out[:, 1].copy(), out[:, 2].copy()

    def release_areas(self) -> None:
        """Drop the hourly areas (once they have been copied out at the end of a run)."""
        self._areas = np.zeros((1, 3))
        self._hours = 0

    def waiting_now(self) -> list[Claim]:
        """The claims still waiting in the queue."""
        return [c for _, _, c in self._queue if c.state == CLAIM_WAITING]


class ObservedPool(StaffedPool):
    """A staffed pool that also keeps every claim made on it, for the staffing search:
    when it joined, its priority, how many were in the pool (busy or waiting) as it
    joined, and when and how it was decided. Results are those of a plain pool."""

    def __init__(self, *args: Any, **kwargs: Any):
        self.observed: list[tuple[Claim, int, int]] = []
        super().__init__(*args, **kwargs)

    def claim(self, priority: Priority) -> Claim:
        """Join the queue, as ``StaffedPool.claim``, and keep the claim."""
        in_system = self.busy + self.n_waiting
        claim = super().claim(priority)
        if claim.state != CLAIM_WAITING:
            claim.decided = claim.joined
        self.observed.append((claim, priority, in_system))
        return claim

    def claim_columns(self) -> tuple[list[float], list[int], list[int], list[float], list[int]]:
        """The kept claims as columns: joined, priority, in system on joining, decided
        (nan while still waiting), state."""
        joined, priority, in_system, decided, state = [], [], [], [], []
        for claim, prio, n in self.observed:
            joined.append(claim.joined)
            priority.append(prio)
            in_system.append(n)
            waiting = claim.state == CLAIM_WAITING
            decided.append(float("nan") if waiting else claim.decided)
            state.append(claim.state)
        return joined, priority, in_system, decided, state
