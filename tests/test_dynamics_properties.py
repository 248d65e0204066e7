"""Property tests of the bounded dynamics: every declared parameter range, boundedness, smoothness, direction.

- `approach` (model/numerics.py) never overshoots, stays in [0, 1] and is monotone and Lipschitz in its rates.
- Boundedness: whole-model runs with every numeric parameter of every mechanism's block (budget, workload,
  relationships, morale, culture, slippage, turnover), of every intervention kind, of the change programme
  (changes and learning curves), of the organisation and of the output thresholds drawn from its declared
  range (and at the corners of the ranges) keep every bounded state in [0, 1], finite, and every weekly
  step of the mean state small. The organisation's size is drawn small (n_teams 1-6): a larger one only
  adds slots (the model's state is arrays; size is covered by benchmarks/bench_model.py at 1M staff).
- Direction: each parameter's documented direction, checked on its own mechanism in isolation (the
  other mechanisms frozen, noise off), for random pairs of values inside its declared range. Every numeric
  parameter of every mechanism's block is either in DIRECTIONS / MARKET_DIRECTIONS or listed in
  NO_DIRECTION with the reason.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import annotated_types as at
import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from culturedrift.model import CultureDriftModel
from culturedrift.model.interventions import REGISTRY
from culturedrift.model.interventions.engagement import Engagement
from culturedrift.model.interventions.recognition import Recognition
from culturedrift.model.interventions.retention import Retention
from culturedrift.model.interventions.supervision import ReflectiveSupervision
from culturedrift.model.interventions.vigilance import CultureVigilance
from culturedrift.model.mechanisms import MECHANISMS
from culturedrift.model.mechanisms.change_programme import Change, LearningCurve
from culturedrift.model.mechanisms.culture import CultureParams
from culturedrift.model.mechanisms.leadership import BudgetParams
from culturedrift.model.mechanisms.morale import MoraleParams
from culturedrift.model.mechanisms.relationships import RelationshipParams
from culturedrift.model.mechanisms.slippage import SlippageParams
from culturedrift.model.mechanisms.turnover import TurnoverParams
from culturedrift.model.mechanisms.workload import WorkloadParams
from culturedrift.model.numerics import approach, drive_rates
from culturedrift.model.organisation import OrganisationParams
from culturedrift.model.outputs import OutputParams
from tests.conftest import tiny

BLOCKS = {"culture": CultureParams, "slippage": SlippageParams, "morale": MoraleParams, "workload": WorkloadParams}
MARKET_BLOCKS = {"turnover": TurnoverParams, "relationships": RelationshipParams, "budget": BudgetParams}
#: every mechanism's parameter block, from the model's one ordered list (a new mechanism is swept too)
ALL_BLOCKS = {key: cls for key, cls, _ in MECHANISMS if isinstance(cls, type)}
SUPPORT = {"engagement": Engagement, "reflective_supervision": ReflectiveSupervision, "recognition": Recognition,
           "retention": Retention, "culture_vigilance": CultureVigilance}
DELIVERY = {"kind", "label", "start_week", "end_week", "every_weeks", "active_weeks", "target", "cost_per_week"}
#: fields of an intervention the sweep does not draw: its identity and its schedule (every intervention runs
#: from week 0, so its effect is in force the whole run); its cost is drawn (it decides what the budget funds)
SCHEDULE = DELIVERY - {"cost_per_week"}


def bounds(cls: type, name: str) -> tuple[float, float]:
    """The declared range of a numeric field (an open upper end: four times the default)."""
    f = cls.model_fields[name]
    lo, hi = 0.0, None
    for m in f.metadata:
        if isinstance(m, at.Ge):
            lo = float(m.ge)
        elif isinstance(m, at.Gt):
            lo = float(m.gt) + 1e-6 * max(1.0, abs(float(m.gt)))
        elif isinstance(m, at.Le):
            hi = float(m.le)
        elif isinstance(m, at.Lt):
            hi = float(m.lt) - 1e-9
    if hi is None:
        hi = max(4.0 * float(f.default or 1.0), lo + 1.0)
    return lo, hi


def numeric_fields(cls: type, skip: set[str] = frozenset()) -> list[str]:
    """Fields declared as float or int (not lists, not optional schedule fields)."""
    return [n for n, f in cls.model_fields.items() if f.annotation in (float, int) and n not in skip]


# --- the update form ---

unit = st.floats(0.0, 1.0)
rate = st.floats(0.0, 50.0)


@given(x=unit, r=st.lists(rate, min_size=1, max_size=4), y=st.lists(unit, min_size=4, max_size=4))
def test_approach_stays_between_the_state_and_its_targets(x, r, y):
    y = y[: len(r)]
    out = approach(np.array([x]), list(r), list(y))[0]
    assert 0.0 <= out <= 1.0
    if sum(r) > 0:
        target = float(np.dot(r, y) / sum(r))
        assert min(x, target) - 1e-12 <= out <= max(x, target) + 1e-12  # no overshoot, ever


@given(x=unit, y=unit, r=st.floats(0.0, 20.0), dr=st.floats(0.0, 1.0))
def test_approach_is_monotone_and_lipschitz_in_the_rate(x, y, r, dr):
    a = approach(np.array([x]), [r], [y])[0]
    b = approach(np.array([x]), [r + dr], [y])[0]
    assert (b - a) * np.sign(y - x) >= -1e-12  # a stronger pull moves further toward the target
    assert abs(b - a) <= dr * abs(y - x) + 1e-12  # and never by more than the rate step allows


@given(level=st.floats(0.2, 0.8), d=st.floats(-0.5, 0.5))
def test_drive_rates_reproduce_the_explicit_step_at_the_reference_level(level, d):
    up, down = drive_rates(np.array([d]), level)
    pull = up[0] * (1.0 - level) + down[0] * (0.0 - level)
    assert pull == pytest.approx(d, abs=1e-12)


# --- boundedness and smoothness over every declared range ---

def _draw_block(draw: Any, cls: type, skip: set[str] = frozenset()) -> dict[str, Any]:
    out = {}
    for n in numeric_fields(cls, skip):
        lo, hi = bounds(cls, n)
        if cls.model_fields[n].annotation is int:
            out[n] = draw(st.integers(int(np.ceil(lo)), int(hi)))
        else:
            out[n] = draw(st.floats(lo, hi, allow_nan=False))
    return out


SIZE = {"n_teams": (1, 6)}  # drawn small: size only adds slots (module docstring)
CHANGE_TIMING = {"start_week", "duration_weeks"}  # kept inside the 24-week test horizon


def _programme(learning: dict[str, Any], changes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """An IT system with a learning curve, a structure change and a process change, with drawn parameters."""
    kinds = [("it", "it_system", 2), ("restructure", "structure", 6), ("proc", "process", 0)]
    out = []
    for (name, kind, start), c in zip(kinds, changes, strict=True):
        c = {**c, "name": name, "kind": kind, "start_week": start, "duration_weeks": 10}
        if kind != "structure":
            c["rewire_fraction"] = 0.0
        if kind == "it_system":
            c["learning"] = learning
        out.append(c)
    return out


def _organisation(values: dict[str, Any]) -> dict[str, Any]:
    """Organisation fields with small partner agencies (their size is a count, like n_teams)."""
    return {**values, "partner_agencies": {"police": 4, "health": 6, "education": 6}}


@st.composite
def every_parameter(draw: Any) -> dict[str, Any]:
    """A scenario with every numeric parameter of every block, intervention kind, change, learning curve,
    the organisation and the output thresholds drawn from its declared range."""
    blocks = {k: _draw_block(draw, cls, {"inspection_interval_weeks"}) for k, cls in ALL_BLOCKS.items()}
    ivs = [{"kind": kind, "start_week": 0, **_draw_block(draw, cls, SCHEDULE)} for kind, cls in REGISTRY.items()]
    org = {n: draw(st.integers(*SIZE[n])) if n in SIZE else v
           for n, v in _draw_block(draw, OrganisationParams).items()}
    changes = [_draw_block(draw, Change, CHANGE_TIMING) for _ in range(3)]
    return {**blocks, "interventions": ivs, "organisation": _organisation(org),
            "change_programme": _programme(_draw_block(draw, LearningCurve), changes),
            "outputs": _draw_block(draw, OutputParams)}


def _ends(cls: type, which: int, skip: set[str] = frozenset()) -> dict[str, Any]:
    """Every numeric field of `cls` at the low (0) or high (1) end of its declared range."""
    out: dict[str, Any] = {}
    for n in numeric_fields(cls, skip):
        v = bounds(cls, n)[which]
        out[n] = int(v) if cls.model_fields[n].annotation is int else v
    return out


def _corner(which: int) -> dict[str, Any]:
    """All parameters at the low (0) or high (1) end of their declared ranges."""
    blocks = {k: _ends(cls, which, {"inspection_interval_weeks"}) for k, cls in ALL_BLOCKS.items()}
    ivs = [{"kind": kind, "start_week": 0, **_ends(cls, which, SCHEDULE)} for kind, cls in REGISTRY.items()]
    org = _ends(OrganisationParams, which)
    org["n_teams"] = SIZE["n_teams"][which]
    return {**blocks, "interventions": ivs, "organisation": _organisation(org),
            "change_programme": _programme(_ends(LearningCurve, which),
                                           [_ends(Change, which, CHANGE_TIMING) for _ in range(3)]),
            "outputs": _ends(OutputParams, which)}


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pars=every_parameter(), seed=st.integers(0, 1000))
@example(pars=_corner(1), seed=1)
@example(pars=_corner(0), seed=2)
def test_every_declared_range_keeps_the_state_bounded_and_smooth(pars, seed):
    sc = tiny(horizon_weeks=24, burn_in_weeks=4, **pars)
    m = CultureDriftModel(sc, seed)
    s = m.state
    prev, who, last_step, reversals = None, _holders(m), np.zeros(2), np.zeros(2, int)
    for _ in range(24):
        m.step()
        for arr in (s.morale, s.compliance_habit, s.intention, m.state.control_tension, m.state.manager_control,
                    _culture(m).sustain):
            assert np.all(np.isfinite(arr)) and np.all((arr >= 0.0) & (arr <= 1.0))
        assert 0.0 <= m.signals.prescription <= 1.0
        assert np.all(np.isfinite(s.caseload)) and np.all(s.caseload >= 0)
        now_who = _holders(m)
        stay = _same(now_who, who) & s.staff
        now = np.stack([s.morale, s.compliance_habit])
        # a week in which more than a tenth of the staff are replaced moves the stayers' co-worker norm for
        # real (they copy newcomers drawn from the sector's spread): no reversal is counted across it
        calm = stay.sum() >= 0.9 * s.staff.sum()
        if prev is not None and stay.sum() >= 5 and not calm:
            last_step = np.zeros(2)
        elif prev is not None and stay.sum() >= 5:
            # the mean weekly step of the people in post both weeks (hires and leavers change the mix)
            step = (now - prev)[:, stay].mean(axis=1)
            tol = 0.02 + np.array([4.0 * _morale(m).pars.noise_sd / np.sqrt(stay.sum()), 0.0])
            big = (np.abs(step) > tol) & (np.abs(last_step) > tol)
            reversals += big & (np.sign(step) != np.sign(last_step))
            last_step = step
        prev, who = now, now_who
    # smooth: the habit and morale of the same people never see-saw (an explicit step with a rate > 1
    # flips direction every week; the exponential approach cannot overshoot its target). Frequent large
    # incidents reverse the habit's direction for real (each jump of prescription, then its relaxation).
    sp = _slippage(m).pars
    if sp.incident_rate_per_year * sp.incident_magnitude <= 1.0:
        assert np.all(reversals <= 3), reversals


def _holders(m: CultureDriftModel) -> np.ndarray:
    """The week the person in each slot joined (NaN = vacant), to follow the same people from week to week
    (object ids of agents can be reused by the next holder of a slot; a joining week cannot)."""
    s = m.state
    return np.where(s.filled, m.week - s.tenure, np.nan)


def _same(now: np.ndarray, before: np.ndarray) -> np.ndarray:
    """Slots held by the same person both weeks."""
    return np.isclose(now, before, rtol=0.0, atol=1e-6)


def test_maximum_vigilance_dose_does_not_make_the_habit_oscillate():
    """Vigilance at reinforcement 5 x intensity 5 used to flip the habit's direction every week or two."""
    sc = tiny(horizon_weeks=104, burn_in_weeks=4, interventions=[
        {"kind": "culture_vigilance", "start_week": 0, "reinforcement": 5.0, "intensity": 5.0,
         "cost_per_week": 0.0}])
    m = CultureDriftModel(sc, 3)
    s = m.state
    who, prev, last, flips = _holders(m), s.compliance_habit.copy(), 0.0, 0
    for _ in range(104):
        m.step()
        now_who = _holders(m)
        stay = _same(now_who, who) & s.staff
        step = float((s.compliance_habit - prev)[stay].mean())
        flips += int(abs(step) > 1e-3 and abs(last) > 1e-3 and np.sign(step) != np.sign(last))
        last, prev, who = step, s.compliance_habit.copy(), now_who
    assert flips <= 5
    assert float(s.compliance_habit[s.staff & s.filled].mean()) < 0.3  # and the dose still works


