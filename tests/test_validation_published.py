"""Groningen today against published Dutch figures: every target is measured, and the two
volume figures that sit well inside their bands (GP-post contacts and ambulance rides per
1,000) stay there in a short run. The full table, 10 replications of 4 weeks, is
`python run_sim.py validate` (docs/VALIDATION.md keeps it; 112 calls per 1,000 lie near
the lower edge of their band, so a short run cannot test them)."""

from __future__ import annotations

import math

from sim.validation.published import TARGETS, format_table, run_validation


def test_every_published_figure_is_measured_and_volumes_are_in_band() -> None:
    rows = run_validation(replications=2, weeks=1, workers=2)
    assert [r.target.key for r in rows] == [t.key for t in TARGETS]
    assert all(math.isfinite(r.mean) for r in rows), [r.target.key for r in rows]
    # the figures of the ambulance geography are among them (a zone's A1 within 15 min)
    assert any(r.target.key.startswith("zone.") for r in rows)
    volumes = {"hap_contacts_per_1000", "ambulance_rides_per_1000"}
    assert all(r.inside for r in rows if r.target.key in volumes)
    text = format_table(rows)
    markdown = format_table(rows, markdown=True)
    for t in TARGETS:
        assert t.label in text and t.source in markdown


def test_strict_validation_exits_1_when_a_figure_leaves_its_band(capsys) -> None:
    from sim.cli import EXIT_FAILED, EXIT_OK, main

    fast = ["validate", "--replications", "2", "--weeks", "1", "--workers", "2"]
    # half the population: every per-1,000 figure doubles, far outside its band
    broken = [*fast, "--set", "region.population=295000"]
    assert main([*broken, "--strict"]) == EXIT_FAILED
    assert "NO" in capsys.readouterr().out
    assert main(broken) == EXIT_OK  # without --strict the table is only reported


def test_the_zone_free_model_is_validated_without_the_zone_figures() -> None:
    from helpers import SCENARIOS

    rows = run_validation(
        replications=2, weeks=1, workers=2, overlays=(SCENARIOS / "groningen_zone_free.yaml",)
    )
    keys = [r.target.key for r in rows]
    assert keys == [t.key for t in TARGETS if not t.key.startswith("zone.")]
    assert all(math.isfinite(r.mean) for r in rows)
