"""Generation: the kit's ``generate`` vs a bare diffusers ``AudioLDMPipeline`` call, and the
pipeline's throughput.

1. The same pocket-AudioLDM components, CLAP embeddings, negative embedding, scheduler, steps and
   seed through ``v2a_kit.generate`` and through ``AudioLDMPipeline(prompt_embeds=...)``, the
   kit's guidance rescale and peak limiter off (the pipeline has neither): seconds of each
   (medians of repeats, each going first in turn), their ratio (target ≈ 1.0) and the largest
   difference between their waveforms (they should be equal).
2. ``V2APipeline`` on the pocket preset at its default settings: images -> sounds per second
   (CLIP + mapper + AudioLDM, batches of 16) on this machine.
3. The ``paper`` sizes at random init (no download; the cost does not depend on the weights):
   - with a CUDA GPU: AudioLDM-S, seconds per 10 s clip, fp16 vs fp32, DDIM-200 vs
     DPM-Solver++ at the kit's default steps;
   - on the CPU (always): the whole ``V2APipeline`` (CLIP ViT-L/14 -> paper-size generative
     mapper -> AudioLDM-S) at the kit's defaults, seconds per image -> 10.24 s sound; and
     DDIM-200 extrapolated from the measured cost of one UNet step (a 200-step run would take
     minutes), stated as such.

    python benchmarks/bench_generation.py [--n 16] [--repeats 6]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch
from _turns import in_turns

import v2a_kit as vk
from v2a_kit.generation import SCHEDULERS, make_scheduler
from v2a_kit.pocket.world import sample_world


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def kit_vs_diffusers(n: int, repeats: int, steps: int = 25) -> None:
    from diffusers import AudioLDMPipeline
    gen = vk.load_audioldm("pocket", device="cpu")
    clap_embed = torch.nn.functional.normalize(
        torch.randn(n, gen.space.dim, generator=torch.Generator().manual_seed(0)), dim=-1)
    neg = vk.encode_prompt(gen, [""]).embeds.expand(n, -1)
    pipe = AudioLDMPipeline(vae=gen.vae, text_encoder=gen.text_encoder, tokenizer=gen.tokenizer,
                            unet=gen.unet, vocoder=gen.vocoder,
                            scheduler=make_scheduler("dpmsolver++", gen.scheduler.config))
    pipe.set_progress_bar_config(disable=True)

    def kit():  # as diffusers' pipeline runs it: no guidance rescale, no peak limiter
        return vk.generate(gen, clap_embed, negative_clap_embed=neg, num_inference_steps=steps,
                           guidance_rescale=0.0, peak_limit=None,
                           generator=torch.Generator().manual_seed(1), progress=False).waveforms

    def bare():
        return pipe(prompt_embeds=clap_embed, negative_prompt_embeds=neg,
                    num_inference_steps=steps, guidance_scale=2.5,
                    generator=torch.Generator().manual_seed(1)).audios

    kit(), bare()  # warm-up
    mk, mb, pairs, a, b = in_turns(kit, bare, repeats)
    print(f"kit generate vs AudioLDMPipeline ({n} clips, DPM-Solver++ {steps} steps, "
          f"guidance 2.5, pocket): kit {mk:.2f} s, diffusers {mb:.2f} s, ratio {mk / mb:.3f} "
          f"(medians of {repeats} repeats, each going first in turn; per repeat "
          f"{pairs[0]:.3f}–{pairs[-1]:.3f}); max |difference| {np.abs(a - b).max():.2e}")


def throughput(n: int) -> None:
    pipe = vk.V2APipeline.from_preset("pocket", "diffusion")
    images = list(sample_world(n, seed=8800).images)
    pipe(images[:2], progress=False)  # warm-up
    dt, _ = timed(lambda: pipe(images, progress=False))
    s = pipe.audioldm
    print(f"V2APipeline, pocket, defaults ({vk.pipeline.DEFAULT_SCHEDULER} "
          f"{s.default_steps(vk.pipeline.DEFAULT_SCHEDULER)} steps, 1 sound of "
          f"{s.default_length_s:g} s per image): "
          f"{n} images in {dt:.1f} s = {n / dt:.2f} images -> sounds per second "
          f"({torch.get_num_threads()} threads)")


def paper_on_gpu() -> None:
    if not torch.cuda.is_available():
        print("paper-size AudioLDM-S on GPU: skipped (no CUDA device here)")
        return
    fast = ("dpmsolver++", SCHEDULERS["dpmsolver++"])
    for dtype in (torch.float16, torch.float32):
        gen = vk.load_audioldm("paper", random_init=True, device="cuda", dtype=dtype)
        e = torch.nn.functional.normalize(torch.randn(1, gen.space.dim), dim=-1)
        for scheduler, steps in (("ddim", 200), fast):
            vk.generate(gen, e, scheduler=scheduler, num_inference_steps=2, progress=False,
                        audio_length_in_s=10.0)
            torch.cuda.synchronize()
            t = time.perf_counter()
            vk.generate(gen, e, scheduler=scheduler, num_inference_steps=steps,
                        progress=False, audio_length_in_s=10.0)
            torch.cuda.synchronize()
            dt = time.perf_counter() - t
            print(f"paper AudioLDM-S (random init) {torch.cuda.get_device_name()} {dtype}: "
                  f"{scheduler} {steps} steps: {dt:.2f} s per 10 s clip")
        gen = None
        torch.cuda.empty_cache()


def paper_on_cpu(repeats: int = 2) -> None:
    """The whole paper-size pipeline on this machine's CPU, at the kit's defaults."""
    from v2a_kit.mappers import create_mapper
    from v2a_kit.pipeline import V2APipeline
    clip = vk.load_clip("paper", random_init=True, device="cpu")
    gen = vk.load_audioldm("paper", random_init=True, device="cpu")
    pipe = V2APipeline(clip, create_mapper("diffusion-paper", clip.space, gen.space), gen)
    image = sample_world(1, seed=9400).images[0]
    length = pipe.max_audio_length_s

    def run(steps=None, scheduler="dpmsolver++"):
        return timed(lambda: pipe(image, num_inference_steps=steps, scheduler=scheduler,
                                  audio_length_in_s=length, progress=False))[0]

    run(2)  # warm-up
    default = statistics.median(run() for _ in range(repeats))
    few = statistics.median(run(2, "ddim") for _ in range(repeats))
    many = statistics.median(run(6, "ddim") for _ in range(repeats))
    per_step = (many - few) / 4
    fixed = few - 2 * per_step
    threads = torch.get_num_threads()
    print(f"paper sizes (random init), CPU fp32, {threads} threads, one image -> {length} s: "
          f"{default:.1f} s at the defaults (dpmsolver++ {SCHEDULERS['dpmsolver++']} steps); "
          f"one guided UNet step {per_step:.2f} s, the rest (CLIP, mapper, VAE, vocoder) "
          f"{fixed:.1f} s; DDIM-200 ≈ {fixed + 200 * per_step:.0f} s (extrapolated from 2- and "
          f"6-step runs)")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=16)
    ap.add_argument("--repeats", type=int, default=6, help="even: each goes first as often")
    args = ap.parse_args()
    kit_vs_diffusers(args.n, args.repeats)
    throughput(2 * args.n)
    paper_on_gpu()
    paper_on_cpu()


if __name__ == "__main__":
    main()