def test_tension_and_manager_control_stay_in_range_at_the_maximum_tighten_rate():
    """tighten_rate 2 (its maximum) under overload used to drive tension to 1e66 and control below zero."""
    sc = tiny(horizon_weeks=60, burn_in_weeks=4, slippage={"tighten_rate": 2.0, "incident_rate_per_year": 20.0},
              workload={"demand_cases_per_post": 40.0})
    m = CultureDriftModel(sc, 0)
    for _ in range(60):
        m.step()
        t, c = m.state.control_tension, m.state.manager_control
        assert np.all((t >= 0) & (t <= 1)) and np.all((c >= 0) & (c <= 1))
    assert float(m.state.control_tension[m.state.manager].mean()) > 0.5  # the pressure is felt, within bounds


# --- documented directions, each on its own mechanism ---

@dataclass(frozen=True)
class Direction:
    """Raising `name` moves `measure` in direction `sign`, in the mechanism `step` set up by `setup`."""

    block: str
    name: str
    sign: int
    setup: Callable[[CultureDriftModel], None]
    step: Callable[[CultureDriftModel], None]
    measure: Callable[[CultureDriftModel], float]
    doc: str


def _culture(m: CultureDriftModel) -> Any:
    return m.mechanism("culture")


def _slippage(m: CultureDriftModel) -> Any:
    return m.mechanism("slippage")


