"""The decision report of an uncertainty study: which form is better than today, how
likely, and what decides it.

Written from the study's files only (``meta.json``, ``uncertainty_summary.csv``,
``uncertainty_draws.csv``, ``sensitivity.csv`` and, once the one-at-a-time stage has run,
its ``thresholds.csv`` and ``one_at_a_time.csv``), so it can be rebuilt from a folder. The
first screen answers in plain words, per form against today and per headline figure:
*better* or *worse* when at least 90 % of the draws of the inputs agree, *no detectable
difference* when the mean over the draws cannot be told from zero and the spread is mostly
simulation noise, and otherwise *depends*, naming the inputs that decide it. Then a
watch-out list of every care or access figure that gets worse, the evidence (distributions
of the differences, the tornado, where each difference comes from at the base values,
thresholds, sensitivity indices), the inputs with their ranges and sources, and every KPI.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from sim.experiments.runfiles import atomic_open
from sim.report.explain_table import explain_table
from sim.report.formatting import cell_number as _f  # a number from a CSV cell
from sim.report.formatting import section_of, short_label
from sim.report.style import (
    BETTER_COLOUR,
    CSS,
    NEUTRAL_COLOUR,
    PALETTE,
    WORSE_COLOUR,
    e,
    input_label,
    plain_value,
    pyplot,
    save_svg_png,
)
from sim.scenario.loader import changed_fields

#: Sections whose figures count as care or access (the watch-out list).
CARE_AND_ACCESS = ("Time to answer", "Time to care", "Misrouted requests", "Requests", "Outcomes")
VERDICT_WORDS = {
    "better": "clearly better",
    "worse": "worse",
    "no difference": "no detectable difference",
    "depends": "depends",
}


def _read_csv(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        return []
    with path.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


class Study:
    """What the report reads from an uncertainty study's folder."""

    def __init__(self, folder: Path, stage2: Path | None):
        self.folder = folder
        self.meta = json.loads((folder / "meta.json").read_text())
        self.info = self.meta["uncertainty"]
        self.forms: list[str] = self.info["forms"]
        self.today = self.forms[0]
        self.summary = _read_csv(folder / "uncertainty_summary.csv")
        self.sensitivity = _read_csv(folder / "sensitivity.csv")
        self.draws = _read_csv(folder / "uncertainty_draws.csv")
        kpis = json.loads((folder / "summary.json").read_text())["kpis"]
        self.headline = [n for n, k in kpis.items() if k["headline"]]
        self.thresholds = _read_csv(stage2 / "thresholds.csv") if stage2 else []
        self.oat = _read_csv(stage2 / "one_at_a_time.csv") if stage2 else []
        self.explain = _read_csv(stage2 / "explain.csv") if stage2 else []
        self.row = {(r["form"], r["kpi"]): r for r in self.summary}
        self.specs = {}
        base = self.info.get("base_forms") or []
        if base:
            self.specs = dict(base[0].get("uncertainty") or {})
            for data in base[1:]:
                for n, spec in (data.get("uncertainty") or {}).items():
                    self.specs.setdefault(n, spec)

    def deciding(self, form: str, kpi: str, n: int = 2) -> list[tuple[str, float]]:
        """The inputs that decide a difference most, with their index (total Sobol' index
        for a Saltelli design, first-order otherwise), largest first: only inputs whose
        index is above zero by more than its 95 % bootstrap half-width (an index the draws
        cannot tell from zero names nothing)."""
        out = []
        for r in self.sensitivity:
            if r["form"] == form and r["kpi"] == kpi:
                key = "total" if r["method"] == "sobol" else "first_order"
                v, ci = _f(r[key]), _f(r[key + "_ci"])
                if v > 0.02 and (math.isnan(ci) or v - ci > 0):
                    out.append((r["input"], v))
        return sorted(out, key=lambda t: -t[1])[:n]


