"""The model door: endpoints, schema dialects, transport, the validated answer chain, token and
cost accounting, budgets, prompt templates and the embedded local model server."""
