"""Drawing shared by the trainer's app and the slippage animation: network layout, network view, series panels.

Everything here reads a running `CultureDriftModel` and draws with matplotlib's object API (no
pyplot state), so the same code serves the browser app (one figure per view, re-rendered each
week) and the exported animation (both views side by side in one figure). The views create
their artists once and only update data, colours and offsets each week; node positions are
computed once per organisation and recomputed only when a restructure moves posts between teams.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

import matplotlib

matplotlib.use("Agg")
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import PathPatch
from matplotlib.path import Path
from PIL import Image

from culturedrift.model import observables
from culturedrift.model.model import CultureDriftModel
from culturedrift.model.observables import AlarmRule
from culturedrift.model.organisation import CROSS_TEAM, INTER_AGENCY, INTRA_TEAM
from culturedrift.model.outputs import OutputParams
from culturedrift.model.state import FRONTLINE, MANAGER, PARTNER

HIGH_HABIT = OutputParams().high_compliance_habit  # the catalogue's threshold (a scenario may change it)

CMAP = matplotlib.colormaps["coolwarm"]
NORM = Normalize(0.0, 1.0)
ROLE_MARKERS = {FRONTLINE: ("o", 34.0, "frontline social worker"), MANAGER: ("s", 80.0, "team manager"),
                PARTNER: ("^", 34.0, "partner agency (police, health, education)")}
TIE_MIN_STRENGTH = 0.5  # ties weaker than this are not drawn (keeps the picture light)
# Tie groups drawn (one path each, so a frame costs three path draws, not thousands of lines): a manager's
# ties to their team (how control style socialises a team), ties across teams and inter-agency ties (how
# habits travel between teams). Ties among teammates and inside partner agencies are left out: they fill
# each small cluster without showing anything the clustering does not already show.
TIE_GROUPS = (("team manager", "0.35", 0.45), ("across teams", "tab:purple", 0.22),
              ("inter-agency", "tab:green", 0.18))
AGENCY_EDGE = "black"
MAX_TIES_DRAWN = 400  # per tie group: beyond this a large organisation's ties are a solid mass, and slow to draw
REFERENCE_LIM = 6.2  # half-width of the default organisation's picture (20 teams): markers keep their size up to it
HABIT_BINS = 20  # node colours: the habit in steps of 0.05 (one marker line per step draws fast)
BIN_COLOURS = (np.arange(HABIT_BINS) + 0.5) / HABIT_BINS

# (title, [(timeseries column, label, style)], y-limits (None = from data, floor at the given max))
PANELS: tuple[tuple[str, tuple[tuple[str, str, str], ...], tuple[float, float]], ...] = (
    ("Morale (staff mean, 0-1)", (("morale_mean", "mean", "-"),), (0.0, 1.0)),
    ("Turnover, last 12 months (share of permanent staff)",
     (("turnover_rate_12m", "permanent leavers / staff in post", "-"),), (0.0, 0.3)),
    ("Vacancy rate (share of posts)", (("vacancy_rate", "posts without a permanent holder", "-"),), (0.0, 0.3)),
    ("Compliance habit (0 judgement - 1 procedure)",
     (("compliance_habit_mean", "mean", "-"), ("compliance_habit_high_share", f"share high (> {HIGH_HABIT:g})", "--")),
     (0.0, 1.0)),
    ("Fragmentation of ties (share lost since week 0)",
     (("fragmentation", "all", "-"), ("fragmentation_team", "within teams", "--"),
      ("fragmentation_interagency", "inter-agency", ":")), (0.0, 0.3)),
)
# the trainer's app adds the spread to agency workers and the prescription that inspections and incidents raise
APP_PANELS = (
    PANELS[0],
    ("Turnover and agency workers (shares)",
     (("turnover_rate_12m", "turnover, 12 months", "-"),
      ("agency_worker_share", "agency worker rate", "--")), (0.0, 0.3)),
    PANELS[2], PANELS[3],
    ("Prescription (local procedure, 0-1)", (("prescription", "prescription", "-"),), (0.0, 1.0)),
    PANELS[4],
)
# a panel's legend sits above it, right of its title: it never covers a line
LEGEND_ABOVE = {"loc": "lower right", "bbox_to_anchor": (1.0, 1.0), "borderaxespad": 0.1, "frameon": False,
                "fontsize": 6.5, "handlelength": 1.6, "columnspacing": 0.8}
SERIES_COLUMNS = tuple(dict.fromkeys(c for _, lines, _ in PANELS + APP_PANELS for c, _, _ in lines))
READOUT = (("morale_mean", "morale", "{:.3f}"), ("turnover_rate_12m", "turnover 12m", "{:.1%}"),
           ("vacancy_rate", "vacancy", "{:.1%}"), ("compliance_habit_mean", "compliance", "{:.3f}"),
           ("compliance_habit_high_share", "high compliance", "{:.1%}"), ("fragmentation", "fragmentation", "{:.3f}"),
           ("prescription", "prescription", "{:.3f}"))


# --- what the views read from a model -------------------------------------------------------------

def series_so_far(model: CultureDriftModel, columns: tuple[str, ...] = SERIES_COLUMNS) -> dict[str, np.ndarray]:
    """Recorded weeks 0..model.week of the given timeseries columns (plus 'week'), without building a DataFrame."""
    rec = model.recorder
    n = max(model.week, 0) + 1
    out = {"week": np.arange(n)}
    for c in columns:
        out[c] = rec.data[:n, rec.col[c]]
    return out


def current_values(model: CultureDriftModel) -> dict[str, float]:
    """This week's value of each readout series."""
    s = series_so_far(model, tuple(c for c, _, _ in READOUT))
    return {c: float(s[c][-1]) for c, _, _ in READOUT}


