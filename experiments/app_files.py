"""What the trainer takes away from the page: the runs' data (CSV), the figure (PNG/SVG), the settings
(scenario YAML) and a one-page debrief of the actions taken and their effects."""

from __future__ import annotations

import io
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import jinja2
import pandas as pd

from culturedrift.experiments import viz
from culturedrift.experiments.analysis.decision import display_title
from culturedrift.experiments.app_model import WorkshopModel, build_run
from culturedrift.experiments.workshop import ACTIONS, GLOSSARY, Settings, played_scenario, scenario_yaml
from culturedrift.model.outputs import SERIES

# the series the debrief reports (labels from the output catalogue), and how each is printed
EFFECTS = (("morale_mean", "{:.3f}"), ("turnover_rate_12m", "{:.1%}"), ("vacancy_rate", "{:.1%}"),
           ("agency_worker_share", "{:.1%}"), ("compliance_habit_mean", "{:.3f}"), ("prescription", "{:.3f}"),
           ("fragmentation", "{:.1%}"))


def _effects() -> list[tuple[str, str, str]]:
    """(column, label, format) of each reported series."""
    return [(c, SERIES[c].label if c in SERIES else c, fmt) for c, fmt in EFFECTS if c in SERIES]


def run_names(model: WorkshopModel) -> list[str]:
    """How each run is called in files and on the page."""
    return ["this run"] if model.twin is None else ["this run", f"twin: {model.twin.text()}"]


def timeseries_csv(model: WorkshopModel) -> bytes:
    """Every recorded week of every run so far, one row per run and week; the actions in a column."""
    with model.lock:
        frames = [r.timeseries().assign(run=name) for r, name in zip(model.runs, run_names(model), strict=True)]
    df = pd.concat(frames, ignore_index=True)
    acts: dict[int, list[str]] = {}
    for a in model.settings.log():
        acts.setdefault(a.week, []).append(a.kind)
    df["actions_this_week"] = df["week"].map(lambda w: ";".join(acts.get(int(w), [])))
    df = df[["run", "week", *[c for c in df.columns if c not in ("run", "week")]]]
    return df.to_csv(index=False).encode()


def markers(model: WorkshopModel) -> list[tuple[int, str]]:
    """(week, label) of each action, for the series panels."""
    return [(a.week, ACTIONS[a.kind].marker) for a in model.settings.log()]


# Matplotlib work runs on this one thread: the page server scopes matplotlib's settings to each browser session
# and every settings lookup on a session's thread then searches for the session, which made drawing a figure
# three to four times slower; a pool's worker belongs to no session (the app never changes settings per session).
_DRAWING = ThreadPoolExecutor(max_workers=1, thread_name_prefix="culturedrift-drawing")


def drawn[T](draw: Callable[[], T]) -> T:
    """The result of `draw()` (matplotlib work), run on the drawing thread."""
    return _DRAWING.submit(draw).result()


def figure_bytes(model: WorkshopModel, fmt: str = "png") -> bytes:
    """The series so far as a stand-alone figure (PNG at 150 dpi, or SVG)."""
    return drawn(lambda: _figure_bytes(model, fmt))


def _figure_bytes(model: WorkshopModel, fmt: str) -> bytes:
    with model.lock:
        twin = model.runs[1] if len(model.runs) > 1 else None
        fig, _ = viz.series_figure(model.main, size=(8.0, 10.0), panels=viz.APP_PANELS, twin=twin,
                                   twin_label=run_names(model)[-1].removeprefix("twin: "),
                                   twin_week=model.twin.week if model.twin else None,
                                   markers=lambda: markers(model))
        title = display_title(played_scenario(model.settings, model.adjusted()))
        fig.suptitle(f"{title}, seed {model.settings.seed}: weeks 0-{model.week}", fontsize=11)
        buf = io.BytesIO()
        fig.savefig(buf, format=fmt, dpi=150)
    return buf.getvalue()


def settings_yaml(model: WorkshopModel, which: int = 0) -> bytes:
    """The settings and action log of run `which` (0 = this run, 1 = the twin) as a scenario file."""
    note = "" if which == 0 else f"The twin: the same run with {model.twin.text()}."
    lever = model.twin.action() if which else None
    return scenario_yaml(model.plan[which], note=note, adjusted=model.adjusted(), lever=lever).encode()


def change_text(diff: float, fmt: str) -> str:
    """A signed change in the series' own units: shares in percentage points, indices (0-1) as numbers."""
    if abs(diff) < 1e-9:
        return "0"
    text = f"{100 * diff:+.1f} pts" if fmt.endswith("%}") else f"{diff:+.3f}"
    return "≈0" if not text.strip("+-0. pts") else text  # a change too small to print is not "-0.000"


