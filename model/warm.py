"""Compiled code loaded once per process, so that no simulation pays for it (sweep workers call this first)."""

from __future__ import annotations

import numpy as np

from culturedrift.model.model import CultureDriftModel
from culturedrift.model.scenario import parse_scenario


def warm_up() -> None:
    """Load (or, on a machine's first run, compile) every kernel with the argument types a run uses."""
    sc = parse_scenario({
        "name": "warm_up", "horizon_weeks": 3, "burn_in_weeks": 1,
        "organisation": {"n_teams": 2, "team_size": 3, "partner_agencies": {"police": 2, "health": 2}},
        "change_programme": [{"name": "system", "kind": "it_system", "start_week": 0, "duration_weeks": 2,
                              "learning": {}}],
        "interventions": [{"kind": "engagement", "start_week": 0}]})  # interventions' effects compile too
    model = CultureDriftModel(sc, 0, compiled=True)
    movers = np.flatnonzero(model.state.filled)[:2]
    model.leave(movers)  # leaving and joining compile too, even if nobody happens to move in three weeks
    model.join(movers, agency_worker=False)
    model.run()