def _workload(m: CultureDriftModel) -> Any:
    return m.mechanism("workload")


def _morale(m: CultureDriftModel) -> Any:
    return m.mechanism("morale")


def _staff(m: CultureDriftModel) -> np.ndarray:
    return m.state.staff & m.state.filled


def _mean(arr_of: Callable[[CultureDriftModel], np.ndarray]) -> Callable[[CultureDriftModel], float]:
    return lambda m: float(arr_of(m)[_staff(m)].mean())


def _spread(arr_of: Callable[[CultureDriftModel], np.ndarray]) -> Callable[[CultureDriftModel], float]:
    return lambda m: float(arr_of(m)[_staff(m)].std())


def _morale_setup(**state: float) -> Callable[[CultureDriftModel], None]:
    def f(m: CultureDriftModel) -> None:
        s = m.state
        s.morale[:] = np.linspace(0.3, 0.8, s.n)
        for k, v in state.items():
            getattr(s, k)[:] = v
    return f


def _morale_step(m: CultureDriftModel) -> None:
    m.mechanism("relationships").update_neighbour_sums()
    _morale(m).step()


def _culture_setup(reinforcement: float = 0.0, tension: float = 0.0, norm: float | None = None):
    def f(m: CultureDriftModel) -> None:
        s = m.state
        s.compliance_habit[:] = np.where(s.partner, s.compliance_habit, np.linspace(0.35, 0.75, s.n))
        s.compliance_habit[s.manager] = 0.9
        m.effects.reinforcement[:] = reinforcement
        m.state.control_tension[:] = tension
        m.state.manager_control[:] = s.compliance_habit + tension * (1 - s.compliance_habit)
        if norm is not None:
            _culture(m).norm[:] = norm
            _culture(m)._sustain_of_norm()
    return f


def _culture_step(m: CultureDriftModel) -> None:
    m.mechanism("relationships").update_neighbour_sums()
    _culture(m).step()


