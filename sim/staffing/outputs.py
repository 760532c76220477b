"""What a staffing search hands a region: tables, a scenario snippet, hours, FTE, costs,
the verification of every norm, a figure and a report.

Staff hours per week are the roster's paid hours: each day part's number times the hours
the day part covers in a week (an ordinary week; holidays follow their day type). FTE is
staff hours per week over ``staffing.hours_per_fte``; a year is 365.25 / 7 weeks.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from sim.experiments.runfiles import atomic_open, write_csv, write_json
from sim.experiments.stress import write_stress_des
from sim.measures.kpis import WEEKS_PER_YEAR
from sim.report.style import pyplot, save_svg_png
from sim.scenario.hourly import HOUR_PARTS, table_path
from sim.scenario.schema import Scenario
from sim.staffing.fleet import file_tables, own_table
from sim.staffing.measure import NORMS, norm_keys, summed
from sim.staffing.search import SearchResult


def roster_hours(sc: Scenario, table: Mapping[str, int]) -> float:
    """Paid staff hours per ordinary week of a table by day part."""
    return float(
        sum(n * len(sc.calendar.day_parts[part].hours_of_week()) for part, n in table.items())
    )


def _money(sc: Scenario, key: str, hours: float) -> float:
    """Cost per week of ``hours`` at the rate ``costs.per_hour[key]`` (nan without one)."""
    if sc.costs is None or key not in sc.costs.per_hour:
        return math.nan
    return hours * sc.costs.per_hour[key]


def pool_rows(result: SearchResult) -> list[dict[str, Any]]:
    """Per pool: today's roster and the ones found (by day part, hour by hour, in shifts),
    in hours, FTE and money per week and year."""
    sc = result.scenario
    fte = sc.staffing.hours_per_fte
    rows = []
    for p in result.pools:
        now = roster_hours(sc, own_table(sc, p.table))
        found = roster_hours(sc, result.tables[p.table])
        key = p.cost_key
        plan = result.shift_plans.get(p.pool)
        shifts = float(plan.paid_hours) if plan is not None else math.nan
        rows.append(
            {
                "pool": p.pool,
                "staff": p.label,
                "kind": "service" if p.service else "front desk",
                "table": p.table,
                "alpha": result.alpha[p.pool],
                "hours_per_week_now": now,
                "hours_per_week_hourly": float(result.hourly[p.pool].sum()),
                "hours_per_week": found,
                "hours_per_week_shifts": shifts,
                "shifts_proven_least": plan.optimal if plan is not None else None,
                "fte_now": now / fte,
                "fte": found / fte,
                "fte_shifts": shifts / fte,
                "cost_per_week_now": _money(sc, key, now),
                "cost_per_week": _money(sc, key, found),
                "cost_per_year": _money(sc, key, found) * WEEKS_PER_YEAR,
                "cost_per_week_shifts": _money(sc, key, shifts),
                "cost_per_year_shifts": _money(sc, key, shifts) * WEEKS_PER_YEAR,
            }
        )
    return rows


#: The figures of ``pool_rows`` that add up over the front desks.
TOTALS = (
    "hours_per_week_now",
    "hours_per_week_hourly",
    "hours_per_week",
    "hours_per_week_shifts",
    "fte_now",
    "fte",
    "fte_shifts",
    "cost_per_week_now",
    "cost_per_week",
    "cost_per_year",
    "cost_per_week_shifts",
    "cost_per_year_shifts",
)


def totals(rows: Sequence[Mapping[str, Any]], kind: str | None = None) -> dict[str, float]:
    """The pools together, or those of one kind (``front desk``, ``service``); nan where
    any pool has no figure (no rate, no shifts)."""
    return {k: float(sum(r[k] for r in rows if kind in (None, r["kind"]))) for k in TOTALS}


def snippet(result: SearchResult) -> str:
    """The tables found as YAML to paste into the scenario (nested as in the file)."""
    data: dict[str, Any] = {}
    for name, table in file_tables(result.scenario, result.tables).items():
        *parents, key = table_path(name)
        node = data
        for part in parents:
            node = node.setdefault(part, {})
        node[key] = dict(table)
    head = (
        f"# Staffing found for {result.scenario.name} by `run_sim.py staffing`: the least\n"
        "# staff per day part that meets the norms in staffing.norms (see norms.csv).\n"
    )
    return head + yaml.safe_dump(data, sort_keys=False, default_flow_style=None, width=100)


def hourly_rows(result: SearchResult) -> list[dict[str, Any]]:
    """Per pool and hour of the week: open, demand, load, hourly requirement, roster, and
    the verification's share of each norm met in that hour (empty when none offered)."""
    sc = result.scenario
    part_of_hour = sc.calendar.day_part_of_hour()
    own = {p.pool: [key for key, *_ in norm_keys(sc, p)] for p in result.pools}
    columns = [key for key, _ in NORMS]
    columns += [k for keys in own.values() for k in keys if k not in columns]
    rows = []
    for p in result.pools:
        table = result.tables[p.table]
        verified = bool(result.verified)
        sums = {
            f"{n}_{x}": summed(result.verified, p.pool, f"{n}_{x}")
            for n in (own[p.pool] if verified else ())
            for x in ("n", "met")
        }
        for h in range(168):
            row: dict[str, Any] = {
                "pool": p.pool,
                "hour": HOUR_PARTS[h],
                "open": bool(p.open_how[h]),
                "arrivals_per_hour": float(result.arrivals_per_hour[p.pool][h]),
                "offered_load_erlang": float(result.offered_load[p.pool][h]),
                "required_hourly": int(result.hourly[p.pool][h]),
                "day_part": part_of_hour[h],
                "roster": int(table[part_of_hour[h]]),
                "shift_roster": (
                    int(result.shift_plans[p.pool].on_duty[h]) if result.shift_plans else None
                ),
            }
            for n in columns:
                offered = sums[f"{n}_n"][h] if f"{n}_n" in sums else 0
                row[f"{n}_share"] = sums[f"{n}_met"][h] / offered if offered else math.nan
            rows.append(row)
    return rows


