"""Fixed-schema records of one replication.

One record per request (every step's time, the doors it reached, the dispositions it got,
who served it and how it ended), one per call, and one per ambulance ride. Times are minutes
since clock 0; ``nan`` means "did not happen". At the end of a run the records become numpy
columns (``ReplicationRecords``), which the measures read. Category columns hold the
integer codes of ``sim.codes``.
"""

from __future__ import annotations

import math
from array import array
from dataclasses import dataclass, field
from typing import Any, TypeAlias

import numpy as np

from sim.codes import OUTCOME_IN_SYSTEM, TRIAGE_CORRECT

try:
    import cython  # the compiled build reads the local types it names, and the decorators
except ImportError:  # Cython is needed only to build the compiled core
    from sim.model import _directives as cython

NAN = math.nan

#: Named aliases of int and bool for the arguments of the ``add`` and ``_fill`` methods: the
#: compiled build takes their C types from ``records.pxd``, and a plain ``int`` or ``bool``
#: annotation would override them. ``Row``: a request's random numbers.
Int = int
Flag = bool
Row: TypeAlias = "array[float]"
#: An optional integer or time argument (a Python object in the compiled build).
MaybeInt: TypeAlias = "int | None"
MaybeMinutes: TypeAlias = "float | None"


@cython.freelist(64)
@cython.cclass
class Request:
    """One person's acute care need, followed from arrival to its end."""

    __slots__ = (
        "id",
        "group",
        "need",
        "channel",
        "urgent_line",
        "draws",
        "arrival_min",
        "n_calls",
        "n_redials",
        "n_switches",
        "n_abandoned",
        "n_transfers",
        "n_triages",
        "n_escalations",
        "first_desk",
        "first_answer_min",
        "wrong_door",
        "first_assigned",
        "mistriage",
        "misrouted_triage",
        "care_min",
        "care_service",
        "n_ambulance_rides",
        "n_visits",
        "ed_arrival_min",
        "outcome",
        "end_min",
        "last_dialled_112",
        "recontacted",
        "repeated",
        "n_live_processes",
        "zone",
    )

    def __init__(
        self,
        rid: int,
        group: int,
        need: int,
        channel: int,
        urgent_line: bool,
        draws: array[float],
        t: float,
    ):
        self._fill(rid, group, need, channel, urgent_line, draws, t)

    def _fill(
        self,
        rid: Int,
        group: Int,
        need: Int,
        channel: Int,
        urgent_line: Flag,
        draws: Row,
        t: float,
    ) -> None:
        self.id = rid
        self.group = group  # demand group (index in the scenario's groups)
        self.need = need  # true need (index in the scenario's needs)
        self.channel = channel  # the door tried first (sim.codes CHANNEL_*)
        self.urgent_line = urgent_line  # chose the GP post's urgent line
        self.draws = draws  # the request's random numbers (layout: sim.model.draws)
        self.arrival_min = t
        self.n_calls = 0
        self.n_redials = 0
        self.n_switches = 0
        self.n_abandoned = 0
        self.n_transfers = 0
        self.n_triages = 0
        self.n_escalations = 0
        self.first_desk = -1  # the desk that answered first (sim.codes DESK_*), -1: none
        self.first_answer_min = NAN
        self.wrong_door = False
        self.first_assigned = -1  # the need the first triage assigned, -1: never triaged
        self.mistriage = TRIAGE_CORRECT  # direction of the first triage error
        # ... of the first error to a wrong service before care
        self.misrouted_triage = TRIAGE_CORRECT
        self.care_min = NAN  # an acceptable professional reached the patient
        self.care_service = -1  # the service that gave that care (index in scenario services)
        self.n_ambulance_rides = 0
        self.n_visits = 0  # GP home visits and team visits sent
        self.ed_arrival_min = NAN
        self.outcome = OUTCOME_IN_SYSTEM
        self.end_min = NAN
        self.last_dialled_112 = False  # the last public number dialled was 112
        self.recontacted = False  # already called again after advice
        self.repeated = False  # already called again after care (a repeat contact)
        self.n_live_processes = 0  # processes of this request still running
        self.zone = -1  # demand zone (index in the scenario's geography), -1: no geography