def _diff_text(value: float, unit: str, signed: bool = True) -> str:
    """A difference in natural units: points of a per cent, minutes (seconds when under a
    minute), hours per week."""
    if math.isnan(value):
        return "n/a"
    sign = "+" if signed else ""
    if unit == "share":
        x = 100 * value
        return f"{x:{sign}.{_decimals(x, 1)}f} points"
    if unit == "min":
        if abs(value) < 1.0:
            x = 60 * value
            return f"{x:{sign}.{_decimals(x, 0)}f} s"
        return f"{value:{sign}.1f} min"
    return f"{value:{sign},.{_decimals(value, 1)}f} {unit.replace('hours/week', 'h/week')}"


def _decimals(x: float, usual: int) -> int:
    """Decimals that keep a small nonzero figure from reading as 0: -0.04 points, not
    -0.0; 0.2 s, not 0 s (at most three more than usual)."""
    size = abs(x) * 10**usual  # in units of the usual last place
    if size == 0.0 or size >= 0.95:
        return usual
    return usual + min(3, math.ceil(-math.log10(size)))


def _spread_text(r: dict[str, str]) -> str:
    unit = r["unit"]
    lo, mid, hi = (_f(r[k]) for k in ("p05", "p50", "p95"))
    return f"{_diff_text(mid, unit)} [{_diff_text(lo, unit)}, {_diff_text(hi, unit)}]"


def _short(r: dict[str, str]) -> str:
    """The short name of a row's KPI."""
    return short_label(r["kpi"], r["label"])


# --------------------------------------------------------------------------- first screen


def _form_verdicts(st: Study, form: str) -> list[str]:
    """A form against today in plain words: one sentence per kind of verdict."""
    rows = [st.row[(form, k)] for k in st.headline if (form, k) in st.row]
    rows = [r for r in rows if r["verdict"]]
    groups: dict[str, list[dict[str, str]]] = {}
    for r in rows:
        groups.setdefault(r["verdict"], []).append(r)
    n = len(rows)
    said = []
    for word, key in (("better", "clearly better"), ("worse", "worse")):
        if groups.get(word):
            count = f" on {len(groups[word])} of {n} headline figures: " if word == "better" else ""
            said.append(
                f"<b>{key}</b>{count or ' on '}"
                + "; ".join(
                    f"{e(_short(r))} {e(_diff_text(_f(r['p50']), r['unit']))} ({word} in "
                    f"{_share_of_draws(r, word):.0%} of the draws)"
                    for r in groups[word]
                )
            )
    if groups.get("no difference"):
        said.append(
            "<b>no detectable difference</b> on "
            + ", ".join(e(_short(r)) for r in groups["no difference"])
        )
    unnamed = []
    for r in groups.get("depends", []):
        deciders = st.deciding(form, r["kpi"])
        if not deciders:
            unnamed.append(r)
            continue
        by = " and ".join(f"<b>{e(input_label(i))}</b>" for i, _ in deciders)
        said.append(
            f"<b>depends</b> on {by} for {e(_short(r))}: better in "
            f"{_f(r['p_better']):.0%} of the draws ({e(_spread_text(r))})"
        )
    if unnamed:
        said.append(
            "<b>depends</b> on the inputs, with no single input the draws can single out "
            "(many small ones, or too few draws: run more, or a Saltelli design), for "
            + "; ".join(
                f"{e(_short(r))} (better in {_f(r['p_better']):.0%} of the draws, "
                f"{e(_spread_text(r))})"
                for r in unnamed
            )
        )
    return said


def _share_of_draws(r: dict[str, str], verdict: str) -> float:
    p = _f(r["p_better"])
    return p if verdict == "better" else 1.0 - p


