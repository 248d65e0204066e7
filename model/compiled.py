"""The compiled weekly step of each mechanism: the same update as its numpy code, through model/kernels.py.

Each function takes the mechanism and does exactly what its numpy method does, in the same order and
with the same random draws from the same streams, but with the per-slot arithmetic fused into one
compiled loop. The numpy code stays the readable reference: a host built with `compiled=False` (or
the environment variable `CULTUREDRIFT_COMPILED=0`) runs it, and `tests/test_kernels.py` holds the two
paths to the same bits.
"""

from __future__ import annotations

import ctypes
import os
from dataclasses import dataclass
from operator import is_
from typing import TYPE_CHECKING, Any

import numpy as np
from numba import typeof

from culturedrift.model import kernels as k
from culturedrift.model.groups import GROUP_CODES
from culturedrift.model.interventions.base import Intervention
from culturedrift.model.organisation import INTER_AGENCY, INTRA_TEAM

if TYPE_CHECKING:
    from culturedrift.model.base import Mechanism
    from culturedrift.model.host import Host
    from culturedrift.model.mechanisms.change_programme import ChangeProgramme
    from culturedrift.model.mechanisms.culture import Culture
    from culturedrift.model.mechanisms.leadership import Leadership
    from culturedrift.model.mechanisms.morale import Morale
    from culturedrift.model.mechanisms.relationships import Relationships
    from culturedrift.model.mechanisms.slippage import Slippage
    from culturedrift.model.mechanisms.turnover import Turnover
    from culturedrift.model.mechanisms.workload import Workload


def enabled() -> bool:
    """Whether new models use the compiled kernels (default yes; `CULTUREDRIFT_COMPILED=0` selects numpy)."""
    return os.environ.get("CULTUREDRIFT_COMPILED", "1").strip().lower() not in ("0", "false", "no", "off")


class Kernels:
    """A host's weekly kernels by name (`host.kernels.morale_step(...)`): the first call of each goes through
    numba, which loads or compiles it, and from then on the name is the compiled function numba chose for this
    host's arguments.

    A weekly kernel is given the same kinds of argument every week (the host's state arrays, signals and numbers),
    so numba's type dispatch on every call (about 0.15 µs per argument: a tenth of a small organisation's week) is
    paid once per host. `CULTUREDRIFT_DISPATCH=1` keeps numba's dispatch on every call.

    A compiled function does not check its arguments' types (an int64 array where it was compiled for float64 is
    read as float64 bits), so `CULTUREDRIFT_CHECK_KERNELS=1` (set for the whole test suite) compares every later
    call's argument types with the first call's and raises if one differs."""

    def __init__(self) -> None:
        self._check = _env_flag("CULTUREDRIFT_CHECK_KERNELS")

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        kernel = getattr(k, name)
        if _DISPATCH:
            setattr(self, name, kernel)
            return kernel

        def first(*args: Any) -> Any:
            out = kernel(*args)
            compiled = list(kernel.overloads.values())
            if len(compiled) == 1:  # the only function numba has for this kernel is the one it just ran
                chosen = compiled[0].entry_point
            else:  # several (e.g. a test gave other types): the one for these arguments' types
                try:
                    chosen = kernel.get_overload(tuple(typeof(a) for a in args))
                except KeyError:  # numba converted an argument to fit a function compiled before: keep its dispatch
                    chosen = kernel
            if self._check and chosen is not kernel:
                chosen = _checked(name, chosen, args)
            setattr(self, name, chosen)
            return out

        return first


def _kind(a: Any) -> Any:
    """What a compiled function's unboxing depends on, cheaply (numba's own `typeof` costs microseconds)."""
    if isinstance(a, np.ndarray):
        return np.ndarray, a.dtype, a.ndim, a.flags.c_contiguous, a.flags.writeable
    if isinstance(a, tuple):
        return tuple, tuple(_kind(x) for x in a)
    dtype = getattr(a, "dtype", None)
    return type(a) if dtype is None else (type(a), dtype)


def _checked(name: str, fn: Any, args: tuple[Any, ...]) -> Any:
    """`fn` behind a check that every call passes arguments of the kinds of its first call's `args`."""
    kinds = tuple(_kind(a) for a in args)
    types = tuple(typeof(a) for a in args)  # for the message (not the arrays: they need not stay alive)

    def call(*now: Any) -> Any:
        if len(now) != len(kinds) or any(_kind(a) != k for a, k in zip(now, kinds, strict=True)):
            wrong = [f"argument {i}: {typeof(a)} where it was compiled for {t}"
                     for i, (a, t) in enumerate(zip(now, types, strict=False)) if _kind(a) != kinds[i]]
            if len(now) != len(kinds):
                wrong.append(f"{len(now)} arguments where it was compiled for {len(kinds)}")
            raise TypeError(f"kernel {name} called with other types than its compiled function's ({'; '.join(wrong)}):"
                            " its direct call would misread them; pass the same types every week")
        return fn(*now)

    return call


