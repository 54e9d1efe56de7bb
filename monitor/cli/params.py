"""Click parameter types shared by several commands."""

from __future__ import annotations

from datetime import timedelta

import click

__all__ = ["DURATION", "DurationType", "POSITIVE_DURATION"]


class DurationType(click.ParamType):
    """A duration option ('90s', '15m', '1h', '90d', '2w'); `positive` refuses zero."""

    name = "duration"

    def __init__(self, positive: bool = False) -> None:
        self.positive = positive

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> timedelta:
        from monitor.durations import parse_duration

        try:
            result = parse_duration(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)
        if self.positive and result <= timedelta(0):
            self.fail("must be longer than zero, e.g. 2h", param, ctx)
        return result


DURATION = DurationType()
POSITIVE_DURATION = DurationType(positive=True)
