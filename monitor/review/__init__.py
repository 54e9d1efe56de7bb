"""The review queue: people correct scores, the corrections are stored and teach the models."""
