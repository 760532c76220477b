"""A STRESS-DES checklist of one run, filled from what the run folder records.

STRESS-DES (Monks et al., "Strengthening the reporting of empirical simulation studies:
introducing the STRESS guidelines", Journal of Simulation 13(1), 2019) lists what a
report of a discrete-event simulation study should say, in six sections. Every run folder
gets ``stress_des.md``: the items that follow from the run (scenarios and their forms,
seed, replications, run length, warm-up, software versions, machine, commit) are filled in
from ``meta.json`` and the scenarios; the items that are the same for every run point to
the project's documents, where they are written out once.
"""

from __future__ import annotations

import os
import platform
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from sim.experiments.runfiles import atomic_open
from sim.scenario.schema import Scenario

FILE = "stress_des.md"
#: The project's documents the fixed items point to.
MODEL, PARAMETERS, VALIDATION = "docs/MODEL.md", "docs/PARAMETERS.md", "docs/VALIDATION.md"
STAFFING = "docs/STAFFING.md"

_PURPOSE = (
    "Compare ways of organising the front doors of Dutch after-hours acute care (112 with "
    "the ambulance dispatch centre, the GP out-of-hours post with its own number, and forms "
    "of coordination up to one desk) on waiting, misrouting, time to care, ambulance use "
    "and staff needs."
)
_AIMS = {
    "run": "one scenario, to describe its behaviour",
    "compare": "the scenarios below with common random numbers and paired differences "
    "from the first",
    "sweep": "a designed sweep of inputs (the sweep file in meta.json)",
    "uncertainty": "input uncertainty: draws of the uncertain inputs, every form with the same "
    "draw, with Sobol' indices and thresholds",
    "staffing": "the least staff that meets the norms of the staffing block, found by the "
    f"iterative staffing algorithm and verified ({STAFFING})",
    "staffing_compare": f"every form staffed to the same norms, paired over searches ({STAFFING})",
}


def _scenarios(scenarios: Sequence[Scenario]) -> list[str]:
    """One line per scenario (the first twelve of a long study)."""
    out = []
    for sc in scenarios[:12]:
        desks = ", ".join(sc.active_desks())
        out.append(
            f"  - `{sc.name}`: form `{sc.organisation}` (desks: {desks}); region "
            f"{sc.region.name}, {sc.region.population:,} inhabitants"
        )
    if len(scenarios) > 12:
        out.append(f"  - ... and {len(scenarios) - 12} more (all in meta.json)")
    return out


def _confidence(sc: Scenario) -> str:
    counts = Counter(p.confidence for p in sc.provenance.values())
    return ", ".join(f"{n} {c}" for c, n in sorted(counts.items())) or "none recorded"


def _versions(meta: Mapping[str, Any]) -> str:
    versions = meta.get("versions") or {}
    return ", ".join(f"{k} {v}" for k, v in sorted(versions.items())) or "not recorded"


def _run_length(sc: Scenario, meta: Mapping[str, Any]) -> list[str]:
    reps = meta.get("replications_run") or meta.get("replications_requested")
    if reps is None and isinstance(meta.get("replications"), list):
        reps = len(meta["replications"])
    precision = meta.get("precision")
    asked = f"; a relative precision of {precision:g} was asked" if precision else ""
    return [
        f"- **4.1 Initialisation**: the system starts empty; a warm-up of "
        f"{sc.run.warmup_days:g} days is simulated and not reported, and after the reporting "
        f"window {sc.run.drain_hours:g} hours drain so that requests in progress finish.",
        f"- **4.2 Run length**: {sc.run.weeks} reporting weeks per replication; "
        f"{reps if reps is not None else 'see meta.json'} replications per scenario.",
        "- **4.3 Estimation approach**: independent replications; means with Student-t 95 % "
        "intervals, paired differences between scenarios that share their random numbers"
        + f"{asked} ({MODEL} section 11).",
    ]


def _objectives(kind: str, scenarios: Sequence[Scenario]) -> list[str]:
    return [
        "## 1. Objectives",
        "",
        f"- **1.1 Purpose of the model**: {_PURPOSE}",
        "- **1.2 Model outputs**: the KPIs of `summary.csv` and `kpis_by_replication.csv` "
        "(answering, waiting, abandonment, misrouting, time to care by urgency, ambulance "
        f"rides and response, staff utilisation, costs), defined in {MODEL} section 10 and "
        "in `results/README.md`.",
        f"- **1.3 Experimentation aims**: {_AIMS.get(kind, kind)}. Scenarios:",
        *_scenarios(scenarios),
        "",
    ]


