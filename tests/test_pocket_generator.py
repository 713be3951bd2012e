"""pocket-AudioLDM's parts: the fixed autoencoder and vocoder behind diffusers' interfaces, the
UNet trained as AudioLDM was, and the assembled generator in generate() and AudioLDMPipeline."""

import numpy as np
import pytest
import torch
from diffusers import DDIMScheduler

from v2a_kit import generate
from v2a_kit.generation import make_scheduler
from v2a_kit.models.audioldm import assemble
from v2a_kit.models.clap import build_tiny_clap_model, clap_text_tower
from v2a_kit.pocket.models.audio import log_mel, nearest_upsample, power_pool
from v2a_kit.pocket.models.generator import (
    GriffinLimVocoder,
    PowerPoolAutoencoder,
    build_unet,
    train_generator,
)
from v2a_kit.pocket.world import sample_world
from v2a_kit.registry import TINY_CLAP_SPACE
from v2a_kit.tokenizers import byte_level_roberta_tokenizer


@pytest.fixture(scope="module")
def world():
    return sample_world(24, seed=3)


@pytest.fixture(scope="module")
def mels(world):
    return log_mel(torch.as_tensor(world.audio)).transpose(1, 2)[:, None]  # (b, 1, 100, 64)


def test_autoencoder_is_power_pooling_behind_the_vae_interface(mels, tmp_path):
    vae = PowerPoolAutoencoder()
    z = vae.encode(mels).latents
    assert z.shape == (len(mels), 1, 25, 16)
    assert 0.1 < z.std() < 10  # standardised for diffusion
    out = vae.decode(z).sample
    expected = nearest_upsample(power_pool(mels, (4, 4)), (4, 4))
    torch.testing.assert_close(out, expected, atol=1e-5, rtol=0)
    vae.save_config(tmp_path / "vae")  # no weights: the config is the whole model
    again = PowerPoolAutoencoder.from_config(PowerPoolAutoencoder.load_config(tmp_path / "vae"))
    torch.testing.assert_close(again.decode(z).sample, out)
    with pytest.raises(ValueError, match="pool"):
        PowerPoolAutoencoder(pool=(2, 2))


def test_the_gain_channel_holds_the_loudness_and_loses_nothing(mels):
    vae = PowerPoolAutoencoder(latent_channels=2, shift=-12.0, scale=3.0, gain_shift=1.5,
                               gain_scale=1.4)
    z = vae.encode(mels).latents
    assert z.shape == (len(mels), 2, 25, 16)
    pooled = power_pool(mels, (4, 4))
    # channel 1: one value per clip, the loudest pooled frame's log power, standardised
    loudest = torch.logsumexp(pooled, dim=-1).amax(dim=-1)[:, 0]
    torch.testing.assert_close(z[:, 1], ((loudest - 1.5) / 1.4)[:, None, None].expand(-1, 25, 16))
    # channel 0 is relative to it: a log-mel 6 dB louder everywhere moves channel 1 only
    z2 = vae.encode(mels + np.log(4)).latents
    torch.testing.assert_close(z2[:, 0], z[:, 0], atol=1e-4, rtol=0)
    assert ((z2[:, 1] - z[:, 1]) * 1.4).mean().item() == pytest.approx(np.log(4), abs=1e-3)
    # lossless, and the decoder reads the channel's mean (noise in it averages out)
    expected = nearest_upsample(pooled, (4, 4))
    torch.testing.assert_close(vae.decode(z).sample, expected, atol=1e-4, rtol=0)
    noisy = z.clone()
    noisy[:, 1] += 0.1 * torch.randn_like(noisy[:, 1]) - noisy[:, 1].mean() + z[:, 1].mean()
    shift = (noisy[:, 1].mean(dim=(-2, -1)) - z[:, 1].mean(dim=(-2, -1))) * 1.4
    torch.testing.assert_close(vae.decode(noisy).sample - expected,
                               shift[:, None, None, None].expand_as(expected), atol=1e-4, rtol=0)
    with pytest.raises(ValueError, match="latent_channels=3"):
        PowerPoolAutoencoder(latent_channels=3)


def test_vocoder_keeps_the_clip_length(mels):
    voc = GriffinLimVocoder(n_iter=4)
    wave = voc(mels[:2, 0])
    assert wave.shape == (2, 100 * 160) and torch.isfinite(wave).all()


@pytest.fixture(scope="module")
def trained(mels):
    """A few steps of training with the tiny CLAP standing in for pocket-CLAP."""
    clap = build_tiny_clap_model()
    d = clap.config.projection_dim
    vae = PowerPoolAutoencoder()                       # what build_unet's UNet takes
    latents = vae.encode(mels).latents
    cond = torch.nn.functional.normalize(torch.randn(len(mels), d), dim=-1)
    null = torch.nn.functional.normalize(torch.randn(d), dim=0)
    sched = DDIMScheduler(beta_schedule="squaredcos_cap_v2", prediction_type="v_prediction",
                          clip_sample=False)
    unet = build_unet(d)
    before = {k: v.clone() for k, v in unet.state_dict().items()}
    ema, losses = train_generator(unet, sched, latents, cond, null, steps=6, batch_size=8,
                                  progress=False)
    return dict(clap=clap, vae=vae, sched=sched, unet=unet, ema=ema, losses=losses,
                before=before, cond=cond)


def test_training_moves_the_weights_and_keeps_an_average(trained):
    assert len(trained["losses"]) == 6 and np.isfinite(trained["losses"]).all()
    after = trained["unet"].state_dict()
    assert any(not torch.equal(trained["before"][k], after[k]) for k in after)
    ema = trained["ema"].state_dict()
    assert any(not torch.equal(ema[k], after[k]) for k in after)


def test_assembled_generator_runs_like_audioldm(trained):
    from diffusers import AudioLDMPipeline
    clap = trained["clap"]
    parts = dict(unet=trained["ema"], vae=trained["vae"], vocoder=GriffinLimVocoder(n_iter=4),
                 text_encoder=clap_text_tower(clap), tokenizer=byte_level_roberta_tokenizer(),
                 scheduler=trained["sched"])
    model = assemble(parts, TINY_CLAP_SPACE, "cpu", torch.float32, "pocket-test", {})
    assert model.vae_scale_factor == 4 and model.sampling_rate == 16000
    out = generate(model, trained["cond"][:2], num_inference_steps=3, scheduler="ddim",
                   generator=torch.Generator().manual_seed(0), progress=False)
    assert out.waveforms.shape == (2, 16000)
    pipe = AudioLDMPipeline(vae=model.vae, text_encoder=model.text_encoder,
                            tokenizer=model.tokenizer, unet=model.unet,
                            scheduler=make_scheduler("ddim", model.scheduler.config),
                            vocoder=model.vocoder)
    pipe.set_progress_bar_config(disable=True)
    neg = torch.nn.functional.normalize(model.text_encoder(
        **model.tokenizer([""], return_tensors="pt")).text_embeds, dim=-1).expand(2, -1)
    ref = pipe(prompt_embeds=trained["cond"][:2], negative_prompt_embeds=neg,
               num_inference_steps=3, generator=torch.Generator().manual_seed(0)).audios
    np.testing.assert_allclose(out.waveforms, ref, atol=1e-4, rtol=0)
