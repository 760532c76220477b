"""dask.distributed through the same executor interface: identical numbers to local runs.
The cluster is a LocalCluster on the loopback interface only."""

from __future__ import annotations

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
    finally:
        dask.close()
    for name in ("kpis_by_replication.csv", "comparison.csv", "summary.csv"):
        assert (local / name).read_text() == (remote / name).read_text(), name
