"""What is observed each week (the timeseries) and the per-run summary; computed from the arrays."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from culturedrift.model.model import CultureDriftModel

COLUMNS = (
    "morale_mean", "morale_p10", "morale_p90", "compliance_mean", "compliance_high_share", "manager_control",
    "turnover_intention", "turnover_rate_12m", "vacancy_rate", "agency_share", "headcount", "leavers", "joiners",
    "caseload_mean", "workload_mean", "time_with_children", "service_standard", "backlog", "fragmentation",
    "fragmentation_team", "fragmentation_interagency", "change_load", "pace", "prescription",
    "cost_week", "agency_cost_week", "intervention_cost_week", "cost_cumulative", "overspend", "shortfall",
)
HIGH_COMPLIANCE = 0.6  # habit above which a person is counted as working in the compliance culture
SUMMARY_COLUMNS = ("morale_trough", "morale_trough_week", "peak_turnover_12m", "mean_turnover_12m",
                   "peak_vacancy", "peak_fragmentation", "culture_attainment", "slippage", "total_cost",
                   "overspend_total")


def _quantiles(x: np.ndarray, *qs: float) -> tuple[float, ...]:
    """Linear-interpolation quantiles (numpy's default method) without np.quantile's overhead."""
    if x.size == 0:
        return tuple(np.nan for _ in qs)
    v = np.sort(x)
    out = []
    for q in qs:
        pos = q * (v.size - 1)
        lo = int(pos)
        hi = min(lo + 1, v.size - 1)
        out.append(float(v[lo] + (v[hi] - v[lo]) * (pos - lo)))
    return tuple(out)


class Recorder:
    """Preallocated weekly record (no per-agent work): one row per week 0..horizon."""

    def __init__(self, model: CultureDriftModel, weeks: int) -> None:
        self.model = model
        self.data = np.full((weeks + 1, len(COLUMNS)), np.nan)
        self.col = {c: i for i, c in enumerate(COLUMNS)}
        self.leavers_ring = np.zeros(52)
        self.filled_ring = np.zeros(52)
        self.cost = 0.0
        self.overspend = 0.0
        self.shortfall = 0.0

    def tick(self) -> None:
        """Update the 12-month windows (called every week, burn-in included)."""
        m, s = self.model, self.model.state
        k = m.week % 52
        self.leavers_ring[k] = m.turnover.leavers_permanent
        self.filled_ring[k] = np.count_nonzero(s.staff_post & s.filled & ~s.agency)

    def record(self, row: int) -> None:
        """Write week `row`."""
        m, s = self.model, self.model.state
        lead, wl = m.leadership, m.workload
        if row > 0:
            self.cost += lead.spend
            self.overspend += lead.overspend
            self.shortfall += lead.shortfall
        staff = s.staff & s.filled
        n_staff = max(int(np.count_nonzero(staff)), 1)
        mor = s.morale[staff]
        comp = s.compliance[staff]
        holders = s.frontline & s.filled
        n_hold = max(int(np.count_nonzero(holders)), 1)
        posts = s.staff_post
        n_posts = max(int(np.count_nonzero(posts)), 1)
        perm = int(np.count_nonzero(posts & s.filled & ~s.agency))
        agency = int(np.count_nonzero(s.staff & s.agency))
        p10, p90 = _quantiles(mor, 0.1, 0.9)
        mgr = s.manager & s.filled
        frag = m.relationships.fragmentation
        vals = (
            mor.mean(), p10, p90, comp.mean(), np.count_nonzero(comp > HIGH_COMPLIANCE) / n_staff,
            m.slippage.manager_control[mgr].mean() if mgr.any() else np.nan,
            s.intention[staff].mean(),
            self.leavers_ring.sum() / max(self.filled_ring.mean(), 1.0),
            (n_posts - perm) / n_posts, agency / max(agency + perm, 1), n_staff,
            m.turnover.leavers, m.turnover.joiners,
            wl.team_cases.sum() / n_hold, s.workload[holders].mean() if holders.any() else np.nan,
            s.direct_time[holders].mean() if holders.any() else np.nan,
            wl.service_standard, wl.backlog, frag[2], frag[0], frag[1],
            s.change_load[staff].mean(), m.change_programme.pace, m.slippage.prescription,
            lead.spend if row > 0 else 0.0, lead.agency_spend if row > 0 else 0.0,
            lead.intervention_spend if row > 0 else 0.0, self.cost, self.overspend, self.shortfall,
        )
        self.data[row] = vals

    def frame(self, upto: int | None = None) -> pd.DataFrame:
        """The weekly record of weeks 0..upto (default: all) as a DataFrame."""
        rows = self.data if upto is None else self.data[: upto + 1]
        df = pd.DataFrame(rows, columns=list(COLUMNS))
        df.insert(0, "week", np.arange(len(df)))
        for c in ("headcount", "leavers", "joiners", "pace"):
            df[c] = df[c].astype("int64")
        return df


def summarise(ts: pd.DataFrame, handover: int) -> dict[str, float]:
    """Per-run summary: transition risks, culture attainment and slippage, cost."""
    h = int(min(handover, ts["week"].iloc[-1]))
    trough = int(ts["morale_mean"].idxmin())
    c = ts["compliance_mean"].to_numpy()
    return {
        "morale_trough": float(ts["morale_mean"].iloc[trough]),
        "morale_trough_week": int(ts["week"].iloc[trough]),
        "peak_turnover_12m": float(ts["turnover_rate_12m"].max()),
        "mean_turnover_12m": float(ts["turnover_rate_12m"].mean()),
        "peak_vacancy": float(ts["vacancy_rate"].max()),
        "peak_fragmentation": float(ts["fragmentation"].max()),
        "culture_attainment": float(c[0] - c[h]),
        "slippage": float(c[-1] - c[h]),
        "total_cost": float(ts["cost_cumulative"].iloc[-1]),
        "overspend_total": float(ts["overspend"].iloc[-1]),
    }
