"""The Python API: load scenarios, run studies, get tidy pandas tables.

Every study runs exactly as its command does (same plan, same seeds, same numbers), into a
run folder; the tables are then read back as DataFrames. Without ``out`` the folder is a
temporary one, removed once its tables are in memory; with ``out`` it is kept under that
folder, with its report, like the command's. Documented in docs/API.md::

    from sim import api

    today = api.load_scenario("scenarios/groningen_separate.yaml", changes={"run.weeks": 2})
    coord = api.load_scenario("scenarios/groningen_coordination_centre.yaml",
                              changes={"run.weeks": 2})
    res = api.compare([today, coord], replications=3)
    res.differences[["kpi", "scenario", "difference", "diff_ci_low", "diff_ci_high"]]

A bad scenario raises ``ScenarioError`` listing every problem; nothing has run by then.
"""

from __future__ import annotations

import gzip
import json
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd

from sim.experiments.defaults import DEFAULT_SEARCHES
from sim.experiments.runfiles import slug
from sim.experiments.study import StudyStopped
from sim.paths import SCENARIOS_DIR
from sim.scenario import Scenario, ScenarioError
from sim.scenario import load_scenario as _load_file
from sim.scenario.loader import scenario_from_data

#: The shipped scenario files: groningen_<form>.yaml, forms/, regions/TEMPLATE/, sweeps/.
SCENARIOS = SCENARIOS_DIR

__all__ = [
    "SCENARIOS",
    "Input",
    "StudyStopped",
    "Results",
    "Scenario",
    "ScenarioError",
    "compare",
    "describe_field",
    "inputs",
    "load_scenario",
    "load_scenario_text",
    "open_results",
    "run",
    "staffing",
    "staffing_compare",
    "sweep",
    "uncertainty",
    "with_inputs",
]

#: A scenario as the API takes it: loaded, a file, or a scenario file's content as a dict.
ScenarioLike = Scenario | str | Path | Mapping[str, Any]
#: Progress of a study: False (none), True (a bar on the terminal), or a function called
#: with (replications done, replications needed) after each replication.
ProgressLike = bool | Callable[[int, int], None]

_RECORDS = ("requests", "calls", "rides")


@dataclass
class Results:
    """The tables of a finished study (or staffing run), as pandas DataFrames.

    - ``summary``: one row per KPI and scenario: mean, 95 % interval, sd, n;
    - ``differences``: one row per KPI and scenario after the first: the paired difference
      to the first scenario with its 95 % interval and p-value (empty for a single scenario);
    - ``kpis``: tidy, one row per scenario, replication and KPI (``value``, with label and
      unit);
    - ``tables``: every other table of the run folder by name (``sweep_tidy``,
      ``uncertainty_summary``, ``staffing``, ``by_day_type``, ...); the second stage of an
      uncertainty study under ``one_at_a_time.<name>``;
    - ``requests``, ``calls``, ``rides``: the records, when the study kept them, with the
      scenario and replication they came from; categories are names, times are in minutes
      since Monday 00:00 of the first simulated week;
    - ``meta``: the run's ``meta.json``; ``folder``: the kept run folder, or None.

    Every column is explained in results/README.md, under the file of the same name.
    """

    kind: str
    meta: dict[str, Any]
    summary: pd.DataFrame
    differences: pd.DataFrame
    kpis: pd.DataFrame
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    requests: pd.DataFrame | None = None
    calls: pd.DataFrame | None = None
    rides: pd.DataFrame | None = None
    folder: Path | None = None
    kpi_definitions: dict[str, dict[str, Any]] = field(default_factory=dict)

    def verdicts(self, headline_only: bool = True) -> pd.DataFrame:
        """Per form after the first and KPI (the headline ones by default): the paired
        difference to the first with its 95 % interval and a verdict in words - ``better``
        or ``worse`` when the interval excludes no difference (by the KPI's direction: lower
        or higher is better for patients or scarce staff), ``no detectable difference``
        when it does not, empty for a KPI without a direction (a count of work); ``text``:
        the difference and interval as the report writes them (``-5.6 pts [-10.5, -0.8]``)."""
        from sim.report.formatting import format_difference

        columns = ["scenario", "kpi", "label", "unit", "difference", "diff_ci_low",
                   "diff_ci_high", "verdict", "text"]  # fmt: skip
        if self.differences.empty:
            return pd.DataFrame(columns=columns)
        rows = self.differences.copy()
        info = self.kpi_definitions
        if headline_only:
            rows = rows[rows["kpi"].map(lambda k: bool(info.get(k, {}).get("headline")))]
        low, high = rows["diff_ci_low"], rows["diff_ci_high"]
        rows["verdict"] = [
            _verdict(str(info.get(k, {}).get("better", "")), lo, hi)
            for k, lo, hi in zip(rows["kpi"], low, high, strict=True)
        ]
        rows["text"] = [
            format_difference(d, lo, hi, u)
            for d, lo, hi, u in zip(rows["difference"], low, high, rows["unit"], strict=True)
        ]
        return rows[columns].reset_index(drop=True)

    def kpi_table(self) -> pd.DataFrame:
        """The KPIs wide: one row per scenario and replication, one column per KPI (as
        ``kpis_by_replication.csv``)."""
        if self.kpis.empty:
            return self.kpis
        rows = self.kpis[["scenario", "replication"]].drop_duplicates()
        wide = self.kpis.pivot(index=["scenario", "replication"], columns="kpi", values="value")
        wide = wide.reindex(index=pd.MultiIndex.from_frame(rows), columns=self.kpis["kpi"].unique())
        return wide.reset_index().rename_axis(columns=None)


