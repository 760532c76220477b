"""The regression gate: passes on the unchanged tree, fails after a deliberate change."""

from __future__ import annotations

import math

import pytest

from sim.experiments.regression import REFERENCE, compare_with_reference, run_check


def test_reference_exists() -> None:
    assert REFERENCE.exists(), "create it with: python run_sim.py check --update"


def test_check_passes_on_unchanged_tree(capsys) -> None:
    assert run_check(workers=2) == 0
    assert "check passed" in capsys.readouterr().out


@pytest.mark.slow
def test_check_fails_after_a_parameter_change(capsys) -> None:
    assert run_check(overrides=["gp_post.triagists.weekday_evening=3"], workers=2) == 1
    out = capsys.readouterr().out
    assert "drifted" in out and "answer.gp_post.mean_min" in out


def test_tolerance_follows_the_replication_spread() -> None:
    ref = {
        "results": {
            "s": {
                "k": {"mean": 10.0, "sd": 2.0, "n": 16},
                "z": {"mean": 0.0, "sd": 0.0, "n": 16},
                "u": {"mean": None, "sd": 0.0, "n": 0},
            }
        }
    }
    se = math.sqrt((2.0**2 + 2.0**2) / 16)  # 0.707
    inside = {
        "s": {
            "k": {"mean": 10.0 + 3.9 * se, "sd": 2.0, "n": 16},
            "z": {"mean": 0.0, "sd": 0.0, "n": 16},
            "u": {"mean": math.nan, "sd": 0.0, "n": 0},
        }
    }
    outside = {
        "s": {
            "k": {"mean": 10.0 + 4.1 * se, "sd": 2.0, "n": 16},
            "z": {"mean": 1e-6, "sd": 0.0, "n": 16},
            "u": {"mean": 1.0, "sd": 0.0, "n": 1},
        }
    }
    assert compare_with_reference(ref, inside)[0] == []
    drifted = {name for _, name, *_ in compare_with_reference(ref, outside)[0]}
    assert drifted == {"k", "z", "u"}
