"""Test tiers. Every test not marked ``slow`` or ``validation`` also carries ``quick``, so
``python -m pytest -m quick`` runs a tier that covers every module in a few minutes, while
``python -m pytest`` (the README's and CI's command) runs everything but the long
validation runs, and ``python -m pytest -m validation`` runs those."""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if (
            item.get_closest_marker("slow") is None
            and item.get_closest_marker("validation") is None
        ):
            item.add_marker(pytest.mark.quick)
