"""The one entry point that runs a replication for a study: simulate, then measure.

A replication is a pure function of (scenario, replication number, base seed), so the same
numbers come out whether replications run one after another, in a process pool or on a
dask cluster, in any order.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim.experiments.runfiles import write_call_records, write_request_records, write_ride_records
from sim.measures.aggregates import calendar_kpis, histograms, hour_of_week_sums
from sim.measures.kpis import KpiContext, compute_kpis
from sim.model import Simulated, simulate
from sim.scenario.schema import Scenario


@dataclass
class ReplicationResult:
    """A simulated replication with its measurement context and KPIs."""

    simulated: Simulated
    context: KpiContext
    kpis: dict[str, float]

    @property
    def records(self) -> Any:
        """The replication's records (requests, calls, rides, pool areas)."""
        return self.simulated.records


def run_replication(
    sc: Scenario, replication: int = 0, base_seed: int | None = None
) -> ReplicationResult:
    """Simulate one replication and compute its KPIs."""
    simulated = simulate(sc, replication, base_seed)
    context = KpiContext(sc, simulated.timeline, simulated.records)
    return ReplicationResult(simulated, context, compute_kpis(context))


def replicate(
    sc: Scenario,
    replication: int,
    base_seed: int,
    requests_path: str | None = None,
    aggregates: bool = True,
) -> dict[str, Any]:
    """Run one replication and return what a study keeps of it: KPIs and the aggregates the
    report plots (plain data, small enough to store as JSON). With ``requests_path``, also
    write the per-request, per-call and per-ride records there. Without ``aggregates``,
    only the KPIs and counts (the draws of an uncertainty study, whose tables and report
    use nothing else): no histograms, hour-of-week profiles (empty) or calendar figures."""
    result = run_replication(sc, replication, base_seed)
    records = result.records
    out: dict[str, Any] = {
        "replication": replication,
        "kpis": result.kpis,
        "n_events": records.n_events,
        "n_requests": int(len(records.requests["id"])),
        "profiles": {},
    }
    if aggregates:
        out["hist"] = histograms(result.context)
        out["profiles"] = hour_of_week_sums(result.context)
        out["calendar"] = calendar_kpis(result.context)
    if requests_path is not None:
        path = Path(requests_path)
        write_request_records(path, sc, records.requests, result.context.reported)
        write_call_records(path.with_name(path.name.replace("requests", "calls", 1)), records.calls)
        write_ride_records(path.with_name(path.name.replace("requests", "rides", 1)), records.rides)
    return out
