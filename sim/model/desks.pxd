# Type declarations for the compiled build of desks.py (see sim/model/_core.py and
# docs/ARCHITECTURE.md, "The compiled core"); the plain source ignores this file. Every
# attribute the source sets on these classes must be declared here.

from sim.model.draws cimport Sampler
from sim.model.pools cimport Claim, StaffedPool
from sim.model.records cimport Request
from sim.model.world cimport Desk, World


cdef class AnsweredCall:
    cdef public Desk at
    cdef public object desk
    cdef public long call_no, kind
    cdef public bint urgent
    cdef public double placed_min, answered_min
    cdef public Claim claim
