"""The shared state of one replication: clock, staffed pools, desks, tables and logs.

``World`` holds what every process of a replication reads or writes: the SimPy
environment, the staffed pools of the active organisational form, each desk's compiled
triage tables, per-need lookup tables, the duration samplers and the record logs. It is
built from an immutable scenario; the scenario itself never holds runtime objects.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from sim.codes import AMBULANCE_A2, AMBULANCE_PRIORITY, DESK_INDEX
from sim.model.calendar import Timeline, staffing_per_hour_of_week
from sim.model.draws import (
    CALL_STRIDE,
    FIRST_CALL_POS,
    Overflow,
    Sampler,
    call_position,
    duration_sampler,
    fresh_draws,
)
from sim.model.engine import Body, Engine
from sim.model.geography import Map
from sim.model.pools import ObservedPool, StaffedPool
from sim.model.records import CallLog, Flag, Int, Request, RequestColumns, RideLog
from sim.model.streams import Streams
from sim.scenario.schema import CallBack, Scenario, Triage

try:  # noqa: SIM105  (Cython reads this import at compile time; a context manager hides it)
    import cython  # noqa: F401  (the compiled build reads the local types it names)
except ImportError:  # Cython is needed only to build the compiled core
    pass

#: A process body: a generator that yields minutes to wait or a claim to wait for.
Process = Body
#: Services of a plan, and a plan split in the ones a desk sends and the ones it passes on
#: (named aliases: the compiled build takes the C types of ``split`` from ``world.pxd``).
Services = tuple[str, ...]
Split = tuple[Services, Services]


class CallBackRules:
    """A desk's call-back mode, compiled: samplers and the urgencies passed on at once."""

    def __init__(self, spec: CallBack):
        self.intake_time = duration_sampler(spec.intake_time)
        self.retry_delay = duration_sampler(spec.retry_delay)
        self.at_once = frozenset(spec.at_once)
        self.fail_share = spec.attempt_fail_share
        self.attempt_min = float(spec.attempt_min)
        self.max_attempts = spec.max_attempts


#: The layout of a request's row (``sim.model.draws``), as C integers in the compiled build.
_FIRST_CALL_POS = FIRST_CALL_POS
_CALL_STRIDE = CALL_STRIDE


class Desk:
    """A front desk during a run: its staffed pool and its triage settings, compiled."""

    def __init__(
        self,
        name: str,
        pool: StaffedPool,
        triage: Triage,
        need_names: Sequence[str],
        services: Sequence[str],
    ):
        self.name = name
        self.index = DESK_INDEX[name]
        self.pool = pool
        self.dispatches = frozenset(triage.dispatches)
        n = len(need_names)
        cdf = np.zeros((n, n))
        for i, true_need in enumerate(need_names):
            row = triage.confusion.get(true_need, {true_need: 1.0})
            cdf[i] = np.cumsum([row.get(a, 0.0) for a in need_names])
            cdf[i, -1] = 1.0
        # per true need, the cumulative shares of the needs a triagist assigns
        self._assign_cdf = [list(r) for r in cdf]
        # the MKA's rows for 112 callers who could present as urgent but did not (see
        # World._presentation_tables); empty elsewhere
        self.eligible_cdf: dict[int, list[float]] = {}
        #: per disposition's service, the sampler of the call's length
        self.handle_time = {s: duration_sampler(triage.handle_duration(s)) for s in services}
        self._splits: dict[tuple[str, ...], tuple[tuple[str, ...], tuple[str, ...]]] = {}
        self.patience = duration_sampler(triage.patience)
        self.redial_delay = duration_sampler(triage.on_abandon.redial_delay)
        self.warm_time = duration_sampler(triage.warm_transfer_time)
        self.redial_share = triage.on_abandon.redial_same_share
        self.switch_share = triage.on_abandon.switch_other_share
        # call-back mode: the intake staff's pool (set by the world) and the compiled rules
        self.intake_pool: StaffedPool | None = None
        self.callback: CallBackRules | None = (
            CallBackRules(triage.callback) if triage.callback is not None else None
        )

    def assign(self, true_need: Int, u: float, eligible: Flag = False) -> int:
        """The need a triagist assigns to a caller with ``true_need`` (confusion matrix);
        ``eligible``: a 112 caller who could have presented as urgent and did not."""
        row = self.eligible_cdf.get(true_need) if eligible else None
        return _pick(row if row is not None else self._assign_cdf[true_need], u)

    def split(self, plan: Services) -> Split:
        """The services of a plan this desk sends itself, and those it must pass on."""
        out = self._splits.get(plan)
        if out is None:
            own: list[str] = []
            passed: list[str] = []
            for service in plan:  # a loop, not generators: the compiled method has no closures
                (own if service in self.dispatches else passed).append(service)
            out = (tuple(own), tuple(passed))
            self._splits[plan] = out
        return out


