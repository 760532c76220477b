"""Real shifts: the fewest paid hours of allowed shifts that cover an hourly requirement.

An integer program, solved by HiGHS (through ``scipy.optimize.milp``): one whole-number
variable per day of the week, allowed start hour and allowed length (how many such shifts
are worked); every hour of the week must have at least the required number on duty (a
shift that runs past Sunday midnight covers Monday's first hours: the week repeats); the
objective is the paid hours, the sum of shift lengths. HiGHS is deterministic, so the same
requirement gives the same roster; the result says whether it is proven optimal (it is,
in a fraction of a second, for a week of hourly requirements).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp

from sim.scenario.schema import DAYS

#: Seconds the solver may take before it returns the best roster it has.
TIME_LIMIT_S = 60.0


@dataclass(frozen=True)
class ShiftPlan:
    """A roster of shifts: (day, start hour, length, how many), the number on duty per hour
    of the week, the paid hours, and whether the solver proved it the least."""

    shifts: tuple[tuple[str, int, int, int], ...]
    on_duty: np.ndarray
    paid_hours: int
    optimal: bool


def cover(
    required: Sequence[int] | np.ndarray, starts: Sequence[int], lengths: Sequence[int]
) -> ShiftPlan:
    """The fewest paid hours of shifts covering ``required`` (168 numbers)."""
    need = np.asarray(required, dtype=float)
    choices = [
        (d, s, n) for d in range(7) for s in sorted(set(starts)) for n in sorted(set(lengths))
    ]
    covers = np.zeros((168, len(choices)))
    for j, (d, s, n) in enumerate(choices):
        covers[(d * 24 + s + np.arange(n)) % 168, j] = 1.0
    paid = np.array([n for _, _, n in choices], dtype=float)
    result = milp(
        paid,
        constraints=LinearConstraint(covers, lb=need, ub=np.inf),
        integrality=np.ones(len(choices)),
        bounds=Bounds(0, max(float(need.max()), 0.0)),
        options={"time_limit": TIME_LIMIT_S},
    )
    if result.x is None:
        raise RuntimeError(f"no roster of these shifts covers the requirement ({result.message})")
    counts = np.rint(result.x).astype(np.int64)
    on_duty = (covers @ counts).astype(np.int64)
    shifts = tuple(
        (DAYS[d], s, n, int(x)) for (d, s, n), x in zip(choices, counts, strict=True) if x > 0
    )
    return ShiftPlan(shifts, on_duty, int(paid @ counts), bool(result.status == 0))
