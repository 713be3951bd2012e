"""AudioLDM generation: tiny components (fixed seeds, 2-3 steps), the paper's loader offline and
its real-size architecture at random init."""

import dataclasses

import numpy as np
import pytest
import torch

from v2a_kit import ConfigError, EmbeddingError, SpaceMismatchError, WeightsNotFoundError
from v2a_kit.configs import TINY_SEED
from v2a_kit.generation import (
    check_space,
    encode_prompt,
    generate,
    make_scheduler,
)
from v2a_kit.models.audioldm import PAPER_REPO
from v2a_kit.registry import PAPER_CLAP_SPACE, load_audioldm
from v2a_kit.spaces import Embeddings, Space
from v2a_kit.weights import hub_reachable

STEPS = 3


@pytest.fixture(scope="module")
def model():
    return load_audioldm("tiny", device="cpu")


@pytest.fixture(scope="module")
def clap_embed(model):
    """(2, d) unit-norm embeddings of the generator's space."""
    g = torch.Generator().manual_seed(1)
    return torch.nn.functional.normalize(torch.randn(2, model.space.dim, generator=g), dim=-1)


def seed(s=0):
    return torch.Generator().manual_seed(s)


def run(model, embeds, **kw):
    kw = {"num_inference_steps": STEPS, "generator": seed(), "progress": False, **kw}
    return generate(model, embeds, **kw)


def pipeline(model, scheduler):
    from diffusers import AudioLDMPipeline
    pipe = AudioLDMPipeline(vae=model.vae, text_encoder=model.text_encoder,
                            tokenizer=model.tokenizer, unet=model.unet,
                            scheduler=make_scheduler(scheduler, model.scheduler.config),
                            vocoder=model.vocoder)
    pipe.set_progress_bar_config(disable=True)
    return pipe


# --- the tiny generator ----------------------------------------------------------------------
def test_the_generator_answers_its_own_facts(model, clap_embed):
    pocket = load_audioldm("pocket", device="cpu")
    for gen, latent_frame_s in ((model, 0.02), (pocket, 0.04)):
        assert gen.min_length_s == pytest.approx(latent_frame_s)  # one latent frame
        assert gen.default_length_s == pytest.approx(1.0)         # its UNet's sample_size
        assert gen.max_length_s == pytest.approx(1.0)             # = default: no longer limit
        assert (gen.default_steps("dpmsolver++"), gen.default_steps("ddim")) == (10, 200)
        assert gen.default_steps(make_scheduler("ddim", gen.scheduler.config)) == 25
    # generate() uses them: the default length, and nothing under one latent frame
    assert run(model, clap_embed[:1]).waveforms.shape == (1, round(model.default_length_s * 16000))
    with pytest.raises(ValueError, match=r"audio_length_in_s must be .* ≥ 0.02"):
        run(model, clap_embed[:1], audio_length_in_s=0.015)


def test_tiny_generator_is_conditioned_in_the_tiny_clap_space(model, tiny_clap):
    assert model.space == tiny_clap.space
    assert model.unet.config.class_embed_type == "simple_projection"
    assert model.unet.config.projection_class_embeddings_input_dim == tiny_clap.space.dim
    assert (model.sampling_rate, model.vae_scale_factor) == (16000, 2)
    assert type(model.scheduler).__name__ == "DDIMScheduler"
    # its text encoder is the tiny CLAP's text tower: same weights, same embeddings
    clap_sd = tiny_clap.model.state_dict()
    for k, v in model.text_encoder.state_dict().items():
        assert torch.equal(v, clap_sd[k]), k
    tok = tiny_clap.tokenizer(["a dog barks", "rain"], padding=True, return_tensors="pt")
    with torch.no_grad():
        ours = model.text_encoder(tok.input_ids, attention_mask=tok.attention_mask).text_embeds
        ref = tiny_clap.model.get_text_features(tok.input_ids,
                                                attention_mask=tok.attention_mask).pooler_output
    torch.testing.assert_close(torch.nn.functional.normalize(ours, dim=-1), ref)


# --- equivalence with diffusers' AudioLDMPipeline --------------------------------------------
@pytest.mark.parametrize("scheduler", ["ddim", "dpmsolver++"])
@pytest.mark.parametrize("guidance_scale,num_waveforms", [(2.5, 1), (2.5, 2), (1.0, 2)])
def test_same_audio_as_diffusers_pipeline(model, clap_embed, scheduler, guidance_scale,
                                          num_waveforms):
    neg = torch.nn.functional.normalize(torch.randn(2, model.space.dim,
                                                    generator=seed(7)), dim=-1)
    kw = dict(num_inference_steps=STEPS, guidance_scale=guidance_scale,
              num_waveforms_per_prompt=num_waveforms, audio_length_in_s=0.5)
    ref = pipeline(model, scheduler)(prompt_embeds=clap_embed, negative_prompt_embeds=neg,
                                     generator=seed(), **kw).audios
    out = generate(model, clap_embed, negative_clap_embed=neg, scheduler=scheduler,
                   generator=seed(), progress=False, **kw)
    assert out.waveforms.shape == ref.shape == (2 * num_waveforms, 8000)
    assert np.abs(ref).max() > 1e-3  # audio of a scale where atol=1e-5 means something
    np.testing.assert_allclose(out.waveforms, ref, atol=1e-5, rtol=0)


