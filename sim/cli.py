"""Command line: parses arguments and calls sim.*; no model logic lives here."""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import re
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sim import __version__
from sim.experiments.defaults import (
    DEFAULT_DRAWS,
    DEFAULT_MAX_REPLICATIONS,
    DEFAULT_ONE_AT_A_TIME,
    DEFAULT_REPLICATIONS_COMPARE,
    DEFAULT_SEARCHES,
    DEFAULT_UNCERTAINTY_REPLICATIONS,
)
from sim.paths import groningen, program_name
from sim.scenario import Scenario, ScenarioError, load_scenario, scenario_json_schema
from sim.scenario.checks import calendar_warnings
from sim.scenario.schema import FORMS

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130

DEFAULT_SCENARIOS = tuple(str(groningen(form)) for form in FORMS)
DEFAULT_OUT = Path("results")
#: Bounds of counted options (a larger value is a typing error, not a study).
MAX_REPLICATIONS = 10_000
MAX_WORKERS = 1024
MAX_WEEKS = 520
MAX_SEED = 2**63 - 1


def _count(limit: int, low: int = 1, shown: str | None = None) -> Any:
    """An argparse type: a whole number from ``low`` to ``limit`` (``shown``: how the
    limit is written in the message)."""

    def count(text: str) -> int:
        try:
            value = int(text.strip(), 10)
        except ValueError:
            raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
        if not low <= value <= limit:
            raise argparse.ArgumentTypeError(
                f"must be from {low} to {shown or f'{limit:,}'}, not {text}"
            )
        return value

    return count


_positive = _count(MAX_REPLICATIONS)
_seed = _count(MAX_SEED, low=0, shown="2**63 - 1")


def _share(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number") from None
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError("must be between 0 and 1, e.g. 0.05 for 5 %")
    return value


def _study_options(p: argparse.ArgumentParser, default_reps: int) -> None:
    """The options of every command that runs a study (run, compare, sweep)."""
    p.add_argument(
        "--weeks",
        type=_count(MAX_WEEKS),
        metavar="N",
        help="reporting weeks after the warm-up (overrides run.weeks)",
    )
    p.add_argument(
        "--seed", type=_seed, metavar="S", help="base seed (overrides run.seed of every scenario)"
    )
    p.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="folder under which a new run folder <date-time>_<name> is created (default: results)",
    )
    _set_option(
        p,
        "override any scenario field, e.g. --set gp_post.triagists.weekday_evening=6 "
        "(repeatable; applied to every scenario; validated like the file)",
    )
    _overlay_option(p)
    _replication_options(p, default_reps)
    p.add_argument(
        "--resume",
        type=Path,
        metavar="FOLDER",
        help="finish an interrupted run from its unfinished folder (the scenarios and options "
        "stored there are used)",
    )
    p.add_argument(
        "--no-progress",
        action="store_true",
        help="no progress bar (it is also off when output is not a terminal)",
    )
    p.add_argument(
        "--parquet",
        action="store_true",
        help="also write a Parquet copy of every table and record file (needs the 'parquet' "
        "extra: pip install -e '.[parquet]')",
    )


def _replication_options(p: argparse.ArgumentParser, default_reps: int) -> None:
    if default_reps:
        reps_help = f"replications per scenario (default {default_reps})"
    else:
        reps_help = "replications per point (default: the sweep file's)"
    p.add_argument(
        "--replications",
        type=_positive,
        metavar="N",
        help=reps_help + "; with --precision, the starting number",
    )
    p.set_defaults(default_replications=default_reps)
    p.add_argument(
        "--precision",
        type=_share,
        metavar="R",
        help="add replications until the relative 95 %% half-width of the headline figures (and "
        "of their paired differences) is at most R, e.g. 0.05",
    )
    p.add_argument(
        "--max-replications",
        type=_positive,
        metavar="N",
        help=f"cap for --precision (default {DEFAULT_MAX_REPLICATIONS})",
    )
    p.add_argument(
        "--workers",
        type=_count(MAX_WORKERS),
        default=os.cpu_count() or 1,
        metavar="N",
        help="processes running replications in parallel (default: all cores); results do not "
        "depend on it",
    )
    p.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run replications on a dask.distributed cluster: a scheduler address "
        "(tcp://host:8786) or 'local' for a local cluster (needs: pip install -e '.[dask]'); "
        "results are identical to local runs",
    )


def _add_run(sub: Any) -> None:
    run = sub.add_parser(
        "run",
        help="run one scenario and write its results",
        description="Run a scenario (one replication unless --replications says more). Writes "
        "meta.json, summary.json, summary.csv, kpis_by_replication.csv, figures/, report.html "
        "and the records (requests.csv.gz, calls.csv.gz, rides.csv.gz for a single "
        "replication) into a new folder under --out.",
    )
    run.add_argument("scenario", type=Path, nargs="?", help="scenario YAML file")
    _study_options(run, 1)
    run.add_argument(
        "--no-records", action="store_true", help="do not write the per-request record files"
    )


def _add_compare(sub: Any) -> None:
    compare = sub.add_parser(
        "compare",
        help="compare scenarios on paired replications",
        description="Run every scenario on the same replication numbers and seed and report "
        "each KPI per scenario with its interval, and the paired difference to the first "
        "scenario with its interval and p-value.",
    )
    compare.add_argument(
        "scenarios", type=Path, nargs="*", help="scenario YAML files (the first is the baseline)"
    )
    _study_options(compare, DEFAULT_REPLICATIONS_COMPARE)
    compare.add_argument(
        "--save-requests", action="store_true", help="also write the records of every replication"
    )
    compare.add_argument(
        "--explain",
        action="store_true",
        help="also run each form with its structure only (today's triage, call durations and "
        "patience), then its own assumptions one at a time, and show where each headline "
        "difference comes from (explain.csv and a table in the report)",
    )


def _add_rerun(sub: Any) -> None:
    rerun = sub.add_parser(
        "rerun",
        help="run a finished study again from its meta.json and check its numbers are the same",
        description="Rebuild a finished run, compare, sweep or uncertainty study from the "
        "scenarios, seed, replications and design recorded in its meta.json (the scenario "
        "files need not exist any more) into a new folder, and check that every KPI of every "
        "replication and the summary are the same to the last digit. Exits 1 if they are not.",
    )
    rerun.add_argument("folder", type=Path, help="a finished run folder")
    rerun.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="folder under which the new run folder is made (default: results)",
    )
    _executor_options(rerun)
    rerun.add_argument("--no-progress", action="store_true", help="no progress bar")


