"""The sign-change threshold of the one-at-a-time runs against known answers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.experiments.one_at_a_time import GRID, choose_inputs, sign_change

X = np.array([0.1, 0.3, 0.5, 0.7, 0.9])


def test_exact_line_gives_its_root_with_a_tight_interval() -> None:
    d = np.array([[2.0 * (x - 0.42)] * 3 for x in X])
    d += np.array([0.0, 1e-9, -1e-9])  # a trace of noise so that the fit has residuals
    sc = sign_change(X, d, near=0.5)
    assert sc.status == "crosses"
    assert sc.value == pytest.approx(0.42, abs=1e-6)
    assert sc.low <= 0.42 <= sc.high and sc.high - sc.low < 1e-6
    assert sc.slope_sign == 1


def test_interval_covers_the_true_threshold_at_its_level() -> None:
    """A noisy line with a replication effect (the common random numbers) shared by the
    grid points: the 95 % Fieller interval covers the true root in about 95 % of studies
    (binomial tolerance for 400 studies: at least 91 %), and the estimate is unbiased.
    The replication effect (sd 0.5, root sd about 0.17 with 4 replications) dominates."""
    rng = np.random.default_rng(7)
    root, hits, estimates = 0.37, 0, []
    n = 400
    for _ in range(n):
        rep = rng.normal(0, 0.5, size=4)  # shared by every grid point of a replication
        d = -1.5 * (X[:, None] - root) + rep[None, :] + rng.normal(0, 0.05, size=(5, 4))
        sc = sign_change(X, d, near=0.5)
        if sc.status != "crosses":
            continue
        estimates.append(sc.value)
        hits += sc.low <= root <= sc.high
    assert hits / n >= 0.91
    se = np.std(estimates, ddof=1) / math.sqrt(len(estimates))
    assert abs(np.mean(estimates) - root) < 3 * se  # unbiased within 3 standard errors
    assert sign_change(X, -1.5 * (X[:, None] - root) + 0 * X[:, None], 0.5).slope_sign == -1


def test_a_difference_of_one_sign_has_no_threshold() -> None:
    d = np.full((5, 3), 0.2) + np.linspace(0, 0.1, 5)[:, None]
    assert sign_change(X, d, near=0.5).status == "positive"
    assert sign_change(X, -d, near=0.5).status == "negative"
    d[2, 1] = math.nan
    assert sign_change(X, d, near=0.5).status == "positive"  # the replication is dropped
    d[:, :] = math.nan
    assert sign_change(X, d, near=0.5).status == "missing"


def test_flat_noisy_difference_gives_an_open_interval() -> None:
    rng = np.random.default_rng(3)
    d = rng.normal(0, 1, size=(5, 2))
    d[:, 0] -= d[:, 0].mean()
    sc = sign_change(X, d - d.mean(), near=0.5)
    if sc.status == "crosses":  # a line the noise cannot tell from flat is not bounded
        assert math.isinf(sc.low) or math.isinf(sc.high) or sc.high - sc.low > 0.2


def test_two_changes_the_one_nearest_the_base_value_is_reported() -> None:
    d = np.array([[1.0], [-1.0], [-1.0], [-1.0], [1.0]]) + np.array([[0.0, 1e-6]])
    assert sign_change(X, d, near=0.15).value < 0.5
    assert sign_change(X, d, near=0.85).value > 0.5


def test_grid_is_inside_the_unit_interval() -> None:
    assert list(GRID) == sorted(GRID) and GRID[0] > 0 and GRID[-1] < 1


def test_choose_inputs_takes_each_differences_first_input() -> None:
    rows = [
        {"form": "a", "kpi": "k1", "input": "x", "first_order": 0.6, "total": ""},
        {"form": "a", "kpi": "k1", "input": "y", "first_order": 0.3, "total": ""},
        {"form": "a", "kpi": "k2", "input": "z", "first_order": 0.1, "total": ""},
        {"form": "a", "kpi": "k2", "input": "y", "first_order": 0.05, "total": ""},
        {"form": "a", "kpi": "k2", "input": "w", "first_order": -0.01, "total": ""},
    ]
    assert choose_inputs(rows, 2) == ["x", "z"]
    assert choose_inputs(rows, 5) == ["x", "z", "y"]  # an index of 0 or less: not decisive
