"""Contrastive training of the pocket encoders, zero-shot scoring, and the captions' tokenizer."""


import numpy as np
import pytest
import torch

from v2a_kit.configs import load_config
from v2a_kit.pocket.models.contrastive import (
    combo_prompts,
    sibling_batches,
    train_clap,
    train_clip,
    zero_shot_accuracy,
)
from v2a_kit.pocket.world import sample_world
from v2a_kit.tokenizers import check_tokenizer, train_bpe_tokenizer


@pytest.fixture(scope="module")
def batch():
    return sample_world(32, seed=5)


def test_bpe_tokenizer_learns_the_caption_words(batch):
    tok = train_bpe_tokenizer(sample_world(512, seed=1).audio_captions, vocab_size=1000)
    check_tokenizer(tok, "trained")
    assert (tok.bos_token_id, tok.pad_token_id, tok.eos_token_id) == (0, 1, 2)
    ids = tok(" loud")["input_ids"]
    assert len(ids) == 3  # <s> loud </s>: a frequent word is one token
    text = batch.audio_captions[0]
    assert tok.decode(tok(text)["input_ids"], skip_special_tokens=True) == text


def test_zero_shot_accuracy_by_hand():
    attrs = {"a": ["x", "y"], "b": ["p", "q", "r"]}
    combos, prompts = combo_prompts(attrs, lambda c: [f"{c['a']}-{c['b']}"])
    assert len(combos) == 6 and prompts[0] == ["0-0"]
    prompt_embeds = torch.eye(6)
    truth = {"a": np.array([0, 1, 1]), "b": np.array([2, 0, 1])}
    rows = [next(j for j, c in enumerate(combos) if c == {"a": a, "b": b})
            for a, b in zip(truth["a"], truth["b"])]
    acc = zero_shot_accuracy(prompt_embeds[rows], truth, combos, prompt_embeds)
    assert acc == {"a": 1.0, "b": 1.0, "all": 1.0}
    wrong_b = {"a": truth["a"], "b": np.array([0, 0, 0])}  # one of three right
    acc = zero_shot_accuracy(prompt_embeds[rows], wrong_b, combos, prompt_embeds)
    assert acc["a"] == 1.0 and acc["b"] == pytest.approx(1 / 3) and acc["all"] == acc["b"]


def _drops(losses, factor=0.7):
    return np.mean(losses[-5:]) < factor * np.mean(losses[:5])


def test_train_clip_fits_a_batch(batch):
    import open_clip

    from v2a_kit.models.clip import register_kit_configs
    register_kit_configs()
    torch.manual_seed(0)
    model = open_clip.create_model("pocket-clip")
    tok = open_clip.get_tokenizer("pocket-clip")

    def prep(x):
        return torch.as_tensor(x).permute(0, 3, 1, 2).float() / 127.5 - 1

    losses = train_clip(model, prep, tok, batch.images, batch.image_captions, steps=40,
                        batch_size=32, lr=2e-3, progress=False)
    assert _drops(losses) and not model.training


def test_train_clap_fits_a_batch(batch):
    from transformers import ClapConfig, ClapFeatureExtractor, ClapModel
    c = load_config("pocket/clap.json")
    tok = train_bpe_tokenizer(batch.audio_captions * 4, vocab_size=300)
    c["text_config"]["vocab_size"] = len(tok)
    torch.manual_seed(0)
    model = ClapModel(ClapConfig(text_config=c["text_config"], audio_config=c["audio_config"],
                                 projection_dim=c["projection_dim"]))
    fe = ClapFeatureExtractor(**c["feature_extractor"])
    feats = fe(list(batch.audio), sampling_rate=16000, return_tensors="pt")["input_features"]
    losses = train_clap(model, feats, tok, batch.audio_captions, steps=40, batch_size=32,
                        lr=2e-3, progress=False)
    assert _drops(losses) and not model.training


def test_sibling_batches_pair_rows_of_one_group():
    groups = np.repeat(np.arange(50), 4)               # 50 groups of 4 rows
    gen = np.random.default_rng(0)
    for fraction in (0.25, 0.5, 1.0):
        idx = sibling_batches(groups, 32, gen, fraction)
        assert len(idx) == 32 and len(set(idx.tolist())) == 32
        shared = np.bincount(groups[idx], minlength=50)
        # most pairs asked for share a group (a sibling may be its anchor itself, 1 in 4 here,
        # or fall in a group another anchor holds; random rows then fill the batch)
        assert (shared >= 2).sum() >= round(32 * fraction / 2) // 2
    random_rows = np.bincount(groups[gen.choice(200, 32, replace=False)], minlength=50)
    assert (shared >= 2).sum() > (random_rows >= 2).sum()
