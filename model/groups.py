"""Who a change or an intervention reaches: one definition of the groups, used by both.

A group is a set of slots (posts); an intervention reaches those of its group who are in post, a
change loads every post of its group (whoever holds it now or later).
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from culturedrift.model.state import Staff

Group = Literal["all", "staff", "frontline", "managers", "partners", "new_hires", "agency_workers"]


def group_slots(state: Staff, group: str, new_hire_weeks: float) -> np.ndarray:
    """Mask over slots of `group`: all, staff (frontline and managers), frontline, managers, partners,
    new_hires (staff within their first `new_hire_weeks` in post) or agency_workers."""
    s = state
    if group == "all":
        return np.ones(s.n, bool)
    if group == "new_hires":
        return s.staff & (s.tenure < new_hire_weeks)
    return getattr(s, _MASK[group])


# the groups that are one of the state's own masks (no array is made for them)
_MASK = {"staff": "staff", "frontline": "frontline", "managers": "manager", "partners": "partner",
         "agency_workers": "agency_worker"}

# each group's code in the compiled kernels (its bit in kernels.group_bits)
GROUP_CODES = {"all": 0, "staff": 1, "frontline": 2, "managers": 3, "partners": 4, "new_hires": 5, "agency_workers": 6}
