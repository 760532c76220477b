"""Special days and seasons: day types with their own demand and staffing, monthly factors,
warnings for listed days the run does not show, figures per day type and per date, and
overlays that put every form on one calendar."""

from __future__ import annotations

import copy
import csv
import datetime as dt
import gzip
import math
from pathlib import Path

import numpy as np
import pytest

from helpers import SCENARIOS, run_sim, scenario
from sim.experiments.replicate import replicate, run_replication
from sim.measures.kpis import KpiContext, _routing, registry
from sim.model.calendar import Timeline
from sim.model.demand import GroupDemand
from sim.scenario import ScenarioError, load_scenario
from sim.scenario.checks import calendar_warnings

START = dt.date(2027, 1, 4)  # the base's start, a Monday
CHRISTMAS = SCENARIOS / "groningen_christmas.yaml"


def _special(multiplier: float = 1.0, staffing: dict | None = None, **calendar: object):
    """The base over 2 weeks with Wednesday 13 January 2027 as a special day."""
    day_type: dict[str, object] = {"like": "sun", "demand": {"after_hours_primary": multiplier}}
    if staffing is not None:
        day_type["staffing"] = staffing
    changes = {
        "calendar": {
            "day_types": {"peak": day_type},
            "special_days": {dt.date(2027, 1, 13): "peak"},
            **calendar,
        },
        "run": {"weeks": 2},
    }
    return scenario(changes)


def _day_rate(sc, group: str, date: dt.date) -> float:
    tl = Timeline.from_scenario(sc)
    index = list(sc.demand.groups).index(group)
    rate = GroupDemand(sc, tl, index, group).rate_per_hour
    d = (date - sc.calendar.start_date).days
    return float(rate[24 * d : 24 * (d + 1)].sum())


def test_a_special_day_follows_its_like_day_and_multiplies_its_demand() -> None:
    plain = _special(1.0)
    peak = _special(2.0)
    wednesday, sunday = dt.date(2027, 1, 13), dt.date(2027, 1, 17)
    # like a Sunday: the GP post is open all day and the Sunday profile applies
    assert _day_rate(plain, "after_hours_primary", wednesday) == pytest.approx(
        _day_rate(plain, "after_hours_primary", sunday)
    )
    assert _day_rate(peak, "after_hours_primary", wednesday) == pytest.approx(
        2.0 * _day_rate(plain, "after_hours_primary", wednesday)
    )
    # other groups and other days keep their rates
    assert _day_rate(peak, "emergency", wednesday) == _day_rate(plain, "emergency", wednesday)
    assert _day_rate(peak, "after_hours_primary", sunday) == _day_rate(
        plain, "after_hours_primary", sunday
    )
    tl = Timeline.from_scenario(peak)
    d = (wednesday - START).days
    assert tl.after_hours[24 * d : 24 * (d + 1)].all()
    assert tl.day_type_names == ("ordinary", "holiday", "peak")


def test_a_special_day_has_its_own_staffing() -> None:
    sc = _special(1.0, staffing={"gp_post.triagists": {"weekend_day": 17}})
    ordinary = scenario({"run": {"weeks": 2}})
    rec = run_replication(sc, 0).records.monitors["gp_post_triagists"]
    base = run_replication(ordinary, 0).records.monitors["gp_post_triagists"]
    d = (dt.date(2027, 1, 13) - START).days
    noon = 24 * d + 12  # weekend_day (08-17) on a day like Sunday
    assert rec.present_min[noon] == pytest.approx(17 * 60.0)
    # the ordinary Sunday of that week keeps the ordinary table
    sunday_noon = 24 * (d + 4) + 12
    assert rec.present_min[sunday_noon] == pytest.approx(base.present_min[sunday_noon])


def test_seasonal_factors_keep_the_year_and_shape_the_months() -> None:
    plain = scenario({"run": {"weeks": 2}})
    winter = scenario({"run": {"weeks": 2}, "demand": {"season_by_month": {"jan": 1.3}}})
    # the factors are divided by their mean over a year (31 days of 1.3, the rest 1)
    mean = (31 * 1.3 + (365.25 - 31) * 1.0) / 365.25
    day = dt.date(2027, 1, 12)
    for group in ("emergency", "after_hours_primary"):
        assert _day_rate(winter, group, day) == pytest.approx(
            _day_rate(plain, group, day) * 1.3 / mean
        )
    summer = scenario(
        {
            "run": {"weeks": 2},
            "calendar": {"start_date": dt.date(2027, 7, 5), "public_holidays": []},
            "demand": {"season_by_month": {"jan": 1.3}},
        }
    )
    july = scenario(
        {
            "run": {"weeks": 2},
            "calendar": {"start_date": dt.date(2027, 7, 5), "public_holidays": []},
        }
    )
    assert _day_rate(summer, "emergency", dt.date(2027, 7, 13)) == pytest.approx(
        _day_rate(july, "emergency", dt.date(2027, 7, 13)) / mean
    )


