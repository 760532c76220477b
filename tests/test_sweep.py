"""Sweeps: designs expand as stated, bad fields are located, outputs are tidy, and an
interrupted sweep recomputes nothing that had finished."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from helpers import SCENARIOS
from sim.experiments.executors import LocalExecutor
from sim.experiments.study import StudyInterrupted, StudyPlan, resume, start
from sim.experiments.sweep import load_sweep, sweep_meta
from sim.report import write_study_outputs
from sim.scenario import ScenarioError

SWEEPS = SCENARIOS / "sweeps"


def test_shipped_sweeps_load() -> None:
    grid = load_sweep(SWEEPS / "coordination_agents.yaml")
    assert len(grid.points) == 15
    assert {sc.coordination.agents["weekday_evening"] for sc in grid.scenarios} == {7, 8, 9, 10, 11}
    oat = load_sweep(SWEEPS / "caller_patience.yaml")
    assert len(oat.points) == 1 + 2 + 2 + 2
    base = oat.scenarios[0]
    moved = oat.scenarios[1]
    assert (
        base.gp_post.triage.patience.mean_min == 10 and moved.gp_post.triage.patience.mean_min == 5
    )
    assert moved.mka.triage.patience.mean_min == base.mka.triage.patience.mean_min
    lhs = load_sweep(SWEEPS / "patience_and_staffing_lhs.yaml")
    assert len(lhs.points) == 12
    evening = sorted(sc.gp_post.triagists["weekday_evening"] for sc in lhs.scenarios)
    assert evening[0] >= 4 and evening[-1] <= 8
    patience = sorted(sc.gp_post.triage.patience.mean_min for sc in lhs.scenarios)
    # a Latin hypercube puts exactly one point in each of the 12 equal strata
    strata = sorted(int((p - 4) / (16 / 12)) for p in patience)
    assert strata == list(range(12))
    load_sweep(SWEEPS / "gp_callers_dialling_112.yaml")


def test_bad_sweep_field_is_located(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    head = f"name: bad\nbase: {SCENARIOS / 'groningen_separate.yaml'}\ndesign: grid\nfields:\n"
    path.write_text(head + "  gp_post.triagists.weekday_evenin: [5, 6]\n")
    with pytest.raises(ScenarioError) as info:
        load_sweep(path)
    text = str(info.value)
    assert (
        f"{path}:5:3: fields.gp_post.triagists.weekday_evenin" in text
        and "did you mean 'weekday_evening'" in text
    )
    path.write_text(head + "  gp_post.triagists.weekday_night: [2, -1, -3]\n")
    with pytest.raises(ScenarioError) as info:
        load_sweep(path)
    lines = str(info.value).splitlines()
    assert len(lines) == 1  # one line per distinct problem, not one per point
    assert (
        lines[0].startswith(f"{path}:5:3: fields.gp_post.triagists.weekday_night: ")
        and "greater than or equal to 0" in lines[0]
    )


def test_bad_sweep_design_is_located(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        f"name: bad\nbase: {SCENARIOS / 'groningen_separate.yaml'}\ndesign: latin_hypercube\n"
        "fields:\n  run.weeks: [1, 2]\n"
    )
    with pytest.raises(ScenarioError) as info:
        load_sweep(path)
    assert "needs ranges" in str(info.value)


class _StopAfter(LocalExecutor):
    def __init__(self, after: int):
        super().__init__(1)
        self.after = after
        self.calls = 0

    def run(self, fn, jobs):
        for n, item in enumerate(super().run(fn, jobs)):
            if n == self.after:
                raise KeyboardInterrupt
            yield item


class _Counting(LocalExecutor):
    def __init__(self) -> None:
        super().__init__(1)
        self.jobs = 0

    def run(self, fn, jobs):
        self.jobs += len(jobs)
        yield from super().run(fn, jobs)


@pytest.mark.slow
def test_interrupted_sweep_resumes_without_recomputing(tmp_path: Path) -> None:
    sw = load_sweep(SWEEPS / "gp_callers_dialling_112.yaml", weeks=1)

    def plan() -> StudyPlan:
        return StudyPlan(
            name="s",
            scenarios=sw.scenarios,
            sources=["t"] * len(sw.scenarios),
            base_seed=3,
            replications=2,
            kind="sweep",
            sweep=sweep_meta(sw),
        )

    with pytest.raises(StudyInterrupted) as info:
        start(plan(), tmp_path / "a", _StopAfter(after=6), progress=False)
    counting = _Counting()
    final = resume(info.value.folder, counting, progress=False, write_outputs=write_study_outputs)
    assert counting.jobs == 5 * 2 - 6  # only the unfinished replications ran
    whole = start(plan(), tmp_path / "b", LocalExecutor(2), progress=False)
    assert (final / "sweep_tidy.csv").read_text() == (whole / "sweep_tidy.csv").read_text()
    rows = list(csv.DictReader((final / "sweep_summary.csv").open()))
    misrouted = {
        float(r["demand.gp_type_dial_112_factor"]): float(r["mean"])
        for r in rows
        if r["kpi"] == "doors.wrong_door.share"
    }
    # more GP-type callers at 112 means more wrong doors
    factors = sorted(misrouted)
    assert misrouted[factors[-1]] > misrouted[factors[0]]
    assert any((final / "figures").glob("misrouted_share.png"))
    meta = json.loads((final / "meta.json").read_text())
    assert meta["sweep"]["design"] == "grid" and len(meta["sweep"]["points"]) == 5


@pytest.mark.parametrize("design", ["one_at_a_time", "grid"])
def test_a_small_sweep_writes_its_tables_and_figures(tmp_path: Path, design: str) -> None:
    path = tmp_path / "small.yaml"
    path.write_text(
        f"name: small\nbase: {SCENARIOS / 'groningen_separate.yaml'}\ndesign: {design}\n"
        "replications: 1\nweeks: 1\nfields:\n  gp_post.triagists.weekday_evening: [4, 6]\n"
    )
    sw = load_sweep(path)
    plan = StudyPlan(
        name="small",
        scenarios=sw.scenarios,
        sources=[str(path)] * len(sw.scenarios),
        base_seed=3,
        replications=1,
        kind="sweep",
        sweep=sweep_meta(sw),
    )
    out = start(plan, tmp_path / "out", LocalExecutor(1), False, write_study_outputs)
    tidy = list(csv.DictReader((out / "sweep_tidy.csv").open()))
    assert {r["point"] for r in tidy} == {str(p.index) for p in sw.points}
    figures = sorted(p.name for p in (out / "figures").glob("*.png"))
    assert "misrouted_share.png" in figures and len(figures) >= 4
    # the sweep's report: what moves each headline figure, in words, with the field's name
    report = (out / "report.html").read_text(encoding="utf-8")
    first = report[report.index("id='verdict'") : report.index("</section>")]
    assert "moves most with <b>GP post triagists weekday evening</b>" in first
    assert "changed by user" in report and "gp_post.triagists.weekday_evening" in report
    assert report.count("<svg") == len(figures) and "{'" not in report
