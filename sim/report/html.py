"""The HTML report: one self-contained file (no JavaScript, nothing loaded from the network)
that a policy reader can open from an e-mail attachment.

It holds the headline findings with intervals, every figure with its caption, a table of
every KPI per scenario with paired differences, and a model description in the spirit of
the STRESS-DES reporting checklist (objective, logic, experimentation, implementation,
inputs with source and confidence, how the scenarios differ).
"""

from __future__ import annotations

import html
import math
from pathlib import Path
from typing import Any

from sim.experiments.calendar_tables import day_type_rows
from sim.experiments.comparison import Experiment
from sim.experiments.runfiles import atomic_open
from sim.experiments.statistics import paired_difference, t_interval
from sim.report.decision import after_hours_text, changes_banner
from sim.report.explain_table import explain_table
from sim.report.figures import FIGURES, save_figure, zone_map
from sim.report.formatting import (
    SECTION_ORDER,
    format_difference,
    format_interval,
    in_system_warnings,
    section_of,
)
from sim.report.style import CSS, plain_value
from sim.scenario.source import field_value


def _e(text: Any) -> str:
    return html.escape(str(text))


def write_report(
    folder: Path,
    exp: Experiment,
    meta: dict[str, Any],
    explain: list[dict[str, Any]] | None = None,
) -> Path:
    """Write ``report.html`` and the figures (PNG and SVG) of a finished study; with
    ``explain``, the table of where each headline difference comes from."""
    names = [s.scenario.name for s in exp.scenarios]
    parts: list[str] = [
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{_e(meta['name'])}: "
        f"after-hours acute care</title><style>{CSS}</style></head><body>",
        "<h1>After-hours acute care: " + " vs ".join(_e(n) for n in names) + "</h1>",
        changes_banner(meta),
        _introduction(exp, meta),
        *(f"<p><b>{_e(w)}</b></p>" for w in in_system_warnings(exp.summary_rows())),
        "<h2>Headline findings</h2><ul>",
        *(f"<li>{line}</li>" for line in _headlines(exp)),
        "</ul>",
        _watch_out(exp),
    ]
    if meta.get("precision") is not None:
        parts.append(_precision_note(exp, meta))
    if explain:
        parts.append(explain_table(explain))
    parts.append("<h2>Figures</h2>")
    for spec in FIGURES:
        svg = save_figure(spec.draw(exp), folder, spec.name)
        parts.append(f"<figure>{svg}<figcaption>{_e(spec.caption)}</figcaption></figure>")
    parts.append(_zone_table(exp, folder))
    parts.append(_day_type_table(exp))
    parts.append(_kpi_table(exp))
    parts.append(_model_description(exp, meta))
    parts.append("</body></html>")
    path = folder / "report.html"
    with atomic_open(path, "w", encoding="utf-8") as fh:
        fh.write("\n".join(parts))
    return path


def _introduction(exp: Experiment, meta: dict[str, Any]) -> str:
    run = exp.scenarios[0].scenario.run
    return (
        f"<p class='small'>{len(exp.replications)} replications per scenario, each of "
        f"{run.weeks} weeks after a {run.warmup_days:g}-day warm-up; "
        f"base seed {exp.base_seed}; common random numbers (the same callers, needs and task "
        f"draws in every scenario). Figures are for requests arriving in the after-hours "
        f"window ({_e(after_hours_text(exp.scenarios[0].scenario.model_dump(mode='json')))}). "
        f"Created {_e(meta.get('created', ''))}.</p>"
    )


def _precision_note(exp: Experiment, meta: dict[str, Any]) -> str:
    return (
        f"<p>Replications were added until the relative 95 % half-width of the headline "
        f"figures and of their paired differences was at most {100 * meta['precision']:.1f} % "
        f"(cap {meta['max_replications']}): {len(exp.replications)} replications were needed "
        f"(largest relative half-width {100 * meta.get('precision_achieved', math.nan):.1f} %).</p>"
    )


