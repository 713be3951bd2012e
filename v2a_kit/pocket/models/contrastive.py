"""Contrastive training of pocket-CLIP and pocket-CLAP, and zero-shot attribute classification.

Both are trained the way their full-size namesakes were: a symmetric InfoNCE loss over a batch of
matched (image, caption) or (audio, caption) pairs with a learned temperature (Radford et al.
2021; Wu et al. 2023). pocket-CLIP is an open_clip ``CLIP`` with a small config and uses
open_clip's own ``ClipLoss``; pocket-CLAP is a transformers ``ClapModel`` and uses the model's own
loss (``return_loss=True``). Nothing here is pocket-specific except the data it is fed.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from ...devices import seeded
from ...lr_schedule import warmup_cosine

__all__ = ["train_clip", "train_clap", "sibling_batches", "sibling_groups", "zero_shot_accuracy",
           "combo_prompts"]


def sibling_batches(groups: np.ndarray, batch_size: int, gen: np.random.Generator,
                    fraction: float = 0.5) -> np.ndarray:
    """A minibatch whose first ``fraction`` is pairs: a random row and another row of the same
    group (a "sibling"); the rest random rows. Siblings are hard negatives for contrastive
    training. With groups = the attributes an image
    shows, siblings differ only in what the caption names beyond them (e.g. the heard-only
    contour), which a random batch of a world this size almost never pits against each other.
    Where a sibling is its anchor itself or already drawn, random rows fill the batch."""
    anchors = gen.choice(len(groups), size=max(1, round(batch_size * fraction / 2)),
                         replace=False)
    order = np.argsort(groups, kind="stable")
    starts = np.searchsorted(groups[order], groups[anchors], side="left")
    ends = np.searchsorted(groups[order], groups[anchors], side="right")
    picks = order[starts + (gen.random(len(anchors)) * (ends - starts)).astype(np.int64)]
    idx = np.unique(np.concatenate([anchors, picks]))
    short = batch_size - len(idx)  # a sibling that is the anchor itself, or already drawn
    if short > 0:
        rest = np.setdiff1d(np.arange(len(groups)), idx)
        idx = np.concatenate([idx, gen.choice(rest, size=short, replace=False)])
    return idx


def sibling_groups(labels: dict, attributes) -> np.ndarray:
    """(n,) one int per distinct combination of ``labels[a]`` over ``attributes``: rows that
    share every one of them share a group (the siblings of :func:`sibling_batches`)."""
    from ..world.scenes import AUDIBLE
    group = np.zeros(len(labels[attributes[0]]), np.int64)
    for a in attributes:
        group = group * len(AUDIBLE[a]) + np.asarray(labels[a], np.int64)
    return group


def _loop(model, loss_fn: Callable[[np.ndarray], torch.Tensor], n: int, *, steps: int,
          batch_size: int, lr: float, seed: int, desc: str, progress: bool,
          weight_decay: float = 0.05, groups=None, sibling_fraction: float = 0.5) -> list[float]:
    """Shared AdamW + warmup/cosine loop over random minibatches of ``n`` training pairs (with
    ``groups``: :func:`sibling_batches`; a list of group arrays takes them in turn, one per
    step, so that each kind of sibling is a hard negative every few steps)."""
    if groups is not None and not isinstance(groups, (list, tuple)):
        groups = [groups]
    gen = np.random.default_rng(seed)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    sched = warmup_cosine(opt, steps, max(1, steps // 20)) if steps > 0 else None
    model.train()
    losses = []
    bar = tqdm(range(steps), desc=desc, disable=not progress, leave=False)
    for step in bar:
        if groups is not None and batch_size < n:
            idx = sibling_batches(groups[step % len(groups)], batch_size, gen, sibling_fraction)
        else:
            idx = gen.choice(n, size=min(batch_size, n), replace=False)
        loss = loss_fn(idx)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        losses.append(loss.item())
        if step % 10 == 0:
            bar.set_postfix(loss=f"{np.mean(losses[-10:]):.3f}")
    model.eval()
    return losses


def train_clip(model, preprocess_batch: Callable, tokenizer, images: np.ndarray,
               captions: list[str], *, steps: int, batch_size: int = 128, lr: float = 1e-3,
               seed: int = 0, progress: bool = True, groups=None,
               sibling_fraction: float = 0.5) -> list[float]:
    """Train an open_clip model on (image, caption) pairs; returns the loss per step.

    Args:
        preprocess_batch: uint8 images (b, H, W, 3) -> normalised float tensor (b, 3, H, W).
        groups: (n,) ints, or a list of such arrays taken in turn; when given,
            ``sibling_fraction`` of every batch is pairs of rows of the same group
            (:func:`sibling_batches`) — hard negatives.
    """
    from open_clip.loss import ClipLoss

    clip_loss = ClipLoss()
    tokens = tokenizer(captions)

    def loss_fn(idx):
        img_f, txt_f, scale = model(preprocess_batch(images[idx]), tokens[idx])[:3]
        return clip_loss(img_f, txt_f, scale)

    with seeded(seed):  # dropout draws from it; the caller's random state is left as it was
        return _loop(model, loss_fn, len(captions), steps=steps, batch_size=batch_size, lr=lr,
                     seed=seed, desc="pocket-CLIP", progress=progress, groups=groups,
                     sibling_fraction=sibling_fraction)


def train_clap(model, input_features: torch.Tensor, tokenizer, captions: list[str], *,
               steps: int, batch_size: int = 128, lr: float = 1e-3, seed: int = 0,
               progress: bool = True, groups=None,
               sibling_fraction: float = 0.5) -> list[float]:
    """Train a transformers ``ClapModel`` on (audio features, caption) pairs.

    Args:
        input_features: (n, 1, frames, mel) from the model's ``ClapFeatureExtractor``,
            precomputed once (the extractor runs in numpy, clip by clip).
        groups: (n,) ints, or a list of such arrays taken in turn; when given,
            ``sibling_fraction`` of every batch is pairs of rows of the same group
            (:func:`sibling_batches`) — hard negatives.
    """
    tok = tokenizer(captions, padding=True, return_tensors="pt")

    def loss_fn(idx):
        idx = torch.as_tensor(idx)
        out = model(input_ids=tok["input_ids"][idx], attention_mask=tok["attention_mask"][idx],
                    input_features=input_features[idx], return_loss=True)
        return out.loss

    with seeded(seed):  # dropout draws from it; the caller's random state is left as it was
        return _loop(model, loss_fn, len(captions), steps=steps, batch_size=batch_size, lr=lr,
                     seed=seed, desc="pocket-CLAP", progress=progress, groups=groups,
                     sibling_fraction=sibling_fraction)


def combo_prompts(attributes: dict[str, list[str]], caption_fn: Callable[[dict], list[str]]):
    """Every combination of attribute values and the captions that describe it.

    Returns:
        combos: list of dicts {attribute: value index}; prompts: list of lists of captions.
    """
    names = list(attributes)
    combos, prompts = [], []
    for values in itertools.product(*(range(len(attributes[a])) for a in names)):
        combo = dict(zip(names, values))
        combos.append(combo)
        prompts.append(caption_fn(combo))
    return combos, prompts


def zero_shot_accuracy(embeds: torch.Tensor, labels: dict[str, np.ndarray], combos: list[dict],
                       prompt_embeds: torch.Tensor, temperature: float = 0.01) -> dict[str, float]:
    """Zero-shot attribute classification by captions.

    Each combination of attribute values is a class, represented by the mean of its captions'
    text embeddings (prompt ensembling, as in CLIP's zero-shot protocol). An attribute's value is
    predicted by marginalising the softmax over the combinations that share it.

    Args:
        embeds: (n, d) normalised media embeddings.
        labels: attribute -> (n,) true value indices; attributes the combinations do not name
            (e.g. the heard-only contour, for images) are left out.
        combos: from :func:`combo_prompts`; prompt_embeds: (num_combos, d) normalised.
    Returns:
        attribute -> accuracy in [0, 1], plus ``"all"``: every attribute right at once.
    """
    probs = F.softmax(embeds @ prompt_embeds.T / temperature, dim=1)  # (n, num_combos)
    acc, all_right = {}, np.ones(len(embeds), bool)
    for attr, y in labels.items():
        if attr not in combos[0]:
            continue
        num_values = 1 + max(c[attr] for c in combos)
        member = torch.zeros(len(combos), num_values)
        for j, c in enumerate(combos):
            member[j, c[attr]] = 1.0
        pred = (probs @ member).argmax(1).numpy()
        right = pred == np.asarray(y)
        acc[attr] = float(right.mean())
        all_right &= right
    acc["all"] = float(all_right.mean())
    return acc