def readout_text(model: CultureDriftModel) -> str:
    """One line for the page: week and this week's key values (the browser test reads it)."""
    vals = current_values(model)
    parts = [f"{label} {fmt.format(vals[c])}" for c, label, fmt in READOUT]
    return f"Week {max(model.week, 0)} of {model.horizon} · " + " · ".join(parts)


def vigilance_off_week(model: CultureDriftModel) -> int | None:
    """First week without culture vigilance after it has run (None if it never runs or never stops)."""
    ends = [iv.end_week for iv in model.spec.planned()[1] if iv.kind == "culture_vigilance"]
    if not ends or any(e is None for e in ends):
        return None
    return max(ends)


@dataclass(frozen=True)
class Marks:
    """Time marks drawn on every series panel."""

    programme: tuple[int, int] | None  # (first go-live, handover), None without a programme
    vigilance_off: int | None

    @classmethod
    def of(cls, model: CultureDriftModel) -> Marks:
        spec = model.spec
        prog = (spec.programme_start, spec.handover) if spec.change_programme and spec.handover > 0 else None
        off = vigilance_off_week(model)
        return cls(prog, off if off is not None and off < model.horizon else None)


# --- network layout -------------------------------------------------------------------------------

RING_MAX_TEAMS = 40  # up to this many teams sit on one circle; more fill a disc (a sunflower spiral)


def team_centres(n_teams: int) -> tuple[np.ndarray, np.ndarray, float]:
    """Each team's centre, the angle its members' ring starts at, and the radius the teams reach.
    A few teams sit on a circle; many fill a disc (Vogel's spiral), which keeps a large organisation
    legible instead of a thin ring of overlapping teams."""
    k = np.arange(n_teams)
    if n_teams <= RING_MAX_TEAMS:
        r = max(1.0, n_teams / (2 * np.pi) * 1.15) if n_teams > 1 else 0.0
        ang = 2 * np.pi * k / max(n_teams, 1) + np.pi / 2
        return np.c_[r * np.cos(ang), r * np.sin(ang)], ang, r
    radii = 0.75 * np.sqrt(k + 0.5)  # neighbouring teams at least ~1.16 apart: their rings (0.42) never touch
    ang = k * np.pi * (3 - np.sqrt(5))
    return np.c_[radii * np.cos(ang), radii * np.sin(ang)], ang, float(radii.max()) + 0.42


