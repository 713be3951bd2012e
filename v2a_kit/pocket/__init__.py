"""The pocket world: a procedural audio-visual world and the miniature models trained on it."""
