"""The run browser (`synth serve`): read-only pages over a runs folder."""
