"""`culturedrift animate`: a GIF with one frame per shown week; clear errors for mp4 without ffmpeg."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from PIL import Image

from culturedrift.experiments.animate import AnimationError, check_output, frame_weeks
from culturedrift.experiments.cli import main

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"


@pytest.fixture
def tiny(tmp_path):
    p = tmp_path / "tiny.yaml"
    p.write_text(f"extends: {SCENARIOS / 'phased_vigilance_withdrawn.yaml'}\nname: tiny\n"
                 "organisation: {n_teams: 3, partner_agencies: {police: 4, health: 4}}\n")
    return p


def test_frame_weeks():
    assert frame_weeks(4) == [0, 1, 2, 3, 4]
    assert frame_weeks(10, 4) == [0, 4, 8, 10]


def test_animate_writes_a_gif_with_one_frame_per_week(tiny, tmp_path, capsys):
    out = tmp_path / "slip.gif"
    assert main(["animate", str(tiny), "--out", str(out), "--weeks", "4", "--seed", "1"]) == 0
    assert "5 frames" in capsys.readouterr().out
    assert out.stat().st_size > 0
    with Image.open(out) as im:
        assert im.format == "GIF"
        assert im.n_frames == 5
        assert im.size[0] > im.size[1] > 300  # network and series side by side


def test_animate_every_nth_week(tiny, tmp_path):
    out = tmp_path / "sparse.gif"
    assert main(["animate", str(tiny), "--out", str(out), "--weeks", "6", "--every", "3"]) == 0
    with Image.open(out) as im:
        assert im.n_frames == 3  # weeks 0, 3, 6


def test_bad_suffix_and_missing_ffmpeg_are_clear_errors(tiny, tmp_path, capsys, monkeypatch):
    assert main(["animate", str(tiny), "--out", str(tmp_path / "x.avi"), "--weeks", "2"]) == 2
    assert "must end in .gif or .mp4" in capsys.readouterr().err
    monkeypatch.setattr(shutil, "which", lambda name: None)
    assert main(["animate", str(tiny), "--out", str(tmp_path / "x.mp4"), "--weeks", "2"]) == 2
    err = capsys.readouterr().err
    assert "needs ffmpeg" in err and ".gif" in err
    assert not (tmp_path / "x.mp4").exists()
    with pytest.raises(AnimationError):
        check_output(tmp_path / "y.mp4")


def test_missing_scenario_is_a_usage_error(tmp_path, capsys):
    assert main(["animate", str(tmp_path / "nope.yaml"), "--out", str(tmp_path / "a.gif")]) == 2
    assert "file not found" in capsys.readouterr().err