def _headlines(exp: Experiment) -> list[str]:
    """One sentence per headline KPI and later scenario: both means and the difference."""
    reps = exp.replications
    base = exp.scenarios[0]
    out: list[str] = []
    for k in exp.kpis():
        if not k.headline or k.name not in base.replications[reps[0]]["kpis"]:
            continue
        a = base.kpi_values(k.name, reps)
        ia = t_interval(a)
        base_text = _e(format_interval(ia.mean, ia.low, ia.high, k.unit))
        if len(exp.scenarios) == 1:
            out.append(f"{_e(k.label)}: <b>{base_text}</b> (95 % CI).")
            continue
        for s in exp.scenarios[1:]:
            if k.name not in s.replications[reps[0]]["kpis"]:
                continue
            b = s.kpi_values(k.name, reps)
            ib = t_interval(b)
            d = paired_difference(a, b)
            di = d.interval
            if math.isnan(di.low) or (di.low <= 0 <= di.high):
                verdict = "a difference the replications cannot tell from zero"
            elif k.better:
                good = (di.mean < 0) == (k.better == "lower")
                verdict = "<b>better</b> than today" if good else "<b>worse</b> than today"
            else:
                verdict = "higher" if di.mean > 0 else "lower"
            out.append(
                f"{_e(k.label)}: <b>{base_text}</b> in {_e(base.scenario.name)} versus "
                f"<b>{_e(format_interval(ib.mean, ib.low, ib.high, k.unit))}</b> in "
                f"{_e(s.scenario.name)}; paired difference "
                f"<b>{_e(format_difference(di.mean, di.low, di.high, k.unit))}</b>"
                f" (95 % interval): {verdict}."
            )
    return out


#: Report sections whose figures count as care or access (the watch-out list).
CARE_AND_ACCESS = ("Time to answer", "Time to care", "Misrouted requests", "Requests", "Outcomes")


def _watch_out(exp: Experiment) -> str:
    """Every care or access figure with a direction, headline or not, that a later scenario
    changes beyond its paired 95 % interval: first those that get worse, then the others."""
    reps = exp.replications
    base = exp.scenarios[0]
    worse: list[str] = []
    better: list[str] = []
    for k in exp.kpis():
        if not k.better or section_of(k.name) not in CARE_AND_ACCESS or k.headline:
            continue
        if k.name not in base.replications[reps[0]]["kpis"]:
            continue
        a = base.kpi_values(k.name, reps)
        for s in exp.scenarios[1:]:
            if k.name not in s.replications[reps[0]]["kpis"]:
                continue
            di = paired_difference(a, s.kpi_values(k.name, reps)).interval
            if math.isnan(di.low) or di.low <= 0 <= di.high:
                continue
            good = (di.mean < 0) == (k.better == "lower")
            text = (
                f"{_e(s.scenario.name)}: {_e(k.label)} "
                f"{_e(format_difference(di.mean, di.low, di.high, k.unit))}"
            )
            (better if good else worse).append(text)
    if not worse and not better:
        return ""
    parts = []
    if worse:
        parts.append(
            "<h3>Watch out: care and access figures that get worse</h3><ul>"
            + "".join(f"<li>{t}</li>" for t in worse)
            + "</ul>"
        )
    if better:
        parts.append(
            "<h3>Other care and access figures that get better</h3><ul class='small'>"
            + "".join(f"<li>{t}</li>" for t in better)
            + "</ul>"
        )
    return "\n".join(parts)


