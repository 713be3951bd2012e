"""The explorer warns, in its UI, that the pocket preset only knows the pocket world when the
learner brings their own image, and points to notebook 07; a real CLIP gets no such note."""

import datetime
import io

import pytest
from PIL import Image

import v2a_kit as vk
from v2a_kit.explorer import POCKET_OWN_IMAGE_NOTE, Explorer
from v2a_kit.pocket.world import sample_world


def _upload(im: Image.Image, name: str = "holiday.png") -> tuple:
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    return ({"name": name, "type": "image/png", "size": len(buf.getvalue()),
             "content": memoryview(buf.getvalue()),
             "last_modified": datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)},)


@pytest.fixture(scope="module")
def gallery():
    return {f"scene {k}": Image.fromarray(im)
            for k, im in enumerate(sample_world(2, seed=9300).images)}


def _never_loaded():
    raise AssertionError("the widget must not load a mapper before *generate*")


def test_pocket_explorer_warns_about_own_images(gallery):
    ex = Explorer(vk.load_clip("pocket"), vk.load_audioldm("pocket"),
                  {"regression": _never_loaded}, gallery)
    assert ex.knows_only_pocket_world and ex.own_image_note() == POCKET_OWN_IMAGE_NOTE
    for words in ("pocket world", "64×64", "07_real_models", "CLIP ViT-L/14"):
        assert words in POCKET_OWN_IMAGE_NOTE
    ex.widget()
    ui = ex._ui
    assert ui["note"].value == ""                       # a gallery image: nothing to say
    ui["upload"].value = _upload(Image.new("RGB", (300, 200), "tan"))
    assert ui["image"].value == "(uploaded image)"
    assert POCKET_OWN_IMAGE_NOTE in ui["note"].value    # shown as soon as the upload is chosen
    ui["image"].value = "scene 1"
    assert ui["note"].value == ""                       # and gone when a gallery image is back


def test_pocket_explorer_without_gallery_warns_from_the_start():
    ex = Explorer(vk.load_clip("pocket"), vk.load_audioldm("pocket"),
                  {"regression": _never_loaded}, gallery={})
    ex.widget()
    assert ex._ui["image"].value == "(uploaded image)"
    assert POCKET_OWN_IMAGE_NOTE in ex._ui["note"].value


def test_a_real_clip_gets_no_pocket_note(gallery):
    ex = Explorer(vk.load_clip("tiny"), vk.load_audioldm("tiny"), {"regression": _never_loaded},
                  gallery)
    assert not ex.knows_only_pocket_world and ex.own_image_note() == ""
    ex.widget()
    ex._ui["upload"].value = _upload(Image.new("RGB", (300, 200), "tan"))
    assert ex._ui["image"].value == "(uploaded image)" and ex._ui["note"].value == ""
