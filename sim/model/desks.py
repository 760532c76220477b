"""The front doors: the MKA (112 ambulance dispatch centre), the GP post's triage desk and
the coordination desk, and what each organisational form does with a call.

A caller dials a number (after the national 112 desk for 112 calls), waits in the desk's
queue with a finite patience (urgent line and professional calls first), and either hangs
up — then redials the same number, switches to the other number, or gives up — or is
answered. The person who answers triages the request (a caller whose presentation drives
over-triage gets an ambulance at any desk; otherwise the desk's confusion matrix, true need
-> assigned need), and keeps the call for a duration that depends on the disposition. A
disposition sends its need's service, or for U1 what the U1 rule says. Then:

* the desk sends what it may send itself (its ``dispatches``): an ambulance, a GP car or a
  team during the call, a consultation or advice when it ends — after advice below need a
  caller may call again, and after care some call again about the same problem;
* the rest belongs to the other desk, and the form decides: ``separate`` — the MKA refers
  the caller to the GP post (they must phone and queue again, some do not) and the GP post
  hands ambulance cases to the MKA by a second call, which the MKA accepts;
  ``colocated`` and ``coordination_centre`` — cases pass warm both ways (no new queue, the
  disposition as it stands) and an ambulance leaves during the call; co-located, the MKA
  nurse may first talk an A2 case over with a GP-post triagist; ``central`` — one pooled
  desk takes every call and sends every service, and may send an acceptable alternative
  when the first choice is saturated.

Default figures: see docs/PARAMETERS.md (call durations, answering norms, patience and
redial behaviour, the national 112 desk, staffing, triage accuracy).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

try:
    import cython
except ImportError:  # Cython is needed only to build the compiled core
    from sim.model import _directives as cython

from sim.codes import (
    AMBULANCE_A1,
    AMBULANCE_A2,
    CALL_CALLBACK,
    CALL_FIRST,
    CALL_HANDOVER,
    CALL_INTAKE_HANDOFF,
    CALL_PROFESSIONAL,
    CALL_RECONTACT,
    CALL_REDIAL,
    CALL_REFERRAL,
    CALL_REPEAT,
    CALL_ROOM_CONSULT,
    CALL_SWITCH,
    CALL_WARM_TRANSFER,
    CHANNEL_112,
    CHANNEL_PROFESSIONAL,
    CLAIM_CLOSED,
    CLAIM_SERVED,
    CLAIM_WAITING,
    OUTCOME_ABANDONED,
    OUTCOME_ADVISED_BELOW_NEED,
    OUTCOME_DAYTIME_PRACTICE,
    OUTCOME_REFERRAL_GAVE_UP,
    PUBLIC_CALL_KINDS,
    QUEUE_PROFESSIONAL,
    QUEUE_REGULAR,
    QUEUE_URGENT,
    TRIAGE_CORRECT,
    TRIAGE_OTHER,
    TRIAGE_OVER,
    TRIAGE_UNDER,
)
from sim.model import services
from sim.model.draws import (
    CALL_SLOT_ABANDON,
    CALL_SLOT_HANDLE,
    CALL_SLOT_NATIONAL_DESK,
    CALL_SLOT_PATIENCE,
    CALL_SLOT_REDIAL_DELAY,
    CALL_SLOT_TRIAGE,
    SLOT_DISPATCH,
    SLOT_PRESENTATION,
    SLOT_RECONTACT,
    SLOT_RECONTACT_DELAY,
    SLOT_REFERRAL_DELAY,
    SLOT_REFERRAL_GIVE_UP,
    SLOT_REGRADE,
    SLOT_REPEAT_CONTACT,
    SLOT_REPEAT_DELAY,
    SLOT_ROOM_CONSULT,
    SLOT_U1_RULE,
    Sampler,
    row_value,
)
from sim.model.pools import Claim, StaffedPool
from sim.model.records import NAN, Flag, Int, MaybeInt, Request
from sim.model.services import gp_consult, send
from sim.model.world import CallBackRules, Desk, Process, Services, World


@cython.freelist(64)
@cython.cclass
class AnsweredCall:
    """A call that a person at a desk has picked up (and still holds)."""

    __slots__ = ("at", "desk", "call_no", "kind", "urgent", "placed_min", "answered_min", "claim")

    def __init__(
        self,
        at: Desk,
        call_no: int,
        kind: int,
        urgent: bool,
        placed_min: float,
        answered_min: float,
        claim: Claim,
    ):
        self._fill(at, call_no, kind, urgent, placed_min, answered_min, claim)

    def _fill(
        self,
        at: Desk,
        call_no: Int,
        kind: Int,
        urgent: Flag,
        placed_min: float,
        answered_min: float,
        claim: Claim,
    ) -> None:
        self.claim = claim  # the desk's staff member, held until the call ends
        self.at = at  # the desk that answered it
        self.desk = at.name
        self.call_no = call_no  # the request's call number (selects its random numbers)
        self.kind = kind
        self.urgent = urgent
        self.placed_min = placed_min
        self.answered_min = answered_min


def answered_call(
    at: Desk,
    call_no: Int,
    kind: Int,
    urgent: Flag,
    placed_min: float,
    answered_min: float,
    claim: Claim,
) -> AnsweredCall:
    """``AnsweredCall(...)``, made without calling the class (a C call in the compiled
    build: a class call passes its arguments through a tuple)."""
    call: AnsweredCall = AnsweredCall.__new__(AnsweredCall)
    call._fill(at, call_no, kind, urgent, placed_min, answered_min, claim)
    return call


# --------------------------------------------------------------------------- a request


def request_process(world: World, request: Request) -> Process:
    """The life of one request from the moment the person seeks help (a walk-in has no
    process: see ``sim.model.simulation``)."""
    if request.channel == CHANNEL_PROFESSIONAL:
        desk = "coordination" if world.central else "mka"
        answered = yield from professional_call(world, request, desk, CALL_PROFESSIONAL)
        if answered is not None:
            yield from handle_call(world, request, answered, trusted=True)
        return
    dialled_112 = request.channel == CHANNEL_112
    door = _door(world, dialled_112)
    answered = yield from public_contact(world, request, door, dialled_112, CALL_FIRST)
    if answered is not None:
        yield from take_call(world, request, answered)


def contact_and_handle(
    world: World, request: Request, door: str, dialled_112: bool, kind: int
) -> Process:
    """Phone a public number until answered (or given up), then have the call handled."""
    answered = yield from public_contact(world, request, door, dialled_112, kind)
    if answered is not None:
        yield from take_call(world, request, answered)


def take_call(world: World, request: Request, answered: AnsweredCall) -> Process:
    """An answered public call: triaged at once, or (call-back mode) an intake first."""
    desk: Desk = answered.at
    if desk.intake_pool is not None and answered.claim.pool is desk.intake_pool:
        return callback_intake(world, request, answered)
    return handle_call(world, request, answered)


# --------------------------------------------------------------------------- calls


def _door(world: World, dialled_112: Flag) -> str:
    """The desk that answers a number in this form."""
    if world.central:
        return "coordination"
    return "mka" if dialled_112 else world.gp_desk


def _other_number(world: World, door: str, dialled_112: Flag) -> tuple[str, bool]:
    if world.central:
        return "coordination", not dialled_112
    return (world.gp_desk, False) if door == "mka" else ("mka", True)


def public_contact(
    world: World, request: Request, door: str, dialled_112: bool, kind: int
) -> Process:
    """Place calls until a person answers; None if the caller gives up (outcome is set)."""
    env = world.env
    draws = request.draws
    while True:
        if request.n_calls >= world.max_calls:
            services.finish(world, request, OUTCOME_ABANDONED)
            return None
        call_no = request.n_calls
        request.n_calls += 1
        placed = env.now
        request.last_dialled_112 = dialled_112
        if dialled_112:
            pos = world.call_position(request, call_no, CALL_SLOT_NATIONAL_DESK)
            yield world.national_desk_delay.draw(draws, pos)
        desk: Desk = world.desks[door]
        urgent = dialled_112 or request.urgent_line
        pool: StaffedPool = desk.pool
        if desk.intake_pool is not None and not urgent and desk.intake_pool.is_open:
            pool = desk.intake_pool  # call-back mode: the regular line reaches the intake
        claim: Claim = pool.claim(QUEUE_URGENT if urgent else QUEUE_REGULAR)
        if claim.state == CLAIM_WAITING:
            patience = desk.patience.draw(
                draws, world.call_position(request, call_no, CALL_SLOT_PATIENCE)
            )
            pool.give_up_after(claim, patience)
        if not claim.state:  # waiting: the pool resumes this process once it decides
            yield claim
        state = claim.state
        if state == CLAIM_SERVED:
            return answered_call(desk, call_no, kind, urgent, placed, env.now, claim)
        world.calls.add(
            request.id, desk.index, kind, urgent, placed, NAN, env.now, state != CLAIM_CLOSED
        )
        if state == CLAIM_CLOSED:
            services.finish(world, request, OUTCOME_DAYTIME_PRACTICE)
            return None
        request.n_abandoned += 1
        choice = row_value(draws, world.call_position(request, call_no, CALL_SLOT_ABANDON))
        if choice < desk.redial_share:
            kind = CALL_REDIAL
            request.n_redials += 1
        elif choice < desk.redial_share + desk.switch_share:
            kind = CALL_SWITCH
            request.n_switches += 1
            door, dialled_112 = _other_number(world, door, dialled_112)
        else:
            services.finish(world, request, OUTCOME_ABANDONED)
            return None
        pos = world.call_position(request, call_no, CALL_SLOT_REDIAL_DELAY)
        yield desk.redial_delay.draw(draws, pos)


def professional_call(
    world: World, request: Request, door: str, kind: int, settle: bool = True
) -> Process:
    """A call on the professional line (handover, warm transfer, GP or hospital request,
    consultation): it goes first in the queue and is not abandoned. ``settle``: a call the
    request depends on; if it cannot be made, the request ends (otherwise it goes on)."""
    if request.n_calls >= world.max_calls:
        if settle:
            services.finish(world, request, OUTCOME_ABANDONED)
        return None
    call_no = request.n_calls
    request.n_calls += 1
    placed = world.env.now
    desk: Desk = world.desks[door]
    claim: Claim = desk.pool.claim(QUEUE_PROFESSIONAL)
    if not claim.state:  # waiting: the pool resumes this process once it decides
        yield claim
    state = claim.state
    if state != CLAIM_SERVED:
        world.calls.add(request.id, desk.index, kind, True, placed, NAN, world.env.now)
        if settle:
            services.finish(world, request, OUTCOME_DAYTIME_PRACTICE)
        return None
    return answered_call(desk, call_no, kind, True, placed, world.env.now, claim)


def _end_call(world: World, request: Request, call: AnsweredCall) -> None:
    desk: Desk = call.at
    world.calls.add(
        request.id,
        desk.index,
        call.kind,
        call.urgent,
        call.placed_min,
        call.answered_min,
        world.env.now,
    )
    call.claim.pool.release(call.claim)


def _warm_confirmation(world: World, request: Request, door: str) -> Process:
    """Co-located: an MKA call-taker listens in and confirms the ambulance (a short call on
    the professional line while the ambulance is already on its way)."""
    call = yield from professional_call(world, request, door, CALL_WARM_TRANSFER, settle=False)
    if call is None:
        return
    desk: Desk = call.at
    pos = world.call_position(request, call.call_no, CALL_SLOT_HANDLE)
    yield desk.warm_time.draw(request.draws, pos)
    _end_call(world, request, call)


# --------------------------------------------------------------------------- call-back mode

#: Queue priority of call-backs at the triagists: after every live call, most urgent first.
CALLBACK_QUEUE = QUEUE_REGULAR + 1


def callback_intake(world: World, request: Request, intake: AnsweredCall) -> Process:
    """Call-back mode: the intake call (answer, registration, urgency screen); an urgent
    case goes to a triagist at once, the caller staying on the line; the others hang up
    and are called back by a triagist, most urgent first."""
    desk: Desk = intake.at
    rules: CallBackRules | None = desk.callback
    assert rules is not None
    pos = world.call_position(request, intake.call_no, CALL_SLOT_HANDLE)
    yield rules.intake_time.draw(request.draws, pos)
    _end_call(world, request, intake)
    if world.need_urgency[request.need] in rules.at_once:
        handoff = yield from professional_call(world, request, desk.name, CALL_INTAKE_HANDOFF)
        if handoff is not None:
            yield from handle_call(world, request, handoff)
        return
    yield from _call_back(world, request, desk)


def _call_back(world: World, request: Request, desk: Desk) -> Process:
    """Triagists call back in order of urgency; an attempt nobody answers is tried again
    after a delay, up to the desk's number of attempts (then the request is abandoned)."""
    rules: CallBackRules | None = desk.callback
    assert rules is not None
    env, draws = world.env, request.draws
    priority = CALLBACK_QUEUE + world.max_acuity - world.need_acuity[request.need]
    placed = env.now
    for _ in range(rules.max_attempts):
        if request.n_calls >= world.max_calls:
            break
        call_no = request.n_calls
        request.n_calls += 1
        queued = env.now
        claim: Claim = desk.pool.claim(priority)
        if not claim.state:  # waiting: the pool resumes this process once it decides
            yield claim
        state = claim.state
        if state != CLAIM_SERVED:  # the post closed first
            world.calls.add(request.id, desk.index, CALL_CALLBACK, False, queued, NAN, env.now)
            services.finish(world, request, OUTCOME_DAYTIME_PRACTICE)
            return
        pos = world.call_position(request, call_no, CALL_SLOT_ABANDON)
        if row_value(draws, pos) >= rules.fail_share:
            call = answered_call(desk, call_no, CALL_CALLBACK, False, placed, env.now, claim)
            yield from handle_call(world, request, call)
            return
        yield rules.attempt_min
        world.calls.add(request.id, desk.index, CALL_CALLBACK, False, queued, NAN, env.now, True)
        desk.pool.release(claim)
        pos = world.call_position(request, call_no, CALL_SLOT_REDIAL_DELAY)
        yield rules.retry_delay.draw(draws, pos)
    services.finish(world, request, OUTCOME_ABANDONED)


