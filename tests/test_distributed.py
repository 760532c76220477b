"""dask.distributed through the same executor interface: identical numbers to local runs.
The cluster is a LocalCluster on the loopback interface only."""

from __future__ import annotations

import operator
from pathlib import Path

import pytest

from helpers import scenario
from sim.experiments.executors import DaskExecutor, LocalExecutor
from sim.experiments.study import StudyPlan, start

pytest.importorskip("dask.distributed")


@pytest.mark.slow
def test_local_cluster_gives_the_same_numbers_as_the_process_pool(tmp_path: Path) -> None:
    scs = [
        scenario({"name": f, "organisation": f, "run": {"weeks": 1, "warmup_days": 1}})
        for f in ("separate", "central")
    ]

    def plan() -> StudyPlan:
        return StudyPlan(name="d", scenarios=scs, sources=["t", "t"], base_seed=5, replications=3)

    local = start(plan(), tmp_path / "local", LocalExecutor(2), progress=False)
    dask = DaskExecutor("local", workers=2)
    try:
        assert dask.workers == 2
        remote = start(plan(), tmp_path / "dask", dask, progress=False)
        # many jobs travel in batches; every job's result still comes back under its index
        batched = dict(dask.run(operator.mul, [(i, i + 1) for i in range(40)]))
        assert batched == {i: i * (i + 1) for i in range(40)}
    finally:
        dask.close()
    for name in ("kpis_by_replication.csv", "comparison.csv", "summary.csv"):
        assert (local / name).read_text() == (remote / name).read_text(), name


def test_dask_tasks_carry_batches_of_a_few_jobs() -> None:
    from sim.experiments.executors import MAX_BATCH, batch_size, run_batch

    assert batch_size(6, 2) == 1  # few jobs: one a task, to keep both workers busy
    assert batch_size(40, 2) == 5  # about four tasks a worker
    assert batch_size(10_000, 2) == MAX_BATCH  # capped, so that results keep arriving
    assert run_batch(operator.add, [(1, 2), (3, 4)]) == [3, 7]
