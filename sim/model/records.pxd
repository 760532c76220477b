# Type declarations for the compiled build of records.py (see sim/model/_core.py and
# docs/ARCHITECTURE.md, "The compiled core"); the plain source ignores this file. Every
# attribute the source sets on these classes must be declared here.


cdef class Request:
    cdef public long id, group, need, channel
    cdef public bint urgent_line
    cdef public object draws
    cdef public double arrival_min
    cdef public long n_calls, n_redials, n_switches, n_abandoned, n_transfers
    cdef public long n_triages, n_escalations, first_desk
    cdef public double first_answer_min
    cdef public bint wrong_door
    cdef public long first_assigned, mistriage, misrouted_triage
    cdef public double care_min
    cdef public long care_service, n_ambulance_rides, n_visits
    cdef public double ed_arrival_min
    cdef public long outcome
    cdef public double end_min
    cdef public bint last_dialled_112, recontacted, repeated
    cdef public long n_live_processes, zone
