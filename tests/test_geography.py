"""Ambulance geography: zones, posts, nearest-vehicle dispatch, drives on the map, and the
figures per zone."""

from __future__ import annotations

import numpy as np
import pytest
from test_golden import fingerprint_of

from helpers import SCENARIOS, run_sim
from sim.experiments.replicate import run_replication
from sim.experiments.statistics import paired_difference
from sim.model.calendar import Timeline
from sim.model.geography import Map, post_to_zone_minutes
from sim.scenario import ScenarioError, load_raw, load_scenario, validate_data

# the shipped Groningen scenarios carry the geography; the zone-free file takes it out
GEOGRAPHY = SCENARIOS / "groningen_separate.yaml"
ZONE_FREE = SCENARIOS / "groningen_zone_free.yaml"
REPLICATIONS = 8


@pytest.fixture(scope="module")
def base():
    sc = load_scenario(GEOGRAPHY)
    return sc, [run_replication(sc, r).kpis for r in range(REPLICATIONS)]


def _without_geography(data: dict) -> dict:
    """Scenario data with the geography block removed and the zone-free fleet table and
    uncertain inputs (which name fields of the block) in its place."""
    zone_free = load_raw(ZONE_FREE)
    data = dict(data)
    data["geography"] = None
    data["ambulances"] = {**data["ambulances"], "on_duty": zone_free["ambulances"]["on_duty"]}
    data["uncertainty"] = zone_free["uncertainty"]
    data["provenance"] = zone_free["provenance"]
    return data


def test_without_the_geography_block_results_equal_the_zone_free_model() -> None:
    data = _without_geography(load_raw(GEOGRAPHY))
    data["name"] = "groningen_zone_free"
    data["description"] = load_scenario(ZONE_FREE).description
    without = validate_data(data)
    assert without == load_scenario(ZONE_FREE)
    a = run_replication(without, 1)
    b = run_replication(load_scenario(ZONE_FREE), 1)
    assert fingerprint_of(a.records, a.kpis) == fingerprint_of(b.records, b.kpis)
    assert "zone" not in a.records.rides and not any(k.startswith("zone.") for k in a.kpis)
    # the zone-free scenario is a golden case of its own (tests/test_golden.py), recorded
    # when the geography became the default from the model before it, bit for bit


def test_the_zone_free_file_changes_only_the_fleet() -> None:
    geo = load_scenario(GEOGRAPHY).model_dump()
    free = load_scenario(ZONE_FREE).model_dump()
    changed = {k for k in geo if geo[k] != free[k]}
    assert changed == {
        "name",
        "description",
        "geography",
        "ambulances",
        "uncertainty",
        "provenance",
    }
    assert {k for k in geo["ambulances"] if geo["ambulances"][k] != free["ambulances"][k]} == {
        "on_duty"
    }


def test_rides_come_from_posts_and_go_to_zones(base) -> None:
    sc, _ = base
    rides = run_replication(sc, 0).records.rides
    assert set(np.unique(rides["zone"])) <= set(range(len(sc.geography.zones)))
    assert set(np.unique(rides["post"])) <= set(range(len(sc.geography.posts)))
    # most rides come from the nearest post that has a vehicle on duty at that time
    drive = post_to_zone_minutes(sc)
    nearest = drive.argmin(axis=0)
    assert np.mean(rides["post"] == nearest[rides["zone"]]) > 0.5
    # every zone gets rides roughly in proportion to its inhabitants
    pop = np.array([z.population for z in sc.geography.zones.values()], dtype=float)
    share = np.bincount(rides["zone"], minlength=len(pop)) / len(rides["zone"])
    assert np.allclose(share, pop / pop.sum(), atol=0.03)


def test_zone_figures_are_reported(base) -> None:
    sc, kpis = base
    for zone in sc.geography.zones:
        for figure in ("a1_within_15.share", "coverage.share"):
            values = [k[f"zone.{zone}.{figure}"] for k in kpis]
            assert all(0.0 <= v <= 1.0 for v in values), (zone, figure)
        mean = np.mean([k[f"zone.{zone}.a1_response.mean_min"] for k in kpis])
        p90 = np.mean([k[f"zone.{zone}.a1_response.p90_min"] for k in kpis])
        assert 3.0 < mean < p90 < 60.0
    # the city, with most posts and vehicles, is covered more of the time than any other zone
    cover = {z: np.mean([k[f"zone.{z}.coverage.share"] for k in kpis]) for z in sc.geography.zones}
    assert max(cover, key=cover.get) == "groningen"


