"""1b. Culture (Harrison & Carroll 1991): socialisation, leadership reinforcement and hiring.

The compliance habit c in [0, 1] (1 = procedure-driven compliance and control, 0 = professional
judgement and learning) moves each week toward
  - the tie-weighted habit of coworkers (coworker socialisation),
  - the control style of one's team manager (manager socialisation),
  - the Review's target culture, in proportion to leadership reinforcement from interventions.
New hires bring habits drawn from the labour market, where the rest of the sector still runs a
compliance culture; hiring selectivity shifts that draw toward the target.
Partner workers keep the habits of their own agencies.
"""

from __future__ import annotations

import numpy as np

from culturedrift.model.base import Channel, Mechanism, PersonState, Signal, Strict, param


class CultureParams(Strict):
    initial_habit: float = param(0.7, "0-1", "The organisation starts in the compliance culture the Review "
                                 "describes (Munro 2011 ch.1; assumption for the level)", ge=0, le=1)
    initial_sd: float = param(0.1, "0-1", "Spread of habits at the start (assumption)", ge=0, le=0.5)
    partner_habit: float = param(0.6, "0-1", "Partner agencies' habits (assumption)", ge=0, le=1)
    coworker_rate: float = param(0.02, "per week", "Coworker socialisation (Harrison & Carroll 1991: "
                                 "socialisation as a weekly pull; assumption for the size)", ge=0, le=1)
    manager_rate: float = param(0.02, "per week", "Manager socialisation toward the manager's control style "
                                "(Harrison & Carroll 1991; assumption)", ge=0, le=1)
    reinforcement_rate: float = param(0.03, "per week per unit reinforcement", "Leadership reinforcement toward "
                                      "the target culture (assumption)", ge=0, le=1)
    target_habit: float = param(0.15, "0-1", "The culture the Review advocates: judgement with light procedure "
                                "(assumption for the level)", ge=0, le=1)
    sector_habit: float = param(0.7, "0-1", "Mean habit of hires from the labour market: the rest of the "
                                "sector still runs a compliance culture (DfE facts; assumption for the level)",
                                ge=0, le=1)
    hire_sd: float = param(0.12, "0-1", "Spread of hires' habits (assumption)", ge=0, le=0.5)
    hiring_selectivity: float = param(0.0, "0-1", "Share of the gap to the target culture closed by selective "
                                      "hiring (Harrison & Carroll 1991)", ge=0, le=1)


def _beta(rng: np.random.Generator, mean: float, sd: float, n: int) -> np.ndarray:
    """n Beta draws with the given mean and sd (sd is capped so the distribution exists)."""
    mean = min(max(float(mean), 0.01), 0.99)
    if sd == 0:
        return np.full(n, mean)
    var = min(sd * sd, mean * (1 - mean) * 0.95)
    k = mean * (1 - mean) / var - 1
    return rng.beta(mean * k, (1 - mean) * k, size=n)


class Culture(Mechanism):
    """Vectorised weekly socialisation and reinforcement of the compliance habit."""

    name = "culture"
    title = "Culture"
    category = "1b culture"
    owns = (PersonState("compliance_habit", "1 = procedure-driven compliance and control, 0 = professional "
                        "judgement; hires draw theirs from the labour market"),)
    channels = (Channel("reinforcement", "reinforcement units", "Leadership reinforcement toward the target "
                        "culture"),)
    publishes = (Signal("sector_habit", "0-1", "Mean compliance habit of the rest of the sector (the labour "
                        "market's culture)"),)

    def init_state(self) -> None:
        s, p = self.state, self.pars
        drawn = _beta(self.rng, p.initial_habit, p.initial_sd, s.n)
        s.compliance_habit[:] = np.where(s.partner, p.partner_habit, drawn)
        self.staff = s.staff.astype(float)
        self.publish(sector_habit=p.sector_habit)
        self.on_restructure()

    def on_restructure(self) -> None:
        """Whose manager socialises whom follows the teams."""
        self.mgr_of = self.model.layout.manager_slot[np.maximum(self.state.team, 0)]

    def on_join(self, slots: np.ndarray) -> None:
        """Hires bring habits from the labour market; partner workers their agency's."""
        s = self.state
        staff = slots[~s.partner[slots]]
        s.compliance_habit[staff] = self.hire_habits(staff.size)
        s.compliance_habit[slots[s.partner[slots]]] = self.pars.partner_habit

    def hire_habits(self, n: int) -> np.ndarray:
        """Habits of n hires from the labour market."""
        p = self.pars
        mean = p.sector_habit - p.hiring_selectivity * (p.sector_habit - p.target_habit)
        return _beta(self.rng, mean, p.hire_sd, n)

    def control_style(self) -> np.ndarray:
        """Each person's manager's control style; a vacant manager post leaves prescription in charge."""
        s = self.state
        mgr = self.mgr_of
        return np.where(s.filled[mgr], s.manager_control[mgr], self.signals.prescription)

    def step(self) -> None:
        p, s, sig = self.pars, self.state, self.signals
        c = s.compliance_habit
        nb, rowsum = sig.neighbour_sums[:, 1], sig.neighbour_sums[:, 2]
        has = rowsum > 1e-9
        peer = np.where(has, nb / np.where(has, rowsum, 1.0), c)
        d = p.coworker_rate * (peer - c)
        d += p.manager_rate * (self.control_style() - c) * s.frontline
        d += p.reinforcement_rate * self.effects.reinforcement * (p.target_habit - c)
        d *= self.staff
        c += d