def _env_flag(name: str) -> bool:
    """An on/off environment variable."""
    return os.environ.get(name, "0").strip().lower() in ("1", "true", "yes", "on")


def by(host: Host, slots: np.ndarray) -> Any:
    """Where to find a kernel given people moving: the host's compiled functions for the slot arrays its own moves
    pass (contiguous int64: fixed types), numba's dispatch for any other (a test's or an event's own array)."""
    return host.kernels if slots.dtype == _INT64 and slots.flags.c_contiguous else k


_INT64 = np.dtype(np.int64)
_DISPATCH = _env_flag("CULTUREDRIFT_DISPATCH")

# the parameters each kernel reads from its mechanism's record (see `record`)
MORALE = ("noise_sd", "baseline", "recovery_rate", "contagion_rate", "change_effect", "reference_change_load",
          "change_fatigue", "workload_threshold", "workload_effect", "direct_time_effect", "fragmentation_effect",
          "leaver_effect")
CULTURE = ("coworker_rate", "manager_rate", "reinforcement_rate", "conformity_rate", "target_habit", "norm_weeks",
           "norm_threshold", "norm_steepness", "manager_norm_weight")
WORKLOAD = ("recording_base", "recording_per_compliance", "other_time", "change_time_per_load", "sickness_absence",
            "min_direct_time", "agency_worker_novice_penalty", "novice_penalty", "induction_weeks",
            "reference_direct_time", "direct_time_elasticity", "capacity_cases", "gatekeeping", "case_duration_weeks",
            "pressure_smoothing_weeks")
TURNOVER = ("leaver_exposure_decay", "intention_base", "intention_morale", "intention_morale_ref",
            "intention_workload", "intention_leavers", "intention_rate", "early_tenure_excess", "early_tenure_weeks",
            "intention_weight", "intention_ref", "intention_hazard_cap", "agency_worker_exit_hazard",
            "partner_exit_hazard", "recruitment_min_weeks", "partner_refill_hazard", "agency_worker_cover",
            "agency_worker_cover_hazard")
SLIPPAGE = ("omission_masking", "omission_sensitivity", "prescription_relax_rate", "prescription_weight",
            "overload_pressure_cap", "tighten_rate", "tension_relax_rate", "decay_rate", "staff_pressure_rate",
            "goal_erosion_rate")


def record(mech: Mechanism, fields: tuple[str, ...]) -> np.ndarray:
    """The mechanism's parameters `fields` as a one-row record that its kernels read by name: one argument instead
    of a dozen (each argument costs a kernel call time). Made once per parameter block; a block replaced mid-run
    is read afresh."""
    made = mech.__dict__.get("_record")
    if made is None or made[0] is not mech.pars:
        values = tuple(float(getattr(mech.pars, f)) for f in fields)
        made = (mech.pars, np.array([values], dtype=[(f, np.float64) for f in fields]))
        mech._record = made
    return made[1]


# ------------------------------------------------------------------------------------------ leadership


def deliver(mech: Leadership, active: list[Intervention], levels: list[float]) -> None:
    """Leadership's delivery of the week's interventions: what each declares (`deliveries`) to its group's people in
    post goes to the per-person channels in one compiled pass (`kernels.deliver`), in the same order as one
    `add_effect` after another; the organisation's numbers are added as the reference adds them. An intervention
    with an effect or a set of people of its own (`effect` or `whom` overridden) runs its own code, after the
    entries before it are applied, so every channel takes its additions in the reference's order."""
    if not active:  # nothing to deliver this week (a scenario without interventions: every week)
        return
    m = mech.model
    rows, entries = m.effect_row, []
    known = mech.__dict__.get("_groups")
    if known is None:
        known = mech._groups = {}
    for iv, lv in zip(active, levels, strict=True):
        strength = lv * mech.scale
        group = known.get(id(iv))
        if group is None or group[0] is not iv:  # its group's code, or None if it runs its own code
            cls = type(iv)
            own = cls.effect is not _EFFECT or cls.whom is not _WHOM
            group = known[id(iv)] = (iv, None if own else GROUP_CODES[iv.target])
        group = group[1]
        if group is None or (group == _NEW_HIRES and getattr(m.signals, "induction_weeks", None) is None):
            _deliver(m, entries)
            iv.effect(m, iv.whom(m), strength)
            continue
        for name, amount in iv.deliveries(m, strength):
            r = rows.get(name)
            if r is not None:
                entries += (r, group, amount)
            elif m.channels[name].per == "organisation":
                m.add_effect(name, None, amount)
            else:  # a channel kept apart (per team, or not a float): as the reference adds it
                _deliver(m, entries)
                m.add_effect(name, iv.whom(m), amount)
    _deliver(m, entries)


