"""A study on disk: the run folder of ``run``, ``compare`` and ``sweep``, from start to end.

The folder is built under a hidden ``.<name>.partial`` name: ``meta.json`` first (with the
full content of every scenario, so the study can be resumed from the folder alone), then one
small JSON file per finished replication as it arrives. Only when every replication is in
are the tables written, the caller's output writer run (the report, or a sweep's figures)
and the folder renamed into place. A Ctrl-C keeps every finished replication;
``--resume FOLDER`` runs only the missing ones.
"""

from __future__ import annotations

import fcntl
import json
import math
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim.experiments.comparison import Experiment, ScenarioResults
from sim.experiments.executors import Executor
from sim.experiments.explain import explain_rows
from sim.experiments.replicate import replicate
from sim.experiments.runfiles import (
    RunFolder,
    code_metadata,
    json_safe,
    number_or_nan,
    slug,
    write_csv,
    write_json,
)
from sim.experiments.sweep import write_sweep_tables
from sim.scenario.loader import validate_data
from sim.scenario.schema import Scenario

META = "meta.json"
REPS_DIR = "replications"
LOCK = "running.pid"

#: Writes what a finished study shows its reader (report, figures) into its folder:
#: (folder, experiment, meta) -> None. Supplied by the caller (the report layer).
OutputWriter = Callable[[Path, Experiment, dict[str, Any]], None]


class StudyInterrupted(Exception):
    """Raised on Ctrl-C: says how many replications were kept and how to finish."""

    def __init__(self, folder: Path, done: int, total: int):
        self.folder = folder
        self.done = done
        self.total = total
        super().__init__(
            f"interrupted: {done} of {total} replications finished and are kept in {folder}; "
            f"finish with: python run_sim.py compare --resume {folder} (or sweep --resume)"
        )


@dataclass
class StudyPlan:
    """What a study runs: scenarios, seed, replications (or a precision target), kind."""

    name: str
    scenarios: list[Scenario]
    sources: list[str]
    base_seed: int
    replications: int
    precision: float | None = None
    max_replications: int = 200
    save_requests: bool = False
    kind: str = "compare"
    sweep: dict[str, Any] | None = None  # sweep points (kind "sweep")
    explain: dict[str, Any] | None = None  # the chains of an explained comparison


def _rep_file(folder: Path, s: int, r: int) -> Path:
    return folder / REPS_DIR / f"s{s}_r{r}.json"


def _records_path(folder: Path, plan: StudyPlan, s: int, r: int) -> str | None:
    if not plan.save_requests:
        return None
    if len(plan.scenarios) == 1 and plan.replications == 1 and plan.precision is None:
        return str(folder / "requests.csv.gz")
    return str(folder / f"requests_{slug(plan.scenarios[s].name)}_r{r}.csv.gz")


def start(
    plan: StudyPlan,
    out_dir: Path,
    executor: Executor,
    progress: bool | None = None,
    write_outputs: OutputWriter | None = None,
) -> Path:
    """Run a new study into a new folder under ``out_dir``; return the finished folder."""
    folder = RunFolder(out_dir, plan.name)
    tmp = folder.tmp
    (tmp / REPS_DIR).mkdir()
    scenarios = [
        {
            "name": sc.name,
            "file": src,
            "hash": sc.content_hash(),
            "content": sc.model_dump(mode="json"),
        }
        for sc, src in zip(plan.scenarios, plan.sources, strict=True)
    ]
    meta = {
        "kind": plan.kind,
        "name": plan.name,
        "final_name": folder.final.name,
        "seed": plan.base_seed,
        "replications_requested": plan.replications,
        "precision": plan.precision,
        "max_replications": plan.max_replications,
        "save_requests": plan.save_requests,
        "sweep": plan.sweep,
        "explain": plan.explain,
        "scenarios": scenarios,
        **code_metadata(),
    }
    write_json(tmp / META, meta)
    return _run(plan, tmp, folder.final, executor, progress, write_outputs)