def norm_rows(result: SearchResult) -> list[dict[str, Any]]:
    """The verification of every norm of every pool, for each roster verified."""
    labels = {p.pool: p.label for p in result.pools}
    what = {key: label for p in result.pools for key, label, *_ in norm_keys(result.scenario, p)}
    rosters = [
        ("scenario's own", result.own_norms),
        ("day parts", result.norms),
        ("shifts", result.shift_norms),
    ]
    return [
        {
            "roster": roster,
            "pool": r.pool,
            "staff": labels[r.pool],
            "norm": r.norm,
            "what": what[r.norm],
            "target": r.target,
            "direction": "at most" if r.norm == "abandoned" else "at least",
            "mean": r.mean,
            "ci_low": r.low,
            "ci_high": r.high,
            "one_sided_bound": r.bound,
            "met": r.met,
            "met_how": r.how,
            "unlimited_units_share": r.reference,
            "offered_per_week": r.offered_per_week,
        }
        for roster, norms in rosters
        for r in norms
    ]


def shift_rows(result: SearchResult) -> list[dict[str, Any]]:
    """Every shift of every desk's roster."""
    return [
        {"pool": pool, "day": day, "start_hour": start, "hours": length, "staff": count}
        for pool, plan in result.shift_plans.items()
        for day, start, length, count in plan.shifts
    ]


def staffing_figure(result: SearchResult, folder: Path) -> str:
    """Required staff by hour of the week (hourly and by day part) against the demand."""
    plt = pyplot()
    n = len(result.pools)
    fig, axes = plt.subplots(n, 1, figsize=(10, 2.6 * n), sharex=True, squeeze=False)
    hours = np.arange(169)
    for ax, p in zip(axes[:, 0], result.pools, strict=True):
        part_of_hour = result.scenario.calendar.day_part_of_hour()
        roster = [result.tables[p.table][part_of_hour[h]] for h in range(168)]
        hourly = result.hourly[p.pool]
        ax.step(hours, [*hourly, hourly[-1]], where="post", label="needed, hour by hour")
        ax.step(hours, [*roster, roster[-1]], where="post", ls="--", label="roster by day part")
        plan = result.shift_plans.get(p.pool)
        if plan is not None:
            shifts = [*plan.on_duty, plan.on_duty[-1]]
            ax.step(hours, shifts, where="post", ls=":", label="roster in shifts")
        ax.set_ylabel("staff on duty")
        ax.set_title(p.label, loc="left", fontsize=9)
        twin = ax.twinx()
        twin.fill_between(
            hours[:-1] + 0.5, result.arrivals_per_hour[p.pool], step="mid", alpha=0.15,
            color="#999999", label="claims per hour",
        )  # fmt: skip
        twin.set_ylabel("claims per hour", color="#666666")
        twin.grid(False)
        ax.set_zorder(twin.get_zorder() + 1)  # the staff lines over the demand
        ax.patch.set_visible(False)
        ax.yaxis.get_major_locator().set_params(integer=True)
        if ax is axes[0, 0]:
            lines = ax.get_legend_handles_labels()
            extra = twin.get_legend_handles_labels()
            ax.legend(lines[0] + extra[0], lines[1] + extra[1], loc="upper left", fontsize=7)
    ax = axes[-1, 0]
    ax.set_xticks(range(0, 169, 24))
    ax.set_xticklabels(["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun", ""])
    ax.set_xlim(0, 168)
    return save_svg_png(fig, folder, "staffing_by_hour")


