"""The composition root: it resolves settings, opens what a run needs (library, models, caches,
sources), runs a run and keeps its record, for `run`, `resume`, `batch` and `replay` alike."""
