# cython: boundscheck=False, wraparound=False
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
source, kept by ``heapq``. The compiled build (``engine.pxd``) holds ``Entry`` objects
instead, each with its time and one integer for (priority, event number), in a binary heap
of its own whose comparisons are C comparisons of those two fields (``heapq`` would call
back into Python for each comparison). No two entries tie, so both give the same order,
and the same results.

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
    from sim.model import _directives as cython

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


@cython.freelist(256)  # the run makes and drops processes all the time
@cython.cclass
class Proc(Entry):
    """One running generator. While it waits for time, it is the scheduled event."""

    __slots__ = ("gen", "on_end", "owner")

    def __init__(self, gen: Body, on_end: Callable[[Any], None] | None, owner: Any):
        self._fill(gen, on_end, owner)

    def _fill(self, gen: Body, on_end: Callable[[Any], None] | None, owner: Any) -> None:
        self.gen = gen
        self.on_end = on_end  # called with ``owner`` when the generator ends
        self.owner = owner


def new_proc(gen: Body, on_end: Callable[[Any], None] | None, owner: Any) -> Proc:
    """``Proc(gen, on_end, owner)``, made without calling the class (a C call in the
    compiled build: a class call passes its arguments through a tuple)."""
    proc: Proc = Proc.__new__(Proc)
    proc._fill(gen, on_end, owner)
    return proc


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

    __slots__ = ("now", "_queue", "_eid", "_seq")
    now: float  # shadows SimPy's read-only property (SimPy's ``_now`` is an alias of it)
    _queue: list[Any]
    _eid: Any  # SimPy's event counter; unused here (``_seq`` counts the events scheduled)
    _seq: int

    @property
    def _now(self) -> float:
        return self.now

    @_now.setter
    def _now(self, value: float) -> None:
        self.now = value

    def push(self, at: float, priority: Priority, event: Any) -> None:
        """Put ``event`` in the queue at minute ``at`` with SimPy's ``priority``."""
        _push(self, at, priority, event)

    def pop(self) -> Any:
        """Take the next entry from the queue, set the clock to its time and return its
        event (a Proc, the end of a run, a waiting claim or any SimPy event)."""
        return _pop(self)

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
        _push(self, self.now + delay, priority, event)

    def drive(self, at: float) -> None:
        """Run the event queue until ``at`` (the loop of ``Engine.run`` with a number)."""
        stop = _Stop()
        queue: list[Any] = self._queue
        # the end sorts before every ordinary event at the same time, as SimPy's own does
        _push(self, at, URGENT, stop)
        while queue:
            event = _pop(self)  # a Proc, the end, or any event
            if type(event) is Proc:
                # ``resume`` written out in place: a method call per event is what this
                # loop saves. A body never yields None, so ``next`` with a default ends a
                # body without raising StopIteration.
                proc: Proc = event
                wait = next(proc.gen, None)
                if wait is None:
                    if proc.on_end is not None:
                        proc.on_end(proc.owner)
                    continue
                if type(wait) is float:
                    minutes: float = wait  # a C double: the sum is not made a Python float
                    _push(self, self.now + minutes, NORMAL, proc)
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
        self.resume(new_proc(gen, on_end, owner))

    def start_at(
        self,
        gen: Body,
        delay: float,
        on_end: Callable[[Any], None] | None = None,
        owner: Any = None,
    ) -> None:
        """Start a process ``delay`` minutes from now (its generator runs from then on)."""
        _push(self, self.now + delay, NORMAL, new_proc(gen, on_end, owner))

    def resume(self, proc: Proc) -> None:
        """Run ``proc`` until its next wait (or its end). A wait is a float (minutes) or a
        waiting claim, whose pool calls this when it decides it (the process then reads the
        claim's state: nothing is sent into it). A body never yields None, so ``next`` with
        a default ends a body without raising StopIteration."""
        wait = next(proc.gen, None)
        if wait is None:
            if proc.on_end is not None:
                proc.on_end(proc.owner)
            return
        if type(wait) is float:
            minutes: float = wait
            _push(self, self.now + minutes, NORMAL, proc)
        else:
            wait.proc = proc

    def call_at(self, event: Any, callbacks: list[Callable[[Any], None]], delay: float) -> None:
        """Schedule ``event`` (an object with ``callbacks`` and ``_ok`` slots, such as a
        claim's patience timer) to have ``callbacks`` run ``delay`` minutes from now."""
        event.callbacks = callbacks
        _push(self, self.now + delay, NORMAL, event)


