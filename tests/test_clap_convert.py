"""Faithfulness of ``v2a_kit.clap_convert``: laion_clap's CLAP and the converted ClapModel agree.

The reference is laion_clap's own ``CLAP_Module(enable_fusion=False, amodel="HTSAT-tiny",
tmodel="roberta")`` at random init. Offline its constructor fails in
``RobertaModel.from_pretrained('roberta-base')``; the fixture patches that classmethod to build the
model from roberta-base's config instead (same architecture, random weights). Every weight matrix
is then redrawn at unit gain and every bias, norm and BatchNorm statistic perturbed, so that no
branch is negligible and LayerNorms (ones/zeros at init) cannot hide a swapped mapping; constants
(STFT/mel kernels, shifted-window masks) are left as laion builds them. The state dict is saved
as a fake AudioLDM Lightning checkpoint and read back through
``load_clap_model_from_laion_checkpoint``.

Measured on a 2-core CPU (max abs difference of L2-normalised 512-d embeddings): text 1.1e-7;
audio from laion's own log-mel 4.7e-8; audio from ``paper_clap_feature_extractor``'s log-mel vs
laion end to end from the waveform 8.8e-8. Log-mel, ClapFeatureExtractor vs laion's torchlibrosa
front end on the same 10 s waveforms: max 0.027 dB, mean 1.8e-4 dB; with transformers' default
``frequency_min=0`` instead of laion's 50 Hz: max 22.8 dB, and 0.026 on the audio embedding.
For scale: swapping query/key in one audio block moves the audio embedding by 3e-3, swapping two
LayerNorms by 1.6e-2; text ``layer_norm_eps`` 1e-12 instead of roberta's 1e-5 by 3.4e-5.
"""

import re

import numpy as np
import pytest
import torch

from v2a_kit.clap_convert import (
    convert_laion_clap_state_dict,
    extract_clap_state_dict,
    load_clap_model_from_laion_checkpoint,
    paper_clap_feature_extractor,
)
from v2a_kit.errors import WeightsNotFoundError

PREFIX = "cond_stage_model.model."
# Measured diffs are ~1e-7; 1e-5 still catches roberta's layer_norm_eps set to ClapTextConfig's
# default 1e-12 instead of 1e-5 (3e-5 on the text embedding).
TOL = 1e-5
SAMPLE_RATE, NUM_SAMPLES = 48_000, 480_000  # laion HTSAT-tiny: 10 s at 48 kHz


class FakeCallback:
    """A non-tensor object pickled in the checkpoint, as Lightning's callback state is."""

    def __init__(self):
        self.best_model_path = "/somewhere/epoch=1.ckpt"


@pytest.fixture(scope="module")
def laion_model():
    """laion_clap's ``CLAP`` module (``CLAP_Module.model``), random init, perturbed, eval mode."""
    from transformers import RobertaConfig, RobertaModel
    roberta_base = RobertaConfig(vocab_size=50265, max_position_embeddings=514, type_vocab_size=1,
                                 layer_norm_eps=1e-5, pad_token_id=1, bos_token_id=0,
                                 eos_token_id=2)  # roberta-base's config.json
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(RobertaModel, "from_pretrained",
                   classmethod(lambda cls, *args, **kwargs: cls(roberta_base)))
        import laion_clap
        torch.manual_seed(0)
        model = laion_clap.CLAP_Module(enable_fusion=False, amodel="HTSAT-tiny",
                                       tmodel="roberta", device="cpu").model
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for name, t in model.state_dict().items():
            if not t.is_floating_point() or "_extractor." in name or name.endswith("attn_mask"):
                continue  # STFT/mel kernels and shifted-window masks are constants, not weights
            if name.endswith("running_var"):
                t.copy_(torch.rand(t.shape, generator=g) + 0.5)
            elif t.dim() >= 2:  # unit gain, so that every attention/MLP branch matters
                t.copy_(torch.randn(t.shape, generator=g) * t[0].numel() ** -0.5)
            else:
                t.add_(0.2 * torch.randn(t.shape, generator=g))
    return model.eval()


