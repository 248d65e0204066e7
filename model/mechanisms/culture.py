"""1b. Culture (Harrison & Carroll 1991): socialisation, leadership reinforcement and hiring.

The compliance habit c in [0, 1] (1 = procedure-driven compliance and control, 0 = professional
judgement and learning) moves each week toward
  - the tie-weighted habit of coworkers (coworker socialisation),
  - the control style of one's team manager (manager socialisation),
  - the Review's target culture, in proportion to leadership reinforcement from interventions.
New hires bring habits drawn from the labour market, where the rest of the sector still runs a
compliance culture; hiring selectivity shifts that draw toward the target.
Partner workers keep the habits of their own agencies.

Memory (a conformity threshold): each team holds a norm, the habit its members and manager take to be
expected here, which follows the team's practice with a lag of months. Once a team's norm has moved past
`norm_threshold` toward the new culture, the new culture sustains itself: unreinforced habits decay
toward the team's own norm instead of back toward the sector's compliance culture (Lewin's
"refreezing"; threshold models of collective behaviour, Granovetter 1978; tipping points in social
conventions, Centola et al. 2018). Below the threshold the old attractor still rules, so support
withdrawn too early is followed by slippage, and support kept until the norm has tipped is not needed
afterwards. All pulls are combined as one exponential approach (model/numerics.py), so no rate in its
declared range can overshoot.
"""

from __future__ import annotations

import numpy as np

from culturedrift.model import compiled
from culturedrift.model.base import Channel, Mechanism, PersonState, Signal, Strict, param
from culturedrift.model.numerics import approach


class CultureParams(Strict):
    initial_habit: float = param(0.7, "0-1", "The organisation starts in the compliance culture the Review "
                                 "describes (Munro 2011 ch.1; assumption for the level)", ge=0, le=1)
    initial_sd: float = param(0.1, "0-1", "Spread of habits at the start (assumption)", ge=0, le=0.5)
    partner_habit: float = param(0.6, "0-1", "Partner agencies' habits (assumption)", ge=0, le=1)
    coworker_rate: float = param(0.02, "per week", "Coworker socialisation (Harrison & Carroll 1991: "
                                 "socialisation as a weekly pull; assumption for the size)", ge=0, le=1)
    manager_rate: float = param(0.02, "per week", "Manager socialisation toward the manager's control style "
                                "(Harrison & Carroll 1991; assumption)", ge=0, le=1)
    reinforcement_rate: float = param(0.02, "per week per unit reinforcement", "Leadership reinforcement toward "
                                      "the target culture. Sized so that a programme with supervision moves "
                                      "half of its five-year shift in the first 6-18 months, not weeks: culture "
                                      "change in "
                                      "public services takes years (Munro 2012 progress report: progress "
                                      "after a year 'in the right direction but needs to move faster'; "
                                      "Hackney's Reclaim Social Work evaluated after ~2.5 years, Cross et al. "
                                      "2010; Scott et al. 2003; docs/validation.md P1)", ge=0, le=1)
    norm_weeks: float = param(26.0, "weeks", "Lag of a team's held norm behind its practice: norms follow "
                              "behaviour over months (assumption; Harrison & Carroll 1991 socialisation)",
                              ge=1, le=520)
    norm_threshold: float = param(0.45, "0-1 habit", "Team norm below which the new culture sustains itself "
                                  "(threshold models, Granovetter 1978; a committed minority of ~25% tips a "
                                  "convention, Centola et al. 2018; assumption for the level, checked by "
                                  "docs/validation.md P2-P3)", ge=0, le=1)
    norm_steepness: float = param(0.04, "0-1 habit", "Width of the tipping zone around the threshold "
                                  "(assumption)", gt=0, le=1)
    conformity_rate: float = param(0.012, "per week", "Reinforcement toward the target culture by a tipped "
                                   "team's own norm holders, as leaders gave it before: they socialise newcomers "
                                   "into the new culture as incumbents did into the old (Harrison & Carroll 1991; "
                                   "assumption for the size, checked by docs/validation.md P2-P3)", ge=0, le=1)
    norm_protection: float = param(0.8, "0-1", "Share of slippage (managers' tightening, the direct pull of "
                                   "prescription, decay) that a tipped team's own norm holders prevent, as "
                                   "vigilance would (assumption; checked by docs/validation.md P3)", ge=0, le=1)
    manager_norm_weight: float = param(0.33, "0-1", "Weight of the team manager's own habit in the team norm "
                                       "(managers carry norms; assumption)", ge=0, le=1)
    target_habit: float = param(0.15, "0-1", "The culture the Review advocates: judgement with light procedure "
                                "(assumption for the level)", ge=0, le=1)
    sector_habit: float = param(0.7, "0-1", "Mean habit of hires from the labour market: the rest of the "
                                "sector still runs a compliance culture (DfE facts; assumption for the level)",
                                ge=0, le=1)
    hire_sd: float = param(0.12, "0-1", "Spread of hires' habits (assumption)", ge=0, le=0.5)
    hiring_selectivity: float = param(0.0, "0-1", "Share of the gap to the target culture closed by selective "
                                      "hiring (Harrison & Carroll 1991)", ge=0, le=1)


