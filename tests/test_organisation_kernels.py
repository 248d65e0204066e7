"""The organisation side of the compiled week against the numpy reference: interventions delivered in one pass,
the change programme's loop in one call, the shared rows of the effect channels."""

from __future__ import annotations

import copy
from typing import Any, Literal

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from culturedrift.model import CultureDriftModel, kernels
from culturedrift.model.base import param
from culturedrift.model.groups import GROUP_CODES, group_slots
from culturedrift.model.interventions.base import REGISTRY, Intervention
from tests.conftest import tiny
from tests.test_kernels import SETTINGS, assert_same_bits

GROUPS = list(GROUP_CODES)


class OwnEffect(Intervention):
    """A kind with an effect of its own between the others: support for managers only, with the time it takes."""

    kind: Literal["test_own_effect"] = "test_own_effect"
    cost_per_week: float = param(1.0, "GBP thousand per week", "Test", ge=0)

    def effect(self, model: Any, whom: np.ndarray, strength: float) -> None:
        model.add_effect("support", whom & model.state.manager, 0.01 * strength)
        model.add_effect("time_cost", whom, 0.003 * strength)
        model.add_effect("exit_hazard_multiplier", whom, 0.9)


class Declared(Intervention):
    """A kind declared by its deliveries alone (the fast path), writing the channels the others write too."""

    kind: Literal["test_declared"] = "test_declared"
    cost_per_week: float = param(0.5, "GBP thousand per week", "Test", ge=0)

    def deliveries(self, model: Any, strength: float) -> tuple[tuple[str, float], ...]:
        return (("support", 0.001 * strength * (1 + model.week % 3)), ("exit_hazard_multiplier", 0.97),
                ("change_buffer", 0.4 * strength), ("control_damping", 0.3 * strength),
                ("interagency_boost", 0.5 * strength))


REGISTRY.pop("test_own_effect", None)  # test kinds stay out of the scenario schema's registry
REGISTRY.pop("test_declared", None)


def many_interventions(budget: float) -> dict[str, Any]:
    """Every built-in kind on every group, overlapping and recurring, on a budget that scales them down."""
    kinds = ["engagement", "reflective_supervision", "training", "recognition", "retention", "culture_vigilance",
             "partner_liaison", "caseload_cap", "adaptive_vigilance"]
    ivs = []
    for k, kind in enumerate(kinds):
        iv: dict[str, Any] = {"kind": kind, "start_week": k % 4, "intensity": 0.5 + 0.25 * (k % 4)}
        if kind not in ("partner_liaison", "caseload_cap"):
            iv["target"] = GROUPS[k % len(GROUPS)] if kind != "retention" else "staff"
        if k % 3 == 1:
            iv.update(every_weeks=5, active_weeks=2)
        if k % 3 == 2:
            iv["end_week"] = 20
        ivs.append(iv)
    ivs += [{"kind": "engagement", "target": g, "start_week": 2, "end_week": 30} for g in GROUPS]
    return {"interventions": ivs, "budget": {"quarterly_budget": budget}}


def changes() -> list[dict[str, Any]]:
    """A programme of overlapping changes on every group, with learning curves and prescription shifts."""
    out = []
    for k, g in enumerate(GROUPS):
        c: dict[str, Any] = {"name": f"c{k}", "kind": "process", "start_week": 2 * k, "duration_weeks": 3 + k,
                             "affects": g, "disruption": 0.01 * (k + 1)}
        if k % 2:
            c["prescription_change"] = -0.05 * k
        if k % 3 == 0:
            c.update(kind="it_system", learning={"initial_proficiency": 0.3 + 0.1 * k})
        out.append(c)
    out.append({"name": "teams", "kind": "structure", "start_week": 6, "rewire_fraction": 0.3})
    return out


def run_both(sc: Any, seed: int, extra: list[Intervention] = ()) -> tuple[CultureDriftModel, CultureDriftModel]:
    """The numpy reference and the compiled model of one scenario and seed, run to the end."""
    a = CultureDriftModel(sc, seed, compiled=False)
    b = CultureDriftModel(sc, seed, compiled=True)
    for m in (a, b):
        m.interventions = [*m.interventions, *extra]
        m.run()
    return a, b


@pytest.mark.parametrize("seed", [1, 11])
@pytest.mark.parametrize("budget", [400.0, 40.0])
def test_many_interventions_on_every_group_give_the_reference_bits(seed: int, budget: float) -> None:
    sc = tiny(horizon_weeks=36, burn_in_weeks=3, change_programme=changes(), **many_interventions(budget),
              events=[{"week": 5, "kind": "inspection", "magnitude": 0.2},
                      {"week": 3, "kind": "go_live", "change": "c5", "start_week": 15},
                      {"week": 8, "kind": "intervention_start", "intervention": {"kind": "recognition", "start_week": 8,
                                                                                "target": "new_hires"}},
                      {"week": 12, "kind": "intervention_end", "intervention_kind": "engagement"},
                      {"week": 14, "kind": "budget_change", "quarterly_budget": budget / 2, "at_once": True}])
    a, b = run_both(sc, seed)
    assert_same_bits(a, b)
    assert a.events_frame().equals(b.events_frame())


