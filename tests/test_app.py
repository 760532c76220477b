"""The web app (``python run_sim.py app``): with Streamlit's own test harness, and in a real
headless Chromium driven by Playwright (the system's browser, which .ci/run installs; where
no browser can be installed the browser test is skipped and says why)."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers import ROOT

APP = ROOT / "sim" / "app.py"
#: Set to a file name to keep the browser test's screenshot of the app after a comparison.
SCREENSHOT_ENV = "APP_SCREENSHOT"


def _harness() -> object:
    testing = pytest.importorskip("streamlit.testing.v1")
    return testing.AppTest.from_file(str(APP), default_timeout=300)


def test_the_app_runs_a_comparison_in_streamlits_harness() -> None:
    at = _harness()
    at.run()  # type: ignore[attr-defined]
    assert not at.exception  # type: ignore[attr-defined]
    at.number_input(key="weeks").set_value(1)  # type: ignore[attr-defined]
    at.number_input(key="replications").set_value(2)  # type: ignore[attr-defined]
    at.multiselect(key="forms").set_value(["separate", "central"])  # type: ignore[attr-defined]
    at.number_input(key="input.gp_post_patience").set_value(12.0)  # type: ignore[attr-defined]
    at.run()  # type: ignore[attr-defined]
    at.button(key="run").click()  # type: ignore[attr-defined]
    at.run()  # type: ignore[attr-defined]
    assert not at.exception  # type: ignore[attr-defined]
    headers = [h.value for h in at.header]  # type: ignore[attr-defined]
    assert {"Verdict", "KPI table", "Downloads"} <= set(headers)
    assert [s.value for s in at.subheader] == [  # type: ignore[attr-defined]
        "groningen_central against groningen_separate"
    ]
    verdict = at.markdown[0].value  # type: ignore[attr-defined]
    assert "Misrouted requests" in verdict and "pts [" in verdict
    assert "gp_post_patience = 12" in at.warning[0].value  # type: ignore[attr-defined]
    # the numbers are the API's for the same scenarios and changes
    from sim import api

    files = [ROOT / "scenarios" / f"groningen_{form}.yaml" for form in ("separate", "central")]
    changed = [api.with_inputs(path, {"gp_post_patience": 12.0}) for path in files]
    forms = [api.load_scenario(sc, {"run.weeks": 1}) for sc in changed]
    expected = api.compare(forms, 2).verdicts()
    first = expected.iloc[0]
    assert f"{first['label']}, {first['text']}" in verdict


def test_the_app_command_needs_its_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    from sim.cli import main

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda n, *a: None if n == "streamlit" else real(n, *a)
    )
    assert main(["app"]) == 2


# --------------------------------------------------------------------------- a real browser


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def _served() -> Iterator[str]:
    """``python run_sim.py app`` on a free port, until the block ends."""
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "run_sim.py", "app", "--port", str(port), "--address", "127.0.0.1"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                out = proc.stdout.read().decode() if proc.stdout else ""
                raise AssertionError(f"the app did not start: {out[-2000:]}")
            time.sleep(0.5)
        yield url
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(timeout=30)


def _browser() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    pytest.skip("no Chromium on this machine (.ci/run installs the 'chromium' package)")


@pytest.mark.slow
def test_the_app_in_a_real_browser(tmp_path: Path) -> None:
    playwright = pytest.importorskip("playwright.sync_api")
    chromium = _browser()
    with _served() as url, playwright.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, headless=True)
        page = browser.new_page(viewport={"width": 1400, "height": 1800}, accept_downloads=True)
        page.goto(url)
        page.get_by_role("button", name="Run comparison").wait_for(timeout=60_000)
        # a small comparison of the four Groningen forms, with one input changed
        for label, value in (("Reporting weeks per replication", "1"), ("Replications", "2")):
            field = page.get_by_role("spinbutton", name=label, exact=True)
            field.fill(value)
            field.press("Enter")
        page.get_by_text("Inputs that decide the comparison").click()
        patience = page.get_by_role("spinbutton", name="gp_post_patience [min]", exact=True)
        patience.fill("12")
        patience.press("Enter")
        page.wait_for_timeout(1_000)
        page.get_by_role("button", name="Run comparison").click()
        page.get_by_text("groningen_central against groningen_separate").wait_for(timeout=300_000)
        body = page.inner_text("body")
        assert "Verdict" in body and "Misrouted requests" in body
        assert "gp_post_patience = 12" in body
        page.get_by_text("Verdict", exact=True).scroll_into_view_if_needed()
        shot = Path(os.environ.get(SCREENSHOT_ENV) or tmp_path / "app.png")
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 10_000
        with page.expect_download(timeout=60_000) as info:
            page.get_by_role("button", name="HTML report").click()
        report = Path(info.value.path()).read_text(encoding="utf-8")
        assert report.lstrip().lower().startswith("<!doctype html")
        assert "groningen_coordination_centre" in report
        browser.close()
