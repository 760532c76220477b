"""Parameter sweeps: many scenario variants, each with paired replications.

A sweep file names a base scenario and the fields to vary, in one of three designs:

* ``grid`` — every combination of the listed values;
* ``one_at_a_time`` — each field through its values while the others keep the base value
  (the base point is included); the figures are tornado charts;
* ``latin_hypercube`` — ``points`` points spread over ranges ``{low, high, integer}``
  (scipy.stats.qmc, seeded).

Every point is the base scenario with ``--set``-style overrides and is validated like any
scenario before anything runs; a wrong field is reported at its line in the sweep file.
All points run on the same replication numbers and seed (common random numbers). A sweep
is a study on disk like a comparison, so an interrupted sweep resumes without recomputing
any finished replication.
"""

from __future__ import annotations

import csv
import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from sim.experiments.comparison import Experiment
from sim.experiments.runfiles import atomic_open, write_csv
from sim.experiments.statistics import t_interval
from sim.scenario.loader import load_scenario
from sim.scenario.problems import Problem, ScenarioError, pydantic_problems
from sim.scenario.schema import Scenario
from sim.scenario.source import base_problem, compose_file, field_value


class Range(BaseModel):
    """A continuous range of a swept field (Latin hypercube designs)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    low: float
    high: float
    integer: bool = False

    @model_validator(mode="after")
    def _order(self) -> Range:
        if self.high < self.low:
            raise ValueError("high must be at least low")
        return self


class SweepFile(BaseModel):
    """The content of a sweep file: base scenario, design, fields and their values."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = Field(min_length=1)
    description: str = ""
    base: str
    design: Literal["grid", "one_at_a_time", "latin_hypercube"]
    fields: dict[str, list[Any] | Range] = Field(min_length=1)
    points: int | None = Field(default=None, ge=2, le=10_000)
    replications: int = Field(default=10, ge=1)
    seed: int | None = Field(default=None, ge=0)
    weeks: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _consistent(self) -> SweepFile:
        ranges = [k for k, v in self.fields.items() if isinstance(v, Range)]
        lists = [k for k, v in self.fields.items() if not isinstance(v, Range)]
        if self.design == "latin_hypercube":
            if lists:
                raise ValueError(
                    "a latin_hypercube needs ranges {low, high}, not lists, for: "
                    + ", ".join(lists)
                )
            if self.points is None:
                raise ValueError("a latin_hypercube needs 'points'")
        else:
            if ranges:
                raise ValueError(
                    f"a {self.design} design needs lists of values, not ranges, for: "
                    + ", ".join(ranges)
                )
            empty = [k for k in lists if not self.fields[k]]
            if empty:
                raise ValueError(f"no values for: {', '.join(empty)}")
            if self.points is not None:
                raise ValueError("'points' belongs to a latin_hypercube design")
        return self


@dataclass(frozen=True)
class Point:
    """One point of a sweep: the value of every swept field."""

    index: int
    values: dict[str, Any]  # field -> value at this point (every swept field)
    varied: str | None = None  # one_at_a_time: the field moved away from the base


@dataclass
class Sweep:
    """A loaded sweep: its file, base scenario, points and one validated scenario each."""

    spec: SweepFile
    source: Path
    base: Scenario
    points: list[Point]
    scenarios: list[Scenario]


