"""A staffing run's life: its folder, its simulations kept as they finish, and resuming.

The search is deterministic (same scenario and seed, same steps), so every batch of
replications it simulates is kept in the unfinished folder under a key of what was
simulated; an interrupted run started again with ``--resume`` reads those batches back
instead of simulating them, and finishes with the same numbers. The finished folder
appears under its final name only when every file is written.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from sim.experiments.executors import Executor
from sim.experiments.runfiles import (
    RunFolder,
    atomic_open,
    code_metadata,
    write_json,
    write_parquet_copies,
)
from sim.scenario.loader import validate_data
from sim.scenario.schema import Scenario
from sim.staffing.measure import MAX_IN_SYSTEM, StaffPool, measure
from sim.staffing.outputs import write_outputs
from sim.staffing.search import Counts, Search, SearchResult, verify

BATCHES = "batches"
SCENARIO = "scenario.json"
META = "meta.json"


class BatchStore:
    """Batches of replication counts kept on disk (compressed numpy), by key."""

    def __init__(self, folder: Path):
        self.folder = folder / BATCHES
        self.folder.mkdir(exist_ok=True)

    @staticmethod
    def key(sc: Scenario, reps: Sequence[int], pools: Sequence[StaffPool]) -> str:
        """What a batch simulated: the scenario's content, its replications and pools."""
        blob = json.dumps([sc.content_hash(), list(reps), [p.pool for p in pools]])
        return hashlib.sha256(blob.encode()).hexdigest()[:24]

    def load(self, key: str, n: int, pools: Sequence[StaffPool]) -> Counts | None:
        """The batch if it is on disk."""
        path = self.folder / f"{key}.npz"
        if not path.exists():
            return None
        with np.load(path) as data:
            out: Counts = [{p.pool: {} for p in pools} for _ in range(n)]
            for name in data.files:
                r, pool, count = name.split("/")
                value = data[name]
                if count == "hist":
                    full = np.zeros((168, MAX_IN_SYSTEM + 1), dtype=value.dtype)
                    full[:, : value.shape[1]] = value
                    value = full
                out[int(r)][pool][count] = value
        return out

    def save(self, key: str, counts: Counts) -> None:
        """Keep a batch (the histograms cut after their last non-empty column)."""
        arrays = {}
        for r, per_pool in enumerate(counts):
            for pool, per_count in per_pool.items():
                for count, value in per_count.items():
                    if count == "hist":
                        used = np.flatnonzero(value.any(axis=0))
                        value = value[:, : (used[-1] + 1 if used.size else 1)]
                    arrays[f"{r}/{pool}/{count}"] = value
        with atomic_open(self.folder / f"{key}.npz", "wb") as fh:
            # numpy's stubs take the arrays' names for its keyword options
            np.savez_compressed(fh, **arrays)  # type: ignore[arg-type]


class StopRequests:
    """Ctrl-C while a staffing run works: noted, and acted on at the next safe point
    (when the batch of replications in hand is done and kept), so that an interrupt
    arriving while the process pool starts its workers is not lost; a second Ctrl-C stops
    at once."""

    def __init__(self) -> None:
        self.caught = False
        self.previous: Any = None

    def __enter__(self) -> StopRequests:
        try:
            self.previous = signal.signal(signal.SIGINT, self._note)
        except ValueError:  # not the main thread: Ctrl-C is not ours to handle
            self.previous = None
        return self

    def _note(self, _signum: int, _frame: Any) -> None:
        if self.caught:
            raise KeyboardInterrupt
        self.caught = True

    def check(self) -> None:
        """Stop here if Ctrl-C was pressed."""
        if self.caught:
            raise KeyboardInterrupt

    def __exit__(self, *_exc: object) -> None:
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)


class Runner:
    """Simulates batches on an executor, keeping each in the store (if one is given);
    counts the replications simulated and read back."""

    def __init__(
        self,
        executor: Executor,
        store: BatchStore | None = None,
        progress: Any = None,
        stop: StopRequests | None = None,
    ):
        self.executor = executor
        self.store = store
        self.progress = progress
        self.stop = stop
        self.simulated = 0
        self.reused = 0

    def __call__(self, sc: Scenario, reps: Sequence[int], pools: tuple[StaffPool, ...]) -> Counts:
        """The counts of ``reps`` of ``sc`` (read back if this batch was kept)."""
        key = BatchStore.key(sc, reps, pools)
        kept = None if self.store is None else self.store.load(key, len(reps), pools)
        if kept is not None:
            self.reused += len(reps)
            return kept
        jobs = [(sc, r, sc.run.seed, pools) for r in reps]
        out: list[Any] = [None] * len(jobs)
        if self.stop is not None:
            self.stop.check()
        # a batch runs to its end (a few seconds): ending workers while they send their
        # results can leave the pool's reader waiting for ever at exit
        for i, counts in self.executor.run(measure, jobs):
            out[i] = counts
            self.simulated += 1
            if self.progress is not None:
                self.progress.update(1)
        if self.store is not None:
            self.store.save(key, out)
        if self.stop is not None:
            self.stop.check()  # after the batch is kept
        return out


def start_folder(
    sc: Scenario, out_dir: Path, source: str, parquet: bool = False
) -> tuple[Path, dict[str, Any]]:
    """A new unfinished folder holding the scenario and what started the run (``parquet``:
    also a Parquet copy of every table when it ends)."""
    folder = RunFolder(out_dir, f"staffing_{sc.name}")
    meta = {
        "kind": "staffing",
        "scenario": sc.name,
        "source": source,
        "seed": sc.run.seed,
        "final_name": folder.final.name,
        "parquet": parquet,
        **code_metadata(),
    }
    write_json(folder.tmp / SCENARIO, sc.model_dump(mode="json"))
    write_json(folder.tmp / META, meta)
    return folder.tmp, meta


def read_folder(partial: Path) -> tuple[Scenario, dict[str, Any]]:
    """The scenario and meta of an unfinished staffing folder (ValueError if it is not)."""
    if not (partial / SCENARIO).exists() or not (partial / META).exists():
        raise ValueError(f"{partial} is not an unfinished staffing run (no {SCENARIO}/{META})")
    meta = json.loads((partial / META).read_text())
    if meta.get("kind") != "staffing":
        raise ValueError(f"{partial} is not a staffing run")
    if (partial / "summary.json").exists():
        raise ValueError(f"{partial} is a finished staffing run: there is nothing to resume")
    return validate_data(json.loads((partial / SCENARIO).read_text())), meta


def run_in_folder(
    sc: Scenario, partial: Path, meta: dict[str, Any], executor: Executor, progress: bool
) -> tuple[Path, SearchResult]:
    """Search, verify and write into the unfinished folder, then move it into place."""
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(desc="staffing: replications", unit="rep", leave=False)
    try:
        with StopRequests() as stop:
            runner = Runner(executor, BatchStore(partial), bar, stop)
            search = Search(sc, runner)
            result = verify(search, search.run())
    finally:
        if bar is not None:
            bar.close()
    meta = {
        **meta,
        "replications_simulated": runner.simulated,
        "replications_reused": runner.reused,
    }
    write_outputs(result, partial, meta)
    if meta.get("parquet"):
        write_parquet_copies(partial)
    write_json(partial / META, meta)
    shutil.rmtree(partial / BATCHES, ignore_errors=True)
    final = partial.parent / meta["final_name"]
    os.replace(partial, final)
    return final, result
