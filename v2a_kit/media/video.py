"""Video, read and written with PyAV: :func:`probe_video` (:class:`VideoInfo`),
:func:`sample_video_frames`, :func:`read_video_frames` (every frame), :func:`read_video_audio`
(a video's own sound track), :func:`mux_audio_into_video` (a copy of a video with a new sound
track) and :func:`write_video` (an mp4 from frames in memory, with an optional sound track)."""

from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import av
import librosa
import numpy as np
from PIL import Image

from ..atomic import atomic_path
from ..errors import MediaError
from ._common import VIDEO_EXTS, existing_file
from .audio import (
    AV_ERRORS,
    DEFAULT_RESAMPLER,
    check_rate,
    decode_audio_av,
    finish_audio,
)


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
    path = existing_file(path, "a video")
    try:
        container = av.open(str(path))
    except AV_ERRORS as e:
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
        except AV_ERRORS as e:
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


def read_video_frames(path: str | os.PathLike, step: int = 1) -> tuple[np.ndarray, float]:
    """Every ``step``-th decoded frame of a video, one-to-one, and the frame rate they stand
    for: ``((T, H, W, 3) uint8 RGB, fps / step)``. Unlike :func:`sample_video_frames` no frame
    is picked by time: frame ``k`` of the result is decoded frame ``k · step``.

    Raises:
        MediaError: missing/corrupt file, no video stream, no decodable frames, ``step < 1``.
    """
    if isinstance(step, bool) or not isinstance(step, (int, np.integer)) or step < 1:
        raise MediaError(f"{path}: step={step!r}; expected an integer >= 1")
    with _open_video(path) as (path, container, stream):
        stream.thread_type = "AUTO"
        fps = _fps(stream)
        frames = []
        try:
            for k, frame in enumerate(container.decode(stream)):
                if k % step == 0:
                    frames.append(frame.to_ndarray(format="rgb24"))
        except AV_ERRORS as e:
            raise MediaError(f"{path}: corrupt or truncated video stream ({e})") from e
    if not frames:
        raise MediaError(f"{path}: no decodable video frames; expected at least one")
    return np.stack(frames), fps / step


def read_video_audio(path: str | os.PathLike, sampling_rate: int, *,
                     allow_silence: bool = False,
                     resampler: str | None = DEFAULT_RESAMPLER) -> np.ndarray | None:
    """The audio track of a video as float32 mono ``(samples,)`` at ``sampling_rate``, or
    ``None`` if the file has no audio stream. Errors and ``resampler`` as :func:`load_audio`."""
    check_rate(sampling_rate, "sampling_rate", str(path))
    path = existing_file(path, "a video")
    decoded = decode_audio_av(path, str(path))
    if decoded is None:
        return None
    wave, sr = decoded
    return finish_audio(wave, sr, sampling_rate, True, str(path), allow_silence, resampler)


# Audio codec per output container: what each container carries well and the bundled FFmpeg
# can encode (PyAV's wheels ship aac, opus and pcm encoders).
_MUX_AUDIO_CODEC = {".mp4": "aac", ".m4v": "aac", ".mov": "aac", ".mkv": "aac",
                    ".webm": "libopus", ".avi": "pcm_s16le"}


def _mux_samples(wave, sampling_rate: int, codec: str, out_path: Path
                 ) -> tuple[str, np.ndarray, int]:
    """``wave`` checked, clipped and laid out for ``codec``: (PyAV sample format, (1, samples)
    array, rate); Opus is resampled to 48 kHz, PCM quantised to int16."""
    check_rate(sampling_rate, "sampling_rate", str(out_path))
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
        return "s16", (wave * 32767).round().astype(np.int16)[None], rate
    return "fltp", wave[None], rate


def _mux(dst, src, v_in, codec: str, rate: int, fmt: str, data: np.ndarray) -> None:
    """Copy ``src``'s video stream ``v_in`` into ``dst`` packet by packet, and encode ``data``
    as its only (mono) audio track."""
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