def cmd_rerun(args: argparse.Namespace) -> int:
    """``rerun``: the study of a finished folder again, and whether its numbers agree."""
    from sim.experiments.runfiles import relative
    from sim.experiments.study import ResumeRefused, differing_tables, rerun_plan

    try:
        plan = rerun_plan(args.folder)
    except ResumeRefused as exc:
        return _bad("rerun", str(exc))
    problem = _out_problem(args.out or DEFAULT_OUT)
    if problem:
        return _bad("rerun", problem)
    args.resume = None
    folder = _run_study(args, plan, plan.kind)
    if isinstance(folder, int):
        return folder
    differ = differing_tables(args.folder, folder)
    print(f"Results: {relative(folder)}")
    if differ:
        print(f"NOT reproduced: {', '.join(differ)} differ from {args.folder}", file=sys.stderr)
        return EXIT_FAILED
    print(f"Reproduced: every KPI of every replication is the same as in {args.folder}")
    return EXIT_OK


def _add_check(sub: Any) -> None:
    check = sub.add_parser(
        "check",
        help="regression gate: compare a fixed reference set of runs with stored reference results",
        description="Run the reference set (scenarios, seed, replications and weeks stored with "
        "the reference) and compare every KPI with the stored results, with a tolerance from the "
        "replication spread. Exits 1 and lists every KPI that drifted.",
    )
    check.add_argument(
        "--update",
        action="store_true",
        help="rewrite the stored reference from this run (deliberately)",
    )
    _set_option(
        check, "override a field of every reference scenario (to see the gate catch a change)"
    )
    _workers_option(check)


def _add_validate(sub: Any) -> None:
    val = sub.add_parser(
        "validate",
        help="compare a scenario (Groningen today by default) with published figures",
        description="Run a scenario (by default Groningen's separate form, which the "
        "published Dutch figures describe) over several replications and print, for each "
        "published figure (docs/VALIDATION.md) and each figure of your own --targets file, "
        "the model's value with its 95 %% interval, the band and whether it lies inside. "
        "With --theory, also run the reductions of the model to solvable queueing cases.",
    )
    val.add_argument(
        "scenario", type=Path, nargs="?", help="scenario file (default: Groningen today)"
    )
    val.add_argument(
        "--targets",
        type=Path,
        metavar="FILE",
        help="your own figures: a CSV with key (a built-in figure or a KPI name), low, high "
        "and optionally label, unit, source",
    )
    val.add_argument(
        "--targets-only",
        action="store_true",
        help="with --targets: only your figures, not the built-in Dutch ones",
    )
    val.add_argument(
        "--replications", type=_positive, default=10, metavar="N", help="replications (default 10)"
    )
    val.add_argument(
        "--weeks",
        type=_count(MAX_WEEKS),
        default=4,
        metavar="N",
        help="reporting weeks per replication (default 4)",
    )
    _workers_option(val)
    _set_option(val, "override a field of the scenario")
    _overlay_option(val)
    val.add_argument(
        "--theory",
        action="store_true",
        help="also check the queueing-theory reductions (scenarios/validation/)",
    )
    val.add_argument(
        "--markdown", action="store_true", help="print Markdown tables (as in docs/VALIDATION.md)"
    )
    val.add_argument(
        "--strict",
        action="store_true",
        help="exit 1 when a figure falls outside its source band (for CI and scripts)",
    )


def _add_sweep(sub: Any) -> None:
    sweep = sub.add_parser(
        "sweep",
        help="run a parameter sweep (grid, one at a time, or Latin hypercube) from a sweep file",
        description="Run every point of a sweep file (a base scenario plus the fields to vary) "
        "on the same replication numbers and seed. Writes sweep_tidy.csv (one row per point, "
        "replication and KPI), sweep_summary.csv (per point with intervals) and figures of the "
        "headline KPIs against each field (tornado charts for one-at-a-time sweeps). Resumable "
        "with --resume.",
    )
    sweep.add_argument(
        "sweep_file", type=Path, nargs="?", help="sweep YAML file (see scenarios/sweeps/)"
    )
    _study_options(sweep, 0)


MAX_DRAWS = 65_536


def _add_uncertainty(sub: Any) -> None:
    unc = sub.add_parser(
        "uncertainty",
        help="how sure is the comparison? run the forms over draws of their uncertain inputs",
        description="Draw the uncertain inputs the scenarios declare (their 'uncertainty:' block)"
        " with a space-filling design, and run every form at every draw on the same "
        "replication numbers and seed; then the most decisive inputs one at a time, "
        "and each form's --explain chain at the base values. Writes report.html "
        "(which form is better than today, how likely, and what decides it), "
        "uncertainty_tidy.csv (one row per draw, form, replication and KPI), "
        "uncertainty_inputs.csv (each draw's input values), uncertainty_summary.csv "
        "(per KPI and form against the first: the spread of the difference over the "
        "draws, the probability of being better, the verdict, and the share of the "
        "spread that is input uncertainty rather than noise), sensitivity.csv, and in"
        " the second stage's folder thresholds.csv. Without scenario files, the four "
        "Groningen forms (today's first). Resumable with --resume.",
    )
    unc.add_argument("scenarios", type=Path, nargs="*", help="scenario files, today's form first")
    unc.add_argument(
        "--draws",
        type=_count(MAX_DRAWS, low=2),
        metavar="N",
        help=f"draws of the inputs (default {DEFAULT_DRAWS}; a power of two for Sobol')",
    )
    unc.add_argument(
        "--design",
        choices=("sobol", "lhs", "saltelli"),
        help="scrambled Sobol' points (default), a Latin hypercube, or Saltelli's design for "
        "Sobol' sensitivity indices (--draws is then its base size N, a power of two, and "
        "N * (inputs + 2) draws are run)",
    )
    unc.add_argument(
        "--one-at-a-time",
        type=_count(64, low=0),
        metavar="K",
        help="after the draws, run the K most decisive inputs one at a time over their range "
        f"with the others at their base values, for the tornado and the sign-change thresholds "
        f"(default {DEFAULT_ONE_AT_A_TIME}; 0: none)",
    )
    _study_options(unc, DEFAULT_UNCERTAINTY_REPLICATIONS)


