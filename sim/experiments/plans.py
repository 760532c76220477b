"""The plans of the studies, built the same way from the command line and the Python API:
a comparison (or a single run), a sweep, an uncertainty study and its second stage.

A plan says what to run; ``sim.experiments.study`` runs it into a folder.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sim.experiments.defaults import (
    DEFAULT_DRAWS,
    DEFAULT_MAX_REPLICATIONS,
    DEFAULT_ONE_AT_A_TIME,
    DEFAULT_REPLICATIONS_COMPARE,
    DEFAULT_UNCERTAINTY_REPLICATIONS,
)
from sim.experiments.explain import explain_plan
from sim.experiments.one_at_a_time import GRID, build_one_at_a_time, choose_inputs
from sim.experiments.study import StudyPlan
from sim.experiments.sweep import Sweep, sweep_meta
from sim.experiments.uncertainty import build_study, study_meta
from sim.scenario.loader import validate_data
from sim.scenario.schema import Scenario

#: Where the variants made by ``--explain`` say they came from.
EXPLAIN_SOURCE = "(variant made by --explain)"


class PlanProblem(ValueError):
    """Scenarios or options that do not make a study (the message says why; ``option``:
    the option it is about, if one)."""

    def __init__(self, message: str, option: str = ""):
        super().__init__(message)
        self.option = option


def compare_plan(
    scenarios: list[Scenario],
    sources: list[str],
    kind: str = "compare",
    replications: int | None = None,
    precision: float | None = None,
    max_replications: int | None = None,
    save_requests: bool = False,
    explain: bool = False,
    parquet: bool = False,
) -> StudyPlan:
    """A single run (kind ``run``) or a comparison on paired replications; with ``explain``,
    today's form (the first) and each other form's chain of changes."""
    names = [sc.name for sc in scenarios]
    if len(set(names)) != len(names):
        raise PlanProblem(f"scenarios need distinct names, got {names}")
    info = None
    sources = list(sources)
    if explain:
        if len(scenarios) < 2:
            raise PlanProblem("give today's form and at least one other", "--explain")
        scenarios, info = explain_plan(scenarios)
        sources += [EXPLAIN_SOURCE] * (len(scenarios) - len(sources))
    if replications is None:
        replications = 1 if kind == "run" else DEFAULT_REPLICATIONS_COMPARE
    return StudyPlan(
        name=names[0] if len(names) == 1 else "compare_" + "_vs_".join(names),
        scenarios=scenarios,
        sources=sources,
        base_seed=scenarios[0].run.seed,
        replications=replications,
        precision=precision,
        max_replications=max(max_replications or DEFAULT_MAX_REPLICATIONS, replications),
        save_requests=save_requests,
        kind=kind,
        explain=info,
        parquet=parquet,
    )


def sweep_plan(
    sw: Sweep,
    source: str,
    replications: int | None = None,
    precision: float | None = None,
    max_replications: int | None = None,
    parquet: bool = False,
) -> StudyPlan:
    """Every point of a loaded sweep on paired replications."""
    return StudyPlan(
        name=f"sweep_{sw.spec.name}",
        scenarios=sw.scenarios,
        sources=[source] * len(sw.scenarios),
        base_seed=sw.scenarios[0].run.seed,
        replications=replications or sw.spec.replications,
        precision=precision,
        max_replications=max_replications or DEFAULT_MAX_REPLICATIONS,
        kind="sweep",
        sweep=sweep_meta(sw),
        parquet=parquet,
    )


def uncertainty_plan(
    forms: list[Scenario],
    sources: Sequence[str],
    draws: int | None = None,
    design: str = "sobol",
    replications: int | None = None,
    max_replications: int | None = None,
    one_at_a_time: int | None = None,
    parquet: bool = False,
) -> StudyPlan:
    """The first stage of an uncertainty study: every form at every draw of its inputs."""
    names = [sc.name for sc in forms]
    if len(forms) < 2 or len(set(names)) != len(names):
        raise PlanProblem(f"give at least two forms with distinct names, got {names}")
    draws = draws or DEFAULT_DRAWS
    if design == "saltelli" and draws & (draws - 1):
        raise PlanProblem(
            f"--design saltelli needs --draws a power of two (its base size N), not {draws}"
        )
    study = build_study(forms, draws, design, forms[0].run.seed)
    replications = replications or DEFAULT_UNCERTAINTY_REPLICATIONS
    limit = DEFAULT_ONE_AT_A_TIME if one_at_a_time is None else one_at_a_time
    return StudyPlan(
        name="uncertainty_" + "_vs_".join(names),
        scenarios=study.scenarios,
        sources=[str(p) for _ in range(len(study.values)) for p in sources],
        base_seed=forms[0].run.seed,
        replications=replications,
        max_replications=max(max_replications or DEFAULT_MAX_REPLICATIONS, replications),
        kind="uncertainty",
        uncertainty=study_meta(study) | {"one_at_a_time": limit},
        parquet=parquet,
    )


@dataclass
class SecondStage:
    """The one-at-a-time stage of an uncertainty study and the inputs it runs."""

    plan: StudyPlan
    inputs: list[str]
    points: int


def second_stage_plan(folder: Path, limit: int | None = None) -> SecondStage | None:
    """The second stage of the finished first stage in ``folder``: its most decisive inputs
    one at a time (``limit`` of them; by default as the study was started), in a study of
    its own inside the folder. None when no input is decisive enough (or ``limit`` is 0)."""
    meta = json.loads((folder / "meta.json").read_text())
    if limit is None:
        limit = meta["uncertainty"].get("one_at_a_time", DEFAULT_ONE_AT_A_TIME)
    with (folder / "sensitivity.csv").open(encoding="utf-8") as fh:
        inputs = choose_inputs(list(csv.DictReader(fh)), limit)
    if not inputs:
        return None
    forms = [validate_data(data) for data in meta["uncertainty"]["base_forms"]]
    oat = build_one_at_a_time(forms, inputs)
    points = len(inputs) * len(GRID) + 1
    files = [e["file"] for e in meta["scenarios"][: len(forms)]]
    sources = files * points
    sources += [EXPLAIN_SOURCE] * (len(oat.scenarios) - len(sources))
    plan = StudyPlan(
        name="one_at_a_time",
        scenarios=oat.scenarios,
        sources=sources,
        base_seed=meta["seed"],
        replications=len(meta["replications"]),
        max_replications=len(meta["replications"]),
        kind="uncertainty",
        explain=oat.explain,
        uncertainty=oat.meta(folder.name),
        parquet=bool(meta.get("parquet", False)),
    )
    return SecondStage(plan, inputs, points)
