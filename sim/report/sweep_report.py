"""The report of a sweep: what moves each headline figure, how far, and the evidence.

The first screen says in plain words, per headline figure, which swept field moves it most
and from what to what (the mean over the other fields at each of its values, or, for a
one-at-a-time sweep, the field moved alone from the base point); then the figures, and the
headline figures at every point with their 95 % intervals. A banner lists every field that
differs from the shipped files; the after-hours window comes from the scenario.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from sim.experiments.comparison import Experiment
from sim.experiments.runfiles import atomic_open
from sim.experiments.sweep import summary_rows
from sim.report.decision import after_hours_text, changes_banner
from sim.report.formatting import format_interval, format_value
from sim.report.style import CSS, e, input_label
from sim.report.sweep_figures import write_sweep_figures


def _effects(info: dict[str, Any], rows: list[dict[str, Any]], kpi: str) -> list[tuple]:
    """Per field: (spread of the mean, value at the low end, mean there, value at the high
    end, mean there), largest spread first."""
    mine = [r for r in rows if r["kpi"] == kpi and not math.isnan(r["mean"])]
    out = []
    for f in info["fields"]:
        if info["design"] == "one_at_a_time":
            at = [r for r in mine if r["varied"] in (f, "")]
        else:
            at = mine
        by_value: dict[Any, list[float]] = {}
        for r in at:
            by_value.setdefault(r[f], []).append(r["mean"])
        if len(by_value) < 2:
            continue
        means = {v: sum(m) / len(m) for v, m in by_value.items()}
        lo, hi = min(means), max(means)
        out.append((abs(means[hi] - means[lo]), lo, means[lo], hi, means[hi], f))
    return sorted(out, key=lambda t: -t[0])


def _first_screen(info: dict[str, Any], exp: Experiment, rows: list[dict[str, Any]]) -> str:
    items = []
    for k in exp.kpis():
        if not k.headline:
            continue
        effects = _effects(info, rows, k.name)
        if not effects:
            continue
        _, lo, m_lo, hi, m_hi, field = effects[0]
        others = ", ".join(e(input_label(t[5])) for t in effects[1:3])
        items.append(
            f"<li><b>{e(k.label)}</b> moves most with <b>{e(input_label(field))}</b>: "
            f"{e(format_value(m_lo, k.unit))} at {e(lo)} and {e(format_value(m_hi, k.unit))} at "
            f"{e(hi)}" + (f"; then {others}" if others else "") + ".</li>"
        )
    what = (
        "each field moved alone from the base point"
        if info["design"] == "one_at_a_time"
        else "the mean over the other fields at each value of a field"
    )
    return (
        "<section id='verdict' class='answer'><h2>What moves each headline figure</h2><ul>"
        + "".join(items)
        + f"</ul><p class='small'>Means over the replications; {what}. Intervals are in the "
        "table below.</p></section>"
    )


def _table(info: dict[str, Any], exp: Experiment, rows: list[dict[str, Any]]) -> str:
    headline = [k for k in exp.kpis() if k.headline]
    fields = info["fields"]
    head = "".join(f"<th class='l'>{e(input_label(f))}</th>" for f in fields)
    head += "".join(f"<th>{e(k.label)}</th>" for k in headline)
    body = []
    for point in info["points"]:
        cells = "".join(f"<td class='l'>{e(point['values'][f])}</td>" for f in fields)
        for k in headline:
            r = next((x for x in rows if x["point"] == point["index"] and x["kpi"] == k.name), None)
            text = (
                "n/a"
                if r is None
                else format_interval(r["mean"], r["ci_low"], r["ci_high"], k.unit)
            )
            cells += f"<td>{e(text)}</td>"
        body.append(f"<tr>{cells}</tr>")
    return (
        "<h2>Every point</h2><p class='small'>Headline figures with their 95 % intervals "
        "over the replications.</p><table><tr>" + head + "</tr>" + "".join(body) + "</table>"
    )


def write_sweep_report(folder: Path, info: dict[str, Any], exp: Experiment, meta: dict) -> Path:
    """Write the sweep's figures and ``report.html``."""
    rows = summary_rows(info, exp)
    svgs = write_sweep_figures(folder, info, exp)
    sc = exp.scenarios[0].scenario
    window = after_hours_text(sc.model_dump(mode="json"))
    parts = [
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Sweep "
        f"{e(info['name'])}</title><style>{CSS}</style></head><body>",
        f"<h1>Sweep: {e(info['name'])}</h1>",
        changes_banner(meta),
        f"<p class='small'>{len(info['points'])} points ({e(info['design'])} design over "
        f"{', '.join(e(input_label(f)) for f in info['fields'])}), {len(exp.replications)} "
        f"replications each of {sc.run.weeks} weeks after a {sc.run.warmup_days:g}-day "
        f"warm-up, common random numbers; requests arriving after hours ({e(window)}). Created "
        f"{e(meta.get('created', ''))}.</p>",
        _first_screen(info, exp, rows),
        "<h2>Figures</h2>",
        *(
            f"<figure>{svg}<figcaption>{e(next(k.label for k in exp.kpis() if k.name == n))}"
            "</figcaption></figure>"
            for n, svg in svgs.items()
        ),
        _table(info, exp, rows),
        "</body></html>",
    ]
    path = folder / "report.html"
    with atomic_open(path, "w", encoding="utf-8") as fh:
        fh.write("\n".join(p for p in parts if p))
    return path