def _deliver(m: Host, entries: list[float]) -> None:
    """Apply the (row, group, amount) entries gathered so far and empty the list."""
    if not entries:
        return
    s = m.state
    weeks = getattr(m.signals, "induction_weeks", None)
    m.kernels.deliver(m.effect_rows, m.effect_ops, m.effect_caps, np.array(entries, np.float64), s.filled,
                      role_bits(m), s.agency_worker, s.tenure, 0.0 if weeks is None else float(weeks))
    entries.clear()


def role_bits(m: Host) -> np.ndarray:
    """The groups each post puts its holder in (`kernels.role_bits`), made once per host: roles do not change."""
    made = m.__dict__.get("_role_bits")
    if made is None:
        s = m.state
        made = m._role_bits = k.role_bits(s.staff, s.frontline, s.manager, s.partner)
    return made


_EFFECT, _WHOM = Intervention.effect, Intervention.whom
_NEW_HIRES = GROUP_CODES["new_hires"]


# --------------------------------------------------------------------------------------- relationships


def neighbour_sums(mech: Relationships) -> None:
    """Relationships.update_neighbour_sums: the CSR product with [morale, habit, 1], fused."""
    s, mat = mech.state, mech.model.network.mat
    out = np.empty((s.n, 3))
    k.neighbour_sums(mat.indptr, mat.indices, mat.data, s.morale, s.compliance_habit, out)
    mech.publish(neighbour_sums=out)


def relationships_step(mech: Relationships) -> None:
    """Relationships.step in one pass over the ties: they build (rates worked out from who holds both ends), and
    the strength by kind (hence fragmentation) and the neighbour sums are taken as each tie is updated."""
    net, s, p = mech.model.network, mech.state, mech.pars
    out = np.empty((s.n, 3))
    frag = np.empty(3)  # made here: an array a kernel returns costs numba a dtype unpickled on the way back
    mech.model.kernels.relationships_week(
        net.mat.indptr, net.mat.indices, net.kind, net.w, s.filled, s.agency_worker, mech.kind_rate,
        float(p.agency_worker_build_factor), INTER_AGENCY, float(mech.effects.interagency_boost), s.morale,
        s.compliance_habit, out, mech.baseline, INTRA_TEAM, INTER_AGENCY, frag)
    mech.publish(neighbour_sums=out, fragmentation=frag)


def initial_ties(mech: Relationships) -> None:
    """Relationships.init's starting tie strengths, without per-entry temporaries."""
    net, s = mech.model.network, mech.state
    k.initial_ties(net.mat.indptr, net.mat.indices, net.kind, s.tenure, s.filled, mech.kind_rate, net.w)


def tie_strength_per_slot(mech: Relationships) -> np.ndarray:
    """Each slot's total tie strength (scipy's row sums, in the same order)."""
    mat = mech.model.network.mat
    return k.row_sums(mat.indptr, mat.data)


def relationships_leave(mech: Relationships, slots: np.ndarray) -> None:
    """Relationships.on_leave: the leavers' ties vanish."""
    net = mech.model.network
    by(mech.model, slots).cut_ties(net.mat.indptr, net.mat.indices, net.w, slots)


def relationships_join(mech: Relationships, slots: np.ndarray) -> None:
    """Relationships.on_join: weak ties to whoever is in post."""
    net, s = mech.model.network, mech.state
    by(mech.model, slots).join_ties(net.mat.indptr, net.mat.indices, net.w, s.filled, slots,
              float(mech.pars.new_tie_strength))


# ------------------------------------------------------------------------------------ change programme


def learning_curves(mech: ChangeProgramme) -> None:
    """ChangeProgramme's weekly learning curves for the live changes, in one pass over the slots (a go-live week's:
    the other weeks run them inside `change_programme_week`)."""
    out = np.empty((2, mech.state.n))
    mech.model.kernels.learning_curves(mech.state.proficiency, mech.affect_cols, live_rows(mech), mech.rate, mech.dip,
                                       mech.rec, mech.lasting, mech.effects.learning_boost, out)
    mech.publish(productivity=out[0], extra_recording=out[1])


