"""The choice between the compiled core and the plain source (sim.model._core).

A compiled module must never run code that is no longer in its source file: if any source
changed after the build, or a compiled module is missing, every model module is read from
its source. The numbers of both builds are compared in tests/test_golden.py."""

from __future__ import annotations

import importlib.machinery
import json
from pathlib import Path

import pytest

from sim.model import _core


def _fake_build(tmp_path: Path, modules: dict[str, str]) -> Path:
    """A folder with sources, an extension file per source and a manifest of the sources."""
    suffix = importlib.machinery.EXTENSION_SUFFIXES[0]
    for name, text in modules.items():
        (tmp_path / f"{name}.py").write_text(text)
        (tmp_path / f"{name}{suffix}").write_bytes(b"")
    digests = {name: _core.source_hash(tmp_path / f"{name}.py") for name in modules}
    (tmp_path / _core.MANIFEST).write_text(json.dumps({"modules": digests}))
    return tmp_path


@pytest.fixture(autouse=True)
def _no_pure_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(_core.PURE_ENV, raising=False)


def test_a_complete_current_build_runs_compiled(tmp_path: Path) -> None:
    folder = _fake_build(tmp_path, {"pools": "x = 1\n", "engine": "y = 2\n"})
    assert _core.reason_for_source(folder) is None


def test_a_source_changed_after_the_build_runs_the_source(tmp_path: Path) -> None:
    folder = _fake_build(tmp_path, {"pools": "x = 1\n", "engine": "y = 2\n"})
    (folder / "pools.py").write_text("x = 3\n")
    assert _core.reason_for_source(folder) == "pools.py changed after the build"


def test_a_missing_extension_or_manifest_runs_the_source(tmp_path: Path) -> None:
    folder = _fake_build(tmp_path, {"pools": "x = 1\n"})
    for extension in folder.glob(f"pools{importlib.machinery.EXTENSION_SUFFIXES[0]}"):
        extension.unlink()
    assert _core.reason_for_source(folder) == "the compiled pools module is missing"
    (folder / _core.MANIFEST).unlink()
    reason = _core.reason_for_source(folder)
    assert reason is not None and reason.startswith("not compiled")


def test_an_unreadable_manifest_runs_the_source(tmp_path: Path) -> None:
    folder = _fake_build(tmp_path, {"pools": "x = 1\n"})
    (folder / _core.MANIFEST).write_text("{not json")
    assert _core.reason_for_source(folder) == f"the build's manifest {_core.MANIFEST} is unreadable"


def test_the_environment_variable_forces_the_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = _fake_build(tmp_path, {"pools": "x = 1\n"})
    monkeypatch.setenv(_core.PURE_ENV, "1")
    assert _core.reason_for_source(folder) == f"{_core.PURE_ENV} is set"


def test_the_source_finder_reads_the_py_file(tmp_path: Path) -> None:
    folder = _fake_build(tmp_path, {"pools": "x = 1\n"})
    finder = _core._SourceFinder(folder, ["pools"])
    spec = finder.find_spec(f"{_core.PACKAGE}.pools")
    assert spec is not None and spec.origin == str(folder / "pools.py")
    assert finder.find_spec(f"{_core.PACKAGE}.desks") is None  # not listed: not its business


def test_this_process_runs_the_build_the_files_call_for() -> None:
    """The decision taken at import agrees with the files installed next to the modules."""
    import sim.model.pools as pools

    expected = _core.reason_for_source()
    if expected is None:
        assert _core.BUILD == "compiled"
        assert not pools.__file__.endswith(".py")
    else:
        assert f"source: {expected}" == _core.BUILD
        assert pools.__file__.endswith(".py")


def test_the_source_runs_where_cython_is_not_installed() -> None:
    """Cython is needed only to build the core: the plain source, with the decorators of
    the compiled build as no-ops, runs a replication where ``import cython`` fails."""
    import subprocess
    import sys

    script = (
        "import builtins, os\n"
        "real = builtins.__import__\n"
        "def no_cython(name, *args, **kwargs):\n"
        "    if name == 'cython' or name.startswith('cython.'):\n"
        "        raise ImportError('no Cython here')\n"
        "    return real(name, *args, **kwargs)\n"
        "builtins.__import__ = no_cython\n"
        f"os.environ[{_core.PURE_ENV!r}] = '1'\n"
        "from sim.model import engine, records\n"
        "from sim.scenario import load_scenario\n"
        "from sim.model.simulation import simulate\n"
        "sc = load_scenario('scenarios/groningen_separate.yaml', ('run.weeks=1',))\n"
        "run = simulate(sc, 0, 1)\n"
        "assert not engine.COMPILED and engine.__file__.endswith('.py')\n"
        "assert records.__file__.endswith('.py')\n"
        "print(len(run.records.requests['id']))\n"
    )
    root = Path(__file__).resolve().parent.parent
    proc = subprocess.run(
        [sys.executable, "-c", script], cwd=root, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    assert int(proc.stdout.strip()) > 1000
