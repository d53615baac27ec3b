"""The Community Forensics ViT-S/16-384 detector: checkpoints, preprocessing, inference,
heatmaps, model store. Imports torch; the rest of the app loads it only when needed."""
