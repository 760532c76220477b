"""Unit tests: light processes, staffed pools and their hourly areas, samplers, streams,
timeline."""

from __future__ import annotations

import heapq
import math

import numpy as np
import pytest

from helpers import scenario
from sim.codes import CLAIM_ABANDONED as ABANDONED
from sim.codes import CLAIM_CLOSED as CLOSED
from sim.codes import CLAIM_SERVED as SERVED
from sim.model.calendar import Timeline
from sim.model.draws import duration_sampler
from sim.model.engine import Engine
from sim.model.pools import StaffedPool
from sim.model.streams import Streams
from sim.scenario import Duration


def _job(engine, pool, log, name, start, duration, priority=1, patience=None):
    env = engine
    yield float(start)
    claim = pool.claim(priority)
    if patience is not None and claim.state == 0:
        pool.give_up_after(claim, float(patience))
    if not claim.state:  # waiting: the pool resumes this process once it decides
        yield claim
    state = claim.state
    log.append((name, state, env.now))
    if state == SERVED:
        yield float(duration)
        pool.release(claim)
        log.append((name, "done", env.now))


def _engine() -> Engine:
    return Engine()


def test_event_queue_gives_time_then_priority_then_scheduling_order() -> None:
    """The engine's queue (its own binary heap in the compiled build, ``heapq`` on SimPy's
    tuples in the source) returns entries by time, then SimPy's priority, then the order
    they were scheduled in: 3,000 entries with many ties, pops interleaved with pushes as
    in a run, against ``heapq`` on (time, priority, number) as the reference."""
    engine = _engine()
    rng = np.random.default_rng(7)
    times = rng.integers(0, 40, size=3000).astype(float)
    priorities = rng.integers(0, 2, size=3000)
    events = [object() for _ in range(3000)]
    reference: list[tuple[float, int, int]] = []
    got, want = [], []
    for k in range(3000):
        engine.push(float(times[k]), int(priorities[k]), events[k])
        heapq.heappush(reference, (float(times[k]), int(priorities[k]), k))
        if k % 7 == 6:
            got.append(engine.pop())
            want.append(events[heapq.heappop(reference)[2]])
    while reference:
        got.append(engine.pop())
        want.append(events[heapq.heappop(reference)[2]])
    assert all(a is b for a, b in zip(got, want, strict=True))
    assert engine.peek() == math.inf
    assert engine._seq == 3000  # the events scheduled, as SimPy's counter would number them


def test_priority_then_fifo() -> None:
    engine = _engine()
    pool = StaffedPool(engine, "p", [(0.0, 1)])
    log: list = []
    engine.start(_job(engine, pool, log, "first", 0, 10))
    engine.start(_job(engine, pool, log, "regular", 1, 1, priority=2))
    engine.start(_job(engine, pool, log, "urgent_late", 2, 1, priority=1))
    engine.start(_job(engine, pool, log, "urgent_later", 3, 1, priority=1))
    engine.run()
    starts = [(n, t) for n, s, t in log if s == SERVED]
    assert starts == [("first", 0), ("urgent_late", 10), ("urgent_later", 11), ("regular", 12)]


def test_end_of_shift_finishes_call_in_hand() -> None:
    engine = _engine()
    # two on duty until t=5, then one
    pool = StaffedPool(engine, "p", [(0.0, 2), (5.0, 1)])
    log: list = []
    engine.start(_job(engine, pool, log, "a", 0, 8))
    engine.start(_job(engine, pool, log, "b", 0, 10))
    engine.start(_job(engine, pool, log, "c", 6, 1))
    engine.run()
    # at t=5 both are busy: one of them leaves after finishing (t=8); c waits for the
    # remaining server, which frees at t=10
    started_c = [t for n, s, t in log if n == "c" and s == SERVED]
    assert started_c == [10]
    assert pool.present == 1 and pool.busy == 0
    # on-duty count stays 2 until the leaver finishes at t=8, then 1 until the end (t=11):
    # 2*8 + 1*3 on-duty minutes; busy a 0-8, b 0-10, c 10-11
    busy, present, waiting = pool.areas(11.0, 2)
    assert list(present) == [19.0, 0.0]
    assert list(busy) == [19.0, 0.0]
    assert list(waiting) == [4.0, 0.0]  # c waited from 6 to 10


def test_capacity_rise_serves_waiting_and_cancels_departures() -> None:
    engine = _engine()
    pool = StaffedPool(engine, "p", [(0.0, 1), (2.0, 0), (3.0, 2)])
    log: list = []
    engine.start(_job(engine, pool, log, "a", 0, 5))
    engine.start(_job(engine, pool, log, "b", 1, 1))
    engine.run()
    # at t=2 the only server must leave after its job; at t=3 two are wanted again, so the
    # departure is cancelled and one more server starts on b
    assert [(n, t) for n, s, t in log if s == SERVED] == [("a", 0), ("b", 3)]
    assert pool.present == 2


