"""Readable summaries of results (plain text for the terminal)."""

from __future__ import annotations

import math

from sim.kpis import registry
from sim.scenario import Scenario

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


def format_value(value: float, unit: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if unit == "share":
        return f"{100 * value:6.1f} %"
    if unit == "min":
        return f"{value:7.2f} min"
    return f"{value:9.1f} {unit}"


def text_summary(sc: Scenario, kpis: dict[str, float], title: str | None = None) -> str:
    lines = [title or f"Scenario {sc.name} ({sc.organisation})"]
    by_section: dict[str, list[str]] = {}
    for kpi in registry(sc):
        if kpi.name not in kpis:
            continue
        section = next((label for prefix, label in SECTIONS if kpi.name.startswith(prefix)), "Other")
        by_section.setdefault(section, []).append(
            f"  {kpi.label[:92]:<92} {format_value(kpis[kpi.name], kpi.unit)}"
        )
    order = [label for _, label in SECTIONS] + ["Other"]
    for label in dict.fromkeys(order):
        if label in by_section:
            lines.append(label)
            lines.extend(by_section[label])
    return "\n".join(lines)
