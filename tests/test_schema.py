"""The JSON Schema of scenario files: every field described with its unit, every shipped
scenario file valid (the full schema for merged content, the partial one for each file as
written), the shipped schema files current, and the schemas not vacuous."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from pydantic import BaseModel

import sim.scenario.schema as schema_module
from helpers import SCENARIOS
from sim.scenario.field_docs import FIELD_DOCS
from sim.scenario.loader import scenario_json_schema
from sim.scenario.source import compose_file, load_raw

FILES = sorted(p for p in SCENARIOS.rglob("*.yaml") if "sweeps" not in p.parts)
MIX_INS = {p for p in FILES if "forms" in p.parts}


def as_editor_sees(data: Any) -> Any:
    """YAML data as a YAML language server hands it to a JSON Schema (dates as text)."""
    if isinstance(data, dict):
        return {str(k): as_editor_sees(v) for k, v in data.items()}
    if isinstance(data, list):
        return [as_editor_sees(v) for v in data]
    if isinstance(data, dt.date):
        return data.isoformat()
    return data


def validator(partial: bool) -> jsonschema.Draft202012Validator:
    schema = scenario_json_schema(partial=partial)
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_every_field_of_every_model_has_a_description_and_a_unit() -> None:
    fields = {
        f"{name}.{field}"
        for name, cls in vars(schema_module).items()
        if isinstance(cls, type)
        and issubclass(cls, BaseModel)
        and cls.__module__ == schema_module.__name__
        for field in cls.model_fields
    } | {"Scenario.extends", "Geography.drive_minutes_file"}
    assert fields - set(FIELD_DOCS) == set(), "fields without a description"
    assert set(FIELD_DOCS) - fields == set(), "descriptions of fields that do not exist"
    schema = scenario_json_schema()
    count = 0
    for definition in [schema, *schema["$defs"].values()]:
        for prop in definition.get("properties", {}).values():
            assert prop["description"] and prop["x-unit"]
            count += 1
    assert count == len(FIELD_DOCS)


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(SCENARIOS)))
def test_every_shipped_scenario_file_is_valid(path: Path) -> None:
    own, _ = compose_file(path, [])
    errors = list(validator(partial=True).iter_errors(as_editor_sees(own)))
    assert not errors, [(list(e.path), e.message) for e in errors]
    if path not in MIX_INS:  # a mix-in is a part, not a scenario
        merged = as_editor_sees(load_raw(path))
        errors = list(validator(partial=False).iter_errors(merged))
        assert not errors, [(list(e.path), e.message) for e in errors]


def test_the_schemas_find_what_is_wrong() -> None:
    partial, full = validator(partial=True), validator(partial=False)
    assert not partial.is_valid({"region": {"populaton": 3}})  # a misspelt field
    assert not partial.is_valid({"run": {"weeks": "four"}})  # a wrong type
    assert not partial.is_valid({"extends": []})
    assert partial.is_valid({"extends": ["a.yaml", "b.yaml"], "run": {"weeks": 2}})
    assert not full.is_valid({"extends": "a.yaml", "run": {"weeks": 2}})  # a part, not a whole


@pytest.mark.parametrize("partial", [False, True])
def test_the_shipped_schema_files_are_current(partial: bool) -> None:
    name = "scenario.partial.schema.json" if partial else "scenario.schema.json"
    shipped = json.loads((SCENARIOS / name).read_text(encoding="utf-8"))
    assert shipped == scenario_json_schema(partial=partial), (
        f"regenerate: python run_sim.py schema {'--partial ' if partial else ''}> scenarios/{name}"
    )


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(SCENARIOS)))
def test_every_shipped_file_names_its_schema_for_editors(path: Path) -> None:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("# yaml-language-server: $schema="), first
    target = (path.parent / first.split("=", 1)[1]).resolve()
    assert target.name.endswith(".schema.json") and target.exists()
