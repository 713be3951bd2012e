"""The pocket preset warns when it meets an input that does not look like its world — decided by
a measured test of the pixels (pocket.world.likeness), not by the file name — once per call or run,
in the pipeline, the command line and the explorer; the world's own pictures and videos get no
warning."""

import io
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import v2a_kit as vk
from v2a_kit.cli import main
from v2a_kit.errors import OutsideWorldWarning
from v2a_kit.media import sample_video_frames
from v2a_kit.pocket.world import sample_world
from v2a_kit.pocket.world.likeness import (
    MIN_BACKGROUND,
    MIN_EXPLAINED,
    WORLD_NOTE,
    likeness,
    outside_message,
    outside_world,
)
from v2a_kit.pocket.world.video import write_scene_video

ROOT = Path(__file__).resolve().parents[1]
PHOTO = ROOT / "examples" / "photo.jpg"


def _jpeg(image: np.ndarray, quality: int) -> Image.Image:
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="JPEG", quality=quality)
    return Image.open(buf)


def _photos() -> dict[str, Image.Image]:
    """Real photographs and what a user might make of them, plus images of no world at all."""
    from sklearn.datasets import load_sample_images
    out = {}
    for k, im in enumerate(load_sample_images().images):
        out[f"photo {k}"] = Image.fromarray(im)
        out[f"photo {k}, 64×64"] = Image.fromarray(im).resize((64, 64))
        out[f"photo {k}, greyscale"] = Image.fromarray(im).convert("L")
    out["examples/photo.jpg"] = Image.open(PHOTO)
    g = np.linspace(0, 255, 256)
    out["gradient"] = Image.fromarray(np.stack([np.tile(g, (256, 1)), np.tile(g[:, None], (1, 256)),
                                                np.full((256, 256), 128)], -1).astype(np.uint8))
    out["noise"] = Image.fromarray(np.random.default_rng(0).integers(0, 256, (64, 64, 3),
                                                                      dtype=np.uint8))
    for name in ("black", "white", "tan", "grey", "red", "skyblue"):
        out[f"flat {name}"] = Image.new("RGB", (64, 64), name)
    return out


def test_the_worlds_own_pictures_pass_with_margin():
    images = np.concatenate([sample_world(400, seed=s).images for s in (11, 4242, 7000)])
    found = [likeness(im) for im in images]
    assert all(f.in_world for f in found)
    # the margins the thresholds leave on the world's side
    assert min(f.explained for f in found) > MIN_EXPLAINED + 0.25
    assert min(f.background_fraction for f in found) > MIN_BACKGROUND + 0.25
    for split in ("seen", "unseen"):
        assert all(likeness(im).in_world for im in sample_world(64, seed=3, split=split).images)


def test_resampled_and_compressed_copies_of_the_world_still_pass():
    images = sample_world(120, seed=12).images
    copies = [Image.fromarray(im).resize((256, 256), Image.BILINEAR) for im in images]
    copies += [Image.fromarray(im).resize((300, 300), Image.BICUBIC) for im in images]
    copies += [_jpeg(im, q) for im in images for q in (50, 85)]
    assert [c for c in copies if not likeness(c).in_world] == []


def test_the_worlds_videos_pass_frame_by_frame(tmp_path):
    video = tmp_path / "scenes.mp4"
    write_scene_video(video, 4, seed=6100)
    assert all(likeness(f).in_world for f in sample_video_frames(video, 16))


def test_photos_gradients_noise_and_flat_colours_do_not():
    found = {name: likeness(im) for name, im in _photos().items()}
    assert [name for name, f in found.items() if f.in_world] == []


def test_the_test_reads_pixels_not_names(tmp_path):
    world = Image.fromarray(sample_world(1, seed=5).images[0])
    world.save(tmp_path / "holiday-photo.jpg", quality=95)
    Image.open(PHOTO).save(tmp_path / "pocket-scene-0.png")
    assert outside_world([(str(p), Image.open(p)) for p in sorted(tmp_path.iterdir())]) == \
        [str(tmp_path / "pocket-scene-0.png")]