def _format_value(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return repr(value)
    return str(value) if not isinstance(value, str) else value


def _expand(spec: SweepFile, base: Scenario) -> list[Point]:
    names = list(spec.fields)
    if spec.design == "grid":
        combos = itertools.product(*(spec.fields[n] for n in names))
        return [Point(i, dict(zip(names, combo, strict=True))) for i, combo in enumerate(combos)]
    if spec.design == "one_at_a_time":
        base_dump = base.model_dump(mode="json")
        base_values = {n: field_value(base_dump, n) for n in names}
        points = [Point(0, dict(base_values), None)]
        for name in names:
            for value in spec.fields[name]:
                values = dict(base_values)
                values[name] = value
                points.append(Point(len(points), values, name))
        return points
    from scipy.stats import qmc

    sampler = qmc.LatinHypercube(
        d=len(names), seed=spec.seed if spec.seed is not None else base.run.seed
    )
    unit = sampler.random(spec.points or 2)
    out = []
    for i, row in enumerate(unit):
        at_point: dict[str, Any] = {}
        for name, u in zip(names, row, strict=True):
            r: Range = spec.fields[name]  # type: ignore[assignment]
            x = r.low + u * (r.high - r.low)
            at_point[name] = int(round(x)) if r.integer else float(x)
        out.append(Point(i, at_point))
    return out


def load_sweep(path: str | Path, weeks: int | None = None, seed: int | None = None) -> Sweep:
    """Load a sweep file and validate every point's scenario; raise ScenarioError."""
    path = Path(path)
    problems: list[Problem] = []
    data, positions = compose_file(path, problems)
    if problems:
        raise ScenarioError(problems)
    if not isinstance(data, dict):
        raise ScenarioError([Problem(positions.find(()), "", "a sweep file must be a mapping")])
    try:
        spec = SweepFile.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(pydantic_problems(exc, positions, SweepFile)) from None
    base_path = path.parent / spec.base
    problem = base_problem(spec.base, base_path, (path,))
    if problem:
        raise ScenarioError([Problem(positions.find(("base",)), "base", problem)])
    run_overrides = []
    weeks = weeks if weeks is not None else spec.weeks
    seed = seed if seed is not None else spec.seed
    if weeks is not None:
        run_overrides.append(f"run.weeks={weeks}")
    if seed is not None:
        run_overrides.append(f"run.seed={seed}")
    base = load_scenario(base_path, run_overrides)
    points = _expand(spec, base)
    scenarios: list[Scenario] = []
    seen: set[tuple[str, str, str]] = set()
    for point in points:
        overrides = [*run_overrides, f"name={spec.name}_p{point.index:03d}"]
        overrides += [f"{field}={_format_value(value)}" for field, value in point.values.items()]
        try:
            scenarios.append(load_scenario(base_path, overrides))
        except ScenarioError as exc:
            # report each distinct problem once, at the swept field's line in the sweep file
            for p in exc.problems:
                if p.location.file.startswith("--set "):
                    field = p.location.file[len("--set ") :].split("=")[0]
                    if field in spec.fields:
                        p = Problem(
                            positions.find(("fields", field)),
                            f"fields.{field}",
                            f"{p.message} (point {point.index})",
                        )
                key = (str(p.location), p.path, p.message.split(" (point ")[0])
                if key not in seen:
                    seen.add(key)
                    problems.append(p)
    if problems:
        raise ScenarioError(problems)
    return Sweep(spec, path, base, points, scenarios)


# --------------------------------------------------------------------------- outputs


def sweep_meta(sweep: Sweep) -> dict[str, Any]:
    """What the outputs need to know about the points (stored in meta.json for --resume)."""
    return {
        "name": sweep.spec.name,
        "source": str(sweep.source),
        "design": sweep.spec.design,
        "fields": list(sweep.spec.fields),
        "points": [
            {"index": p.index, "values": p.values, "varied": p.varied} for p in sweep.points
        ],
    }


def summary_rows(info: dict[str, Any], exp: Experiment) -> list[dict[str, Any]]:
    """Per point and KPI: the swept values, the mean and its interval."""
    fields = info["fields"]
    reps = exp.replications
    rows = []
    for point, res in zip(info["points"], exp.scenarios, strict=True):
        for k in exp.kpis():
            if k.name not in res.replications[reps[0]]["kpis"]:
                continue
            iv = t_interval(res.kpi_values(k.name, reps))
            rows.append(
                {
                    "point": point["index"],
                    **{f: point["values"][f] for f in fields},
                    "varied": point["varied"] or "",
                    "kpi": k.name,
                    "unit": k.unit,
                    "mean": iv.mean,
                    "ci_low": iv.low,
                    "ci_high": iv.high,
                    "n": iv.n,
                }
            )
    return rows


def write_sweep_tables(folder: Path, info: dict[str, Any], exp: Experiment) -> None:
    """``sweep_tidy.csv`` (point, swept values, replication, KPI, value) and
    ``sweep_summary.csv`` (per point and KPI, with intervals)."""
    kpis = exp.kpis()
    fields = info["fields"]
    with atomic_open(folder / "sweep_tidy.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["point", *fields, "replication", "kpi", "value"])
        for point, res in zip(info["points"], exp.scenarios, strict=True):
            values_at = [point["values"][f] for f in fields]
            for r in exp.replications:
                values = res.replications[r]["kpis"]
                for k in kpis:
                    v = values.get(k.name)
                    writer.writerow([point["index"], *values_at, r, k.name, "" if v is None else v])
    write_csv(folder / "sweep_summary.csv", summary_rows(info, exp))


def point_table(sweep: Sweep) -> str:
    """The sweep's points as a plain-text table."""
    fields = list(sweep.spec.fields)
    lines = ["point  " + "  ".join(fields)]
    for p in sweep.points:
        lines.append(f"p{p.index:03d}   " + "  ".join(_format_value(p.values[f]) for f in fields))
    return "\n".join(lines)
