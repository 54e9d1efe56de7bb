"""One way to validate a TOML file: a pydantic model per file (or per table), with messages that
name the key and say what would be accepted.

`Invalid(message, fix)` raised in a validator carries its own wording and fix; `problems` turns a
`ValidationError` into (key, message, fix) triples, the key spelled as in the file
(`region[0].size`), ready for each file's own error shape (`ConfigError`'s `file: key: message
(fix)`, or a rule file's `file:line: group, rule, field`).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Callable, Iterator, get_args, get_origin

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError
from pydantic_core import PydanticCustomError

from monitor.durations import parse_duration

__all__ = ["Invalid", "TomlModel", "accepted_keys", "duration", "problems", "strict", "whole_number"]


class TomlModel(BaseModel):
    """A table of a TOML file: unknown keys are errors (defaults are not validated unless a field
    says `validate_default`)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


def Invalid(message: str, fix: str | None = None) -> PydanticCustomError:  # noqa: N802 (reads as a class)
    """The error a validator raises: its message as written, and how to fix it."""
    return PydanticCustomError("invalid", "{message}", {"message": message, "fix": fix})


def whole_number(minimum: int) -> BeforeValidator:
    """An int (not a bool, not a float or a numeric string) of at least `minimum`."""

    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise Invalid(f"expected a whole number ≥ {minimum}, got {value!r}")
        return value

    return BeforeValidator(check)


def strict(kind: type, wording: str) -> BeforeValidator:
    """A value of exactly this TOML type (no coercion), e.g. strict(str, 'a string')."""

    def check(value: Any) -> Any:
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise Invalid(f"expected {wording}, got {value!r}")
        return value

    return BeforeValidator(check)


def duration(positive: bool = False) -> BeforeValidator:
    """A duration ('90s', '15m', '1h', '90d', '2w'); `positive` refuses zero and below."""

    def check(value: Any) -> timedelta:
        try:
            result = parse_duration(value)
        except ValueError as exc:
            raise Invalid(str(exc)) from None
        if positive and result <= timedelta(0):
            raise Invalid(f"expected a positive duration, got {value!r}")
        return result

    return BeforeValidator(check)


def _key(loc: tuple[int | str, ...]) -> str:
    key = ""
    for part in loc:
        key += f"[{part}]" if isinstance(part, int) else (f".{part}" if key else str(part))
    return key


def accepted_keys(model: type[BaseModel], loc: tuple[int | str, ...]) -> list[str]:
    """The keys the table at `loc` (inside `model`) accepts."""
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        field = current.model_fields.get(part) if isinstance(current, type) else None
        if field is None:
            break
        current = _model_in(field.annotation)
    if not (isinstance(current, type) and issubclass(current, BaseModel)):
        return []
    return sorted(field.alias or name for name, field in current.model_fields.items())


def _model_in(annotation: Any) -> Any:
    """The model class inside list[...] / X | None annotations, if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation) if get_origin(annotation) is not None else ():
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def problems(exc: ValidationError, model: type[BaseModel],
             unknown: Callable[[list[str]], tuple[str, str | None]] | None = None
             ) -> Iterator[tuple[str, str, str | None]]:
    """(key, message, fix) for each error; `unknown(accepted)` words the unknown-key error."""
    for err in exc.errors():
        loc = tuple(err["loc"])
        ctx = err.get("ctx") or {}
        if err["type"] == "invalid":
            yield _key(loc), ctx["message"], ctx.get("fix")
        elif err["type"] == "extra_forbidden":
            accepted = accepted_keys(model, loc[:-1])
            message, fix = unknown(accepted) if unknown else (
                "unknown key", "accepted: " + ", ".join(accepted))
            yield _key(loc), message, fix
        elif err["type"] == "missing":
            yield _key(loc), "required value is missing", None
        else:
            yield _key(loc), f"{err['msg'].removeprefix('Value error, ')}, got {err.get('input')!r}", None
