"""A study on disk: the run folder of ``run``, ``compare`` and ``sweep``, from start to end.

The folder is built under a hidden ``.<name>.partial`` name: ``meta.json`` first (with the
full content of every scenario, so the study can be resumed from the folder alone), then one
small JSON file per finished replication as it arrives. Only when every replication is in
are the tables written, the caller's output writer run (the report, or a sweep's figures)
and the folder renamed into place. A Ctrl-C keeps every finished replication;
``--resume FOLDER`` runs only the missing ones.
"""

from __future__ import annotations

import gc
import json
import os
import re
import shutil
import signal
import sys
from collections.abc import Callable
from concurrent.futures import BrokenExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sim.experiments.calendar_tables import write_calendar_tables
from sim.experiments.comparison import Experiment, ScenarioResults
from sim.experiments.executors import Executor
from sim.experiments.explain import explain_rows
from sim.experiments.lock import Lock
from sim.experiments.one_at_a_time import write_one_at_a_time_tables
from sim.experiments.replicate import replicate
from sim.experiments.runfiles import (
    RunFolder,
    Terminated,
    WriteFailed,
    code_metadata,
    json_text,
    slug,
    write_csv,
    write_json,
    write_parquet_copies,
    write_text,
)
from sim.experiments.stress import write_stress_des
from sim.experiments.sweep import write_sweep_tables
from sim.experiments.uncertainty import draw_scenarios, is_draws_stage, write_uncertainty_tables
from sim.paths import program_name
from sim.scenario.loader import validate_data
from sim.scenario.problems import ScenarioError
from sim.scenario.schema import Scenario

META = "meta.json"
REPS_DIR = "replications"
#: The most replications a study may ask for (per scenario).
MAX_REPLICATIONS = 10_000
#: What every replication result holds.
REPLICATION_KEYS = frozenset({"kpis", "n_events", "profiles"})

#: How a study shows its progress: None (a bar when the terminal is interactive), True or
#: False (a bar or none), or a function called with (replications done, replications
#: needed) after each replication (the web app's progress bar).
Progress = bool | None | Callable[[int, int], None]

#: Writes what a finished study shows its reader (report, figures) into its folder:
#: (folder, experiment, meta) -> None. Supplied by the caller (the report layer).
OutputWriter = Callable[[Path, Experiment, dict[str, Any]], None]


class StudyStopped(Exception):
    """A study stopped before its end. Says why, how many replications are kept on disk
    and the command that finishes the study from its folder."""

    exit_code = 1

    def __init__(self, why: str, folder: Path, kind: str, done: int, total: int):
        self.why = why
        self.folder = folder
        self.kind = kind
        self.done = done
        self.total = total
        super().__init__(why, folder, kind, done, total)

    def __str__(self) -> str:
        return (
            f"{self.why}: {self.done} of {self.total} replications finished and are kept in "
            f"{self.folder}; finish with: {program_name()} {self.kind} --resume {self.folder}"
        )


class StudyInterrupted(StudyStopped):
    """Ctrl-C or SIGTERM: the finished replications are kept."""

    exit_code = 130


class StudyTerminated(StudyInterrupted):
    """SIGTERM: the finished replications are kept."""

    exit_code = 143


class StudyBroken(StudyStopped):
    """A worker process ended unexpectedly (killed, out of memory)."""

    exit_code = 1


class StudyWriteFailed(StudyStopped):
    """A file could not be written (disk full, no permission)."""

    exit_code = 2


class ResumeRefused(ValueError):
    """A folder that cannot be resumed, or a ``--resume`` with options it would ignore."""


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
    uncertainty: dict[str, Any] | None = None  # inputs and draws (kind "uncertainty")
    parquet: bool = False  # also a Parquet copy of every table and record file


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
    progress: Progress = None,
    write_outputs: OutputWriter | None = None,
) -> Path:
    """Run a new study into a new folder under ``out_dir``; return the finished folder.

    Until ``meta.json`` is on disk the study cannot be resumed, so a write failure before
    then removes the new folder again; Ctrl-C and SIGTERM wait (for milliseconds) until
    the folder can be resumed: either nothing is left behind or a resumable folder is."""
    _hold_stop_signals(True)
    try:
        folder = RunFolder(out_dir, plan.name)
        tmp = folder.tmp
        lock = Lock(tmp)
    except BaseException:
        _hold_stop_signals(False)
        raise
    try:
        (tmp / REPS_DIR).mkdir()
        write_json(tmp / META, _new_meta(plan, folder.final.name), indent=_meta_indent(plan))
    except BaseException:
        lock.release()
        shutil.rmtree(tmp, ignore_errors=True)
        _hold_stop_signals(False)
        raise
    return _run(plan, tmp, folder.final, executor, progress, write_outputs, lock)


