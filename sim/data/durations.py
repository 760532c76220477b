"""``fit-durations``: measured call or task durations into a scenario duration.

The file has one row per measured duration: a column ``minutes`` (or ``duration_min``,
``min``) or ``seconds`` (or ``duration_s``, ``sec``), and optionally ``task`` (or
``kind``, ``type``) to fit each task apart (e.g. ``advice``, ``gp_consult``, the keys of a
desk's ``handle_time``). Zero durations (a call that ended at once) are counted and left
out: the forms fitted are for positive times.

Each task is fitted, by maximum likelihood with scipy.stats and the origin fixed at 0, as
lognormal, gamma, Weibull and exponential. The forms are ranked by AIC; goodness of fit is
the Anderson-Darling test with its p-value by parametric bootstrap
(``scipy.stats.goodness_of_fit``, which refits every simulated sample, so the p-value is
right although the parameters were estimated). The scenario takes a duration as its mean
and coefficient of variation, so each fit is given as ``mean_min`` and ``cv``; the chosen
fit's 95 % intervals of both come from a percentile bootstrap of the data
(``scipy.stats.bootstrap``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import stats

from sim.data.tables import DataProblem, column, line_of, numbers, read_csv
from sim.scenario.schema import MAX_MINUTES, MAX_SHAPE_CV, MIN_SHAPE_CV

MINUTE_COLUMNS = ("minutes", "duration_min", "min")
SECOND_COLUMNS = ("seconds", "duration_s", "sec")
TASK_COLUMNS = ("task", "kind", "type")
#: The forms fitted, as the scenario names them, with their scipy distribution.
FORMS = {
    "lognormal": stats.lognorm,
    "gamma": stats.gamma,
    "weibull": stats.weibull_min,
    "exponential": stats.expon,
}
#: Fewest positive durations a task needs to be fitted.
MIN_SAMPLES = 10
#: Simulated samples of the goodness-of-fit test, resamples of the intervals.
GOF_SAMPLES = 199
RESAMPLES = 999


@dataclass
class Fit:
    """One form fitted to one task's durations."""

    dist: str
    mean_min: float
    cv: float
    aic: float
    ad_statistic: float = math.nan
    p_value: float = math.nan
    mean_interval: tuple[float, float] = (math.nan, math.nan)
    cv_interval: tuple[float, float] = (math.nan, math.nan)

    def snippet(self, decimals: int = 4) -> str:
        """The duration as a scenario writes it (a YAML flow mapping)."""
        mean = round(self.mean_min, decimals)
        if self.dist == "exponential":
            return f"{{dist: exponential, mean_min: {mean:g}}}"
        return f"{{dist: {self.dist}, mean_min: {mean:g}, cv: {round(self.cv, decimals):g}}}"


def read_durations(path: Path) -> tuple[dict[str, np.ndarray], dict[str, int]]:
    """Positive durations in minutes per task (one task ``all`` without a task column),
    and per task how many zero durations were left out (``DataProblem`` if unreadable)."""
    table = read_csv(path)
    if any(c in table.columns for c in MINUTE_COLUMNS):
        name, per_minute = column(table, path, MINUTE_COLUMNS, "minutes"), 1.0
    else:
        what = "the durations (in minutes, or seconds)"
        name, per_minute = column(table, path, (*MINUTE_COLUMNS, *SECOND_COLUMNS), what), 60.0
    values = numbers(table, path, name, 0.0, MAX_MINUTES * per_minute).to_numpy() / per_minute
    tasks = np.array(["all"] * len(table), dtype=object)
    if any(c in table.columns for c in TASK_COLUMNS):
        task_col = column(table, path, TASK_COLUMNS, "tasks")
        tasks = table[task_col].str.strip().to_numpy(dtype=object)
        empty = np.flatnonzero(tasks == "")
        if len(empty):
            line = line_of(table, int(empty[0]))
            raise DataProblem(path, "a row without its task", line=line, column=task_col)
    out, zeros = {}, {}
    for task in dict.fromkeys(tasks):
        x = values[tasks == task]
        zeros[task] = int((x == 0).sum())
        out[task] = x[x > 0]
        if len(out[task]) >= MIN_SAMPLES and len(np.unique(out[task])) < 2:
            raise DataProblem(path, f"task '{task}': every duration is the same; nothing to fit")
        if len(out[task]) < MIN_SAMPLES:
            raise DataProblem(
                path,
                f"task '{task}' has {len(out[task])} positive durations; a fit needs at least "
                f"{MIN_SAMPLES}",
            )
    return out, zeros


def _mean_cv(dist: str, params: Sequence[float]) -> tuple[float, float]:
    """Mean and cv of a fitted form from its scipy parameters (origin at 0)."""
    if dist == "exponential":
        return float(params[1]), 1.0
    if dist == "lognormal":
        s, scale = params[0], params[2]
        return float(scale * math.exp(0.5 * s * s)), float(math.sqrt(math.expm1(s * s)))
    if dist == "gamma":
        a, scale = params[0], params[2]
        return float(a * scale), float(1.0 / math.sqrt(a))
    c, scale = params[0], params[2]
    g1, g2 = math.gamma(1.0 + 1.0 / c), math.gamma(1.0 + 2.0 / c)
    return float(scale * g1), float(math.sqrt(max(g2 / (g1 * g1) - 1.0, 0.0)))


def _fitted(dist: str, x: np.ndarray) -> tuple[float, ...]:
    """Maximum-likelihood parameters of a form with its origin at 0, as scipy gives them."""
    return tuple(float(p) for p in FORMS[dist].fit(x, floc=0))


