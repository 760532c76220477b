# Type declarations for the compiled build of draws.py (see sim/model/_core.py and
# docs/ARCHITECTURE.md, "The compiled core"); the plain source ignores this file. Every
# attribute the source sets on these classes must be declared here.

# a Sampler's closed forms call the C library's exp and log1p (Python's math module calls
# the same functions)
from libc cimport math
# a lognormal duration's normal quantile, in C
from scipy.special cimport cython_special
# a row's doubles read in place
from cpython.array cimport array

cdef bint COMPILED

cdef long SAMPLER_FIXED, SAMPLER_EXPONENTIAL, SAMPLER_UNIFORM, SAMPLER_LOGNORMAL, SAMPLER_OTHER


cpdef double row_value(object row, Py_ssize_t i) except? -1.0


cdef class Overflow:
    cdef public object generator
    cdef list _block
    cdef Py_ssize_t _next
    cpdef list take(self, Py_ssize_t n)


cdef class Sampler:
    cdef public long kind
    cdef public double a, b
    cdef public object other
    cpdef double draw(self, object row, long i) except? -1.0
