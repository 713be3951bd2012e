"""An interactive explorer: pick or upload an image, set the knobs, press generate, listen.

The logic is :meth:`Explorer.generate` — a plain function of an image and the settings that
returns a :class:`~v2a_kit.pipeline.V2AOutput` — so it is tested without a browser. The widget
(:meth:`Explorer.widget`, ipywidgets) only reads its controls, calls it, and shows
:func:`v2a_kit.viz.side_by_side` of the result. With the pocket preset, an uploaded image that
does not look like the pocket world (a measured test of its pixels:
:mod:`v2a_kit.pocket.world.likeness`) gets :data:`POCKET_OWN_IMAGE_NOTE` beside it; one that does
(a pocket picture saved from a notebook) gets none; :meth:`Explorer.press` sets the controls and
presses *generate* from code (a notebook saved with its widget state then opens with a result).

    from v2a_kit.explorer import Explorer
    Explorer.from_preset().widget()          # in a notebook cell
"""

from __future__ import annotations

import functools
import io
import re
import warnings
from html import escape

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from . import media
from .errors import ConfigError, MediaError, OutsideWorldWarning
from .generation import SCHEDULERS
from .pipeline import DEFAULT_SCHEDULER, V2AOutput, V2APipeline
from .pocket.world.likeness import POCKET_CLIP_MODEL, likeness
from .pocket.world.scenes import sample_world
from .presets import default_preset
from .registry import load_audioldm, load_clip, load_mapper
from .viz import side_by_side

__all__ = ["Explorer", "pocket_gallery", "POCKET_OWN_IMAGE_NOTE"]

KINDS = ("diffusion", "regression")
UPLOADED = "(uploaded image)"
# What the UI says beside an uploaded image that does not look like the pocket world.
POCKET_OWN_IMAGE_NOTE = (
    "This image does not look like the pocket world, and it goes through <b>pocket-CLIP</b>, "
    "which only knows that world: 64×64 "
    "images of one to three coloured circles, squares, triangles or stars. A photo is forced "
    "into that world — the sound tells which pocket scene the photo is nearest to, not what it "
    "shows. To hear real images, use the paper's models (CLIP ViT-L/14 → a mapper you train → "
    "AudioLDM-S): notebook <code>07_real_models</code>.")


def pocket_gallery(n: int = 12, seed: int = 4242) -> dict[str, Image.Image]:
    """``n`` pocket-world images from a held-out world seed, named by their captions."""
    batch = sample_world(n, seed=seed)
    names: dict[str, Image.Image] = {}
    for k, (im, cap) in enumerate(zip(batch.images, batch.image_captions)):
        names[f"{k:02d}: {cap}"] = Image.fromarray(im)
    return names


