"""A region from parts: ``extends:`` with a list (a region's base, then form mix-ins), the
shipped form mix-ins, and the TEMPLATE region in every form."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers import SCENARIOS
from sim import api
from sim.scenario import ScenarioError, load_raw, load_scenario
from sim.scenario.schema import FORMS

TEMPLATE = SCENARIOS / "regions" / "TEMPLATE"


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_list_merges_in_order_and_the_files_own_fields_come_last(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", "name: a\nregion: {name: A, population: 100}\nrun: {weeks: 3}\n")
    write(tmp_path, "b.yaml", "region: {population: 200}\nrun: {weeks: 5, seed: 7}\n")
    path = write(tmp_path, "c.yaml", "extends: [a.yaml, b.yaml]\nrun: {weeks: 9}\n")
    data = load_raw(path)
    assert data["name"] == "a"
    assert data["region"] == {"name": "A", "population": 200}  # merged key by key
    assert data["run"] == {"weeks": 9, "seed": 7}  # the file's own field last


def test_every_shipped_form_file_is_the_base_plus_its_form_mix_in() -> None:
    for form in FORMS:
        sc = load_scenario(SCENARIOS / f"groningen_{form}.yaml")
        assert sc.organisation == form
        mixin = load_raw(SCENARIOS / "forms" / f"{form}.yaml")
        assert "name" not in mixin and mixin["organisation"] == form


@pytest.mark.parametrize(
    ("extends", "field", "message"),
    [
        ("[a.yaml, missing.yaml]", "extends[1]", "base file 'missing.yaml' does not exist"),
        ("[a.yaml, 3]", "extends[1]", "must be a file name"),
        ("[]", "extends", "a list of file names"),
        ("[a.yaml, c.yaml]", "extends[1]", "extends itself (a cycle)"),
        ("[a.yaml, ../../x.yaml]", "extends[1]", "outside this scenario's folder"),
    ],
)
def test_a_bad_list_is_located_at_its_item(
    tmp_path: Path, extends: str, field: str, message: str
) -> None:
    sub = tmp_path / "one" / "two"
    sub.mkdir(parents=True)
    write(sub, "a.yaml", "name: a\n")
    path = write(sub, "c.yaml", f"name: c\nextends: {extends}\n")
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    first = str(err.value).splitlines()[0]
    assert first.startswith(f"{path}:2:"), first
    assert f": {field}: " in first and message in first, first


def test_the_template_region_runs_in_every_form() -> None:
    forms = [api.load_scenario(TEMPLATE / f"{form}.yaml", {"run.weeks": 1}) for form in FORMS]
    assert [sc.organisation for sc in forms] == list(FORMS)
    assert all(sc.region.population == 300_000 and sc.geography is None for sc in forms)
    res = api.compare(forms, replications=2)
    assert set(res.summary["scenario"]) == {f"template_{form}" for form in FORMS}
    # the forms differ by mechanism: who answers the GP post's number
    answered = res.summary.set_index(["kpi", "scenario"])["mean"]
    assert "answer.coordination.mean_min" in set(res.summary["kpi"])
    assert answered[("requests.per_week", "template_separate")] == pytest.approx(
        answered[("requests.per_week", "template_central")]
    )  # same callers in every form (common random numbers)
