"""One replication in SimPy: calendar, random streams and draws, demand, staffed pools,
records, services, desks and the world that ties them; ``simulate`` runs it."""

from sim.model.simulation import Simulated, simulate

__all__ = ["Simulated", "simulate"]
