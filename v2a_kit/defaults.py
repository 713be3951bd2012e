"""The kit's defaults as plain data, importable without torch (``v2a-kit --help`` reads them).

- :data:`SCHEDULERS`: AudioLDM's samplers and their default step counts. DDIM-200 is the
  paper's setting; DPM-Solver++ with 10 steps is the fastest setting within noise of DDIM-200 on
  the pocket world (``benchmarks/bench_schedulers.py``; measured on pocket-AudioLDM only, not on
  AudioLDM-S).
- :data:`DEFAULT_SCHEDULER`: the sampler used when none is named.
- :data:`AGGREGATE_NAMES`: how a video's frame embeddings become one (``encoders.AGGREGATORS``).
- :data:`PEAK_LIMIT`: the largest absolute sample value ``generate`` returns (see there).
- :data:`MAPPER_KIND_NAMES`: the mapper kinds (``mappers.common.MAPPER_KINDS``, which holds
  their classes), for the command line's checks.
- :data:`TIMED_MIN_FPS`: the timed pocket videos' lowest frame rate (see below).
- :data:`TIMED_NOTE_S`, :data:`TIMING_FPS`: a pocket note's slot, the onset predictor's frame
  rate (see below).
- :data:`TIMING_MODES`: ``v2a-kit generate --timing``'s choices: ``none`` (V2A-Mapper's sound
  as it is) and ``onsets`` (the timing-aware variant, ``v2a_kit.pocket.models.onsets``).
"""

SCHEDULERS = {"dpmsolver++": 10, "ddim": 200}
DEFAULT_SCHEDULER = "dpmsolver++"
AGGREGATE_NAMES = ("mean", "median", "middle")
PEAK_LIMIT = 0.99
MAPPER_KIND_NAMES = ("diffusion", "regression", "ridge")
TIMING_MODES = ("none", "onsets")

__all__ = ["SCHEDULERS", "DEFAULT_SCHEDULER", "AGGREGATE_NAMES", "PEAK_LIMIT",
           "MAPPER_KIND_NAMES", "TIMED_MIN_FPS", "TIMED_NOTE_S", "TIMING_MODES", "TIMING_FPS"]

# The timed pocket videos' lowest frame rate (v2a_kit.pocket.world.timed): a frame of at most 100
# ms, so that each visual onset (its frame's time) is within 50 ms of its note, the timing measure's
# default tolerance (v2a_kit.evaluation.timing). Here so that the CLI can check --fps without
# importing the world.
TIMED_MIN_FPS = 10
# One pocket note's slot (s): a video shorter than this cannot show one note (the timing
# measure's and the timing-aware variant's refusal, v2a_kit.evaluation.timing.MIN_DURATION_S).
TIMED_NOTE_S = 0.22
# The frame rate the shipped onset predictor reads (v2a_kit.pocket.models.onsets; `v2a-kit pocket
# timing` trains it on timed videos at this rate, and a test checks the shipped one's): with
# `v2a-kit generate --timing onsets`, a video at another rate than this or a whole multiple of
# it is refused before any model is loaded.
TIMING_FPS = 25
