"""Experiments: sequential = parallel, paired differences, interval coverage, resume, report."""

from __future__ import annotations

import csv
import json
import math
import re
from dataclasses import astuple
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from helpers import scenario
from sim.experiments.executors import LocalExecutor
from sim.experiments.replicate import replicate
from sim.experiments.statistics import paired_difference, t_interval, t_intervals
from sim.experiments.study import StudyInterrupted, StudyPlan, resume, start
from sim.measures.kpis import KpiContext
from sim.model import simulate
from sim.model.calendar import Timeline
from sim.model.demand import GroupDemand
from sim.report import write_study_outputs


def _plan(scenarios, reps: int, name: str = "t") -> StudyPlan:
    return StudyPlan(
        name=name,
        scenarios=scenarios,
        sources=["test"] * len(scenarios),
        base_seed=11,
        replications=reps,
    )


def _small(form: str = "separate", **changes):
    return scenario({"organisation": form, "run": {"weeks": 1, "warmup_days": 1}, **changes})


def _rows(folder: Path, name: str) -> list[dict[str, str]]:
    with (folder / name).open() as fh:
        return list(csv.DictReader(fh))


def test_sequential_equals_parallel(tmp_path: Path) -> None:
    scs = [_small("separate"), _small("central")]
    a = start(_plan(scs, 4), tmp_path / "seq", LocalExecutor(1), progress=False)
    b = start(_plan(scs, 4), tmp_path / "par", LocalExecutor(2), progress=False)
    assert _rows(a, "kpis_by_replication.csv") == _rows(b, "kpis_by_replication.csv")
    assert _rows(a, "comparison.csv") == _rows(b, "comparison.csv")


def test_paired_difference_with_itself_is_exactly_zero(tmp_path: Path) -> None:
    sc = _small("separate")
    twin = sc.model_copy(update={"name": "twin"})
    folder = start(_plan([sc, twin], 3), tmp_path, LocalExecutor(1), progress=False)
    rows = _rows(folder, "comparison.csv")
    assert rows
    for row in rows:
        if row["difference"] == "":
            continue  # undefined in both (e.g. no requests of that kind)
        assert float(row["difference"]) == 0.0, row["kpi"]
        assert row["diff_ci_low"] in ("", "0.0") and row["diff_ci_high"] in ("", "0.0")


def test_more_triagists_shorten_the_gp_post_wait(tmp_path: Path) -> None:
    lean = _small(
        "separate",
        name="lean",
        gp_post={"triagists": {p: max(1, v - 2) for p, v in scenario().gp_post.triagists.items()}},
    )
    rich = _small(
        "separate",
        name="rich",
        gp_post={"triagists": {p: v + 2 for p, v in scenario().gp_post.triagists.items()}},
    )
    folder = start(_plan([lean, rich], 5), tmp_path, LocalExecutor(2), progress=False)
    row = next(r for r in _rows(folder, "comparison.csv") if r["kpi"] == "answer.gp_post.mean_min")
    assert float(row["difference"]) < 0
    assert float(row["diff_ci_high"]) < 0  # the whole interval says: shorter
    assert float(row["p_value"]) < 0.01


def test_t_interval_and_paired_difference_by_hand() -> None:
    iv = t_interval([1.0, 2.0, 3.0, 4.0])
    # mean 2.5, sd 1.29099, t(0.975, 3) = 3.18245
    assert math.isclose(iv.mean, 2.5)
    assert math.isclose(iv.half_width, 3.182446305284263 * 1.2909944487358056 / 2, rel_tol=1e-9)
    d = paired_difference([1.0, 2.0, 3.0], [2.0, 3.5, 4.0])
    assert math.isclose(d.interval.mean, (1.0 + 1.5 + 1.0) / 3)
    from scipy import stats

    assert math.isclose(
        d.p_value, stats.ttest_rel([2.0, 3.5, 4.0], [1.0, 2.0, 3.0]).pvalue, rel_tol=1e-9
    )