class Explorer:
    """One CLIP encoder and AudioLDM shared by the pipelines of each mapper kind.

    Args:
        clip, audioldm: as for :class:`~v2a_kit.pipeline.V2APipeline`.
        mappers: kind -> mapper, or kind -> a loader called on first use.
        gallery: name -> image, offered in the widget's drop-down.
    """

    def __init__(self, clip, audioldm, mappers: dict, gallery: dict | None = None):
        if not mappers:
            raise ConfigError("Explorer needs at least one mapper")
        self.clip, self.audioldm = clip, audioldm
        self._mappers = dict(mappers)
        self._pipelines: dict[str, V2APipeline] = {}
        self.gallery = dict(gallery or {})
        self.last: V2AOutput | None = None
        self._ui = None

    @property
    def knows_only_pocket_world(self) -> bool:
        """Whether the CLIP is pocket-CLIP (trained on the pocket world and nothing else)."""
        return getattr(self.clip.space, "model", None) == POCKET_CLIP_MODEL

    def own_image_note(self, image) -> str:
        """What the UI says next to an uploaded ``image``: :data:`POCKET_OWN_IMAGE_NOTE` when the
        CLIP is pocket-CLIP and the image does not look like the pocket world (measured:
        :func:`v2a_kit.pocket.world.likeness.likeness`); nothing for a pocket picture, or for a CLIP
        trained on real images."""
        if not self.knows_only_pocket_world or likeness(image).in_world:
            return ""
        return POCKET_OWN_IMAGE_NOTE

    @classmethod
    def from_preset(cls, preset: str | None = None, gallery: dict | None = None,
                    device=None) -> Explorer:
        """The preset's CLIP and AudioLDM, its shipped mappers (loaded when first chosen) and,
        for ``pocket``, a gallery of held-out pocket-world images."""
        preset = preset or default_preset()
        clip = load_clip(preset, device=device)
        audioldm = load_audioldm(preset, device=device)
        mappers = {k: (lambda k=k: load_mapper(preset, kind=k, clip_space=clip.space,
                                               clap_space=audioldm.space)) for k in KINDS}
        if gallery is None and clip.space.model == POCKET_CLIP_MODEL:
            gallery = pocket_gallery()  # a CLIP that knows only the pocket world
        return cls(clip, audioldm, mappers, gallery)

    @property
    def kinds(self) -> list[str]:
        return list(self._mappers)

    def pipeline(self, kind: str) -> V2APipeline:
        if kind not in self._mappers:
            raise ConfigError(f"mapper kind {kind!r}: this explorer has {self.kinds}")
        if kind not in self._pipelines:
            m = self._mappers[kind]
            mapper = m if isinstance(m, torch.nn.Module) else m()  # a loader: call it once
            self._pipelines[kind] = V2APipeline(self.clip, mapper, self.audioldm)
        return self._pipelines[kind]

    def generate(self, image, kind: str = "diffusion", guidance_scale: float = 2.5,
                 num_inference_steps: int | None = None, scheduler: str = DEFAULT_SCHEDULER,
                 seed: int = 0, num_samples: int = 2,
                 mapper_guidance_scale: float | None = None) -> V2AOutput:
        """Sounds for one image (a gallery name, a PIL image, an array or a path)."""
        if isinstance(image, str) and image in self.gallery:
            image = self.gallery[image]
        out = self.pipeline(kind)(image, num_samples=num_samples,
                                  num_inference_steps=num_inference_steps,
                                  guidance_scale=guidance_scale, scheduler=scheduler, seed=seed,
                                  mapper_guidance_scale=mapper_guidance_scale, progress=False)
        self.last = out
        return out

    def default_mapper_guidance(self) -> float:
        """The generative mapper's own guidance (a pocket build's is calibrated; 1 = none)."""
        if "diffusion" not in self.kinds:
            return 1.0
        return float(getattr(self.pipeline("diffusion").mapper.config, "guidance_scale", 1.0))

    # --- the widget -----------------------------------------------------------------------------
    # The panel's controls, by the names `press` takes (and `_ui` keys them by).
    CONTROLS = ("image", "kind", "guidance", "mapper_guidance", "scheduler", "steps", "seed",
                "num_samples")

    @staticmethod
    def image_from_upload(value) -> Image.Image:
        """The image in a ``FileUpload`` value (ipywidgets 8: a tuple of dicts with
        ``name`` and ``content``), checked like any other input. A file that is no image is a
        one-line :class:`MediaError` naming the file and saying what was expected."""
        if not value:
            raise MediaError("no file uploaded; expected an image file (PNG, JPEG, WebP, ...)")
        f = value[-1]
        name = f.get("name") or "the uploaded file"
        try:
            im = Image.open(io.BytesIO(bytes(f["content"])))
            im.load()
        except Exception as e:  # Pillow raises many kinds for a non-image
            raise MediaError(f"{name}: not a readable image ({_pillow_reason(e)}); expected an "
                             "image file (PNG, JPEG, WebP, TIFF, ...)") from None
        return media.load_image(im, name=name)

    def widget(self):
        """The ipywidgets panel: image (gallery or upload, previewed), mapper, guidance, the
        generative mapper's guidance (disabled for a mapper without one), sampler, steps, seed,
        number of samples; *generate* (disabled while it runs) shows and plays the results.
        With the pocket preset, an uploaded image that does not look like the pocket world shows
        :data:`POCKET_OWN_IMAGE_NOTE` (:meth:`own_image_note`) while it is chosen.
        :meth:`press` does from code what the button does."""
        import ipywidgets as w

        names = list(self.gallery)
        ui = dict(
            image=w.Dropdown(options=names + [UPLOADED], value=names[0] if names else UPLOADED,
                             description="image", layout=w.Layout(width="420px")),
            upload=w.FileUpload(accept="image/*", multiple=False, description="upload"),
            kind=w.ToggleButtons(options=self.kinds, value=self.kinds[0], description="mapper"),
            guidance=w.FloatSlider(value=2.5, min=1.0, max=6.0, step=0.5,
                                   description="guidance"),
            mapper_guidance=w.FloatSlider(value=self.default_mapper_guidance(), min=1.0,
                                          max=4.0, step=0.25,
                                          description="mapper w"),
            scheduler=w.Dropdown(options=sorted(SCHEDULERS), value=DEFAULT_SCHEDULER,
                                 description="scheduler"),
            steps=w.IntSlider(value=self.audioldm.default_steps(DEFAULT_SCHEDULER), min=2,
                              max=200,
                              description="steps"),
            seed=w.BoundedIntText(value=0, min=0, max=2**31 - 1, description="seed"),
            num_samples=w.IntSlider(value=2, min=1, max=4, description="samples"),
            button=w.Button(description="generate", button_style="primary", icon="play"),
            status=w.HTML(""),
            note=w.HTML("", layout=w.Layout(max_width="640px")),
            preview=w.Image(format="png", layout=w.Layout(width=f"{PREVIEW_PX}px",
                                                          height=f"{PREVIEW_PX}px")),
            caption=w.HTML("", layout=w.Layout(max_width=f"{PREVIEW_PX + 40}px")),
            out=w.Output(),
        )

        def show_note(_=None):
            own = ""
            if ui["image"].value == UPLOADED and ui["upload"].value:
                try:
                    own = self.own_image_note(self.image_from_upload(ui["upload"].value))
                except MediaError as e:  # not an image: say so where the note goes
                    own = f"cannot use this upload: {e}"
            ui["note"].value = (f"<div style='border-left:4px solid #c80;padding:2px 8px;"
                                f"background:#fff8e6'>⚠ {own}</div>" if own else "")

        def on_scheduler(change):
            ui["steps"].value = self.audioldm.default_steps(change["new"])

        def on_upload(change):
            if not change["new"]:
                return
            if ui["image"].value == UPLOADED:
                # `image` does not change: show and judge the new file here
                self._show_preview()
                show_note()
            else:
                ui["image"].value = UPLOADED

        ui["scheduler"].observe(on_scheduler, names="value")
        ui["upload"].observe(on_upload, names="value")
        ui["image"].observe(show_note, names="value")
        ui["image"].observe(lambda _: self._show_preview(), names="value")
        ui["kind"].observe(lambda _: self._enable_for_kind(), names="value")
        ui["button"].on_click(lambda _: self._on_generate())
        self._ui = ui
        show_note()
        self._show_preview()
        self._enable_for_kind()
        controls = w.VBox([w.HBox([ui["image"], ui["upload"]]), ui["kind"],
                           w.HBox([ui["guidance"], ui["mapper_guidance"]]),
                           w.HBox([ui["scheduler"], ui["steps"]]),
                           w.HBox([ui["seed"], ui["num_samples"]]),
                           w.HBox([ui["button"], ui["status"]]), ui["note"]])
        chosen = w.VBox([ui["preview"], ui["caption"]],
                        layout=w.Layout(align_items="center", margin="0 0 0 12px"))
        return _panel_class()([w.HBox([controls, chosen]), ui["out"]])

    def press(self, **settings) -> V2AOutput | None:
        """Set the panel's controls (``image``, ``kind``, ``guidance``, ``mapper_guidance``,
        ``scheduler``, ``steps``, ``seed``, ``num_samples``) and press *generate*, as a reader
        would: the panel shows the result (a notebook saved with its widget state keeps it).
        Returns the result, or ``None`` when the panel shows an error instead. A name the
        panel has not, or a value outside a control's range, is a ConfigError, before anything
        is set."""
        if self._ui is None:
            raise ConfigError("Explorer.press: build the panel first (Explorer.widget())")
        ui = self._ui
        for key, value in settings.items():
            if key not in self.CONTROLS:
                raise ConfigError(f"Explorer.press: no control {key!r}; the panel has "
                                  f"{', '.join(self.CONTROLS)}")
            _check_control(key, ui[key], value)
        for key in self.CONTROLS:  # in panel order: a scheduler resets steps, steps then win
            if key in settings:
                ui[key].value = settings[key]
        return self._on_generate()

    def _show_preview(self) -> None:
        """Show the chosen image beside the controls (an upload as soon as it arrives; one
        that is no image is refused in the status line, naming the file)."""
        ui = self._ui
        if ui["status"].value.startswith(_ERROR_MARK):
            ui["status"].value = ""  # another image: an earlier refusal no longer applies
        if ui["image"].value != UPLOADED:
            im, text = self.gallery[ui["image"].value], "the chosen gallery image"
        elif ui["upload"].value:
            try:
                im = self.image_from_upload(ui["upload"].value)
            except ValueError as e:
                ui["preview"].value, ui["caption"].value = b"", ""
                ui["status"].value = _error_html(e)
                return
            text = ui["upload"].value[-1].get("name") or "the uploaded image"
        else:
            ui["preview"].value = b""
            ui["caption"].value = "<small>upload an image</small>"
            return
        ui["preview"].value = _preview_png(im)
        ui["caption"].value = (f"<small>{escape(text)} ({im.width}×{im.height})</small>")

    def _enable_for_kind(self) -> None:
        """Controls that do not apply to the chosen mapper are disabled: the generative
        mapper's guidance ("mapper w") means nothing to the regression mapper."""
        ui = self._ui
        ui["mapper_guidance"].disabled = ui["kind"].value != "diffusion"

    def _on_generate(self) -> V2AOutput | None:
        """What the button does: read the controls, generate, show. While it runs the button
        is disabled and says so; an error (a bad upload, a refused setting) goes to the status
        line in one line and clears the previous result, and the panel stays usable."""
        ui = self._ui
        button = ui["button"]
        button.disabled, button.description, button.icon = True, "generating…", "hourglass-half"
        ui["status"].value = "generating…"
        try:
            if ui["image"].value == UPLOADED:
                image = self.image_from_upload(ui["upload"].value)
                title = ui["upload"].value[-1].get("name") or "the uploaded image"
            else:
                image, title = self.gallery[ui["image"].value], ui["image"].value
            diffusion = ui["kind"].value == "diffusion"
            with warnings.catch_warnings():  # the note beside the image says it already
                warnings.simplefilter("ignore", OutsideWorldWarning)
                out = self.generate(image, kind=ui["kind"].value,
                                    guidance_scale=ui["guidance"].value,
                                    num_inference_steps=ui["steps"].value,
                                    scheduler=ui["scheduler"].value, seed=ui["seed"].value,
                                    num_samples=ui["num_samples"].value,
                                    mapper_guidance_scale=(ui["mapper_guidance"].value
                                                           if diffusion else None))
        except Exception as e:  # a refusal, or anything else, must not kill the panel
            ui["out"].outputs = ()  # the previous result is not this setting's
            ui["status"].value = _error_html(e)
            return None
        finally:
            button.disabled, button.description, button.icon = False, "generate", "play"
        item = out[0]
        view = side_by_side([item.image], [item.waveforms], [title],
                            sampling_rate=item.sampling_rate)
        ui["out"].outputs = ({"output_type": "display_data", "metadata": {},
                              "data": {"text/html": view.data,
                                       "text/plain": f"{title}: {len(item.waveforms)} sound(s)"}},)
        spread = ""
        if len(item.waveforms) > 1:
            e = item.pred_clap_embed[:, 0]
            cos = (e @ e.T)[np.triu_indices(len(e), 1)].mean()
            spread = f"; mean cosine between the sampled CLAP embeddings {float(cos):.3f}"
        ui["status"].value = (f"done: {len(item.waveforms)} sound(s) with the {ui['kind'].value} "
                              f"mapper, seed {ui['seed'].value}{spread}")
        return out


