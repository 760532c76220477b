"""A request's random numbers: the layout of its row, and durations drawn from it.

Each request carries one row of random numbers, drawn from its demand group's stream when
the request is created. Because everything a request does is drawn from its own row, the
same replication number gives the same callers, needs and task times in every scenario
(common random numbers), whatever the queues do.

Layout of the row. Every purpose (a *slot*) has one uniform number u on [0, 1). The
request's own slots come first (``REQUEST_SLOTS``); then each call of the request has
``CALL_STRIDE`` positions (``CALL_SLOTS``), for the first ``MAX_SLOT_CALLS`` calls. A later
call extends the row with numbers from the replication's overflow stream. A duration that
needs the normal quantile of its u (a lognormal one) computes it when it is drawn, for
that slot alone (scipy's ``ndtri`` from ``scipy.special.cython_special``: the function of
the ``ndtri`` ufunc, so the same numbers, and a C call in the compiled build).

This module is the one owner of that layout: other modules name a position only by the
constants below. Reordering the slot names changes every result of the model; a test pins
the order and the golden fingerprint test catches any change.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Callable, MutableSequence, Sequence

import numpy as np
from scipy.special import cython_special, gammaincinv

from sim.scenario.schema import Duration

try:
    import cython

    #: True in the compiled build (Cython sets it when it compiles this module).
    COMPILED: bool = cython.compiled
except ImportError:  # Cython is needed only to build the compiled core
    COMPILED = False

#: Purposes of a request's own random numbers, in row order.
REQUEST_SLOTS = (
    "need", "channel", "urgent_line",
    "dispatch", "turnout", "drive", "on_scene", "convey", "transport", "handover", "return",
    "travel_post", "consult", "visit_travel", "visit_on_site",
    "team_travel", "team_on_site", "ed_referral",
    "recontact", "recontact_delay", "escalation_delay",
    "referral_give_up", "referral_delay",
    "u1_rule", "regrade", "presentation", "room_consult", "repeat_contact", "repeat_delay",
)  # fmt: skip
#: Purposes of each call's random numbers, in row order within the call's block.
CALL_SLOTS = ("patience", "handle", "triage", "abandon", "redial_delay", "national_desk")
#: Calls whose numbers are drawn with the request; later calls use the overflow stream.
MAX_SLOT_CALLS = 3

_REQUEST_POS = {name: i for i, name in enumerate(REQUEST_SLOTS)}
_CALL_POS = {name: i for i, name in enumerate(CALL_SLOTS)}

SLOT_NEED = _REQUEST_POS["need"]
SLOT_CHANNEL = _REQUEST_POS["channel"]
SLOT_URGENT_LINE = _REQUEST_POS["urgent_line"]
SLOT_DISPATCH = _REQUEST_POS["dispatch"]
SLOT_TURNOUT = _REQUEST_POS["turnout"]
SLOT_DRIVE = _REQUEST_POS["drive"]
SLOT_ON_SCENE = _REQUEST_POS["on_scene"]
SLOT_CONVEY = _REQUEST_POS["convey"]
SLOT_TRANSPORT = _REQUEST_POS["transport"]
SLOT_HANDOVER = _REQUEST_POS["handover"]
SLOT_RETURN = _REQUEST_POS["return"]
SLOT_TRAVEL_POST = _REQUEST_POS["travel_post"]
SLOT_CONSULT = _REQUEST_POS["consult"]
SLOT_VISIT_TRAVEL = _REQUEST_POS["visit_travel"]
SLOT_VISIT_ON_SITE = _REQUEST_POS["visit_on_site"]
SLOT_TEAM_TRAVEL = _REQUEST_POS["team_travel"]
SLOT_TEAM_ON_SITE = _REQUEST_POS["team_on_site"]
SLOT_ED_REFERRAL = _REQUEST_POS["ed_referral"]
SLOT_RECONTACT = _REQUEST_POS["recontact"]
SLOT_RECONTACT_DELAY = _REQUEST_POS["recontact_delay"]
SLOT_ESCALATION_DELAY = _REQUEST_POS["escalation_delay"]
SLOT_REFERRAL_GIVE_UP = _REQUEST_POS["referral_give_up"]
SLOT_REFERRAL_DELAY = _REQUEST_POS["referral_delay"]
SLOT_U1_RULE = _REQUEST_POS["u1_rule"]
SLOT_REGRADE = _REQUEST_POS["regrade"]
SLOT_PRESENTATION = _REQUEST_POS["presentation"]
SLOT_ROOM_CONSULT = _REQUEST_POS["room_consult"]
SLOT_REPEAT_CONTACT = _REQUEST_POS["repeat_contact"]
SLOT_REPEAT_DELAY = _REQUEST_POS["repeat_delay"]

CALL_SLOT_PATIENCE = _CALL_POS["patience"]
CALL_SLOT_HANDLE = _CALL_POS["handle"]
CALL_SLOT_TRIAGE = _CALL_POS["triage"]
CALL_SLOT_ABANDON = _CALL_POS["abandon"]
CALL_SLOT_REDIAL_DELAY = _CALL_POS["redial_delay"]
CALL_SLOT_NATIONAL_DESK = _CALL_POS["national_desk"]

#: Position of the first call's block, and the length of each call's block.
FIRST_CALL_POS = len(REQUEST_SLOTS)
CALL_STRIDE = len(CALL_SLOTS)
#: Uniform numbers per request drawn at creation: the length of its row.
ROW_LENGTH = len(REQUEST_SLOTS) + len(CALL_SLOTS) * MAX_SLOT_CALLS


def new_request_rows(generator: np.random.Generator, n: int) -> np.ndarray:
    """The rows of ``n`` new requests, shape (n, ROW_LENGTH)."""
    return generator.random((n, ROW_LENGTH))


#: Numbers the overflow stream is read ahead by.
OVERFLOW_BLOCK = 256


class Overflow:
    """The replication's overflow stream, read a block at a time: it hands out the stream's
    numbers in the stream's order, the same numbers as drawing each few when needed (a
    generator's n uniform numbers drawn at once are its next n numbers), for one call of
    the generator per block instead of one per request that needs more."""

    __slots__ = ("generator", "_block", "_next")

    def __init__(self, generator: np.random.Generator):
        self.generator = generator
        self._block: list[float] = []
        self._next = 0

    def take(self, n: Position) -> list[float]:
        """The stream's next ``n`` numbers."""
        start = self._next
        if start + n > len(self._block):
            rest = self._block[start:]
            more = self.generator.random(max(OVERFLOW_BLOCK, n - len(rest))).tolist()
            self._block = rest + more
            start = 0
        self._next = start + n
        return self._block[start : start + n]


