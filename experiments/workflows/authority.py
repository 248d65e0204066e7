"""A real authority in the model: read the DfE workforce file, select a geography and years, fit the levers.

The DfE *Children's social work workforce* file has one row per reporting year and geography
(National, Regional, Local authority) and FTE counts and rates for staff in post, starters, leavers,
agency workers, vacancies, cases and absence. Suppressed or missing values are written `c`, `x`,
`z`, `u`, `low` or `:`. An organisation's own HR figures in the same columns are read the same way.

From the selected rows this module derives the targets the model is fitted to (turnover, vacancy,
agency worker rate, cases per case holder and, where the file holds several years, their spread),
the organisation's size, and a budget that pays for the agency cover the data show. The
labour-market pressure that reproduces the vacancy rate is then found by simulation
(`fit_pressure`), and `authority_scenario` writes it all as an ordinary scenario file.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from culturedrift.model import Scenario, ScenarioError

SUPPRESSED = ("c", "x", "z", "u", "low", ":", "")
NAME_COLUMNS = ("la_name", "region_name", "country_name")
CODE_COLUMNS = ("new_la_code", "old_la_code", "region_code", "country_code")
MEASURES = ("inpost_fte", "starters_fte", "leavers_fte", "turnover_rate_fte", "agency_fte", "agency_rate_fte",
            "agency_cover_fte", "agency_cover_rate_fte", "vacancy_fte", "vacancy_rate_fte", "case_holders_fte",
            "cases", "caseload_fte", "absence_rate_fte")
# each target statistic: the model output it is compared with, and how the file gives it
TARGET_LABELS = {
    "turnover_rate_12m": "Turnover (leavers / FTE in post)",
    "vacancy_rate": "Vacancy rate (vacancies / (vacancies + in post))",
    "agency_worker_share": "Agency worker rate (agency / (agency + in post))",
    "caseload_mean": "Cases per case holder",
}
# the spread the data allow around a target when the file holds one year only: about the SD of the
# national annual figure over 2013-2023 (turnover 13.5-17.1%, vacancy 14-20%, agency 12-17.8%,
# caseload 16-18; range / 3.5), i.e. how much a year's figure moves without anything changing
DEFAULT_SPREAD = {"turnover_rate_12m": 0.01, "vacancy_rate": 0.02, "agency_worker_share": 0.02, "caseload_mean": 0.75}


class WorkforceDataError(ScenarioError):
    """A workforce file that cannot be used, with the file, the column or row and the reason."""


def _number(v: Any) -> float:
    """One published cell as a float; suppressed or missing markers become NaN."""
    if v is None:
        return math.nan
    if isinstance(v, int | float | np.integer | np.floating):
        return float(v)
    s = str(v).strip().replace(",", "")
    if s.lower() in SUPPRESSED:
        return math.nan
    return float(s)


def read_workforce(path: str | Path) -> pd.DataFrame:
    """Read a workforce file in the published layout; measures as floats (suppressed -> NaN).

    Lines starting with `#` are comments (illustrative files say so there). Errors name the file
    and the column or row at fault.
    """
    path = Path(path)
    if not path.is_file():
        raise WorkforceDataError(f"{path}: file not found")
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, comment="#", skipinitialspace=True)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as e:
        raise WorkforceDataError(f"{path}: not a readable CSV file: {e}") from None
    df.columns = [c.strip().lower() for c in df.columns]
    if "time_period" not in df.columns:
        raise WorkforceDataError(f"{path}: missing column 'time_period' (the published layout has one row per "
                                 f"year and geography; columns found: {', '.join(df.columns[:12])})")
    if not any(c in df.columns for c in (*NAME_COLUMNS, *CODE_COLUMNS)):
        raise WorkforceDataError(f"{path}: no geography column: need one of {', '.join(NAME_COLUMNS + CODE_COLUMNS)}")
    if "inpost_fte" not in df.columns:
        raise WorkforceDataError(f"{path}: missing column 'inpost_fte' (FTE social workers in post)")
    for need, alt in (("turnover_rate_fte", "leavers_fte"), ("vacancy_rate_fte", "vacancy_fte"),
                      ("agency_rate_fte", "agency_fte")):
        if need not in df.columns and alt not in df.columns:
            raise WorkforceDataError(f"{path}: missing column '{need}' (or '{alt}' to derive it)")
    if df.empty:
        raise WorkforceDataError(f"{path}: no data rows")
    for c in MEASURES:
        if c not in df.columns:
            df[c] = math.nan
            continue
        vals = []
        for i, v in enumerate(df[c]):
            try:
                vals.append(_number(v))
            except ValueError:
                markers = ", ".join(repr(s) for s in SUPPRESSED if s)
                raise WorkforceDataError(f"{path}: row {i + 2}, column '{c}': {v!r} is neither a number nor a "
                                         f"suppression marker ({markers})") from None
        df[c] = np.asarray(vals, float)
    years = []
    for i, v in enumerate(df["time_period"]):
        m = re.fullmatch(r"\s*(\d{4})(\d{2})?\s*", str(v))
        if not m:
            raise WorkforceDataError(f"{path}: row {i + 2}, column 'time_period': {v!r} is not a year (e.g. 2023 "
                                     "or 202223)")
        years.append(int(m.group(1)) + 1 if m.group(2) else int(m.group(1)))
    df["year"] = years
    for c in (*NAME_COLUMNS, *CODE_COLUMNS, "geographic_level"):
        if c not in df.columns:
            df[c] = ""
    df.attrs["path"] = str(path)
    return df


def parse_years(text: str | None) -> tuple[int, int] | None:
    """'2023' -> (2023, 2023); '2019-2023' -> (2019, 2023); None -> every year in the file."""
    if text is None:
        return None
    m = re.fullmatch(r"\s*(\d{4})\s*(?:[-:]\s*(\d{4})\s*)?", str(text))
    if not m:
        raise WorkforceDataError(f"--years: expected a year or a span like 2019-2023, got {text!r}")
    a, b = int(m.group(1)), int(m.group(2) or m.group(1))
    if b < a:
        raise WorkforceDataError(f"--years: the span {text!r} ends before it starts")
    return a, b


def _geo_level(row: pd.Series) -> str:
    level = str(row.get("geographic_level", "")).strip().lower()
    if level.startswith("local") or (not level and str(row["la_name"]).strip()):
        return "la"
    if level.startswith("region"):
        return "region"
    if level.startswith("national") or level.startswith("country"):
        return "national"
    return "la" if str(row["la_name"]).strip() else "region" if str(row["region_name"]).strip() else "national"


def _row_names(df: pd.DataFrame) -> tuple[list[str], list[set[str]]]:
    """Each row's display name and the set of lower-case names and codes that select it."""
    names, keys = [], []
    for _, r in df.iterrows():
        level = _geo_level(r)
        col = {"la": ("la_name", "new_la_code", "old_la_code"), "region": ("region_name", "region_code"),
               "national": ("country_name", "country_code")}[level]
        vals = [str(r[c]).strip() for c in col if str(r[c]).strip()]
        names.append(vals[0] if vals else "(unnamed)")
        keys.append({v.lower() for v in vals})
    return names, keys


