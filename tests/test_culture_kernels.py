"""Culture's compiled step: the table of each team's frontline posts it sums team practice from, made again after a
restructure, and its steps looked up per team and kind of slot, bit for bit the reference's."""

from __future__ import annotations

import numpy as np
import pytest

from culturedrift.model import compiled
from tests.test_kernels import assert_same_bits
from tests.test_people_moving import VARIANTS, pair


def _listed(start: np.ndarray, slots: np.ndarray, frontline: np.ndarray, team: np.ndarray) -> None:
    """Team k's part of the table is exactly its frontline posts, in slot order."""
    for k in range(start.size - 1):
        assert slots[start[k]:start[k + 1]].tolist() == np.flatnonzero(frontline & (team == k)).tolist()
    assert start[-1] == slots.size


def test_team_table_is_made_again_after_a_restructure_and_the_run_keeps_the_references_bits() -> None:
    a, b = pair(VARIANTS["waves, restructure, learning, caseload cap"], 0)
    for _ in range(3):  # the restructure goes live at week 5
        a.step()
        b.step()
    culture, s = b.mechanism("culture"), b.state
    before, teams = culture._team_table, s.team.copy()
    _listed(*before, s.frontline, s.team)
    a.run()
    b.run()
    assert not np.array_equal(teams, s.team)  # the posts moved between teams ...
    after = culture._team_table
    assert after is not before  # ... and the table was made again for them
    _listed(*after, s.frontline, s.team)
    assert_same_bits(a, b)


@pytest.mark.parametrize("seed", [0, 3])
def test_steps_looked_up_per_team_and_kind_are_the_references_whatever_the_reinforcement(seed: int) -> None:
    """Reinforcement that differs within a team (a slot whose summed rate is not its key's works its own step out),
    norms part-way tipped, vacancies: one culture step gives the reference's habits, norms and sustain to the bit."""
    a, b = pair(VARIANTS["heavy turnover"], seed)
    for _ in range(6):
        a.step()
        b.step()
    r = np.random.default_rng(seed)
    n = a.state.n
    reinforcement = np.where(r.random(n) < 0.5, r.uniform(0.0, 1.0, n), np.where(r.random(n) < 0.5, 0.8, 0.0))
    norm = r.uniform(0.3, 0.6, a.mechanism("culture").norm.size)
    for m in (a, b):
        m.effects.reinforcement[:] = reinforcement
        culture = m.mechanism("culture")
        culture.norm[:] = norm
        culture._sustain_of_norm()
        m.mechanism("relationships").update_neighbour_sums()
        culture.step()
    ca, cb = a.mechanism("culture"), b.mechanism("culture")
    assert np.array_equal(a.state.compliance_habit, b.state.compliance_habit)
    assert np.array_equal(ca.norm, cb.norm) and np.array_equal(ca.sustain, cb.sustain)
    assert np.array_equal(ca.norm_of, cb.norm_of)


def test_team_table_refuses_team_numbers_out_of_range() -> None:
    frontline = np.array([True, True, False, True])
    start, slots = compiled.team_table(3, frontline, np.array([2, 0, -1, 2], np.int32))
    assert start.tolist() == [0, 1, 1, 3] and slots.tolist() == [1, 0, 3]
    for bad in ([3, 0, -1, 2], [0, 0, -2, 1]):
        with pytest.raises(ValueError, match="team numbers"):
            compiled.team_table(3, frontline, np.array(bad, np.int32))
