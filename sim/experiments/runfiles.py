"""Run files: folders that appear only when complete, run metadata, tables and records.

A run is written into a hidden temporary folder next to its destination and renamed into
place when every file is written, so an interrupted run never leaves a half-written result
and never overwrites an earlier one.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import json
import math
import os
import platform
import re
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import IO, Any

import numpy as np

from sim import __version__
from sim.codes import (
    AMBULANCE_PRIORITY_NAMES,
    CALL_KIND_NAMES,
    CHANNEL_NAMES,
    DESK_NAMES,
    OUTCOME_NAMES,
    TRIAGE_DIRECTION_NAMES,
)
from sim.paths import REPO_ROOT
from sim.scenario.schema import Scenario


def slug(text: str) -> str:
    """A name safe for a folder or file name."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-") or "run"


class RunFolder:
    """A results folder written under a temporary name and renamed into place when done.

    The unfinished folder is created at once and atomically: two runs that start in the
    same second into the same parent get different names (``-2``, ``-3``, ...)."""

    def __init__(self, parent: Path, name: str):
        parent.mkdir(parents=True, exist_ok=True)
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        n = 1
        while True:
            suffix = "" if n == 1 else f"-{n}"
            final = parent / f"{stamp}_{slug(name)}{suffix}"
            tmp = parent / f".{final.name}.partial"
            if not final.exists():
                try:
                    tmp.mkdir()
                except FileExistsError:
                    pass
                else:
                    break
            n += 1
        self.final = final
        self.tmp = tmp


