"""Studies of input uncertainty: how sure is a comparison, given what we do not know?

The forms of a comparison declare their uncertain inputs (``uncertainty:`` in the scenario,
see ``sim.scenario.uncertain``). A study draws N points of the unit cube with a
space-filling design (scrambled Sobol' or Latin hypercube, scipy.stats.qmc, seeded), turns
each into input values, and runs every form at every draw on the same replication numbers
and seed: within a draw the forms are paired by replication (common random numbers), so a
difference between forms is not blurred by different callers.

Per KPI and form against the first form (today), over the draws:

* the distribution of the per-draw mean paired difference (mean and 5/50/95 % points);
* the probability that the form is better than today: the share of draws whose mean
  difference points the KPI's better way (headline KPIs have a direction);
* how much of the spread is input uncertainty: the variance of the per-draw means minus
  the part simulation noise explains (the mean within-draw variance of the paired
  differences over R), as a share of that variance.

A study is a study on disk like a comparison (``sim.experiments.study``): resumable,
parallel on the local pool or on dask, with identical numbers either way.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sim.experiments.comparison import Experiment
from sim.experiments.runfiles import atomic_open, write_csv
from sim.experiments.statistics import t_quantile
from sim.scenario.problems import Location, Problem, ScenarioError
from sim.scenario.schema import Scenario
from sim.scenario.uncertain import at_values, values_at

DESIGNS = ("sobol", "lhs", "saltelli")


@dataclass
class UncertaintyStudy:
    """The forms, their declared inputs, the design's draws and one scenario per draw and
    form (draw-major: draw i of form j is ``scenarios[i * len(forms) + j]``)."""

    forms: list[Scenario]
    names: list[str]
    unit: np.ndarray  # (draws, inputs) points of the unit cube
    values: list[dict[str, float]]
    scenarios: list[Scenario]
    design: str
    seed: int


def input_names(forms: list[Scenario]) -> list[str]:
    """Every input any form declares, in the order of first declaration."""
    names: list[str] = []
    for sc in forms:
        names.extend(n for n in sc.uncertainty if n not in names)
    return names


def design_points(d: int, n: int, design: str, seed: int) -> np.ndarray:
    """Points of the d-dimensional unit cube: ``n`` scrambled Sobol' points (balanced when
    n is a power of two) or a Latin hypercube; for ``saltelli``, Saltelli's design for
    first-order and total Sobol' indices with base size n (a power of two), n * (d + 2)
    points (SALib)."""
    from scipy.stats import qmc

    if design == "saltelli":
        from SALib.sample import sobol as saltelli

        return np.asarray(
            saltelli.sample(_problem(d), n, calc_second_order=False, scramble=True, seed=seed)
        )
    if design == "sobol":
        sampler = qmc.Sobol(d=d, scramble=True, seed=seed)
        m = int(math.log2(n))
        return sampler.random_base2(m) if 2**m == n else sampler.random(n)
    return qmc.LatinHypercube(d=d, seed=seed).random(n)


def build_study(forms: list[Scenario], draws: int, design: str, seed: int) -> UncertaintyStudy:
    """Every form at every draw, validated before anything runs; ScenarioError names each
    input and draw that would make an invalid scenario."""
    names = input_names(forms)
    if not names:
        raise ScenarioError(
            [
                Problem(
                    Location(forms[0].name, 0, 0),
                    "uncertainty",
                    "no form declares an uncertain input (an 'uncertainty:' block)",
                )
            ]
        )
    specs = {n: next(sc.uncertainty[n] for sc in forms if n in sc.uncertainty) for n in names}
    for sc in forms:
        for n in names:
            if n in sc.uncertainty and sc.uncertainty[n] != specs[n]:
                raise ScenarioError(
                    [
                        Problem(
                            Location(sc.name, 0, 0),
                            f"uncertainty.{n}",
                            f"declared differently in {forms[0].name} and {sc.name}: "
                            "every form must draw an input from the same distribution",
                        )
                    ]
                )
    unit = design_points(len(names), draws, design, seed)
    columns = [values_at(specs[n], unit[:, c]) for c, n in enumerate(names)]
    values = [{n: col[i] for n, col in zip(names, columns, strict=True)} for i in range(len(unit))]
    return UncertaintyStudy(forms, names, unit, values, draw_scenarios(forms, values), design, seed)


def draw_scenarios(forms: list[Scenario], values: list[dict[str, float]]) -> list[Scenario]:
    """Every form at every draw of the inputs (draw-major), each validated; ScenarioError
    names each input and draw that would make an invalid scenario. Built again from the
    forms and the values when a study resumes (its meta.json holds no copy of the draws)."""
    scenarios: list[Scenario] = []
    problems: list[Problem] = []
    dumped = [sc.model_dump(mode="json") for sc in forms]
    for i, at in enumerate(values):
        for sc, data in zip(forms, dumped, strict=True):
            own = {n: v for n, v in at.items() if n in sc.uncertainty}
            try:
                scenarios.append(at_values(sc, own, name=draw_name(sc.name, i), dumped=data))
            except ScenarioError as exc:
                drawn = ", ".join(f"{n}={v:.4g}" for n, v in own.items())
                problems.extend(
                    Problem(p.location, p.path, f"{p.message} (draw {i}: {drawn})")
                    for p in exc.problems[:3]
                )
    if problems:
        raise ScenarioError(problems[:20])
    return scenarios


def is_draws_stage(info: dict[str, Any] | None) -> bool:
    """Whether a study's uncertainty meta data describe the draws (its first stage)."""
    return info is not None and info.get("stage") == "draws"


