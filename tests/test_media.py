"""v2a_kit.media: every fixture is generated here, in tmp folders (no files shipped)."""

import re

import av
import numpy as np
import pytest
import soundfile as sf
from PIL import Image

from v2a_kit.errors import MediaError
from v2a_kit.media import (
    AUDIO_EXTS,
    IMAGE_EXTS,
    VIDEO_EXTS,
    fit_length,
    list_media,
    load_audio,
    load_image,
    load_images,
    media_kind,
    mux_audio_into_video,
    probe_video,
    read_video_audio,
    sample_video_frames,
    write_wav,
)


def names(path):
    """pytest.raises(match=...) for a message that names ``path``."""
    return re.escape(str(path))


def sine(freq, sr, seconds=1.0, amp=0.5):
    t = np.arange(int(sr * seconds)) / sr
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def peak_hz(wave, sr):
    spectrum = np.abs(np.fft.rfft(wave * np.hanning(len(wave))))
    return np.fft.rfftfreq(len(wave), 1 / sr)[spectrum.argmax()]


# --------------------------------------------------------------------------------- images

def _modes():
    """(mode name, PIL image, expected RGB of pixel (0, 0))."""
    rgba = Image.new("RGBA", (16, 12), (255, 0, 0, 128))
    p_trans = Image.new("P", (16, 12), 1)
    p_trans.putpalette([0, 0, 0, 0, 255, 0] + [0] * 762)
    p_trans.info["transparency"] = 1
    p = Image.new("P", (16, 12), 1)
    p.putpalette([0, 0, 0, 0, 255, 0] + [0] * 762)
    return [
        ("RGB", Image.new("RGB", (16, 12), (1, 2, 3)), (1, 2, 3)),
        ("RGBA", rgba, (255, 127, 127)),  # half-transparent red over white
        ("RGBA-clear", Image.new("RGBA", (16, 12), (0, 0, 0, 0)), (255, 255, 255)),
        ("L", Image.new("L", (16, 12), 77), (77, 77, 77)),
        ("LA", Image.new("LA", (16, 12), (0, 0)), (255, 255, 255)),
        ("CMYK-white", Image.new("CMYK", (16, 12), (0, 0, 0, 0)), (255, 255, 255)),
        ("CMYK-cyan", Image.new("CMYK", (16, 12), (255, 0, 0, 0)), (0, 255, 255)),
        ("CMYK-black", Image.new("CMYK", (16, 12), (0, 0, 0, 255)), (0, 0, 0)),
        ("P", p, (0, 255, 0)),
        ("P-transparent", p_trans, (255, 255, 255)),
        ("I;16", Image.new("I;16", (16, 12), 32896), (128, 128, 128)),  # 32896 / 257 = 128
        ("I;16-dark", Image.new("I;16", (16, 12), 1028), (4, 4, 4)),  # scaled, not clipped
        ("I-8bit", Image.new("I", (16, 12), 200), (200, 200, 200)),
        ("I-16bit", Image.new("I", (16, 12), 65535), (255, 255, 255)),
        ("F-unit", Image.new("F", (16, 12), 0.5), (128, 128, 128)),
        ("F-255", Image.new("F", (16, 12), 200.0), (200, 200, 200)),
        ("1", Image.new("1", (16, 12), 1), (255, 255, 255)),
    ]


@pytest.mark.parametrize("label, im, rgb", _modes(), ids=[m[0] for m in _modes()])
def test_load_image_modes(label, im, rgb):
    out = load_image(im)
    assert out.mode == "RGB" and out.size == (16, 12)
    assert out.getpixel((0, 0)) == rgb


@pytest.mark.parametrize("mode, fmt", [("RGB", "PNG"), ("RGBA", "PNG"), ("L", "PNG"),
                                       ("LA", "PNG"), ("P", "PNG"), ("I;16", "PNG"),
                                       ("1", "PNG"), ("CMYK", "JPEG"), ("RGB", "JPEG"),
                                       ("F", "TIFF"), ("RGB", "WEBP")])