def new_request(
    rid: Int,
    group: Int,
    need: Int,
    channel: Int,
    urgent_line: Flag,
    draws: Row,
    t: float,
) -> Request:
    """``Request(...)``, made without calling the class (a C call in the compiled build: a
    class call passes its arguments through a tuple)."""
    request: Request = Request.__new__(Request)
    request._fill(rid, group, need, channel, urgent_line, draws, t)
    return request


#: The numpy type of each stored array type code, and of each block of the current chunk:
#: 32-bit integers ('i'), bytes ('b': 8-bit integers and flags stored as 0/1), doubles ('d').
_STORED: dict[str, Any] = {"i": np.int32, "b": np.int8, "d": np.float64}
#: The block each column code is written to in the chunk ('?', a flag, is a byte).
_BLOCK_OF = {"i": "i", "b": "b", "?": "b", "d": "d"}
#: Rows of the chunk that collects rows before they are appended to the columns.
CHUNK_ROWS = 4096


class _ChunkedColumns:
    """Typed-array columns filled a chunk of rows at a time. A row is written field by
    field into a chunk of three typed blocks (32-bit integers, bytes, doubles; each field is
    one C store in the compiled build, converted exactly: an integer that does not fit its
    field is an error); every ``CHUNK_ROWS`` rows each field of the chunk is appended to its
    own column, a compact typed array, and the chunk is reused. ``_tables`` converts one
    column at a time and releases each as soon as it is converted, so a run never holds its
    stored and its converted records whole at once."""

    def __init__(self, codes: list[str]) -> None:
        """``codes``: each column's code: 'i' a 32-bit integer, 'b' an 8-bit integer, '?' a
        flag (stored as an 8-bit 0/1), 'd' a double. Each column's place in its block of
        the chunk is its rank among the columns of that block."""
        self._columns = [array("b" if code == "?" else code) for code in codes]
        self._slots: list[tuple[str, int]] = []
        counts = {"i": 0, "b": 0, "d": 0}
        for code in codes:
            block = _BLOCK_OF[code]
            self._slots.append((block, counts[block]))
            counts[block] += 1
        self._ints = np.zeros((CHUNK_ROWS, max(1, counts["i"])), dtype=np.int32)
        self._bytes = np.zeros((CHUNK_ROWS, max(1, counts["b"])), dtype=np.int8)
        self._doubles = np.zeros((CHUNK_ROWS, max(1, counts["d"])), dtype=np.float64)
        self._row = 0

    def _added(self) -> None:
        """A row was written at ``_row``: move on, appending the chunk when it is full."""
        self._row += 1
        if self._row == CHUNK_ROWS:
            self._flush()

    def _flush(self) -> None:
        rows = self._row
        if rows:
            blocks: dict[str, np.ndarray] = {
                "i": np.asarray(self._ints),
                "b": np.asarray(self._bytes),
                "d": np.asarray(self._doubles),
            }
            for column, (block, k) in zip(self._columns, self._slots, strict=True):
                part = np.ascontiguousarray(blocks[block][:rows, k])  # rows > 0: castable
                column.frombytes(part.data.cast("B"))
            self._row = 0

    def _tables(
        self, spec: tuple[tuple[str, str, Any], ...], order: np.ndarray | None = None
    ) -> dict[str, np.ndarray]:
        """The columns as numpy arrays of the dtypes ``spec`` names (rows in ``order`` if
        given). Each stored column is released as soon as it is converted, so the run never
        holds both whole."""
        self._flush()
        out: dict[str, np.ndarray] = {}
        for i, (name, _, dtype) in enumerate(spec):
            column = self._columns[i]
            stored = np.frombuffer(column, dtype=_STORED[column.typecode])
            if order is None:  # a view of the stored column: copied before it is released
                out[name] = stored.astype(dtype, copy=True)
            else:  # already a new array
                out[name] = stored[order].astype(dtype, copy=False)
            del stored
            self._columns[i] = array(column.typecode)
        return out