def test_text_to_audio_same_as_pipeline_prompt(model):
    prompts = ["a dog barks", "rain falls on a tin roof"]
    ref = pipeline(model, "ddim")(prompts, num_inference_steps=STEPS, generator=seed()).audios
    out = run(model, encode_prompt(model, prompts), scheduler="ddim")
    assert out.waveforms.shape == (2, 16000)  # default length: the UNet's sample_size, 1.0 s
    np.testing.assert_allclose(out.waveforms, ref, atol=1e-5, rtol=0)


def test_default_negative_is_the_empty_prompt(model, clap_embed):
    empty = encode_prompt(model, [""]).embeds.expand(2, -1)
    a = run(model, clap_embed)
    b = run(model, clap_embed, negative_clap_embed=empty)
    np.testing.assert_allclose(a.waveforms, b.waveforms, atol=1e-6, rtol=0)


# --- behaviour ---------------------------------------------------------------------------------
@pytest.mark.parametrize("seconds,samples", [(0.5, 8000), (0.29, 4640), (0.37, 5920)])
def test_shapes_rate_and_length(model, clap_embed, seconds, samples):
    out = run(model, clap_embed, audio_length_in_s=seconds, num_waveforms_per_prompt=3)
    assert out.sampling_rate == 16000
    assert out.waveforms.dtype == np.float32
    assert out.waveforms.shape == (6, samples)
    assert np.isfinite(out.waveforms).all()


def test_seed_decides_the_output(model, clap_embed):
    a, b = run(model, clap_embed).waveforms, run(model, clap_embed).waveforms
    c = run(model, clap_embed, generator=seed(1)).waveforms
    np.testing.assert_array_equal(a, b)
    assert np.abs(a - c).max() > 1e-3 * np.abs(a).max()


def test_condition_reaches_the_output(model, clap_embed):
    a = run(model, clap_embed[:1]).waveforms
    b = run(model, clap_embed[1:]).waveforms
    assert np.abs(a - b).max() > 1e-3 * np.abs(a).max()


def test_unnormalised_input_is_normalised(model, clap_embed):
    scaled = clap_embed * torch.tensor([[3.7], [0.2]])
    np.testing.assert_allclose(run(model, scaled).waveforms, run(model, clap_embed).waveforms,
                               atol=1e-6, rtol=0)


def test_embeddings_and_numpy_inputs(model, clap_embed):
    ref = run(model, clap_embed).waveforms
    np.testing.assert_array_equal(run(model, clap_embed.numpy()).waveforms, ref)
    np.testing.assert_array_equal(run(model, Embeddings(clap_embed, model.space)).waveforms, ref)


def test_explicit_latents_are_used(model, clap_embed):
    lat = torch.randn(2, 4, 25, 4, generator=seed(3))
    a = run(model, clap_embed, audio_length_in_s=0.5, latents=lat, generator=None)
    b = run(model, clap_embed, audio_length_in_s=0.5, latents=lat, generator=seed(9))
    np.testing.assert_array_equal(a.waveforms, b.waveforms)


@pytest.mark.parametrize("bad,expected", [
    (lambda d: torch.full((1, d), float("nan")), "NaN"),
    (lambda d: torch.full((1, d), float("inf")), "NaN or inf"),
    (lambda d: torch.ones(1, d + 1), "dimension"),
    (lambda d: torch.ones(d), "shape"),
    (lambda d: torch.ones(1, 1, d), "shape"),
    (lambda d: torch.ones(0, d), "empty"),
    (lambda d: torch.zeros(1, d), "all-zero"),
])
def test_bad_embeddings_are_refused(model, bad, expected):
    with pytest.raises(EmbeddingError, match=expected) as e:
        run(model, bad(model.space.dim))
    assert "clap_embed" in str(e.value)


def test_embeddings_from_another_space_are_refused(model, clap_embed):
    other = Space("clap", "transformers/ClapModel-tiny", "random-init:seed=1", model.space.dim)
    with pytest.raises(SpaceMismatchError) as e:
        run(model, Embeddings(clap_embed, other))
    msg = str(e.value)
    assert "clap_embed" in msg and str(other) in msg and str(model.space) in msg
    with pytest.raises(SpaceMismatchError, match="negative_clap_embed"):
        run(model, clap_embed, negative_clap_embed=Embeddings(clap_embed, other))


