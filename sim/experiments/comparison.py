"""Results of a study held in memory: per scenario, the kept data of each replication;
across scenarios, summaries with intervals, paired differences and the precision rule.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sim.experiments.statistics import paired_difference, relative_half_width, t_interval
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


@dataclass
class Experiment:
    """The scenarios of a study on common replication numbers and base seed."""

    scenarios: list[ScenarioResults]
    base_seed: int
    replications: list[int]

    def kpis(self) -> list[Kpi]:
        """Union of the scenarios' KPI registries, in first-seen order."""
        seen: dict[str, Kpi] = {}
        for s in self.scenarios:
            for k in registry(s.scenario):
                seen.setdefault(k.name, k)
        return list(seen.values())

    def summary_rows(self) -> list[dict[str, Any]]:
        """One row per KPI and scenario: mean, interval, spread and count."""
        rows = []
        reps = self.replications
        for k in self.kpis():
            for s in self.scenarios:
                if k.name not in s.replications[reps[0]]["kpis"]:
                    continue
                iv = t_interval(s.kpi_values(k.name, reps))
                rows.append(
                    {
                        "kpi": k.name,
                        "label": k.label,
                        "unit": k.unit,
                        "scenario": s.scenario.name,
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