def _kpi_table(exp: Experiment) -> str:
    """Every KPI per scenario with its interval, and the paired differences to the first."""
    names = [s.scenario.name for s in exp.scenarios]
    diffs = {(c["kpi"], c["scenario"]): c for c in exp.comparison_rows()}
    by_kpi: dict[str, dict[str, Any]] = {}
    for r in exp.summary_rows():
        by_kpi.setdefault(r["kpi"], {"label": r["label"], "unit": r["unit"]})[r["scenario"]] = r
    out = [
        "<h2>Every figure per scenario</h2>",
        "<p class='small'>Mean over replications with its 95 % confidence interval in "
        "brackets; for the second and later scenarios, the paired difference to "
        f"{_e(names[0])} with its interval and p-value (two-sided paired t-test).</p>",
        "<table><tr><th class='l'>figure</th>" + "".join(f"<th>{_e(n)}</th>" for n in names),
        "".join(f"<th>{_e(n)} &minus; {_e(names[0])}</th><th>p</th>" for n in names[1:]) + "</tr>",
    ]
    current = None
    ncols = 1 + len(names) + 2 * (len(names) - 1)
    for kpi, info in sorted(
        by_kpi.items(), key=lambda item: SECTION_ORDER.index(section_of(item[0]))
    ):
        section = section_of(kpi)
        if section != current:
            out.append(f"<tr class='sec'><td colspan='{ncols}'>{_e(section)}</td></tr>")
            current = section
        cells = [f"<td class='l'>{_e(info['label'])}<br><span class='small'>{_e(kpi)}</span></td>"]
        for n in names:
            row = info.get(n)
            text = (
                "-"
                if row is None
                else format_interval(row["mean"], row["ci_low"], row["ci_high"], info["unit"])
            )
            cells.append(f"<td>{_e(text)}</td>")
        for n in names[1:]:
            d = diffs.get((kpi, n))
            if d is None:
                cells.append("<td>-</td><td>-</td>")
                continue
            p = d["p_value"]
            diff = format_difference(
                d["difference"], d["diff_ci_low"], d["diff_ci_high"], info["unit"]
            )
            cells.append(f"<td>{_e(diff)}</td><td>{'n/a' if math.isnan(p) else f'{p:.3g}'}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</table>")
    return "\n".join(out)


def _zone_table(exp: Experiment, folder: Path) -> str:
    """Per demand zone (with a geography): a map, and A1 within 15 minutes, the A1
    response's 90th percentile and coverage per scenario; empty without a geography."""
    zones: dict[str, None] = {}
    for s in exp.scenarios:
        if s.scenario.geography is not None:
            zones.update(dict.fromkeys(s.scenario.geography.zones))
    if not zones:
        return ""
    names = [s.scenario.name for s in exp.scenarios]
    rows = {(r["kpi"], r["scenario"]): r for r in exp.summary_rows()}
    diffs = {(c["kpi"], c["scenario"]): c for c in exp.comparison_rows()}
    figures = (
        ("a1_within_15.share", "A1 on scene within 15 min", "share"),
        ("a1_response.p90_min", "A1 response, 90th percentile", "min"),
        ("coverage.share", "time with an idle ambulance within the cover drive", "share"),
    )
    out = [
        "<h2 id='zones'>Ambulance geography: figures per zone</h2>",
        "<p class='small'>After-hours A1 rides by the zone of the patient; coverage is the "
        "share of the reported after-hours time with an idle ambulance at a post whose "
        "expected drive to the zone is within the cover drive. Mean with its 95 % interval; "
        f"for later scenarios the paired difference to {_e(names[0])}.</p>",
        _zone_map(exp, folder),
        "<table><tr><th class='l'>zone</th><th class='l'>figure</th>"
        + "".join(f"<th>{_e(n)}</th>" for n in names)
        + "</tr>",
    ]
    for zone in zones:
        for key, label, unit in figures:
            kpi = f"zone.{zone}.{key}"
            cells = [f"<td class='l'>{_e(zone)}</td><td class='l'>{_e(label)}</td>"]
            for n in names:
                r = rows.get((kpi, n))
                if r is None:
                    cells.append("<td>-</td>")
                    continue
                text = format_interval(r["mean"], r["ci_low"], r["ci_high"], unit)
                d = diffs.get((kpi, n))
                if d is not None:
                    text += "; " + format_difference(
                        d["difference"], d["diff_ci_low"], d["diff_ci_high"], unit
                    )
                cells.append(f"<td>{_e(text)}</td>")
            out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</table>")
    return "\n".join(out)


def _zone_map(exp: Experiment, folder: Path) -> str:
    fig = zone_map(exp)
    if fig is None:
        return ""
    svg = save_figure(fig, folder, "zone_map")
    caption = (
        "Demand zones at their points (size: inhabitants; colour: A1 on scene within 15 min "
        f"in {exp.scenarios[0].scenario.name}), ambulance posts and hospitals."
    )
    return f"<figure>{svg}<figcaption>{_e(caption)}</figcaption></figure>"