def live_rows(mech: ChangeProgramme) -> np.ndarray:
    """The rows of the live changes with a learning curve, worked out again only after a go-live."""
    key = mech.live.tobytes()
    live = mech.__dict__.get("_live")
    if live is None or live[0] != key:
        live = mech._live = (key, np.flatnonzero(mech.live))
    return live[1]


def change_programme_week(mech: ChangeProgramme) -> bool:
    """ChangeProgramme.step in one kernel call and one publish, in a week without a go-live (a go-live runs the
    reference's loop: a restructure or a learning curve then acts in the middle of it): each change's load, the pace
    and the prescription shift, then the learning curves once one has gone live. Returns whether it ran."""
    changes = mech.changes
    table = mech.__dict__.get("_table")
    # made once per programme; again after a go-live is moved (a moved change is a new object). The key holds the
    # changes themselves, compared by identity: ids alone could be reused by a later copy once the old one is freed
    key = table[0] if table is not None else ()
    if table is None or len(key) != len(changes) or not all(map(is_, key, changes)):  # (map: a third of a generator's)
        # the changes' numbers in two tables (whole numbers, fractions): two kernel arguments instead of five
        table = (tuple(changes), {c.start_week for c in changes},
                 np.array([[c.start_week for c in changes], [c.duration_weeks for c in changes],
                           [GROUP_CODES[c.affects] for c in changes]], np.int64).reshape(3, len(changes)),
                 np.array([[float(c.disruption) for c in changes],
                           [float(c.prescription_change) for c in changes]]).reshape(2, len(changes)))
        mech._table = table
    m = mech.model
    sig = m.signals
    weeks = getattr(sig, "induction_weeks", None)
    if m.week in table[1] or (weeks is None and any(c.affects == "new_hires" for c in changes)):
        return False
    s = m.state
    learn = bool(mech.learning) and bool(sig.learning_live)
    out = np.empty((2, s.n)) if learn else _NO_CURVES  # a new pair of arrays each week, as the reference publishes
    pace, shift = m.kernels.change_programme_week(
        s.change_load, table[2], table[3], m.week, role_bits(m), s.agency_worker, s.tenure,
        0.0 if weeks is None else float(weeks), s.proficiency, mech.affect_cols, live_rows(mech) if learn else _NO_ROWS,
        mech.rate, mech.dip, mech.rec, mech.lasting, mech.effects.learning_boost, out, learn)
    if learn:
        mech.publish(pace=pace, prescription_shift=shift, productivity=out[0], extra_recording=out[1])
    else:
        mech.publish(pace=pace, prescription_shift=shift)
    return True


_NO_CURVES, _NO_ROWS = np.empty((2, 0)), np.zeros(0, np.int64)


# ------------------------------------------------------------------------------------------- morale


def morale_step(mech: Morale) -> None:
    """Morale.step."""
    s, sig, eff = mech.state, mech.signals, mech.effects
    table = streams(mech, mech.rng)
    if table is None:  # not a numpy Generator: the reference's standard normals, drawn here
        table, z = _NO_STREAMS, mech.rng.standard_normal(s.n)
    else:  # drawn in the kernel, slot by slot: the same draws
        z = _NO_DRAWS
    mech.model.kernels.morale_step(
        table, s.morale, sig.neighbour_sums, sig.baseline_tie_strength, s.change_load, eff.change_buffer, s.workload,
        s.direct_time, mech.case_holder, mech.staff, s.leaver_exposure, eff.support, z,
        float(sig.reference_direct_time), record(mech, MORALE))


_NO_STREAMS, _NO_DRAWS = np.zeros((0, 4), np.uint64), np.zeros(0)


# ------------------------------------------------------------------------------------------ culture


def culture_step(mech: Culture) -> None:
    """Culture.step: socialisation, then the team norms and how far each has tipped."""
    p, s, sig = mech.pars, mech.state, mech.signals
    nb = sig.neighbour_sums
    teams = mech.__dict__.get("_team_table")
    if teams is None:  # made on the first week, and again after a restructure (Culture.on_restructure drops it)
        teams = mech._team_table = team_table(mech.model.layout.manager_slot.size, s.frontline, s.team)
    mech.model.kernels.culture_step(
        s.compliance_habit, nb[:, 1], nb[:, 2], mech.staff, s.frontline, mech.effects.reinforcement, mech.sustain,
        mech.norm_of, mech.mgr_of, s.filled, s.manager_control, float(sig.prescription), s.team, s.tenure,
        mech.model.layout.manager_slot, mech.norm, float(sig.induction_weeks), *teams, record(mech, CULTURE))
    mech.publish(norm_sustain=mech.sustain, team_norm=mech.norm_of, sector_habit=p.sector_habit,
                 norm_protection=p.norm_protection)


