"""The compiled build's class decorators, as no-ops for the plain source when Cython is not
installed (it is needed only to build the compiled core; installed, its own module gives
the same no-ops to plain Python)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def freelist(n: int) -> Callable[[T], T]:
    """Keep up to ``n`` freed objects of the class for reuse (compiled build)."""
    return lambda cls: cls


def cclass(cls: T) -> T:
    """An extension type (compiled build; the class's ``.pxd`` declares it)."""
    return cls