# --------------------------------------------------------------------------- triage


def _note_first_answer(
    world: World, request: Request, desk: Desk, call: AnsweredCall, trusted: Flag
) -> None:
    """The request's first answered call: which desk, when, and whether it was the wrong
    door for the need (called only while ``first_desk`` is unset)."""
    if request.first_desk < 0:
        request.first_desk = desk.index
        request.first_answer_min = call.answered_min
        home = world.home_desk[world.need_home[request.need]]
        if not world.central and not trusted and home != call.desk:
            request.wrong_door = True


def _record_triage(world: World, request: Request, assigned: Int) -> None:
    """Keep the first disposition, the first triage error, and the first error that sends
    a wrong service before care has started."""
    if request.first_assigned < 0:
        request.first_assigned = assigned
    need = request.need
    if assigned == need:
        return
    acuity = world.need_acuity
    if acuity[assigned] > acuity[need]:
        direction = TRIAGE_OVER
    elif acuity[assigned] < acuity[need]:
        direction = TRIAGE_UNDER
    else:
        direction = TRIAGE_OTHER
    if request.mistriage == TRIAGE_CORRECT:
        request.mistriage = direction
    if (
        request.misrouted_triage == TRIAGE_CORRECT
        and request.care_min != request.care_min  # care has not started
        and world.need_service[assigned] != world.need_service[need]
    ):
        request.misrouted_triage = direction


