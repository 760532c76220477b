"""The report's figures: one function per figure, each with its caption.

Figures use Okabe and Ito's colour-blind-safe palette together with line styles and
hatching, so they read with every common colour-vision deficiency and in grey-scale print.
Each function takes a finished experiment and returns a matplotlib figure (or None when
there is nothing to draw); ``FIGURES`` lists them in report order with their captions.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sim.experiments.comparison import Experiment, ScenarioResults
from sim.experiments.statistics import Interval, t_interval
from sim.measures.aggregates import A1_EDGES, ANSWER_EDGES, CARE_RATIO_EDGES
from sim.measures.kpis import desk_pool_names
from sim.report.style import pyplot, save_svg_png

#: One colour per scenario (Okabe-Ito, starting with black for today's form).
GREYS = ("#000000", "#0072B2", "#E69F00", "#009E73", "#CC79A7")
STYLES: tuple[Any, ...] = ("-", "--", ":", "-.", (0, (5, 1, 1, 1)))
HATCHES = ("", "//", "..", "xx", "\\\\")


def _pyplot() -> Any:
    """pyplot in the reports' style (``sim.report.style``)."""
    return pyplot()


def _total(exp: Experiment, s: ScenarioResults, key: str, where: str = "hist") -> np.ndarray | None:
    """A histogram or hour-of-week sum added up over the replications."""
    reps = exp.replications
    if key not in s.replications[reps[0]][where]:
        return None
    return np.sum([np.asarray(s.replications[r][where][key], dtype=float) for r in reps], axis=0)


def _interval(exp: Experiment, s: ScenarioResults, name: str) -> Interval:
    return t_interval(s.kpi_values(name, exp.replications))


def _tick_label(name: str, width: int = 16) -> str:
    """A scenario's name as an axis label, broken after underscores into lines of about
    ``width`` characters (four long names side by side ran into each other)."""
    first, *rest = name.split("_")
    lines = [first]
    for part in rest:
        if lines[-1] and len(lines[-1]) + 1 + len(part) > width:
            lines[-1] += "_"
            lines.append(part)
        else:
            lines[-1] += "_" + part
    return "\n".join(lines)


def _error_bars(ivs: list[Interval], scale: float = 1.0) -> list[list[float]]:
    """Lower and upper error-bar lengths of intervals (0 where undefined)."""
    low = [0 if math.isnan(iv.low) else scale * (iv.mean - iv.low) for iv in ivs]
    high = [0 if math.isnan(iv.high) else scale * (iv.high - iv.mean) for iv in ivs]
    return [low, high]


def time_to_answer(exp: Experiment) -> Any:
    """Time to answer per desk: cumulative distribution."""
    fig, ax = _pyplot().subplots(figsize=(7, 3.6))
    k = 0
    for s in exp.scenarios:
        for desk in s.scenario.active_desks():
            h = _total(exp, s, f"answer.{desk}")
            if h is None or h.sum() == 0:
                continue
            cdf = np.concatenate(([0.0], np.cumsum(h) / h.sum()))
            label = f"{s.scenario.name}: {desk}"
            ax.plot(ANSWER_EDGES, cdf, color=GREYS[k % 5], linestyle=STYLES[k % 5], label=label)
            k += 1
    ax.set_xlim(0, 10)
    ax.set_xlabel("time to answer (min), answered public calls")
    ax.set_ylabel("share answered within")
    ax.legend(fontsize=7)
    ax.set_title("Time to answer per desk (cumulative)")
    return fig


def _urgencies(exp: Experiment) -> list[str]:
    return list(dict.fromkeys(n.urgency for n in exp.scenarios[0].scenario.needs.values()))


def care_within_target(exp: Experiment) -> Any:
    """Time to care within the urgency's target, per urgency and scenario."""
    urgencies = _urgencies(exp)
    fig, ax = _pyplot().subplots(figsize=(7, 3.6))
    width = 0.8 / len(exp.scenarios)
    x = np.arange(len(urgencies))
    for i, s in enumerate(exp.scenarios):
        ivs = [_interval(exp, s, f"care.{u}.within_target_share") for u in urgencies]
        ax.bar(
            x + i * width,
            [iv.mean for iv in ivs],
            width,
            yerr=_error_bars(ivs),
            color="white",
            edgecolor="black",
            hatch=HATCHES[i % 5],
            label=s.scenario.name,
            capsize=2,
        )
    ax.set_xticks(x + width * (len(exp.scenarios) - 1) / 2, urgencies)
    ax.set_ylim(0, 1.05)
    ax.axhline(0.95, color="black", linewidth=0.8, linestyle=":")
    ax.set_ylabel("share within target (95 % CI)")
    ax.set_title("Time to care within the urgency's target (dotted line: 95 %)")
    ax.legend(fontsize=7, loc="lower right")
    return fig