def git_commit() -> str | None:
    """The checkout's commit (with ``-dirty`` if tracked files changed), if known."""
    root = REPO_ROOT
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=5
        )
        if out.returncode != 0:
            return None
        commit = out.stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=5,
        )
        return commit + ("-dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return None


def package_versions() -> dict[str, str]:
    """Versions of Python, this package and the packages that shape results."""
    out = {"python": platform.python_version(), "afterhours-sim": __version__}
    for pkg in ("simpy", "numpy", "scipy", "pydantic", "PyYAML", "matplotlib"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def code_metadata() -> dict[str, Any]:
    """What a run folder records about the code and the call that made it."""
    return {
        "package_version": __version__,
        "versions": package_versions(),
        "git_commit": git_commit(),
        "command_line": sys.argv,
        "created": dt.datetime.now().isoformat(timespec="seconds"),
    }


def json_safe(value: Any) -> Any:
    """Data ready for JSON: non-finite floats become null, numpy scalars plain numbers."""
    cls = type(value)
    if cls is float:
        return value if math.isfinite(value) else None
    if cls is dict:
        return {k: json_safe(v) for k, v in value.items()}
    if (cls is list or cls is tuple) and all(type(v) is float for v in value):
        # a column of plain numbers (a histogram, a profile): no call per value
        return [v if math.isfinite(v) else None for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, np.generic):
        return json_safe(value.item())
    return value


class Terminated(KeyboardInterrupt):
    """SIGTERM, turned into an interrupt so that it takes the same path as Ctrl-C."""


class WriteFailed(Exception):
    """A file of a run could not be written (disk full, no permission, read-only): the
    path and the system's reason. Nothing half-written is left under the file's name."""

    def __init__(self, path: str | Path, reason: str):
        super().__init__(str(path), reason)
        self.path = str(path)
        self.reason = reason

    def __str__(self) -> str:
        return f"cannot write {self.path}: {self.reason}"


@contextmanager
def atomic_open(path: Path, mode: str = "w", **kwargs: Any) -> Iterator[IO[Any]]:
    """Open ``path`` for writing so that it appears whole or not at all: the data go to a
    temporary file next to it, which is flushed to disk and then renamed over ``path``.
    A failure (disk full, no permission) removes the temporary file and raises WriteFailed."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, mode, **kwargs) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise WriteFailed(path, exc.strerror or str(exc)) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def json_text(data: Any, indent: int | None = None) -> str:
    """Data as the text of a JSON file (non-finite numbers become null)."""
    return json.dumps(json_safe(data), indent=indent, sort_keys=False) + "\n"


def write_text(path: Path, text: str) -> None:
    """Write a text file atomically."""
    with atomic_open(path, "w", encoding="utf-8") as fh:
        fh.write(text)


def write_json(path: Path, data: Any, indent: int | None = 2) -> None:
    """Write data as JSON, atomically (non-finite numbers become null)."""
    write_text(path, json_text(data, indent))


def number_or_nan(value: Any) -> float:
    """A number read back from JSON, where null stands for nan (undefined)."""
    return math.nan if value is None else float(value)


def csv_cell(value: Any) -> Any:
    """A value for a CSV cell: nan (did not happen, undefined) becomes empty."""
    return "" if isinstance(value, float) and math.isnan(value) else value


def write_csv(path: Path, rows: list[dict[str, Any]], fields: Sequence[str] | None = None) -> None:
    """Write rows (dicts) as a CSV table, atomically; ``fields`` names the columns of an
    empty table."""
    names = list(rows[0]) if rows else list(fields or ())
    with atomic_open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(names)
        known = set(names)
        for row in rows:  # like csv.DictWriter: a missing column is empty, an unknown one wrong
            if not row.keys() <= known:
                raise ValueError(f"{path.name}: columns {sorted(row.keys() - known)} unknown")
            writer.writerow([csv_cell(row.get(k, "")) for k in names])


def _write_csv_gz(path: Path, columns: dict[str, np.ndarray | list[Any]]) -> None:
    names = list(columns)
    n = len(next(iter(columns.values()))) if columns else 0
    with (
        atomic_open(path, "wb") as raw,
        gzip.open(raw, "wt", encoding="utf-8", newline="", compresslevel=6) as fh,
    ):
        writer = csv.writer(fh)
        writer.writerow(names)
        cols = [np.asarray(columns[k]).tolist() for k in names]
        for i in range(n):
            writer.writerow([csv_cell(c[i]) for c in cols])


def write_request_records(
    path: Path, sc: Scenario, requests: dict[str, np.ndarray], reported: np.ndarray
) -> None:
    """Write the request records with categories decoded to names (gzipped CSV)."""
    need_names = np.array(list(sc.needs), dtype=object)
    groups = np.array(list(sc.demand.groups), dtype=object)
    services = np.array(list(sc.services), dtype=object)
    desks = np.array(DESK_NAMES + ("",), dtype=object)
    cols: dict[str, Any] = {}
    for name, values in requests.items():
        if name == "need":
            cols["need"] = need_names[values]
        elif name == "first_assigned":
            cols["first_assigned"] = np.where(values >= 0, need_names[np.maximum(values, 0)], "")
        elif name == "group":
            cols["group"] = groups[values]
        elif name == "channel":
            cols["channel"] = np.array(CHANNEL_NAMES, dtype=object)[values]
        elif name == "first_desk":
            cols["first_desk"] = desks[values]
        elif name == "care_service":
            cols["care_service"] = np.where(values >= 0, services[np.maximum(values, 0)], "")
        elif name == "outcome":
            cols["outcome"] = np.array(OUTCOME_NAMES, dtype=object)[values]
        elif name in ("mistriage", "misrouted_triage"):
            cols[name] = np.array(TRIAGE_DIRECTION_NAMES, dtype=object)[values]
        else:
            cols[name] = values
        if name == "arrival_min":
            cols["arrival_time"], cols["day_type"] = _calendar_columns(sc, values)
            cols["reported"] = reported
    _write_csv_gz(path, cols)


def _calendar_columns(sc: Scenario, arrival_min: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each arrival's calendar date-time (to the second) and its day's type."""
    start = np.datetime64(sc.calendar.start_date, "s")
    seconds = np.round(np.asarray(arrival_min, dtype=float) * 60.0).astype("timedelta64[s]")
    stamps = np.datetime_as_string(start + seconds, unit="s")
    day = (np.asarray(arrival_min, dtype=float) // 1440.0).astype(np.int64)
    n_days = int(day.max()) + 1 if len(day) else 0
    special = sc.calendar.day_type_of()
    first = sc.calendar.start_date
    kinds = np.array(
        [special.get(first + dt.timedelta(days=d), "ordinary") for d in range(n_days)],
        dtype=object,
    )
    return stamps.astype(object), kinds[day] if n_days else np.zeros(0, dtype=object)


def write_call_records(path: Path, calls: dict[str, np.ndarray]) -> None:
    """Write the call records with desk and kind decoded to names (gzipped CSV)."""
    cols: dict[str, Any] = dict(calls)
    cols["desk"] = np.array(DESK_NAMES, dtype=object)[calls["desk"]]
    cols["kind"] = np.array(CALL_KIND_NAMES, dtype=object)[calls["kind"]]
    _write_csv_gz(path, cols)


def write_ride_records(path: Path, rides: dict[str, np.ndarray]) -> None:
    """Write the ride records with the priority decoded to A1/A2/B (gzipped CSV)."""
    cols: dict[str, Any] = dict(rides)
    cols["priority"] = np.array(AMBULANCE_PRIORITY_NAMES, dtype=object)[rides["priority"]]
    _write_csv_gz(path, cols)


def relative(path: Path) -> str:
    """A path relative to the working folder where possible (for messages)."""
    try:
        return os.path.relpath(path)
    except ValueError:
        return str(path)


#: The package that writes Parquet files (the optional extra ``parquet``).
PARQUET_ENGINE = "pyarrow"


def parquet_problem() -> str | None:
    """Why Parquet files cannot be written here, if they cannot."""
    import importlib.util

    if importlib.util.find_spec(PARQUET_ENGINE) is None:
        return (
            "Parquet output needs pyarrow: pip install -e '.[parquet]' "
            "(or pip install 'afterhours-sim[parquet]')"
        )
    return None


def write_parquet_copies(folder: Path) -> list[Path]:
    """A Parquet copy of every table (``*.csv``) and record file (``*.csv.gz``) in the
    folder, beside it under the same name (``summary.parquet``, ``requests.parquet``), each
    written whole or not at all. The columns and their meaning are the CSV file's."""
    import pandas as pd

    written = []
    for path in sorted([*folder.glob("*.csv"), *folder.glob("*.csv.gz")]):
        stem = path.name.removesuffix(".gz").removesuffix(".csv")
        target = folder / f"{stem}.parquet"
        try:
            table = pd.read_csv(path, keep_default_na=False, na_values=[""])
        except pd.errors.EmptyDataError:
            table = pd.DataFrame()
        part = target.with_name(f".{target.name}.part")
        try:
            table.to_parquet(part, engine=PARQUET_ENGINE, index=False)
            os.replace(part, target)
        except OSError as exc:
            part.unlink(missing_ok=True)
            raise WriteFailed(target, exc.strerror or str(exc)) from None
        written.append(target)
    return written
