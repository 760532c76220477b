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

The queue holds SimPy's entries, tuples (time, priority, event number, event), in the plain
source. The compiled build (``engine.pxd``) holds ``Entry`` objects instead, each with its
time and one integer for (priority, event number), compared in C: a tuple comparison
calls back into Python for each of its items, and those comparisons took about 8 % of a
compiled run. Both give the same order, so the same results.

The design and its measured effect: bench/README.md (issue 12).
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from heapq import heappop, heappush
from typing import Any

import simpy
from simpy.core import EmptySchedule, Infinity
from simpy.events import NORMAL, URGENT

try:
    import cython

    #: True in the compiled build (Cython sets it when it compiles this module).
    COMPILED: bool = cython.compiled
except ImportError:  # Cython is needed only to build the compiled core
    COMPILED = False

#: An entry's order among entries at the same time is (SimPy's priority, its event number),
#: kept as priority x ORDER_SPAN + event number (a run numbers far fewer events than this).
ORDER_SPAN = 1 << 48

#: A process body: a generator that yields minutes to wait, or a claim to wait for.
Body = Generator[Any, Any, Any]

#: SimPy's priority of an event, or a pool's queue priority (lower goes first). A named
#: alias of int because the compiled build takes the argument's C type from the ``.pxd``
#: file, and a plain ``int`` annotation would override it.
Priority = int


class Entry:
    """A place in the compiled build's event queue: its time, and its order among entries
    at the same time (SimPy's priority, then the order of scheduling)."""

    __slots__ = ("at", "order")
    at: float
    order: int

    def __lt__(self, other: Entry) -> bool:
        return self.at < other.at or (self.at == other.at and self.order < other.order)


class Proc(Entry):
    """One running generator. While it waits for time, it is the scheduled event."""

    __slots__ = ("gen", "on_end", "owner")

    def __init__(self, gen: Body, on_end: Callable[[Any], None] | None, owner: Any):
        self.gen = gen
        self.on_end = on_end  # called with ``owner`` when the generator ends
        self.owner = owner


class Scheduled(Entry):
    """Any other SimPy event in the compiled build's queue."""

    __slots__ = ("event",)

    def __init__(self, event: Any):
        self.event = event


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

    def push(self, at: float, priority: Priority, event: Any) -> None:
        """Put ``event`` in the queue at minute ``at`` with SimPy's ``priority``."""
        if COMPILED:
            entry: Entry = event if isinstance(event, Entry) else Scheduled(event)
            entry.at = at
            entry.order = priority * ORDER_SPAN + next(self._eid)
            heappush(self._queue, entry)
        else:
            heappush(self._queue, (at, priority, next(self._eid), event))

    def pop(self) -> Any:
        """Take the next entry from the queue, set the clock to its time and return its
        event (a Proc, the end of a run, a waiting claim or any SimPy event)."""
        if COMPILED:
            entry: Entry = heappop(self._queue)
            self.now = entry.at
            if entry.__class__ is Scheduled:
                scheduled: Scheduled = entry
                return scheduled.event
            return entry
        self.now, _, _, event = heappop(self._queue)
        return event

    def peek(self) -> float:
        """The time of the next entry (infinity if there is none)."""
        if not self._queue:
            return Infinity
        if COMPILED:
            entry: Entry = self._queue[0]
            return entry.at
        return float(self._queue[0][0])

    def schedule(self, event: Any, priority: Any = NORMAL, delay: float = 0) -> None:
        """SimPy's schedule, reading the plain ``now``."""
        self.push(self.now + delay, priority, event)

    def drive(self, at: float) -> None:
        """Run the event queue until ``at`` (the loop of ``Engine.run`` with a number)."""
        stop = _Stop()
        queue: list[Any] = self._queue
        # the end sorts before every ordinary event at the same time, as SimPy's own does
        self.push(at, URGENT, stop)
        while queue:
            event = self.pop()  # a Proc, the end, or any event
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
                    self.push(self.now + wait, NORMAL, proc)
                else:
                    wait.proc = proc
                continue
            if event is stop:
                return
            _run_callbacks(event)

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
        self.push(self.now + delay, NORMAL, Proc(gen, on_end, owner))

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
            self.push(self.now + wait, NORMAL, proc)
        else:
            wait.proc = proc

    def call_at(self, event: Any, callbacks: list[Callable[[Any], None]], delay: float) -> None:
        """Schedule ``event`` (an object with ``callbacks`` and ``_ok`` slots, such as a
        claim's patience timer) to have ``callbacks`` run ``delay`` minutes from now."""
        event.callbacks = callbacks
        self.push(self.now + delay, NORMAL, event)


def _run_callbacks(event: Any) -> None:
    """What SimPy's ``step`` does with an event it takes from the queue."""
    callbacks, event.callbacks = event.callbacks, None
    for callback in callbacks:
        callback(event)
    if not event._ok and not hasattr(event, "_defused"):
        exc = type(event._value)(*event._value.args)
        exc.__cause__ = event._value
        raise exc


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
        if not self._queue:
            raise EmptySchedule()
        event = self.pop()
        if event.__class__ is Proc:
            self.resume(event)
            return
        _run_callbacks(event)

    def run(self, until: Any = None) -> Any:
        """Run to ``until``: a number is run by ``Clock.drive``, anything else by SimPy."""
        if until is None or isinstance(until, simpy.Event):
            return super().run(until)
        at = float(until)
        if at <= self.now:
            raise ValueError(f"until ({at}) must be greater than the current simulation time")
        self.drive(at)
        return None


class _Stop(Entry):
    """The end of a run: a queue entry that only ``Clock.drive`` looks for."""

    __slots__ = ()
