"""Regression gate: a fixed reference set of runs compared with stored reference results.

``python run_sim.py check`` runs the reference set (scenarios, seed, replications and weeks
stored with the reference) and compares every KPI's mean with the stored mean. The
tolerance comes from the replication spread, not from exact equality: a KPI has drifted
when ``|new - old| > K * sqrt((sd_old^2 + sd_new^2) / n)`` (K = 4, i.e. four standard
errors of the difference of two independent means; a code change that only reshuffles
random numbers stays inside it, a changed parameter or a bug that moves a figure does not).
``check --update`` rewrites the reference deliberately.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from sim.experiments.executors import LocalExecutor
from sim.experiments.replicate import replicate
from sim.experiments.runfiles import json_safe, number_or_nan
from sim.paths import CHECK_REFERENCE, REPO_ROOT, program_name
from sim.scenario.loader import load_scenario

REFERENCE = CHECK_REFERENCE
K_STANDARD_ERRORS = 4.0
DEFAULT_SET: dict[str, Any] = {
    "scenarios": [
        "scenarios/groningen_separate.yaml",
        "scenarios/groningen_colocated.yaml",
        "scenarios/groningen_coordination_centre.yaml",
        "scenarios/groningen_central.yaml",
    ],
    "seed": 20270104,
    "replications": 8,
    "weeks": 2,
}


def _measure(
    settings: dict[str, Any], overrides: Sequence[str], workers: int | None
) -> dict[str, dict[str, dict[str, float]]]:
    scenarios = [
        load_scenario(REPO_ROOT / path, [f"run.weeks={settings['weeks']}", *overrides])
        for path in settings["scenarios"]
    ]
    jobs = [
        (sc, r, settings["seed"], None) for sc in scenarios for r in range(settings["replications"])
    ]
    values: dict[int, dict[str, float]] = {}
    for i, res in LocalExecutor(workers).run(replicate, jobs):
        values[i] = res["kpis"]
    out: dict[str, dict[str, dict[str, float]]] = {}
    n = settings["replications"]
    for s_idx, sc in enumerate(scenarios):
        per_kpi: dict[str, dict[str, float]] = {}
        names = values[s_idx * n].keys()
        for name in names:
            x = np.array([values[s_idx * n + r][name] for r in range(n)], dtype=float)
            ok = ~np.isnan(x)
            per_kpi[name] = {
                "mean": float(x[ok].mean()) if ok.any() else math.nan,
                "sd": float(x[ok].std(ddof=1)) if ok.sum() > 1 else 0.0,
                "n": int(ok.sum()),
            }
        out[sc.name] = per_kpi
    return out


def compare_with_reference(
    reference: dict[str, Any], measured: dict[str, dict[str, dict[str, float]]]
) -> tuple[list[tuple[str, str, float, float, float]], list[str]]:
    """Drifted KPIs as (scenario, kpi, old, new, tolerance), and notes on added/removed KPIs."""
    drifted = []
    notes = []
    for scenario, kpis in reference["results"].items():
        if scenario not in measured:
            notes.append(f"scenario {scenario} is in the reference but was not run")
            drifted.append((scenario, "(scenario missing)", math.nan, math.nan, math.nan))
            continue
        for name, old in kpis.items():
            new = measured[scenario].get(name)
            if new is None:
                notes.append(f"{scenario}: KPI {name} no longer exists")
                continue
            o, nw = number_or_nan(old["mean"]), new["mean"]
            if math.isnan(o) and math.isnan(nw):
                continue
            n = max(1, min(int(old["n"]), int(new["n"])))
            se = math.sqrt((number_or_nan(old["sd"]) ** 2 + new["sd"] ** 2) / n)
            tol = K_STANDARD_ERRORS * se + 1e-9 * max(1.0, abs(o) if not math.isnan(o) else 1.0)
            if math.isnan(o) != math.isnan(nw) or abs(nw - o) > tol:
                drifted.append((scenario, name, o, nw, tol))
        for name in measured[scenario]:
            if name not in kpis:
                notes.append(
                    f"{scenario}: new KPI {name} "
                    "(not in the reference; run check --update to add it)"
                )
    return drifted, notes


def run_check(
    update: bool = False,
    overrides: Sequence[str] = (),
    workers: int | None = None,
    reference_path: Path = REFERENCE,
) -> int:
    """Run the reference set and compare it with the stored reference (or rewrite the
    reference with ``update``); print the verdict and return the exit code."""
    if reference_path.exists():
        reference = json.loads(reference_path.read_text())
        settings = reference["settings"]
    else:
        if not update:
            print(
                f"no reference results at {reference_path}; "
                f"create them with: {program_name()} check --update"
            )
            return 1
        reference, settings = {}, dict(DEFAULT_SET)
    measured = _measure(settings, overrides, workers)
    if update:
        if overrides:
            print(
                "check --update does not take --set: the reference describes the shipped scenarios"
            )
            return 2
        _write_reference(reference_path, settings, measured)
        return 0
    return _report(reference, settings, measured)


def _write_reference(
    reference_path: Path, settings: dict[str, Any], measured: dict[str, dict[str, dict[str, float]]]
) -> None:
    reference_path.parent.mkdir(parents=True, exist_ok=True)
    data = {
        "settings": settings,
        "k_standard_errors": K_STANDARD_ERRORS,
        "results": json_safe(measured),
    }
    tmp = reference_path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    tmp.replace(reference_path)
    print(
        f"reference rewritten: {len(measured)} scenarios, {settings['replications']} "
        f"replications, {settings['weeks']} weeks"
    )


def _report(
    reference: dict[str, Any],
    settings: dict[str, Any],
    measured: dict[str, dict[str, dict[str, float]]],
) -> int:
    drifted, notes = compare_with_reference(reference, measured)
    n_checked = sum(len(k) for k in reference["results"].values())
    for note in notes:
        print(f"note: {note}")
    if drifted:
        print(
            f"{len(drifted)} of {n_checked} KPIs drifted beyond "
            f"{K_STANDARD_ERRORS:g} standard errors:"
        )
        print(f"  {'scenario':<22} {'kpi':<52} {'old':>12} {'new':>12} {'tolerance':>10}")
        for scenario, name, old, new, tol in drifted:
            print(f"  {scenario:<22} {name:<52} {old:>12.5g} {new:>12.5g} {tol:>10.3g}")
        return 1
    print(
        f"check passed: {n_checked} KPIs of {len(reference['results'])} scenarios within "
        f"{K_STANDARD_ERRORS:g} standard errors of the reference "
        f"({settings['replications']} replications, {settings['weeks']} weeks, "
        f"seed {settings['seed']})"
    )
    return 0
