"""The mechanisms, in the one ordered list that makes the model.

Each entry is (scenario key, parameter class, mechanism class). The list generates the scenario's
parameter blocks, the construction and random stream of each mechanism, the ODD parameter table,
and the order of initialisation and of the weekly step. Adding a mechanism is one module plus one
line here.
"""

from __future__ import annotations

from typing import Any

from culturedrift.model.base import Mechanism
from culturedrift.model.mechanisms.change_programme import Change, ChangeProgramme
from culturedrift.model.mechanisms.culture import Culture, CultureParams
from culturedrift.model.mechanisms.leadership import BudgetParams, Leadership
from culturedrift.model.mechanisms.morale import Morale, MoraleParams
from culturedrift.model.mechanisms.relationships import RelationshipParams, Relationships
from culturedrift.model.mechanisms.slippage import Slippage, SlippageParams
from culturedrift.model.mechanisms.turnover import Turnover, TurnoverParams
from culturedrift.model.mechanisms.workload import Workload, WorkloadParams

# weekly order: leadership (3: budget, interventions) -> change programme (1a) -> workload (Munro)
# -> relationships (2a: ties) -> morale (2a) -> culture (1b) -> slippage (2b) -> turnover (2a)
MECHANISMS: list[tuple[str, Any, type[Mechanism]]] = [
    ("budget", BudgetParams, Leadership),
    ("change_programme", list[Change], ChangeProgramme),
    ("workload", WorkloadParams, Workload),
    ("relationships", RelationshipParams, Relationships),
    ("morale", MoraleParams, Morale),
    ("culture", CultureParams, Culture),
    ("slippage", SlippageParams, Slippage),
    ("turnover", TurnoverParams, Turnover),
]
