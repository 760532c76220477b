"""The one way a scenario comes into being: load, merge, override, validate.

Every problem found in a scenario file is reported at once, each as
``file:line:col: field.path: message``; nothing is simulated when there is any.
Command-line overrides (``--set a.b.c=value``) are validated exactly like the file.
"""

from __future__ import annotations

import copy
import typing
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from sim.scenario.checks import cross_reference_problems
from sim.scenario.field_docs import FIELD_DOCS
from sim.scenario.problems import (
    Location,
    Positions,
    Problem,
    ScenarioError,
    dotted,
    pydantic_problems,
    strip_optional,
)
from sim.scenario.schema import Duration, Scenario
from sim.scenario.source import (
    apply_overlay,
    apply_override,
    parse_override,
    read_with_extends,
)
from sim.scenario.tables import inline_drive_minutes


def load_scenario(
    path: str | Path, overrides: Sequence[str] = (), overlays: Sequence[str | Path] = ()
) -> Scenario:
    """Load, merge and validate a scenario file; raise ScenarioError listing every problem.
    ``overlays``: files whose own fields are merged over the scenario (a calendar, a
    special period) before the ``--set`` overrides."""
    problems: list[Problem] = []
    data, positions = read_with_extends(Path(path), problems)
    if data is None:
        nothing = [Problem(Location(str(path), 0, 0), "", "nothing to load")]
        raise ScenarioError(problems or nothing)
    for overlay in overlays:
        apply_overlay(data, positions, Path(overlay), problems)
    _apply_overrides(data, positions, overrides, problems)
    inline_drive_minutes(data, positions, problems)
    return validate_data(data, positions, problems)


def scenario_from_data(data: Mapping[str, Any], overrides: Sequence[str] = ()) -> Scenario:
    """A validated scenario from plain data (a scenario file's content as a mapping, with
    no ``extends:``) and ``--set``-style overrides; raise ScenarioError listing every
    problem (located by field, as there is no file)."""
    problems: list[Problem] = []
    tree = copy.deepcopy(dict(data))
    positions = Positions()
    if "extends" in tree:
        problems.append(
            Problem(Location("(data)", 0, 0), "extends", "a file's field: load that file instead")
        )
        tree.pop("extends")
    _apply_overrides(tree, positions, overrides, problems)
    return validate_data(tree, positions, problems)


def _apply_overrides(
    data: dict[str, Any], positions: Positions, overrides: Sequence[str], problems: list[Problem]
) -> None:
    """Apply ``field.path=value`` overrides, as ``--set`` does; problems are collected."""
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


def scenario_json_schema(partial: bool = False) -> dict[str, Any]:
    """The JSON Schema that scenario files follow (for editors): every field with its
    description and unit (``x-unit``). ``partial``: the schema of a variant file, a form
    mix-in or an overlay, where no field is required (what a file leaves out comes from the
    files it extends)."""
    schema = Scenario.model_json_schema()
    schema["properties"]["extends"] = {
        "anyOf": [
            {"type": "string"},
            {"type": "array", "items": {"type": "string"}, "minItems": 1},
        ]
    }
    schema["$defs"]["Geography"]["properties"]["drive_minutes_file"] = {"type": "string"}
    for model, definition in [("Scenario", schema), *schema["$defs"].items()]:
        for name, prop in definition.get("properties", {}).items():
            unit, text = FIELD_DOCS[f"{model}.{name}"]
            prop["description"] = text if unit in ("-", "text") else f"{text} [{unit}]"
            prop["x-unit"] = unit
    schema["title"] = (
        "Scenario file (partial: a variant, mix-in or overlay)" if partial else ("Scenario file")
    )
    if partial:
        _drop_required(schema)
    return schema


def describe_field(dotted_path: str) -> tuple[str, str]:
    """(unit, description) of a scenario field given by its dotted path, e.g.
    ``gp_post.triagists.weekday_evening``: the documentation of the deepest schema field on
    the path; a field of a duration is named with the field holding it (``Call length by
    the service decided: mean duration``). KeyError if the path names no field."""
    docs, _ = _walk(dotted_path)
    if not docs:
        raise KeyError(dotted_path)
    unit, text = docs[-1]
    if len(docs) > 1 and any(dotted_path.endswith(f".{f}") for f in Duration.model_fields):
        text = f"{docs[-2][1].rstrip('.')}: {text[0].lower()}{text[1:]}"
    return unit, text


def field_type(dotted_path: str) -> Any:
    """The type a scenario field holds (``Duration``, ``dict[str, Duration]``, ``int``, ...),
    given by its dotted path; map keys are any names. KeyError if the path names no field."""
    return _walk(dotted_path)[1]


def _walk(dotted_path: str) -> tuple[list[tuple[str, str]], Any]:
    """Along a dotted path through the schema: the (unit, description) of every model field
    passed, and the type at its end (map keys and list items are stepped through)."""
    tp: Any = Scenario
    docs: list[tuple[str, str]] = []
    for part in dotted_path.split("."):
        tp = strip_optional(tp)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            if part not in tp.model_fields:
                raise KeyError(dotted_path)
            docs.append(FIELD_DOCS[f"{tp.__name__}.{part}"])
            tp = tp.model_fields[part].annotation
        elif typing.get_origin(tp) in (dict, tuple):
            tp = typing.get_args(tp)[1 if typing.get_origin(tp) is dict else 0]
        else:
            raise KeyError(dotted_path)
    return docs, strip_optional(tp)


def _drop_required(node: Any) -> None:
    """Remove every ``required`` list, at any depth."""
    if isinstance(node, dict):
        node.pop("required", None)
        for value in node.values():
            _drop_required(value)
    elif isinstance(node, list):
        for value in node:
            _drop_required(value)


def changed_fields(data: dict[str, Any], file: str) -> list[tuple[str, Any, Any]]:
    """The fields of a scenario (as plain data) that differ from the shipped files, as
    (dotted path, shipped value, value used): against the file it was loaded from when
    that is a shipped file (so ``--set``, ``--weeks`` and ``--seed`` show), otherwise
    against the shipped Groningen file of its organisational form. Empty when no shipped
    file can be read."""
    from sim.paths import SCENARIOS_DIR, groningen
    from sim.scenario.problems import ScenarioError

    path = Path(file)
    shipped_dir = SCENARIOS_DIR.resolve()
    try:
        is_shipped = path.resolve().is_relative_to(shipped_dir)
    except OSError:
        is_shipped = False
    reference = path if is_shipped else groningen(str(data.get("organisation", "separate")))
    try:
        shipped = load_scenario(reference).model_dump(mode="json")
    except (ScenarioError, OSError):
        return []
    out: list[tuple[str, Any, Any]] = []
    _diff(shipped, data, "", out)
    return [t for t in out if t[0] not in ("name", "description")]


def _diff(a: Any, b: Any, prefix: str, out: list[tuple[str, Any, Any]]) -> None:
    if isinstance(a, dict) and isinstance(b, dict):
        for k in list(a) + [k for k in b if k not in a]:
            _diff(a.get(k), b.get(k), f"{prefix}.{k}" if prefix else str(k), out)
    elif a != b:
        out.append((prefix, a, b))
