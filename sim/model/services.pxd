# Type declarations for the compiled build of services.py (see sim/model/_core.py and
# docs/ARCHITECTURE.md, "The compiled core"); the plain source ignores this file: it names
# the typed classes that the module's annotations refer to and its C calls.

# a row's numbers read in place (a C call)
from sim.model.draws cimport row_value
from sim.model.geography cimport Map
from sim.model.pools cimport Claim, StaffedPool
from sim.model.records cimport Request
from sim.model.world cimport Desk, World


# called from the module's own processes: C calls there
cpdef finish(World world, Request request, long outcome)
cpdef bint reach_patient(World world, Request request, str service) except? -1
cpdef send(World world, Request request, long assigned, str service, double delay=*,
           object priority=*, object call_taken=*)
cpdef _visit_or_consult(World world, Request request, str service, long assigned,
                        double delay=*)
