"""Cross-checks of a scenario: names in one section that must refer to another.

Field-level rules (ranges, shares that sum to 1, day parts that cover the week) are part
of the schema. The checks here need the whole scenario: a need's service must exist, a
staffing table must name every day part, every disposition a desk can reach must be
deliverable by some desk of the form, a provenance note must name a real field.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from typing import Any

from sim.scenario.problems import PathT, Positions, Problem, did_you_mean, dotted
from sim.scenario.schema import BUILTIN_SERVICES, HOLIDAY, Scenario
from sim.scenario.source import expand, has_field, value_at_path

#: The most requests one replication may simulate (about 20 years of Groningen).
MAX_REQUESTS_PER_REPLICATION = 5_000_000


class _Checker:
    """Collects located problems for one validated scenario."""

    def __init__(self, sc: Scenario, positions: Positions):
        self.sc = sc
        self.positions = positions
        self.problems: list[Problem] = []
        self.needs = list(sc.needs)
        self.services = list(sc.services)

    def problem(self, path: PathT, message: str) -> None:
        self.problems.append(Problem(self.positions.find(path), dotted(path), message))

    def unknown(self, path: PathT, kind: str, name: str, valid: list[str]) -> None:
        self.problem(path, f"unknown {kind} '{name}'" + did_you_mean(name, valid))

    def teams(self) -> None:
        for team in self.sc.teams:
            if team in BUILTIN_SERVICES:
                message = f"a team may not be called '{team}' (a built-in service)"
                self.problem(("teams", team), message)

    def need_services(self) -> None:
        for name, need in self.sc.needs.items():
            if need.service not in self.services:
                self.unknown(("needs", name, "service"), "service", need.service, self.services)
            for i, alt in enumerate(need.acceptable_services):
                if alt not in self.services:
                    path = ("needs", name, "acceptable_services", i)
                    self.unknown(path, "service", alt, self.services)
            if need.service == "ambulance" and need.ambulance_priority is None:
                message = "a need served by an ambulance needs an ambulance_priority (A1, A2 or B)"
                self.problem(("needs", name, "ambulance_priority"), message)

    def demand_groups(self) -> None:
        profiles = list(self.sc.demand.profiles)
        for gname, group in self.sc.demand.groups.items():
            base = ("demand", "groups", gname)
            if group.profile not in profiles:
                self.unknown(base + ("profile",), "profile", group.profile, profiles)
            for need in group.need_mix:
                if need not in self.sc.needs:
                    self.unknown(base + ("need_mix", need), "need", need, self.needs)
            for need in group.channel_by_need:
                if need not in self.sc.needs:
                    self.unknown(base + ("channel_by_need", need), "need", need, self.needs)

    def staffing_tables(self) -> None:
        sc = self.sc
        parts = list(sc.calendar.day_parts)
        tables: list[tuple[PathT, Mapping[str, int]]] = [
            (("mka", "call_takers"), sc.mka.call_takers),
            (("gp_post", "triagists"), sc.gp_post.triagists),
            (("gp_post", "consult_gps"), sc.gp_post.consult_gps),
            (("gp_post", "visit_cars"), sc.gp_post.visit_cars),
            (("coordination", "agents"), sc.coordination.agents),
        ] + [(("teams", t, "staff"), team.staff) for t, team in sc.teams.items()]
        if sc.ambulances.on_duty is not None:
            tables.append((("ambulances", "on_duty"), sc.ambulances.on_duty))
        for desk in ("gp_post", "coordination"):
            spec = sc.triage_of(desk).callback
            if spec is not None:
                tables.append(((desk, "triage", "callback", "intake_staff"), spec.intake_staff))
        if sc.geography is not None:
            tables += [
                (("geography", "posts", name, "vehicles"), post.vehicles)
                for name, post in sc.geography.posts.items()
            ]
        for path, table in tables:
            for part in table:
                if part not in parts:
                    self.unknown(path + (part,), "day part", part, parts)
            missing = [p for p in parts if p not in table]
            if missing:
                message = "staffing must give a number for every day part; missing: "
                self.problem(path, message + ", ".join(missing))

    def staffing_table_names(self) -> dict[str, Mapping[str, int]]:
        """Every staffing table by its name in the file."""
        return self.sc.staffing_tables()

    def costs(self) -> None:
        """``costs.per_hour`` names staff tables of the scenario (or ``ambulances``)."""
        if self.sc.costs is None:
            return
        valid = self.sc.cost_keys()
        for key in self.sc.costs.per_hour:
            if key not in valid:
                self.unknown(("costs", "per_hour", key), "staff group", key, valid)

    def care_norms(self) -> None:
        """``staffing.norms.care`` names urgencies of the scenario's needs."""
        valid = sorted({need.urgency for need in self.sc.needs.values()})
        for key in self.sc.staffing.norms.care:
            if key not in valid:
                self.unknown(("staffing", "norms", "care", key), "urgency", key, valid)

    def geography(self) -> None:
        """With a geography the fleet on duty is the sum of its posts: the ambulance table
        must say the same number in every day part."""
        geo = self.sc.geography
        fleet = self.sc.ambulances.on_duty
        if geo is None:
            if fleet is None:
                self.problem(
                    ("ambulances",),
                    "ambulances.on_duty (vehicles per day part) is needed without a geography "
                    "(with one, the fleet is the sum of geography.posts.<post>.vehicles)",
                )
            return
        for part in self.sc.calendar.day_parts:
            if fleet is None:
                break
            counts = [post.vehicles.get(part, 0) for post in geo.posts.values()]
            if part in fleet and sum(counts) != fleet[part]:
                shown = " + ".join(
                    f"{name} {post.vehicles.get(part, 0)}" for name, post in geo.posts.items()
                )
                self.problem(
                    ("ambulances", "on_duty", part),
                    f"with a geography the fleet is the sum of its posts: {shown} = "
                    f"{sum(counts)}, but ambulances.on_duty.{part} is {fleet[part]}; make "
                    "them equal",
                )
        if sum(z.population for z in geo.zones.values()) <= 0:
            self.problem(("geography", "zones"), "the zones hold no inhabitants")
        places = [*geo.posts, *geo.zones, *geo.hospitals]
        for a, targets in geo.drive_minutes.items():
            if a not in places:
                self.unknown(("geography", "drive_minutes", a), "place", a, places)
            for b in targets:
                if b not in places:
                    self.unknown(("geography", "drive_minutes", a, b), "place", b, places)

    def special_days(self) -> None:
        cal = self.sc.calendar
        kinds = sorted({*cal.day_types, HOLIDAY})
        for date, name in cal.special_days.items():
            if name not in kinds:
                path = ("calendar", "special_days", date.isoformat())
                self.unknown(path, "day type", name, kinds)
        groups = list(self.sc.demand.groups)
        tables = list(self.staffing_table_names())
        parts = list(cal.day_parts)
        for name, kind in cal.day_types.items():
            base = ("calendar", "day_types", name)
            for group in kind.demand:
                if group not in groups:
                    self.unknown(base + ("demand", group), "demand group", group, groups)
            for table, counts in kind.staffing.items():
                if table not in tables:
                    self.unknown(base + ("staffing", table), "staffing table", table, tables)
                for part in counts:
                    if part not in parts:
                        where: PathT = (*base, "staffing", table, part)
                        self.unknown(where, "day part", part, parts)

    def self_triage(self) -> None:
        """A need resolved by self-care advice must count advice as care."""
        for need in self.sc.demand.self_triage.uptake:
            path = ("demand", "self_triage", "uptake", need)
            if need not in self.sc.needs:
                self.unknown(path, "need", need, self.needs)
                continue
            spec = self.sc.needs[need]
            if "advice" not in (spec.service, *spec.acceptable_services):
                self.problem(
                    path,
                    f"self-care advice is not care for '{need}' (its service is "
                    f"{spec.service}; advice is not among its acceptable services): online "
                    "self-triage can only resolve needs that advice meets",
                )

    def callback(self) -> None:
        """Call-back mode belongs to the GP post's number, and names real urgencies."""
        if self.sc.mka.triage.callback is not None:
            self.problem(
                ("mka", "triage", "callback"),
                "call-back mode is for the GP post's number (gp_post or coordination), not 112",
            )
        urgencies = sorted({n.urgency for n in self.sc.needs.values()})
        for desk in ("gp_post", "coordination"):
            spec = self.sc.triage_of(desk).callback
            if spec is None:
                continue
            for i, urgency in enumerate(spec.at_once):
                if urgency not in urgencies:
                    path = (desk, "triage", "callback", "at_once", i)
                    self.unknown(path, "urgency", urgency, urgencies)

    def desk_triage(self) -> None:
        for desk in ("mka", "gp_post", "coordination"):
            triage = self.sc.triage_of(desk)
            base = (desk, "triage")
            for i, service in enumerate(triage.dispatches):
                if service not in self.services:
                    self.unknown(base + ("dispatches", i), "service", service, self.services)
            for service in triage.handle_time:
                if service != "default" and service not in self.services:
                    path = base + ("handle_time", service)
                    self.unknown(path, "service", service, self.services)
            for true_need, row in triage.confusion.items():
                if true_need not in self.sc.needs:
                    self.unknown(base + ("confusion", true_need), "need", true_need, self.needs)
                for assigned in row:
                    if assigned not in self.sc.needs:
                        cell = base + ("confusion", true_need, assigned)
                        self.unknown(cell, "need", assigned, self.needs)

    def alternative_services(self) -> None:
        for i, service in enumerate(self.sc.coordination.alternative_services):
            if service not in self.services:
                path = ("coordination", "alternative_services", i)
                self.unknown(path, "service", service, self.services)

    def reachable_dispositions(self) -> None:
        """Every disposition a desk can reach must be deliverable by some active desk."""
        sc = self.sc
        active = sc.active_desks()
        reachable = {s for d in active for s in sc.triage_of(d).dispatches}
        for desk in active:
            triage = sc.triage_of(desk)
            for true_need in self.needs:
                row = triage.confusion.get(true_need, {true_need: 1.0})
                for assigned, share in row.items():
                    if share <= 0 or assigned not in sc.needs:
                        continue
                    service = sc.needs[assigned].service
                    if service in reachable:
                        continue
                    if true_need in triage.confusion:
                        path: PathT = (desk, "triage", "confusion", true_need, assigned)
                    else:
                        path = (desk, "triage", "confusion")
                    self.problem(
                        path,
                        f"need '{assigned}' is served by '{service}', which no desk of the "
                        f"'{sc.organisation}' form dispatches (add it to a desk's dispatches, "
                        f"or give '{true_need}' a confusion row that avoids it)",
                    )

    def size(self) -> None:
        """A replication must fit in a machine: the expected number of requests (every
        group at its yearly rate over the whole run, an upper bound) is capped."""
        sc = self.sc
        per_year = (
            sc.region.population
            / 1000
            * sum(g.requests_per_1000_per_year * g.volume_factor for g in sc.demand.groups.values())
        )
        per_year *= 1 + sc.demand.induced_share
        days = sc.run.weeks * 7 + sc.run.warmup_days + sc.run.drain_hours / 24
        expected = per_year * days / 365
        if expected > MAX_REQUESTS_PER_REPLICATION:
            self.problem(
                ("region", "population"),
                f"a replication would simulate about {expected:,.0f} requests; at most "
                f"{MAX_REQUESTS_PER_REPLICATION:,} fit (fewer weeks, a smaller region or "
                "lower volumes)",
            )

    def provenance(self) -> None:
        """Every note names a real field; a note on an optional block this scenario leaves
        out (set to null, such as ``geography``) describes nothing here and is let be."""
        data = self.sc.model_dump(mode="json")
        for key in self.sc.provenance:
            block = key.split(".")[0]
            if block in data and data[block] is None:
                continue
            if not has_field(data, key):
                self.problem(("provenance", key), f"'{key}' is not a field of this scenario")

    def uncertainty(self) -> None:
        """Every field an uncertain input names exists here and can be moved as it says."""
        if not self.sc.uncertainty:
            return
        data = self.sc.model_dump(mode="json")
        for name, spec in self.sc.uncertainty.items():
            for i, pattern in enumerate(spec.fields):
                error = _uncertain_field_problem(data, spec.how, pattern)
                if error:
                    self.problem(("uncertainty", name, "fields", i), error)


