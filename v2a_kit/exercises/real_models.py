"""Notebook 07's exercises (real models, your own data): a mapper on a folder of your own pairs
(07.1), a closed-form ridge map on it (07.2), the text bridge with your captions (07.3), and the
paper's sampler timed (07.4)."""

from __future__ import annotations

from .checking import Exercise, Wrong, describe, read_dict, read_number, read_share, to_number


# 07 — the real models (defaults: the `tiny` preset, offline; the notebook's run passes
# preset="paper" and, without a download, load={"random_init": True})
def solve_07_1(folder=None, preset: str = "tiny", load=None, config: str = "regression-pocket",
               epochs: int | None = 5, num_pairs: int = 24):
    """Validation recall@1 of a mapper trained on ``folder`` (frames and sounds sharing a file
    name; ``None``: ``num_pairs`` pocket-world pairs, as the notebook), beside chance
    (1 / validation pairs). For the paper's models: ``preset="paper"``,
    ``config="regression-paper"``, ``epochs=None`` (the config's own)."""
    import tempfile
    from pathlib import Path

    import v2a_kit as vk
    from v2a_kit.embeddings import extract_embeddings
    from v2a_kit.pocket.world import sample_world, save_examples
    from v2a_kit.train import train_named
    work = Path(tempfile.mkdtemp(prefix="v2a-ex07-"))
    if folder is None:
        folder = work / "pairs"
        save_examples(sample_world(num_pairs, seed=7000), folder, n=num_pairs, lossless=True)
    clip = vk.load_clip(preset, **(load or {}))
    clap = vk.load_clap(preset, **(load or {}))
    pairs = vk.make_pairs(extract_embeddings(clip, folder, work / "cache", kind="image",
                                             progress=False),
                          extract_embeddings(clap, folder, work / "cache", kind="audio",
                                             progress=False), by="stem")
    overrides = {"epochs": epochs} if epochs else {}
    mapper, summary = train_named(pairs, config, num_val=max(2, len(pairs) // 10), seed=0,
                                  progress=False, **overrides)
    return {"recall@1": summary["best"]["recall@1"], "chance": 1 / summary["num_val"],
            "num_val": summary["num_val"]}


def solve_07_2(folder=None, preset: str = "tiny", load=None, config: str = "regression-pocket",
               epochs: int | None = 5, num_pairs: int = 24):
    """Validation recall@1 of ``ridge`` (closed form) and of the regression mapper ``config``,
    trained by ``train_named`` on the same pairs of ``folder`` (as :func:`solve_07_1`) and
    scored on the same validation pairs (the split ``train_named`` holds out, seed 0)."""
    import tempfile
    from pathlib import Path

    import v2a_kit as vk
    from v2a_kit import evaluation
    from v2a_kit.embeddings import extract_embeddings
    from v2a_kit.pocket.world import sample_world, save_examples
    from v2a_kit.train import train_named
    work = Path(tempfile.mkdtemp(prefix="v2a-ex07-"))
    if folder is None:
        folder = work / "pairs"
        save_examples(sample_world(num_pairs, seed=7000), folder, n=num_pairs, lossless=True)
    clip = vk.load_clip(preset, **(load or {}))
    clap = vk.load_clap(preset, **(load or {}))
    pairs = vk.make_pairs(extract_embeddings(clip, folder, work / "cache", kind="image",
                                             progress=False),
                          extract_embeddings(clap, folder, work / "cache", kind="audio",
                                             progress=False), by="stem")
    num_val = max(2, len(pairs) // 10)
    val = pairs.split(num_val, seed=0)[1]              # what train_named holds out
    out = {"num_val": num_val}
    for name, cfg, overrides in (("ridge", "ridge", {}),
                                 ("regression", config, {"epochs": epochs} if epochs else {})):
        mapper = train_named(pairs, cfg, num_val=num_val, seed=0, progress=False, **overrides)[0]
        out[name] = evaluation.recall_at_k(mapper.sample(val.clip.embeds), val.clap.embeds,
                                           ks=(1,))[1]
    return out


def solve_07_3(folder=None, captions=None, preset: str = "tiny", load=None,
               config: str = "regression-pocket", epochs: int | None = 5, num_pairs: int = 24,
               num_test: int = 4, steps: int | None = 3):
    """CS and FD of your mapper and of the text bridge with ``captions`` written for your
    folder (``None``: the pocket world's own audio captions of the stand-in pairs), on the same
    held-out images, with the paper's judges (at random init for the offline ``tiny`` preset:
    then the numbers only exercise the code)."""
    import tempfile
    from pathlib import Path

    import torch

    import v2a_kit as vk
    from v2a_kit.embeddings import extract_embeddings
    from v2a_kit.evaluation import extract, score
    from v2a_kit.pocket.world import sample_world, save_examples
    from v2a_kit.train import train_named
    work = Path(tempfile.mkdtemp(prefix="v2a-ex07-"))
    if folder is None:
        folder = work / "pairs"
        world = sample_world(num_pairs, seed=7000)
        save_examples(world, folder, n=num_pairs, lossless=True)
        captions = captions or sorted(set(world.audio_captions))
    if not captions:
        raise ValueError("captions: give a list of captions written for your folder")
    clip, clap = vk.load_clip(preset, **(load or {})), vk.load_clap(preset, **(load or {}))
    audioldm = vk.load_audioldm(preset, **(load or {}))
    pairs = vk.make_pairs(extract_embeddings(clip, folder, work / "cache", kind="image",
                                             progress=False),
                          extract_embeddings(clap, folder, work / "cache", kind="audio",
                                             progress=False), by="stem")
    train_pairs, test_pairs = pairs.split(num_test, seed=0)
    images, references = list(test_pairs.clip.sources), list(test_pairs.clap.sources)
    overrides = {"epochs": epochs} if epochs else {}
    mapper = train_named(train_pairs, config, num_val=max(2, len(train_pairs) // 10), seed=0,
                         progress=False, **overrides)[0]
    pipe = vk.V2APipeline(clip, mapper, audioldm)
    mine = pipe(images, num_inference_steps=steps, seed=0, progress=False)
    img = clip.encode_images(images, progress=False).embeds
    txt = clip.encode_text([f"a photo of {c}" for c in captions], progress=False).embeds
    picked = [captions[j] for j in (img @ txt.T).argmax(1).tolist()]
    bridge = vk.generate(audioldm, clap.encode_text(picked, progress=False),
                         num_inference_steps=steps, generator=torch.Generator().manual_seed(0))
    random_init = preset == "tiny" or bool((load or {}).get("random_init"))
    judges = vk.load_extractors("paper", random_init=random_init)
    real = extract(judges, references, resampler="soxr_hq")
    generated = {"your mapper": ([it.waveforms[0] for it in mine], mine[0].sampling_rate),
                 "text bridge": (list(bridge.waveforms), bridge.sampling_rate)}
    return {name: {"cs": s.cs, "fd": s.fd}
            for name, s in ((name, score(judges, waves, references=real, images=images,
                                         sampling_rate=sr, resampler="soxr_hq"))
                            for name, (waves, sr) in generated.items())}


def solve_07_4(prompts=("a dog barks twice", "rain falls on a tin roof"), preset: str = "tiny",
               load=None, steps: int = 200):
    """Seconds to generate ``prompts`` with the kit's default sampler and with the paper's
    setting (``num_inference_steps=steps, scheduler="ddim"``), on the same generator."""
    import time

    import torch

    import v2a_kit as vk
    audioldm = vk.load_audioldm(preset, **(load or {}))
    text = vk.encode_prompt(audioldm, list(prompts))
    sync = torch.cuda.synchronize if torch.cuda.is_available() else (lambda: None)
    out = {}
    for name, settings in (("default", {}),
                           (f"ddim, {steps} steps", {"num_inference_steps": steps,
                                                     "scheduler": "ddim"})):
        t0 = time.perf_counter()
        vk.generate(audioldm, text, generator=torch.Generator().manual_seed(0), progress=False,
                    **settings)
        sync()
        out[name] = time.perf_counter() - t0
    return out


def _check_own_recall(answer, names):
    """07.1/07.2: recalls measured on your own validation pairs: shares of num_val."""
    keys = [*names, "num_val"] + (["chance"] if names == ["recall@1"] else [])
    got = read_dict(answer, keys, shape="{" + ", ".join(repr(k) for k in keys) + "}")
    n = to_number(got["num_val"])
    if n is None or isinstance(got["num_val"], float) or n != int(n) or n < 1:
        raise Wrong(f"the answer['num_val']: expected a positive int, got "
                     f"{describe(got['num_val'])}")
    n = int(n)
    for k in names:
        read_share(got[k], f"the answer[{k!r}]", n)
    if "chance" in got:
        chance = read_number(got["chance"], "the answer['chance']")
        if abs(chance - 1 / n) > 1e-9:
            raise Wrong(f"the answer['chance'] is {chance:.4g}: recall@1's chance is one right "
                         f"pair among num_val = {n}, 1/{n} = {1 / n:.4g}")


def _check_07_1(answer, ref):
    _check_own_recall(answer, ["recall@1"])


def _check_07_2(answer, ref):
    _check_own_recall(answer, ["ridge", "regression"])


EXERCISES = [
    Exercise("07.1", "Make a folder of a few dozen pairs of your own (a frame and a short "
             "sound from each of a few videos), set `MY_FOLDER`, and rerun. How does the "
             "regression mapper's validation recall@1 (section 4 prints each mapper's) compare "
             "with chance (1 / number of validation pairs), and which held-out images get "
             "sounds that fit? Pass {'recall@1': float, 'chance': float, 'num_val': int}.",
             solve_07_1, _check_07_1, "a dict {'recall@1': float, 'chance': float, "
             "'num_val': int}",
             "The checker cannot recompute your folder: it checks that recall@1 is a share of "
             "your validation pairs and that chance is 1/num_val. A recall@1 a few times chance "
             "on a few dozen pairs is a mapper that learnt something; listen to the held-out "
             "sounds to hear what."),
    Exercise("07.2", "Train `ridge` (a closed-form linear map: add `\"ridge\": \"ridge\"` to "
             "`CONFIGS`) on the same folder and score it next to the regression mapper. On few "
             "pairs, which wins, and why might it? Pass {'ridge': recall@1, 'regression': "
             "recall@1, 'num_val': int} on the same validation pairs.",
             solve_07_2, _check_07_2, "a dict {'ridge': float, 'regression': float, "
             "'num_val': int}",
             "Both recalls are shares of the same few validation pairs, so one pair moves them "
             "by 1/num_val: read a difference smaller than that as a tie. Ridge has one linear "
             "map to fit in closed form, the MLP many more parameters and an early stop on the "
             "same few pairs — on few pairs ridge often wins (Exercise 03.2 of notebook 03 "
             "measures it on the pocket world)."),
    Exercise("07.3", "Give the text bridge a list of captions made for your folder. Does it now "
             "beat your mapper on CS? On FD?", solve_07_3, None,
             "a dict {system: {'cs', 'fd'}} (no checker: your captions and folder decide it)",
             "Captions written for your folder give the bridge the words its sounds need, so "
             "its CS (relevance to the image) can rise; its FD measures how close the sounds "
             "come to your real ones, which words alone rarely match as a mapper trained on "
             "the real sounds can. With random init (FAST, `tiny`) the numbers only exercise "
             "the code."),
    Exercise("07.4", "Generate with `num_inference_steps=200, scheduler=\"ddim\"` (the paper's "
             "setting) and compare the timings in section 6 with the default.", solve_07_4,
             None, "a dict {setting: seconds} (no checker: timings belong to your machine)",
             "Each step runs the UNet once per guidance branch, so the time grows about "
             "linearly with the steps: 200 DDIM steps cost roughly 200 / (the default's "
             "steps) times the default's sampling time, plus the fixed cost of decoding."),
]