_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
_held: dict[str, Any] = {"previous": {}, "caught": None}


def _hold_stop_signals(hold: bool) -> None:
    """Hold back Ctrl-C and SIGTERM while a folder's state changes between 'not there' and
    'resumable', so that an interrupt never lands between: while held, a signal is only
    noted; on release the usual handler gets it. (Blocking the signal in this thread would
    not do: the system may hand it to another thread, e.g. one of numpy's.)"""
    try:
        if hold:
            _held["caught"] = None
            for sig in _STOP_SIGNALS:
                _held["previous"][sig] = signal.signal(sig, _note_signal)
            return
        previous = _held["previous"]
        if not previous:
            return
        for sig in _STOP_SIGNALS:
            signal.signal(sig, previous.pop(sig))
    except ValueError:  # not the main thread: its caller handles interrupts
        return
    if _held["caught"] is not None:
        signal.raise_signal(_held["caught"])


def _note_signal(signum: int, _frame: Any) -> None:
    _held["caught"] = signum


def _new_meta(plan: StudyPlan, final_name: str) -> dict[str, Any]:
    pairs = zip(plan.scenarios, plan.sources, strict=True)
    scenarios: list[dict[str, Any]]
    if is_draws_stage(plan.uncertainty):
        # the draws are rebuilt from the forms and the drawn values (both recorded under
        # "uncertainty"): a copy of each would make meta.json gigabytes for a Sobol' study
        scenarios = [{"name": sc.name, "file": src} for sc, src in pairs]
    else:
        scenarios = [
            {
                "name": sc.name,
                "file": src,
                "hash": sc.content_hash(),
                "content": sc.model_dump(mode="json"),
            }
            for sc, src in pairs
        ]
    return {
        "kind": plan.kind,
        "name": plan.name,
        "final_name": final_name,
        "seed": plan.base_seed,
        "replications_requested": plan.replications,
        "precision": plan.precision,
        "max_replications": plan.max_replications,
        "save_requests": plan.save_requests,
        "sweep": plan.sweep,
        "explain": plan.explain,
        "uncertainty": plan.uncertainty,
        "parquet": plan.parquet,
        "scenarios": scenarios,
        **code_metadata(),
    }


def resume(
    partial: Path,
    executor: Executor,
    progress: Progress = None,
    write_outputs: OutputWriter | None = None,
    kind: str | None = None,
) -> Path:
    """Finish an interrupted study from its unfinished folder; return the finished folder.

    ``kind`` (the command resuming it) must match the study's kind when given. Every file
    is checked before anything runs; a problem raises ResumeRefused naming the file."""
    meta = read_meta(partial)
    if kind is not None and meta.kind != kind:
        raise ResumeRefused(
            f"--resume {partial}: this folder holds a '{meta.kind}' study; finish it with: "
            f"{program_name()} {meta.kind} --resume {partial}"
        )
    plan = plan_of(partial, meta)
    check_replication_files(plan, partial)
    final = partial.parent / meta.final_name
    n = 1
    while final.exists():
        n += 1
        final = partial.parent / f"{meta.final_name}-{n}"
    _hold_stop_signals(True)
    try:
        lock = Lock(partial)
    except BaseException:
        _hold_stop_signals(False)
        raise
    return _run(plan, partial, final, executor, progress, write_outputs, lock)


def plan_of(folder: Path, meta: _Meta) -> StudyPlan:
    """The study a folder's ``meta.json`` describes: its scenarios as recorded (each checked
    against its hash), seed, replications and design."""
    if is_draws_stage(meta.uncertainty) and all(e.content is None for e in meta.scenarios):
        scenarios = _rebuilt_draws(folder, meta)
    else:
        scenarios = _recorded_scenarios(folder, meta)
    return StudyPlan(
        name=meta.name,
        scenarios=scenarios,
        sources=[e.file for e in meta.scenarios],
        base_seed=meta.seed,
        replications=meta.replications_requested,
        precision=meta.precision,
        max_replications=meta.max_replications,
        save_requests=meta.save_requests,
        kind=meta.kind,
        sweep=meta.sweep,
        explain=meta.explain,
        uncertainty=meta.uncertainty,
        parquet=meta.parquet,
    )


