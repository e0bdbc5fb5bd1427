"""Memory layer: per-video SQLite + FAISS stores under one root, keyed by content."""