@dataclass(frozen=True)
class Accepted:
    """A disposition passed on by another desk and accepted as it stands (a handover or a
    warm transfer): the receiving desk sends ``services`` for ``need`` without a triage of
    its own; an ambulance's urgency is the MKA's grade (``regrade``)."""

    need: int
    services: tuple[str, ...]
    regrade: bool = False


def _dispatch_plan(world: World, request: Request, assigned: Int) -> tuple[str, ...]:
    """The services a disposition sends: its need's service, or for U1 the U1 rule."""
    service = world.need_service[assigned]
    if not world.need_is_u1[assigned]:
        return (service,)
    u = row_value(request.draws, SLOT_U1_RULE)
    if u < world.u1_ambulance_only:
        return ("ambulance",)
    if u < world.u1_ambulance_only + world.u1_gp_only:
        return (service,)
    return ("ambulance", service)


def _mka_grade(world: World, request: Request, assigned: Int) -> int:
    """The urgency the MKA gives an ambulance another desk asks for: its own grading of the
    case (it may re-grade A1/A2), the same in every form."""
    share_a1 = world.regrade_a1[request.need]
    if share_a1 is None:
        return world.need_priority[assigned]
    return AMBULANCE_A1 if row_value(request.draws, SLOT_REGRADE) < share_a1 else AMBULANCE_A2


