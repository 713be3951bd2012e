"""Encoders and loaders: shapes, normalisation, spaces, batching, video/audio inputs, and the
`paper` preset's real architectures and offline failure."""


import numpy as np
import pytest
import soundfile as sf
import torch
from PIL import Image

from v2a_kit import (
    ConfigError,
    EmbeddingError,
    Embeddings,
    MediaError,
    Space,
    WeightsNotFoundError,
    list_presets,
    load_clap,
    load_clip,
)
from v2a_kit.encoders import AGGREGATORS


def _unit(e: Embeddings):
    assert e.embeds.dtype == torch.float32
    assert torch.allclose(e.embeds.norm(dim=1), torch.ones(len(e)), atol=1e-5)


def _images(rng):
    rgb = rng.integers(0, 256, (40, 48, 3), dtype=np.uint8)
    base = Image.fromarray(rgb)
    return [base, base.convert("RGBA"), base.convert("L"), base.convert("CMYK"),
            base.convert("P"), rgb, rgb.astype(np.float32) / 255.0]


def test_presets_listed():
    assert {"paper", "tiny"} <= set(list_presets())
    with pytest.raises(ConfigError, match="nope"):
        load_clip("nope")


def test_clip_images_any_mode(tiny_clip, rng, tmp_path):
    imgs = _images(rng)
    path = tmp_path / "x.png"
    imgs[0].save(path)
    e = tiny_clip.encode_images(imgs + [path])
    assert e.shape == (len(imgs) + 1, tiny_clip.space.dim)
    _unit(e)
    assert e.space == tiny_clip.space and e.sources[-1] == str(path)
    # the same picture given as PIL, array or file is the same embedding
    assert torch.allclose(e.embeds[0], e.embeds[5], atol=1e-6)
    assert torch.allclose(e.embeds[0], e.embeds[-1], atol=1e-6)
    # different content, different embedding
    assert not torch.allclose(e.embeds[0], e.embeds[2], atol=1e-3)


def test_clip_batching_is_invisible(tiny_clip, rng):
    imgs = [Image.fromarray(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)) for _ in range(5)]
    a = tiny_clip.encode_images(imgs, batch_size=5)
    b = tiny_clip.encode_images(imgs, batch_size=2, progress=False)
    assert torch.allclose(a.embeds, b.embeds, atol=1e-5)


def test_clip_text(tiny_clip):
    e = tiny_clip.encode_text(["a red circle", "two blue squares"])
    assert e.shape == (2, tiny_clip.space.dim)
    _unit(e)
    assert not torch.allclose(e.embeds[0], e.embeds[1])
    with pytest.raises(ValueError, match="texts"):
        tiny_clip.encode_text([])


def test_tiny_is_deterministic(tiny_clip):
    again = load_clip("tiny", device="cpu")
    t = ["a dog barks"]
    assert torch.equal(again.encode_text(t).embeds, tiny_clip.encode_text(t).embeds)


def test_clip_bad_images(tiny_clip, tmp_path):
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"not an image at all")
    with pytest.raises(MediaError, match="broken.png"):
        tiny_clip.encode_images([bad])
    with pytest.raises(MediaError):
        tiny_clip.encode_images([])


def _write_video(path, n_frames=12, fps=6, size=32):
    import av
    with av.open(str(path), "w") as out:
        st = out.add_stream("mpeg4", rate=fps)
        st.width = st.height = size
        st.pix_fmt = "yuv420p"
        for i in range(n_frames):
            arr = np.full((size, size, 3), int(255 * i / (n_frames - 1)), np.uint8)
            for pkt in st.encode(av.VideoFrame.from_ndarray(arr, format="rgb24")):
                out.mux(pkt)
        for pkt in st.encode():
            out.mux(pkt)


def test_clip_video_aggregators(tiny_clip, tmp_path):
    video = tmp_path / "clip.mp4"
    _write_video(video)
    outs = {a: tiny_clip.encode_video(video, num_frames=4, aggregate=a) for a in AGGREGATORS}
    for e in outs.values():
        assert e.shape == (1, tiny_clip.space.dim)
        _unit(e)
        assert e.sources == [str(video)]
    # mean of the frame embeddings, renormalised, is what "mean" means
    from v2a_kit import media
    frames = tiny_clip.encode_images(media.sample_video_frames(video, 4))
    mean = torch.nn.functional.normalize(frames.embeds.mean(0), dim=0)
    assert torch.allclose(outs["mean"].embeds[0], mean, atol=1e-5)
    with pytest.raises(ConfigError, match="aggregate"):
        tiny_clip.encode_video(video, aggregate="max-pool-please")
    corrupt = tmp_path / "corrupt.mp4"
    corrupt.write_bytes(video.read_bytes()[:200])
    with pytest.raises(MediaError, match="corrupt.mp4"):
        tiny_clip.encode_video(corrupt)


