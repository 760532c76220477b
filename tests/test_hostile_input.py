"""Hostile scenario files: a fixed corpus and hundreds of generated mutants of a shipped
scenario. Every one must stop with exit code 2 before anything is simulated or written,
every line of its message located as ``file:line:col: path: message`` (or
``--set ...: path: message``), with no traceback, within 10 s and 500 MB. Generated valid
variants must run, with every share KPI in [0, 1]."""

from __future__ import annotations

import contextlib
import copy
import io
import json
import math
import os
import re
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from helpers import ROOT, SCENARIOS
from sim.cli import main
from sim.scenario import load_raw
from sim.scenario.schema import FORMS, Scenario

LOCATED = re.compile(r"^(?P<file>[^:]+):(?P<line>[1-9]\d*):(?P<col>[1-9]\d*): (?P<path>[^:]+): .+$")
SET_LOCATED = re.compile(r"^--set .+?: [^:]+: .+$")

# ----------------------------------------------------------------------- the fixed corpus


def _bomb(levels: int) -> str:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    return "\n".join(lines) + "\n"


def _corpus(folder: Path) -> dict[str, list[str]]:
    """name -> arguments after ``run`` (files made in ``folder``)."""
    base = (SCENARIOS / "groningen_separate.yaml").read_text()
    files: dict[str, bytes] = {
        "utf16": base.encode("utf-16"),
        "utf16_no_bom": base.encode("utf-16-le"),
        "binary": bytes(range(256)) * 4,
        "nul": base[:500].encode() + b"\x00" + base[500:].encode(),
        "nesting_1e5": b"[" * 100_000 + b"]" * 100_000,
        "nesting_map": ("a:\n" + "".join(" " * i + "a:\n" for i in range(1, 2000))).encode(),
        "recursive_alias": b"name: &x [1, *x]\n",
        "alias_bomb_1e9": _bomb(9).encode(),
        "undefined_alias": b"name: *nowhere\n",
        "empty": b"",
        "a_list": b"- 1\n- 2\n",
        "a_scalar": b"just text\n",
        "python_tag": b"name: !!python/object/apply:os.system ['true']\n",
        "latin1": "name: caf\xe9\n".encode("latin-1"),
        "huge": b"# " + b"x" * 3_000_000 + b"\n",
        "extends_dev_zero": b"extends: /dev/zero\n",
        "extends_fifo": b"extends: fifo.yaml\n",
        "extends_outside": b"extends: ../outside/secret.yaml\n",
        "extends_passwd": b"extends: ../../../../../../etc/passwd\n",
        "extends_self": b"extends: extends_self.yaml\n",
    }
    for name, data in files.items():
        (folder / f"{name}.yaml").write_bytes(data)
    (folder.parent / "outside").mkdir(exist_ok=True)
    (folder.parent / "outside" / "secret.yaml").write_text("api_token: s3cr3t\n")
    os.mkfifo(folder / "fifo.yaml")
    (folder / "loop_a.yaml").symlink_to(folder / "loop_b.yaml")
    (folder / "loop_b.yaml").symlink_to(folder / "loop_a.yaml")
    cases = {name: [str(folder / f"{name}.yaml")] for name in files}
    cases |= {
        "fifo": [str(folder / "fifo.yaml")],
        "symlink_loop": [str(folder / "loop_a.yaml")],
        "dev_zero": ["/dev/zero"],
        "a_folder": [str(folder)],
    }
    return cases


#: Runs the command line and, as it ends, writes its own peak resident memory (VmHWM, in
#: kB) to the file named first: the peak of this process since it started Python, not of
#: the test process it was forked from (a child's ru_maxrss counts the parent's pages).
_MEASURED = (
    "import atexit, runpy, sys\n"
    "out = sys.argv.pop(1)\n"
    "sys.argv = sys.argv[1:]\n"
    "def peak():\n"
    "    for line in open('/proc/self/status'):\n"
    "        if line.startswith('VmHWM:'):\n"
    "            open(out, 'w').write(line.split()[1])\n"
    "atexit.register(peak)\n"
    "runpy.run_path(sys.argv[0], run_name='__main__')\n"
)