def _answer(st: Study) -> str:
    parts = ["<section id='verdict' class='answer'><h2>The answer</h2>"]
    for form in st.forms[1:]:
        parts.append(
            f"<p><b>{e(form)}</b> against {e(st.today)}:</p><ul>"
            + "".join(f"<li>{x}</li>" for x in _form_verdicts(st, form))
            + "</ul>"
        )
    decisive, clear = _overall_deciders(st)
    if decisive:
        names = ", ".join(f"<b>{e(input_label(n))}</b>" for n in decisive)
        if clear:
            parts.append(
                "<p><b>What decides it.</b> Over all headline differences, the inputs that move "
                f"the answer most are {names}: these are the figures a region should measure "
                "first.</p>"
            )
        else:
            parts.append(
                "<p><b>What decides it.</b> Over all headline differences, the inputs with the "
                f"largest sensitivity indices are {names}, but with {len(st.info['draws'])} "
                "draws none of them can be told from no influence: run more draws (or a "
                "Saltelli design) before measuring any of them first.</p>"
            )
    parts.append(
        "<p class='small'>Better or worse: at least 90 % of the draws of the uncertain inputs "
        "agree. Each draw's difference is the mean over its replications, paired with today by "
        "common random numbers. Sizes are medians over the draws with their 5 % and 95 % "
        "points.</p></section>"
    )
    return "\n".join(parts)


def _overall_deciders(st: Study, n: int = 3) -> tuple[list[str], bool]:
    """The inputs with the largest summed index over every headline difference, and
    whether any of them is above zero beyond its interval for some difference."""
    score: dict[str, float] = {}
    for r in st.sensitivity:
        if r["kpi"] in st.headline:
            key = "total" if r["method"] == "sobol" else "first_order"
            v = _f(r[key])
            if not math.isnan(v):
                score[r["input"]] = score.get(r["input"], 0.0) + max(v, 0.0)
    top = [k for k, v in sorted(score.items(), key=lambda t: -t[1])[:n] if v > 0]
    clear = any(
        name in top
        for form in st.forms[1:]
        for k in st.headline
        for name, _ in st.deciding(form, k)
    )
    return top, clear


def _verdict_table(st: Study) -> str:
    head = "".join(f"<th>{e(f)}</th>" for f in st.forms[1:])
    rows = []
    for k in st.headline:
        cells = []
        label = ""
        for form in st.forms[1:]:
            r = st.row.get((form, k))
            if r is None or not r["verdict"]:
                cells.append("<td>n/a</td>")
                continue
            label = r["label"]
            cls = r["verdict"].replace("no difference", "")
            cells.append(
                f"<td class='{cls}'><b>{e(VERDICT_WORDS[r['verdict']])}</b><br>"
                f"better in {_f(r['p_better']):.0%}<br><span class='small'>"
                f"{e(_spread_text(r))}</span></td>"
            )
        if label:
            rows.append(f"<tr><td class='l'>{e(label)}</td>{''.join(cells)}</tr>")
    return (
        f"<table><tr><th class='l'>Headline figure, difference to {e(st.today)}</th>{head}</tr>"
        + "".join(rows)
        + "</table>"
    )


def _watch_out(st: Study) -> str:
    items = []
    for r in st.summary:
        if not r["verdict"] or r["verdict"] == "no difference":
            continue
        if section_of(r["kpi"]) not in CARE_AND_ACCESS and r["kpi"] not in st.headline:
            continue
        p = _f(r["p_better"])
        if p >= 0.5:
            continue
        items.append(
            (
                p,
                f"<li><b>{e(r['form'])}</b>: {e(r['label'])} gets worse in {1 - p:.0%} of the "
                f"draws ({e(_spread_text(r))}).</li>",
            )
        )
    if not items:
        return (
            "<h2>Watch out</h2><p>No care or access figure gets worse in most draws under "
            "any form.</p>"
        )
    items.sort(key=lambda t: t[0])
    return (
        "<h2>Watch out</h2><p>Every care or access figure that gets worse than today in more "
        "than half of the draws:</p><ul>" + "".join(t for _, t in items) + "</ul>"
    )


def _staff(st: Study) -> str:
    rows = []
    for r in st.summary:
        if r["kpi"].startswith("staff_hours.") and r["form"] in st.forms[1:]:
            if math.isnan(_f(r["p50"])):
                continue
            rows.append(
                f"<tr><td class='l'>{e(r['label'])}</td><td class='l'>{e(r['form'])}</td>"
                f"<td>{e(_spread_text(r))}</td></tr>"
            )
    if not rows:
        return ""
    return (
        "<h2>Staff hours</h2><p class='small'>Hours of staff time used in the after-hours "
        "window (busy time), difference to today: median [5 %, 95 %] over the draws. The "
        "scenarios give no costs, so none are shown; staff on duty are inputs of each "
        "form.</p><table><tr><th class='l'>figure</th><th class='l'>form</th>"
        "<th>difference</th></tr>" + "".join(rows) + "</table>"
    )


