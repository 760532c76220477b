"""Reports: a plain-text summary for the terminal, and figures plus one self-contained HTML
file (no JavaScript, nothing loaded from the network) that a policy reader can open from an
e-mail attachment. Figures use line styles and hatching, so they read in grey-scale print.
The model-description section follows the spirit of the STRESS-DES reporting checklist.
"""

from __future__ import annotations

import base64
import html
import io
import math
from pathlib import Path
from typing import Any

import numpy as np

SECTIONS: tuple[tuple[str, str], ...] = (
    ("misrouted.", "Misrouted requests"),
    ("answer.", "Time to answer"),
    ("care.", "Time to care"),
    ("calls.", "Calls"),
    ("transfers.", "Transfers"),
    ("triage.", "Transfers"),
    ("requests.", "Requests"),
    ("outcome.", "Outcomes"),
    ("ambulance.", "Ambulances"),
    ("ed.", "Emergency department"),
    ("utilisation.", "Utilisation (after-hours, time-weighted)"),
    ("staff_hours.", "Staff-hours used (after-hours)"),
)

GREYS = ("#000000", "#555555", "#999999", "#333333", "#777777")
STYLES = ("-", "--", ":", "-.", (0, (5, 1, 1, 1)))
HATCHES = ("", "//", "..", "xx", "\\\\")