def resume(
    partial: Path,
    executor: Executor,
    progress: bool | None = None,
    write_outputs: OutputWriter | None = None,
) -> Path:
    """Finish an interrupted study from its unfinished folder; return the finished folder."""
    meta_path = partial / META
    if not meta_path.exists():
        raise FileNotFoundError(f"{partial} is not an unfinished run folder (no {META})")
    meta = json.loads(meta_path.read_text())
    scenarios = []
    for entry in meta["scenarios"]:
        sc = validate_data(entry["content"])
        if sc.content_hash() != entry["hash"]:
            message = f"scenario {entry['name']} in {partial} does not match its recorded hash"
            raise ValueError(message)
        scenarios.append(sc)
    plan = StudyPlan(
        name=meta["name"],
        scenarios=scenarios,
        sources=[e["file"] for e in meta["scenarios"]],
        base_seed=meta["seed"],
        replications=meta["replications_requested"],
        precision=meta["precision"],
        max_replications=meta["max_replications"],
        save_requests=meta["save_requests"],
        kind=meta["kind"],
        sweep=meta.get("sweep"),
        explain=meta.get("explain"),
    )
    final = partial.parent / meta["final_name"]
    n = 1
    while final.exists():
        n += 1
        final = partial.parent / f"{meta['final_name']}-{n}"
    return _run(plan, partial, final, executor, progress, write_outputs)


def _load_done(plan: StudyPlan, tmp: Path) -> list[ScenarioResults]:
    pairs = zip(plan.scenarios, plan.sources, strict=True)
    results = [ScenarioResults(sc, src) for sc, src in pairs]
    for path in (tmp / REPS_DIR).glob("s*_r*.json"):
        s_txt, r_txt = path.stem[1:].split("_r")
        results[int(s_txt)].replications[int(r_txt)] = json.loads(path.read_text())
    return results


def _complete(results: list[ScenarioResults], reps: list[int]) -> bool:
    return all(r in s.replications for s in results for r in reps)


# --------------------------------------------------------------------------- the lock


class Lock:
    """One process at a time works on an unfinished run folder.

    The lock is an operating-system lock (``flock``) on ``running.pid``, held while the
    process works and released by the system when it ends, however it ends: a dead
    process, or a reused process number, never blocks a later run. The file names the
    holder's process number for the message a second process gets."""

    def __init__(self, folder: Path):
        self.path = folder / LOCK
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.read(fd, 32).decode(errors="replace").strip() or "another process"
                os.close(fd)
                raise ValueError(
                    f"{folder} is still being worked on by process {holder}; "
                    "wait for it or stop it first"
                ) from None
            # the file may have been removed by a holder that just finished: then this
            # lock is on a file nobody else sees, and it is taken again
            try:
                same = os.fstat(fd).st_ino == os.stat(self.path).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self.fd = fd

    def release(self, moved_to: Path | None = None) -> None:
        """Remove the lock file (from the folder's final place if it moved) and unlock."""
        path = self.path if moved_to is None else moved_to / LOCK
        path.unlink(missing_ok=True)
        fcntl.flock(self.fd, fcntl.LOCK_UN)
        os.close(self.fd)


# --------------------------------------------------------------------------- the run


def _run(
    plan: StudyPlan,
    tmp: Path,
    final: Path,
    executor: Executor,
    progress: bool | None,
    write_outputs: OutputWriter | None,
) -> Path:
    lock = Lock(tmp)
    try:
        return _run_locked(plan, tmp, final, executor, progress, write_outputs)
    finally:
        lock.release(final if final.exists() and not tmp.exists() else None)


def _run_locked(
    plan: StudyPlan,
    tmp: Path,
    final: Path,
    executor: Executor,
    progress: bool | None,
    write_outputs: OutputWriter | None,
) -> Path:
    from tqdm import tqdm

    results = _load_done(plan, tmp)
    n_reps = plan.replications
    if plan.precision is not None:
        # resume a precision study from the replications it already has
        have = min(len(s.replications) for s in results)
        n_reps = max(n_reps, have)
    show = sys.stderr.isatty() if progress is None else progress
    bar = tqdm(
        total=n_reps * len(results), disable=not show, unit="rep", desc=plan.name, leave=False
    )
    bar.update(sum(len(s.replications) for s in results))
    try:
        while True:
            _run_missing(plan, tmp, results, n_reps, executor, bar)
            if plan.precision is None:
                break
            gap = Experiment(results, plan.base_seed, list(range(n_reps))).precision_gap(
                plan.precision
            )
            if gap <= plan.precision or n_reps >= plan.max_replications:
                break
            n_reps = min(plan.max_replications, n_reps + max(2, executor.workers))
    except KeyboardInterrupt:
        bar.close()
        done = sum(len(s.replications) for s in results)
        raise StudyInterrupted(tmp, done, n_reps * len(results)) from None
    bar.close()
    reps = list(range(n_reps))
    assert _complete(results, reps)
    exp = Experiment(results, plan.base_seed, reps)
    meta = _finish(plan, exp, tmp)
    if write_outputs is not None:
        write_outputs(tmp, exp, meta)
    os.replace(tmp, final)
    return final