# --------------------------------------------------------------------------- evidence


def _distribution_figure(st: Study) -> Any:
    kpis = [
        k
        for k in st.headline
        if any(r["kpi"] == k and not math.isnan(_f(r["mean_difference"])) for r in st.draws)
    ]
    if not kpis:
        return None
    plt = pyplot()
    cols = 3
    rows = math.ceil(len(kpis) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(10, 2.6 * rows), squeeze=False)
    for ax, k in zip(axes.flat, kpis, strict=False):
        r0 = next(r for r in st.summary if r["kpi"] == k)
        unit = r0["unit"]
        scale, axis_unit = _axis(
            unit, [_f(r["mean_difference"]) for r in st.draws if r["kpi"] == k]
        )
        data, names = [], []
        for form in st.forms[1:]:
            v = np.array(
                [_f(r["mean_difference"]) for r in st.draws if r["kpi"] == k and r["form"] == form]
            )
            v = v[~np.isnan(v)]
            if len(v):
                data.append(v * scale)
                names.append(form)
        if not data:
            ax.set_visible(False)
            continue
        parts = ax.boxplot(
            data, orientation="horizontal", whis=(5, 95), patch_artist=True, showfliers=False
        )
        for i, box in enumerate(parts["boxes"]):
            box.set_facecolor(PALETTE[(i + 1) % len(PALETTE)])
            box.set_alpha(0.6)
        ax.set_yticks(range(1, len(names) + 1), names, fontsize=7)
        ax.axvline(0, color="black", linewidth=1)
        better = r0["better"]
        arrow = "better <-" if better == "lower" else "-> better"
        ax.set_xlabel(f"difference to {st.today} ({axis_unit}); {arrow}", fontsize=7)
        ax.set_title(_wrap(_short(r0), 42), fontsize=8)
    for ax in list(axes.flat)[len(kpis) :]:
        ax.set_visible(False)
    return fig


def _axis(unit: str, values: list[float]) -> tuple[float, str]:
    """Scale and unit name of a figure's axis: points for shares, seconds for differences
    of under a minute."""
    if unit == "share":
        return 100.0, "points"
    if unit == "min":
        finite = [abs(v) for v in values if not math.isnan(v)]
        return (60.0, "s") if finite and max(finite) < 1.0 else (1.0, "min")
    return 1.0, unit


def _wrap(text: str, width: int) -> str:
    words, lines, line = text.split(), [], ""
    for w in words:
        if len(line) + len(w) + 1 > width and line:
            lines.append(line)
            line = w
        else:
            line = f"{line} {w}".strip()
    lines.append(line)
    return "\n".join(lines)


def _tornado_figure(st: Study, form: str) -> Any:
    """Per headline figure that depends on the inputs (or every headline, when none
    does), the difference at each input's 5 % and 95 % value with the others at base."""
    if not st.oat:
        return None
    kpis = [k for k in st.headline if st.row.get((form, k), {}).get("verdict") == "depends"] or [
        k for k in st.headline if (form, k) in st.row and st.row[(form, k)]["verdict"]
    ][:3]
    kpis = [k for k in kpis if any(r["kpi"] == k and r["form"] == form for r in st.oat)][:4]
    if not kpis:
        return None
    plt = pyplot()
    inputs = list(dict.fromkeys(r["input"] for r in st.oat if r["input"] != "(base)"))
    fig, axes = plt.subplots(
        len(kpis), 1, figsize=(8.5, 0.45 * len(inputs) * len(kpis) + 1.0 * len(kpis)), squeeze=False
    )
    for ax, k in zip(axes[:, 0], kpis, strict=True):
        _tornado_panel(ax, st, form, k, inputs)
    return fig


