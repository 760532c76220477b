"""One input at a time: the tornado and the sign-change thresholds of an uncertainty study.

After the draws of an uncertainty study (``sim.experiments.uncertainty``) have named the
inputs that decide the headline differences, each of those inputs is moved alone along a
grid of its distribution's quantiles (5 %, 27.5 %, 50 %, 72.5 % and 95 %) with every other
input at its base value (the value the scenario file gives), and every form is run at every
grid point on the same replication numbers and seed (common random numbers across forms and
across grid points). From these runs:

* the **tornado**: the difference to today at the input's low (5 %) and high (95 %) end,
  around the difference with every input at its base value;
* the **sign-change threshold**: where the difference to today changes sign along the grid,
  found by a linear fit over the grid points around the change (one intercept per
  replication and one common slope), with a 95 % interval by Fieller's theorem for the
  ratio ``-level / slope``. The interval is open on a side the runs
  cannot bound (a slope the runs cannot tell from flat). A difference that keeps its sign
  over the whole grid has no threshold within the input's 5-95 % range.

The fit is linear between neighbouring grid points; a difference that bends sharply between
two grid points is located only to within that stretch, which the interval does not cover.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sim.experiments.comparison import Experiment
from sim.experiments.explain import chain
from sim.experiments.runfiles import write_csv
from sim.experiments.statistics import t_interval, t_quantile
from sim.experiments.uncertainty import pair_fields, point_differences
from sim.scenario.problems import Problem, ScenarioError
from sim.scenario.schema import Scenario, UncertainInput
from sim.scenario.source import expand, value_at_path
from sim.scenario.uncertain import at_values, value_at

#: Quantiles of an input's distribution at which it is run alone.
GRID = (0.05, 0.275, 0.5, 0.725, 0.95)
#: How many inputs are run one at a time by default.
DEFAULT_INPUTS = 6


@dataclass(frozen=True)
class SignChange:
    """Where a difference changes sign along an input.

    ``status``: ``crosses`` (``value`` with its 95 % interval ``low``-``high``; an end the
    runs cannot bound is infinite), ``positive`` or ``negative`` (the same sign at every
    grid point: no threshold in the range run), ``missing`` (no value at some point)."""

    status: str
    value: float = math.nan
    low: float = math.nan
    high: float = math.nan
    #: sign of the slope at the change: +1 if the difference grows with the input
    slope_sign: int = 0


def sign_change(x: Sequence[float], d: np.ndarray, near: float, level: float = 0.95) -> SignChange:
    """The value of the input at which the mean of ``d`` changes sign.

    ``x``: the G grid values of the input (increasing); ``d``: (G, R) differences, one
    column per replication (paired across grid points); ``near``: where to look first when
    the sign changes more than once (the base value)."""
    xs = np.asarray(x, dtype=float)
    d = np.asarray(d, dtype=float)
    keep = ~np.isnan(d).any(axis=0)
    d = d[:, keep]
    if d.shape[1] == 0:
        return SignChange("missing")
    m = d.mean(axis=1)
    changes = [g for g in range(len(xs) - 1) if m[g] == 0.0 or np.sign(m[g]) != np.sign(m[g + 1])]
    if not changes:
        return SignChange("positive" if m[0] > 0 else "negative")
    g = min(changes, key=lambda i: abs(0.5 * (xs[i] + xs[i + 1]) - near))
    lo, hi = max(0, g - 1), min(len(xs) - 1, g + 2)
    return _fieller_root(xs[lo : hi + 1], d[lo : hi + 1], level)


def _fieller_root(x: np.ndarray, d: np.ndarray, level: float) -> SignChange:
    """Root of the line fitted to ``d`` (G points x R replications) with its Fieller
    interval. Each replication has its own level and all share one slope; with the grid
    values centred, the mean level and the slope are estimated independently. The mean
    level's variance is that of the replications' levels over R (a replication's common
    random numbers move its whole line, which is simulation noise of the difference); the
    slope's comes from the scatter about the replication lines."""
    n_points, n_reps = d.shape
    t = x - x.mean()
    levels = d.mean(axis=0)  # per replication, at the centre of the grid
    sxx = float(t @ t)
    slope = float(t @ (d - levels).mean(axis=1)) / sxx
    level_mean = float(levels.mean())
    if slope == 0.0:
        return SignChange("crosses", math.nan, -math.inf, math.inf, 0)
    root = float(x.mean()) - level_mean / slope
    resid = d - levels[None, :] - slope * t[:, None]
    dof_within = n_points * n_reps - n_reps - 1
    if dof_within <= 0:
        return SignChange("crosses", root, -math.inf, math.inf, int(np.sign(slope)))
    sigma2 = float((resid**2).sum()) / dof_within
    v_bb = sigma2 / (sxx * n_reps)
    if n_reps > 1:
        v_aa = float(levels.var(ddof=1)) / n_reps
        dof = n_reps - 1
    else:  # one replication: only the scatter about its line is known
        v_aa = sigma2 / n_points
        dof = dof_within
    q = t_quantile(0.5 + level / 2, dof)
    # (a + b s)^2 <= q^2 (v_aa + s^2 v_bb) for s = x - mean(x)
    qa = slope**2 - q**2 * v_bb
    qb = 2.0 * level_mean * slope
    qc = level_mean**2 - q**2 * v_aa
    disc = qb**2 - 4.0 * qa * qc
    if qa > 0 and disc >= 0:
        s = math.sqrt(disc)
        low, high = sorted(((-qb - s) / (2 * qa), (-qb + s) / (2 * qa)))
        low, high = low + float(x.mean()), high + float(x.mean())
    else:  # the runs cannot tell the slope from flat: the interval is not bounded
        low, high = -math.inf, math.inf
    return SignChange("crosses", root, low, high, int(np.sign(slope)))


