# Type declarations for the compiled build of engine.py (see sim/model/_core.py and
# docs/ARCHITECTURE.md, "The compiled core"); the plain source ignores this file. Every
# attribute the source sets on these classes must be declared here.

cdef class Proc:
    cdef public object gen
    cdef public object on_end
    cdef public object owner


cdef class Clock:
    cdef public double now
    cdef public list _queue
    cdef public object _eid
    cpdef schedule(self, event, priority=*, double delay=*)
    cpdef drive(self, double at)
    cpdef start(self, gen, on_end=*, owner=*)
    cpdef start_at(self, gen, double delay, on_end=*, owner=*)
    cpdef resume(self, Proc proc, value=*)
    cpdef call_at(self, event, list callbacks, double delay)
