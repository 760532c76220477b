"""``validate --targets``: a region's own published or measured figures, with bands, checked
in the same table as the built-in Dutch figures.

The file has one row per figure: ``key`` (a built-in figure's key, or any KPI name of the
scenario, e.g. ``care.A1.within_target_share``), ``low`` and ``high`` (the band, in the
figure's unit: shares as fractions 0-1, times in minutes), and optionally ``label``,
``unit`` and ``source``. Every problem is located by line and column before anything runs.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from sim.data.tables import DataProblem, column, line_of, numbers, read_csv
from sim.measures.kpis import registry
from sim.scenario.problems import did_you_mean
from sim.scenario.schema import Scenario
from sim.validation.published import TARGETS, YOUR_FIGURE, Target

#: Where a figure of the user's file says it came from when it names no source.
NO_SOURCE = "your file"


def valid_keys(sc: Scenario) -> dict[str, tuple[str, str]]:
    """Every figure a target may name: (label, unit) by key - the built-in figures, then
    every KPI of the scenario."""
    keys = {t.key: (t.label, t.unit) for t in TARGETS}
    for k in registry(sc):
        keys.setdefault(k.name, (k.label, k.unit))
    return keys


def read_targets(path: Path, sc: Scenario) -> tuple[Target, ...]:
    """The figures of a targets file (``DataProblem``, located, if one is wrong)."""
    table = read_csv(path)
    key_col = column(table, path, ("key", "kpi", "figure"), "the figure's key or KPI name")
    low = numbers(table, path, column(table, path, ("low",), "the band's low end"), -1e12, 1e12)
    high = numbers(table, path, column(table, path, ("high",), "the band's high end"), -1e12, 1e12)
    keys = valid_keys(sc)
    out = []
    for i, key in enumerate(table[key_col].str.strip()):
        line = line_of(table, i)
        if key not in keys:
            raise DataProblem(
                path,
                f"'{key}' is not a figure the model measures{did_you_mean(key, keys)}",
                line,
                key_col,
            )
        if low.iloc[i] > high.iloc[i]:
            raise DataProblem(path, "low is above high", line, "low")
        label, unit = keys[key]
        given = _cell(table, "unit", i)
        if given and given != unit:
            what = f"'{key}' is measured in {unit}; give the band in it (the unit column names it)"
            raise DataProblem(path, what, line, "unit")
        if unit == "share" and not 0.0 <= low.iloc[i] <= high.iloc[i] <= 1.0:
            raise DataProblem(path, "a share's band lies in 0-1 (80 % is 0.80)", line, "low")
        out.append(
            Target(
                key=key,
                label=_cell(table, "label", i) or label,
                low=float(low.iloc[i]),
                high=float(high.iloc[i]),
                unit=unit,
                source=_cell(table, "source", i) or NO_SOURCE,
                checks=YOUR_FIGURE,
            )
        )
    return tuple(out)


def _cell(table: pd.DataFrame, name: str, i: int) -> str:
    return str(table[name].iloc[i]).strip() if name in table.columns else ""