# --------------------------------------------------------------------------- the inputs


def base_value(spec: UncertainInput, sc: Scenario) -> float:
    """The input's value in the scenario as written: the first field's value for ``set``,
    the multiplier 1 otherwise."""
    if spec.how != "set":
        return 1.0
    data = sc.model_dump(mode="json")
    for pattern in spec.fields:
        for path in expand(data, pattern):
            return float(value_at_path(data, path))
    return math.nan


def choose_inputs(sensitivity: list[dict[str, Any]], limit: int) -> list[str]:
    """The inputs to run one at a time: first the most decisive input of every headline
    difference, then the others by their largest index, up to ``limit``."""
    index_of = _index_key(sensitivity)
    by_pair: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in sensitivity:
        by_pair.setdefault((row["form"], row["kpi"]), []).append(row)
    chosen: list[str] = []
    firsts = [max(rows, key=index_of) for rows in by_pair.values()]
    for row in sorted(firsts, key=index_of, reverse=True):
        if row["input"] not in chosen and index_of(row) > 0:
            chosen.append(row["input"])
    for row in sorted(sensitivity, key=index_of, reverse=True):
        if row["input"] not in chosen and index_of(row) > 0:
            chosen.append(row["input"])
    return chosen[:limit]


def _index_key(rows: list[dict[str, Any]]) -> Any:
    def key(row: dict[str, Any]) -> float:
        v = row.get("total")
        if v in (None, "") or (isinstance(v, float) and math.isnan(v)):
            v = row.get("first_order")
        try:
            return float(v)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return 0.0

    return key


@dataclass
class OneAtATime:
    """The scenarios of the one-at-a-time runs, point-major: the base point first, then
    every grid point of every input; within a point, the forms in order. After them, the
    ``--explain`` chains of the later forms at the base point."""

    forms: list[Scenario]
    inputs: list[str]
    values: dict[str, list[float]]
    base_values: dict[str, float]
    scenarios: list[Scenario]

    #: the ``--explain`` chains at the base point (``sim.experiments.explain``), if added
    explain: dict[str, Any] | None = None

    def add_explain_chains(self) -> None:
        """Append, after the grid, each later form's chain from structure only to whole
        at the base values, so that the report can say where each difference comes from
        (the base point's scenarios are the chain's ends)."""
        today, forms = self.forms[0], self.forms[1:]
        chains: dict[str, list[str]] = {}
        for form in forms:
            steps = chain(today, form)
            self.scenarios.extend(sc for _, sc in steps)
            chains[f"{form.name}@base"] = [sc.name for _, sc in steps]
        self.explain = {
            "baseline": f"{today.name}@base",
            "forms": [f"{f.name}@base" for f in forms],
            "chains": chains,
        }

    def meta(self, parent: str) -> dict[str, Any]:
        """What the outputs need (stored with the study, so a resumed study has it)."""
        return {
            "stage": "one_at_a_time",
            "parent": parent,
            "forms": [sc.name for sc in self.forms],
            "inputs": self.inputs,
            "grid": list(GRID),
            "values": self.values,
            "base_values": self.base_values,
        }


