"""The researcher's kit: licence, citation, changelog, version and the ways to start the
program."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml

import sim
from helpers import ROOT, SCENARIOS, run_sim


def test_version_is_one_figure_everywhere() -> None:
    out = run_sim("--version")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == f"python run_sim.py {sim.__version__}"
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    assert str(cff["version"]) == sim.__version__
    assert f"## [{sim.__version__}]" in (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")


def test_python_m_sim_is_the_same_command_line_under_its_own_name() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "sim", "compare", "--weeks", "0"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 2
    assert "python -m sim compare: error: argument --weeks" in out.stderr
    assert "Traceback" not in out.stderr


def test_licence_and_citation_agree_with_the_package() -> None:
    licence = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert licence.startswith("MIT License")
    assert "Permission is hereby granted, free of charge" in licence
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert 'license = { text = "MIT" }' in pyproject
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    for key in ("cff-version", "message", "title", "authors", "version", "license"):
        assert cff.get(key), key
    assert cff["license"] == "MIT" and cff["type"] == "software"
    assert all("name" in a or "family-names" in a for a in cff["authors"])


def test_rerun_rebuilds_a_run_from_its_folder_alone(tmp_path: Path) -> None:
    # a scenario file that is gone by the time of the rerun: meta.json holds its content
    scenario = tmp_path / "mine.yaml"
    scenario.write_text(
        f"extends: {SCENARIOS / 'groningen_central.yaml'}\nname: mine\n", encoding="utf-8"
    )
    first_out, again_out = tmp_path / "first", tmp_path / "again"
    args = ["--weeks", "1", "--replications", "2", "--no-progress", "--out", str(first_out)]
    separate = str(SCENARIOS / "groningen_separate.yaml")
    out = run_sim("compare", separate, str(scenario), *args, "--workers", "2")
    assert out.returncode == 0, out.stderr
    scenario.unlink()
    (first,) = first_out.iterdir()
    # the run's STRESS-DES checklist, filled from what the folder records
    meta = json.loads((first / "meta.json").read_text(encoding="utf-8"))
    stress = (first / "stress_des.md").read_text(encoding="utf-8")
    for item in ("1.1 Purpose", "2.5.4 Queues", "4.2 Run length", "5.4 System", "6.1"):
        assert item in stress, item
    assert "`mine`: form `central`" in stress and "`groningen_separate`: form `separate`" in stress
    assert f"base seed {meta['seed']}" in stress and "1 reporting weeks" in stress
    assert "2 replications per scenario" in stress and str(meta["git_commit"]) in stress
    out = run_sim("rerun", str(first), "--workers", "1", "--no-progress", "--out", str(again_out))
    assert out.returncode == 0, out.stderr
    assert "Reproduced" in out.stdout
    (again,) = again_out.iterdir()
    for name in ("kpis_by_replication.csv", "summary.csv", "comparison.csv"):
        assert (first / name).read_bytes() == (again / name).read_bytes(), name
    # a number changed in the first folder is found
    table = first / "kpis_by_replication.csv"
    lines = table.read_text(encoding="utf-8").splitlines()
    cells = lines[1].split(",")
    cells[2] = "12345"
    table.write_text("\n".join([lines[0], ",".join(cells), *lines[2:]]) + "\n", encoding="utf-8")
    out = run_sim("rerun", str(first), "--no-progress", "--out", str(again_out))
    assert out.returncode == 1
    assert "NOT reproduced: kpis_by_replication.csv" in out.stderr


def test_rerun_refuses_what_it_cannot_rebuild(tmp_path: Path) -> None:
    out = run_sim("rerun", str(tmp_path / "nothing"))
    assert out.returncode == 2 and "no such folder" in out.stderr
    unfinished = tmp_path / ".20260101-000000_x.partial"
    unfinished.mkdir()
    out = run_sim("rerun", str(unfinished))
    assert out.returncode == 2 and "unfinished" in out.stderr
    (tmp_path / "plain").mkdir()
    out = run_sim("rerun", str(tmp_path / "plain"))
    assert out.returncode == 2 and "not a run folder" in out.stderr
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "meta.json").write_text('{"kind": "compare"', encoding="utf-8")
    out = run_sim("rerun", str(broken))
    assert out.returncode == 2 and "not valid JSON" in out.stderr
    assert "Traceback" not in out.stderr


def test_parquet_copies_hold_the_tables_and_records(tmp_path: Path) -> None:
    import pandas as pd

    result = run_sim(
        "compare", str(SCENARIOS / "groningen_separate.yaml"),
        str(SCENARIOS / "groningen_central.yaml"), "--weeks", "1", "--replications", "2",
        "--save-requests", "--parquet", "--out", str(tmp_path), "--no-progress",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    (folder,) = [p for p in tmp_path.iterdir() if not p.name.startswith(".")]
    assert json.loads((folder / "meta.json").read_text())["parquet"] is True
    sources = sorted([*folder.glob("*.csv"), *folder.glob("*.csv.gz")])
    assert any(p.name.startswith("requests_") for p in sources)
    for source in sources:
        copy = folder / (source.name.removesuffix(".gz").removesuffix(".csv") + ".parquet")
        expected = pd.read_csv(source, keep_default_na=False, na_values=[""])
        pd.testing.assert_frame_equal(pd.read_parquet(copy), expected)
    # the option is stored, so a resume may not give it again
    again = run_sim("compare", "--resume", str(folder), "--parquet")
    assert again.returncode == 2 and "remove --parquet" in again.stderr


def test_parquet_without_its_extra_is_refused_before_anything_runs(
    tmp_path: Path, monkeypatch: object
) -> None:
    import importlib.util

    from sim.cli import main
    from sim.experiments import runfiles

    real = importlib.util.find_spec
    monkeypatch.setattr(  # type: ignore[attr-defined]
        importlib.util, "find_spec", lambda name, *a: None if name == "pyarrow" else real(name, *a)
    )
    assert runfiles.parquet_problem() is not None
    code = main(["run", str(SCENARIOS / "groningen_separate.yaml"), "--weeks", "1",
                 "--parquet", "--out", str(tmp_path), "--no-progress"])  # fmt: skip
    assert code == 2 and not list(tmp_path.iterdir())