def _tornado_panel(ax: Any, st: Study, form: str, k: str, inputs: list[str]) -> None:
    """One KPI's tornado: a bar per input from the base difference to each end."""
    rows = [r for r in st.oat if r["kpi"] == k and r["form"] == form]
    unit = rows[0]["unit"]
    scale, axis_unit = _axis(unit, [_f(r["difference"]) for r in rows])
    base = next(_f(r["difference"]) for r in rows if r["input"] == "(base)") * scale
    bars = []
    for n in inputs:
        pts = [r for r in rows if r["input"] == n]
        if not pts:
            continue
        lo, hi = pts[0], pts[-1]
        bars.append(
            (
                n,
                _f(lo["difference"]) * scale,
                _f(hi["difference"]) * scale,
                lo,
                hi,
            )
        )
    bars.sort(key=lambda b: abs(b[2] - b[1]))
    better = rows[0]["better"]
    for i, (n, a, b, lo, hi) in enumerate(bars):
        if a == b:  # the input does not move this difference over its range
            ax.annotate(
                "no effect over 5-95 %", (base, i), xytext=(4, 0), textcoords="offset points",
                va="center", fontsize=6.5,
            )  # fmt: skip
            continue
        for end, row, hatch in ((a, lo, ""), (b, hi, "//")):
            good = (end < 0) == (better == "lower") if end != 0 else None
            colour = NEUTRAL_COLOUR if good is None else BETTER_COLOUR if good else WORSE_COLOUR
            ax.barh(
                i, end - base, left=base, color=colour, alpha=0.75, edgecolor="black",
                hatch=hatch,
            )  # fmt: skip
            right = end >= base
            ax.annotate(
                _input_value(st, n, _f(row["value"])),
                (end, i),
                xytext=(3 if right else -3, 0),
                textcoords="offset points",
                ha="left" if right else "right",
                va="center",
                fontsize=6.5,
            )
    ax.set_yticks(range(len(bars)), [input_label(b[0]) for b in bars], fontsize=7)
    ax.axvline(base, color="black", linewidth=1)
    ax.axvline(0, color="black", linewidth=0.8, linestyle=":")
    arrow = "better <-" if better == "lower" else "-> better"
    ax.set_xlabel(f"difference to {st.today} ({axis_unit}); {arrow}", fontsize=7)
    ax.set_title(f"{form}: {_short(rows[0])}", fontsize=8)
    lo_x, hi_x = ax.get_xlim()
    pad = 0.18 * (hi_x - lo_x)
    ax.set_xlim(lo_x - pad, hi_x + pad)  # room for the end labels


def _input_value(st: Study, name: str, value: float) -> str:
    """An input's value as a reader reads it: a multiplier as x0.85, a share in per cent,
    other values with three significant digits."""
    spec = st.specs.get(name, {})
    if math.isnan(value):
        return "n/a"
    if spec.get("how", "multiply") != "set":
        return f"x{value:.2f}"
    fields = " ".join(spec.get("fields", []))
    if "share" in fields or "factor" not in fields and value <= 1.0 and "min" not in fields:
        return f"{100 * value:.0f} %"
    if fields.endswith("_min") or "mean_min" in fields:
        return f"{value:.3g} min"
    return f"{value:.3g}"


def _explain(st: Study) -> str:
    """Where each headline difference comes from, at the inputs' base values."""
    if not st.explain:
        return ""
    rows = [
        {
            **r,
            "form": r["form"].removesuffix("@base"),
            **{k: _f(r[k]) for k in ("difference", "ci_low", "ci_high", "total")},
        }
        for r in st.explain
    ]
    return explain_table(rows) + (
        "<p class='small'>At every input's base value (the scenario files), with the "
        "replications of the one-at-a-time stage.</p>"
    )


