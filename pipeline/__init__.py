"""The pipeline: a run's stages in order, wired to the agents, sources, store and report."""