def _rebuilt_draws(folder: Path, meta: _Meta) -> list[Scenario]:
    """The scenarios of an uncertainty study's draws, built again from its recorded forms
    and drawn values (and checked against the recorded names)."""
    info = meta.uncertainty or {}
    where = f"{folder / META}: uncertainty"
    try:
        forms = [validate_data(data) for data in info["base_forms"]]
        values = [{n: float(v) for n, v in d["values"].items()} for d in info["draws"]]
        scenarios = draw_scenarios(forms, values)
    except ScenarioError as exc:
        p = exc.problems[0]
        why = f"{where}: the draws do not make valid scenarios: {p.path}: {p.message}"
        raise ResumeRefused(why) from None
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ResumeRefused(f"{where} is incomplete or damaged ({exc!r})") from None
    names = [e.name for e in meta.scenarios]
    if [sc.name for sc in scenarios] != names:
        raise ResumeRefused(f"{where}: the draws do not match the recorded scenarios")
    return scenarios


def _recorded_scenarios(folder: Path, meta: _Meta) -> list[Scenario]:
    """The scenarios a folder's meta.json records in full, each checked against its hash."""
    scenarios = []
    for i, entry in enumerate(meta.scenarios):
        if entry.content is None or entry.hash is None:
            raise ResumeRefused(f"{folder / META}: scenarios[{i}] has no content and hash")
        try:
            sc = validate_data(entry.content)
        except ScenarioError as exc:
            raise ResumeRefused(
                f"{folder / META}: scenarios[{i}].content is not a valid scenario: "
                f"{exc.problems[0].path}: {exc.problems[0].message}"
            ) from None
        if sc.content_hash() != entry.hash:
            raise ResumeRefused(
                f"{folder / META}: scenarios[{i}] ({entry.name}) does not match its recorded hash"
            )
        scenarios.append(sc)
    return scenarios


def rerun_plan(folder: Path) -> StudyPlan:
    """The study of a finished run folder, to run again from its ``meta.json`` alone
    (ResumeRefused, naming the file, when the folder cannot be rerun)."""
    if not folder.is_dir():
        raise ResumeRefused(f"rerun {folder}: no such folder")
    if folder.name.endswith(".partial"):
        raise ResumeRefused(
            f"rerun {folder}: an unfinished run; finish it with --resume, or rerun a finished one"
        )
    if not (folder / META).is_file():
        raise ResumeRefused(f"rerun {folder}: no {META} here; not a run folder")
    if (folder / "staffing.csv").exists() or (folder / "staffing_compare.csv").exists():
        raise ResumeRefused(
            f"rerun {folder}: a staffing run; run it again with the scenario and options "
            f"in its {META}"
        )
    return plan_of(folder, _parse_meta(folder / META))


#: The tables of a finished study that hold its numbers: a rerun must give them unchanged.
NUMBER_TABLES = ("kpis_by_replication.csv", "summary.csv")


def differing_tables(first: Path, second: Path) -> list[str]:
    """The number tables of two finished study folders that are not the same, byte for byte."""

    def same(name: str) -> bool:
        a, b = first / name, second / name
        return b.exists() and a.read_bytes() == b.read_bytes()

    return [name for name in NUMBER_TABLES if (first / name).exists() and not same(name)]


# --------------------------------------------------------------------------- checking a folder


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    file: str
    # both absent for the draws of an uncertainty study (rebuilt from its "uncertainty")
    hash: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")
    content: dict[str, Any] | None = None


