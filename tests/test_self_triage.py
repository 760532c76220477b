"""Digital self-triage: some people check the GP post's website before calling, and some of
those end with self-care advice and never call."""

from __future__ import annotations

import numpy as np
import pytest

from helpers import SCENARIOS
from sim.codes import CHANNEL_GP_POST, OUTCOME_NAMES, OUTCOME_SELF_CARE
from sim.experiments.replicate import run_replication
from sim.scenario import ScenarioError, load_scenario

SEPARATE = SCENARIOS / "groningen_separate.yaml"
WEEKS = ("run.weeks=2",)
ON = (
    "demand.self_triage.uptake.telephone_advice=0.6",
    "demand.self_triage.uptake.advice_check=0.6",
    "demand.self_triage.resolved_share=0.5",
)


@pytest.fixture(scope="module")
def runs():
    off = run_replication(load_scenario(SEPARATE, WEEKS), 0)
    on = run_replication(load_scenario(SEPARATE, WEEKS + ON), 0)
    return off, on


def test_self_triage_resolves_only_advice_needs_of_gp_post_callers(runs) -> None:
    _, on = runs
    sc = on.simulated.scenario
    r = on.records.requests
    resolved = r["outcome"] == OUTCOME_SELF_CARE
    assert resolved.sum() > 100
    needs = np.array(list(sc.needs))[r["need"][resolved]]
    assert set(needs) <= {"telephone_advice", "advice_check"}
    assert (r["channel"][resolved] == CHANNEL_GP_POST).all()
    assert (r["n_calls"][resolved] == 0).all()
    # self-care advice is their care, after the check's minutes
    wait = r["care_min"][resolved] - r["arrival_min"][resolved]
    assert np.allclose(wait, sc.demand.self_triage.check_min)
    # about uptake x resolved share of the advice needs who would phone the GP post
    advice = np.isin(
        r["need"], [list(sc.needs).index(n) for n in ("telephone_advice", "advice_check")]
    )
    offered = (advice & (r["channel"] == CHANNEL_GP_POST)).sum()
    share = resolved.sum() / offered
    assert abs(share - 0.3) < 4 * np.sqrt(0.3 * 0.7 / offered)


def test_self_triage_changes_nobody_else(runs) -> None:
    off, on = runs
    a, b = off.records.requests, on.records.requests
    # the same people arrive with the same needs and doors (a stream of its own)
    order_a, order_b = np.argsort(a["id"]), np.argsort(b["id"])
    for column in ("arrival_min", "need", "channel", "group"):
        assert np.array_equal(a[column][order_a], b[column][order_b]), column


def test_self_triage_takes_load_off_the_gp_post_phone(runs) -> None:
    off, on = runs
    assert "self_triage.resolved.per_week" not in off.kpis
    assert on.kpis["self_triage.resolved.per_week"] > 50
    assert on.kpis["outcome.self_care.share"] > 0.02
    for kpi in ("answer.gp_post.mean_min", "answer.all.abandoned_share"):
        assert on.kpis[kpi] < off.kpis[kpi], kpi
    assert "self_care" in OUTCOME_NAMES


def test_self_triage_of_a_need_that_advice_does_not_meet_is_refused() -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario(SEPARATE, ("demand.self_triage.uptake.gp_consult=0.2",))
    text = str(info.value)
    assert "demand.self_triage.uptake.gp_consult" in text
    assert "self-care advice is not care for 'gp_consult'" in text
