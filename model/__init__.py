"""culturedrift: an agent-based model of a children's services organisation carrying out the Munro Review."""

from culturedrift.model.model import CultureDriftModel
from culturedrift.model.run import RunResult, simulate, simulate_summary
from culturedrift.model.scenario import Scenario, ScenarioError, load_scenario, parse_scenario
from culturedrift.model.warm import warm_up

__all__ = ["CultureDriftModel", "RunResult", "Scenario", "ScenarioError", "load_scenario", "parse_scenario",
           "simulate", "simulate_summary", "warm_up"]