def _verdict(better: str, low: float, high: float) -> str:
    if not better or pd.isna(low) or pd.isna(high):
        return ""
    if low <= 0.0 <= high:
        return "no detectable difference"
    lower = high < 0.0
    return "better" if lower == (better == "lower") else "worse"


# --------------------------------------------------------------------------- scenarios


def load_scenario(
    source: ScenarioLike,
    changes: Mapping[str, Any] | Sequence[str] = (),
    overlays: Sequence[str | Path] = (),
) -> Scenario:
    """A validated scenario from a file (with its ``extends:``), or from a dict holding a
    scenario file's content. ``changes`` are ``--set`` overrides, as a mapping
    (``{"run.weeks": 2}``) or as strings (``"run.weeks=2"``); ``overlays`` are overlay files
    (files only). Raises ScenarioError listing every problem."""
    overrides = _override_texts(changes)
    if isinstance(source, Scenario):
        if not overrides and not overlays:
            return source
        source = source.model_dump(mode="json")
    if isinstance(source, Mapping):
        if overlays:
            raise ValueError("overlays apply to scenario files; merge them into the dict")
        return scenario_from_data(source, overrides)
    return _load_file(Path(source), overrides, overlays)


def load_scenario_text(text: str, filename: str = "uploaded.yaml") -> Scenario:
    """A scenario from the text of a scenario file (an upload): it is read from a temporary
    folder beside the shipped scenario files, so ``extends:`` may name them as a file in
    ``scenarios/`` would (``groningen_base.yaml``, ``forms/central.yaml``). Errors name
    ``filename``."""
    name = Path(filename).name or "uploaded.yaml"
    with tempfile.TemporaryDirectory(prefix="afterhours-upload-") as tmp:
        folder = Path(tmp)
        for entry in SCENARIOS_DIR.iterdir():
            if entry.name != name and (entry.is_dir() or entry.suffix in (".yaml", ".yml")):
                (folder / entry.name).symlink_to(entry, target_is_directory=entry.is_dir())
        path = folder / name
        path.write_text(text, encoding="utf-8")
        try:
            return _load_file(path)
        except ScenarioError as exc:
            raise ScenarioError(
                [replace(p, location=replace(p.location, file=name)) for p in exc.problems]
            ) from None


@dataclass
class Input:
    """An input the scenario declares uncertain (its ``uncertainty:`` block): the fields it
    moves, how, its value in the scenario, the central 98 % of its distribution, its unit,
    what it is, its source and confidence."""

    name: str
    how: str
    value: float
    low: float
    high: float
    fields: list[str]
    unit: str
    description: str
    source: str
    confidence: str


