"""Studies of input uncertainty: the design, the statistics over draws, and the command."""

from __future__ import annotations

import contextlib
import csv
import io
import json
from pathlib import Path

import numpy as np
import pytest

from helpers import SCENARIOS
from sim.cli import main, uncertainty_line
from sim.experiments.uncertainty import (
    build_study,
    design_points,
    input_names,
    sobol_indices,
    spread,
)
from sim.scenario import ScenarioError, load_scenario, validate_data


@pytest.mark.parametrize("design", ["sobol", "lhs"])
def test_design_points_stratify_every_input(design: str) -> None:
    """With n = 16 points, each input's 16 equal strata hold exactly one point (a scrambled
    Sobol' net of 2**4 points, and a Latin hypercube, both do); the same seed gives the
    same points."""
    pts = design_points(5, 16, design, seed=7)
    assert pts.shape == (16, 5)
    for j in range(5):
        assert sorted(np.floor(pts[:, j] * 16).astype(int).tolist()) == list(range(16))
    assert np.array_equal(pts, design_points(5, 16, design, seed=7))
    assert not np.array_equal(pts, design_points(5, 16, design, seed=8))


def test_spread_separates_input_uncertainty_from_noise() -> None:
    """Known answers: differences that depend on the inputs only (no noise) are all input
    uncertainty; pure noise around zero is (close to) none of it, and is better in about
    half the draws; a known mixture gives its known share within sampling error."""
    rng = np.random.default_rng(3)
    effects = rng.normal(-1.0, 1.0, 2000)
    only_inputs = spread([np.full(4, e) for e in effects], "lower")
    assert only_inputs.input_share == pytest.approx(1.0)
    assert only_inputs.p_better == pytest.approx(np.mean(effects < 0))
    assert only_inputs.p50 == pytest.approx(np.median(effects))
    noise = spread([rng.normal(0.0, 2.0, 4) for _ in range(2000)], "higher")
    assert noise.input_share < 0.1
    assert noise.p_better == pytest.approx(0.5, abs=0.05)
    # input variance 1, noise variance of a draw's mean 4/4 = 1: half the spread is inputs
    mixed = spread([e + rng.normal(0.0, 2.0, 4) for e in effects], "lower")
    assert mixed.input_share == pytest.approx(0.5, abs=0.08)
    assert np.isnan(spread([np.full(4, 1.0)] * 3, None).p_better)


def _forms() -> list:
    return [
        load_scenario(SCENARIOS / f"groningen_{f}.yaml", ("run.weeks=1",))
        for f in ("separate", "central")
    ]


def test_every_form_gets_the_same_draw() -> None:
    forms = _forms()
    study = build_study(forms, 4, "sobol", seed=1)
    assert study.names == input_names(forms) and len(study.scenarios) == 8
    for i in range(4):
        a, b = study.scenarios[2 * i], study.scenarios[2 * i + 1]
        assert a.name == f"groningen_separate@d{i:03d}"
        assert b.name == f"groningen_central@d{i:03d}"
        assert a.demand.gp_type_dial_112_factor == b.demand.gp_type_dial_112_factor
        assert a.demand.gp_type_dial_112_factor == pytest.approx(
            study.values[i]["gp_type_dial_112"]
        )
        assert a.coordination.triage.confusion == b.coordination.triage.confusion


def test_a_form_that_declares_an_input_differently_is_refused() -> None:
    forms = _forms()
    data = forms[1].model_dump(mode="json")
    data["uncertainty"]["gp_type_dial_112"]["high"] = 2.0
    forms[1] = validate_data(data)
    with pytest.raises(ScenarioError, match="declared differently"):
        build_study(forms, 4, "sobol", seed=1)


def _run(out: Path, *extra: str) -> tuple[int, str]:
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(io.StringIO()):
        code = main(
            [
                "uncertainty",
                str(SCENARIOS / "groningen_separate.yaml"),
                str(SCENARIOS / "groningen_central.yaml"),
                "--draws", "2", "--replications", "2", "--weeks", "1",
                "--out", str(out), "--no-progress", *extra,
            ]
        )  # fmt: skip
    return code, stdout.getvalue()


