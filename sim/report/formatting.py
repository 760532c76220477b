"""Numbers in units, formatted once for the terminal, the HTML report and validation tables.

Units are the KPI registry's: ``share`` (a fraction, shown in per cent), ``min`` (minutes)
and count units such as ``requests/week``. A missing value (None or nan) is ``n/a``.
"""

from __future__ import annotations

import math
from typing import Any


def is_missing(value: float | None) -> bool:
    """Whether a value is absent: None or nan."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def cell_number(value: Any) -> float:
    """A number from a table cell or JSON value; an empty cell, null or text that is not a
    number (a value that could not be estimated) is nan."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def unit_scale(unit: str) -> float:
    """The factor from the stored value to the shown one (shares are shown in per cent)."""
    return 100.0 if unit == "share" else 1.0


def unit_label(unit: str) -> str:
    """A short label of a unit for table headers and axes."""
    return {"share": "%", "min": "min"}.get(unit, unit)


def format_number(value: float, unit: str, signed: bool = False) -> str:
    """The bare number in the unit's precision: one decimal of a per cent, two of a minute,
    one of a count (with thousands separators); with ``signed`` a leading + or -."""
    sign = "+" if signed else ""
    if unit == "share":
        return f"{100 * value:{sign}.1f}"
    if unit == "min":
        return f"{value:{sign}.2f}"
    return f"{value:{sign},.1f}"


def format_value(value: float | None, unit: str) -> str:
    """A value with its unit: ``12.3 %``, ``0.45 min``, ``1,234.5 rides/week``."""
    if is_missing(value):
        return "n/a"
    suffix = {"share": " %", "min": " min"}.get(unit, f" {unit}")
    return format_number(value, unit) + suffix  # type: ignore[arg-type]


def format_interval(mean: float, low: float, high: float, unit: str) -> str:
    """A value with its unit and its interval: ``12.3 % [11.9, 12.7]``."""
    text = format_value(mean, unit)
    if math.isnan(low) or math.isnan(high):
        return text
    return f"{text} [{format_number(low, unit)}, {format_number(high, unit)}]"


def format_difference(diff: float, low: float, high: float, unit: str) -> str:
    """A signed difference with its interval: ``+1.2 pts [+0.8, +1.6]``."""
    if math.isnan(diff):
        return "n/a"
    suffix = {"share": " pts", "min": " min"}.get(unit, "")
    core = format_number(diff, unit, signed=True) + suffix
    if math.isnan(low):
        return core
    return f"{core} [{format_number(low, unit, True)}, {format_number(high, unit, True)}]"


def format_terse(value: float | None, unit: str) -> str:
    """A bare number for a narrow table cell (counts of 1,000 and more lose the decimal)."""
    if is_missing(value):
        return "n/a"
    if unit in ("share", "min") or abs(value) < 1000:  # type: ignore[arg-type]
        return format_number(value, unit)  # type: ignore[arg-type]
    return f"{value:,.0f}"


#: Report sections: a KPI belongs to the first section whose prefix its name starts with.
SECTIONS: tuple[tuple[str, str], ...] = (
    ("misrouted.", "Misrouted requests"),
    ("doors.", "Doors (descriptive)"),
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
SECTION_ORDER = list(dict.fromkeys(label for _, label in SECTIONS)) + ["Other"]


IN_SYSTEM_KPI = "requests.in_system_at_end"


def in_system_warnings(rows: list[dict[str, Any]]) -> list[str]:
    """A warning per scenario whose runs ended with requests still in the system: their
    figures miss what happened to those requests (lengthen ``run.drain_hours``)."""
    out = []
    for r in rows:
        if r["kpi"] == IN_SYSTEM_KPI and not is_missing(r["mean"]) and r["mean"] > 0:
            out.append(
                f"Warning: {r['scenario']} ended with {r['mean']:.1f} requests still in the "
                "system on average (after the drain period); figures miss what happened to "
                "them. Lengthen run.drain_hours or look for a queue that never empties."
            )
    return out


def section_of(kpi_name: str) -> str:
    """The report section of a KPI."""
    return next((label for prefix, label in SECTIONS if kpi_name.startswith(prefix)), "Other")


#: Short names of the headline figures for 100-column lines (the labels are sentences).
SHORT_LABELS = {
    "misrouted.share": "Misrouted requests",
    "answer.all.mean_min": "Time to answer, all public calls",
    "answer.all.abandoned_share": "Calls abandoned in a queue",
    "answer.mka.mean_min": "Time to answer, MKA (112)",
    "answer.gp_post.mean_min": "Time to answer, GP post",
    "answer.coordination.mean_min": "Time to answer, coordination desk",
    "triage.time_to_triage.mean_min": "Time from first call to triage",
    "ambulance.vehicle_hours_gp_type.per_week": "Ambulance hours, GP-type needs",
    "ambulance.rides_gp_type.share": "Ambulance rides for GP-type needs",
    "ambulance.a1_within_15.share": "A1 rides on scene within 15 min",
}


def short_label(kpi: str, label: str) -> str:
    """A name of at most 36 characters for a KPI (care within target: by urgency)."""
    if kpi in SHORT_LABELS:
        return SHORT_LABELS[kpi]
    parts = kpi.split(".")
    if len(parts) == 3 and parts[0] == "care" and parts[2] == "within_target_share":
        return f"Care within target, {parts[1]}"
    return label if len(label) <= 36 else label[:35] + "~"