def _slip_setup(excess: float = 0.0, pressure: float = 0.0, unworked: float = 0.0, habit: float = 0.4):
    def f(m: CultureDriftModel) -> None:
        s = m.state
        s.compliance_habit[:] = np.where(s.partner, s.compliance_habit, habit)
        s.sustained_pressure[:] = pressure
        _slippage(m).publish(prescription=min(_slippage(m).pars.initial_prescription + excess, 1.0))
        _workload(m).publish(service_standard=1.0 - unworked)
        _culture(m).norm[:] = 0.7
        _culture(m)._sustain_of_norm()
    return f


def _overload(m: CultureDriftModel) -> None:
    """Every team holds twelve times its capacity: overload beyond any cap in the declared range."""
    _slip_setup()(m)
    _workload(m).publish(team_cases=12.0 * m.signals.team_capacity)


def _slip_step(m: CultureDriftModel) -> None:
    _slippage(m).step()


def _workload_step(m: CultureDriftModel) -> None:
    _workload(m).update_capacity()
    _workload(m).allocate()


def _support_step(kind: str) -> Callable[[CultureDriftModel], None]:
    def f(m: CultureDriftModel) -> None:
        m.reset_effects()
        for iv in m.interventions:
            iv.effect(m, iv.whom(m), iv.intensity)
        if kind == "culture_vigilance":
            _slippage(m).step()
        elif kind == "retention":
            pass
        else:
            _morale_step(m)
    return f


