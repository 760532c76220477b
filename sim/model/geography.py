"""Ambulance geography: demand zones, posts, hospitals and expected drive times.

With a ``geography`` block a request lives in a demand zone (drawn by population share);
dispatch sends the free vehicle whose post has the shortest expected drive to the zone;
the drive to the scene, to the nearest hospital and back to the post follow the map; and
each drive varies around its expected time with a lognormal factor of mean 1 (the ride's
own random numbers, so forms share them). Idle vehicles wait at their posts: a vehicle is
free again when it is back at its post. The fleet on duty is the sum of the posts.

Expected drive between two points: ``fixed_min + detour_factor x km / speed_kmh x 60``,
where km is the straight-line distance, widened by the zone's spread for a zone's
inhabitants: ``sqrt(d^2 + spread^2)``. See docs/MODEL.md, "Ambulance geography".
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import cython_special

from sim.model.calendar import Timeline, staffing_per_hour_of_week
from sim.scenario.schema import Geography, Scenario


def post_table_name(post: str) -> str:
    """The name of a post's vehicle table (for a special day's own staffing)."""
    return f"geography.posts.{post}.vehicles"


def post_vehicles_per_hour(sc: Scenario, tl: Timeline) -> np.ndarray:
    """Vehicles on duty at each post in every simulated hour, shape (posts, hours),
    special days' own tables included."""
    geo = sc.geography
    assert geo is not None
    rows = []
    for name, post in geo.posts.items():
        table = dict(post.vehicles)
        per_how = staffing_per_hour_of_week(sc, table)
        special = {}
        for code, day_type in enumerate(tl.day_type_names[1:], start=1):
            own = sc.calendar.day_type(day_type).staffing.get(post_table_name(name))
            if own:
                special[code] = staffing_per_hour_of_week(sc, {**table, **own})
        rows.append(tl.per_hour(per_how, special))
    return np.array(rows, dtype=np.int64)


def _hospital_minutes(geo: Geography) -> tuple[np.ndarray, np.ndarray]:
    """Expected drives from each zone to each hospital (zones x hospitals) and from each
    hospital back to each post (hospitals x posts)."""
    to_hospital = np.array(
        [
            [
                drive_minutes(geo, zn, hn, _km(z.x_km, z.y_km, h.x_km, h.y_km, z.spread_km))
                for hn, h in geo.hospitals.items()
            ]
            for zn, z in geo.zones.items()
        ]
    )
    back = np.array(
        [
            [
                drive_minutes(geo, hn, pn, _km(h.x_km, h.y_km, p.x_km, p.y_km))
                for pn, p in geo.posts.items()
            ]
            for hn, h in geo.hospitals.items()
        ]
    )
    return to_hospital, back


def _km(ax: float, ay: float, bx: float, by: float, spread: float = 0.0) -> float:
    return math.sqrt((ax - bx) ** 2 + (ay - by) ** 2 + spread**2)


def drive_minutes(geo: Geography, a: str, b: str, km: float) -> float:
    """The expected drive from place ``a`` to place ``b``: the region's own figure where
    ``drive_minutes`` gives one (either way), else the drive model over ``km``."""
    own = geo.drive_minutes
    if own:
        given = own.get(a, {}).get(b)
        if given is None:
            given = own.get(b, {}).get(a)
        if given is not None:
            return given
    return geo.drive.minutes(km)


def post_to_zone_minutes(sc: Scenario) -> np.ndarray:
    """Expected drive from each post to each zone's inhabitants, shape (posts, zones)."""
    geo = sc.geography
    assert geo is not None
    return np.array(
        [
            [
                drive_minutes(geo, pn, zn, _km(p.x_km, p.y_km, z.x_km, z.y_km, z.spread_km))
                for zn, z in geo.zones.items()
            ]
            for pn, p in geo.posts.items()
        ]
    )


def cover_matrix(sc: Scenario) -> np.ndarray:
    """Which post covers which zone (expected drive within the cover drive), (posts, zones)."""
    geo = sc.geography
    assert geo is not None
    return post_to_zone_minutes(sc) <= geo.cover_drive_min


#: A zone's or post's index; a named alias of int because the compiled build takes the
#: argument's C type from ``geography.pxd``, and a plain ``int`` annotation would override it.
Index = int


