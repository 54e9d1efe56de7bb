"""Scoring: language, normalisation, toxicity, stance and coined slurs for each comment."""
