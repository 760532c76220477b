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
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from sim.scenario import (
    Problem,
    Scenario,
    ScenarioError,
    _compose_file,
    _pydantic_problems,
    load_scenario,
)


class Range(BaseModel):
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
                raise ValueError(f"a latin_hypercube needs ranges {{low, high}}, not lists, for: {', '.join(lists)}")
            if self.points is None:
                raise ValueError("a latin_hypercube needs 'points'")
        else:
            if ranges:
                raise ValueError(f"a {self.design} design needs lists of values, not ranges, for: {', '.join(ranges)}")
            empty = [k for k in lists if not self.fields[k]]
            if empty:
                raise ValueError(f"no values for: {', '.join(empty)}")
            if self.points is not None:
                raise ValueError("'points' belongs to a latin_hypercube design")
        return self


@dataclass(frozen=True)
class Point:
    index: int
    values: dict[str, Any]  # field -> value at this point (every swept field)
    varied: str | None = None  # one_at_a_time: the field moved away from the base


@dataclass
class Sweep:
    spec: SweepFile
    source: Path
    base: Scenario
    points: list[Point]
    scenarios: list[Scenario]


def _format_value(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return repr(value)
    return str(value) if not isinstance(value, str) else value


def _base_value(base: Scenario, dotted: str) -> Any:
    node: Any = base.model_dump(mode="json")
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _expand(spec: SweepFile, base: Scenario) -> list[Point]:
    names = list(spec.fields)
    if spec.design == "grid":
        combos = itertools.product(*(spec.fields[n] for n in names))  # type: ignore[misc]
        return [Point(i, dict(zip(names, combo, strict=True))) for i, combo in enumerate(combos)]
    if spec.design == "one_at_a_time":
        base_values = {n: _base_value(base, n) for n in names}
        points = [Point(0, dict(base_values), None)]
        for name in names:
            for value in spec.fields[name]:  # type: ignore[union-attr]
                values = dict(base_values)
                values[name] = value
                points.append(Point(len(points), values, name))
        return points
    from scipy.stats import qmc

    sampler = qmc.LatinHypercube(d=len(names), seed=spec.seed if spec.seed is not None else base.run.seed)
    unit = sampler.random(spec.points or 2)
    out = []
    for i, row in enumerate(unit):
        values: dict[str, Any] = {}
        for name, u in zip(names, row, strict=True):
            r: Range = spec.fields[name]  # type: ignore[assignment]
            x = r.low + u * (r.high - r.low)
            values[name] = int(round(x)) if r.integer else float(x)
        out.append(Point(i, values))
    return out


def load_sweep(path: str | Path, weeks: int | None = None, seed: int | None = None) -> Sweep:
    """Load a sweep file and validate every point's scenario; raise ScenarioError."""
    path = Path(path)
    problems: list[Problem] = []
    data, positions = _compose_file(path, problems)
    if problems:
        raise ScenarioError(problems)
    if not isinstance(data, dict):
        raise ScenarioError([Problem(positions.find(()), "", "a sweep file must be a mapping")])
    try:
        spec = SweepFile.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(_pydantic_problems(exc, positions, SweepFile)) from None
    base_path = path.parent / spec.base
    if not base_path.exists():
        raise ScenarioError([Problem(positions.find(("base",)), "base", f"base scenario '{spec.base}' does not exist")])
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
                        p = Problem(positions.find(("fields", field)), f"fields.{field}", f"{p.message} (point {point.index})")
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
        "points": [{"index": p.index, "values": p.values, "varied": p.varied} for p in sweep.points],
    }