@pytest.mark.parametrize("kw,name", [
    ({"num_inference_steps": 0}, "num_inference_steps"),
    ({"num_inference_steps": 2.5}, "num_inference_steps"),
    ({"guidance_scale": -1.0}, "guidance_scale"),
    ({"guidance_scale": 0.5}, "guidance_scale"),
    ({"guidance_scale": float("nan")}, "guidance_scale"),
    ({"guidance_scale": float("inf")}, "guidance_scale"),
    ({"audio_length_in_s": 0.0}, "audio_length_in_s"),
    ({"audio_length_in_s": 0.01}, "audio_length_in_s"),  # shorter than one latent frame
    ({"audio_length_in_s": float("nan")}, "audio_length_in_s"),
    ({"num_waveforms_per_prompt": 0}, "num_waveforms_per_prompt"),
    ({"eta": -0.1}, "eta"),
    ({"guidance_rescale": 1.5}, "guidance_rescale"),
    ({"guidance_rescale": -0.1}, "guidance_rescale"),
    ({"latents": torch.zeros(1, 4, 25, 4)}, "latents"),
    ({"generator": [torch.Generator()]}, "generator"),
    ({"negative_clap_embed": torch.ones(3, 24)}, "negative_clap_embed"),
])
def test_bad_arguments_are_refused(model, clap_embed, kw, name):
    with pytest.raises(ValueError, match=name):
        run(model, clap_embed, **{"audio_length_in_s": 0.5, **kw})


def test_unknown_scheduler_and_model(model, clap_embed):
    with pytest.raises(ConfigError, match="scheduler"):
        run(model, clap_embed, scheduler="euler")
    with pytest.raises(ConfigError, match="unknown AudioLDM"):
        load_audioldm("cvssp/audioldm-m-full", device="cpu")


def test_scheduler_instance_is_used(model, clap_embed):
    from diffusers import DDIMScheduler
    inst = DDIMScheduler.from_config(model.scheduler.config)
    np.testing.assert_array_equal(run(model, clap_embed, scheduler=inst).waveforms,
                                  run(model, clap_embed, scheduler="ddim").waveforms)


# --- the space check ---------------------------------------------------------------------------
def test_space_check_agrees_for_the_same_clap(model, tiny_clap):
    res = check_space(tiny_clap, model)
    assert res.agree and res.mean_cosine > 0.9999
    assert res.cosines.shape == (len(res.prompts),)
    assert "AGREE" in str(res) and str(model.space) in str(res)


def test_space_check_disagrees_for_another_clap(model, tiny_clap):
    from transformers import ClapModel
    torch.manual_seed(TINY_SEED + 1)
    other = ClapModel(tiny_clap.model.config).eval()
    enc = dataclasses.replace(tiny_clap, model=other, space=Space(
        "clap", tiny_clap.space.model, f"random-init:seed={TINY_SEED + 1}", tiny_clap.space.dim))
    res = check_space(enc, model)
    assert not res.agree and res.mean_cosine < 0.9
    assert "DISAGREE" in str(res)


# --- the paper's AudioLDM ----------------------------------------------------------------------
@pytest.mark.parametrize("offline", ["1", None])
def test_paper_weights_missing_offline_fail_fast(empty_hf_cache, monkeypatch, offline):
    for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "V2A_KIT_OFFLINE"):
        monkeypatch.delenv(var, raising=False)
    if offline:
        monkeypatch.setenv("HF_HUB_OFFLINE", offline)
    elif hub_reachable():
        pytest.skip("the hub is reachable here: this case is about machines without network")
    with pytest.raises(WeightsNotFoundError) as e:
        load_audioldm("paper", device="cpu")
    msg = str(e.value)
    assert PAPER_REPO in msg and "What to do" in msg and "V2A_KIT_WEIGHTS" in msg


def test_paper_loader_refuses_another_architecture(model, tmp_path, monkeypatch):
    # a complete diffusers snapshot of the *tiny* AudioLDM is found, then refused by name
    for part in ("unet", "vae", "vocoder", "text_encoder", "tokenizer"):
        getattr(model, part).save_pretrained(tmp_path / part)
    model.scheduler.save_pretrained(tmp_path / "scheduler")
    with pytest.raises(ConfigError, match="not AudioLDM-S") as e:
        load_audioldm("paper", device="cpu", weights=tmp_path)
    assert "block_out_channels" in str(e.value)


