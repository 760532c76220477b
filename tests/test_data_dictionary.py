"""Every column of every table a run writes is explained in results/README.md's data
dictionary, under the section of its file."""

from __future__ import annotations

import csv
import gzip
import json
import re
from pathlib import Path

import pytest

from helpers import SCENARIOS, data_dictionary, run_sim

pytestmark = pytest.mark.slow

SMALL = ["--weeks", "1", "--no-progress"]
SEPARATE, CENTRAL = (
    str(SCENARIOS / "groningen_separate.yaml"),
    str(SCENARIOS / "groningen_central.yaml"),
)
STAFF = ["--set", "staffing.replications=2", "--set", "staffing.verify_replications=2"]


def _header(path: Path) -> list[str]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8", newline="") as fh:  # type: ignore[operator]
        return next(csv.reader(fh))


def _column(path: Path, name: str) -> set[str]:
    with open(path, encoding="utf-8", newline="") as fh:
        return {row[name] for row in csv.DictReader(fh)}


def _runs(out: Path) -> list[Path]:
    """Small runs of every kind that writes tables; their finished folders."""
    sweep = str(SCENARIOS / "sweeps" / "caller_patience.yaml")
    commands = [
        ["run", SEPARATE, *SMALL, "--replications", "1"],
        ["compare", SEPARATE, CENTRAL, "--explain", *SMALL, "--replications", "2"],
        ["sweep", sweep, *SMALL, "--replications", "2"],
        ["uncertainty", SEPARATE, CENTRAL, "--draws", "8", "--replications", "2",
         "--one-at-a-time", "1", "--set", "region.population=80000", *SMALL],
        ["staffing", CENTRAL, "--services", *STAFF, *SMALL],
        ["staffing", "--compare", SEPARATE, CENTRAL, "--searches", "2", *STAFF, *SMALL],
    ]  # fmt: skip
    folders = []
    for i, command in enumerate(commands):
        target = out / str(i)
        result = run_sim(*command, "--out", str(target), "--workers", "2")
        assert result.returncode in (0, 1), (command, result.stderr)
        folders += [p for p in target.iterdir() if not p.name.startswith(".")]
    return folders


def test_every_column_written_is_in_the_data_dictionary(tmp_path: Path) -> None:
    sections = data_dictionary()
    seen: set[str] = set()
    for folder in _runs(tmp_path):
        for path in sorted(folder.rglob("*.csv*")):
            name = path.name
            if re.match(r"(requests|calls|rides)_.*\.csv\.gz$", name):
                name = name.split("_", 1)[0] + ".csv.gz"
            assert name in sections, f"{name} has no section in results/README.md"
            seen.add(name)
            known = sections[name]
            columns = _header(path)
            if name == "kpis_by_replication.csv":
                kpis = _column(path.parent / "summary.csv", "kpi")
                columns = [c for c in columns if c not in kpis]
            if name in ("sweep_tidy.csv", "sweep_summary.csv"):
                meta = json.loads((path.parent / "meta.json").read_text(encoding="utf-8"))
                columns = [c for c in columns if c not in meta["sweep"]["fields"]]
            if name == "uncertainty_inputs.csv":
                meta = json.loads((path.parent / "meta.json").read_text(encoding="utf-8"))
                columns = [c for c in columns if c not in meta["uncertainty"]["inputs"]]
            if name == "staffing_compare_tidy.csv":
                figures = _column(path.parent / "staffing_compare.csv", "figure")
                columns = [c for c in columns if c not in figures]
            # a documented name with <...> in it stands for a family of columns
            families = [
                re.compile(re.sub(r"<[^>]+>", "[A-Za-z0-9]+", re.escape(k)) + "$")
                for k in known
                if "<" in k
            ]
            missing = [
                c for c in columns if c not in known and not any(f.match(c) for f in families)
            ]
            assert not missing, f"{path.relative_to(tmp_path)}: not explained: {missing}"
    # every kind of table was seen, so the test checks what it claims to
    for name in ("requests.csv.gz", "explain.csv", "sweep_summary.csv", "sensitivity.csv",
                 "thresholds.csv", "norms.csv", "staffing_compare.csv"):  # fmt: skip
        assert name in seen, name