def _pct(x: float) -> str:
    return "n/a" if math.isnan(x) else f"{100 * x:.1f} %"


def _eur(sc: Scenario, x: float) -> str:
    if math.isnan(x):
        return "n/a"
    currency = sc.costs.currency if sc.costs is not None else ""
    return f"{currency} {x:,.0f}"


def _answer(result: SearchResult) -> list[str]:
    """The report's first lines: what was done, and the staff found in hours and money."""
    sc = result.scenario
    rows = pool_rows(result)
    out = [
        f"# Staffing for {sc.name} ({sc.organisation})",
        "",
        f"The least staff per day part that meets the norms below, found by the iterative "
        f"staffing algorithm on the full model ({sc.staffing.replications} replications of "
        f"{sc.run.weeks} weeks per step, seed {sc.run.seed}) and verified on "
        f"{sc.staffing.verify_replications} independent replications.",
        "",
    ]
    kinds = [("front desk", "Front desks together", "staff")]
    if any(p.service for p in result.pools):
        kinds.append(("service", "Services together (GPs, GP cars, ambulances)", "unit"))
    for kind, title, unit in kinds:
        tot = totals(rows, kind)
        out.append(
            f"**{title}: {tot['hours_per_week']:.0f} {unit} hours a week "
            f"({tot['fte']:.1f} FTE of {sc.staffing.hours_per_fte:g} h), against "
            f"{tot['hours_per_week_now']:.0f} h ({tot['fte_now']:.1f} FTE) in the scenario; "
            f"{tot['hours_per_week_hourly']:.0f} h if {unit}s could change every hour.**"
        )
        if result.shift_plans:
            out.append(
                f"**In real shifts: {tot['hours_per_week_shifts']:.0f} paid hours a week "
                f"({tot['fte_shifts']:.1f} FTE).**"
            )
        out.append("")
    if sc.costs is not None:
        out.append(_cost_line(sc, totals(rows), bool(result.shift_plans)))
    return out


def _cost_line(sc: Scenario, tot: Mapping[str, float], shifts: bool) -> str:
    """What the rosters found cost, against the scenario's own."""
    return (
        f"Cost by day part: {_eur(sc, tot['cost_per_week'])} a week, "
        f"{_eur(sc, tot['cost_per_year'])} a year"
        + (
            f"; in shifts: {_eur(sc, tot['cost_per_week_shifts'])} a week, "
            f"{_eur(sc, tot['cost_per_year_shifts'])} a year"
            if shifts
            else ""
        )
        + f" (the scenario's roster: {_eur(sc, tot['cost_per_week_now'])} a week)."
    )


