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
    cdef _fill(self, long rid, long group, long need, long channel, bint urgent_line,
               object draws, double t)


cpdef Request new_request(long rid, long group, long need, long channel, bint urgent_line,
                          object draws, double t)


cdef Py_ssize_t CHUNK_ROWS


cdef class _ChunkedColumns:
    cdef public list _columns, _slots
    cdef int[:, ::1] _ints
    cdef signed char[:, ::1] _bytes
    cdef double[:, ::1] _doubles
    cdef public Py_ssize_t _row
    cdef _added(self)
    cdef _flush(self)


cdef class CallLog(_ChunkedColumns):
    cpdef add(self, long request, long desk, long kind, bint urgent, double placed,
              double answered, double ended, bint abandoned=*)


cdef class RideLog(_ChunkedColumns):
    cdef public bint geography
    cdef public tuple columns
    cpdef add(self, long request, long priority, double call_taken, double requested,
              double assigned, double on_scene, double released, bint conveyed, long post=*,
              long zone=*)


cdef class RequestColumns(_ChunkedColumns):
    cpdef add(self, Request request)
