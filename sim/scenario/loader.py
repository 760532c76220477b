"""The one way a scenario comes into being: load, merge, override, validate.

Every problem found in a scenario file is reported at once, each as
``file:line:col: field.path: message``; nothing is simulated when there is any.
Command-line overrides (``--set a.b.c=value``) are validated exactly like the file.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from sim.scenario.checks import cross_reference_problems
from sim.scenario.problems import (
    Location,
    Positions,
    Problem,
    ScenarioError,
    dotted,
    pydantic_problems,
)
from sim.scenario.schema import Scenario
from sim.scenario.source import apply_override, parse_override, read_with_extends


def load_scenario(path: str | Path, overrides: Sequence[str] = ()) -> Scenario:
    """Load, merge and validate a scenario file; raise ScenarioError listing every problem."""
    problems: list[Problem] = []
    data, positions = read_with_extends(Path(path), problems)
    if data is None:
        nothing = [Problem(Location(str(path), 0, 0), "", "nothing to load")]
        raise ScenarioError(problems or nothing)
    for text in overrides:
        loc = Location(f"--set {text}", 0, 0)
        try:
            key, value = parse_override(text)
        except ValueError as exc:
            problems.append(Problem(loc, text.partition("=")[0].strip(), str(exc)))
            continue
        error = apply_override(data, key, value)
        if error:
            problems.append(Problem(loc, dotted(key), error))
            continue
        positions.drop_under(key)
        positions.set(key, loc)
    return validate_data(data, positions, problems)


def validate_data(
    data: Any, positions: Positions | None = None, problems: list[Problem] | None = None
) -> Scenario:
    """A validated scenario from plain data; raise ScenarioError listing every problem."""
    positions = positions or Positions()
    problems = list(problems or [])
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        problems.extend(pydantic_problems(exc, positions, Scenario))
        raise ScenarioError(problems) from None
    problems.extend(cross_reference_problems(scenario, positions))
    if problems:
        raise ScenarioError(problems)
    return scenario


def scenario_json_schema() -> dict[str, Any]:
    """The JSON Schema that scenario files follow (for editors)."""
    schema = Scenario.model_json_schema()
    schema["properties"]["extends"] = {
        "type": "string",
        "description": "Base scenario file this variant overrides (relative path).",
    }
    return schema