_fl = lambda m: m.state.frontline & m.state.filled  # noqa: E731
D = Direction
DIRECTIONS = [
    # morale
    D("morale", "baseline", +1, _morale_setup(), _morale_step, _mean(lambda m: m.state.morale), "rest level"),
    D("morale", "recovery_rate", +1, _morale_setup(), _morale_step, lambda m: -abs(
        float(m.state.morale[_staff(m)].mean()) - _morale(m).pars.baseline), "faster return to the baseline"),
    D("morale", "contagion_rate", -1, _morale_setup(), _morale_step, _spread(lambda m: m.state.morale),
      "colleagues' morale converges"),
    D("morale", "change_effect", -1, _morale_setup(change_load=0.1), _morale_step, _mean(lambda m: m.state.morale),
      "change fatigue"),
    D("morale", "change_fatigue", -1, _morale_setup(change_load=0.3), _morale_step, _mean(lambda m: m.state.morale),
      "overlapping changes (load above the reference) hurt more than their sum"),
    D("morale", "reference_change_load", +1, _morale_setup(change_load=0.2), _morale_step,
      _mean(lambda m: m.state.morale), "the same load is a smaller share of what people can absorb"),
    D("morale", "workload_threshold", +1, _morale_setup(workload=3.0), _morale_step,
      _mean(lambda m: m.state.morale), "overload starts later"),
    D("morale", "workload_effect", -1, _morale_setup(workload=1.2), _morale_step, _mean(lambda m: m.state.morale),
      "overload hurts"),
    D("morale", "direct_time_effect", +1, _morale_setup(direct_time=0.45), _morale_step,
      _mean(lambda m: m.state.morale), "time with children is why people do the job"),
    D("morale", "leaver_effect", -1, _morale_setup(leaver_exposure=0.5), _morale_step,
      _mean(lambda m: m.state.morale), "losing colleagues"),
    D("morale", "noise_sd", +1, _morale_setup(), _morale_step, _spread(lambda m: m.state.morale),
      "idiosyncratic variation"),
    # culture
    D("culture", "reinforcement_rate", -1, _culture_setup(reinforcement=1.0), _culture_step,
      _mean(lambda m: m.state.compliance_habit), "leadership reinforcement moves habits toward the target"),
    D("culture", "target_habit", +1, _culture_setup(reinforcement=1.0), _culture_step,
      _mean(lambda m: m.state.compliance_habit), "the target reinforcement pulls toward"),
    D("culture", "coworker_rate", -1, _culture_setup(), _culture_step, _spread(lambda m: m.state.compliance_habit),
      "socialisation makes colleagues alike"),
    D("culture", "manager_rate", +1, _culture_setup(tension=0.5), _culture_step,
      lambda m: float(m.state.compliance_habit[_fl(m)].mean()), "a controlling manager pulls the team's habits up"),
    D("culture", "conformity_rate", -1, _culture_setup(norm=0.2), _culture_step,
      _mean(lambda m: m.state.compliance_habit), "a tipped team's norm holders reinforce the new culture"),
    D("culture", "norm_threshold", +1, _culture_setup(norm=0.45), _culture_step, _mean(lambda m: _culture(m).sustain),
      "a higher threshold is reached sooner: more teams count as tipped"),
    D("culture", "norm_steepness", -1, _culture_setup(norm=0.3), _culture_step, _mean(lambda m: _culture(m).sustain),
      "a wider tipping zone: a team well past the threshold counts as less firmly tipped"),
    D("culture", "norm_weeks", +1, _culture_setup(norm=0.3), _culture_step, lambda m: -float(_culture(m).norm.mean()),
      "a longer lag keeps the (low) held norm from following practice up"),
    D("culture", "manager_norm_weight", +1, _culture_setup(norm=0.5), _culture_step,
      lambda m: float(_culture(m).norm.mean()), "managers' own (here higher) habits weigh more in the norm"),
    D("culture", "norm_protection", -1, _slip_setup(excess=0.2), lambda m: (_tip(m), _slippage(m).step()),
      lambda m: float(m.state.control_tension[m.state.manager].mean()), "a tipped team's members watch for drift"),
    # slippage
    D("slippage", "decay_rate", +1, _slip_setup(habit=0.3), _slip_step, _mean(lambda m: m.state.compliance_habit),
      "unreinforced habits decay to the old attractor"),
    D("slippage", "staff_pressure_rate", +1, _slip_setup(excess=0.2), _slip_step,
      _mean(lambda m: m.state.compliance_habit), "excess prescription pushes staff to procedure"),
    D("slippage", "goal_erosion_rate", +1, _slip_setup(pressure=0.5), _slip_step,
      _mean(lambda m: m.state.compliance_habit), "sustained pressure erodes the goal (Oliva & Sterman 2001)"),
    D("slippage", "tighten_rate", +1, _slip_setup(excess=0.2), _slip_step,
      lambda m: float(m.state.control_tension[m.state.manager].mean()), "managers tighten under pressure"),
    D("slippage", "overload_pressure_cap", +1, _overload, _slip_step,
      lambda m: float(m.state.control_tension[m.state.manager].mean()), "more of a team's overload reaches its "
      "manager"),
    D("slippage", "tension_relax_rate", -1, _slip_setup(excess=0.2), _slip_step,
      lambda m: float(m.state.control_tension[m.state.manager].mean()), "tension fades"),
    D("slippage", "omission_sensitivity", +1, _slip_setup(unworked=0.02), _slip_step,
      lambda m: m.signals.prescription, "visible omissions bring procedure"),
    D("slippage", "omission_masking", -1, _slip_setup(unworked=0.3, habit=0.8), _slip_step,
      lambda m: m.signals.prescription, "recording everything hides omissions"),
    D("slippage", "prescription_relax_rate", -1, _slip_setup(excess=0.3), _slip_step,
      lambda m: m.signals.prescription, "extra procedure fades"),
    D("slippage", "initial_prescription", +1, _slip_setup(), _slip_step, lambda m: _slippage(m).policy,
      "the policy level"),
    D("slippage", "prescription_weight", +1, _slip_setup(excess=0.3, habit=0.3), _slip_step,
      _mean(lambda m: m.state.compliance_habit), "decay heads for local prescription (here above the sector's habit)"),
    # workload
    D("workload", "capacity_cases", -1, lambda m: None, _workload_step, _mean(lambda m: m.state.workload),
      "headroom: more cases held to standard per worker"),
    D("workload", "recording_base", -1, lambda m: None, _workload_step, _mean(lambda m: m.state.direct_time),
      "recording takes time from children"),
    D("workload", "recording_per_compliance", -1, lambda m: None, _workload_step,
      _mean(lambda m: m.state.direct_time), "procedure-driven practice records more"),
    D("workload", "other_time", -1, lambda m: None, _workload_step, _mean(lambda m: m.state.direct_time),
      "other duties"),
    D("workload", "sickness_absence", -1, lambda m: None, _workload_step, _mean(lambda m: m.state.direct_time),
      "absence"),
    D("workload", "novice_penalty", -1, lambda m: m.state.tenure.fill(5.0), _workload_step,
      lambda m: float(m.state.capacity[_fl(m)].mean()), "new starters hold protected caseloads"),
    D("workload", "agency_worker_novice_penalty", -1,
      lambda m: (m.state.tenure.fill(5.0), m.state.agency_worker.fill(True)), _workload_step,
      lambda m: float(m.state.capacity[_fl(m)].mean()), "agency workers are new to the authority"),
    D("workload", "induction_weeks", -1, lambda m: m.state.tenure.fill(10.0), _workload_step,
      lambda m: float(m.state.capacity[_fl(m)].mean()), "a longer induction keeps the novice penalty longer"),
    D("workload", "change_time_per_load", -1, lambda m: m.state.change_load.fill(0.2), _workload_step,
      _mean(lambda m: m.state.direct_time), "change work displaces direct work"),
    D("workload", "min_direct_time", +1, lambda m: m.state.compliance_habit.fill(1.0), _workload_step,
      _mean(lambda m: m.state.direct_time), "a floor on direct work (binding when procedure takes everything)"),
    D("workload", "pressure_smoothing_weeks", -1, lambda m: m.signals.team_cases.__imul__(1.5), _workload_step,
      _mean(lambda m: m.state.sustained_pressure), "excess is felt more slowly"),
]
NO_DIRECTION = {
    "culture.initial_habit": "initial condition", "culture.initial_sd": "initial condition",
    "culture.partner_habit": "partners' habits are fixed inputs", "culture.sector_habit": "read by hiring and "
    "slippage (covered by hiring_selectivity and decay_rate)", "culture.hire_sd": "spread of hires",
    "culture.hiring_selectivity": "covered by test_hiring_selectivity_moves_hires_toward_the_target",
    "slippage.incident_rate_per_year": "random events", "slippage.incident_magnitude": "random events",
    "slippage.inspection_magnitude": "scheduled events", "slippage.inspection_interval_weeks": "scheduled events",
    "workload.demand_cases_per_post": "sets the initial state (covered by the model invariants)",
    "workload.case_duration_weeks": "sets the referral rate with demand", "workload.gatekeeping": "acts on referrals "
    "over weeks (covered by the operating-point map)", "workload.reference_direct_time": "a normaliser of capacity",
    "workload.direct_time_elasticity": "sign depends on direct time vs the reference",
    "morale.fragmentation_effect": "needs a rewired network; covered by the SF3 experiment",
    "morale.new_hire_morale": "a new starter's value on joining (covered by the join event in test_mechanism_units)",
}


def _tip(m: CultureDriftModel) -> None:
    _culture(m).norm[:] = 0.2
    _culture(m)._sustain_of_norm()