def _add_staffing(sub: Any) -> None:
    staff = sub.add_parser(
        "staffing",
        help="how many staff does each front desk need? the least roster that meets the norms",
        description="Find the least staff per hour of the week at every front desk of the "
        "scenario's form (intake staff included) that meets the norms of its 'staffing:' "
        "block: an offered-load and Erlang-A start, then the iterative staffing algorithm on "
        "the full model with common random numbers, and a search of its target until every "
        "norm is met with the stated confidence. The hourly requirement becomes the "
        "scenario's day parts and, with shift patterns (staffing.shifts), a roster of real "
        "shifts with the fewest paid hours; runs on independent replications verify both, "
        "and the scenario's own roster. Writes report.md, staffing.csv (hours, FTE, cost per "
        "desk), shifts.csv, hourly.csv, norms.csv (every norm with its interval), "
        "snippet.yaml (the tables, ready to paste) and a figure of staff by hour against "
        "demand. Resumable with --resume.",
    )
    staff.add_argument(
        "scenarios",
        type=Path,
        nargs="*",
        help="scenario YAML file (with --compare: files, today's form first; default: the "
        "four Groningen forms)",
    )
    _staffing_compare_options(staff)
    staff.add_argument(
        "--services",
        action="store_true",
        help="also staff the services behind the desks (GP consult GPs, GP cars, ambulances) "
        "to the care norms in staffing.norms.care (the same as --set staffing.services=true)",
    )
    staff.add_argument(
        "--weeks", type=_count(MAX_WEEKS), metavar="N", help="reporting weeks (overrides run.weeks)"
    )
    staff.add_argument("--seed", type=_seed, metavar="S", help="base seed (overrides run.seed)")
    staff.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="folder under which the run folder <date-time>_staffing_<name> is made "
        "(default: results)",
    )
    _set_option(
        staff, "override any scenario field, e.g. --set staffing.norms.abandoned_share_max=0.03"
    )
    _overlay_option(staff)
    _executor_options(staff)
    staff.add_argument(
        "--resume", type=Path, metavar="FOLDER", help="finish an interrupted staffing run"
    )
    staff.add_argument("--no-progress", action="store_true", help="no progress bar")
    staff.add_argument(
        "--parquet",
        action="store_true",
        help="also write a Parquet copy of every table (needs the 'parquet' extra)",
    )


def _staffing_compare_options(staff: argparse.ArgumentParser) -> None:
    """The options of ``staffing --compare``."""
    staff.add_argument(
        "--compare",
        action="store_true",
        help="staff every form to the same norms and compare staff hours, FTE and cost "
        "(paired over independent searches)",
    )
    staff.add_argument(
        "--searches",
        type=_count(50, low=2),
        metavar="K",
        help=f"with --compare: independent searches per form (default {DEFAULT_SEARCHES})",
    )
    staff.add_argument(
        "--vary",
        action="append",
        default=[],
        metavar="INPUT",
        help="with --compare: also staff every form with this uncertain input (a name in the "
        "scenarios' uncertainty: block, e.g. coordination_call_length) at its 5 %% and 95 %% "
        "points, and show how the difference moves (repeatable)",
    )


def _add_scenario_tools(sub: Any) -> None:
    schema = sub.add_parser(
        "schema",
        help="print the JSON Schema of scenario files (for editors)",
        description="Print the JSON Schema that scenario files follow, with every field's "
        "description and unit. The shipped copies are scenarios/scenario.schema.json and "
        "scenarios/scenario.partial.schema.json; an editor with a YAML language server uses "
        "them from a first line '# yaml-language-server: $schema=<path to the file>'.",
    )
    schema.add_argument(
        "--partial",
        action="store_true",
        help="the schema of a variant file, form mix-in or overlay (no field required)",
    )
    check = sub.add_parser(
        "validate-scenario",
        help="check scenario files without running them",
        description="Load and validate scenario files; print every problem with its location.",
    )
    check.add_argument("scenarios", type=Path, nargs="+", help="scenario YAML files")
    _set_option(check, "override a field")
    _overlay_option(check)


def _date(text: str) -> Any:
    """An argparse type: a date (YYYY-MM-DD)."""
    import datetime as dt

    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date (YYYY-MM-DD)") from None


def _add_app(sub: Any) -> None:
    app = sub.add_parser(
        "app",
        help="start the web app (compare forms in a browser)",
        description="Start the web app on this machine: pick or upload scenarios, change the "
        "inputs that decide a comparison, run it, read the verdict and download the report. "
        "Needs the 'app' extra: pip install -e '.[app]'. Stop it with Ctrl-C.",
    )
    app.add_argument("--port", type=_count(65_535), default=8501, help="port (default 8501)")
    app.add_argument(
        "--address",
        default="localhost",
        help="address to serve on (default localhost: this machine only)",
    )


def cmd_app(args: argparse.Namespace) -> int:
    """``app``: Streamlit serving sim/app.py."""
    import importlib.util
    import subprocess

    if importlib.util.find_spec("streamlit") is None:
        return _bad("app", "the web app needs Streamlit: pip install -e '.[app]'")
    script = Path(__file__).resolve().parent / "app.py"
    command = [
        sys.executable, "-m", "streamlit", "run", str(script),
        "--server.port", str(args.port), "--server.address", args.address,
        "--server.headless", "true", "--browser.gatherUsageStats", "false",
        "--client.toolbarMode", "viewer",
    ]  # fmt: skip
    print(f"{program_name()} app: http://{args.address}:{args.port} (Ctrl-C stops it)")
    try:
        return subprocess.call(command)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED


def _add_data_tools(sub: Any) -> None:
    imp = sub.add_parser(
        "import-profile",
        help="a telephony export (calls per hour) into a demand profile and annual volume",
        description="Read hourly call or contact counts - one row per call with a "
        "'timestamp', rows with an 'hour_of_week' (0 = Monday 00:00; with --weeks), or "
        "'date', 'hour' and 'count' per row - and print a demand profile (per weekday when "
        "Monday to Friday differ, by a chi-square test) with the annual volume, as a "
        "scenario snippet that loads as an --overlay.",
    )
    imp.add_argument("file", type=Path, help="CSV file with a header row")
    imp.add_argument("--name", default="imported", help="the profile's name (default imported)")
    imp.add_argument("--group", help="also point this demand group at the profile")
    imp.add_argument(
        "--population",
        type=_count(100_000_000),
        help="with --group: the region's population, to give the volume per 1,000 a year",
    )
    imp.add_argument(
        "--days",
        choices=("auto", "seven", "weekday"),
        default="auto",
        help="a profile per weekday (seven), one for Monday-Friday (weekday), or as the "
        "test says (auto, the default)",
    )
    imp.add_argument("--weeks", type=_weeks_covered, help="weeks an hour_of_week file covers")
    imp.add_argument(
        "--skip",
        type=_date,
        action="append",
        default=[],
        metavar="DATE",
        help="leave this date out (a public holiday in the data; repeatable)",
    )
    imp.add_argument("--out", type=Path, help="also write the snippet to this new file")
    fit = sub.add_parser(
        "fit-durations",
        help="fit call or task durations (lognormal, gamma, Weibull, exponential)",
        description="Fit measured durations - a column 'minutes' or 'seconds', and "
        "optionally 'task' - as lognormal, gamma, Weibull and exponential (maximum "
        "likelihood); rank them by AIC, test each (Anderson-Darling, bootstrap p-value), "
        "give the best one's mean and cv with 95 %% intervals, and print the scenario "
        "snippet.",
    )
    fit.add_argument("file", type=Path, help="CSV file with a header row")
    fit.add_argument(
        "--field",
        default="",
        help="where the durations go in a scenario, e.g. gp_post.triage.handle_time (the "
        "snippet then loads as an --overlay)",
    )
    fit.add_argument(
        "--dist",
        choices=("lognormal", "gamma", "weibull", "exponential"),
        help="give this form in the snippet, whatever AIC says",
    )
    fit.add_argument("--seed", type=_seed, default=1, help="seed of the bootstrap (default 1)")
    fit.add_argument("--out", type=Path, help="also write the snippet to this new file")


