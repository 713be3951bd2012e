"""The pocket world's miniature models and how they are built and loaded.

- :mod:`.audio`: the shared audio front end (log-mel) and the Griffin-Lim vocoder;
- :mod:`.contrastive`: pocket-CLIP and pocket-CLAP; :mod:`.generator`: pocket-AudioLDM's UNet,
  autoencoder and training; :mod:`.direct`: the direct baseline (no mapper);
- :mod:`.evaluators`: the tagger and the audio→image evaluator; :mod:`.extractors`: them in the
  roles of the paper's evaluation networks; :mod:`.probes`: what a probe reads from an embedding;
- :mod:`.onsets`: the timing-aware variant's onset predictor;
- :mod:`.loading`: the shipped build's folder and the loaders.

Load them through the kit's loaders (``load_clip("pocket")``, ...) or ``v2a_kit.pocket``'s
(``load_tagger``, ``load_models``); this package's facade imports nothing itself.
"""