@pytest.mark.slow
def test_paper_architecture_at_random_init():
    gen = load_audioldm("paper", random_init=True, device="cpu")
    n = {k: sum(p.numel() for p in getattr(gen, k).parameters()) / 1e6
         for k in ("unet", "vae", "vocoder", "text_encoder")}
    for k, expected in {"unet": 185.0, "vae": 55.4, "vocoder": 55.3, "text_encoder": 125.3}.items():
        assert n[k] == pytest.approx(expected, rel=0.01), (k, n[k])
    assert gen.space.dim == 512 and gen.space != PAPER_CLAP_SPACE  # random init: another space
    assert (gen.sampling_rate, gen.vae_scale_factor) == (16000, 4)
    assert (gen.default_length_s, gen.max_length_s) == (5.12, 10.24)  # trained on 10.24 s clips
    assert gen.min_length_s == pytest.approx(0.04)
    latents = torch.randn(1, 8, 16, 16, generator=seed())  # 16 latent frames = 0.64 s
    with torch.no_grad():
        out = gen.unet(latents, 500, encoder_hidden_states=None,
                       class_labels=torch.randn(1, 512, generator=seed(1))).sample
    assert out.shape == latents.shape and torch.isfinite(out).all()
    assert encode_prompt(gen, ["a dog barks"]).shape == (1, 512)


# --- no clipping -------------------------------------------------------------------------------
def test_peaks_above_the_limit_are_scaled_down_and_counted():
    from v2a_kit.errors import PeakLimitWarning
    from v2a_kit.generation import limit_peaks
    audio = torch.tensor([[0.1, -0.5, 0.2], [0.3, -2.0, 1.5], [0.99, 0.0, -0.2]])
    rep = limit_peaks(audio)
    out = rep.audio
    assert torch.equal(out[[0, 2]], audio[[0, 2]])  # the others untouched
    assert out[1].abs().max() == pytest.approx(0.99)
    assert torch.allclose(out[1], audio[1] * 0.99 / 2.0)  # one gain: the shape is kept
    assert (rep.num_limited, rep.samples_beyond_full_scale, rep.total) == (1, 2, 3)
    assert rep.highest_peak == pytest.approx(2.0)
    with pytest.warns(PeakLimitWarning, match=r"1 of 3 generated sounds peaked above 0.99 of full "
                                              r"scale \(highest 2.00; 2 samples beyond full"):
        rep.warn()
    total = rep + limit_peaks(audio[[1]]) + limit_peaks(audio[[1]])
    assert (total.num_limited, total.total, total.samples_beyond_full_scale) == (3, 5, 6)
    with pytest.warns(PeakLimitWarning, match="Most did: .* pocket preset knows only"):
        total.warn()  # more than half: the hint about inputs the generator does not know
    assert limit_peaks(audio, None).audio is audio
    with pytest.raises(ValueError, match="peak_limit"):
        limit_peaks(audio, 1.5)


def test_generate_never_returns_samples_beyond_the_limit(model, clap_embed):
    from v2a_kit.errors import PeakLimitWarning
    with pytest.warns(PeakLimitWarning, match="scaled down to peak at 0.01"):
        out = generate(model, clap_embed, num_inference_steps=STEPS, generator=seed(),
                       peak_limit=0.01)  # a limit the tiny model's noise exceeds
    assert np.abs(out.waveforms).max() <= 0.01 + 1e-7
    assert out.peaks.num_limited == len(out.waveforms)


def test_guidance_rescale_matches_diffusers_and_zero_is_plain_guidance(model, clap_embed):
    from diffusers.pipelines.stable_diffusion.pipeline_stable_diffusion import rescale_noise_cfg

    from v2a_kit.generation import rescale_guidance
    g = torch.Generator().manual_seed(3)
    guided, cond = torch.randn(2, 4, 8, 8, generator=g) * 3, torch.randn(2, 4, 8, 8, generator=g)
    torch.testing.assert_close(rescale_guidance(guided, cond, 0.7),
                               rescale_noise_cfg(guided, cond, guidance_rescale=0.7))
    run = dict(num_inference_steps=3, progress=False, guidance_scale=3.0)
    plain = generate(model, clap_embed, generator=torch.Generator().manual_seed(0), **run)
    zero = generate(model, clap_embed, generator=torch.Generator().manual_seed(0),
                    guidance_rescale=0.0, **run)
    rescaled = generate(model, clap_embed, generator=torch.Generator().manual_seed(0),
                        guidance_rescale=0.7, **run)
    assert model.guidance_rescale == 0.0          # AudioLDM's default: plain guidance
    np.testing.assert_array_equal(plain.waveforms, zero.waveforms)
    assert not np.allclose(plain.waveforms, rescaled.waveforms)
