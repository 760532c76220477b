"""Functional tests: hand-computable runs, extreme values, misrouting in crafted scenarios."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from helpers import ROOT, all_parts, fixed, scenario
from sim.codes import (
    CALL_FIRST,
    CALL_REDIAL,
    CALL_REFERRAL,
    CALL_REPEAT,
    CALL_ROOM_CONSULT,
    CALL_SWITCH,
    CHANNEL_112,
    CHANNEL_GP_POST,
    DESK_INDEX,
)
from sim.codes import OUTCOME_NAMES as OUTCOMES
from sim.experiments.replicate import run_replication

HUGE = 500


def _desk(handle: dict[str, Any]) -> dict[str, Any]:
    """A desk's triage with fixed times; every call is triaged while the caller is on the
    line (no call-back), so that times can be worked out by hand."""
    return {
        "callback": None,
        "handle_time": {"__replace__": True, **handle},
        "patience": fixed(10_000),
        "warm_transfer_time": fixed(1.5),
        "confusion": {"__replace__": True},
    }


def deterministic(need: str, dial_112: bool, form: str, **extra: Any) -> Any:
    """Every duration fixed, staff unlimited, perfect triage, GP post open all day."""
    changes: dict[str, Any] = {
        "organisation": form,
        "run": {"weeks": 1, "warmup_days": 0, "drain_hours": 24},
        "calendar": {
            "after_hours": {"weekday_start_hour": 0, "weekday_end_hour": 0},
            "public_holidays": [],
        },
        "demand": {
            "groups": {
                "__replace__": True,
                "only": {
                    "label": "test",
                    "requests_per_1000_per_year": 20,
                    "after_hours_only": False,
                    "profile": "gp_post",
                    "need_mix": {need: 1.0},
                },
            }
        },
        "needs": {
            need: {
                "channel": {
                    "dial_112": 1.0 if dial_112 else 0.0,
                    "dial_gp_post": 0.0 if dial_112 else 1.0,
                    "walk_in_ed": 0.0,
                },
                "urgent_line_share": 0.0,
            }
        },
        "mka": {
            "call_takers": all_parts(HUGE),
            "national_desk_delay": fixed(0.5),
            "referral": {"give_up_share": 0.0, "redial_delay": fixed(3)},
            "triage": _desk({"ambulance": fixed(4), "default": fixed(4.5)}),
        },
        "gp_post": {
            "triagists": all_parts(HUGE),
            "consult_gps": all_parts(HUGE),
            "visit_cars": all_parts(HUGE),
            "triage": _desk({"default": fixed(6)}),
            "travel_to_post": fixed(20),
            "consultation": fixed(10),
            "visit_travel": fixed(15),
            "visit_on_site": fixed(20),
        },
        "coordination": {
            "agents": all_parts(HUGE),
            "triage": _desk({"ambulance": fixed(5), "default": fixed(7.8)}),
        },
        "behaviour": {
            "triage_decision": fixed(2),
            "repeat_contact": {"after_advice_share": 0.0, "after_consult_share": 0.0},
        },
        "geography": None,  # one drive-time distribution: the times below are by hand
        "ambulances": {
            "on_duty": all_parts(HUGE),
            "dispatch": fixed(2),
            "turnout": fixed(1),
            "drive_to_scene": fixed(7),
            "on_scene": fixed(20),
            "transport": fixed(15),
            "handover": fixed(15),
            "return_to_base": fixed(12),
        },
    }
    from helpers import merge

    merge(changes, extra)
    return scenario(changes)


# (need, dials 112, form) -> time to care by hand, from DESIGN's process description
HAND_COMPUTED = [
    # GP consult via the GP number: answered at once, 6 min triage, 20 min travel to the post
    ("gp_consult", False, "separate", 6 + 20),
    ("gp_consult", False, "colocated", 6 + 20),
    # central: broader triage takes 7.8 min
    ("gp_consult", False, "central", 7.8 + 20),
    # via 112: 0.5 national desk, 4.5 MKA call, referral: 3 min to redial, 6 min GP triage,
    # 20 travel
    ("gp_consult", True, "separate", 0.5 + 4.5 + 3 + 6 + 20),
    # co-located: warm transfer (1.5 min short call) instead of a new call and a new triage
    ("gp_consult", True, "colocated", 0.5 + 4.5 + 1.5 + 20),
    ("gp_consult", True, "central", 0.5 + 7.8 + 20),
    # A1 via 112: 0.5 national desk, dispatch 2 min into the call, turnout 1, drive 7
    ("a1_emergency", True, "separate", 0.5 + 2 + 1 + 7),
    ("a1_emergency", True, "central", 0.5 + 2 + 1 + 7),
    # A1 via the GP post, separate: 6 min GP triage, handover call, MKA dispatches 2 min in
    ("a1_emergency", False, "separate", 6 + 2 + 1 + 7),
    # co-located: the ambulance leaves 2 min into the GP-post call
    ("a1_emergency", False, "colocated", 2 + 1 + 7),
    ("a1_emergency", False, "central", 2 + 1 + 7),
    # GP visit: the car leaves at the triage decision, 2 min into the call; 15 min drive out
    ("gp_visit", False, "separate", 2 + 15),
    ("gp_visit", False, "central", 2 + 15),
    # GP visit via 112, co-located: the MKA passes the disposition on warm after its 4.5-min
    # call; the GP post sends the car 1.5 min into the short transfer call (its whole length)
    ("gp_visit", True, "colocated", 0.5 + 4.5 + 1.5 + 15),
]


@pytest.mark.parametrize("need,dial_112,form,expected", HAND_COMPUTED)
def test_time_to_care_by_hand(need: str, dial_112: bool, form: str, expected: float) -> None:
    sc = deterministic(need, dial_112, form)
    res = run_replication(sc, 0)
    r = res.records.requests
    assert len(r["id"]) > 50
    ttc = r["care_min"] - r["arrival_min"]
    assert np.allclose(ttc, expected, atol=1e-9), (np.nanmin(ttc), np.nanmax(ttc))
    assert (r["outcome"] == OUTCOMES.index("care_given")).all()


def test_a1_response_measured_from_call_taken_at_the_mka() -> None:
    # separate form via the GP post: the A1 clock starts when the MKA takes the handover call
    res = run_replication(deterministic("a1_emergency", False, "separate"), 0)
    rides = res.records.rides
    assert np.allclose(rides["on_scene_min"] - rides["call_taken_min"], 2 + 1 + 7)
    assert res.kpis["ambulance.a1_within_15.share"] == 1.0


def test_single_triagist_queue_follows_lindley_recursion() -> None:
    """One triagist, fixed 6-min calls, no abandonment: answer = max(arrival, previous end)."""
    sc = deterministic("gp_consult", False, "separate", gp_post={"triagists": all_parts(1)})
    res = run_replication(sc, 0)
    c = res.records.calls
    first = (c["kind"] == CALL_FIRST) & (c["desk"] == DESK_INDEX["gp_post"])
    order = np.argsort(c["placed_min"][first], kind="stable")
    placed = c["placed_min"][first][order]
    answered = c["answered_min"][first][order]
    assert len(placed) > 50
    expected = np.empty_like(placed)
    free_at = -np.inf
    for i, t in enumerate(placed):
        expected[i] = max(t, free_at)
        free_at = expected[i] + 6.0
    assert np.allclose(answered, expected, atol=1e-9)
    assert (answered - placed).max() > 6.0  # the case really queues


def test_no_demand_means_nothing_happens() -> None:
    groups = scenario().demand.groups
    sc = scenario(
        {
            "demand": {"groups": {g: {"requests_per_1000_per_year": 0} for g in groups}},
            "run": {"weeks": 1},
        }
    )
    res = run_replication(sc, 0)
    assert len(res.records.requests["id"]) == 0
    assert len(res.records.calls["request"]) == 0
    assert len(res.records.rides["request"]) == 0
    assert res.kpis["requests.per_week"] == 0
    assert res.kpis["ambulance.rides.per_week"] == 0
    assert res.kpis["utilisation.ambulances"] == 0
    assert np.isnan(res.kpis["misrouted.share"])


@pytest.mark.parametrize("form", ["separate", "central"])
def test_huge_staff_means_no_queueing(form: str) -> None:
    sc = scenario(
        {
            "organisation": form,
            "run": {"weeks": 1},
            "mka": {"call_takers": all_parts(HUGE)},
            "gp_post": {
                "triage": {"callback": None},
                "triagists": all_parts(HUGE),
                "consult_gps": all_parts(HUGE),
                "visit_cars": all_parts(HUGE),
            },
            "coordination": {"agents": all_parts(HUGE), "triage": {"callback": None}},
            "geography": None,
            "ambulances": {"on_duty": all_parts(HUGE)},
            "teams": {
                "district_nurse": {"staff": all_parts(HUGE)},
                "mental_health": {"staff": all_parts(HUGE)},
            },
        }
    )
    res = run_replication(sc, 0)
    c = res.records.calls
    wait = c["answered_min"] - c["placed_min"]
    national = sc.mka.national_desk_delay
    # the only delay before an answer is the national 112 desk
    assert np.nanmax(wait) <= national.high_min + 1e-9
    assert not c["abandoned"].any()  # nobody hangs up
    # unanswered calls are only those that reached the GP post while it was closed
    unanswered = np.isnan(wait)
    assert (c["desk"][unanswered] == DESK_INDEX["gp_post"]).all()
    from sim.model.calendar import Timeline

    open_at_end = Timeline.from_scenario(sc).after_hours[
        (c["ended_min"][unanswered] // 60).astype(int)
    ]
    assert not open_at_end.any()
    rides = res.records.rides
    assert np.allclose(rides["assigned_min"], rides["requested_min"])
    assert res.kpis["calls.abandoned.per_week"] == 0


def _all_gp_type_dial_112(form: str):
    base = scenario()
    gp_needs = [n for n, v in base.needs.items() if v.home_door == "gp_post"]
    needs = {
        n: {"channel": {"dial_112": 1.0, "dial_gp_post": 0.0, "walk_in_ed": 0.0}} for n in gp_needs
    }
    mix = {n: 1.0 / len(gp_needs) for n in gp_needs}
    mix[gp_needs[-1]] = 1.0 - sum(mix[n] for n in gp_needs[:-1])
    return scenario(
        {
            "organisation": form,
            "run": {"weeks": 1},
            "needs": needs,
            "demand": {
                "groups": {
                    "__replace__": True,
                    "gp": {
                        **base.demand.groups["after_hours_primary"].model_dump(),
                        "need_mix": mix,
                    },
                }
            },
            "mka": {"call_takers": all_parts(HUGE), "triage": {"patience": fixed(10_000)}},
            "gp_post": {"triagists": all_parts(HUGE), "triage": {"patience": fixed(10_000)}},
            "coordination": {"agents": all_parts(HUGE), "triage": {"patience": fixed(10_000)}},
        }
    )


@pytest.mark.parametrize(
    "form,expected",
    [("separate", 1.0), ("colocated", 1.0), ("coordination_centre", 1.0), ("central", 0.0)],
)
def test_every_gp_type_caller_at_112_is_a_wrong_door(form: str, expected: float) -> None:
    res = run_replication(_all_gp_type_dial_112(form), 0)
    r = res.records.requests
    assert (r["channel"] == CHANNEL_112).all()
    assert res.kpis["doors.wrong_door.share"] == expected


def test_a_warm_transfer_spares_the_second_call_a_referral_needs() -> None:
    """GP-type callers at 112 (no queueing): in `separate` an MKA disposition of GP care is a
    referral, so the caller must phone again (or gives up); co-located, it is passed on warm.
    Only callers whose need the MKA may serve itself (advice) are routed well in
    `separate`; the rest of the difference is the warm transfer."""
    separate = run_replication(_all_gp_type_dial_112("separate"), 0).kpis
    colocated = run_replication(_all_gp_type_dial_112("colocated"), 0).kpis
    centre = run_replication(_all_gp_type_dial_112("coordination_centre"), 0).kpis
    # the coordination centre passes GP-type 112 callers on warm too (the C1 transfer)
    assert centre["misrouted.called_again.share"] < 0.01
    assert separate["misrouted.called_again.share"] > 0.2
    assert colocated["misrouted.called_again.share"] < 0.01
    # the same over-triage at the MKA, less only where the room consultation (co-located)
    # turned an ambulance into GP care
    assert centre["misrouted.over_triage.share"] == separate["misrouted.over_triage.share"]
    assert colocated["misrouted.over_triage.share"] < separate["misrouted.over_triage.share"]
    assert colocated["misrouted.share"] < separate["misrouted.share"] - 0.2


def test_wrong_door_needs_the_other_door() -> None:
    """GP-type callers at the GP post and A1 callers at 112 reach the right door: no wrong door."""
    sc = scenario(
        {
            "run": {"weeks": 1},
            "needs": {
                n: {"channel": {"dial_112": 0.0, "dial_gp_post": 1.0, "walk_in_ed": 0.0}}
                for n, v in scenario().needs.items()
                if v.home_door == "gp_post"
            }
            | {
                "a1_emergency": {
                    "channel": {"dial_112": 1.0, "dial_gp_post": 0.0, "walk_in_ed": 0.0}
                },
                "a2_urgent": {"channel": {"dial_112": 1.0, "dial_gp_post": 0.0, "walk_in_ed": 0.0}},
            },
            "gp_post": {"triage": {"patience": fixed(10_000)}},
            "mka": {"triage": {"patience": fixed(10_000)}},
            "demand": {
                "groups": {"after_hours_primary": {"channel_by_need": {"__replace__": True}}}
            },
        }
    )
    res = run_replication(sc, 0)
    assert res.kpis["doors.wrong_door.share"] == 0.0
    r = res.records.requests
    phone = np.isin(r["channel"], (CHANNEL_112, CHANNEL_GP_POST))
    assert phone.sum() > 100


def test_over_triage_counted_as_misrouted() -> None:
    """The MKA sends an ambulance to every GP-type 112 caller: all over-triaged, all misrouted."""
    sc = _all_gp_type_dial_112("separate")
    gp_needs = list(sc.demand.groups["gp"].need_mix)
    confusion = {"__replace__": True} | {n: {"a2_urgent": 1.0} for n in gp_needs}
    sc = scenario(
        {
            "run": {"weeks": 1},
            "needs": {
                n: {"channel": {"dial_112": 1.0, "dial_gp_post": 0.0, "walk_in_ed": 0.0}}
                for n in gp_needs
            },
            "demand": {"groups": {"__replace__": True, "gp": sc.demand.groups["gp"].model_dump()}},
            "mka": {
                "call_takers": all_parts(HUGE),
                "triage": {"patience": fixed(10_000), "confusion": confusion},
            },
        }
    )
    res = run_replication(sc, 0)
    assert res.kpis["misrouted.over_triage.share"] == 1.0
    assert res.kpis["misrouted.under_triage.share"] == 0.0
    assert res.kpis["misrouted.share"] == 1.0
    assert res.kpis["ambulance.rides_gp_type.share"] == 1.0


U1_RULES = {
    "ambulance": {"ambulance": 1.0, "gp": 0.0, "both": 0.0},
    "gp": {"ambulance": 0.0, "gp": 1.0, "both": 0.0},
    "both": {"ambulance": 0.0, "gp": 0.0, "both": 1.0},
}


@pytest.mark.parametrize(
    "rule,form,expected",
    [
        # GP post, separate: an ambulance needs a handover call (6-min triage, the MKA sends
        # it 2 min into the handover, 1 turnout, 7 drive); a GP car leaves at the decision
        ("ambulance", "separate", 6 + 2 + 1 + 7),
        ("gp", "separate", 2 + 15),
        ("both", "separate", min(6 + 2 + 1 + 7, 2 + 15)),
        # co-located: the ambulance leaves 2 min into the GP-post call
        ("ambulance", "colocated", 2 + 1 + 7),
        # one desk sends either itself
        ("ambulance", "central", 2 + 1 + 7),
        ("gp", "central", 2 + 15),
    ],
)
def test_u1_follows_one_rule_in_every_form(rule: str, form: str, expected: float) -> None:
    sc = deterministic("gp_visit_emergency", False, form, behaviour={"u1_dispatch": U1_RULES[rule]})
    res = run_replication(sc, 0)
    r = res.records.requests
    assert np.allclose(r["care_min"] - r["arrival_min"], expected, atol=1e-9)
    rides_per_request = len(res.records.rides["request"]) / len(r["id"])
    assert rides_per_request == (0.0 if rule == "gp" else 1.0)
    assert res.kpis["misrouted.share"] == 0.0  # U1 is the right disposition, whatever is sent


# zeros over the base rows' entries, so that a row given here replaces the base row
NO_BASE_ROW = {"a2_urgent": 0.0, "gp_visit": 0.0, "gp_visit_urgent": 0.0, "gp_consult": 0.0}
NO_BASE_ROW |= {"telephone_advice": 0.0}


def test_the_mka_accepts_a_handover_and_never_sends_it_back() -> None:
    """The GP post asks for an ambulance for a GP-visit need (over-triage); the MKA, whose
    own triage would have said GP visit, accepts it: one ride, no referral back, no second
    triage."""
    sc = deterministic(
        "gp_visit",
        False,
        "separate",
        gp_post={"triage": {"confusion": {"gp_visit": {**NO_BASE_ROW, "a2_urgent": 1.0}}}},
        mka={"triage": {"confusion": {"gp_visit": {**NO_BASE_ROW, "gp_visit": 1.0}}}},
    )
    res = run_replication(sc, 0)
    r, c = res.records.requests, res.records.calls
    assert len(res.records.rides["request"]) == len(r["id"])
    assert not (c["kind"] == CALL_REFERRAL).any()
    assert (r["n_triages"] == 1).all()
    assert res.kpis["misrouted.over_triage.share"] == 1.0


def _groningen(form: str, *overrides: str):
    from sim.scenario import load_scenario

    path = ROOT / "scenarios" / f"groningen_{form}.yaml"
    return load_scenario(path, ("run.weeks=4", *overrides))


def test_caller_driven_over_triage_follows_the_caller_to_any_desk() -> None:
    """If over-triage comes from how callers present, a new desk inherits it: `central`
    sends more GP-type ambulances; today's MKA sends as many as its matrix says either way."""
    rides = "ambulance.rides_gp_type.per_week"
    share = "behaviour.caller_driven_over_triage_share"
    central = [
        run_replication(_groningen("central", f"{share}={s}"), 0).kpis[rides] for s in (0, 1)
    ]
    separate = [
        run_replication(_groningen("separate", f"{share}={s}"), 0).kpis[rides] for s in (0, 1)
    ]
    assert central[1] > central[0] + 30
    assert abs(separate[1] - separate[0]) < 0.12 * separate[0]