def _assess(world: World, request: Request, desk: Desk, u: float) -> int:
    """The need a triagist at ``desk`` assigns: an ambulance for a 112 caller whose
    presentation drives over-triage (at any desk), otherwise the desk's confusion matrix."""
    need = request.need
    if request.channel == CHANNEL_112:
        if row_value(request.draws, SLOT_PRESENTATION) < world.presentation_share[need]:
            return world.presented_assign(need, u)
        return desk.assign(need, u, eligible=True)
    return desk.assign(need, u)


def _triage(world: World, request: Request, call: AnsweredCall, desk: Desk, trusted: Flag) -> int:
    """The disposition of an answered call (a professional's request is taken as stated)."""
    if trusted:
        return request.need
    pos = world.call_position(request, call.call_no, CALL_SLOT_TRIAGE)
    return _assess(world, request, desk, row_value(request.draws, pos))


def _consults_in_room(
    world: World, request: Request, call: AnsweredCall, desk: Desk, assigned: Int
) -> bool:
    """Co-located (``room_consult_share`` > 0): an A2 ambulance for a public caller is first
    discussed with the GP-post triagist in the room, with the scenario's share, when one is
    free at that moment."""
    return (
        desk.name == "mka"
        and call.kind in PUBLIC_CALL_KINDS
        and world.need_service[assigned] == "ambulance"
        and world.need_priority[assigned] == AMBULANCE_A2
        and row_value(request.draws, SLOT_ROOM_CONSULT) < world.room_consult_share
        and world.desks["gp_post"].pool.idle() > 0
        and request.n_calls < world.max_calls
    )


