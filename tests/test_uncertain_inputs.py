"""Uncertain inputs: the scenario's ``uncertainty:`` block, its distributions, and a
scenario at a draw."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from helpers import BASE, SCENARIOS, base_data
from sim.scenario import ScenarioError, load_scenario, validate_data
from sim.scenario.schema import UncertainInput
from sim.scenario.source import expand, value_at_path
from sim.scenario.uncertain import at_point, at_values, distribution, value_at, values_at

FORMS = ("separate", "colocated", "coordination_centre", "central")


def _input(**kw) -> UncertainInput:
    spec = {"fields": ["a.b"], "confidence": "guessed", "source": "test"} | kw
    return UncertainInput.model_validate(spec)


def test_quantiles_follow_each_distribution() -> None:
    """Each distribution's quantile function against its closed form."""
    u = _input(dist="uniform", low=2.0, high=6.0)
    assert value_at(u, 0.25) == pytest.approx(3.0)
    t = _input(dist="triangular", low=0.0, mode=1.0, high=2.0)
    # symmetric triangle: F(1) = 0.5, F(x) = x^2 / 2 below the mode
    assert value_at(t, 0.5) == pytest.approx(1.0)
    assert value_at(t, 0.125) == pytest.approx(0.5)
    b = _input(dist="beta", mean=0.3, sd=0.1)
    dist = distribution(b)
    assert dist.mean() == pytest.approx(0.3) and dist.std() == pytest.approx(0.1)
    b2 = _input(dist="beta", low=10.0, high=20.0, mean=12.0, sd=1.5)
    assert distribution(b2).mean() == pytest.approx(12.0)
    assert distribution(b2).std() == pytest.approx(1.5)
    assert distribution(b2).support() == pytest.approx((10.0, 20.0))
    ln = _input(dist="lognormal", median=1.0, cv=0.2)
    assert value_at(ln, 0.5) == pytest.approx(1.0)
    assert distribution(ln).std() / distribution(ln).mean() == pytest.approx(0.2)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"dist": "uniform", "low": 1.0}, "needs high"),
        ({"dist": "uniform", "low": 1.0, "high": 1.0}, "high must be above low"),
        ({"dist": "triangular", "low": 0.0, "mode": 3.0, "high": 2.0}, "mode must lie"),
        ({"dist": "beta", "mean": 0.5, "sd": 0.6}, "sd below"),
        ({"dist": "lognormal", "median": 1.0, "cv": 0.2, "low": 0.5}, "not low"),
        ({"dist": "normal", "low": 0.0, "high": 1.0}, "dist"),
    ],
)
def test_a_wrong_distribution_is_refused(spec: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _input(**spec)


def test_a_field_that_cannot_move_is_located(tmp_path: Path) -> None:
    path = tmp_path / "u.yaml"
    path.write_text(
        f"extends: {BASE}\n"
        "uncertainty:\n"
        "  nothing:\n"
        "    fields: [coordination.no_such_field]\n"
        "    dist: uniform\n    low: 0.5\n    high: 1.5\n"
        "    confidence: guessed\n    source: test\n"
        "  not_a_row:\n"
        "    fields: [coordination.agents]\n    how: off_diagonal\n"
        "    dist: uniform\n    low: 0.5\n    high: 1.5\n"
        "    confidence: guessed\n    source: test\n"
        "  not_a_number:\n"
        "    fields: [organisation]\n"
        "    dist: uniform\n    low: 0.5\n    high: 1.5\n"
        "    confidence: guessed\n    source: test\n"
    )
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    lines = str(info.value).splitlines()
    assert any("uncertainty.nothing.fields[0]" in m and "names no field" in m for m in lines)
    assert any("not_a_row" in m and "not a confusion row" in m for m in lines)
    assert any("not_a_number" in m and "not a number" in m for m in lines)
    # each is located at its line in the file
    assert all(str(path) in m for m in lines)


def _with_inputs(inputs: dict) -> object:
    data = base_data()
    data.pop("provenance", None)
    data["uncertainty"] = inputs
    return validate_data(data)


def test_multiply_set_and_off_diagonal_move_their_fields_exactly() -> None:
    src = {"confidence": "guessed", "source": "test", "dist": "uniform", "low": 0.0, "high": 3.0}
    sc = _with_inputs(
        {
            "staff": {"fields": ["coordination.agents.*"], **src},
            "patience": {"fields": ["gp_post.triage.patience.mean_min"], "how": "set", **src},
            "errors": {"fields": ["coordination.triage.confusion.*"], "how": "off_diagonal", **src},
        }
    )
    moved = at_values(sc, {"staff": 1.25, "patience": 2.5, "errors": 1.5})
    for part, n in sc.coordination.agents.items():
        assert moved.coordination.agents[part] == round(n * 1.25)  # whole numbers stay whole
    assert moved.gp_post.triage.patience.mean_min == 2.5
    for need, row in sc.coordination.triage.confusion.items():
        new = moved.coordination.triage.confusion[need]
        assert sum(new.values()) == pytest.approx(1.0)
        for other, share in row.items():
            if other != need:
                assert new[other] == pytest.approx(share * 1.5)
    # an input not named keeps the scenario's own values; the base scenario is unchanged
    kept = at_values(sc, {"patience": 4.0})
    assert kept.coordination.agents == sc.coordination.agents
    assert sc.gp_post.triage.patience.mean_min != 4.0


def test_a_draw_that_breaks_the_scenario_is_reported_not_run() -> None:
    src = {"confidence": "guessed", "source": "test", "dist": "uniform", "low": 0.0, "high": 3.0}
    sc = _with_inputs(
        {"errors": {"fields": ["mka.triage.confusion.*"], "how": "off_diagonal", **src}}
    )
    with pytest.raises(ScenarioError, match="exceeds the whole row"):
        at_values(sc, {"errors": 2.0})
    with pytest.raises(ScenarioError, match="no such input"):
        at_values(sc, {"nothing": 1.0})


@pytest.mark.parametrize("form", FORMS)
def test_shipped_inputs_hold_over_their_whole_range(form: str) -> None:
    """Every shipped form gives a valid scenario at the corners and the middle of the unit
    cube of its declared inputs, and each input's range holds today's value (a multiplier's
    holds 1)."""
    sc = load_scenario(SCENARIOS / f"groningen_{form}.yaml")
    names = list(sc.uncertainty)
    assert len(names) >= 25
    for u in (0.0, 0.5, 1.0 - 1e-12):
        at_point(sc, names, [u] * len(names))
    rng = np.random.default_rng(1)
    for point in rng.random((5, len(names))):
        at_point(sc, names, point.tolist())
    data = sc.model_dump(mode="json")
    for name, spec in sc.uncertainty.items():
        low, high = spec.support()
        if spec.how == "set":
            value = data
            for part in spec.fields[0].split("."):
                value = value[part]
            assert low <= value <= high, name
        else:
            assert low <= 1.0 <= high, name
        assert spec.source.strip(), name


#: Estimated or guessed inputs of the Groningen base that are not declared uncertain, each
#: with the reason (the same reasons are in the comment above the block).
NOT_VARIED = {
    "demand.profiles.gp_post": "a profile's shape, varied in the sweeps",
    "demand.profiles.emergency": "a profile's shape, varied in the sweeps",
    "demand.profiles.professional": "a profile's shape, varied in the sweeps",
    "needs.telephone_advice.target_min": "a target that defines a measure",
    "needs.gp_visit_urgent.channel": "moved with the other GP-type needs by gp_type_dial_112",
    "teams.district_nurse.staff": "one or two on duty",
    "teams.mental_health.staff": "one or two on duty",
    "demand.induced_share": "belongs to a new form's easier entry",
    "ambulances.drive_to_scene": "used only without a geography (varied in the zone-free file)",
    "gp_post.visit_travel": "used only without car bases (varied in the zone-free file)",
    "costs.per_hour": "no simulation uses costs; a staffing cost scales with them (ranges given)",
}


def test_every_estimated_or_guessed_input_is_declared_uncertain_or_says_why() -> None:
    sc = load_scenario(SCENARIOS / "groningen_separate.yaml")
    prefixes = [f.split(".*")[0] for spec in sc.uncertainty.values() for f in spec.fields]
    missing = []
    for key, prov in sc.provenance.items():
        if prov.confidence not in ("estimated", "guessed") or key in NOT_VARIED:
            continue
        if not any(p.startswith(key) or key.startswith(p) for p in prefixes):
            missing.append(key)
    assert missing == []
    # the exemptions name real, still estimated or guessed inputs
    for key in NOT_VARIED:
        assert sc.provenance[key].confidence in ("estimated", "guessed"), key


def test_uncertain_inputs_do_not_change_a_run() -> None:
    """The block is metadata for studies: a scenario without it simulates the same."""
    from sim.model.simulation import simulate

    with_block = load_scenario(SCENARIOS / "groningen_separate.yaml", ("run.weeks=1",))
    data = with_block.model_dump(mode="json")
    data["uncertainty"] = {}
    without = validate_data(data)
    a = simulate(with_block, 0).records.requests
    b = simulate(without, 0).records.requests
    for key in a:
        assert np.array_equal(a[key], b[key], equal_nan=True), key
    assert math.isfinite(float(np.nanmean(a["arrival_min"])))


def test_a_draw_shares_what_it_leaves_unchanged_and_equals_a_full_rebuild() -> None:
    """at_values keeps the base's objects for every section the values leave as they were
    (so thousands of draws fit in memory); the result equals a scenario validated from the
    moved data in full."""
    sc = load_scenario(SCENARIOS / "groningen_central.yaml")
    name = next(n for n, spec in sc.uncertainty.items() if spec.how == "multiply")
    drawn = at_values(sc, {name: 1.1}, name="x")
    assert drawn.uncertainty is sc.uncertainty and drawn.provenance is sc.provenance
    assert drawn.calendar is sc.calendar
    full = sc.model_dump(mode="json") | {"name": "x"}
    for pattern in sc.uncertainty[name].fields:
        for path in expand(full, pattern):
            parent = value_at_path(full, path[:-1])
            old = parent[path[-1]]
            parent[path[-1]] = round(old * 1.1) if isinstance(old, int) else float(old * 1.1)
    assert drawn.content_hash() == validate_data(full).content_hash()
    assert drawn != sc
    # the base is untouched
    assert sc.content_hash() == load_scenario(SCENARIOS / "groningen_central.yaml").content_hash()


def test_many_quantiles_at_once_equal_one_at_a_time() -> None:
    u = np.linspace(0.01, 0.99, 37)
    for spec in (
        _input(dist="uniform", low=2.0, high=6.0),
        _input(dist="triangular", low=0.5, mode=1.0, high=1.8),
        _input(dist="beta", mean=0.3, sd=0.05),
        _input(dist="lognormal", median=1.0, cv=0.3),
    ):
        assert values_at(spec, u) == [value_at(spec, float(x)) for x in u]