def team_table(teams: int, frontline: np.ndarray, team: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each team's frontline posts in slot order (team k's are `slots[start[k]:start[k + 1]]`): `culture_step` sums
    each team's practice from it, team by team, and keys its steps by team. Teams must lie in [-1, teams)."""
    if team.size and (int(team.min()) < -1 or int(team.max()) >= teams):
        raise ValueError(f"team numbers must lie in [-1, {teams}): found {int(team.min())}..{int(team.max())}")
    start = np.zeros(teams + 1, np.int64)
    slots = np.empty(int(np.count_nonzero(frontline & (team >= 0))), np.int32 if team.size < 2**31 else np.int64)
    k.team_posts(team, frontline, start, slots)
    return start, slots


# ----------------------------------------------------------------------------------------- slippage


def slippage_step(mech: Slippage) -> None:
    """Slippage.step: the incident draw and the week's scalars as the reference makes them, then this week's
    prescription and every slot in one call."""
    p, s, sig = mech.pars, mech.state, mech.signals
    week = mech.model.week
    mech.policy = min(max(p.initial_prescription + sig.prescription_shift, 0.0), 1.0)
    jump = mech.effects.prescription_jump
    if mech.rng.random() < mech.incident_p:
        jump += p.incident_magnitude
    if p.inspection_interval_weeks and week > 0 and week % p.inspection_interval_weeks == 0:
        jump += p.inspection_magnitude
    mech.publish(prescription=mech.model.kernels.slippage_week(
        s.compliance_habit, s.staff, s.filled, float(sig.prescription), float(jump), mech.policy,
        float(sig.service_standard), float(sig.sector_habit), s.control_tension, s.manager_control, sig.norm_sustain,
        sig.team_norm, mech.staff, mech.mgr, mech.team_of_manager, s.sustained_pressure, sig.team_cases,
        sig.team_capacity, float(mech.effects.control_damping), float(sig.norm_protection), record(mech, SLIPPAGE)))


# ----------------------------------------------------------------------------------------- turnover


def turnover_step(mech: Turnover) -> None:
    """Turnover.step: the whole week in one call with its joins and leaves (`turnover_people`) when only the
    standard listeners hear them; otherwise intention, tenure, hazards and exits in one call, then hires, replaced
    agency workers and affordable agency cover decided in one call (what the reference decides between its joins
    and leaves), each join and leave through the host."""
    m, p, s, eff = mech.model, mech.pars, mech.state, mech.effects
    moves = m.compiled_moves()
    if moves is not None and moves.turnover is mech:
        hire = hire_record(moves.culture)  # None when only numpy itself draws these hires' habits
        table = streams(mech, mech.rng, mech.rng_recruit, moves.culture.rng) if hire is not None else None
        if table is not None:
            return turnover_people(mech, moves, table, hire)
    mech.publish(leavers=0, leavers_permanent=0, joiners=0, agency_worker_hires_refused=0)
    # the week's draws first (nothing before them in this step draws from these two streams)
    u = mech.rng.random(s.n)
    u_fill, u_agency_worker = mech.rng_recruit.random((2, s.n))  # the reference's two draws, in one call
    pars = record(mech, TURNOVER)
    leaving, open_overflow = m.kernels.turnover_week(
        s.intention, s.tenure, s.leaver_exposure, s.morale, s.workload, mech.role_factor, eff.exit_hazard_multiplier,
        s.agency_worker, s.partner, p.base_exit_hazard * mech.market_exit, s.filled, u, mech.overflow,
        eff.overflow_open, s.team, mech.overflow_rank, float(eff.overflow_share), pars)
    m.leave(leaving)
    sig = mech.signals
    cost = getattr(sig, "agency_worker_weekly_cost", None)
    headroom = sig.hiring_headroom if cost is not None else -np.inf  # a host without a budget buys no cover
    # the reference's cover candidates are the empty slots after the permanent joins, whose only effect on what
    # cover reads is that their slots are filled: so the moves are decided before they are carried out
    replaced, joining, cover, refused = m.kernels.turnover_moves(
        s.is_post, s.staff, s.partner, s.staff_post, s.filled, s.agency_worker, s.vacant_since, m.week, u_fill,
        float(mech.fill_hazard), open_overflow, u_agency_worker, cost if cost is not None else np.zeros(s.n),
        float(headroom), pars)
    m.leave(replaced)
    m.join(joining, agency_worker=False)
    if refused:
        mech.publish(agency_worker_hires_refused=int(refused))
    m.join(cover, agency_worker=True)


