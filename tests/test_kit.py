"""The researcher's kit: licence, citation, changelog, version and the ways to start the
program."""

from __future__ import annotations

import subprocess
import sys

import yaml

import sim
from helpers import ROOT, run_sim


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
