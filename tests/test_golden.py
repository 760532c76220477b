"""Golden fingerprint: bit-identical results of the shipped forms.

Each case runs one short replication (one reporting week, fixed seed and replication
number) and hashes every record column (requests, calls, rides, every staffed pool's log)
and every KPI. The hashes are compared with ``tests/reference/golden_fingerprint.json``.

A change meant to keep results (a refactoring, a speed-up) must leave every hash as it is.
A change meant to alter results regenerates the reference in its own commit and says why:

    python tests/test_golden.py --update

The reference is computed from the plain Python source of the model (``--update`` runs it
so). Where the installation compiled the core (``sim.model._core``), the cases run here in
the compiled build, and one more test runs them from the source in a fresh process: both
must match the reference to the bit.

Unlike the statistical ``check`` gate, this test also catches a change that only reshuffles
random numbers (for example a reordered random-number row), which ``check`` would accept.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

REFERENCE = ROOT / "tests" / "reference" / "golden_fingerprint.json"
SEED = 20270104
REPLICATION = 1
# (case name, scenario file, --set overrides)
CASES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("separate", "groningen_separate.yaml", ()),
    ("colocated", "groningen_colocated.yaml", ()),
    ("coordination_centre", "groningen_coordination_centre.yaml", ()),
    ("central", "groningen_central.yaml", ()),
    ("separate_handover", "groningen_separate.yaml", ("behaviour.shift_change=handover",)),
    ("zone_free", "groningen_zone_free.yaml", ()),
)


def _digest(values: Any) -> str:
    """A hash of the values of a column: integers are hashed as 64-bit and reals as 64-bit
    floats whatever width the model stores them in, so that storing a column more compactly
    (a refactoring) keeps its hash while any change of a value does not."""
    array = np.asarray(values)
    if array.dtype.kind in "iu":
        array = array.astype(np.int64)
    elif array.dtype.kind == "f":
        array = array.astype(np.float64)
    array = np.ascontiguousarray(array)
    h = hashlib.sha256(f"{array.dtype.str}{array.shape}".encode())
    h.update(array.tobytes())
    return h.hexdigest()[:20]


def fingerprint_of(records: Any, kpis: dict[str, float]) -> dict[str, str]:
    """One short hash per record column and pool log, and one over every KPI value."""
    out: dict[str, str] = {}
    for table_name in ("requests", "calls", "rides"):
        table = getattr(records, table_name)
        for column in sorted(table):
            out[f"{table_name}.{column}"] = _digest(table[column])
    for pool in sorted(records.monitors):
        monitor = records.monitors[pool]
        for column in ("busy_min", "present_min", "waiting_min"):
            out[f"pool.{pool}.{column}"] = _digest(getattr(monitor, column))
        out[f"pool.{pool}.totals"] = _digest(
            np.array([float(monitor.n_claims), float(monitor.total_wait)])
        )
    kpi_text = "\n".join(f"{name}={float(kpis[name]).hex()}" for name in sorted(kpis))
    out["kpis"] = hashlib.sha256(kpi_text.encode()).hexdigest()[:20]
    return out


def compute(case: tuple[str, str, tuple[str, ...]]) -> dict[str, str]:
    """Run one case and return its fingerprint."""
    from sim.experiments.replicate import run_replication
    from sim.scenario import load_scenario

    _, file_name, overrides = case
    sc = load_scenario(ROOT / "scenarios" / file_name, ("run.weeks=1", *overrides))
    result = run_replication(sc, REPLICATION, SEED)
    return fingerprint_of(result.records, result.kpis)


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_results_are_bit_identical_to_the_reference(case: tuple[str, str, tuple[str, ...]]) -> None:
    reference = json.loads(REFERENCE.read_text())[case[0]]
    measured = compute(case)
    changed = sorted(
        k for k in reference.keys() | measured.keys() if reference.get(k) != measured.get(k)
    )
    assert not changed, (
        f"{len(changed)} fingerprint entries changed for '{case[0]}' (first ones: {changed[:8]}); "
        "if the change of results is intended, regenerate with: "
        "python tests/test_golden.py --update"
    )


def test_the_plain_source_gives_the_same_fingerprint() -> None:
    """The compiled core and the plain source agree to the bit (the source is the reference)."""
    from sim.model import _core

    if _core.BUILD != "compiled":
        pytest.skip(f"the core runs from its source here ({_core.BUILD}): the tests above cover it")
    env = {**os.environ, _core.PURE_ENV: "1"}
    out = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--print"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    printed = json.loads(out.stdout)
    assert printed["build"].startswith("source"), printed["build"]
    reference = json.loads(REFERENCE.read_text())
    changed = sorted(
        f"{case}: {key}"
        for case in reference
        for key in reference[case].keys() | printed["cases"][case].keys()
        if reference[case].get(key) != printed["cases"][case].get(key)
    )
    assert not changed, f"the plain source differs from the reference: {changed[:8]}"


def _update() -> None:
    data = {case[0]: compute(case) for case in CASES}
    REFERENCE.parent.mkdir(parents=True, exist_ok=True)
    REFERENCE.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {REFERENCE.relative_to(ROOT)}: {len(data)} cases")


if __name__ == "__main__":
    if sys.argv[1:] not in (["--update"], ["--print"]):
        sys.exit("usage: python tests/test_golden.py --update | --print")
    if sys.argv[1] == "--update":
        os.environ["AFTERHOURS_PURE_PYTHON"] = "1"  # the reference is the plain source's
        _update()
    else:
        from sim.model import _core

        cases = {case[0]: compute(case) for case in CASES}
        print(json.dumps({"build": _core.BUILD, "cases": cases}))
