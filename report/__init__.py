"""Assembling the report from a run's checkpoints and rendering it to files."""