def test_load_image_files(tmp_path, mode, fmt):
    base = Image.new("RGB", (20, 10), (30, 60, 90))
    im = Image.new("I;16", (20, 10), 65535) if mode == "I;16" else base.convert(mode)
    path = tmp_path / f"img.{fmt.lower()}"
    im.save(path, fmt)
    out = load_image(path)
    assert out.mode == "RGB" and out.size == (20, 10)
    if mode == "I;16":
        assert out.getpixel((0, 0)) == (255, 255, 255)


def test_load_image_applies_exif_orientation(tmp_path):
    path = tmp_path / "rotated.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    Image.new("RGB", (40, 20)).save(path, exif=exif)
    assert load_image(path).size == (20, 40)


@pytest.mark.parametrize("shape, dtype, scale", [((12, 16), np.uint8, 255),
                                                 ((12, 16, 1), np.uint8, 255),
                                                 ((12, 16, 3), np.uint8, 255),
                                                 ((12, 16, 4), np.uint8, 255),
                                                 ((12, 16, 3), np.float32, 1.0),
                                                 ((12, 16), np.float64, 1.0)])
def test_load_image_arrays(shape, dtype, scale):
    a = np.full(shape, scale, dtype)
    out = load_image(a)
    assert out.mode == "RGB" and out.size == (16, 12)
    assert out.getpixel((0, 0)) == (255, 255, 255)


@pytest.mark.parametrize("array, why", [
    (np.full((12, 16, 3), 1.5, np.float32), r"\[0, 1\]"),
    (np.full((12, 16, 3), -0.1, np.float32), r"\[0, 1\]"),
    (np.full((12, 16, 3), np.nan, np.float32), "NaN"),
    (np.zeros((12, 16, 2), np.uint8), "expected"),
    (np.zeros((2, 12, 16, 3), np.uint8), "expected"),
    (np.zeros((12, 16, 3), np.int32), "dtype"),
    (np.zeros((0, 16, 3), np.uint8), "zero-size"),
])
def test_load_image_bad_arrays(array, why):
    with pytest.raises(MediaError, match=why):
        load_image(array)
    with pytest.raises(MediaError, match="image #1"):
        load_images([np.zeros((12, 16, 3), np.uint8), array])


def _noise_image(path, fmt):
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(path, fmt)
    return path.read_bytes()


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_load_image_truncated(tmp_path, fmt):
    path = tmp_path / f"cut.{fmt.lower()}"
    data = _noise_image(path, fmt)
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(MediaError, match=names(path)):
        load_image(path)
    # ... also when opened lazily by the caller and passed as a PIL image
    with Image.open(path) as lazy, pytest.raises(MediaError, match="cannot decode"):
        load_image(lazy)


def test_load_image_bad_files(tmp_path):
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    junk = tmp_path / "junk.png"
    junk.write_bytes(b"this is not a PNG" * 10)
    for path, why in [(empty, "0 bytes"), (junk, "cannot read"),
                      (tmp_path / "missing.jpg", "no such file")]:
        with pytest.raises(MediaError, match=names(path) + ".*" + why):
            load_image(path)
    with pytest.raises(MediaError, match="expected a path"):
        load_image(42)


def test_load_image_sizes():
    with pytest.raises(MediaError, match="zero-size"):
        load_image(Image.new("RGB", (0, 10)))
    with pytest.raises(MediaError, match="4x100.*at least 8 px"):
        load_image(Image.new("RGB", (4, 100)))
    assert load_image(Image.new("RGB", (4, 100)), min_size=4).size == (4, 100)


# ---------------------------------------------------------------------------------- audio

FORMATS = {"wav": {}, "flac": {}, "ogg": {"subtype": "VORBIS"},
           "mp3": {"subtype": "MPEG_LAYER_III"}}


