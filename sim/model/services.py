"""The services a desk sends: ambulances, GP consultations at the post, GP home visits,
optional teams (district nurse, mental-health crisis), and the emergency department as a
counted sink.

* Ambulances (the regional ambulance service, RAV): a fleet on duty by day part; A1 before
  A2 before B; phases dispatch, turnout, drive to scene, on scene, conveyance with the true
  need's probability, transport, hospital handover and return. The ambulance nurse treats
  on scene, so an ambulance counts as care for needs that list it as acceptable.
* GP consultations: the patient travels to the post and waits for a GP; higher acuity first.
* GP home visits: a GP in a car with a driver travels out, sees the patient and returns.
* Teams: like home visits, with their own staff and times.
* When the professional who reaches the patient finds that the need is beyond what they can
  give (under-triage), they request the right service directly (escalation).

Telephone advice is given by the desks themselves (``sim.model.desks``). Default figures:
see docs/PARAMETERS.md (ambulances, GP consultations and visits, teams).
"""

from __future__ import annotations

from collections.abc import Sequence

from sim.codes import (
    CLAIM_SERVED,
    OUTCOME_CARE_GIVEN,
    OUTCOME_DAYTIME_PRACTICE,
    OUTCOME_IN_SYSTEM,
    OUTCOME_SELF_CARE,
    OUTCOME_WALKED_IN_ED,
)
from sim.model.draws import (
    SLOT_CONSULT,
    SLOT_CONVEY,
    SLOT_DRIVE,
    SLOT_ED_REFERRAL,
    SLOT_ESCALATION_DELAY,
    SLOT_HANDOVER,
    SLOT_ON_SCENE,
    SLOT_RETURN,
    SLOT_TEAM_ON_SITE,
    SLOT_TEAM_TRAVEL,
    SLOT_TRANSPORT,
    SLOT_TRAVEL_POST,
    SLOT_TURNOUT,
    SLOT_VISIT_ON_SITE,
    SLOT_VISIT_TRAVEL,
    row_value,
)
from sim.model.geography import Map
from sim.model.pools import Claim, StaffedPool
from sim.model.records import Int, MaybeInt, MaybeMinutes, Request
from sim.model.world import Process, World


def finish(world: World, request: Request, outcome: Int) -> None:
    """Close a request with an outcome (care, once given, is never overwritten)."""
    if request.outcome == OUTCOME_IN_SYSTEM or (
        request.outcome != OUTCOME_CARE_GIVEN and outcome == OUTCOME_CARE_GIVEN
    ):
        request.outcome = outcome
        request.end_min = world.env.now


def reach_patient(world: World, request: Request, service: str) -> bool:
    """A professional of ``service`` is with the patient; True if that is care for the need.
    If it is not, the professional sends for the right service (escalation)."""
    if service in world.care_services[request.need]:
        if request.care_min != request.care_min:  # care has not started (nan)
            request.care_min = world.env.now
            request.care_service = world.service_index[service]
            finish(world, request, OUTCOME_CARE_GIVEN)
        return True
    if request.care_min != request.care_min:
        world.spawn(request, escalate(world, request))
    return False


def escalate(world: World, request: Request) -> Process:
    """The professional on the spot requests the service the need really calls for."""
    request.n_escalations += 1
    yield world.escalation_delay.draw(request.draws, SLOT_ESCALATION_DELAY)
    if request.care_min == request.care_min:  # care started meanwhile
        return
    need = request.need
    service = world.need_service[need]
    if service == "ambulance":
        yield from ambulance_ride(world, request, world.need_priority[need], world.env.now, 0.0)
    elif service == "advice":
        reach_patient(world, request, "advice")
    else:
        yield from _visit_or_consult(world, request, service, need)