def test_abandonment_and_closing() -> None:
    engine = _engine()
    pool = StaffedPool(engine, "p", [(0.0, 1)], open_changes=[(0.0, True), (20.0, False)])
    log: list = []
    engine.start(_job(engine, pool, log, "a", 0, 30))
    engine.start(_job(engine, pool, log, "impatient", 1, 1, patience=2))
    engine.start(_job(engine, pool, log, "waiting", 1, 1, patience=100))
    engine.start(_job(engine, pool, log, "after_close", 25, 1))
    engine.run()
    states = {n: (s, t) for n, s, t in log if s != "done"}
    assert states["impatient"] == (ABANDONED, 3)
    assert states["waiting"] == (CLOSED, 20)
    assert states["after_close"] == (CLOSED, 25)
    assert pool.n_waiting == 0


@pytest.mark.parametrize(
    "spec",
    [
        {"dist": "fixed", "mean_min": 4.0},
        {"dist": "exponential", "mean_min": 4.0},
        {"dist": "lognormal", "mean_min": 4.0, "cv": 0.6},
        {"dist": "gamma", "mean_min": 4.0, "cv": 0.6},
        {"dist": "weibull", "mean_min": 4.0, "cv": 0.6},
        {"dist": "uniform", "low_min": 2.0, "high_min": 6.0},
    ],
)
def test_duration_samplers_have_the_stated_mean(spec: dict) -> None:
    from scipy.special import ndtri

    d = Duration(**spec)
    f = duration_sampler(d)
    u = np.random.default_rng(1).random(200_000)
    rows = np.column_stack([u, ndtri(u)]).tolist()
    x = np.array([f(row, 0) for row in rows])
    # the fast sampler is the inverse CDF at u
    assert all(math.isclose(f(rows[i], 0), d.quantile(u[i]), rel_tol=1e-9) for i in range(100))
    assert (x >= 0).all()
    # 5 standard errors: fails only if the sampler is wrong
    se = x.std() / math.sqrt(len(x)) if x.std() > 0 else 1e-12
    assert abs(x.mean() - 4.0) < 5 * se + 1e-9
    if spec["dist"] in ("lognormal", "gamma", "weibull"):
        assert abs(x.std() / x.mean() - 0.6) < 0.02


def test_duration_rejects_missing_or_extra_fields() -> None:
    with pytest.raises(ValueError, match="needs cv"):
        Duration(dist="lognormal", mean_min=3)
    with pytest.raises(ValueError, match="remove cv"):
        Duration(dist="exponential", mean_min=3, cv=1)


def test_streams_are_named_and_reproducible() -> None:
    a = Streams(7, 3).get("arrivals/x").random(5)
    b = Streams(7, 3).get("arrivals/x").random(5)
    c = Streams(7, 3).get("arrivals/y").random(5)
    d = Streams(7, 4).get("arrivals/x").random(5)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)
    assert not np.array_equal(a, d)


def test_timeline_after_hours_and_holidays() -> None:
    sc = scenario(run={"weeks": 1, "warmup_days": 0}, calendar={"public_holidays": ["2027-01-06"]})
    tl = Timeline.from_scenario(sc)
    # Monday 07:00 after-hours, 08:00 not, 17:00 again
    assert tl.after_hours[7] and not tl.after_hours[8] and tl.after_hours[17]
    # Wednesday 6 January is a holiday: after-hours all day, Sunday's hour-of-week
    wed_noon = 2 * 24 + 12
    assert tl.after_hours[wed_noon]
    assert tl.hour_of_week[wed_noon] == 6 * 24 + 12
    assert tl.after_hours[5 * 24 + 12]  # Saturday noon


def test_hourly_areas_are_exact_across_hour_boundaries() -> None:
    """One server from t=0; a job from 30 to 150, a second one queued at 40 that is served
    from 150 to 200 (a roster change at 120 that keeps one on duty): busy, on-duty and
    waiting minutes per hour, the last hour cut at the end of the run (t=210)."""
    engine = _engine()
    pool = StaffedPool(engine, "p", [(0.0, 1), (120.0, 1)], handover=False)
    log: list = []
    engine.start(_job(engine, pool, log, "long", 30, 120))
    engine.start(_job(engine, pool, log, "second", 40, 50))
    engine.run(until=210.0)
    busy, present, waiting = pool.areas(210.0, 5)
    assert list(busy) == [30.0, 60.0, 60.0, 20.0, 0.0]
    assert list(present) == [60.0, 60.0, 60.0, 30.0, 0.0]
    assert list(waiting) == [20.0, 60.0, 30.0, 0.0, 0.0]
    assert sum(waiting) == pool.total_wait


