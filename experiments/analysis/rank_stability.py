"""Rank stability: the share of draws (seeds) in which each strategy is the best on each metric.

With parameters drawn from the calibration posterior, one draw per seed, a ranking that holds in 95%
of draws can be acted on; one that holds in 55% is a coin toss, whatever the medians say. Rank
reversals within the posterior are the finding a strategy team most needs to hear.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd


def rank_stability(summary: pd.DataFrame, names: Sequence[str], metrics: Sequence[Any]) -> pd.DataFrame:
    """Share of seeds (posterior draws) in which each strategy is best on each metric; ties share the win.

    `metrics` are objects with `key`, `label` and `sign` (+1 higher is better, -1 lower is better); a
    metric with no better direction (sign 0, e.g. delivered cost) has no winner and is left out.
    `best_or_tied` is the share of draws in which the strategy is best or tied for best, and `all_tied`
    the share in which every strategy scores the same: a win split by ties is not a rank reversal.
    """
    rows = []
    for m in metrics:
        if m.key not in summary.columns or not m.sign:
            continue
        wide = summary.pivot(index="seed", columns="scenario", values=m.key)[list(names)]
        v = m.sign * wide.to_numpy(float)
        ok = np.isfinite(v).all(axis=1)
        v = v[ok]
        if v.shape[0] == 0:
            continue
        best = v == v.max(axis=1, keepdims=True)
        share = (best / best.sum(axis=1, keepdims=True)).mean(axis=0)
        tied = float(best.all(axis=1).mean())
        for name, sh, bt in zip(names, share, best.mean(axis=0), strict=True):
            rows.append({"metric": m.key, "label": m.label, "strategy": name, "win_share": float(sh),
                         "best_or_tied": float(bt), "all_tied": tied, "draws": int(v.shape[0])})
    return pd.DataFrame(rows)


def stability_lines(table: pd.DataFrame, source: str = "") -> list[str]:
    """Plain statements: per metric, the strategy that wins most often and how often; flags unstable rankings."""
    out = []
    if table.empty:
        return out
    n = int(table["draws"].max())
    head = f"Parameters drawn from the calibration posterior{f' ({source})' if source else ''}, one draw per seed " \
           f"({n} draws): share of draws in which each strategy is best."
    out.append(head)
    for _, g in table.groupby("metric", sort=False):
        g = g.sort_values("win_share", ascending=False)
        top = g.iloc[0]
        parts = ", ".join(f"{r.strategy} {r.win_share:.0%}" for r in g.itertuples())
        if "all_tied" in g and g["all_tied"].iloc[0] >= 0.9:
            out.append(f"{top['label']}: every strategy scores the same in {g['all_tied'].iloc[0]:.0%} of draws "
                       "(no ranking to reverse).")
            continue
        lead = g.sort_values(["best_or_tied", "win_share"], ascending=False).iloc[0] if "best_or_tied" in g else top
        level = lead.get("best_or_tied", lead["win_share"])
        verdict = "stable" if level >= 0.9 else "fairly stable" if level >= 0.7 else \
            "NOT stable: the ranking reverses within the posterior"
        if level > lead["win_share"] + 0.005:
            verdict += f"; {lead['strategy']} best or tied for best in {level:.0%} of draws, wins split by ties"
        out.append(f"{top['label']}: {parts} ({verdict}).")
    return out