def _thresholds_table(st: Study) -> str:
    if not st.thresholds:
        return (
            "<h2>When would the answer flip?</h2><p>No input was run one at a time "
            "(uncertainty --one-at-a-time 0), so no thresholds were searched.</p>"
        )
    rows = []
    for r in st.thresholds:
        if r["status"] != "crosses" or r["kpi"] not in st.headline:
            continue
        value, low, high = (
            _f(r["threshold"]),
            _f(r["threshold_low"]),
            _f(r["threshold_high"]),
        )
        within = _f(r["range_low"]) <= value <= _f(r["range_high"])
        n = r["input"]
        base_text = _input_value(st, n, _f(r["base_value"]))
        interval = (
            f"[{_input_value(st, n, low)}, {_input_value(st, n, high)}]"
            if math.isfinite(low) and math.isfinite(high)
            else "(not bounded by the runs)"
        )
        rows.append(
            f"<tr><td class='l'>{e(r['form'])}</td><td class='l'>{e(_short(r))}</td>"
            f"<td class='l'>{e(input_label(n))}</td><td>{e(base_text)}</td>"
            f"<td><b>{e(_input_value(st, n, value))}</b> {e(interval)}"
            f"{'' if within else ' (outside the range run)'}</td>"
            f"<td class='l'>better {e(r['better_when'])} it</td></tr>"
        )
    held = sum(1 for r in st.thresholds if r["status"] != "crosses")
    text = (
        "<h2>When would the answer flip?</h2><p>Each decisive input was moved alone from its "
        "5 % to its 95 % value, the others at their base values; where a headline difference "
        "changes sign, the value at which it does (linear fit between the neighbouring grid "
        "points, 95 % Fieller interval). "
        f"{held} other input-figure pairs keep their sign over the whole range run.</p>"
    )
    if not rows:
        return text + "<p>No headline difference changes sign along any input run alone.</p>"
    return (
        text + "<table><tr><th class='l'>form</th><th class='l'>figure</th><th class='l'>input</th>"
        "<th>base value</th><th>sign changes at [95 % interval]</th><th class='l'>form is</th></tr>"
        + "".join(rows)
        + "</table>"
    )


def _sensitivity_table(st: Study) -> str:
    if not st.sensitivity:
        return ""
    method = st.sensitivity[0]["method"]
    what = (
        "first-order and total Sobol' indices (Saltelli design)"
        if method == "sobol"
        else "first-order indices by RBD-FAST (the share of the difference's variance over "
        "the draws that one input explains alone)"
    )
    rows = []
    for form in st.forms[1:]:
        for k in st.headline:
            sel = [r for r in st.sensitivity if r["form"] == form and r["kpi"] == k][:3]
            for i, r in enumerate(sel):
                total = (
                    f"{_f(r['total']):.2f} ± {_f(r['total_ci']):.2f}" if method == "sobol" else ""
                )
                rows.append(
                    f"<tr><td class='l'>{e(form) if i == 0 else ''}</td>"
                    f"<td class='l'>{e(_short(r)) if i == 0 else ''}</td>"
                    f"<td class='l'>{e(input_label(r['input']))}</td>"
                    f"<td>{_f(r['first_order']):.2f} ± {_f(r['first_order_ci']):.2f}</td>"
                    f"<td>{total}</td></tr>"
                )
    return (
        f"<h2>Which inputs decide each difference</h2><p class='small'>SALib: {what}, with "
        "95 % bootstrap half-widths; the three largest per form and figure. An index near 0 "
        "with a wide interval cannot be told from no influence.</p><table><tr><th class='l'>"
        "form</th><th class='l'>figure</th><th class='l'>input</th><th>first order</th>"
        "<th>total</th></tr>" + "".join(rows) + "</table>"
    )


def _inputs_table(st: Study) -> str:
    rows = []
    for n in st.info["inputs"]:
        spec = st.specs.get(n, {})
        rows.append(
            f"<tr><td class='l'>{e(input_label(n))}</td><td class='l small'>"
            f"{e(', '.join(spec.get('fields', [])))}</td><td class='l'>{e(_dist_text(spec))}</td>"
            f"<td class='l'>{e(spec.get('confidence', ''))}</td>"
            f"<td class='l small'>{e(spec.get('source', ''))}</td></tr>"
        )
    return (
        "<h2>The uncertain inputs</h2><table><tr><th class='l'>input</th><th class='l'>fields "
        "it moves</th><th class='l'>distribution</th><th class='l'>confidence</th>"
        "<th class='l'>source</th></tr>" + "".join(rows) + "</table>"
    )


