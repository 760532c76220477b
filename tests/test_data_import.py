"""A region's own data: ``import-profile`` and ``fit-durations``.

Round trip: call timestamps drawn from a known hourly profile -> import-profile -> the
snippet as an overlay -> simulate -> the simulated arrivals per hour of the week follow the
known profile (chi-square goodness of fit) at the known volume. fit-durations recovers the
known mean and cv of generated durations within its 95 % intervals, and picks the form the
data came from.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from helpers import SCENARIOS, run_sim
from sim import api
from sim.cli import main
from sim.data.durations import fit_task
from sim.data.profile import read_profile
from sim.scenario.schema import Duration

#: Calls an hour at the profile's value 1; a Friday-evening peak that the weekdays lack.
BASE_RATE = 2.0
POPULATION = 590_000


def known_profile() -> np.ndarray:
    day = np.r_[np.full(8, 0.3), np.full(10, 1.5), np.full(6, 0.8)]
    week = np.r_[np.tile(day, 5), np.full(48, 1.0)]
    week[4 * 24 + 18 : 5 * 24] = 3.0  # Friday 18-24 h
    return week


def write_calls(path: Path, profile: np.ndarray, weeks: int, seed: int) -> int:
    """One row per call: Poisson counts per hour at the profile, uniform within the hour."""
    rng = np.random.default_rng(seed)
    hours = pd.date_range("2025-01-06", periods=weeks * 168, freq="h")
    n = rng.poisson(BASE_RATE * profile[np.arange(len(hours)) % 168])
    offsets = (rng.random(n.sum()) * 3_600).astype("timedelta64[s]")
    stamps = pd.to_datetime(np.repeat(hours.values, n) + offsets)
    pd.DataFrame({"timestamp": stamps.strftime("%Y-%m-%dT%H:%M:%S")}).to_csv(path, index=False)
    return int(n.sum())


def test_import_profile_then_simulate_reproduces_the_known_profile(tmp_path: Path) -> None:
    profile = known_profile()
    calls = tmp_path / "calls.csv"
    weeks_of_data = 260  # five years: the import's own noise is small beside the simulation's
    write_calls(calls, profile, weeks_of_data, seed=11)
    snippet = tmp_path / "profile.yaml"
    code = main(
        ["import-profile", str(calls), "--name", "measured", "--group", "emergency",
         "--population", str(POPULATION), "--out", str(snippet)]
    )  # fmt: skip
    assert code == 0
    text = snippet.read_text(encoding="utf-8")
    assert "monday:" in text and "friday:" in text  # the weekdays differ: a day each
    weeks = 26
    sc = api.load_scenario(
        SCENARIOS / "groningen_separate.yaml",
        {"run.weeks": weeks, "run.warmup_days": 0, "calendar.public_holidays": []},
        overlays=[snippet],
    )
    res = api.run(sc)
    assert res.requests is not None
    arrivals = res.requests.loc[res.requests["group"] == "emergency", "arrival_min"].to_numpy()
    arrivals = arrivals[arrivals < weeks * 10_080]
    observed = np.bincount((arrivals // 60).astype(int) % 168, minlength=168)
    expected = observed.sum() * profile / profile.sum()
    chi2 = float(((observed - expected) ** 2 / expected).sum())
    assert stats.chi2.sf(chi2, 167) > 0.001, chi2
    # the volume: the known weekly calls, within the noise of the data and of the run
    true_weekly = BASE_RATE * profile.sum()
    sd = math.sqrt(true_weekly / weeks + true_weekly / weeks_of_data)
    assert abs(observed.sum() / weeks - true_weekly) < 4 * sd


def test_one_weekday_profile_when_the_weekdays_are_alike(tmp_path: Path) -> None:
    profile = known_profile()
    profile[4 * 24 + 18 : 5 * 24] = 0.8  # Friday evening like the others
    calls = tmp_path / "calls.csv"
    n = write_calls(calls, profile, 52, seed=3)
    imported = read_profile(calls)
    _, df, p = imported.weekdays_differ()
    assert df == 4 * 24 and p > 0.01
    assert imported.total == n and imported.days.sum() == 52 * 7
    assert imported.per_year == pytest.approx(n / (52 * 7) * 365.25)


@pytest.mark.parametrize(
    ("layout", "args"),
    [
        ("date,hour,count\n2026-01-05,18,4\n2026-01-11,19,6\n", []),
        ("hour_of_week,count\n18,4\n43,6\n", ["--weeks", "1"]),
    ],
)
def test_the_other_layouts(tmp_path: Path, layout: str, args: list[str]) -> None:
    path = tmp_path / "counts.csv"
    path.write_text(layout, encoding="utf-8")
    result = run_sim("import-profile", str(path), "--days", "seven", *args)
    assert result.returncode == 0, result.stderr
    assert "monday: [" in result.stdout and "10 calls" in result.stdout


@pytest.mark.parametrize(
    ("text", "args", "message"),
    [
        ("when\n2026-01-05 10:00\n", [], "no column for the time of each call"),
        ("timestamp\n2026-01-05 10:00\nyesterday\n", [], ":3: timestamp: 'yesterday'"),
        ("date,hour,count\n2026-01-05,24,1\n", [], ":2: hour: '24' is not a whole number"),
        ("hour_of_week\n3\n", [], "needs --weeks"),
        ("timestamp\n", [], "no data rows"),
        ("timestamp\n2026-01-05 10:00\n\n\nnoon\n", [], ":5: timestamp: 'noon'"),
        (
            "date,hour,count\n2026-01-05,18,4\n2026-01-07,19,6\n",
            [],
            "the data cover no thursday, friday, saturday, sunday",
        ),
        ("timestamp\n2026-03-28T20:00+01:00\n2026-03-29 20:00\n", [], "has no UTC offset"),
    ],
)
def test_bad_data_is_located_and_refused(
    tmp_path: Path, text: str, args: list[str], message: str
) -> None:
    path = tmp_path / "calls.csv"
    path.write_text(text, encoding="utf-8")
    result = run_sim("import-profile", str(path), *args)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert message in result.stderr, result.stderr


@pytest.mark.parametrize(
    ("dist", "mean", "cv"),
    [("lognormal", 7.0, 0.6), ("gamma", 5.0, 0.5), ("weibull", 20.0, 0.4)],
)
def test_fit_durations_recovers_the_known_parameters(dist: str, mean: float, cv: float) -> None:
    duration = Duration(dist=dist, mean_min=mean, cv=cv)
    u = np.random.default_rng(7).random(3000)
    x = np.array([duration.quantile(float(v)) for v in u])
    fits = fit_task(x, seed=1, chosen=dist)
    fit = fits[0]
    assert fit.dist == dist
    assert fit.mean_interval[0] <= mean <= fit.mean_interval[1], fit
    assert fit.cv_interval[0] <= cv <= fit.cv_interval[1], fit
    # the form the data came from has the best AIC, and its test does not reject it
    assert min(fits, key=lambda f: f.aic).dist == dist
    assert fit.p_value > 0.01


def test_fit_durations_command_prints_a_snippet_that_loads(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    seconds = np.r_[rng.lognormal(np.log(360), 0.5, 400), rng.gamma(4, 120, 300), [0, 0]]
    tasks = ["advice"] * 400 + ["gp_consult"] * 300 + ["advice", "advice"]
    data = tmp_path / "times.csv"
    pd.DataFrame({"task": tasks, "seconds": seconds.round(1)}).to_csv(data, index=False)
    out = tmp_path / "durations.yaml"
    result = run_sim(
        "fit-durations", str(data), "--field", "gp_post.triage.handle_time", "--out", str(out)
    )
    assert result.returncode == 0, result.stderr
    assert "2 zero durations left out" in result.stdout
    sc = api.load_scenario(SCENARIOS / "groningen_separate.yaml", overlays=[out])
    advice = sc.gp_post.triage.handle_time["advice"]
    assert advice.dist == "lognormal" and advice.mean_min == pytest.approx(6.8, rel=0.1)
    again = run_sim("fit-durations", str(data), "--out", str(out))
    assert again.returncode == 2 and "exists" in again.stderr


TEMPLATE_SEPARATE = SCENARIOS / "regions" / "TEMPLATE" / "separate.yaml"


def test_validate_with_your_own_targets_in_the_same_table(tmp_path: Path) -> None:
    targets = tmp_path / "mine.csv"
    targets.write_text(
        "key,low,high,source\n"
        "care.A1.within_target_share,0,1,any share lies in 0-1\n"
        "hap_advice_share,0.90,0.95,an advice share no GP post has\n",
        encoding="utf-8",
    )
    args = ["--replications", "2", "--weeks", "1", "--workers", "1", "--targets", str(targets)]
    result = run_sim("validate", str(TEMPLATE_SEPARATE), *args, "--strict")
    assert result.returncode == 1, result.stderr  # one of your figures is outside its band
    out = result.stdout
    assert out.startswith("template_separate vs published figures and yours")
    assert "* your figure (--targets)" in out
    mine = [line for line in out.splitlines() if " * " in line]
    assert len(mine) == 2 and mine[0].rstrip().endswith("yes") and mine[1].rstrip().endswith("NO")
    # the built-in Dutch figures are in the same table (unless --targets-only)
    assert "A1 rides on scene within 15 min" in out
    only = run_sim("validate", str(TEMPLATE_SEPARATE), *args, "--targets-only")
    assert only.returncode == 0 and "A1 rides on scene within 15 min" not in only.stdout


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("key,low,high\ncare.A1.within_target_shar,0,1\n",
         ":2: key: 'care.A1.within_target_shar' is not a figure the model measures; did you "
         "mean 'care.A1.within_target_share'?"),
        ("key,low,high\nhap_advice_share,0.5,0.4\n", ":2: low: low is above high"),
        ("key,low\nhap_advice_share,0.5\n", ":1: no column for the band's high end"),
        ("key,low,high\nhap_advice_share,half,1\n", ":2: low: 'half' is not a number"),
        ("key,low,high\nhap_advice_share,38,40\n", ":2: low: a share's band lies in 0-1"),
    ],
)  # fmt: skip
def test_a_bad_targets_file_stops_before_any_run(tmp_path: Path, text: str, message: str) -> None:
    targets = tmp_path / "mine.csv"
    targets.write_text(text, encoding="utf-8")
    result = run_sim("validate", "--targets", str(targets), "--replications", "50")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert message in result.stderr, result.stderr


def test_every_built_in_key_is_listed_for_the_user() -> None:
    import re

    from helpers import ROOT
    from sim.validation.published import TARGETS

    text = (ROOT / "docs" / "VALIDATION.md").read_text(encoding="utf-8")
    listed = set(
        re.findall(r"`([a-z0-9_.]+)`", text.split("The built-in keys:")[1].split("\n\n")[0])
    )
    assert listed == {t.key for t in TARGETS if not t.key.startswith("zone.")}


def test_stamps_with_offsets_read_as_dutch_clock_time_across_a_clock_change(tmp_path: Path) -> None:
    # 20:00 local on both sides of the spring change (UTC+1, then UTC+2), and in UTC
    path = tmp_path / "calls.csv"
    stamps = ["2026-03-28T20:00:00+01:00", "2026-03-29T20:00:00+02:00", "2026-03-30T18:00:00Z",
              "2026-03-31T20:00:00+02:00", "2026-04-01T20:00:00+02:00", "2026-04-02T20:00:00+02:00",
              "2026-04-03T20:00:00+02:00"]  # fmt: skip
    path.write_text("timestamp\n" + "\n".join(stamps) + "\n", encoding="utf-8")
    imported = read_profile(path)
    assert imported.counts[:, 20].sum() == 7 and imported.total == 7


def test_fit_durations_without_tasks_under_a_mapping_gives_its_default(tmp_path: Path) -> None:
    data = tmp_path / "times.csv"
    minutes = np.random.default_rng(4).lognormal(1.5, 0.5, 200).round(3)
    pd.DataFrame({"minutes": minutes}).to_csv(data, index=False)
    out = tmp_path / "d.yaml"
    result = run_sim("fit-durations", str(data), "--field", "gp_post.triage.handle_time",
                     "--out", str(out))  # fmt: skip
    assert result.returncode == 0, result.stderr
    sc = api.load_scenario(SCENARIOS / "groningen_separate.yaml", overlays=[out])
    assert sc.gp_post.triage.handle_time["default"].dist == "lognormal"
    wrong = run_sim("fit-durations", str(data), "--field", "gp_post.nope")
    assert wrong.returncode == 2 and "no such scenario field" in wrong.stderr