def mux_audio_into_video(video_path: str | os.PathLike, wave: np.ndarray, sampling_rate: int,
                         out_path: str | os.PathLike) -> Path:
    """Write a copy of ``video_path`` whose only audio track is ``wave``, to ``out_path``.

    The video stream is copied packet by packet (no re-encoding: no quality loss, fast); the
    original audio tracks, if any, are dropped; ``wave`` is encoded with the codec the output
    container expects (AAC for mp4/m4v/mov/mkv, Opus for webm at 48 kHz, PCM for avi). The
    output's suffix decides the container. Written atomically
    (:func:`v2a_kit.atomic.atomic_path`), so an error never leaves a partial video at
    ``out_path``.

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
    fmt, data, rate = _mux_samples(wave, sampling_rate, codec, out_path)

    parent = out_path.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        with _open_video(video_path) as (src_path, src, v_in), atomic_path(out_path) as tmp:
            try:
                with av.open(str(tmp), "w") as dst:
                    _mux(dst, src, v_in, codec, rate, fmt, data)
            except AV_ERRORS as e:
                raise MediaError(f"{src_path}: cannot copy its video stream into "
                                 f"{out_path.name} ({e})") from e
    except OSError as e:
        raise MediaError(f"{parent}: cannot write {out_path.name} there ({e}); expected a "
                         "writable directory") from e
    return out_path


def write_video(path: str | os.PathLike, frames, fps: int, wave=None,
                sampling_rate: int | None = None, *, scale: int = 1, crf: int = 12) -> Path:
    """Write frames held in memory as an mp4 (H.264, yuv420p), with ``wave`` as its AAC track.

    Written atomically (:func:`v2a_kit.atomic.atomic_path`): an error leaves nothing at
    ``path``. The kit's one video writer (the pocket world's scene and timed videos use it).

    Args:
        path: the ``.mp4`` to write; missing parent folders are created.
        frames: (T, H, W, 3) uint8 RGB, or an iterable of (H, W, 3) uint8 frames (all one size).
        fps: frame rate, an int ≥ 1.
        wave: float ``(samples,)`` mono in [-1, 1] (clipped otherwise), or None for no audio.
        sampling_rate: of ``wave``, Hz (required with ``wave``).
        scale: nearest-neighbour upscaling of every frame (small frames, for viewing); H and W
            times ``scale`` must be even (yuv420p).
        crf: x264's constant rate factor (lower is closer to the frames).

    Raises:
        MediaError: a suffix other than ``.mp4``, no frames, frames of the wrong shape or dtype,
            a bad ``fps``, ``scale`` or audio, a folder that cannot be written.
    """
    path = Path(path)
    if path.suffix.lower() != ".mp4":
        raise MediaError(f"{path}: write_video writes .mp4 files")
    if isinstance(fps, bool) or not isinstance(fps, (int, np.integer)) or fps < 1:
        raise MediaError(f"{path}: fps={fps!r}; expected an int ≥ 1")
    if isinstance(scale, bool) or not isinstance(scale, (int, np.integer)) or scale < 1:
        raise MediaError(f"{path}: scale={scale!r}; expected an int ≥ 1")
    data = None
    if wave is not None:
        if sampling_rate is None:
            raise MediaError(f"{path}: audio given without its sampling_rate")
        _, data, rate = _mux_samples(wave, sampling_rate, "aac", path)
    frames = iter(frames)
    first = next(frames, None)
    if first is None:
        raise MediaError(f"{path}: no frames; expected at least one (H, W, 3) uint8 frame")
    shape = np.shape(first)
    if len(shape) != 3 or shape[2] != 3 or np.asarray(first).dtype != np.uint8 \
            or (shape[0] * scale) % 2 or (shape[1] * scale) % 2:
        raise MediaError(f"{path}: frames of shape {shape}, dtype {np.asarray(first).dtype}; "
                         "expected (H, W, 3) uint8 with H·scale and W·scale even")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp, av.open(str(tmp), "w") as c:
            v = c.add_stream("libx264", rate=int(fps))
            v.height, v.width = shape[0] * scale, shape[1] * scale
            v.pix_fmt = "yuv420p"
            v.options = {"crf": str(crf)}
            a = None
            if data is not None:
                a = c.add_stream("aac", rate=rate)
                a.layout = "mono"
            for k, frame in enumerate(_chain(first, frames)):
                if np.shape(frame) != shape:
                    raise MediaError(f"{path}: frame {k} has shape {np.shape(frame)}; expected "
                                     f"{shape} like frame 0")
                big = np.ascontiguousarray(np.asarray(frame).repeat(scale, 0).repeat(scale, 1))
                c.mux(v.encode(av.VideoFrame.from_ndarray(big, format="rgb24")))
            c.mux(v.encode(None))
            if a is not None:
                for k in range(0, data.shape[1], 1024):
                    f = av.AudioFrame.from_ndarray(np.ascontiguousarray(data[:, k:k + 1024]),
                                                   format="fltp", layout="mono")
                    f.sample_rate, f.pts = rate, k
                    c.mux(a.encode(f))
                c.mux(a.encode(None))
    except OSError as e:
        raise MediaError(f"{path.parent}: cannot write {path.name} ({e})") from e
    return path


def _chain(first, rest):
    yield first
    yield from rest