@pytest.mark.parametrize("ext, orig_sr", [("wav", 8000), ("wav", 11025), ("wav", 96000),
                                          ("flac", 22050), ("flac", 44100), ("ogg", 44100),
                                          ("ogg", 16000), ("mp3", 22050), ("mp3", 44100)])
def test_load_audio_files_resample(tmp_path, ext, orig_sr):
    path = tmp_path / f"sine.{ext}"
    sf.write(path, sine(440, orig_sr), orig_sr, **FORMATS[ext])
    wave = load_audio(path, 16000)
    assert wave.dtype == np.float32 and wave.ndim == 1
    # lossy codecs add a little encoder delay/padding
    assert abs(len(wave) - 16000) <= (0 if ext in ("wav", "flac") else 1200)
    assert abs(peak_hz(wave, 16000) - 440) < 3
    assert 0.3 < np.abs(wave).max() < 0.7


def test_load_audio_stereo_file_is_averaged(tmp_path):
    left, right = sine(440, 16000), sine(1000, 16000, amp=0.25)
    path = tmp_path / "stereo.wav"
    sf.write(path, np.stack([left, right], axis=1), 16000, subtype="FLOAT")  # (n, ch) on disk
    np.testing.assert_allclose(load_audio(path, 16000), (left + right) / 2, atol=1e-6)
    both = load_audio(path, 16000, mono=False)
    assert both.shape == (2, 16000)
    np.testing.assert_allclose(both[1], right, atol=1e-6)
    assert load_audio(path, 48000).shape == (48000,)


def test_load_audio_arrays():
    left, right = sine(440, 8000), sine(300, 8000)
    np.testing.assert_allclose(load_audio((np.stack([left, right]), 8000), 8000),
                               (left + right) / 2, atol=1e-6)
    assert load_audio(left, 16000, orig_sr=8000).shape == (16000,)
    pcm16 = (left * 32768).astype(np.int16)
    np.testing.assert_allclose(load_audio((pcm16, 8000), 8000), left, atol=1e-4)
    with pytest.raises(MediaError, match="orig_sr"):
        load_audio(left, 16000)
    with pytest.raises(MediaError, match=r"\(channels, samples\).*\.T"):
        load_audio((np.stack([left, right], axis=1), 8000), 8000)  # soundfile's (n, ch)
    with pytest.raises(MediaError, match="sample rate"):
        load_audio((left, 0), 16000)


@pytest.mark.parametrize("wave, why", [
    (np.zeros(0, np.float32), "zero-length"),
    (np.full(100, np.nan, np.float32), "NaN or inf"),
    (np.full((2, 100), np.inf, np.float32), "NaN or inf"),
    (np.r_[np.ones(99), np.nan].astype(np.float32), "1 of 100 samples"),
    (np.zeros(100, np.float32), "silence.*allow_silence"),
])
def test_load_audio_bad_arrays(wave, why):
    with pytest.raises(MediaError, match="clip #7.*" + why):
        load_audio((wave, 16000), 16000, name="clip #7")


def test_load_audio_bad_files(tmp_path):
    silent = tmp_path / "silent.wav"
    sf.write(silent, np.zeros(1600, np.float32), 16000)
    with pytest.raises(MediaError, match=names(silent) + ".*silence"):
        load_audio(silent, 16000)
    assert not load_audio(silent, 16000, allow_silence=True).any()

    zero = tmp_path / "zero.wav"
    sf.write(zero, np.zeros(0, np.float32), 16000)
    with pytest.raises(MediaError, match=names(zero) + ".*zero-length"):
        load_audio(zero, 16000)

    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    junk = tmp_path / "junk.wav"
    junk.write_bytes(b"not audio at all" * 50)
    for path, why in [(empty, "0 bytes"), (junk, "cannot decode"),
                      (tmp_path / "missing.flac", "no such file")]:
        with pytest.raises(MediaError, match=names(path) + ".*" + why):
            load_audio(path, 16000)


