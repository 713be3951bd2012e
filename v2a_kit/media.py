"""Reading images, video frames and audio; resampling; frame sampling (DESIGN.md §3, §8).

Everything here turns a user's file or array into what the encoders expect, or refuses it with
a :class:`~v2a_kit.errors.MediaError` that names the input (its path, or ``"image #3"``) and says
what was expected. Nothing is quietly repaired: a truncated file, a silent clip or NaN samples
are errors, not zeros.

Conventions:
    - images come back as ``PIL.Image.Image`` in mode ``"RGB"`` (what CLIP preprocessing takes);
    - audio comes back as float32 ``(samples,)`` mono, or ``(channels, samples)`` with
      ``mono=False``. Arrays given *to* this module are ``(samples,)`` or ``(channels, samples)``
      too; soundfile's ``(samples, channels)`` must be transposed (``.T``) first;
    - video is read with PyAV, audio with soundfile (PyAV for what libsndfile cannot read, e.g.
      m4a/aac or the audio track of a video), resampling with soxr through librosa.
"""

from __future__ import annotations

import os
import re
import struct
import uuid
import warnings
import zlib
from collections.abc import Iterable, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import av
import librosa
import numpy as np
import soundfile as sf
from PIL import Image, ImageOps

from .errors import MediaError

__all__ = ["IMAGE_EXTS", "AUDIO_EXTS", "VIDEO_EXTS", "media_kind", "load_image", "load_images",
           "load_audio", "fit_length", "VideoInfo", "probe_video", "sample_video_frames",
           "read_video_audio", "write_wav", "mux_audio_into_video", "visible_files", "list_media"]

IMAGE_EXTS = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff",
                        ".ppm", ".pgm", ".pbm", ".pnm"})
AUDIO_EXTS = frozenset({".wav", ".wave", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".aif", ".aiff",
                        ".aifc", ".au", ".snd", ".caf", ".w64", ".rf64", ".m4a", ".aac"})
VIDEO_EXTS = frozenset({".mp4", ".mov", ".mkv", ".webm", ".avi", ".m4v"})
_EXTS = {"image": IMAGE_EXTS, "audio": AUDIO_EXTS, "video": VIDEO_EXTS}

# What Pillow raises for broken files: OSError ("image file is truncated", UnidentifiedImageError),
# SyntaxError ("broken PNG file"), and a few lower-level ones from its decoders.
_IMAGE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, struct.error, zlib.error,
                 Image.DecompressionBombError)
_AV_ERRORS = (av.FFmpegError, OSError, ValueError, EOFError)
_SF_UNRECOGNISED_FORMAT = 1  # libsndfile's SF_ERR_UNRECOGNISED_FORMAT: try PyAV instead


def media_kind(path: str | os.PathLike) -> str | None:
    """``"image"``, ``"audio"``, ``"video"`` or ``None``, from the file suffix alone."""
    suffix = Path(path).suffix.lower()
    return next((kind for kind, exts in _EXTS.items() if suffix in exts), None)


def _existing_file(path: str | os.PathLike, what: str) -> Path:
    path = Path(path)
    if not path.is_file():
        raise MediaError(f"{path}: no such file; expected {what} file")
    if path.stat().st_size == 0:
        raise MediaError(f"{path}: empty file (0 bytes); expected {what} file")
    return path


# ----------------------------------------------------------------------------------- images


