"""Media layer: probe containers, detect shots, sample frames. Knows nothing of models."""
