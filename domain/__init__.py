"""The bottom layer: records, text rules, settings and errors; it imports nothing else of synth."""