def load_image(x, name: str | None = None, *, min_size: int = 8) -> Image.Image:
    """Load one image as RGB.

    Transparent images (RGBA, LA, PA, P or L with a transparent colour) are composited on white:
    CLIP was trained on opaque web images, and dropping alpha instead would expose whatever
    colour the transparent pixels happen to store (often black). CMYK uses Pillow's conversion
    (embedded ICC profiles are ignored, as CLIP preprocessing does). 16-bit images (``I;16``)
    are scaled to 8 bits (``/257``), not clipped. Files read from a path are turned upright by
    their EXIF orientation, as image viewers show them.

    Args:
        x: a path; a PIL image in any mode; or a numpy array (h, w), (h, w, 1), (h, w, 3) or
            (h, w, 4), uint8 or float in [0, 1].
        name: how error messages name the input (default: the path, or a description).
        min_size: smallest accepted short side, in pixels.

    Returns:
        ``PIL.Image.Image`` in mode ``"RGB"``, size (w, h) with ``min(w, h) >= min_size``.

    Raises:
        MediaError: unreadable, truncated, empty or zero-size image; a bad array; too small.
    """
    if isinstance(x, (str, os.PathLike)):
        label = str(name or x)
        im = _open_image_file(_existing_file(x, "an image"), label)
    elif isinstance(x, Image.Image):
        label = name or f"PIL image ({x.mode}, {x.width}x{x.height})"
        try:
            x.load()  # a lazily opened image may still turn out truncated
        except _IMAGE_ERRORS as e:
            raise MediaError(f"{label}: cannot decode image ({e})") from e
        im = x
    elif isinstance(x, np.ndarray):
        label = name or f"image array of shape {x.shape}"
        im = _array_to_image(x, label)
    else:
        raise MediaError(f"{name or 'image'}: got {type(x).__name__}; expected a path, "
                         "a PIL image or a numpy array")
    if im.width == 0 or im.height == 0:
        raise MediaError(f"{label}: zero-size image ({im.width}x{im.height})")
    if min(im.size) < min_size:
        raise MediaError(f"{label}: image is {im.width}x{im.height}; expected at least "
                         f"{min_size} px on the short side")
    return _to_rgb(im, label)


def load_images(items: Iterable, *, min_size: int = 8) -> list[Image.Image]:
    """:func:`load_image` over paths, PIL images or arrays; errors name ``"image #i"`` (0-based)
    unless the item is a path. Returns a list of RGB images."""
    return [load_image(x, None if isinstance(x, (str, os.PathLike)) else f"image #{i}",
                       min_size=min_size) for i, x in enumerate(items)]


def _open_image_file(path: Path, label: str) -> Image.Image:
    # Pillow's ImageFile.LOAD_TRUNCATED_IMAGES must stay False (its default) for load() to
    # raise on truncated data instead of filling the rest with grey.
    try:
        with Image.open(path) as f:
            f.load()
            return ImageOps.exif_transpose(f)  # a copy, detached from the file
    except _IMAGE_ERRORS as e:
        raise MediaError(f"{label}: cannot read image ({e}); expected a complete image file "
                         "(PNG, JPEG, WebP, TIFF, ...)") from e


def _array_to_image(a: np.ndarray, label: str) -> Image.Image:
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[..., 0]
    if not (a.ndim == 2 or (a.ndim == 3 and a.shape[2] in (3, 4))):
        raise MediaError(f"{label}: array of shape {a.shape}; expected (h, w), (h, w, 1), "
                         "(h, w, 3) or (h, w, 4)")
    if a.size == 0:
        raise MediaError(f"{label}: zero-size image array of shape {a.shape}")
    if np.issubdtype(a.dtype, np.floating):
        if not np.isfinite(a).all():
            raise MediaError(f"{label}: array contains NaN or inf; expected floats in [0, 1]")
        lo, hi = float(a.min()), float(a.max())
        if lo < 0 or hi > 1:
            raise MediaError(f"{label}: float values in [{lo:g}, {hi:g}]; expected [0, 1] "
                             "(divide 0-255 data by 255, or pass uint8)")
        a = np.round(a * 255).astype(np.uint8)
    elif a.dtype != np.uint8:
        raise MediaError(f"{label}: array of dtype {a.dtype}; expected uint8 or float in [0, 1]")
    return Image.fromarray(np.ascontiguousarray(a))