@dataclass
class Selection:
    """The rows of one geography over a span of years, with the targets derived from them."""

    name: str
    level: str
    years: tuple[int, int]
    rows: pd.DataFrame
    targets: dict[str, dict[str, float]] = field(default_factory=dict)
    source: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def establishment_fte(self) -> float:
        """Posts: FTE in post plus vacancies (mean over the years)."""
        inpost = float(np.nanmean(self.rows["inpost_fte"]))
        vac = self.targets["vacancy_rate"]["value"]
        return inpost / max(1.0 - vac, 1e-9)


def select(df: pd.DataFrame, area: str, years: tuple[int, int] | None = None) -> Selection:
    """The rows of `area` (a name or code of an authority, region or England) in the span `years`."""
    path = df.attrs.get("path", "<data>")
    names, keys = _row_names(df)
    want = area.strip().lower()
    hit = np.array([want in k for k in keys])
    if not hit.any():
        known = sorted(set(names))
        close = [n for n in known if want in n.lower()]
        hint = f"; did you mean {', '.join(close[:5])}?" if close else f"; the file holds {len(known)} geographies, " \
            f"e.g. {', '.join(known[:6])}"
        raise WorkforceDataError(f"{path}: no authority, region or country named or coded {area!r}{hint}")
    rows = df[hit].copy()
    levels = {_geo_level(r) for _, r in rows.iterrows()}
    if len(levels) > 1:
        raise WorkforceDataError(f"{path}: {area!r} names rows at more than one geographic level ({sorted(levels)}); "
                                 "use its code")
    name = names[int(np.flatnonzero(hit)[0])]
    avail = sorted(rows["year"].unique())
    if years is not None:
        rows = rows[(rows["year"] >= years[0]) & (rows["year"] <= years[1])]
        if rows.empty:
            raise WorkforceDataError(f"{path}: {name} has no rows in {years[0]}-{years[1]} (years in the file: "
                                     f"{', '.join(map(str, avail))})")
    if rows["year"].duplicated().any():
        dup = sorted(rows.loc[rows["year"].duplicated(), "year"].unique())
        raise WorkforceDataError(f"{path}: {name} has more than one row for year(s) {dup}")
    span = (int(rows["year"].min()), int(rows["year"].max()))
    sel = Selection(name=name, level=levels.pop(), years=span, rows=rows.sort_values("year"), source=path)
    sel.targets = derive_targets(sel)
    return sel


