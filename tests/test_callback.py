"""The GP post's call-back mode: a short intake, urgent cases to a triagist at once, the
others called back in order of urgency, with attempts that fail."""

from __future__ import annotations

import numpy as np
import pytest

from helpers import SCENARIOS, base_data
from sim.codes import CALL_CALLBACK, CALL_INTAKE_HANDOFF, DESK_INDEX
from sim.experiments.replicate import run_replication
from sim.experiments.statistics import paired_difference
from sim.scenario import ScenarioError, load_scenario

SEPARATE = SCENARIOS / "groningen_separate.yaml"
PARTS = tuple(base_data()["calendar"]["day_parts"])
WEEKS = ("run.weeks=2",)
OFF = ("gp_post.triage.callback=null",)


def callback(desk: str) -> tuple[str, ...]:
    """Overrides that give ``desk`` the GP post's call-back block of the Groningen base."""
    spec = base_data()["gp_post"]["triage"]["callback"]
    out = [f"{desk}.triage.callback.intake_staff.{p}={spec['intake_staff'][p]}" for p in PARTS]
    for name in ("intake_time", "retry_delay"):
        out += [f"{desk}.triage.callback.{name}.{k}={v}" for k, v in spec[name].items()]
    out.append(f"{desk}.triage.callback.attempt_fail_share={spec['attempt_fail_share']}")
    return tuple(out)


def test_the_groningen_default_calls_back() -> None:
    """Groningen's GP post works with an intake and a call-back, and so does every form's
    answer to the GP post's number (the same practice in every form)."""
    for form in ("separate", "colocated", "coordination_centre", "central"):
        sc = load_scenario(SCENARIOS / f"groningen_{form}.yaml")
        assert sc.gp_post.triage.callback is not None, form
        assert sc.coordination.triage.callback == sc.gp_post.triage.callback, form
        assert sc.mka.triage.callback is None, form


@pytest.fixture(scope="module")
def runs():
    off = load_scenario(SEPARATE, (*WEEKS, *OFF))
    on = load_scenario(SEPARATE, WEEKS)
    return [run_replication(off, r) for r in range(4)], [run_replication(on, r) for r in range(4)]


def test_answer_and_triage_are_reported_separately(runs) -> None:
    off, on = runs
    for result in on:
        k = result.kpis
        assert k["callback.wait.mean_min"] > 0
        assert k["triage.time_to_triage.mean_min"] > k["answer.gp_post.mean_min"]
        assert 0 < k["utilisation.gp_post_intake"] < 1
    assert "callback.wait.mean_min" not in off[0].kpis
    # the intake staff answer the phone sooner than busy triagists did
    name = "answer.gp_post.mean_min"
    diff = paired_difference([r.kpis[name] for r in off], [r.kpis[name] for r in on]).interval
    assert diff.high < 0


def test_urgent_cases_go_to_a_triagist_at_once(runs) -> None:
    _, on = runs
    result = on[0]
    sc = result.simulated.scenario
    r, c = result.records.requests, result.records.calls
    at_once = np.array([n.urgency in ("A1", "A2", "U1") for n in sc.needs.values()])
    called_back = np.unique(c["request"][c["kind"] == CALL_CALLBACK])
    handed_off = np.unique(c["request"][c["kind"] == CALL_INTAKE_HANDOFF])
    assert len(called_back) > 100 and len(handed_off) > 0
    assert not at_once[r["need"][called_back]].any()
    assert at_once[r["need"][handed_off]].all()
    # the urgent line skips the intake: no one on it is called back
    assert not r["urgent_line"][called_back].any()
    # the call-backs are the GP post's
    assert (c["desk"][c["kind"] == CALL_CALLBACK] == DESK_INDEX["gp_post"]).all()


def test_failed_attempts_lengthen_the_wait_for_a_call_back(runs) -> None:
    _, on = runs
    worse = load_scenario(SEPARATE, (*WEEKS, "gp_post.triage.callback.attempt_fail_share=0.4"))
    more = [run_replication(worse, r).kpis for r in range(4)]
    for name in ("callback.failed_attempts.per_week", "callback.wait.mean_min"):
        diff = paired_difference([r.kpis[name] for r in on], [k[name] for k in more]).interval
        assert diff.low > 0, name


def test_call_back_mode_is_refused_for_112() -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario(SEPARATE, callback("mka"))
    assert "call-back mode is for the GP post's number" in str(info.value)


@pytest.mark.parametrize("form", ["coordination_centre", "central"])
def test_the_coordination_desk_can_call_back(form: str) -> None:
    result = run_replication(load_scenario(SCENARIOS / f"groningen_{form}.yaml", WEEKS), 0)
    k = result.kpis
    assert k["callback.wait.mean_min"] > 0 and 0 < k["utilisation.coordination_intake"] < 1
    c = result.records.calls
    assert (c["desk"][c["kind"] == CALL_CALLBACK] == DESK_INDEX["coordination"]).all()
