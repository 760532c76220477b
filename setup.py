"""Installation: the project's metadata is in pyproject.toml; this file adds the compiled
simulation core.

The modules of ``sim/model`` are compiled with Cython, guided by the ``.pxd`` type
declarations beside them, where Cython and a C compiler are at hand. Where they are not, or
the compilation fails, the package installs as plain Python and runs the same code, more
slowly. ``AFTERHOURS_NO_COMPILE=1`` skips the compilation. The build writes
``sim/model/_compiled.json`` with a hash of every compiled source, so that a module edited
after the build runs from its source (``sim/model/_core.py``).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_ext import build_ext

ROOT = Path(__file__).resolve().parent
MODEL = ROOT / "sim" / "model"
#: model modules that stay plain Python: the package itself and the build selector
NOT_COMPILED = {"__init__", "_core"}
MANIFEST = "_compiled.json"


def _modules() -> list[str]:
    return sorted(p.stem for p in MODEL.glob("*.py") if p.stem not in NOT_COMPILED)


def _extensions() -> list:
    if os.environ.get("AFTERHOURS_NO_COMPILE"):
        return []
    try:
        from Cython.Build import cythonize
    except ImportError:
        print("Cython is not available: the simulation core installs as plain Python")
        return []
    sources = [str(Path("sim") / "model" / f"{m}.py") for m in _modules()]
    try:
        return cythonize(
            sources,
            build_dir=str(Path("build") / "cython"),
            language_level=3,
            # plain Python semantics everywhere: Python division and wrap-around checks
            compiler_directives={"binding": False, "cdivision": False, "wraparound": True},
            quiet=True,
        )
    except Exception as exc:  # any Cython failure: fall back to the plain source
        print(f"the simulation core could not be compiled ({exc}); it installs as plain Python")
        return []


class OptionalBuildExt(build_ext):
    """Compile the core if possible; on failure, install the plain source."""

    def run(self) -> None:
        """Build the extensions and write the manifest (nothing if the build fails)."""
        try:
            super().run()
        except Exception as exc:  # a missing compiler or header: plain Python instead
            print(f"the simulation core was not compiled ({exc}); it installs as plain Python")
            return
        if not self.extensions:
            return
        manifest = json.dumps(
            {
                "modules": {
                    m: hashlib.sha256((MODEL / f"{m}.py").read_bytes()).hexdigest()
                    for m in _modules()
                },
                "python": sys.version.split()[0],
            },
            indent=1,
        )
        places = {Path(self.get_ext_fullpath(self.extensions[0].name)).parent}
        if self.inplace or getattr(self, "editable_mode", False):
            places.add(MODEL)
        for place in places:
            place.mkdir(parents=True, exist_ok=True)
            (place / MANIFEST).write_text(manifest + "\n")


setup(ext_modules=_extensions(), cmdclass={"build_ext": OptionalBuildExt})
