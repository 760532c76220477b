"""The staffing advisor: hour-by-hour scenarios, observed pools, the ISA and its target
search, costs, the command and its folder."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import yaml

from helpers import SCENARIOS, base_data, run_sim
from sim.experiments.executors import LocalExecutor
from sim.model import simulate
from sim.scenario import ScenarioError, load_scenario, validate_data
from sim.scenario.hourly import HOUR_PARTS, hourly, with_tables
from sim.staffing.fleet import (
    FLEET_TABLE,
    file_tables,
    own_fleet,
    own_table,
    scaled_fleet,
    share_out,
)
from sim.staffing.measure import (
    MAX_IN_SYSTEM,
    StaffPool,
    count_care,
    front_desk_pools,
    measure,
    service_pools,
    staffed_pools,
    summed,
)
from sim.staffing.outputs import roster_hours
from sim.staffing.run import BatchStore, Runner, run_in_folder, start_folder
from sim.staffing.search import (
    Search,
    erlang_a_staffing,
    evaluate_norms,
    isa_step,
    offered_load,
)
from sim.validation.queueing import ErlangA

VALIDATION = SCENARIOS / "validation"


def _same_records(a: object, b: object) -> bool:
    ra, rb = a.records, b.records  # type: ignore[attr-defined]
    for table in ("requests", "calls", "rides"):
        ta, tb = getattr(ra, table), getattr(rb, table)
        for key in ta:
            if not np.array_equal(ta[key], tb[key], equal_nan=True):
                return False
    return True


# --------------------------------------------------------------------------- building blocks


@pytest.mark.parametrize("form", ["coordination_centre", "christmas"])
def test_hour_by_hour_scenario_gives_the_same_results(form: str) -> None:
    """Spelling every staffing table out per hour (special days' tables included) changes
    nothing under the level rule."""
    sc = load_scenario(SCENARIOS / f"groningen_{form}.yaml", ["run.weeks=1"])
    h = hourly(sc)
    assert list(h.calendar.day_parts) == list(HOUR_PARTS)
    assert _same_records(simulate(sc, 0, 5), simulate(h, 0, 5))


def test_observing_pools_changes_nothing_and_keeps_every_claim() -> None:
    sc = load_scenario(SCENARIOS / "groningen_coordination_centre.yaml", ["run.weeks=1"])
    pools = [p.pool for p in front_desk_pools(sc)]
    plain, seen = simulate(sc, 0, 3), simulate(sc, 0, 3, observe=pools)
    assert _same_records(plain, seen)
    assert plain.records.claims == {}
    for pool in pools:
        claims = seen.records.claims[pool]
        assert len(claims["joined_min"]) == seen.records.monitors[pool].n_claims
        decided = ~np.isnan(claims["decided_min"])
        assert (claims["decided_min"][decided] >= claims["joined_min"][decided]).all()


def test_front_desk_pools_follow_the_form() -> None:
    def names(form: str) -> list[str]:
        sc = load_scenario(SCENARIOS / f"groningen_{form}.yaml")
        return [p.pool for p in front_desk_pools(sc)]

    assert names("separate") == ["mka_call_takers", "gp_post_triagists", "gp_post_intake"]
    assert names("central") == ["coordination_agents", "coordination_intake"]
    assert names("coordination_centre") == [
        "mka_call_takers",
        "coordination_agents",
        "coordination_intake",
    ]
    sc = load_scenario(SCENARIOS / "groningen_separate.yaml")
    mka, gp, intake = front_desk_pools(sc)
    assert all(mka.open_how) and sum(gp.open_how) == 168 - 5 * 9 == sum(intake.open_how)


def test_isa_step_is_the_tail_quantile() -> None:
    """s = least s with P(in pool >= s) <= alpha; closed hours 0; open at least min_staff."""
    hist = np.zeros((168, 11), dtype=np.int64)
    hist[0, :] = 10  # uniform on 0..10: P(L >= s) = (11 - s) / 11
    hist[1, 0] = 5  # nobody ever in the pool
    open_how = np.ones(168, dtype=bool)
    open_how[2] = False
    hist[2, 5] = 7
    s = isa_step(hist, 0.2, open_how, 1)
    assert s[0] == 9  # (11 - 9) / 11 = 0.18 <= 0.2 < 3 / 11
    assert s[1] == 1 and s[2] == 0 and s[3] == 1  # min staff; closed; no claims


def test_erlang_a_staffing_is_the_least_number_meeting_the_target() -> None:
    for lam, alpha in ((1.0, 0.2), (3.0, 0.1), (0.2, 0.5)):
        s = erlang_a_staffing(lam, 1 / 6, 0.1, alpha, 1)
        assert ErlangA(lam, 1 / 6, s, 0.1).p_wait <= alpha
        if s > 1:
            assert ErlangA(lam, 1 / 6, s - 1, 0.1).p_wait > alpha


def test_roster_hours_count_each_day_part_by_its_hours() -> None:
    sc = load_scenario(SCENARIOS / "groningen_separate.yaml")
    table = {p: 0 for p in sc.calendar.day_parts}
    table["weekday_night"] = 2  # 5 nights of 9 hours
    assert roster_hours(sc, table) == 2 * 5 * 9


def test_with_tables_replaces_a_table_and_validates() -> None:
    sc = load_scenario(SCENARIOS / "groningen_separate.yaml")
    table = dict(sc.mka.call_takers, weekday_night=7)
    assert with_tables(sc, {"mka.call_takers": table}).mka.call_takers["weekday_night"] == 7
    with pytest.raises(ScenarioError):
        with_tables(sc, {"mka.call_takers": {"weekday_night": 7}})  # day parts missing


# --------------------------------------------------------------------------- costs and norms


def test_costs_block_is_validated_with_a_located_message() -> None:
    data = base_data()
    data["costs"] = {"per_hour": {"mka.call_taker": 50.0}}
    with pytest.raises(ScenarioError) as info:
        validate_data(data)
    text = str(info.value)
    assert "costs.per_hour.mka.call_taker" in text and "mka.call_takers" in text
    data["costs"] = {"per_hour": {"ambulances": -1.0}}
    with pytest.raises(ScenarioError):
        validate_data(data)


def test_bad_costs_stop_the_command_before_anything_runs(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        f"extends: {SCENARIOS / 'groningen_central.yaml'}\ncosts:\n  per_hour:\n"
        "    coordination.agent: 50\n"
    )
    out = run_sim("staffing", str(bad), "--out", str(tmp_path / "res"))
    assert out.returncode == 2
    assert "bad.yaml:4" in out.stderr and "coordination.agents" in out.stderr
    assert "Traceback" not in out.stderr
    assert not (tmp_path / "res").exists()


def test_shipped_costs_name_every_front_desk_and_service() -> None:
    sc = load_scenario(SCENARIOS / "groningen_base.yaml")
    assert sc.costs is not None
    assert set(sc.costs.per_hour) == set(sc.cost_keys())


# --------------------------------------------------------------------------- the command


def _small() -> list[str]:
    return [
        "run.weeks=1",
        "staffing.replications=2",
        "staffing.verify_replications=2",
        "staffing.confidence=0.5",
    ]


def test_staffing_command_writes_a_verified_table_and_a_snippet(tmp_path: Path) -> None:
    path = SCENARIOS / "groningen_separate.yaml"
    sets = [a for s in _small() for a in ("--set", s)]
    out = run_sim("staffing", str(path), *sets, "--out", str(tmp_path), "--workers", "2")
    assert out.returncode in (0, 1), out.stderr
    (folder,) = tmp_path.iterdir()
    for name in ("report.md", "staffing.csv", "hourly.csv", "norms.csv", "snippet.yaml"):
        assert (folder / name).exists(), name
    assert "staffing block" in (folder / "stress_des.md").read_text(encoding="utf-8")
    assert (folder / "figures" / "staffing_by_hour.png").exists()
    assert not (folder / "batches").exists()
    summary = json.loads((folder / "summary.json").read_text())
    norms = summary["norms"]
    assert {n["pool"] for n in norms} == {"mka_call_takers", "gp_post_triagists", "gp_post_intake"}
    assert {n["roster"] for n in norms} == {"scenario's own", "day parts", "shifts"}
    found = [n for n in norms if n["roster"] != "scenario's own"]
    assert out.returncode == (0 if all(n["met"] for n in found) else 1)
    assert "Staff per day part" in out.stdout
    # the snippet is a valid overlay of the scenario, and gives the tables found
    sc = load_scenario(path, overlays=[folder / "snippet.yaml"])
    assert dict(sc.gp_post.triagists) == summary["tables"]["gp_post.triagists"]
    snippet = yaml.safe_load((folder / "snippet.yaml").read_text())
    assert set(snippet) == {"mka", "gp_post"}


def test_an_interrupted_staffing_run_resumes_from_what_it_kept(tmp_path: Path) -> None:
    sc = load_scenario(SCENARIOS / "groningen_central.yaml", _small())
    partial, _ = start_folder(sc, tmp_path, "test")
    # the search runs and keeps its batches, then "stops" before verifying
    Search(sc, Runner(LocalExecutor(1), BatchStore(partial))).run()
    assert any((partial / "batches").iterdir())
    out = run_sim("staffing", "--resume", str(partial), "--no-progress", "--workers", "1")
    assert out.returncode in (0, 1), out.stderr
    (folder,) = tmp_path.iterdir()
    done = json.loads((folder / "meta.json").read_text())
    # only the verifications (the scenario's own roster, day parts, shifts) were simulated
    assert done["replications_simulated"] == 3 * sc.staffing.verify_replications
    assert done["replications_reused"] > 0
    # a run from scratch finds the same tables
    partial, meta = start_folder(sc, tmp_path, "test")
    again, result = run_in_folder(sc, partial, meta, LocalExecutor(2), False)
    same = json.loads((again / "summary.json").read_text())
    assert same["tables"] == json.loads((folder / "summary.json").read_text())["tables"]
    assert result.tables == same["tables"]
    # a finished folder is not resumed (nothing would be gained, and it would be rewritten)
    out = run_sim("staffing", "--resume", str(folder))
    assert out.returncode == 2 and "finished" in out.stderr


def test_staffing_refuses_resume_with_a_scenario(tmp_path: Path) -> None:
    out = run_sim("staffing", str(SCENARIOS / "groningen_central.yaml"), "--resume", str(tmp_path))
    assert out.returncode == 2 and "--resume" in out.stderr
    out = run_sim("staffing", "--resume", str(tmp_path))
    assert out.returncode == 2 and "not an unfinished staffing run" in out.stderr


# --------------------------------------------------------------------------- the method


def _runner() -> Runner:
    return Runner(LocalExecutor(2))


@pytest.fixture(scope="module")
def isa_desk() -> tuple[Search, dict[str, np.ndarray], list[dict], float]:
    """The Mt/M/st+M desk staffed by the ISA at a fixed target, and a verification of that
    staffing on independent replications."""
    sc = load_scenario(VALIDATION / "staffing_desk.yaml", ["staffing.replications=6"])
    search = Search(sc, _runner())
    alpha = 0.2
    start, _, _ = search.start({"coordination_agents": alpha})
    staffing, _ = search.isa(start, {"coordination_agents": alpha})
    verify = search.runner(search.scenario_at(staffing), range(1000, 1010), search.pools)
    return search, staffing, verify, alpha


#: The band around the target that every hour's probability of waiting must stay in.
#: Staff are whole people: at this desk's loads (6 and 18 Erlang) one agent more or fewer
#: moves Erlang-A's probability of waiting from the target 0.2 to 0.09-0.16 or 0.22-0.28,
#: and the search may be one agent off where the target falls between two numbers (its
#: own estimate has sampling error); three standard errors of an hour's estimate (0.02 to
#: 0.03: calls within an hour are not independent) add up to 0.09. Hence 0.15 in any hour,
#: transitions between the levels included.
BAND = 0.15


def _p_wait(hist: np.ndarray, staff: np.ndarray) -> np.ndarray:
    """Per hour: the share of calls that found every agent busy."""
    return np.array([hist[h, staff[h] :].sum() for h in range(168)]) / hist.sum(axis=1)


@pytest.mark.slow
def test_isa_holds_the_probability_of_waiting_in_every_hour(isa_desk) -> None:  # type: ignore[no-untyped-def]
    search, staffing, verify, alpha = isa_desk
    (pool,) = search.pools
    hist = summed(verify, pool.pool, "hist")
    assert (hist.sum(axis=1) > 0).all()
    p_wait = _p_wait(hist, staffing[pool.pool])
    assert np.abs(p_wait - alpha).max() <= BAND, np.round(p_wait, 3)
    # on the constant stretches (two hours after each change), each hour lies between
    # Erlang-A with one agent more and one fewer than its exact staffing, give or take
    # three standard errors of the hour's estimate (from the spread over replications:
    # calls within an hour are not independent)
    per_rep = np.array([_p_wait(c[pool.pool]["hist"], staffing[pool.pool]) for c in verify])
    se = per_rep.std(axis=0, ddof=1) / np.sqrt(len(verify))
    day = np.arange(168) % 24
    for rate, hours in ((3.0, (day >= 10) & (day < 20)), (1.0, (day >= 22) | (day < 8))):
        exact = erlang_a_staffing(rate, 1 / 6, 1 / 10, alpha, 1)
        low = ErlangA(rate, 1 / 6, exact + 1, 1 / 10).p_wait - 3 * se[hours]
        high = ErlangA(rate, 1 / 6, exact - 1, 1 / 10).p_wait + 3 * se[hours]
        inside = (p_wait[hours] >= low) & (p_wait[hours] <= high)
        assert inside.all(), (rate, p_wait[hours][~inside], se[hours][~inside])
    # and over the week the level is the target's, less what whole people add
    assert alpha - 0.06 <= p_wait.mean() <= alpha + 0.02


@pytest.mark.slow
def test_isa_equals_erlang_a_on_constant_rate_stretches(isa_desk) -> None:  # type: ignore[no-untyped-def]
    search, staffing, _, alpha = isa_desk
    s = staffing["coordination_agents"]
    for day in range(7):
        for hour, rate in ((11, 3.0), (14, 3.0), (17, 3.0), (2, 1.0), (5, 1.0), (23, 1.0)):
            exact = erlang_a_staffing(rate, 1 / 6, 1 / 10, alpha, 1)
            assert abs(int(s[day * 24 + hour]) - exact) <= 1, (day, hour, s[day * 24 + hour], exact)


@pytest.mark.slow
def test_offered_load_start_reads_the_desk(isa_desk) -> None:  # type: ignore[no-untyped-def]
    """With ample staff, the measured arrival rate and offered load are the desk's own
    (1 or 3 calls a minute, 6 or 18 Erlang) within sampling error."""
    search, _, _, _ = isa_desk
    counts = search.simulate(search.ample())
    rates, loads = offered_load(counts, search.pools, search.weeks_observed)
    r, a = rates["coordination_agents"], loads["coordination_agents"]
    day = np.arange(168) % 24
    high = (day >= 8) & (day < 20)
    assert abs(r[high].mean() - 3.0) < 0.05 and abs(r[~high].mean() - 1.0) < 0.03
    assert abs(a[high & (day >= 10)].mean() - 18.0) < 0.5
    assert abs(a[~high & ((day >= 22) | (day < 8))].mean() - 6.0) < 0.3
    assert not math.isnan(a.sum())


def test_measure_counts_only_the_reporting_window() -> None:
    sc = load_scenario(VALIDATION / "staffing_desk.yaml", ["run.weeks=1"])
    pools = tuple(front_desk_pools(sc))
    counts = measure(sc, 0, sc.run.seed, pools)["coordination_agents"]
    sim = simulate(sc, 0, sc.run.seed)
    tl = sim.timeline
    arrivals = sim.records.requests["arrival_min"]
    in_window = ((arrivals >= tl.warmup_end_min) & (arrivals < tl.arrivals_end_min)).sum()
    assert counts["hist"].sum() == in_window
    assert counts["regular_n"].sum() == in_window  # every call is regular, none closed
    assert isinstance(pools[0], StaffPool)


# --------------------------------------------------------------------------- shifts


def test_shift_roster_is_the_least_cover() -> None:
    from sim.staffing.shifts import cover

    need = np.zeros(168, dtype=int)
    for d in range(7):
        need[d * 24 + 17 : d * 24 + 20] = 2  # 17-20: two on duty
        need[d * 24 + 20 : d * 24 + 23] = 1  # 20-23: one
    plan = cover(need, [17, 20], [3, 6])
    assert plan.optimal
    assert (plan.on_duty >= need).all()
    assert plan.paid_hours == 7 * (6 + 3)  # one 17-23 and one 17-20 a day
    assert sum(n * x for _, _, n, x in plan.shifts) == plan.paid_hours
    # a night shift runs past Sunday midnight into Monday
    night = np.zeros(168, dtype=int)
    night[167] = night[0] = 1
    plan = cover(night, [23], [2])
    assert plan.shifts == (("sun", 23, 2, 1),) and plan.paid_hours == 2


def test_shift_patterns_are_validated() -> None:
    data = base_data()
    data["staffing"]["shifts"] = {"starts": [25], "lengths": [8]}
    with pytest.raises(ScenarioError, match="staffing.shifts.starts"):
        validate_data(data)


# --------------------------------------------------------------------------- costs in every report


def test_cost_kpis_are_hours_on_duty_times_the_rates() -> None:
    from sim.experiments.replicate import run_replication
    from sim.measures.kpis import WEEKS_PER_YEAR, registry

    sc = load_scenario(SCENARIOS / "groningen_separate.yaml", ["run.weeks=1"])
    k = run_replication(sc, 0, 7).kpis
    rates = sc.costs.per_hour  # type: ignore[union-attr]
    desks = (
        k["staff_hours.mka_call_takers.per_week"] * rates["mka.call_takers"]
        + k["staff_hours.gp_post_triagists.per_week"] * rates["gp_post.triagists"]
        + k["staff_hours.gp_post_intake.per_week"] * rates["gp_post.triage.callback.intake_staff"]
    )
    assert k["cost.front_desks.per_week"] == pytest.approx(desks, rel=1e-9)
    assert k["cost.total.per_year"] == pytest.approx(k["cost.total.per_week"] * WEEKS_PER_YEAR)
    assert k["cost.total.per_week"] == pytest.approx(
        k["cost.front_desks.per_week"] + k["cost.services.per_week"]
    )
    unit = {kpi.name: kpi.unit for kpi in registry(sc)}["cost.total.per_year"]
    assert unit == "EUR/year"
    data = base_data()
    data["costs"] = None
    assert not any(kpi.name.startswith("cost.") for kpi in registry(validate_data(data)))


@pytest.mark.slow
def test_staffing_compare_gives_paired_differences_and_moves_an_input(tmp_path: Path) -> None:
    forms = [SCENARIOS / "groningen_separate.yaml", SCENARIOS / "groningen_central.yaml"]
    sets = [a for s in _small() for a in ("--set", s)]
    out = run_sim(
        "staffing", "--compare", *map(str, forms), *sets, "--searches", "2",
        "--vary", "coordination_call_length", "--out", str(tmp_path), "--no-progress",
    )  # fmt: skip
    assert out.returncode in (0, 1), out.stderr
    (folder,) = tmp_path.iterdir()
    summary = json.loads((folder / "summary.json").read_text())
    rows = summary["searches"]
    assert {(r["scenario"], r["search"]) for r in rows} == {
        (f, k) for f in ("groningen_separate", "groningen_central") for k in (1, 2)
    }
    by = {(r["scenario"], r["search"]): r["hours_per_week_shifts"] for r in rows}
    diff = [by[("groningen_central", k)] - by[("groningen_separate", k)] for k in (1, 2)]
    (central,) = [
        r
        for r in summary["summary"]
        if r["scenario"] == "groningen_central" and r["figure"] == "hours_per_week_shifts"
    ]
    assert central["difference"] == pytest.approx(np.mean(diff))
    assert central["diff_low"] <= central["difference"] <= central["diff_high"]
    inputs = summary["inputs"]
    assert {(r["end"], r["scenario"]) for r in inputs} == {
        (e, f) for e in ("low", "high") for f in ("groningen_separate", "groningen_central")
    }
    low, high = (next(r["value"] for r in inputs if r["end"] == e) for e in ("low", "high"))
    assert low < 1.0 < high  # a multiplier of the coordination desk's call lengths
    # the separate form has no coordination desk: its staffing does not move
    sep = {
        r["end"]: r["staff_hours_per_week"] for r in inputs if r["scenario"] == "groningen_separate"
    }
    assert sep["low"] == sep["high"] == by[("groningen_separate", 1)]
    assert "How the difference moves with the inputs" in (folder / "report.md").read_text()


@pytest.mark.slow
def test_ctrl_c_keeps_the_batches_and_resume_finishes_with_the_same_tables(
    tmp_path: Path,
) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    from helpers import ROOT

    sets = [a for s in _small() for a in ("--set", s)]
    args = ["staffing", str(SCENARIOS / "groningen_separate.yaml"), *sets, "--no-progress"]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = tmp_path / "interrupted"
    proc = subprocess.Popen(
        [sys.executable, "run_sim.py", *args, "--out", str(out), "--workers", "2"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        kept = list(out.glob(".*.partial/batches/*.npz")) if out.exists() else []
        if len(kept) >= 2:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    (partial,) = out.glob(".*.partial")
    assert f"--resume {partial}" in err and "Traceback" not in err
    resumed = run_sim("staffing", "--resume", str(partial), "--no-progress")
    assert resumed.returncode in (0, 1), resumed.stderr
    (folder,) = (p for p in out.iterdir() if not p.name.startswith("."))
    meta = json.loads((folder / "meta.json").read_text())
    assert meta["replications_reused"] >= 4
    # an uninterrupted run gives the same tables
    again = run_sim(*args, "--out", str(tmp_path / "whole"))
    assert again.returncode == resumed.returncode
    (whole,) = (tmp_path / "whole").iterdir()
    first = json.loads((folder / "summary.json").read_text())
    second = json.loads((whole / "summary.json").read_text())
    assert first["tables"] == second["tables"] and first["shifts"] == second["shifts"]


# --------------------------------------------------------------------------- services


def test_the_fleet_is_shared_over_the_posts_as_the_scenario_shares_it() -> None:
    assert share_out(10, [3, 1, 1, 0]) == [6, 2, 2, 0]
    assert share_out(7, [2, 2, 2]) == [3, 2, 2]  # ties to the post named first
    assert share_out(3, [0, 0]) == [2, 1]  # nobody on duty in the plan: shared equally
    for total in range(0, 30):
        assert sum(share_out(total, [8, 2, 2, 2, 1, 1, 1, 0])) == total


def test_a_fleet_table_becomes_the_posts_tables_on_a_map() -> None:
    sc = load_scenario(SCENARIOS / "groningen_central.yaml")
    assert sc.geography is not None
    own = own_fleet(sc)
    assert own == own_table(sc, FLEET_TABLE)
    more = {part: n + 3 for part, n in own.items()}
    agents = {part: 4 for part in own}
    tables = file_tables(sc, {FLEET_TABLE: more, "coordination.agents": agents})
    assert FLEET_TABLE not in tables  # the file has no on_duty table beside its posts
    assert tables["coordination.agents"] == agents
    posts = [t for name, t in tables.items() if name.startswith("geography.posts.")]
    assert len(posts) == len(sc.geography.posts)
    for part, n in more.items():
        assert sum(t[part] for t in posts) == n
    staffed = with_tables(sc, tables)
    assert own_fleet(staffed) == more
    # the scenario's own fleet shares out to its own posts
    same = file_tables(sc, {FLEET_TABLE: own})
    for name, post in sc.geography.posts.items():
        assert same[f"geography.posts.{name}.vehicles"] == {
            part: post.vehicles.get(part, 0) for part in own
        }
    # without a map the fleet table is the file's
    free = load_scenario(SCENARIOS / "groningen_zone_free.yaml")
    assert set(file_tables(free, {FLEET_TABLE: own})) == {FLEET_TABLE}
    # on a map the search scales the plan: k = 1 is the plan, hour by hour
    by_hour = hourly(sc)
    plan = scaled_fleet(by_hour, 1.0)
    part_of_hour = sc.calendar.day_part_of_hour()
    assert plan.tolist() == [own[part_of_hour[h]] for h in range(168)]
    assert (scaled_fleet(by_hour, 1.5) == np.round(1.5 * plan)).all()
    fleet = {p.service: p for p in service_pools(sc)}["ambulance"]
    assert fleet.scaled and not {p.service: p for p in service_pools(free)}["ambulance"].scaled


def test_service_pools_carry_the_care_norms_of_their_needs() -> None:
    sc = load_scenario(SCENARIOS / "groningen_central.yaml")
    pools = {p.service: p for p in service_pools(sc)}
    assert pools["ambulance"].care == ("A1", "A2")
    assert pools["gp_visit"].care == ("U1", "U2", "U3")
    assert pools["gp_consult"].care == ("U2", "U3")
    assert all(pools["ambulance"].open_how)
    assert not all(pools["gp_consult"].open_how)
    assert [p.pool for p in staffed_pools(sc)] == [p.pool for p in front_desk_pools(sc)]
    on = load_scenario(SCENARIOS / "groningen_central.yaml", ["staffing.services=true"])
    assert [p.pool for p in staffed_pools(on)][-3:] == [
        "gp_consult_gps",
        "gp_visit_cars",
        "ambulances",
    ]


def test_care_counts_are_requests_reached_within_their_target() -> None:
    sc = load_scenario(SCENARIOS / "groningen_zone_free.yaml", ["run.weeks=1"])
    pool = next(p for p in service_pools(sc) if p.service == "ambulance")
    simulated = simulate(sc, 0, 11)
    tl, r = simulated.timeline, simulated.records.requests
    counts = count_care(sc, tl, pool, r)
    needs = list(sc.needs)
    a1 = [i for i, n in enumerate(needs) if sc.needs[n].urgency == "A1"]
    arrival = r["arrival_min"]
    hour = (arrival // 60).astype(int)
    window = (arrival >= tl.warmup_end_min) & (arrival < tl.arrivals_end_min)
    mine = window & np.isin(r["need"], a1) & (tl.day_type[np.minimum(hour, tl.n_hours - 1)] == 0)
    waited = np.nan_to_num(r["care_min"] - arrival, nan=np.inf)
    assert counts["care_A1_n"].sum() == mine.sum() > 50
    assert counts["care_A1_met"].sum() == (mine & (waited <= 15.0 + 1e-9)).sum()
    assert 0 < counts["care_A1_met"].sum() < counts["care_A1_n"].sum()


def _care_counts(shares: list[float], n: int = 1000) -> list[dict[str, dict[str, np.ndarray]]]:
    out = []
    for share in shares:
        offered = np.zeros(168, dtype=np.int64)
        met = np.zeros(168, dtype=np.int64)
        offered[20], met[20] = n, round(share * n)
        out.append({"ambulances": {"care_A1_n": offered, "care_A1_met": met}})
    return out


def _unlimited(shares: list[float]) -> dict[str, list[dict[str, dict[str, np.ndarray]]]]:
    return {"ambulances": _care_counts(shares)}


def test_a_care_norm_out_of_reach_is_met_near_what_unlimited_units_reach() -> None:
    sc = load_scenario(SCENARIOS / "groningen_zone_free.yaml", ["staffing.services=true"])
    pool = next(p for p in service_pools(sc) if p.service == "ambulance")
    pool = StaffPool(pool.pool, pool.table, "", False, pool.open_how, "ambulance", ("A1",))
    staffed = _care_counts([0.80, 0.81, 0.79, 0.80])
    # unlimited units reach 81 %: a shortfall of 1 point is within the 2-point tolerance
    (near,) = evaluate_norms(sc, staffed, [pool], 1.0, _unlimited([0.81, 0.82, 0.80, 0.81]))
    assert near.met and near.how == "near unlimited" and abs(near.reference - 0.81) < 1e-9
    # ... a shortfall of 5 points is not
    (far,) = evaluate_norms(sc, staffed, [pool], 1.0, _unlimited([0.85, 0.86, 0.84, 0.85]))
    assert not far.met and far.how == ""
    # a share that reaches the 95 % norm meets it whatever unlimited units reach
    (ok,) = evaluate_norms(sc, _care_counts([0.97] * 3), [pool], 1.0, _unlimited([1.0] * 3))
    assert ok.met and ok.how == "norm"
    # without the reference only the norm itself counts
    (alone,) = evaluate_norms(sc, staffed, [pool], 1.0)
    assert not alone.met


def test_care_norms_name_urgencies_of_the_needs() -> None:
    data = base_data()
    data["staffing"]["norms"]["care"] = {"A1": 0.95, "U9": 0.9}
    with pytest.raises(ScenarioError) as err:
        validate_data(data)
    text = str(err.value)
    assert "staffing.norms.care.U9" in text and "unknown urgency 'U9'" in text


def test_the_service_isa_never_reads_a_tail_lighter_than_poisson() -> None:
    hist = np.zeros((168, MAX_IN_SYSTEM + 1), dtype=np.int64)
    hist[:, 2] = 10  # ten claims an hour, each found two busy: no tail at all
    open_how = np.ones(168, dtype=bool)
    plain = isa_step(hist, 0.01, open_how, 1)
    assert (plain == 3).all()  # the least s no claim reached: P(N >= 3) = 0
    poisson = isa_step(hist, 0.01, open_how, 1, poisson_tail=True)
    # Poisson(2): P(N >= 6) = 0.0166, P(N >= 7) = 0.0045
    assert (poisson == 7).all()


@pytest.mark.slow
def test_staffing_with_services_staffs_the_fleet_on_the_map(tmp_path: Path) -> None:
    path = SCENARIOS / "groningen_central.yaml"
    sets = [a for s in _small() for a in ("--set", s)]
    out = run_sim("staffing", str(path), "--services", *sets, "--out", str(tmp_path))
    assert out.returncode in (0, 1), out.stderr
    (folder,) = tmp_path.iterdir()
    summary = json.loads((folder / "summary.json").read_text())
    kinds = {row["pool"]: row["kind"] for row in summary["pools"]}
    assert kinds["ambulances"] == kinds["gp_visit_cars"] == "service"
    assert kinds["coordination_agents"] == "front desk"
    care = {(n["pool"], n["norm"]) for n in summary["norms"]}
    assert ("ambulances", "care_A1") in care and ("gp_visit_cars", "care_U2") in care
    assert "Services together" in (folder / "report.md").read_text()
    # the snippet gives each post its share of the fleet found, and runs as an overlay
    sc = load_scenario(path, overlays=[folder / "snippet.yaml"])
    assert own_fleet(sc) == summary["tables"][FLEET_TABLE]
    snippet = yaml.safe_load((folder / "snippet.yaml").read_text())
    assert "ambulances" not in snippet and "posts" in snippet["geography"]


def test_compare_with_services_splits_desks_and_services() -> None:
    from sim.staffing.compare import FIGURES, _figures_of, figures

    plain = load_scenario(SCENARIOS / "groningen_central.yaml")
    on = load_scenario(SCENARIOS / "groningen_central.yaml", ["staffing.services=true"])
    assert figures([plain]) == FIGURES
    keys = [key for key, _ in figures([plain, on])]
    assert "desks_hours_per_week_shifts" in keys and "services_hours_per_week" in keys
    one = {key: 1.0 for key, _ in FIGURES}
    summary = {
        "totals": {key: 3.0 for key, _ in FIGURES},
        "totals_by_kind": {"front desk": one, "service": {k: 2.0 for k in one}},
    }
    got = _figures_of(summary)
    assert got["hours_per_week"] == 3.0
    assert got["desks_hours_per_week"] == 1.0 and got["services_hours_per_week_shifts"] == 2.0
