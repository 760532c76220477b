"""Time-weighted areas of the staffed pools' step functions.

A pool's log holds, at each change, the numbers busy and on duty from then on. Busy-minutes
and on-duty-minutes per hour are exact integrals of those step functions, so utilisation is
a time-weighted share rather than a sum of service times.
"""

from __future__ import annotations

import numpy as np

from sim.model.records import MonitorTable


def step_integral(t: np.ndarray, v: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Integral of the right-continuous step function (t, v) over consecutive edges
    (with two temporary arrays the length of the log: a year's log is large)."""
    seg = np.diff(t)
    seg *= v[:-1]
    cum = np.empty(len(t))
    cum[0] = 0.0
    np.cumsum(seg, out=cum[1:])
    del seg
    idx = np.searchsorted(t, edges, side="right") - 1
    idx = np.clip(idx, 0, len(t) - 1)
    at_edges = cum[idx] + v[idx] * (edges - t[idx])
    at_edges = np.where(edges < t[0], 0.0, at_edges)
    return np.diff(at_edges)


def areas_by_hour(monitor: MonitorTable, n_hours: int) -> tuple[np.ndarray, np.ndarray]:
    """Busy-minutes and on-duty-minutes of a pool in each simulated hour."""
    edges = np.arange(n_hours + 1, dtype=float) * 60.0
    return (
        step_integral(monitor.t, monitor.busy, edges),
        step_integral(monitor.t, monitor.present, edges),
    )
