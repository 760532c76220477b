"""Figures of a sweep: each headline KPI against each swept field, or a tornado chart for a
one-at-a-time sweep (how far each field moves the KPI from the base point)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from sim.experiments.comparison import Experiment
from sim.experiments.sweep import summary_rows
from sim.measures.kpis import Kpi
from sim.report.formatting import unit_label, unit_scale
from sim.report.style import BETTER_COLOUR, input_label, pyplot, save_svg_png


def write_sweep_figures(folder: Path, info: dict[str, Any], exp: Experiment) -> dict[str, str]:
    """One figure per headline KPI under ``folder/figures`` (SVG and 300-dpi PNG); returns
    each KPI's SVG for the report."""
    rows = summary_rows(info, exp)
    by_kpi: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_kpi.setdefault(row["kpi"], []).append(row)
    svgs = {}
    for k in (k for k in exp.kpis() if k.headline):
        data = by_kpi.get(k.name)
        if not data:
            continue
        if info["design"] == "one_at_a_time":
            fig = _tornado(k, data, info["fields"])
        else:
            fig = _against_fields(k, data, info["fields"], info["design"])
        svgs[k.name] = save_svg_png(fig, folder, k.name.replace(".", "_"))
    return svgs


def _tornado(k: Kpi, data: list[dict[str, Any]], fields: list[str]) -> Any:
    """How far each field, moved alone, takes the KPI from the base point (the line)."""
    scale, unit = unit_scale(k.unit), unit_label(k.unit)
    base = next(r for r in data if r["varied"] == "")
    fig, ax = pyplot().subplots(figsize=(7, 0.6 + 0.5 * len(fields)))
    spans = []
    for f in fields:
        means = [r["mean"] * scale for r in data if r["varied"] == f]
        spans.append((f, min(means + [base["mean"] * scale]), max(means + [base["mean"] * scale])))
    spans.sort(key=lambda s: s[2] - s[1])
    for i, (_field, lo, hi) in enumerate(spans):
        ax.barh(i, hi - lo, left=lo, color=BETTER_COLOUR, alpha=0.6, edgecolor="black", hatch="//")
    ax.axvline(base["mean"] * scale, color="black", linewidth=1)
    ax.set_yticks(range(len(spans)), [input_label(s[0]) for s in spans], fontsize=7)
    ax.set_xlabel(f"{k.label} ({unit})", fontsize=8)
    ax.set_title("One field at a time around the base (line)", fontsize=9)
    return fig


def _against_fields(k: Kpi, data: list[dict[str, Any]], fields: list[str], design: str) -> Any:
    """The KPI at every point against each swept field (grid: with the mean per value)."""
    scale, unit = unit_scale(k.unit), unit_label(k.unit)
    fig, axes = pyplot().subplots(1, len(fields), figsize=(3.6 * len(fields), 3.2), squeeze=False)
    for ax, f in zip(axes[0], fields, strict=True):
        x = np.array([r[f] for r in data], dtype=float)
        y = np.array([r["mean"] for r in data], dtype=float) * scale
        lo = np.array([r["ci_low"] for r in data], dtype=float) * scale
        hi = np.array([r["ci_high"] for r in data], dtype=float) * scale
        if design == "grid":
            # mean over the other fields at each value, with the points behind it
            values = sorted(set(x))
            ax.plot(values, [y[x == v].mean() for v in values], color=BETTER_COLOUR, marker="o")
        errors = [np.nan_to_num(y - lo), np.nan_to_num(hi - y)]
        ax.errorbar(x, y, yerr=errors, fmt=".", color="#777777", capsize=2)
        ax.set_xlabel(input_label(f), fontsize=7)
        ax.set_ylabel(f"{unit}", fontsize=8)
        ax.tick_params(labelsize=7)
    fig.suptitle(k.label, fontsize=9)
    return fig
