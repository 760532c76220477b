"""Statistics over replications: t-based confidence intervals and paired differences.

Every scenario of a comparison runs on the same replication numbers and seed, so paired
differences cancel the noise the scenarios share (the same callers, needs and task draws).
Intervals are t-based over replications: Student's t quantiles and tail probabilities
from ``scipy.special`` (``stdtrit``, ``stdtr``), the functions ``scipy.stats.t`` evaluates,
with its arithmetic (a test checks equality to the bit); importing ``scipy.stats`` would
cost a study's process most of a second.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import special

CONFIDENCE = 0.95


@dataclass(frozen=True)
class Interval:
    """A mean over replications with its confidence interval, count and spread."""

    mean: float
    low: float
    high: float
    n: int
    sd: float

    @property
    def half_width(self) -> float:
        """Half the interval's width (nan when it is undefined)."""
        return 0.5 * (self.high - self.low)


def t_interval(values: Iterable[float | None], confidence: float = CONFIDENCE) -> Interval:
    """Student-t interval of the mean of the defined values (None and nan are left out)."""
    x = np.asarray([v for v in values if v is not None and not math.isnan(v)], dtype=float)
    n = len(x)
    if n == 0:
        return Interval(math.nan, math.nan, math.nan, 0, math.nan)
    mean = float(x.mean())
    if n == 1:
        return Interval(mean, math.nan, math.nan, 1, math.nan)
    sd = float(x.std(ddof=1))
    if sd == 0.0:
        return Interval(mean, mean, mean, n, 0.0)
    q_low, q_high = _t_quantiles(confidence, n - 1)
    scale = sd / math.sqrt(n)
    # the arithmetic of scipy's interval (ppf * scale + loc), with the quantiles looked up
    # once per confidence and degrees of freedom instead of at every call
    return Interval(mean, q_low * scale + mean, q_high * scale + mean, n, sd)


def t_intervals(x: np.ndarray, confidence: float = CONFIDENCE) -> list[Interval]:
    """``t_interval`` of each row of ``x`` (scenarios x replications, nan where undefined),
    with the same arithmetic row by row: the rows without a nan at once, the others one
    by one (tens of thousands of rows in a study of input draws)."""
    x = np.asarray(x, dtype=float)
    rows, n = x.shape
    whole = ~np.isnan(x).any(axis=1)
    out: list[Interval | None] = [None] * rows
    if n > 1 and whole.any():
        full = np.ascontiguousarray(x[whole])
        means = full.mean(axis=1)
        sds = full.std(axis=1, ddof=1)
        q_low, q_high = _t_quantiles(confidence, n - 1)
        scales = sds / math.sqrt(n)
        lows, highs = q_low * scales + means, q_high * scales + means
        for i, m, lo, hi, sd in zip(
            np.flatnonzero(whole).tolist(), means.tolist(), lows.tolist(), highs.tolist(),
            sds.tolist(), strict=True,
        ):  # fmt: skip
            out[i] = Interval(m, m, m, n, 0.0) if sd == 0.0 else Interval(m, lo, hi, n, sd)
    return [
        iv if iv is not None else t_interval(x[i].tolist(), confidence) for i, iv in enumerate(out)
    ]


@functools.lru_cache(maxsize=4096)
def _t_quantiles(confidence: float, dof: int) -> tuple[float, float]:
    """The standard t distribution's quantiles at the ends of a central interval
    (``scipy.stats.t.interval(confidence, dof)``)."""
    return (
        float(special.stdtrit(dof, (1.0 - confidence) / 2)),
        float(special.stdtrit(dof, (1.0 + confidence) / 2)),
    )


def t_quantile(p: float, dof: int) -> float:
    """The standard t distribution's quantile ``p`` (``scipy.stats.t.ppf(p, dof)``)."""
    return float(special.stdtrit(dof, p))


def t_two_sided_p(t: float, dof: int) -> float:
    """The two-sided p-value of Student's t statistic ``t`` (``2 * scipy.stats.t.sf(|t|,
    dof)``)."""
    return float(2 * special.stdtr(dof, -abs(t)))


@dataclass(frozen=True)
class PairedDifference:
    """The mean paired difference with its interval and a two-sided p-value."""

    interval: Interval
    p_value: float


def paired_difference(
    a: Sequence[float], b: Sequence[float], confidence: float = CONFIDENCE
) -> PairedDifference:
    """b - a over the replications where both are defined; two-sided paired t-test."""
    pairs = [(x, y) for x, y in zip(a, b, strict=True) if not (math.isnan(x) or math.isnan(y))]
    d = [y - x for x, y in pairs]
    interval = t_interval(d, confidence)
    if interval.n < 2:
        p = math.nan
    elif interval.sd == 0.0:
        p = 1.0 if interval.mean == 0.0 else 0.0
    else:
        t = interval.mean / (interval.sd / math.sqrt(interval.n))
        p = t_two_sided_p(t, interval.n - 1)
    return PairedDifference(interval, p)


def relative_half_width(half_width: float, mean: float) -> float:
    """|half-width / mean|: 0 for an exact value, infinite where it cannot be told."""
    if math.isnan(half_width):
        return math.inf
    if half_width == 0.0:
        return 0.0
    if mean == 0.0 or math.isnan(mean):
        return math.inf
    return abs(half_width / mean)