def turnover_leave(mech: Turnover, slots: np.ndarray) -> None:
    """Turnover.on_leave: colleagues' exposure in one pass over the leavers' ties; vacancies start."""
    s, net, sig = mech.state, mech.model.network, mech.signals
    permanent = by(mech.model, slots).turnover_leave(net.mat.indptr, net.mat.indices, net.w,
                          sig.neighbour_sums[:, 2], slots, s.leaver_exposure, s.agency_worker, s.staff,
                          s.vacant_since, float(mech.model.week))
    mech.publish(leavers=sig.leavers + int(slots.size), leavers_permanent=sig.leavers_permanent + permanent)


# ----------------------------------------------------------------------------------------- workload


def workload_capacity(mech: Workload) -> None:
    """Workload.update_capacity."""
    s, p, sig = mech.state, mech.pars, mech.signals
    k.workload_capacity(s.compliance_habit, sig.extra_recording, s.change_load, mech.effects.time_cost,
                        s.agency_worker, s.tenure, sig.productivity, s.frontline, s.filled, s.direct_time, s.capacity,
                        p.recording_base, p.recording_per_compliance, p.other_time, p.change_time_per_load,
                        p.sickness_absence, p.min_direct_time, p.agency_worker_novice_penalty, p.novice_penalty,
                        p.induction_weeks, p.reference_direct_time, p.direct_time_elasticity, p.capacity_cases)


def workload_allocate(mech: Workload) -> None:
    """Workload.allocate."""
    s = mech.state
    mech.publish(team_capacity=k.workload_allocate(s.team, s.frontline, s.filled, s.capacity, mech.signals.team_cases,
                                                   s.workload, s.caseload, s.sustained_pressure,
                                                   mech.pars.pressure_smoothing_weeks))


def workload_step(mech: Workload) -> None:
    """Workload.step in one kernel call, the Poisson referrals drawn inside it from the workload stream
    (`kernels.workload_week`); in two around numpy's draw if the stream is not a numpy Generator."""
    sig, s = mech.signals, mech.state
    pars = record(mech, WORKLOAD)
    table = streams(mech, mech.rng)
    if table is not None:
        t = sig.team_cases.size
        lam, team_capacity = np.empty(t), np.empty(t)  # a new array each week, as the reference publishes
        ok, total, backlog = mech.model.kernels.workload_week(
            table, s.compliance_habit, sig.extra_recording, s.change_load, mech.effects.time_cost, s.agency_worker,
            s.tenure, sig.productivity, s.frontline, s.filled, s.direct_time, s.capacity, s.team,
            bool(sig.learning_live), sig.team_cases, sig.team_capacity, mech.referral_rate, s.workload, s.caseload,
            s.sustained_pressure, lam, team_capacity, pars, novice_exp(mech))
        if not ok:
            mech.rng.poisson(lam)  # numpy refuses this mean: its own error, before any draw, as the reference
        mech.publish(backlog=backlog, service_standard=float(1.0 - backlog / total) if total > 0 else 1.0,
                     team_capacity=team_capacity)
        return
    lam = mech.model.kernels.workload_referrals(
        s.compliance_habit, sig.extra_recording, s.change_load, mech.effects.time_cost, s.agency_worker, s.tenure,
        sig.productivity, s.frontline, s.filled, s.direct_time, s.capacity, sig.team_cases, sig.team_capacity,
        mech.referral_rate, pars)
    referrals = mech.rng.poisson(lam)
    total, backlog, team_capacity = mech.model.kernels.workload_cases(
        s.team, s.frontline, s.filled, sig.productivity, bool(sig.learning_live), sig.team_cases, sig.team_capacity,
        referrals, s.capacity, s.workload, s.caseload, s.sustained_pressure, pars)
    mech.publish(backlog=backlog, service_standard=float(1.0 - backlog / total) if total > 0 else 1.0,
                 team_capacity=team_capacity)


