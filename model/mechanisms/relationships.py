"""2a. Working relationships: ties build with time worked together and vanish when someone leaves.

Tie strength w in [0, 1] moves toward 1 at a kind-specific rate per week while both ends are in
post (slower when either end is an agency worker). A leaver's ties drop to zero; a new hire starts
with weak ties. Fragmentation is the share of the week-0 (pre-change) tie strength that is missing,
reported for intra-team ties, inter-agency ties and the two combined.
"""

from __future__ import annotations

import numpy as np

from culturedrift.model import compiled
from culturedrift.model.base import Channel, Mechanism, Signal, Strict, param
from culturedrift.model.organisation import CROSS_TEAM, INTER_AGENCY, INTRA_TEAM, PARTNER_INTERNAL


class RelationshipParams(Strict):
    team_build_rate: float = param(0.03, "per week", "Teammates close ~80% of the gap to a full working "
                                   "relationship in a year (assumption; team familiarity, Huckman et al. 2009)",
                                   ge=0, le=1)
    cross_team_build_rate: float = param(0.015, "per week", "Half the team rate: less frequent contact "
                                         "(assumption)", ge=0, le=1)
    interagency_build_rate: float = param(0.015, "per week", "Inter-agency ties build slowly (Munro 2011 ch.5; "
                                          "assumption)", ge=0, le=1)
    agency_worker_build_factor: float = param(0.5, "multiplier", "Agency staff invest less in ties (shorter stays; "
                                       "assumption)", ge=0, le=1)
    moved_tie_retained: float = param(0.5, "share of strength", "A former teammate moved by a restructure "
                                      "becomes a cross-team contact, keeping this share of the tie (assumption)",
                                      ge=0, le=1)
    new_tie_strength: float = param(0.1, "0-1", "A new colleague is a name, not yet a relationship "
                                    "(assumption)", ge=0, le=1)


