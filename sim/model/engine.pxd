# Type declarations for the compiled build of engine.py (see sim/model/_core.py and
# docs/ARCHITECTURE.md, "The compiled core"); the plain source ignores this file. Every
# attribute the source sets on these classes must be declared here.

cdef bint COMPILED
cdef long long ORDER_SPAN


cdef class Entry:
    cdef public double at
    cdef public long long order


cdef class Proc(Entry):
    cdef public object gen
    cdef public object on_end
    cdef public object owner
    cdef _fill(self, gen, on_end, owner)


cdef Proc new_proc(gen, on_end, owner)


cdef class Scheduled(Entry):
    cdef public object event


cdef class _Stop(Entry):
    pass


cdef class Clock:
    cdef public double now
    cdef public list _queue
    cdef public object _eid
    cdef public long long _seq
    cpdef push(self, double at, long long priority, event)
    cpdef pop(self)
    cpdef double peek(self)
    cpdef schedule(self, event, priority=*, double delay=*)
    cpdef drive(self, double at)
    cpdef start(self, gen, on_end=*, owner=*)
    cpdef start_at(self, gen, double delay, on_end=*, owner=*)
    cpdef resume(self, Proc proc)
    cpdef call_at(self, event, list callbacks, double delay)


cdef _push(Clock clock, double at, long long priority, event)
cdef _pop(Clock clock)
cdef bint _before(Entry a, Entry b)
cdef _sift_in(list heap, Entry entry)
cdef Entry _take_first(list heap)