@pytest.mark.parametrize("ext", ["wav", "flac", "ogg", "mp3"])
def test_load_audio_truncated(tmp_path, ext):
    path = tmp_path / f"cut.{ext}"
    sf.write(path, sine(440, 22050), 22050, **FORMATS[ext])
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(MediaError, match=names(path) + ".*(truncated|cannot decode)"):
        load_audio(path, 16000)


def test_load_audio_pyav_fallback_m4a(tmp_path):
    path = tmp_path / "sine.m4a"
    write_audio_only(path, sine(440, 22050, seconds=1.0), 22050)
    wave = load_audio(path, 16000)
    assert len(wave) == 16000  # not padded to whole 1024-sample AAC frames (16384)
    assert abs(peak_hz(wave, 16000) - 440) < 3


def test_fit_length():
    wave = np.array([1.0, 2.0, 3.0], np.float32)
    np.testing.assert_array_equal(fit_length(wave, 5), [1, 2, 3, 0, 0])
    np.testing.assert_array_equal(fit_length(wave, 2), [1, 2])
    # CLAP's repeatpad: whole repeats, then zeros
    np.testing.assert_array_equal(fit_length(wave, 8, mode="repeat"), [1, 2, 3, 1, 2, 3, 0, 0])
    assert fit_length(np.ones((2, 3)), 7, mode="repeat").shape == (2, 7)
    np.testing.assert_array_equal(fit_length(wave, 3, mode="repeat"), wave)
    with pytest.raises(MediaError, match="mode"):
        fit_length(wave, 5, mode="loop")
    with pytest.raises(MediaError, match="zero-length"):
        fit_length(wave[:0], 5, mode="repeat")


# ---------------------------------------------------------------------------------- video

FPS, NUM, SIZE = 10, 20, 64


def frame_index(image):
    """The test videos paint frame k in grey level 10 + 12 k."""
    return round((np.asarray(image, np.float32).mean() - 10) / 12)