def _uncertain_field_problem(data: Mapping[str, Any], how: str, pattern: str) -> str | None:
    """Why ``pattern`` cannot be moved by an uncertain input that moves fields by ``how``."""
    paths = expand(data, pattern)
    if not paths:
        return f"'{pattern}' names no field of this scenario"
    for path in paths:
        value = value_at_path(data, path)
        where = ".".join(map(str, path))
        if how == "off_diagonal":
            if len(path) < 2 or path[-2] != "confusion" or not isinstance(value, Mapping):
                return (
                    f"'{where}' is not a confusion row "
                    "(off_diagonal moves rows like mka.triage.confusion.<need>)"
                )
        elif isinstance(value, bool) or not isinstance(value, int | float):
            return f"'{where}' is not a number (it is {type(value).__name__})"
    return None


def cross_reference_problems(sc: Scenario, positions: Positions) -> list[Problem]:
    """Every problem that spans several sections of a scenario, in a fixed order."""
    checker = _Checker(sc, positions)
    checker.teams()
    checker.need_services()
    checker.demand_groups()
    checker.staffing_tables()
    checker.special_days()
    checker.self_triage()
    checker.geography()
    checker.callback()
    checker.desk_triage()
    checker.alternative_services()
    checker.reachable_dispositions()
    checker.provenance()
    checker.uncertainty()
    checker.costs()
    checker.care_norms()
    checker.size()
    return checker.problems


def calendar_warnings(sc: Scenario) -> list[str]:
    """What the calendar lists that this run will not show: special days (public holidays
    included) outside the reported window, and day types no date uses."""
    cal, run = sc.calendar, sc.run
    first = cal.start_date + dt.timedelta(days=math.ceil(run.warmup_days))
    days = run.warmup_days + 7 * run.weeks
    last = cal.start_date + dt.timedelta(days=math.ceil(days) - 1)
    special = cal.day_type_of()
    outside = sorted(d for d in special if not first <= d <= last)
    out = []
    if outside:
        shown = ", ".join(f"{d} ({special[d]})" for d in outside[:6])
        more = f" and {len(outside) - 6} more" if len(outside) > 6 else ""
        out.append(
            f"calendar: {len(outside)} of the {len(special)} special days (public holidays "
            f"included) lie outside the reported window {first} to {last} and have no effect "
            f"on the reported figures: {shown}{more}"
        )
    unused = sorted(set(cal.day_types) - set(special.values()))
    if unused:
        out.append(
            "calendar.day_types: no date has the day type " + ", ".join(unused) + "; it is unused"
        )
    return out