def inputs(scenario: ScenarioLike) -> list[Input]:
    """The inputs that decide a comparison, as the scenario declares them (the
    ``uncertainty:`` block): each with its value, range, unit, help, source and confidence
    (the web app's form)."""
    from sim.experiments.one_at_a_time import base_value
    from sim.scenario.uncertain import value_at

    sc = load_scenario(scenario)
    out = []
    for name, spec in sc.uncertainty.items():
        first = spec.fields[0].replace(".*", ".default").split("*")[0].rstrip(".")
        try:
            unit, text = describe_field(first)
        except KeyError:
            unit, text = "", ""
        if spec.how != "set":
            unit, text = "factor", f"Multiplies: {_lower_first(text)}" if text else ""
        out.append(
            Input(
                name=name,
                how=spec.how,
                value=base_value(spec, sc),
                low=value_at(spec, 0.01),
                high=value_at(spec, 0.99),
                fields=list(spec.fields),
                unit=unit,
                description=text,
                source=spec.source,
                confidence=spec.confidence,
            )
        )
    return out


def _lower_first(text: str) -> str:
    """The text with its first letter small, unless it starts an acronym (GP, MKA)."""
    if len(text) > 1 and text[1].isupper():
        return text
    return text[:1].lower() + text[1:]


def with_inputs(scenario: ScenarioLike, values: Mapping[str, float]) -> Scenario:
    """The scenario with the named inputs (see ``inputs``) at the given values."""
    from sim.scenario.uncertain import at_values

    return at_values(load_scenario(scenario), values)


def describe_field(dotted_path: str) -> tuple[str, str]:
    """(unit, description) of a scenario field, e.g. ``gp_post.triagists.weekday_evening``."""
    from sim.scenario.loader import describe_field as describe

    return describe(dotted_path)


def _override_texts(changes: Mapping[str, Any] | Sequence[str]) -> list[str]:
    if isinstance(changes, str):
        return [changes]
    if isinstance(changes, Mapping):
        # JSON is a YAML flow value: numbers, strings, lists and mappings read back as given
        return [f"{key}={json.dumps(value)}" for key, value in changes.items()]
    return list(changes)


def _scenarios(items: Sequence[ScenarioLike] | ScenarioLike) -> tuple[list[Scenario], list[str]]:
    """Scenarios and where each came from (a file, or ``(in memory)``)."""
    if isinstance(items, Scenario | str | Path | Mapping):
        items = [items]
    loaded, sources = [], []
    for item in items:
        loaded.append(load_scenario(item))
        sources.append(str(item) if isinstance(item, str | Path) else "(in memory)")
    return loaded, sources


# --------------------------------------------------------------------------- studies


@contextmanager
def _out_dir(out: str | Path | None) -> Iterator[Path]:
    """The folder a study writes under: ``out``, or a temporary one removed afterwards."""
    if out is not None:
        Path(out).mkdir(parents=True, exist_ok=True)
        yield Path(out)
        return
    tmp = Path(tempfile.mkdtemp(prefix="afterhours-sim-"))
    try:
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _run_plan(
    plan: Any,
    out: str | Path | None,
    workers: int,
    scheduler: str | None,
    progress: ProgressLike,
    report: bool | None,
) -> Results:
    from sim.experiments.executors import make_executor
    from sim.experiments.runfiles import parquet_problem
    from sim.experiments.study import start
    from sim.report import write_study_outputs

    if plan.parquet and parquet_problem():
        raise RuntimeError(parquet_problem())
    writer = write_study_outputs if (out is not None if report is None else report) else None
    executor = make_executor(scheduler, workers)
    try:
        with _out_dir(out) as where:
            folder = start(plan, where, executor, progress, writer)
            if plan.kind == "uncertainty":
                _second_stage(folder, executor, progress, writer)
            return open_results(folder, keep=out is not None)
    finally:
        executor.close()


def _second_stage(folder: Path, executor: Any, progress: ProgressLike, writer: Any) -> None:
    """The one-at-a-time stage of an uncertainty study, in its folder."""
    from sim.experiments.plans import second_stage_plan
    from sim.experiments.study import start

    stage = second_stage_plan(folder)
    if stage is not None:
        start(stage.plan, folder, executor, progress, writer)


def run(
    scenario: ScenarioLike,
    replications: int = 1,
    *,
    records: bool = True,
    out: str | Path | None = None,
    workers: int = 1,
    scheduler: str | None = None,
    progress: ProgressLike = False,
    report: bool | None = None,
    parquet: bool = False,
) -> Results:
    """One scenario over ``replications`` replications (``run``); with ``records`` the
    per-request, per-call and per-ride records of every replication are kept.
    ``report``: write report.html (default: when ``out`` is given); ``parquet``: also a
    Parquet copy of every table in the kept folder."""
    from sim.experiments.plans import compare_plan

    scenarios, sources = _scenarios(scenario)
    plan = compare_plan(
        scenarios, sources, "run", replications, save_requests=records, parquet=parquet
    )
    return _run_plan(plan, out, workers, scheduler, progress, report)