def test_consulting_the_gp_post_in_the_room_saves_gp_type_rides_and_costs_triagist_time() -> None:
    consult = "mka.room_consult.share"
    never = run_replication(_groningen("colocated", f"{consult}=0"), 0)
    always = run_replication(_groningen("colocated", f"{consult}=1"), 0)
    rides = "ambulance.rides_gp_type.per_week"
    # only A2 decisions are talked over (nobody delays an A1 ambulance for a consultation);
    # most of today's over-triage goes as A1, so the saving is modest
    assert always.kpis[rides] < never.kpis[rides] - 4
    consults = always.records.calls["kind"] == CALL_ROOM_CONSULT
    assert consults.sum() > 50 and not (never.records.calls["kind"] == CALL_ROOM_CONSULT).any()
    busy = "utilisation.gp_post_triagists"
    assert always.kpis[busy] > never.kpis[busy]


def test_induced_demand_adds_gp_type_requests_and_leaves_everyone_else_alone() -> None:
    base = run_replication(_groningen("central"), 0)
    more = run_replication(_groningen("central", "demand.induced_share=0.1"), 0)
    n_base, n_more = base.kpis["requests.per_week"], more.kpis["requests.per_week"]
    gp_share = 0.88  # the after-hours groups' share of reported requests, roughly
    assert 0.05 * gp_share < (n_more - n_base) / n_base < 0.15 * gp_share
    assert more.kpis["answer.all.mean_min"] > base.kpis["answer.all.mean_min"]
    # the people of the base run are all there, with the same arrival times and needs
    a, b = base.records.requests, more.records.requests
    kept = np.isin(b["arrival_min"], a["arrival_min"])
    assert kept.sum() == len(a["arrival_min"])
    assert np.array_equal(np.sort(b["need"][kept]), np.sort(a["need"]))


