"""Everything synth keeps on disk: the Chroma library, run folders, transcripts and the cache."""
