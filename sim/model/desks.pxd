# Type declarations for the compiled build of desks.py (see sim/model/_core.py and
# docs/ARCHITECTURE.md, "The compiled core"); the plain source ignores this file. Every
# attribute the source sets on these classes must be declared here.

# the services' C functions (finish, reach_patient) under the module name the source imports
from sim.model cimport services
from sim.model.services cimport send
from sim.model.draws cimport Sampler, row_value
from sim.model.pools cimport Claim, StaffedPool
from sim.model.records cimport Request
from sim.model.world cimport CallBackRules, Desk, World


cdef class AnsweredCall:
    cdef public Desk at
    cdef public object desk
    cdef public long call_no, kind
    cdef public bint urgent
    cdef public double placed_min, answered_min
    cdef public Claim claim
    cdef _fill(self, Desk at, long call_no, long kind, bint urgent, double placed_min,
               double answered_min, Claim claim)


cdef AnsweredCall answered_call(Desk at, long call_no, long kind, bint urgent,
                                double placed_min, double answered_min, Claim claim)


# module functions called from the module's own processes: C calls there
cpdef _end_call(World world, Request request, AnsweredCall call)
cpdef _note_first_answer(World world, Request request, Desk desk, AnsweredCall call, bint trusted)
cpdef _record_triage(World world, Request request, long assigned)
cpdef tuple _dispatch_plan(World world, Request request, long assigned)
cpdef long _mka_grade(World world, Request request, long assigned) except? -1
cpdef long _assess(World world, Request request, Desk desk, double u) except? -1
cpdef long _triage(World world, Request request, AnsweredCall call, Desk desk, bint trusted) except? -1
cpdef _after_the_call(World world, Request request, long assigned, Desk desk, after_call)
cpdef _after_call(World world, Request request, long assigned, Desk desk, str service)
cpdef _maybe_repeat(World world, Request request, str after)
cpdef _give_advice(World world, Request request, Desk desk)
cpdef take_call(World world, Request request, AnsweredCall answered)
cpdef str _door(World world, bint dialled_112)
cpdef tuple _other_number(World world, str door, bint dialled_112)
cpdef bint _consults_in_room(World world, Request request, AnsweredCall call, Desk desk,
                             long assigned) except -1
cpdef _warm_ambulance(World world, Request request, AnsweredCall call, long assigned,
                      double duration)
cpdef list _send_during_call(World world, Request request, AnsweredCall call, Desk desk,
                             long assigned, tuple own, double duration, object grade)
cpdef str _alternative_if_saturated(World world, Desk desk, long assigned, str service)