def _room_consult(world: World, request: Request, assigned: int) -> Process:
    """The MKA nurse and a GP-post triagist talk the case over (both are held for the
    consultation; the caller stays on the line). If the GP-post triagist would give GP
    care, that becomes the disposition; otherwise the ambulance stands."""
    call = yield from professional_call(world, request, "gp_post", CALL_ROOM_CONSULT, settle=False)
    if call is None:
        return assigned
    pos = world.call_position(request, call.call_no, CALL_SLOT_HANDLE)
    yield world.room_consult_time.draw(request.draws, pos)
    _end_call(world, request, call)
    pos = world.call_position(request, call.call_no, CALL_SLOT_TRIAGE)
    view = _assess(world, request, world.desks["gp_post"], row_value(request.draws, pos))
    return assigned if world.need_service[view] == "ambulance" else view


def handle_call(
    world: World,
    request: Request,
    call: AnsweredCall,
    trusted: bool = False,
    accepted: Accepted | None = None,
) -> Process:
    """Triage an answered call and act on the disposition.

    ``trusted``: a professional's request, taken as stated (no triage error). ``accepted``:
    a disposition passed on by another desk, sent as it stands (no second triage)."""
    desk: Desk = call.at
    draws = request.draws
    if request.first_desk < 0:
        _note_first_answer(world, request, desk, call, trusted)
    if accepted is not None:
        assigned, plan = accepted.need, accepted.services
    else:
        assigned = _triage(world, request, call, desk, trusted)
        if (
            world.room_consult_share > 0.0
            and not trusted
            and _consults_in_room(world, request, call, desk, assigned)
        ):
            assigned = yield from _room_consult(world, request, assigned)
        request.n_triages += 1
        if assigned != request.need or request.first_assigned < 0:
            _record_triage(world, request, assigned)
        plan = world.need_plan[assigned] or _dispatch_plan(world, request, assigned)
    pos = world.call_position(request, call.call_no, CALL_SLOT_HANDLE)
    if accepted is not None and not accepted.regrade:
        duration = desk.warm_time.draw(draws, pos)
    else:
        handle: Sampler = desk.handle_time[plan[0]]
        duration = handle.draw(draws, pos)
    own, passed = desk.split(plan)
    grade = _mka_grade(world, request, assigned) if accepted and accepted.regrade else None
    after_call = (
        _send_during_call(world, request, call, desk, assigned, own, duration, grade) if own else ()
    )
    referral_spared = not world.warm_links and call.desk == "mka" and bool(own)
    if passed and not referral_spared:
        request.n_transfers += 1
    if world.warm_links and "ambulance" in passed:
        _warm_ambulance(world, request, call, assigned, duration)
        passed = tuple(s for s in passed if s != "ambulance")
    yield duration
    _end_call(world, request, call)
    follow = _after_the_call(world, request, assigned, desk, after_call) if after_call else None
    if passed:
        if follow is not None:
            world.spawn(request, follow)
        yield from _pass_on(world, request, call, assigned, passed, bool(own))
    elif follow is not None:
        yield from follow


