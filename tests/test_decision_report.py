"""The decision report of an uncertainty study: its first screen answers which form is
better than today, how likely, and what decides it; overrides are shown; figures are
colour-blind-safe SVG and 300-dpi PNG; a real headless browser renders it. The slow tests
show the two-stage study gives identical numbers after Ctrl-C and resume, and on dask."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpers import ROOT
from sim.cli import main
from sim.report.style import PALETTE, input_label

SCENARIOS = ROOT / "scenarios"
STUDY = [
    "uncertainty",
    str(SCENARIOS / "groningen_separate.yaml"),
    str(SCENARIOS / "groningen_central.yaml"),
    "--draws", "8", "--replications", "2", "--weeks", "1", "--one-at-a-time", "1",
    "--set", "region.population=80000",
    "--set", "calendar.after_hours.weekday_start_hour=18",
    "--no-progress",
]  # fmt: skip
TABLES = ("uncertainty_summary.csv", "sensitivity.csv", "uncertainty_draws.csv")


def _folder(out: Path) -> Path:
    (folder,) = [p for p in out.iterdir() if p.is_dir() and not p.name.startswith(".")]
    return folder


def _stage2(folder: Path) -> Path:
    (found,) = [p for p in folder.iterdir() if p.name.endswith("_one_at_a_time")]
    return found


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("decision")
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(io.StringIO()):
        code = main([*STUDY, "--out", str(out), "--workers", "2"])
    assert code == 0, stdout.getvalue()
    return _folder(out), stdout.getvalue()


def _verdict_section(text: str) -> str:
    match = re.search(r"<section id='verdict'.*?</section>", text, re.S)
    assert match, "the report has no verdict section"
    return match[0]


def test_first_screen_answers_which_form_how_likely_and_what_decides(study) -> None:
    folder, _ = study
    text = (folder / "report.html").read_text(encoding="utf-8")
    verdict = _verdict_section(text)
    assert "<b>groningen_central</b> against groningen_separate" in verdict
    assert re.search(r"in \d+% of the draws", verdict)  # how likely, in plain words
    with (folder / "sensitivity.csv").open(encoding="utf-8") as fh:
        inputs = {input_label(r["input"]) for r in csv.DictReader(fh)}
    named = [name for name in inputs if name in verdict]
    assert named, "the verdict names no deciding input"
    # the first screen comes before the evidence
    assert text.index("id='verdict'") < text.index("The evidence")


def test_report_shows_overrides_and_texts_from_the_scenario(study) -> None:
    folder, _ = study
    text = (folder / "report.html").read_text(encoding="utf-8")
    banner = text[text.index("class='banner'") : text.index("</div>")]
    assert "region.population" in banner and "80000" in banner and "590000" in banner
    assert "calendar.after_hours.weekday_start_hour" in banner
    assert "changed by user" in banner
    assert "weekdays 18:00-08:00" in text  # from the scenario, not fixed text
    assert "p = " not in text and "p-value" not in text
    assert "{'" not in text  # no Python dicts
    assert "When would the answer flip?" in text and "The uncertain inputs" in text
    # the --explain decomposition at the base point, from the second stage's runs
    assert "Where the differences come from" in text and "structure" in text
    assert "@base" not in text[text.index("Where the differences come from") :][:3000]


def test_figures_are_svg_and_300_dpi_png_in_the_safe_palette(study) -> None:
    folder, _ = study
    figures = folder / "figures"
    names = {p.stem for p in figures.iterdir()}
    assert "difference_distributions" in names and "tornado_groningen_central" in names
    for name in names:
        png = (figures / f"{name}.png").read_bytes()
        assert (figures / f"{name}.svg").exists()
        chunk = png.index(b"pHYs")
        per_metre = struct.unpack(">I", png[chunk + 4 : chunk + 8])[0]
        assert round(per_metre * 0.0254) == 300, name
    boxes = (figures / "difference_distributions.svg").read_text(encoding="utf-8")
    assert PALETTE[1].lower() in boxes.lower()  # Okabe-Ito orange
    svg = (figures / "tornado_groningen_central.svg").read_text(encoding="utf-8")
    # human labels: the input's name in words, never its identifier
    meta = json.loads((_stage2(folder) / "meta.json").read_text())
    (name,) = meta["uncertainty"]["inputs"]
    assert input_label(name) in svg and name not in svg


def test_terminal_summary_fits_100_columns(study) -> None:
    _, text = study
    lines = [x for x in text.splitlines() if not x.startswith(("Results", "Report"))]
    assert all(len(line) <= 100 for line in lines), max(lines, key=len)
    assert "groningen_central against groningen_separate" in text


def _browser() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


BROWSER_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def test_a_real_browser_renders_the_first_screen(study, tmp_path: Path) -> None:
    """Headless Chromium: the DOM it builds holds the verdict, its screenshot of the first
    screen is a real picture (kept in the study folder as report_first_screen.png), and the
    page prints on A4."""
    browser = _browser()
    if browser is None:
        pytest.skip("no Chromium on this machine (.ci/run installs the 'chromium' package)")
    folder, _ = study
    url = (folder / "report.html").resolve().as_uri()
    profile = ["--user-data-dir=" + str(tmp_path / "profile")]
    dom = subprocess.run(
        [browser, *BROWSER_FLAGS, *profile, "--dump-dom", url],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert 'id="verdict"' in dom.stdout and "groningen_central" in dom.stdout
    shot = folder / "report_first_screen.png"
    run = subprocess.run(
        [browser, *BROWSER_FLAGS, *profile, f"--screenshot={shot}", "--window-size=1200,1400", url],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (1200, 1400)
    assert len(data) > 20_000  # a page of text, not a blank screen
    # printed, every page is A4 (595 x 842 points)
    pdf = tmp_path / "report.pdf"
    printed = subprocess.run(
        [browser, *BROWSER_FLAGS, *profile, "--no-pdf-header-footer", f"--print-to-pdf={pdf}", url],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert printed.returncode == 0, printed.stderr[-2000:]
    boxes = re.findall(rb"MediaBox \[0 0 ([\d.]+) ([\d.]+)\]", pdf.read_bytes())
    assert boxes and all(abs(float(w) - 595) < 2 and abs(float(h) - 842) < 2 for w, h in boxes)


# --------------------------------------------------------------------------- slow


def _start(out: Path, *extra: str) -> subprocess.Popen[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.Popen(
        [sys.executable, "run_sim.py", *STUDY, "--out", str(out), *extra],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def _tables(folder: Path) -> dict[str, str]:
    out = {name: (folder / name).read_text() for name in TABLES}
    for name in ("thresholds.csv", "explain.csv"):
        out[name] = (_stage2(folder) / name).read_text()
    return out


def _partial(out: Path, stage: str) -> Path | None:
    """The unfinished folder of a stage once it holds a finished replication."""
    if not out.exists():
        return None
    pattern = ".*.partial" if stage == "draws" else "*/.*one_at_a_time.partial"
    try:
        for found in out.glob(pattern):
            reps = found / "replications"
            if reps.exists() and any(p.suffix == ".json" for p in reps.iterdir()):
                return found
    except FileNotFoundError:  # a stage's folder was renamed into place while we looked
        return None
    return None


@pytest.mark.slow
def test_interrupted_in_each_stage_then_resumed_gives_the_same_numbers(study, tmp_path) -> None:
    reference = _tables(study[0])
    for stage in ("draws", "one_at_a_time"):
        out = tmp_path / stage
        proc = _start(out, "--workers", "2")
        deadline = time.monotonic() + 300

        while _partial(out, stage) is None:
            assert proc.poll() is None, proc.communicate()[1]
            assert time.monotonic() < deadline
            time.sleep(0.01)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 130, err
        folder = _partial(out, stage)
        assert folder is not None, (err, sorted(str(p) for p in out.rglob("*")))
        assert f"uncertainty --resume {folder}" in err
        resumed = subprocess.run(
            [sys.executable, "run_sim.py", "uncertainty", "--resume", str(folder), "--no-progress"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=600,
            env=dict(os.environ, PYTHONPATH=str(ROOT)),
        )
        assert resumed.returncode == 0, resumed.stderr
        done = _folder(out)
        assert _tables(done) == reference, stage
        assert "id='verdict'" in (done / "report.html").read_text(encoding="utf-8")


@pytest.mark.slow
def test_on_a_local_dask_cluster_the_numbers_are_identical(study, tmp_path) -> None:
    pytest.importorskip("dask.distributed")
    out = tmp_path / "dask"
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(io.StringIO()):
        code = main([*STUDY, "--out", str(out), "--scheduler", "local", "--workers", "2"])
    assert code == 0, stdout.getvalue()
    assert _tables(_folder(out)) == _tables(study[0])