@pytest.fixture(scope="module")
def built() -> CultureDriftModel:
    sc = tiny(horizon_weeks=10, burn_in_weeks=4, morale={"noise_sd": 0.0},
              slippage={"incident_rate_per_year": 0.0})
    return CultureDriftModel(sc, 5)


def _outcome(built: CultureDriftModel, d: Direction, value: float, steps: int = 4) -> float:
    m = copy.deepcopy(built)
    mech = m.mechanism(d.block)
    mech.pars = mech.pars.model_copy(update={d.name: value})
    if d.block == "culture":
        _culture(m)._sustain_of_norm()
    d.setup(m)
    for _ in range(steps):
        d.step(m)
    return d.measure(m)


@pytest.mark.parametrize("d", DIRECTIONS, ids=lambda d: f"{d.block}.{d.name}")
@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(u=st.floats(0.05, 0.45), v=st.floats(0.55, 0.95))
def test_documented_direction_holds_across_the_declared_range(built, d, u, v):
    lo, hi = bounds(BLOCKS[d.block], d.name)
    top = min(hi, lo + 4.0 * max(float(BLOCKS[d.block].model_fields[d.name].default), 1e-3) + 1.0) \
        if BLOCKS[d.block].model_fields[d.name].metadata and hi - lo > 50 else hi
    a, b = lo + u * (top - lo), lo + v * (top - lo)
    ya, yb = _outcome(built, d, a), _outcome(built, d, b)
    assert d.sign * (yb - ya) > 0, f"{d.block}.{d.name}: {a:.4g} -> {ya:.6g}, {b:.4g} -> {yb:.6g} ({d.doc})"


@pytest.mark.parametrize("kind", ["engagement", "reflective_supervision", "recognition", "retention"])
def test_support_raises_morale_in_proportion_to_its_declared_size(built, kind):
    cls = SUPPORT[kind]
    out = []
    for frac in (0.0, 0.5, 1.0):
        m = copy.deepcopy(built)
        m.interventions = [cls(kind=kind, support=frac * bounds(cls, "support")[1])]
        _morale_setup()(m)
        m.reset_effects()
        for iv in m.interventions:
            iv.effect(m, iv.whom(m), 1.0)
        _morale_step(m)
        out.append(float(m.state.morale[_staff(m) & ~m.state.agency_worker].mean()))
    assert out[0] < out[1] < out[2]


def test_vigilance_damping_reduces_tension_and_slippage(built):
    res = []
    for damp in (0.0, 0.5, 0.95):
        m = copy.deepcopy(built)
        m.interventions = [CultureVigilance(kind="culture_vigilance", control_damping=damp)]
        _slip_setup(excess=0.2, habit=0.3)(m)
        for _ in range(4):
            _support_step("culture_vigilance")(m)
        res.append((float(m.state.control_tension[m.state.manager].mean()),
                    _mean(lambda m: m.state.compliance_habit)(m)))
    assert res[0][0] > res[1][0] > res[2][0] and res[0][1] > res[1][1] > res[2][1]


def test_hiring_selectivity_moves_hires_toward_the_target(built):
    means = []
    for sel in (0.0, 0.5, 1.0):
        m = copy.deepcopy(built)
        _culture(m).pars = _culture(m).pars.model_copy(update={"hiring_selectivity": sel})
        means.append(float(_culture(m).hire_habits(4000).mean()))
    assert means[0] > means[1] > means[2]


# --- documented directions of the labour market, working relationships and budget ---
# Each is measured one step after `setup` in a fresh model built with the value (burn-in 0, so both values
# start from the same draws and share every later one), at a size where one step moves dozens of people.

MARKET_ORG = {"n_teams": 100, "team_size": 10, "partner_agencies": {"police": 100, "health": 100, "education": 100}}


@dataclass(frozen=True)
class Market:
    """Raising `block.name` moves `measure` in direction `sign`, with the other parameters at `fixed`."""

    block: str
    name: str
    sign: int
    fixed: dict[str, dict[str, Any]]
    setup: Callable[[CultureDriftModel], None]
    step: Callable[[CultureDriftModel], None]
    measure: Callable[[CultureDriftModel], float]
    doc: str


def _people(**values: float) -> Callable[[CultureDriftModel], None]:
    """Every staff slot's state set to the same values (intention, tenure, morale, workload, exposure)."""
    def f(m: CultureDriftModel) -> None:
        for k, v in values.items():
            getattr(m.state, k)[m.state.staff] = v
    return f


def _vacate(share: float = 0.5, waited: float = 300.0, spread: float = 0.0,
            agency_workers: bool = False) -> Callable[[CultureDriftModel], None]:
    """Every other staff post emptied (or handed to an agency worker), waiting `waited` to `waited + spread`
    weeks; every permanent holder moved to the week's tenure of the rest."""
    def f(m: CultureDriftModel) -> None:
        s = m.state
        posts = np.flatnonzero(s.staff_post)
        chosen = posts[: int(share * posts.size) * 2: 2] if share <= 0.5 else posts[: int(share * posts.size)]
        m.leave(chosen[s.filled[chosen]])
        s.vacant_since[chosen] = m.week - waited - np.linspace(0.0, spread, chosen.size)
        if agency_workers:
            m.join(chosen, agency_worker=True)
    return f


def _headroom(m: CultureDriftModel) -> None:
    """Money for every agency worker the market can supply this week."""
    m.mechanism("leadership").publish(hiring_headroom=1e12)


def _both(*fs: Callable[[CultureDriftModel], None]) -> Callable[[CultureDriftModel], None]:
    def f(m: CultureDriftModel) -> None:
        for g in fs:
            g(m)
    return f


