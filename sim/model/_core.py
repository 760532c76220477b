"""Which build of the simulation core runs: compiled, or the plain Python source.

The modules of ``sim.model`` are plain Python, and they are the reference. Where the
package was installed with a C compiler at hand, the build (``setup.py``) also compiles them
with Cython into extension modules beside the source, guided by the type declarations in
the ``.pxd`` files next to them, and writes a manifest with a hash of each compiled
source. Both builds give the same numbers to the last bit (``tests/test_golden.py`` runs
the fingerprint cases in both).

Python would import an extension module in preference to its source, so a compiled
module that is older than its source would run code that is no longer in the file. This
module prevents that: before any model module is imported it compares every compiled
module's source with the manifest, and if anything does not match (or the environment
variable ``AFTERHOURS_PURE_PYTHON`` is set to a non-empty value) every model module is
imported from its source instead, all of them together (compiled and plain modules do not
mix). A stale build is reported once, with the command that rebuilds it.
"""

from __future__ import annotations

import hashlib
import importlib.machinery
import importlib.util
import json
import os
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

#: Set to a non-empty value to run the plain Python source even where a compiled build is
#: installed (the reference for the compiled build's numbers).
PURE_ENV = "AFTERHOURS_PURE_PYTHON"
#: The file the build writes beside the compiled modules.
MANIFEST = "_compiled.json"
HERE = Path(__file__).resolve().parent
PACKAGE = __name__.rpartition(".")[0]


def source_hash(path: Path) -> str:
    """The hash the build records for a module's source."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _extension(directory: Path, module: str) -> Path | None:
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        candidate = directory / f"{module}{suffix}"
        if candidate.exists():
            return candidate
    return None


def reason_for_source(directory: Path = HERE) -> str | None:
    """Why the plain source must run (None: the compiled build is complete and current)."""
    if os.environ.get(PURE_ENV):
        return f"{PURE_ENV} is set"
    manifest = directory / MANIFEST
    if not manifest.exists():
        return "not compiled (no C compiler or Cython at installation)"
    try:
        recorded: dict[str, str] = json.loads(manifest.read_text())["modules"]
    except (ValueError, KeyError, TypeError, OSError):
        return f"the build's manifest {MANIFEST} is unreadable"
    for module, digest in sorted(recorded.items()):
        source = directory / f"{module}.py"
        if _extension(directory, module) is None:
            return f"the compiled {module} module is missing"
        if not source.exists() or source_hash(source) != digest:
            return f"{module}.py changed after the build"
    return None


class _SourceFinder:
    """Finds the listed model modules in their ``.py`` files (ahead of extension modules)."""

    def __init__(self, directory: Path, modules: Sequence[str]):
        self.directory = directory
        self.names = {f"{PACKAGE}.{m}": m for m in modules}

    def find_spec(
        self, fullname: str, path: object = None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        module = self.names.get(fullname)
        if module is None:
            return None
        return importlib.util.spec_from_file_location(fullname, self.directory / f"{module}.py")


#: Which build runs in this process: "compiled" or "source: <reason>".
BUILD = "source"


def select() -> str:
    """Decide, once per process and before any model module is imported, which build runs."""
    global BUILD
    if any(isinstance(f, _SourceFinder) for f in sys.meta_path):
        return BUILD
    reason = reason_for_source()
    if reason is None:
        BUILD = "compiled"
        return BUILD
    BUILD = f"source: {reason}"
    # every module with an extension beside it, listed or not, is read from its source
    modules = [p.stem for p in sorted(HERE.glob("*.py")) if _extension(HERE, p.stem)]
    if modules:
        sys.meta_path.insert(0, _SourceFinder(HERE, modules))
        if not os.environ.get(PURE_ENV):
            warnings.warn(
                f"the compiled simulation core is out of date ({reason}); running the "
                'plain Python source. Rebuild it with: python -m pip install -e ".[test]"',
                RuntimeWarning,
                stacklevel=2,
            )
    return BUILD
