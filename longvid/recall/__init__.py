"""Recall: retrieval over a memory (meaning + words + frames, fused), evidence, citations, search.

Below the agent and the pipelines, above the memory and the models: both the one-retrieval
baseline and every agent tool read the memory through here.
"""
