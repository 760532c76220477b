"""Bad input: every problem located as file:line:col: field.path: message, all at once."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import BASE, ROOT, SCENARIOS
from sim.scenario import ScenarioError, load_scenario, scenario_json_schema

LOCATED = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+):(?P<col>\d+): (?P<path>[^:]+): (?P<msg>.+)$")

BROKEN = """\
extends: {base}
name: broken
organisation: separate
colour: blue
demand:
  groups:
    emergency:
      requests_per_1000_per_year: -5
    professional:
      need_mix:
        a1_emergency: 0.08
        a2_urgent: 0.40
        b_planned: 0.42
calendar:
  day_parts:
    weekend_night: {{days: [fri, sat], start_hour: 23, end_hour: 6}}
"""


def write(tmp_path: Path, text: str, name: str = "broken.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def problems_of(path: Path, overrides: tuple[str, ...] = ()) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        load_scenario(path, overrides)
    return str(info.value).splitlines()


def test_every_problem_of_a_broken_file_is_located(tmp_path: Path) -> None:
    path = write(tmp_path, BROKEN.format(base=BASE))
    lines = problems_of(path)
    assert len(lines) == 4, lines
    for line in lines:
        m = LOCATED.match(line)
        assert m, line
        assert m["file"] == str(path)
    by_path = {LOCATED.match(x)["path"]: LOCATED.match(x) for x in lines}
    assert by_path["colour"]["line"] == "4"
    assert "unknown field 'colour'" in by_path["colour"]["msg"]
    rate = by_path["demand.groups.emergency.requests_per_1000_per_year"]
    assert rate["line"] == "8" and "greater than or equal to 0" in rate["msg"]
    mix = by_path["demand.groups.professional.need_mix"]
    assert mix["line"] == "10" and "sum to 1" in mix["msg"] and "sum to 0.9" in mix["msg"]
    parts = by_path["calendar.day_parts"]
    assert "uncovered" in parts["msg"] and "sat 06:00-08:00" in parts["msg"]


def test_unknown_key_gets_did_you_mean(tmp_path: Path) -> None:
    path = write(tmp_path, f"extends: {BASE}\ngp_post:\n  triagist: {{}}\n")
    (line,) = problems_of(path)
    assert "gp_post.triagist" in line and "did you mean 'triagists'" in line
    assert line.startswith(f"{path}:3:3:")


def test_command_line_override_is_validated_and_located() -> None:
    lines = problems_of(
        SCENARIOS / "groningen_separate.yaml", ("gp_post.triagists.weekday_evening=-1",)
    )
    assert len(lines) == 1
    assert lines[0].startswith(
        "--set gp_post.triagists.weekday_evening=-1: gp_post.triagists.weekday_evening:"
    )
    assert "greater than or equal to 0" in lines[0]


def test_override_changes_the_field() -> None:
    sc = load_scenario(
        SCENARIOS / "groningen_separate.yaml", ("gp_post.triagists.weekday_evening=7",)
    )
    assert sc.gp_post.triagists["weekday_evening"] == 7
    assert sc.organisation == "separate"


def test_unknown_override_path_gets_hint() -> None:
    (line,) = problems_of(
        SCENARIOS / "groningen_separate.yaml", ("gp_post.triagists.weekday_evenin=7",)
    )
    assert "unknown day part 'weekday_evenin'" in line and "did you mean 'weekday_evening'" in line


def test_duplicate_keys_are_rejected(tmp_path: Path) -> None:
    path = write(tmp_path, f"extends: {BASE}\nname: a\nname: b\n")
    (line,) = problems_of(path)
    assert line.startswith(f"{path}:3:1: name: duplicate key")


def test_unsafe_yaml_tags_construct_nothing(tmp_path: Path) -> None:
    path = write(tmp_path, f"extends: {BASE}\nname: !!python/object/apply:os.system ['echo hi']\n")
    lines = problems_of(path)
    assert any("name: value not allowed" in x for x in lines)


def test_overlapping_day_parts(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        f"extends: {BASE}\ncalendar:\n  day_parts:\n"
        "    weekday_day: {days: [mon, tue, wed, thu, fri], start_hour: 7, end_hour: 17}\n",
    )
    (line,) = problems_of(path)
    assert "calendar.day_parts" in line and "overlap" in line and "mon 07:00" in line


def test_staffing_must_name_every_day_part(tmp_path: Path) -> None:
    text = f"extends: {BASE}\nmka:\n  call_takers: {{weekday_day: 1}}\n"
    path = write(tmp_path, text)
    # deep merge keeps the other parts, so remove one through the raw content instead
    sc = load_scenario(path)
    assert sc.mka.call_takers["weekday_day"] == 1
    from helpers import base_data
    from sim.scenario import validate_data

    data = base_data()
    del data["mka"]["call_takers"]["weekend_night"]
    with pytest.raises(ScenarioError) as info:
        validate_data(data)
    assert (
        "mka.call_takers: staffing must give a number for every day part; missing: weekend_night"
        in str(info.value)
    )


def test_cross_references_are_checked() -> None:
    from helpers import base_data
    from sim.scenario import validate_data

    data = base_data()
    data["needs"]["gp_consult"]["service"] = "gp_consul"
    data["demand"]["groups"]["emergency"]["need_mix"] = {"a1_emergncy": 1.0}
    with pytest.raises(ScenarioError) as info:
        validate_data(data)
    text = str(info.value)
    assert (
        "needs.gp_consult.service: unknown service 'gp_consul'; did you mean 'gp_consult'?" in text
    )
    assert "unknown need 'a1_emergncy'; did you mean 'a1_emergency'?" in text


def test_start_date_must_be_a_monday(tmp_path: Path) -> None:
    path = write(tmp_path, f"extends: {BASE}\ncalendar:\n  start_date: 2027-01-05\n")
    (line,) = problems_of(path)
    assert "calendar.start_date" in line and "Monday" in line and "Tuesday" in line


def test_confusion_rows_must_sum_to_one(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        f"extends: {BASE}\nmka:\n  triage:\n    confusion:\n"
        "      a1_emergency: {a1_emergency: 0.5}\n",
    )
    (line,) = problems_of(path)
    assert "mka.triage.confusion" in line and "sum to 1" in line


def test_missing_base_file(tmp_path: Path) -> None:
    path = write(tmp_path, "extends: nowhere.yaml\n")
    (line,) = problems_of(path)
    assert line.startswith(f"{path}:1:1: extends: base file 'nowhere.yaml' does not exist")


def test_yaml_syntax_error_is_located(tmp_path: Path) -> None:
    path = write(tmp_path, "name: [unclosed\n")
    (line,) = problems_of(path)
    assert line.startswith(f"{path}:") and "not valid YAML" in line


def test_bad_scenario_on_the_command_line_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    path = write(tmp_path, BROKEN.format(base=BASE))
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "run_sim.py", "run", str(path), "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    located = [x for x in proc.stderr.splitlines() if LOCATED.match(x)]
    assert len(located) == 4, proc.stderr
    assert not out.exists()


def test_schema_is_json_schema_of_the_scenario() -> None:
    schema = scenario_json_schema()
    assert schema["type"] == "object"
    for key in (
        "organisation",
        "needs",
        "demand",
        "mka",
        "gp_post",
        "coordination",
        "ambulances",
        "extends",
    ):
        assert key in schema["properties"]
    json.dumps(schema)


def test_shipped_scenarios_load() -> None:
    for name in ("separate", "colocated", "central"):
        sc = load_scenario(SCENARIOS / f"groningen_{name}.yaml")
        assert sc.organisation == name
        assert sc.region.population == 590000


@pytest.mark.parametrize(
    ("field", "raw", "fragment"),
    [
        ("mka.call_takers.weekday_evening", "true", "valid integer"),
        ("mka.triage.patience.mean_min", "1:30", "plain decimal"),
        ("mka.triage.patience.mean_min", "0x1A", "plain decimal"),
        ("mka.triage.patience.mean_min", ".inf", "not a finite number"),
        ("mka.triage.patience.mean_min", "'5'", "valid number"),
        ("run.warmup_days", "1e6", "less than or equal to 365"),
        (
            "geography.posts.leek.vehicles.weekday_evening",
            "9223372036854775808",
            "less than or equal",
        ),
        ("region.population", "2.5", "valid integer"),
    ],
)
def test_numbers_are_strict_in_files_and_in_set(
    tmp_path: Path, field: str, raw: str, fragment: str
) -> None:
    """A count is a whole number and never a bool; a duration is never a string, a
    sexagesimal or hexadecimal number or infinite; every number has finite bounds. The
    same holds for a --set value."""
    *parents, leaf = field.split(".")
    text = f"extends: {BASE}\nname: strict\n"
    indent = ""
    for part in parents:
        text += f"{indent}{part}:\n"
        indent += "  "
    if field == "mka.triage.patience.mean_min":
        text += f"{indent}dist: fixed\n"
    text += f"{indent}{leaf}: {raw}\n"
    lines = problems_of(write(tmp_path, text))
    assert all(LOCATED.match(line) for line in lines), lines
    assert any(f": {field}: " in line and fragment in line for line in lines), lines
    if field != "mka.triage.patience.mean_min":
        lines = problems_of(
            write(tmp_path, f"extends: {BASE}\nname: strict\n", "ok.yaml"), (f"{field}={raw}",)
        )
        prefix = f"--set {field}={raw}: {field}: "
        assert any(line.startswith(prefix) and fragment in line for line in lines), lines
