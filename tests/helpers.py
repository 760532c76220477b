"""Test helpers: scenarios built from the shipped Groningen base by small changes."""

from __future__ import annotations

import copy
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from sim.scenario import Scenario, load_raw, validate_data

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"
BASE = SCENARIOS / "groningen_base.yaml"

_BASE_DATA: dict[str, Any] | None = None


def base_data() -> dict[str, Any]:
    """A fresh copy of the merged, unvalidated Groningen base."""
    global _BASE_DATA
    if _BASE_DATA is None:
        _BASE_DATA = load_raw(BASE)
    return copy.deepcopy(_BASE_DATA)


def merge(data: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """Merge changes into data in place; a mapping with ``__replace__`` (or a duration)
    replaces the value whole."""
    for key, value in changes.items():
        atomic = isinstance(value, dict) and ("__replace__" in value or "dist" in value)
        if isinstance(value, dict) and isinstance(data.get(key), dict) and not atomic:
            merge(data[key], value)
        else:
            if isinstance(value, dict):
                value = {k: v for k, v in value.items() if k != "__replace__"}
            data[key] = value
    return data


def scenario(changes: dict[str, Any] | None = None, **top: Any) -> Scenario:
    """The Groningen base with changes merged in (provenance notes and uncertain inputs
    dropped: tests replace whole sections that they refer to)."""
    data = base_data()
    data.pop("provenance", None)
    data.pop("uncertainty", None)
    merge(data, changes or {})
    merge(data, top)
    return validate_data(data)


def all_parts(value: int) -> dict[str, int]:
    """A staffing table with the same number in every day part."""
    return {p: value for p in base_data()["calendar"]["day_parts"]}


def fixed(minutes: float) -> dict[str, Any]:
    """A fixed duration."""
    return {"dist": "fixed", "mean_min": minutes}


def run_sim(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """``python run_sim.py ARGS`` from the project folder, its output captured."""
    return subprocess.run(
        [sys.executable, "run_sim.py", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
    )


def data_dictionary(path: Path | None = None) -> dict[str, set[str]]:
    """Per file named in a data-dictionary section's heading (results/README.md, or the
    given Markdown file, from its "## Data dictionary" or "## Columns" heading on): every
    `name` written in that section."""
    text = (path or ROOT / "results" / "README.md").read_text(encoding="utf-8")
    marker = "## Data dictionary" if "## Data dictionary" in text else "## Columns"
    dictionary = text.split(marker, 1)[1]
    out: dict[str, set[str]] = {}
    for block in dictionary.split("\n### ")[1:]:
        heading, _, body = block.partition("\n")
        names = set(re.findall(r"`([^`]+)`", body))
        files = set(re.findall(r"`([^`]+\.csv(?:\.gz)?)`", heading + body))
        files |= set(re.findall(r"`(Results\.[a-z_]+)(?:\(\))?`", heading))
        for f in files:
            out.setdefault(f, set()).update(names)
    return out