def _push(clock: Clock, at: float, priority: Priority, event: Any) -> None:
    """Put ``event`` in ``clock``'s queue at minute ``at`` with SimPy's ``priority``; the
    entries at one time are ordered by priority, then by the order of scheduling, as in
    SimPy (``clock._seq`` counts the events scheduled)."""
    clock._seq += 1
    if COMPILED:
        entry: Entry = event if isinstance(event, Entry) else Scheduled(event)
        entry.at = at
        entry.order = priority * ORDER_SPAN + clock._seq
        _sift_in(clock._queue, entry)
    else:
        heappush(clock._queue, (at, priority, clock._seq, event))


def _pop(clock: Clock) -> Any:
    """Take the next entry from ``clock``'s queue, set the clock to its time and return its
    event."""
    if COMPILED:
        entry: Entry = _take_first(clock._queue)
        clock.now = entry.at
        if type(entry) is Scheduled:
            scheduled: Scheduled = entry
            return scheduled.event
        return entry
    clock.now, _, _, event = heappop(clock._queue)
    return event


def _before(a: Entry, b: Entry) -> bool:
    """Whether entry ``a`` comes before entry ``b`` (time, then order)."""
    return a.at < b.at or (a.at == b.at and a.order < b.order)


def _sift_in(heap: list[Any], entry: Entry) -> None:
    """Add ``entry`` to the binary heap ``heap`` of entries (the compiled build's queue:
    its comparisons are C comparisons of the entries' fields, not calls of ``__lt__``)."""
    heap.append(entry)
    i: cython.Py_ssize_t = len(heap) - 1
    while i > 0:
        up: cython.Py_ssize_t = (i - 1) >> 1
        parent: Entry = cython.cast(Entry, heap[up])
        if not _before(entry, parent):
            break
        heap[i] = parent
        i = up
    heap[i] = entry


def _take_first(heap: list[Any]) -> Entry:
    """Remove and return the first entry of the binary heap ``heap``. Entries never tie
    (each has its own event number), so any correct heap returns them in the same order as
    ``heapq``. (Compiled build only, as ``_sift_in``: the heap holds nothing but entries, so
    its reads are cast without a type test.)"""
    last: Entry = heap.pop()
    n: cython.Py_ssize_t = len(heap)
    if n == 0:
        return last
    first: Entry = cython.cast(Entry, heap[0])
    i: cython.Py_ssize_t = 0
    child: cython.Py_ssize_t = 1
    while child < n:
        smaller: Entry = cython.cast(Entry, heap[child])
        if child + 1 < n:
            right: Entry = cython.cast(Entry, heap[child + 1])
            if _before(right, smaller):
                child += 1
                smaller = right
        if not _before(smaller, last):
            break
        heap[i] = smaller
        i = child
        child = 2 * i + 1
    heap[i] = last
    return first


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
    own ``step``. The order of events and their numbering (``_seq``, in place of SimPy's
    event counter) are SimPy's."""

    def __init__(self, initial_time: float = 0) -> None:
        super().__init__(initial_time)
        self._seq = 0  # events scheduled so far

    def step(self) -> None:
        """Process the next event (SimPy's step, with a Proc's wait ending in place)."""
        if not self._queue:
            raise EmptySchedule()
        event = _pop(self)
        if type(event) is Proc:
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