def _with_two_more(sc, post: str) -> tuple[str, ...]:
    changes = []
    for part, n in sc.geography.posts[post].vehicles.items():
        changes.append(f"geography.posts.{post}.vehicles.{part}={n + 2}")
        if sc.ambulances.on_duty is not None:
            changes.append(f"ambulances.on_duty.{part}={sc.ambulances.on_duty[part] + 2}")
    return tuple(changes)


def test_two_more_ambulances_near_the_worst_covered_zone_raise_its_a1(base) -> None:
    sc, kpis = base
    zones = list(sc.geography.zones)
    cover = [np.mean([k[f"zone.{z}.coverage.share"] for k in kpis]) for z in zones]
    worst = int(np.argmin(cover))
    post = list(sc.geography.posts)[int(post_to_zone_minutes(sc)[:, worst].argmin())]
    more = load_scenario(GEOGRAPHY, _with_two_more(sc, post))
    name = f"zone.{zones[worst]}.a1_within_15.share"
    after = [run_replication(more, r).kpis[name] for r in range(REPLICATIONS)]
    diff = paired_difference([k[name] for k in kpis], after).interval
    assert diff.low > 0, (zones[worst], post, diff)


def _least_covered(sc, kpis, n: int = 3) -> list[str]:
    """The ``n`` zones covered least of the time (where ambulances are scarce)."""
    zones = list(sc.geography.zones)
    cover = {z: np.mean([k[f"zone.{z}.coverage.share"] for k in kpis]) for z in zones}
    return sorted(zones, key=cover.get)[:n]


def test_fewer_gp_type_rides_raise_a1_where_ambulances_are_scarce(base) -> None:
    sc, kpis = base
    scarce = _least_covered(sc, kpis)
    fewer = load_scenario(GEOGRAPHY, ("demand.gp_type_dial_112_factor=0.0",))
    runs = [run_replication(fewer, r).kpis for r in range(REPLICATIONS)]
    gp_rides = "ambulance.rides_gp_type.share"
    assert np.mean([k[gp_rides] for k in runs]) < 0.5 * np.mean([k[gp_rides] for k in kpis])

    def a1_scarce(k):
        return np.mean([k[f"zone.{z}.a1_within_15.share"] for z in scarce])

    diff = paired_difference([a1_scarce(k) for k in kpis], [a1_scarce(k) for k in runs]).interval
    assert diff.low > 0, (scarce, diff)


def test_the_fleet_must_equal_the_sum_of_the_posts() -> None:
    data = load_raw(GEOGRAPHY)
    data["ambulances"]["on_duty"] = {**load_raw(ZONE_FREE)["ambulances"]["on_duty"]}
    data["ambulances"]["on_duty"]["weekday_night"] = 25
    with pytest.raises(ScenarioError) as info:
        validate_data(data)
    text = str(info.value)
    assert "ambulances.on_duty.weekday_night" in text
    assert "the fleet is the sum of its posts" in text and "but ambulances.on_duty" in text


