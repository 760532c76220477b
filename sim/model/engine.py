"""Light processes on SimPy's event queue.

A request's life, an ambulance ride or a roster is written as a generator, as in any SimPy
model, but it is driven by a ``Proc`` rather than a ``simpy.Process``: the generator yields

* a number of minutes to wait (``yield duration``), or
* a pool's waiting ``Claim``, and receives the claim's outcome when the pool decides it.

While a ``Proc`` waits for time it is itself the entry in the event queue, so a wait costs
one heap entry and no ``Timeout`` object, and a process costs no start and no end event. A
process starts at once, inside the step that creates it, and a claim's owner resumes inside
the step that decides the claim: the same simulated times as SimPy processes, with fewer
events at each time. ``Engine.run`` drives the queue in one loop (no method call per
event); any ordinary SimPy event scheduled on the engine is still handled as SimPy does.

The design and its measured effect: bench/README.md (issue 12).
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from heapq import heappop, heappush
from typing import Any

import simpy
from simpy.events import NORMAL, URGENT

#: A process body: a generator that yields minutes to wait, or a claim to wait for.
Body = Generator[Any, Any, Any]


class Proc:
    """One running generator. While it waits for time, it is the scheduled event."""

    __slots__ = ("gen", "on_end", "owner")

    def __init__(self, gen: Body, on_end: Callable[[Any], None] | None, owner: Any):
        self.gen = gen
        self.on_end = on_end  # called with ``owner`` when the generator ends
        self.owner = owner


class Engine(simpy.Environment):
    """SimPy's environment with processes started and resumed as ``Proc`` objects.

    ``now`` is a plain attribute here (SimPy's is a property over ``_now``, which this class
    keeps as an alias), and ``run`` with a numeric end drives the event queue in one loop:
    a waiting Proc is resumed in place; any other event (a claim's patience timer, or any
    SimPy event a model adds) has its callbacks run as in SimPy's own ``step``. The order of
    events and the numbering of SimPy's event counter are SimPy's."""

    now: float = 0.0  # shadows SimPy's read-only property

    @property
    def _now(self) -> float:
        return self.now

    @_now.setter
    def _now(self, value: float) -> None:
        self.now = value

    def schedule(self, event: Any, priority: Any = NORMAL, delay: float = 0) -> None:
        """SimPy's schedule, reading the plain ``now``."""
        queue: list[Any] = self._queue
        heappush(queue, (self.now + delay, priority, next(self._eid), event))

    def step(self) -> None:
        """Process the next event (SimPy's step, with a Proc's wait ending in place)."""
        queue = self._queue
        if queue and queue[0][3].__class__ is Proc:
            self.now, _, _, proc = heappop(queue)
            self.resume(proc)
            return
        super().step()

    def run(self, until: Any = None) -> Any:
        """Run to ``until``: a number is run by the loop below, anything else by SimPy."""
        if until is None or isinstance(until, simpy.Event):
            return super().run(until)
        at = float(until)
        if at <= self.now:
            raise ValueError(f"until ({at}) must be greater than the current simulation time")
        stop = _Stop()
        queue: list[Any] = self._queue
        eid = self._eid
        # the end sorts before every ordinary event at the same time, as SimPy's own does
        heappush(queue, (at, URGENT, next(eid), stop))
        while queue:
            now, _, _, event = heappop(queue)  # event: a Proc, the end, or any event
            self.now = now
            if event.__class__ is Proc:
                # ``resume`` written out in place: a method call per event is what this
                # loop saves
                try:
                    wait = event.gen.send(None)
                except StopIteration:
                    if event.on_end is not None:
                        event.on_end(event.owner)
                    continue
                if wait.__class__ is float:
                    heappush(queue, (now + wait, NORMAL, next(eid), event))
                else:
                    wait.proc = event
                continue
            if event is stop:
                return None
            callbacks, event.callbacks = event.callbacks, None
            for callback in callbacks:
                callback(event)
            if not event._ok and not hasattr(event, "_defused"):
                exc = type(event._value)(*event._value.args)
                exc.__cause__ = event._value
                raise exc
        return None

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
        queue: list[Any] = self._queue
        heappush(queue, (self.now + delay, NORMAL, next(self._eid), Proc(gen, on_end, owner)))

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
            queue: list[Any] = self._queue
            heappush(queue, (self.now + wait, NORMAL, next(self._eid), proc))
        else:
            wait.proc = proc

    def call_at(self, event: Any, callbacks: list[Callable[[Any], None]], delay: float) -> None:
        """Schedule ``event`` (an object with ``callbacks`` and ``_ok`` slots, such as a
        claim's patience timer) to have ``callbacks`` run ``delay`` minutes from now."""
        event.callbacks = callbacks
        queue: list[Any] = self._queue
        heappush(queue, (self.now + delay, NORMAL, next(self._eid), event))


class _Stop:
    """The end of a run: a queue entry that only ``Engine.run`` looks for."""

    __slots__ = ()