def _day_type_table(exp: Experiment) -> str:
    """The headline figures on each day type (Christmas, public holidays, ordinary days)
    when the reported window holds more than one; empty otherwise."""
    rows = day_type_rows(exp)
    kinds = list(dict.fromkeys(r["day_type"] for r in rows))
    if len(kinds) < 2:
        return ""
    names = [s.scenario.name for s in exp.scenarios]
    cell = {(r["day_type"], r["kpi"], r["scenario"]): r for r in rows}
    kpis = list(dict.fromkeys((r["kpi"], r["label"], r["unit"]) for r in rows))
    out = [
        "<h2 id='day-types'>Special days</h2>",
        "<p class='small'>The headline figures of the requests that arrived on each kind of "
        "day in the reported window (per-week figures as a weekly rate on those days); mean "
        "with its 95 % interval, and for later scenarios the paired difference to "
        f"{_e(names[0])}. Few days hold few requests: the intervals are wide. Every date: "
        "by_date.csv.</p>",
        "<table><tr><th class='l'>figure</th><th class='l'>day type</th>"
        + "".join(f"<th>{_e(n)}</th>" for n in names)
        + "</tr>",
    ]
    for kpi, label, unit in kpis:
        for kind in kinds:
            cells = [f"<td class='l'>{_e(label)}</td><td class='l'>{_e(kind)}</td>"]
            for n in names:
                r = cell.get((kind, kpi, n))
                if r is None or r["n"] == 0:
                    cells.append("<td>-</td>")
                    continue
                text = format_interval(r["mean"], r["ci_low"], r["ci_high"], unit)
                if r["diff_vs_first"] != "" and not math.isnan(r["diff_vs_first"]):
                    diff = format_difference(
                        r["diff_vs_first"], r["diff_ci_low"], r["diff_ci_high"], unit
                    )
                    text += f"; {diff}"
                cells.append(f"<td>{_e(text)}</td>")
            out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</table>")
    return "\n".join(out)


# --------------------------------------------------------------------------- description

OBJECTIVE = (
    "<p><b>Objective.</b> Compare organisational forms of the after-hours front doors of acute "
    "care: <i>separate</i> (112 with the ambulance dispatch centre, MKA, and the GP out-of-hours "
    "post, each with its own number), <i>colocated</i> (both numbers stay, staff share one room: "
    "warm transfers, an ambulance can leave while the GP-post triagist is still on the line, "
    "the MKA nurse may talk a case over with a GP-post triagist), <i>coordination_centre</i> "
    "(112 stays at the MKA; the GP post's number is answered by a coordination desk with broad "
    "triage; cases are passed on warm both ways) and <i>central</i> (one entry point: a pooled "
    "desk triages every request once and sends the right professional).</p>"
)
LOGIC = (
    "<p><b>Logic.</b> Requests arrive as non-stationary Poisson processes with an hour-of-week "
    "profile; each has a true need that fixes the right service and its time target. People "
    "choose a number (or walk into the emergency department), queue with finite patience, hang "
    "up, redial or switch numbers. Desks triage with a confusion matrix (true need to assigned "
    "need) and dispatch ambulances (A1 before A2 before B), GP consultations, GP home visits, "
    "district nurses or the mental-health crisis team, or give advice. Staff and vehicles follow "
    "day-part schedules; a person finishes the job in hand at the end of a shift. A replication "
    "is a pure function of the scenario, its replication number and the base seed.</p>"
)
WORDS = (
    "<p><b>Words.</b> <i>Misrouted</i>, measured by outcome the same way in every form: a "
    "request that phoned and was never answered, whose first disposition sent a service other "
    "than its need's own (over- or under-triage), or that had to call again (redial, switch of "
    "number, referral). <i>Wrong door</i> (the first desk reached does not own the need) is "
    "shown as a descriptive count only: a form with one door has none by definition. "
    "<i>Time to answer</i>: call placed to a person speaking. <i>Time to care</i>: request "
    "start to the right professional with the patient (ambulance on scene, consultation "
    "starts, GP arrives, advice given).</p>"
)