def write_sweep_outputs(folder: Path, info: dict[str, Any], exp: Any) -> None:
    from sim.experiment import t_interval

    kpis = exp.kpis()
    fields = info["fields"]
    points = info["points"]
    reps = exp.replications
    with (folder / "sweep_tidy.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["point", *fields, "replication", "kpi", "value"])
        for point, res in zip(points, exp.scenarios, strict=True):
            for r in reps:
                values = res.replications[r]["kpis"]
                for k in kpis:
                    v = values.get(k.name)
                    writer.writerow([point["index"], *(point["values"][f] for f in fields), r, k.name, "" if v is None else v])
    summary_rows = []
    for point, res in zip(points, exp.scenarios, strict=True):
        for k in kpis:
            if k.name not in res.replications[reps[0]]["kpis"]:
                continue
            iv = t_interval(res.kpi_values(k.name, reps))
            summary_rows.append(
                {"point": point["index"], **{f: point["values"][f] for f in fields}, "varied": point["varied"] or "",
                 "kpi": k.name, "unit": k.unit, "mean": iv.mean, "ci_low": iv.low, "ci_high": iv.high, "n": iv.n}
            )
    with (folder / "sweep_summary.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(summary_rows[0]))
        writer.writeheader()
        for row in summary_rows:
            writer.writerow({k: ("" if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()})
    _plots(folder, info, summary_rows, [k for k in kpis if k.headline])


def _plots(folder: Path, info: dict[str, Any], rows: list[dict[str, Any]], headline: list[Any]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = folder / "figures"
    out.mkdir(exist_ok=True)
    fields = info["fields"]
    design = info["design"]
    by_kpi: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_kpi.setdefault(row["kpi"], []).append(row)
    for k in headline:
        data = by_kpi.get(k.name)
        if not data:
            continue
        scale = 100.0 if k.unit == "share" else 1.0
        unit = "%" if k.unit == "share" else k.unit
        if design == "one_at_a_time":
            base = next(r for r in data if r["varied"] == "")
            fig, ax = plt.subplots(figsize=(7, 0.6 + 0.5 * len(fields)))
            spans = []
            for f in fields:
                pts = [r for r in data if r["varied"] == f]
                means = [r["mean"] * scale for r in pts]
                spans.append((f, min(means + [base["mean"] * scale]), max(means + [base["mean"] * scale])))
            spans.sort(key=lambda s: s[2] - s[1])
            for i, (_field, lo, hi) in enumerate(spans):
                ax.barh(i, hi - lo, left=lo, color="white", edgecolor="black", hatch="//")
            ax.axvline(base["mean"] * scale, color="black", linewidth=1)
            ax.set_yticks(range(len(spans)), [s[0] for s in spans], fontsize=7)
            ax.set_xlabel(f"{k.label} ({unit})", fontsize=8)
            ax.set_title("One field at a time around the base (line)", fontsize=9)
        else:
            fig, axes = plt.subplots(1, len(fields), figsize=(3.6 * len(fields), 3.2), squeeze=False)
            for ax, f in zip(axes[0], fields, strict=True):
                x = np.array([r[f] for r in data], dtype=float)
                y = np.array([r["mean"] for r in data], dtype=float) * scale
                lo = np.array([r["ci_low"] for r in data], dtype=float) * scale
                hi = np.array([r["ci_high"] for r in data], dtype=float) * scale
                if design == "grid":
                    # mean over the other fields at each value, with the points behind it
                    values = sorted(set(x))
                    ax.plot(values, [y[x == v].mean() for v in values], color="black", marker="o")
                ax.errorbar(x, y, yerr=[np.nan_to_num(y - lo), np.nan_to_num(hi - y)], fmt=".", color="#777777", capsize=2)
                ax.set_xlabel(f, fontsize=7)
                ax.set_ylabel(f"{unit}", fontsize=8)
                ax.tick_params(labelsize=7)
            fig.suptitle(k.label, fontsize=9)
        fig.tight_layout()
        name = k.name.replace(".", "_")
        fig.savefig(out / f"{name}.png", dpi=110)
        fig.savefig(out / f"{name}.svg")
        plt.close(fig)


def point_table(sweep: Sweep) -> str:
    fields = list(sweep.spec.fields)
    lines = ["point  " + "  ".join(fields)]
    for p in sweep.points:
        lines.append(f"p{p.index:03d}   " + "  ".join(_format_value(p.values[f]) for f in fields))
    return "\n".join(lines)
