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
from hypothesis import given, settings
from hypothesis import strategies as st
from numba import njit

from culturedrift.model import CultureDriftModel, kernels, organisation
from culturedrift.model.base import Mechanism, PersonState, Strict
from culturedrift.model.compiled import TURNOVER, record, stream_table
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
    "large teams (Poisson means above 10)": {
        "turnover": HEAVY, "organisation": {"n_teams": 3, "team_size": 17, "partner_agencies": {"police": 4}}},
}
# hires' habits with both Beta shapes at most 1 are drawn by numpy itself, through the host's joins
NUMPY_HIRES: dict[str, dict[str, Any]] = {
    "wide hire habits (both Beta shapes below 1)": {"turnover": HEAVY,
                                                    "culture": {"sector_habit": 0.5, "hire_sd": 0.45}},
    "a low hire mean with a wide spread (Johnk's algorithm underflows)": {
        "turnover": HEAVY, "culture": {"sector_habit": 0.02, "target_habit": 0.0, "hire_sd": 0.5}},
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
        x[i] = kernels.gamma_beta(g, a, b)
    h = kernels._stream(table, 1)
    k = np.empty(lam.size, np.int64)
    for i in range(lam.size):
        k[i] = kernels.poisson(h, lam[i])
    return u, x, k


@pytest.mark.parametrize("shapes", [(9.5, 4.07), (0.3, 2.5), (1.0, 2.0), (2.0, 0.4), (40.0, 60.0), (1e-3, 5.0)])
@pytest.mark.parametrize("seed", [0, 1, 99])
def test_kernel_draws_are_numpys_and_leave_the_stream_where_numpy_would(shapes: tuple[float, float],
                                                                        seed: int) -> None:
    a, b = shapes
    lam = np.concatenate(([0.0, 1e-3, 9.99, 10.0, 1e4, 1e9], np.random.default_rng(seed).uniform(0, 60, 300)))
    ref = np.random.default_rng(seed), np.random.default_rng(seed + 1)
    got = np.random.default_rng(seed), np.random.default_rng(seed + 1)
    u, x, k = ref[0].random(500), ref[0].beta(a, b, size=500), ref[1].poisson(lam)
    u2, x2, k2 = _draw(stream_table(*got), a, b, 500, lam)
    assert np.array_equal(u, u2) and np.array_equal(x, x2) and np.array_equal(k, k2)
    assert all(r.bit_generator.state == g.bit_generator.state for r, g in zip(ref, got, strict=True))


@pytest.mark.parametrize("lam", [10.0, 10.5])
def test_poisson_draws_at_means_just_above_ten_are_numpys(lam: float) -> None:
    """Where numba's own Poisson (truncating, not flooring, its candidate) returns a 0 numpy rejects: within the
    first 30,000 draws at these means for this seed."""
    ref, got = np.random.default_rng(7), np.random.default_rng(7)
    _, _, k = _draw(stream_table(np.random.default_rng(0), got), 2.0, 2.0, 0, np.full(60_000, lam))
    assert np.array_equal(ref.poisson(lam, 60_000), k) and ref.bit_generator.state == got.bit_generator.state


@njit(cache=True)
def _uniform_runs(table: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Runs of uniforms of the given sizes from row 0, one after another, as `people_week` draws them."""
    out = np.empty(sizes.sum())
    at = 0
    for n in sizes:
        kernels._uniforms(table, 0, out[at:at + n])
        at += n
    return out


@pytest.mark.parametrize("bit_generator", [np.random.PCG64, np.random.PCG64DXSM, np.random.MT19937, np.random.Philox])
@pytest.mark.parametrize("seed", [0, 5, 2**40 + 3])
def test_uniform_runs_are_numpys_and_leave_the_stream_where_numpy_would(bit_generator: type, seed: int) -> None:
    """PCG64's steps made in the kernel (four lanes, every length's remainder) and other generators' own draws."""
    sizes = np.array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 13, 1000, 0, 3], np.int64)
    ref, got = np.random.Generator(bit_generator(seed)), np.random.Generator(bit_generator(seed))
    ref.random(seed % 7), got.random(seed % 7)
    table = stream_table(got)
    assert table[0, 4] == (bit_generator is np.random.PCG64)
    assert np.array_equal(_uniform_runs(table, sizes), ref.random(int(sizes.sum())))
    assert np.array_equal(ref.random(9), got.random(9)) and ref.standard_normal() == got.standard_normal()
    assert np.array_equal(ref.integers(0, 10**6, 5), got.integers(0, 10**6, 5))


# -------------------------------------------------------------------------------------------- whole runs


@pytest.mark.parametrize("variant", [*VARIANTS, *NUMPY_HIRES])
@pytest.mark.parametrize("seed", [0, 13])
def test_compiled_people_moving_matches_the_reference(variant: str, seed: int) -> None:
    a, b = pair({**VARIANTS, **NUMPY_HIRES}[variant], seed)
    a.run()
    b.run()
    assert ("people_week" in vars(b.kernels)) == (variant in VARIANTS)  # the one-call week ran, or the host's joins
    assert_same_bits(a, b)
    ea, eb = a.events_frame(), b.events_frame()
    assert len(ea) > 0 and ea.equals(eb)
    assert all(getattr(a.signals, k) == getattr(b.signals, k)
               for k in ("leavers", "leavers_permanent", "joiners", "agency_worker_hires_refused"))


