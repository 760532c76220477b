"""Reading scenario files: YAML with the position of every field, ``extends:`` and ``--set``.

YAML is composed safely (no object construction, plain tags only, no duplicate keys), and
the line and column of every field is kept so that a later problem can be located.

Variant files name a base with ``extends:`` and override only what differs: mappings merge
key by key, while lists, durations (mappings with ``dist``) and empty mappings replace the
base value whole. Command-line overrides (``--set a.b.c=value``) are merged last.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from sim.paths import SCENARIOS_DIR
from sim.scenario.problems import Location, PathT, Positions, Problem, ScenarioError, dotted

#: Limits of a scenario file: far above any real scenario (a few hundred lines, a few
#: levels deep), far below what would exhaust memory or time.
MAX_FILE_BYTES = 2_000_000
MAX_DEPTH = 50
MAX_NODES = 200_000  # values in the file, counting every alias as the values it repeats

_INT = re.compile(r"^[-+]?(0|[1-9][0-9]*)$")
_FLOAT = re.compile(r"^[-+]?([0-9]+\.[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$")
_EXPONENT = re.compile(r"^[-+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)[eE][-+]?[0-9]+$")
#: libyaml's parser when PyYAML was built with it (ten times faster), else PyYAML's own
_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_INT_TAG = "tag:yaml.org,2002:int"
_FLOAT_TAG = "tag:yaml.org,2002:float"
_STR_TAG = "tag:yaml.org,2002:str"


def _at(name: str, line: int = 1, col: int = 1) -> Location:
    return Location(name, line, col)


def read_text(path: Path, problems: list[Problem]) -> str | None:
    """The text of a scenario file, or None with a located problem: only regular files,
    at most MAX_FILE_BYTES, UTF-8 (a BOM is allowed)."""
    name = str(path)
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode):
            kind = "a folder" if stat.S_ISDIR(info.st_mode) else "a pipe, device or socket"
            problems.append(Problem(_at(name), "", f"not a regular file ({kind})"))
            return None
        if info.st_size > MAX_FILE_BYTES:
            message = (
                f"the file is {info.st_size:,} bytes; a scenario has at most {MAX_FILE_BYTES:,}"
            )
            problems.append(Problem(_at(name), "", message))
            return None
        # non-blocking: a file swapped for a pipe since the check above cannot hang the read
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        with os.fdopen(fd, "rb") as fh:
            if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
                problems.append(Problem(_at(name), "", "not a regular file"))
                return None
            data = fh.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        problems.append(Problem(_at(name), "", f"cannot read file: {exc.strerror or exc}"))
        return None
    if len(data) > MAX_FILE_BYTES:
        message = f"the file is over {MAX_FILE_BYTES:,} bytes, the most a scenario may have"
        problems.append(Problem(_at(name), "", message))
        return None
    if data[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in data[:4]:
        message = "the file is UTF-16 or UTF-32 encoded; save it as UTF-8"
        problems.append(Problem(_at(name), "", message))
        return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        message = f"not UTF-8 text: byte 0x{data[exc.start]:02x} cannot be decoded; save as UTF-8"
        problems.append(Problem(_at(name, line, col), "", message))
        return None


def _position(text: str, index: int) -> tuple[int, int]:
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


def _yaml_problem(name: str, text: str, exc: yaml.YAMLError) -> Problem:
    mark = getattr(exc, "problem_mark", None)
    if mark is not None:
        loc = _at(name, mark.line + 1, mark.column + 1)
    elif isinstance(exc, yaml.reader.ReaderError):
        loc = _at(name, *_position(text, exc.position))
        return Problem(loc, "", f"not valid YAML: character {exc.character!r} is not allowed")
    else:
        loc = _at(name)
    return Problem(loc, "", f"not valid YAML: {getattr(exc, 'problem', None) or exc}")


def check_structure(text: str, name: str) -> Problem | None:
    """The first problem with the shape of a YAML text, found from its event stream before
    anything is built: nesting deeper than MAX_DEPTH, an alias inside the value it names
    (a loop), or more than MAX_NODES values once aliases are expanded."""
    total = 0
    frames: list[list[Any]] = []  # per open collection: [anchor, values so far]
    sizes: dict[str, int] = {}
    try:
        for event in yaml.parse(text, Loader=_LOADER):
            size = 0
            if isinstance(event, yaml.CollectionStartEvent):
                if len(frames) >= MAX_DEPTH:
                    return _shape_problem(name, event, f"nested deeper than {MAX_DEPTH} levels")
                frames.append([event.anchor, 1])
                continue
            if isinstance(event, yaml.CollectionEndEvent):
                anchor, size = frames.pop()
                if anchor is not None:
                    sizes[anchor] = size
            elif isinstance(event, yaml.AliasEvent):
                if event.anchor not in sizes:
                    if any(f[0] == event.anchor for f in frames):
                        message = f"alias *{event.anchor} is inside the value it names (a loop)"
                        return _shape_problem(name, event, message)
                    return _shape_problem(name, event, f"alias *{event.anchor} is not defined")
                size = sizes[event.anchor]
            elif isinstance(event, yaml.ScalarEvent):
                size = 1
                if event.anchor is not None:
                    sizes[event.anchor] = 1
            else:
                continue
            if frames:
                frames[-1][1] += size
            else:
                total += size
            if total + sum(f[1] for f in frames) > MAX_NODES:
                message = f"more than {MAX_NODES:,} values once aliases are expanded"
                return _shape_problem(name, event, message)
    except yaml.YAMLError as exc:
        return _yaml_problem(name, text, exc)
    return None


def _shape_problem(name: str, event: yaml.Event, message: str) -> Problem:
    mark = event.start_mark
    return Problem(_at(name, mark.line + 1, mark.column + 1), "", f"not allowed: {message}")


def compose_text(text: str, name: str, problems: list[Problem]) -> tuple[Any, Positions]:
    """The plain data of a YAML text and the position of each field (no ``extends``)."""
    positions = Positions()
    shape = check_structure(text, name)
    if shape is not None:
        problems.append(shape)
        return None, positions
    try:
        node = yaml.compose(text, Loader=_LOADER)
    except yaml.YAMLError as exc:
        problems.append(_yaml_problem(name, text, exc))
        return None, positions
    if node is None:
        problems.append(Problem(_at(name), "", "the file is empty"))
        return None, positions
    reader = _NodeReader(name, positions, problems)
    positions.set((), reader.location(node))
    return reader.construct(node, ()), positions


def compose_file(path: Path, problems: list[Problem]) -> tuple[Any, Positions]:
    """The plain data of one YAML file and the position of each field (no ``extends``)."""
    text = read_text(path, problems)
    if text is None:
        return None, Positions()
    return compose_text(text, str(path), problems)


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
        if isinstance(node, yaml.ScalarNode):
            number = self._number(node, path)
            if number is not _NOT_A_NUMBER:
                return number
        try:
            return self.constructor.construct_object(node, deep=True)
        except yaml.YAMLError as exc:
            message = f"value not allowed: {exc}"
            self.problems.append(Problem(self.location(node), dotted(path), message))
            return None

    def _number(self, node: yaml.ScalarNode, path: PathT) -> Any:
        """Numbers are written in plain decimal: YAML 1.1's other forms (``1:30`` read as
        90, ``0x1A``, ``017`` read as octal, ``1_000``, ``.inf``, ``.nan``) are refused,
        and an unquoted ``1e-3`` (a string in YAML 1.1) is read as the number it looks like."""
        text = node.value.strip()
        plain = node.style in (None, "")  # (libyaml marks a plain scalar with "")
        if node.tag == _STR_TAG and plain and _EXPONENT.match(text):
            return float(text)
        if node.tag not in (_INT_TAG, _FLOAT_TAG):
            return _NOT_A_NUMBER
        if node.tag == _INT_TAG and _INT.match(text):
            return int(text)
        if _FLOAT.match(text) or _INT.match(text):
            return float(text)
        if text.lower().lstrip("+-") in (".inf", ".nan"):
            message = f"value not allowed: '{text}' is not a finite number"
        else:
            message = (
                f"value not allowed: write numbers in plain decimal (like 90 or 1.5), not '{text}'"
            )
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


_NOT_A_NUMBER: Any = object()


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
    """A scenario file's data with its chain of ``extends:`` bases merged in, and positions.

    ``extends:`` names one base file, or a list of them: a region's base first, then
    mix-ins (a form's assumptions), each merged over the ones before it by the rules of
    ``extends``; the file's own fields come last. A base must be a ``.yaml`` file in the
    folder of the scenario named first (or below it) or in the project's ``scenarios``
    folder: nothing outside is read, so no key of an unrelated file is ever shown in a
    message."""
    data, positions = compose_file(path, problems)
    if not isinstance(data, dict):
        if data is not None:
            problems.append(Problem(positions.find(()), "", "a scenario file must be a mapping"))
        return None, positions
    names = data.pop("extends", None)
    if names is None:
        return data, positions
    one = isinstance(names, str)
    names = [names] if one else names
    if not isinstance(names, list) or not names:
        what = "must be a file name, or a list of file names (the base first, then mix-ins)"
        problems.append(Problem(positions.find(("extends",)), "extends", what))
        return None, positions
    merged: Any = None
    merged_positions = Positions()
    for i, name in enumerate(names):
        key = "extends" if one else f"extends[{i}]"
        loc = positions.find(("extends",) if one else ("extends", i))
        if not isinstance(name, str) or not name.strip():
            problems.append(Problem(loc, key, "must be a file name"))
            return None, positions
        problem = base_problem(name, path.parent / name, seen + (path,))
        if problem:
            problems.append(Problem(loc, key, problem))
            return None, positions
        base_data, base_positions = read_with_extends(path.parent / name, problems, seen + (path,))
        if base_data is None:
            return None, positions
        if merged is None:
            merged, merged_positions = base_data, base_positions
        else:
            merged = deep_merge(merged, base_data)
            _merge_positions(merged_positions, base_positions, base_data)
    merged = deep_merge(merged, data)
    _merge_positions(merged_positions, positions, data)
    merged_positions.set((), positions.find(()))
    return merged, merged_positions


def _real(path: Path) -> Path:
    return Path(os.path.realpath(path))


def base_problem(base_name: str, base_path: Path, chain: tuple[Path, ...]) -> str | None:
    """Why the base file ``base_name`` (at ``base_path``) named by the last file of
    ``chain`` cannot be read, if it cannot (``extends:`` of a scenario, ``base:`` of a
    sweep)."""
    real = _real(base_path)
    roots = (_real(chain[0]).parent, _real(SCENARIOS_DIR))
    if base_path.suffix not in (".yaml", ".yml"):
        return f"base file '{base_name}' must be a scenario file ending in .yaml"
    if not any(real.is_relative_to(root) for root in roots):
        return (
            f"base file '{base_name}' lies outside this scenario's folder; a base must be in "
            "the folder of the scenario (or below it) or in the project's scenarios folder"
        )
    if real in [_real(p) for p in chain]:
        return f"'{base_name}' extends itself (a cycle)"
    if not os.path.lexists(base_path):
        return f"base file '{base_name}' does not exist"
    return None


def load_raw(path: str | Path) -> dict[str, Any]:
    """The merged (``extends`` resolved) but unvalidated content of a scenario file."""
    problems: list[Problem] = []
    data, _ = read_with_extends(Path(path), problems)
    if problems or data is None:
        raise ScenarioError(problems)
    return data


def parse_override(text: str) -> tuple[PathT, Any]:
    """Parse ``a.b.c=value``; the value is read like a value in a scenario file (a YAML
    scalar or flow collection, numbers in plain decimal)."""
    if "=" not in text:
        raise ValueError("needs the form field.path=value")
    key, _, raw = text.partition("=")
    parts = tuple(p.strip() for p in key.strip().split("."))
    if not all(parts):
        raise ValueError(f"an empty field name in '{key}'")
    if not raw.strip():
        return parts, ""
    problems: list[Problem] = []
    value, _ = compose_text(raw, f"--set {text}", problems)
    if problems:
        raise ValueError(problems[0].message)
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


def expand(data: Mapping[str, Any], pattern: str) -> list[PathT]:
    """The paths of plain scenario data that ``pattern`` names: a ``*`` part matches every
    key at its level; a path whose value is null is left out."""
    paths: list[tuple[PathT, Any]] = [((), data)]
    for part in pattern.split("."):
        nxt: list[tuple[PathT, Any]] = []
        for path, node in paths:
            if not isinstance(node, Mapping):
                continue
            keys = list(node) if part == "*" else [part] if part in node else []
            nxt.extend((path + (k,), node[k]) for k in keys)
        paths = nxt
    return [p for p, v in paths if v is not None]


def value_at_path(data: Mapping[str, Any], path: PathT) -> Any:
    """The value at a path (a tuple of keys) that exists in plain scenario data."""
    node: Any = data
    for part in path:
        node = node[part]
    return node


#: Fields an overlay never carries over: they say which scenario a file is, not what it changes.
OVERLAY_SKIPS = ("extends", "name", "description", "organisation")


def apply_overlay(
    data: dict[str, Any], positions: Positions, path: Path, problems: list[Problem]
) -> None:
    """Merge the fields the file at ``path`` sets itself (not those of its ``extends:``
    base, nor its name, description or organisation) over a scenario's data, by the
    rules of ``extends``; the scenario's name gets ``+<file stem>``."""
    over, over_positions = compose_file(path, problems)
    if not isinstance(over, dict):
        if over is not None:
            where = over_positions.find(())
            problems.append(Problem(where, "", "an overlay file must be a mapping"))
        return
    over = {k: v for k, v in over.items() if k not in OVERLAY_SKIPS}
    merged = deep_merge(data, over)
    _merge_positions(positions, over_positions, over)
    data.clear()
    data.update(merged)
    if isinstance(data.get("name"), str):
        data["name"] = f"{data['name']}+{path.stem}"
