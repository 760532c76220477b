"""What is simulated: the scenario schema, its YAML source and its validation. Data only.

A scenario is loaded once (``load_scenario``), validated once, and is immutable while a
model runs. Nothing in this package knows SimPy or the model's random numbers.
"""

from sim.scenario.loader import load_scenario, scenario_json_schema, validate_data
from sim.scenario.problems import Location, Problem, ScenarioError
from sim.scenario.schema import Duration, Scenario, Triage
from sim.scenario.source import field_value, load_raw, parse_override

__all__ = [
    "Duration",
    "Location",
    "Problem",
    "Scenario",
    "ScenarioError",
    "Triage",
    "field_value",
    "load_raw",
    "load_scenario",
    "parse_override",
    "scenario_json_schema",
    "validate_data",
]
