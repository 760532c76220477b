"""Where the repository keeps what the package reads: shipped scenarios and stored references.

The package runs from a checkout (``pip install -e .``), so these are folders of that
checkout.
"""

from __future__ import annotations

import sys
from pathlib import Path

#: The top folder of the checkout (it holds ``pyproject.toml``).
REPO_ROOT = Path(__file__).resolve().parent.parent
#: Shipped scenario files.
SCENARIOS_DIR = REPO_ROOT / "scenarios"
#: Reductions of the model to cases queueing theory solves.
VALIDATION_SCENARIOS_DIR = SCENARIOS_DIR / "validation"
#: Stored reference results of the regression gate.
CHECK_REFERENCE = REPO_ROOT / "tests" / "reference" / "check_reference.json"


def groningen(form: str) -> Path:
    """The shipped Groningen scenario file of an organisational form."""
    return SCENARIOS_DIR / f"groningen_{form}.yaml"


#: How the command line was started, by the name of what was run: as the commands a user
#: types again (in messages such as "finish with: ... --resume FOLDER").
_PROGRAMS = {"__main__.py": "python -m sim", "afterhours-sim": "afterhours-sim"}


def program_name() -> str:
    """The command a user typed to start this program: ``python run_sim.py``,
    ``python -m sim`` or the installed ``afterhours-sim``."""
    return _PROGRAMS.get(Path(sys.argv[0]).name, "python run_sim.py")