def send(
    world: World,
    request: Request,
    assigned: Int,
    service: str,
    delay: float = 0.0,
    priority: MaybeInt = None,
    call_taken: MaybeMinutes = None,
) -> None:
    """Start ``service`` (anything but advice) for a request triaged as need ``assigned``,
    ``delay`` minutes from now (a service sent during a call leaves at the decision)."""
    if service == "ambulance":
        grade = world.need_priority[assigned] if priority is None else priority
        taken = world.env.now if call_taken is None else call_taken
        world.spawn(request, ambulance_ride(world, request, grade, taken, delay))
    else:
        world.spawn(request, _visit_or_consult(world, request, service, assigned, delay))


def _visit_or_consult(
    world: World, request: Request, service: str, assigned: Int, delay: float = 0.0
) -> Process:
    if service == "gp_consult":
        return gp_consult(world, request, assigned)
    return home_visit(world, request, assigned, service, delay)


def walk_in(request: Request) -> None:
    """The person goes straight to the emergency department (their whole record)."""
    request.ed_arrival_min = request.end_min = request.arrival_min
    request.outcome = OUTCOME_WALKED_IN_ED


def self_care_online(world: World, request: Request) -> None:
    """Digital self-triage ended in self-care advice: advice is the person's care (the
    scenario's checks allow self-triage only for needs that advice meets); no call."""
    request.care_min = request.end_min = request.arrival_min + world.self_check_min
    request.care_service = world.service_index["advice"]
    request.outcome = OUTCOME_SELF_CARE


def ambulance_ride(
    world: World, request: Request, priority: int, call_taken: float, delay: float
) -> Process:
    """One ambulance ride: wait for a vehicle (by priority), turn out, drive, treat on scene,
    convey to hospital with the need's probability and hand over, return to base."""
    env = world.env
    if delay > 0:
        yield delay
    requested = env.now
    pool: StaffedPool = world.ambulances
    claim: Claim = pool.claim(priority)
    if not claim.state:
        yield claim
    assigned_at = env.now
    draws = request.draws
    ride_index = request.n_ambulance_rides
    request.n_ambulance_rides += 1
    # a second ride for the same request draws fresh numbers so it is not a copy of the first
    if ride_index:
        draws = world.fresh_draws(len(draws))  # type: ignore[assignment]
    geo = world.map
    if geo is not None:
        yield from _mapped_ride(world, request, priority, call_taken, requested, draws)
        pool.release(claim)
        return
    yield world.amb_turnout.draw(draws, SLOT_TURNOUT) + world.amb_drive.draw(draws, SLOT_DRIVE)
    on_scene = env.now
    reach_patient(world, request, "ambulance")
    conveyed = row_value(draws, SLOT_CONVEY) < world.need_conveyance[request.need]
    busy = world.amb_on_scene.draw(draws, SLOT_ON_SCENE)
    if conveyed:
        transport = world.amb_transport.draw(draws, SLOT_TRANSPORT)
        if request.ed_arrival_min != request.ed_arrival_min:
            request.ed_arrival_min = on_scene + busy + transport
        busy += transport + world.amb_handover.draw(draws, SLOT_HANDOVER)
    busy += world.amb_return.draw(draws, SLOT_RETURN)
    released = env.now + busy
    world.rides.add(
        request.id, priority, call_taken, requested, assigned_at, on_scene, released, conveyed
    )
    yield busy
    pool.release(claim)