def _warm_ambulance(
    world: World, request: Request, call: AnsweredCall, assigned: Int, duration: float
) -> None:
    """The ambulance leaves while the GP-post triagist is still on the line; an MKA
    call-taker listens in, grades it and confirms (a short call on the professional line)."""
    delay = min(world.dispatch_delay.draw(request.draws, SLOT_DISPATCH), duration)
    grade = _mka_grade(world, request, assigned)
    send(world, request, assigned, "ambulance", delay, grade, call.answered_min)
    world.spawn(request, _warm_confirmation(world, request, world.desk_for_service["ambulance"]))


def _send_during_call(
    world: World,
    request: Request,
    call: AnsweredCall,
    desk: Desk,
    assigned: Int,
    own: Services,
    duration: float,
    grade: MaybeInt,
) -> list[str]:
    """Send the desk's own services that leave during the call (an ambulance after the
    dispatch delay, a GP car or team at the triage decision); return the ones that follow
    the end of the call (a consultation at the post, telephone advice)."""
    after_call = []
    draws = request.draws
    for service in own:
        if service in ("advice", "gp_consult"):
            after_call.append(service)
            continue
        if service == "ambulance":
            delay = min(world.dispatch_delay.draw(draws, SLOT_DISPATCH), duration)
            send(world, request, assigned, service, delay, grade, call.answered_min)
            continue
        if desk.name == "coordination":
            service = _alternative_if_saturated(world, desk, assigned, service)
        delay = min(world.triage_decision.draw(draws, SLOT_DISPATCH), duration)
        send(world, request, assigned, service, delay)
    return after_call


def _pass_on(
    world: World,
    request: Request,
    call: AnsweredCall,
    assigned: int,
    passed: tuple[str, ...],
    sent_something: bool,
) -> Process:
    """After the call: services this desk may not send go to the desk that sends them."""
    target = world.desk_for_service[passed[0]]
    if world.warm_links:
        # a warm transfer on the professional line: the disposition is passed on as it stands
        transfer = yield from professional_call(world, request, target, CALL_WARM_TRANSFER)
        if transfer is not None:
            yield from handle_call(world, request, transfer, accepted=Accepted(assigned, passed))
        return
    # separate: no shared line between the two doors
    if call.desk == "mka":
        if sent_something:
            return  # an ambulance is on its way; the caller is not sent to another number
        # referred: the caller must phone the GP post and queue again
        draws = request.draws
        if row_value(draws, SLOT_REFERRAL_GIVE_UP) < world.referral_give_up:
            services.finish(world, request, OUTCOME_REFERRAL_GAVE_UP)
            return
        yield world.referral_delay.draw(draws, SLOT_REFERRAL_DELAY)
        request.n_switches += 1
        yield from contact_and_handle(world, request, "gp_post", False, CALL_REFERRAL)
        return
    # the GP post phones the MKA, which accepts the ambulance (it may re-grade it)
    handover = yield from professional_call(world, request, target, CALL_HANDOVER)
    if handover is not None:
        accepted = Accepted(assigned, passed, regrade=True)
        yield from handle_call(world, request, handover, accepted=accepted)