def _dist_text(spec: dict[str, Any]) -> str:
    how = {"set": "value", "multiply": "multiplier", "off_diagonal": "multiplier of the errors"}
    what = how.get(spec.get("how", "multiply"), "")
    d = spec.get("dist")
    if d == "uniform":
        body = f"uniform {spec['low']:g} to {spec['high']:g}"
    elif d == "triangular":
        body = f"triangular {spec['low']:g} to {spec['high']:g}, most likely {spec['mode']:g}"
    elif d == "beta":
        body = f"beta, mean {spec['mean']:g}, sd {spec['sd']:g}"
    elif d == "lognormal":
        body = f"lognormal, median {spec['median']:g}, cv {spec['cv']:g}"
    else:
        body = str(d)
    return f"{what}: {body}"


def _all_kpis(st: Study) -> str:
    rows = []
    for r in st.summary:
        if r["form"] not in st.forms[1:] or math.isnan(_f(r["p50"])):
            continue
        p, share = _f(r["p_better"]), _f(r["input_share"])
        p_text = "" if math.isnan(p) else f"{p:.0%}"
        share_text = "" if math.isnan(share) else f"{share:.0%}"
        rows.append(
            f"<tr><td class='l'>{e(r['label'])}</td><td class='l'>{e(r['form'])}</td>"
            f"<td>{e(_spread_text(r))}</td><td>{p_text}</td>"
            f"<td class='l'>{e(VERDICT_WORDS.get(r['verdict'], ''))}</td>"
            f"<td>{share_text}</td></tr>"
        )
    return (
        "<h2>Every figure</h2><p class='small'>Difference to today: median [5 %, 95 %] over the "
        "draws; P(better): share of the draws in which the form is better (figures with a "
        "direction); from inputs: the share of the spread over the draws that the inputs "
        "explain rather than simulation noise.</p><table><tr><th class='l'>figure</th>"
        "<th class='l'>form</th><th>difference</th><th>P(better)</th><th class='l'>verdict</th>"
        "<th>from inputs</th></tr>" + "".join(rows) + "</table>"
    )


# --------------------------------------------------------------------------- page


def changes_banner(meta: dict[str, Any]) -> str:
    """A banner listing every field of a study's scenarios that differs from the shipped
    files (--set, --weeks, --seed or an edited file); empty when none does."""
    items = []
    for entry in meta["scenarios"]:
        data = entry.get("content")
        if not data:
            continue
        for path, shipped, used in changed_fields(data, entry["file"]):
            used_text, shipped_text = plain_value(used), plain_value(shipped)
            items.append(
                f"<li><span class='changed'>changed by user</span> {e(data['name'])}: "
                f"<code>{e(path)}</code> = {e(used_text)} (shipped: {e(shipped_text)})</li>"
            )
    if not items:
        return ""
    return (
        "<div class='banner'><b>Inputs changed from the shipped scenario files</b> (overrides "
        "with --set, --weeks or --seed, or edited files); every figure below uses them:<ul>"
        + "".join(items[:60])
        + (f"<li>... and {len(items) - 60} more</li>" if len(items) > 60 else "")
        + "</ul></div>"
    )


def _banner(st: Study) -> str:
    """The banner of the forms as they were before the draws."""
    forms = st.info.get("base_forms") or []
    entries = [
        {"file": entry["file"], "content": data}
        for entry, data in zip(st.meta["scenarios"], forms, strict=False)
    ]
    return changes_banner({"scenarios": entries})


