"""What a reader sees: number formatting, the terminal summary, figures, the HTML report
and a sweep's figures. ``write_study_outputs`` is the writer a study calls when it ends."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sim.experiments.comparison import Experiment
from sim.experiments.explain import explain_rows, full_forms
from sim.report.decision import write_decision_report
from sim.report.html import write_report
from sim.report.sweep_report import write_sweep_report


def write_study_outputs(folder: Path, exp: Experiment, meta: dict[str, Any]) -> None:
    """The outputs of a finished study: a sweep's report with its figures, the decision report of an
    uncertainty study (again, with the tornado and thresholds, when its one-at-a-time stage
    ends), or the report of a comparison (of the whole forms, with the explanation table
    when the comparison was explained)."""
    if meta.get("kind") == "sweep" and meta.get("sweep") is not None:
        write_sweep_report(folder, meta["sweep"], exp, meta)
    elif meta.get("kind") == "uncertainty":
        info = meta.get("uncertainty") or {}
        if info.get("stage") == "one_at_a_time":  # the second stage, inside the study's folder
            write_decision_report(folder.parent, folder)
        else:
            write_decision_report(folder)
    elif meta.get("explain"):
        info = meta["explain"]
        write_report(folder, full_forms(exp, info), meta, explain_rows(exp, info))
    else:
        write_report(folder, exp, meta)


__all__ = ["write_study_outputs"]
