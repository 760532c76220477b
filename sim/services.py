"""The services a desk sends: ambulances, GP consultations at the post, GP home visits,
optional teams (district nurse, mental-health crisis), telephone advice, and the emergency
department as a counted sink.

* Ambulances (the regional ambulance service, RAV): a fleet on duty by day part; A1 before
  A2 before B; phases dispatch, turnout, drive to scene, on scene, conveyance with the true
  need's probability, transport, hospital handover and return. The ambulance nurse treats
  on scene, so an ambulance counts as care for needs that list it as acceptable.
* GP consultations: the patient travels to the post and waits for a GP; higher acuity first.
* GP home visits: a GP in a car with a driver travels out, sees the patient and returns.
* Teams: like home visits, with their own staff and times.
* When the professional who reaches the patient finds that the need is beyond what they can
  give (under-triage), they request the right service directly (escalation).

Default figures: ``domain/parameters.md`` §2c-§2d (ride phases, visit cycle, consultation)
and §2g (fleet and GP numbers).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sim.demand import (
    U_CONSULT,
    U_CONVEY,
    U_DRIVE,
    U_ED_REFERRAL,
    U_ESCALATION_DELAY,
    U_HANDOVER,
    U_ON_SCENE,
    U_RECONTACT,
    U_RECONTACT_DELAY,
    U_RETURN,
    U_TEAM_ON_SITE,
    U_TEAM_TRAVEL,
    U_TRANSPORT,
    U_TRAVEL_POST,
    U_TURNOUT,
    U_VISIT_ON_SITE,
    U_VISIT_TRAVEL,
)
from sim.pools import SERVED
from sim.records import (
    ADVISED_BELOW_NEED,
    CALL_RECONTACT,
    CARE_GIVEN,
    DAYTIME_PRACTICE,
    IN_SYSTEM,
    TRIAGE_CORRECT,
    TRIAGE_OTHER,
    TRIAGE_OVER,
    TRIAGE_UNDER,
    WALKED_IN_ED,
    Request,
)

if TYPE_CHECKING:
    from sim.desks import Desk
    from sim.model import World

PRIORITY_RANK = {"A1": 0, "A2": 1, "B": 2}


def finish(w: World, req: Request, outcome: int) -> None:
    """Close a request with an outcome (care, once given, is never overwritten)."""
    if req.outcome == IN_SYSTEM or (req.outcome != CARE_GIVEN and outcome == CARE_GIVEN):
        req.outcome = outcome
        req.end_min = w.env.now


def note_triage(w: World, req: Request, assigned: int) -> None:
    if req.first_assigned < 0:
        req.first_assigned = assigned
    need = req.need
    if assigned == need:
        return
    acuity = w.need_acuity
    if acuity[assigned] > acuity[need]:
        direction = TRIAGE_OVER
    elif acuity[assigned] < acuity[need]:
        direction = TRIAGE_UNDER
    else:
        direction = TRIAGE_OTHER
    if req.mistriage == TRIAGE_CORRECT:
        req.mistriage = direction
    if (
        req.misrouted_triage == TRIAGE_CORRECT
        and req.care_min != req.care_min  # care has not started
        and w.need_service[assigned] != w.need_service[need]
    ):
        req.misrouted_triage = direction


def reach_patient(w: World, req: Request, service: str) -> bool:
    """A professional of ``service`` is with the patient; True if that is care for the need."""
    if service in w.need_ok[req.need]:
        if req.care_min != req.care_min:
            req.care_min = w.env.now
            req.care_service = w.service_index[service]
            finish(w, req, CARE_GIVEN)
        return True
    if req.care_min != req.care_min:
        w.spawn(req, escalate(w, req))
    return False


def escalate(w: World, req: Request):
    """The professional on the spot requests the service the need really calls for."""
    req.n_escalations += 1
    yield w.env.timeout(w.escalation_delay(req.u, U_ESCALATION_DELAY))
    if req.care_min == req.care_min:
        return
    need = req.need
    service = w.need_service[need]
    if service == "ambulance":
        yield from ambulance_ride(w, req, w.need_priority[need], w.env.now, 0.0)
    elif service == "advice":
        reach_patient(w, req, "advice")
    else:
        yield from _service_process(w, req, service, need)


def dispatch(w: World, req: Request, assigned: int, desk: Desk) -> None:
    """Start the assigned (non-ambulance) service after the triage call has ended."""
    service = w.need_service[assigned]
    if service == "advice":
        advice_given(w, req, desk)
        return
    threshold = w.alternatives_threshold
    if threshold is not None and desk.name == "coordination":
        pool = w.service_pools[service]
        if pool.n_waiting >= threshold:
            for alt in w.need_alternatives[assigned]:
                alt_pool = w.service_pools.get(alt)
                if alt in w.alternative_services and alt in desk.dispatches and alt_pool is not None and alt_pool.idle() > 0:
                    service = alt
                    break
    if service == "ambulance":
        w.spawn(req, ambulance_ride(w, req, w.need_priority[assigned], w.env.now, 0.0))
    else:
        w.spawn(req, _service_process(w, req, service, assigned))


def _service_process(w: World, req: Request, service: str, assigned: int):
    if service == "gp_consult":
        return gp_consult(w, req, assigned)
    if service == "gp_visit":
        return home_visit(w, req, assigned, "gp_visit")
    return home_visit(w, req, assigned, service)


def advice_given(w: World, req: Request, desk: Desk) -> None:
    if reach_patient_advice(w, req):
        return
    if not req.recontacted and req.u[U_RECONTACT] < w.need_recontact[req.need]:
        req.recontacted = True
        w.spawn(req, _recontact(w, req, desk.name))
    else:
        finish(w, req, ADVISED_BELOW_NEED)


def reach_patient_advice(w: World, req: Request) -> bool:
    if "advice" in w.need_ok[req.need]:
        return reach_patient(w, req, "advice")
    return False


def _recontact(w: World, req: Request, door: str):
    from sim.desks import contact_and_handle

    yield w.env.timeout(w.recontact_delay(req.u, U_RECONTACT_DELAY))
    yield from contact_and_handle(w, req, door, req.last_dialled_112, CALL_RECONTACT)


def walk_in(w: World, req: Request) -> None:
    req.ed_arrival_min = w.env.now
    finish(w, req, WALKED_IN_ED)


def ambulance_ride(w: World, req: Request, priority: int, call_taken: float, delay: float):
    env = w.env
    if delay > 0:
        yield env.timeout(delay)
    requested = env.now
    pool = w.ambulances
    claim = pool.claim(priority)
    if not claim.state:
        yield claim.event
    assigned_at = env.now
    u = req.u
    ride_index = req.n_ambulance_rides
    req.n_ambulance_rides += 1
    # a second ride for the same request draws fresh numbers so it is not a copy of the first
    if ride_index:
        u = w.fresh_row(len(u))
    yield env.timeout(w.amb_turnout(u, U_TURNOUT) + w.amb_drive(u, U_DRIVE))
    on_scene = env.now
    reach_patient(w, req, "ambulance")
    conveyed = u[U_CONVEY] < w.need_conveyance[req.need]
    busy = w.amb_on_scene(u, U_ON_SCENE)
    if conveyed:
        transport = w.amb_transport(u, U_TRANSPORT)
        if req.ed_arrival_min != req.ed_arrival_min:
            req.ed_arrival_min = on_scene + busy + transport
        busy += transport + w.amb_handover(u, U_HANDOVER)
    busy += w.amb_return(u, U_RETURN)
    w.rides.add(req.id, priority, call_taken, requested, assigned_at, on_scene, conveyed)
    yield env.timeout(busy)
    pool.release(claim)


def gp_consult(w: World, req: Request, assigned: int):
    env = w.env
    yield env.timeout(w.travel_to_post(req.u, U_TRAVEL_POST))
    pool = w.service_pools["gp_consult"]
    claim = pool.claim(-w.need_acuity[assigned])
    state = claim.state or (yield claim.event)
    if state != SERVED:
        finish(w, req, DAYTIME_PRACTICE)
        return
    reach_patient(w, req, "gp_consult")
    yield env.timeout(w.consultation(req.u, U_CONSULT))
    pool.release(claim)
    if req.u[U_ED_REFERRAL] < w.need_ed_referral[req.need] and req.ed_arrival_min != req.ed_arrival_min:
        req.ed_arrival_min = env.now + w.travel_to_post(req.u, U_TRAVEL_POST)


def home_visit(w: World, req: Request, assigned: int, service: str):
    env = w.env
    pool = w.service_pools[service]
    claim = pool.claim(-w.need_acuity[assigned])
    state = claim.state or (yield claim.event)
    if state != SERVED:
        finish(w, req, DAYTIME_PRACTICE)
        return
    travel, on_site = w.visit_times[service]
    if service == "gp_visit":
        p_travel, p_site = U_VISIT_TRAVEL, U_VISIT_ON_SITE
    else:
        p_travel, p_site = U_TEAM_TRAVEL, U_TEAM_ON_SITE
    out = travel(req.u, p_travel)
    yield env.timeout(out)
    reach_patient(w, req, service)
    yield env.timeout(on_site(req.u, p_site) + out)
    pool.release(claim)
    if service == "gp_visit" and req.u[U_ED_REFERRAL] < w.need_ed_referral[req.need] and req.ed_arrival_min != req.ed_arrival_min:
        req.ed_arrival_min = env.now
