"""Where papers come from: one module per source."""