def build_one_at_a_time(forms: list[Scenario], inputs: list[str]) -> OneAtATime:
    """Every form at its base values and at every grid point of each input alone."""
    specs = {n: next(sc.uncertainty[n] for sc in forms if n in sc.uncertainty) for n in inputs}
    scenarios = [at_values(sc, {}, name=f"{sc.name}@base") for sc in forms]
    values: dict[str, list[float]] = {}
    problems: list[Problem] = []
    for n in inputs:
        values[n] = [value_at(specs[n], u) for u in GRID]
        for g, v in enumerate(values[n]):
            for sc in forms:
                own = {n: v} if n in sc.uncertainty else {}
                try:
                    scenarios.append(at_values(sc, own, name=f"{sc.name}@{n}@{g}"))
                except ScenarioError as exc:
                    problems.extend(exc.problems[:3])
    if problems:
        raise ScenarioError(problems[:20])
    base = {n: base_value(specs[n], forms[0]) for n in inputs}
    oat = OneAtATime(forms, inputs, values, base, scenarios)
    oat.add_explain_chains()
    return oat


# --------------------------------------------------------------------------- results


def one_at_a_time_rows(info: dict[str, Any], exp: Experiment) -> list[dict[str, Any]]:
    """Per headline KPI, form against the first, input and grid point (and the base point):
    the input's value and the mean paired difference with its 95 % half-width."""
    rows = []
    forms = info["forms"]
    for k in exp.kpis():
        if not k.headline:
            continue
        for j in range(1, len(forms)):
            points: list[tuple[str, int, float, int]] = [("(base)", -1, math.nan, 0)]
            for i, n in enumerate(info["inputs"]):
                for g, v in enumerate(info["values"][n]):
                    points.append((n, g, v, 1 + i * len(GRID) + g))
            for name, g, v, point in points:
                iv = t_interval(point_differences(exp, len(info["forms"]), point, j, k.name))
                rows.append(
                    pair_fields(k, forms, j)
                    | {
                        "input": name,
                        "quantile": GRID[g] if g >= 0 else math.nan,
                        "value": v,
                        "difference": iv.mean,
                        "half_width": iv.half_width,
                    }
                )
    return rows


ONE_AT_A_TIME_FIELDS = (
    "kpi", "label", "unit", "better", "baseline", "form", "input", "quantile", "value",
    "difference", "half_width",
)  # fmt: skip


def threshold_rows(info: dict[str, Any], exp: Experiment) -> list[dict[str, Any]]:
    """Per headline KPI with a better direction, form against the first and input: where
    the difference to today changes sign with the other inputs at their base values, and
    on which side of that value the form is better."""
    rows = []
    forms = info["forms"]
    for k in exp.kpis():
        if not k.headline or not k.better:
            continue
        for j in range(1, len(forms)):
            for i, n in enumerate(info["inputs"]):
                x = info["values"][n]
                d = np.array(
                    [
                        point_differences(exp, len(info["forms"]), 1 + i * len(GRID) + g, j, k.name)
                        for g in range(len(GRID))
                    ]
                )
                sc = sign_change(x, d, near=info["base_values"][n])
                rows.append(
                    {
                        "kpi": k.name,
                        "label": k.label,
                        "unit": k.unit,
                        "baseline": forms[0],
                        "form": forms[j],
                        "input": n,
                        "base_value": info["base_values"][n],
                        "range_low": x[0],
                        "range_high": x[-1],
                        "status": _status(sc, k.better),
                        "threshold": sc.value,
                        "threshold_low": sc.low,
                        "threshold_high": sc.high,
                        "better_when": _better_when(sc, k.better),
                    }
                )
    return rows


THRESHOLD_FIELDS = (
    "kpi", "label", "unit", "baseline", "form", "input", "base_value", "range_low",
    "range_high", "status", "threshold", "threshold_low", "threshold_high", "better_when",
)  # fmt: skip


def _status(sc: SignChange, better: str) -> str:
    if sc.status in ("crosses", "missing"):
        return sc.status
    good = (sc.status == "negative") == (better == "lower")
    return "better throughout" if good else "worse throughout"


def _better_when(sc: SignChange, better: str) -> str:
    """``below`` or ``above`` the threshold, for a difference that changes sign."""
    if sc.status != "crosses" or sc.slope_sign == 0:
        return ""
    # the difference grows with the input: it is negative below the threshold
    negative_below = sc.slope_sign > 0
    return "below" if negative_below == (better == "lower") else "above"


def write_one_at_a_time_tables(folder: Path, info: dict[str, Any], exp: Experiment) -> None:
    """``one_at_a_time.csv`` (every point's difference) and ``thresholds.csv``."""
    write_csv(folder / "one_at_a_time.csv", one_at_a_time_rows(info, exp), ONE_AT_A_TIME_FIELDS)
    write_csv(folder / "thresholds.csv", threshold_rows(info, exp), THRESHOLD_FIELDS)