def compare(
    scenarios: Sequence[ScenarioLike],
    replications: int | None = None,
    *,
    precision: float | None = None,
    max_replications: int | None = None,
    explain: bool = False,
    records: bool = False,
    out: str | Path | None = None,
    workers: int = 1,
    scheduler: str | None = None,
    progress: ProgressLike = False,
    report: bool | None = None,
    parquet: bool = False,
) -> Results:
    """Scenarios on paired replications (common random numbers), today's form first
    (``compare``); ``precision``: add replications until every headline interval is within
    that relative half-width; ``explain``: the chain of changes from today to each form."""
    from sim.experiments.plans import compare_plan

    loaded, sources = _scenarios(scenarios)
    plan = compare_plan(
        loaded,
        sources,
        "compare",
        replications,
        precision,
        max_replications,
        records,
        explain,
        parquet,
    )
    return _run_plan(plan, out, workers, scheduler, progress, report)


def sweep(
    sweep_file: str | Path,
    replications: int | None = None,
    *,
    weeks: int | None = None,
    seed: int | None = None,
    out: str | Path | None = None,
    workers: int = 1,
    scheduler: str | None = None,
    progress: ProgressLike = False,
    report: bool | None = None,
) -> Results:
    """Every point of a sweep file on paired replications (``sweep``); the points' table is
    ``tables["sweep_tidy"]`` and ``tables["sweep_summary"]``."""
    from sim.experiments.plans import sweep_plan
    from sim.experiments.sweep import load_sweep

    plan = sweep_plan(load_sweep(sweep_file, weeks, seed), str(sweep_file), replications)
    return _run_plan(plan, out, workers, scheduler, progress, report)


def uncertainty(
    forms: Sequence[ScenarioLike],
    draws: int | None = None,
    replications: int | None = None,
    *,
    design: str = "sobol",
    one_at_a_time: int | None = None,
    out: str | Path | None = None,
    workers: int = 1,
    scheduler: str | None = None,
    progress: ProgressLike = False,
    report: bool | None = None,
) -> Results:
    """The forms over draws of their declared uncertain inputs, then the most decisive
    inputs one at a time (``uncertainty``): ``tables["uncertainty_summary"]``,
    ``tables["sensitivity"]``, ``tables["one_at_a_time.thresholds"]``, ..."""
    from sim.experiments.plans import uncertainty_plan

    loaded, sources = _scenarios(forms)
    plan = uncertainty_plan(
        loaded, sources, draws, design, replications, one_at_a_time=one_at_a_time
    )
    return _run_plan(plan, out, workers, scheduler, progress, report)


def staffing(
    scenario: ScenarioLike,
    *,
    services: bool = False,
    out: str | Path | None = None,
    workers: int = 1,
    scheduler: str | None = None,
) -> Results:
    """The least roster of the front desks (and with ``services`` the GP posts, GP cars
    and ambulances) that meets the scenario's norms (``staffing``): ``tables["staffing"]``,
    ``tables["norms"]``, ..."""
    from sim.experiments.executors import make_executor
    from sim.staffing.run import run_in_folder, start_folder

    changes = {"staffing.services": True} if services else {}
    (sc,), (source,) = _scenarios(load_scenario(scenario, changes))
    executor = make_executor(scheduler, workers)
    try:
        with _out_dir(out) as where:
            partial, meta = start_folder(sc, where, source)
            folder, _ = run_in_folder(sc, partial, meta, executor, progress=False)
            return open_results(folder, keep=out is not None)
    finally:
        executor.close()