def _turnover_step(m: CultureDriftModel) -> None:
    m.mechanism("turnover").step()


def _leavers(m: CultureDriftModel) -> float:
    return float(m.signals.leavers)


def _count(mask: Callable[[CultureDriftModel], np.ndarray]) -> Callable[[CultureDriftModel], float]:
    return lambda m: float(np.count_nonzero(mask(m)))


_permanent = _count(lambda m: m.state.staff_post & m.state.filled & ~m.state.agency_worker)
_agency = _count(lambda m: m.state.filled & m.state.agency_worker)
_partners = _count(lambda m: m.state.partner & m.state.filled)
_intention = lambda m: float(m.state.intention[m.state.staff].mean())  # noqa: E731


def _ties(kind: int | None = None) -> Callable[[CultureDriftModel], float]:
    def f(m: CultureDriftModel) -> float:
        by_kind = m.network.strength_by_kind()
        return float(by_kind.sum() if kind is None else by_kind[kind])
    return f


def _tie_steps(m: CultureDriftModel) -> None:
    for _ in range(4):
        m.mechanism("relationships").step()


def _budget_step(m: CultureDriftModel) -> None:
    m.mechanism("leadership").step()


def _headroom_left(m: CultureDriftModel) -> float:
    return float(m.signals.hiring_headroom)


def _overflow_agency_workers(m: CultureDriftModel) -> None:
    s = m.state
    m.join(np.flatnonzero(s.staff & ~s.is_post & ~s.filled), agency_worker=True)


def _no_agency_workers(m: CultureDriftModel) -> None:
    m.leave(np.flatnonzero(m.state.agency_worker & m.state.filled))


T = {"intention_rate": 0.0}  # intention held where the setup puts it (hazard directions)
M = Market
MARKET_DIRECTIONS = [
    # exits
    M("turnover", "base_exit_hazard", +1, {}, _people(), _turnover_step, _leavers, "the base hazard"),
    M("turnover", "early_tenure_excess", +1, {"turnover": {"base_exit_hazard": 0.02}}, _people(tenure=10.0),
      _turnover_step, _leavers, "new starters leave more often (DfE leavers by length of service)"),
    M("turnover", "early_tenure_weeks", +1, {"turnover": {"base_exit_hazard": 0.05, "early_tenure_excess": 5.0}},
      _people(tenure=150.0), _turnover_step, _leavers, "the early excess lasts longer"),
    M("turnover", "intention_weight", +1, {"turnover": {**T, "base_exit_hazard": 0.02, "intention_hazard_cap": 20.0}},
      _people(intention=0.45), _turnover_step, _leavers, "intention above its reference raises the hazard more"),
    M("turnover", "intention_hazard_cap", +1, {"turnover": {**T, "base_exit_hazard": 0.02, "intention_weight": 20.0}},
      _people(intention=1.0), _turnover_step, _leavers, "a disaffected workforce leaves faster, up to the cap"),
    M("turnover", "intention_ref", -1, {"turnover": {**T, "base_exit_hazard": 0.05, "intention_hazard_cap": 20.0}},
      _people(intention=0.5), _turnover_step, _leavers, "the intention at which the hazard is its base"),
    M("turnover", "manager_hazard_factor", +1, {"turnover": {"base_exit_hazard": 0.15}}, _people(),
      _turnover_step, _leavers, "managers' own hazard"),
    M("turnover", "agency_worker_exit_hazard", +1, {}, _vacate(agency_workers=True), _turnover_step, _leavers,
      "agency assignments end"),
    M("turnover", "partner_exit_hazard", +1, {}, _people(), _turnover_step, _leavers, "partner staff move on"),
    M("turnover", "labour_market_pressure", -1, {"turnover": {"permanent_fill_hazard": 0.5,
                                                               "base_exit_hazard": 0.05}},
      _vacate(), _turnover_step, _permanent, "a tighter market: harder to fill, a little more leaving"),
    M("turnover", "market_exit_elasticity", +1, {"turnover": {"labour_market_pressure": 2.0,
                                                               "base_exit_hazard": 0.05}},
      _people(), _turnover_step, _leavers, "leaving responds to the market (above the English average)"),
    # intention
    M("turnover", "intention_rate", +1, {}, _people(intention=0.0), _turnover_step, _intention,
      "intention follows its drivers faster"),
    M("turnover", "intention_base", +1, {}, _people(intention=0.0, morale=0.6, workload=0.0, leaver_exposure=0.0),
      _turnover_step, _intention, "intention at the reference morale"),
    M("turnover", "intention_morale", +1, {}, _people(intention=0.0, morale=0.5, workload=0.0, leaver_exposure=0.0),
      _turnover_step, _intention, "low morale raises intention"),
    M("turnover", "intention_morale_ref", +1, {},
      _people(intention=0.0, morale=0.5, workload=0.0, leaver_exposure=0.0), _turnover_step, _intention,
      "the same morale counts as lower"),
    M("turnover", "intention_workload", +1, {},
      _people(intention=0.0, morale=0.6, workload=1.1, leaver_exposure=0.0), _turnover_step, _intention,
      "overload raises intention"),
    M("turnover", "intention_leavers", +1, {},
      _people(intention=0.0, morale=0.6, workload=0.0, leaver_exposure=0.1), _turnover_step, _intention,
      "colleagues leaving raise intention (Felps et al. 2009)"),
    M("turnover", "leaver_exposure_decay", +1, {"turnover": {"base_exit_hazard": 0.0}},
      _people(leaver_exposure=0.5), _turnover_step, lambda m: float(m.state.leaver_exposure[m.state.staff].mean()),
      "a departure is felt for longer"),
    M("turnover", "new_hire_intention", +1, {"turnover": {"permanent_fill_hazard": 1.0, "base_exit_hazard": 0.0}},
      _both(_vacate(), _people(intention=0.3)), _turnover_step, _intention, "new starters' intention"),
    # filling posts
    M("turnover", "recruitment_min_weeks", -1, {"turnover": {"permanent_fill_hazard": 0.5,
                                                              "agency_worker_cover": False}},
      _vacate(waited=0.0, spread=60.0), _turnover_step, _permanent, "nobody arrives before the minimum delay"),
    M("turnover", "permanent_fill_hazard", +1, {}, _vacate(), _turnover_step, _permanent, "posts fill faster"),
    M("turnover", "market_recruit_elasticity", -1, {"turnover": {"labour_market_pressure": 1.4,
                                                                  "permanent_fill_hazard": 0.5}},
      _vacate(), _turnover_step, _permanent, "filling posts responds to the market"),
    M("turnover", "agency_worker_cover_hazard", +1, {"turnover": {"recruitment_min_weeks": 260}},
      _both(_vacate(), _headroom), _turnover_step, _agency, "a locum is found faster"),
    M("turnover", "partner_refill_hazard", +1, {"turnover": {"partner_exit_hazard": 0.5}}, _people(),
      _both(_turnover_step, _turnover_step), _partners, "partner agencies refill their posts"),
    # working relationships
    M("relationships", "team_build_rate", +1, {}, _people(), _tie_steps, _ties(0), "teammates' ties build"),
    M("relationships", "cross_team_build_rate", +1, {}, _people(), _tie_steps, _ties(1), "cross-team ties build"),
    M("relationships", "interagency_build_rate", +1, {}, _people(), _tie_steps, _ties(2),
      "inter-agency ties build (Munro 2011 ch. 5)"),
    M("relationships", "agency_worker_build_factor", +1, {}, _vacate(agency_workers=True), _tie_steps, _ties(),
      "agency workers' ties build at this share of the rate"),
    M("relationships", "new_tie_strength", +1, {}, _vacate(agency_workers=True), lambda m: None, _ties(),
      "a new colleague's ties start at this strength"),
    M("relationships", "moved_tie_retained", +1, {}, _people(),
      lambda m: m.restructure(0.5, np.random.default_rng(0)), _ties(1),
      "former teammates moved by a restructure keep this share of the tie as cross-team contacts"),
    # budget
    M("budget", "quarterly_budget", +1, {}, _no_agency_workers, _budget_step, _headroom_left,
      "more money for agency cover"),
    M("budget", "agency_worker_premium_per_week", -1, {"budget": {"quarterly_budget": 1e6}}, _people(),
      _budget_step, _headroom_left, "agency workers in post cost more"),
    M("budget", "overflow_cost_per_week", -1, {"budget": {"quarterly_budget": 1e6}}, _overflow_agency_workers,
      _budget_step, _headroom_left, "supernumerary agency workers cost more"),
]
MARKET_NO_DIRECTION = {
    "turnover.initial_tenure_weeks": "initial condition: the burn-in replaces it (CAL checks the settled state)",
    "turnover.initial_vacancy": "initial condition: the burn-in replaces it (CAL checks the settled state)",
    "turnover.initial_agency_worker_cover": "initial condition: the burn-in replaces it (CAL checks the settled "
    "state)",
}


