"""synth: a research question in, a cited and verified literature synthesis out."""

__version__ = "0.1.0"