def fake_audioldm_checkpoint(clap_state_dict) -> dict:
    """An AudioLDM Lightning checkpoint: the CLAP under ``cond_stage_model.model.``, UNet keys, an
    old-transformers ``position_ids`` buffer, and a pickled (non-tensor) callback object."""
    sd = {PREFIX + k: v for k, v in clap_state_dict.items()}
    sd[PREFIX + "text_branch.embeddings.position_ids"] = torch.arange(514).unsqueeze(0)
    sd["model.diffusion_model.input_blocks.0.0.weight"] = torch.zeros(128, 8, 3, 3)
    sd["model.diffusion_model.out.2.bias"] = torch.zeros(8)
    return {"state_dict": sd, "epoch": 3, "callbacks": {"ModelCheckpoint": FakeCallback()}}


@pytest.fixture(scope="module")
def audioldm_ckpt(laion_model, tmp_path_factory):
    path = tmp_path_factory.mktemp("ckpt") / "audioldm-s-full.ckpt"
    torch.save(fake_audioldm_checkpoint(laion_model.state_dict()), path)
    yield path
    path.unlink()  # 620 MB: gone when the module's tests are, not at the end of the session


@pytest.fixture(scope="module")
def clap(audioldm_ckpt):
    return load_clap_model_from_laion_checkpoint(audioldm_ckpt)


@pytest.fixture(scope="module")
def waveforms():
    """(2, 480000) float32 at 48 kHz: noise, and a decaying harmonic tone."""
    g = torch.Generator().manual_seed(2)
    t = torch.arange(NUM_SAMPLES) / SAMPLE_RATE
    tone = sum(torch.sin(2 * np.pi * 220 * k * t) / k for k in range(1, 6)) * torch.exp(-t / 3)
    return torch.stack([0.1 * torch.randn(NUM_SAMPLES, generator=g), 0.3 * tone]).float()


@pytest.mark.slow
@torch.no_grad()
def test_text_embedding_matches_laion(laion_model, clap):
    """laion ``get_text_embedding`` (RoBERTa pooler -> text_projection -> L2) vs ClapModel
    ``get_text_features(...).pooler_output`` (already L2-normalised in transformers 5.x)."""
    ids = torch.tensor([[0, 713, 16, 10, 1296, 9, 5, 2, 1, 1],  # hand-made roberta ids, pad=1
                        [0, 250, 2335, 21, 5, 2, 1, 1, 1, 1]])
    mask = (ids != 1).long()
    ref = laion_model.get_text_embedding({"input_ids": ids.clone(), "attention_mask": mask})
    out = clap.get_text_features(input_ids=ids, attention_mask=mask).pooler_output
    assert out.shape == (2, 512)
    assert (out - ref).abs().max() < TOL
    assert (ref[0] - ref[1]).abs().max() > 100 * TOL  # the inputs differ: not a degenerate model


@pytest.mark.slow
@torch.no_grad()
def test_audio_embedding_matches_laion(laion_model, clap, waveforms):
    """From the same waveform: laion end to end (torchlibrosa STFT -> log-mel -> bn0 -> HTSAT ->
    audio_projection -> L2) vs ClapModel ``get_audio_features`` fed (a) laion's own log-mel, which
    compares everything after the front end, layouts being identical ((b, 1, 1001, 64), bn0 /
    batch_norm inside both models), and (b) ``paper_clap_feature_extractor``'s log-mel, which
    compares the whole chain."""
    branch = laion_model.audio_branch
    ref = laion_model.get_audio_embedding([{"waveform": w} for w in waveforms])
    laion_mel = branch.logmel_extractor(branch.spectrogram_extractor(waveforms))
    out = clap.get_audio_features(input_features=laion_mel).pooler_output
    assert out.shape == (2, 512)
    assert (out - ref).abs().max() < TOL
    assert (ref[0] - ref[1]).abs().max() > 100 * TOL

    fe_mel = paper_clap_feature_extractor()(waveforms.numpy(), sampling_rate=SAMPLE_RATE,
                                            return_tensors="pt")["input_features"]
    assert fe_mel.shape == laion_mel.shape
    diff = (fe_mel - laion_mel).abs()
    assert diff.max() < 0.05 and diff.mean() < 1e-3  # dB; measured 0.017 and 2e-4
    out = clap.get_audio_features(input_features=fe_mel).pooler_output
    assert (out - ref).abs().max() < TOL

    # transformers' default frequency_min=0 is not laion's front end (fmin=50 Hz)
    default_mel = paper_clap_feature_extractor(frequency_min=0)(
        waveforms[:1].numpy(), sampling_rate=SAMPLE_RATE, return_tensors="pt")["input_features"]
    assert (default_mel - laion_mel[:1]).abs().max() > 1.0