def novice_exp(mech: Workload) -> np.ndarray:
    """The novice factor's exp by whole weeks of tenure (`kernels.novice_exp_table`), kept on the mechanism for its
    induction period and doubled when the weeks run pass half of it (hires' tenures grow a week a week); tenures
    beyond it are worked out in the kernel, so its size is a matter of speed only."""
    weeks = float(mech.pars.induction_weeks)
    made = mech.__dict__.get("_novice_exp")
    week = mech.model.week
    if made is None or made[0] != weeks or week >= made[1]:
        start = week if made is None or made[0] != weeks else made[2]
        size = max(4 * (week - start + 1), 128)
        made = mech._novice_exp = (weeks, start + size // 2, start, k.novice_exp_table(weeks, size))
    return made[3]


# ------------------------------------------------------------------------------------------- people moving


class Fresh:
    """A holder whose copies start empty (copy, deepcopy and pickle all go through `__reduce__`): what it holds
    points into its owner's own memory (a bit generator's state, the owner's arrays), which a copy of the owner
    does not share."""

    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value: Any = None

    def __reduce__(self) -> tuple[type, tuple[()]]:
        return Fresh, ()


def stream_table(*rngs: np.random.Generator) -> np.ndarray:
    """Each numpy Generator's bit generator as kernels draw from it (`kernels._stream`), one row each: the address
    of its state and those of its next_double, next_uint64 and next_uint32 functions (numpy's ctypes interface),
    then 1 where kernels may step the generator's state themselves (`kernels._uniforms`: `pcg64_words`), else 0."""
    out = np.empty((len(rngs), 5), np.uint64)
    for row, rng in zip(out, rngs, strict=True):
        c = rng.bit_generator.ctypes
        row[:] = (c.state_address, *(ctypes.cast(f, ctypes.c_void_p).value
                                     for f in (c.next_double, c.next_uint64, c.next_uint32)),
                  int(pcg64_words(rng.bit_generator)))
    return out


def pcg64_words(bg: Any) -> bool:
    """Whether `bg` is numpy's PCG64 whose state sits where `kernels._uniforms` reads it: the address at the start
    of its ctypes state holding the 128-bit state and increment as four 64-bit words, low words first (a build
    of numpy that emulates 128-bit numbers stores the high word first, and is then drawn from through numpy)."""
    if type(bg) is not np.random.PCG64:
        return False
    held = bg.state["state"]
    at = ctypes.cast(bg.ctypes.state_address, ctypes.POINTER(ctypes.c_void_p))[0]
    words = ctypes.cast(at, ctypes.POINTER(ctypes.c_uint64))
    low = (1 << 64) - 1
    want = (held["state"] & low, held["state"] >> 64, held["inc"] & low, held["inc"] >> 64)
    return tuple(words[k] for k in range(4)) == want


def streams(mech: Mechanism, *rngs: Any) -> np.ndarray | None:
    """The stream table of `rngs` (`stream_table`), kept on the mechanism while they stay these objects, which
    keeps them alive as long as the table; None if one is not a numpy Generator (the caller draws in Python)."""
    held = mech.__dict__.get("_streams")
    if held is None:
        held = mech._streams = Fresh()
    made = held.value
    if made is None or made[0] != rngs:  # Generators compare by identity
        if not all(isinstance(r, np.random.Generator) for r in rngs):
            return None
        made = held.value = (rngs, stream_table(*rngs))
    return made[1]


@dataclass(frozen=True)
class Moves:
    """What `turnover_people` carries out for the host: the listeners it stands for and the declared per-person
    values a join and a leave set (`Host.compiled_moves`)."""

    turnover: Any
    relationships: Any
    culture: Any
    after: tuple[Any, ...]  # listeners told of the week's joiners after the kernel (ChangeProgramme.on_join)
    hooks: tuple[tuple[dict[str, Any], str, type, Any], ...]  # (a mechanism's own attributes, a hook, its class,
    # the class's listener): a listener replaced on the instance or on the class since is not the one the kernel knows
    hire_arrays: tuple[np.ndarray, ...]
    hire_values: np.ndarray
    leave_arrays: tuple[np.ndarray, ...]
    leave_values: np.ndarray


def moves_of(host: Host) -> Moves | None:
    """The host's `Moves` when its listeners of joins and leaves are exactly the ones `turnover_people` carries out
    (turnover, relationships and culture, leaves heard by turnover first; change programme's on_join told
    afterwards), each as its module defines it, and every declared on-hire and on-leave array is a flat float64
    array; None otherwise."""
    joiners = {_STANDARD.get((type(m).__module__, type(m).__qualname__)): m for m in host._joiners}
    leavers = [_STANDARD.get((type(m).__module__, type(m).__qualname__)) for m in host._leavers]
    hooks = (*((m, "on_join") for m in host._joiners), *((m, "on_leave") for m in host._leavers))
    if (len(joiners) != len(host._joiners) or leavers != ["turnover", "relationships"]
            or joiners.keys() - {"change_programme"} != {"turnover", "relationships", "culture"}
            or not all(_own(type(m), hook) for m, hook in hooks)):
        return None
    pairs = (*host._on_hire, *host._on_leave)
    if (not host._on_hire or not host._on_leave
            or not all(a.dtype == np.float64 and a.ndim == 1 and a.flags.c_contiguous for a, _ in pairs)):
        return None
    return Moves(
        turnover=joiners["turnover"], relationships=joiners["relationships"], culture=joiners["culture"],
        after=tuple(m for name, m in joiners.items() if name == "change_programme"),
        hooks=tuple((vars(m), hook, type(m), getattr(type(m), hook)) for m, hook in hooks),
        hire_arrays=tuple(a for a, _ in host._on_hire), hire_values=np.array([v for _, v in host._on_hire], float),
        leave_arrays=tuple(a for a, _ in host._on_leave), leave_values=np.array([v for _, v in host._on_leave], float))


# the mechanisms whose listeners `turnover_people` stands for (named, not imported: they import this module)
_STANDARD = {(f"culturedrift.model.mechanisms.{name}", cls): name for name, cls in (
    ("turnover", "Turnover"), ("relationships", "Relationships"), ("culture", "Culture"),
    ("change_programme", "ChangeProgramme"))}


def _own(cls: type, hook: str) -> bool:
    """Whether the class's `hook` is the one its module defines for it (not one put on the class since, nor a
    wrapper around it)."""
    f = getattr(cls, hook)
    code = getattr(f, "__code__", None)
    return code is not None and f.__module__ == cls.__module__ and code.co_qualname == f"{cls.__qualname__}.{hook}"


HIRE = ("partner_habit", "mean", "a", "b", "fixed")


def hire_record(mech: Culture) -> np.ndarray | None:
    """What a hire's habit is drawn from, as a one-row record (`record`): partner workers' habit, the Beta's mean and
    shapes (`Culture.hire_shape`) and whether the spread is negligible (every hire takes the mean); None when only
    numpy itself draws this Beta (both shapes at most 1: `kernels.gamma_beta`)."""
    made = mech.__dict__.get("_hire_record")
    if made is None or made[0] is not mech.pars:
        mean, a, b = mech.hire_shape()
        fixed = bool(np.isnan(a))
        values = (float(mech.pars.partner_habit), mean, 0.0 if fixed else a, 0.0 if fixed else b, float(fixed))
        kernel = fixed or a > 1.0 or b > 1.0
        made = mech._hire_record = (mech.pars, np.array([values], dtype=[(f, np.float64) for f in HIRE])
                                    if kernel else None)
    return made[1]


def turnover_people(mech: Turnover, moves: Moves, table: np.ndarray, hire: np.ndarray) -> None:
    """Turnover.step with its joins and leaves in one kernel call (`kernels.people_week`): the same draws from the
    same three streams, the same moves in the same order, the same log; then the signals, the event log and the
    listeners the kernel does not stand for (a live change programme's on_join)."""
    m, p, s, eff, sig = mech.model, mech.pars, mech.state, mech.effects, mech.signals
    cost = getattr(sig, "agency_worker_weekly_cost", None)
    headroom = sig.hiring_headroom if cost is not None else -np.inf  # a host without a budget buys no cover
    net = m.network
    rows, nl, nr, nj, nc, permanent, refused = m.kernels.people_week(
        table, s.intention, s.tenure, s.leaver_exposure, s.morale, s.workload, mech.role_factor,
        eff.exit_hazard_multiplier, s.agency_worker, s.partner, p.base_exit_hazard * mech.market_exit, s.filled,
        mech.overflow, eff.overflow_open, s.team, mech.overflow_rank, float(eff.overflow_share), s.is_post, s.staff,
        s.staff_post, s.vacant_since, m.week, float(mech.fill_hazard), cost if cost is not None else np.zeros(s.n),
        float(headroom), s.role, net.mat.indptr, net.mat.indices, net.twins, net.w, sig.neighbour_sums,
        moves.leave_arrays, moves.leave_values, moves.hire_arrays, moves.hire_values, s.compliance_habit,
        float(moves.relationships.pars.new_tie_strength), record(mech, TURNOVER), hire)
    mech.publish(leavers=nl + nr, leavers_permanent=permanent, joiners=nj + nc, agency_worker_hires_refused=refused)
    if nl + nr + nj + nc:
        m.log_moves(nl + nr, nj + nc, rows)
        if nj + nc and moves.after:
            joined = rows[nl + nr:, 0].astype(np.int64)
            for listener in moves.after:
                listener.on_join(joined)
