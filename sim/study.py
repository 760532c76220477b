"""A study on disk: the run folder of ``run`` and ``compare``, from start to report.

The folder is built under a hidden ``.<name>.partial`` name: ``meta.json`` first (with the
full content of every scenario, so the study can be resumed from the folder alone), then one
small JSON file per finished replication as it arrives. Only when every replication is in
are the summary files, figures and report written and the folder renamed into place. A
Ctrl-C keeps every finished replication; ``--resume FOLDER`` runs only the missing ones.
"""

from __future__ import annotations

import csv
import json
import math
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim.experiment import Experiment, LocalExecutor, ScenarioResults, replicate
from sim.output import RunFolder, json_safe, run_metadata, slug, write_json
from sim.scenario import Scenario, validate_data

META = "meta.json"
REPS_DIR = "replications"


class StudyInterrupted(Exception):
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


def _rep_file(folder: Path, s: int, r: int) -> Path:
    return folder / REPS_DIR / f"s{s}_r{r}.json"


def _records_path(folder: Path, plan: StudyPlan, s: int, r: int) -> str | None:
    if not plan.save_requests:
        return None
    if len(plan.scenarios) == 1 and plan.replications == 1 and plan.precision is None:
        return str(folder / "requests.csv.gz")
    return str(folder / f"requests_{slug(plan.scenarios[s].name)}_r{r}.csv.gz")


def start(plan: StudyPlan, out_dir: Path, executor: LocalExecutor, progress: bool | None = None) -> Path:
    folder = RunFolder(out_dir, plan.name)
    tmp = folder.tmp
    (tmp / REPS_DIR).mkdir(parents=True)
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
        "scenarios": [
            {"name": sc.name, "file": src, "hash": sc.content_hash(), "content": sc.model_dump(mode="json")}
            for sc, src in zip(plan.scenarios, plan.sources, strict=True)
        ],
        **{k: v for k, v in run_metadata(plan.scenarios[0], None, plan.base_seed, []).items()
           if k in ("package_version", "versions", "git_commit", "command_line", "created")},
    }
    write_json(tmp / META, meta)
    return _run(plan, tmp, folder.final, executor, progress)


def resume(partial: Path, executor: LocalExecutor, progress: bool | None = None) -> Path:
    meta_path = partial / META
    if not meta_path.exists():
        raise FileNotFoundError(f"{partial} is not an unfinished run folder (no {META})")
    meta = json.loads(meta_path.read_text())
    scenarios = []
    for entry in meta["scenarios"]:
        sc = validate_data(entry["content"])
        if sc.content_hash() != entry["hash"]:
            raise ValueError(f"scenario {entry['name']} in {partial} does not match its recorded hash")
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
    )
    final = partial.parent / meta["final_name"]
    n = 1
    while final.exists():
        n += 1
        final = partial.parent / f"{meta['final_name']}-{n}"
    return _run(plan, partial, final, executor, progress)


def _load_done(plan: StudyPlan, tmp: Path) -> list[ScenarioResults]:
    results = [ScenarioResults(sc, src) for sc, src in zip(plan.scenarios, plan.sources, strict=True)]
    for path in (tmp / REPS_DIR).glob("s*_r*.json"):
        s_txt, r_txt = path.stem[1:].split("_r")
        results[int(s_txt)].replications[int(r_txt)] = json.loads(path.read_text())
    return results


def _complete(results: list[ScenarioResults], reps: list[int]) -> bool:
    return all(r in s.replications for s in results for r in reps)


LOCK = "running.pid"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _take_lock(tmp: Path) -> None:
    """One process at a time works on an unfinished run folder."""
    lock = tmp / LOCK
    if lock.exists():
        try:
            pid = int(lock.read_text().strip() or "0")
        except ValueError:
            pid = 0
        if pid and pid != os.getpid() and _pid_alive(pid):
            raise ValueError(f"{tmp} is still being worked on by process {pid}; wait for it or stop it first")
    lock.write_text(str(os.getpid()))


def _run(plan: StudyPlan, tmp: Path, final: Path, executor: LocalExecutor, progress: bool | None) -> Path:
    _take_lock(tmp)
    try:
        return _run_locked(plan, tmp, final, executor, progress)
    finally:
        (tmp / LOCK).unlink(missing_ok=True)
        (final / LOCK).unlink(missing_ok=True)