class Map:
    """The expected drives of a geography and the posts' state during a run."""

    def __init__(self, sc: Scenario, tl: Timeline):
        geo = sc.geography
        assert geo is not None
        self.geo: Geography = geo
        self.zone_names = list(geo.zones)
        self.post_names = list(geo.posts)
        zones, posts = list(geo.zones.values()), list(geo.posts.values())
        population = np.array([z.population for z in zones], dtype=float)
        self.zone_cdf = np.cumsum(population / population.sum())
        self.zone_cdf[-1] = 1.0
        # expected drive from each post to each zone's inhabitants (posts x zones)
        self.to_zone = post_to_zone_minutes(sc)  # posts x zones
        to_hospital, self.hospital_to_post = _hospital_minutes(geo)
        self.hospital_of_zone = to_hospital.argmin(axis=1)
        self.to_hospital = to_hospital.min(axis=1)
        # the same as plain Python floats for the run: [post][zone], [zone], and back from
        # the zone's hospital [zone][post]
        self.drive_to: list[list[float]] = self.to_zone.tolist()
        self.drive_to_hospital: list[float] = self.to_hospital.tolist()
        self.drive_back: list[list[float]] = self.hospital_to_post[self.hospital_of_zone].tolist()
        self.vehicles = post_vehicles_per_hour(sc, tl)  # posts x hours
        # the same by hour, as plain lists for the dispatches: [hour][post]
        self.vehicles_by_hour: list[list[int]] = self.vehicles.T.tolist()
        self.busy = [0] * len(posts)
        sigma = math.sqrt(math.log1p(geo.drive.cv**2))
        self._sigma, self._shift = sigma, -0.5 * sigma * sigma
        # GP cars and teams: the expected drive from the nearest base to each zone
        self.car_to_zone: list[float] | None = None
        if geo.car is not None and geo.car_bases:
            car = geo.car.minutes
            self.car_to_zone = [
                min(
                    car(_km(b.x_km, b.y_km, z.x_km, z.y_km, z.spread_km))
                    for b in geo.car_bases.values()
                )
                for z in zones
            ]
            car_sigma = math.sqrt(math.log1p(geo.car.cv**2))
            self._car_sigma, self._car_shift = car_sigma, -0.5 * car_sigma * car_sigma
        # posts by expected drive, nearest first, for each zone
        self.nearest = [
            list(np.argsort(self.to_zone[:, z], kind="stable")) for z in range(len(zones))
        ]
        # move-up (off unless the geography asks for it)
        self.move_up: MoveUp | None = MoveUp(self, sc) if geo.move_up else None

    def factor(self, u: float) -> float:
        """The lognormal drive factor (mean 1) for the uniform number ``u``."""
        z: float = cython_special.ndtri(u)
        return math.exp(self._sigma * z + self._shift)

    def car_drive(self, zone: Index, u: float) -> float:
        """A GP car's or team's drive between its base and ``zone`` (uniform number ``u``)."""
        assert self.car_to_zone is not None
        z: float = cython_special.ndtri(u)
        return self.car_to_zone[zone] * math.exp(self._car_sigma * z + self._car_shift)

    def zones_of(self, u: np.ndarray) -> np.ndarray:
        """Demand zones for uniform numbers ``u`` (by population share)."""
        return np.minimum(np.searchsorted(self.zone_cdf, u, side="right"), len(self.zone_cdf) - 1)

    def on_duty(self, now: float) -> list[int]:
        """Vehicles at each post now: the roster, with move-up's stand-ins (a list the
        caller must not change)."""
        by_hour = self.vehicles_by_hour
        on_duty = by_hour[min(int(now // 60.0), len(by_hour) - 1)]
        if self.move_up is not None:
            moved = self.move_up.moved_at(now)
            on_duty = [n + m for n, m in zip(on_duty, moved, strict=True)]
        return on_duty

    def take_vehicle(self, zone: Index, now: float) -> int:
        """The post whose free vehicle is sent to ``zone`` (the nearest with one free; a
        vehicle the fleet has free but no post shows free comes from the nearest post
        with vehicles on duty), marked busy."""
        on_duty = self.on_duty(now)
        busy = self.busy
        chosen = -1
        for post in self.nearest[zone]:
            if on_duty[post] > busy[post]:
                chosen = post
                break
        if chosen < 0:
            staffed = [p for p in self.nearest[zone] if on_duty[p] > 0]
            chosen = staffed[0] if staffed else self.nearest[zone][0]
        busy[chosen] += 1
        return int(chosen)

    def free_vehicle(self, post: Index) -> None:
        """A vehicle of ``post`` is back and free (or a stand-in has reached it)."""
        self.busy[post] -= 1


class MoveUp:
    """Move-up (dynamic cover) on a map. After every dispatch, the most populous zone left
    without an idle vehicle within the cover drive gets a stand-in: an idle vehicle from
    the post with the shortest drive among those that can spare one (every zone such a
    post covers keeps idle vehicles within the cover drive in proportion to its share of
    the inhabitants, at least one) drives to the covering post nearest the zone. The
    stand-in is on the road until it arrives, then idle there; it drives home as soon as
    a vehicle of that post is back, and every stand-in is home when the posts' rosters
    next change (the new crews start at their own posts).

    The map's counts stay per post: ``moved`` is what stand-ins add to or take from each
    post's roster, and ``spans`` records each post's change ([post, +1/-1, from, to] in
    minutes) for the coverage figures."""

    def __init__(self, geo_map: Map, sc: Scenario):
        geo = geo_map.geo
        self.map = geo_map
        posts, zones = list(geo.posts.values()), list(geo.zones.values())
        self.post_to_post = [
            [
                drive_minutes(geo, an, bn, _km(a.x_km, a.y_km, b.x_km, b.y_km))
                for bn, b in geo.posts.items()
            ]
            for an, a in geo.posts.items()
        ]
        cover = cover_matrix(sc)
        self.zones_of_post = [list(np.flatnonzero(cover[p])) for p in range(len(posts))]
        self.covered_by = [list(np.flatnonzero(cover[:, z])) for z in range(len(zones))]
        population = np.array([z.population for z in zones], dtype=float)
        self.by_population = list(np.argsort(-population, kind="stable"))
        self.population_share = (population / population.sum()).tolist()
        # the minute at which each hour's roster next changes (stand-ins are home by then)
        n_hours = geo_map.vehicles.shape[1]
        until = np.full(n_hours, n_hours * 60.0)
        for hour in range(n_hours - 2, -1, -1):
            same = np.array_equal(geo_map.vehicles[:, hour], geo_map.vehicles[:, hour + 1])
            until[hour] = until[hour + 1] if same else (hour + 1) * 60.0
        self.roster_until = until.tolist()
        self.until = -1.0
        self.moved = [0] * len(posts)
        # stand-ins at each post: (home post, arrival minute, index of its span at home)
        self.stand_ins: list[list[tuple[int, float, int]]] = [[] for _ in posts]
        self.spans: list[list[float]] = []

    def moved_at(self, now: float) -> list[int]:
        """What stand-ins add to each post now (all are home once the roster changes)."""
        if now >= self.until:
            self.moved = [0] * len(self.moved)
            self.stand_ins = [[] for _ in self.moved]
            self.until = self.roster_until[min(int(now // 60.0), len(self.roster_until) - 1)]
        return self.moved

    def after_dispatch(self, now: float) -> tuple[int, float] | None:
        """Send a stand-in where a zone has lost its cover: (post it drives to, minutes),
        or None."""
        busy = self.map.busy
        idle = [max(n - b, 0) for n, b in zip(self.map.on_duty(now), busy, strict=True)]
        zone = next((z for z in self.by_population if not self._covered(z, idle)), None)
        if zone is None or not self.covered_by[zone]:
            return None
        total = sum(idle)
        keep = [max(1, int(math.ceil(share * total))) for share in self.population_share]
        sources = [p for p in range(len(idle)) if idle[p] >= 2 and self._spare(p, idle, keep)]
        if not sources:
            return None
        drive_to = self.map.drive_to
        to = min(self.covered_by[zone], key=lambda p: drive_to[p][zone])
        home = min(sources, key=lambda p: self.post_to_post[p][to])
        drive = self.post_to_post[home][to]
        self.moved[home] -= 1
        self.moved[to] += 1
        busy[to] += 1  # on the road until it arrives
        self.stand_ins[to].append((home, now + drive, len(self.spans)))
        self.spans.append([home, -1.0, now, self.until])
        self.spans.append([to, 1.0, now + drive, self.until])
        return to, drive

    def after_return(self, post: int, now: float) -> tuple[int, float] | None:
        """A vehicle of ``post`` is back: its first stand-in that has arrived drives home;
        (home post, minutes) or None."""
        moved = self.moved_at(now)
        waiting = self.stand_ins[post]
        ready = next((i for i, s in enumerate(waiting) if s[1] <= now), None)
        by_hour = self.map.vehicles_by_hour
        roster = by_hour[min(int(now // 60.0), len(by_hour) - 1)]
        idle = roster[post] + moved[post] - self.map.busy[post]
        if ready is None or idle < 2:  # the stand-in stays while it is the post's cover
            return None
        home, _, span = waiting.pop(ready)
        drive = self.post_to_post[post][home]
        self.moved[post] -= 1
        self.moved[home] += 1
        self.map.busy[home] += 1  # on the road until it is home
        self.spans[span + 1][3] = now
        self.spans[span][3] = min(now + drive, self.until)
        return home, drive

    def _covered(self, zone: int, idle: list[int]) -> bool:
        return any(idle[p] for p in self.covered_by[zone])

    def _spare(self, post: int, idle: list[int], keep: list[int]) -> bool:
        """Whether an idle vehicle can leave ``post`` with every zone it covers keeping at
        least ``keep[zone]`` idle vehicles within the cover drive."""
        return all(
            sum(idle[p] for p in self.covered_by[z]) - 1 >= keep[z]
            for z in self.zones_of_post[post]
        )
