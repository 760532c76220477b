"""Scenarios with a staffing number for every hour of the week.

A scenario gives staff by day part. The staffing search needs one number per hour of the
week, so it works on an equivalent scenario whose day parts are the 168 hours
(``mon_00`` .. ``sun_23``) and whose every staffing table (special days' tables included)
is spelt out hour by hour. Under the ``level`` shift rule the equivalent scenario gives the
same results as the original to the last bit (``tests/test_staffing.py``); under the
``handover`` rule every hour would become a shift change, so the equivalent scenario uses
the level rule.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sim.scenario.loader import validate_data
from sim.scenario.schema import DAYS, Scenario


def hour_part(how: int) -> str:
    """The name of hour ``how`` of the week (Monday 00:00 = 0) as a day part: ``mon_00``."""
    return f"{DAYS[how // 24]}_{how % 24:02d}"


HOUR_PARTS: tuple[str, ...] = tuple(hour_part(h) for h in range(168))


def _spelt_out(table: Mapping[str, int], part_of_hour: list[str]) -> dict[str, int]:
    """A (possibly partial) table by day part as a table by hour of the week."""
    return {HOUR_PARTS[h]: int(table[p]) for h, p in enumerate(part_of_hour) if p in table}


def table_path(name: str) -> list[str]:
    """The keys from the file's top to a staffing table named as in the file
    (``geography.posts.<post>.vehicles``: a post's name may hold a dot)."""
    if name.startswith("geography.posts.") and name.endswith(".vehicles"):
        return ["geography", "posts", name[len("geography.posts.") : -len(".vehicles")], "vehicles"]
    return name.split(".")


def _node(data: dict[str, Any], name: str) -> tuple[dict[str, Any], str]:
    """The dict holding a staffing table named as in the file, and the table's key."""
    *parents, key = table_path(name)
    node = data
    for p in parents:
        node = node[p]
    return node, key


def hourly(sc: Scenario) -> Scenario:
    """The equivalent scenario with one day part per hour of the week (see the module)."""
    part_of_hour = sc.calendar.day_part_of_hour()
    data = sc.model_dump(mode="json")
    data["calendar"]["day_parts"] = {
        HOUR_PARTS[h]: {"days": [DAYS[h // 24]], "start_hour": h % 24, "end_hour": h % 24 + 1}
        for h in range(168)
    }
    for name, table in sc.staffing_tables().items():
        node, key = _node(data, name)
        node[key] = _spelt_out(table, part_of_hour)
    for day_type in data["calendar"]["day_types"].values():
        day_type["staffing"] = {
            name: _spelt_out(table, part_of_hour) for name, table in day_type["staffing"].items()
        }
    data["behaviour"]["shift_change"] = "level"
    # uncertain inputs may name day parts; a staffing search does not draw them
    data["uncertainty"] = {}
    return validate_data(data)


def with_tables(sc: Scenario, tables: Mapping[str, Mapping[str, int]]) -> Scenario:
    """The scenario with the named staffing tables replaced (name as in the file)."""
    data = sc.model_dump(mode="json")
    for name, table in tables.items():
        node, key = _node(data, name)
        node[key] = {part: int(n) for part, n in table.items()}
    return validate_data(data)