def _cdf(weights: Sequence[float]) -> list[float]:
    """Cumulative shares, the last one exactly 1 (so that every u in [0, 1) falls inside)."""
    out: list[float] = np.cumsum(weights).tolist()
    out[-1] = 1.0
    return out


def _pick(cdf: list, u: float) -> int:  # a list of floats (a plain ``list`` for the C signature)
    """The index whose cumulative share first exceeds u (``bisect_right``, capped at the
    last index), written out so that the compiled build compares C doubles."""
    n: cython.Py_ssize_t = len(cdf)
    lo: cython.Py_ssize_t = 0
    hi: cython.Py_ssize_t = n
    while lo < hi:
        mid: cython.Py_ssize_t = (lo + hi) // 2
        share: float = cdf[mid]
        if u < share:
            hi = mid
        else:
            lo = mid + 1
    return min(lo, n - 1)


class World:
    """Everything one replication's processes share: the clock, pools, tables and logs."""

    def __init__(self, sc: Scenario, replication: int, base_seed: int, observe: Sequence[str] = ()):
        self.scenario = sc
        # pools whose every claim is kept (the staffing search); results do not change
        self.observe = frozenset(observe)
        self.env = self.engine = Engine()
        self.timeline = Timeline.from_scenario(sc)
        self.streams = Streams(base_seed, replication)
        self.overflow = Overflow(self.streams.get("overflow"))
        self.form = sc.organisation
        self.central = self.form == "central"
        self.colocated = self.form == "colocated"
        # forms whose two desks pass cases on warm (a shared line, no new public queue)
        self.warm_links = self.form in ("colocated", "coordination_centre")
        # the desk that answers the GP post's number, and each door's desk
        self.gp_desk = "coordination" if self.form == "coordination_centre" else "gp_post"
        self.home_desk = {"mka": "mka", "gp_post": self.gp_desk}
        self.max_calls = sc.behaviour.max_calls_per_request
        self._need_tables(sc)
        self._samplers(sc)
        self.map = Map(sc, self.timeline) if sc.geography is not None else None
        self.pools: dict[str, StaffedPool] = {}
        self.desks: dict[str, Desk] = {}
        self._build_desks(sc)
        self._presentation_tables(sc)
        self.desk_for_service = self._desk_for_service()
        self._build_service_pools(sc)
        self.requests_in_progress: dict[int, Request] = {}
        self.columns = RequestColumns()
        # one bound method for every process of every request (reading it off the object
        # made a new one each time); the cycle it makes is cut when the records are taken
        self._ended: Callable[[Request], None] | None = self._process_ended
        self.calls = CallLog()
        self.rides = RideLog(geography=self.map is not None)

    # ------------------------------------------------------------------ tables
    def _need_tables(self, sc: Scenario) -> None:
        """Per-need lookup tables, indexed by the need's number."""
        self.need_names = list(sc.needs)
        needs = [sc.needs[n] for n in self.need_names]
        self.services = sc.services
        self.service_index = {s: i for i, s in enumerate(self.services)}
        self.self_check_min = sc.demand.self_triage.check_min
        self.need_service = [n.service for n in needs]  # the right service
        # services that count as care for the need: the right one and the acceptable ones
        self.care_services = [frozenset((n.service, *n.acceptable_services)) for n in needs]
        self.need_alternatives = [tuple(n.acceptable_services) for n in needs]
        self.need_acuity = [n.acuity for n in needs]
        self.need_urgency = [n.urgency for n in needs]
        self.max_acuity = max(self.need_acuity)
        self.need_priority = [
            AMBULANCE_PRIORITY.get(n.ambulance_priority or "A2", AMBULANCE_A2) for n in needs
        ]
        self.need_home = [n.home_door for n in needs]  # the desk that owns the need
        self.need_conveyance = [n.conveyance_share for n in needs]
        self.need_ed_referral = [n.ed_referral_share for n in needs]
        self.need_recontact = [n.recontact_after_advice_share for n in needs]
        # U1 (immediate danger, GP-post scale): what is sent follows one rule in every form
        self.need_is_u1 = [n.urgency == "U1" for n in needs]
        # the services a disposition sends, where that does not depend on the U1 rule
        self.need_plan: list[tuple[str, ...] | None] = [
            None if n.urgency == "U1" else (n.service,) for n in needs
        ]
        rule = sc.behaviour.u1_dispatch
        self.u1_ambulance_only, self.u1_gp_only = rule.ambulance, rule.gp
        self.regrade_a1 = self._regrade_table(sc)

    def _regrade_table(self, sc: Scenario) -> list[float | None]:
        """Per true need, the chance that the MKA grades an ambulance it is asked for (a
        handover from another desk) as A1: its own triage row's A1 mass over its ambulance
        mass. None where that row sends no ambulance (the requested grade stands)."""
        names = self.need_names
        out: list[float | None] = []
        for true_need in names:
            row = sc.mka.triage.confusion.get(true_need, {true_need: 1.0})
            ambulance = sum(v for k, v in row.items() if sc.needs[k].service == "ambulance")
            a1 = sum(
                v
                for k, v in row.items()
                if sc.needs[k].ambulance_priority == "A1" and sc.needs[k].service == "ambulance"
            )
            out.append(a1 / ambulance if ambulance > 0 else None)
        return out

    def _samplers(self, sc: Scenario) -> None:
        """Duration samplers of the services and of the behaviour every form shares."""
        amb = sc.ambulances
        self.dispatch_delay = duration_sampler(amb.dispatch)
        self.amb_turnout = duration_sampler(amb.turnout)
        self.amb_drive = duration_sampler(amb.drive_to_scene)
        self.amb_on_scene = duration_sampler(amb.on_scene)
        self.amb_transport = duration_sampler(amb.transport)
        self.amb_handover = duration_sampler(amb.handover)
        self.amb_return = duration_sampler(amb.return_to_base)
        self.national_desk_delay = duration_sampler(sc.mka.national_desk_delay)
        self.referral_give_up = sc.mka.referral.give_up_share
        self.referral_delay = duration_sampler(sc.mka.referral.redial_delay)
        self.travel_to_post = duration_sampler(sc.gp_post.travel_to_post)
        self.consultation = duration_sampler(sc.gp_post.consultation)
        self.recontact_delay = duration_sampler(sc.behaviour.recontact_delay)
        self.escalation_delay = duration_sampler(sc.behaviour.escalation_delay)
        self.triage_decision = duration_sampler(sc.behaviour.triage_decision)
        self.room_consult_share = sc.mka.room_consult.share if self.colocated else 0.0
        repeat = sc.behaviour.repeat_contact
        self.repeat_after = {
            "advice": repeat.after_advice_share,
            "gp_consult": repeat.after_consult_share,
        }
        self.repeat_delay = duration_sampler(repeat.delay)
        self.room_consult_time = duration_sampler(sc.mka.room_consult.duration)
        # per visiting service: (travel one way, time with the patient)
        self.visit_times: dict[str, tuple[Sampler, Sampler]] = {
            "gp_visit": (
                duration_sampler(sc.gp_post.visit_travel),
                duration_sampler(sc.gp_post.visit_on_site),
            )
        }
        for name, team in sc.teams.items():
            self.visit_times[name] = (duration_sampler(team.travel), duration_sampler(team.on_site))
        self.alternatives_threshold = sc.coordination.alternatives_when_queue_at_least
        self.alternative_services = frozenset(sc.coordination.alternative_services)

    # ------------------------------------------------------------------ pools
    def _pool(
        self,
        name: str,
        table: str,
        staffing: dict[str, int],
        opening: Sequence[tuple[float, bool]] | None = None,
        values: np.ndarray | None = None,
    ) -> StaffedPool:
        """A staffed pool on the scenario's schedule (creating it starts its roster);
        ``table``: the staffing table's name in the file, for the special days' staffing;
        ``values``: the number on duty per simulated hour, when it is not a table's."""
        sc = self.scenario
        if values is None:
            per_how = staffing_per_hour_of_week(sc, staffing)
            special = {}
            for code, day_type in enumerate(self.timeline.day_type_names[1:], start=1):
                own = sc.calendar.day_type(day_type).staffing.get(table)
                if own:
                    special[code] = staffing_per_hour_of_week(sc, {**staffing, **own})
            values = self.timeline.per_hour(per_how, special)
        if sc.behaviour.shift_change == "handover":
            changes = self.timeline.shift_changes(values, sc.calendar.day_part_of_hour())
        else:
            changes = self.timeline.hourly_series_changes(values)
        handover = sc.behaviour.shift_change == "handover"
        kind = ObservedPool if name in self.observe else StaffedPool
        pool = kind(self.engine, name, changes, opening, handover)
        self.pools[name] = pool
        return pool

    def _build_desks(self, sc: Scenario) -> None:
        """The front desks of the form (pools are created in a fixed order: it fixes the
        order of simultaneous events)."""
        needs, services = self.need_names, self.services
        if self.central:
            pool = self._pool("coordination_agents", "coordination.agents", sc.coordination.agents)
            desk = self.desks["coordination"] = Desk(
                "coordination", pool, sc.coordination.triage, needs, services
            )
            spec = sc.coordination.triage.callback
            if spec is not None:  # the GP post's number only (112 calls skip the intake)
                table = "coordination.triage.callback.intake_staff"
                opening = self.timeline.open_changes()
                desk.intake_pool = self._pool(
                    "coordination_intake", table, spec.intake_staff, opening
                )
            return
        pool = self._pool("mka_call_takers", "mka.call_takers", sc.mka.call_takers)
        self.desks["mka"] = Desk("mka", pool, sc.mka.triage, needs, services)
        # the GP post's number: its triagists, or the coordination desk (open the same hours)
        opening = self.timeline.open_changes()
        if self.gp_desk == "coordination":
            pool = self._pool(
                "coordination_agents", "coordination.agents", sc.coordination.agents, opening
            )
            triage = sc.coordination.triage
        else:
            pool = self._pool(
                "gp_post_triagists", "gp_post.triagists", sc.gp_post.triagists, opening
            )
            triage = sc.gp_post.triage
        desk = self.desks[self.gp_desk] = Desk(self.gp_desk, pool, triage, needs, services)
        if triage.callback is not None:
            table = f"{self.gp_desk}.triage.callback.intake_staff"
            staff = triage.callback.intake_staff
            desk.intake_pool = self._pool(f"{self.gp_desk}_intake", table, staff, opening)

    def _desk_for_service(self) -> dict[str, str]:
        """Which active desk sends each service (a call whose disposition is a service the
        answering desk does not send is passed on to this desk)."""
        sender: dict[str, str] = {}
        for desk in self.desks.values():
            for service in desk.dispatches:
                sender.setdefault(service, desk.name)
        if not self.central:
            # a service both desks may give (advice) belongs to the GP-post number's desk
            gp_desk = self.desks[self.gp_desk]
            for service in gp_desk.dispatches:
                sender[service] = self.gp_desk
            for service in self.desks["mka"].dispatches:
                if service not in gp_desk.dispatches:
                    sender[service] = "mka"
        return sender

    def _presentation_tables(self, sc: Scenario) -> None:
        """Caller-driven over-triage. Of the MKA's over-triage of a GP-type need (its chance
        of sending an ambulance), the share ``behaviour.caller_driven_over_triage_share``
        comes from how the caller presents: a caller who dialled 112 presents so with that
        chance, and every desk that triages them then assigns an ambulance (drawn as the MKA
        would). The MKA's own rows keep the rest, so that today's MKA sends as many
        ambulances as its confusion matrix says."""
        share = sc.behaviour.caller_driven_over_triage_share
        needs = self.need_names
        self.presentation_share: list[float] = []
        self.presented_cdf: list[list[float] | None] = []
        adjusted: dict[int, list[float]] = {}
        for i, true_need in enumerate(needs):
            row = sc.mka.triage.confusion.get(true_need, {true_need: 1.0})
            weights = [row.get(a, 0.0) for a in needs]
            is_amb = [sc.needs[a].service == "ambulance" for a in needs]
            p = sum(w for w, amb in zip(weights, is_amb, strict=True) if amb)
            gp_type = sc.needs[true_need].home_door == "gp_post"
            if not gp_type or p <= 0.0 or share <= 0.0:
                self.presentation_share.append(0.0)
                self.presented_cdf.append(None)
                continue
            present = share * p
            self.presentation_share.append(present)
            amb_only = [w if amb else 0.0 for w, amb in zip(weights, is_amb, strict=True)]
            self.presented_cdf.append(_cdf([w / p for w in amb_only]))
            # the MKA's row for callers who could present but did not
            scale = [(1.0 - share) if amb else 1.0 for amb in is_amb]
            rest = [w * f / (1.0 - present) for w, f in zip(weights, scale, strict=True)]
            adjusted[i] = _cdf(rest)
        if "mka" in self.desks:
            self.desks["mka"].eligible_cdf = adjusted

    def presented_assign(self, true_need: Int, u: float) -> int:
        """The ambulance need assigned to a caller whose presentation drives over-triage."""
        return _pick(self.presented_cdf[true_need], u)  # type: ignore[arg-type]

    def _build_service_pools(self, sc: Scenario) -> None:
        gp_open = self.timeline.open_changes()
        # with a geography the fleet on duty is the sum of the posts' vehicles
        fleet = None if self.map is None else self.map.vehicles.sum(axis=0)
        self.ambulances = self._pool(
            "ambulances", "ambulances.on_duty", sc.ambulances.on_duty or {}, values=fleet
        )
        self.service_pools: dict[str, StaffedPool] = {
            "ambulance": self.ambulances,
            "gp_consult": self._pool(
                "gp_consult_gps", "gp_post.consult_gps", sc.gp_post.consult_gps, gp_open
            ),
            "gp_visit": self._pool(
                "gp_visit_cars", "gp_post.visit_cars", sc.gp_post.visit_cars, gp_open
            ),
        }
        for name, team in sc.teams.items():
            self.service_pools[name] = self._pool(f"team_{name}", f"teams.{name}.staff", team.staff)

    # ------------------------------------------------------------------ processes
    def spawn(self, request: Request, body: Process) -> None:
        """Start a process that belongs to a request (it runs until its first wait at once);
        when a request's last process ends, its record is written to the columns and the
        object is let go."""
        request.n_live_processes += 1
        self.engine.start(body, self._ended, request)

    def spawn_at(self, request: Request, body: Process, delay: float) -> None:
        """Start a process of ``request`` ``delay`` minutes from now."""
        request.n_live_processes += 1
        self.engine.start_at(body, delay, self._ended, request)

    def _process_ended(self, request: Request) -> None:
        request.n_live_processes -= 1
        if request.n_live_processes == 0:
            self.columns.add(request)
            del self.requests_in_progress[request.id]

    def call_position(self, request: Request, call_no: Int, slot: Int) -> int:
        """Position in ``request``'s row of a number of its call ``call_no`` (counted from
        0): ``sim.model.draws.call_position``, with the row's usual case (the position is
        already drawn) answered here without a call."""
        pos = _FIRST_CALL_POS + call_no * _CALL_STRIDE + slot
        if pos < len(request.draws):
            return pos
        return call_position(request.draws, call_no, slot, self.overflow)

    def fresh_draws(self, length: int) -> list[float]:
        """More random numbers in the row layout, from the overflow stream."""
        return fresh_draws(self.overflow, length)
