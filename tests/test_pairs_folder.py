"""A folder of one's own pairs (v2a_kit.datasets.paired_files, notebook 07): read whole, or
refused with every file at fault named and nothing loaded."""

import numpy as np
import pytest
import soundfile as sf
from PIL import Image

from v2a_kit.datasets import paired_files
from v2a_kit.errors import MediaError


def _image(path, seed=0):
    rng = np.random.default_rng(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(rng.integers(0, 255, (32, 32, 3), dtype=np.uint8)).save(path)


def _sound(path, seed=0):
    rng = np.random.default_rng(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, rng.uniform(-0.5, 0.5, 8000).astype(np.float32), 16000)


@pytest.fixture
def folder(tmp_path):
    root = tmp_path / "pairs"
    for i, stem in enumerate(["dog_01", "rain_02", "bell_03"]):
        _image(root / f"{stem}.jpg" if i else root / "frames" / f"{stem}.png", i)
        _sound(root / f"{stem}.wav" if i else root / "audio" / f"{stem}.flac", i)
    (root / "notes.txt").write_text("where I filmed them")
    (root / ".hidden.wav").write_bytes(b"")   # hidden files are not read (as everywhere)
    return root


def test_a_good_folder_gives_its_pairs_in_stem_order(folder):
    pairs = paired_files(folder)
    assert pairs.stems == ["bell_03", "dog_01", "rain_02"] and len(pairs) == 3
    assert [p.name for p in pairs.images] == ["bell_03.jpg", "dog_01.png", "rain_02.jpg"]
    assert [p.name for p in pairs.audio] == ["bell_03.wav", "dog_01.flac", "rain_02.wav"]
    assert [p.name for p in pairs.skipped] == ["notes.txt"]
    assert "3 pairs" in pairs.summary() and "notes.txt" in pairs.summary()


def test_an_unpaired_file_is_refused_by_name(folder):
    _image(folder / "cat_04.png")
    _sound(folder / "sub" / "wind_05.wav")
    with pytest.raises(MediaError) as e:
        paired_files(folder)
    msg = str(e.value)
    assert "nothing was loaded" in msg
    assert "images without a sound of the same name: cat_04.png" in msg
    assert "sounds without an image of the same name: sub/wind_05.wav" in msg


def test_an_unreadable_file_is_refused_by_name_with_its_reason(folder):
    (folder / "frames" / "cat_04.png").write_bytes(b"not a png at all")
    _sound(folder / "cat_04.wav")
    (folder / "rain_02.wav").write_bytes((folder / "rain_02.wav").read_bytes()[:60])
    with pytest.raises(MediaError) as e:
        paired_files(folder)
    msg = str(e.value)
    assert "2 file(s) that cannot be used" in msg
    assert "frames/cat_04.png: cannot read image" in msg
    assert "rain_02.wav: " in msg and "without" not in msg   # paired, but unreadable


def test_every_problem_is_named_at_once(folder):
    _image(folder / "dog_01.jpg")                        # a second image for one stem
    (folder / "clip.mp4").write_bytes(b"")               # a video
    sf.write(folder / "hush.wav", np.zeros(800, np.float32), 16000)   # silence, and alone
    with pytest.raises(MediaError) as e:
        paired_files(folder)
    msg = str(e.value)
    assert "two image files for one name (which one pairs?): dog_01.jpg, frames/dog_01.png" in msg
    assert "videos, which a pair does not take" in msg and "clip.mp4" in msg
    assert "sounds without an image of the same name: hush.wav" in msg
    assert "hush.wav: digital silence" in msg


def test_a_missing_or_one_sided_folder_is_refused(tmp_path):
    with pytest.raises(MediaError, match="no such folder"):
        paired_files(tmp_path / "nowhere")
    _image(tmp_path / "only" / "a.png")
    with pytest.raises(MediaError, match="no sounds at all"):
        paired_files(tmp_path / "only")
