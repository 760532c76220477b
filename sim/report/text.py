"""The plain-text summary printed in the terminal after a run."""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any

from sim.report.formatting import (
    SECTION_ORDER,
    cell_number,
    format_difference,
    format_terse,
    section_of,
    short_label,
    unit_label,
)

#: The terminal summary fits this many columns (labels and units are never cut: a long
#: label has a line of its own and values wrap onto further lines).
WIDTH = 100


def text_summary(
    rows: list[dict[str, Any]],
    comparison: list[dict[str, Any]],
    title: str,
    directions: dict[str, str] | None = None,
    headline: list[str] | None = None,
) -> str:
    """Terminal summary within 100 columns: first, per later scenario, a plain verdict on
    each headline figure (better, worse, or no difference the replications can detect, by
    the paired 95 % interval); then every KPI, the first scenario's mean [95 % CI] and the
    others' means with the paired difference to the first in brackets."""
    scenarios = list(dict.fromkeys(r["scenario"] for r in rows))
    kpis: dict[str, dict[str, Any]] = {}
    for r in rows:
        kpis.setdefault(r["kpi"], {"label": r["label"], "unit": r["unit"]})[r["scenario"]] = r
    diffs = {(c["kpi"], c["scenario"]): c for c in comparison}
    lines = _wrap(title, WIDTH)
    if len(scenarios) > 1 and headline:
        lines += _verdicts(scenarios, kpis, diffs, directions or {}, headline)
    letters = {s: chr(ord("A") + i) for i, s in enumerate(scenarios)}
    if len(scenarios) > 1:
        lines.append("")
        lines += _wrap("Scenarios: " + "; ".join(f"{letters[s]} = {s}" for s in scenarios), WIDTH)
    ordered = sorted(kpis.items(), key=lambda item: SECTION_ORDER.index(section_of(item[0])))
    current = None
    for name, info in ordered:
        section = section_of(name)
        if section != current:
            lines.append(section)
            current = section
        unit = info["unit"]
        lines += _wrap(f"{info['label']} ({unit_label(unit)})", WIDTH, "  ")
        cells = [
            (f"{letters[s]} " if len(scenarios) > 1 else "")
            + _cell(info.get(s), i == 0, unit, diffs.get((name, s)))
            for i, s in enumerate(scenarios)
        ]
        lines += _pack(cells, WIDTH, "      ")
    return "\n".join(lines)


def _verdicts(
    scenarios: list[str],
    kpis: dict[str, dict[str, Any]],
    diffs: dict[tuple[str, str], dict[str, Any]],
    directions: dict[str, str],
    headline: list[str],
) -> list[str]:
    lines = []
    for s in scenarios[1:]:
        lines.append(f"\n{s} against {scenarios[0]}")
        for name in headline:
            c = diffs.get((name, s))
            if c is None or name not in kpis or math.isnan(cell_number(c["difference"])):
                continue
            d, lo, hi = (cell_number(c[k]) for k in ("difference", "diff_ci_low", "diff_ci_high"))
            better = directions.get(name, "")
            if math.isnan(lo) or lo <= 0 <= hi or not better:
                verdict = "no diff" if better else ""
            else:
                verdict = "better" if (d < 0) == (better == "lower") else "worse"
            unit = kpis[name]["unit"]
            label = short_label(name, kpis[name]["label"])
            text = format_difference(d, lo, hi, unit)
            if unit not in ("share", "min"):
                text += f" {unit}"
            lines.append(f"  {label:<36} {verdict:<8} {text}")
    return lines


def _wrap(text: str, width: int, indent: str = "") -> list[str]:
    """Words onto lines of at most ``width`` columns (a word longer than that stays whole)."""
    lines, line = [], indent
    for word in text.split():
        if len(line) + len(word) + 1 > width and line.strip():
            lines.append(line.rstrip())
            line = indent + "  "
        line += word + " "
    lines.append(line.rstrip())
    return lines


def _pack(cells: list[str], width: int, indent: str) -> list[str]:
    """Cells onto lines of at most ``width`` columns, three spaces apart."""
    lines, line = [], indent
    for cell in cells:
        if len(line) + len(cell) + 3 > width and line.strip():
            lines.append(line.rstrip())
            line = indent
        line += cell + "   "
    lines.append(line.rstrip())
    return lines


def _cell(row: dict[str, Any] | None, first: bool, unit: str, diff: dict[str, Any] | None) -> str:
    """The first scenario's mean with its interval; a later one's mean with the difference."""
    if row is None:
        return "-"
    cell = format_terse(row["mean"], unit)
    if first:
        if not (math.isnan(row["ci_low"]) or math.isnan(row["ci_high"])):
            cell += f" [{format_terse(row['ci_low'], unit)}, {format_terse(row['ci_high'], unit)}]"
    elif diff is not None and not math.isnan(diff["difference"]):
        sign = "+" if diff["difference"] >= 0 else "-"
        cell += f" ({sign}{format_terse(abs(diff['difference']), unit)})"
    return cell


def explain_text(path: Path) -> str:
    """The explanation table (``explain.csv``) for the terminal, within 100 columns: per
    form and headline figure, the total difference to today and what structure and each
    assumption add."""
    with path.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    steps = list(dict.fromkeys(r["step"] for r in rows))
    lines = _wrap(
        "Where the differences come from (paired mean difference to today; structure = the "
        "form with today's triage, call durations and patience)",
        WIDTH,
    )
    groups: dict[tuple[str, str], dict[str, dict[str, str]]] = {}
    for r in rows:
        groups.setdefault((r["form"], r["kpi"]), {})[r["step"]] = r
    form = None
    for (f, kpi), by_step in groups.items():
        if f != form:
            lines.append(f"  {f}")
            form = f
        first = next(iter(by_step.values()))
        unit = first["unit"]
        label = short_label(kpi, first["label"])
        lines.append(f"    {label:<36} total {_signed(first['total'], unit)}")
        cells = [f"{s} {_signed(by_step[s]['difference'], unit)}" for s in steps if s in by_step]
        lines += _pack(cells, WIDTH, "      ")
    return "\n".join(lines)


def _signed(text: str, unit: str) -> str:
    value = float(text) if text else math.nan
    return format_difference(value, math.nan, math.nan, unit)