def draw_name(form: str, draw: int) -> str:
    """The name of a form's scenario at a draw of the inputs."""
    return f"{form}@d{draw:03d}"


def study_meta(study: UncertaintyStudy) -> dict[str, Any]:
    """What the outputs need to know (stored in meta.json, so a resumed study has it)."""
    return {
        "stage": "draws",
        "base_forms": [sc.model_dump(mode="json") for sc in study.forms],
        "design": study.design,
        "design_seed": study.seed,
        "inputs": study.names,
        "forms": [sc.name for sc in study.forms],
        "draws": [
            {"index": i, "unit": [float(u) for u in row], "values": study.values[i]}
            for i, row in enumerate(study.unit)
        ],
    }


def _problem(d: int, names: list[str] | None = None) -> dict[str, Any]:
    """SALib's description of the unit cube (the inputs' own scales come after)."""
    return {
        "num_vars": d,
        "names": names or [f"x{i}" for i in range(d)],
        "bounds": [[0.0, 1.0]] * d,
    }


# --------------------------------------------------------------------------- statistics


@dataclass(frozen=True)
class Spread:
    """A form's paired difference to today on one KPI, over the draws of the inputs."""

    n_draws: int
    mean: float
    p05: float
    p50: float
    p95: float
    p_better: float  # nan when the KPI has no better direction
    input_share: float  # of the variance of the per-draw means, the part not noise
    half_width: float = math.nan  # 95 % half-width of the mean over the draws


def spread(per_draw: list[np.ndarray] | np.ndarray, better: str | None) -> Spread:
    """``per_draw[i]``: the paired differences of draw i over its replications."""
    means, noise = _draw_means(per_draw)
    n = len(means)
    if n == 0:
        return Spread(0, *(math.nan,) * 7)
    m = means
    p05, p50, p95 = (float(x) for x in np.percentile(m, [5, 50, 95]))
    if better == "lower":
        p_better = float(np.mean(m < 0))
    elif better == "higher":
        p_better = float(np.mean(m > 0))
    else:
        p_better = math.nan
    total = float(m.var(ddof=1)) if n > 1 else math.nan
    noise_var = float(np.nanmean(noise)) if not all(math.isnan(x) for x in noise) else math.nan
    if total > 0 and not math.isnan(noise_var):
        share = max(0.0, 1.0 - noise_var / total)
    else:
        share = math.nan
    half = t_quantile(0.975, n - 1) * math.sqrt(total / n) if n > 1 else math.nan
    return Spread(n, float(m.mean()), p05, p50, p95, p_better, share, half)


