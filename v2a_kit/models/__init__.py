"""How each model the kit loads is built: one module per kind, no presets, no name lookup.

- :mod:`.clip` — open_clip CLIPs: an ``ARCH/TAG`` from the hub or a local file, or the same
  architecture at random init; the ``tiny`` CLIP.
- :mod:`.clap` — transformers ``ClapModel``\\ s: the CLAPs converted from laion_clap checkpoints
  (AudioLDM-S-full's own, LAION's 630k-audioset-best), at random init, the ``tiny`` CLAP; and the
  text tower a generator shares with its CLAP.
- :mod:`.audioldm` — AudioLDM generators: AudioLDM-S-full-v2 (diffusers snapshot, or random init)
  and the ``tiny`` one; :func:`~.audioldm.assemble` turns components into an
  :class:`~v2a_kit.generation.AudioLDMGenerator`.

The pocket world's builders live in :mod:`v2a_kit.pocket.models.loading`. Which name means which
builder, and which :class:`~v2a_kit.spaces.Space` it embeds into, is written once, in
:mod:`v2a_kit.registry`: a builder receives its space from there.
"""
