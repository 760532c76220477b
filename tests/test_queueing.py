"""Exact queueing formulas (``sim.validation.queueing``) against tables, closed forms and
independent numerical solutions of the underlying Markov chains."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest
from scipy import integrate, sparse, stats
from scipy.sparse import linalg as sparse_linalg

from sim.validation.queueing import (
    ErlangA,
    MMc,
    erlang_b,
    erlang_c,
    mmc_priority_mean_waits,
    pooled_vs_separate,
)


def _sig(value: float, digits: int = 5) -> float:
    """``value`` rounded to ``digits`` significant digits."""
    return float(f"{value:.{digits - 1}e}")


# --------------------------------------------------------------------------- Erlang B


@pytest.mark.parametrize(
    ("servers", "load", "table"),
    [(1, 1.0, 0.5), (2, 1.0, 0.2), (10, 5.0, 0.018385), (5, 2.0, 0.036697)],
)
def test_erlang_b_table_values(servers: int, load: float, table: float) -> None:
    assert _sig(erlang_b(servers, load)) == table


def _erlang_b_direct(servers: int, load: float) -> float:
    terms = [load**k / math.factorial(k) for k in range(servers + 1)]
    return terms[-1] / math.fsum(terms)


@pytest.mark.parametrize(
    ("servers", "load"),
    [(1, 0.3), (3, 2.5), (7, 4.0), (12, 15.0), (20, 10.0), (30, 28.5), (4, 0.0)],
)
def test_erlang_b_matches_direct_formula(servers: int, load: float) -> None:
    assert erlang_b(servers, load) == pytest.approx(
        _erlang_b_direct(servers, load), rel=1e-12, abs=1e-300
    )


def test_erlang_b_large_system_is_finite() -> None:
    # a^c / c! overflows a float here; the recursion does not. The value must lie in (0, 1)
    # and decrease when a server is added.
    value = erlang_b(2000, 1900.0)
    assert 0.0 < value < 1.0
    assert erlang_b(2001, 1900.0) < value


# --------------------------------------------------------------------------- Erlang C and M/M/c


@pytest.mark.parametrize("load", [0.1, 0.5, 0.9, 0.99])
def test_erlang_c_single_server_is_load(load: float) -> None:
    assert erlang_c(1, load) == pytest.approx(load, rel=1e-14)


def test_erlang_c_two_servers_unit_load() -> None:
    assert erlang_c(2, 1.0) == pytest.approx(1.0 / 3.0, rel=1e-14)


def _erlang_c_direct(servers: int, load: float) -> float:
    top = load**servers / math.factorial(servers) * servers / (servers - load)
    below = math.fsum(load**k / math.factorial(k) for k in range(servers))
    return top / (below + top)


@pytest.mark.parametrize(
    ("servers", "load"), [(2, 1.5), (4, 3.2), (8, 7.9), (15, 10.0), (25, 20.0)]
)
def test_erlang_c_matches_direct_formula(servers: int, load: float) -> None:
    assert erlang_c(servers, load) == pytest.approx(_erlang_c_direct(servers, load), rel=1e-12)


def test_mmc_textbook_example() -> None:
    # c = 3, lambda = 2/min, mu = 1/min: C = 4/9, Wq = C / (3 - 2) = 4/9 min.
    queue = MMc(arrival_rate=2.0, service_rate=1.0, servers=3)
    assert queue.offered_load == pytest.approx(2.0)
    assert queue.utilisation == pytest.approx(2.0 / 3.0)
    assert queue.p_wait == pytest.approx(4.0 / 9.0, rel=1e-14)
    assert round(queue.p_wait, 4) == 0.4444
    assert queue.mean_wait == pytest.approx(4.0 / 9.0, rel=1e-14)
    assert queue.mean_queue_length == pytest.approx(8.0 / 9.0, rel=1e-14)
    assert queue.mean_in_system == pytest.approx(8.0 / 9.0 + 2.0, rel=1e-14)


@pytest.mark.parametrize(("lam", "mu"), [(0.5, 1.0), (0.9, 1.0), (0.03, 0.05)])
def test_mm1_identities(lam: float, mu: float) -> None:
    queue = MMc(lam, mu, 1)
    rho = lam / mu
    assert queue.p_wait == pytest.approx(rho, rel=1e-14)
    assert queue.mean_wait == pytest.approx(rho / (mu - lam), rel=1e-12)
    assert queue.mean_queue_length == pytest.approx(rho**2 / (1.0 - rho), rel=1e-12)
    assert queue.mean_in_system == pytest.approx(rho / (1.0 - rho), rel=1e-12)
    # Little's law for the whole system: L = lambda (Wq + 1/mu).
    assert queue.mean_in_system == pytest.approx(lam * (queue.mean_wait + 1.0 / mu), rel=1e-12)


def test_mmc_zero_arrivals_never_wait() -> None:
    queue = MMc(0.0, 1.0, 2)
    assert queue.p_wait == 0.0
    assert queue.mean_wait == 0.0
    assert queue.wait_exceeds(1.0) == 0.0


def test_wait_exceeds_starts_at_p_wait_and_decays_exponentially() -> None:
    queue = MMc(arrival_rate=4.5, service_rate=0.5, servers=12)
    drain = 12 * 0.5 - 4.5
    assert queue.wait_exceeds(0.0) == queue.p_wait
    for t in (0.5, 1.0, 2.0, 5.0):
        assert queue.wait_exceeds(t) == pytest.approx(
            queue.p_wait * math.exp(-drain * t), rel=1e-14
        )
        # The same factor per unit of time wherever it starts.
        assert queue.wait_exceeds(t + 1.0) / queue.wait_exceeds(t) == pytest.approx(
            math.exp(-drain), rel=1e-12
        )
    # E[Wq] is the integral of the tail.
    integral, _ = integrate.quad(queue.wait_exceeds, 0.0, math.inf, epsabs=1e-13, epsrel=1e-12)
    assert integral == pytest.approx(queue.mean_wait, rel=1e-9)


# ------------------------------------------------------------- Erlang A: independent solutions


def _stationary_by_generator(lam: float, mu: float, c: int, theta: float, size: int) -> np.ndarray:
    """Stationary distribution of the number in system on 0..size-1 by solving pi Q = 0."""
    generator = np.zeros((size, size))
    for n in range(size):
        if n + 1 < size:
            generator[n, n + 1] = lam
        if n > 0:
            generator[n, n - 1] = min(n, c) * mu + max(n - c, 0) * theta
        generator[n, n] = -generator[n].sum()
    system = generator.T.copy()
    system[-1, :] = 1.0  # replace one balance equation by the normalisation
    rhs = np.zeros(size)
    rhs[-1] = 1.0
    return np.linalg.solve(system, rhs)


def _tagged_absorbing_chain(
    mu: float, c: int, theta: float, max_ahead: int
) -> dict[str, np.ndarray]:
    """Tagged waiting customer as an absorbing CTMC on j = customers ahead (0..max_ahead).

    Transient generator T; absorption into "served" (from j = 0 at rate c mu) or "abandoned"
    (rate theta from every j). With M = (-T)^-1: P(absorbed in A) = M r_A and
    E[time * 1{absorbed in A}] = M M r_A, row k for a customer that starts with k ahead.
    """
    size = max_ahead + 1
    transient = np.zeros((size, size))
    to_served = np.zeros(size)
    to_abandon = np.full(size, theta)
    for j in range(size):
        progress = c * mu + j * theta
        if j == 0:
            to_served[0] = progress
        else:
            transient[j, j - 1] = progress
        transient[j, j] = -(progress + theta)
    fundamental = np.linalg.inv(-transient)
    return {
        "p_served": fundamental @ to_served,
        "p_abandon": fundamental @ to_abandon,
        "time_served": fundamental @ (fundamental @ to_served),
        "time_abandon": fundamental @ (fundamental @ to_abandon),
    }


ERLANG_A_CASES = [
    # (lambda, mu, c, theta)
    (2.0, 1.0, 3, 0.5),
    (6.0, 1.0, 4, 0.5),  # load 6 > 4 servers
    (0.9, 0.1, 12, 0.05),  # per-minute rates of a small call centre
    (10.0, 1.0, 5, 0.2),  # lambda = 2 c mu
    (1.5, 1.0, 1, 3.0),  # patience shorter than service
]


@pytest.mark.parametrize(("lam", "mu", "c", "theta"), ERLANG_A_CASES)
def test_erlang_a_state_probabilities_match_generator_solution(
    lam: float, mu: float, c: int, theta: float
) -> None:
    model = ErlangA(lam, mu, c, theta)
    probabilities = model.state_probabilities
    size = probabilities.size + 60
    reference = _stationary_by_generator(lam, mu, c, theta, size)
    assert probabilities.sum() == pytest.approx(1.0, abs=1e-14)
    np.testing.assert_allclose(
        probabilities, reference[: probabilities.size], rtol=1e-9, atol=1e-15
    )
    # The truncation leaves out less than the promised tail mass.
    assert reference[probabilities.size :].sum() < 1e-14
    assert not probabilities.flags.writeable


@pytest.mark.parametrize(("lam", "mu", "c", "theta"), ERLANG_A_CASES)
def test_erlang_a_tagged_customer_results_match_absorbing_chain(
    lam: float, mu: float, c: int, theta: float
) -> None:
    model = ErlangA(lam, mu, c, theta)
    size = model.state_probabilities.size + 60
    arrival = _stationary_by_generator(lam, mu, c, theta, size)  # PASTA
    immediate = arrival[:c].sum()
    waiting = arrival[c:]  # arrival finds k = 0, 1, ... already queued
    chain = _tagged_absorbing_chain(mu, c, theta, waiting.size - 1)

    p_served = immediate + waiting @ chain["p_served"]
    p_abandon = waiting @ chain["p_abandon"]
    assert p_served + p_abandon == pytest.approx(1.0, abs=1e-12)
    # theta E[Q] / lambda equals the sum over k of P(arrive in c + k) P(abandon | k).
    assert model.p_abandon == pytest.approx(p_abandon, rel=1e-9)
    assert model.mean_wait_served == pytest.approx(
        waiting @ chain["time_served"] / p_served, rel=1e-9
    )
    assert model.mean_wait_abandoned == pytest.approx(
        waiting @ chain["time_abandon"] / p_abandon, rel=1e-9
    )
    # Little's E[Q] / lambda equals the tagged customer's mean wait over all arrivals.
    assert model.mean_wait_all == pytest.approx(
        waiting @ (chain["time_served"] + chain["time_abandon"]), rel=1e-9
    )


@pytest.mark.parametrize(("lam", "mu", "c", "theta"), ERLANG_A_CASES)
def test_erlang_a_internal_identities(lam: float, mu: float, c: int, theta: float) -> None:
    model = ErlangA(lam, mu, c, theta)
    probabilities = model.state_probabilities
    n = np.arange(probabilities.size)
    assert model.p_wait == pytest.approx(probabilities[c:].sum(), rel=1e-14)
    assert model.mean_queue_length == pytest.approx(probabilities @ np.maximum(n - c, 0), rel=1e-14)
    assert model.p_abandon == pytest.approx(theta * model.mean_queue_length / lam, rel=1e-14)
    assert 0.0 < model.p_abandon < model.p_wait < 1.0
    # Overall mean wait splits into served and abandoned customers.
    p_served = 1.0 - model.p_abandon
    split = p_served * model.mean_wait_served + model.p_abandon * model.mean_wait_abandoned
    assert model.mean_wait_all == pytest.approx(split, rel=1e-10)
    # Flow balance: served throughput equals the service capacity in use.
    assert lam * p_served == pytest.approx(c * mu * model.utilisation, rel=1e-10)
    assert 0.0 < model.utilisation < 1.0
    # Abandoners are those whose patience ran out before service, so their mean patience
    # (= their mean wait) is below the unconditional mean patience 1/theta.
    assert 0.0 < model.mean_wait_abandoned < 1.0 / theta


def test_erlang_a_small_abandonment_approaches_erlang_c() -> None:
    for lam, mu, c in [(2.0, 1.0, 3), (8.0, 1.0, 10), (0.45, 0.05, 10)]:
        model = ErlangA(lam, mu, c, abandonment_rate=1e-7)
        fcfs = MMc(lam, mu, c)
        assert model.p_wait == pytest.approx(fcfs.p_wait, rel=1e-3)
        assert model.mean_wait_all == pytest.approx(fcfs.mean_wait, rel=1e-3)
        assert model.mean_wait_served == pytest.approx(fcfs.mean_wait, rel=1e-3)
        assert model.utilisation == pytest.approx(fcfs.utilisation, rel=1e-3)
        assert model.p_abandon < 1e-5


def test_erlang_a_large_abandonment_approaches_erlang_b() -> None:
    # Customers who find all servers busy leave almost at once: the loss system M/M/c/c.
    for lam, mu, c in [(2.0, 1.0, 3), (12.0, 1.0, 10)]:
        model = ErlangA(lam, mu, c, abandonment_rate=1e6)
        blocking = erlang_b(c, lam / mu)
        assert model.p_abandon == pytest.approx(blocking, rel=1e-4)
        assert model.p_wait == pytest.approx(blocking, rel=1e-4)
        assert model.utilisation == pytest.approx(lam / mu * (1.0 - blocking) / c, rel=1e-4)


@pytest.mark.parametrize(("lam", "mu", "c"), [(2.0, 1.0, 3), (7.0, 0.5, 10), (3.0, 1.0, 2)])
def test_erlang_a_with_patience_equal_to_service_is_poisson(lam: float, mu: float, c: int) -> None:
    # With theta = mu every customer present leaves at rate mu: N is Poisson(lambda / mu).
    model = ErlangA(lam, mu, c, abandonment_rate=mu)
    load = lam / mu
    poisson = stats.poisson(load)
    n = np.arange(model.state_probabilities.size)
    np.testing.assert_allclose(model.state_probabilities, poisson.pmf(n), rtol=1e-10, atol=1e-16)
    assert model.p_wait == pytest.approx(poisson.sf(c - 1), rel=1e-10)
    busy = math.fsum(k * poisson.pmf(k) for k in range(c)) + c * poisson.sf(c - 1)
    assert model.utilisation == pytest.approx(busy / c, rel=1e-10)
    # Closed forms of the tagged customer: P(served | k) = c / (c + k + 1) and the stage rates
    # are (c + j + 1) mu.
    ks = np.arange(400)
    weights = poisson.pmf(c + ks)
    p_served_k = c / (c + ks + 1.0)
    stage_sums = np.cumsum(1.0 / ((c + ks + 1.0) * mu))
    p_served = poisson.cdf(c - 1) + weights @ p_served_k
    assert model.p_abandon == pytest.approx(1.0 - p_served, rel=1e-10)
    assert model.mean_wait_served == pytest.approx(
        weights @ (p_served_k * stage_sums) / p_served, rel=1e-10
    )


def test_erlang_a_stable_when_overloaded() -> None:
    lam, mu, c, theta = 2 * 8 * 0.2, 0.2, 8, 0.1  # lambda = 2 c mu
    model = ErlangA(lam, mu, c, theta)
    assert model.state_probabilities.sum() == pytest.approx(1.0, abs=1e-14)
    assert np.all(np.isfinite(model.state_probabilities))
    # At least half of the arrivals must abandon: served throughput <= c mu = lambda / 2.
    assert 0.5 < model.p_abandon < 1.0
    assert 0.99 < model.utilisation < 1.0
    assert model.p_wait > 0.99
    # Heavy overload: about (lambda - c mu) / theta customers queue.
    assert model.mean_queue_length == pytest.approx((lam - c * mu) / theta, rel=0.05)


# --------------------------------------------------------------------------- priorities


def test_priority_single_class_is_fcfs() -> None:
    (wait,) = mmc_priority_mean_waits([2.0], 1.0, 3)
    assert wait == pytest.approx(MMc(2.0, 1.0, 3).mean_wait, rel=1e-14)


@pytest.mark.parametrize(
    ("rates", "mu", "c"),
    [([0.5, 1.0, 1.5], 1.0, 4), ([0.02, 0.1, 0.3, 0.05], 0.05, 10), ([0.3, 0.4], 1.0, 1)],
)
def test_priority_weighted_average_is_fcfs_and_ordered(
    rates: list[float], mu: float, c: int
) -> None:
    waits = mmc_priority_mean_waits(rates, mu, c)
    fcfs = MMc(sum(rates), mu, c).mean_wait
    weighted = sum(rate * wait for rate, wait in zip(rates, waits, strict=True)) / sum(rates)
    assert weighted == pytest.approx(fcfs, rel=1e-12)
    assert all(high < low for high, low in zip(waits, waits[1:], strict=False))


def test_priority_mm1_matches_cobham() -> None:
    lam1, lam2, mu = 0.3, 0.45, 1.0
    rho = (lam1 + lam2) / mu
    sigma1 = lam1 / mu
    sigma2 = rho
    expected = [(rho / mu) / (1.0 - sigma1), (rho / mu) / ((1.0 - sigma1) * (1.0 - sigma2))]
    assert mmc_priority_mean_waits([lam1, lam2], mu, 1) == pytest.approx(expected, rel=1e-14)


def test_priority_multi_server_matches_markov_chain() -> None:
    """Two-class non-preemptive M/M/2 solved as a CTMC on (busy servers, queue 1, queue 2)."""
    lam = (0.5, 0.9)
    mu, c, cap = 1.0, 2, 80
    index: dict[tuple[int, int, int], int] = {}
    for busy in range(c):
        index[(busy, 0, 0)] = len(index)
    for q1 in range(cap + 1):
        for q2 in range(cap + 1):
            index[(c, q1, q2)] = len(index)
    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []

    def add(src: tuple[int, int, int], dst: tuple[int, int, int], rate: float) -> None:
        rows.append(index[src])
        cols.append(index[dst])
        vals.append(rate)

    for state in index:
        busy, q1, q2 = state
        if busy < c:
            add(state, (busy + 1, 0, 0), lam[0] + lam[1])
        else:
            if q1 < cap:
                add(state, (c, q1 + 1, q2), lam[0])
            if q2 < cap:
                add(state, (c, q1, q2 + 1), lam[1])
        if busy > 0:
            if q1 > 0:
                add(state, (c, q1 - 1, q2), busy * mu)
            elif q2 > 0:
                add(state, (c, q1, q2 - 1), busy * mu)
            else:
                add(state, (busy - 1, 0, 0), busy * mu)
    size = len(index)
    rates = sparse.csr_matrix((vals, (rows, cols)), shape=(size, size))
    generator = rates - sparse.diags(np.asarray(rates.sum(axis=1)).ravel())
    system = generator.T.tolil()
    system[size - 1, :] = np.ones(size)
    rhs = np.zeros(size)
    rhs[-1] = 1.0
    pi = sparse_linalg.spsolve(system.tocsc(), rhs)
    queue1 = sum(pi[i] * s[1] for s, i in index.items())
    queue2 = sum(pi[i] * s[2] for s, i in index.items())
    waits = mmc_priority_mean_waits(list(lam), mu, c)
    assert waits[0] == pytest.approx(queue1 / lam[0], rel=1e-8)
    assert waits[1] == pytest.approx(queue2 / lam[1], rel=1e-8)


# --------------------------------------------------------------------------- pooling


def test_pooling_reduces_mean_wait() -> None:
    rates, mu, servers = [0.8, 1.5, 3.2], 1.0, [1, 2, 4]
    separate, pooled = pooled_vs_separate(rates, mu, servers)
    assert separate == pytest.approx(
        [MMc(r, mu, c).mean_wait for r, c in zip(rates, servers, strict=True)]
    )
    assert pooled == pytest.approx(MMc(sum(rates), mu, sum(servers)).mean_wait, rel=1e-14)
    weighted = sum(r * w for r, w in zip(rates, separate, strict=True)) / sum(rates)
    assert pooled < weighted
    assert pooled < min(separate)
    # Two identical M/M/1 queues at rho = 0.8 wait 4.0; pooled M/M/2 waits 0.8^2 / (1 - 0.8^2) / 1.
    separate, pooled = pooled_vs_separate([0.8, 0.8], 1.0, [1, 1])
    assert separate == pytest.approx([4.0, 4.0], rel=1e-12)
    assert pooled == pytest.approx(0.64 / 0.36, rel=1e-12)


# --------------------------------------------------------------------------- invalid input


INVALID_CALLS: list[tuple[str, Callable[[], object]]] = [
    ("erlang_b zero servers", lambda: erlang_b(0, 1.0)),
    ("erlang_b negative servers", lambda: erlang_b(-2, 1.0)),
    ("erlang_b non-integer servers", lambda: erlang_b(2.5, 1.0)),  # type: ignore[arg-type]
    ("erlang_b negative load", lambda: erlang_b(2, -0.1)),
    ("erlang_b nan load", lambda: erlang_b(2, math.nan)),
    ("erlang_c unstable", lambda: erlang_c(2, 2.0)),
    ("erlang_c overloaded", lambda: erlang_c(3, 5.0)),
    ("mmc unstable", lambda: MMc(3.0, 1.0, 3)),
    ("mmc negative arrivals", lambda: MMc(-1.0, 1.0, 3)),
    ("mmc zero service rate", lambda: MMc(1.0, 0.0, 3)),
    ("mmc zero servers", lambda: MMc(1.0, 1.0, 0)),
    ("mmc negative time", lambda: MMc(1.0, 1.0, 2).wait_exceeds(-1.0)),
    ("erlang_a zero abandonment", lambda: ErlangA(1.0, 1.0, 2, 0.0)),
    ("erlang_a negative abandonment", lambda: ErlangA(1.0, 1.0, 2, -0.5)),
    ("erlang_a negative arrivals", lambda: ErlangA(-1.0, 1.0, 2, 0.5)),
    ("erlang_a zero servers", lambda: ErlangA(1.0, 1.0, 0, 0.5)),
    ("erlang_a infinite service rate", lambda: ErlangA(1.0, math.inf, 2, 0.5)),
    ("priority unstable", lambda: mmc_priority_mean_waits([1.0, 1.0], 1.0, 2)),
    ("priority empty", lambda: mmc_priority_mean_waits([], 1.0, 2)),
    ("priority negative rate", lambda: mmc_priority_mean_waits([1.0, -0.2], 1.0, 2)),
    ("pooling length mismatch", lambda: pooled_vs_separate([1.0, 1.0], 1.0, [2])),
    ("pooling unstable part", lambda: pooled_vs_separate([0.5, 1.5], 1.0, [1, 1])),
]


@pytest.mark.parametrize(
    "call", [call for _, call in INVALID_CALLS], ids=[name for name, _ in INVALID_CALLS]
)
def test_invalid_input_raises_value_error(call: Callable[[], object]) -> None:
    with pytest.raises(ValueError):
        call()


def test_periodic_erlang_a_with_constant_rate_is_erlang_a() -> None:
    from sim.validation.queueing import periodic_erlang_a_abandonment

    lam, mu, c, theta = 2 / 3, 1 / 6, 5, 0.1
    share = periodic_erlang_a_abandonment([lam] * 24, mu, c, theta, cycles=12)
    assert share == pytest.approx(ErlangA(lam, mu, c, theta).p_abandon, rel=1e-6)


def test_periodic_erlang_a_peaks_cost_more_than_the_average_rate() -> None:
    """With the same mean rate, alternating busy and quiet hours lose more callers."""
    from sim.validation.queueing import periodic_erlang_a_abandonment

    mu, c, theta = 1 / 6, 5, 0.1
    flat = periodic_erlang_a_abandonment([0.6] * 4, mu, c, theta)
    peaky = periodic_erlang_a_abandonment([1.0, 0.2, 1.0, 0.2], mu, c, theta)
    assert peaky > flat