@pytest.mark.slow
@torch.no_grad()
def test_swapped_qkv_is_detected(laion_model, clap, waveforms):
    """Negative control: the audio comparison fails when query and key of one block are swapped."""
    from transformers import ClapModel
    sd = dict(clap.state_dict())
    q = "audio_model.audio_encoder.layers.0.blocks.0.attention.self.query.weight"
    k = q.replace("query", "key")
    sd[q], sd[k] = sd[k], sd[q]
    with torch.device("meta"):
        wrong = ClapModel(clap.config).eval()
    wrong.load_state_dict(sd, assign=True)
    branch = laion_model.audio_branch
    mel = branch.logmel_extractor(branch.spectrogram_extractor(waveforms[:1]))
    right = clap.get_audio_features(input_features=mel).pooler_output
    assert (wrong.get_audio_features(input_features=mel).pooler_output - right).abs().max() > 1e-3


@pytest.mark.slow
def test_dropped_window_masks_are_recomputed_identically(laion_model, clap):
    """laion stores each shifted-window block's ``attn_mask``; the converter drops it because
    ClapModel recomputes it. Check the recomputed masks equal the stored ones."""
    encoder = clap.audio_model.audio_encoder
    num_masks = 0
    for i, (laion_stage, stage) in enumerate(zip(laion_model.audio_branch.layers, encoder.layers)):
        height, width = encoder.input_resolutions[i]
        for laion_block, block in zip(laion_stage.blocks, stage.blocks):
            block.set_shift_and_window_size((height, width))
            mask = block.get_attn_mask(height, width, torch.float32, "cpu")
            if laion_block.attn_mask is None:
                assert mask is None
            else:
                assert torch.equal(mask, laion_block.attn_mask)
                num_masks += 1
    assert num_masks == 5  # the shifted blocks of stages 0-2 (stage 3 is a single window)


@pytest.mark.slow
def test_checkpoint_prefixes_and_extra_keys(laion_model):
    sd = laion_model.state_dict()
    ckpt = fake_audioldm_checkpoint(sd)
    assert extract_clap_state_dict(ckpt).keys() == sd.keys() | {
        "text_branch.embeddings.position_ids"}  # UNet keys ignored
    assert extract_clap_state_dict({"state_dict": {"module." + k: v for k, v in sd.items()}}
                                   ).keys() == sd.keys()
    assert extract_clap_state_dict(sd).keys() == sd.keys()

    with pytest.raises(ValueError, match=r"unknown keys \(1\): audio_branch\.fusion_model\.w"):
        convert_laion_clap_state_dict({**sd, "audio_branch.fusion_model.w": torch.zeros(3)})
    partial = {k: v for k, v in sd.items() if not k.startswith("text_projection.")}
    with pytest.raises(ValueError, match=r"missing keys \(4\): text_projection\.linear1\.bias"):
        convert_laion_clap_state_dict(partial)


@pytest.mark.slow
def test_truncated_checkpoint_names_the_file(audioldm_ckpt, tmp_path):
    data = audioldm_ckpt.read_bytes()
    bad = tmp_path / "audioldm-s-full.ckpt"
    bad.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match=rf"(?s){re.escape(str(bad))}.*truncated"):
        load_clap_model_from_laion_checkpoint(bad)


def test_missing_or_foreign_files(tmp_path):
    with pytest.raises(WeightsNotFoundError, match="nothing-here.pt"):
        load_clap_model_from_laion_checkpoint(tmp_path / "nothing-here.pt")
    text = tmp_path / "notes.pt"
    text.write_text("not a checkpoint")
    with pytest.raises(ValueError, match="notes.pt"):
        load_clap_model_from_laion_checkpoint(text)
    unet_only = tmp_path / "unet.ckpt"
    torch.save({"state_dict": {"model.diffusion_model.out.2.bias": torch.zeros(8)}}, unet_only)
    with pytest.raises(ValueError, match=r"unet\.ckpt: no laion_clap CLAP weights"):
        load_clap_model_from_laion_checkpoint(unet_only)
