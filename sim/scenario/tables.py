"""Tables a scenario names in files of their own: a region's drive times.

``geography.drive_minutes_file: drive_times.csv`` (a path relative to the scenario file that
names it) holds expected drive minutes between named places, one pair per row, with the
header ``from,to,minutes``. The loader reads it into ``geography.drive_minutes`` before
validation; entries written in the scenario itself win over the file's. A problem in the
file is reported at its line, as for the scenario.
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path
from typing import Any

from sim.scenario.problems import Location, Positions, Problem
from sim.scenario.source import read_text

FILE_FIELD = ("geography", "drive_minutes_file")
HEADER = ["from", "to", "minutes"]


def inline_drive_minutes(
    data: dict[str, Any], positions: Positions, problems: list[Problem]
) -> None:
    """Read ``geography.drive_minutes_file`` into ``geography.drive_minutes`` (in place)."""
    geo = data.get("geography")
    if not isinstance(geo, dict) or "drive_minutes_file" not in geo:
        return
    name = geo.pop("drive_minutes_file")
    loc = positions.find(FILE_FIELD)
    field = ".".join(FILE_FIELD)
    if not isinstance(name, str) or not name.lower().endswith(".csv"):
        problems.append(
            Problem(loc, field, "a .csv file name, relative to the scenario file that names it")
        )
        return
    here = Path(loc.file).parent if loc.line > 0 else Path.cwd()
    path = here / name
    text = read_text(path, problems)
    if text is None:
        return
    rows = _rows(text, str(path), positions, problems)
    own = geo.get("drive_minutes")
    merged: dict[str, dict[str, Any]] = {}
    for a, b, minutes in rows:
        merged.setdefault(a, {})[b] = minutes
    if isinstance(own, dict):
        for a, targets in own.items():
            if isinstance(targets, dict):
                merged.setdefault(a, {}).update(targets)
            else:
                merged[a] = targets
    geo["drive_minutes"] = merged


def _rows(
    text: str, name: str, positions: Positions, problems: list[Problem]
) -> list[tuple[str, str, float]]:
    """The (from, to, minutes) rows of a drive-time file; bad rows become problems."""
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None or [h.strip().lower() for h in header] != HEADER:
        problems.append(
            Problem(
                Location(name, 1, 1), "", f"the first line must be the header {','.join(HEADER)}"
            )
        )
        return []
    out = []
    for row in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        at = Location(name, line, 1)
        if len(row) != 3:
            problems.append(Problem(at, "", f"a row has 3 cells (from,to,minutes), not {len(row)}"))
            continue
        a, b, raw = (cell.strip() for cell in row)
        path = ("geography", "drive_minutes", a, b)
        try:
            minutes = float(raw)
        except ValueError:
            minutes = math.nan
        if not math.isfinite(minutes) or not 0.0 <= minutes <= 10_080.0:
            message = f"minutes must be a number from 0 to 10080 (a week), not '{raw}'"
            problems.append(Problem(at, ".".join(path), message))
            continue
        positions.set(path, at)
        out.append((a, b, minutes))
    return out