class _Meta(BaseModel):
    """What ``resume`` needs of ``meta.json`` (other keys describe the run for readers)."""

    model_config = ConfigDict(extra="allow")

    kind: Literal["run", "compare", "sweep", "uncertainty"]
    name: str
    final_name: str = Field(pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$", max_length=200)
    seed: int = Field(ge=0, strict=True)
    replications_requested: int = Field(ge=1, le=MAX_REPLICATIONS, strict=True)
    precision: float | None = Field(default=None, gt=0, lt=1)
    max_replications: int = Field(ge=1, le=MAX_REPLICATIONS, strict=True)
    save_requests: bool
    sweep: dict[str, Any] | None = None
    explain: dict[str, Any] | None = None
    uncertainty: dict[str, Any] | None = None
    parquet: bool = False
    scenarios: list[_Entry] = Field(min_length=1)


def read_meta(partial: Path) -> _Meta:
    """The checked ``meta.json`` of an unfinished run folder (ResumeRefused otherwise)."""
    if not partial.is_dir():
        raise ResumeRefused(f"--resume {partial}: no such folder")
    path = partial / META
    if not (partial.name.startswith(".") and partial.name.endswith(".partial")):
        if (partial / "summary.json").exists():
            raise ResumeRefused(
                f"--resume {partial}: this run is finished; nothing to resume (start a new run)"
            )
        raise ResumeRefused(
            f"--resume {partial}: not an unfinished run folder (those are named .<name>.partial)"
        )
    if not path.is_file():
        raise ResumeRefused(f"{path}: missing; this folder cannot be resumed, run the study again")
    return _parse_meta(path)


def _parse_meta(path: Path) -> _Meta:
    """A ``meta.json`` read and checked (ResumeRefused with the place of a problem)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise ResumeRefused(f"{path}: not UTF-8 text ({exc.reason})") from None
    except json.JSONDecodeError as exc:
        raise ResumeRefused(f"{path}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}") from None
    except OSError as exc:
        raise ResumeRefused(f"{path}: cannot read: {exc.strerror}") from None
    try:
        return _Meta.model_validate(data)
    except ValidationError as exc:
        lines = [
            f"{path}: {'.'.join(str(p) for p in e['loc']) or '(top level)'}: {e['msg']}"
            for e in exc.errors(include_url=False)[:10]
        ]
        raise ResumeRefused("\n".join(lines)) from None


_REP_NAME = re.compile(r"^s(\d{1,6})_r(\d{1,6})\.json$")


def check_replication_files(plan: StudyPlan, partial: Path) -> None:
    """Every file in ``replications/`` is a replication result of this study (leftover
    temporary files of an interrupted write are removed)."""
    folder = partial / REPS_DIR
    if not folder.is_dir():
        raise ResumeRefused(f"{folder}: missing; this folder cannot be resumed")
    for path in sorted(folder.iterdir()):
        if path.name.startswith(".") and path.name.endswith(".tmp") or path.suffix == ".part":
            path.unlink(missing_ok=True)
            continue
        match = _REP_NAME.match(path.name)
        if not match or not path.is_file():
            raise ResumeRefused(f"{path}: not a replication file of this study; move it away")
        s, r = int(match[1]), int(match[2])
        if s >= len(plan.scenarios) or r >= max(plan.max_replications, plan.replications):
            raise ResumeRefused(f"{path}: no such scenario or replication in this study")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError, OSError) as exc:
            raise ResumeRefused(
                f"{path}: not a readable replication result ({exc}); delete it to run it again"
            ) from None
        if not isinstance(data, dict) or not set(data) >= REPLICATION_KEYS:
            raise ResumeRefused(
                f"{path}: not a replication result (needs {', '.join(sorted(REPLICATION_KEYS))});"
                " delete it to run it again"
            )


def _load_done(plan: StudyPlan, tmp: Path) -> list[ScenarioResults]:
    pairs = zip(plan.scenarios, plan.sources, strict=True)
    results = [ScenarioResults(sc, src) for sc, src in pairs]
    draws = is_draws_stage(plan.uncertainty)
    for path in (tmp / REPS_DIR).glob("s*_r*.json"):
        s_txt, r_txt = path.stem[1:].split("_r")
        results[int(s_txt)].replications[int(r_txt)] = _kept(json.loads(path.read_text()), draws)
    return results


#: What a study holds in memory of each replication of an uncertainty study's draws (its
#: tables use nothing else; the files on disk hold the whole result).
DRAW_KEEPS = ("replication", "kpis", "n_events", "n_requests")


def _kept(result: dict[str, Any], draws: bool) -> dict[str, Any]:
    """What the study keeps in memory of a replication's result: all of it, or for the
    thousands of replications of an uncertainty study's draws, only what its tables use."""
    return {k: result[k] for k in DRAW_KEEPS if k in result} if draws else result


def on_disk(tmp: Path) -> int:
    """How many replication results an unfinished folder holds."""
    folder = tmp / REPS_DIR
    if not folder.is_dir():
        return 0
    return sum(1 for p in folder.iterdir() if _REP_NAME.match(p.name))


def _complete(results: list[ScenarioResults], reps: list[int]) -> bool:
    return all(r in s.replications for s in results for r in reps)


# --------------------------------------------------------------------------- the lock


# --------------------------------------------------------------------------- the run


def _run(
    plan: StudyPlan,
    tmp: Path,
    final: Path,
    executor: Executor,
    progress: Progress,
    write_outputs: OutputWriter | None,
    lock: Lock,
) -> Path:
    """Run the missing replications and finish the study, holding the folder's lock.

    Every way a study can stop early ends here in one StudyStopped with the count of
    replications on disk: Ctrl-C or SIGTERM anywhere (replications or finishing), a
    worker that died, a file that could not be written. The caller holds back Ctrl-C and
    SIGTERM until this function is ready for them."""
    try:
        _hold_stop_signals(False)
        return _run_locked(plan, tmp, final, executor, progress, write_outputs)
    except KeyboardInterrupt as exc:
        exit_at_next_interrupt()
        if isinstance(exc, Terminated):
            raise StudyTerminated(
                "terminated (SIGTERM)", tmp, plan.kind, on_disk(tmp), _total(plan, tmp)
            ) from None
        raise StudyInterrupted(
            "interrupted", tmp, plan.kind, on_disk(tmp), _total(plan, tmp)
        ) from None
    except BrokenExecutor:
        why = "a worker process ended unexpectedly (killed, or out of memory)"
        raise StudyBroken(why, tmp, plan.kind, on_disk(tmp), _total(plan, tmp)) from None
    except WriteFailed as exc:
        why = f"{exc}; free space or fix the permission, then resume"
        raise StudyWriteFailed(why, tmp, plan.kind, on_disk(tmp), _total(plan, tmp)) from None
    except OSError as exc:
        why = f"cannot write {exc.filename or tmp}: {exc.strerror or exc}"
        raise StudyWriteFailed(why, tmp, plan.kind, on_disk(tmp), _total(plan, tmp)) from None
    except Exception as exc:
        if type(exc).__name__ != "KilledWorker":  # dask gave up on a worker
            raise
        why = f"a dask worker died running a replication ({exc})"
        raise StudyBroken(why, tmp, plan.kind, on_disk(tmp), _total(plan, tmp)) from None
    finally:
        lock.release(final if final.exists() and not tmp.exists() else None)


def _total(plan: StudyPlan, tmp: Path) -> int:
    """Replications the study needs (at least: a precision study may need more)."""
    return max(plan.replications * len(plan.scenarios), on_disk(tmp))


def exit_at_next_interrupt() -> None:
    """After a first Ctrl-C, a second one (or SIGTERM) ends the process at once."""

    def now(signum: int, _frame: Any) -> None:
        os.write(2, b"\nstopped at once\n")
        os._exit(128 + signum)

    try:
        signal.signal(signal.SIGINT, now)
        signal.signal(signal.SIGTERM, now)
    except ValueError:  # not the main thread: the caller handles interrupts
        pass


def _run_locked(
    plan: StudyPlan,
    tmp: Path,
    final: Path,
    executor: Executor,
    progress: Progress,
    write_outputs: OutputWriter | None,
) -> Path:
    from tqdm import tqdm

    results = _load_done(plan, tmp)
    n_reps = plan.replications
    if plan.precision is not None:
        # resume a precision study from the replications it already has
        have = min(len(s.replications) for s in results)
        n_reps = max(n_reps, have)
    notify = progress if callable(progress) else None
    show = sys.stderr.isatty() if progress is None else progress is True
    bar = tqdm(
        total=n_reps * len(results), disable=not show, unit="rep", desc=plan.name, leave=False
    )
    bar.update(sum(len(s.replications) for s in results))
    # the plan's scenarios live as long as the study: keep the garbage collector from
    # walking them (tens of thousands in an uncertainty study) while results stream in
    gc.freeze()
    try:
        while True:
            _run_missing(plan, tmp, results, n_reps, executor, bar, notify)
            if plan.precision is None:
                break
            gap = Experiment(results, plan.base_seed, list(range(n_reps))).precision_gap(
                plan.precision
            )
            if gap <= plan.precision or n_reps >= plan.max_replications:
                break
            n_reps = min(plan.max_replications, n_reps + max(2, executor.workers))
    finally:
        gc.unfreeze()
        bar.close()
    reps = list(range(n_reps))
    assert _complete(results, reps)
    exp = Experiment(results, plan.base_seed, reps)
    meta = _finish(plan, exp, tmp)
    if plan.parquet:
        write_parquet_copies(tmp)
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
    notify: Callable[[int, int], None] | None = None,
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
    draws = is_draws_stage(plan.uncertainty)
    args = [
        (plan.scenarios[s], r, plan.base_seed, _records_path(tmp, plan, s, r), not draws)
        for s, r in jobs
    ]
    for i, result in executor.run(replicate, args):
        s, r = jobs[i]
        text = json_text(result)
        write_text(_rep_file(tmp, s, r), text)
        results[s].replications[r] = _kept(json.loads(text), draws)
        bar.update(1)
        if notify is not None:
            notify(sum(len(x.replications) for x in results), n_reps * len(results))


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
    write_json(folder / META, meta, indent=_meta_indent(plan))
    write_stress_des(folder, meta, plan.scenarios, plan.kind)
    kpis = exp.kpis()
    names = [k.name for k in kpis]
    values = exp.table().values  # KPI x scenario x replication, nan where undefined
    by_rep = [
        {"scenario": s.scenario.name, "replication": r}
        | dict(zip(names, values[:, i, j].tolist(), strict=True))
        for i, s in enumerate(exp.scenarios)
        for j, r in enumerate(exp.replications)
    ]
    write_csv(folder / "kpis_by_replication.csv", by_rep)
    summary = exp.summary_rows()
    write_csv(folder / "summary.csv", summary)
    # an uncertainty study's scenarios are draws: its comparisons are its own tables, and
    # hour-of-week profiles of every draw would only fill the disk
    draws = plan.kind == "uncertainty"
    comparison = [] if draws else exp.comparison_rows()
    if not draws:
        write_csv(folder / "comparison.csv", comparison, COMPARISON_FIELDS)
        write_calendar_tables(folder, exp)
    scenario_entries = [{k: v for k, v in e.items() if k != "content"} for e in meta["scenarios"]]
    write_json(
        folder / "summary.json",
        {
            "by_hour_of_week": {
                s.scenario.name: _weekly_profiles(s, exp.replications)
                for s in ([] if draws else exp.scenarios)
            },
            "meta": {k: v for k, v in meta.items() if k != "scenarios"}
            | {"scenarios": scenario_entries},
            "kpis": {
                k.name: {
                    "unit": k.unit,
                    "label": k.label,
                    "headline": k.headline,
                    "better": k.better or "",
                }
                for k in kpis
            },
            # an uncertainty study's rows per draw are in summary.csv and its own tables
            "summary": [] if draws else summary,
            "comparison": comparison,
        },
    )
    _kind_tables(plan, exp, folder)
    return meta


def _meta_indent(plan: StudyPlan) -> int | None:
    """meta.json is indented for reading, except for an uncertainty study's (the values of
    thousands of draws: megabytes that only a resume reads)."""
    return None if plan.kind == "uncertainty" else 2


def _kind_tables(plan: StudyPlan, exp: Experiment, folder: Path) -> None:
    """The tables of a sweep, an explained comparison or an uncertainty study's stage."""
    if plan.kind == "sweep" and plan.sweep is not None:
        write_sweep_tables(folder, plan.sweep, exp)
    if plan.explain is not None:
        write_csv(folder / "explain.csv", explain_rows(exp, plan.explain), EXPLAIN_FIELDS)
    if plan.kind == "uncertainty" and plan.uncertainty is not None:
        if plan.uncertainty.get("stage") == "one_at_a_time":
            write_one_at_a_time_tables(folder, plan.uncertainty, exp)
        else:
            write_uncertainty_tables(folder, plan.uncertainty, exp)


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