def _draw_means(per_draw: list[np.ndarray] | np.ndarray) -> tuple[np.ndarray, list[float]]:
    """The mean paired difference of each draw with a defined one, and the variance of
    that mean from simulation noise (nan with one replication). A draws x replications
    array without nan is worked out at once, with the same arithmetic as draw by draw."""
    if isinstance(per_draw, np.ndarray) and per_draw.ndim == 2 and not np.isnan(per_draw).any():
        n = per_draw.shape[1]
        if n == 0:
            return np.array([]), []
        d = np.ascontiguousarray(per_draw)
        var = (d.var(axis=1, ddof=1) / n).tolist() if n > 1 else [math.nan] * len(d)
        return d.mean(axis=1), var
    means, noise = [], []
    for d in per_draw:
        d = d[~np.isnan(d)]
        if len(d) == 0:
            continue
        means.append(float(d.mean()))
        noise.append(float(d.var(ddof=1)) / len(d) if len(d) > 1 else math.nan)
    return np.array(means), noise


SUMMARY_FIELDS = (
    "kpi", "label", "unit", "better", "baseline", "form", "n_draws", "mean_difference",
    "mean_half_width", "p05", "p50", "p95", "p_better", "input_share", "verdict",
)  # fmt: skip


#: A form is clearly better (worse) than today on a KPI when at least this share of the
#: draws of the inputs says so.
CLEAR = 0.9


def verdict(p_better: float, mean: float, half_width: float, input_share: float) -> str:
    """``better`` or ``worse`` when at least 90 % of the draws agree; ``no difference``
    when the mean over the draws cannot be told from zero and most of the spread is
    simulation noise; otherwise ``depends`` (on the inputs); empty without a direction."""
    if math.isnan(p_better):
        return ""
    if p_better >= CLEAR:
        return "better"
    if p_better <= 1.0 - CLEAR:
        return "worse"
    noise = math.isnan(input_share) or input_share < 0.5
    if noise and not math.isnan(half_width) and abs(mean) <= half_width:
        return "no difference"
    return "depends"


def summary_rows(info: dict[str, Any], exp: Experiment) -> list[dict[str, Any]]:
    """Per KPI and form against the first form: the spread of the difference over draws."""
    forms = info["forms"]
    n_forms = len(forms)
    rows = []
    for k in exp.kpis():
        for j in range(1, n_forms):
            s = spread(paired_differences(info, exp, k.name, j), k.better)
            rows.append(
                pair_fields(k, forms, j)
                | {
                    "n_draws": s.n_draws,
                    "mean_difference": s.mean,
                    "mean_half_width": s.half_width,
                    "p05": s.p05,
                    "p50": s.p50,
                    "p95": s.p95,
                    "p_better": s.p_better,
                    "input_share": s.input_share,
                    "verdict": verdict(s.p_better, s.mean, s.half_width, s.input_share),
                }
            )
    return rows


def paired_differences(info: dict[str, Any], exp: Experiment, kpi: str, form: int) -> np.ndarray:
    """Per draw (rows), the differences of form number ``form`` to the first form on
    ``kpi``, paired by replication (columns; nan where undefined)."""
    n_forms = len(info["forms"])
    table = exp.table()
    values = table.values[table.index[kpi]]
    base = np.arange(len(info["draws"])) * n_forms
    return values[base + form] - values[base]


def point_differences(exp: Experiment, n_forms: int, point: int, form: int, kpi: str) -> Any:
    """At one point of a point-major study (every form at each point), the differences of
    form number ``form`` to the first on ``kpi``, paired by replication (nan if missing)."""
    base = exp.scenarios[point * n_forms].replications
    res = exp.scenarios[point * n_forms + form].replications
    return np.array([_value(res[r], kpi) - _value(base[r], kpi) for r in exp.replications])