def test_a_go_live_moved_twice_in_one_week_is_read_afresh() -> None:
    """A change moved, then moved twice in one later week: the change programme's compiled week reads the last move
    (the copy made by the earlier move of that week is freed, and the last copy may take its place in memory)."""
    sc = tiny(horizon_weeks=30, burn_in_weeks=3, change_programme=changes(),
              events=[{"week": 4, "kind": "go_live", "change": "c5", "start_week": 20},
                      {"week": 6, "kind": "go_live", "change": "c5", "start_week": 14},
                      {"week": 6, "kind": "go_live", "change": "c5", "start_week": 10}])
    for seed in (2, 7):
        a, b = run_both(sc, seed)
        assert_same_bits(a, b)


@pytest.mark.parametrize("seed", [0, 5])
def test_kinds_with_their_own_effect_keep_their_place_among_the_others(seed: int) -> None:
    """A kind that overrides `effect` runs its own code between the declared ones, writing the same channels."""
    own = [OwnEffect(start_week=1, target="staff"), OwnEffect(start_week=4, target="new_hires")]
    declared = [Declared(start_week=0, target="frontline"), Declared(start_week=2, target="all", every_weeks=4)]
    sc = tiny(horizon_weeks=20, burn_in_weeks=2, interventions=[{"kind": "engagement"}, {"kind": "retention"}])
    a, b = run_both(sc, seed, [declared[0], own[0], declared[1], own[1]])
    assert_same_bits(a, b)
    assert a.timeseries()["intervention_cost_week"].iloc[-1] > 0


@given(seed=st.integers(0, 2**32 - 1), k=st.integers(0, 12), weeks=st.floats(0.0, 80.0))
@SETTINGS
def test_deliver_is_one_add_effect_after_another(seed: int, k: int, weeks: float) -> None:
    """kernels.deliver on random entries against Host.add_effect's numpy code, entry by entry."""
    model = CultureDriftModel(tiny(horizon_weeks=2, burn_in_weeks=1), 0, compiled=False)
    r = np.random.default_rng(seed)
    s = model.state
    s.tenure[:] = r.exponential(40.0, s.n)
    s.agency_worker[:] = r.random(s.n) < 0.3
    s.filled[:] = r.random(s.n) < 0.8
    names = list(model.effect_row)
    start = r.uniform(0.5, 1.5, model.effect_rows.shape)
    entries = []
    expect = start.copy()
    for _ in range(k):
        name, group, amount = names[r.integers(len(names))], GROUPS[r.integers(len(GROUPS))], float(r.uniform(0, 0.6))
        entries += (model.effect_row[name], GROUP_CODES[group], amount)
        model.effect_rows[...] = expect
        model.add_effect(name, group_slots(s, group, weeks) & s.filled, amount)
        expect = model.effect_rows.copy()
    rows = start.copy()
    kernels.deliver(rows, model.effect_ops, model.effect_caps, np.array(entries, np.float64), s.filled,
                    kernels.role_bits(s.staff, s.frontline, s.manager, s.partner), s.agency_worker, s.tenure, weeks)
    assert np.array_equal(rows, expect)


def test_effect_channels_are_reset_even_when_a_name_was_rebound() -> None:
    model = CultureDriftModel(tiny(horizon_weeks=2, burn_in_weeks=1), 0)
    row = model.effects.support
    model.effects.support = np.full(model.state.n, 5.0)  # someone's code replaced the array
    model.effects.exit_hazard_multiplier[:] = 3.0
    model.effects.control_damping = 0.4
    model.reset_effects()
    assert model.effects.support is row and not row.any()
    assert (model.effects.exit_hazard_multiplier == 1.0).all() and model.effects.control_damping == 0.0


def test_a_deep_copy_runs_on_as_the_original() -> None:
    """copy.deepcopy of a model mid-run (tests and explorers fork runs so) gives the original's weeks: its effect
    channels are views of its own rows again and its signals its own."""
    sc = tiny(horizon_weeks=24, burn_in_weeks=2, change_programme=changes(), **many_interventions(400.0))
    a, b = CultureDriftModel(sc, 3), CultureDriftModel(sc, 3)
    for _ in range(5):
        a.step()
        b.step()
    c = copy.deepcopy(b)
    a.run()
    c.run()
    assert a.timeseries().equals(c.timeseries())
    assert c.signals is not b.signals and c.effects.support.base is c.effect_rows
