"""Reading scenario files: YAML with the position of every field, ``extends:`` and ``--set``.

YAML is composed safely (no object construction, plain tags only, no duplicate keys), and
the line and column of every field is kept so that a later problem can be located.

Variant files name a base with ``extends:`` and override only what differs: mappings merge
key by key, while lists, durations (mappings with ``dist``) and empty mappings replace the
base value whole. Command-line overrides (``--set a.b.c=value``) are merged last.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from sim.scenario.problems import Location, PathT, Positions, Problem, ScenarioError, dotted


def compose_file(path: Path, problems: list[Problem]) -> tuple[Any, Positions]:
    """The plain data of one YAML file and the position of each field (no ``extends``)."""
    positions = Positions()
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        problems.append(Problem(Location(name, 0, 0), "", f"cannot read file: {exc.strerror}"))
        return None, positions
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        loc = Location(name, mark.line + 1, mark.column + 1) if mark else Location(name, 0, 0)
        problems.append(Problem(loc, "", f"not valid YAML: {getattr(exc, 'problem', exc)}"))
        return None, positions
    if node is None:
        problems.append(Problem(Location(name, 1, 1), "", "the file is empty"))
        return None, positions
    reader = _NodeReader(name, positions, problems)
    positions.set((), reader.location(node))
    return reader.construct(node, ()), positions


class _NodeReader:
    """Builds plain Python data from composed YAML nodes, recording positions and problems."""

    def __init__(self, name: str, positions: Positions, problems: list[Problem]):
        self.name = name
        self.positions = positions
        self.problems = problems
        self.constructor = yaml.SafeLoader("")

    def location(self, node: yaml.Node) -> Location:
        return Location(self.name, node.start_mark.line + 1, node.start_mark.column + 1)

    def construct(self, node: yaml.Node, path: PathT) -> Any:
        if isinstance(node, yaml.MappingNode | yaml.SequenceNode) and node.tag not in (
            "tag:yaml.org,2002:map",
            "tag:yaml.org,2002:seq",
        ):
            message = f"value not allowed: tag {node.tag} is not plain YAML"
            self.problems.append(Problem(self.location(node), dotted(path), message))
            return None
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            items = []
            for i, item in enumerate(node.value):
                self.positions.set(path + (i,), self.location(item))
                items.append(self.construct(item, path + (i,)))
            return items
        try:
            return self.constructor.construct_object(node, deep=True)
        except yaml.YAMLError as exc:
            message = f"value not allowed: {exc}"
            self.problems.append(Problem(self.location(node), dotted(path), message))
            return None

    def _mapping(self, node: yaml.MappingNode, path: PathT) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            loc = self.location(key_node)
            if not isinstance(key_node, yaml.ScalarNode):
                self.problems.append(Problem(loc, dotted(path), "mapping keys must be plain names"))
                continue
            key = str(key_node.value)
            if key in out:
                message = "duplicate key (it is already set above)"
                self.problems.append(Problem(loc, dotted(path + (key,)), message))
                continue
            self.positions.set(path + (key,), loc)
            out[key] = self.construct(value_node, path + (key,))
        return out


def _merges(over: Any) -> bool:
    """Whether an override mapping merges into the base key by key. A duration (a mapping
    with ``dist``) replaces the base value as a whole, and so does an empty mapping, which
    is how a variant clears a table (``confusion: {}`` means perfect triage)."""
    return isinstance(over, dict) and bool(over) and "dist" not in over


def deep_merge(base: Any, over: Any) -> Any:
    """``over`` merged into ``base`` by the rules of ``extends`` (inputs are not changed)."""
    if isinstance(base, dict) and _merges(over):
        out = dict(base)
        for key, value in over.items():
            out[key] = deep_merge(base[key], value) if key in base else value
        return out
    return over


def _merge_positions(base: Positions, over: Positions, over_data: Any, path: PathT = ()) -> None:
    """Positions of an override win for every path it sets; lists and scalars replace whole."""
    if _merges(over_data):
        for key, value in over_data.items():
            _merge_positions(base, over, value, path + (key,))
        if path:
            base.set(path, over.find(path))
        return
    base.drop_under(path)
    for key, loc in over.items_under(path):
        base.set(key, loc)


def read_with_extends(
    path: Path, problems: list[Problem], seen: tuple[Path, ...] = ()
) -> tuple[Any, Positions]:
    """A scenario file's data with its chain of ``extends:`` bases merged in, and positions."""
    path = path.resolve() if path.is_absolute() else path
    data, positions = compose_file(path, problems)
    if not isinstance(data, dict):
        if data is not None:
            problems.append(Problem(positions.find(()), "", "a scenario file must be a mapping"))
        return None, positions
    base_name = data.pop("extends", None)
    if base_name is None:
        return data, positions
    loc = positions.find(("extends",))
    if not isinstance(base_name, str):
        problems.append(Problem(loc, "extends", "must be a file name"))
        return None, positions
    base_path = path.parent / base_name
    if base_path.resolve() in [p.resolve() for p in seen + (path,)]:
        problems.append(Problem(loc, "extends", f"'{base_name}' extends itself (a cycle)"))
        return None, positions
    if not base_path.exists():
        problems.append(Problem(loc, "extends", f"base file '{base_name}' does not exist"))
        return None, positions
    base_data, base_positions = read_with_extends(base_path, problems, seen + (path,))
    if base_data is None:
        return None, positions
    merged = deep_merge(base_data, data)
    _merge_positions(base_positions, positions, data)
    base_positions.set((), positions.find(()))
    return merged, base_positions


def load_raw(path: str | Path) -> dict[str, Any]:
    """The merged (``extends`` resolved) but unvalidated content of a scenario file."""
    problems: list[Problem] = []
    data, _ = read_with_extends(Path(path), problems)
    if problems or data is None:
        raise ScenarioError(problems)
    return data


def parse_override(text: str) -> tuple[PathT, Any]:
    """Parse ``a.b.c=value``; the value is read as a YAML scalar or flow collection."""
    if "=" not in text:
        raise ValueError(f"--set needs the form field.path=value, got '{text}'")
    key, _, raw = text.partition("=")
    parts = tuple(p for p in key.strip().split("."))
    if not all(parts):
        raise ValueError(f"--set has an empty field name in '{key}'")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError as exc:
        raise ValueError(f"--set {key}: value is not valid YAML: {exc}") from exc
    return parts, value


def apply_override(data: dict[str, Any], path: PathT, value: Any) -> str | None:
    """Set ``path`` in ``data`` to ``value``; a message if the path cannot hold a value."""
    node: Any = data
    for part in path[:-1]:
        if not isinstance(node, dict):
            return f"'{part}' is inside a value that is not a mapping"
        node = node.setdefault(part, {})
    if not isinstance(node, dict):
        return "the field above it is not a mapping"
    node[path[-1]] = value
    return None


_MISSING: Any = object()


def field_value(data: Mapping[str, Any], dotted_path: str, default: Any = None) -> Any:
    """The value at a dotted field path of plain (JSON-like) scenario data, or ``default``."""
    node: Any = data
    for part in dotted_path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return default
        node = node[part]
    return node


def has_field(data: Mapping[str, Any], dotted_path: str) -> bool:
    """Whether a dotted field path exists in plain scenario data."""
    return field_value(data, dotted_path, _MISSING) is not _MISSING
