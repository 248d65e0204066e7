"""The yardstick: the same kind of weekly dynamics written as idiomatic Mesa, the way Mesa's examples do it.

Staff sit on a small-world working-relationship network (mean degree 8). Each has three numbers:
morale, compliance habit and turnover intention. Every week, in random order (`shuffle_do`), each
person moves morale and habit toward their colleagues' means, updates intention from morale, and
may quit; a quitter is replaced by a new hire in the same post. Benchmarks divide the full model's
agent-steps per second by this model's, measured in the same invocation.
"""

from __future__ import annotations

import networkx as nx
from mesa import Model
from mesa.discrete_space import FixedAgent, Network


class Worker(FixedAgent):
    """One member of staff in one post (a network cell)."""

    def __init__(self, model: StaffOnNetwork, cell) -> None:
        super().__init__(model)
        self.cell = cell
        self.morale = 0.6
        self.compliance_habit = 0.7
        self.intention = 0.2

    def step(self) -> None:
        """Socialise with colleagues, update the wish to leave, maybe leave."""
        colleagues = list(self.cell.neighborhood.agents)
        if colleagues:
            mean_morale = sum(a.morale for a in colleagues) / len(colleagues)
            mean_habit = sum(a.compliance_habit for a in colleagues) / len(colleagues)
            self.morale += 0.05 * (mean_morale - self.morale) + 0.01 * (0.65 - self.morale)
            self.compliance_habit += 0.02 * (mean_habit - self.compliance_habit)
        self.intention += 0.1 * (0.5 - self.morale - self.intention)
        if self.random.random() < 0.003 * (1.0 + max(self.intention, 0.0)):
            cell = self.cell
            self.remove()
            Worker(self.model, cell)


class StaffOnNetwork(Model):
    """N staff on a Watts-Strogatz network, stepped agent by agent in random order."""

    def __init__(self, n: int = 1000, degree: int = 8, rng: int | None = None) -> None:
        super().__init__(rng=rng)
        graph = nx.watts_strogatz_graph(n, degree, 0.1, seed=rng)
        # no spring layout: it costs minutes at 10k nodes and a headless benchmark never draws it
        self.grid = Network(graph, capacity=1, random=self.random, layout=None)
        for cell in self.grid.all_cells:
            Worker(self, cell)

    def step(self) -> None:
        """One week."""
        self.agents.shuffle_do("step")
