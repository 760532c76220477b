"""The plain-text summary printed in the terminal after a run."""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any

from sim.report.formatting import (
    SECTION_ORDER,
    format_difference,
    format_terse,
    section_of,
    unit_label,
)

CELL_WIDTH = 24
LABEL_WIDTH = 70


def text_summary(rows: list[dict[str, Any]], comparison: list[dict[str, Any]], title: str) -> str:
    """Terminal summary: the first scenario's mean [95 % CI]; for the others, the mean and
    (in brackets) the paired difference to the first."""
    scenarios = list(dict.fromkeys(r["scenario"] for r in rows))
    kpis: dict[str, dict[str, Any]] = {}
    for r in rows:
        kpis.setdefault(r["kpi"], {"label": r["label"], "unit": r["unit"]})[r["scenario"]] = r
    diffs = {(c["kpi"], c["scenario"]): c for c in comparison}
    lines = [title]
    header = f"  {'':<{LABEL_WIDTH}}{'unit':>12}" + "".join(
        f"{s[-CELL_WIDTH + 1 :]:>{CELL_WIDTH}}" for s in scenarios
    )
    ordered = sorted(kpis.items(), key=lambda item: SECTION_ORDER.index(section_of(item[0])))
    current = None
    for name, info in ordered:
        section = section_of(name)
        if section != current:
            lines.append(section)
            lines.append(header)
            current = section
        unit = info["unit"]
        cells = [
            _cell(name, info.get(s), i == 0, unit, diffs.get((name, s)))
            for i, s in enumerate(scenarios)
        ]
        label = f"  {info['label'][:LABEL_WIDTH]:<{LABEL_WIDTH}}{unit_label(unit)[:11]:>12}"
        lines.append(label + "".join(cells))
    return "\n".join(lines)


def _cell(
    name: str, row: dict[str, Any] | None, first: bool, unit: str, diff: dict[str, Any] | None
) -> str:
    """The first scenario's mean with its interval; a later one's mean with the difference."""
    if row is None:
        return f"{'-':>{CELL_WIDTH}}"
    cell = format_terse(row["mean"], unit)
    if first:
        if not (math.isnan(row["ci_low"]) or math.isnan(row["ci_high"])):
            cell += f" [{format_terse(row['ci_low'], unit)}, {format_terse(row['ci_high'], unit)}]"
    elif diff is not None and not math.isnan(diff["difference"]):
        sign = "+" if diff["difference"] >= 0 else "-"
        cell += f" ({sign}{format_terse(abs(diff['difference']), unit)})"
    return f"{cell:>{CELL_WIDTH}}"


def explain_text(path: Path) -> str:
    """The explanation table (``explain.csv``) for the terminal: per headline figure and
    form, the total difference to today and what structure and each assumption add."""
    with path.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    steps = list(dict.fromkeys(r["step"] for r in rows))
    lines = [
        "Where the differences come from (paired mean difference to today; structure = the "
        "form with today's triage, call durations and patience)",
        f"  {'figure':<44}{'form':<32}{'total':>12}" + "".join(f"{s:>18}" for s in steps),
    ]
    groups: dict[tuple[str, str], dict[str, dict[str, str]]] = {}
    for r in rows:
        groups.setdefault((r["label"], r["form"]), {})[r["step"]] = r
    for (label, form), by_step in groups.items():
        unit = next(iter(by_step.values()))["unit"]
        total = _signed(next(iter(by_step.values()))["total"], unit)
        cells = "".join(f"{_signed(by_step[s]['difference'], unit):>18}" for s in steps)
        lines.append(f"  {label[:43]:<44}{form[:31]:<32}{total:>12}" + cells)
    return "\n".join(lines)


def _signed(text: str, unit: str) -> str:
    value = float(text) if text else math.nan
    return format_difference(value, math.nan, math.nan, unit)