def staffing_compare(
    scenarios: Sequence[ScenarioLike],
    searches: int = DEFAULT_SEARCHES,
    *,
    vary: Sequence[str] = (),
    out: str | Path | None = None,
    workers: int = 1,
    scheduler: str | None = None,
) -> Results:
    """Every form staffed to the same norms, over independent searches (``staffing
    --compare``): ``tables["staffing_compare"]`` and ``tables["staffing_compare_tidy"]``."""
    from sim.experiments.executors import make_executor
    from sim.staffing.compare import run_compare, start_compare, vary_problem

    loaded, _ = _scenarios(scenarios)
    problem = vary_problem(loaded, list(vary))
    if problem:
        raise ValueError(problem)
    executor = make_executor(scheduler, workers)
    try:
        with _out_dir(out) as where:
            partial, meta = start_compare(loaded, searches, where, list(vary))
            folder, _ = run_compare(loaded, partial, meta, executor, progress=False)
            return open_results(folder, keep=out is not None)
    finally:
        executor.close()


# --------------------------------------------------------------------------- reading


def open_results(folder: str | Path, keep: bool = True) -> Results:
    """The tables of a finished run folder (written by any command or by this API).
    ``keep=False``: the folder is about to be removed (``Results.folder`` is then None)."""
    folder = Path(folder)
    meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    tables = _read_tables(folder)
    for sub in sorted(p for p in folder.iterdir() if (p / "meta.json").is_file()):
        stage = json.loads((sub / "meta.json").read_text(encoding="utf-8")).get("name", sub.name)
        tables.update({f"{stage}.{k}": v for k, v in _read_tables(sub).items()})
    by_rep = tables.pop("kpis_by_replication", pd.DataFrame())
    records = _read_records(folder, meta)
    return Results(
        kind=str(meta.get("kind", "")),
        meta=meta,
        summary=tables.pop("summary", pd.DataFrame()),
        differences=tables.pop("comparison", pd.DataFrame()),
        kpis=_tidy_kpis(by_rep, folder),
        tables=tables,
        folder=folder if keep else None,
        kpi_definitions=_kpi_definitions(folder),
        **records,
    )


def _read_tables(folder: Path) -> dict[str, pd.DataFrame]:
    out = {}
    for path in sorted(folder.glob("*.csv")):
        try:
            out[path.stem] = pd.read_csv(path, keep_default_na=False, na_values=[""])
        except pd.errors.EmptyDataError:
            out[path.stem] = pd.DataFrame()
    return out


def _kpi_definitions(folder: Path) -> dict[str, dict[str, Any]]:
    """Every KPI's unit, label, whether it is a headline figure and which way is better."""
    summary = folder / "summary.json"
    if not summary.exists():
        return {}
    return dict(json.loads(summary.read_text(encoding="utf-8")).get("kpis", {}))


def _tidy_kpis(by_rep: pd.DataFrame, folder: Path) -> pd.DataFrame:
    """``kpis_by_replication`` long: scenario, replication, kpi, label, unit, value."""
    columns = ["scenario", "replication", "kpi", "label", "unit", "value"]
    if by_rep.empty:
        return pd.DataFrame(columns=columns)
    long = by_rep.melt(id_vars=["scenario", "replication"], var_name="kpi", value_name="value")
    kpis = _kpi_definitions(folder)
    long["label"] = long["kpi"].map(lambda k: kpis.get(k, {}).get("label", ""))
    long["unit"] = long["kpi"].map(lambda k: kpis.get(k, {}).get("unit", ""))
    return long[columns]


_RECORD_FILE = re.compile(r"^(requests|calls|rides)(?:_(.+)_r(\d+))?\.csv\.gz$")


def _read_records(folder: Path, meta: dict[str, Any]) -> dict[str, pd.DataFrame | None]:
    """Every record file of the folder, one table per kind with scenario and replication."""
    by_slug = {slug(e["name"]): e["name"] for e in meta.get("scenarios", [])}
    parts: dict[str, list[pd.DataFrame]] = {kind: [] for kind in _RECORDS}
    for path in sorted(folder.glob("*.csv.gz")):
        match = _RECORD_FILE.match(path.name)
        if match is None:
            continue
        kind, scenario_slug, rep = match.groups()
        if scenario_slug is None:  # a single replication of a single scenario
            scenario, replication = meta["scenarios"][0]["name"], meta["replications"][0]
        else:
            scenario, replication = by_slug.get(scenario_slug, scenario_slug), int(rep)
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            table = pd.read_csv(fh, keep_default_na=False, na_values=[""])
        table.insert(0, "replication", replication)
        table.insert(0, "scenario", scenario)
        parts[kind].append(table)
    return {
        kind: pd.concat(tables, ignore_index=True) if tables else None
        for kind, tables in parts.items()
    }