class CallLog(_ChunkedColumns):
    """Columns of every call (appended as calls end), kept as compact typed arrays."""

    #: (column, array type code, dtype of the table)
    COLUMNS = (
        ("request", "i", np.int32),
        ("desk", "b", np.int32),
        ("kind", "b", np.int32),
        ("urgent", "?", bool),
        ("placed_min", "d", float),
        ("answered_min", "d", float),
        ("ended_min", "d", float),
        ("abandoned", "?", bool),
    )

    def __init__(self) -> None:
        super().__init__([code for _, code, _ in self.COLUMNS])

    def add(
        self,
        request: Int,
        desk: Int,
        kind: Int,
        urgent: Flag,
        placed: float,
        answered: float,
        ended: float,
        abandoned: Flag = False,
    ) -> None:
        """Log one call; ``answered`` is nan when nobody answered (hung up, or desk closed)."""
        i: cython.Py_ssize_t = self._row
        self._ints[i, 0] = request
        self._bytes[i, 0] = desk
        self._bytes[i, 1] = kind
        self._bytes[i, 2] = urgent
        self._bytes[i, 3] = abandoned
        self._doubles[i, 0] = placed
        self._doubles[i, 1] = answered
        self._doubles[i, 2] = ended
        self._added()

    def table(self) -> dict[str, np.ndarray]:
        """The calls as numpy columns (the log is emptied)."""
        return self._tables(self.COLUMNS)


class RideLog(_ChunkedColumns):
    """Columns of every ambulance ride, kept as compact typed arrays."""

    #: (column, code, dtype of the table); with a geography also each ride's post and
    #: demand zone (indices in the scenario's geography)
    COLUMNS = (
        ("request", "i", np.int32),
        ("priority", "b", np.int32),
        ("call_taken_min", "d", float),
        ("requested_min", "d", float),
        ("assigned_min", "d", float),
        ("on_scene_min", "d", float),
        ("released_min", "d", float),
        ("conveyed", "?", bool),
    )
    GEOGRAPHY_COLUMNS = (("post", "i", np.int32), ("zone", "i", np.int32))

    def __init__(self, geography: bool = False) -> None:
        self.geography = geography
        self.columns = self.COLUMNS + (self.GEOGRAPHY_COLUMNS if geography else ())
        super().__init__([code for _, code, _ in self.columns])

    def add(
        self,
        request: Int,
        priority: Int,
        call_taken: float,
        requested: float,
        assigned: float,
        on_scene: float,
        released: float,
        conveyed: Flag,
        post: Int = -1,
        zone: Int = -1,
    ) -> None:
        """Log one ride (when its vehicle is on scene; ``released``: when it is free again)."""
        i: cython.Py_ssize_t = self._row
        self._ints[i, 0] = request
        self._bytes[i, 0] = priority
        self._doubles[i, 0] = call_taken
        self._doubles[i, 1] = requested
        self._doubles[i, 2] = assigned
        self._doubles[i, 3] = on_scene
        self._doubles[i, 4] = released
        self._bytes[i, 1] = conveyed
        if self.geography:
            self._ints[i, 1] = post
            self._ints[i, 2] = zone
        self._added()

    def table(self) -> dict[str, np.ndarray]:
        """The rides as numpy columns (the log is emptied)."""
        return self._tables(self.columns)


REQUEST_COLUMNS: tuple[tuple[str, str, type], ...] = (
    # (column, attribute, dtype)
    ("id", "id", np.int32),
    ("group", "group", np.int32),
    ("need", "need", np.int32),
    ("channel", "channel", np.int32),
    ("urgent_line", "urgent_line", bool),
    ("arrival_min", "arrival_min", float),
    ("n_calls", "n_calls", np.int32),
    ("n_redials", "n_redials", np.int32),
    ("n_switches", "n_switches", np.int32),
    ("n_abandoned", "n_abandoned", np.int32),
    ("n_transfers", "n_transfers", np.int32),
    ("n_triages", "n_triages", np.int32),
    ("n_escalations", "n_escalations", np.int32),
    ("first_desk", "first_desk", np.int32),
    ("first_answer_min", "first_answer_min", float),
    ("wrong_door", "wrong_door", bool),
    ("first_assigned", "first_assigned", np.int32),
    ("mistriage", "mistriage", np.int32),
    ("misrouted_triage", "misrouted_triage", np.int32),
    ("care_min", "care_min", float),
    ("care_service", "care_service", np.int32),
    ("n_ambulance_rides", "n_ambulance_rides", np.int32),
    ("n_visits", "n_visits", np.int32),
    ("ed_arrival_min", "ed_arrival_min", float),
    ("outcome", "outcome", np.int32),
    ("end_min", "end_min", float),
)