def beta_shape(mean: float, sd: float) -> tuple[float, float, float]:
    """The Beta with the given mean and sd (sd is capped so the distribution exists): its mean, kept inside
    [0.01, 0.99], and its two shape parameters, NaN for a negligible spread (every draw is the mean)."""
    mean = min(max(float(mean), 0.01), 0.99)
    if sd < 1e-6:  # a negligible spread: a Beta with var ~ 0 has infinite shape parameters
        return mean, np.nan, np.nan
    var = min(sd * sd, mean * (1 - mean) * 0.95)
    k = mean * (1 - mean) / var - 1
    return mean, mean * k, (1 - mean) * k


def _beta(rng: np.random.Generator, mean: float, sd: float, n: int) -> np.ndarray:
    """n Beta draws with the given mean and sd (`beta_shape`)."""
    mean, a, b = beta_shape(mean, sd)
    if np.isnan(a):
        return np.full(n, mean)
    return rng.beta(a, b, size=n)


class Culture(Mechanism):
    """Vectorised weekly socialisation and reinforcement of the compliance habit."""

    name = "culture"
    title = "Culture"
    category = "1b culture"
    owns = (PersonState("compliance_habit", "1 = procedure-driven compliance and control, 0 = professional "
                        "judgement; hires draw theirs from the labour market"),)
    channels = (Channel("reinforcement", "reinforcement units", "Leadership reinforcement toward the target "
                        "culture"),)
    publishes = (
        Signal("sector_habit", "0-1", "Mean compliance habit of the rest of the sector (the labour market's "
               "culture)"),
        Signal("team_norm", "0-1 habit", "Per slot: the norm its team holds, the habit taken to be expected here"),
        Signal("norm_sustain", "0-1", "Per slot: how far its team's norm has tipped into a self-sustaining new "
               "culture (0 = not at all)"),
        Signal("norm_protection", "0-1", "Share of slippage a fully tipped team's own norm holders prevent"),
    )

    def init_state(self) -> None:
        s, p = self.state, self.pars
        drawn = _beta(self.rng, p.initial_habit, p.initial_sd, s.n)
        s.compliance_habit[:] = np.where(s.partner, p.partner_habit, drawn)
        self.staff = s.staff.astype(float)
        self.on_restructure()

    def init(self) -> None:
        """Each team's norm starts at its practice (incumbents' tenure is set by now)."""
        self.norm = self.team_practice()
        self.sustain = np.zeros(self.state.n)
        self._sustain_of_norm()

    def on_restructure(self) -> None:
        """Whose manager socialises whom follows the teams."""
        self.mgr_of = self.model.layout.manager_slot[np.maximum(self.state.team, 0)]
        self.__dict__.pop("_team_table", None)  # the compiled step's table of each team's posts, made again

    def on_join(self, slots: np.ndarray) -> None:
        """Hires bring habits from the labour market; partner workers their agency's."""
        s = self.state
        if slots.size == 1:  # most weeks' one hire: the same draw without the masks (it costs less)
            i = int(slots[0])
            s.compliance_habit[i] = self.pars.partner_habit if s.partner[i] else self.hire_habits(1)[0]
            return
        partner = s.partner[slots]
        staff = slots[~partner]
        s.compliance_habit[staff] = self.hire_habits(staff.size)
        s.compliance_habit[slots[partner]] = self.pars.partner_habit

    def hire_habits(self, n: int) -> np.ndarray:
        """Habits of n hires from the labour market."""
        p = self.pars
        mean = p.sector_habit - p.hiring_selectivity * (p.sector_habit - p.target_habit)
        return _beta(self.rng, mean, p.hire_sd, n)

    def hire_shape(self) -> tuple[float, float, float]:
        """The Beta that `hire_habits` draws from (`beta_shape`): for the compiled joins, which draw in a kernel."""
        p = self.pars
        return beta_shape(p.sector_habit - p.hiring_selectivity * (p.sector_habit - p.target_habit), p.hire_sd)

    def control_style(self) -> np.ndarray:
        """Each person's manager's control style; a vacant manager post leaves prescription in charge."""
        s = self.state
        mgr = self.mgr_of
        return np.where(s.filled[mgr], s.manager_control[mgr], self.signals.prescription)

    def team_practice(self) -> np.ndarray:
        """Each team's practice: mean habit of its filled frontline posts blended with its manager's habit."""
        s, lay = self.state, self.model.layout
        t = lay.n_teams
        # the norm is held by incumbents (past their induction), the people newcomers learn it from
        held = s.frontline & s.filled
        fl = held & (s.tenure >= self.signals.induction_weeks)
        fl = np.where(np.bincount(s.team[fl], minlength=t)[np.maximum(s.team, 0)] > 0, fl, held)
        n = np.bincount(s.team[fl], minlength=t)
        tot = np.bincount(s.team[fl], weights=s.compliance_habit[fl], minlength=t)
        mgr = lay.manager_slot
        # before slippage has published prescription (at the start), a vacant manager post holds the start habit
        vacant = self.signals.prescription
        mgr_habit = np.where(s.filled[mgr], s.compliance_habit[mgr],
                             self.pars.initial_habit if vacant is None else vacant)
        front = np.where(n > 0, tot / np.maximum(n, 1), mgr_habit)
        a = self.pars.manager_norm_weight
        return (1.0 - a) * front + a * mgr_habit

    def _sustain_of_norm(self) -> None:
        """Per slot: how far its team's norm has tipped into a self-sustaining new culture (0 = not at all)."""
        s, p = self.state, self.pars
        z = np.clip((p.norm_threshold - self.norm) / p.norm_steepness, -60.0, 60.0)
        tipped = 1.0 / (1.0 + np.exp(-z))
        self.sustain = np.where(s.staff, tipped[np.maximum(s.team, 0)], 0.0)
        self.norm_of = self.norm[np.maximum(s.team, 0)]
        # the parameters others read are published with the norm, so a changed parameter block is heard
        self.publish(norm_sustain=self.sustain, team_norm=self.norm_of, sector_habit=p.sector_habit,
                     norm_protection=p.norm_protection)

    def step(self) -> None:
        if self.model.compiled:
            return compiled.culture_step(self)
        p, s, sig = self.pars, self.state, self.signals
        c = s.compliance_habit
        nb, rowsum = sig.neighbour_sums[:, 1], sig.neighbour_sums[:, 2]
        has = rowsum > 1e-9
        peer = np.where(has, nb / np.where(has, rowsum, 1.0), c)
        approach(c, [p.coworker_rate * self.staff, p.manager_rate * self.staff * s.frontline,
                     p.reinforcement_rate * self.effects.reinforcement * self.staff, p.conformity_rate * self.sustain],
                 [peer, self.control_style(), p.target_habit, p.target_habit])
        # the team norm follows practice with a lag
        self.norm += -np.expm1(-1.0 / p.norm_weeks) * (self.team_practice() - self.norm)
        self._sustain_of_norm()
