"""People moving in one compiled call: the same draws, moves, state and event log as the numpy reference.

Turnover's compiled week carries out its own joins and leaves (and the hires' Beta draws) in one kernel, and
workload draws its Poisson referrals inside its kernel, both from numpy's bit generators through a stream
table. These tests hold that path to the reference on scenarios that move many people, check the draws
themselves against numpy's, and check that anything the kernel does not know takes the host's path.
"""

from __future__ import annotations

import copy
import functools
from typing import Any

import numpy as np
import pytest
from numba import njit

from culturedrift.model import CultureDriftModel, kernels
from culturedrift.model.base import Mechanism, PersonState, Strict
from culturedrift.model.compiled import stream_table
from culturedrift.model.mechanisms import MECHANISMS
from culturedrift.model.scenario import scenario_class
from tests.conftest import TINY, tiny
from tests.test_kernels import assert_same_bits

HEAVY = {"labour_market_pressure": 1.4, "base_exit_hazard": 0.02, "agency_worker_exit_hazard": 0.08,
         "recruitment_min_weeks": 2}
VARIANTS: dict[str, dict[str, Any]] = {
    "plain": {},
    "heavy turnover": {"turnover": HEAVY},
    "waves, restructure, learning, caseload cap": {
        "turnover": HEAVY,
        "change_programme": [
            {"name": "ics", "kind": "it_system", "start_week": 2, "duration_weeks": 8,
             "learning": {"initial_proficiency": 0.3}},
            {"name": "teams", "kind": "structure", "start_week": 5, "rewire_fraction": 0.4}],
        "interventions": [{"kind": "caseload_cap", "start_week": 0, "end_week": 20},
                          {"kind": "retention", "start_week": 3, "end_week": 25}],
        "events": [{"week": 3, "kind": "leaver_wave", "share": 0.3}, {"week": 12, "kind": "leaver_wave", "share": 0.2}],
    },
    "no agency cover, fixed hire habit": {"turnover": {**HEAVY, "agency_worker_cover": False},
                                          "culture": {"hire_sd": 0.0}},
    "wide hire habits (both Beta shapes below 1)": {"turnover": HEAVY,
                                                    "culture": {"sector_habit": 0.5, "hire_sd": 0.45}},
}


def pair(fields: dict[str, Any], seed: int, weeks: int = 30) -> tuple[CultureDriftModel, CultureDriftModel]:
    """The numpy reference and the compiled model of one tiny scenario."""
    sc = tiny(horizon_weeks=weeks, burn_in_weeks=4, **fields)
    return CultureDriftModel(sc, seed, compiled=False), CultureDriftModel(sc, seed, compiled=True)


# ------------------------------------------------------------------------------------------- the draws