def _run_limited(args: list[str], cwd: Path) -> tuple[int, str, float, float]:
    """Run the command line; exit code, stderr, seconds and peak resident memory (MB)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    err_path = cwd / f"stderr_{time.monotonic_ns()}.txt"
    peak_path = cwd / f"peak_{time.monotonic_ns()}.txt"
    start = time.monotonic()
    with err_path.open("wb") as err_file:
        proc = subprocess.Popen(
            [sys.executable, "-c", _MEASURED, str(peak_path), str(ROOT / "run_sim.py"), *args],
            cwd=cwd,
            stdout=subprocess.DEVNULL,
            stderr=err_file,
            env=env,
        )
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise AssertionError(f"{args} ran for more than 10 s") from None
    seconds = time.monotonic() - start
    peak_mb = int(peak_path.read_text()) / 1024 if peak_path.exists() else math.inf
    return proc.returncode, err_path.read_text(errors="replace"), seconds, peak_mb


def test_the_hostile_corpus_stops_with_located_messages(tmp_path: Path) -> None:
    folder = tmp_path / "corpus"
    folder.mkdir()
    cases = _corpus(folder)
    out = tmp_path / "out"
    for name, args in cases.items():
        code, err, seconds, peak_mb = _run_limited(["run", *args, "--out", str(out)], tmp_path)
        assert code == 2, (name, err)
        assert "Traceback" not in err, (name, err)
        lines = [line for line in err.splitlines() if line]
        assert lines, name
        for line in lines:
            assert LOCATED.match(line), (name, line)
        assert "api_token" not in err and "s3cr3t" not in err, (name, err)
        assert seconds < 10 and peak_mb < 500, (name, seconds, peak_mb)
        assert not out.exists(), name


# ----------------------------------------------------------------------- generated mutants

BASE_FILE = SCENARIOS / "groningen_separate.yaml"
_BASE: dict[str, Any] = load_raw(BASE_FILE)
_BASE.pop("provenance", None)
MARK = "__MUTANT__"
# values no number of a scenario may take, written as they would be in a file
BAD_NUMBERS = [
    "-1", "-0.5", ".inf", "-.inf", ".nan", "true", "false", "'abc'", "'12'", "1:30", "0x1A",
    "017", "1_000", "1e300", "1000000000000000000000000000000", "[1, 2]", "{a: 1}", "''", "~",
]  # fmt: skip


def _leaves(data: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(data, dict):
        return [p for k, v in data.items() for p in _leaves(v, path + (k,))]
    if isinstance(data, list):
        return [p for i, v in enumerate(data) for p in _leaves(v, path + (i,))]
    return [path] if isinstance(data, int | float) and not isinstance(data, bool) else []


NUMBERS = _leaves(_BASE)
# an optional count where ~ (None) means "never": not a bad value there
NULLABLE = {("coordination", "alternatives_when_queue_at_least")}


def _model_paths(model: type[BaseModel], data: Any, path: tuple[str, ...] = ()) -> list[Any]:
    """(path, model, required?) for every field of a schema model present in ``data``."""
    out: list[Any] = []
    if not isinstance(data, dict):
        return out
    for name, field in model.model_fields.items():
        if name not in data:
            continue
        out.append((path + (name,), field.is_required()))
        sub = field.annotation
        if isinstance(sub, type) and issubclass(sub, BaseModel):
            out += _model_paths(sub, data[name], path + (name,))
    return out


FIELDS = _model_paths(Scenario, _BASE)
REQUIRED = [p for p, required in FIELDS if required]


def _get(data: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        data = data[part]
    return data


def _set(data: Any, path: tuple[Any, ...], value: Any) -> None:
    _get(data, path[:-1])[path[-1]] = value


def _is_model(path: tuple[str, ...]) -> bool:
    """Whether the mapping at ``path`` is a schema model (its keys are field names)."""
    model: Any = Scenario
    for part in path:
        field = model.model_fields.get(part)
        if field is None:
            return False
        model = field.annotation
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return False
    return True


MODEL_PATHS = [()] + [p for p, _ in FIELDS if _is_model(p)]


def _dump(data: Any) -> str:
    return yaml.dump(data, Dumper=yaml.CSafeDumper, sort_keys=False, allow_unicode=True)


def _mutant(kind: str, pick: int, bad: int, where: float) -> tuple[bytes, list[str]]:
    """A bad scenario (file bytes, extra --set arguments) of one kind of mutation."""
    data = copy.deepcopy(_BASE)
    if kind == "number":
        path = NUMBERS[pick % len(NUMBERS)]
        raw = BAD_NUMBERS[bad % len(BAD_NUMBERS)]
        if raw == "~" and path in NULLABLE:
            raw = "-1"
        _set(data, path, MARK)
        return _dump(data).replace(MARK, raw).encode(), []
    if kind == "delete":
        path = REQUIRED[pick % len(REQUIRED)]
        del _get(data, path[:-1])[path[-1]]
        return _dump(data).encode(), []
    if kind == "unknown_key":
        _get(data, MODEL_PATHS[pick % len(MODEL_PATHS)])["colour_of_the_walls"] = "blue"
        return _dump(data).encode(), []
    if kind == "wrong_type":
        path = MODEL_PATHS[1:][pick % (len(MODEL_PATHS) - 1)]
        _set(data, path, [[1, 2], "text", 5, True][bad % 4])
        return _dump(data).encode(), []
    text = _dump(data)
    at = int(where * len(text))
    if kind == "truncate":
        return text[: int(where * len(text) / 2)].encode(), []
    if kind == "nul":
        return text[:at].encode() + b"\x00" + text[at:].encode(), []
    if kind == "bad_byte":
        return text[:at].encode() + bytes([0x80 + bad % 0x80]) + text[at:].encode(), []
    if kind == "utf16":
        return text.encode(["utf-16", "utf-16-le", "utf-16-be", "utf-32"][bad % 4]), []
    if kind == "duplicate_key":
        return (text + f"{list(data)[pick % len(data)]}: again\n").encode(), []
    if kind == "unbalanced":
        lines = text.splitlines(keepends=True)
        i = pick % len(lines)
        return "".join(lines[:i] + ["[" + lines[i]] + lines[i + 1 :]).encode(), []
    # kind == "set": a valid file, a bad override
    dotted_paths = [p for p in NUMBERS if not any(isinstance(x, int) for x in p)]
    path = dotted_paths[pick % len(dotted_paths)]
    raw = BAD_NUMBERS[bad % len(BAD_NUMBERS)]
    if raw == "~":
        raw = "-1"
    options = [
        f"{'.'.join(path)}={raw}",
        "no_such_section.field=1",
        "run..weeks=1",
        "just-a-word",
        f"{'.'.join(path)}.below=1",
    ]
    return text.encode(), ["--set", options[bad % len(options)]]


KINDS = [
    "number", "delete", "unknown_key", "wrong_type", "truncate", "nul", "bad_byte", "utf16",
    "duplicate_key", "unbalanced", "set",
]  # fmt: skip


def _check_rejected(path: Path, extra: list[str], out: Path) -> None:
    err = io.StringIO()
    start = time.monotonic()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(["run", str(path), "--out", str(out), "--workers", "1", *extra])
    assert time.monotonic() - start < 10
    text = err.getvalue()
    assert code == 2, (path.read_bytes()[:300], extra, text)
    lines = [line for line in text.splitlines() if line]
    assert lines
    for line in lines:
        assert LOCATED.match(line) or SET_LOCATED.match(line), (extra, line)
    assert not out.exists()


@settings(
    max_examples=520,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    kind=st.sampled_from(KINDS),
    pick=st.integers(0, 10_000),
    bad=st.integers(0, 1_000),
    where=st.floats(0.0, 1.0),
)
def test_generated_bad_scenarios_stop_with_located_messages(
    tmp_path: Path, kind: str, pick: int, bad: int, where: float
) -> None:
    folder = tmp_path / "mutants"
    folder.mkdir(exist_ok=True)
    data, extra = _mutant(kind, pick, bad, where)
    path = folder / "mutant.yaml"
    path.write_bytes(data)
    _check_rejected(path, extra, tmp_path / "out")


def test_the_mutants_cover_every_kind_and_every_number() -> None:
    """The generator reaches every number of the scenario and every kind of mutation (so
    that 'every mutant is rejected' is not true of a narrow set)."""
    assert len(NUMBERS) > 300 and len(REQUIRED) > 40 and len(MODEL_PATHS) > 20
    assert set(KINDS) >= {"number", "delete", "set", "utf16", "nul"}


# ----------------------------------------------------------------------- generated valid runs

SINGLE_SHARES = {
    "urgent_line_share", "conveyance_share", "ed_referral_share", "recontact_after_advice_share",
    "give_up_share", "after_advice_share", "after_consult_share",
    "caller_driven_over_triage_share",
}  # fmt: skip


def _vary(data: Any, rng: np.random.Generator, path: tuple[Any, ...] = ()) -> None:
    """Move every staffing number, duration and single share of a scenario within its
    valid range (in place)."""
    if not isinstance(data, dict):
        return
    if "dist" in data:
        for key in ("mean_min", "low_min", "high_min"):
            if key in data:
                data[key] = min(10_000.0, float(data[key]) * rng.uniform(0.25, 4.0))
        if "low_min" in data and data["high_min"] < data["low_min"]:
            data["low_min"], data["high_min"] = data["high_min"], data["low_min"]
        if "cv" in data:
            data["cv"] = float(rng.uniform(0.0, 3.0))
        return
    for key, value in data.items():
        if path and path[-1] in STAFF_TABLES and isinstance(value, int):
            data[key] = int(rng.integers(0, 8))
        elif key in SINGLE_SHARES and isinstance(value, int | float):
            data[key] = float(rng.uniform(0, 1))
        else:
            _vary(value, rng, path + (key,))


STAFF_TABLES = {
    "call_takers",
    "triagists",
    "consult_gps",
    "visit_cars",
    "agents",
    "on_duty",
    "vehicles",
    "staff",
}


def _valid_variant(seed: int, folder: Path) -> Path:
    rng = np.random.default_rng(seed)
    form = FORMS[seed % len(FORMS)]
    data = load_raw(SCENARIOS / f"groningen_{form}.yaml")
    data.pop("provenance", None)
    _vary(data, rng)
    data["name"] = f"variant_{seed}"
    data["region"]["population"] = int(rng.integers(5_000, 40_000))
    redial = float(rng.uniform(0, 1))
    for desk in ("mka", "gp_post", "coordination"):
        abandon = data[desk]["triage"]["on_abandon"]
        abandon["redial_same_share"] = redial
        abandon["switch_other_share"] = float(rng.uniform(0, 1 - redial))
    data["demand"]["induced_share"] = float(rng.uniform(0, 0.5))
    data["demand"]["gp_type_dial_112_factor"] = float(rng.uniform(0, 3))
    data["behaviour"]["shift_change"] = ["level", "handover"][seed % 2]
    path = folder / f"variant_{seed}.yaml"
    path.write_text(_dump(data))
    return path


def _run_variant(path: str, out: str) -> tuple[int, str, str]:
    err = io.StringIO()
    args = ["run", path, "--weeks", "1", "--out", out, "--workers", "1", "--no-progress"]
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main([*args, "--no-records"])
    return code, err.getvalue(), out


@pytest.mark.slow
def test_generated_valid_scenarios_run_with_every_share_in_range(tmp_path: Path) -> None:
    paths = [_valid_variant(seed, tmp_path) for seed in range(50)]
    outs = [tmp_path / f"out_{i}" for i in range(len(paths))]
    with ProcessPoolExecutor(2) as pool:
        results = list(pool.map(_run_variant, map(str, paths), map(str, outs)))
    for path, (code, err, out) in zip(paths, results, strict=True):
        assert code == 0, (path.name, err[-2000:])
        (folder,) = Path(out).iterdir()
        summary = json.loads((folder / "summary.json").read_text())
        units = {name: k["unit"] for name, k in summary["kpis"].items()}
        shares = [r for r in summary["summary"] if units[r["kpi"]] == "share"]
        assert shares
        for row in shares:
            assert row["mean"] is None or 0.0 <= row["mean"] <= 1.0, (path.name, row)