def _model_description(exp: Experiment, meta: dict[str, Any]) -> str:
    sc0 = exp.scenarios[0].scenario
    out = ["<h2>Model description</h2>", OBJECTIVE, LOGIC, WORDS, "<p><b>Experimentation.</b> "]
    out.append(
        f"Replications: {len(exp.replications)} per scenario (numbers {exp.replications[0]}-"
        f"{exp.replications[-1]}); base seed {exp.base_seed}; warm-up {sc0.run.warmup_days:g} "
        f"days; reporting {sc0.run.weeks} weeks; drain {sc0.run.drain_hours:g} h after the last "
        "arrival. Intervals are t-based over replications (scipy.stats).</p>"
    )
    out.append(
        "<table><tr><th class='l'>scenario</th><th class='l'>form</th><th class='l'>file</th>"
        "<th class='l'>content hash</th></tr>"
    )
    for s in exp.scenarios:
        out.append(
            f"<tr><td class='l'>{_e(s.scenario.name)}</td>"
            f"<td class='l'>{_e(s.scenario.organisation)}</td>"
            f"<td class='l'>{_e(s.source)}</td>"
            f"<td class='l'>{_e(s.scenario.content_hash()[:16])}</td></tr>"
        )
    out.append("</table>")
    versions = ", ".join(f"{_e(k)} {_e(v)}" for k, v in meta.get("versions", {}).items())
    out.append(
        "<p><b>Implementation.</b> Python discrete-event simulation with SimPy. Versions: "
        f"{versions}; code commit {_e(meta.get('git_commit') or 'unknown')}.</p>"
    )
    out.append(_inputs_table(exp))
    differences = _differences_table(exp)
    if differences:
        out.append(differences)
    return "\n".join(out)


def _inputs_table(exp: Experiment) -> str:
    """Every input with a provenance note: its value, confidence and source."""
    sc0 = exp.scenarios[0].scenario
    dump = sc0.model_dump(mode="json")
    out = [
        "<h3>Inputs, sources and confidence</h3>",
        "<p class='small'>Confidence: measured (published count), norm (legal or professional "
        "target), estimated (derived from published figures), guessed (a judgement to vary in "
        "sensitivity runs).</p>",
        "<table><tr><th class='l'>input</th><th class='l'>value in "
        + _e(sc0.name)
        + "</th><th class='l'>confidence</th><th class='l'>source</th></tr>",
    ]
    for path, prov in sc0.provenance.items():
        text = plain_value(field_value(dump, path))
        value = text if len(text) <= 90 else text[:87] + "..."
        out.append(
            f"<tr><td class='l'>{_e(path)}</td><td class='l'>{_e(value)}</td>"
            f"<td class='l'>{_e(prov.confidence)}</td><td class='l'>{_e(prov.source)}</td></tr>"
        )
    out.append("</table>")
    return "\n".join(out)


def _flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(data, dict):
        out: dict[str, Any] = {}
        for k, v in data.items():
            out.update(_flatten(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    return {prefix: data}


def _differences_table(exp: Experiment) -> str:
    """The fields whose values differ between the scenarios (empty when none do)."""
    flats = [
        _flatten(
            {
                k: v
                for k, v in s.scenario.model_dump(mode="json").items()
                if k not in ("provenance", "description")
            }
        )
        for s in exp.scenarios
    ]
    keys = list(dict.fromkeys(k for f in flats for k in f))
    rows = []
    for key in keys:
        values = [f.get(key) for f in flats]
        if any(v != values[0] for v in values[1:]):
            cells = "".join(
                f"<td class='l'>{_e('-' if v is None else plain_value(v))}</td>" for v in values
            )
            rows.append(f"<tr><td class='l'>{_e(key)}</td>{cells}</tr>")
    if not rows:
        return ""
    header = "".join(f"<th class='l'>{_e(s.scenario.name)}</th>" for s in exp.scenarios)
    return "\n".join(
        ["<h3>How the scenarios differ</h3><table><tr><th class='l'>field</th>" + header + "</tr>"]
        + rows
        + ["</table>"]
    )
