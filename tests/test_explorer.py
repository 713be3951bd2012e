"""The explorer warns, in its UI, that the pocket preset only knows the pocket world when the
learner uploads an image that does not look like it (measured), and points to notebook 07; a
pocket picture gets no note, nor does any image with a real CLIP. Its panel disables *generate*
while it runs, previews the chosen image, disables the controls the chosen mapper has no use
for, and refuses a bad upload by name, clearing the stale result."""

import datetime
import io

import numpy as np
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


# --- the panel: busy state, preview, controls per mapper, refusals -----------------------------
@pytest.fixture(scope="module")
def explorer(gallery):
    ex = Explorer(vk.load_clip("pocket"), vk.load_audioldm("pocket"),
                  {k: vk.load_mapper("pocket", kind=k) for k in ("diffusion", "regression")},
                  gallery)
    ex.widget()
    ex.press(steps=2, num_samples=1, image="scene 0", kind="diffusion")  # known start state
    return ex


def _png(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def test_generate_is_disabled_and_says_so_while_it_runs(explorer, monkeypatch):
    ui, seen = explorer._ui, []
    real = explorer.generate

    def watched(*args, **kwargs):
        b = ui["button"]
        seen.append((b.disabled, b.description, ui["status"].value, kwargs))
        return real(*args, **kwargs)

    monkeypatch.setattr(explorer, "generate", watched)
    out = explorer.press(image="scene 1", kind="regression", steps=2, num_samples=2, seed=3)
    assert len(seen) == 1  # one press, one generation
    disabled, label, status, kwargs = seen[0]
    assert disabled and label == "generating…" and status == "generating…"
    assert kwargs["mapper_guidance_scale"] is None  # "mapper w" does not apply to regression
    assert ui["button"].disabled is False and ui["button"].description == "generate"
    assert ui["status"].value.startswith("done: 2 sound(s) with the regression mapper, seed 3")
    assert out is explorer.last and out[0].waveforms.shape == (2, 16000)
    (shown,) = ui["out"].outputs                    # the panel shows this result, and only it
    assert shown["data"]["text/html"].count("<audio") == 2 and "scene 1" in \
        shown["data"]["text/plain"]


def test_the_mapper_w_slider_follows_the_mapper(explorer):
    ui = explorer._ui
    ui["kind"].value = "diffusion"
    assert not ui["mapper_guidance"].disabled
    ui["kind"].value = "regression"
    assert ui["mapper_guidance"].disabled
    ui["kind"].value = "diffusion"
    assert not ui["mapper_guidance"].disabled


def test_the_chosen_image_is_previewed_before_generating(explorer, gallery):
    ui = explorer._ui
    ui["image"].value = "scene 1"
    big = np.repeat(np.repeat(np.asarray(gallery["scene 1"]), 2, 0), 2, 1)  # 64 px -> 128 px
    np.testing.assert_array_equal(_png(ui["preview"].value), big)
    ui["image"].value = "scene 0"
    assert not np.array_equal(_png(ui["preview"].value), big)
    ui["upload"].value = _upload(Image.new("RGB", (300, 200), "tan"), "beach.png")
    assert _png(ui["preview"].value).shape == (85, 128, 3)          # fitted into the box
    assert "beach.png" in ui["caption"].value and "300×200" in ui["caption"].value
    ui["image"].value = "scene 0"


def test_an_unreadable_upload_is_refused_by_name_and_the_old_result_cleared(explorer):
    ui = explorer._ui
    assert explorer.press(image="scene 0", steps=2, num_samples=1) is not None
    assert ui["out"].outputs                                        # a result on screen
    ui["upload"].value = ({"name": "notes.png", "type": "image/png", "size": 9,
                           "content": memoryview(b"not a png"),
                           "last_modified": datetime.datetime(2026, 1, 1,
                                                              tzinfo=datetime.timezone.utc)},)
    # refused at once, before *generate*
    status = ui["status"].value
    assert "notes.png" in status and "expected an image file" in status
    assert ui["preview"].value == b""
    ui["image"].value = "scene 1"
    assert ui["status"].value == "" and ui["preview"].value  # another image: the refusal goes
    assert explorer.press(image="(uploaded image)") is None  # the upload again: refused again
    status = ui["status"].value
    assert status.startswith("<span style='color:#b00'>error: notes.png: not a readable image")
    assert "BytesIO" not in status and "0x" not in status and "\n" not in status
    assert ui["out"].outputs == ()                  # the previous image's sounds are gone
    assert ui["button"].disabled is False and ui["button"].description == "generate"
    assert explorer.press(image="scene 1", steps=2, num_samples=1) is not None  # still usable
    assert ui["status"].value.startswith("done") and ui["out"].outputs


def test_image_from_upload_names_the_file_and_what_was_expected():
    with pytest.raises(vk.errors.MediaError) as e:
        Explorer.image_from_upload(({"name": "cat.jpg", "content": b"\xff\xd8\xff\xe0 truncated"},))
    msg = str(e.value)
    assert msg.startswith("cat.jpg: not a readable image (") and "expected an image file" in msg
    assert "BytesIO" not in msg and "\n" not in msg
    with pytest.raises(vk.errors.MediaError, match="no file uploaded; expected an image file"):
        Explorer.image_from_upload(())


def test_press_refuses_what_the_panel_cannot_hold(explorer):
    ui = explorer._ui
    before = {k: ui[k].value for k in Explorer.CONTROLS}
    for settings, words in [({"steps": 500}, "steps=500; expected 2 to 200"),
                            ({"seed": -1}, "seed=-1; expected 0 to"),
                            ({"num_samples": 1.5}, "expected a whole number"),
                            ({"kind": "ridge"}, "kind='ridge'; expected one of"),
                            ({"image": "no such scene"}, "expected one of"),
                            ({"seed": 1, "colour": "red"}, "no control 'colour'")]:
        with pytest.raises(vk.errors.ConfigError, match=words):
            explorer.press(**settings)
    assert {k: ui[k].value for k in Explorer.CONTROLS} == before  # nothing was set
    with pytest.raises(vk.errors.ConfigError, match="build the panel first"):
        Explorer(explorer.clip, explorer.audioldm, {"regression": _never_loaded}).press()


def test_the_panel_says_what_it_is_where_widgets_do_not_render(gallery):
    ex = Explorer(vk.load_clip("pocket"), vk.load_audioldm("pocket"),
                  {"regression": _never_loaded}, gallery)
    text = ex.widget()._repr_mimebundle_()["text/plain"]
    assert text.startswith("v2a-kit explorer panel") and "trusted" in text