def fresh_draws(overflow: Overflow, length: int) -> list[float]:
    """``length`` more uniform numbers from the overflow stream: used past the numbers
    drawn when the request was created."""
    return overflow.take(length)


def call_position(
    draws: MutableSequence[float], call_no: int, slot: int, overflow: Overflow
) -> int:
    """Position in a request's row of a number of its call ``call_no`` (counted from 0);
    the row is extended from the overflow stream when the call is beyond the drawn ones."""
    pos = FIRST_CALL_POS + call_no * CALL_STRIDE + slot
    if pos >= len(draws):
        draws.extend(fresh_draws(overflow, pos + 1 - len(draws)))
    return pos


#: A row position; a named alias of int because the compiled build takes the argument's C
#: type from ``draws.pxd``, and a plain ``int`` annotation would override it.
Position = int


def row_value(row: Sequence[float], i: Position) -> float:
    """The number at position ``i`` (not negative) of a request's row: its ``array("d")``,
    or a list of fresh numbers. The compiled build reads an array's double in place,
    without making a Python float of it (the generic indexing does, for every read)."""
    if i < 0:
        raise IndexError("row position out of range")
    if COMPILED and type(row) is array:
        values: array = row
        if i >= len(values):
            raise IndexError("row position out of range")
        return values.data.as_doubles[i]  # type: ignore[attr-defined]
    return row[i]


#: The kinds of ``Sampler``: a closed form computed in place, or any other function.
SAMPLER_FIXED = 0
SAMPLER_EXPONENTIAL = 1
SAMPLER_UNIFORM = 2
SAMPLER_LOGNORMAL = 3
SAMPLER_OTHER = 4


class Sampler:
    """A duration drawn from a request's row of random numbers: ``draw(row, i)`` (or
    calling the sampler) gives minutes for the uniform number u = ``row[i]``, an inverse
    transform of u (common random numbers). The common distributions are computed in place
    from two parameters ``a`` and ``b`` (typed and in C in the compiled build, with the same
    operations in the same order as in Python, so the same numbers); the others call
    ``other``."""

    __slots__ = ("kind", "a", "b", "other")

    def __init__(
        self,
        kind: Position,
        a: float = 0.0,
        b: float = 0.0,
        other: Callable[[Sequence[float], int], float] | None = None,
    ):
        self.kind = kind
        self.a = a  # fixed: the value; exponential: the mean; uniform: low; lognormal: mu
        self.b = b  # uniform: the width; lognormal: sigma
        self.other = other

    def __call__(self, row: Sequence[float], i: Position) -> float:
        """The same as ``draw``."""
        return self.draw(row, i)

    def draw(self, row: Sequence[float], i: Position) -> float:
        """Minutes for the random number at position ``i`` of ``row``."""
        kind = self.kind
        if kind == SAMPLER_LOGNORMAL:
            q: float = cython_special.ndtri(row_value(row, i))
            return math.exp(self.a + self.b * q)
        if kind == SAMPLER_FIXED:
            return self.a
        u: float = row_value(row, i)
        if kind == SAMPLER_EXPONENTIAL:
            return -self.a * math.log1p(-u)
        if kind == SAMPLER_UNIFORM:
            return self.a + self.b * u
        assert self.other is not None
        return float(self.other(row, i))


def duration_sampler(duration: Duration) -> Sampler:
    """A fast sampler (row, i) -> minutes for a scenario duration.

    ``row[i]`` is a uniform number u on [0, 1); every distribution is an inverse transform
    of the same u (common random numbers); it equals ``duration.quantile(u)``.
    """
    if duration.dist == "fixed":
        return Sampler(SAMPLER_FIXED, float(duration.mean_min))  # type: ignore[arg-type]
    if duration.dist == "exponential":
        return Sampler(SAMPLER_EXPONENTIAL, float(duration.mean_min))  # type: ignore[arg-type]
    if duration.dist == "uniform":
        low = float(duration.low_min)  # type: ignore[arg-type]
        width = float(duration.high_min) - low  # type: ignore[arg-type]
        return Sampler(SAMPLER_UNIFORM, low, width)
    if float(duration.mean_min) == 0.0:  # type: ignore[arg-type]
        return Sampler(SAMPLER_FIXED, 0.0)
    if duration.dist == "gamma":
        shape, scale = duration.gamma_shape_scale()
        return Sampler(
            SAMPLER_OTHER, other=lambda row, i: scale * float(gammaincinv(shape, row[i]))
        )
    if duration.dist == "weibull":
        shape, scale = duration.weibull_shape_scale()
        power = 1.0 / shape
        return Sampler(SAMPLER_OTHER, other=lambda row, i: scale * (-math.log1p(-row[i])) ** power)
    mu, sigma = duration.lognormal_mu_sigma()
    return Sampler(SAMPLER_LOGNORMAL, float(mu), float(sigma))