def _norms_section(result: SearchResult) -> list[str]:
    """The norms in words, then each norm of each desk as verified (by day part, and in
    shifts when there are shifts)."""
    sc = result.scenario
    norms = sc.staffing.norms
    callback = ""
    if norms.callback is not None:
        callback = (
            f"; {_pct(norms.callback.share)} of call-backs within {norms.callback.within_min:g} min"
        )
    out = [
        "## Norms",
        "",
        f"Urgent line {_pct(norms.urgent_answered_share)} and regular line "
        f"{_pct(norms.regular_answered_share)} answered within each desk's answer_norm; at "
        f"most {_pct(norms.abandoned_share_max)} of calls abandoned{callback}. A norm is met "
        f"when its one-sided {100 * sc.staffing.confidence:g} % bound meets it.",
        *_care_words(result),
        "",
        "| roster | staff | norm | target | verified mean [95 % CI] | bound | met |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in norm_rows(result):
        out.append(
            f"| {r['roster']} | {r['staff']} | {r['what']} | {r['direction']} "
            f"{_pct(r['target'])} | {_pct(r['mean'])} [{_pct(r['ci_low'])}, "
            f"{_pct(r['ci_high'])}] | {_pct(r['one_sided_bound'])} | {_met(r)} |"
        )
    return out


def _care_words(result: SearchResult) -> list[str]:
    """The care norms in words, when services are staffed."""
    sc = result.scenario
    if not any(p.service for p in result.pools):
        return []
    norms = sc.staffing.norms
    named = ", ".join(f"{u} {_pct(x)}" for u, x in norms.care.items()) or "none"
    return [
        "",
        f"Services: the share of requests of each urgency that a professional reaches within "
        f"their need's target ({named}). Travel and the desks limit what any number of units "
        f"can reach, so a care norm is also met when the share is at most "
        f"{100 * norms.care_tolerance:g} points below what unlimited units reach for the same "
        "callers (paired, at the same bound), whichever asks less: 'near unlimited' below, "
        "with the unlimited units' share. Where the ambulances stand follows the scenario's "
        "own plan; the search sets how many are on duty.",
    ]


def _met(row: Mapping[str, Any]) -> str:
    """A norm's verdict in the report's table."""
    if not row["met"]:
        return "**no**"
    if row["met_how"] == "near unlimited":
        return f"near unlimited ({_pct(row['unlimited_units_share'])})"
    return "yes"


def _shifts_section(result: SearchResult) -> list[str]:
    """Each desk's roster of shifts: which shifts, how many, paid hours."""
    if not result.shift_plans:
        return []
    patterns = result.scenario.staffing.shifts
    assert patterns is not None
    out = [
        "## Shifts",
        "",
        "The fewest paid hours of shifts starting at "
        + ", ".join(f"{h:02d}:00" for h in patterns.starts)
        + " and lasting "
        + ", ".join(f"{n}" for n in patterns.lengths)
        + " hours that cover every hour's requirement (an integer program; breaks are not "
        "modelled).",
        "",
    ]
    for p in result.pools:
        plan = result.shift_plans[p.pool]
        least = "proven least" if plan.optimal else "best found in the time limit"
        out += [f"**{p.label}**: {plan.paid_hours} paid hours a week ({least}).", ""]
        out += ["| day | shift | staff |", "|---|---|---|"]
        for day, start, length, count in plan.shifts:
            end = (start + length) % 24
            out.append(f"| {day} | {start:02d}:00-{end:02d}:00 ({length} h) | {count} |")
        out.append("")
    return out


def _tables_section(result: SearchResult) -> list[str]:
    """Staff per day part against the scenario's own, with hours, FTE and cost."""
    sc = result.scenario
    parts = list(sc.calendar.day_parts)
    out = [
        "## Staff per day part",
        "",
        "| staff | " + " | ".join(parts) + " | h/week | FTE | cost/week |",
        "|---|" + "---|" * (len(parts) + 3),
    ]
    for row in pool_rows(result):
        table, now = result.tables[row["table"]], own_table(sc, row["table"])
        cells = [f"{table[p]} ({now[p]})" for p in parts]
        out.append(
            f"| {row['staff']} | " + " | ".join(cells) + f" | {row['hours_per_week']:.0f} "
            f"({row['hours_per_week_now']:.0f}) | {row['fte']:.1f} | "
            f"{_eur(sc, row['cost_per_week'])} |"
        )
    return [*out, "", "Numbers in brackets: the scenario's own roster."]


def text_report(result: SearchResult) -> str:
    """The report: the answer (staff, hours, FTE, cost), the norms verified, the tables."""
    out = [*_answer(result), "", *_norms_section(result), "", *_tables_section(result), ""]
    out += _shifts_section(result)
    out += ["![Staff by hour of the week](figures/staffing_by_hour.png)", ""]
    out += ["## Scenario snippet", "", "```yaml", snippet(result).rstrip(), "```", ""]
    return "\n".join(out) + "\n"


def write_outputs(result: SearchResult, folder: Path, meta: Mapping[str, Any]) -> None:
    """Every file of a staffing run into ``folder``."""
    rows = pool_rows(result)
    write_stress_des(folder, meta, [result.scenario], "staffing")
    write_csv(folder / "staffing.csv", rows)
    write_csv(folder / "hourly.csv", hourly_rows(result))
    write_csv(folder / "norms.csv", norm_rows(result))
    if result.shift_plans:
        write_csv(folder / "shifts.csv", shift_rows(result))
    with atomic_open(folder / "snippet.yaml", "w", encoding="utf-8") as fh:
        fh.write(snippet(result))
    staffing_figure(result, folder)
    with atomic_open(folder / "report.md", "w", encoding="utf-8") as fh:
        fh.write(text_report(result))
    write_json(
        folder / "summary.json",
        {
            "meta": dict(meta),
            "tables": result.tables,
            "alpha": result.alpha,
            "pools": rows,
            "totals": totals(rows),
            "totals_by_kind": {kind: totals(rows, kind) for kind in ("front desk", "service")},
            "norms": norm_rows(result),
            "shifts": shift_rows(result),
            "steps": result.steps,
        },
    )