def _rate(rows: pd.DataFrame, rate_col: str, num: str, den: tuple[str, ...], percent: bool = True) -> np.ndarray:
    """A yearly rate: the published rate where given, else recomputed from its counts (NaN if neither)."""
    given = rows[rate_col].to_numpy(float) / (100.0 if percent else 1.0)
    n = rows[num].to_numpy(float)
    d = sum(rows[c].to_numpy(float) for c in den)
    with np.errstate(invalid="ignore", divide="ignore"):
        derived = np.where(d > 0, n / d, np.nan)
    return np.where(np.isfinite(given), given, derived)


def derive_targets(sel: Selection) -> dict[str, dict[str, float]]:
    """Target value and spread of each statistic over the selected years; suppressed years are skipped."""
    r = sel.rows
    series = {
        "turnover_rate_12m": _rate(r, "turnover_rate_fte", "leavers_fte", ("inpost_fte",)),
        "vacancy_rate": _rate(r, "vacancy_rate_fte", "vacancy_fte", ("vacancy_fte", "inpost_fte")),
        "agency_worker_share": _rate(r, "agency_rate_fte", "agency_fte", ("agency_fte", "inpost_fte")),
        "caseload_mean": _rate(r, "caseload_fte", "cases", ("case_holders_fte",), percent=False),
    }
    out: dict[str, dict[str, float]] = {}
    for k, v in series.items():
        ok = v[np.isfinite(v)]
        if ok.size == 0:
            if k == "caseload_mean":
                sel.notes.append("caseload suppressed or missing in every selected year: the model's default "
                                 "demand is kept")
                continue
            raise WorkforceDataError(f"{sel.source}: {sel.name}: {TARGET_LABELS[k].split(' (')[0].lower()} is "
                                     f"suppressed or missing in every selected year ({sel.years[0]}-{sel.years[1]})")
        if ok.size < v.size:
            sel.notes.append(f"{k}: {v.size - ok.size} of {v.size} years suppressed or missing, left out")
        spread = float(ok.std(ddof=1)) if ok.size >= 3 else 0.0
        spread = max(spread, DEFAULT_SPREAD[k])
        out[k] = {"value": float(ok.mean()), "spread": spread, "years": int(ok.size)}
    if not np.isfinite(r["inpost_fte"].to_numpy(float)).any():
        raise WorkforceDataError(f"{sel.source}: {sel.name}: FTE in post is suppressed or missing in every "
                                 "selected year; the organisation's size cannot be set")
    return out


def max_reported_turnover(df: pd.DataFrame) -> tuple[float, str] | None:
    """The highest 12-month FTE turnover of any local authority in the file (for the no-runaway ceiling)."""
    la = df[[(_geo_level(r) == "la") for _, r in df.iterrows()]]
    if la.empty:
        return None
    t = _rate(la, "turnover_rate_fte", "leavers_fte", ("inpost_fte",))
    if not np.isfinite(t).any():
        return None
    i = int(np.nanargmax(t))
    return float(t[i]), f"{la['la_name'].iloc[i]} {la['year'].iloc[i]}"


# --- from targets to a scenario ---

def organisation_size(sel: Selection, team_size: int = 10, max_teams: int = 30) -> tuple[int, float]:
    """Teams for the selected geography's posts (capped at max_teams: a region or England is modelled as an
    authority-sized organisation with the same rates) and the scale factor (model posts / real posts)."""
    posts = sel.establishment_fte
    n = int(np.clip(round(posts / (team_size + 1)), 2, max_teams))
    return n, n * (team_size + 1) / posts