def test_clip_frame_groups_share_batches_and_aggregate_each_group(tiny_clip, tmp_path):
    from v2a_kit import media
    video = tmp_path / "clip.mp4"
    _write_video(video)
    frames = media.sample_video_frames(video, 6)
    groups = (g for g in (frames[:4], frames[4:5], frames[5:]))  # a generator, read once
    out = tiny_clip.encode_frame_groups(groups, "median", batch_size=3, sources=["a", "b", "c"])
    assert out.shape == (3, tiny_clip.space.dim) and out.sources == ["a", "b", "c"]
    single = tiny_clip.encode_images(frames)
    median = torch.nn.functional.normalize(single.embeds[:4].median(0).values, dim=0)
    assert torch.allclose(out.embeds[0], median, atol=1e-5)
    assert torch.allclose(out.embeds[1:], single.embeds[4:], atol=1e-5)  # one frame: itself
    with pytest.raises(MediaError, match="frame group #1 is empty"):
        tiny_clip.encode_frame_groups([frames[:1], []])
    with pytest.raises(ConfigError, match="aggregate must be one of .*'max'"):
        tiny_clip.encode_frame_groups([frames], "max")


def test_clap_audio_rates_and_channels(tiny_clap, tmp_path):
    sr = 22050
    t = np.arange(int(1.5 * sr)) / sr
    tone = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    sf.write(tmp_path / "mono.wav", tone, sr, subtype="FLOAT")
    sf.write(tmp_path / "stereo.wav", np.stack([tone, tone], 1), sr, subtype="FLOAT")
    sf.write(tmp_path / "16bit.flac", tone, sr)
    sf.write(tmp_path / "other-rate.ogg", tone[::2], sr // 2)
    e = tiny_clap.encode_audio([tmp_path / "mono.wav", tmp_path / "stereo.wav", (tone, sr),
                                tmp_path / "16bit.flac", tmp_path / "other-rate.ogg"])
    assert e.shape == (5, tiny_clap.space.dim)
    _unit(e)
    # stereo made of two identical channels is the mono clip; a (wave, sr) tuple is the file
    assert torch.allclose(e.embeds[0], e.embeds[1], atol=1e-5)
    assert torch.allclose(e.embeds[0], e.embeds[2], atol=1e-5)
    # 16-bit FLAC and a lossy ogg at half the rate: the same tone, nearly the same embedding
    assert (e.embeds[3:] @ e.embeds[0]).min() > 0.95


def test_clap_long_audio_is_cropped_deterministically(tiny_clap, rng):
    sr = tiny_clap.sampling_rate
    long = (0.1 * rng.standard_normal(int(sr * (tiny_clap.max_length_s + 3)))).astype(np.float32)
    a = tiny_clap.encode_audio((long, sr))
    b = tiny_clap.encode_audio((long, sr))
    assert torch.equal(a.embeds, b.embeds)


def test_clap_bad_audio(tiny_clap, tmp_path):
    sr = 16000
    sf.write(tmp_path / "silent.wav", np.zeros(sr, np.float32), sr)
    sf.write(tmp_path / "empty.wav", np.zeros(0, np.float32), sr)
    for name in ("silent.wav", "empty.wav"):
        with pytest.raises(MediaError, match=name):
            tiny_clap.encode_audio(tmp_path / name)
    with pytest.raises(MediaError):
        tiny_clap.encode_audio((np.full(sr, np.nan, np.float32), sr))


def test_clap_text(tiny_clap):
    e = tiny_clap.encode_text(["a dog barks", "rain on a tin roof", ""])
    assert e.shape == (3, tiny_clap.space.dim)
    _unit(e)
    assert tiny_clap.space.family == "clap" and tiny_clap.space != load_clip("tiny").space


def test_embeddings_contract():
    space = Space("clap", "m", "c", 3)
    with pytest.raises(EmbeddingError, match="dimension 4"):
        Embeddings(torch.ones(2, 4) / 2, space)
    with pytest.raises(EmbeddingError, match="NaN"):
        Embeddings(torch.tensor([[float("nan"), 0, 0]]), space)
    with pytest.raises(EmbeddingError, match="L2-normalised"):
        Embeddings(torch.ones(1, 3), space)


# --- paper preset: real architectures at random init, and the offline failure -------------
@pytest.mark.slow
def test_paper_clip_architecture_at_random_init(rng):
    """ViT-L-14 as the paper uses it: 224 px input, 768-d image embeddings, ~428 M params."""
    clip = load_clip("paper", random_init=True, device="cpu")
    n_params = sum(p.numel() for p in clip.model.parameters())
    assert abs(n_params - 427.6e6) / 427.6e6 < 0.01
    assert clip.space.dim == 768 and clip.space.model == "open_clip/ViT-L-14"
    e = clip.encode_images([rng.integers(0, 256, (300, 200, 3), dtype=np.uint8)])
    assert e.shape == (1, 768)
    _unit(e)


def _hub_env(monkeypatch, offline: bool) -> None:
    """Offline mode asked for, or not (then only the unreachable network stops the download)."""
    for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        if offline:
            monkeypatch.setenv(var, "1")
        else:
            monkeypatch.delenv(var, raising=False)


@pytest.mark.parametrize("offline_env", [True, False])
def test_paper_clip_offline_fails_fast_and_clearly(offline_env, monkeypatch, empty_hf_cache):
    _hub_env(monkeypatch, offline_env)
    with pytest.raises(WeightsNotFoundError) as info:
        load_clip("paper", device="cpu")
    msg = str(info.value)
    assert "vit_large_patch14_clip_224.openai" in msg
    assert "V2A_KIT_WEIGHTS" in msg and "pocket" in msg and str(empty_hf_cache) in msg
    assert "Traceback" not in msg


def test_pretrained_clip_loads_from_a_local_file(tmp_path, monkeypatch, empty_hf_cache, rng):
    """The real loading path (resolve a file -> open_clip loads it) with a local copy:
    weights saved from one model come back as the same embeddings."""
    from safetensors.torch import save_file
    src = load_clip("ViT-B-32/openai", random_init=True, device="cpu")
    with torch.no_grad():  # make the weights differ from the loader's own random init
        for p in src.model.parameters():
            p.add_(0.01 * torch.randn_like(p))
    file = tmp_path / "open_clip_model.safetensors"
    save_file({k: v.contiguous() for k, v in src.model.state_dict().items()}, str(file))
    img = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)
    for where in (file, tmp_path):
        got = load_clip("ViT-B-32/openai", weights=where, device="cpu")
        assert got.space.checkpoint == "openai"
        assert torch.allclose(got.encode_images([img]).embeds,
                              src.encode_images([img]).embeds, atol=1e-5)
    monkeypatch.setenv("V2A_KIT_WEIGHTS", str(tmp_path))
    assert load_clip("ViT-B-32/openai", device="cpu").source["file"] == str(file)


