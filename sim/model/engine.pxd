# Type declarations for the compiled build of engine.py (see sim/model/_core.py and
# docs/ARCHITECTURE.md, "The compiled core"); the plain source ignores this file.

cdef class Proc:
    cdef public object gen
    cdef public object on_end
    cdef public object owner
