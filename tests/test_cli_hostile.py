"""Odd command lines: every one stops with exit code 2 and a message, never a traceback, and
leaves no file behind; ``--resume`` refuses what it cannot finish faithfully."""

from __future__ import annotations

import contextlib
import io
import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers import SCENARIOS
from sim.cli import main

TINY = f"""\
extends: {SCENARIOS / "groningen_separate.yaml"}
name: tiny
region: {{population: 20000}}
"""
BAD = f"""\
extends: {SCENARIOS / "groningen_separate.yaml"}
name: bad
run: {{weeks: 0}}
"""


def _call(args: list[str]) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            code = main(args)
        except SystemExit as exc:  # argparse's own errors
            code = int(exc.code or 0)
    return code, err.getvalue()


def _tree(root: Path) -> set[tuple[str, int]]:
    return {
        (str(p.relative_to(root)), p.stat().st_size if p.is_file() else -1) for p in root.rglob("*")
    }


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Input files and run folders the cases refer to."""
    root = tmp_path_factory.mktemp("sandbox")
    (root / "tiny.yaml").write_text(TINY)
    (root / "bad.yaml").write_text(BAD)
    (root / "afile").write_text("not a folder\n")
    (root / "folder").mkdir()
    sweep = root / "sweep.yaml"
    sweep.write_text(
        "name: s\nbase: tiny.yaml\ndesign: grid\nreplications: 1\n"
        "fields: {region.population: [20000, 30000]}\n"
    )
    (root / "bad_sweep.yaml").write_text(
        "name: s\nbase: ../../../etc/hosts.yaml\ndesign: grid\nfields: {run.seed: [1, 2]}\n"
    )
    runs = root / "runs"
    code, err = _call(
        ["run", str(root / "tiny.yaml"), "--weeks", "1", "--out", str(runs), "--workers", "1"]
        + ["--no-progress", "--no-records"]
    )
    assert code == 0, err
    (finished,) = list(runs.iterdir())
    shutil.copytree(finished, root / "finished")
    shutil.rmtree(runs)
    # an unfinished compare folder, made from the finished one's meta data
    meta = json.loads((root / "finished" / "meta.json").read_text())
    meta["kind"] = "compare"
    for key in ("replications", "replications_run", "simpy_events"):
        meta.pop(key, None)
    partial = root / ".partial_ok.partial"
    (partial / "replications").mkdir(parents=True)
    (partial / "meta.json").write_text(json.dumps(meta))
    variants: dict[str, Callable[[dict], object]] = {
        "meta_list": lambda m: [],
        "meta_missing_key": lambda m: {k: v for k, v in m.items() if k != "seed"},
        "meta_dotdot": lambda m: m | {"final_name": "../../escaped"},
        "meta_slash": lambda m: m | {"final_name": "a/b"},
        "meta_hash": lambda m: (
            m | {"scenarios": [m["scenarios"][0] | {"hash": "0" * 64}] + m["scenarios"][1:]}
        ),
        "meta_kind": lambda m: m | {"kind": "simulate"},
    }
    for name, change in variants.items():
        folder = root / f".{name}.partial"
        (folder / "replications").mkdir(parents=True)
        (folder / "meta.json").write_text(json.dumps(change(dict(meta))))
    broken = root / ".meta_json.partial"
    (broken / "replications").mkdir(parents=True)
    (broken / "meta.json").write_text('{"kind": "compare", ')
    (root / ".no_meta.partial").mkdir()
    extra = root / ".extra_file.partial"
    shutil.copytree(partial, extra)
    (extra / "replications" / "notes.txt").write_text("mine\n")
    corrupt = root / ".corrupt_rep.partial"
    shutil.copytree(partial, corrupt)
    (corrupt / "replications" / "s0_r0.json").write_text('{"kpis": {')
    return root


def _cases(s: Path) -> list[tuple[str, list[str], str]]:
    """(name, arguments, a fragment the message must contain)."""
    tiny, bad, afile = str(s / "tiny.yaml"), str(s / "bad.yaml"), str(s / "afile")
    out = ["--out", str(s / "out")]
    run = ["run", tiny, *out, "--workers", "1"]
    part = str(s / ".partial_ok.partial")
    cases: list[tuple[str, list[str], str]] = [
        ("run without a file", ["run", *out], "give a scenario file"),
        ("missing file", ["run", str(s / "missing.yaml"), *out], "missing.yaml"),
        ("a folder as scenario", ["run", str(s / "folder"), *out], "not a regular file"),
        ("/dev/null", ["run", "/dev/null", *out], "/dev/null"),
        ("/dev/zero", ["run", "/dev/zero", *out], "not a regular file"),
        ("an invalid scenario", ["run", bad, *out], "run.weeks"),
        ("--weeks 0", [*run, "--weeks", "0"], "--weeks"),
        ("--weeks -1", [*run, "--weeks", "-1"], "--weeks"),
        ("--weeks abc", [*run, "--weeks", "abc"], "--weeks"),
        ("--weeks 1e3", [*run, "--weeks", "1e3"], "--weeks"),
        ("--weeks 99999", [*run, "--weeks", "99999"], "--weeks"),
        ("--weeks empty", [*run, "--weeks", ""], "--weeks"),
        ("--weeks 600", [*run, "--weeks", "600"], "--weeks"),
        ("--replications 0", [*run, "--replications", "0"], "--replications"),
        ("--replications 1e23", [*run, "--replications", "99999999999999999999999"], "10,000"),
        ("--replications 1.5", [*run, "--replications", "1.5"], "--replications"),
        ("--replications -3", [*run, "--replications", "-3"], "--replications"),
        ("--seed -1", [*run, "--seed", "-1"], "--seed"),
        ("--seed 1e23", [*run, "--seed", "99999999999999999999999"], "--seed"),
        ("--seed abc", [*run, "--seed", "abc"], "--seed"),
        ("--workers 0", [*run, "--workers", "0"], "--workers"),
        ("--workers 100000", [*run, "--workers", "100000"], "--workers"),
        ("--precision 0", [*run, "--precision", "0"], "--precision"),
        ("--precision 1", [*run, "--precision", "1"], "--precision"),
        ("--precision nan", [*run, "--precision", "nan"], "--precision"),
        ("--precision inf", [*run, "--precision", "inf"], "--precision"),
        ("--precision abc", [*run, "--precision", "abc"], "--precision"),
        ("--max-replications 0", [*run, "--max-replications", "0"], "--max-replications"),
        ("--max-replications big", [*run, "--max-replications", "10001"], "--max-replications"),
        ("--out a file", ["run", tiny, "--out", afile], "is a file"),
        ("--out inside a file", ["run", tiny, "--out", afile + "/sub"], "is a file"),
        ("--out too long", ["run", tiny, "--out", str(s / ("x" * 5000))], "too long"),
        ("--out name too long", ["run", tiny, "--out", str(s / ("y" * 300))], "too long"),
        ("--out in /proc", ["run", tiny, "--out", "/proc/self/new"], "/proc/self/new"),
        ("--set no =", [*run, "--set", "nosuch"], "field.path=value"),
        ("--set unknown field", [*run, "--set", "unknown.field=1"], "unknown field"),
        ("--set weeks abc", [*run, "--set", "run.weeks=abc"], "run.weeks"),
        ("--set weeks 1:30", [*run, "--set", "run.weeks=1:30"], "plain decimal"),
        ("--set empty name", [*run, "--set", "run..weeks=1"], "empty field name"),
        ("--set a section", [*run, "--set", "run=5"], "run"),
        ("--set empty value", [*run, "--set", "run.weeks="], "run.weeks"),
        ("--set broken flow", [*run, "--set", "run.weeks=[1"], "not valid YAML"),
        ("--set staff true", [*run, "--set", "mka.call_takers.weekday_evening=true"], "integer"),
        ("--set population 1e12", [*run, "--set", "region.population=1e12"], "population"),
        (
            "--set huge region",
            [*run, "--set", "region.population=50000000", "--set", "run.weeks=520"],
            "requests",
        ),
        ("--set seed hex", [*run, "--set", "run.seed=0x1A"], "plain decimal"),
        ("--set warm-up inf", [*run, "--set", "run.warmup_days=.inf"], "finite"),
        (
            "--set cv huge",
            [*run, "--set", "mka.triage.patience={dist: lognormal, mean_min: 5, cv: 1e300}"],
            "cv",
        ),  # noqa: E501
        ("resume nonexistent", ["run", "--resume", str(s / "nowhere")], "no such folder"),
        ("resume a file", ["run", "--resume", afile], "no such folder"),
        ("resume finished", ["run", "--resume", str(s / "finished")], "finished"),
        ("resume with --set", ["compare", "--resume", part, "--set", "run.weeks=2"], "--set"),
        ("resume with a file", ["compare", tiny, "--resume", part], "scenario files"),
        ("resume with --weeks", ["compare", "--resume", part, "--weeks", "2"], "--weeks"),
        (
            "resume with --replications",
            ["compare", "--resume", part, "--replications", "5"],
            "--replications",
        ),  # noqa: E501
        ("resume with --out", ["compare", "--resume", part, *out], "--out"),
        ("resume with --seed", ["compare", "--resume", part, "--seed", "3"], "--seed"),
        ("resume a compare as sweep", ["sweep", "--resume", part], "'compare' study"),
        ("resume a compare as run", ["run", "--resume", part], "'compare' study"),
        ("resume meta []", ["compare", "--resume", str(s / ".meta_list.partial")], "meta.json"),
        (
            "resume meta no seed",
            ["compare", "--resume", str(s / ".meta_missing_key.partial")],
            "seed",
        ),  # noqa: E501
        (
            "resume meta bad JSON",
            ["compare", "--resume", str(s / ".meta_json.partial")],
            "not valid JSON",
        ),  # noqa: E501
        (
            "resume final_name ..",
            ["compare", "--resume", str(s / ".meta_dotdot.partial")],
            "final_name",
        ),  # noqa: E501
        (
            "resume final_name a/b",
            ["compare", "--resume", str(s / ".meta_slash.partial")],
            "final_name",
        ),  # noqa: E501
        ("resume hash", ["compare", "--resume", str(s / ".meta_hash.partial")], "hash"),
        ("resume unknown kind", ["compare", "--resume", str(s / ".meta_kind.partial")], "kind"),
        ("resume no meta", ["compare", "--resume", str(s / ".no_meta.partial")], "meta.json"),
        ("resume extra file", ["compare", "--resume", str(s / ".extra_file.partial")], "notes.txt"),  # noqa: E501
        (
            "resume corrupt replication",
            ["compare", "--resume", str(s / ".corrupt_rep.partial")],
            "s0_r0.json",
        ),  # noqa: E501
        ("compare one name twice", ["compare", tiny, tiny, *out], "distinct names"),
        ("compare --explain alone", ["compare", "--explain", tiny, *out], "at least one other"),
        (
            "compare with a missing file",
            ["compare", tiny, str(s / "missing.yaml"), *out],
            "missing.yaml",
        ),  # noqa: E501
        ("sweep without a file", ["sweep", *out], "sweep file"),
        ("sweep with --set", ["sweep", str(s / "sweep.yaml"), "--set", "a=1", *out], "--set"),
        ("sweep missing file", ["sweep", str(s / "missing.yaml"), *out], "missing.yaml"),
        ("sweep base outside", ["sweep", str(s / "bad_sweep.yaml"), *out], "outside"),
        ("validate --weeks 0", ["validate", "--weeks", "0"], "--weeks"),
        ("validate --replications 0", ["validate", "--replications", "0"], "--replications"),
        (
            "validate-scenario missing",
            ["validate-scenario", str(s / "missing.yaml")],
            "missing.yaml",
        ),  # noqa: E501
        ("validate-scenario folder", ["validate-scenario", str(s / "folder")], "not a regular"),
        ("check --workers 0", ["check", "--workers", "0"], "--workers"),
        ("unknown command", ["simulate-everything"], "invalid choice"),
        ("unknown option", [*run, "--fast-please"], "unrecognized"),
        ("scheduler nonsense", [*run, "--scheduler", "nonsense"], "nonsense"),
        ("scheduler unreachable", [*run, "--scheduler", "tcp://127.0.0.1:1"], "cannot reach"),
    ]
    return cases


def test_seventy_five_odd_command_lines_stop_cleanly(
    sandbox: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sim.experiments.executors as executors

    monkeypatch.setattr(executors, "CONNECT_TIMEOUT_S", 2)
    monkeypatch.chdir(sandbox)
    cases = _cases(sandbox)
    assert len(cases) >= 75
    failures = []
    for name, args, fragment in cases:
        before = _tree(sandbox)
        code, err = _call(args)
        after = _tree(sandbox)
        if code != 2 or fragment not in err or "Traceback" in err or before != after:
            failures.append((name, code, err[-600:], sorted(after ^ before)[:5]))
    assert not failures, "\n".join(map(str, failures))


def test_the_refusals_say_why(sandbox: Path) -> None:
    _, err = _call(["run", "--resume", str(sandbox / "finished")])
    assert "this run is finished; nothing to resume" in err
    part = str(sandbox / ".partial_ok.partial")
    _, err = _call(["compare", "--resume", part, "--set", "run.weeks=2"])
    assert "finishes the study with the scenarios and options stored in its folder" in err
    _, err = _call(["compare", "--resume", str(sandbox / ".meta_dotdot.partial")])
    assert "meta.json: final_name: String should match pattern" in err


OPTIONS = [
    "--weeks", "--seed", "--replications", "--precision", "--max-replications", "--workers",
    "--set", "--out", "--resume", "--scheduler",
]  # fmt: skip


@settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    command=st.sampled_from(["run", "compare", "sweep"]),
    option=st.sampled_from(OPTIONS),
    value=st.one_of(
        st.text(max_size=40),
        st.integers().map(str),
        st.floats(allow_nan=True, allow_infinity=True).map(repr),
        st.sampled_from(["", " ", "-1", "0", "1e400", "٣", "１２", "0x10", "nan", "=", "a=b"]),
    ),
)
def test_fuzzed_option_values_never_escape_as_an_error(
    tmp_path: Path, command: str, option: str, value: str
) -> None:
    """Any text as the value of any option of a study command, next to a scenario file
    that does not exist: the command stops with exit code 2 and a message, writes nothing
    and never lets an exception escape."""
    if "\x00" in value:  # an argument list cannot hold NUL
        value = value.replace("\x00", "")
    out = tmp_path / "fuzz_out"
    args = [command, str(tmp_path / "missing.yaml"), option, value]
    if option != "--out":
        args += ["--out", str(out)]
    before = _tree(tmp_path)
    with contextlib.chdir(tmp_path):  # a relative --out would land here
        code, err = _call(args)
    assert code == 2, (args, err)
    assert err.strip() and "Traceback" not in err
    assert _tree(tmp_path) == before