def _run_missing(
    plan: StudyPlan,
    tmp: Path,
    results: list[ScenarioResults],
    n_reps: int,
    executor: Executor,
    bar: Any,
) -> None:
    """Run every replication below ``n_reps`` not yet on disk; keep each as it arrives."""
    jobs = [
        (s_idx, r)
        for r in range(n_reps)
        for s_idx, s in enumerate(results)
        if r not in s.replications
    ]
    if not jobs:
        return
    bar.total = n_reps * len(results)
    bar.refresh()
    args = [(plan.scenarios[s], r, plan.base_seed, _records_path(tmp, plan, s, r)) for s, r in jobs]
    for i, result in executor.run(replicate, args):
        s, r = jobs[i]
        path = _rep_file(tmp, s, r)
        part = path.with_suffix(".part")
        part.write_text(json.dumps(json_safe(result)))
        os.replace(part, path)
        results[s].replications[r] = json.loads(path.read_text())
        bar.update(1)


# --------------------------------------------------------------------------- the tables


EXPLAIN_FIELDS = (
    "kpi",
    "label",
    "unit",
    "form",
    "step",
    "difference",
    "ci_low",
    "ci_high",
    "total",
)

COMPARISON_FIELDS = (
    "kpi", "label", "unit", "baseline", "scenario", "baseline_mean", "scenario_mean",
    "difference", "diff_ci_low", "diff_ci_high", "p_value", "n_pairs",
)  # fmt: skip


def _finish(plan: StudyPlan, exp: Experiment, folder: Path) -> dict[str, Any]:
    """Write the study's tables and summary.json; return the completed meta data."""
    meta = json.loads((folder / META).read_text())
    meta["replications"] = exp.replications
    meta["replications_run"] = len(exp.replications)
    if plan.precision is not None:
        meta["precision_achieved"] = exp.precision_gap(plan.precision)
    meta["simpy_events"] = sum(
        int(s.replications[r]["n_events"]) for s in exp.scenarios for r in exp.replications
    )
    write_json(folder / META, meta)
    kpis = exp.kpis()
    by_rep = []
    for s in exp.scenarios:
        for r in exp.replications:
            row: dict[str, Any] = {"scenario": s.scenario.name, "replication": r}
            values = s.replications[r]["kpis"]
            for k in kpis:
                row[k.name] = number_or_nan(values.get(k.name)) if k.name in values else math.nan
            by_rep.append(row)
    write_csv(folder / "kpis_by_replication.csv", by_rep)
    summary = exp.summary_rows()
    write_csv(folder / "summary.csv", summary)
    comparison = exp.comparison_rows()
    write_csv(folder / "comparison.csv", comparison, COMPARISON_FIELDS)
    scenario_entries = [{k: v for k, v in e.items() if k != "content"} for e in meta["scenarios"]]
    write_json(
        folder / "summary.json",
        {
            "by_hour_of_week": {
                s.scenario.name: _weekly_profiles(s, exp.replications) for s in exp.scenarios
            },
            "meta": {k: v for k, v in meta.items() if k != "scenarios"}
            | {"scenarios": scenario_entries},
            "kpis": {
                k.name: {"unit": k.unit, "label": k.label, "headline": k.headline} for k in kpis
            },
            "summary": summary,
            "comparison": comparison,
        },
    )
    if plan.kind == "sweep" and plan.sweep is not None:
        write_sweep_tables(folder, plan.sweep, exp)
    if plan.explain is not None:
        write_csv(folder / "explain.csv", explain_rows(exp, plan.explain), EXPLAIN_FIELDS)
    return meta


def _weekly_profiles(s: ScenarioResults, replications: list[int]) -> dict[str, Any]:
    """By hour of week: time-weighted utilisation per pool and mean time to answer per desk."""
    sums: dict[str, list[float]] = {}
    for r in replications:
        for key, values in s.replications[r]["profiles"].items():
            acc = sums.setdefault(key, [0.0] * len(values))
            for i, v in enumerate(values):
                acc[i] += v
    pools = sorted(k[len("busy.") :] for k in sums if k.startswith("busy."))
    desks = sorted(k[len("wait_sum.") :] for k in sums if k.startswith("wait_sum."))

    def ratio(num: list[float], den: list[float]) -> list[float | None]:
        return [a / b if b > 0 else None for a, b in zip(num, den, strict=True)]

    return {
        "utilisation": {p: ratio(sums[f"busy.{p}"], sums[f"present.{p}"]) for p in pools},
        "mean_time_to_answer_min": {
            d: ratio(sums[f"wait_sum.{d}"], sums[f"wait_n.{d}"]) for d in desks
        },
    }
