"""Write ``examples/``: the small inputs the README's commands run on, from a fresh clone.

    python tools/make_examples.py    # rewrites examples/ (the mp4's bytes depend on the encoder)

- ``examples/pocket/scene-K.png``: pictures of the pocket world (world seed :data:`SEED`, the
  README quickstart's), what the ``pocket`` preset knows;
- ``examples/pocket_sounds/scene-K.wav``: their real sounds, the references of
  ``v2a-kit evaluate``;
- ``examples/pocket_scenes.mp4``: a short pocket video (three scenes, one second each, their
  real sounds as its track: :func:`v2a_kit.pocket.world.video.write_scene_video`);
- ``examples/photo.jpg``: a real photograph (scikit-learn's sample image ``china.jpg``,
  CC BY 2.0, by danielbuechele), scaled down — outside the pocket world, to show its warning;
- ``examples/README.md``: what each file is, each picture's caption, the photo's licence.

``tests/test_examples.py`` checks that the files are what this script writes.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from v2a_kit.atomic import atomic_write  # noqa: E402
from v2a_kit.media import write_wav  # noqa: E402
from v2a_kit.pocket.world import sample_world  # noqa: E402
from v2a_kit.pocket.world.video import write_scene_video  # noqa: E402

EXAMPLES = ROOT / "examples"
SEED = 2026            # the world seed of the README's quickstart
NUM_SCENES = 3
VIDEO_SEED = 6000      # write_scene_video's default world seed
PHOTO_WIDTH = 320
PHOTO_SOURCE = ("scikit-learn's sample image `china.jpg` (`sklearn.datasets.load_sample_image`), "
                "by danielbuechele (https://www.flickr.com/photos/danielbuechele/6061409035), "
                "released under CC BY 2.0 (https://creativecommons.org/licenses/by/2.0/); "
                f"scaled down to {PHOTO_WIDTH} pixels wide and saved as JPEG quality 85")


def scenes():
    """The pocket pictures and their sounds (the world's batch)."""
    return sample_world(NUM_SCENES, seed=SEED)


def photo_bytes() -> bytes:
    """``examples/photo.jpg``: the photograph, scaled down, as JPEG bytes."""
    from sklearn.datasets import load_sample_image
    im = Image.fromarray(load_sample_image("china.jpg"))
    im = im.resize((PHOTO_WIDTH, round(im.height * PHOTO_WIDTH / im.width)), Image.LANCZOS)
    buf = io.BytesIO()
    im.save(buf, format="JPEG", quality=85)
    return buf.getvalue()


def readme(batch) -> str:
    rows = "\n".join(f"| `pocket/scene-{k}.png`, `pocket_sounds/scene-{k}.wav` | {cap} |"
                     for k, cap in enumerate(batch.image_captions))
    video = "; ".join(sample_world(NUM_SCENES, seed=VIDEO_SEED).image_captions)
    return f"""# Examples

Small inputs for the README's commands, written by `python tools/make_examples.py` (do not
edit by hand; `tests/test_examples.py` checks them).

| file | what it shows |
|---|---|
{rows}
| `pocket_scenes.mp4` | {NUM_SCENES} pocket scenes, a second each, with their real sounds: {video} |
| `photo.jpg` | a real photograph: outside the pocket world, so the `pocket` preset warns about it |

The pictures and sounds come from the pocket world (world seed {SEED}; the video from world seed
{VIDEO_SEED}). `photo.jpg` is {PHOTO_SOURCE}.
"""


def main() -> None:
    batch = scenes()
    (EXAMPLES / "pocket").mkdir(parents=True, exist_ok=True)
    for k, (im, wave) in enumerate(zip(batch.images, batch.audio)):
        buf = io.BytesIO()
        Image.fromarray(np.asarray(im)).save(buf, format="PNG")
        atomic_write(EXAMPLES / "pocket" / f"scene-{k}.png", buf.getvalue())
        write_wav(EXAMPLES / "pocket_sounds" / f"scene-{k}.wav", wave, batch.sampling_rate)
    write_scene_video(EXAMPLES / "pocket_scenes.mp4", NUM_SCENES, seed=VIDEO_SEED)
    atomic_write(EXAMPLES / "photo.jpg", photo_bytes())
    atomic_write(EXAMPLES / "README.md", readme(batch).encode())
    print(f"wrote {EXAMPLES.relative_to(ROOT)}/")


if __name__ == "__main__":
    main()