def format_value(value: float | None, unit: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if unit == "share":
        return f"{100 * value:.1f} %"
    if unit == "min":
        return f"{value:.2f} min"
    return f"{value:,.1f} {unit}"


def format_interval(mean: float, low: float, high: float, unit: str) -> str:
    text = format_value(mean, unit)
    if math.isnan(low) or math.isnan(high):
        return text
    if unit == "share":
        return f"{text} [{100 * low:.1f}, {100 * high:.1f}]"
    if unit == "min":
        return f"{text} [{low:.2f}, {high:.2f}]"
    return f"{text} [{low:,.1f}, {high:,.1f}]"


def format_difference(diff: float, low: float, high: float, unit: str) -> str:
    if math.isnan(diff):
        return "n/a"
    if unit == "share":
        core = f"{100 * diff:+.1f} pts"
        ci = "" if math.isnan(low) else f" [{100 * low:+.1f}, {100 * high:+.1f}]"
    elif unit == "min":
        core = f"{diff:+.2f} min"
        ci = "" if math.isnan(low) else f" [{low:+.2f}, {high:+.2f}]"
    else:
        core = f"{diff:+,.1f}"
        ci = "" if math.isnan(low) else f" [{low:+,.1f}, {high:+,.1f}]"
    return core + ci


def _section(name: str) -> str:
    return next((label for prefix, label in SECTIONS if name.startswith(prefix)), "Other")


def _terse(value: float, unit: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if unit == "share":
        return f"{100 * value:.1f}"
    if unit == "min":
        return f"{value:.2f}"
    return f"{value:,.1f}" if abs(value) < 1000 else f"{value:,.0f}"


def _terse_unit(unit: str) -> str:
    return {"share": "%", "min": "min"}.get(unit, unit)


def text_summary(rows: list[dict[str, Any]], comparison: list[dict[str, Any]], title: str) -> str:
    """Terminal summary: the first scenario's mean [95 % CI]; for the others, the mean and
    (in brackets) the paired difference to the first."""
    scenarios = list(dict.fromkeys(r["scenario"] for r in rows))
    kpis: dict[str, dict[str, Any]] = {}
    for r in rows:
        kpis.setdefault(r["kpi"], {"label": r["label"], "unit": r["unit"]})[r["scenario"]] = r
    diffs = {(c["kpi"], c["scenario"]): c for c in comparison}
    width = 24
    label_width = 70
    lines = [title]
    header = f"  {'':<{label_width}}{'unit':>12}" + "".join(f"{s[-width + 1:]:>{width}}" for s in scenarios)
    order = list(dict.fromkeys(label for _, label in SECTIONS)) + ["Other"]
    ordered = sorted(kpis.items(), key=lambda item: order.index(_section(item[0])))
    current = None
    for name, info in ordered:
        section = _section(name)
        if section != current:
            lines.append(section)
            lines.append(header)
            current = section
        unit = info["unit"]
        cells = []
        for i, s in enumerate(scenarios):
            r = info.get(s)
            if r is None:
                cells.append(f"{'-':>{width}}")
                continue
            if i == 0:
                cell = _terse(r["mean"], unit)
                if not (math.isnan(r["ci_low"]) or math.isnan(r["ci_high"])):
                    cell += f" [{_terse(r['ci_low'], unit)}, {_terse(r['ci_high'], unit)}]"
            else:
                cell = _terse(r["mean"], unit)
                d = diffs.get((name, s))
                if d is not None and not math.isnan(d["difference"]):
                    sign = "+" if d["difference"] >= 0 else "-"
                    cell += f" ({sign}{_terse(abs(d['difference']), unit)})"
            cells.append(f"{cell:>{width}}")
        lines.append(f"  {info['label'][:label_width]:<{label_width}}{_terse_unit(unit)[:11]:>12}" + "".join(cells))
    return "\n".join(lines)


# --------------------------------------------------------------------------- figures


def _figures(exp: Any) -> dict[str, Any]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from sim.experiment import A1_EDGES, ANSWER_EDGES, CARE_RATIO_EDGES, t_interval

    plt.rcParams.update({"font.size": 9, "axes.grid": True, "grid.color": "#dddddd", "figure.dpi": 100})
    reps = exp.replications
    names = [s.scenario.name for s in exp.scenarios]
    figs: dict[str, Any] = {}

    def total(s: Any, key: str, where: str = "hist") -> np.ndarray | None:
        if key not in s.replications[reps[0]][where]:
            return None
        return np.sum([np.asarray(s.replications[r][where][key], dtype=float) for r in reps], axis=0)

    def kpi_iv(s: Any, name: str):
        return t_interval(s.kpi_values(name, reps))

    # 1. time to answer per desk: cumulative distribution
    fig, ax = plt.subplots(figsize=(7, 3.6))
    k = 0
    for s in exp.scenarios:
        for desk in s.scenario.active_desks():
            h = total(s, f"answer.{desk}")
            if h is None or h.sum() == 0:
                continue
            cdf = np.concatenate(([0.0], np.cumsum(h) / h.sum()))
            ax.plot(ANSWER_EDGES, cdf, color=GREYS[k % 5], linestyle=STYLES[k % 5], label=f"{s.scenario.name}: {desk}")
            k += 1
    ax.set_xlim(0, 10)
    ax.set_xlabel("time to answer (min), answered public calls")
    ax.set_ylabel("share answered within")
    ax.legend(fontsize=7)
    ax.set_title("Time to answer per desk (cumulative)")
    figs["time_to_answer"] = fig

    # 2. time to care by urgency against target
    urgencies = list(dict.fromkeys(n.urgency for n in exp.scenarios[0].scenario.needs.values()))
    fig, ax = plt.subplots(figsize=(7, 3.6))
    width = 0.8 / len(names)
    x = np.arange(len(urgencies))
    for i, s in enumerate(exp.scenarios):
        means, errs = [], [[], []]
        for u in urgencies:
            iv = kpi_iv(s, f"care.{u}.within_target_share")
            means.append(iv.mean)
            errs[0].append(0 if math.isnan(iv.low) else iv.mean - iv.low)
            errs[1].append(0 if math.isnan(iv.high) else iv.high - iv.mean)
        ax.bar(x + i * width, means, width, yerr=errs, color="white", edgecolor="black", hatch=HATCHES[i % 5], label=s.scenario.name, capsize=2)
    ax.set_xticks(x + width * (len(names) - 1) / 2, urgencies)
    ax.set_ylim(0, 1.05)
    ax.axhline(0.95, color="black", linewidth=0.8, linestyle=":")
    ax.set_ylabel("share within target (95 % CI)")
    ax.set_title("Time to care within the urgency's target (dotted line: 95 %)")
    ax.legend(fontsize=7, loc="lower right")
    figs["care_within_target"] = fig

    # 3. misrouted requests by part
    parts = [("misrouted.wrong_door.share", "wrong door"), ("misrouted.over_triage.share", "over-triage"), ("misrouted.under_triage.share", "under-triage"), ("misrouted.share", "misrouted (any)")]
    fig, ax = plt.subplots(figsize=(7, 3.4))
    x = np.arange(len(parts))
    for i, s in enumerate(exp.scenarios):
        ivs = [kpi_iv(s, p) for p, _ in parts]
        means = [100 * iv.mean for iv in ivs]
        err = [[0 if math.isnan(iv.low) else 100 * (iv.mean - iv.low) for iv in ivs], [0 if math.isnan(iv.high) else 100 * (iv.high - iv.mean) for iv in ivs]]
        ax.bar(x + i * width, means, width, yerr=err, color="white", edgecolor="black", hatch=HATCHES[i % 5], label=s.scenario.name, capsize=2)
    ax.set_xticks(x + width * (len(names) - 1) / 2, [label for _, label in parts])
    ax.set_ylabel("% of phone requests (95 % CI)")
    ax.set_title("Misrouted requests and their parts")
    ax.legend(fontsize=7)
    figs["misrouted"] = fig

    # 4. hour-of-week profiles: waits per desk, front-desk and ambulance utilisation
    from sim.kpis import desk_pool_names

    hours = np.arange(168)
    fig, axes = plt.subplots(3, 1, figsize=(8, 7.2), sharex=True)
    k = 0
    for s in exp.scenarios:
        for desk in s.scenario.active_desks():
            ws, wn = total(s, f"wait_sum.{desk}", "profiles"), total(s, f"wait_n.{desk}", "profiles")
            if ws is None:
                continue
            with np.errstate(invalid="ignore", divide="ignore"):
                axes[0].plot(hours, np.where(wn > 0, ws / wn, np.nan), color=GREYS[k % 5], linestyle=STYLES[k % 5], label=f"{s.scenario.name}: {desk}")
            k += 1
    axes[0].set_ylabel("mean time to\nanswer (min)")
    axes[0].set_title("Hour-of-week profiles (Monday 00:00 = 0)")
    axes[0].legend(fontsize=6, ncol=2)
    for panel, pools_of, what in (
        (axes[1], desk_pool_names, "front-desk staff\nutilisation"),
        (axes[2], lambda sc: ["ambulances"], "ambulance\nutilisation"),
    ):
        for i, s in enumerate(exp.scenarios):
            pools = pools_of(s.scenario)
            busy = sum(total(s, f"busy.{p}", "profiles") for p in pools)
            present = sum(total(s, f"present.{p}", "profiles") for p in pools)
            with np.errstate(invalid="ignore", divide="ignore"):
                panel.plot(hours, np.where(present > 0, busy / present, np.nan), color=GREYS[i % 5], linestyle=STYLES[i % 5], label=s.scenario.name)
        panel.set_ylabel(what)
        panel.set_ylim(0, 1.05)
        panel.legend(fontsize=6)
    axes[2].set_xlabel("hour of week")
    axes[2].set_xticks(range(0, 169, 24), ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun", ""])
    figs["hour_of_week"] = fig

    # 5. A1 response distribution with the 15-minute line
    fig, ax = plt.subplots(figsize=(7, 3.4))
    for i, s in enumerate(exp.scenarios):
        h = total(s, "a1_response")
        if h is None or h.sum() == 0:
            continue
        cdf = np.concatenate(([0.0], np.cumsum(h) / h.sum()))
        ax.plot(A1_EDGES, cdf, color=GREYS[i % 5], linestyle=STYLES[i % 5], label=s.scenario.name)
    ax.axvline(15, color="black", linewidth=1.0)
    ax.axhline(0.95, color="black", linewidth=0.8, linestyle=":")
    ax.text(15.3, 0.05, "15 min norm", fontsize=8)
    ax.set_xlim(0, 40)
    ax.set_xlabel("A1 response: call taken to ambulance on scene (min)")
    ax.set_ylabel("share of A1 rides within")
    ax.set_title("A1 response time (cumulative; dotted line: 95 % norm)")
    ax.legend(fontsize=7)
    figs["a1_response"] = fig

    # 6. ambulance rides for GP-type needs
    fig, ax = plt.subplots(figsize=(6, 3.2))
    ivs = [kpi_iv(s, "ambulance.rides_gp_type.per_week") for s in exp.scenarios]
    err = [[0 if math.isnan(iv.low) else iv.mean - iv.low for iv in ivs], [0 if math.isnan(iv.high) else iv.high - iv.mean for iv in ivs]]
    ax.bar(range(len(names)), [iv.mean for iv in ivs], yerr=err, color="white", edgecolor="black", hatch="//", capsize=3)
    ax.set_xticks(range(len(names)), names)
    ax.set_ylabel("rides per week (95 % CI)")
    ax.set_title("Ambulance rides for GP-type needs")
    figs["ambulance_gp_type"] = fig

    # 7. care reached vs time relative to target, per urgency (first scenario vs others)
    fig, ax = plt.subplots(figsize=(7, 3.4))
    k = 0
    for u in urgencies[:4]:
        for i, s in enumerate(exp.scenarios):
            h = total(s, f"care.{u}")
            if h is None or h.sum() == 0:
                continue
            reached = h[:-1]
            cdf = np.concatenate(([0.0], np.cumsum(reached) / h.sum()))
            ax.plot(CARE_RATIO_EDGES, cdf, color=GREYS[i % 5], linestyle=STYLES[k % 5], label=f"{u}: {s.scenario.name}")
        k += 1
    ax.axvline(1.0, color="black", linewidth=1.0)
    ax.set_xlabel("time to care / target")
    ax.set_ylabel("share of requests")
    ax.set_title("Time to care relative to target (1.0 = target)")
    ax.legend(fontsize=6, ncol=2)
    figs["care_vs_target"] = fig
    return figs


def _save_figures(figs: dict[str, Any], folder: Path) -> dict[str, str]:
    import matplotlib.pyplot as plt

    out = folder / "figures"
    out.mkdir(exist_ok=True)
    embedded: dict[str, str] = {}
    for name, fig in figs.items():
        fig.tight_layout()
        fig.savefig(out / f"{name}.png", dpi=110)
        fig.savefig(out / f"{name}.svg")
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=110)
        embedded[name] = base64.b64encode(buf.getvalue()).decode("ascii")
        plt.close(fig)
    return embedded


# --------------------------------------------------------------------------- HTML

CSS = """
body{font-family:Georgia,'Times New Roman',serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#111;line-height:1.45}
h1{font-size:1.6em;margin-bottom:.2em} h2{border-bottom:1px solid #999;padding-bottom:.2em;margin-top:1.6em}
table{border-collapse:collapse;font-size:.82em;margin:.6em 0} th,td{border:1px solid #bbb;padding:.25em .45em;text-align:right;vertical-align:top}
th{background:#eee} td.l,th.l{text-align:left} tr.sec td{background:#f4f4f4;font-weight:bold;text-align:left}
.small{font-size:.85em;color:#444} figure{margin:1em 0} figcaption{font-size:.85em;color:#333}
img{max-width:100%;border:1px solid #ddd} li{margin:.25em 0}
"""


def _e(text: Any) -> str:
    return html.escape(str(text))


def _headlines(exp: Any) -> list[str]:
    from sim.experiment import paired_difference, t_interval

    reps = exp.replications
    base = exp.scenarios[0]
    out: list[str] = []
    for k in exp.kpis():
        if not k.headline:
            continue
        if k.name not in base.replications[reps[0]]["kpis"]:
            continue
        a = base.kpi_values(k.name, reps)
        ia = t_interval(a)
        if len(exp.scenarios) == 1:
            out.append(f"{_e(k.label)}: <b>{_e(format_interval(ia.mean, ia.low, ia.high, k.unit))}</b> (95 % CI).")
            continue
        for s in exp.scenarios[1:]:
            if k.name not in s.replications[reps[0]]["kpis"]:
                continue
            b = s.kpi_values(k.name, reps)
            ib = t_interval(b)
            d = paired_difference(a, b)
            di = d.interval
            verdict = (
                "a difference the replications cannot tell from zero"
                if math.isnan(di.low) or (di.low <= 0 <= di.high)
                else ("higher" if di.mean > 0 else "lower")
            )
            out.append(
                f"{_e(k.label)}: <b>{_e(format_interval(ia.mean, ia.low, ia.high, k.unit))}</b> in "
                f"{_e(base.scenario.name)} versus <b>{_e(format_interval(ib.mean, ib.low, ib.high, k.unit))}</b> in "
                f"{_e(s.scenario.name)}; paired difference <b>{_e(format_difference(di.mean, di.low, di.high, k.unit))}</b>"
                f" (95 % CI{'' if math.isnan(d.p_value) else f', p = {d.p_value:.3g}'}): {verdict}."
            )
    return out


def write_report(folder: Path, exp: Any, meta: dict[str, Any]) -> Path:
    figs = _figures(exp)
    images = _save_figures(figs, folder)
    summary = exp.summary_rows()
    comparison = exp.comparison_rows()
    names = [s.scenario.name for s in exp.scenarios]
    diffs = {(c["kpi"], c["scenario"]): c for c in comparison}
    by_kpi: dict[str, dict[str, Any]] = {}
    for r in summary:
        by_kpi.setdefault(r["kpi"], {"label": r["label"], "unit": r["unit"]})[r["scenario"]] = r

    parts: list[str] = []
    add = parts.append
    add(f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{_e(meta['name'])}: after-hours acute care</title><style>{CSS}</style></head><body>")
    add("<h1>After-hours acute care: " + " vs ".join(_e(n) for n in names) + "</h1>")
    add(
        f"<p class='small'>{len(exp.replications)} replications per scenario, each of "
        f"{exp.scenarios[0].scenario.run.weeks} weeks after a {exp.scenarios[0].scenario.run.warmup_days:g}-day warm-up; "
        f"base seed {exp.base_seed}; common random numbers (the same callers, needs and task draws in every scenario). "
        f"Figures are for requests arriving in the after-hours window (weekdays 17:00-08:00, weekends, public holidays). "
        f"Created {_e(meta.get('created', ''))}.</p>"
    )
    add("<h2>Headline findings</h2><ul>")
    for line in _headlines(exp):
        add(f"<li>{line}</li>")
    add("</ul>")
    if meta.get("precision") is not None:
        add(
            f"<p>Replications were added until the relative 95 % half-width of the headline figures and of their "
            f"paired differences was at most {100 * meta['precision']:.1f} % (cap {meta['max_replications']}): "
            f"{len(exp.replications)} replications were needed (largest relative half-width "
            f"{100 * meta.get('precision_achieved', math.nan):.1f} %).</p>"
        )

    add("<h2>Figures</h2>")
    captions = {
        "time_to_answer": "Time to answer per desk: share of answered public calls answered within x minutes (112 calls include the national 112 desk).",
        "care_within_target": "Share of requests whose care started within the target of their urgency, with 95 % confidence intervals over replications.",
        "misrouted": "Misrouted requests by part: reached a wrong door first, or mis-triaged to a wrong service before care (over- or under-triage). Parts overlap.",
        "hour_of_week": "Mean time to answer per desk (after-hours requests), time-weighted utilisation of all front-desk staff together and of the ambulance fleet, by hour of the week.",
        "a1_response": "A1 response: from the call being taken at the dispatching desk to the ambulance on scene; the vertical line is the 15-minute norm.",
        "ambulance_gp_type": "Ambulance rides for needs that belong to GP care, per week.",
        "care_vs_target": "Time to care as a multiple of the urgency's target (curves end below 1 where requests never got care).",
    }
    for name, data in images.items():
        add(f"<figure><img alt='{_e(captions.get(name, name))}' src='data:image/png;base64,{data}'><figcaption>{_e(captions.get(name, name))}</figcaption></figure>")

    add("<h2>Every figure per scenario</h2>")
    add("<p class='small'>Mean over replications with its 95 % confidence interval in brackets; for the second and later scenarios, "
        f"the paired difference to {_e(names[0])} with its interval and p-value (two-sided paired t-test).</p>")
    add("<table><tr><th class='l'>figure</th>" + "".join(f"<th>{_e(n)}</th>" for n in names))
    add("".join(f"<th>{_e(n)} &minus; {_e(names[0])}</th><th>p</th>" for n in names[1:]) + "</tr>")
    current = None
    ncols = 1 + len(names) + 2 * (len(names) - 1)
    order = list(dict.fromkeys(label for _, label in SECTIONS)) + ["Other"]
    for kpi, info in sorted(by_kpi.items(), key=lambda item: order.index(_section(item[0]))):
        section = _section(kpi)
        if section != current:
            add(f"<tr class='sec'><td colspan='{ncols}'>{_e(section)}</td></tr>")
            current = section
        cells = [f"<td class='l'>{_e(info['label'])}<br><span class='small'>{_e(kpi)}</span></td>"]
        for n in names:
            r = info.get(n)
            cells.append("<td>-</td>" if r is None else f"<td>{_e(format_interval(r['mean'], r['ci_low'], r['ci_high'], info['unit']))}</td>")
        for n in names[1:]:
            d = diffs.get((kpi, n))
            if d is None:
                cells.append("<td>-</td><td>-</td>")
            else:
                p = d["p_value"]
                cells.append(
                    f"<td>{_e(format_difference(d['difference'], d['diff_ci_low'], d['diff_ci_high'], info['unit']))}</td>"
                    f"<td>{'n/a' if math.isnan(p) else f'{p:.3g}'}</td>"
                )
        add("<tr>" + "".join(cells) + "</tr>")
    add("</table>")

    add(_model_description(exp, meta))
    add("</body></html>")
    path = folder / "report.html"
    path.write_text("\n".join(parts), encoding="utf-8")
    return path


def _model_description(exp: Any, meta: dict[str, Any]) -> str:
    sc0 = exp.scenarios[0].scenario
    out = ["<h2>Model description</h2>"]
    out.append(
        "<p><b>Objective.</b> Compare organisational forms of the after-hours front doors of acute care: "
        "<i>separate</i> (112 with the ambulance dispatch centre, MKA, and the GP out-of-hours post, each with its own number), "
        "<i>colocated</i> (both numbers stay, staff share one room: warm transfers, an ambulance can leave while the GP-post "
        "triagist is still on the line) and <i>central</i> (one entry point: a pooled desk triages every request once and "
        "sends the right professional).</p>"
    )
    out.append(
        "<p><b>Logic.</b> Requests arrive as non-stationary Poisson processes with an hour-of-week profile; each has a true "
        "need that fixes the right service and its time target. People choose a number (or walk into the emergency "
        "department), queue with finite patience, hang up, redial or switch numbers. Desks triage with a confusion matrix "
        "(true need to assigned need) and dispatch ambulances (A1 before A2 before B), GP consultations, GP home visits, "
        "district nurses or the mental-health crisis team, or give advice. Staff and vehicles follow day-part schedules; "
        "a person finishes the job in hand at the end of a shift. A replication is a pure function of the scenario, its "
        "replication number and the base seed.</p>"
    )
    out.append(
        "<p><b>Words.</b> <i>Misrouted</i>: a request that reached a wrong door first or was mis-triaged to a wrong service "
        "before its care started. <i>Time to answer</i>: call placed to a person speaking. <i>Time to care</i>: request start "
        "to the right professional with the patient (ambulance on scene, consultation starts, GP arrives, advice given).</p>"
    )
    out.append("<p><b>Experimentation.</b> ")
    out.append(
        f"Replications: {len(exp.replications)} per scenario (numbers {exp.replications[0]}-{exp.replications[-1]}); "
        f"base seed {exp.base_seed}; warm-up {sc0.run.warmup_days:g} days; reporting {sc0.run.weeks} weeks; "
        f"drain {sc0.run.drain_hours:g} h after the last arrival. Intervals are t-based over replications (scipy.stats).</p>"
    )
    out.append("<table><tr><th class='l'>scenario</th><th class='l'>form</th><th class='l'>file</th><th class='l'>content hash</th></tr>")
    for s in exp.scenarios:
        out.append(
            f"<tr><td class='l'>{_e(s.scenario.name)}</td><td class='l'>{_e(s.scenario.organisation)}</td>"
            f"<td class='l'>{_e(s.source)}</td><td class='l'>{_e(s.scenario.content_hash()[:16])}</td></tr>"
        )
    out.append("</table>")
    out.append("<p><b>Implementation.</b> Python discrete-event simulation with SimPy. Versions: "
               + ", ".join(f"{_e(k)} {_e(v)}" for k, v in meta.get("versions", {}).items())
               + f"; code commit {_e(meta.get('git_commit') or 'unknown')}.</p>")
    out.append("<h3>Inputs, sources and confidence</h3>")
    out.append("<p class='small'>Confidence: measured (published count), norm (legal or professional target), "
               "estimated (derived from published figures), guessed (a judgement to vary in sensitivity runs).</p>")
    out.append("<table><tr><th class='l'>input</th><th class='l'>value in " + _e(sc0.name) + "</th><th class='l'>confidence</th><th class='l'>source</th></tr>")
    for path, prov in sc0.provenance.items():
        out.append(
            f"<tr><td class='l'>{_e(path)}</td><td class='l'>{_e(_short_value(sc0, path))}</td>"
            f"<td class='l'>{_e(prov.confidence)}</td><td class='l'>{_e(prov.source)}</td></tr>"
        )
    out.append("</table>")
    differing = _differences(exp)
    if differing:
        out.append("<h3>How the scenarios differ</h3><table><tr><th class='l'>field</th>"
                   + "".join(f"<th class='l'>{_e(s.scenario.name)}</th>" for s in exp.scenarios) + "</tr>")
        for field, values in differing:
            out.append(f"<tr><td class='l'>{_e(field)}</td>" + "".join(f"<td class='l'>{_e(v)}</td>" for v in values) + "</tr>")
        out.append("</table>")
    return "\n".join(out)


def _short_value(sc: Any, dotted: str) -> str:
    node: Any = sc.model_dump(mode="json")
    for part in dotted.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    text = str(node)
    return text if len(text) <= 90 else text[:87] + "..."


def _flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(data, dict):
        out: dict[str, Any] = {}
        for k, v in data.items():
            out.update(_flatten(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    return {prefix: data}


def _differences(exp: Any) -> list[tuple[str, list[str]]]:
    flats = [_flatten({k: v for k, v in s.scenario.model_dump(mode="json").items() if k not in ("provenance", "description")}) for s in exp.scenarios]
    keys = list(dict.fromkeys(k for f in flats for k in f))
    out = []
    for key in keys:
        values = [f.get(key) for f in flats]
        if any(v != values[0] for v in values[1:]):
            out.append((key, ["-" if v is None else str(v) for v in values]))
    return out
