# Type declarations for the compiled build of pools.py (see sim/model/_core.py and
# docs/ARCHITECTURE.md, "The compiled core"); the plain source ignores this file. Every
# attribute the source sets on these classes must be declared here.

from sim.model.engine cimport Clock, Entry, Proc


cdef class Claim(Entry):
    cdef public object callbacks
    cdef public Proc proc
    cdef public StaffedPool pool
    cdef public long state
    cdef public double joined
    cdef public long shift
    cdef public double decided
    cdef _fill(self, StaffedPool pool, double joined)


cdef Claim new_claim(StaffedPool pool, double joined)


cdef class StaffedPool:
    cdef public Clock engine, env
    cdef public object name
    cdef public bint handover, is_open
    cdef public long shift, present, busy, leaving, n_waiting, _seq, n_claims
    cdef public double total_wait
    cdef public double _busy_t, _present_t, _waiting_t
    cdef public double _busy_done, _present_done, _waiting_done, _hour_end
    cdef public list _queue
    cdef double[:, ::1] _areas
    cdef public Py_ssize_t _hours
    cpdef _close(self)
    cpdef Claim claim(self, long priority)
    cpdef give_up_after(self, Claim claim, double minutes)
    cpdef abandon(self, Claim claim)
    cpdef release(self, Claim claim)
    cpdef _serve(self, double now)
    cpdef _close_hours(self, double now)
    cpdef _close_at(self, double t)
    cpdef _grow(self)
