"""One replication in SimPy: calendar, random streams and draws, demand, staffed pools,
records, services, desks and the world that ties them; ``simulate`` runs it.

The modules run compiled where the installation built them, else as plain Python (the
reference; the same numbers either way): see ``sim.model._core``."""

from sim.model import _core

_core.select()  # before any other model module is imported

from sim.model.simulation import Simulated, simulate  # noqa: E402

__all__ = ["Simulated", "simulate"]