def budget_for(n_posts: int, agency_worker_share: float, defaults: Scenario) -> float:
    """A quarterly budget that pays the agency premium at the observed agency worker rate, plus the default
    scenario's room for a programme per post (so the budget, not the data, never caps the cover it shows)."""
    b = defaults.budget
    default_posts = defaults.organisation.n_teams * (defaults.organisation.team_size + 1)
    default_agency = 0.15  # the default budget's stated basis: ~15% agency cover (BudgetParams)
    agency_cost = 13 * b.agency_worker_premium_per_week * default_agency * default_posts
    room_per_post = (b.quarterly_budget - agency_cost) / default_posts
    agency_workers = agency_worker_share * n_posts
    return float(round(13 * b.agency_worker_premium_per_week * agency_workers + max(room_per_post, 0.0) * n_posts, 1))


def scenario_name(sel: Selection) -> str:
    """A file-safe scenario name for the selection."""
    base = re.sub(r"[^a-z0-9]+", "_", sel.name.lower()).strip("_") or "authority"
    y = str(sel.years[0]) if sel.years[0] == sel.years[1] else f"{sel.years[0]}_{sel.years[1]}"
    return f"{base}_{y}"


def base_updates(sel: Selection, defaults: Scenario, max_teams: int = 30) -> dict[str, Any]:
    """Size, demand and budget levers set directly from the figures (pressure is fitted separately)."""
    t = sel.targets
    team_size = defaults.organisation.team_size
    n_teams, _ = organisation_size(sel, team_size, max_teams)
    up: dict[str, Any] = {"organisation.n_teams": n_teams}
    # start from the authority's own state (vacancy and agency cover), so a run does not spend its first
    # years drifting from the national starting point to the authority's level
    v, a = t["vacancy_rate"]["value"], t["agency_worker_share"]["value"]
    up["turnover.initial_vacancy"] = float(round(v, 4))
    cover = a * (1 - v) / max(v * (1 - a), 1e-9)  # agency workers per vacant post that reproduce the agency rate
    up["turnover.initial_agency_worker_cover"] = float(round(min(max(cover, 0.0), 1.0), 4))
    up["budget.quarterly_budget"] = budget_for(n_teams * (team_size + 1), t["agency_worker_share"]["value"], defaults)
    if "caseload_mean" in t:
        # cases per post scale with cases per case holder at the same vacancy rate (corrected in the fit)
        up["workload.demand_cases_per_post"] = float(defaults.workload.demand_cases_per_post
                                                     * t["caseload_mean"]["value"] / 16.5)
    return up


def write_scenario(path: str | Path, sc: Scenario, sel: Selection, fit: dict[str, Any]) -> Path:
    """The scenario as YAML (only what differs from the defaults) with the targets it was fitted to."""
    defaults = Scenario(name=sc.name).model_dump(mode="json")
    data = sc.model_dump(mode="json")
    diff: dict[str, Any] = {"name": sc.name, "description": sc.description}
    for k, v in data.items():
        if k in ("name", "description"):
            continue
        if isinstance(v, dict) and isinstance(defaults.get(k), dict):
            sub = {kk: vv for kk, vv in v.items() if defaults[k].get(kk) != vv}
            if sub:
                diff[k] = sub
        elif v != defaults.get(k):
            diff[k] = v
    if "fitted_to" in Scenario.model_fields:
        diff["fitted_to"] = data["fitted_to"]
    header = [f"# {sel.name}, DfE Children's social work workforce {_span(sel)} ({sel.level})",
              f"# written by `culturedrift authority` from {sel.source}",
              "# targets (value +/- the data's spread) and the model's fit:"]
    for k, t in sel.targets.items():
        got = fit.get("achieved", {}).get(k)
        header.append(f"#   {k}: {t['value']:.4g} +/- {t['spread']:.2g}" + (f"; model {got:.4g}" if got is not None
                                                                            else ""))
    header += [f"#   note: {n}" for n in sel.notes]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".part")
    tmp.write_text("\n".join(header) + "\n" + yaml.safe_dump(diff, sort_keys=False, width=110))
    tmp.replace(path)
    return path


# --- fitting the levers by simulation ---

def _lever_stats(sc: Scenario, seed: int, from_week: int) -> dict[str, float]:
    """Mean turnover, vacancy, agency worker rate and caseload of one run over weeks from_week..horizon."""
    from culturedrift.model import simulate

    ts = simulate(sc, seed).timeseries
    ts = ts[ts["week"] >= from_week]
    return {k: float(ts[k].mean()) for k in TARGET_LABELS}