def test_device_choice():
    from v2a_kit.devices import best_device, default_dtype, resolve_device
    assert resolve_device(None) == best_device()
    assert resolve_device("cpu") == torch.device("cpu")
    assert default_dtype(torch.device("cpu")) == torch.float32
    assert default_dtype(torch.device("cuda")) == torch.float16


@pytest.mark.slow
def test_paper_clap_architecture_at_random_init(rng):
    """AudioLDM's CLAP as ClapModel: HTSAT-tiny + RoBERTa-base, 48 kHz / 10 s input, 512-d."""
    clap = load_clap("paper", random_init=True, device="cpu")
    n_params = sum(p.numel() for p in clap.model.parameters())
    assert 150e6 < n_params < 160e6
    assert clap.sampling_rate == 48000 and clap.max_length_s == 10
    wave = (0.1 * rng.standard_normal(16000 * 3)).astype(np.float32)
    a = clap.encode_audio((wave, 16000))
    t = clap.encode_text(["a dog barks"])
    assert a.shape == t.shape == (1, 512)
    _unit(a)
    assert a.space == t.space == clap.space and clap.space.model == "audioldm/clap-htsat-tiny"


@pytest.mark.parametrize("name", ["paper", "laion-630k-audioset-best"])
@pytest.mark.parametrize("offline_env", [True, False])
def test_paper_clap_offline_fails_fast_and_clearly(name, offline_env, monkeypatch,
                                                    empty_hf_cache, tmp_path):
    monkeypatch.setenv("V2A_KIT_CACHE", str(tmp_path / "kit-cache"))
    _hub_env(monkeypatch, offline_env)
    with pytest.raises(WeightsNotFoundError) as info:
        load_clap(name, device="cpu")
    msg = str(info.value)
    assert ("audioldm-s-full" if name == "paper" else "630k-audioset-best.pt") in msg
    assert "V2A_KIT_WEIGHTS" in msg and "pocket" in msg


def test_paper_spaces_agree_by_name():
    """load_clap('paper') and load_audioldm('paper') declare one conditioning space."""
    from v2a_kit.presets import get_preset
    from v2a_kit.registry import PAPER_CLAP_SPACE, get_model_entry
    assert get_preset("paper").clap == "audioldm-s-full-clap"
    assert get_model_entry("audioldm-s-full-clap", "clap").space == PAPER_CLAP_SPACE
    assert get_model_entry(get_preset("paper").audioldm, "audioldm").space == PAPER_CLAP_SPACE
