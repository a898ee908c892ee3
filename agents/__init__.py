"""The agents (planner, extractor, verifier, reviewers, writer), the model door and the session."""
