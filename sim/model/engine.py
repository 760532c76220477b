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


class Clock:
    """The engine's core: the clock, the event queue, and the light processes on it. It is
    a base class of ``Engine`` (which is SimPy's environment); it holds the slots that
    SimPy's environment keeps as attributes, so that the compiled build can read the clock
    and the queue as typed fields (``engine.pxd``)."""

    __slots__ = ("now", "_queue", "_eid")
    now: float  # shadows SimPy's read-only property (SimPy's ``_now`` is an alias of it)
    _queue: list[Any]
    _eid: Any

    @property
    def _now(self) -> float:
        return self.now

    @_now.setter
    def _now(self, value: float) -> None:
        self.now = value

    def schedule(self, event: Any, priority: Any = NORMAL, delay: float = 0) -> None:
        """SimPy's schedule, reading the plain ``now``."""
        heappush(self._queue, (self.now + delay, priority, next(self._eid), event))

    def drive(self, at: float) -> None:
        """Run the event queue until ``at`` (the loop of ``Engine.run`` with a number)."""
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
                proc: Proc = event
                try:
                    wait = proc.gen.send(None)
                except StopIteration:
                    if proc.on_end is not None:
                        proc.on_end(proc.owner)
                    continue
                if wait.__class__ is float:
                    heappush(queue, (now + wait, NORMAL, next(eid), proc))
                else:
                    wait.proc = proc
                continue
            if event is stop:
                return
            callbacks, event.callbacks = event.callbacks, None
            for callback in callbacks:
                callback(event)
            if not event._ok and not hasattr(event, "_defused"):
                exc = type(event._value)(*event._value.args)
                exc.__cause__ = event._value
                raise exc

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
        heappush(self._queue, (self.now + delay, NORMAL, next(self._eid), proc))

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
            heappush(self._queue, (self.now + wait, NORMAL, next(self._eid), proc))
        else:
            wait.proc = proc

    def call_at(self, event: Any, callbacks: list[Callable[[Any], None]], delay: float) -> None:
        """Schedule ``event`` (an object with ``callbacks`` and ``_ok`` slots, such as a
        claim's patience timer) to have ``callbacks`` run ``delay`` minutes from now."""
        event.callbacks = callbacks
        heappush(self._queue, (self.now + delay, NORMAL, next(self._eid), event))


class Engine(Clock, simpy.Environment):
    """SimPy's environment with processes started and resumed as ``Proc`` objects.

    ``now`` is a plain field here (SimPy's is a property over ``_now``, which ``Clock``
    keeps as an alias), and ``run`` with a numeric end drives the event queue in one loop
    (``Clock.drive``): a waiting Proc is resumed in place; any other event (a claim's
    patience timer, or any SimPy event a model adds) has its callbacks run as in SimPy's
    own ``step``. The order of events and the numbering of SimPy's event counter are
    SimPy's."""

    def step(self) -> None:
        """Process the next event (SimPy's step, with a Proc's wait ending in place)."""
        queue = self._queue
        if queue and queue[0][3].__class__ is Proc:
            self.now, _, _, proc = heappop(queue)
            self.resume(proc)
            return
        super().step()

    def run(self, until: Any = None) -> Any:
        """Run to ``until``: a number is run by ``Clock.drive``, anything else by SimPy."""
        if until is None or isinstance(until, simpy.Event):
            return super().run(until)
        at = float(until)
        if at <= self.now:
            raise ValueError(f"until ({at}) must be greater than the current simulation time")
        self.drive(at)
        return None


class _Stop:
    """The end of a run: a queue entry that only ``Clock.drive`` looks for."""

    __slots__ = ()