@njit(cache=True)
def _draw(table: np.ndarray, a: float, b: float, n: int, lam: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Uniforms and Beta draws from row 0, Poisson draws from row 1, as the kernels make them."""
    g = kernels._stream(table, 0)
    u = np.empty(n)
    x = np.empty(n)
    for i in range(n):
        u[i] = kernels.next_double(g)
    for i in range(n):
        x[i] = kernels.random_beta(g, a, b)
    h = kernels._stream(table, 1)
    k = np.empty(lam.size, np.int64)
    for i in range(lam.size):
        k[i] = kernels.random_poisson(h, lam[i])
    return u, x, k


@pytest.mark.parametrize("shapes", [(9.5, 4.07), (0.52, 0.52), (0.3, 2.5), (1.0, 1.0), (40.0, 60.0)])
@pytest.mark.parametrize("seed", [0, 1, 99])
def test_kernel_draws_are_numpys_and_leave_the_stream_where_numpy_would(shapes: tuple[float, float],
                                                                        seed: int) -> None:
    a, b = shapes
    lam = np.concatenate(([0.0, 1e-3, 9.99, 10.0, 1e4], np.random.default_rng(seed).uniform(0, 60, 200)))
    ref = np.random.default_rng(seed), np.random.default_rng(seed + 1)
    got = np.random.default_rng(seed), np.random.default_rng(seed + 1)
    u, x, k = ref[0].random(500), ref[0].beta(a, b, size=500), ref[1].poisson(lam)
    u2, x2, k2 = _draw(stream_table(*got), a, b, 500, lam)
    assert np.array_equal(u, u2) and np.array_equal(x, x2) and np.array_equal(k, k2)
    assert all(r.bit_generator.state == g.bit_generator.state for r, g in zip(ref, got, strict=True))


def test_beta_draws_in_one_call_are_the_draws_one_at_a_time() -> None:
    """The reference draws a week's hires' habits in one call per join; the kernel one at a time."""
    one, many = np.random.default_rng(5), np.random.default_rng(5)
    assert np.array_equal(np.concatenate([one.beta(9.5, 4.07, size=1) for _ in range(40)]),
                          many.beta(9.5, 4.07, size=40))


# -------------------------------------------------------------------------------------------- whole runs


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("seed", [0, 13])
def test_compiled_people_moving_matches_the_reference(variant: str, seed: int) -> None:
    a, b = pair(VARIANTS[variant], seed)
    a.run()
    b.run()
    assert b.compiled_moves() is not None and "people_week" in vars(b.kernels)  # the one-call week ran
    assert_same_bits(a, b)
    ea, eb = a.events_frame(), b.events_frame()
    assert len(ea) > 0 and ea.equals(eb)
    assert all(getattr(a.signals, k) == getattr(b.signals, k)
               for k in ("leavers", "leavers_permanent", "joiners", "agency_worker_hires_refused"))


def test_heavy_turnover_moves_many_people() -> None:
    """The heavy variants do what they are for: many exits, agency workers leaving and agency cover."""
    _, b = pair(VARIANTS["heavy turnover"], 0)
    b.run()
    ev = b.events_frame()
    leave, agency = ev.event == "leave", ev.employment == "agency_worker"
    assert leave.sum() > 30 and (leave & agency).sum() > 5 and (~leave & agency).sum() > 5


# ---------------------------------------------------------------------------- what the kernel does not know


def _counting(mech: Any, hook: str, calls: list[int]) -> None:
    """Replace the mechanism's `hook` on the instance by one that counts its calls and then does the same."""
    original = getattr(mech, hook)

    def hook_fn(slots: np.ndarray) -> None:
        calls.append(slots.size)
        original(slots)

    setattr(mech, hook, hook_fn)


@pytest.mark.parametrize("hook", ["on_join", "on_leave"])
def test_a_listener_replaced_on_an_instance_is_heard_through_the_host(hook: str) -> None:
    a, b = pair(VARIANTS["heavy turnover"], 3)
    calls: dict[str, list[int]] = {"a": [], "b": []}
    mech = "culture" if hook == "on_join" else "relationships"
    for key, m in (("a", a), ("b", b)):
        _counting(m.mechanism(mech), hook, calls[key])
    assert b.compiled_moves() is None
    a.run()
    b.run()
    assert calls["a"] == calls["b"] and sum(calls["b"]) > 0
    assert_same_bits(a, b)
    assert a.events_frame().equals(b.events_frame())


def test_a_listener_wrapped_on_its_class_is_heard_through_the_host(monkeypatch: pytest.MonkeyPatch) -> None:
    """Even a wrapper that looks like the original (functools.wraps) and is in place before any model is built."""
    from culturedrift.model.mechanisms.culture import Culture

    calls: list[int] = []
    original = Culture.on_join

    @functools.wraps(original)
    def on_join(self: Culture, slots: np.ndarray) -> None:
        calls.append(slots.size)
        original(self, slots)

    monkeypatch.setattr(Culture, "on_join", on_join)
    a, b = pair(VARIANTS["heavy turnover"], 5)
    assert b.compiled_moves() is None
    a.run()
    b.run()
    assert sum(calls) > 0
    assert_same_bits(a, b)


def test_a_listener_replaced_on_its_class_mid_run_is_heard_from_then_on(monkeypatch: pytest.MonkeyPatch) -> None:
    from culturedrift.model.mechanisms.relationships import Relationships

    _, b = pair(VARIANTS["heavy turnover"], 5)
    for _ in range(3):
        b.step()
    assert b.compiled_moves() is not None
    monkeypatch.setattr(Relationships, "on_leave", lambda self, slots: None)
    assert b.compiled_moves() is None


def test_mesa_agents_once_looked_at_follow_every_move() -> None:
    a, b = pair(VARIANTS["heavy turnover"], 4)
    assert len(b.agents) == int(b.state.filled.sum())  # looking makes them; from then on the host's path keeps them
    assert b.compiled_moves() is None
    a.run()
    b.run()
    assert_same_bits(a, b)
    assert sorted(ag.slot for ag in b.agents) == np.flatnonzero(b.state.filled).tolist()


class Noted(CultureDriftModel):
    """A model that notes who joined (a subclass hook the kernel does not know)."""

    def joined(self, slots: np.ndarray) -> None:
        super().joined(slots)
        self.noted = getattr(self, "noted", 0) + slots.size


def test_a_subclass_hook_takes_the_hosts_path() -> None:
    sc = tiny(horizon_weeks=20, burn_in_weeks=2, turnover=HEAVY)
    ref, noted = CultureDriftModel(sc, 2, compiled=False), Noted(sc, 2, compiled=True)
    assert noted.compiled_moves() is None
    ref.run()
    noted.run()
    assert_same_bits(ref, noted)
    assert noted.events_frame().equals(ref.events_frame())
    assert noted.noted >= (noted.events_frame().event == "join").sum() > 0  # the burn-in's joins are not logged


# ----------------------------------------------------------------------------------- copies and bad input


def test_a_copied_model_draws_from_its_own_streams() -> None:
    """The kernels reach a bit generator by address: a copy must use its own, and leave the original's alone."""
    fields = VARIANTS["heavy turnover"]
    straight, _ = pair(fields, 8)
    straight.run()
    b = CultureDriftModel(tiny(horizon_weeks=30, burn_in_weeks=4, **fields), 8, compiled=True)
    for _ in range(10):
        b.step()
    c = copy.deepcopy(b)
    c.run()  # the copy runs on first, so a shared stream would show in the original's later weeks
    b.run()
    for m in (b, c):
        assert m.timeseries().equals(straight.timeseries())
        assert m.events_frame().equals(straight.events_frame())


def test_workload_refuses_a_mean_numpy_refuses() -> None:
    for m in pair({}, 0):
        m.workload.referral_rate[0] = np.nan
        with pytest.raises(ValueError, match="lam"):
            m.workload.step()


class Counter(Mechanism):
    """A mechanism of a contributor's own that listens to people moving (the kernel does not know it)."""

    name = "counter"
    title = "Counter"
    category = "test"
    owns = (PersonState("joined_at", "Week of joining (test)", initial=-1.0),)

    def on_join(self, slots: np.ndarray) -> None:
        self.state.joined_at[slots] = self.model.week

    def on_leave(self, slots: np.ndarray) -> None:
        self.state.joined_at[slots] = -1.0


class CounterParams(Strict):
    pass


def test_a_new_mechanism_that_listens_is_heard_through_the_host() -> None:
    schema = scenario_class([*MECHANISMS, ("counter", CounterParams, Counter)])
    fields = {**TINY, "horizon_weeks": 20, "burn_in_weeks": 2, "turnover": HEAVY}
    a, b = (CultureDriftModel(schema(**fields), 6, compiled=c) for c in (False, True))
    assert b.compiled_moves() is None and CultureDriftModel(tiny(horizon_weeks=2), 0).compiled_moves() is not None
    a.run()
    b.run()
    assert_same_bits(a, b)
    joined = b.state.joined_at[b.state.filled]
    assert (joined >= 0).sum() > 0 and np.all(b.state.joined_at[~b.state.filled] == -1.0)
