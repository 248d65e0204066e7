"""Struct-of-arrays state: one slot per post, owned by the host (Mesa agents are handles on slots).

The host owns the organisation's layout (role, team, partner agency, established post) and occupancy
(filled, agency worker). Every other per-person array is declared by the mechanism that owns it
(`PersonState` in its `owns`) and added here when the host is built, so `state.<name>` is a plain
NumPy array whatever mechanism declared it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

FRONTLINE, MANAGER, PARTNER = 0, 1, 2
ROLE_NAMES = ("frontline", "manager", "partner")


@dataclass
class Staff:
    """All per-person state, indexed by slot. Vacant slots keep their post attributes."""

    role: np.ndarray  # int8: FRONTLINE / MANAGER / PARTNER
    team: np.ndarray  # int32: team index (partners: -1)
    partner_group: np.ndarray  # int32: partner agency index (staff: -1)
    is_post: np.ndarray  # bool: an established post (False for overflow slots opened by a caseload cap)
    filled: np.ndarray = field(init=False)  # someone holds the slot
    agency_worker: np.ndarray = field(init=False)  # holder is an agency worker (a locum paid through an agency)
    owner: dict[str, str] = field(init=False, default_factory=dict)  # declared array -> owning mechanism

    def __post_init__(self) -> None:
        n = self.role.size
        self.filled = np.zeros(n, bool)
        self.agency_worker = np.zeros(n, bool)
        self.owner = {}
        self.frontline = self.role == FRONTLINE
        self.manager = self.role == MANAGER
        self.partner = self.role == PARTNER
        self.staff = ~self.partner  # the organisation's own employees
        self.staff_post = self.staff & self.is_post

    @property
    def n(self) -> int:
        """Number of slots."""
        return int(self.role.size)

    def add(self, name: str, owner: str, array: np.ndarray) -> None:
        """Add a declared per-person array; a name has one owner."""
        if name in self.owner or hasattr(self, name):
            raise ValueError(f"per-person state '{name}' of {owner} is already declared"
                             f"{f' by {self.owner[name]}' if name in self.owner else ' by the host'}")
        self.owner[name] = owner
        setattr(self, name, array)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name == "owner":
            raise AttributeError(name)
        raise AttributeError(f"no per-person state '{name}' (declared: {', '.join(sorted(self.owner))})")