class Relationships(Mechanism):
    """Builds ties weekly, cuts them on leaving and measures fragmentation against week 0."""

    name = "relationships"
    title = "Working relationships"
    category = "2a ties"
    channels = (Channel("interagency_boost", "multiplier on inter-agency tie building", "Partner liaison",
                        per="organisation"),)
    publishes = (
        Signal("neighbour_sums", "per slot: morale, habit, tie strength", "Tie-weighted sums of colleagues' "
               "morale and compliance habit, and total tie strength (one sparse product after the ties change)"),
        Signal("baseline_tie_strength", "tie strength, per slot", "Each slot's total tie strength at week 0"),
        Signal("fragmentation", "shares [team, inter-agency, both]", "Share of the week-0 tie strength missing"),
    )

    def init(self) -> None:
        m, p, s = self.model, self.pars, self.state
        self.kind_rate = np.zeros(4)
        self.kind_rate[INTRA_TEAM] = p.team_build_rate
        self.kind_rate[CROSS_TEAM] = p.cross_team_build_rate
        self.kind_rate[INTER_AGENCY] = p.interagency_build_rate
        self.kind_rate[PARTNER_INTERNAL] = p.team_build_rate
        net = m.network
        # initial strength from how long both ends have worked here
        if self.model.compiled:
            compiled.initial_ties(self)
        else:
            row = net.row
            both = np.minimum(s.tenure[row], s.tenure[net.col])
            rate = self.kind_rate[net.kind]
            net.w[:] = (1.0 - np.exp(-rate * both)) * s.filled[row] * s.filled[net.col]
        self.refresh_rates()
        self.baseline = net.strength_by_kind()
        self.publish(baseline_tie_strength=self.tie_strength_per_slot(), fragmentation=np.zeros(3))
        self.update_neighbour_sums()

    def update_neighbour_sums(self) -> None:
        """Tie-weighted sums of colleagues' morale and habit, and tie strength (one sparse product)."""
        if self.model.compiled:
            return compiled.neighbour_sums(self)
        s = self.state
        x = np.empty((s.n, 3))
        x[:, 0], x[:, 1], x[:, 2] = s.morale, s.compliance_habit, 1.0
        self.publish(neighbour_sums=self.model.network.mat @ x)

    def refresh_rates(self) -> None:
        """Per-entry build rates: zero where an end is vacant, slower where an end is an agency worker.

        The compiled path stores none: it works each entry's rate out from who holds both ends as it
        builds the ties (the same numbers; 12 bytes per entry less at a million staff)."""
        if self.model.compiled:
            self.rate = self._ia = None
            return
        net, s, p = self.model.network, self.state, self.pars
        row = net.row
        self.rate = self.kind_rate[net.kind] * (s.filled[row] & s.filled[net.col])
        self.rate *= np.where(s.agency_worker[row] | s.agency_worker[net.col], p.agency_worker_build_factor, 1.0)
        self._ia = np.flatnonzero(net.kind == INTER_AGENCY)

    def tie_strength_per_slot(self) -> np.ndarray:
        """Each slot's total tie strength (a row sum of the network)."""
        if self.model.compiled:
            return compiled.tie_strength_per_slot(self)
        return self.model.network.mat @ np.ones(self.state.n)

    def start_record(self) -> None:
        """Week 0: the pre-change strength that fragmentation is measured against."""
        self.baseline = self.model.network.strength_by_kind()
        self.publish(baseline_tie_strength=self.tie_strength_per_slot())
        self.measure()

    def on_restructure(self) -> None:
        """Former teammates become cross-team contacts; new teammates start with weak ties."""
        p = self.pars
        self.model.network.rewire_teams(self.state.team, p.new_tie_strength, p.moved_tie_retained)
        self.refresh_rates()
        self.update_neighbour_sums()

    def on_leave(self, slots: np.ndarray) -> None:
        """Leavers' ties vanish."""
        if self.model.compiled:
            return compiled.relationships_leave(self, slots)
        e = self.model.network.entries_of(slots)
        self.model.network.w[e] = 0.0
        self.rate[e] = 0.0

    def on_join(self, slots: np.ndarray) -> None:
        """A new hire starts with weak ties to whoever is in post."""
        if self.model.compiled:
            return compiled.relationships_join(self, slots)
        net, s = self.model.network, self.state
        e = net.entries_of(slots)
        row = np.repeat(slots, np.diff(net.mat.indptr)[slots])  # the rows of `e`: the slots' own entries ...
        row = np.concatenate((row, net.col[e[: row.size]]))  # ... then their mirrors, whose row is the other end
        both = s.filled[row] & s.filled[net.col[e]]
        net.w[e] = self.pars.new_tie_strength * both
        r = self.kind_rate[net.kind[e]] * both
        either = s.agency_worker[row] | s.agency_worker[net.col[e]]
        r *= np.where(either, self.pars.agency_worker_build_factor, 1.0)
        self.rate[e] = r

    def step(self) -> None:
        if self.model.compiled:
            return compiled.relationships_step(self)
        w = self.model.network.w
        w += (1.0 - w) * self.rate
        boost = self.effects.interagency_boost
        if boost > 0:
            ia = self._ia
            extra = np.minimum(self.rate[ia] * boost, 1.0)
            w[ia] += (1.0 - w[ia]) * extra
        self.measure()
        self.update_neighbour_sums()

    def measure(self, now: np.ndarray | None = None) -> None:
        """Fragmentation: intra-team, inter-agency and the two combined (`now`: this week's strength by kind,
        when the compiled step has just summed it)."""
        if now is None:
            now = self.model.network.strength_by_kind()
        now, base = now.tolist(), self.baseline.tolist()  # Python floats: the same IEEE arithmetic, less overhead

        def missing(a: float, b: float) -> float:
            return min(max(1.0 - a / b, 0.0), 1.0) if b > 0 else 0.0

        self.publish(fragmentation=np.array([missing(now[INTRA_TEAM], base[INTRA_TEAM]),
                                             missing(now[INTER_AGENCY], base[INTER_AGENCY]),
                                             missing(now[INTRA_TEAM] + now[INTER_AGENCY],
                                                     base[INTRA_TEAM] + base[INTER_AGENCY])]))
