"""Exact analytic queueing results used to validate the simulator.

Every function here is a closed form or an exact numerical solution of a Markov chain, so the
simulator's waiting times, abandonment shares and utilisations can be compared with numbers
that carry no sampling error. Rates are per unit of time and times are in that same unit; the
project uses minutes throughout, but any consistent unit works.

Contents
--------
* ``erlang_b``: blocking probability of the M/M/c/c loss system, computed with the standard
  recursion ``B(0) = 1``, ``B(k) = a B(k-1) / (k + a B(k-1))``, which never forms factorials or
  large powers and is stable for any number of servers.
* ``erlang_c``: probability of waiting in M/M/c, obtained from Erlang B as
  ``C = c B / (c - a (1 - B))``.
* ``MMc``: the M/M/c FCFS queue (mean wait, queue length, number in system and the waiting-time
  tail ``P(Wq > t) = C exp(-(c mu - lambda) t)``).
* ``ErlangA``: the M/M/c+M queue (exponential patience, FCFS, no retrials), solved exactly from
  the birth-death chain of the number in system, truncated where the neglected tail mass is
  provably below 1e-15. The waits of served and of abandoning customers follow from a
  tagged-customer argument (see the class docstring).
* ``mmc_priority_mean_waits``: mean queue waits per class in a non-preemptive priority M/M/c
  queue whose classes share one exponential service rate.
* ``pooled_vs_separate``: mean waits of separate M/M/c_i queues against one pooled queue.

References
----------
* A. K. Erlang (1917), "Solution of some problems in the theory of probabilities of
  significance in automatic telephone exchanges", Elektroteknikeren 13.
* D. Gross, J. F. Shortle, J. M. Thompson and C. M. Harris, "Fundamentals of Queueing
  Theory", 4th ed., Wiley (2008): M/M/c, Erlang B and C, Little's law, non-preemptive
  priorities.
* O. Garnett, A. Mandelbaum and M. Reiman (2002), "Designing a call center with impatient
  customers", Manufacturing & Service Operations Management 4(3), 208-227: the Erlang-A model.
* A. Cobham (1954), "Priority assignment in waiting line problems", Journal of the Operations
  Research Society of America 2(1), 70-76; O. Kella and U. Yechiali (1985), "Waiting times in
  the non-preemptive priority M/M/c queue", Stochastic Models 1(2), 257-262.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from numbers import Integral, Real

import numpy as np

__all__ = [
    "ErlangA",
    "MMc",
    "erlang_b",
    "erlang_c",
    "mmc_priority_mean_waits",
    "pooled_vs_separate",
]

#: Relative mass of the birth-death tail that ErlangA may neglect.
TAIL_TOLERANCE = 1e-15
#: States added per step while ErlangA extends the truncated chain.
_CHUNK = 1024


# --------------------------------------------------------------------------- input checks


def _check_servers(servers: object, name: str = "servers") -> int:
    if isinstance(servers, bool) or not isinstance(servers, Integral):
        raise ValueError(f"{name} must be an integer, got {servers!r}")
    if servers <= 0:
        raise ValueError(f"{name} must be positive, got {servers}")
    return int(servers)


def _check_rate(value: object, name: str, *, positive: bool) -> float:
    if isinstance(value, bool) or not isinstance(value, Real):
        raise ValueError(f"{name} must be a real number, got {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{name} must be finite, got {number}")
    if positive and number <= 0.0:
        raise ValueError(f"{name} must be positive, got {number}")
    if number < 0.0:
        raise ValueError(f"{name} must not be negative, got {number}")
    return number


def _check_stable(offered_load: float, servers: int) -> None:
    if offered_load >= servers:
        raise ValueError(
            f"unstable system: offered load {offered_load:g} Erlang must be below the "
            f"number of servers {servers} for a steady state to exist"
        )


# --------------------------------------------------------------------------- Erlang B and C


def erlang_b(servers: int, offered_load: float) -> float:
    """Blocking probability of M/M/c/c with ``servers`` = c and offered load a = lambda/mu.

    Uses the recursion B(k) = a B(k-1) / (k + a B(k-1)) from B(0) = 1; every step stays in
    [0, 1], so there is no overflow for large c or a.
    """
    c = _check_servers(servers)
    a = _check_rate(offered_load, "offered_load", positive=False)
    blocking = 1.0
    for k in range(1, c + 1):
        blocking = a * blocking / (k + a * blocking)
    return blocking


def erlang_c(servers: int, offered_load: float) -> float:
    """Probability that an arrival has to wait in M/M/c (Erlang C); needs a < c.

    Computed from Erlang B: C = c B / (c - a (1 - B)).
    """
    c = _check_servers(servers)
    a = _check_rate(offered_load, "offered_load", positive=False)
    _check_stable(a, c)
    blocking = erlang_b(c, a)
    return c * blocking / (c - a * (1.0 - blocking))


# --------------------------------------------------------------------------- M/M/c


@dataclass(frozen=True)
class MMc:
    """The M/M/c FCFS queue with an infinite waiting room; requires lambda < c mu.

    ``service_rate`` is the rate of one server. Waits are times in queue (before service).
    """

    arrival_rate: float
    service_rate: float
    servers: int

    def __post_init__(self) -> None:
        _check_rate(self.arrival_rate, "arrival_rate", positive=False)
        _check_rate(self.service_rate, "service_rate", positive=True)
        _check_servers(self.servers)
        _check_stable(self.offered_load, self.servers)

    @property
    def offered_load(self) -> float:
        """a = lambda / mu, in Erlang."""
        return self.arrival_rate / self.service_rate

    @property
    def utilisation(self) -> float:
        """rho = a / c, the long-run fraction of time a server is busy."""
        return self.offered_load / self.servers

    @property
    def p_wait(self) -> float:
        """Erlang C: probability that an arrival waits (PASTA: P(N >= c))."""
        return erlang_c(self.servers, self.offered_load)

    @property
    def _drain_rate(self) -> float:
        return self.servers * self.service_rate - self.arrival_rate

    @property
    def mean_wait(self) -> float:
        """Wq = C / (c mu - lambda)."""
        return self.p_wait / self._drain_rate

    @property
    def mean_queue_length(self) -> float:
        """Lq = lambda Wq (Little)."""
        return self.arrival_rate * self.mean_wait

    @property
    def mean_in_system(self) -> float:
        """L = Lq + a (waiting plus in service)."""
        return self.mean_queue_length + self.offered_load

    def wait_exceeds(self, t: float) -> float:
        """P(Wq > t) = C exp(-(c mu - lambda) t) for t >= 0."""
        t = _check_rate(t, "t", positive=False)
        return self.p_wait * math.exp(-self._drain_rate * t)


# --------------------------------------------------------------------------- Erlang A


@dataclass(frozen=True)
class _ErlangASolution:
    probabilities: np.ndarray  # P(N = n), n = 0..K (read-only)
    p_wait: float
    mean_queue_length: float
    busy_servers: float
    p_served: float  # P(served), from the tagged-customer chain
    wait_served_total: float  # E[Wq 1{served}]
    mean_wait_abandoned: float  # E[Wq | abandoned]


@dataclass(frozen=True)
class ErlangA:
    """The M/M/c+M (Erlang-A) queue: FCFS, exponential patience, abandonments leave for good.

    Stationary distribution. The number in system N is a birth-death chain with birth rate
    lambda and death rate min(n, c) mu + max(n - c, 0) theta. Its ratios
    r_n = p_n / p_{n-1} = lambda / d_n are non-increasing, so once r_{K+1} < 1 the tail beyond
    K is bounded by p_K r_{K+1} / (1 - r_{K+1}); the chain is cut at the first K where this
    bound is below 1e-15 of the mass kept. Weights are accumulated in logarithms, so the
    solution exists and is stable for any load, including lambda > c mu.

    Tagged customer. By PASTA an arrival finds N = n with probability p_n. If n < c it is
    served at once. If n = c + k it waits through stages j = k, k-1, ..., 0, where j is the
    number still ahead of it in the queue (customers behind it never matter under FCFS). In
    stage j it moves on at rate c mu + j theta (a service completion, or one of the j ahead
    abandons; from j = 0 "moving on" means entering service) and abandons at rate theta, so
    the stage lasts Exp(s_j) with s_j = c mu + (j + 1) theta, independently of how it ends.
    With q_j = (c mu + j theta) / s_j:

    * P(served | k) = q_0 q_1 ... q_k,
    * E[Wq 1{served} | k] = P(served | k) (1/s_0 + ... + 1/s_k),
    * E[Wq 1{abandoned} | k] = P(abandoned | k) / s_k + q_k E[Wq 1{abandoned} | k - 1].

    Averaging over the arrival-state distribution gives ``mean_wait_served`` (over all served
    customers, including those served without waiting) and ``mean_wait_abandoned``. The
    abandonment probability and the overall mean wait are taken from the queue length
    (theta E[Q] / lambda and E[Q] / lambda); agreement with the tagged-customer results is a
    check, not an assumption.
    """

    arrival_rate: float
    service_rate: float
    servers: int
    abandonment_rate: float

    def __post_init__(self) -> None:
        _check_rate(self.arrival_rate, "arrival_rate", positive=True)
        _check_rate(self.service_rate, "service_rate", positive=True)
        _check_servers(self.servers)
        _check_rate(self.abandonment_rate, "abandonment_rate", positive=True)

    # ---------------------------------------------------------------- solution

    def _log_weights(self) -> np.ndarray:
        """Unnormalised log p_n for n = 0..K with the tail beyond K below the tolerance."""
        lam, mu, c, theta = (
            self.arrival_rate,
            self.service_rate,
            self.servers,
            self.abandonment_rate,
        )
        log_lam = math.log(lam)
        log_tol = math.log(TAIL_TOLERANCE)
        chunks: list[np.ndarray] = [np.zeros(1)]
        last = 0.0
        peak = 0.0
        start = 1
        while True:
            n = np.arange(start, start + _CHUNK, dtype=float)
            deaths = np.minimum(n, c) * mu + np.maximum(n - c, 0.0) * theta
            log_ratio = log_lam - np.log(deaths)
            log_q = last + np.cumsum(log_ratio)
            # Candidate cut at state K = n - 1 (the state before n), using r_n = r_{K+1}.
            log_q_before = np.concatenate(([last], log_q[:-1]))
            peak_before = np.maximum(peak, np.maximum.accumulate(log_q_before))
            ratio = np.exp(log_ratio)
            with np.errstate(divide="ignore"):
                log_tail = log_q_before + log_ratio - np.log1p(-np.minimum(ratio, 1.0))
            # The kept mass is at least its largest term, so this test is conservative. The
            # cut is never below state c, so the waiting states used below are not empty.
            done = (ratio < 1.0) & (log_tail < log_tol + peak_before) & (n - 1.0 >= c)
            if done.any():
                cut = int(np.argmax(done))  # keep states start .. start + cut - 1
                chunks.append(log_q[:cut])
                break
            chunks.append(log_q)
            last = float(log_q[-1])
            peak = max(peak, float(log_q.max()))
            start += _CHUNK
        return np.concatenate(chunks)

    @cached_property
    def _solution(self) -> _ErlangASolution:
        mu, c, theta = self.service_rate, self.servers, self.abandonment_rate
        log_w = self._log_weights()
        top = float(log_w.max())
        weights = np.exp(log_w - top)
        probabilities = weights / weights.sum()
        probabilities.flags.writeable = False

        n = np.arange(probabilities.size, dtype=float)
        queue = np.maximum(n - c, 0.0)
        p_wait = float(probabilities[c:].sum())
        mean_queue = float(probabilities @ queue)
        busy = float(probabilities @ np.minimum(n, c))

        # Arrival-state distribution among the waiting states, conditioned on waiting, taken
        # from the log weights so that it stays accurate when P(N >= c) is tiny. The cut
        # always keeps state c, so there is at least one waiting state.
        log_tail = log_w[c:]
        cond = np.exp(log_tail - log_tail.max())
        cond /= cond.sum()
        p_immediate = float(probabilities[:c].sum())

        served_given_k = 0.0  # sum_k cond_k P(served | k)
        wait_served_given = 0.0  # sum_k cond_k E[Wq 1{served} | k]
        abandon_given = 0.0  # sum_k cond_k P(abandoned | k)
        wait_abandoned_given = 0.0  # sum_k cond_k E[Wq 1{abandoned} | k]
        log_p_served = 0.0  # log P(served | k)
        sum_stage_means = 0.0  # 1/s_0 + ... + 1/s_k
        prev_wait_abandoned = 0.0  # E[Wq 1{abandoned} | k - 1]
        for k, weight in enumerate(cond.tolist()):
            stage_rate = c * mu + (k + 1) * theta
            log_p_served += math.log1p(-theta / stage_rate)
            sum_stage_means += 1.0 / stage_rate
            p_served_k = math.exp(log_p_served)
            p_abandon_k = -math.expm1(log_p_served)
            progress = (c * mu + k * theta) / stage_rate
            wait_abandoned_k = p_abandon_k / stage_rate + progress * prev_wait_abandoned
            prev_wait_abandoned = wait_abandoned_k
            served_given_k += weight * p_served_k
            wait_served_given += weight * p_served_k * sum_stage_means
            abandon_given += weight * p_abandon_k
            wait_abandoned_given += weight * wait_abandoned_k

        return _ErlangASolution(
            probabilities=probabilities,
            p_wait=p_wait,
            mean_queue_length=mean_queue,
            busy_servers=busy,
            p_served=p_immediate + p_wait * served_given_k,
            wait_served_total=p_wait * wait_served_given,
            mean_wait_abandoned=wait_abandoned_given / abandon_given,
        )

    # ---------------------------------------------------------------- results

    @property
    def offered_load(self) -> float:
        """a = lambda / mu, in Erlang (may exceed the number of servers)."""
        return self.arrival_rate / self.service_rate

    @property
    def state_probabilities(self) -> np.ndarray:
        """P(N = n) for n = 0..K (read-only array); the neglected tail is below 1e-15."""
        return self._solution.probabilities

    @property
    def p_wait(self) -> float:
        """Probability that an arrival has to wait: P(N >= c) by PASTA."""
        return self._solution.p_wait

    @property
    def mean_queue_length(self) -> float:
        """E[Q] = E[max(N - c, 0)], the mean number waiting."""
        return self._solution.mean_queue_length

    @property
    def p_abandon(self) -> float:
        """Share of arrivals that abandon: theta E[Q] / lambda (abandonment flow / arrivals)."""
        return self.abandonment_rate * self.mean_queue_length / self.arrival_rate

    @property
    def mean_wait_all(self) -> float:
        """Mean time in queue over all arrivals (served and abandoned): E[Q] / lambda."""
        return self.mean_queue_length / self.arrival_rate

    @property
    def mean_wait_served(self) -> float:
        """Mean time in queue of customers who are eventually served (zero waits included)."""
        solution = self._solution
        return solution.wait_served_total / solution.p_served

    @property
    def mean_wait_abandoned(self) -> float:
        """Mean time in queue (time to abandon) of customers who abandon."""
        return self._solution.mean_wait_abandoned

    @property
    def utilisation(self) -> float:
        """E[number of busy servers] / c."""
        return self._solution.busy_servers / self.servers


# --------------------------------------------------------------------------- priorities, pooling


def mmc_priority_mean_waits(
    arrival_rates: Sequence[float], service_rate: float, servers: int
) -> list[float]:
    """Mean queue waits per class in a non-preemptive priority M/M/c queue.

    All classes share the exponential service rate ``service_rate`` per server; classes are
    listed from highest to lowest priority and are FCFS within a class. With
    sigma_k = (lambda_1 + ... + lambda_k) / (c mu) and a = lambda / mu for the total rate,

        W_k = [C(c, a) / (c mu)] / ((1 - sigma_{k-1}) (1 - sigma_k)),

    where C(c, a) / (c mu) is the mean time until the first server frees, averaged over all
    arrivals (Cobham 1954 for c = 1; Gross & Harris for c servers). It equals the form
    C(c, a) / (c mu - lambda) * (1 - rho) / ((1 - sigma_{k-1}) (1 - sigma_k)).
    """
    c = _check_servers(servers)
    mu = _check_rate(service_rate, "service_rate", positive=True)
    if isinstance(arrival_rates, str | bytes) or len(arrival_rates) == 0:
        raise ValueError("arrival_rates must be a non-empty sequence of rates")
    rates = [
        _check_rate(rate, f"arrival_rates[{i}]", positive=False)
        for i, rate in enumerate(arrival_rates)
    ]
    total = math.fsum(rates)
    load = total / mu
    _check_stable(load, c)
    residual = erlang_c(c, load) / (c * mu)
    waits: list[float] = []
    cumulative = 0.0
    for rate in rates:
        sigma_before = cumulative / (c * mu)
        cumulative += rate
        sigma_after = cumulative / (c * mu)
        waits.append(residual / ((1.0 - sigma_before) * (1.0 - sigma_after)))
    return waits


def pooled_vs_separate(
    arrival_rates: Sequence[float], service_rate: float, servers: Sequence[int]
) -> tuple[list[float], float]:
    """Mean queue waits of separate M/M/c_i queues and of one pooled M/M/(sum c_i) queue.

    Returns ``(separate_waits, pooled_wait)``; the pooled queue serves the summed arrival rate
    with all servers. Every separate queue must be stable.
    """
    if isinstance(arrival_rates, str | bytes) or len(arrival_rates) == 0:
        raise ValueError("arrival_rates must be a non-empty sequence of rates")
    if len(servers) != len(arrival_rates):
        raise ValueError(
            f"arrival_rates and servers must have the same length, got {len(arrival_rates)} "
            f"and {len(servers)}"
        )
    separate = [
        MMc(rate, service_rate, count).mean_wait
        for rate, count in zip(arrival_rates, servers, strict=True)
    ]
    total_rate = math.fsum(float(rate) for rate in arrival_rates)
    total_servers = sum(int(count) for count in servers)
    pooled = MMc(total_rate, service_rate, total_servers).mean_wait
    return separate, pooled


def periodic_erlang_a_abandonment(
    hourly_arrival_rates: Sequence[float],
    service_rate: float,
    servers: int,
    abandonment_rate: float,
    minutes_per_interval: float = 60.0,
    max_queue: int | None = None,
    cycles: int = 8,
) -> float:
    """Long-run share of callers who abandon in an M(t)/M/c+M queue whose arrival rate is
    piecewise constant and repeats with the period of ``hourly_arrival_rates`` (e.g. 168
    hourly rates of a week), with a constant number of servers.

    Exact up to truncation: the distribution of the number in system is carried through
    each interval with the matrix exponential of the birth-death generator, the expected
    queue length is integrated over the interval (Simpson's rule on a one-minute grid),
    and the cycle is repeated until the periodic regime is reached. The abandonment share
    is theta * integral of E[queue] / integral of lambda over one period.
    """
    from scipy.linalg import expm

    _check_servers(servers)
    rates = [float(r) for r in hourly_arrival_rates]
    if not rates or any(r < 0 or not math.isfinite(r) for r in rates):
        raise ValueError("hourly_arrival_rates must be non-negative and finite")
    if service_rate <= 0 or abandonment_rate <= 0:
        raise ValueError("service_rate and abandonment_rate must be positive")
    peak = max(rates)
    if max_queue is None:
        # generous: the queue rarely exceeds the peak arrivals during a few patience times
        max_queue = int(10 + 8 * peak / abandonment_rate)
    n_states = servers + max_queue + 1
    n = np.arange(n_states)
    deaths = np.minimum(n, servers) * service_rate + np.maximum(n - servers, 0) * abandonment_rate
    queue = np.maximum(n - servers, 0).astype(float)

    steps = int(round(minutes_per_interval))
    h = minutes_per_interval / steps
    step_maps = {lam: expm(_birth_death_generator(lam, deaths) * h) for lam in set(rates)}
    p = np.zeros(n_states)
    p[0] = 1.0
    share = math.nan
    for _ in range(cycles):
        abandon_area = 0.0
        arrivals = 0.0
        for lam in rates:
            p, area = _carry_through_interval(p, step_maps[lam], queue, steps, h)
            abandon_area += abandonment_rate * area
            arrivals += lam * minutes_per_interval
        share = abandon_area / arrivals if arrivals > 0 else math.nan
    if p[-1] > 1e-9:
        raise ValueError("the truncated state space is too small for this load; raise max_queue")
    return share


def _birth_death_generator(lam: float, deaths: np.ndarray) -> np.ndarray:
    """Generator matrix of a birth-death chain: births at ``lam``, deaths by state."""
    n_states = len(deaths)
    n = np.arange(n_states)
    q = np.zeros((n_states, n_states))
    q[n[:-1], n[1:]] = lam
    q[n[1:], n[:-1]] = deaths[1:]
    q[n, n] = -q.sum(axis=1)
    return q


def _carry_through_interval(
    p: np.ndarray, step: np.ndarray, queue: np.ndarray, steps: int, h: float
) -> tuple[np.ndarray, float]:
    """The distribution at the end of an interval of ``steps`` steps of length ``h``, and
    the integral of the expected queue length over it (Simpson's rule when ``steps`` is
    even, the trapezium rule otherwise)."""
    values = [float(p @ queue)]
    for _ in range(steps):
        p = p @ step
        values.append(float(p @ queue))
    if steps % 2 == 0:
        inner = 4 * sum(values[1:-1:2]) + 2 * sum(values[2:-1:2])
        area = h / 3.0 * (values[0] + values[-1] + inner)
    else:
        area = h * (sum(values) - 0.5 * (values[0] + values[-1]))
    return p, area