def _weeks_covered(text: str) -> float:
    """An argparse type: a positive number of weeks (at most ten years)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number") from None
    if not 0 < value <= MAX_WEEKS:
        raise argparse.ArgumentTypeError(f"must be more than 0 and at most {MAX_WEEKS}")
    return value


def _overlay_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--overlay",
        dest="overlays",
        action="append",
        default=[],
        type=Path,
        metavar="FILE",
        help="merge the fields this scenario file sets itself (not its base's, name or form) "
        "over every scenario, before --set: e.g. --overlay scenarios/groningen_christmas.yaml "
        "runs each form over Christmas (repeatable)",
    )


def _set_option(p: argparse.ArgumentParser, help_text: str) -> None:
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help=help_text,
    )


def _executor_options(p: argparse.ArgumentParser) -> None:
    """``--workers`` and ``--scheduler`` of a command that is not a study (see compare)."""
    _workers_option(p)
    p.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run replications on a dask.distributed cluster (see compare --help)",
    )


def _workers_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--workers",
        type=_count(MAX_WORKERS),
        default=os.cpu_count() or 1,
        metavar="N",
        help="parallel processes (default: all cores)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The command line: every command with its options."""
    parser = argparse.ArgumentParser(
        prog=program_name(),
        description="After-hours acute care simulator: compare separate front doors (112 and the "
        "GP post) with forms of coordination. Without a command, runs the default comparison "
        "of the four Groningen forms (with --explain) and writes its report.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_run(sub)
    _add_compare(sub)
    _add_check(sub)
    _add_validate(sub)
    _add_sweep(sub)
    _add_uncertainty(sub)
    _add_staffing(sub)
    _add_rerun(sub)
    _add_scenario_tools(sub)
    _add_data_tools(sub)
    _add_app(sub)
    return parser


def _load(
    path: Path,
    overrides: Sequence[str],
    weeks: int | None = None,
    seed: int | None = None,
    overlays: Sequence[Path] = (),
) -> Scenario:
    extra = list(overrides)
    if weeks is not None:
        extra.append(f"run.weeks={weeks}")
    if seed is not None:
        extra.append(f"run.seed={seed}")
    return load_scenario(path, extra, overlays)


def _load_all(paths: Sequence[Path], args: argparse.Namespace) -> list[Scenario]:
    """Every scenario, validated; all problems of all files are raised together."""
    problems = []
    out = []
    for path in paths:
        try:
            out.append(_load(path, args.overrides, args.weeks, args.seed, args.overlays))
        except ScenarioError as exc:
            problems.extend(exc.problems)
    if problems:
        raise ScenarioError(problems)
    _warn_calendar(out)
    return out


def _warn_calendar(scenarios: Sequence[Scenario]) -> None:
    """Print, once each, what the scenarios' calendars list that the run will not show."""
    for message in dict.fromkeys(w for sc in scenarios for w in calendar_warnings(sc)):
        print(f"warning: {message}", file=sys.stderr)


def _run_study(args: argparse.Namespace, plan: Any, command: str) -> Path | int:
    """Start the plan (or resume ``--resume``) on the chosen executor, writing the report or
    the sweep's figures at the end; the finished folder, or an exit code when the study
    stopped early (the message, with what is kept and how to finish, is printed)."""
    from sim.experiments.executors import make_executor
    from sim.experiments.study import StudyStopped, resume, start
    from sim.report import write_study_outputs

    problem = _parquet_problem(args, plan)
    if problem:
        return _bad(command, problem)
    progress = False if args.no_progress else None
    executor = make_executor(args.scheduler, args.workers)
    try:
        if plan is None:
            return resume(args.resume, executor, progress, write_study_outputs, kind=command)
        return start(plan, args.out or DEFAULT_OUT, executor, progress, write_study_outputs)
    except StudyStopped as exc:
        print(f"\n{program_name()} {command}: {exc}", file=sys.stderr)
        return exc.exit_code
    finally:
        executor.close()


def _parquet_problem(args: argparse.Namespace, plan: Any) -> str | None:
    """Why the study's Parquet copies cannot be written here, if it asks for them."""
    from sim.experiments.runfiles import parquet_problem

    wanted = plan.parquet if plan is not None else False
    if plan is None and args.resume is not None:
        with contextlib.suppress(OSError, ValueError, AttributeError):
            wanted = bool(json.loads((args.resume / "meta.json").read_text()).get("parquet"))
    return parquet_problem() if wanted else None


#: Options a resumed study takes from its folder: given with --resume, they are refused.
RESUME_TAKES_FROM_FOLDER = (
    ("overrides", "--set"),
    ("overlays", "--overlay"),
    ("weeks", "--weeks"),
    ("seed", "--seed"),
    ("replications", "--replications"),
    ("precision", "--precision"),
    ("max_replications", "--max-replications"),
    ("out", "--out"),
    ("explain", "--explain"),
    ("save_requests", "--save-requests"),
    ("no_records", "--no-records"),
    ("parquet", "--parquet"),
)


def _resume_problem(args: argparse.Namespace, files_given: bool) -> str | None:
    """Why ``--resume`` cannot be combined with the other arguments given, if it cannot."""
    given = ["scenario files"] if files_given else []
    given += [
        flag
        for attr, flag in RESUME_TAKES_FROM_FOLDER
        if getattr(args, attr, None) not in (None, False, [])
    ]
    if not given:
        return None
    return (
        f"--resume {args.resume} finishes the study with the scenarios and options stored in "
        f"its folder; remove {', '.join(given)}"
    )


def _out_problem(out: Path) -> str | None:
    """Why a new run folder cannot be made under ``out``, if it cannot (nothing is written)."""
    text = str(out)
    if len(os.fsencode(text)) >= 4000:
        return f"--out: the path is too long ({len(text)} characters)"
    for part in out.parts:
        if len(os.fsencode(part)) > 200:
            return f"--out {text}: the name '{part[:40]}...' is too long for a folder name"
    probe = out
    while not probe.exists():
        if probe.is_symlink():
            return f"--out {text}: {probe} is a broken symbolic link"
        if probe.parent == probe:
            break
        probe = probe.parent
    if not probe.is_dir():
        return f"--out {text}: {probe} is a file, not a folder"
    if not os.access(probe, os.W_OK | os.X_OK):
        return f"--out {text}: cannot write in {probe} (no permission, or a read-only disk)"
    return None


def _study(args: argparse.Namespace, paths: Sequence[Path], kind: str, save_requests: bool) -> int:
    plan = None
    if args.resume is not None:
        problem = _resume_problem(args, bool(paths))
        if problem:
            return _bad(kind, problem)
    else:
        # every check and every scenario comes before any folder is made or worker started
        paths = list(paths) or [Path(p) for p in DEFAULT_SCENARIOS if kind == "compare"]
        if not paths:
            return _bad(kind, "give a scenario file (or --resume FOLDER)")
        problem = _out_problem(args.out or DEFAULT_OUT)
        if problem:
            return _bad(kind, problem)
        scenarios = _load_all(paths, args)
        # the study machinery (and scipy) is imported only once the input is known good
        from sim.experiments.plans import PlanProblem, compare_plan

        try:
            plan = compare_plan(
                scenarios,
                [str(p) for p in paths],
                kind,
                args.replications or args.default_replications,
                args.precision,
                args.max_replications,
                save_requests,
                explain=getattr(args, "explain", False),
                parquet=args.parquet,
            )
        except PlanProblem as exc:
            return _bad(f"{kind} {exc.option}".strip(), str(exc))
    folder = _run_study(args, plan, kind)
    if isinstance(folder, int):
        return folder
    try:
        _print_summary(folder)
    except KeyboardInterrupt:
        print(f"interrupted; the finished results are in {folder}", file=sys.stderr)
        return EXIT_INTERRUPTED
    return EXIT_OK


def _bad(command: str, message: str) -> int:
    """Print a message about the command's arguments; the exit code of bad input."""
    print(f"{program_name()} {command}: {message}", file=sys.stderr)
    return EXIT_BAD_INPUT


def _print_summary(folder: Path) -> None:
    from sim.experiments.runfiles import number_or_nan, relative
    from sim.report.formatting import in_system_warnings
    from sim.report.text import explain_text, text_summary

    data = json.loads((folder / "summary.json").read_text())
    meta = data["meta"]

    explain = meta.get("explain")
    shown = None if not explain else {explain["baseline"], *explain["forms"]}
    rows = [
        {**r, **{k: number_or_nan(r[k]) for k in ("mean", "ci_low", "ci_high")}}
        for r in data["summary"]
        if shown is None or r["scenario"] in shown
    ]
    comparison = [
        {**c, "difference": number_or_nan(c["difference"])}
        for c in data["comparison"]
        if shown is None or c["scenario"] in shown
    ]
    scenario_names = [s["name"] for s in meta["scenarios"] if shown is None or s["name"] in shown]
    reps = meta["replications_run"]
    title = (
        f"{' vs '.join(scenario_names)}: "
        f"{reps} replication{'s' if reps != 1 else ''}, seed {meta['seed']}; mean [95 % CI]"
    )
    if len(scenario_names) > 1:
        title += "; other scenarios: mean (paired difference to the first)"
    kpis = data["kpis"]
    directions = {n: k.get("better", "") for n, k in kpis.items()}
    headline = [n for n, k in kpis.items() if k["headline"]]
    print(text_summary(rows, comparison, title, directions, headline))
    for warning in in_system_warnings(rows):
        print(f"\n{warning}")
    if explain and (folder / "explain.csv").exists():
        print("\n" + explain_text(folder / "explain.csv"))
    print(f"\nResults and report: {relative(folder)}{os.sep}report.html")


def cmd_run(args: argparse.Namespace) -> int:
    """``run``: one scenario (one replication unless told more), with its records."""
    paths = [args.scenario] if args.scenario is not None else []
    return _study(args, paths, "run", save_requests=not args.no_records)


def cmd_compare(args: argparse.Namespace) -> int:
    """``compare`` (and no command): scenarios on paired replications."""
    return _study(args, list(args.scenarios), "compare", save_requests=args.save_requests)


def cmd_sweep(args: argparse.Namespace) -> int:
    """``sweep``: every point of a sweep file on paired replications."""
    from sim.experiments.plans import sweep_plan
    from sim.experiments.runfiles import relative
    from sim.experiments.sweep import load_sweep, point_table

    plan = None
    if args.resume is not None:
        problem = _resume_problem(args, args.sweep_file is not None)
        if problem:
            return _bad("sweep", problem)
    else:
        if args.sweep_file is None:
            return _bad("sweep", "give a sweep file (or --resume FOLDER)")
        if args.overrides or args.overlays:
            return _bad(
                "sweep",
                "--set and --overlay are not taken here; put fixed changes in the base scenario",
            )
        problem = _out_problem(args.out or DEFAULT_OUT)
        if problem:
            return _bad("sweep", problem)
        sw = load_sweep(args.sweep_file, args.weeks, args.seed)
        print(
            f"sweep {sw.spec.name}: {len(sw.points)} points ({sw.spec.design})\n{point_table(sw)}"
        )
        plan = sweep_plan(
            sw,
            str(args.sweep_file),
            args.replications,
            args.precision,
            args.max_replications,
            args.parquet,
        )
    folder = _run_study(args, plan, "sweep")
    if isinstance(folder, int):
        return folder
    print(f"\nSweep results: {relative(folder)} (sweep_tidy.csv, sweep_summary.csv, figures/)")
    return EXIT_OK


def cmd_uncertainty(args: argparse.Namespace) -> int:
    """``uncertainty``: the forms over draws of their uncertain inputs, then the most
    decisive inputs one at a time; the decision report."""
    from sim.experiments.runfiles import relative

    plan = None
    if args.resume is not None:
        problem = _resume_problem(args, bool(args.scenarios))
        for flag, given in (("--draws", args.draws), ("--design", args.design)):
            if given is not None:
                problem = problem or f"--resume takes the draws from its folder; remove {flag}"
        if problem:
            return _bad("uncertainty", problem)
    else:
        plan = _uncertainty_plan(args)
        if isinstance(plan, int):
            return plan
    folder = _run_study(args, plan, "uncertainty")
    if isinstance(folder, int):
        return folder
    if _stage(folder) == "one_at_a_time":
        folder = folder.parent  # a resumed second stage: the study is its parent folder
    else:
        code = _one_at_a_time(args, folder)
        if code:
            return code
    _print_uncertainty(folder)
    _print_sensitivity(folder)
    print(f"\nReport: {relative(folder / 'report.html')}")
    print(f"Results: {relative(folder)} (uncertainty_summary.csv, sensitivity.csv, thresholds.csv)")
    return EXIT_OK


def _uncertainty_plan(args: argparse.Namespace) -> Any:
    """The study plan of a new uncertainty study, or an exit code for bad arguments."""
    if args.precision is not None:
        return _bad("uncertainty", "--precision is not taken here; give --replications")
    problem = _out_problem(args.out or DEFAULT_OUT)
    if problem:
        return _bad("uncertainty", problem)
    paths = list(args.scenarios) or [Path(p) for p in DEFAULT_SCENARIOS]
    forms = _load_all(paths, args)
    from sim.experiments.plans import PlanProblem, uncertainty_plan

    design = args.design or "sobol"
    try:
        plan = uncertainty_plan(
            forms,
            [str(p) for p in paths],
            args.draws,
            design,
            args.replications or args.default_replications,
            args.max_replications,
            args.one_at_a_time,
            args.parquet,
        )
    except PlanProblem as exc:
        return _bad("uncertainty", str(exc))
    info = plan.uncertainty or {}
    print(
        f"uncertainty: {len(info['inputs'])} inputs, {len(info['draws'])} draws ({design}), "
        f"{len(forms)} forms: {', '.join(sc.name for sc in forms)}"
    )
    return plan


def _wrap_names(names: list[str], width: int = 100) -> list[str]:
    """Names after two spaces, comma-separated, on lines of at most ``width`` columns."""
    lines, line = [], " "
    for n in names:
        if len(line) + len(n) + 2 > width:
            lines.append(line.rstrip(","))
            line = " "
        line += f" {n},"
    return [*lines, line.rstrip(",")]


def _stage(folder: Path) -> str:
    meta = json.loads((folder / "meta.json").read_text())
    return str((meta.get("uncertainty") or {}).get("stage", "draws"))


def _one_at_a_time(args: argparse.Namespace, folder: Path) -> int:
    """The second stage of an uncertainty study: its most decisive inputs run one at a
    time, in a study of its own inside the first one's folder (resumable like any study);
    its end rewrites the report with the tornado and the thresholds."""
    from sim.experiments.plans import second_stage_plan

    stage = second_stage_plan(folder, args.one_at_a_time)
    if stage is None:
        return EXIT_OK
    inputs = stage.inputs
    print(f"\none at a time: {len(inputs)} inputs x {stage.points} points, and each form's chain")
    for line in _wrap_names(inputs):
        print(line)
    plan = stage.plan
    args.out, args.resume = folder, None
    done = _run_study(args, plan, "uncertainty")
    return done if isinstance(done, int) else EXIT_OK


def _print_sensitivity(folder: Path) -> None:
    """Per form and headline KPI that depends on the inputs, the three most decisive
    inputs (total Sobol' index for a Saltelli design, first-order index otherwise)."""
    import csv

    path = folder / "sensitivity.csv"
    if not path.exists():
        return
    with path.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    with (folder / "uncertainty_summary.csv").open(encoding="utf-8") as fh:
        verdicts = {(r["form"], r["kpi"]): r["verdict"] for r in csv.DictReader(fh)}
    if not rows:
        return
    from sim.report.formatting import cell_number, short_label

    sobol = rows[0]["method"] == "sobol"
    what = "total Sobol' index" if sobol else "first-order index, RBD-FAST"
    print(f"\nWhat decides the answers that depend on the inputs ({what}, 95 % interval):")
    seen: dict[tuple[str, str], int] = {}
    for r in rows:
        key = (r["form"], r["kpi"])
        if verdicts.get(key) != "depends":
            continue
        seen[key] = seen.get(key, 0) + 1
        if seen[key] > 3:
            continue
        if seen[key] == 1:
            print(f"  {r['form']}, {short_label(r['kpi'], r['label'])}:")
        value, ci = (
            (r["total"], r["total_ci"]) if sobol else (r["first_order"], r["first_order_ci"])
        )
        print(f"    {r['input']:<32} {cell_number(value):5.2f} +- {cell_number(ci):4.2f}")


def _print_uncertainty(folder: Path) -> None:
    """Per form against today, each headline KPI in plain words (within 100 columns)."""
    import csv

    with (folder / "uncertainty_summary.csv").open(encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if r["better"]]
    headline = set(_headline_names(folder))
    for form in dict.fromkeys(r["form"] for r in rows):
        print(f"\n{form} against {rows[0]['baseline']}, over the draws of the inputs")
        print(
            f"  {'difference to today':<36} {'verdict':<7} {'P(better)':>9}  "
            "median [5 %, 95 %], share from inputs"
        )
        for r in rows:
            if r["form"] != form or r["kpi"] not in headline or r["p_better"] in ("", "nan"):
                continue
            print("  " + uncertainty_line(r))


def _headline_names(folder: Path) -> list[str]:
    data = json.loads((folder / "summary.json").read_text())
    return [name for name, k in data["kpis"].items() if k["headline"]]


def uncertainty_line(row: dict[str, str]) -> str:
    """One row of ``uncertainty_summary.csv`` in a line: its verdict
    (``uncertainty.verdict``; 'no difference' shortened), the probability of being better,
    the median difference with its 5 % and 95 % points, and the share of the spread the
    inputs explain."""
    from sim.report.formatting import short_label

    p = float(row["p_better"])
    share = float(row["input_share"]) if row["input_share"] not in ("", "nan") else math.nan
    scale, unit = (100.0, "points") if row["unit"] == "share" else (1.0, row["unit"])
    unit = unit.replace("hours/week", "h/week")
    if unit == "min" and max(abs(float(row[k])) for k in ("p05", "p95")) < 1.0:
        scale, unit = 60.0, "s"  # differences of under a minute, in seconds
    lo, mid, hi = (scale * float(row[k]) for k in ("p05", "p50", "p95"))
    verdict = row["verdict"].replace("no difference", "no diff")
    label = short_label(row.get("kpi", ""), row["label"])
    inputs = "" if math.isnan(share) else f", inputs {share:.0%}"
    return f"{label:<36} {verdict:<7} {p:>9.0%}  {mid:+.1f} [{lo:+.1f}, {hi:+.1f}] {unit}{inputs}"


def _staffing_problem(args: argparse.Namespace) -> str | None:
    """Why the staffing command's arguments do not go together, if they do not."""
    if args.resume is not None:
        given = [
            f
            for a, f in RESUME_TAKES_FROM_FOLDER
            if getattr(args, a, None) not in (None, False, [])
        ]
        given += ["the scenario files"] if args.scenarios else []
        given += ["--searches"] if args.searches is not None else []
        given += ["--vary"] if args.vary else []
        given += ["--services"] if args.services else []
        if given:
            remove = ", ".join(given)
            return f"--resume takes the scenarios and options from its folder; remove {remove}"
        return None
    from sim.experiments.runfiles import parquet_problem

    if args.parquet and parquet_problem():
        return parquet_problem()
    if not args.compare and len(args.scenarios) != 1:
        return "give one scenario file (or --compare with several, or --resume FOLDER)"
    if not args.compare and (args.searches is not None or args.vary):
        return "--searches and --vary go with --compare"
    return _out_problem(args.out or DEFAULT_OUT)


def cmd_staffing(args: argparse.Namespace) -> int:
    """``staffing``: the least roster of the front desks that meets the norms; with
    ``--compare``, every form at the same norms."""
    problem = _staffing_problem(args)
    if problem:
        return _bad("staffing", problem)
    from sim.staffing.compare import read_compare, start_compare
    from sim.staffing.run import read_folder, start_folder

    if args.resume is not None:
        try:
            compare = read_compare(args.resume)
        except ValueError as exc:
            return _bad("staffing", str(exc))
        if compare is None:
            try:
                sc, meta = read_folder(args.resume)
            except ValueError as exc:
                return _bad("staffing", str(exc))
        else:
            meta = compare[1]
        scenarios = compare[0] if compare is not None else [sc]
    else:
        paths = list(args.scenarios) or [Path(p) for p in DEFAULT_SCENARIOS]
        if args.services:
            args.overrides = [*args.overrides, "staffing.services=true"]
        scenarios = _load_all(paths, args)
        if len({sc.name for sc in scenarios}) != len(scenarios):
            return _bad("staffing", "scenarios need distinct names")
        from sim.staffing.compare import vary_problem

        problem = vary_problem(scenarios, args.vary)
        if problem:
            return _bad("staffing", problem)
    # every check comes before the folder is made
    if args.resume is not None:
        partial = args.resume
    elif args.compare:
        searches = args.searches or DEFAULT_SEARCHES
        partial, meta = start_compare(
            scenarios, searches, args.out or DEFAULT_OUT, args.vary, args.parquet
        )
        compare = (scenarios, meta)
    else:
        compare = None
        partial, meta = start_folder(
            scenarios[0], args.out or DEFAULT_OUT, str(args.scenarios[0]), args.parquet
        )
    return _run_staffing(args, compare, (scenarios[0], meta), partial)


def _run_staffing(args: argparse.Namespace, compare: Any, plan: Any, partial: Path) -> int:
    """Run the staffing search (or comparison) into its folder, on the chosen executor."""
    from sim.experiments.executors import make_executor

    executor = make_executor(args.scheduler, args.workers)
    progress = not args.no_progress and sys.stderr.isatty()
    try:
        if compare is not None:
            return _staffing_compare(compare, partial, executor, progress)
        return _staffing_one(plan, partial, executor, progress)
    except KeyboardInterrupt:
        print(
            f"\n{program_name()} staffing: interrupted; what was simulated is kept in "
            f"{partial}; finish with: {program_name()} staffing --resume {partial}",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    finally:
        executor.close()


def _staffing_one(plan: Any, partial: Path, executor: Any, progress: bool) -> int:
    from sim.experiments.runfiles import relative
    from sim.staffing.outputs import text_report
    from sim.staffing.run import run_in_folder

    sc, meta = plan
    folder, result = run_in_folder(sc, partial, meta, executor, progress)
    print(text_report(result))
    print(f"Results: {relative(folder)}{os.sep}report.md")
    met = all(r.met for r in [*result.norms, *result.shift_norms])  # not the scenario's own
    return EXIT_OK if met else EXIT_FAILED


def _staffing_compare(compare: Any, partial: Path, executor: Any, progress: bool) -> int:
    from sim.experiments.runfiles import relative
    from sim.staffing.compare import run_compare

    scenarios, meta = compare
    folder, text = run_compare(scenarios, partial, meta, executor, progress)
    print(text)
    print(f"Results: {relative(folder)}{os.sep}report.md")
    return EXIT_OK if "Not every norm" not in text else EXIT_FAILED


def cmd_check(args: argparse.Namespace) -> int:
    """``check``: the regression gate."""
    from sim.experiments.regression import run_check

    return run_check(update=args.update, overrides=args.overrides, workers=args.workers)


def cmd_validate(args: argparse.Namespace) -> int:
    """``validate``: a scenario (Groningen today by default) against published figures and
    your own (``--targets``), and the queueing-theory reductions with ``--theory``."""
    from sim.validation.published import SCENARIO, TARGETS, format_table, run_validation
    from sim.validation.theory import format_theory, theory_checks

    path = args.scenario or SCENARIO
    sc = load_scenario(path, (f"run.weeks={args.weeks}", *args.overrides), args.overlays)
    targets = () if args.targets_only else TARGETS
    if args.targets is not None:
        from sim.data.tables import DataProblem
        from sim.validation.own_targets import read_targets

        try:
            targets = (*targets, *read_targets(args.targets, sc))
        except DataProblem as exc:
            return _bad("validate --targets", str(exc))
    elif args.targets_only:
        return _bad("validate", "--targets-only goes with --targets FILE")
    rows = run_validation(args.replications, args.weeks, args.workers, sc, targets=targets)
    if not rows:
        return _bad("validate", f"none of the figures can be measured in {sc.name}")
    print(
        f"{sc.name} vs published figures"
        + (" and yours" if args.targets is not None else "")
        + f" ({args.replications} replications of {args.weeks} weeks; model mean with 95 % "
        "interval)"
    )
    print(format_table(rows, markdown=args.markdown))
    outside = [r for r in rows if not r.inside]
    print(
        f"\n{len(rows) - len(outside)} of {len(rows)} figures inside their source band"
        + ("; see docs/VALIDATION.md for the others" if outside else "")
    )
    failed = bool(outside)
    if args.theory:
        theory = theory_checks(args.replications, max(2, args.weeks // 2), workers=args.workers)
        print("\nReductions to queueing theory (99.9 % intervals)")
        print(format_theory(theory, markdown=args.markdown))
        failed = failed or not all(row.agrees for row in theory)
    return EXIT_FAILED if args.strict and failed else EXIT_OK


def cmd_schema(args: argparse.Namespace) -> int:
    """``schema``: print the JSON Schema of scenario files."""
    print(json.dumps(scenario_json_schema(partial=args.partial), indent=2))
    return EXIT_OK


def cmd_validate_scenario(args: argparse.Namespace) -> int:
    """``validate-scenario``: check files without running them."""
    status = EXIT_OK
    for path in args.scenarios:
        try:
            sc = load_scenario(path, args.overrides, args.overlays)
        except ScenarioError as exc:
            print(exc, file=sys.stderr)
            status = EXIT_BAD_INPUT
        else:
            print(f"{path}: ok ({sc.name}, {sc.organisation})")
            _warn_calendar([sc])
    return status


def _write_new(path: Path | None, text: str, command: str) -> int:
    """Print ``text`` and, with a path, write it there as a new file (never over one)."""
    print(text, end="")
    if path is None:
        return EXIT_OK
    from sim.experiments.runfiles import atomic_open

    if path.exists():
        return _bad(command, f"--out {path}: the file exists; give a new name")
    with atomic_open(path, "w", encoding="utf-8") as fh:
        fh.write(text)
    print(f"# written to {path}", file=sys.stderr)
    return EXIT_OK


def cmd_import_profile(args: argparse.Namespace) -> int:
    """``import-profile``: a telephony export into a demand profile."""
    from sim.data.profile import read_profile, snippet
    from sim.data.tables import DataProblem

    if args.population is not None and args.group is None:
        return _bad("import-profile", "--population goes with --group (the group it sizes)")
    if args.out is not None and args.out.exists():
        return _bad("import-profile", f"--out {args.out}: the file exists; give a new name")
    for value, flag in ((args.name, "--name"), (args.group, "--group")):
        if value is not None and not re.fullmatch(r"[A-Za-z0-9_]+", value):
            return _bad("import-profile", f"{flag} '{value}': use letters, digits and _ only")
    try:
        imported = read_profile(args.file, args.weeks, args.skip)
        text = snippet(imported, args.name, args.days, args.group, args.population)
    except DataProblem as exc:
        return _bad("import-profile", str(exc))
    return _write_new(args.out, text, "import-profile")


def cmd_fit_durations(args: argparse.Namespace) -> int:
    """``fit-durations``: measured durations into scenario durations."""
    from sim.data.durations import field_problem, fit_task, read_durations, report
    from sim.data.tables import DataProblem

    if args.out is not None and args.out.exists():
        return _bad("fit-durations", f"--out {args.out}: the file exists; give a new name")
    try:
        samples, zeros = read_durations(args.file)
    except DataProblem as exc:
        return _bad("fit-durations", str(exc))
    problem = field_problem(args.field, list(samples))
    if problem:
        return _bad("fit-durations", problem)
    try:
        fits = {task: fit_task(x, args.seed, args.dist) for task, x in samples.items()}
    except ValueError as exc:
        return _bad("fit-durations", str(exc))
    sizes = {task: len(x) for task, x in samples.items()}
    return _write_new(args.out, report(args.file, fits, sizes, zeros, args.field), "fit-durations")


HANDLERS = {
    "run": cmd_run,
    "compare": cmd_compare,
    "check": cmd_check,
    "sweep": cmd_sweep,
    "uncertainty": cmd_uncertainty,
    "staffing": cmd_staffing,
    "rerun": cmd_rerun,
    "validate": cmd_validate,
    "schema": cmd_schema,
    "validate-scenario": cmd_validate_scenario,
    "import-profile": cmd_import_profile,
    "fit-durations": cmd_fit_durations,
    "app": cmd_app,
}


def _terminate(_signum: int, _frame: Any) -> None:
    from sim.experiments.runfiles import Terminated

    raise Terminated


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code (2 for bad input, 130 for Ctrl-C, 143 for
    SIGTERM). SIGTERM takes the same path as Ctrl-C: what finished is kept."""
    in_process = argv is not None
    handlers = (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM))
    with contextlib.suppress(ValueError):  # not the main thread
        signal.signal(signal.SIGTERM, _terminate)
    try:
        code = _main(list(sys.argv[1:] if argv is None else argv))
    except KeyboardInterrupt:  # before a study began (a study reports its own interrupts)
        print("interrupted; nothing was kept", file=sys.stderr)
        code = EXIT_INTERRUPTED
    finally:
        if in_process:  # a caller in Python gets its own signal handling back
            with contextlib.suppress(ValueError, TypeError):
                signal.signal(signal.SIGINT, handlers[0])
                signal.signal(signal.SIGTERM, handlers[1])
    if not in_process:
        _leave_if_pool_stuck(code)
    return code


def _leave_if_pool_stuck(code: int) -> None:
    """Exit now when a broken worker pool left a thread Python's exit would wait for: what
    was finished is on disk and the message is printed, so nothing is lost."""
    executors = sys.modules.get("sim.experiments.executors")  # only a run that used a pool
    if executors is not None and executors.pool_left_stuck():
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _main(argv: list[str]) -> int:
    from sim.experiments.runfiles import Terminated, WriteFailed

    parser = build_parser()
    if not argv or (argv[0].startswith("-") and argv[0] not in ("-h", "--help", "--version")):
        # no command: the default comparison of the four Groningen forms, explained
        argv = ["compare", "--explain", *argv]
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_OK
    try:
        return HANDLERS[args.command](args)
    except ScenarioError as exc:
        print(exc, file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt as exc:
        print("interrupted before any replication finished; nothing was kept", file=sys.stderr)
        return 143 if isinstance(exc, Terminated) else EXIT_INTERRUPTED
    except WriteFailed as exc:
        print(f"{program_name()}: {exc}; nothing was kept", file=sys.stderr)
        return EXIT_BAD_INPUT
    except (OSError, ValueError, RuntimeError) as exc:
        print(f"{program_name()}: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