def pair_fields(k: Any, forms: list[str], form: int) -> dict[str, Any]:
    """The columns that name a KPI and a form against the first, in every table."""
    return {
        "kpi": k.name,
        "label": k.label,
        "unit": k.unit,
        "better": k.better or "",
        "baseline": forms[0],
        "form": forms[form],
    }


@dataclass(frozen=True)
class Indices:
    """First-order and total Sobol' indices of one output, with bootstrap half-widths."""

    names: list[str]
    s1: np.ndarray
    s1_conf: np.ndarray
    st: np.ndarray
    st_conf: np.ndarray


def sobol_indices(names: list[str], y: np.ndarray, seed: int) -> Indices | None:
    """Sobol' indices of ``y``, the outputs at the points of a Saltelli design over
    ``names`` (SALib, 95 % bootstrap intervals); None if an output is missing or all
    outputs are equal."""
    from SALib.analyze import sobol as analyze

    if np.isnan(y).any() or np.ptp(y) == 0.0:
        return None
    res = analyze.analyze(
        _problem(len(names), names),
        y,
        calc_second_order=False,
        num_resamples=200,
        conf_level=0.95,
        seed=seed,
    )
    return Indices(
        names,
        np.asarray(res["S1"]),
        np.asarray(res["S1_conf"]),
        np.asarray(res["ST"]),
        np.asarray(res["ST_conf"]),
    )


SENSITIVITY_FIELDS = (
    "kpi", "label", "baseline", "form", "method", "input", "first_order", "first_order_ci",
    "total", "total_ci",
)  # fmt: skip


#: Bootstrap resamples of an RBD-FAST index's interval (SALib's default; each costs a pass
#: over every input, which at 200 made the indices of the default study half a minute).
RESAMPLES = 100
#: Fewer draws than this give no first-order indices (RBD-FAST needs a spread of points).
MIN_DRAWS_FOR_INDICES = 8