def _mapped_ride(
    world: World,
    request: Request,
    priority: int,
    call_taken: float,
    requested: float,
    draws: Sequence[float],
) -> Process:
    """The ride on the map: the nearest post with a free vehicle, the drive to the zone,
    the nearest hospital, and back to the post (the drives' factors use the ride's own
    numbers)."""
    env = world.env
    geo: Map | None = world.map
    assert geo is not None
    assigned_at = env.now
    zone = request.zone
    post = geo.take_vehicle(zone, assigned_at)
    if geo.move_up is not None:
        _stand_in(world, geo.move_up.after_dispatch(assigned_at))
    drive = geo.drive_to[post][zone] * geo.factor(row_value(draws, SLOT_DRIVE))
    yield world.amb_turnout.draw(draws, SLOT_TURNOUT) + drive
    on_scene = env.now
    reach_patient(world, request, "ambulance")
    conveyed = row_value(draws, SLOT_CONVEY) < world.need_conveyance[request.need]
    busy = world.amb_on_scene.draw(draws, SLOT_ON_SCENE)
    back = geo.factor(row_value(draws, SLOT_RETURN))
    if conveyed:
        transport = geo.drive_to_hospital[zone] * geo.factor(row_value(draws, SLOT_TRANSPORT))
        if request.ed_arrival_min != request.ed_arrival_min:
            request.ed_arrival_min = on_scene + busy + transport
        busy += transport + world.amb_handover.draw(draws, SLOT_HANDOVER)
        busy += geo.drive_back[zone][post] * back
    else:
        busy += geo.drive_to[post][zone] * back
    world.rides.add(
        request.id,
        priority,
        call_taken,
        requested,
        assigned_at,
        on_scene,
        env.now + busy,
        conveyed,
        post,
        zone,
    )
    yield busy
    geo.free_vehicle(post)
    if geo.move_up is not None:
        _stand_in(world, geo.move_up.after_return(post, env.now))


def _stand_in(world: World, move: tuple[int, float] | None) -> None:
    """A move-up drive: the vehicle is idle at its post once it arrives."""
    if move is not None:
        post, minutes = move
        geo = world.map
        assert geo is not None
        world.env.timeout(minutes).callbacks.append(lambda _event: geo.free_vehicle(post))


def gp_consult(world: World, request: Request, assigned: int) -> Process:
    """A consultation at the GP post: travel there, wait for a GP (higher acuity first)."""
    env = world.env
    draws = request.draws
    yield world.travel_to_post.draw(draws, SLOT_TRAVEL_POST)
    pool: StaffedPool = world.service_pools["gp_consult"]
    claim: Claim = pool.claim(-world.need_acuity[assigned])
    if not claim.state:  # waiting: the pool resumes this process once it decides
        yield claim
    state = claim.state
    if state != CLAIM_SERVED:
        finish(world, request, OUTCOME_DAYTIME_PRACTICE)
        return
    reach_patient(world, request, "gp_consult")
    yield world.consultation.draw(draws, SLOT_CONSULT)
    pool.release(claim)
    referred = row_value(draws, SLOT_ED_REFERRAL) < world.need_ed_referral[request.need]
    if referred and request.ed_arrival_min != request.ed_arrival_min:
        request.ed_arrival_min = env.now + world.travel_to_post.draw(draws, SLOT_TRAVEL_POST)


def home_visit(
    world: World, request: Request, assigned: int, service: str, delay: float = 0.0
) -> Process:
    """A GP home visit or a team visit: wait for a car or team member, travel out, see the
    patient, travel back."""
    env = world.env
    draws = request.draws
    request.n_visits += 1
    if delay > 0:
        yield delay
    pool: StaffedPool = world.service_pools[service]
    claim: Claim = pool.claim(-world.need_acuity[assigned])
    if not claim.state:  # waiting: the pool resumes this process once it decides
        yield claim
    state = claim.state
    if state != CLAIM_SERVED:
        finish(world, request, OUTCOME_DAYTIME_PRACTICE)
        return
    travel, on_site = world.visit_times[service]
    if service == "gp_visit":
        p_travel, p_site = SLOT_VISIT_TRAVEL, SLOT_VISIT_ON_SITE
    else:
        p_travel, p_site = SLOT_TEAM_TRAVEL, SLOT_TEAM_ON_SITE
    geo: Map | None = world.map
    if geo is not None and geo.car_to_zone is not None and request.zone >= 0:
        out = geo.car_drive(request.zone, row_value(draws, p_travel))  # from the nearest base
    else:
        out = travel(draws, p_travel)
    yield out
    reach_patient(world, request, service)
    yield on_site(draws, p_site) + out
    pool.release(claim)
    if (
        service == "gp_visit"
        and row_value(draws, SLOT_ED_REFERRAL) < world.need_ed_referral[request.need]
        and request.ed_arrival_min != request.ed_arrival_min
    ):
        request.ed_arrival_min = env.now
