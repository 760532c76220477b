"""Forms compared at equal service: every form staffed to the same norms.

Each form is searched ``searches`` times, search k with base seed ``seed + k``: the k-th
searches of all forms share their callers (common random numbers), and searches with
different k are independent. Staff hours, FTE and cost per form are means over the
searches with t intervals; the difference of each form from the first is a paired
difference over the searches. The spread covers the noise of the search itself (which
replications it saw), not the uncertainty of the inputs.

Each search is a complete staffing run folder inside the comparison's folder; an
interrupted comparison resumes with the searches it finished.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sim.experiments.executors import Executor
from sim.experiments.runfiles import (
    RunFolder,
    atomic_open,
    code_metadata,
    write_csv,
    write_json,
    write_parquet_copies,
)
from sim.experiments.statistics import paired_difference, t_interval
from sim.experiments.stress import write_stress_des
from sim.scenario.loader import validate_data
from sim.scenario.schema import Scenario
from sim.scenario.uncertain import at_values, value_at
from sim.staffing.run import META, SCENARIO, run_in_folder

SCENARIOS = "scenarios.json"
KIND = "staffing_compare"
#: The figures compared, with their labels.
FIGURES: tuple[tuple[str, str], ...] = (
    ("hours_per_week_shifts", "staff hours a week (roster in shifts)"),
    ("hours_per_week", "staff hours a week (roster by day part)"),
    ("hours_per_week_hourly", "staff hours a week (if staff could change every hour)"),
    ("fte_shifts", "FTE (roster in shifts)"),
    ("fte", "FTE (roster by day part)"),
    ("cost_per_year_shifts", "cost a year (roster in shifts)"),
    ("cost_per_year", "cost a year (roster by day part)"),
)
#: With the services staffed too, the figures above cover desks and services together,
#: and these split them (key prefix: the kind of pool in ``summary.json``).
SPLIT: tuple[tuple[str, str, str], ...] = (
    ("front desk", "desks_hours_per_week_shifts", "front desks: staff hours a week (in shifts)"),
    ("service", "services_hours_per_week_shifts", "services: unit hours a week (in shifts)"),
    ("front desk", "desks_hours_per_week", "front desks: staff hours a week (by day part)"),
    ("service", "services_hours_per_week", "services: unit hours a week (by day part)"),
)


def figures(scenarios: Sequence[Scenario]) -> tuple[tuple[str, str], ...]:
    """The figures compared: with the services staffed, also desks and services apart."""
    if not any(sc.staffing.services for sc in scenarios):
        return FIGURES
    return FIGURES + tuple((key, label) for _, key, label in SPLIT)


def _figures_of(summary: dict[str, Any]) -> dict[str, float]:
    """One search's figures from its ``summary.json``."""
    out = {key: summary["totals"][key] for key, _ in FIGURES}
    for kind, key, _ in SPLIT if "totals_by_kind" in summary else ():
        source = key.split("_", 1)[1]
        out[key] = summary["totals_by_kind"][kind][source]
    return out


def start_compare(
    scenarios: Sequence[Scenario],
    searches: int,
    out_dir: Path,
    vary: Sequence[str] = (),
    parquet: bool = False,
) -> tuple[Path, dict[str, Any]]:
    """A new unfinished comparison folder holding the scenarios and the plan."""
    name = "staffing_compare_" + "_vs_".join(sc.name for sc in scenarios)
    folder = RunFolder(out_dir, name[:120])
    meta = {
        "kind": KIND,
        "scenarios": [sc.name for sc in scenarios],
        "searches": searches,
        "vary": list(vary),
        "parquet": parquet,
        "seed": scenarios[0].run.seed,
        "final_name": folder.final.name,
        **code_metadata(),
    }
    write_json(folder.tmp / SCENARIOS, [sc.model_dump(mode="json") for sc in scenarios])
    write_json(folder.tmp / META, meta)
    return folder.tmp, meta


def read_compare(partial: Path) -> tuple[list[Scenario], dict[str, Any]] | None:
    """The scenarios and meta of an unfinished comparison folder (None if it is not one;
    ValueError if it is a finished one)."""
    if not (partial / SCENARIOS).exists() or not (partial / META).exists():
        return None
    meta = json.loads((partial / META).read_text())
    if meta.get("kind") != KIND:
        return None
    if (partial / "summary.json").exists():
        raise ValueError(f"{partial} is a finished comparison: there is nothing to resume")
    return [validate_data(d) for d in json.loads((partial / SCENARIOS).read_text())], meta


def _search_scenario(sc: Scenario, k: int) -> Scenario:
    data = sc.model_dump(mode="json")
    data["run"]["seed"] = sc.run.seed + k
    return validate_data(data)


