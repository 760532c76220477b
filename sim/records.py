"""Fixed-schema records of one replication.

One record per request (every step's time, the doors it reached, the dispositions it got,
who served it and how it ended), one per call, and one per ambulance ride. Times are minutes
since clock 0; ``nan`` means "did not happen". At the end of a run the records become numpy
columns (``RequestTable`` etc.), which the KPIs read.
"""

from __future__ import annotations

import math
import operator
from array import array
from dataclasses import dataclass, field
from typing import Any

import numpy as np

NAN = math.nan

# request outcomes
IN_SYSTEM = 0
CARE_GIVEN = 1  # an acceptable service reached the patient
ADVISED_BELOW_NEED = 2  # got telephone advice although it needed more, and did not call again
ABANDONED = 3  # gave up after hanging up in a queue (or after too many calls)
REFERRAL_GAVE_UP = 4  # told to phone the GP post and did not
DAYTIME_PRACTICE = 5  # the GP post closed before it was served: handed to daytime care
WALKED_IN_ED = 6  # went straight to the emergency department
OUTCOMES = (
    "in_system",
    "care_given",
    "advised_below_need",
    "abandoned",
    "referral_gave_up",
    "daytime_practice",
    "walked_in_ed",
)

DESKS = ("mka", "gp_post", "coordination")
DESK_INDEX = {d: i for i, d in enumerate(DESKS)}

# call kinds
CALL_FIRST, CALL_REDIAL, CALL_SWITCH, CALL_REFERRAL, CALL_RECONTACT = 0, 1, 2, 3, 4
CALL_HANDOVER, CALL_WARM_TRANSFER, CALL_PROFESSIONAL = 5, 6, 7
CALL_KINDS = (
    "first",
    "redial",
    "switch",
    "referral",
    "recontact",
    "handover",
    "warm_transfer",
    "professional",
)
PUBLIC_CALL_KINDS = (CALL_FIRST, CALL_REDIAL, CALL_SWITCH, CALL_REFERRAL, CALL_RECONTACT)

# mis-triage direction
TRIAGE_CORRECT, TRIAGE_OVER, TRIAGE_UNDER, TRIAGE_OTHER = 0, 1, 2, 3


class Request:
    """One person's acute care need, followed from arrival to its end."""

    __slots__ = (
        "id",
        "group",
        "need",
        "channel",
        "urgent_line",
        "u",
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
        "ed_arrival_min",
        "outcome",
        "end_min",
        "last_dialled_112",
        "recontacted",
        "live",
    )

    def __init__(self, rid: int, group: int, need: int, channel: int, urgent_line: bool, u, t: float):
        self.id = rid
        self.group = group
        self.need = need
        self.channel = channel
        self.urgent_line = urgent_line
        self.u = u
        self.arrival_min = t
        self.n_calls = 0
        self.n_redials = 0
        self.n_switches = 0
        self.n_abandoned = 0
        self.n_transfers = 0
        self.n_triages = 0
        self.n_escalations = 0
        self.first_desk = -1
        self.first_answer_min = NAN
        self.wrong_door = False
        self.first_assigned = -1
        self.mistriage = TRIAGE_CORRECT
        self.misrouted_triage = TRIAGE_CORRECT
        self.care_min = NAN
        self.care_service = -1
        self.n_ambulance_rides = 0
        self.ed_arrival_min = NAN
        self.outcome = IN_SYSTEM
        self.end_min = NAN
        self.last_dialled_112 = False
        self.recontacted = False
        self.live = 0  # processes of this request still running


class CallLog:
    """Columns of every call (appended as calls end), kept as compact typed arrays."""

    __slots__ = ("request", "desk", "kind", "urgent", "placed", "answered", "ended", "abandoned")

    def __init__(self) -> None:
        self.request = array("q")
        self.desk = array("b")
        self.kind = array("b")
        self.urgent = array("b")
        self.placed = array("d")
        self.answered = array("d")
        self.ended = array("d")
        self.abandoned = array("b")

    def add(
        self, request: int, desk: int, kind: int, urgent: bool, placed: float, answered: float, ended: float, abandoned: bool = False
    ) -> None:
        """One call; ``answered`` is nan when nobody answered (hung up, or the desk closed)."""
        self.request.append(request)
        self.desk.append(desk)
        self.kind.append(kind)
        self.urgent.append(urgent)
        self.placed.append(placed)
        self.answered.append(answered)
        self.ended.append(ended)
        self.abandoned.append(abandoned)

    def table(self) -> dict[str, np.ndarray]:
        return {
            "request": np.array(self.request, dtype=np.int64),
            "desk": np.array(self.desk, dtype=np.int64),
            "kind": np.array(self.kind, dtype=np.int64),
            "urgent": np.array(self.urgent, dtype=bool),
            "placed_min": np.array(self.placed, dtype=float),
            "answered_min": np.array(self.answered, dtype=float),
            "ended_min": np.array(self.ended, dtype=float),
            "abandoned": np.array(self.abandoned, dtype=bool),
        }