MISROUTED_PARTS = (
    ("misrouted.never_answered.share", "never answered"),
    ("misrouted.over_triage.share", "over-triage"),
    ("misrouted.under_triage.share", "under-triage"),
    ("misrouted.other_service.share", "other wrong service"),
    ("misrouted.called_again.share", "had to call again"),
)
PART_FILLS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9")
PART_HATCHES = ("", "//", "", "..", "xx")


def misrouted(exp: Experiment) -> Any:
    """Misrouted requests per scenario, stacked by reason, with the total's interval."""
    fig, ax = _pyplot().subplots(figsize=(7, 3.6))
    x = np.arange(len(exp.scenarios))
    bottom = np.zeros(len(exp.scenarios))
    for k, (part, label) in enumerate(MISROUTED_PARTS):
        means = np.array([_interval(exp, s, part).mean for s in exp.scenarios]) * 100
        means = np.nan_to_num(means)
        ax.bar(
            x,
            means,
            0.6,
            bottom=bottom,
            color=PART_FILLS[k],
            edgecolor="black",
            hatch=PART_HATCHES[k],
            label=label,
        )
        bottom += means
    totals = [_interval(exp, s, "misrouted.share") for s in exp.scenarios]
    ax.errorbar(
        x,
        [100 * iv.mean for iv in totals],
        yerr=_error_bars(totals, 100.0),
        fmt="none",
        ecolor="black",
        capsize=4,
    )
    ax.set_xticks(x, [_tick_label(s.scenario.name) for s in exp.scenarios])
    ax.set_ylabel("% of phone requests")
    ax.set_title("Misrouted requests by reason (bar: total with its 95 % CI)")
    ax.legend(fontsize=7, loc="upper right")
    return fig


def hour_of_week(exp: Experiment) -> Any:
    """Hour-of-week profiles: waits per desk, front-desk and ambulance utilisation."""
    hours = np.arange(168)
    fig, axes = _pyplot().subplots(3, 1, figsize=(8, 7.2), sharex=True)
    k = 0
    for s in exp.scenarios:
        for desk in s.scenario.active_desks():
            ws = _total(exp, s, f"wait_sum.{desk}", "profiles")
            wn = _total(exp, s, f"wait_n.{desk}", "profiles")
            if ws is None or wn is None:
                continue
            with np.errstate(invalid="ignore", divide="ignore"):
                mean_wait = np.where(wn > 0, ws / wn, np.nan)
            label = f"{s.scenario.name}: {desk}"
            axes[0].plot(hours, mean_wait, color=GREYS[k % 5], linestyle=STYLES[k % 5], label=label)
            k += 1
    axes[0].set_ylabel("mean time to\nanswer (min)")
    axes[0].set_title("Hour-of-week profiles (Monday 00:00 = 0)")
    axes[0].legend(fontsize=6, ncol=2)
    panels: tuple[tuple[Any, Callable[[Any], list[str]], str], ...] = (
        (axes[1], desk_pool_names, "front-desk staff\nutilisation"),
        (axes[2], lambda sc: ["ambulances"], "ambulance\nutilisation"),
    )
    for panel, pools_of, what in panels:
        for i, s in enumerate(exp.scenarios):
            pools = pools_of(s.scenario)
            busy = sum(_total(exp, s, f"busy.{p}", "profiles") for p in pools)  # type: ignore[misc]
            present = sum(_total(exp, s, f"present.{p}", "profiles") for p in pools)  # type: ignore[misc]
            with np.errstate(invalid="ignore", divide="ignore"):
                share = np.where(present > 0, busy / present, np.nan)
            panel.plot(
                hours, share, color=GREYS[i % 5], linestyle=STYLES[i % 5], label=s.scenario.name
            )
        panel.set_ylabel(what)
        panel.set_ylim(0, 1.05)
        panel.legend(fontsize=6)
    axes[2].set_xlabel("hour of week")
    axes[2].set_xticks(range(0, 169, 24), ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun", ""])
    return fig


def a1_response(exp: Experiment) -> Any:
    """A1 response distribution with the 15-minute line."""
    fig, ax = _pyplot().subplots(figsize=(7, 3.4))
    for i, s in enumerate(exp.scenarios):
        h = _total(exp, s, "a1_response")
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
    return fig


def ambulance_gp_type(exp: Experiment) -> Any:
    """Ambulance rides for GP-type needs per scenario."""
    names = [s.scenario.name for s in exp.scenarios]
    fig, ax = _pyplot().subplots(figsize=(6, 3.2))
    ivs = [_interval(exp, s, "ambulance.rides_gp_type.per_week") for s in exp.scenarios]
    ax.bar(
        range(len(names)),
        [iv.mean for iv in ivs],
        yerr=_error_bars(ivs),
        color="white",
        edgecolor="black",
        hatch="//",
        capsize=3,
    )
    ax.set_xticks(range(len(names)), [_tick_label(n) for n in names])
    ax.set_ylabel("rides per week (95 % CI)")
    ax.set_title("Ambulance rides for GP-type needs")
    return fig


def care_vs_target(exp: Experiment) -> Any:
    """Care reached against time relative to target, per urgency (up to four urgencies)."""
    fig, ax = _pyplot().subplots(figsize=(7, 3.4))
    for k, u in enumerate(_urgencies(exp)[:4]):
        for i, s in enumerate(exp.scenarios):
            h = _total(exp, s, f"care.{u}")
            if h is None or h.sum() == 0:
                continue
            reached = h[:-1]
            cdf = np.concatenate(([0.0], np.cumsum(reached) / h.sum()))
            label = f"{u}: {s.scenario.name}"
            ax.plot(CARE_RATIO_EDGES, cdf, color=GREYS[i % 5], linestyle=STYLES[k % 5], label=label)
    ax.axvline(1.0, color="black", linewidth=1.0)
    ax.set_xlabel("time to care / target")
    ax.set_ylabel("share of requests")
    ax.set_title("Time to care relative to target (1.0 = target)")
    ax.legend(fontsize=6, ncol=2)
    return fig


def zone_map(exp: Experiment) -> Any | None:
    """The map of a geography (None without one): each zone's point, sized by its
    inhabitants and coloured by the first scenario's A1 within 15 min; posts and hospitals
    as markers. Kilometres on the scenario's grid."""
    s = exp.scenarios[0]
    geo = s.scenario.geography
    if geo is None:
        return None
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 5.6))
    zones = list(geo.zones.items())
    share = [
        t_interval(s.kpi_values(f"zone.{name}.a1_within_15.share", exp.replications)).mean
        for name, _ in zones
    ]
    points = ax.scatter(
        [z.x_km for _, z in zones],
        [z.y_km for _, z in zones],
        s=[max(30.0, z.population / 400.0) for _, z in zones],
        c=[100.0 * v for v in share],
        cmap="viridis",
        vmin=60,
        vmax=100,
        edgecolors="black",
        linewidths=0.5,
        zorder=2,
    )
    for (name, z), v in zip(zones, share, strict=True):
        label = name.replace("_", " ") + ("" if math.isnan(v) else f"\n{100 * v:.0f} %")
        ax.annotate(label, (z.x_km, z.y_km), fontsize=6, xytext=(6, -8), textcoords="offset points")
    markers = (
        (geo.posts.values(), "^", 28, "#D55E00", "ambulance post"),
        (geo.hospitals.values(), "P", 40, "#CC79A7", "hospital (ED)"),
    )
    for places, marker, size, colour, label in markers:
        xs, ys = zip(*((q.x_km, q.y_km) for q in places), strict=True)
        ax.scatter(xs, ys, marker=marker, s=size, color=colour, label=label, zorder=3)
    fig.colorbar(points, ax=ax, shrink=0.7, label=f"A1 within 15 min, % ({s.scenario.name})")
    ax.set_aspect("equal")
    ax.set_xlabel("km east")
    ax.set_ylabel("km north")
    ax.set_title("Demand zones (size: inhabitants), posts and hospitals")
    ax.legend(fontsize=6, loc="lower left")
    return fig


