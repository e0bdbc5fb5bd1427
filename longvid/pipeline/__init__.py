"""Pipelines: orchestrate media, models and memory; no model or file-format details."""
