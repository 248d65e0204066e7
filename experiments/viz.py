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
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import PathPatch
from matplotlib.path import Path
from PIL import Image

from culturedrift.model.model import CultureDriftModel
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

# (title, [(timeseries column, label, style)], y-limits (None = from data, floor at the given max))
PANELS: tuple[tuple[str, tuple[tuple[str, str, str], ...], tuple[float, float]], ...] = (
    ("Morale (staff mean, 0-1)", (("morale_mean", "mean", "-"),), (0.0, 1.0)),
    ("Turnover, last 12 months (share of posts)",
     (("turnover_rate_12m", "permanent leavers / posts", "-"),), (0.0, 0.3)),
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
    ("Turnover (last 12 months) and agency workers (shares)",
     (("turnover_rate_12m", "turnover: permanent leavers / posts", "-"),
      ("agency_worker_share", "agency worker rate", "--")), (0.0, 0.3)),
    PANELS[2], PANELS[3],
    ("Prescription (local procedure, 0-1)", (("prescription", "prescription", "-"),), (0.0, 1.0)),
    PANELS[4],
)
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

def network_positions(model: CultureDriftModel, team: np.ndarray | None = None) -> np.ndarray:
    """Deterministic (x, y) per slot: teams on an inner circle, each member on a small ring around
    their manager; partner agencies on arcs of an outer ring. No randomness, no force layout."""
    s, lay = model.state, model.layout
    team = s.team if team is None else team
    n_teams = lay.n_teams
    pos = np.zeros((s.n, 2))
    team_r = max(1.0, n_teams / (2 * np.pi) * 1.15) if n_teams > 1 else 0.0
    ang_t = 2 * np.pi * np.arange(n_teams) / max(n_teams, 1) + np.pi / 2
    centres = np.c_[team_r * np.cos(ang_t), team_r * np.sin(ang_t)]
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
    team_r = max(1.0, model.layout.n_teams / (2 * np.pi) * 1.15) if model.layout.n_teams > 1 else 0.0
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

class NetworkView:
    """The organisation's working relationships: nodes coloured by compliance habit, marker by role,
    agency staff with a thick black edge, vacant posts not drawn (gaps), the ties that carry habits
    between people as light lines."""

    def __init__(self, ax: Axes, model: CultureDriftModel, colorbar: bool = True, legend: bool = True) -> None:
        self.ax = ax
        self.model = model
        self._team = model.state.team.copy()
        self.pos = network_positions(model)
        ax.set_aspect("equal")
        ax.set_xticks([])
        ax.set_yticks([])
        for sp in ax.spines.values():
            sp.set_visible(False)
        lim = np.abs(self.pos).max() + 0.9
        ax.set_xlim(-lim, lim)
        ax.set_ylim(-lim, lim)
        self.ties = []
        for _, colour, alpha in TIE_GROUPS:
            patch = PathPatch(Path(np.zeros((0, 2))), fill=False, edgecolor=colour, alpha=alpha, linewidth=0.5,
                              zorder=1, animated=True)
            ax.add_patch(patch)
            self.ties.append(patch)
        self._is_manager = model.state.role == MANAGER
        self.nodes = {}
        for role, (marker, size, _) in ROLE_MARKERS.items():
            self.nodes[role] = ax.scatter(np.empty(0), np.empty(0), c=np.empty(0), s=size, marker=marker, cmap=CMAP,
                                          norm=NORM, zorder=3, animated=True)
        for name, x, y in agency_label_positions(model):
            ax.text(x, y, name, ha="center", va="center", fontsize=8, color="0.35")
        self.title = ax.set_title("", fontsize=10)
        self.title.set_animated(True)
        if colorbar:
            cb = ax.figure.colorbar(self.nodes[FRONTLINE], ax=ax, fraction=0.035, pad=0.01)
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
        """Artists that change every week (drawn over a cached background by FrameRenderer)."""
        return [*self.ties, *self.nodes.values(), self.title]

    def background_key(self) -> tuple:
        """Changes when the static part of the picture must be redrawn (never: the limits are fixed)."""
        return ()

    def update(self) -> None:
        """Redraw for the model's current week (data only; artists are reused)."""
        m = self.model
        s, net = m.state, m.network
        if not np.array_equal(s.team, self._team):  # a restructure moved posts: follow them to their new team
            self._team = s.team.copy()
            self.pos = network_positions(m)
        filled = s.filled
        for role, coll in self.nodes.items():
            idx = np.flatnonzero(filled & (s.role == role))
            coll.set_offsets(self.pos[idx] if idx.size else np.empty((0, 2)))
            coll.set_array(s.compliance_habit[idx])
            agency = s.agency_worker[idx]
            coll.set_edgecolors(np.where(agency[:, None], matplotlib.colors.to_rgba_array(AGENCY_EDGE),
                                         matplotlib.colors.to_rgba_array("white")))
            coll.set_linewidths(np.where(agency, 1.8, 0.4))
        row, col, w = net.row, net.col, net.w
        kind = net.kind
        live = (row < col) & (w >= TIE_MIN_STRENGTH) & filled[row] & filled[col]
        spoke = (kind == INTRA_TEAM) & (self._is_manager[row] | self._is_manager[col])
        for patch, sel in zip(self.ties, (live & spoke, live & (kind == CROSS_TEAM), live & (kind == INTER_AGENCY)),
                              strict=True):
            patch.set_path(_segments_path(self.pos[row[sel]], self.pos[col[sel]]))
        staff_posts = s.staff_post
        vacant = int(np.count_nonzero(staff_posts & ~filled))
        agency = int(np.count_nonzero(s.staff & filled & s.agency_worker))
        # "empty", not "vacant": the vacancy rate (DfE) also counts posts covered by agency workers
        posts = "post" if vacant == 1 else "posts"
        workers = "agency worker" if agency == 1 else "agency workers"
        self.title.set_text(f"Week {max(m.week, 0)}: who works with whom · {vacant} empty {posts} (gaps) · "
                            f"{agency} {workers}")