#: How a column is stored during the run: codes and counts as 32-bit integers (a run is
#: capped far below 2**31 requests), flags as bytes, times as doubles; ``table`` widens
#: them to the columns' own dtypes.
_ARRAY_CODE: dict[Any, str] = {np.int32: "i", bool: "?", float: "d"}


class RequestColumns(_ChunkedColumns):
    """The request records as compact columns: a request is written here once its last
    process has ended, and its Python object can then be dropped (the run keeps ~200 bytes
    per finished request instead of the whole object with its random numbers)."""

    def __init__(self) -> None:
        super().__init__([_ARRAY_CODE[dtype] for _, _, dtype in REQUEST_COLUMNS])

    def add(self, request: Request) -> None:
        """Write a finished request's record (the object can be dropped afterwards)."""
        r = request
        i: cython.Py_ssize_t = self._row
        ints = self._ints
        doubles = self._doubles
        # the attributes of REQUEST_COLUMNS, each at its rank in its block (a test checks
        # that every attribute lands in its own column)
        ints[i, 0] = r.id
        ints[i, 1] = r.group
        ints[i, 2] = r.need
        ints[i, 3] = r.channel
        self._bytes[i, 0] = r.urgent_line
        doubles[i, 0] = r.arrival_min
        ints[i, 4] = r.n_calls
        ints[i, 5] = r.n_redials
        ints[i, 6] = r.n_switches
        ints[i, 7] = r.n_abandoned
        ints[i, 8] = r.n_transfers
        ints[i, 9] = r.n_triages
        ints[i, 10] = r.n_escalations
        ints[i, 11] = r.first_desk
        doubles[i, 1] = r.first_answer_min
        self._bytes[i, 1] = r.wrong_door
        ints[i, 12] = r.first_assigned
        ints[i, 13] = r.mistriage
        ints[i, 14] = r.misrouted_triage
        doubles[i, 2] = r.care_min
        ints[i, 15] = r.care_service
        ints[i, 16] = r.n_ambulance_rides
        ints[i, 17] = r.n_visits
        doubles[i, 3] = r.ed_arrival_min
        ints[i, 18] = r.outcome
        doubles[i, 4] = r.end_min
        self._added()

    def table(self) -> dict[str, np.ndarray]:
        """The requests as numpy columns, in request-number order. Each stored column is
        released as soon as it is converted, so the run never holds both whole."""
        self._flush()
        ids = np.frombuffer(self._columns[0], dtype=_STORED[self._columns[0].typecode])
        order = np.argsort(ids, kind="stable")
        del ids
        return self._tables(REQUEST_COLUMNS, order)


@dataclass
class MonitorTable:
    """One staffed pool over the run: busy-, on-duty- and waiting-minutes in each simulated
    hour (exact time integrals of the counts), and its Little's-law totals."""

    name: str
    busy_min: np.ndarray
    present_min: np.ndarray
    waiting_min: np.ndarray
    n_claims: int = 0
    total_wait: float = 0.0  # minutes waited by all claims, those still waiting counted to the end


@dataclass
class ReplicationRecords:
    """Everything one replication recorded: requests, calls, rides and pool areas."""

    requests: dict[str, np.ndarray]
    calls: dict[str, np.ndarray]
    rides: dict[str, np.ndarray]
    monitors: dict[str, MonitorTable] = field(default_factory=dict)
    n_events: int = 0
    # move-up with a geography: what stand-ins add to (+1) or take from (-1) a post's
    # roster, from and to which minute; empty without move-up
    moves: dict[str, np.ndarray] = field(default_factory=dict)
    # observed pools (the staffing search): every claim's columns (joined_min, priority,
    # in_system, decided_min, state); empty unless asked for
    claims: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
