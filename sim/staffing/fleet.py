"""The ambulance fleet as one staffed pool, on a map or without one.

The staffing search sets how many ambulances are on duty in each hour of the week (or day
part). Without a geography that is the scenario's ``ambulances.on_duty`` table, and the
iterative staffing algorithm sets it like any pool. With one, the fleet is the sum of the
posts' tables, and a ride waits for the nearest post with a free vehicle, so how soon a
patient is reached depends on where the vehicles stand, not only on how many there are.
There the search scales the scenario's own plan: the fleet in each hour is the plan's
fleet times a factor ``k`` (rounded), and it is shared over the posts in proportion to the
plan's vehicles at each post then (largest remainders, ties to the post named first; an
hour in which the plan has no vehicle anywhere is shared equally). Choosing the posts
themselves is a location problem this search does not solve.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from sim.scenario.hourly import HOUR_PARTS
from sim.scenario.schema import Scenario

#: The fleet's staffing table, as the search names it with or without a geography.
FLEET_TABLE = "ambulances.on_duty"


def post_table_name(post: str) -> str:
    """The staffing table of one ambulance post (name as in the file)."""
    return f"geography.posts.{post}.vehicles"


def share_out(total: int, own: Sequence[int]) -> list[int]:
    """``total`` vehicles over posts in proportion to ``own`` (largest remainders)."""
    weights = list(own) if sum(own) > 0 else [1] * len(own)
    whole = sum(weights)
    exact = [total * w / whole for w in weights]
    out = [int(x) for x in exact]
    order = sorted(range(len(own)), key=lambda i: (-(exact[i] - out[i]), i))
    for i in order[: total - sum(out)]:
        out[i] += 1
    return out


def scaled_fleet(sc: Scenario, k: float) -> np.ndarray:
    """The fleet per hour of the week of the plan scaled by ``k`` (an hour-by-hour
    scenario: ``sim.scenario.hourly``)."""
    own = own_fleet(sc)
    return np.array([round(k * own[part]) for part in HOUR_PARTS], dtype=np.int64)


def own_fleet(sc: Scenario) -> dict[str, int]:
    """The scenario's own fleet on duty by day part (with a geography: the posts' sum)."""
    parts = list(sc.calendar.day_parts)
    if sc.geography is None:
        table = sc.ambulances.on_duty or {}
        return {part: int(table.get(part, 0)) for part in parts}
    posts = sc.geography.posts.values()
    return {part: sum(int(p.vehicles.get(part, 0)) for p in posts) for part in parts}


def own_table(sc: Scenario, table: str) -> dict[str, int]:
    """A staffing table of the scenario by day part, the fleet's included."""
    if table == FLEET_TABLE:
        return own_fleet(sc)
    return dict(sc.staffing_tables()[table])


def file_tables(sc: Scenario, tables: Mapping[str, Mapping[str, int]]) -> dict[str, dict[str, int]]:
    """The tables as the scenario file holds them: with a geography the fleet's table
    becomes each post's (and ``ambulances.on_duty`` too where the file gives it)."""
    out = {name: dict(t) for name, t in tables.items()}
    fleet = out.get(FLEET_TABLE)
    if fleet is None or sc.geography is None:
        return out
    if sc.ambulances.on_duty is None:
        del out[FLEET_TABLE]
    names = list(sc.geography.posts)
    per_post: dict[str, dict[str, int]] = {post_table_name(n): {} for n in names}
    for part, total in fleet.items():
        own = [int(sc.geography.posts[n].vehicles.get(part, 0)) for n in names]
        for name, count in zip(names, share_out(int(total), own), strict=True):
            per_post[post_table_name(name)][part] = count
    out.update(per_post)
    return out