def _to_rgb(im: Image.Image, label: str) -> Image.Image:
    mode = im.mode
    if mode == "RGB":
        return im
    if mode.startswith("I;16"):
        return _gray_to_rgb(np.asarray(im).astype(np.float32) / 257.0)
    if mode == "I":
        # Pillow's 32-bit integer mode: 8-bit data converted up, or 16-bit data (older Pillow
        # opened 16-bit PNGs as "I"). Decide by range; anything else has no agreed meaning.
        a = np.asarray(im)
        lo, hi = int(a.min()), int(a.max())
        if lo < 0 or hi > 65535:
            raise MediaError(f"{label}: mode I values in [{lo}, {hi}]; expected 0..255 or "
                             "0..65535")
        return _gray_to_rgb(a / 257.0 if hi > 255 else a)
    if mode == "F":
        a = np.asarray(im)
        lo, hi = float(a.min()), float(a.max())
        if not np.isfinite([lo, hi]).all() or lo < 0 or hi > 255:
            raise MediaError(f"{label}: mode F values in [{lo:g}, {hi:g}]; expected [0, 1] "
                             "or [0, 255]")
        return _gray_to_rgb(a * 255.0 if hi <= 1 else a)
    if "A" in mode or mode.endswith("a") or "transparency" in im.info:
        try:
            rgba = im.convert("RGBA")
        except ValueError as e:
            raise MediaError(f"{label}: unsupported image mode {mode} ({e})") from e
        white = Image.new("RGBA", im.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    try:
        return im.convert("RGB")  # L, 1, P, CMYK, YCbCr, LAB, HSV
    except ValueError as e:
        raise MediaError(f"{label}: unsupported image mode {mode} ({e})") from e


def _gray_to_rgb(a: np.ndarray) -> Image.Image:
    return Image.fromarray(np.clip(np.round(a), 0, 255).astype(np.uint8)).convert("RGB")


# ------------------------------------------------------------------------------------ audio


def load_audio(x, sampling_rate: int, mono: bool = True, name: str | None = None, *,
               orig_sr: float | None = None, allow_silence: bool = False) -> np.ndarray:
    """Load audio, mix to mono, and resample (soxr, high quality) to ``sampling_rate``.

    Files are decoded with soundfile (wav, flac, ogg, mp3, aiff, ...); formats libsndfile does
    not recognise (m4a/aac, the audio track of a video) are decoded with PyAV. Any sample rate
    works. Integer arrays are scaled to [-1, 1] (int16 by 1/32768 and so on).

    Args:
        x: a path; a tuple ``(array, sr)``; or an array with ``orig_sr=``. Arrays are
            ``(samples,)`` or ``(channels, samples)``; a (samples, channels) array from
            soundfile must be transposed first (an array with more rows than columns is refused).
        sampling_rate: target rate in Hz, e.g. 48000 for CLAP, 16000 for AudioLDM.
        mono: mix channels by their mean; ``False`` keeps them.
        name: how error messages name the input (default: the path, or "audio array").
        orig_sr: the sample rate of a bare array.
        allow_silence: accept digital silence (every sample 0). Off by default because a silent
            clip gives a degenerate embedding that says nothing about the sound.

    Returns:
        float32 ``(samples,)``, or ``(channels, samples)`` when ``mono=False``, at
        ``sampling_rate``; ``samples ~= round(len * sampling_rate / orig_sr)``.

    Raises:
        MediaError: unreadable or truncated file, zero length, NaN/inf samples, silence,
            an array without a sample rate, a bad rate.
    """
    _check_rate(sampling_rate, "sampling_rate", name or "load_audio")
    if isinstance(x, (str, os.PathLike)):
        label = str(name or x)
        wave, sr = _read_audio_file(_existing_file(x, "an audio"), label)
    else:
        label = name or "audio array"
        if isinstance(x, tuple):
            if len(x) != 2:
                raise MediaError(f"{label}: tuple of length {len(x)}; expected (array, sr)")
            x, sr = x
            if orig_sr is not None and orig_sr != sr:
                raise MediaError(f"{label}: the tuple says sr={sr} but orig_sr={orig_sr}")
        elif orig_sr is None:
            raise MediaError(f"{label}: a bare array needs orig_sr=<its sample rate in Hz>")
        else:
            sr = orig_sr
        wave = _channels_first(x, label)
    _check_rate(sr, "sample rate", label)
    return _finish_audio(wave, sr, sampling_rate, mono, label, allow_silence)


def _check_rate(sr, what: str, label: str) -> None:
    if isinstance(sr, bool) or not isinstance(sr, (int, float, np.number)) or not sr > 0 \
            or not np.isfinite(sr):
        raise MediaError(f"{label}: {what} is {sr!r}; expected a positive number of Hz")


def _channels_first(x, label: str) -> np.ndarray:
    if hasattr(x, "detach"):  # a torch tensor
        x = x.detach().cpu().numpy()
    a = np.asarray(x)
    if a.dtype.kind in "iu":
        half = 2.0 ** (8 * a.dtype.itemsize - 1)  # int16: 32768
        # Unsigned PCM (e.g. 8-bit WAV) is offset binary: `half` is zero.
        a = (a.astype(np.float32) - (half if a.dtype.kind == "u" else 0.0)) / half
    elif a.dtype.kind != "f":
        raise MediaError(f"{label}: array of dtype {a.dtype}; expected float or integer PCM")
    if a.ndim == 1:
        a = a[None]
    if a.ndim != 2:
        raise MediaError(f"{label}: array of shape {a.shape}; expected (samples,) or "
                         "(channels, samples)")
    if 0 < a.shape[1] < a.shape[0]:
        raise MediaError(f"{label}: array of shape {a.shape} has more channels than samples; "
                         "expected (channels, samples) -- transpose soundfile output with .T")
    return a.astype(np.float32, copy=False)


def _finish_audio(wave: np.ndarray, sr: float, sampling_rate: int, mono: bool, label: str,
                  allow_silence: bool) -> np.ndarray:
    """wave: (channels, samples) at sr -> float32 (samples,) or (channels, samples)."""
    if wave.shape[-1] == 0:
        raise MediaError(f"{label}: zero-length audio; expected at least one sample")
    bad = int(np.count_nonzero(~np.isfinite(wave)))
    if bad:
        raise MediaError(f"{label}: {bad} of {wave.size} samples are NaN or inf; expected "
                         "finite audio")
    if mono:
        wave = wave.mean(axis=0, keepdims=True)
    if not allow_silence and not np.abs(wave).max() > 0:
        raise MediaError(f"{label}: digital silence (every sample is 0); a silent clip gives a "
                         "degenerate embedding. Pass allow_silence=True to accept it")
    if sr != sampling_rate:
        wave = librosa.resample(wave, orig_sr=sr, target_sr=sampling_rate, res_type="soxr_hq",
                                axis=-1)
    wave = np.ascontiguousarray(wave, dtype=np.float32)
    return wave[0] if mono else wave


def _read_audio_file(path: Path, label: str) -> tuple[np.ndarray, float]:
    """Decode a file -> ((channels, samples) float32, sample rate)."""
    try:
        with sf.SoundFile(path) as f:
            declared, sr, log = f.frames, f.samplerate, f.extra_info
            data = f.read(dtype="float32", always_2d=True)  # (samples, channels)
    except sf.LibsndfileError as e:
        if e.code != _SF_UNRECOGNISED_FORMAT:  # libsndfile knows the format: the file is bad
            raise MediaError(f"{label}: cannot decode audio; the file may be truncated or "
                             f"corrupt (libsndfile: {e.error_string})") from e
        decoded = _decode_audio_av(path, label, hint=e.error_string)
        if decoded is None:
            raise MediaError(f"{label}: no audio stream; expected an audio file") from None
        return decoded
    except (sf.SoundFileError, RuntimeError, OSError) as e:
        raise MediaError(f"{label}: cannot decode audio ({e})") from e
    # libsndfile reads what is there of a truncated WAV and only logs the shortfall.
    short = re.search(r"^data\s*:\s*(\d+)\s*\(should be (\d+)\)", log, re.M)
    if short and 0 < int(short[1]) < 0xFFFFFFFF:  # 0 / 0xFFFFFFFF: a streamed header
        raise MediaError(f"{label}: truncated WAV: header promises {short[1]} bytes of audio, "
                         f"the file holds {short[2]}")
    # Compressed formats (mp3) stop decoding early instead; allow a little slack for mp3's
    # estimated frame count.
    if len(data) + max(2304, declared // 50) < declared:
        raise MediaError(f"{label}: truncated audio: decoded {len(data)} of {declared} "
                         "samples promised by the header")
    return data.T, sr


def _decode_audio_av(path: Path, label: str, hint: str = "") -> tuple[np.ndarray, float] | None:
    """First audio stream via PyAV -> ((channels, samples) float32, sr), or None if none."""
    try:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                return None
            stream = container.streams.audio[0]
            resampler = av.AudioResampler(format="fltp")  # planar float; rate and layout kept
            chunks, sr = [], stream.rate
            for frame in container.decode(stream):
                sr = frame.sample_rate or sr
                chunks += [out.to_ndarray() for out in resampler.resample(frame)]
            chunks += [out.to_ndarray() for out in resampler.resample(None)]
            exact = _exact_track_samples(container, stream, sr)
    except _AV_ERRORS as e:
        why = f"soundfile: {hint}; PyAV: {e}" if hint else str(e)
        raise MediaError(f"{label}: cannot decode audio ({why})") from e
    channels = stream.codec_context.channels or 1
    wave = np.concatenate(chunks, axis=1) if chunks else np.zeros((channels, 0), np.float32)
    if exact is not None and wave.shape[1] > exact:
        wave = wave[:, :exact]  # the codec's end padding (AAC: up to a 1024-sample frame)
    return wave.astype(np.float32, copy=False), sr


def _exact_track_samples(container, stream, sr: float) -> int | None:
    """The audio track's true length in samples where the container records it exactly, else
    None. An AAC track in MP4/MOV decodes to whole 1024-sample frames; its edit list (which
    FFmpeg reports as the stream's duration) says where the sound really ends. The start is
    already right: FFmpeg drops the encoder's priming samples itself. Other containers (and
    MP3's estimated durations) are left as decoded."""
    if not container.format.name.startswith("mov") or not stream.duration or not stream.time_base:
        return None
    return round(float(stream.duration * stream.time_base) * sr)


def fit_length(wave: np.ndarray, num_samples: int, mode: str = "pad") -> np.ndarray:
    """Pad or crop the last axis to exactly ``num_samples``.

    Args:
        wave: (..., samples) array.
        num_samples: output length.
        mode: ``"pad"``: zeros after a short clip; ``"repeat"``: CLAP's ``repeatpad``: repeat a
            short clip a whole number of times, then pad the remainder with zeros. Long clips are
            cropped from the start in both modes.

    Returns:
        (..., num_samples) array of wave's dtype.
    """
    if mode not in ("pad", "repeat"):
        raise MediaError(f"fit_length: mode={mode!r}; expected 'pad' or 'repeat'")
    if num_samples < 1:
        raise MediaError(f"fit_length: num_samples={num_samples}; expected >= 1")
    n = wave.shape[-1]
    if n == 0:
        raise MediaError("fit_length: zero-length audio; expected at least one sample")
    if n >= num_samples:
        return wave[..., :num_samples]
    if mode == "repeat":
        wave = np.concatenate([wave] * (num_samples // n), axis=-1)
    pad = [(0, 0)] * (wave.ndim - 1) + [(0, num_samples - wave.shape[-1])]
    return np.pad(wave, pad)


# ------------------------------------------------------------------------------------ video


@dataclass(frozen=True)
class VideoInfo:
    """What :func:`probe_video` reads from a video's headers.

    Attributes:
        duration_s: length of the video stream in seconds.
        fps: average frame rate.
        num_frames: frame count from the header, or ``round(duration_s * fps)`` (an estimate).
        width, height: frame size in pixels.
        has_audio: whether the file has an audio stream.
    """

    duration_s: float
    fps: float
    num_frames: int
    width: int
    height: int
    has_audio: bool


@contextmanager
def _open_video(path: str | os.PathLike):
    path = _existing_file(path, "a video")
    try:
        container = av.open(str(path))
    except _AV_ERRORS as e:
        raise MediaError(f"{path}: cannot open video ({e}); expected a complete video file "
                         f"such as {', '.join(sorted(VIDEO_EXTS))}") from e
    try:
        if not container.streams.video:
            kinds = [s.type for s in container.streams] or ["none"]
            raise MediaError(f"{path}: no video stream (streams: {', '.join(kinds)}); "
                             "expected a video")
        yield path, container, container.streams.video[0]
    finally:
        container.close()


def _fps(stream) -> float:
    rate = stream.average_rate or stream.guessed_rate or stream.base_rate
    return float(rate) if rate else 0.0


def _video_duration(path: Path, container, stream) -> tuple[float, bool]:
    """(seconds, from_header). Falls back to demuxing the packets (mkv/webm often keep no
    per-stream duration, and the container's own includes a longer audio track)."""
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base), True
    stamps = []
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        time_base = s.time_base
        fps = _fps(s)
        # a packet without a duration (matroska SimpleBlocks often carry none) lasts one frame
        frame_ticks = round(1 / (fps * time_base)) if fps and time_base else 0
        for packet in c.demux(s):
            ts = packet.pts if packet.pts is not None else packet.dts
            if ts is not None:
                stamps += [ts, ts + (packet.duration or frame_ticks)]
    if stamps and time_base:
        return float((max(stamps) - min(stamps)) * time_base), False
    if container.duration:
        return container.duration / av.time_base, False
    fps = _fps(stream)
    return (stream.frames / fps if fps and stream.frames else 0.0), False


def probe_video(path: str | os.PathLike) -> VideoInfo:
    """Read a video's duration, frame rate, frame count, size and whether it has audio.

    Raises:
        MediaError: missing, empty or corrupt file, or no video stream.
    """
    with _open_video(path) as (path, container, stream):
        duration, _ = _video_duration(path, container, stream)
        fps = _fps(stream)
        num_frames = stream.frames or round(duration * fps)
        return VideoInfo(duration_s=duration, fps=fps, num_frames=int(num_frames),
                         width=stream.codec_context.width, height=stream.codec_context.height,
                         has_audio=bool(container.streams.audio))


def sample_video_frames(path: str | os.PathLike, num_frames: int) -> list[Image.Image]:
    """``num_frames`` evenly spaced RGB frames: the frame nearest to the centre of each of N
    equal segments of the clip, ``t_i = start + (i + 0.5) * duration / N`` (ties go to the
    earlier frame).

    Frames are decoded sequentially from the start and picked on the way (stopping after the
    last target), rather than by seeking: seeking lands on keyframes and is unreliable across
    containers, and decoding forward is fast enough for clips of up to a few minutes. Only the
    picked frames are converted and kept. If the clip has fewer frames than requested, frames
    repeat (each target still gets its nearest frame).

    Args:
        path: a video file readable by PyAV (mp4, mov, mkv, webm, avi, ...).
        num_frames: N >= 1.

    Returns:
        list of N ``PIL.Image.Image`` in RGB, in time order.

    Raises:
        MediaError: missing/corrupt/truncated file, no video stream, no decodable frames,
            ``num_frames < 1``.
    """
    if isinstance(num_frames, bool) or not isinstance(num_frames, (int, np.integer)) \
            or num_frames < 1:
        raise MediaError(f"{path}: num_frames={num_frames!r}; expected an integer >= 1")
    with _open_video(path) as (path, container, stream):
        stream.thread_type = "AUTO"
        duration, from_header = _video_duration(path, container, stream)
        fps = _fps(stream)
        picked: list[Image.Image | None] = [None] * num_frames
        targets, j, prev = None, 0, None  # prev: [time, frame, image or None]

        def image(entry):  # convert each picked frame once, even if it is picked again
            if entry[2] is None:
                entry[2] = entry[1].to_image()
            return entry[2]

        try:
            for k, frame in enumerate(container.decode(stream)):
                t = frame.time if frame.time is not None else k / (fps or 1.0)
                cur = [t, frame, None]
                if targets is None:
                    targets = t + (np.arange(num_frames) + 0.5) * duration / num_frames
                while j < num_frames and t >= targets[j]:
                    near_prev = prev is not None and targets[j] - prev[0] <= t - targets[j]
                    picked[j] = image(prev if near_prev else cur)
                    j += 1
                if j == num_frames:
                    break
                prev = cur
        except _AV_ERRORS as e:
            raise MediaError(f"{path}: corrupt or truncated video stream ({e})") from e
        if prev is None and j == 0:
            raise MediaError(f"{path}: no decodable video frames")
        if j < num_frames:
            # Targets past the last frame. A gap of more than a frame or two against the
            # header's duration means the file was cut short.
            gap = float(targets[j] - prev[0])
            if from_header and gap > max(0.5, 2.0 / (fps or 1.0)):
                raise MediaError(f"{path}: truncated video: frames end at {prev[0]:.2f} s but "
                                 f"the header says {duration:.2f} s")
            picked[j:] = [image(prev)] * (num_frames - j)
    return picked


def read_video_audio(path: str | os.PathLike, sampling_rate: int, *,
                     allow_silence: bool = False) -> np.ndarray | None:
    """The audio track of a video as float32 mono ``(samples,)`` at ``sampling_rate``, or
    ``None`` if the file has no audio stream. Errors as :func:`load_audio`."""
    _check_rate(sampling_rate, "sampling_rate", str(path))
    path = _existing_file(path, "a video")
    decoded = _decode_audio_av(path, str(path))
    if decoded is None:
        return None
    wave, sr = decoded
    return _finish_audio(wave, sr, sampling_rate, True, str(path), allow_silence)


# ---------------------------------------------------------------------------------- writing


def write_wav(path: str | os.PathLike, wave: np.ndarray, sampling_rate: int) -> Path:
    """Write 16-bit PCM WAV atomically: a temp file in the same directory, then ``os.replace``,
    so a crash never leaves a partial file at ``path``. Missing parent directories are created.

    Args:
        path: output file.
        wave: float ``(samples,)`` or ``(channels, samples)``; values outside [-1, 1] are clipped.
        sampling_rate: Hz.

    Returns:
        ``path`` as a ``Path``.

    Raises:
        MediaError: empty or non-finite audio, a bad rate, a directory that cannot be written.
    """
    path = Path(path)
    _check_rate(sampling_rate, "sampling_rate", str(path))
    if hasattr(wave, "detach"):
        wave = wave.detach().cpu().numpy()
    wave = np.asarray(wave, dtype=np.float32)
    if wave.ndim not in (1, 2) or wave.shape[-1] == 0:
        raise MediaError(f"{path}: audio of shape {wave.shape}; expected non-empty (samples,) "
                         "or (channels, samples)")
    if not np.isfinite(wave).all():
        raise MediaError(f"{path}: audio contains NaN or inf; nothing written")
    pcm = np.clip(wave, -1.0, 1.0).T  # libsndfile wraps around, not clips, on overflow
    parent = path.parent
    tmp = parent / f".{path.name}.{uuid.uuid4().hex[:8]}.tmp"
    created = False
    try:
        parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "xb") as f:
            created = True
            sf.write(f, pcm, int(sampling_rate), subtype="PCM_16", format="WAV")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        created = False
    except (OSError, sf.SoundFileError) as e:
        raise MediaError(f"{parent}: cannot write {path.name} there ({e}); expected a writable "
                         "directory") from e
    finally:
        if created:
            tmp.unlink(missing_ok=True)
    return path


# Audio codec per output container: what each container carries well and the bundled FFmpeg
# can encode (PyAV's wheels ship aac, opus and pcm encoders).
_MUX_AUDIO_CODEC = {".mp4": "aac", ".m4v": "aac", ".mov": "aac", ".mkv": "aac",
                    ".webm": "libopus", ".avi": "pcm_s16le"}


def mux_audio_into_video(video_path: str | os.PathLike, wave: np.ndarray, sampling_rate: int,
                         out_path: str | os.PathLike) -> Path:
    """Write a copy of ``video_path`` whose only audio track is ``wave``, to ``out_path``.

    The video stream is copied packet by packet (no re-encoding: no quality loss, fast); the
    original audio tracks, if any, are dropped; ``wave`` is encoded with the codec the output
    container expects (AAC for mp4/m4v/mov/mkv, Opus for webm at 48 kHz, PCM for avi). The
    output's suffix decides the container. Written atomically (temp file + rename), so an error
    never leaves a partial video at ``out_path``.

    Args:
        video_path: the source video (any container PyAV reads).
        wave: float ``(samples,)`` mono, in [-1, 1] (clipped otherwise).
        sampling_rate: of ``wave``, Hz.
        out_path: the new file; its suffix must be one of mp4, m4v, mov, mkv, webm, avi.

    Raises:
        MediaError: unreadable video, empty or non-finite audio, an unsupported output suffix,
            a directory that cannot be written.
    """
    out_path = Path(out_path)
    codec = _MUX_AUDIO_CODEC.get(out_path.suffix.lower())
    if codec is None:
        raise MediaError(f"{out_path}: cannot write a video with suffix {out_path.suffix!r}; "
                         f"expected one of {', '.join(sorted(_MUX_AUDIO_CODEC))}")
    _check_rate(sampling_rate, "sampling_rate", str(out_path))
    wave = np.asarray(wave.detach().cpu().numpy() if hasattr(wave, "detach") else wave,
                      dtype=np.float32)
    if wave.ndim != 1 or wave.size == 0:
        raise MediaError(f"{out_path}: audio of shape {wave.shape}; expected non-empty mono "
                         "(samples,)")
    if not np.isfinite(wave).all():
        raise MediaError(f"{out_path}: audio contains NaN or inf; nothing written")
    wave = np.clip(wave, -1.0, 1.0)
    rate = int(sampling_rate)
    if codec == "libopus" and rate != 48000:  # Opus encodes at 48 kHz only
        wave = librosa.resample(wave, orig_sr=rate, target_sr=48000, res_type="soxr_hq")
        wave, rate = np.clip(wave, -1.0, 1.0).astype(np.float32), 48000
    if codec == "pcm_s16le":
        fmt, data = "s16", (wave * 32767).round().astype(np.int16)[None]
    else:
        fmt, data = "fltp", wave[None]

    parent = out_path.parent
    tmp = parent / f".{out_path.stem}.{uuid.uuid4().hex[:8]}.tmp{out_path.suffix}"
    try:
        parent.mkdir(parents=True, exist_ok=True)
        with _open_video(video_path) as (src_path, src, v_in):
            try:
                with av.open(str(tmp), "w") as dst:
                    v_out = dst.add_stream_from_template(v_in)
                    a_out = dst.add_stream(codec, rate=rate)
                    a_out.layout = "mono"
                    for packet in src.demux(v_in):
                        if packet.dts is None:  # the demuxer's flush packet
                            continue
                        packet.stream = v_out
                        dst.mux(packet)
                    step = a_out.codec_context.frame_size or 1024
                    for k in range(0, data.shape[1], step):
                        frame = av.AudioFrame.from_ndarray(
                            np.ascontiguousarray(data[:, k:k + step]), format=fmt, layout="mono")
                        frame.sample_rate = rate
                        frame.pts = k
                        dst.mux(a_out.encode(frame))
                    dst.mux(a_out.encode(None))
            except _AV_ERRORS as e:
                raise MediaError(f"{src_path}: cannot copy its video stream into "
                                 f"{out_path.name} ({e})") from e
        os.replace(tmp, out_path)
    except OSError as e:
        raise MediaError(f"{parent}: cannot write {out_path.name} there ({e}); expected a "
                         "writable directory") from e
    finally:
        with suppress(OSError):  # nothing to remove where nothing could be created
            tmp.unlink(missing_ok=True)
    return out_path


# ---------------------------------------------------------------------------------- listing


def visible_files(root: str | os.PathLike, recursive: bool = True) -> list[Path]:
    """The files under ``root``, sorted, without hidden files and folders (``.git``,
    ``.ipynb_checkpoints``, macOS ``._x.jpg``): what every folder input of the kit reads."""
    root = Path(root)
    return sorted(p for p in (root.rglob("*") if recursive else root.iterdir())
                  if p.is_file()
                  and not any(part.startswith(".") for part in p.relative_to(root).parts))


def list_media(folder_or_files: str | os.PathLike | Sequence[str | os.PathLike],
               kinds: Sequence[str] = ("image", "audio", "video"),
               recursive: bool = True, warn_skipped: bool = False) -> list[Path]:
    """Media files of the given kinds.

    A folder is searched (recursively by default) by suffix, case-insensitively, skipping
    hidden files and folders (``.ipynb_checkpoints``, macOS ``._x.jpg``); the result is sorted.
    With ``warn_skipped``, the other (non-hidden) files of the folder are named in a warning.
    A single file, or a list of files, passes through as given (each must exist).

    Returns:
        list of ``Path``.

    Raises:
        MediaError: a path that does not exist, an unknown kind, a folder with no media.
    """
    kinds = (kinds,) if isinstance(kinds, str) else tuple(kinds)
    unknown = [k for k in kinds if k not in _EXTS]
    if unknown:
        raise MediaError(f"list_media: unknown kinds {unknown}; expected some of {list(_EXTS)}")
    exts = frozenset().union(*(_EXTS[k] for k in kinds))
    if not isinstance(folder_or_files, (str, os.PathLike)):
        files = [Path(p) for p in folder_or_files]
        if not files:
            raise MediaError("list_media: empty list of files")
        for p in files:
            if not p.is_file():
                raise MediaError(f"{p}: no such file")
        return files
    root = Path(folder_or_files)
    if not root.exists():
        raise MediaError(f"{root}: no such file or directory")
    if root.is_file():
        return [root]
    visible = visible_files(root, recursive)
    found = [p for p in visible if p.suffix.lower() in exts]
    skipped = [p for p in visible if p.suffix.lower() not in exts]
    if warn_skipped and skipped:
        names = ", ".join(str(p.relative_to(root)) for p in skipped[:10])
        more = f" and {len(skipped) - 10} more" if len(skipped) > 10 else ""
        warnings.warn(f"{root}: skipping {len(skipped)} file(s) that are not "
                      f"{'/'.join(kinds)} files: {names}{more}", stacklevel=2)
    if not found:
        raise MediaError(f"{root}: no {'/'.join(kinds)} files found "
                         f"{'(recursively) ' if recursive else ''}with extensions "
                         f"{', '.join(sorted(exts))}")
    return found
