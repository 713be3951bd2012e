"""viz: plot helpers return Figures, savefig writes where FAST says, players keep loudness."""

import json

import matplotlib
import pytest

from v2a_kit import viz
from v2a_kit.pocket.world import sample_world

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def world():
    return sample_world(4, seed=3)


def test_plots_return_figures(world):
    from matplotlib.figure import Figure
    figs = [viz.image_grid(world.images, world.image_captions, ncols=3),
            viz.plot_mel_grid(world.audio, world.audio_captions, ncols=2),
            viz.plot_accuracy_bars({"a": {"shape": 0.5, "size": 1.0, "all": 0.5},
                                    "b": {"shape": 0.7, "size": 0.9, "all": 0.6}},
                                   chance={"shape": 0.25, "size": 0.5})]
    assert all(isinstance(f, Figure) for f in figs)
    # spare axes are blank, not missing; the spectrograms share one colour bar
    assert len(figs[0].axes) == 6 and len(figs[1].axes) == 4 + 1
    assert viz.mel_image(world.audio[0]).shape == (64, 100)


def test_savefig_fast_and_full_go_to_different_folders(tmp_path, monkeypatch, world):
    monkeypatch.setenv("V2A_KIT_FIGURES", str(tmp_path))
    fig = viz.image_grid(world.images[:2])
    full, fast = viz.savefig(fig, "00_x", fast=False), viz.savefig(fig, "00_x", fast=True)
    assert full == tmp_path / "00_x.png" and fast == tmp_path / "fast" / "00_x.png"
    assert full.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    js = viz.save_numbers({"b": 1, "a": [0.5]}, "00_x", fast=False)
    assert json.loads(js.read_text()) == {"a": [0.5], "b": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["00_x.json", "00_x.png", "fast"]
    with pytest.raises(ValueError, match="figure name"):
        viz.savefig(fig, "../escape")


def test_audio_player_keeps_loudness(world):
    quiet = viz.audio_player(world.audio[0] * 0.01)
    loud = viz.audio_player(world.audio[0])
    assert len(quiet.data) == len(loud.data)
    # IPython's normalize=True would make both full scale: the WAV bytes would be equal
    assert quiet.data != loud.data


def _src(html: str, tag: str) -> str:
    """The ``src`` of the one <tag> element in ``html``; fails if the sound sits in a <source>."""
    import re
    assert html.count(f"<{tag}") == 1 and "<source" not in html
    return re.search(rf'<{tag}\b[^>]*\ssrc="([^"]+)"', html).group(1)


def test_players_carry_their_sound_on_the_element(world, tmp_path):
    """JupyterLab keeps ``src`` on <audio>/<video> in an untrusted notebook and strips it from
    <source>: the kit's players put the embedded data on the element, so they play unrun."""
    import base64
    player = viz.audio_player(world.audio[0])
    src = _src(player._repr_html_(), "audio")
    assert src.startswith("data:audio/wav;base64,")
    assert base64.b64decode(src.split(",", 1)[1]) == player.data      # the very WAV bytes
    assert repr(player) == "<audio player: 1.00 s at 16000 Hz>"          # where HTML won't show
    assert "<source" not in viz.side_by_side([world.images[0]], [world.audio[:2]]).data

    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"\x00\x00\x00\x20ftypisom not really a video")
    html = viz.video_player(clip, width=256).data
    src = _src(html, "video")
    assert 'width="256"' in html and src.startswith("data:video/mp4;base64,")
    assert base64.b64decode(src.split(",", 1)[1]) == clip.read_bytes()
    with pytest.raises(ValueError, match=r"notes\.txt: expected an \.mp4 file"):
        viz.video_player(tmp_path / "notes.txt")
    with pytest.raises(FileNotFoundError, match="missing.mp4"):
        viz.video_player(tmp_path / "missing.mp4")
