"""Problems found in input files, each located as ``file:line:col: field.path: message``.

A loader collects every problem of a file before it gives up, so a user sees them all at
once. This module knows where each field was written (``Positions``), turns pydantic's
validation errors into located problems with a did-you-mean hint for unknown names, and
walks a schema to list the field names allowed at a place.
"""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Union

from pydantic import BaseModel, ValidationError

#: A field's place in a nested document: mapping keys and list indices.
PathT = tuple[str | int, ...]


@dataclass(frozen=True)
class Location:
    """A place in an input: a file (or a ``--set`` text), with line and column when known."""

    file: str
    line: int
    col: int

    def __str__(self) -> str:
        if self.line <= 0:
            return self.file
        return f"{self.file}:{self.line}:{self.col}"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input: where, which field, and what would be valid."""

    location: Location
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.path or '(top level)'}: {self.message}"


class ScenarioError(Exception):
    """Raised with every problem of a scenario; str() gives one located line per problem."""

    def __init__(self, problems: Sequence[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


def dotted(path: Iterable[str | int]) -> str:
    """A field path as users write it: ``a.b[2].c``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


class Positions:
    """Where in which file each field path was written."""

    def __init__(self) -> None:
        self._map: dict[PathT, Location] = {}

    def set(self, path: PathT, loc: Location) -> None:
        """Record that ``path`` was written at ``loc``."""
        self._map[path] = loc

    def drop_under(self, path: PathT) -> None:
        """Forget every position strictly below ``path`` (its value is replaced whole)."""
        n = len(path)
        for key in [k for k in self._map if k[:n] == path and len(k) > n]:
            del self._map[key]

    def find(self, path: PathT) -> Location:
        """The position of ``path``, or of its nearest written ancestor."""
        path = tuple(path)
        while path:
            if path in self._map:
                return self._map[path]
            path = path[:-1]
        return self._map.get((), Location("<scenario>", 0, 0))

    def items_under(self, path: PathT) -> list[tuple[PathT, Location]]:
        """Every recorded position at or below ``path``."""
        n = len(path)
        return [(key, loc) for key, loc in self._map.items() if key[:n] == path]


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """A hint for a misspelt name: the closest valid name, and the valid names."""
    choices = list(choices)
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    hint = f"; did you mean '{close[0]}'?" if close else "."
    valid = ", ".join(choices) if len(choices) <= 12 else ", ".join(choices[:12]) + ", ..."
    return f"{hint} Valid here: {valid}"


def model_fields_at(loc: Sequence[str | int], root: Any) -> list[str] | None:
    """Field names allowed at a location of a schema (None where keys are free-form)."""
    tp: Any = root
    for part in loc:
        tp = strip_optional(tp)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            field = tp.model_fields.get(str(part))
            if field is None:
                return None
            tp = field.annotation
        elif typing.get_origin(tp) is dict:
            tp = typing.get_args(tp)[1]
        elif typing.get_origin(tp) in (tuple, list):
            tp = typing.get_args(tp)[0]
        else:
            return None
    tp = strip_optional(tp)
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return list(tp.model_fields)
    return None


def strip_optional(tp: Any) -> Any:
    """A type without ``Annotated`` and without ``None`` in a union."""
    while True:
        origin = typing.get_origin(tp)
        if origin is Annotated:
            tp = typing.get_args(tp)[0]
        elif origin in (Union, types.UnionType):
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            tp = args[0]
        else:
            return tp


def pydantic_problems(exc: ValidationError, positions: Positions, root: Any) -> list[Problem]:
    """Located problems from a pydantic validation error of the schema ``root``."""
    out: list[Problem] = []
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        # pydantic adds the tag of a function validator to some locations; drop non-fields
        loc = tuple(p for p in loc if not (isinstance(p, str) and p.startswith("function-")))
        msg = err["msg"]
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, ") :]
        if err["type"] == "extra_forbidden":
            allowed = model_fields_at(loc[:-1], root) or []
            msg = f"unknown field '{loc[-1]}'" + did_you_mean(str(loc[-1]), allowed)
        elif err["type"] == "missing":
            msg = "required field is missing"
        out.append(Problem(positions.find(loc), dotted(loc), msg))
    return out
