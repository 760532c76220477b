"""Make the synthetic example data files of this folder (seeded, so they come out the same):

- ``calls_by_hour.csv``: eight weeks of a GP post's calls per date and hour (the layout of
  many telephony exports), drawn as Poisson counts from the Groningen GP-post profile at
  about 370 calls a day after hours; for ``import-profile``;
- ``handle_times.csv``: 600 triage call lengths in seconds by task, lognormal (advice,
  mean 7 min, cv 0.6) and gamma (gp_consult, mean 6 min, cv 0.5); for ``fit-durations``.

They are made up: they show the formats, not any real post. Run from the project folder:
``python examples/data/make_examples.py``.
"""

from pathlib import Path

import numpy as np
import pandas as pd

from sim.scenario import load_scenario

HERE = Path(__file__).resolve().parent


def calls_by_hour(rng: np.random.Generator) -> pd.DataFrame:
    """Calls per date and hour: Poisson counts at the GP-post profile, after hours only."""
    sc = load_scenario(HERE.parents[1] / "scenarios" / "groningen_separate.yaml")
    profile = np.asarray(sc.demand.profiles["gp_post"].hour_of_week())
    hour = np.arange(168)
    after_hours = (hour // 24 >= 5) | (hour % 24 >= 17) | (hour % 24 < 8)
    weights = profile * after_hours
    rate = weights / weights.sum() * 370 * 7  # calls a week
    days = pd.date_range("2026-01-05", periods=8 * 7, freq="D")
    rows = []
    for day in days:
        for h in range(24):
            count = int(rng.poisson(rate[day.day_of_week * 24 + h]))
            rows.append({"date": day.date().isoformat(), "hour": h, "count": count})
    return pd.DataFrame(rows)


def handle_times(rng: np.random.Generator) -> pd.DataFrame:
    """Triage call lengths in seconds, by task."""
    sigma = np.sqrt(np.log1p(0.6**2))
    advice = rng.lognormal(np.log(7 * 60) - sigma**2 / 2, sigma, 350)
    consult = rng.gamma(1 / 0.5**2, 6 * 60 * 0.5**2, 250)
    tasks = ["advice"] * len(advice) + ["gp_consult"] * len(consult)
    return pd.DataFrame({"task": tasks, "seconds": np.r_[advice, consult].round(0).astype(int)})


if __name__ == "__main__":
    rng = np.random.default_rng(20261204)
    calls_by_hour(rng).to_csv(HERE / "calls_by_hour.csv", index=False)
    handle_times(rng).to_csv(HERE / "handle_times.csv", index=False)