def first_order_indices(
    names: list[str], x: np.ndarray, y: np.ndarray, seed: int
) -> Indices | None:
    """First-order indices of ``y`` at the design points ``x`` (any space-filling design)
    by RBD-FAST (SALib, with its bias correction and 95 % bootstrap intervals); no total
    indices (those need Saltelli's design). None if an output is missing or all are equal."""
    from SALib.analyze import rbd_fast

    if len(y) < MIN_DRAWS_FOR_INDICES or np.isnan(y).any() or np.ptp(y) == 0.0:
        return None
    harmonics = max(1, min(10, len(y) // 16))  # fewer harmonics for small designs
    res = rbd_fast.analyze(
        _problem(len(names), names), x, y, M=harmonics, num_resamples=RESAMPLES, seed=seed
    )
    nan = np.full(len(names), math.nan)
    return Indices(names, np.asarray(res["S1"]), np.asarray(res["S1_conf"]), nan, nan)


def sensitivity_rows(info: dict[str, Any], exp: Experiment) -> list[dict[str, Any]]:
    """Per headline KPI and form against the first, the sensitivity of the mean paired
    difference to every input, most decisive first: Sobol' first-order and total indices
    for a Saltelli design, RBD-FAST first-order indices for the others."""
    forms = info["forms"]
    saltelli = info["design"] == "saltelli"
    unit = np.array([d["unit"] for d in info["draws"]])
    rows = []
    for k in exp.kpis():
        if not k.headline:
            continue
        for j in range(1, len(forms)):
            means = _means(paired_differences(info, exp, k.name, j))
            if saltelli:
                idx = sobol_indices(info["inputs"], means, info["design_seed"])
            else:
                idx = first_order_indices(info["inputs"], unit, means, info["design_seed"])
            if idx is None:
                continue
            order = idx.st if saltelli else idx.s1
            for n in np.argsort(-order, kind="stable"):
                rows.append(
                    {
                        "kpi": k.name,
                        "label": k.label,
                        "baseline": forms[0],
                        "form": forms[j],
                        "method": "sobol" if saltelli else "rbd_fast",
                        "input": idx.names[n],
                        "first_order": float(idx.s1[n]),
                        "first_order_ci": float(idx.s1_conf[n]),
                        "total": float(idx.st[n]),
                        "total_ci": float(idx.st_conf[n]),
                    }
                )
    return rows


def _means(diffs: np.ndarray) -> np.ndarray:
    """Each row's mean over its defined values (nan when none is); rows without a nan at
    once, with the same arithmetic."""
    out = np.full(len(diffs), math.nan)
    whole = ~np.isnan(diffs).any(axis=1)
    if diffs.shape[1]:
        out[whole] = np.ascontiguousarray(diffs[whole]).mean(axis=1)
    for i in np.flatnonzero(~whole):
        d = diffs[i][~np.isnan(diffs[i])]
        out[i] = float(d.mean()) if len(d) else math.nan
    return out


def _value(rep: dict[str, Any], name: str) -> float:
    v = rep["kpis"].get(name)
    return math.nan if v is None else float(v)


def write_uncertainty_tables(folder: Path, info: dict[str, Any], exp: Experiment) -> None:
    """The tables of an uncertainty study's draws: ``uncertainty_inputs.csv`` (per draw, the
    value of every input), ``uncertainty_tidy.csv`` (draw, form, replication, KPI, value),
    ``uncertainty_draws.csv`` (per draw, form and KPI with a better direction, the mean
    paired difference to the first form), ``uncertainty_summary.csv`` (per KPI and form
    against today, over the draws) and ``sensitivity.csv``."""
    names = info["inputs"]
    rows = [{"draw": i} | {n: d["values"][n] for n in names} for i, d in enumerate(info["draws"])]
    write_csv(folder / "uncertainty_inputs.csv", rows, ["draw", *names])
    _write_tidy(folder / "uncertainty_tidy.csv", info, exp)
    write_csv(folder / "uncertainty_draws.csv", draw_rows(info, exp), DRAW_FIELDS)
    write_csv(folder / "uncertainty_summary.csv", summary_rows(info, exp), SUMMARY_FIELDS)
    write_csv(folder / "sensitivity.csv", sensitivity_rows(info, exp), SENSITIVITY_FIELDS)


def _write_tidy(path: Path, info: dict[str, Any], exp: Experiment) -> None:
    """One row per draw, form, replication and KPI (the draw's input values are in
    ``uncertainty_inputs.csv``: repeated here they made a Sobol' study's table gigabytes)."""
    forms = info["forms"]
    kpis = [k.name for k in exp.kpis()]
    with atomic_open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["draw", "form", "replication", "kpi", "value"])
        for i in range(len(info["draws"])):
            for j, form in enumerate(forms):
                res = exp.scenarios[i * len(forms) + j]
                for r in exp.replications:
                    values = res.replications[r]["kpis"]
                    writer.writerows(
                        (i, form, r, k, "" if (v := values.get(k)) is None else v) for k in kpis
                    )


DRAW_FIELDS = ("draw", "kpi", "form", "mean_difference")


def draw_rows(info: dict[str, Any], exp: Experiment) -> list[dict[str, Any]]:
    """Per KPI with a better direction, form against the first and draw: the mean paired
    difference over the draw's replications (what the report's distributions show)."""
    rows: list[dict[str, Any]] = []
    for k in exp.kpis():
        if not k.better:
            continue
        for j in range(1, len(info["forms"])):
            means = _means(paired_differences(info, exp, k.name, j)).tolist()
            rows.extend(
                {"draw": i, "kpi": k.name, "form": info["forms"][j], "mean_difference": m}
                for i, m in enumerate(means)
            )
    return rows