def _market_outcome(d: Market, value: float) -> float:
    blocks = {k: dict(v) for k, v in d.fixed.items()}
    blocks.setdefault(d.block, {})[d.name] = int(value) if ALL_BLOCKS[d.block].model_fields[d.name].annotation \
        is int else value
    sc = tiny(horizon_weeks=4, burn_in_weeks=0, organisation=MARKET_ORG, **blocks)
    m = CultureDriftModel(sc, 11)
    d.setup(m)
    d.step(m)
    return d.measure(m)


def test_every_parameter_of_every_mechanism_has_a_direction_or_a_reason():
    declared = {f"{k}.{n}" for k, cls in ALL_BLOCKS.items() for n in numeric_fields(cls, set())}
    covered = ({f"{d.block}.{d.name}" for d in DIRECTIONS} | {f"{d.block}.{d.name}" for d in MARKET_DIRECTIONS}
               | set(NO_DIRECTION) | set(MARKET_NO_DIRECTION) | {"slippage.inspection_interval_weeks"})
    assert declared <= covered, sorted(declared - covered)


@pytest.mark.parametrize("d", MARKET_DIRECTIONS, ids=lambda d: f"{d.block}.{d.name}")
@settings(max_examples=3, deadline=None)
@given(u=st.floats(0.05, 0.45), v=st.floats(0.55, 0.95))
def test_labour_market_ties_and_budget_directions_hold_across_the_declared_range(d, u, v):
    cls = ALL_BLOCKS[d.block]
    lo, hi = bounds(cls, d.name)
    top = min(hi, lo + 4.0 * max(float(cls.model_fields[d.name].default), 1e-3) + 1.0) if hi - lo > 50 else hi
    a, b = lo + u * (top - lo), lo + v * (top - lo)
    if cls.model_fields[d.name].annotation is int:
        a, b = np.floor(a), np.ceil(b)
    ya, yb = _market_outcome(d, a), _market_outcome(d, b)
    assert d.sign * (yb - ya) > 0, f"{d.block}.{d.name}: {a:.4g} -> {ya:.6g}, {b:.4g} -> {yb:.6g} ({d.doc})"
