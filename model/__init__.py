"""culturedrift: an agent-based model of a children's services organisation carrying out the Munro Review."""

from model.model import CultureDriftModel
from model.run import RunResult, simulate, simulate_summary
from model.scenario import Scenario, ScenarioError, load_scenario, parse_scenario

__all__ = ["CultureDriftModel", "RunResult", "Scenario", "ScenarioError", "load_scenario", "parse_scenario",
           "simulate", "simulate_summary"]