def test_twin_table_holds_every_ties_other_direction_and_a_large_network_goes_without(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The one-call week finds each tie's other direction in a table (`twin_offsets`), made again for a new
    pattern (the restructure's rewiring); a network above the table's size searches instead, with the same bits."""
    variant = VARIANTS["waves, restructure, learning, caseload cap"]
    a, b = pair(variant, 0)
    net = b.network
    ip, ind = net.mat.indptr, net.mat.indices
    offsets = kernels.twin_offsets(ip, ind)
    row = np.repeat(np.arange(ip.size - 1), np.diff(ip))
    assert np.array_equal(ind[ip[ind] + offsets], row)  # each entry's twin points back at its row
    a.run()
    b.run()
    old = ind
    ip, ind = net.mat.indptr, net.mat.indices
    assert ind is not old and net.twins.size == ind.size  # rewired: a table for the new pattern, made again
    row = np.repeat(np.arange(ip.size - 1), np.diff(ip))
    assert np.array_equal(ind[ip[ind] + net.twins], row)
    monkeypatch.setattr(organisation, "TWIN_TABLE_ENTRIES", 0)
    c = pair(variant, 0)[1]
    c.run()
    assert c.network.twins.size == 0
    assert_same_bits(a, c)
    assert a.events_frame().equals(c.events_frame())


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


# interventions, leaver waves and a restructure, without a learning curve (the change programme finds a change's
# row by the change object's id, which a copy does not keep)
COPIED = {**VARIANTS["waves, restructure, learning, caseload cap"],
          "change_programme": [{"name": "teams", "kind": "structure", "start_week": 5, "rewire_fraction": 0.4}]}


@pytest.mark.parametrize("fields", [VARIANTS["heavy turnover"], COPIED], ids=["heavy turnover", "interventions"])
@pytest.mark.parametrize("compiled", [True, False])
def test_a_copied_model_runs_on_as_the_original(fields: dict[str, Any], compiled: bool) -> None:
    """A copy made mid-run (copy.deepcopy) goes on exactly as its original: the kernels reach a bit generator by
    address, so a copy must draw from its own; and it must publish into, reset and read its own signals and effects.
    The copy runs on first, so anything shared would show in the original's later weeks."""
    straight, _ = pair(fields, 8)
    straight.run()
    b = CultureDriftModel(tiny(horizon_weeks=30, burn_in_weeks=4, **fields), 8, compiled=compiled)
    for _ in range(10):
        b.step()
    c = copy.deepcopy(b)
    c.run()
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


@given(seed=st.integers(0, 2**32 - 1), excess=st.sampled_from([0.0, 2.2, 20.0]),
       cap=st.sampled_from([1.0, 2.0, 20.0]))
@settings(max_examples=25, deadline=None)
def test_exits_match_the_reference_hazards_for_draws_at_their_edge(seed: int, excess: float, cap: float) -> None:
    """The kernel skips working out a hazard when the draw is above its largest possible value: with draws placed
    on, just above and just below each holder's reference hazard, the same people leave."""
    r = np.random.default_rng(seed)
    m = CultureDriftModel(tiny(horizon_weeks=2, burn_in_weeks=1,
                               turnover={"early_tenure_excess": excess, "intention_hazard_cap": cap,
                                         "base_exit_hazard": 0.05}), 0, compiled=True)
    p, s, mech, n = m.turnover.pars, m.state, m.turnover, m.state.n
    s.tenure[:] = r.choice([-300.0, 0.0, 1.0, 50.0, 400.0], n) * r.random(n)  # a negative one too: exp above 1
    s.intention[:] = r.random(n)
    mult = m.effects.exit_hazard_multiplier
    mult[:] = r.choice([0.0, 0.5, 1.0, 1.7], n)
    # the reference's hazard after this week's intention and tenure updates (Turnover.step's expressions)
    target = p.intention_base + p.intention_morale * (p.intention_morale_ref - s.morale)
    target += p.intention_workload * np.maximum(s.workload - 1.0, 0.0)
    target += p.intention_leavers * (s.leaver_exposure * p.leaver_exposure_decay)
    intention = s.intention + p.intention_rate * (np.clip(target, 0.0, 1.0) - s.intention)
    tenure = s.tenure + 1.0
    h = p.base_exit_hazard * mech.market_exit * mech.role_factor
    h = h * (1.0 + p.early_tenure_excess * np.exp(-tenure / p.early_tenure_weeks))
    h *= np.minimum(np.exp(p.intention_weight * (intention - p.intention_ref)), p.intention_hazard_cap)
    h *= mult
    h = np.where(s.agency_worker, p.agency_worker_exit_hazard * mult, h)
    h = np.where(s.partner, p.partner_exit_hazard, h)
    u = np.clip(np.choose(r.integers(0, 4, n), [h, np.nextafter(h, 2.0), np.nextafter(h, -1.0), r.random(n)]), 0, 1)
    leaving, _ = kernels.turnover_week(
        s.intention, s.tenure, s.leaver_exposure, s.morale, s.workload, mech.role_factor, mult, s.agency_worker,
        s.partner, p.base_exit_hazard * mech.market_exit, s.filled, u, mech.overflow, m.effects.overflow_open, s.team,
        mech.overflow_rank, 1.0, record(mech, TURNOVER))
    assert np.array_equal(s.intention, intention) and np.array_equal(s.tenure, tenure)
    assert leaving.tolist() == np.flatnonzero(s.filled & ((u < h) | mech.overflow)).tolist()  # no overflow open
