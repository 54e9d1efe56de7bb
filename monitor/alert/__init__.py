"""Alerting: rule files, evaluation and the alert state machine, and notification through receivers (email, webhook)."""
