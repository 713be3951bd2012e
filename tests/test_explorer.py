"""The explorer warns, in its UI, that the pocket preset only knows the pocket world when the
learner uploads an image that does not look like it (measured), and points to notebook 07; a
pocket picture gets no note, nor does any image with a real CLIP."""

import datetime
import io

import pytest
from PIL import Image

import v2a_kit as vk
from v2a_kit.explorer import POCKET_OWN_IMAGE_NOTE, Explorer
from v2a_kit.pocket.world import sample_world


def _upload(im: Image.Image | bytes, name: str = "holiday.png") -> tuple:
    if isinstance(im, Image.Image):
        buf = io.BytesIO()
        im.save(buf, format="PNG")
        im = buf.getvalue()
    return ({"name": name, "type": "image/png", "size": len(im), "content": memoryview(im),
             "last_modified": datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)},)


@pytest.fixture(scope="module")
def gallery():
    return {f"scene {k}": Image.fromarray(im)
            for k, im in enumerate(sample_world(2, seed=9300).images)}


def _never_loaded():
    raise AssertionError("the widget must not load a mapper before *generate*")


def test_pocket_explorer_warns_about_an_uploaded_photo_not_a_pocket_picture(gallery):
    ex = Explorer(vk.load_clip("pocket"), vk.load_audioldm("pocket"),
                  {"regression": _never_loaded}, gallery)
    photo = Image.new("RGB", (300, 200), "tan")
    assert ex.knows_only_pocket_world and ex.own_image_note(photo) == POCKET_OWN_IMAGE_NOTE
    assert ex.own_image_note(gallery["scene 0"]) == ""   # measured, not by where it came from
    for words in ("pocket world", "64×64", "07_real_models", "CLIP ViT-L/14"):
        assert words in POCKET_OWN_IMAGE_NOTE
    ex.widget()
    ui = ex._ui
    assert ui["note"].value == ""                       # a gallery image: nothing to say
    ui["upload"].value = _upload(photo)
    assert ui["image"].value == "(uploaded image)"
    assert POCKET_OWN_IMAGE_NOTE in ui["note"].value    # shown as soon as the upload is chosen
    ui["image"].value = "scene 1"
    assert ui["note"].value == ""                       # and gone when a gallery image is back
    ui["upload"].value = _upload(gallery["scene 1"], "saved-from-notebook-01.png")
    assert ui["image"].value == "(uploaded image)" and ui["note"].value == ""  # in the world
    ui["upload"].value = _upload(photo, "second.png")   # a new upload while one is chosen
    assert POCKET_OWN_IMAGE_NOTE in ui["note"].value


def test_an_upload_that_is_not_an_image_is_named_in_the_note(gallery):
    ex = Explorer(vk.load_clip("pocket"), vk.load_audioldm("pocket"),
                  {"regression": _never_loaded}, gallery)
    ex.widget()
    ex._ui["upload"].value = _upload(b"not an image", "notes.png")
    assert "notes.png" in ex._ui["note"].value and "cannot use this upload" in ex._ui["note"].value


def test_pocket_explorer_without_gallery_says_nothing_before_an_upload():
    ex = Explorer(vk.load_clip("pocket"), vk.load_audioldm("pocket"),
                  {"regression": _never_loaded}, gallery={})
    ex.widget()
    assert ex._ui["image"].value == "(uploaded image)" and ex._ui["note"].value == ""
    ex._ui["upload"].value = _upload(Image.new("RGB", (300, 200), "tan"))
    assert POCKET_OWN_IMAGE_NOTE in ex._ui["note"].value


def test_a_real_clip_gets_no_pocket_note(gallery):
    ex = Explorer(vk.load_clip("tiny"), vk.load_audioldm("tiny"), {"regression": _never_loaded},
                  gallery)
    photo = Image.new("RGB", (300, 200), "tan")
    assert not ex.knows_only_pocket_world and ex.own_image_note(photo) == ""
    ex.widget()
    ex._ui["upload"].value = _upload(photo)
    assert ex._ui["image"].value == "(uploaded image)" and ex._ui["note"].value == ""