def test_handover_rule_starts_the_new_shift_on_time() -> None:
    """One server before and after a shift change at t=10: a job started at 5 runs to 15;
    under the handover rule the incoming server takes a call at 11, under the level rule
    the caller waits for the same server until 15."""
    for handover, expected in ((True, 11), (False, 15)):
        engine = _engine()
        pool = StaffedPool(engine, "p", [(0.0, 1), (10.0, 1)], handover=handover)
        log: list = []
        engine.start(_job(engine, pool, log, "long", 5, 10))
        engine.start(_job(engine, pool, log, "next", 11, 1))
        engine.run()
        assert [t for n, s, t in log if n == "next" and s == SERVED] == [expected]
        assert pool.present == 1 and pool.busy == 0


def test_every_code_is_the_position_of_its_name() -> None:
    """Each integer code of sim.codes equals the index of its name in its names tuple, so
    records decode to the right words."""
    import sim.codes as codes

    groups = {
        "CHANNEL_": codes.CHANNEL_NAMES,
        "DESK_": codes.DESK_NAMES,
        "CALL_": codes.CALL_KIND_NAMES,
        "QUEUE_": codes.QUEUE_PRIORITY_NAMES,
        "CLAIM_": codes.CLAIM_STATE_NAMES,
        "OUTCOME_": codes.OUTCOME_NAMES,
        "TRIAGE_": codes.TRIAGE_DIRECTION_NAMES,
        "AMBULANCE_": codes.AMBULANCE_PRIORITY_NAMES,
    }
    aliases = {"CHANNEL_WALK_IN": "walk_in_ed"}
    checked = 0
    for attr, value in vars(codes).items():
        if not isinstance(value, int) or isinstance(value, bool) or not attr.isupper():
            continue
        prefix = next(p for p in groups if attr.startswith(p))
        name = aliases.get(attr, attr[len(prefix) :].lower())
        names = [n.lower() for n in groups[prefix]]
        assert names.index(name) == value, attr
        checked += 1
    assert checked == sum(len(v) for v in groups.values())
    # a waiting claim must be falsy: callers write `if not claim.state: yield claim`
    assert codes.CLAIM_WAITING == 0 and all(codes.CLAIM_STATE_NAMES)
    public = {codes.CALL_KIND_NAMES[k] for k in codes.PUBLIC_CALL_KINDS}
    assert public == {"first", "redial", "switch", "referral", "recontact", "repeat"}


def test_the_random_row_layout_is_pinned() -> None:
    """Reordering a request's random numbers silently changes every result while the
    statistical check still passes; this pins the order (change it only on purpose, with
    the golden fingerprint regenerated in the same commit)."""
    from sim.model import draws

    assert draws.REQUEST_SLOTS == (
        "need", "channel", "urgent_line",
        "dispatch", "turnout", "drive", "on_scene", "convey", "transport", "handover", "return",
        "travel_post", "consult", "visit_travel", "visit_on_site",
        "team_travel", "team_on_site", "ed_referral",
        "recontact", "recontact_delay", "escalation_delay",
        "referral_give_up", "referral_delay",
        "u1_rule", "regrade", "presentation", "room_consult", "repeat_contact", "repeat_delay",
    )  # fmt: skip
    assert draws.CALL_SLOTS == (
        "patience", "handle", "triage", "abandon", "redial_delay", "national_desk",
    )  # fmt: skip
    assert draws.MAX_SLOT_CALLS == 3
    assert len(set(draws.REQUEST_SLOTS)) == len(draws.REQUEST_SLOTS)
    for i, name in enumerate(draws.REQUEST_SLOTS):
        assert getattr(draws, f"SLOT_{name.upper()}") == i, name
    for i, name in enumerate(draws.CALL_SLOTS):
        assert getattr(draws, f"CALL_SLOT_{name.upper()}") == i, name
    assert draws.ROW_LENGTH == 29 + 6 * 3
    rows = draws.new_request_rows(np.random.default_rng(0), 4)
    assert rows.shape == (4, draws.ROW_LENGTH)
    # the row is the stream's numbers in order, one per slot
    assert np.array_equal(rows, np.random.default_rng(0).random((4, draws.ROW_LENGTH)))