def test_t_quantiles_and_p_values_equal_scipy_stats_to_the_bit() -> None:
    """The intervals and p-values come from scipy.special (importing scipy.stats costs a
    study most of a second); they must be scipy.stats.t's numbers exactly."""
    from scipy import stats

    from sim.experiments.statistics import _t_quantiles, t_quantile, t_two_sided_p

    for confidence in (0.8, 0.9, 0.95, 0.99, 0.999):
        for dof in (*range(1, 60), 99, 100, 500, 1999, 10_000, 10**6):
            low, high = stats.t.interval(confidence, dof)
            assert _t_quantiles(confidence, dof) == (float(low), float(high))
            for p in (0.5 + confidence / 2, 0.975):
                assert t_quantile(p, dof) == float(stats.t.ppf(p, dof)), (p, dof)
    rng = np.random.default_rng(5)
    for t in [0.0, 1e-12, 0.5, 1.96, 3.0, 12.0, 40.0, *rng.normal(0.0, 4.0, 300).tolist()]:
        for dof in (1, 2, 3, 5, 7, 19, 30, 99, 1000):
            assert t_two_sided_p(t, dof) == float(2 * stats.t.sf(abs(t), dof)), (t, dof)


@pytest.mark.slow
def test_interval_covers_a_known_mean_about_95_percent_of_the_time() -> None:
    """requests.per_week has a known expectation (the integral of the Poisson rate over the
    reporting window); 300 independent 5-replication intervals should cover it ~95 % of
    the time. Binomial sd at n=300 is 1.26 points; we accept 0.91-0.99 (over 3 sd)."""
    sc = scenario(
        {"region": {"population": 8000}, "run": {"weeks": 1, "warmup_days": 0, "drain_hours": 0}}
    )
    tl = Timeline.from_scenario(sc)
    truth = 0.0
    hours = np.arange(tl.n_hours)
    window = (hours * 60 >= tl.warmup_end_min) & (hours * 60 < tl.arrivals_end_min) & tl.after_hours
    for i, g in enumerate(sc.demand.groups):
        truth += GroupDemand(sc, tl, i, g).rate_per_hour[window].sum()
    truth /= sc.run.weeks
    covered = 0
    trials = 300
    for trial in range(trials):
        values = []
        for r in range(5):
            run = simulate(sc, r, 1000 + trial)
            values.append(KpiContext(sc, run.timeline, run.records).n_reported / sc.run.weeks)
        iv = t_interval(values)
        covered += iv.low <= truth <= iv.high
    assert 0.91 <= covered / trials <= 0.99, covered / trials


class _Interrupting(LocalExecutor):
    """Runs the first few jobs, then behaves as if Ctrl-C was pressed."""

    def __init__(self, after: int):
        super().__init__(1)
        self.after = after

    def run(self, fn, jobs):
        for n, item in enumerate(super().run(fn, jobs)):
            if n == self.after:
                raise KeyboardInterrupt
            yield item


def test_resume_after_interrupt_gives_the_same_numbers(tmp_path: Path) -> None:
    scs = [_small("separate"), _small("central")]
    with pytest.raises(StudyInterrupted) as info:
        start(_plan(scs, 3, "r"), tmp_path / "a", _Interrupting(after=4), progress=False)
    partial = info.value.folder
    assert partial.name.endswith(".partial") and partial.exists()
    kept = sorted(p.name for p in (partial / "replications").glob("*.json"))
    assert len(kept) == 4 and info.value.done == 4
    assert not any(p.name.startswith("2") for p in (tmp_path / "a").iterdir())  # nothing final yet
    final = resume(partial, LocalExecutor(2), progress=False)
    assert not partial.exists() and final.exists()
    whole = start(_plan(scs, 3, "r"), tmp_path / "b", LocalExecutor(1), progress=False)
    assert _rows(final, "kpis_by_replication.csv") == _rows(whole, "kpis_by_replication.csv")