# --------------------------------------------------------------------------- after a call


def _after_the_call(
    world: World, request: Request, assigned: Int, desk: Desk, after_call: Sequence[str]
) -> Process | None:
    """Act on the services that follow the end of a call; return the consultation the
    call's process goes on with (a handled call is the last step of its process), after
    starting any other in a process of its own."""
    follow = None
    for service in after_call:
        body = _after_call(world, request, assigned, desk, service)
        if body is not None:
            if follow is not None:
                world.spawn(request, follow)
            follow = body
    return follow


def _after_call(
    world: World, request: Request, assigned: Int, desk: Desk, service: str
) -> Process | None:
    """Give advice, or send the patient to a consultation at the post (the coordination
    desk may send an acceptable alternative when the first choice is saturated). Returns
    the consultation's body, for the caller to run or start (a handled call, which is the
    last step of its process, goes on with it: no process of its own is needed)."""
    if service == "advice":
        _give_advice(world, request, desk)
        return None
    if desk.name == "coordination":
        service = _alternative_if_saturated(world, desk, assigned, service)
    if service == "gp_consult":
        return _consultation(world, request, assigned)
    send(world, request, assigned, service)
    return None


def _consultation(world: World, request: Request, assigned: int) -> Process:
    """A consultation at the post; care by it may be followed by a repeat contact."""
    yield from gp_consult(world, request, assigned)
    if request.care_service == world.service_index["gp_consult"]:
        _maybe_repeat(world, request, "gp_consult")


def _maybe_repeat(world: World, request: Request, after: str) -> None:
    """Some people call again about the same problem after care by advice or a
    consultation (once per request), on the number they last dialled."""
    if (
        not request.repeated
        and row_value(request.draws, SLOT_REPEAT_CONTACT) < world.repeat_after[after]
    ):
        request.repeated = True
        world.spawn(request, _repeat_contact(world, request))


def _repeat_contact(world: World, request: Request) -> Process:
    yield world.repeat_delay.draw(request.draws, SLOT_REPEAT_DELAY)
    dialled_112 = request.last_dialled_112
    door = _door(world, dialled_112)
    yield from contact_and_handle(world, request, door, dialled_112, CALL_REPEAT)


def _alternative_if_saturated(world: World, desk: Desk, assigned: Int, service: str) -> str:
    """When the service's queue has reached the threshold, an acceptable alternative the
    desk may send that has someone free; otherwise the service itself."""
    threshold = world.alternatives_threshold
    if threshold is None or world.service_pools[service].n_waiting < threshold:
        return service
    for alt in world.need_alternatives[assigned]:
        alt_pool = world.service_pools.get(alt)
        if (
            alt in world.alternative_services
            and alt in desk.dispatches
            and alt_pool is not None
            and alt_pool.idle() > 0
        ):
            return alt
    return service


def _give_advice(world: World, request: Request, desk: Desk) -> None:
    """Telephone advice ends the call. It is care when the need accepts advice; otherwise
    some callers call the same desk again later (once), the rest stay advised below need."""
    if "advice" in world.care_services[request.need]:
        services.reach_patient(world, request, "advice")
        _maybe_repeat(world, request, "advice")
        return
    if (
        not request.recontacted
        and row_value(request.draws, SLOT_RECONTACT) < world.need_recontact[request.need]
    ):
        request.recontacted = True
        world.spawn(request, _recontact(world, request, desk.name))
    else:
        services.finish(world, request, OUTCOME_ADVISED_BELOW_NEED)


def _recontact(world: World, request: Request, door: str) -> Process:
    delay = world.recontact_delay.draw(request.draws, SLOT_RECONTACT_DELAY)
    yield delay
    yield from contact_and_handle(world, request, door, request.last_dialled_112, CALL_RECONTACT)
