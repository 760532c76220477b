"""Light processes on SimPy's event queue.

A request's life, an ambulance ride or a roster is written as a generator, as in any SimPy
model, but it is driven by a ``Proc`` rather than a ``simpy.Process``: the generator yields

* a number of minutes to wait (``yield duration``), or
* a pool's waiting ``Claim``, and receives the claim's outcome when the pool decides it.

A ``Proc`` is itself the event that SimPy's environment schedules while its generator
waits (``Environment.schedule`` takes any object with ``callbacks`` and ``_ok``, the two
attributes ``Environment.step`` reads), so a wait costs one heap entry and no ``Timeout``
object, and a process costs no start and no end event. A process starts at once, inside
the step that creates it, and a claim's owner resumes inside the step that decides the
claim: the same simulated times as SimPy processes, with fewer events at each time.

The design and its measured effect: bench/README.md (issue 12).
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from heapq import heappop
from typing import Any

import simpy
from simpy.events import NORMAL

#: A process body: a generator that yields minutes to wait, or a claim to wait for.
Body = Generator[Any, Any, Any]


class Proc:
    """One running generator. While it waits for time, it is the scheduled event."""

    __slots__ = ("callbacks", "gen", "on_end", "owner")
    _ok = True  # read by ``Environment.step``: a Proc never fails as an event

    def __init__(self, gen: Body, on_end: Callable[[Any], None] | None, owner: Any):
        self.callbacks: list[Callable[[Any], None]] | None = None
        self.gen = gen
        self.on_end = on_end  # called with ``owner`` when the generator ends
        self.owner = owner


class Engine(simpy.Environment):
    """SimPy's environment, with processes started and resumed as ``Proc`` objects: its
    step resumes a waiting Proc directly and leaves every other event to SimPy's step."""

    def __init__(self) -> None:
        super().__init__()
        # the callbacks of every waiting Proc, for SimPy's own step: one shared list (a
        # step reads it and never changes it)
        self._wake: list[Callable[[Any], None]] = [self.resume]

    def step(self) -> None:
        """Process the next event: a Proc's wait ends here, anything else in SimPy's step."""
        queue = self._queue
        if queue and queue[0][3].__class__ is Proc:
            self._now, _, _, proc = heappop(queue)
            proc.callbacks = None
            self.resume(proc)
            return
        super().step()

    def start(
        self, gen: Body, on_end: Callable[[Any], None] | None = None, owner: Any = None
    ) -> None:
        """Start a process now (it runs until its first wait before this returns);
        ``on_end(owner)`` is called when it ends."""
        self.resume(Proc(gen, on_end, owner), None)

    def start_at(
        self,
        gen: Body,
        delay: float,
        on_end: Callable[[Any], None] | None = None,
        owner: Any = None,
    ) -> None:
        """Start a process ``delay`` minutes from now (its generator runs from then on)."""
        proc = Proc(gen, on_end, owner)
        proc.callbacks = self._wake
        self.schedule(proc, NORMAL, delay)  # type: ignore[arg-type]  # duck-typed event

    def resume(self, proc: Proc, value: Any = None) -> None:
        """Run ``proc`` until its next wait (or its end), sending it ``value``. A wait is a
        float (minutes) or a waiting claim, whose pool calls this when it decides it."""
        try:
            wait = proc.gen.send(value)
        except StopIteration:
            if proc.on_end is not None:
                proc.on_end(proc.owner)
            return
        if wait.__class__ is float:
            proc.callbacks = self._wake
            self.schedule(proc, NORMAL, wait)  # type: ignore[arg-type]  # duck-typed event
        else:
            wait.proc = proc

    def call_at(self, event: Any, callbacks: list[Callable[[Any], None]], delay: float) -> None:
        """Schedule ``event`` (an object with ``callbacks`` and ``_ok`` slots, such as a
        claim's patience timer) to have ``callbacks`` run ``delay`` minutes from now."""
        event.callbacks = callbacks
        self.schedule(event, NORMAL, delay)
