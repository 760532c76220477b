"""Fixed-schema records of one replication.

One record per request (every step's time, the doors it reached, the dispositions it got,
who served it and how it ended), one per call, and one per ambulance ride. Times are minutes
since clock 0; ``nan`` means "did not happen". At the end of a run the records become numpy
columns (``ReplicationRecords``), which the measures read. Category columns hold the
integer codes of ``sim.codes``.
"""

from __future__ import annotations

import math
import struct
from array import array
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sim.codes import OUTCOME_IN_SYSTEM, TRIAGE_CORRECT

NAN = math.nan


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


#: The numpy type of each stored array type code.
_STORED: dict[str, Any] = {"i": np.int32, "b": np.int8, "d": np.float64}
#: The field of a packed row for each column code ('?': a flag, packed and stored as 0/1).
_PACKED_FIELD = {"i": "<i4", "b": "i1", "?": "i1", "d": "<f8"}


class _ChunkedColumns:
    """Typed-array columns filled a chunk of rows at a time. A row is packed into bytes
    when it is added (one call of a compiled ``struct``, which converts each value exactly:
    integers as 32- or 8-bit integers, flags as 0/1, times as doubles); every ``CHUNK``
    rows numpy reads the packed rows as a table of fixed-width fields and each field is
    appended to its column."""

    CHUNK = 4096

    def __init__(self, codes: list[str]) -> None:
        """``codes``: each column's code: 'i' a 32-bit integer, 'b' an 8-bit integer, '?' a
        flag (stored as an 8-bit 0/1), 'd' a double."""
        self._columns = [array("b" if code == "?" else code) for code in codes]
        self._pack = struct.Struct("<" + "".join(codes)).pack
        self._rows = np.dtype([(f"c{j}", _PACKED_FIELD[code]) for j, code in enumerate(codes)])
        self._pending: list[bytes] = []

    def _append(self, row: bytes) -> None:
        self._pending.append(row)
        if len(self._pending) >= self.CHUNK:
            self._flush()

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

    def _flush(self) -> None:
        if self._pending:
            rows = np.frombuffer(b"".join(self._pending), dtype=self._rows)
            self._pending = []
            for j, column in enumerate(self._columns):
                stored = _STORED[column.typecode]
                column.frombytes(rows[f"c{j}"].astype(stored).tobytes())


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
        request: int,
        desk: int,
        kind: int,
        urgent: bool,
        placed: float,
        answered: float,
        ended: float,
        abandoned: bool = False,
    ) -> None:
        """Log one call; ``answered`` is nan when nobody answered (hung up, or desk closed)."""
        self._append(self._pack(request, desk, kind, urgent, placed, answered, ended, abandoned))

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
        request: int,
        priority: int,
        call_taken: float,
        requested: float,
        assigned: float,
        on_scene: float,
        released: float,
        conveyed: bool,
        post: int = -1,
        zone: int = -1,
    ) -> None:
        """Log one ride (when its vehicle is on scene; ``released``: when it is free again)."""
        if self.geography:
            row = self._pack(
                request, priority, call_taken, requested, assigned, on_scene, released,
                conveyed, post, zone,
            )  # fmt: skip
        else:
            row = self._pack(
                request, priority, call_taken, requested, assigned, on_scene, released, conveyed
            )
        self._append(row)

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
        # the attributes of REQUEST_COLUMNS, in its order (a test checks that they agree)
        self._append(
            self._pack(
                r.id,
                r.group,
                r.need,
                r.channel,
                r.urgent_line,
                r.arrival_min,
                r.n_calls,
                r.n_redials,
                r.n_switches,
                r.n_abandoned,
                r.n_transfers,
                r.n_triages,
                r.n_escalations,
                r.first_desk,
                r.first_answer_min,
                r.wrong_door,
                r.first_assigned,
                r.mistriage,
                r.misrouted_triage,
                r.care_min,
                r.care_service,
                r.n_ambulance_rides,
                r.n_visits,
                r.ed_arrival_min,
                r.outcome,
                r.end_min,
            )  # fmt: skip
        )

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
