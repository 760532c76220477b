# Type declarations for the compiled build of simulation.py (see sim/model/_core.py and
# docs/ARCHITECTURE.md, "The compiled core"); the plain source ignores this file: it names
# the typed classes that the module's annotations refer to and its C calls.

from sim.model.records cimport Request, new_request
from sim.model.world cimport World