def test_special_days_outside_the_window_are_warned_about() -> None:
    sc = scenario({"run": {"weeks": 2}})  # the base lists the holidays of 2027; none is shown
    warnings = calendar_warnings(sc)
    assert len(warnings) == 1
    assert "9 of the 9 special days" in warnings[0] and "2027-03-28 (holiday)" in warnings[0]
    inside = _special(1.0, public_holidays=[])
    assert calendar_warnings(inside) == []
    unused = scenario(
        {"run": {"weeks": 2}, "calendar": {"public_holidays": [], "day_types": {"x": {}}}}
    )
    assert any("no date has the day type x" in w for w in calendar_warnings(unused))


def test_the_command_line_prints_the_warning_and_still_runs(tmp_path: Path) -> None:
    proc = run_sim("validate-scenario", str(SCENARIOS / "groningen_base.yaml"), timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "warning: calendar: 9 of the 9 special days" in proc.stderr


def test_an_unknown_day_type_is_located(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        f"extends: {SCENARIOS / 'groningen_base.yaml'}\n"
        "calendar:\n"
        "  day_types:\n"
        "    christmas: {demand: {after_hours_primar: 1.2}, staffing: {gp_post.triagist: {}}}\n"
        "  special_days:\n"
        "    2027-12-25: chrismas\n"
    )
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    text = str(info.value)
    assert f"{path}:6:" in text and "unknown day type 'chrismas'" in text
    assert "did you mean 'christmas'" in text
    assert "unknown demand group 'after_hours_primar'" in text
    assert "unknown staffing table 'gp_post.triagist'" in text


def test_without_special_days_the_ordinary_day_type_is_the_whole_run() -> None:
    sc = scenario({"run": {"weeks": 1}, "calendar": {"public_holidays": []}})
    out = replicate(sc, 0, sc.run.seed)
    ordinary = out["calendar"]["day_type"]["ordinary"]
    assert list(out["calendar"]["day_type"]) == ["ordinary"]
    for name, value in ordinary.items():
        if name in out["kpis"]:
            assert value == out["kpis"][name] or (np.isnan(value) and np.isnan(out["kpis"][name]))
    dates = out["calendar"]["date"]
    assert list(dates) == [(START + dt.timedelta(days=7 + d)).isoformat() for d in range(7)]
    assert sum(v["requests.reported"] for v in dates.values()) == ordinary["requests.reported"]


def test_christmas_compare_writes_figures_per_day_type_and_date(tmp_path: Path) -> None:
    proc = run_sim(
        "compare",
        str(SCENARIOS / "groningen_separate.yaml"),
        str(SCENARIOS / "groningen_central.yaml"),
        "--overlay",
        str(CHRISTMAS),
        "--replications",
        "2",
        "--workers",
        "1",
        "--no-progress",
        "--out",
        str(tmp_path),
    )
    assert proc.returncode == 0, proc.stderr
    assert "warning" not in proc.stderr  # every special day of the file lies in its window
    (folder,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    with open(folder / "by_day_type.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    names = {r["scenario"] for r in rows}
    assert names == {
        "groningen_separate+groningen_christmas",
        "groningen_central+groningen_christmas",
    }
    assert {r["day_type"] for r in rows} == {"ordinary", "holiday", "christmas"}
    count = {
        (r["day_type"], r["scenario"]): float(r["mean"])
        for r in rows
        if r["kpi"] == "requests.reported"
    }
    # two Christmas days carry more after-hours requests than New Year's Day (one holiday)
    assert (
        count["christmas", "groningen_separate+groningen_christmas"]
        > 2 * count["holiday", "groningen_separate+groningen_christmas"]
    )
    central = [
        r
        for r in rows
        if r["scenario"].startswith("groningen_central") and r["kpi"] == "misrouted.share"
    ]
    assert len(central) == 3 and all(r["diff_vs_first"] != "" for r in central)
    with open(folder / "by_date.csv", newline="") as fh:
        dates = list(csv.DictReader(fh))
    christmas = {r["date"] for r in dates if r["day_type"] == "christmas"}
    assert christmas == {"2027-12-25", "2027-12-26"}
    assert min(r["date"] for r in dates) == "2027-12-20"
    assert max(r["date"] for r in dates) == "2028-01-02"
    report = (folder / "report.html").read_text()
    assert "<h2 id='day-types'>Special days</h2>" in report


def test_request_records_carry_the_date_time_and_day_type(tmp_path: Path) -> None:
    proc = run_sim(
        "run",
        str(CHRISTMAS),
        "--no-progress",
        "--out",
        str(tmp_path),
    )
    assert proc.returncode == 0, proc.stderr
    (records,) = list(tmp_path.glob("*/requests*.csv.gz"))
    with gzip.open(records, "rt", newline="") as fh:
        rows = list(csv.DictReader(fh))
    for row in rows[:: max(1, len(rows) // 200)]:
        stamp = dt.datetime.fromisoformat(row["arrival_time"])
        start = dt.datetime(2027, 12, 13)
        minutes = (stamp - start).total_seconds() / 60.0
        assert abs(minutes - float(row["arrival_min"])) <= 0.5 / 60.0 + 1e-9
        expected = {dt.date(2027, 12, 25): "christmas", dt.date(2027, 12, 26): "christmas"}
        expected[dt.date(2028, 1, 1)] = "holiday"
        assert row["day_type"] == expected.get(stamp.date(), "ordinary")
    assert {"christmas", "holiday", "ordinary"} <= {r["day_type"] for r in rows}


def test_an_overlay_that_is_missing_stops_with_exit_2(tmp_path: Path) -> None:
    proc = run_sim(
        "compare",
        "--overlay",
        str(tmp_path / "nowhere.yaml"),
        "--out",
        str(tmp_path),
        timeout=120,
    )
    assert proc.returncode == 2
    assert "nowhere.yaml" in proc.stderr and "Traceback" not in proc.stderr
    assert not any(tmp_path.iterdir())


def _masked(ctx: KpiContext, hours: np.ndarray) -> KpiContext:
    """The reference narrowing: the whole replication's rows, with what is reported masked
    to the requests arriving in ``hours`` (how the calendar figures were first computed)."""
    sub = copy.copy(ctx)
    sub.cache = {}
    keep = hours[ctx.arrival_hour]
    sub.reported = ctx.reported & keep
    sub.n_reported = int(sub.reported.sum())
    sub.phone = ctx.phone & keep
    sub.call_reported = ctx.call_reported & keep[ctx.rec.calls["request"]]
    sub.ride_reported = ctx.ride_reported & keep[ctx.rec.rides["request"]]
    sub.window_hours = ctx.window_hours & hours
    sub.weeks = float((ctx.window_all & hours).sum()) / 168.0
    sub.routing = _routing(sub)
    return sub


#: KPIs over every ride or request of the run, whatever a context reports: not meant for a
#: narrowed context (the calendar figures are headline KPIs only)
_OVER_THE_WHOLE_RUN = ("requests.in_system_at_end", ".coverage.share")


@pytest.mark.parametrize(
    "form", ["separate", "colocated", "coordination_centre", "central", "christmas"]
)
def test_narrowed_contexts_give_the_masked_figures_exactly(form: str) -> None:
    """A date's or a day type's context holds only its own rows; every KPI that selects
    what is reported (every headline KPI among them) must give, to the bit, what the
    whole context gives with its selections masked to those hours."""
    sc = load_scenario(SCENARIOS / f"groningen_{form}.yaml", ("run.weeks=2",))
    ctx = run_replication(sc, 0, 11).context
    tl = ctx.tl
    day = np.arange(tl.n_hours) // 24
    kpis = [k for k in registry(sc) if not k.name.endswith(_OVER_THE_WHOLE_RUN)]
    assert {k.name for k in registry(sc) if k.headline} <= {k.name for k in kpis}
    for labels in (day, tl.day_type):
        values = np.unique(labels[ctx.window_all]).tolist()  # as the calendar figures
        for v, fast in zip(values, ctx.narrowed_by(labels, values), strict=True):
            hours = labels == v
            reference = _masked(ctx, hours)
            general = ctx.narrowed(hours)
            assert fast.n_reported == reference.n_reported == general.n_reported
            for k in kpis:
                want = k.formula(reference)
                for got in (k.formula(fast), k.formula(general)):
                    assert got == want or (math.isnan(got) and math.isnan(want)), (k.name, v)
