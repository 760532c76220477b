"""Results of a study held in memory: per scenario, the kept data of each replication;
across scenarios, summaries with intervals, paired differences and the precision rule.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sim.experiments.statistics import (
    paired_difference,
    relative_half_width,
    t_interval,
    t_intervals,
)
from sim.measures.kpis import Kpi, registry
from sim.scenario.schema import Scenario


@dataclass
class ScenarioResults:
    """One scenario of a study: its source and the kept data of each finished replication."""

    scenario: Scenario
    source: str
    replications: dict[int, dict[str, Any]] = field(default_factory=dict)

    def kpi_values(self, name: str, reps: Sequence[int]) -> list[float]:
        """A KPI's value in each of the given replications (nan where undefined)."""
        out = []
        for r in reps:
            v = self.replications[r]["kpis"].get(name)
            out.append(math.nan if v is None else float(v))
        return out


@dataclass(frozen=True)
class KpiTable:
    """The KPIs of a study's scenarios as arrays: ``values[k, s, r]`` is KPI number k in
    scenario s and replication number r (nan where undefined or not measured);
    ``present[k, s]`` whether the scenario measures the KPI at all; ``index`` a KPI's
    number by name."""

    values: np.ndarray
    present: np.ndarray
    index: dict[str, int]

    @classmethod
    def of(cls, scenarios: list[ScenarioResults], kpis: list[Kpi], reps: list[int]) -> KpiTable:
        """The table of the given scenarios, KPIs and replication numbers."""
        names = [k.name for k in kpis]
        values = np.full((len(names), len(scenarios), len(reps)), math.nan)
        present = np.zeros((len(names), len(scenarios)), dtype=bool)
        for s, res in enumerate(scenarios):
            for j, r in enumerate(reps):
                got = res.replications[r]["kpis"]
                values[:, s, j] = [math.nan if (v := got.get(n)) is None else v for n in names]
            first = res.replications[reps[0]]["kpis"]
            present[:, s] = [n in first for n in names]
        return cls(values, present, {n: i for i, n in enumerate(names)})


@dataclass
class Experiment:
    """The scenarios of a study on common replication numbers and base seed."""

    scenarios: list[ScenarioResults]
    base_seed: int
    replications: list[int]
    _kpis: tuple[tuple[int, ...], list[Kpi]] | None = field(default=None, repr=False)
    _table: tuple[Any, KpiTable] | None = field(default=None, repr=False)

    def kpis(self) -> list[Kpi]:
        """Union of the scenarios' KPI registries, in first-seen order (worked out once for
        the same scenarios: a study of input draws has tens of thousands)."""
        key = tuple(id(s.scenario) for s in self.scenarios)
        if self._kpis is None or self._kpis[0] != key:
            seen: dict[str, Kpi] = {}
            for s in self.scenarios:
                for k in registry(s.scenario):
                    seen.setdefault(k.name, k)
            self._kpis = (key, list(seen.values()))
        return list(self._kpis[1])

    def table(self) -> KpiTable:
        """Every KPI's value in every scenario and replication, as one array (worked out
        once for the same scenarios and replications)."""
        key = (tuple(id(s.scenario) for s in self.scenarios), tuple(self.replications))
        if self._table is None or self._table[0] != key:
            self._table = (key, KpiTable.of(self.scenarios, self.kpis(), self.replications))
        return self._table[1]

    def summary_rows(self) -> list[dict[str, Any]]:
        """One row per KPI and scenario: mean, interval, spread and count."""
        rows = []
        table = self.table()
        names = [s.scenario.name for s in self.scenarios]
        for i, k in enumerate(self.kpis()):
            have = np.flatnonzero(table.present[i]).tolist()
            for s, iv in zip(have, t_intervals(table.values[i, have]), strict=True):
                rows.append(
                    {
                        "kpi": k.name,
                        "label": k.label,
                        "unit": k.unit,
                        "scenario": names[s],
                        "mean": iv.mean,
                        "ci_low": iv.low,
                        "ci_high": iv.high,
                        "sd": iv.sd,
                        "n": iv.n,
                    }
                )
        return rows

    def comparison_rows(self) -> list[dict[str, Any]]:
        """One row per KPI and later scenario: paired difference to the first scenario."""
        rows: list[dict[str, Any]] = []
        if len(self.scenarios) < 2:
            return rows
        reps = self.replications
        base = self.scenarios[0]
        for k in self.kpis():
            if k.name not in base.replications[reps[0]]["kpis"]:
                continue
            a = base.kpi_values(k.name, reps)
            for s in self.scenarios[1:]:
                if k.name not in s.replications[reps[0]]["kpis"]:
                    continue
                b = s.kpi_values(k.name, reps)
                diff = paired_difference(a, b)
                ia, ib = t_interval(a), t_interval(b)
                rows.append(
                    {
                        "kpi": k.name,
                        "label": k.label,
                        "unit": k.unit,
                        "baseline": base.scenario.name,
                        "scenario": s.scenario.name,
                        "baseline_mean": ia.mean,
                        "scenario_mean": ib.mean,
                        "difference": diff.interval.mean,
                        "diff_ci_low": diff.interval.low,
                        "diff_ci_high": diff.interval.high,
                        "p_value": diff.p_value,
                        "n_pairs": diff.interval.n,
                    }
                )
        return rows

    def precision_gap(self, target: float) -> float:
        """Largest relative half-width among headline KPIs and their paired differences
        (a difference's half-width is taken relative to the baseline's mean)."""
        worst = 0.0
        reps = self.replications
        headline = [k for k in self.kpis() if k.headline]
        base = self.scenarios[0]
        for k in headline:
            for s in self.scenarios:
                if k.name not in s.replications[reps[0]]["kpis"]:
                    continue
                iv = t_interval(s.kpi_values(k.name, reps))
                worst = max(worst, relative_half_width(iv.half_width, iv.mean))
                if s is not base and k.name in base.replications[reps[0]]["kpis"]:
                    a = base.kpi_values(k.name, reps)
                    d = paired_difference(a, s.kpi_values(k.name, reps))
                    worst = max(
                        worst, relative_half_width(d.interval.half_width, t_interval(a).mean)
                    )
        return worst
