"""Inline players that play untrusted: :func:`audio_player`, :func:`video_player`,
:func:`side_by_side` (images beside their sounds), :func:`listen`."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

from .plots import plot_mel_grid

__all__ = ["audio_player", "video_player", "side_by_side", "listen"]


# JupyterLab sanitises the HTML of an untrusted notebook (one opened for the first time): it keeps
# ``src`` on <audio> and <video> but strips it from <source>, the element IPython's Audio and
# Video put their data in. The kit's players carry the embedded sound on the element itself, so
# a committed notebook's players play before it is trusted or run (tests/test_browser.py).
def _media_tag(tag: str, data: bytes, mimetype: str, **attrs) -> str:
    import base64
    from html import escape
    extra = "".join(f' {k}="{escape(str(v))}"' for k, v in attrs.items() if v is not None)
    src = f"data:{mimetype};base64,{base64.b64encode(data).decode('ascii')}"
    return f'<{tag} controls preload="metadata"{extra} src="{src}"></{tag}>'


@functools.cache
def _audio_class():
    from IPython.display import Audio

    class Player(Audio):
        """``IPython.display.Audio`` whose HTML carries the sound on the <audio> element."""

        def _repr_html_(self):
            return _media_tag("audio", self.data, self.mimetype)

        def __repr__(self):  # the plain-text form, where HTML does not show
            import io
            import wave
            with wave.open(io.BytesIO(self.data)) as w:
                rate, frames = w.getframerate(), w.getnframes()
            return f"<audio player: {frames / rate:.2f} s at {rate} Hz>"

    return Player


def audio_player(waveform, sampling_rate: int = 16000, normalize: bool = False):
    """An inline player (an ``IPython.display.Audio``) for one waveform (samples,), whose
    sound plays in JupyterLab whether or not the notebook is trusted.

    ``normalize=False`` keeps loudness audible as loudness (IPython's default rescales every
    clip to full scale, which would hide the pocket world's size ↔ loudness mapping).
    """
    w = np.asarray(waveform, dtype=np.float32).reshape(-1)
    if not normalize:
        w = np.clip(w, -1.0, 1.0)
    return _audio_class()(w, rate=sampling_rate, normalize=normalize)


def video_player(path, width: int | None = None):
    """An inline player for an mp4 file, embedded in the notebook (``IPython.display.HTML``);
    like :func:`audio_player` it plays whether or not the notebook is trusted."""
    from IPython.display import HTML
    path = Path(path)
    if path.suffix.lower() != ".mp4":
        raise ValueError(f"video_player: {path}: expected an .mp4 file")
    return HTML(_media_tag("video", path.read_bytes(), "video/mp4", width=width))


def _png_data_uri(fig_or_image, dpi: int = 80) -> str:
    import base64
    import io
    buf = io.BytesIO()
    if hasattr(fig_or_image, "savefig"):
        fig_or_image.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    else:
        from PIL import Image
        im = fig_or_image if isinstance(fig_or_image, Image.Image) else \
            Image.fromarray(np.asarray(fig_or_image, dtype=np.uint8))
        im.save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def side_by_side(images, waveforms, titles=None, sampling_rate: int = 16000,
                 image_px: int = 96):
    """A table, one row per input: image | spectrogram and player for each of its sounds.

    Args:
        images: n images (PIL or (h, w, 3) uint8).
        waveforms: n rows, each (samples,) or (num_samples, samples).
        titles: n strings (optional).
    Returns:
        ``IPython.display.HTML`` — the value of a cell shows it; it embeds every sound (a 1 s
        16 kHz clip is ~43 KB of notebook), so keep batches small.
    """
    from html import escape

    from IPython.display import HTML

    if len(images) != len(waveforms):
        raise ValueError(f"side_by_side: {len(images)} images but {len(waveforms)} rows of "
                         "waveforms; need one row per image")
    rows = []
    for i, (im, w) in enumerate(zip(images, waveforms)):
        w = np.asarray(w, dtype=np.float32)
        w = w[None] if w.ndim == 1 else w
        cells = [f'<td style="text-align:center"><img src="{_png_data_uri(im)}" '
                 f'width="{image_px}" style="image-rendering:pixelated"/><br/>'
                 f'<small>{escape(titles[i]) if titles is not None else ""}</small></td>']
        for j, wave in enumerate(w):
            fig = plot_mel_grid([wave], [f"sound {j}"], ncols=1, sampling_rate=sampling_rate)
            fig.set_size_inches(3.2, 1.8)
            player = audio_player(wave, sampling_rate)._repr_html_()
            cells.append(f'<td style="text-align:center"><img src="{_png_data_uri(fig)}"/>'
                         f"<br/>{player}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return HTML('<table class="v2a-side-by-side">' + "".join(rows) + "</table>")


def listen(output, max_items: int = 8):
    """:func:`side_by_side` for a :class:`~v2a_kit.pipeline.V2AOutput` (its first
    ``max_items`` inputs; video rows show the middle frame)."""
    items = list(output)[:max_items]
    return side_by_side([it.image for it in items], [it.waveforms for it in items],
                        [f"{Path(it.source).name} ({it.duration_s:.2f} s)" for it in items],
                        sampling_rate=items[0].sampling_rate if items else 16000)