def _run_locked(plan: StudyPlan, tmp: Path, final: Path, executor: LocalExecutor, progress: bool | None) -> Path:
    from tqdm import tqdm

    results = _load_done(plan, tmp)
    n_reps = plan.replications
    if plan.precision is not None:
        # resume a precision study from the replications it already has
        have = min(len(s.replications) for s in results)
        n_reps = max(n_reps, have)
    show = sys.stderr.isatty() if progress is None else progress
    bar = tqdm(total=n_reps * len(results), disable=not show, unit="rep", desc=plan.name, leave=False)
    bar.update(sum(len(s.replications) for s in results))
    try:
        while True:
            reps = list(range(n_reps))
            jobs = [
                (s_idx, r)
                for r in reps
                for s_idx, s in enumerate(results)
                if r not in s.replications
            ]
            if jobs:
                bar.total = n_reps * len(results)
                bar.refresh()
                args = [
                    (plan.scenarios[s], r, plan.base_seed, _records_path(tmp, plan, s, r)) for s, r in jobs
                ]
                for i, result in executor.run(replicate, args):
                    s, r = jobs[i]
                    path = _rep_file(tmp, s, r)
                    part = path.with_suffix(".part")
                    part.write_text(json.dumps(json_safe(result)))
                    os.replace(part, path)
                    results[s].replications[r] = json.loads(path.read_text())
                    bar.update(1)
            if plan.precision is None:
                break
            exp = Experiment(results, plan.base_seed, reps)
            gap = exp.precision_gap(plan.precision)
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
    _finish(plan, exp, tmp)
    os.replace(tmp, final)
    return final


def _num(v: Any) -> float:
    return math.nan if v is None else float(v)


COMPARISON_FIELDS = (
    "kpi", "label", "unit", "baseline", "scenario", "baseline_mean", "scenario_mean",
    "difference", "diff_ci_low", "diff_ci_high", "p_value", "n_pairs",
)  # fmt: skip


def _write_csv(path: Path, rows: list[dict[str, Any]], fields: Sequence[str] | None = None) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]) if rows else list(fields or ()))
        writer.writeheader()
        for row in rows:
            writer.writerow({k: ("" if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()})


def _finish(plan: StudyPlan, exp: Experiment, folder: Path) -> None:
    meta = json.loads((folder / META).read_text())
    meta["replications"] = exp.replications
    meta["replications_run"] = len(exp.replications)
    if plan.precision is not None:
        meta["precision_achieved"] = exp.precision_gap(plan.precision)
    meta["simpy_events"] = sum(
        int(s.replications[r]["n_events"]) for s in exp.scenarios for r in exp.replications
    )
    write_json(folder / META, meta)

    by_rep = []
    kpis = exp.kpis()
    for s in exp.scenarios:
        for r in exp.replications:
            row = {"scenario": s.scenario.name, "replication": r}
            values = s.replications[r]["kpis"]
            for k in kpis:
                row[k.name] = _num(values.get(k.name)) if k.name in values else math.nan
            by_rep.append(row)
    _write_csv(folder / "kpis_by_replication.csv", by_rep)
    summary = exp.summary_rows()
    _write_csv(folder / "summary.csv", summary)
    comparison = exp.comparison_rows()
    _write_csv(folder / "comparison.csv", comparison, COMPARISON_FIELDS)
    profiles = {}
    for s in exp.scenarios:
        sums: dict[str, list[float]] = {}
        for r in exp.replications:
            for key, values in s.replications[r]["profiles"].items():
                acc = sums.setdefault(key, [0.0] * len(values))
                for i, v in enumerate(values):
                    acc[i] += v
        pools = sorted(k[len("busy."):] for k in sums if k.startswith("busy."))
        desks = sorted(k[len("wait_sum."):] for k in sums if k.startswith("wait_sum."))
        profiles[s.scenario.name] = {
            "utilisation": {p: [b / d if d > 0 else None for b, d in zip(sums[f"busy.{p}"], sums[f"present.{p}"], strict=True)] for p in pools},
            "mean_time_to_answer_min": {d: [w / n if n > 0 else None for w, n in zip(sums[f"wait_sum.{d}"], sums[f"wait_n.{d}"], strict=True)] for d in desks},
        }
    write_json(
        folder / "summary.json",
        {
            "by_hour_of_week": profiles,
            "meta": {k: v for k, v in meta.items() if k != "scenarios"}
            | {"scenarios": [{k: v for k, v in e.items() if k != "content"} for e in meta["scenarios"]]},
            "kpis": {k.name: {"unit": k.unit, "label": k.label, "headline": k.headline} for k in kpis},
            "summary": summary,
            "comparison": comparison,
        },
    )
    if plan.kind == "sweep" and plan.sweep is not None:
        from sim.sweep import write_sweep_outputs

        write_sweep_outputs(folder, plan.sweep, exp)
    else:
        from sim.report import write_report

        write_report(folder, exp, meta)