def _summary(out: Path) -> list[dict[str, str]]:
    (folder,) = [p for p in out.iterdir() if p.is_dir()]
    with (folder / "uncertainty_summary.csv").open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_the_command_writes_its_tables_and_plain_verdicts(tmp_path: Path) -> None:
    """A small study, sequential and on two workers: the same numbers; the terminal lines
    fit 100 columns."""
    code, text = _run(tmp_path / "a", "--workers", "1")
    assert code == 0
    rows = _summary(tmp_path / "a")
    assert {r["form"] for r in rows} == {"groningen_central"}
    headline = [r for r in rows if r["kpi"] == "misrouted.share"]
    assert headline and headline[0]["better"] == "lower" and headline[0]["n_draws"] == "2"
    assert "groningen_central against groningen_separate" in text
    assert all(
        len(line) <= 100 for line in text.splitlines() if not line.startswith(("Results", "Report"))
    )
    code, _ = _run(tmp_path / "b", "--workers", "2")
    assert code == 0
    assert _summary(tmp_path / "b") == rows
    (folder,) = [p for p in (tmp_path / "a").iterdir() if p.is_dir()]
    meta = json.loads((folder / "meta.json").read_text())
    assert meta["kind"] == "uncertainty" and len(meta["uncertainty"]["draws"]) == 2
    # the draws are rebuilt from the forms and values on resume: no copy of each in meta
    assert all(set(e) == {"name", "file"} for e in meta["scenarios"])
    with (folder / "uncertainty_inputs.csv").open(encoding="utf-8") as fh:
        inputs = list(csv.DictReader(fh))
    names = meta["uncertainty"]["inputs"]
    assert [r["draw"] for r in inputs] == ["0", "1"]
    for row, draw in zip(inputs, meta["uncertainty"]["draws"], strict=True):
        assert {n: float(row[n]) for n in names} == draw["values"]
    with (folder / "uncertainty_tidy.csv").open(encoding="utf-8") as fh:
        tidy = list(csv.DictReader(fh))
    assert list(tidy[0]) == ["draw", "form", "replication", "kpi", "value"]
    by_rep = {
        (r["scenario"], r["replication"]): r
        for r in csv.DictReader((folder / "kpis_by_replication.csv").open(encoding="utf-8"))
    }
    n_kpis = len(next(iter(by_rep.values()))) - 2
    assert len(tidy) == 2 * 2 * 2 * n_kpis  # draws x forms x replications x KPIs
    for t in tidy[:: max(1, len(tidy) // 50)]:
        row = by_rep[(f"{t['form']}@d{int(t['draw']):03d}", t["replication"])]
        assert t["value"] == row[t["kpi"]]


def test_bad_uncertainty_arguments_stop_before_anything_runs(tmp_path: Path) -> None:
    code, _ = _run(tmp_path / "c", "--precision", "0.05")
    assert code == 2 and not (tmp_path / "c").exists()


def test_a_verdict_line_reads_in_natural_units() -> None:
    row = {
        "kpi": "care.A1.within_target_share",
        "label": "Time to care within target (15 min), A1 (of all A1 requests)",
        "unit": "share",
        "p_better": "0.95",
        "p05": "0.001",
        "p50": "0.018",
        "p95": "0.04",
        "input_share": "0.8",
        "verdict": "better",
    }
    line = uncertainty_line(row)
    assert line.startswith("Care within target, A1 ")
    assert "better" in line and "+1.8 [+0.1, +4.0] points" in line and "inputs 80%" in line
    assert len(line) <= 98


def test_every_headline_kpi_says_which_way_is_better() -> None:
    """'Probability of being better' needs a direction for every headline figure."""
    from sim.measures.kpis import registry

    for form in ("separate", "colocated", "coordination_centre", "central"):
        sc = load_scenario(SCENARIOS / f"groningen_{form}.yaml")
        for k in registry(sc):
            if k.headline:
                assert k.better in ("lower", "higher"), k.name


def test_differences_of_under_a_minute_read_in_seconds() -> None:
    row = {
        "label": "Time to answer, GP post: mean",
        "unit": "min",
        "p_better": "0.98",
        "p05": "-0.1",
        "p50": "-0.05",
        "p95": "-0.01",
        "input_share": "0.9",
        "verdict": "better",
    }
    assert "-3.0 [-6.0, -0.6] s" in uncertainty_line(row)


@pytest.mark.parametrize(
    ("function", "first", "total"),
    [
        # additive: Y = 4 x0 + 2 x1 + 0 x2, uniform inputs: S_i = a_i^2 / sum a^2 = ST_i
        (lambda x: 4 * x[:, 0] + 2 * x[:, 1], [0.8, 0.2, 0.0], [0.8, 0.2, 0.0]),
        # a pure interaction: Y = x0 * x1: S_i = 3/7, ST_i = 4/7 (Var Y = 7/144)
        (lambda x: x[:, 0] * x[:, 1], [3 / 7, 3 / 7, 0.0], [4 / 7, 4 / 7, 0.0]),
    ],
    ids=["additive", "interaction"],
)
def test_sobol_indices_agree_with_the_analytic_values(function, first, total) -> None:
    """On functions with known Sobol' indices, the Saltelli design and SALib's estimates
    (as the uncertainty study uses them) hold the analytic values within their 95 %
    bootstrap intervals (and within 0.05)."""
    names = ["x0", "x1", "x2"]
    points = design_points(3, 2048, "saltelli", seed=11)
    assert points.shape == (2048 * 5, 3)
    idx = sobol_indices(names, function(points), seed=11)
    assert idx is not None
    for est, conf, true in ((idx.s1, idx.s1_conf, first), (idx.st, idx.st_conf, total)):
        for e, c, t in zip(est, conf, true, strict=True):
            assert abs(e - t) <= max(c, 0.01) + 0.01 and abs(e - t) <= 0.05, (e, c, t)
    assert sobol_indices(names, np.full(len(points), 1.0), seed=1) is None


def test_a_saltelli_study_needs_a_power_of_two(tmp_path: Path) -> None:
    code, _ = _run(tmp_path / "d", "--design", "saltelli", "--draws", "3")
    assert code == 2 and not (tmp_path / "d").exists()


def test_the_report_never_shows_a_small_difference_as_zero() -> None:
    """'-0 s' or '-0.0 points' for a difference that is not zero reads as a typo to a
    board; a small figure keeps the digits that show its size."""
    from sim.report.decision import _diff_text

    assert _diff_text(-0.0035, "min") == "-0.2 s"
    assert _diff_text(-0.0004, "share") == "-0.04 points"
    assert _diff_text(0.0185, "share") == "+1.8 points"
    assert _diff_text(0.2, "min") == "+12 s"
    assert _diff_text(22.7, "hours/week") == "+22.7 h/week"
    assert _diff_text(0.0, "share") == "+0.0 points"