def test_the_message_names_inputs_and_says_what_to_do():
    one = outside_message(["photo.jpg"])
    many = outside_message([f"p{k}.jpg" for k in range(5)])
    assert one.startswith("photo.jpg does not look like the pocket world") and WORLD_NOTE in one
    assert many.startswith("p0.jpg, p1.jpg, p2.jpg and 2 more do not")
    for words in ("paper preset", "07_real_models", "64×64"):
        assert words in one
    assert "\n" not in one


@pytest.fixture(scope="module")
def pipe():
    return vk.V2APipeline.from_preset("pocket", mapper="regression", device="cpu")


def _outside_warnings(record) -> list[str]:
    return [str(w.message) for w in record if issubclass(w.category, OutsideWorldWarning)]


def test_pipeline_warns_once_per_call_naming_the_outside_inputs(pipe):
    world = sample_world(2, seed=8).images
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        pipe([world[0], str(PHOTO), world[1], np.full((64, 64, 3), 200, np.uint8)],
             num_inference_steps=2, progress=False)
    found = _outside_warnings(record)
    assert len(found) == 1
    assert found[0].startswith(f"{PHOTO}, image #3 do not look like the pocket world")
    assert "image #0" not in found[0] and "image #2" not in found[0]
    # attributed to the kit's line the caller called (through torch.no_grad's wrapper)
    w = next(w for w in record if issubclass(w.category, OutsideWorldWarning))
    assert Path(w.filename).name == "pipeline.py"


def test_pipeline_says_nothing_for_the_worlds_pictures_and_videos(pipe, tmp_path):
    video = tmp_path / "scenes.mp4"
    write_scene_video(video, 2, seed=6200)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        pipe([*sample_world(3, seed=9).images, str(video), str(ROOT / "examples" / "pocket")],
             num_inference_steps=2, progress=False)
    assert _outside_warnings(record) == []


def test_a_real_clip_gets_no_pocket_warning():
    tiny = vk.V2APipeline(vk.load_clip("tiny"), _tiny_mapper(), vk.load_audioldm("tiny"))
    assert not tiny.knows_only_pocket_world
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        tiny(str(PHOTO), num_inference_steps=2, progress=False)
    assert _outside_warnings(record) == []


def _tiny_mapper():
    clip, gen = vk.load_clip("tiny"), vk.load_audioldm("tiny")
    return vk.create_mapper("regression-pocket", clip.space, gen.space)


def test_cli_warns_once_per_run_as_one_line(tmp_path, capsys):
    inputs = tmp_path / "in"
    inputs.mkdir()
    for k in range(3):
        shutil.copy(PHOTO, inputs / f"photo{k}.jpg")
    Image.fromarray(sample_world(1, seed=10).images[0]).save(inputs / "pocket.png")
    rc = main(["generate", str(inputs), str(ROOT / "examples" / "pocket_scenes.mp4"), "-o",
               str(tmp_path / "out"), "--steps", "2", "--batch-size", "1", "--no-progress"])
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if "look like the pocket world" in ln]
    assert rc == 0 and len(lines) == 1          # one warning for the run, not one per chunk
    assert lines[0].startswith("v2a-kit generate: warning: ") and "photo0.jpg" in lines[0]
    assert "pocket.png" not in lines[0] and "pocket_scenes.mp4" not in lines[0]


def test_cli_says_nothing_for_the_worlds_own_inputs(tmp_path, capsys):
    rc = main(["generate", str(ROOT / "examples" / "pocket"),
               str(ROOT / "examples" / "pocket_scenes.mp4"), "-o", str(tmp_path / "out"),
               "--steps", "2", "--no-progress"])
    assert rc == 0 and "look like the pocket world" not in capsys.readouterr().err


def test_cli_with_another_preset_says_nothing():
    from v2a_kit import preflight
    assert preflight.warn_outside_pocket(preflight.collect_inputs(str(PHOTO)), "tiny") == []
    assert preflight.warn_outside_pocket(preflight.collect_inputs(str(PHOTO)), "paper") == []
    with pytest.warns(OutsideWorldWarning):
        assert preflight.warn_outside_pocket(preflight.collect_inputs(str(PHOTO)), "pocket") \
            == [str(PHOTO)]