def test_repeat_contacts_add_calls_but_are_not_misrouting() -> None:
    none = "behaviour.repeat_contact.after_advice_share=0"
    none_consult = "behaviour.repeat_contact.after_consult_share=0"
    without = run_replication(_groningen("separate", none, none_consult), 0)
    with_repeats = run_replication(_groningen("separate"), 0)
    repeats = with_repeats.records.calls["kind"] == CALL_REPEAT
    assert repeats.sum() > 100 and not (without.records.calls["kind"] == CALL_REPEAT).any()
    assert with_repeats.kpis["calls.repeat_contacts.per_week"] > 25
    # calling again after care is no routing failure: a request whose only extra call is
    # the repeat contact is not counted as having had to call again (more calls do mean
    # longer queues for everyone, which the queue figures show)
    c, r = with_repeats.records.calls, with_repeats.records.requests
    repeated = np.unique(c["request"][repeats])
    public = np.isin(c["kind"], (CALL_FIRST, CALL_REDIAL, CALL_SWITCH, CALL_REFERRAL))
    calls_before = np.bincount(c["request"][public], minlength=len(r["id"]))
    clean = repeated[(calls_before[repeated] == 1) & (r["n_abandoned"][repeated] == 0)]
    assert len(clean) > 50
    assert not with_repeats.context.routing.called_again[clean].any()
