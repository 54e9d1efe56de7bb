"""Alerting: rule files, evaluation and the alert state machine, and email notification."""