def after_hours_text(data: dict[str, Any]) -> str:
    """The after-hours window of a scenario in words, from its calendar."""
    cal = data["calendar"]
    ah = cal["after_hours"]
    n = len(cal.get("public_holidays") or [])
    return (
        f"weekdays {ah['weekday_start_hour']:02d}:00-{ah['weekday_end_hour']:02d}:00, weekends"
        + (f" and the {n} public holidays the scenario lists" if n else "")
    )


def _introduction(st: Study) -> str:
    info, meta = st.info, st.meta
    base = (info.get("base_forms") or [{}])[0]
    run = base.get("run", {})
    design = {
        "sobol": "a scrambled Sobol' sequence",
        "lhs": "a Latin hypercube",
        "saltelli": "Saltelli's design",
    }[info["design"]]
    window = after_hours_text(base) if base else "the after-hours window"
    return (
        f"<p class='small'>{len(info['draws'])} draws of {len(info['inputs'])} uncertain inputs "
        f"({design}, seed {info['design_seed']}), every form at every draw, "
        f"{len(meta['replications'])} replications per draw, each of {_weeks(run.get('weeks'))} "
        f"after a {run.get('warmup_days', 0):g}-day warm-up, with common random numbers. "
        f"Figures are for requests arriving after hours ({e(window)}). "
        f"Created {e(meta.get('created', ''))}.</p>"
    )


def _weeks(n: Any) -> str:
    return "1 week" if n == 1 else f"{n} weeks"


def _caveats(st: Study) -> str:
    return (
        "<h2>What this cannot say</h2><ul>"
        "<li>Only the inputs declared uncertain vary; the others, and the model's structure, "
        "are taken as given. A 'clearly better' holds over the declared ranges, not beyond.</li>"
        "<li>Ambulance hours and rides for GP-type needs are lower-is-better, but they also "
        "fall when callers give up or never reach a desk: read them with calls abandoned and "
        "requests that got care (the watch-out list names those when they get worse).</li>"
        "<li>A mean time to care counts only requests that got care; read it with the share "
        "that got care.</li>"
        "<li>Staff on duty is an input of each form, not something the model chooses: the "
        "comparison is at the staffing the scenario files give.</li></ul>"
    )


def write_decision_report(folder: Path, stage2: Path | None = None) -> Path:
    """Write ``report.html`` and its figures into an uncertainty study's folder."""
    st = Study(folder, stage2)
    title = "Which form is better than today, and how sure is that?"
    parts = [
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{e(title)}</title>"
        f"<style>{CSS}</style></head><body>",
        f"<h1>{e(title)}</h1>",
        f"<p>{' / '.join(e(f) for f in st.forms[1:])} against <b>{e(st.today)}</b>, over what "
        "we do not know.</p>",
        _banner(st),
        _introduction(st),
        _answer(st),
        _verdict_table(st),
        _watch_out(st),
        _staff(st),
        "<h2>The evidence</h2>",
    ]
    fig = _distribution_figure(st)
    if fig is not None:
        parts.append(
            f"<figure>{save_svg_png(fig, folder, 'difference_distributions')}<figcaption>"
            "Difference to today over the draws of the inputs, per headline figure and form: "
            "box from the 25 % to the 75 % point, whiskers at 5 % and 95 %, line at the "
            "median; the vertical line is no difference.</figcaption></figure>"
        )
    for form in st.forms[1:]:
        fig = _tornado_figure(st, form)
        if fig is not None:
            parts.append(
                f"<figure>{save_svg_png(fig, folder, f'tornado_{form}')}<figcaption>"
                f"Tornado for {e(form)}: the difference to today with one input at its 5 % "
                "(plain bar) or 95 % value (hatched bar), the others at their base values; "
                "bars start at the difference with every input at its base value (solid line). "
                "Blue: better than today, orange: worse. The labels give the input's value."
                "</figcaption></figure>"
            )
    parts += [
        _explain(st),
        _thresholds_table(st),
        _sensitivity_table(st),
        _inputs_table(st),
        _all_kpis(st),
        _caveats(st),
        "</body></html>",
    ]
    path = folder / "report.html"
    with atomic_open(path, "w", encoding="utf-8") as fh:
        fh.write("\n".join(p for p in parts if p))
    return path
