"""The Python API (sim.api): its example runs, its numbers are the command line's, every
column it returns is documented, and bad input is refused before anything runs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from helpers import ROOT, SCENARIOS, data_dictionary, run_sim
from sim import api

SEPARATE = SCENARIOS / "groningen_separate.yaml"
CENTRAL = SCENARIOS / "groningen_central.yaml"
ONE_WEEK = {"run.weeks": 1}


def _documented() -> dict[str, set[str]]:
    """Per table (file name or ``Results.<attribute>``): the column names documented."""
    known = data_dictionary()
    for name, columns in data_dictionary(ROOT / "docs" / "API.md").items():
        known.setdefault(name, set()).update(columns)
    return known


def test_the_example_runs_and_prints_the_headline_differences() -> None:
    result = subprocess.run(
        [sys.executable, "examples/api_example.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env=dict(os.environ, WEEKS="1", REPLICATIONS="2", PYTHONPATH=str(ROOT)),
    )
    assert result.returncode == 0, result.stderr
    for kpi in ("misrouted.share", "care.A1.within_target_share", "first_desk"):
        assert kpi in result.stdout


def test_a_comparison_gives_the_command_lines_numbers_in_documented_columns(
    tmp_path: Path,
) -> None:
    forms = [api.load_scenario(p, ONE_WEEK) for p in (SEPARATE, CENTRAL)]
    res = api.compare(forms, replications=2, records=True, out=tmp_path / "api")
    cli = run_sim(
        "compare", str(SEPARATE), str(CENTRAL), "--weeks", "1", "--replications", "2",
        "--out", str(tmp_path / "cli"), "--no-progress",
    )  # fmt: skip
    assert cli.returncode == 0, cli.stderr
    (folder,) = (tmp_path / "cli").iterdir()
    assert res.folder is not None and (res.folder / "report.html").exists()
    for table in ("kpis_by_replication.csv", "summary.csv", "comparison.csv"):
        assert (res.folder / table).read_bytes() == (folder / table).read_bytes(), table
    # the frames are the tables
    wide = pd.read_csv(folder / "kpis_by_replication.csv")
    pd.testing.assert_frame_equal(res.kpi_table()[wide.columns], wide, check_dtype=False)
    assert set(res.kpis["scenario"]) == {"groningen_separate", "groningen_central"}
    assert res.differences["scenario"].eq("groningen_central").all()
    # records of every scenario and replication, categories as names
    assert res.requests is not None and res.calls is not None and res.rides is not None
    pairs = set(zip(res.requests["scenario"], res.requests["replication"], strict=True))
    assert pairs == {(s, r) for s in ("groningen_separate", "groningen_central") for r in (0, 1)}
    assert set(res.requests["channel"]) <= {"112", "gp_post", "walk_in_ed", "professional"}
    # every column returned is documented
    known = _documented()
    kpi_names = set(res.summary["kpi"])
    frames = {
        "Results.summary": res.summary,
        "Results.differences": res.differences,
        "Results.kpis": res.kpis,
        "Results.requests": res.requests,
        "Results.calls": res.calls,
        "Results.rides": res.rides,
        "Results.verdicts": res.verdicts(),
        **{f"{name}.csv": frame for name, frame in res.tables.items()},
    }
    for name, frame in frames.items():
        base = {"Results.requests": "requests.csv.gz", "Results.calls": "calls.csv.gz",
                "Results.rides": "rides.csv.gz"}.get(name)  # fmt: skip
        columns = known.get(name, set()) | known.get(base or "", set())
        missing = [c for c in frame.columns if c not in columns and c not in kpi_names]
        assert not missing, f"{name}: not documented: {missing}"


def test_the_same_numbers_in_memory_on_two_workers_and_from_a_dict(tmp_path: Path) -> None:
    kept = api.compare([SEPARATE, CENTRAL], 2, out=tmp_path, report=False)
    data = api.load_scenario(SEPARATE, ONE_WEEK).model_dump(mode="json")
    seen: list[tuple[int, int]] = []
    forms = [api.load_scenario(data), api.load_scenario(CENTRAL, ["run.weeks=1"])]
    other = api.compare(forms, 2, workers=2, progress=lambda d, n: seen.append((d, n)))
    assert other.folder is None
    assert list(tmp_path.iterdir())  # the kept folder is there, the temporary one is not
    assert not (tmp_path / "report.html").exists()
    # the kept study ran 4 weeks (the files' own run length): different numbers
    assert not kept.kpi_table().equals(other.kpi_table())
    again = api.compare([api.load_scenario(p, ONE_WEEK) for p in (SEPARATE, CENTRAL)], 2, workers=1)
    pd.testing.assert_frame_equal(again.kpi_table(), other.kpi_table())
    assert seen[-1] == (4, 4) and [d for d, _ in seen] == sorted(d for d, _ in seen)


def test_bad_input_raises_before_anything_runs(tmp_path: Path) -> None:
    with pytest.raises(api.ScenarioError) as err:
        api.load_scenario(SEPARATE, {"run.weeks": -3})
    assert "run.weeks" in str(err.value)
    data = api.load_scenario(SEPARATE).model_dump(mode="json")
    data["organisation"] = "merged"
    with pytest.raises(api.ScenarioError) as err:
        api.compare([data], out=tmp_path)
    assert "organisation" in str(err.value)
    assert not list(tmp_path.iterdir())


@pytest.mark.slow
def test_uncertainty_and_staffing_studies_return_their_tables() -> None:
    small = ["run.weeks=1", "region.population=80000"]
    forms = [api.load_scenario(p, small) for p in (SEPARATE, CENTRAL)]
    unc = api.uncertainty(forms, draws=8, replications=2, one_at_a_time=1, workers=2)
    assert {"uncertainty_summary", "sensitivity", "one_at_a_time.thresholds"} <= set(unc.tables)
    assert unc.kind == "uncertainty"
    staffed = api.load_scenario(
        CENTRAL, [*small, "staffing.replications=2", "staffing.verify_replications=2"]
    )
    staff = api.staffing(staffed, workers=2)
    assert {"staffing", "hourly", "norms"} <= set(staff.tables)
    assert staff.kind == "staffing" and staff.tables["staffing"]["hours_per_week"].gt(0).all()


def test_inputs_uploads_and_field_descriptions() -> None:
    declared = {i.name: i for i in api.inputs(SEPARATE)}
    patience = declared["gp_post_patience"]
    assert patience.unit == "min" and patience.confidence == "guessed" and patience.source
    assert patience.low < patience.value < patience.high
    assert declared["gp_post_triagists"].unit == "factor"  # a multiplier of a staff table
    moved = api.with_inputs(SEPARATE, {"gp_post_patience": 12.0})
    assert moved.gp_post.triage.patience.mean_min == 12.0
    assert api.describe_field("gp_post.triagists.weekday_evening")[0] == "staff table"
    text = "extends: [groningen_base.yaml, forms/central.yaml]\nname: mine\n"
    assert api.load_scenario_text(text, "mine.yaml").organisation == "central"
    with pytest.raises(api.ScenarioError) as err:
        api.load_scenario_text(text + "run: {weeks: many}\n", "mine.yaml")
    assert str(err.value).startswith("mine.yaml:3:")