@dataclass(frozen=True)
class FigureSpec:
    """A report figure: file name, caption and the function that draws it."""

    name: str
    caption: str
    draw: Callable[[Experiment], Any]


FIGURES: tuple[FigureSpec, ...] = (
    FigureSpec(
        "time_to_answer",
        "Time to answer per desk: share of answered public calls answered within x minutes "
        "(112 calls include the national 112 desk).",
        time_to_answer,
    ),
    FigureSpec(
        "care_within_target",
        "Share of requests whose care started within the target of their urgency, with 95 % "
        "confidence intervals over replications.",
        care_within_target,
    ),
    FigureSpec(
        "misrouted",
        "Misrouted phone requests by reason, measured by outcome the same way in every form: "
        "never answered; a first disposition that sent a wrong service (over-triage, "
        "under-triage, or another service of the same acuity); or the right service but only "
        "after calling again. The reasons are exclusive and add up to the total.",
        misrouted,
    ),
    FigureSpec(
        "hour_of_week",
        "Mean time to answer per desk (after-hours requests), time-weighted utilisation of all "
        "front-desk staff together and of the ambulance fleet, by hour of the week.",
        hour_of_week,
    ),
    FigureSpec(
        "a1_response",
        "A1 response: from the call being taken at the dispatching desk to the ambulance on "
        "scene; the vertical line is the 15-minute norm.",
        a1_response,
    ),
    FigureSpec(
        "ambulance_gp_type",
        "Ambulance rides for needs that belong to GP care, per week.",
        ambulance_gp_type,
    ),
    FigureSpec(
        "care_vs_target",
        "Time to care as a multiple of the urgency's target (curves end below 1 where requests "
        "never got care).",
        care_vs_target,
    ),
)


def save_figure(fig: Any, folder: Path, name: str) -> str:
    """Save a figure as SVG and 300-dpi PNG under ``folder/figures``; return the SVG to
    place in the report (it scales and prints sharply)."""
    return save_svg_png(fig, folder, name)
