# Type declarations for the compiled build of geography.py (see sim/model/_core.py and
# docs/ARCHITECTURE.md, "The compiled core"); the plain source ignores this file. Every
# attribute the source sets on these classes must be declared here.

# a drive factor's normal quantile and exponential, in C (the names the source imports)
from libc cimport math
from scipy.special cimport cython_special


cdef class Map:
    cdef public object geo, zone_names, post_names, zone_cdf, to_zone, hospital_of_zone
    cdef public object to_hospital, hospital_to_post, vehicles, car_to_zone, move_up
    cdef public list drive_to, drive_to_hospital, drive_back, vehicles_by_hour, busy, nearest
    cdef public double _sigma, _shift, _car_sigma, _car_shift
    cpdef double factor(self, double z) except? -1.0
    cpdef double car_drive(self, long zone, double z) except? -1.0
    cpdef list on_duty(self, double now)
    cpdef long take_vehicle(self, long zone, double now) except? -1
    cpdef free_vehicle(self, long post)
