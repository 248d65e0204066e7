"""`culturedrift authority FILE --area NAME`: a scenario fitted to an authority's (or region's) workforce figures."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from culturedrift.experiments.commands._args import positive_int


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "authority", help="write a scenario fitted to an authority's, region's or England's DfE workforce figures",
        description="Read a DfE Children's social work workforce file in its published layout (one row per year "
        "and geography; suppressed values c, x, z, u, low, : are read as missing) or your own HR figures in the "
        "same columns, select an authority, region or England by name or code and a span of years, and write a "
        "scenario: size from the FTE figures, budget from the agency worker rate, demand from the caseload, and "
        "the labour-market pressure that reproduces the vacancy rate (fitted by simulation). The targets and the "
        "model's fit are written into the scenario (fitted_to).")
    p.add_argument("file", help="workforce CSV in the published column layout")
    p.add_argument("--area", help="authority, region or country: name or code (e.g. 'North East', E12000001)")
    p.add_argument("--years", help="a year or a span, e.g. 2023 or 2019-2023 (default: every year in the file)")
    p.add_argument("--list", action="store_true", help="list the geographies and years in the file and stop")
    p.add_argument("--base", default=None, help="scenario the levers are set on (default: the model defaults)")
    p.add_argument("--out", default=None, help="scenario file to write (default scenarios/<area>_<years>.yaml)")
    p.add_argument("--seeds", type=positive_int, default=4, help="paired seeds per fitting step (default 4)")
    p.add_argument("--max-teams", type=positive_int, default=30,
                   help="largest organisation modelled; bigger geographies keep their rates (default 30 teams)")
    p.add_argument("--no-fit", action="store_true", help="set size, budget and demand only; keep the pressure")
    p.add_argument("--workers", type=positive_int, default=os.cpu_count() or 1, help="local processes")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from culturedrift.experiments.execution.executor import local_map
    from culturedrift.experiments.workflows import authority as au
    from culturedrift.model import Scenario, load_scenario

    df = au.read_workforce(args.file)
    if args.list:
        names, _ = au._row_names(df)
        df = df.assign(_name=names)
        for name, g in df.groupby("_name", sort=True):
            level = au._geo_level(g.iloc[0])
            print(f"{name:<40} {level:<9} {', '.join(str(y) for y in sorted(g['year'].unique()))}")
        return 0
    if not args.area:
        raise au.WorkforceDataError("--area is required (or --list to see the geographies in the file)")
    sel = au.select(df, args.area, au.parse_years(args.years))
    base = load_scenario(args.base) if args.base else Scenario(name="authority")
    name = au.scenario_name(sel)
    print(f"{sel.name} ({sel.level}), {sel.years[0]}-{sel.years[1]}, from {sel.source}")
    for k, t in sel.targets.items():
        print(f"  target {k:<18} {t['value']:.4g} +/- {t['spread']:.2g}  ({t['years']} year(s))")
    for n in sel.notes:
        print(f"  note: {n}")
    top = au.max_reported_turnover(df)
    if top:
        print(f"  highest local-authority 12-month turnover in the file: {top[0]:.1%} ({top[1]})")

    with local_map(args.workers) as map_fn:
        return _fit_and_write(args, au, sel, base, name, map_fn)


def _fit_and_write(args: argparse.Namespace, au, sel, base, name: str, map_fn) -> int:
    """Fit the levers (unless --no-fit), write the scenario and print the fit."""
    if args.no_fit:
        sc = base.with_updates(au.base_updates(sel, base, args.max_teams))
        fit: dict = {"achieved": {}}
    else:
        print("Fitting the labour-market pressure to the vacancy rate and the demand to the caseload:")
        sc, fit = au.fit_levers(sel, base, seeds=args.seeds, max_teams=args.max_teams, map_fn=map_fn, progress=print)
    _, scale = au.organisation_size(sel, base.organisation.team_size, args.max_teams)
    record = {"source": str(sel.source), "area": sel.name, "level": sel.level, "years": list(sel.years),
              "scale": round(scale, 4), "targets": {k: {kk: round(vv, 5) for kk, vv in t.items()}
                                                    for k, t in sel.targets.items()},
              "achieved": {k: round(v, 5) for k, v in fit.get("achieved", {}).items()},
              "seeds": fit.get("seeds"), "notes": sel.notes}
    sc = sc.model_copy(update={"name": name, "fitted_to": record, "description":
                               f"{sel.name} ({sel.level}), DfE workforce {sel.years[0]}-{sel.years[1]}: "
                               f"baseline with its size, budget, demand and labour-market pressure"})
    out = Path(args.out or f"scenarios/{name}.yaml")
    au.write_scenario(out, sc, sel, fit)
    print(f"  levers: pressure {sc.turnover.labour_market_pressure}, teams {sc.organisation.n_teams} "
          f"(scale {scale:.3g} of the real posts), quarterly budget {sc.budget.quarterly_budget}k, demand "
          f"{sc.workload.demand_cases_per_post} cases per post")
    if fit.get("achieved"):
        print(f"  {'statistic':<18} {'target':>8} {'spread':>7} {'model':>8}  within spread")
        for k, t in sel.targets.items():
            got = fit["achieved"][k]
            print(f"  {k:<18} {t['value']:>8.4g} {t['spread']:>7.2g} {got:>8.4g}  "
                  f"{'yes' if fit['within_spread'][k] else 'NO'}")
    print(f"Wrote {out}")
    return 0
