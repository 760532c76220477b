"""Where a difference between forms comes from: structure, or a changed assumption.

``compare --explain`` runs, besides today's form (the first scenario) and each other form,
a chain of variants of each form. The first variant has the form's structure (its desks,
numbers, transfers, pooling) but today's assumptions: today's triage accuracy, today's call
durations and today's caller patience at every desk. Each next variant puts back one of the
form's own assumptions, in a fixed order, until the form is whole again:

1. ``structure``: the form with today's triage, call durations and patience;
2. ``triage accuracy``: + the form's confusion matrices;
3. ``call durations``: + the form's handle times (broad triage takes longer);
4. ``patience``: + the form's caller patience and what callers do after hanging up;
5. ``other``: whatever else differs (for example the coordination desk's alternatives).

All variants run on the same replication numbers and seed, so each step's contribution is
a paired difference with its own interval. The steps add up to the total difference. The
attribution is sequential: another order would share interactions differently.

"Today's" assumptions for a desk that does not exist today: the coordination desk that
answers the GP post's number (``coordination_centre``) takes the GP post's; the one desk of
``central`` triages each true need as well as its home desk does today (the MKA's rows for
ambulance needs, the GP post's for the others), takes the GP post's call durations with the
MKA's for an ambulance, and the GP post's patience (most callers are GP-post callers).
"""

from __future__ import annotations

import copy
from typing import Any

from sim.experiments.comparison import Experiment
from sim.experiments.statistics import paired_difference
from sim.scenario.loader import validate_data
from sim.scenario.schema import Scenario

#: The steps of the chain, in order, and the triage fields each one puts back.
STEPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("triage accuracy", ("confusion",)),
    ("call durations", ("handle_time",)),
    ("patience", ("patience", "on_abandon")),
)
STEP_NAMES = ("structure", *(name for name, _ in STEPS), "other")


def _todays_triage(today: Scenario, form: Scenario) -> dict[str, dict[str, Any]]:
    """Today's triage settings for each desk of ``form`` whose settings differ from today's."""
    mka = today.mka.triage.model_dump(mode="json")
    gp = today.gp_post.triage.model_dump(mode="json")
    if form.organisation == "coordination_centre":
        return {"coordination": gp}
    if form.organisation == "central":
        confusion = {}
        for need_name, need in today.needs.items():
            home = mka if need.home_door == "mka" else gp
            if need_name in home["confusion"]:
                confusion[need_name] = home["confusion"][need_name]
        handle = dict(gp["handle_time"])
        handle["ambulance"] = mka["handle_time"].get("ambulance", mka["handle_time"]["default"])
        return {"coordination": {**gp, "confusion": confusion, "handle_time": handle}}
    return {"gp_post": gp, "mka": mka}


def chain(today: Scenario, form: Scenario) -> list[tuple[str, Scenario]]:
    """The variants of ``form`` from structure only to whole, each with its step name."""
    todays = _todays_triage(today, form)
    whole = form.model_dump(mode="json")
    data = copy.deepcopy(whole)
    for desk, triage in todays.items():
        for field in ("confusion", "handle_time", "patience", "on_abandon"):
            data[desk]["triage"][field] = copy.deepcopy(triage[field])
    out: list[tuple[str, Scenario]] = []

    def add(step: str, content: dict[str, Any]) -> None:
        content = copy.deepcopy(content)
        content["name"] = f"{form.name} [{step}]"
        content["provenance"] = {}
        content["uncertainty"] = {}  # notes for studies; they may name replaced fields
        out.append((step, validate_data(content)))

    add("structure", data)
    for step, fields in STEPS:
        for desk in todays:
            for field in fields:
                data[desk]["triage"][field] = copy.deepcopy(whole[desk]["triage"][field])
        add(step, data)
    return out


def explain_plan(scenarios: list[Scenario]) -> tuple[list[Scenario], dict[str, Any]]:
    """Every scenario of an explained comparison (today, each form, and each form's chain)
    and what the outputs need to know to put the chain back together."""
    today, forms = scenarios[0], scenarios[1:]
    runs: list[Scenario] = [today, *forms]
    chains: dict[str, list[str]] = {}
    for form in forms:
        steps = chain(today, form)
        runs.extend(sc for _, sc in steps)
        chains[form.name] = [sc.name for _, sc in steps]
    return runs, {"baseline": today.name, "forms": [f.name for f in forms], "chains": chains}


def explain_rows(exp: Experiment, info: dict[str, Any]) -> list[dict[str, Any]]:
    """Per form and headline KPI: the total paired difference to today and each step's
    share of it, with 95 % intervals."""
    by_name = {s.scenario.name: s for s in exp.scenarios}
    reps = exp.replications
    base = by_name[info["baseline"]]
    rows = []
    # headline figures that every form has (a desk's own waiting time is not comparable)
    for k in (k for k in exp.kpis() if k.headline and not _desk_specific(k.name)):
        if k.name not in base.replications[reps[0]]["kpis"]:
            continue
        for form in info["forms"]:
            chain_names = [info["baseline"], *info["chains"][form], form]
            values = [by_name[n].kpi_values(k.name, reps) for n in chain_names]
            total = paired_difference(values[0], values[-1])
            if total.interval.n == 0:
                continue
            for step, before, after in zip(STEP_NAMES, values[:-1], values[1:], strict=True):
                d = paired_difference(before, after)
                rows.append(
                    {
                        "kpi": k.name,
                        "label": k.label,
                        "unit": k.unit,
                        "form": form,
                        "step": step,
                        "difference": d.interval.mean,
                        "ci_low": d.interval.low,
                        "ci_high": d.interval.high,
                        "total": total.interval.mean,
                    }
                )
    return rows


def _desk_specific(kpi: str) -> bool:
    return kpi.startswith("answer.") and not kpi.startswith("answer.all.")


def full_forms(exp: Experiment, info: dict[str, Any]) -> Experiment:
    """The comparison of today and the whole forms only (the chain's variants left out)."""
    keep = {info["baseline"], *info["forms"]}
    scenarios = [s for s in exp.scenarios if s.scenario.name in keep]
    return Experiment(scenarios, exp.base_seed, exp.replications)
