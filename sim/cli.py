"""Command line: parses arguments and calls sim.*; no model logic lives here."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from sim.scenario import Scenario, ScenarioError, load_scenario, scenario_json_schema

EXIT_OK = 0
EXIT_BAD_INPUT = 2

DEFAULT_SCENARIOS = (
    "scenarios/groningen_separate.yaml",
    "scenarios/groningen_colocated.yaml",
    "scenarios/groningen_central.yaml",
)


def _common_run_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--weeks", type=int, metavar="N", help="reporting weeks after the warm-up (overrides run.weeks)")
    p.add_argument("--seed", type=int, metavar="S", help="base seed (overrides run.seed)")
    p.add_argument(
        "--out",
        type=Path,
        default=Path("results"),
        metavar="DIR",
        help="folder under which a new run folder <date-time>_<name> is created (default: results)",
    )
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="override any scenario field, e.g. --set gp_post.triagists.weekday_evening=6 "
        "(repeatable; validated like the file)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="run_sim.py",
        description="After-hours acute care simulator: compare separate front doors (112 and the "
        "GP post) with a single coordination desk.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = sub.add_parser(
        "run",
        help="run one replication of a scenario and write its results",
        description="Run one replication of a scenario. Writes summary.json, requests.csv.gz, "
        "calls.csv.gz and rides.csv.gz into a new folder under --out and prints a summary.",
    )
    run.add_argument("scenario", type=Path, help="scenario YAML file")
    _common_run_options(run)
    run.add_argument("--replication", type=int, default=0, metavar="R", help="replication number (default 0)")
    run.add_argument("--no-records", action="store_true", help="write summary.json only (no record files)")

    sub.add_parser(
        "schema",
        help="print the JSON Schema of scenario files (for editors)",
        description="Print the JSON Schema that scenario files follow.",
    )

    check = sub.add_parser(
        "validate-scenario",
        help="check scenario files without running them",
        description="Load and validate scenario files; print every problem with its location.",
    )
    check.add_argument("scenarios", type=Path, nargs="+", help="scenario YAML files")
    check.add_argument("--set", dest="overrides", action="append", default=[], metavar="FIELD=VALUE", help="override a field")
    return parser


def _load(path: Path, overrides: Sequence[str], weeks: int | None = None, seed: int | None = None) -> Scenario:
    extra = list(overrides)
    if weeks is not None:
        extra.append(f"run.weeks={weeks}")
    if seed is not None:
        extra.append(f"run.seed={seed}")
    return load_scenario(path, extra)


def cmd_run(args: argparse.Namespace) -> int:
    from sim.kpis import registry, utilisation_profiles
    from sim.model import World, run_replication
    from sim.output import (
        atomic_run_folder,
        relative,
        run_metadata,
        write_call_records,
        write_json,
        write_request_records,
        write_ride_records,
    )
    from sim.report import text_summary

    sc = _load(args.scenario, args.overrides, args.weeks, args.seed)
    if args.replication < 0:
        print("run_sim.py run: --replication must be 0 or more", file=sys.stderr)
        return EXIT_BAD_INPUT
    started = time.perf_counter()
    result = run_replication(sc, args.replication)
    wall = time.perf_counter() - started
    timeline = World(sc, args.replication, sc.run.seed).timeline
    kpi_defs = registry(sc)
    meta = run_metadata(sc, str(args.scenario), sc.run.seed, [args.replication])
    meta.update(
        {
            "wall_seconds": round(wall, 3),
            "simpy_events": result.records.n_events,
            "requests_simulated": int(len(result.records.requests["id"])),
        }
    )
    summary = {
        "meta": meta,
        "kpis": {
            k.name: {"value": result.kpis[k.name], "unit": k.unit, "label": k.label} for k in kpi_defs
        },
        "utilisation_by_hour_of_week": utilisation_profiles(sc, timeline, result.records),
    }
    with atomic_run_folder(args.out, sc.name) as folder:
        write_json(folder.tmp / "summary.json", summary)
        if not args.no_records:
            from sim.kpis import KpiContext

            reported = KpiContext(sc, timeline, result.records).reported
            write_request_records(folder.tmp / "requests.csv.gz", sc, result.records.requests, reported)
            write_call_records(folder.tmp / "calls.csv.gz", result.records.calls)
            write_ride_records(folder.tmp / "rides.csv.gz", result.records.rides)
    print(
        text_summary(
            sc,
            result.kpis,
            f"Scenario {sc.name} ({sc.organisation}), replication {args.replication}, seed {sc.run.seed}, "
            f"{sc.run.weeks} weeks after {sc.run.warmup_days:g} days warm-up",
        )
    )
    print(f"\nSimulated {meta['requests_simulated']} requests in {wall:.1f} s; results in {relative(folder.final)}")
    return EXIT_OK


def cmd_schema(_args: argparse.Namespace) -> int:
    print(json.dumps(scenario_json_schema(), indent=2))
    return EXIT_OK


def cmd_validate_scenario(args: argparse.Namespace) -> int:
    status = EXIT_OK
    for path in args.scenarios:
        try:
            sc = load_scenario(path, args.overrides)
        except ScenarioError as exc:
            print(exc, file=sys.stderr)
            status = EXIT_BAD_INPUT
        else:
            print(f"{path}: ok ({sc.name}, {sc.organisation})")
    return status


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handlers = {"run": cmd_run, "schema": cmd_schema, "validate-scenario": cmd_validate_scenario}
    if args.command is None:
        parser.print_help()
        return EXIT_OK
    try:
        return handlers[args.command](args)
    except ScenarioError as exc:
        print(exc, file=sys.stderr)
        print(f"{len(exc.problems)} problem(s); nothing was simulated or written.", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("interrupted; nothing was written for the unfinished run", file=sys.stderr)
        return 130