def test_a_lognormal_duration_uses_the_normal_quantile_of_its_uniform() -> None:
    """A lognormal duration is exp(mu + sigma z) with z scipy's ``ndtri`` of the slot's
    uniform number, computed when it is drawn (the compiled build calls the same C
    function): the same number as the vectorised ufunc gives."""
    from scipy.special import ndtri

    d = Duration(dist="lognormal", mean_min=7.0, cv=0.6)
    sampler = duration_sampler(d)
    mu, sigma = d.lognormal_mu_sigma()
    u = np.random.default_rng(3).random(500)
    row = u.tolist()
    got = [sampler.draw(row, i) for i in range(len(row))]
    assert got == [math.exp(mu + sigma * z) for z in ndtri(u).tolist()]


def test_a_call_beyond_the_drawn_ones_extends_the_row() -> None:
    from array import array

    from sim.model import draws

    row = array("d", draws.new_request_rows(np.random.default_rng(1), 1)[0].tobytes())
    overflow = draws.Overflow(np.random.default_rng(2))
    inside = draws.call_position(row, 2, draws.CALL_SLOT_TRIAGE, overflow)
    assert inside < draws.ROW_LENGTH and len(row) == draws.ROW_LENGTH
    beyond = draws.call_position(row, 5, draws.CALL_SLOT_TRIAGE, overflow)
    assert beyond == draws.FIRST_CALL_POS + 5 * draws.CALL_STRIDE + draws.CALL_SLOT_TRIAGE
    assert len(row) == beyond + 1
    assert 0.0 <= row[beyond] < 1.0
    # the stream's own numbers: the row took the overflow stream's first ones
    fresh = np.random.default_rng(2).random(beyond + 1 - draws.ROW_LENGTH).tolist()
    assert row[draws.ROW_LENGTH :].tolist() == fresh


def test_a_rows_number_is_read_alike_from_an_array_and_a_list_and_never_past_its_ends() -> None:
    """``row_value`` (the compiled build reads an array's double in place): the same number
    from a request's array and from a list of fresh numbers, and an IndexError for a
    position past either end, negative ones included."""
    from array import array

    from sim.model.draws import row_value

    values = [0.125, 0.5, 0.875]
    for row in (array("d", values), list(values)):
        assert [row_value(row, i) for i in range(3)] == values
        for outside in (3, 40, -1):
            with pytest.raises(IndexError):
                row_value(row, outside)


def test_the_overflow_stream_read_in_blocks_hands_out_the_streams_numbers_in_order() -> None:
    """Read a block ahead, the overflow stream gives the numbers that drawing each few when
    needed gives: requests of any length, across block ends, and longer than a block."""
    from sim.model.draws import OVERFLOW_BLOCK, Overflow

    sizes = [1, 3, 7, 1, OVERFLOW_BLOCK - 5, 9, 2 * OVERFLOW_BLOCK + 3, 4, 1, 6]
    overflow = Overflow(np.random.default_rng(11))
    got = [overflow.take(n) for n in sizes]
    plain = np.random.default_rng(11)
    assert got == [plain.random(n).tolist() for n in sizes]
    assert [len(g) for g in got] == sizes


def test_a_request_record_puts_each_attribute_in_its_own_column() -> None:
    """``RequestColumns.add`` lists the attributes by hand (for speed); each must land in the
    column REQUEST_COLUMNS names for it, with its value kept exactly."""
    from array import array

    from sim.model.records import REQUEST_COLUMNS, Request, RequestColumns

    request = Request(7, 1, 2, 3, True, array("d"), 12.5)
    for k, (_, attr, dtype) in enumerate(REQUEST_COLUMNS):
        if attr in ("id", "group", "need", "channel", "urgent_line", "arrival_min"):
            continue
        if dtype is bool:
            setattr(request, attr, k % 2 == 1)
        elif dtype is float:
            setattr(request, attr, 100.0 + k + 0.25)
        else:
            setattr(request, attr, 100 + k)
    columns = RequestColumns()
    columns.add(request)
    table = columns.table()
    assert list(table) == [name for name, _, _ in REQUEST_COLUMNS]
    for name, attr, _ in REQUEST_COLUMNS:
        assert table[name].tolist() == [getattr(request, attr)], name


def test_a_scenario_tick_label_breaks_after_underscores_only() -> None:
    """Bar charts label each scenario by its name broken into short lines (four long names
    side by side ran into each other): the lines join back to the name, and only a single
    part longer than the width makes a line longer than it."""
    from sim.report.figures import _tick_label

    names = ["groningen_coordination_centre", "groningen_central", "a", "x_y_z", "a" * 30]
    names += ["region_with_a_rather_long_name_and_many_parts", "_lead", "trail_"]
    for name in names:
        label = _tick_label(name, width=16)
        assert label.replace("\n", "") == name
        for line in label.split("\n"):
            assert len(line) <= 17 or "_" not in line.rstrip("_"), (name, line)
    assert _tick_label("groningen_coordination_centre") == "groningen_\ncoordination_\ncentre"