def test_the_compare_report_has_a_zone_table(tmp_path) -> None:
    proc = run_sim(
        "compare",
        str(GEOGRAPHY),
        str(SCENARIOS / "groningen_central.yaml"),
        "--replications",
        "2",
        "--weeks",
        "1",
        "--workers",
        "1",
        "--no-progress",
        "--out",
        str(tmp_path),
    )
    assert proc.returncode == 0, proc.stderr
    (folder,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    report = (folder / "report.html").read_text()
    assert "<h2 id='zones'>" in report and "westerwolde" in report
    assert (folder / "figures" / "zone_map.png").stat().st_size > 10_000
    assert "Demand zones at their points" in report


def test_without_a_geography_the_fleet_table_is_needed(tmp_path) -> None:
    data = _without_geography(load_raw(GEOGRAPHY))
    data["ambulances"].pop("on_duty")
    data.pop("uncertainty")
    with pytest.raises(ScenarioError) as info:
        validate_data(data)
    assert "ambulances.on_duty (vehicles per day part) is needed without a geography" in str(
        info.value
    )
    # with a geography a fleet table may be given too, but it must agree with the posts
    data = load_raw(GEOGRAPHY)
    data["ambulances"]["on_duty"] = load_raw(ZONE_FREE)["ambulances"]["on_duty"]
    sc = validate_data(data)
    assert sc.ambulances.on_duty is not None
    kpis = run_replication(sc, 1).kpis
    assert kpis == run_replication(load_scenario(GEOGRAPHY), 1).kpis


def test_gp_cars_drive_from_the_nearest_base(base) -> None:
    sc, _ = base
    zones = list(sc.geography.zones)
    drive = Map(sc, Timeline.from_scenario(sc)).car_to_zone
    assert drive is not None
    # the city (a base) is nearer than the far south-east, and Oldambt (next to Scheemda)
    # nearer than Westerkwartier
    assert drive[zones.index("groningen")] < drive[zones.index("westerwolde")]
    assert drive[zones.index("oldambt")] < drive[zones.index("westerkwartier")]
    slower = load_scenario(GEOGRAPHY, ("geography.car.speed_kmh=30.0",))
    fast = run_replication(sc, 0).kpis["care.U2.within_target_share"]
    slow = run_replication(slower, 0).kpis["care.U2.within_target_share"]
    assert slow < fast


def test_car_bases_and_the_car_model_go_together() -> None:
    data = load_raw(GEOGRAPHY)
    data["geography"].pop("car")
    with pytest.raises(ScenarioError) as info:
        validate_data(data)
    assert "car_bases and car go together" in str(info.value)


def test_move_up_is_an_option_that_is_off_in_the_shipped_files(base) -> None:
    sc, _ = base
    assert sc.geography.move_up is False
    assert run_replication(sc, 0).records.moves == {}


def test_move_up_gives_the_least_covered_zones_a_stand_in(base) -> None:
    sc, kpis = base
    least = _least_covered(sc, kpis)
    on = load_scenario(GEOGRAPHY, ("geography.move_up=true",))
    results = [run_replication(on, r) for r in range(REPLICATIONS)]

    def mean_cover(k):
        return np.mean([k[f"zone.{z}.coverage.share"] for z in least])

    after = [mean_cover(res.kpis) for res in results]
    diff = paired_difference([mean_cover(k) for k in kpis], after).interval
    assert diff.low > 0, (least, diff)
    # the moves' record: a vehicle leaves one post before it counts at another, so at any
    # moment the stand-ins add no vehicle to the fleet (fewer while some are on the road)
    moves = results[0].records.moves
    assert len(moves["post"]) > 100 and set(np.unique(moves["delta"])) == {-1, 1}
    assert (moves["end_min"] >= moves["begin_min"]).all()
    at = np.sort(np.concatenate([moves["begin_min"], moves["end_min"]]))
    in_effect = (moves["begin_min"][:, None] <= at) & (at < moves["end_min"][:, None])
    assert (moves["delta"] @ in_effect <= 0).all()


def test_busy_counts_equal_a_lookup_of_every_segment() -> None:
    """Coverage counts a post's busy vehicles at each segment start by placing the rides'
    start and end among the segments; that must equal looking each segment up among the
    sorted starts and ends (ties included: a ride that begins at a segment's start is busy
    in it, one that ends there is not)."""
    from sim.measures.zones import _busy

    rng = np.random.default_rng(3)
    for n_rides in (0, 1, 7, 300):
        at = np.unique(rng.integers(0, 500, 400).astype(float))
        began = rng.integers(-5, 505, n_rides).astype(float)
        began[: n_rides // 2] = rng.choice(at, n_rides // 2)  # exact ties
        ended = began + rng.integers(0, 40, n_rides)
        ended[n_rides // 3 :: 3] = rng.choice(at, len(ended[n_rides // 3 :: 3]))
        ended = np.maximum(ended, began)
        want = np.searchsorted(np.sort(began), at, "right")
        want = want - np.searchsorted(np.sort(ended), at, "right")
        assert np.array_equal(_busy(began, ended, at, len(at)), want)
