"""v2a-kit: learn and study vision-to-audio generation by connecting foundation models.

CLIP image embedding --V2A-Mapper--> CLAP audio embedding --AudioLDM--> waveform
(after Wang et al., "V2A-Mapper", arXiv 2308.09300). See README.md and notebooks/.
"""

from .devices import best_device
from .encoders import (
                       ClapEncoder,
                       ClipEncoder,
                       encode_audio,
                       encode_images,
                       encode_text,
                       encode_video,
)
from .errors import (
                       CacheError,
                       ConfigError,
                       EmbeddingError,
                       MediaError,
                       SpaceMismatchError,
                       V2AError,
                       WeightsNotFoundError,
)
from .generation import (
    AudioLDMGenerator,
    GenerationOutput,
    SpaceCheck,
    check_space,
    encode_prompt,
    generate,
)
from .mappers import create_mapper, fit_ridge, list_mappers, save_mapper
from .pipeline import V2AItem, V2AOutput, V2APipeline, write_outputs
from .presets import default_preset, get_preset, list_presets
from .registry import (
    create_model,
    list_models,
    load_audioldm,
    load_clap,
    load_clip,
    load_extractors,
    load_mapper,
)
from .spaces import Embeddings, Space
from .train import History, Pairs, TrainConfig, fit, make_pairs

__version__ = "0.1.0"

__all__ = [
    "best_device", "list_presets", "get_preset", "default_preset", "list_models", "create_model",
    "load_extractors",
    "load_clip", "load_clap", "load_audioldm", "AudioLDMGenerator", "generate",
    "GenerationOutput", "encode_prompt", "check_space", "SpaceCheck", "ClipEncoder", "ClapEncoder",
    "encode_images", "encode_video", "encode_audio", "encode_text",
    "Embeddings", "Space",
    "create_mapper", "load_mapper", "save_mapper", "list_mappers", "fit_ridge",
    "fit", "TrainConfig", "Pairs", "History", "make_pairs",
    "V2APipeline", "V2AOutput", "V2AItem", "write_outputs",
    "V2AError", "MediaError", "EmbeddingError", "SpaceMismatchError", "WeightsNotFoundError",
    "CacheError", "ConfigError",
]