def fit_one(dist: str, x: np.ndarray) -> Fit:
    """The maximum-likelihood fit of one form (no test, no intervals)."""
    params = _fitted(dist, x)
    loglik = float(np.sum(FORMS[dist].logpdf(x, *params)))
    k = 1 if dist == "exponential" else 2
    mean, cv = _mean_cv(dist, params)
    return Fit(dist, mean, cv, aic=2 * k - 2 * loglik)


def tested(fit: Fit, x: np.ndarray, seed: int, samples: int = GOF_SAMPLES) -> Fit:
    """The fit with its Anderson-Darling statistic and bootstrap p-value."""
    result = stats.goodness_of_fit(
        FORMS[fit.dist],
        x,
        known_params={"loc": 0.0},
        statistic="ad",
        n_mc_samples=samples,
        rng=np.random.default_rng(seed),
    )
    fit.ad_statistic, fit.p_value = float(result.statistic), float(result.pvalue)
    return fit


def intervals(fit: Fit, x: np.ndarray, seed: int, resamples: int = RESAMPLES) -> Fit:
    """The fit with 95 % percentile-bootstrap intervals of its mean and cv."""

    def mean_cv(sample: np.ndarray, axis: int = -1) -> tuple[float, float]:
        return _mean_cv(fit.dist, _fitted(fit.dist, sample))

    result = stats.bootstrap(
        (x,),
        mean_cv,
        n_resamples=resamples,
        vectorized=False,
        paired=False,
        method="percentile",
        rng=np.random.default_rng(seed),
    )
    low, high = result.confidence_interval
    fit.mean_interval = (float(low[0]), float(high[0]))
    fit.cv_interval = (float(low[1]), float(high[1]))
    return fit


def fit_task(x: np.ndarray, seed: int = 1, chosen: str | None = None) -> list[Fit]:
    """Every form fitted and tested, best AIC first; the first (or ``chosen``) with its
    intervals. A gamma or Weibull fit whose cv the scenario cannot take is left out."""
    fits = []
    for dist in FORMS:
        fit = fit_one(dist, x)
        if dist in ("gamma", "weibull") and not MIN_SHAPE_CV <= fit.cv <= MAX_SHAPE_CV:
            continue
        fits.append(tested(fit, x, seed))
    fits.sort(key=lambda f: f.aic)
    if chosen and all(f.dist != chosen for f in fits):
        raise ValueError(
            f"--dist {chosen}: its fitted cv lies outside {MIN_SHAPE_CV}-{MAX_SHAPE_CV}, which a "
            "scenario cannot take; choose another form"
        )
    pick = next((f for f in fits if f.dist == chosen), fits[0]) if chosen else fits[0]
    intervals(pick, x, seed)
    return [pick, *(f for f in fits if f is not pick)]


def report(
    path: Path,
    fits: dict[str, list[Fit]],
    sizes: dict[str, int],
    zeros: dict[str, int],
    field: str,
) -> str:
    """The fits as a table per task, then the scenario snippet (YAML, loadable as an
    overlay when ``field`` is a dotted path such as ``gp_post.triage.handle_time``)."""
    lines = []
    for task, task_fits in fits.items():
        best = task_fits[0]
        left_out = f" ({zeros[task]} zero durations left out)" if zeros.get(task) else ""
        lines.append(f"# {path.name}, task '{task}': {sizes[task]:,} durations{left_out}")
        lines.append(f"#   {'form':<12}{'mean_min':>9}{'cv':>7}{'AIC':>11}{'AD':>8}{'p':>7}")
        for f in task_fits:
            lines.append(
                f"#   {f.dist:<12}{f.mean_min:>9.3f}{f.cv:>7.3f}{f.aic:>11.1f}"
                f"{f.ad_statistic:>8.3f}{f.p_value:>7.3f}"
            )
        lines.append(
            f"#   {best.dist}: mean_min 95 % interval [{best.mean_interval[0]:.3f}, "
            f"{best.mean_interval[1]:.3f}], cv [{best.cv_interval[0]:.3f}, "
            f"{best.cv_interval[1]:.3f}]"
            + ("; the test rejects it (p < 0.05)" if best.p_value < 0.05 else "")
        )
    body = _placed(fits, [p for p in field.split(".") if p])
    return "\n".join(lines + body) + "\n"


def field_problem(field: str, tasks: Sequence[str]) -> str | None:
    """Why the fits of these tasks cannot go under ``field``, if they cannot: the field
    must hold a duration (one task) or a mapping of durations by task."""
    if not field:
        return None
    from typing import get_origin

    from sim.scenario.loader import field_type
    from sim.scenario.schema import Duration

    try:
        tp = field_type(field)
    except KeyError:
        return f"--field {field}: no such scenario field (e.g. gp_post.triage.handle_time)"
    if get_origin(tp) is dict:
        return None
    if tp is Duration:
        if len(tasks) > 1:
            return (
                f"--field {field} holds one duration, but the file has {len(tasks)} tasks; "
                "give a field that maps tasks to durations (e.g. gp_post.triage.handle_time)"
            )
        return None
    return f"--field {field} does not hold durations"


def _placed(fits: dict[str, list[Fit]], parts: list[str]) -> list[str]:
    """The snippet's lines: under the field's path, one duration or one per task (a file
    without tasks under a mapping gives its ``default``)."""
    from typing import get_origin

    indent = "  " * len(parts)
    body = [f"{'  ' * i}{p}:" for i, p in enumerate(parts)]
    mapping = False
    if parts:
        from sim.scenario.loader import field_type

        mapping = get_origin(field_type(".".join(parts))) is dict
    if list(fits) == ["all"] and parts and not mapping:
        body[-1] += f" {fits['all'][0].snippet()}"
        return body
    for task, task_fits in fits.items():
        key = "default" if task == "all" and mapping else task
        body.append(f"{indent}{key}: {task_fits[0].snippet()}")
    return body