def write_video(path, audio=False, codec="libx264"):
    with av.open(str(path), "w") as c:
        v = c.add_stream(codec, rate=FPS)
        v.width = v.height = SIZE
        v.pix_fmt = "yuv420p"
        if codec == "libx264":
            v.options = {"crf": "0"}  # lossless: grey levels survive exactly
        a = c.add_stream("aac", rate=16000) if audio else None
        if a is not None:
            a.layout = "mono"
        for k in range(NUM):
            frame = np.full((SIZE, SIZE, 3), 10 + 12 * k, np.uint8)
            c.mux(v.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        c.mux(v.encode(None))
        if a is not None:
            _encode_audio(c, a, sine(440, 16000, seconds=NUM / FPS), 16000)
    return path


def _encode_audio(container, stream, wave, sr):
    for k in range(0, len(wave), 1024):
        frame = av.AudioFrame.from_ndarray(wave[None, k:k + 1024], format="fltp", layout="mono")
        frame.sample_rate = sr
        frame.pts = k  # timestamps let the muxer record AAC's priming and padding (edit list)
        container.mux(stream.encode(frame))
    container.mux(stream.encode(None))


def write_audio_only(path, wave, sr):
    with av.open(str(path), "w") as c:
        a = c.add_stream("aac", rate=sr)
        a.layout = "mono"
        _encode_audio(c, a, wave, sr)
    return path


@pytest.fixture(scope="module")
def videos(tmp_path_factory):
    d = tmp_path_factory.mktemp("videos")
    return {"mp4": write_video(d / "clip.mp4", audio=True),
            "silent": write_video(d / "noaudio.mp4"),
            "mkv": write_video(d / "clip.mkv"),  # no per-stream duration: demux fallback
            "webm": write_video(d / "clip.webm", codec="libvpx")}


def test_probe_video(videos):
    info = probe_video(videos["mp4"])
    assert info.duration_s == pytest.approx(2.0) and info.fps == pytest.approx(10.0)
    assert (info.num_frames, info.width, info.height, info.has_audio) == (20, 64, 64, True)
    assert not probe_video(videos["silent"]).has_audio
    assert probe_video(videos["mkv"]).duration_s == pytest.approx(2.0)


@pytest.mark.parametrize("kind", ["mp4", "mkv"])
@pytest.mark.parametrize("n, expected", [(1, [10]), (3, [3, 10, 17]), (5, [2, 6, 10, 14, 18])])
def test_sample_video_frames_evenly_spaced(videos, kind, n, expected):
    frames = sample_video_frames(videos[kind], n)
    assert all(f.mode == "RGB" and f.size == (SIZE, SIZE) for f in frames)
    assert [frame_index(f) for f in frames] == expected


def test_sample_video_frames_more_than_available(videos):
    n = 48
    targets = (np.arange(n) + 0.5) * (NUM / FPS) / n
    expected = [int(np.abs(np.arange(NUM) / FPS - t).argmin()) for t in targets]
    got = [frame_index(f) for f in sample_video_frames(videos["webm"], n)]
    assert got == expected  # vp8 is lossy, but the grey steps are wide
    assert len(set(got)) == NUM  # every frame used, some twice


def test_read_video_audio(videos):
    wave = read_video_audio(videos["mp4"], 16000)
    assert wave.dtype == np.float32 and len(wave) == 32000  # the track's length, exactly
    assert abs(peak_hz(wave, 16000) - 440) < 3
    written = sine(440, 16000, seconds=NUM / FPS)  # and in time: no priming samples in front
    assert np.corrcoef(wave[1000:-1000], written[1000:-1000])[0, 1] > 0.99
    assert read_video_audio(videos["silent"], 16000) is None
    with pytest.raises(MediaError, match=names(videos["silent"]) + ".*no audio stream"):
        load_audio(videos["silent"], 16000)


def test_video_bad_inputs(tmp_path, videos):
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(np.random.default_rng(0).bytes(4096))
    cut = tmp_path / "cut.mp4"
    data = videos["mp4"].read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    audio_only = write_audio_only(tmp_path / "audio.m4a", sine(440, 16000), 16000)
    for path, why in [(junk, "cannot open"), (cut, "cannot open|truncated"),
                      (empty, "0 bytes"), (audio_only, "no video stream"),
                      (tmp_path / "missing.mp4", "no such file")]:
        with pytest.raises(MediaError, match=names(path) + ".*(" + why + ")"):
            sample_video_frames(path, 4)
    with pytest.raises(MediaError, match=names(audio_only) + ".*no video stream"):
        probe_video(audio_only)
    with pytest.raises(MediaError, match=names(videos["mp4"]) + ".*num_frames"):
        sample_video_frames(videos["mp4"], 0)


# -------------------------------------------------------------------------- write & list

def test_write_wav_roundtrip(tmp_path):
    wave = np.array([0.0, 0.5, -0.5, 1.5, -2.0], np.float32)
    path = write_wav(tmp_path / "new" / "out.wav", wave, 22050)
    pcm, sr = sf.read(path, dtype="int16")
    assert sr == 22050 and sf.info(path).subtype == "PCM_16"
    np.testing.assert_array_equal(pcm, [0, 16384, -16384, 32767, -32768])  # clipped, no wrap
    assert [p.name for p in path.parent.iterdir()] == ["out.wav"]  # no temp file left


def test_write_wav_failures_leave_nothing(tmp_path):
    not_a_dir = tmp_path / "file.txt"
    not_a_dir.write_text("x")
    with pytest.raises(MediaError, match=names(not_a_dir)):
        write_wav(not_a_dir / "out.wav", np.zeros(10, np.float32), 16000)

    existing = write_wav(tmp_path / "keep.wav", np.full(10, 0.25, np.float32), 16000)
    before = existing.read_bytes()
    with pytest.raises(MediaError, match="NaN"):
        write_wav(existing, np.full(10, np.nan, np.float32), 16000)
    assert existing.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file.txt", "keep.wav"]


def test_media_kind_and_exts():
    assert media_kind("a/B.JPG") == "image" and media_kind("x.flac") == "audio"
    assert media_kind("x.webm") == "video" and media_kind("notes.txt") is None
    assert {".wav", ".flac", ".ogg", ".mp3"} <= AUDIO_EXTS
    assert VIDEO_EXTS == {".mp4", ".mov", ".mkv", ".webm", ".avi", ".m4v"}
    assert not (IMAGE_EXTS & AUDIO_EXTS) and not (AUDIO_EXTS & VIDEO_EXTS)


def test_list_media(tmp_path):
    for rel in ["b.png", "a.JPG", "sub/c.wav", "sub/d.mp4", "notes.txt",
                ".hidden/e.png", "._f.png"]:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(b"x")
    rel = lambda paths: [p.relative_to(tmp_path).as_posix() for p in paths]  # noqa: E731
    assert rel(list_media(tmp_path)) == ["a.JPG", "b.png", "sub/c.wav", "sub/d.mp4"]
    assert rel(list_media(tmp_path, kinds=("audio",))) == ["sub/c.wav"]
    assert rel(list_media(tmp_path, kinds="image", recursive=False)) == ["a.JPG", "b.png"]
    given = [tmp_path / "sub/d.mp4", tmp_path / "b.png"]
    assert list_media(given) == given  # order kept

    with pytest.raises(MediaError, match=names(tmp_path / "sub") + ".*image.*extensions"):
        list_media(tmp_path / "sub", kinds=("image",), recursive=False)
    with pytest.raises(MediaError, match=names(tmp_path / "nope")):
        list_media(tmp_path / "nope")
    with pytest.raises(MediaError, match=names(tmp_path / "gone.png")):
        list_media([tmp_path / "b.png", tmp_path / "gone.png"])
    with pytest.raises(MediaError, match="unknown kinds"):
        list_media(tmp_path, kinds=("text",))


# ------------------------------------------------------------------------------ muxing audio in
@pytest.mark.parametrize("suffix, codec", [(".mp4", "libx264"), (".webm", "libvpx"),
                                           (".avi", "mpeg4"), (".mkv", "libx264")])
def test_mux_audio_into_video_replaces_the_track_and_keeps_the_frames(tmp_path, suffix, codec):
    src = write_video(tmp_path / f"in{suffix}", audio=suffix == ".mp4", codec=codec)
    wave = sine(330, 16000, seconds=NUM / FPS)
    out = mux_audio_into_video(src, wave, 16000, tmp_path / f"out{suffix}")
    info = probe_video(out)
    assert info.has_audio and info.num_frames == probe_video(src).num_frames
    assert [frame_index(f) for f in sample_video_frames(out, 4)] == \
        [frame_index(f) for f in sample_video_frames(src, 4)]  # frames copied, not re-encoded
    track = read_video_audio(out, 16000)
    n = min(len(track), len(wave)) - 2000
    assert np.corrcoef(track[1000:n], wave[1000:n])[0, 1] > 0.99  # the new track, not 440 Hz
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_mux_audio_into_video_bad_input_leaves_nothing(tmp_path, videos):
    wave = sine(330, 16000, seconds=1.0)
    with pytest.raises(MediaError, match="suffix '.gif'"):
        mux_audio_into_video(videos["mp4"], wave, 16000, tmp_path / "out.gif")
    with pytest.raises(MediaError, match="NaN"):
        mux_audio_into_video(videos["mp4"], wave * np.nan, 16000, tmp_path / "out.mp4")
    corrupt = tmp_path / "corrupt.mp4"
    corrupt.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 8)
    with pytest.raises(MediaError, match="corrupt.mp4"):
        mux_audio_into_video(corrupt, wave, 16000, tmp_path / "out.mp4")
    blocker = tmp_path / "blocker"
    blocker.write_text("a file")
    with pytest.raises(MediaError, match="cannot write"):
        mux_audio_into_video(videos["mp4"], wave, 16000, blocker / "out.mp4")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["blocker", "corrupt.mp4"]
