"""examples/ is what tools/make_examples.py writes: the pocket pictures and sounds of the
README's world seed, a short pocket video, a real photograph (outside the pocket world, with
its licence named), and a README that says which is which."""

import io
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from PIL import Image

from v2a_kit.media import probe_video, sample_video_frames
from v2a_kit.pocket.world.likeness import likeness

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"


@pytest.fixture(scope="module")
def make_examples(tool):
    return tool("make_examples")


def test_the_pocket_pictures_and_sounds_are_the_worlds(make_examples):
    tool = make_examples
    batch = tool.scenes()
    for k in range(tool.NUM_SCENES):
        im = np.asarray(Image.open(EXAMPLES / "pocket" / f"scene-{k}.png"))
        assert np.array_equal(im, batch.images[k])
        wave, sr = sf.read(EXAMPLES / "pocket_sounds" / f"scene-{k}.wav", dtype="float32")
        assert sr == batch.sampling_rate
        assert np.abs(wave - batch.audio[k]).max() < 1 / 2**14     # 16-bit PCM of the sound
    assert sorted(p.name for p in (EXAMPLES / "pocket").iterdir()) == \
        [f"scene-{k}.png" for k in range(tool.NUM_SCENES)]


def test_the_video_is_a_short_pocket_video_and_the_photo_is_not_the_world(make_examples):
    tool = make_examples
    info = probe_video(EXAMPLES / "pocket_scenes.mp4")
    assert abs(info.duration_s - tool.NUM_SCENES) < 0.2 and info.has_audio
    assert all(likeness(f).in_world for f in sample_video_frames(EXAMPLES / "pocket_scenes.mp4",
                                                                  2 * tool.NUM_SCENES))
    photo = Image.open(EXAMPLES / "photo.jpg")
    assert photo.width == tool.PHOTO_WIDTH and not likeness(photo).in_world
    again = Image.open(io.BytesIO(tool.photo_bytes()))
    assert np.abs(np.asarray(again, float) - np.asarray(photo, float)).mean() < 1.0


def test_the_readme_names_each_file_its_caption_and_the_photos_licence(make_examples):
    tool = make_examples
    assert (EXAMPLES / "README.md").read_text() == tool.readme(tool.scenes())
    text = (EXAMPLES / "README.md").read_text()
    assert "CC BY 2.0" in text and "danielbuechele" in text
    size = sum(p.stat().st_size for p in EXAMPLES.rglob("*") if p.is_file())
    assert size < 500_000   # small enough to ship in every clone