def _one_search(
    sc: Scenario, k: int, parent: Path, executor: Executor, progress: bool, name: str = ""
) -> dict[str, Any]:
    """Search ``k`` of one form, into ``parent/<name>`` (default ``<form>_search<k+1>``;
    read back if done)."""
    name = name or f"{sc.name}_search{k + 1}"
    final = parent / name
    if not final.exists():
        partial = parent / f".{name}.partial"
        searched = _search_scenario(sc, k)
        if not partial.exists():
            partial.mkdir()
            write_json(partial / SCENARIO, searched.model_dump(mode="json"))
            meta = {"kind": "staffing", "scenario": sc.name, "search": k + 1, "final_name": name}
            write_json(partial / META, {**meta, "seed": searched.run.seed})
        meta = json.loads((partial / META).read_text())
        run_in_folder(searched, partial, meta, executor, progress)
    return json.loads((final / "summary.json").read_text())


def run_compare(
    scenarios: Sequence[Scenario],
    partial: Path,
    meta: dict[str, Any],
    executor: Executor,
    progress: bool,
) -> tuple[Path, str]:
    """Every search of every form, then the comparison's files; the finished folder and
    the report's text."""
    searches = int(meta["searches"])
    rows = []
    for k in range(searches):
        for sc in scenarios:
            summary = _one_search(sc, k, partial, executor, progress)
            row = {"scenario": sc.name, "organisation": sc.organisation, "search": k + 1}
            figures_of = _figures_of(summary)
            row.update({key: figures_of[key] for key, _ in figures(scenarios)})
            found = [n for n in summary["norms"] if n["roster"] != "scenario's own"]
            row["norms_met"] = all(n["met"] for n in found)
            rows.append(row)
    table = summarise(scenarios, rows)
    vary = _vary_rows(scenarios, meta.get("vary", []), rows, partial, executor, progress)
    write_stress_des(partial, meta, scenarios, "staffing_compare")
    write_csv(partial / "staffing_compare_tidy.csv", rows)
    write_csv(partial / "staffing_compare.csv", table)
    if vary:
        write_csv(partial / "staffing_compare_inputs.csv", vary)
    text = compare_report(scenarios, table, rows, searches) + vary_report(scenarios, vary)
    with atomic_open(partial / "report.md", "w", encoding="utf-8") as fh:
        fh.write(text)
    write_json(
        partial / "summary.json",
        {"meta": meta, "searches": rows, "summary": table, "inputs": vary},
    )
    if meta.get("parquet"):
        write_parquet_copies(partial)
    final = partial.parent / meta["final_name"]
    os.replace(partial, final)
    return final, text


#: The quantiles of an uncertain input at which ``--vary`` staffs every form again.
VARY_QUANTILES = (("low", 0.05), ("high", 0.95))


def vary_problem(scenarios: Sequence[Scenario], names: Sequence[str]) -> str | None:
    """Why the inputs named for ``--vary`` cannot be varied, if they cannot."""
    for name in names:
        lacking = [sc.name for sc in scenarios if name not in sc.uncertainty]
        if lacking:
            known = sorted(set.intersection(*(set(sc.uncertainty) for sc in scenarios)))
            return (
                f"--vary {name}: not an uncertain input of {', '.join(lacking)} "
                f"(inputs every scenario declares: {', '.join(known) or 'none'})"
            )
    return None


def _headline(row: dict[str, Any]) -> float:
    """Staff hours a week of the roster a region would work: in shifts when there are."""
    shifts = float(row.get("hours_per_week_shifts", math.nan))
    return float(row["hours_per_week"]) if math.isnan(shifts) else shifts


def _vary_rows(
    scenarios: Sequence[Scenario],
    names: Sequence[str],
    base_rows: Sequence[dict[str, Any]],
    parent: Path,
    executor: Executor,
    progress: bool,
) -> list[dict[str, Any]]:
    """Each named uncertain input at its 5 % and 95 % points (the others at their base
    values): every form staffed again by one search (the first search's seed), and its
    staff hours against the first form's at the same point."""
    out = []
    base = {r["scenario"]: _headline(r) for r in base_rows if r["search"] == 1}
    for name in names:
        spec = scenarios[0].uncertainty[name]
        for end, q in VARY_QUANTILES:
            value = value_at(spec, q)
            hours = {}
            for sc in scenarios:
                moved = at_values(sc, {name: value})
                summary = _one_search(
                    moved, 0, parent, executor, progress, name=f"{sc.name}_{name}_{end}"
                )
                hours[sc.name] = _headline(summary["totals"])
            first = hours[scenarios[0].name]
            for sc in scenarios:
                out.append(
                    {
                        "input": name,
                        "end": end,
                        "value": value,
                        "scenario": sc.name,
                        "staff_hours_per_week": hours[sc.name],
                        "difference": hours[sc.name] - first,
                        "base_difference": base[sc.name] - base[scenarios[0].name],
                    }
                )
    return out