class RideLog:
    """Columns of every ambulance ride, kept as compact typed arrays."""

    __slots__ = ("request", "priority", "call_taken", "requested", "assigned", "on_scene", "conveyed")

    def __init__(self) -> None:
        self.request = array("q")
        self.priority = array("b")
        self.call_taken = array("d")
        self.requested = array("d")
        self.assigned = array("d")
        self.on_scene = array("d")
        self.conveyed = array("b")

    def add(self, request: int, priority: int, call_taken: float, requested: float, assigned: float, on_scene: float, conveyed: bool) -> None:
        self.request.append(request)
        self.priority.append(priority)
        self.call_taken.append(call_taken)
        self.requested.append(requested)
        self.assigned.append(assigned)
        self.on_scene.append(on_scene)
        self.conveyed.append(conveyed)

    def table(self) -> dict[str, np.ndarray]:
        return {
            "request": np.array(self.request, dtype=np.int64),
            "priority": np.array(self.priority, dtype=np.int64),
            "call_taken_min": np.array(self.call_taken, dtype=float),
            "requested_min": np.array(self.requested, dtype=float),
            "assigned_min": np.array(self.assigned, dtype=float),
            "on_scene_min": np.array(self.on_scene, dtype=float),
            "conveyed": np.array(self.conveyed, dtype=bool),
        }


REQUEST_COLUMNS: tuple[tuple[str, str, type], ...] = (
    # (column, attribute, dtype)
    ("id", "id", np.int64),
    ("group", "group", np.int64),
    ("need", "need", np.int64),
    ("channel", "channel", np.int64),
    ("urgent_line", "urgent_line", bool),
    ("arrival_min", "arrival_min", float),
    ("n_calls", "n_calls", np.int64),
    ("n_redials", "n_redials", np.int64),
    ("n_switches", "n_switches", np.int64),
    ("n_abandoned", "n_abandoned", np.int64),
    ("n_transfers", "n_transfers", np.int64),
    ("n_triages", "n_triages", np.int64),
    ("n_escalations", "n_escalations", np.int64),
    ("first_desk", "first_desk", np.int64),
    ("first_answer_min", "first_answer_min", float),
    ("wrong_door", "wrong_door", bool),
    ("first_assigned", "first_assigned", np.int64),
    ("mistriage", "mistriage", np.int64),
    ("misrouted_triage", "misrouted_triage", np.int64),
    ("care_min", "care_min", float),
    ("care_service", "care_service", np.int64),
    ("n_ambulance_rides", "n_ambulance_rides", np.int64),
    ("ed_arrival_min", "ed_arrival_min", float),
    ("outcome", "outcome", np.int64),
    ("end_min", "end_min", float),
)


_ARRAY_CODE = {np.int64: "q", bool: "b", float: "d"}


class RequestColumns:
    """The request records as compact columns: a request is written here once its last
    process has ended, and its Python object can then be dropped (the run keeps ~200 bytes
    per finished request instead of the whole object with its random numbers)."""

    CHUNK = 4096

    def __init__(self) -> None:
        self._getter = operator.attrgetter(*(attr for _, attr, _ in REQUEST_COLUMNS))
        self._columns = [array(_ARRAY_CODE[dtype]) for _, _, dtype in REQUEST_COLUMNS]
        self._pending: list[tuple[Any, ...]] = []

    def add(self, req: Request) -> None:
        # one tuple per request now; moved into the typed columns a chunk at a time
        self._pending.append(self._getter(req))
        if len(self._pending) >= self.CHUNK:
            self._flush()

    def _flush(self) -> None:
        if self._pending:
            for column, values in zip(self._columns, zip(*self._pending, strict=True), strict=True):
                column.extend(values)
            self._pending = []

    def table(self) -> dict[str, np.ndarray]:
        self._flush()
        out = {
            name: np.array(column, dtype=dtype)
            for (name, _, dtype), column in zip(REQUEST_COLUMNS, self._columns, strict=True)
        }
        order = np.argsort(out["id"], kind="stable")
        return {name: values[order] for name, values in out.items()}


@dataclass
class MonitorTable:
    """Step functions of busy and on-duty counts of one pool."""

    name: str
    t: np.ndarray
    busy: np.ndarray
    present: np.ndarray
    waiting: np.ndarray
    n_claims: int = 0
    total_wait: float = 0.0  # minutes waited by all claims, those still waiting counted to the end

    def areas_by_hour(self, n_hours: int) -> tuple[np.ndarray, np.ndarray]:
        """Busy-minutes and on-duty-minutes in each simulated hour."""
        edges = np.arange(n_hours + 1, dtype=float) * 60.0
        return _integrate(self.t, self.busy, edges), _integrate(self.t, self.present, edges)


def _integrate(t: np.ndarray, v: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Integral of the right-continuous step function (t, v) over consecutive edges."""
    v = v.astype(float)
    seg = np.diff(t) * v[:-1]
    cum = np.concatenate(([0.0], np.cumsum(seg)))
    idx = np.searchsorted(t, edges, side="right") - 1
    idx = np.clip(idx, 0, len(t) - 1)
    at_edges = cum[idx] + v[idx] * (edges - t[idx])
    at_edges = np.where(edges < t[0], 0.0, at_edges)
    return np.diff(at_edges)


@dataclass
class ReplicationRecords:
    requests: dict[str, np.ndarray]
    calls: dict[str, np.ndarray]
    rides: dict[str, np.ndarray]
    monitors: dict[str, MonitorTable] = field(default_factory=dict)
    n_events: int = 0
