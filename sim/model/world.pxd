# Type declarations for the compiled build of world.py (see sim/model/_core.py and
# docs/ARCHITECTURE.md, "The compiled core"); the plain source ignores this file. Every
# attribute the source sets on these classes must be declared here.

from sim.model.draws cimport Sampler
from sim.model.engine cimport Clock
from sim.model.geography cimport Map
from sim.model.pools cimport Claim, StaffedPool
from sim.model.records cimport CallLog, Request, RequestColumns, RideLog


cdef long _FIRST_CALL_POS, _CALL_STRIDE


cdef long _pick(list cdf, double u) except? -1


cdef class CallBackRules:
    cdef public Sampler intake_time, retry_delay
    cdef public frozenset at_once
    cdef public double fail_share, attempt_min
    cdef public long max_attempts


cdef class Desk:
    cdef public object name, dispatches, handle_time
    cdef public Sampler patience, redial_delay, warm_time
    cdef public CallBackRules callback
    cdef public long index
    cdef public StaffedPool pool, intake_pool
    cdef public list _assign_cdf
    cdef public dict eligible_cdf, _splits
    cdef public double redial_share, switch_share
    cpdef long assign(self, long true_need, double u, bint eligible=*) except? -1
    cpdef tuple split(self, tuple plan)


cdef class World:
    # the run's objects
    cdef public object scenario, observe, timeline, streams, overflow
    cdef public Map map
    cdef public Clock env, engine
    cdef public RequestColumns columns
    cdef public CallLog calls
    cdef public RideLog rides
    cdef public dict pools, desks, service_pools, requests_in_progress
    cdef public object _ended
    cdef public StaffedPool ambulances
    # the form
    cdef public object form, gp_desk
    cdef public bint central, colocated, warm_links
    cdef public dict home_desk, desk_for_service
    cdef public long max_calls
    # per-need tables
    cdef public list need_names, need_service, care_services, need_alternatives
    cdef public list need_acuity, need_urgency, need_priority, need_home, need_conveyance
    cdef public list need_ed_referral, need_recontact, need_is_u1, need_plan, regrade_a1
    cdef public list presentation_share, presented_cdf
    cdef public object services, max_acuity, self_check_min
    cdef public dict service_index
    cdef public double u1_ambulance_only, u1_gp_only
    # samplers and shares
    cdef public Sampler dispatch_delay, amb_turnout, amb_drive, amb_on_scene, amb_transport
    cdef public Sampler amb_handover, amb_return, national_desk_delay, referral_delay
    cdef public Sampler travel_to_post, consultation, recontact_delay, escalation_delay
    cdef public Sampler triage_decision, repeat_delay, room_consult_time
    cdef public double referral_give_up, room_consult_share
    cdef public dict repeat_after, visit_times
    cdef public object alternatives_threshold, alternative_services
    cpdef spawn(self, Request request, body)
    cpdef spawn_at(self, Request request, body, double delay)
    cpdef _process_ended(self, Request request)
    cpdef long presented_assign(self, long true_need, double u) except? -1
    cpdef long call_position(self, Request request, long call_no, long slot) except? -1
