"""A region's own drive times: a CSV of expected minutes between named places, read by the
loader and used in place of the drive model for the pairs it gives."""

from __future__ import annotations

import numpy as np
import pytest
from test_golden import fingerprint_of

from helpers import SCENARIOS, run_sim
from sim.experiments.replicate import run_replication
from sim.model.geography import post_to_zone_minutes
from sim.scenario import ScenarioError, load_scenario

SEPARATE = SCENARIOS / "groningen_separate.yaml"


def _with_file(path) -> tuple[str, ...]:
    return ("run.weeks=2", f"geography.drive_minutes_file={path}")


def _write(path, rows) -> None:
    path.write_text("from,to,minutes\n" + "".join(f"{a},{b},{m!r}\n" for a, b, m in rows))


def test_a_file_with_the_models_own_times_changes_nothing(tmp_path) -> None:
    sc = load_scenario(SEPARATE, ("run.weeks=2",))
    drive = post_to_zone_minutes(sc)
    rows = [
        (post, zone, float(drive[i, j]))
        for i, post in enumerate(sc.geography.posts)
        for j, zone in enumerate(sc.geography.zones)
    ]
    _write(tmp_path / "drives.csv", rows)
    with_file = load_scenario(SEPARATE, _with_file(tmp_path / "drives.csv"))
    assert len(with_file.geography.drive_minutes) == len(sc.geography.posts)
    a, b = run_replication(sc, 1), run_replication(with_file, 1)
    assert fingerprint_of(a.records, a.kpis) == fingerprint_of(b.records, b.kpis)


def test_longer_drives_to_a_zone_lower_its_a1_within_15(tmp_path) -> None:
    sc = load_scenario(SEPARATE, ("run.weeks=2",))
    drive = post_to_zone_minutes(sc)
    zone = "het_hogeland"
    j = list(sc.geography.zones).index(zone)
    rows = [(post, zone, float(drive[i, j]) + 8.0) for i, post in enumerate(sc.geography.posts)]
    _write(tmp_path / "drives.csv", rows)
    slower = load_scenario(SEPARATE, _with_file(tmp_path / "drives.csv"))
    name = f"zone.{zone}.a1_within_15.share"
    before = [run_replication(sc, r).kpis for r in range(3)]
    after = [run_replication(slower, r).kpis for r in range(3)]
    assert np.mean([k[name] for k in after]) < np.mean([k[name] for k in before]) - 0.2
    # no idle vehicle is within the 12-minute cover drive of the zone any more
    assert all(k[f"zone.{zone}.coverage.share"] == 0.0 for k in after)


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("from,to,minutes\numcg,het_hogelnd,20\n", 2, "did you mean 'het_hogeland'"),
        ("from,to,minutes\nleek,groningen,fast\n", 2, "minutes must be a number"),
        ("from,to,minutes\nleek,groningen,-3\n", 2, "minutes must be a number"),
        ("van,naar,minuten\nleek,groningen,10\n", 1, "header from,to,minutes"),
        ("from,to,minutes\n\nleek,groningen\n", 3, "3 cells"),
    ],
)
def test_a_bad_drive_time_file_stops_with_its_line(tmp_path, text, line, fragment) -> None:
    path = tmp_path / "drives.csv"
    path.write_text(text)
    with pytest.raises(ScenarioError) as info:
        load_scenario(SEPARATE, _with_file(path))
    message = str(info.value)
    assert f"{path}:{line}:" in message and fragment in message, message


def test_the_command_line_reports_a_bad_file_with_exit_code_2(tmp_path) -> None:
    path = tmp_path / "drives.csv"
    path.write_text("from,to,minutes\numcg,nowhere,20\n")
    missing = tmp_path / "absent.csv"
    for given, fragment in ((path, f"{path}:2:"), (missing, "cannot read file")):
        proc = run_sim(
            "run", str(SEPARATE), "--set", f"geography.drive_minutes_file={given}",
            "--out", str(tmp_path / "out"),
        )  # fmt: skip
        assert proc.returncode == 2, proc.stderr
        assert fragment in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "out").exists()


def test_a_file_is_found_next_to_the_scenario_file_that_names_it(tmp_path) -> None:
    (tmp_path / "region").mkdir()
    _write(tmp_path / "region" / "drives.csv", [("leek", "westerkwartier", 30.0)])
    overlay = tmp_path / "region" / "drive_times.yaml"
    overlay.write_text("geography:\n  drive_minutes_file: drives.csv\n")
    sc = load_scenario(SEPARATE, ("run.weeks=1",), (overlay,))
    assert sc.geography.drive_minutes == {"leek": {"westerkwartier": 30.0}}
    posts, zones = list(sc.geography.posts), list(sc.geography.zones)
    drive = post_to_zone_minutes(sc)
    assert drive[posts.index("leek"), zones.index("westerkwartier")] == 30.0