# --- the panel's helpers ----------------------------------------------------------------------
PREVIEW_PX = 128
_ERROR_MARK = "<span style='color:#b00'>error: "


def _pillow_reason(e: Exception) -> str:
    """Pillow's complaint without the in-memory buffer it names (``<_io.BytesIO object at
    0x…>`` says nothing to a reader): the first line, or the kind of error."""
    if isinstance(e, UnidentifiedImageError):
        return "no image format recognised"
    text = re.sub(r"\s*<_io\.BytesIO object at 0x[0-9a-fA-F]+>", "", str(e)).strip()
    return text.splitlines()[0] if text else type(e).__name__


def _error_html(e: Exception) -> str:
    """One line for the status: a kit refusal as it is, anything else with its type."""
    text = str(e).strip().splitlines()[0] if str(e).strip() else ""
    if not isinstance(e, ValueError):
        text = f"{type(e).__name__}: {text}" if text else type(e).__name__
    return f"{_ERROR_MARK}{escape(text)}</span>"


def _preview_png(im: Image.Image) -> bytes:
    """PNG bytes of ``im`` fitted to the preview box; small images (the pocket world's 64×64)
    are enlarged by whole pixels, so they stay sharp."""
    im = im.convert("RGB")
    scale = PREVIEW_PX / max(im.size)
    if scale >= 1:
        k = max(1, int(scale))
        im = im.resize((im.width * k, im.height * k), Image.NEAREST)
    else:
        im = im.resize((max(1, round(im.width * scale)), max(1, round(im.height * scale))),
                       Image.LANCZOS)
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    return buf.getvalue()


def _check_control(key: str, control, value) -> None:
    """Refuse a value the control cannot hold (a slider would silently clamp it)."""
    options = getattr(control, "options", None)
    if options is not None:
        labels = [o[0] if isinstance(o, tuple) else o for o in options]
        if value not in labels:
            raise ConfigError(f"Explorer.press: {key}={value!r}; expected one of {labels}")
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"Explorer.press: {key}={value!r}; expected a number")
    if isinstance(control.value, int) and not isinstance(control.value, bool) \
            and int(value) != value:
        raise ConfigError(f"Explorer.press: {key}={value!r}; expected a whole number")
    if not control.min <= value <= control.max:
        raise ConfigError(f"Explorer.press: {key}={value!r}; expected {control.min} to "
                          f"{control.max}")


@functools.cache
def _panel_class():
    """The panel's box: an ipywidgets VBox whose plain-text form (what a viewer without the
    widget shows) says what it is rather than listing its children."""
    import ipywidgets as w

    class ExplorerPanel(w.VBox):
        def __repr__(self):
            return ("v2a-kit explorer panel: shown in JupyterLab once the notebook is trusted "
                    "or run")

    return ExplorerPanel
