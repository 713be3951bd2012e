"""An interactive explorer: pick or upload an image, set the knobs, press generate, listen.

The logic is :meth:`Explorer.generate` — a plain function of an image and the settings that
returns a :class:`~v2a_kit.pipeline.V2AOutput` — so it is tested without a browser. The widget
(:meth:`Explorer.widget`, ipywidgets) only reads its controls, calls it, and shows
:func:`v2a_kit.viz.side_by_side` of the result. With the pocket preset, an uploaded image that
does not look like the pocket world (a measured test of its pixels:
:mod:`v2a_kit.pocket.likeness`) gets :data:`POCKET_OWN_IMAGE_NOTE` beside it; one that does
(a pocket picture saved from a notebook) gets none.

    from v2a_kit.explorer import Explorer
    Explorer.from_preset().widget()          # in a notebook cell
"""

from __future__ import annotations

import io
import warnings

import numpy as np
import torch
from PIL import Image

from . import media
from .errors import ConfigError, MediaError, OutsideWorldWarning
from .generation import SCHEDULERS
from .pipeline import DEFAULT_SCHEDULER, V2AOutput, V2APipeline
from .pocket.likeness import POCKET_CLIP_MODEL, likeness
from .pocket.world import sample_world
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
        :func:`v2a_kit.pocket.likeness.likeness`); nothing for a pocket picture, or for a CLIP
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
    @staticmethod
    def image_from_upload(value) -> Image.Image:
        """The image in a ``FileUpload`` value (ipywidgets 8: a tuple of dicts with
        ``name`` and ``content``), checked like any other input."""
        if not value:
            raise MediaError("no file uploaded")
        f = value[-1]
        name = f.get("name", "upload")
        try:
            im = Image.open(io.BytesIO(bytes(f["content"])))
            im.load()
        except Exception as e:  # Pillow raises many kinds for a non-image
            raise MediaError(f"{name}: not a readable image ({e})") from None
        return media.load_image(im, name=name)

    def widget(self):
        """The ipywidgets UI: image (gallery or upload), mapper, guidance, steps, seed,
        number of samples; press *generate* to see and hear the results. With the pocket
        preset, an uploaded image that does not look like the pocket world shows
        :data:`POCKET_OWN_IMAGE_NOTE` (:meth:`own_image_note`) while it is chosen."""
        import ipywidgets as w
        from IPython.display import display

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
            if change["new"]:
                ui["image"].value = UPLOADED
                show_note()  # a second upload while one is chosen: judge the new image

        ui["scheduler"].observe(on_scheduler, names="value")
        ui["upload"].observe(on_upload, names="value")
        ui["image"].observe(show_note, names="value")
        show_note()
        ui["button"].on_click(lambda _: self._on_generate(ui, display, side_by_side))
        self._ui = ui
        controls = w.VBox([w.HBox([ui["image"], ui["upload"]]), ui["kind"],
                           w.HBox([ui["guidance"], ui["mapper_guidance"]]),
                           w.HBox([ui["scheduler"], ui["steps"]]),
                           w.HBox([ui["seed"], ui["num_samples"]]),
                           w.HBox([ui["button"], ui["status"]]), ui["note"]])
        return w.VBox([controls, ui["out"]])

    def _on_generate(self, ui, display, side_by_side) -> V2AOutput | None:
        """What the button does: read the controls, generate, show; errors go to the status
        line (a bad upload must not kill the widget)."""
        ui["status"].value = "generating…"
        try:
            if ui["image"].value == UPLOADED:
                image = self.image_from_upload(ui["upload"].value)
                title = ui["upload"].value[-1].get("name", "upload")
            else:
                image, title = self.gallery[ui["image"].value], ui["image"].value
            with warnings.catch_warnings():  # the note beside the image says it already
                warnings.simplefilter("ignore", OutsideWorldWarning)
                out = self.generate(image, kind=ui["kind"].value,
                                    guidance_scale=ui["guidance"].value,
                                    num_inference_steps=ui["steps"].value,
                                    scheduler=ui["scheduler"].value, seed=ui["seed"].value,
                                    num_samples=ui["num_samples"].value,
                                    mapper_guidance_scale=ui["mapper_guidance"].value)
        except ValueError as e:  # MediaError, ConfigError and bad settings are ValueErrors
            ui["status"].value = f"<span style='color:#b00'>error: {e}</span>"
            return None
        item = out[0]
        ui["out"].clear_output(wait=True)
        with ui["out"]:
            display(side_by_side([item.image], [item.waveforms], [title],
                                 sampling_rate=item.sampling_rate))
        spread = ""
        if len(item.waveforms) > 1:
            e = item.pred_clap_embed[:, 0]
            cos = (e @ e.T)[np.triu_indices(len(e), 1)].mean()
            spread = f"; mean cosine between the sampled CLAP embeddings {float(cos):.3f}"
        ui["status"].value = (f"done: {len(item.waveforms)} sound(s) with the {ui['kind'].value} "
                              f"mapper, seed {ui['seed'].value}{spread}")
        return out