# --- the series panels ----------------------------------------------------------------------------

class SeriesView:
    """Key series over time, one panel each, with the change programme shaded and the week
    leadership vigilance stops marked; x runs over the whole horizon so the future stays visible."""

    def __init__(self, axes: list[Axes], model: CultureDriftModel, x_max: int | None = None,
                 panels: tuple = PANELS, twin: CultureDriftModel | None = None, twin_label: str = "twin",
                 markers: Callable[[], list[tuple[int, str]]] | None = None) -> None:
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
        marks = Marks.of(model)
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
            if ax is axes[0]:  # the marks and the twin once, at the top; series names where a panel has several
                ax.legend(fontsize=6.5, loc="lower right", frameon=False, ncol=2)
            elif len(series) > 1:
                ax.legend(handles=[ln for c, ln in self.lines[-len(series):]], fontsize=6.5, loc="upper right",
                          frameon=False, ncol=len(series))
        axes[-1].set_xlabel("week", fontsize=8)
        self.update()

    def animated(self) -> list:
        """Artists that change every week (the twin's thick pale lines under the run's)."""
        return [ln for _, ln in self.twin_lines] + [ln for _, ln in self.lines] + self.cursors

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
            ax.set_ylim(ax.get_ylim()[0], max(hi, top * 1.1, ax.get_ylim()[1]))


# --- figures ----------------------------------------------------------------------------------------

def network_figure(model: CultureDriftModel, size: tuple[float, float] = (6.4, 6.4)) -> tuple[Figure, NetworkView]:
    """A figure holding just the network view (the app's network panel)."""
    fig = Figure(figsize=size, layout="constrained")
    ax = fig.add_subplot()
    return fig, NetworkView(ax, model)


def series_figure(model: CultureDriftModel, size: tuple[float, float] = (6.4, 7.2),
                  x_max: int | None = None, panels: tuple = PANELS, **kw) -> tuple[Figure, SeriesView]:
    """A figure holding the series panels stacked (the app's series panel; `kw`: twin, twin_label, markers)."""
    fig = Figure(figsize=size, layout="constrained")
    axes = list(fig.subplots(len(panels), 1, sharex=True))
    return fig, SeriesView(axes, model, x_max, panels, **kw)


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
    shading, marks) is drawn once and cached; each frame restores it and draws only the artists that
    change (blitting). The cache is rebuilt when a view's background key changes (e.g. y-limits).

    `fmt` is "png" (lossless; best for line plots) or "jpeg" (quality 90: ~15x faster to encode and
    ~4x smaller than PNG for the network view, whose thousands of translucent ties defeat PNG)."""

    FORMATS: ClassVar[dict[str, dict[str, int]]] = {"png": {"compress_level": 1}, "jpeg": {"quality": 90}}

    def __init__(self, fig: Figure, views: list[NetworkView | SeriesView], dpi: float = 80,
                 fmt: str = "png") -> None:
        if fmt not in self.FORMATS:
            raise ValueError(f"fmt must be one of {', '.join(self.FORMATS)}, got {fmt!r}")
        fig.set_dpi(dpi)
        self.fmt = fmt
        self.fig = fig
        self.canvas = FigureCanvasAgg(fig)
        self.views = views
        self._background = None
        self._key: tuple | None = None

    def render(self, update: bool = True) -> bytes:
        """Update the views from the model (unless `update` is False) and return the frame (`fmt` bytes)."""
        if update:
            for v in self.views:
                v.update()
        key = tuple(v.background_key() for v in self.views)
        if self._background is None or key != self._key:
            self.canvas.draw()  # skips animated artists
            self._background = self.canvas.copy_from_bbox(self.fig.bbox)
            self._key = key
        else:
            self.canvas.restore_region(self._background)
        for v in self.views:
            for artist in v.animated():
                self.fig.draw_artist(artist)
        w, h = self.canvas.get_width_height()
        img = Image.frombuffer("RGBA", (w, h), self.canvas.buffer_rgba(), "raw", "RGBA", 0, 1).convert("RGB")
        buf = io.BytesIO()
        img.save(buf, format=self.fmt, **self.FORMATS[self.fmt])
        return buf.getvalue()