def action_effects(settings: Settings, week: int) -> list[dict[str, Any]]:
    """Each action's effect by `week`: this run minus the same run without that action, per reported series
    (same seed, so the same luck: the difference is the action)."""
    full = build_run(settings, week).timeseries().iloc[-1]
    rows = []
    for k, a in enumerate(settings.actions):
        without = Settings(settings.base, settings.seed, settings.actions[:k] + settings.actions[k + 1:],
                           settings.loaded)
        try:
            other = build_run(without, week).timeseries().iloc[-1]
        except ValueError:  # a later action needed this one (e.g. restoring what it withdrew)
            rows.append({"week": a.week, "action": a.label, "changes": None})
            continue
        rows.append({"week": a.week, "action": a.label,
                     "changes": [change_text(full[c] - other[c], fmt) for c, _, fmt in _effects()]})
    return rows


PAGE = jinja2.Environment(autoescape=True).from_string("""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>culturedrift workshop debrief: {{ title }}</title>
<style>body{font-family:sans-serif;max-width:60em;margin:1.5em auto;font-size:14px;line-height:1.35}
table{border-collapse:collapse;width:100%}td,th{border:1px solid #bbb;padding:3px 6px;text-align:left;
vertical-align:top}th{background:#eee}td.n{text-align:right;white-space:nowrap}h1{font-size:1.4em}
h2{font-size:1.1em;margin-top:1.2em}small{color:#555}</style></head><body>
<h1>Workshop debrief: {{ title }}</h1>
<p>{{ description }}<br><small>Scenario {{ name }}, seed {{ seed }}; weeks 0-{{ week }} of {{ horizon }};
made {{ made }}.</small></p>
<h2>Where the run stands at week {{ week }}</h2>
<table><tr><th></th>{% for n in runs %}<th>{{ n }}</th>{% endfor %}{% if gap %}<th>twin minus this run</th>
{% endif %}</tr>
{% for label, vals in now %}<tr><td>{{ label }}</td>{% for v in vals %}<td class="n">{{ v }}</td>{% endfor %}
</tr>{% endfor %}
</table>
{% if twin %}<p><b>Twin run:</b> {{ twin }}. Both runs share the seed and every action, so the gap between them
is that lever's effect.</p>{% endif %}
<h2>Actions taken and what each changed by week {{ week }}</h2>
{% if effects %}<p><small>Each cell: this run minus the same run without that action (same seed, so the same
luck). Shares in percentage points (pts); morale, compliance habit and prescription on their 0-1 scales;
≈0: a change smaller than the last digit shown.</small></p>
<table><tr><th>week</th><th>action</th>{% for label in labels %}<th>{{ label }}</th>{% endfor %}</tr>
{% for r in effects %}<tr><td class="n">{{ r.week }}</td><td>{{ r.action }}</td>
{% if r.changes %}{% for c in r.changes %}<td class="n">{{ c }}</td>{% endfor %}
{% else %}<td colspan="{{ labels|length }}">not separable from later actions</td>{% endif %}</tr>{% endfor %}
</table>{% else %}<p>No actions were taken during the run.</p>{% endif %}
{% if loaded %}<p>Actions already in the loaded scenario: {{ loaded }}.</p>{% endif %}
<h2>Words used</h2><table>{% for k, v in glossary %}<tr><td>{{ k }}</td><td>{{ v }}</td></tr>{% endfor %}</table>
<p><small>Re-run it: save the settings (scenario YAML) from the page and run
<code>culturedrift run FILE --seeds {{ seed + 1 }}</code> (seed {{ seed }} is this run).</small></p>
</body></html>""")


def debrief_html(model: WorkshopModel) -> bytes:
    """One page: the runs at the current week, each action with its effect, the twin's lever, the glossary."""
    with model.lock:
        week, settings = model.week, model.settings
        now_rows = [r.timeseries().iloc[-1] for r in model.runs]
    twin = len(now_rows) > 1
    now = [(label, [fmt.format(row[c]) for row in now_rows]
            + ([change_text(now_rows[1][c] - now_rows[0][c], fmt)] if twin else []))
           for c, label, fmt in _effects()]
    sc = played_scenario(settings, model.adjusted())
    html = PAGE.render(title=display_title(sc), name=sc.name, description=sc.description, seed=settings.seed,
                       week=week, horizon=model.horizon, made=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
                       runs=run_names(model), now=now, gap=twin, effects=action_effects(settings, week),
                       labels=[label for _, label, _ in _effects()],
                       loaded="; ".join(a.text() for a in settings.loaded),
                       twin=model.twin.text() if model.twin else "", glossary=list(GLOSSARY.items()))
    return html.encode()
