"""The front doors: the MKA (112 ambulance dispatch centre), the GP post's triage desk and the
coordination desk, and what each organisational form does with a call.

A caller dials a number (after the national 112 desk for 112 calls), waits in the desk's
queue with a finite patience (urgent line and professional calls first), and either hangs
up — then redials the same number, switches to the other number, or gives up — or is
answered. The person who answers triages the request with the desk's confusion matrix
(true need -> assigned need) and keeps the call for a duration that depends on the
disposition. Then:

* the desk dispatches the assigned service itself when it may (``dispatches``);
* otherwise the request belongs at the other door, and the form decides:
  ``separate`` — the MKA refers the caller to the GP post (they must phone and queue again,
  some do not), and the GP post hands ambulance cases to the MKA by a second call that the
  MKA triages again; ``colocated`` — transfers are warm (no new queue, a short call, no
  second full triage) and an ambulance leaves while the GP-post triagist is still on the
  line; ``central`` — one pooled desk takes every call and dispatches every service, so a
  wrong door cannot happen.

Default figures: ``domain/parameters.md`` §2d (call durations), §2e (answering norms,
patience, redial behaviour, the national 112 desk), §2g (staffing), §2h (misrouting).
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Any

import numpy as np

from sim import services
from sim.demand import (
    C_ABANDON,
    C_HANDLE,
    C_NATIONAL_DESK,
    C_PATIENCE,
    C_REDIAL_DELAY,
    C_TRIAGE,
    CALL_STRIDE,
    CHANNEL_112,
    CHANNEL_PROFESSIONAL,
    CHANNEL_WALK_IN,
    FIRST_CALL_POS,
    U_DISPATCH,
    U_REFERRAL_DELAY,
    U_REFERRAL_GIVE_UP,
)
from sim.pools import CLOSED, SERVED, Claim, StaffedPool
from sim.records import (
    ABANDONED,
    CALL_FIRST,
    CALL_HANDOVER,
    CALL_PROFESSIONAL,
    CALL_REDIAL,
    CALL_REFERRAL,
    CALL_SWITCH,
    CALL_WARM_TRANSFER,
    DAYTIME_PRACTICE,
    DESK_INDEX,
    NAN,
    REFERRAL_GAVE_UP,
    Request,
)
from sim.scenario import Triage

if TYPE_CHECKING:
    from sim.model import World

PRIORITY_PROFESSIONAL, PRIORITY_URGENT, PRIORITY_REGULAR = 0, 1, 2


class Desk:
    """Runtime state of one front desk: its staffed pool and its compiled triage tables."""

    def __init__(self, name: str, pool: StaffedPool, triage: Triage, need_names: list[str], services_: tuple[str, ...]):
        self.name = name
        self.index = DESK_INDEX[name]
        self.pool = pool
        self.dispatches = frozenset(triage.dispatches)
        n = len(need_names)
        cdf = np.zeros((n, n))
        for i, true_need in enumerate(need_names):
            row = triage.confusion.get(true_need, {true_need: 1.0})
            cdf[i] = np.cumsum([row.get(a, 0.0) for a in need_names])
            cdf[i, -1] = 1.0
        self._cdf = [list(r) for r in cdf]
        self._handle: dict[str, Callable[[list[float], int], float]] = {
            s: triage.handle_duration(s).sampler() for s in services_
        }
        self.patience = triage.patience.sampler()
        self.redial_delay = triage.on_abandon.redial_delay.sampler()
        self.warm_time = triage.warm_transfer_time.sampler()
        self.redial_share = triage.on_abandon.redial_same_share
        self.switch_share = triage.on_abandon.switch_other_share

    def assign(self, true_need: int, u: float) -> int:
        row = self._cdf[true_need]
        for j, c in enumerate(row):
            if u < c:
                return j
        return len(row) - 1

    def handle_time(self, service: str, row: list[float], pos: int) -> float:
        return self._handle[service](row, pos)


class Answered:
    """A call that a person at a desk has picked up."""

    __slots__ = ("desk", "k", "kind", "urgent", "placed", "answered", "claim")

    def __init__(self, desk: str, k: int, kind: int, urgent: bool, placed: float, answered: float, claim: Claim):
        self.claim = claim
        self.desk = desk
        self.k = k  # the request's call number (selects its random numbers)
        self.kind = kind
        self.urgent = urgent
        self.placed = placed
        self.answered = answered


def call_pos(w: World, req: Request, k: int, slot: int) -> int:
    """Position in the request's row of a call's random number (extends the row if needed)."""
    pos = FIRST_CALL_POS + k * CALL_STRIDE + slot
    if pos >= len(req.u):
        req.u.extend(w.fresh_row(pos + 2 - len(req.u)))
    return pos


Proc = Generator[Any, Any, Any]


def request_process(w: World, req: Request) -> Proc:
    """The life of one request from the moment the person seeks help."""
    if req.channel == CHANNEL_WALK_IN:
        services.walk_in(w, req)
        return
    if req.channel == CHANNEL_PROFESSIONAL:
        desk = "coordination" if w.central else "mka"
        answered = yield from professional_call(w, req, desk, CALL_PROFESSIONAL)
        if answered is not None:
            yield from handle_call(w, req, answered, trusted=True)
        return
    dialled_112 = req.channel == CHANNEL_112
    if w.central:
        door = "coordination"
    else:
        door = "mka" if dialled_112 else "gp_post"
    answered = yield from public_contact(w, req, door, dialled_112, CALL_FIRST)
    if answered is not None:
        yield from handle_call(w, req, answered)


def contact_and_handle(w: World, req: Request, door: str, dialled_112: bool, kind: int) -> Proc:
    answered = yield from public_contact(w, req, door, dialled_112, kind)
    if answered is not None:
        yield from handle_call(w, req, answered)


def _other_number(w: World, door: str, dialled_112: bool) -> tuple[str, bool]:
    if w.central:
        return "coordination", not dialled_112
    return ("gp_post", False) if door == "mka" else ("mka", True)


def public_contact(w: World, req: Request, door: str, dialled_112: bool, kind: int) -> Proc:
    """Place calls until a person answers; None if the caller gives up (outcome is set)."""
    env = w.env
    while True:
        if req.n_calls >= w.max_calls:
            services.finish(w, req, ABANDONED)
            return None
        k = req.n_calls
        req.n_calls += 1
        placed = env.now
        req.last_dialled_112 = dialled_112
        if dialled_112:
            yield env.timeout(w.national_desk_delay(req.u, call_pos(w, req, k, C_NATIONAL_DESK)))
        desk = w.desks[door]
        urgent = dialled_112 or req.urgent_line
        claim = desk.pool.claim(PRIORITY_URGENT if urgent else PRIORITY_REGULAR)
        if claim.state == 0:
            patience = desk.patience(req.u, call_pos(w, req, k, C_PATIENCE))
            env.timeout(patience).callbacks.append(claim.abandon)
        state = claim.state or (yield claim.event)
        if state == SERVED:
            return Answered(door, k, kind, urgent, placed, env.now, claim)
        w.calls.add(req.id, desk.index, kind, urgent, placed, NAN, env.now, state != CLOSED)
        if state == CLOSED:
            services.finish(w, req, DAYTIME_PRACTICE)
            return None
        req.n_abandoned += 1
        choice = req.u[call_pos(w, req, k, C_ABANDON)]
        if choice < desk.redial_share:
            kind = CALL_REDIAL
            req.n_redials += 1
        elif choice < desk.redial_share + desk.switch_share:
            kind = CALL_SWITCH
            req.n_switches += 1
            door, dialled_112 = _other_number(w, door, dialled_112)
        else:
            services.finish(w, req, ABANDONED)
            return None
        yield env.timeout(desk.redial_delay(req.u, call_pos(w, req, k, C_REDIAL_DELAY)))


def professional_call(w: World, req: Request, door: str, kind: int) -> Proc:
    """A call on the professional line (handover, warm transfer, GP or hospital request):
    it goes first in the queue and is not abandoned."""
    if req.n_calls >= w.max_calls:
        services.finish(w, req, ABANDONED)
        return None
    k = req.n_calls
    req.n_calls += 1
    placed = w.env.now
    desk = w.desks[door]
    claim = desk.pool.claim(PRIORITY_PROFESSIONAL)
    state = claim.state or (yield claim.event)
    if state != SERVED:
        w.calls.add(req.id, desk.index, kind, True, placed, NAN, w.env.now)
        services.finish(w, req, DAYTIME_PRACTICE)
        return None
    return Answered(door, k, kind, True, placed, w.env.now, claim)


def _end_call(w: World, req: Request, a: Answered) -> None:
    desk = w.desks[a.desk]
    w.calls.add(req.id, desk.index, a.kind, a.urgent, a.placed, a.answered, w.env.now)
    desk.pool.release(a.claim)


def handle_call(w: World, req: Request, a: Answered, trusted: bool = False, warm: bool = False) -> Proc:
    """Triage an answered call and act on the disposition."""
    env = w.env
    desk = w.desks[a.desk]
    k = a.k
    if req.first_desk < 0:
        req.first_desk = desk.index
        req.first_answer_min = a.answered
        if not w.central and not trusted and w.need_home[req.need] != a.desk:
            req.wrong_door = True
    assigned = req.need if trusted else desk.assign(req.need, req.u[call_pos(w, req, k, C_TRIAGE)])
    if not warm:
        req.n_triages += 1
    services.note_triage(w, req, assigned)
    service = w.need_service[assigned]
    if warm:
        duration = desk.warm_time(req.u, call_pos(w, req, k, C_HANDLE))
    else:
        duration = desk.handle_time(service, req.u, call_pos(w, req, k, C_HANDLE))

    if service in desk.dispatches:
        if service == "ambulance":
            delay = min(w.dispatch_delay(req.u, U_DISPATCH), duration)
            w.spawn(req, services.ambulance_ride(w, req, w.need_priority[assigned], a.answered, delay))
            yield env.timeout(duration)
            _end_call(w, req, a)
            return
        yield env.timeout(duration)
        _end_call(w, req, a)
        services.dispatch(w, req, assigned, desk)
        return

    # the assigned service belongs to the other door
    target = w.owner[service]
    req.n_transfers += 1
    if w.colocated:
        if service == "ambulance":
            # the ambulance leaves while the GP-post triagist is still on the line; an MKA
            # call-taker listens in and confirms (a short warm call on the professional line)
            delay = min(w.dispatch_delay(req.u, U_DISPATCH), duration)
            w.spawn(req, services.ambulance_ride(w, req, w.need_priority[assigned], a.answered, delay))
            w.spawn(req, _warm_confirmation(w, req, target))
            yield env.timeout(duration)
            _end_call(w, req, a)
            return
        yield env.timeout(duration)
        _end_call(w, req, a)
        transfer = yield from professional_call(w, req, target, CALL_WARM_TRANSFER)
        if transfer is not None:
            yield from handle_call(w, req, transfer, warm=True)
        return

    # separate: no shared line between the two doors
    yield env.timeout(duration)
    _end_call(w, req, a)
    if a.desk == "mka":
        # referred: the caller must phone the GP post and queue again
        if req.u[U_REFERRAL_GIVE_UP] < w.referral_give_up:
            services.finish(w, req, REFERRAL_GAVE_UP)
            return
        yield env.timeout(w.referral_delay(req.u, U_REFERRAL_DELAY))
        req.n_switches += 1
        yield from contact_and_handle(w, req, "gp_post", False, CALL_REFERRAL)
    else:
        # the GP post phones the MKA, which triages the case again before it dispatches
        handover = yield from professional_call(w, req, target, CALL_HANDOVER)
        if handover is not None:
            yield from handle_call(w, req, handover)


def _warm_confirmation(w: World, req: Request, door: str) -> Proc:
    if req.n_calls >= w.max_calls:
        return
    k = req.n_calls
    req.n_calls += 1
    placed = w.env.now
    desk = w.desks[door]
    claim = desk.pool.claim(PRIORITY_PROFESSIONAL)
    state = claim.state or (yield claim.event)
    if state != SERVED:
        w.calls.add(req.id, desk.index, CALL_WARM_TRANSFER, True, placed, NAN, w.env.now)
        return
    answered = w.env.now
    yield w.env.timeout(desk.warm_time(req.u, call_pos(w, req, k, C_HANDLE)))
    w.calls.add(req.id, desk.index, CALL_WARM_TRANSFER, True, placed, answered, w.env.now)
    desk.pool.release(claim)