def vary_report(scenarios: Sequence[Scenario], vary: Sequence[dict[str, Any]]) -> str:
    """How each form's difference in staff hours from the first moves with the inputs."""
    if not vary:
        return ""
    first = scenarios[0].name
    out = [
        "",
        f"## How the difference moves with the inputs (staff hours a week against {first})",
        "",
        "Each input at its 5 % and 95 % points with the others at their base values; one "
        "search per form and point, on the first search's seed (so the base column is that "
        "search's difference, not the mean above). The roster in shifts where there are.",
        "",
        "| input | form | at 5 % point | base | at 95 % point |",
        "|---|---|---|---|---|",
    ]
    for name in dict.fromkeys(r["input"] for r in vary):
        for sc in scenarios[1:]:
            cells = {r["end"]: r for r in vary if r["input"] == name and r["scenario"] == sc.name}
            low, high = cells["low"], cells["high"]
            out.append(
                f"| {name} | {sc.name} | {low['difference']:+,.0f} ({low['value']:.3g}) | "
                f"{low['base_difference']:+,.0f} | {high['difference']:+,.0f} "
                f"({high['value']:.3g}) |"
            )
    return "\n".join(out) + "\n"


def summarise(
    scenarios: Sequence[Scenario], rows: Sequence[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Per form and figure: mean over searches [95 % CI], and the paired difference from
    the first form [95 % CI]."""
    first = scenarios[0].name
    out = []
    for sc in scenarios:
        mine = [r for r in rows if r["scenario"] == sc.name]
        base = [r for r in rows if r["scenario"] == first]
        for key, label in figures(scenarios):
            values = [float(r[key]) for r in mine]
            iv = t_interval(values)
            row: dict[str, Any] = {
                "scenario": sc.name,
                "figure": key,
                "label": label,
                "mean": iv.mean,
                "ci_low": iv.low,
                "ci_high": iv.high,
                "searches": iv.n,
            }
            if sc.name != first:
                diff = paired_difference([float(r[key]) for r in base], values).interval
                row.update(difference=diff.mean, diff_low=diff.low, diff_high=diff.high)
            else:
                row.update(difference=math.nan, diff_low=math.nan, diff_high=math.nan)
            out.append(row)
    return out


def _num(x: float, key: str) -> str:
    if math.isnan(x):
        return "n/a"
    if key.startswith("cost"):
        return f"{x:,.0f}"
    return f"{x:,.1f}" if key.startswith("fte") else f"{x:,.0f}"


def compare_report(
    scenarios: Sequence[Scenario],
    table: Sequence[dict[str, Any]],
    rows: Sequence[dict[str, Any]],
    searches: int,
) -> str:
    """The comparison's report: each form's staff at equal norms, and its difference."""
    first = scenarios[0]
    currency = first.costs.currency if first.costs is not None else ""
    out = [
        "# Staff needed by each form at equal service",
        "",
        f"Every form staffed by `run_sim.py staffing` to the same norms ({searches} independent "
        f"searches per form, paired across forms by seed; differences are against "
        f"{first.name}). Means [95 % CI] over the searches. The intervals cover the noise "
        "of the search, not the uncertainty of the inputs (calls at a new desk may take "
        "longer or shorter than assumed: see docs/STAFFING.md).",
        "",
    ]
    unmet = sorted({r["scenario"] for r in rows if not r["norms_met"]})
    if unmet:
        out += [f"**Not every norm was met in the verification of: {', '.join(unmet)}.**", ""]
    for key, label in figures(scenarios):
        unit = f" ({currency})" if key.startswith("cost") else ""
        out += [
            f"## {label[0].upper()}{label[1:]}{unit}",
            "",
            "| form | mean [95 % CI] | difference from " + first.name + " [95 % CI] |",
            "|---|---|---|",
        ]
        for r in (r for r in table if r["figure"] == key):
            diff = "-"
            if r["scenario"] != first.name:
                low, high = _num(r["diff_low"], key), _num(r["diff_high"], key)
                diff = f"{_num(r['difference'], key)} [{low}, {high}]"
            out.append(
                f"| {r['scenario']} | {_num(r['mean'], key)} [{_num(r['ci_low'], key)}, "
                f"{_num(r['ci_high'], key)}] | {diff} |"
            )
        out.append("")
    out.append(
        "Each search's own report (staff per day part, norms verified with intervals) is in "
        "its folder <form>_search<k>."
    )
    return "\n".join(out) + "\n"
