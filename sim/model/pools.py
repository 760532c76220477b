"""Staffed pools: servers whose number on duty follows a schedule, with a priority queue.

One mechanism serves every staff group and vehicle fleet (call-takers, triagists, the
coordination desk, GPs, visiting cars, ambulances, teams). The end-of-shift rule is
explicit: when the schedule lowers the number on duty, idle servers leave at once and busy
ones finish the job in hand and then leave (or, with the ``handover`` rule, every boundary
is a shift change: the incoming shift starts on time and the outgoing staff finish their
jobs). A waiting claim can be withdrawn (a caller who
hangs up); a pool with opening hours (the GP post) hands waiting claims back when it closes.

Every change of the busy or on-duty count is logged, so utilisation is an exact
time-weighted area rather than a sum of service times.
"""

from __future__ import annotations

import heapq
from array import array
from collections.abc import Sequence

import simpy

from sim.codes import CLAIM_ABANDONED, CLAIM_CLOSED, CLAIM_SERVED, CLAIM_WAITING


class Claim:
    """A place in a pool's queue: a caller waiting for a desk, a patient for a GP, a ride for
    a vehicle. A claim decided at once (served, or the pool is closed) has no event and its
    ``state`` says so; otherwise its event fires with CLAIM_SERVED, CLAIM_ABANDONED or
    CLAIM_CLOSED. Callers: ``state = claim.state or (yield claim.event)``."""

    __slots__ = ("event", "pool", "state", "joined", "shift")

    def __init__(self, event: simpy.Event | None, pool: StaffedPool, joined: float):
        self.event = event
        self.pool = pool
        self.state = CLAIM_WAITING
        self.joined = joined
        self.shift = 0  # the shift that served it (handover rule)

    def abandon(self, _event: simpy.Event | None = None) -> None:
        """Withdraw the claim if it is still waiting (used as a patience-timer callback)."""
        if self.state == CLAIM_WAITING:
            self.state = CLAIM_ABANDONED
            pool = self.pool
            pool.n_waiting -= 1
            pool.total_wait += pool.env.now - self.joined
            pool._log()
            self.event.succeed(CLAIM_ABANDONED)  # type: ignore[union-attr]


class StaffedPool:
    """Staff or vehicles whose number on duty follows a schedule, with one priority queue."""

    def __init__(
        self,
        env: simpy.Environment,
        name: str,
        capacity_changes: Sequence[tuple[float, float]],
        open_changes: Sequence[tuple[float, bool]] | None = None,
        handover: bool = False,
    ):
        self.env = env
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
        # step-function log of (time, busy, on duty, waiting) at every change, as compact
        # arrays (20 bytes a change: counts as 32-bit integers)
        self.log_t = array("d", [0.0])
        self.log_busy = array("i", [0])
        self.log_present = array("i", [0])
        self.log_waiting = array("i", [0])
        first = capacity_changes[0]
        if first[0] == 0.0:
            self._set_capacity(int(first[1]))
            capacity_changes = capacity_changes[1:]
        if capacity_changes:
            env.process(self._roster(list(capacity_changes)))
        if open_changes is not None:
            self.is_open = bool(open_changes[0][1])
            if len(open_changes) > 1:
                env.process(self._opening(list(open_changes[1:])))

    # ------------------------------------------------------------------ schedule
    def _roster(self, changes: list[tuple[float, float]]):
        env = self.env
        for t, n in changes:
            yield env.timeout(t - env.now)
            self._set_capacity(int(n))

    def _opening(self, changes: list[tuple[float, bool]]):
        env = self.env
        for t, is_open in changes:
            yield env.timeout(t - env.now)
            self.is_open = is_open
            if not is_open:
                self._close()

    def _set_capacity(self, target: int) -> None:
        if self.handover:
            # a new shift: everyone busy now is outgoing and finishes the job in hand; the
            # whole incoming shift is on duty at once
            self.shift += 1
            self.leaving = self.busy
            self.present = self.busy + target
            self._log()
            self._serve()
            return
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
        self._log()
        self._serve()

    def _close(self) -> None:
        queue, self._queue = self._queue, []
        now = self.env.now
        for _, _, claim in queue:
            if claim.state == CLAIM_WAITING:
                claim.state = CLAIM_CLOSED
                self.total_wait += now - claim.joined
                claim.event.succeed(CLAIM_CLOSED)  # type: ignore[union-attr]
        self.n_waiting = 0
        self._log()

    # ------------------------------------------------------------------ claims
    def claim(self, priority: int) -> Claim:
        """Join the queue (lower priority number goes first; FIFO within a priority)."""
        now = self.env.now
        self.n_claims += 1
        if not self.is_open or (self.busy < self.present and not self._queue):
            # decided at once: no event, the caller reads ``state`` and goes on
            claim = Claim(None, self, now)
            if not self.is_open:
                claim.state = CLAIM_CLOSED
                return claim
            claim.state = CLAIM_SERVED
            claim.shift = self.shift
            self.busy += 1
            self._log()
            return claim
        claim = Claim(self.env.event(), self, now)
        self._seq += 1
        heapq.heappush(self._queue, (priority, self._seq, claim))
        self.n_waiting += 1
        self._serve()
        if claim.state == CLAIM_WAITING:
            self._log()
        return claim

    def release(self, claim: Claim) -> None:
        """The server that served ``claim`` is done. Under the level rule the first servers
        to finish are the ones who leave; under the handover rule only outgoing staff (who
        started the job before the latest shift change) leave."""
        self.busy -= 1
        if self.leaving and (not self.handover or claim.shift < self.shift):
            self.leaving -= 1
            self.present -= 1
        self._log()
        self._serve()

    def _serve(self) -> None:
        queue = self._queue
        changed = False
        now = self.env.now
        while queue and self.busy < self.present:
            claim = heapq.heappop(queue)[2]
            if claim.state != CLAIM_WAITING:
                continue
            claim.state = CLAIM_SERVED
            claim.shift = self.shift
            self.n_waiting -= 1
            self.total_wait += now - claim.joined
            self.busy += 1
            changed = True
            claim.event.succeed(CLAIM_SERVED)  # type: ignore[union-attr]
        if changed:
            self._log()

    def idle(self) -> int:
        """Staff on duty and free now."""
        return self.present - self.busy

    def _log(self) -> None:
        now = self.env.now
        if self.log_t[-1] == now:
            self.log_busy[-1] = self.busy
            self.log_present[-1] = self.present
            self.log_waiting[-1] = self.n_waiting
        else:
            self.log_t.append(now)
            self.log_busy.append(self.busy)
            self.log_present.append(self.present)
            self.log_waiting.append(self.n_waiting)

    def release_log(self) -> None:
        """Drop the change log (once it has been copied out at the end of a run)."""
        self.log_t = array("d")
        self.log_busy = array("i")
        self.log_present = array("i")
        self.log_waiting = array("i")

    def waiting_now(self) -> list[Claim]:
        """The claims still waiting in the queue."""
        return [c for _, _, c in self._queue if c.state == CLAIM_WAITING]
