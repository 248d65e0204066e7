"""The exportable slippage animation: the network view and the key series side by side, week by week.

`animate(scenario, out, seed, weeks)` runs the same `CultureDriftModel` the CLI and the app use and
draws each week with experiments/viz.py through matplotlib.animation: GIF through Pillow (no
external program), mp4 through ffmpeg when it is installed.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from matplotlib.animation import FFMpegWriter, FuncAnimation, PillowWriter

from culturedrift.experiments import viz
from culturedrift.model import CultureDriftModel, Scenario, ScenarioError

FORMATS = (".gif", ".mp4")


class AnimationError(ValueError):
    """The animation cannot be written as asked (format, missing ffmpeg, bad week count)."""


def frame_weeks(weeks: int, every: int = 1) -> list[int]:
    """The weeks shown: 0, every, 2*every, ... and always the last week."""
    shown = list(range(0, weeks + 1, every))
    if shown[-1] != weeks:
        shown.append(weeks)
    return shown


def check_output(out: Path) -> str:
    """The writer for an output path: 'pillow' for .gif, 'ffmpeg' for .mp4 (ffmpeg must be on PATH)."""
    suffix = out.suffix.lower()
    if suffix not in FORMATS:
        raise AnimationError(f"{out}: the output must end in .gif or .mp4, not {suffix or '(no suffix)'!r}")
    if suffix == ".mp4" and shutil.which("ffmpeg") is None:
        raise AnimationError(f"{out}: writing mp4 needs ffmpeg, which is not installed (on Debian/Ubuntu: "
                             "apt-get install ffmpeg); write a .gif instead, which needs nothing extra")
    return "pillow" if suffix == ".gif" else "ffmpeg"


def animate(scenario: Scenario, out: str | Path, seed: int = 0, weeks: int | None = None, fps: int = 8,
            every: int = 1, dpi: int = 90) -> int:
    """Write the animation of one run to `out` (.gif or .mp4); returns the number of frames."""
    out = Path(out)
    writer_kind = check_output(out)
    weeks = scenario.horizon_weeks if weeks is None else int(weeks)
    if weeks < 1 or every < 1 or fps < 1:
        raise AnimationError("weeks, --every and --fps must be at least 1")
    if weeks > scenario.horizon_weeks:
        try:
            scenario = scenario.with_updates({"horizon_weeks": weeks})
        except ScenarioError as e:
            raise AnimationError(f"--weeks {weeks}: {e}") from None
    model = CultureDriftModel(scenario, seed)
    fig, net, series = viz.combined_figure(model, x_max=weeks)
    for artist in [*net.slow(), *net.animated(), *series.animated()]:
        artist.set_animated(False)  # every frame is drawn whole (no blitting): nothing may be left out
    shown = frame_weeks(weeks, every)

    def draw(week: int) -> list:
        while model.week < week:
            model.step()
        net.update()
        series.update()
        return [*net.slow(), *net.animated(), *series.animated()]

    anim = FuncAnimation(fig, draw, frames=shown, init_func=lambda: [], blit=False, repeat=False,
                         cache_frame_data=False)
    writer = PillowWriter(fps=fps) if writer_kind == "pillow" else FFMpegWriter(fps=fps, bitrate=2400)
    out.parent.mkdir(parents=True, exist_ok=True)
    anim.save(out, writer=writer, dpi=dpi)
    return len(shown)