class _Html(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.images: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        a = dict(attrs)
        if tag == "img":
            self.images.append(a.get("src", ""))
        for key in ("href", "src", "xlink:href"):
            # an inline SVG figure refers to its own parts by '#id' and embeds a raster part
            # (a colour bar) as a data: address; nothing else may load
            if key in a and tag != "img" and not a[key].startswith(("#", "data:")):
                self.links.append(a[key])


def test_report_is_self_contained_and_embeds_every_figure(tmp_path: Path) -> None:
    plan = _plan([_small("separate"), _small("central")], 2)
    folder = start(
        plan, tmp_path, LocalExecutor(1), progress=False, write_outputs=write_study_outputs
    )
    text = (folder / "report.html").read_text()
    parser = _Html()
    parser.feed(text)
    assert "script" not in parser.tags
    assert not parser.links
    # the only addresses are the SVG namespaces, which name a format and load nothing
    bare = re.sub(r'xmlns(:\w+)?="http://www\.w3\.org/[^"]*"', "", text)
    bare = re.sub(r"<!DOCTYPE svg PUBLIC[^>]*>", "", bare)
    assert "http://" not in bare and "https://" not in bare
    figures = sorted(p.stem for p in (folder / "figures").glob("*.png"))
    assert len(figures) >= 6
    assert sorted(p.stem for p in (folder / "figures").glob("*.svg")) == figures
    assert not parser.images and parser.tags.count("svg") == len(figures)  # inline SVG
    for name in (
        "meta.json",
        "summary.json",
        "summary.csv",
        "comparison.csv",
        "kpis_by_replication.csv",
    ):
        assert (folder / name).exists(), name
    meta = json.loads((folder / "meta.json").read_text())
    assert meta["seed"] == 11 and meta["replications"] == [0, 1]
    assert all(len(s["hash"]) == 64 for s in meta["scenarios"])
    assert "Headline findings" in text and "Model description" in text


def test_replicate_is_pure() -> None:
    sc = _small("colocated")
    assert replicate(sc, 2, 5)["kpis"] == replicate(sc, 2, 5)["kpis"]


def test_precision_rule_adds_replications(tmp_path: Path) -> None:
    sc = _small("separate")
    plan = StudyPlan(
        name="p",
        scenarios=[sc],
        sources=["t"],
        base_seed=3,
        replications=2,
        precision=0.05,
        max_replications=12,
    )
    folder = start(plan, tmp_path, LocalExecutor(2), progress=False)
    meta = json.loads((folder / "meta.json").read_text())
    assert 2 < meta["replications_run"] <= 12
    assert meta["precision_achieved"] <= 0.05 or meta["replications_run"] == 12


def test_a_folder_being_worked_on_is_not_resumed_twice(tmp_path: Path) -> None:
    import os

    from sim.experiments.lock import Lock

    scs = [_small("separate")]
    with pytest.raises(StudyInterrupted) as info:
        start(_plan(scs, 3, "l"), tmp_path, _Interrupting(after=1), progress=False)
    partial = info.value.folder
    assert not (partial / "running.pid").exists()  # released on interrupt
    # another process holds the lock: resume refuses and names it
    ready_r, ready_w = os.pipe()
    done_r, done_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the other process
        Lock(partial)
        os.write(ready_w, b"x")
        os.read(done_r, 1)
        os._exit(0)
    os.read(ready_r, 1)
    with pytest.raises(ValueError, match=f"still being worked on by process {pid}"):
        resume(partial, LocalExecutor(1), progress=False)
    os.write(done_w, b"x")
    os.waitpid(pid, 0)
    # a lock file left by a process that ended (here naming a live, unrelated process) does
    # not block: the operating system's lock died with its holder
    (partial / "running.pid").write_text(str(os.getppid()))
    final = resume(partial, LocalExecutor(1), progress=False)
    assert final.exists() and not (final / "running.pid").exists()


CONTENDERS = """
import os, sys, time
from pathlib import Path
from sim.experiments.lock import Lock

root = Path(sys.argv[1])
overlaps = held = 0
for trial in range(1000):
    folder = root / f"f{trial}"
    folder.mkdir()
    pids = []
    for _ in range(2):
        pid = os.fork()
        if pid == 0:
            try:
                lock = Lock(folder)
            except ValueError:
                os._exit(0)
            code = 1
            try:
                fd = os.open(folder / "holder", os.O_CREAT | os.O_EXCL | os.O_WRONLY)
                os.close(fd)
                time.sleep(0.001)  # hold it a moment, so that an overlap would show
                os.unlink(folder / "holder")
            except FileExistsError:
                code = 3
            lock.release()
            os._exit(code)
        pids.append(pid)
    codes = [os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) for pid in pids]
    overlaps += 3 in codes
    held += codes.count(1) + codes.count(3)
print(overlaps, held)
"""


@pytest.mark.slow
def test_two_processes_never_hold_the_lock_at_once(tmp_path: Path) -> None:
    """1,000 pairs of forked contenders for one folder's lock: a holder marks the folder
    with an exclusive file while it holds the lock; a second holder at the same time
    would find the mark. The contenders fork from a small process that loads only the
    lock, so that a fork is cheap."""
    import os
    import subprocess
    import sys

    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parent.parent))
    out = subprocess.run(
        [sys.executable, "-c", CONTENDERS, str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=True,
    )
    overlaps, held = map(int, out.stdout.split())
    assert overlaps == 0
    assert held >= 1000  # every trial had a holder (both, when the first was done in time)


def test_runs_started_in_the_same_second_get_their_own_folders(tmp_path: Path) -> None:
    from sim.experiments.runfiles import RunFolder

    folders = [RunFolder(tmp_path, "same") for _ in range(3)]
    assert len({f.tmp for f in folders}) == 3 and all(f.tmp.is_dir() for f in folders)
    assert len({f.final for f in folders}) == 3


def test_explain_splits_each_difference_into_steps_that_add_up(tmp_path: Path) -> None:
    from sim.experiments.explain import STEP_NAMES, explain_plan

    today, central = _small("separate", name="today"), _small("central", name="one_desk")
    scenarios, info = explain_plan([today, central])
    assert [s.name for s in scenarios[:2]] == ["today", "one_desk"] and len(scenarios) == 6
    # structure only: the one desk triages each need as its home desk does today
    structure = scenarios[2]
    for need, row in today.mka.triage.confusion.items():
        if today.needs[need].home_door == "mka":
            assert structure.coordination.triage.confusion[need] == row
    assert structure.coordination.triage.patience == today.gp_post.triage.patience
    plan = StudyPlan(
        name="x", scenarios=scenarios, sources=["t"] * 6, base_seed=11, replications=3, explain=info
    )
    folder = start(plan, tmp_path, LocalExecutor(2), False, write_study_outputs)
    rows = _rows(folder, "explain.csv")
    assert {r["step"] for r in rows} == set(STEP_NAMES)
    by_kpi: dict[str, list[dict[str, str]]] = {}
    for r in rows:
        by_kpi.setdefault(r["kpi"], []).append(r)
    assert "misrouted.share" in by_kpi and "answer.all.mean_min" in by_kpi
    for steps in by_kpi.values():
        total = float(steps[0]["total"])
        assert abs(sum(float(s["difference"]) for s in steps) - total) < 1e-9 * max(1, abs(total))
    report = (folder / "report.html").read_text()
    assert "Where the differences come from" in report
    assert "one_desk [structure]" not in report.split("Every figure per scenario")[1]


def test_terminal_summary_fits_100_columns_and_starts_with_plain_verdicts(tmp_path) -> None:
    """Four scenarios with long names and a long label: no line over 100 columns, the whole
    label and unit are printed, and the verdicts on the headline figures come first."""
    from sim.report.text import explain_text, text_summary

    names = ["groningen_separate", "groningen_coordination_centre", "a_long_name_b", "c"]
    label = "Phone requests whose first call reached a desk that does not own their need " * 2
    rows, comparison = [], []
    for kpi, unit, text in (
        ("misrouted.share", "share", "Misrouted"),
        ("x.per_week", "rides/week", label),
    ):
        for i, s in enumerate(names):
            rows.append(
                {
                    "scenario": s,
                    "kpi": kpi,
                    "label": text,
                    "unit": unit,
                    "mean": 1234.5 + i,
                    "ci_low": 1200.0,
                    "ci_high": 1300.0,
                }
            )
            if i:
                d = {"difference": -0.02 * i, "diff_ci_low": -0.03 * i, "diff_ci_high": -0.01 * i}
                comparison.append({"kpi": kpi, "scenario": s, **d})
    text = text_summary(
        rows, comparison, "title", {"misrouted.share": "lower"}, ["misrouted.share"]
    )
    lines = text.splitlines()
    assert all(len(line) <= 100 for line in lines), max(lines, key=len)
    assert "groningen_coordination_centre against groningen_separate" in text
    first_verdict = next(i for i, line in enumerate(lines) if "better" in line)
    assert first_verdict < next(i for i, line in enumerate(lines) if line.startswith("Scenarios"))
    assert " ".join(label.split()) in " ".join(text.split())  # the label is never cut
    assert "(rides/week)" in text
    path = tmp_path / "explain.csv"
    path.write_text(
        "form,kpi,label,unit,step,difference,total\n"
        + "".join(
            f"groningen_coordination_centre,misrouted.share,Misrouted,share,{step},0.01,0.03\n"
            for step in (
                "structure",
                "triage accuracy",
                "call durations",
                "patience",
                "caller behaviour",
            )
        )
    )
    assert all(len(line) <= 100 for line in explain_text(path).splitlines())


@pytest.mark.parametrize("n", [1, 2, 3, 9])
def test_intervals_of_many_rows_equal_one_row_at_a_time(n: int) -> None:
    """t_intervals (tens of thousands of draws at once) gives exactly t_interval's numbers,
    rows with an undefined value and rows without spread included."""
    rng = np.random.default_rng(n)
    x = rng.lognormal(size=(200, n)) * 10.0 ** rng.integers(-3, 4, size=(200, 1))
    x[5, 0] = math.nan
    x[7, :] = math.nan
    x[9, :] = 2.5
    got = t_intervals(x)
    want = [t_interval(row.tolist()) for row in x]
    assert [astuple(g) for g in got] == [astuple(w) for w in want]  # nan == nan in tuples


def test_json_text_writes_non_finite_numbers_as_null_at_every_depth() -> None:
    """A replication's file: nan and infinities become null in plain values, in columns of
    numbers (the fast path) and in mixed lists; tuples become lists, numpy scalars plain
    numbers, booleans and integers stay what they are."""
    from sim.experiments.runfiles import json_safe, json_text

    nan, inf = float("nan"), float("inf")
    data = {
        "kpi": nan,
        "column": [1.5, nan, -inf, 2.0],
        "tuple": (0.25, inf),
        "mixed": [1, True, nan, None, "text", np.float64(nan), np.float64(2.5), np.int64(3)],
        "nested": {"a": [[nan], {"b": (np.float32(inf), 1.0)}]},
        "empty": [],
        "flag": False,
    }
    expected = {
        "kpi": None,
        "column": [1.5, None, None, 2.0],
        "tuple": [0.25, None],
        "mixed": [1, True, None, None, "text", None, 2.5, 3],
        "nested": {"a": [[None], {"b": [None, 1.0]}]},
        "empty": [],
        "flag": False,
    }
    assert json_safe(data) == expected
    text = json_text(data)
    assert "NaN" not in text and "Infinity" not in text
    assert json.loads(text) == expected
    assert type(json_safe(data)["mixed"][7]) is int