def network_positions(model: CultureDriftModel, team: np.ndarray | None = None) -> np.ndarray:
    """Deterministic (x, y) per slot: teams on an inner circle, each member on a small ring around
    their manager; partner agencies on arcs of an outer ring. No randomness, no force layout."""
    s, lay = model.state, model.layout
    team = s.team if team is None else team
    n_teams = lay.n_teams
    pos = np.zeros((s.n, 2))
    centres, ang_t, team_r = team_centres(n_teams)
    member_r = 0.42
    for t in range(n_teams):
        mgr = lay.manager_slot[t]
        members = np.flatnonzero((team == t) & (s.role == FRONTLINE))
        pos[mgr] = centres[t]
        if members.size:
            a = 2 * np.pi * np.arange(members.size) / members.size + ang_t[t]
            pos[members] = centres[t] + member_r * np.c_[np.cos(a), np.sin(a)]
    partners = np.flatnonzero(s.role == PARTNER)
    if partners.size:
        outer_r = team_r + 1.25
        groups = s.partner_group[partners]
        n_groups = int(groups.max()) + 1
        sector = 2 * np.pi / n_groups
        for g in range(n_groups):
            members = partners[groups == g]
            k = members.size
            rows = 2 if k > 12 else 1
            per_row = -(-k // rows)
            idx = np.arange(k)
            frac = (idx // rows + 0.5) / per_row
            a = np.pi / 2 + sector * (g + 0.08 + 0.84 * frac)
            r = outer_r + 0.3 * (idx % rows)
            pos[members] = np.c_[r * np.cos(a), r * np.sin(a)]
    return pos


def agency_label_positions(model: CultureDriftModel) -> list[tuple[str, float, float]]:
    """Where to write each partner agency's name (outside its arc)."""
    names = model.layout.partner_agency_names
    if not names:
        return []
    team_r = team_centres(model.layout.n_teams)[2]
    r = team_r + 2.05
    sector = 2 * np.pi / len(names)
    return [(name, r * np.cos(np.pi / 2 + sector * (g + 0.5)), r * np.sin(np.pi / 2 + sector * (g + 0.5)))
            for g, name in enumerate(names)]


def _segments_path(a: np.ndarray, b: np.ndarray) -> Path:
    """One path made of the straight segments a[i] -> b[i]."""
    verts = np.empty((2 * a.shape[0], 2))
    verts[0::2], verts[1::2] = a, b
    codes = np.full(verts.shape[0], Path.LINETO, dtype=Path.code_type)
    codes[0::2] = Path.MOVETO
    return Path(verts, codes)


# --- the network view -----------------------------------------------------------------------------

class NodeLayer:
    """The people of one role as markers coloured by compliance habit, drawn fast: the habit is binned into
    `HABIT_BINS` colours and each bin is one marker line (Agg stamps a marker once and copies it), agency
    workers get a black ring on top. Positions are fixed; only who sits in which bin changes week to week."""

    def __init__(self, ax: Axes, marker: str, size: float, ring_width: float = 1.8) -> None:
        ms = float(np.sqrt(size))
        self.bins = [ax.plot([], [], linestyle="", marker=marker, markersize=ms, markerfacecolor=CMAP(c),
                             markeredgecolor="white", markeredgewidth=0.4, zorder=3, animated=True)[0]
                     for c in BIN_COLOURS]
        self.ring = ax.plot([], [], linestyle="", marker=marker, markersize=ms, markerfacecolor="none",
                            markeredgecolor=AGENCY_EDGE, markeredgewidth=ring_width, zorder=4,
                            animated=True)[0]

    def artists(self) -> list[Line2D]:
        """The marker lines with someone on them (an empty one costs as much to draw as a full one)."""
        return [ln for ln in (*self.bins, self.ring) if len(ln.get_xdata())]

    def update(self, xy: np.ndarray, habit: np.ndarray, agency: np.ndarray) -> None:
        """Place the filled posts of this role at `xy` with their habits and agency flags."""
        b = habit_bin(habit)
        order = np.argsort(b, kind="stable")
        cuts = np.searchsorted(b[order], np.arange(HABIT_BINS + 1))
        for k, line in enumerate(self.bins):
            sel = order[cuts[k]:cuts[k + 1]]
            line.set_data(xy[sel, 0], xy[sel, 1])
        self.ring.set_data(xy[agency, 0], xy[agency, 1])


def habit_bin(habit: np.ndarray) -> np.ndarray:
    """The colour bin (0..HABIT_BINS-1) of each compliance habit in [0, 1]."""
    return np.clip((np.asarray(habit) * HABIT_BINS).astype(int), 0, HABIT_BINS - 1)


class NetworkView:
    """The organisation's working relationships: nodes coloured by compliance habit, marker by role,
    agency staff with a thick black ring, vacant posts not drawn (gaps), the ties that carry habits
    between people as light lines.

    The layout is fixed (recomputed only when a restructure moves posts between teams); each week only
    the nodes' colours and the caption change. Ties change slowly and cost most to draw, so they are
    redrawn every `ties_every` weeks (1 = every week) and otherwise kept in the cached picture. With
    `title=False` the caption is left to the caller (the app writes it as page text: drawing text is the
    dearest part of a frame)."""

    def __init__(self, ax: Axes, model: CultureDriftModel, colorbar: bool = True, legend: bool = True,
                 ties_every: int = 1, title: bool = True) -> None:
        self.ax = ax
        self.model = model
        self.caption = ""
        self.ties_every = max(int(ties_every), 1)
        self._team = model.state.team.copy()
        self._layout_version = 0
        self._tie_key: tuple[int, int] | None = None
        self.pos = network_positions(model)
        ax.set_aspect("equal")
        ax.set_xticks([])
        ax.set_yticks([])
        for sp in ax.spines.values():
            sp.set_visible(False)
        lim = np.abs(self.pos).max() + 0.9
        ax.set_xlim(-lim, lim)
        ax.set_ylim(-lim, lim)
        shrink = min(1.0, REFERENCE_LIM / lim)  # a larger organisation on the same picture: smaller markers (area)
        self.tie_stride = 1
        self.ties = []
        for _, colour, alpha in TIE_GROUPS:
            patch = PathPatch(Path(np.zeros((0, 2))), fill=False, edgecolor=colour, alpha=alpha, linewidth=0.5,
                              zorder=1, animated=True)
            ax.add_patch(patch)
            self.ties.append(patch)
        self._is_manager = model.state.role == MANAGER
        self.nodes = {role: NodeLayer(ax, marker, size * shrink, 1.8 * np.sqrt(shrink))
                      for role, (marker, size, _) in ROLE_MARKERS.items()}
        for name, x, y in agency_label_positions(model):
            ax.text(x, y, name, ha="center", va="center", fontsize=8, color="0.35")
        self.title = ax.set_title("", fontsize=10) if title else None
        if self.title is not None:
            self.title.set_animated(True)
        if colorbar:
            mappable = matplotlib.cm.ScalarMappable(norm=NORM, cmap=CMAP.resampled(HABIT_BINS))
            cb = ax.figure.colorbar(mappable, ax=ax, fraction=0.035, pad=0.01)
            cb.set_label("compliance habit: 0 judgement, 1 procedure", fontsize=8)
            cb.ax.tick_params(labelsize=7)
        if legend:
            handles = [Line2D([], [], marker=m, linestyle="", markersize=6, markerfacecolor="0.75",
                              markeredgecolor="0.75", label=label.split(" (")[0])
                       for m, _, label in ROLE_MARKERS.values()]
            handles.append(Line2D([], [], marker="o", linestyle="", markersize=6, markerfacecolor="0.75",
                                  markeredgecolor=AGENCY_EDGE, markeredgewidth=1.8, label="agency (locum) worker"))
            ax.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, -0.09), ncol=2, fontsize=7,
                      frameon=False, handletextpad=0.3, columnspacing=1.0)
        self.update()

    def animated(self) -> list:
        """Artists that change every week (drawn over the cached picture by FrameRenderer)."""
        return [*(a for layer in self.nodes.values() for a in layer.artists()),
                *([self.title] if self.title is not None else [])]

    def background_key(self) -> tuple:
        """Changes when the static picture must be redrawn (never: the limits are fixed)."""
        return ()

    def slow(self) -> list:
        """Artists that change now and then (the ties): cached over the background until `slow_key` changes."""
        return list(self.ties)

    def slow_key(self) -> tuple:
        """Changes when the ties were redrawn (every `ties_every` weeks, or after a restructure)."""
        return (self._tie_key,)

    def tie_week(self) -> int:
        """The week the ties on the picture show."""
        return self._tie_key[1] if self._tie_key else 0

    def counts_text(self) -> str:
        """Empty posts and agency workers this week, in words."""
        # "empty", not "vacant": the vacancy rate (DfE) also counts posts covered by agency workers
        posts = "post" if self.empty_posts == 1 else "posts"
        workers = "agency worker" if self.agency_workers == 1 else "agency workers"
        return f"{self.empty_posts} empty {posts} (gaps) · {self.agency_workers} {workers}"

    def tie_note(self) -> str:
        """Which ties the picture shows, when not every tie of this week ('' when it does)."""
        notes = ([] if self.ties_every == 1 else [f"ties as at week {self.tie_week()} (redrawn every "
                                                    f"{self.ties_every} weeks)"]) + \
            ([] if self.tie_stride == 1 else [f"1 in {self.tie_stride} ties drawn"])
        return "; ".join(notes)

    def update(self) -> None:
        """Redraw for the model's current week (data only; artists are reused)."""
        m = self.model
        s, net = m.state, m.network
        week = max(m.week, 0)
        if not np.array_equal(s.team, self._team):  # a restructure moved posts: follow them to their new team
            self._team = s.team.copy()
            self.pos = network_positions(m)
            self._layout_version += 1
        filled = s.filled
        for role, layer in self.nodes.items():
            idx = np.flatnonzero(filled & (s.role == role))
            layer.update(self.pos[idx], s.compliance_habit[idx], s.agency_worker[idx])
        tie_key = (self._layout_version, week - week % self.ties_every)
        if tie_key != self._tie_key:
            self._tie_key = tie_key
            row, col, w = net.row, net.col, net.w
            kind = net.kind
            live = (row < col) & (w >= TIE_MIN_STRENGTH) & filled[row] & filled[col]
            spoke = (kind == INTRA_TEAM) & (self._is_manager[row] | self._is_manager[col])
            groups = [np.flatnonzero(sel) for sel in (live & spoke, live & (kind == CROSS_TEAM),
                                                       live & (kind == INTER_AGENCY))]
            self.tie_stride = max(1, -(-max(g.size for g in groups) // MAX_TIES_DRAWN))
            for patch, sel in zip(self.ties, groups, strict=True):
                sel = sel[::self.tie_stride]  # the same share of every group, so their proportions stay true
                patch.set_path(_segments_path(self.pos[row[sel]], self.pos[col[sel]]))
        self.empty_posts = int(np.count_nonzero(s.staff_post & ~filled))
        self.agency_workers = int(np.count_nonzero(s.staff & filled & s.agency_worker))
        ties = "\n" + self.tie_note() if self.tie_note() else ""
        self.caption = f"Week {week}: who works with whom · {self.counts_text()}{ties}"
        if self.title is not None:
            self.title.set_text(self.caption)


# --- the series panels ----------------------------------------------------------------------------

class SeriesView:
    """Key series over time, one panel each, with the change programme shaded and the week
    leadership vigilance stops marked; x runs over the whole horizon so the future stays visible."""

    def __init__(self, axes: list[Axes], model: CultureDriftModel, x_max: int | None = None,
                 panels: tuple = PANELS, twin: CultureDriftModel | None = None, twin_label: str = "twin",
                 markers: Callable[[], list[tuple[int, str]]] | None = None, twin_week: int | None = None) -> None:
        self.model = model
        self.twin = twin
        self.axes = axes
        self.panels = panels
        self.markers = markers or (lambda: [])
        self._drawn_markers: list[tuple[int, str]] = []
        self._marker_artists: list = []
        self.lines: list[tuple[str, Line2D]] = []
        self.twin_lines: list[tuple[str, Line2D]] = []
        self.cursors = []
        self.marks = marks = Marks.of(model)  # drawn once: later actions show as markers
        x_max = model.horizon if x_max is None else x_max
        self.floors = []
        for ax, (title, series, (lo, hi)) in zip(axes, panels, strict=True):
            if marks.programme is not None:
                a, b = marks.programme
                ax.axvspan(a, min(b, x_max), color="tab:orange", alpha=0.12, linewidth=0,
                           label="change programme")
            if marks.vigilance_off is not None and marks.vigilance_off <= x_max:
                ax.axvline(marks.vigilance_off, color="tab:red", linestyle="--", linewidth=1.2,
                           label="vigilance stops")
            if twin is not None and twin_week is not None and twin_week <= x_max:  # where the twins part
                ax.axvline(twin_week, color="0.35", linestyle=(0, (5, 3)), linewidth=1.0, label="twin's lever")
            for i, (c, label, style) in enumerate(series):
                (ln,) = ax.plot([], [], style, color=f"C{i}", linewidth=1.6, label=label, animated=True)
                self.lines.append((c, ln))
                if twin is not None:  # the twin: the same colour, thick and pale, under the run's line
                    (tl,) = ax.plot([], [], "-", color=matplotlib.colors.to_rgba(f"C{i}", 0.35), linewidth=4.0,
                                    label=f"twin: {twin_label}" if ax is axes[0] else None, animated=True)
                    self.twin_lines.append((c, tl))
            self.cursors.append(ax.axvline(0, color="0.6", linewidth=0.8, animated=True))
            ax.set_xlim(0, max(x_max, 1))
            ax.set_ylim(lo, hi)
            self.floors.append(hi)
            ax.set_title(title, fontsize=9, loc="left")
            ax.tick_params(labelsize=7)
            ax.grid(alpha=0.3)
            # legends sit above the panel, right of its title, so they never cover a line: the marks and the
            # twin once, at the top; series names where a panel has several
            if ax is axes[0]:
                ax.legend(ncol=3, **LEGEND_ABOVE)
            elif len(series) > 1:
                ax.legend(handles=[ln for c, ln in self.lines[-len(series):]], ncol=len(series), **LEGEND_ABOVE)
        axes[-1].set_xlabel("week", fontsize=8)
        self.update()

    def animated(self) -> list:
        """Artists that change every week (the twin's thick pale lines under the run's)."""
        return [ln for _, ln in self.twin_lines] + [ln for _, ln in self.lines] + self.cursors

    def slow(self) -> list:
        """No artists change now and then."""
        return []

    def slow_key(self) -> tuple:
        return ()

    def background_key(self) -> tuple:
        """The y-limits and the action markers: when either changes the static background is redrawn."""
        return (*(ax.get_ylim() for ax in self.axes), tuple(self._drawn_markers))

    def _draw_markers(self) -> None:
        """A dotted line per action on every panel, labelled on the top one (part of the static background)."""
        marks = list(self.markers())
        if marks == self._drawn_markers:
            return
        for a in self._marker_artists:
            a.remove()
        self._marker_artists = []
        for k, (week, label) in enumerate(marks):
            for ax in self.axes:
                self._marker_artists.append(ax.axvline(week, color="tab:purple", linestyle=":", linewidth=1.3))
            self._marker_artists.append(self.axes[0].annotate(
                f"▼ {label}", (week, 1.0), xycoords=("data", "axes fraction"), xytext=(2, -3 - 8 * (k % 3)),
                textcoords="offset points", fontsize=6.5, color="tab:purple", va="top", ha="left"))
        self._drawn_markers = marks

    def update(self) -> None:
        """Extend the lines to the model's current week."""
        self._draw_markers()
        data = series_so_far(self.model)
        x = data["week"]
        for c, ln in self.lines:
            ln.set_data(x, data[c])
        tops = {c: float(np.nanmax(data[c])) if np.isfinite(data[c]).any() else 0.0 for c, _ in self.lines}
        if self.twin is not None:
            tdata = series_so_far(self.twin)
            for c, ln in self.twin_lines:
                ln.set_data(tdata["week"], tdata[c])
                if np.isfinite(tdata[c]).any():
                    tops[c] = max(tops[c], float(np.nanmax(tdata[c])))
        for ax, cur, hi, (_, series, _) in zip(self.axes, self.cursors, self.floors, self.panels, strict=True):
            cur.set_xdata([x[-1], x[-1]])
            top = max(tops[c] for c, _, _ in series)
            if top * 1.05 > ax.get_ylim()[1]:  # grows in round steps, so the cached background is rarely redrawn
                ax.set_ylim(ax.get_ylim()[0], max(hi, min(nice_ceiling(top * 1.25), 1.0)))  # shares stop at 1


def nice_ceiling(x: float) -> float:
    """`x` rounded up to a multiple of half its power of ten (0.33 -> 0.35, 1.2 -> 1.5): few distinct limits."""
    if not np.isfinite(x) or x <= 0:
        return 1.0
    step = 10.0 ** np.floor(np.log10(x)) / 2
    return float(np.ceil(x / step - 1e-9) * step)


# --- what leaders see ----------------------------------------------------------------------------------

OBSERVED_DEFAULT = ("obs_procedural_practice", "obs_morale_survey", "obs_turnover_12m", "obs_caseload")
CADENCE = {1: "at each inspection", 4: "monthly", 13: "quarterly", 52: "annual"}


def alarm_rule() -> AlarmRule | None:
    """The alarm rule the early-warning analysis recommends, read by name when asked (it may be reset)."""
    return getattr(observables, "RECOMMENDED_RULE", None)


def alarm_episodes(alarm: np.ndarray) -> list[tuple[int, int]]:
    """(first, last) week of each run of consecutive alarm weeks."""
    a = np.asarray(alarm, dtype=bool)
    edges = np.flatnonzero(np.diff(np.r_[0, a.astype(int), 0]))
    return [(int(b), int(e) - 1) for b, e in zip(edges[::2], edges[1::2], strict=True)]


def alarm_text(alarm: np.ndarray, week: int) -> str:
    """The alarm's state this week and its episodes so far, in words."""
    eps = alarm_episodes(np.asarray(alarm)[:week + 1])
    now = "ALARM now" if eps and eps[-1][1] == week else "quiet now"
    past = ", ".join(f"week {a}" if a == b else f"weeks {a}-{b}" for a, b in eps)
    return f"{now}; alarm so far: {past or 'never'}"


class ObservedFeed:
    """What leaders of one run have on their desk, week by week: the indicators (`observe_model`) and the
    alarm. Figures only change when a report arrives, so the indicators are recomputed only then (or when
    an action changed the run) and held in between, as leaders hold the last report."""

    def __init__(self, model: CultureDriftModel, rule: AlarmRule | None) -> None:
        self.model = model
        self.rule = rule
        self._key: tuple | None = None
        self._frame = None

    def _arrivals(self) -> tuple:
        """How many reports of each indicator have arrived by now (the cache key, with the run's scenario)."""
        m = self.model
        return (id(m.spec), *(int(np.searchsorted(observables.arrival_weeks(o, m.spec, m.horizon), m.week,
                                                  side="right")) for o in observables.OBSERVABLES))

    def frame(self) -> dict[str, np.ndarray]:
        """Weeks 0..now of every indicator (NaN before its first report) and `alarm` (False without a rule)."""
        m = self.model
        key = (max(m.week, 0), self._arrivals())
        if self._frame is None or key[1] != self._key:
            df = observables.observe_model(m, self.rule)
            self._frame = {c: df[c].to_numpy() for c in df.columns}
            self._key = key[1]
        n = max(m.week, 0) + 1
        out = {}
        for c, v in self._frame.items():
            if v.size >= n:
                out[c] = v[:n]
            else:  # held since the last report
                out[c] = np.r_[v, np.full(n - v.size, v[-1] if v.size else np.nan, dtype=v.dtype)]
        out["week"] = np.arange(n)
        if "alarm" not in out:
            out["alarm"] = np.zeros(n, dtype=bool)
        return out


class ObservedView:
    """What leaders see beside what is happening: the latent compliance habit (which no one can see), then
    each chosen indicator as the leadership team has it (step line: held from report to report, late and
    noisy) over the latent series it measures (grey), and the alarm of the recommended rule as a red band."""

    def __init__(self, axes: list[Axes], model: CultureDriftModel, keys: tuple[str, ...] = OBSERVED_DEFAULT,
                 rule: AlarmRule | None = None, x_max: int | None = None) -> None:
        self.model = model
        self.axes = axes
        self.keys = keys
        self.rule = rule
        self.feed = ObservedFeed(model, rule)
        x_max = model.horizon if x_max is None else x_max
        self.latent_lines: list[tuple[str, float, Line2D]] = []
        self.seen_lines: list[tuple[str, Line2D]] = []
        self.alarm_lines: list[Line2D] = []
        self.cursors: list[Line2D] = []
        self._scaled: set[Axes] = set()  # panels whose y-limits have been set from data
        self.caps: list[float] = []  # highest y-limit of each indicator panel
        top = axes[0]
        for c, label, style in (("compliance_habit_mean", "mean", "-"),
                                ("compliance_habit_high_share", "share high", "--")):
            (ln,) = top.plot([], [], style, color="0.25", linewidth=1.5, label=label, animated=True)
            self.latent_lines.append((c, 1.0, ln))
        top.set_ylim(0, 1)
        top.set_title("Compliance habit (0-1), unseen by leaders", fontsize=8.5, loc="left")

        for ax, key in zip(axes[1:], keys, strict=True):
            o = observables.OBSERVABLE[key]
            if o.method != "judgement":  # a grade and a share are not on one scale: no latent line under grades
                (ln,) = ax.plot([], [], "-", color="0.6", linewidth=1.2, label="happening", animated=True)
                self.latent_lines.append((o.latent, o.scale, ln))
            every = CADENCE.get(o.cadence_weeks, f"every {o.cadence_weeks} weeks")
            (sl,) = ax.plot([], [], "-", color="tab:blue", linewidth=1.8, drawstyle="steps-post",
                            label=f"leaders see ({every}, {o.lag_weeks} wk late)", animated=True)
            self.seen_lines.append((key, sl))
            if rule is not None and key == rule.indicator and rule.window == 1 and rule.baseline_from is None:
                ax.axhline(rule.threshold * o.scale, color="tab:red", linestyle=":", linewidth=1.2,
                           label="alarm threshold")
            ax.set_title(f"{o.label} ({o.unit})", fontsize=8.5, loc="left")
            ax.legend(ncol=3, **LEGEND_ABOVE)
            self.caps.append(o.scale if o.unit.startswith("%") else np.inf)  # a share stops at 100%
        for ax in axes:
            (al,) = ax.plot([], [], "-", color="tab:red", linewidth=5, alpha=0.7, solid_capstyle="butt",
                            transform=ax.get_xaxis_transform(), animated=True)
            self.alarm_lines.append(al)
            self.cursors.append(ax.axvline(0, color="0.6", linewidth=0.8, animated=True))
            ax.set_xlim(0, max(x_max, 1))
            ax.tick_params(labelsize=7)
            ax.grid(alpha=0.3)
        if rule is not None:
            self.alarm_lines[0].set_label("alarm on")
        top.legend(ncol=3, **LEGEND_ABOVE)
        axes[-1].set_xlabel("week", fontsize=8)
        self.update()

    def animated(self) -> list:
        """Artists that change every week."""
        return [ln for *_, ln in self.latent_lines] + [ln for _, ln in self.seen_lines] + self.alarm_lines + \
            self.cursors

    def slow(self) -> list:
        """No artists change now and then."""
        return []

    def slow_key(self) -> tuple:
        return ()

    def background_key(self) -> tuple:
        """The y-limits (grown in round steps as figures arrive)."""
        return tuple(ax.get_ylim() for ax in self.axes)

    def alarm(self) -> np.ndarray:
        """Weeks 0..now: True where the rule's alarm is on."""
        return self.feed.frame()["alarm"]

    def update(self) -> None:
        """Extend every line to the model's current week."""
        seen = self.feed.frame()
        x = seen["week"]
        cols = {c for c, _, _ in self.latent_lines if c in self.model.recorder.col} | {"compliance_habit_mean"}
        latent = series_so_far(self.model, tuple(sorted(cols)))
        if "recording_time" not in self.model.recorder.col:  # derived from the habit, as the audit measures it
            habit = pd.DataFrame({"compliance_habit_mean": latent["compliance_habit_mean"]})
            latent["recording_time"] = observables.latent_columns(habit, self.model.spec)["recording_time"].to_numpy()
        for c, scale, ln in self.latent_lines:
            ln.set_data(x, latent[c] * scale)
        scales = {o.key: o.scale for o in observables.OBSERVABLES}
        for key, ln in self.seen_lines:
            ln.set_data(x, seen[key] * scales[key])
        band = np.where(seen["alarm"], 0.97, np.nan)
        for al in self.alarm_lines:
            al.set_data(x, band)
        for cur in self.cursors:
            cur.set_xdata([x[-1], x[-1]])
        for ax, (_, ln), cap in zip(self.axes[1:], self.seen_lines, self.caps, strict=True):
            ys = [ln.get_ydata()] + [l2.get_ydata() for _, _, l2 in self.latent_lines if l2.axes is ax]
            finite = [float(np.nanmax(y)) for y in ys if np.isfinite(y).any()]
            hi = max(finite, default=0.0)
            if hi > 0 and (ax not in self._scaled or hi * 1.05 > ax.get_ylim()[1]) and ax.get_ylim()[1] < cap:
                ax.set_ylim(0, min(nice_ceiling(hi * 1.25), cap))
                self._scaled.add(ax)


# --- figures ----------------------------------------------------------------------------------------

def network_figure(model: CultureDriftModel, size: tuple[float, float] = (6.4, 6.4),
                   ties_every: int = 1, title: bool = True) -> tuple[Figure, NetworkView]:
    """A figure holding just the network view (the app's network panel)."""
    fig = Figure(figsize=size, layout="constrained")
    ax = fig.add_subplot()
    return fig, NetworkView(ax, model, ties_every=ties_every, title=title)


def series_figure(model: CultureDriftModel, size: tuple[float, float] = (6.4, 7.2),
                  x_max: int | None = None, panels: tuple = PANELS, **kw) -> tuple[Figure, SeriesView]:
    """A figure holding the series panels stacked (the app's series panel; `kw`: twin, twin_label, markers,
    twin_week)."""
    fig = Figure(figsize=size, layout="constrained")
    axes = list(fig.subplots(len(panels), 1, sharex=True))
    return fig, SeriesView(axes, model, x_max, panels, **kw)


def observed_figure(model: CultureDriftModel, keys: tuple[str, ...] = OBSERVED_DEFAULT,
                    rule: AlarmRule | None = None, size: tuple[float, float] | None = None,
                    x_max: int | None = None) -> tuple[Figure, ObservedView]:
    """A figure holding the latent compliance habit over the chosen indicators as leaders see them."""
    fig = Figure(figsize=size or (6.4, 1.25 + 1.35 * (len(keys) + 1)), layout="constrained")
    axes = list(np.atleast_1d(fig.subplots(len(keys) + 1, 1, sharex=True)))
    return fig, ObservedView(axes, model, keys, rule, x_max)


def combined_figure(model: CultureDriftModel, x_max: int | None = None,
                    size: tuple[float, float] = (13.0, 7.2)) -> tuple[Figure, NetworkView, SeriesView]:
    """Network view (left) and the series (right) side by side: the animation's frame."""
    fig = Figure(figsize=size, layout="constrained")
    left, right = fig.subfigures(1, 2, width_ratios=(1.05, 1.0))
    net = NetworkView(left.add_subplot(), model)
    axes = list(right.subplots(len(PANELS), 1, sharex=True))
    series = SeriesView(axes, model, x_max)
    fig.suptitle(f"{model.spec.name} (seed {model.seed})", fontsize=11)
    return fig, net, series


class FrameRenderer:
    """Renders one figure's views to PNG week after week, fast: the static part (axes, ticks, legends,
    shading, marks) is drawn once and cached; the artists that change now and then (a view's `slow()`,
    e.g. the network's ties) are drawn over it and cached too; each frame restores that and draws only
    the artists that change every week (blitting). A cache is rebuilt when its key changes (e.g. y-limits).

    `fmt` is "png" (lossless), "jpeg" (quality 90: ~15x faster to encode and ~4x smaller than PNG for the
    network view, whose thousands of translucent ties defeat PNG) or "jpeg-lines" (JPEG at quality 90 without
    colour subsampling, which keeps thin coloured lines and text sharp: for the series, 3 ms to encode a
    frame against 16 ms as PNG, whose row filtering dominates even uncompressed, at about the same size)."""

    FORMATS: ClassVar[dict[str, dict[str, int]]] = {"png": {"compress_level": 1}, "jpeg": {"quality": 90},
                                                    "jpeg-lines": {"quality": 90, "subsampling": 0}}

    def __init__(self, fig: Figure, views: list[NetworkView | SeriesView], dpi: float = 80,
                 fmt: str = "png") -> None:
        if fmt not in self.FORMATS:
            raise ValueError(f"fmt must be one of {', '.join(self.FORMATS)}, got {fmt!r}")
        fig.set_dpi(dpi)
        self.fmt = fmt
        self.mime = fmt.split("-")[0]  # the image type of the bytes: png or jpeg
        self.fig = fig
        self.canvas = FigureCanvasAgg(fig)
        self.views = views
        self._background = None
        self._key: tuple | None = None
        self._slow = None  # the background with the slowly changing artists drawn on it
        self._slow_key: tuple | None = None

    def render(self, update: bool = True) -> bytes:
        """Update the views from the model (unless `update` is False) and return the frame (`fmt` bytes)."""
        if update:
            for v in self.views:
                v.update()
        key = tuple(v.background_key() for v in self.views)
        slow_key = tuple(v.slow_key() for v in self.views)
        if self._background is None or key != self._key:
            self.canvas.draw()  # skips animated artists
            if self._background is None:  # the layout is solved once: later redraws keep the axes where they are
                self.fig.set_layout_engine("none")
            self._background = self.canvas.copy_from_bbox(self.fig.bbox)
            self._key = key
            self._slow = None
        if self._slow is None or slow_key != self._slow_key:
            self.canvas.restore_region(self._background)
            for v in self.views:
                for artist in v.slow():
                    self.fig.draw_artist(artist)
            self._slow = self.canvas.copy_from_bbox(self.fig.bbox)
            self._slow_key = slow_key
        else:
            self.canvas.restore_region(self._slow)
        for v in self.views:
            for artist in v.animated():
                self.fig.draw_artist(artist)
        w, h = self.canvas.get_width_height()
        img = Image.frombuffer("RGBA", (w, h), self.canvas.buffer_rgba(), "raw", "RGBA", 0, 1).convert("RGB")
        buf = io.BytesIO()
        img.save(buf, format=self.mime, **self.FORMATS[self.fmt])
        return buf.getvalue()
