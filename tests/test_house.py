"""House rules that keep the code readable: import layers, lint, format, types, short
functions, and a repository that explains itself (nothing points outside it)."""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import ROOT

PYTHON_PLACES = ["sim", "tests", "bench", "run_sim.py"]
MAX_FUNCTION_LINES = 60
LONG_REASON = "# long function:"


def _tool(name: str) -> str:
    """A console script installed beside this Python (the project's test extra)."""
    found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed; install the test extra: pip install -e '.[test]'")
    return found


def _run(args: list[str], cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=600)


def test_import_layers_are_kept() -> None:
    proc = _run([_tool("lint-imports"), "--no-cache"])
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "0 broken" in proc.stdout


def test_an_upward_import_breaks_the_layers(tmp_path: Path) -> None:
    """The layers contract can fail: a copy of the package whose model imports the report."""
    shutil.copytree(ROOT / "sim", tmp_path / "sim", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    world = tmp_path / "sim" / "model" / "world.py"
    world.write_text(world.read_text() + "\nimport sim.report.text  # noqa: E402\n")
    env_python = f"import sys; sys.path.insert(0, {str(tmp_path)!r}); "
    code = env_python + "from importlinter.cli import lint_imports_command; lint_imports_command()"
    proc = _run([sys.executable, "-c", code, "--no-cache"], cwd=tmp_path)
    assert proc.returncode != 0
    assert "sim.model.world -> sim.report.text" in proc.stdout


def test_ruff_check_is_clean() -> None:
    proc = _run([_tool("ruff"), "check", "--no-cache", *PYTHON_PLACES])
    assert proc.returncode == 0, proc.stdout[-4000:]


def test_ruff_format_is_clean() -> None:
    proc = _run([_tool("ruff"), "format", "--check", "--no-cache", *PYTHON_PLACES])
    assert proc.returncode == 0, proc.stdout[-4000:]


@pytest.mark.slow
def test_mypy_finds_no_error_in_the_package(tmp_path: Path) -> None:
    proc = _run([_tool("mypy"), "--cache-dir", str(tmp_path / "mypy_cache")])
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert "Success" in proc.stdout


def _long_functions() -> list[str]:
    out = []
    for path in sorted((ROOT / "sim").rglob("*.py")):
        lines = path.read_text().splitlines()
        for node in ast.walk(ast.parse("\n".join(lines))):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            start = min([node.lineno] + [d.lineno for d in node.decorator_list])
            length = (node.end_lineno or node.lineno) - start + 1
            reason = any(LONG_REASON in line for line in lines[start - 2 : node.lineno + 1])
            if length > MAX_FUNCTION_LINES and not reason:
                out.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({length} lines)")
    return out


def test_functions_are_short_or_say_why() -> None:
    assert _long_functions() == []


OUTSIDE = re.compile(r"\.\./shared|\bshared/domain|DESIGN\.md|(?<![A-Z/_])parameters\.md|§")


def test_nothing_points_outside_the_repository() -> None:
    """Every reference the project makes is to a file of its own or a publication."""
    files = _run(["git", "ls-files", "-co", "--exclude-standard"]).stdout.split()
    hits = []
    for name in files:
        if Path(name).suffix not in (".py", ".md", ".yaml", ".yml", ".toml", ".txt", ".cfg"):
            continue
        path = ROOT / name
        if not path.is_file():
            continue
        for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if OUTSIDE.search(line) and path != Path(__file__):
                hits.append(f"{name}:{i}: {line.strip()[:100]}")
    assert hits == []


def test_docs_the_project_promises_exist() -> None:
    for name in ("ARCHITECTURE.md", "MODEL.md", "PARAMETERS.md", "VALIDATION.md"):
        assert (ROOT / "docs" / name).stat().st_size > 1000, name