def _logic() -> list[str]:
    return [
        "## 2. Logic",
        "",
        f"- **2.1 Base model overview diagram**: {MODEL} sections 6-8 and docs/ARCHITECTURE.md.",
        f"- **2.2 Base model logic**: {MODEL} sections 1-9.",
        f"- **2.3 Scenario logic**: the organisational forms, {MODEL} section 7; what each "
        "scenario changes is in its file (full content in meta.json).",
        "- **2.4 Algorithms**: triage draws the assigned need from a confusion row; an "
        "ambulance ride takes the nearest post with a free vehicle (on the map); staffed "
        f"pools serve by priority, then first come first served ({MODEL} sections 5, 8).",
        "- **2.5.1 Entities**: requests (a person with a true need), their calls and rides.",
        "- **2.5.2 Activities**: answering and triage at the front desks, consultations, "
        "home visits, team visits, ambulance rides (turn-out, drive, on scene, transport, "
        f"handover, return); durations and their sources in {PARAMETERS}.",
        "- **2.5.3 Resources**: call-takers, triagists, coordination agents, intake staff, "
        "GP consult GPs, GP cars, teams and ambulances, by day part (staffing tables).",
        "- **2.5.4 Queues**: priority queues per staffed pool (urgent line, regular line, "
        "call-backs; acuity for services; A1 before A2 before B); callers hang up after "
        f"their patience and may redial or switch door ({MODEL} section 6).",
        "- **2.5.5 Entry and exit points**: requests arrive as a Poisson process whose rate "
        "follows each demand group's hour-of-week profile and annual volume; a request "
        f"leaves with its outcome ({MODEL} sections 3, 9).",
        "",
    ]


def _data(sc: Scenario) -> list[str]:
    return [
        "## 3. Data",
        "",
        f"- **3.1 Data sources**: {PARAMETERS} (every default with its source); provenance "
        f"of the first scenario's fields: {_confidence(sc)}.",
        "- **3.2 Pre-processing**: none inside the run; figures derived from published "
        f"sources are derived in {PARAMETERS}.",
        "- **3.3 Input parameters**: every input of every scenario is in meta.json (the "
        f"validated content, with its hash); uncertain inputs declared: {len(sc.uncertainty)}.",
        f"- **3.4 Assumptions**: {MODEL} section 12 (simplifications and known limits) and "
        f"the confidences in {PARAMETERS}.",
        "",
    ]


def _implementation(meta: Mapping[str, Any]) -> list[str]:
    return [
        "## 5. Implementation",
        "",
        f"- **5.1 Software**: Python {platform.python_version()}; {_versions(meta)}.",
        "- **5.2 Random sampling**: numpy Generators, one named stream per source of "
        "randomness, each spawned from a SeedSequence of (base seed, replication number); "
        f"base seed {meta.get('seed', 'see meta.json')}. The same seed gives the same numbers "
        "sequentially, in parallel and on a cluster.",
        "- **5.3 Model execution**: SimPy's event scheduling (next-event time advance); "
        "replications run in parallel processes or on dask.distributed.",
        f"- **5.4 System specification**: {platform.system()} {platform.release()} "
        f"({platform.machine()}), {os.cpu_count()} logical processors; made "
        f"{meta.get('created', 'at an unrecorded time')}.",
        "",
        "## 6. Code access",
        "",
        "- **6.1 Computer model sharing statement**: free software under the MIT licence "
        f"(LICENSE), version {meta.get('package_version', '?')}, git commit "
        f"{meta.get('git_commit') or 'not recorded'}; cite with CITATION.cff. "
        "`rerun FOLDER` rebuilds a run, compare, sweep or uncertainty study from its meta.json.",
        "",
    ]


def stress_des(meta: Mapping[str, Any], scenarios: Sequence[Scenario], kind: str) -> str:
    """The filled checklist as Markdown."""
    first = scenarios[0]
    out = [
        "# STRESS-DES checklist",
        "",
        "The reporting checklist for discrete-event simulation studies of Monks et al. "
        "(Journal of Simulation, 2019), filled from this run's meta.json.",
        "",
        *_objectives(kind, scenarios),
        *_logic(),
        *_data(first),
        "## 4. Experimentation",
        "",
        *_run_length(first, meta),
        "",
        *_implementation(meta),
    ]
    return "\n".join(out)


def write_stress_des(
    folder: Path, meta: Mapping[str, Any], scenarios: Sequence[Scenario], kind: str
) -> None:
    """Write the checklist into a run folder."""
    with atomic_open(folder / FILE, "w", encoding="utf-8") as fh:
        fh.write(stress_des(meta, scenarios, kind))
