"""Uncertain inputs: their distributions, the fields they move, and a scenario at a draw.

A scenario's ``uncertainty:`` block names inputs that are not known exactly (see
``schema.UncertainInput``). A study of input uncertainty draws a point in the unit cube,
one coordinate per input (a space-filling design), turns each coordinate into the input's
value by its distribution's quantile function (scipy.stats), and builds the scenario at
that point: every field the input moves is set, multiplied, or (for a confusion row) has
its error mass multiplied. The result is validated like any scenario, so a draw that would
make an invalid scenario is reported, not run.

Every form of a comparison gets the same draw: the forms share the base file that declares
the block, and an input a form does not use changes nothing in it.
"""

from __future__ import annotations

import math
import pickle
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from pydantic import BaseModel

from sim.scenario.loader import validate_data
from sim.scenario.problems import Location, PathT, Problem, ScenarioError
from sim.scenario.schema import Scenario, UncertainInput
from sim.scenario.source import expand, value_at_path


def distribution(spec: UncertainInput) -> Any:
    """The input's distribution as a frozen scipy.stats distribution."""
    # imported here: it costs a process most of a second, and a comparison needs none
    from scipy import stats

    if spec.dist == "uniform":
        return stats.uniform(loc=spec.low, scale=spec.high - spec.low)  # type: ignore[operator]
    if spec.dist == "triangular":
        low, high = spec.low, spec.high
        return stats.triang(
            c=(spec.mode - low) / (high - low),  # type: ignore[operator]
            loc=low,
            scale=high - low,  # type: ignore[operator]
        )
    if spec.dist == "beta":
        low, high = spec.support()
        m = (spec.mean - low) / (high - low)  # type: ignore[operator]
        v = (spec.sd / (high - low)) ** 2  # type: ignore[operator]
        k = m * (1.0 - m) / v - 1.0
        return stats.beta(a=m * k, b=(1.0 - m) * k, loc=low, scale=high - low)
    sigma = math.sqrt(math.log1p(spec.cv**2))  # type: ignore[operator]
    return stats.lognorm(s=sigma, scale=spec.median)


def value_at(spec: UncertainInput, u: float) -> float:
    """The input's value at the unit-interval coordinate ``u`` (its quantile)."""
    return float(distribution(spec).ppf(u))


def values_at(spec: UncertainInput, u: Sequence[float] | np.ndarray) -> list[float]:
    """The input's values at many coordinates: ``value_at`` of each, from one frozen
    distribution (building one costs more than a thousand quantiles)."""
    return [float(v) for v in distribution(spec).ppf(np.asarray(u, dtype=float))]


def at_values(
    sc: Scenario,
    values: Mapping[str, float],
    name: str | None = None,
    dumped: dict[str, Any] | None = None,
) -> Scenario:
    """The scenario with each named uncertain input at its given value (inputs not named
    keep the scenario's own values), renamed to ``name`` if given; raise ScenarioError if
    the result is not valid. ``dumped``: ``sc.model_dump(mode="json")`` when the caller
    already has it (it is not changed).

    The new scenario shares with ``sc`` every top-level section the values leave as it
    was (scenarios are immutable), so that the thousands of draws of a study hold only
    what differs."""
    original = dumped if dumped is not None else sc.model_dump(mode="json")
    data = _copy_moved_sections(sc, values, original)
    if name is not None:
        data["name"] = name
    problems = []
    for name, value in values.items():
        spec = sc.uncertainty.get(name)
        if spec is None:
            known = ", ".join(sc.uncertainty) or "none"
            raise ScenarioError(
                [Problem(Location("uncertainty", 0, 0), name, f"no such input (known: {known})")]
            )
        for pattern in spec.fields:
            for path in expand(data, pattern):
                error = _move(data, path, spec, value)
                if error:
                    problems.append(
                        Problem(
                            Location(f"uncertainty.{name}", 0, 0), ".".join(map(str, path)), error
                        )
                    )
    if problems:
        raise ScenarioError(problems)
    new = validate_data(data)
    _share_unchanged(new, sc, data, original)
    return new


def _share_unchanged(new: Any, old: Any, data: Any, old_data: Any) -> None:
    """Let the validated ``new`` use ``old``'s objects wherever their data are equal: a
    field of a model, or an entry of a mapping of models, whose plain data did not change
    is the old (immutable) object, so that the draws of a study hold only what differs."""
    if isinstance(new, BaseModel) and type(new) is type(old):
        fields, old_fields = new.__dict__, old.__dict__
    elif isinstance(new, dict) and isinstance(old, dict):
        fields, old_fields = new, old
    else:
        return
    if not isinstance(data, dict) or not isinstance(old_data, dict):
        return
    for key in fields:
        if key not in old_fields or key not in data or key not in old_data:
            continue
        if data[key] == old_data[key]:
            fields[key] = old_fields[key]
        else:
            _share_unchanged(fields[key], old_fields[key], data[key], old_data[key])


def _copy_moved_sections(
    sc: Scenario, values: Mapping[str, float], original: dict[str, Any]
) -> dict[str, Any]:
    """A copy of the scenario's data that the values may change: the top-level sections
    their fields lie in are deep copies, the others the original's (left unchanged)."""
    tops: set[str] = set()
    for name in values:
        spec = sc.uncertainty.get(name)
        tops.update(p.split(".", 1)[0] for p in (spec.fields if spec is not None else ()))
    if "*" in tops:
        return _plain_copy(original)
    return {k: _plain_copy(v) if k in tops else v for k, v in original.items()}


def _plain_copy(data: Any) -> Any:
    """A deep copy of plain data (dicts, lists, numbers, text); pickling it there and
    back is exact and several times quicker than copy.deepcopy."""
    return pickle.loads(pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL))


def at_point(sc: Scenario, names: Sequence[str], point: Sequence[float]) -> Scenario:
    """The scenario at a point of the unit cube (one coordinate per input of ``names``)."""
    return at_values(
        sc, {n: value_at(sc.uncertainty[n], u) for n, u in zip(names, point, strict=True)}
    )


def _move(data: dict[str, Any], path: PathT, spec: UncertainInput, value: float) -> str | None:
    parent = value_at_path(data, path[:-1])
    old = parent[path[-1]]
    if spec.how == "off_diagonal":
        own = path[-1]
        errors = {k: v * value for k, v in old.items() if k != own}
        rest = 1.0 - sum(errors.values())
        if rest < -1e-9:
            return f"an error mass of {1.0 - rest:.3f} (x {value:.3f}) exceeds the whole row"
        parent[own] = {**errors, own: max(rest, 0.0)}
        return None
    new = value if spec.how == "set" else old * value
    parent[path[-1]] = round(new) if isinstance(old, int) else float(new)
    return None