def _mean_stats(sc: Scenario, seeds: int, from_week: int, map_fn: Any) -> dict[str, float]:
    rows = map_fn(_lever_stats, [(sc, 7000 + s, from_week) for s in range(seeds)])
    return {k: float(np.mean([r[k] for r in rows])) for k in TARGET_LABELS}


def fit_levers(sel: Selection, base: Scenario, *, seeds: int = 4, horizon: int = 156, from_week: int = 26,
               iterations: int = 6, max_teams: int = 30, map_fn: Any = None,
               progress: Any = None) -> tuple[Scenario, dict[str, Any]]:
    """Size, budget and demand from the figures; the labour-market pressure that reproduces the vacancy rate
    and the demand that reproduces the caseload, found by simulation (secant steps on log pressure over
    `seeds` paired seeds; demand by proportional correction). Returns the scenario and the fit record."""
    map_fn = map_fn or (lambda fn, tasks: [fn(*t) for t in tasks])
    t = sel.targets
    up = base_updates(sel, base, max_teams=max_teams)
    sc = base.with_updates({**up, "horizon_weeks": horizon})
    vac = t["vacancy_rate"]["value"]
    history: list[tuple[float, float]] = []  # (log pressure, vacancy error)
    logp = math.log(base.turnover.labour_market_pressure)
    lo_b, hi_b = math.log(0.2), math.log(5.0)
    stats: dict[str, float] = {}
    for it in range(iterations):
        trial = sc.with_updates({"turnover.labour_market_pressure": float(math.exp(logp))})
        stats = _mean_stats(trial, seeds, from_week, map_fn)
        err = stats["vacancy_rate"] - vac
        history.append((logp, err))
        if progress:
            progress(f"  step {it + 1}: pressure {math.exp(logp):.3f} -> vacancy {stats['vacancy_rate']:.3f} "
                     f"(target {vac:.3f}), turnover {stats['turnover_rate_12m']:.3f}, agency "
                     f"{stats['agency_worker_share']:.3f}, caseload {stats['caseload_mean']:.2f}")
        if "caseload_mean" in t:
            d = sc.workload.demand_cases_per_post * t["caseload_mean"]["value"] / max(stats["caseload_mean"], 1e-9)
            sc = sc.with_updates({"workload.demand_cases_per_post": float(np.clip(d, 1.0, 100.0))})
        sc = sc.with_updates({"turnover.labour_market_pressure": float(math.exp(logp))})
        if abs(err) < 0.25 * t["vacancy_rate"]["spread"] and it >= 1:
            break
        # bracket the root where possible, else step along the secant of the last two points
        neg = [h for h in history if h[1] < 0]
        pos = [h for h in history if h[1] > 0]
        if neg and pos:
            a, b = max(neg, key=lambda h: h[1]), min(pos, key=lambda h: h[1])
            new = a[0] - a[1] * (b[0] - a[0]) / (b[1] - a[1])
        elif len(history) >= 2 and history[-1][1] != history[-2][1]:
            (x0, e0), (x1, e1) = history[-2], history[-1]
            new = x1 - e1 * (x1 - x0) / (e1 - e0)
            new = float(np.clip(new, x1 - 0.7, x1 + 0.7))
        else:
            new = logp - (0.5 if err > 0 else -0.5)
        logp = float(np.clip(new, lo_b, hi_b))
    best = min(history, key=lambda h: abs(h[1]))
    sc = sc.with_updates({"turnover.labour_market_pressure": float(round(math.exp(best[0]), 3)),
                          "workload.demand_cases_per_post": float(round(sc.workload.demand_cases_per_post, 2)),
                          "horizon_weeks": base.horizon_weeks})
    final = _mean_stats(sc.with_updates({"horizon_weeks": horizon}), seeds, from_week, map_fn)
    fit = {"achieved": final, "seeds": seeds, "horizon_weeks": horizon, "from_week": from_week,
           "steps": len(history),
           "within_spread": {k: bool(abs(final[k] - v["value"]) <= v["spread"]) for k, v in t.items()}}
    return sc, fit


def _span(sel: Selection) -> str:
    """'2023' or '2019-2023'."""
    return str(sel.years[0]) if sel.years[0] == sel.years[1] else f"{sel.years[0]}-{sel.years[1]}"
