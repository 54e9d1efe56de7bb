"""Reviewers' verdicts as training examples, for `monitor models train` and the stance trainer.

Contract: `load_verdicts(engine)` returns one `LabelledText(text, lang, kind, value)` per comment
and kind — the newest verdict wins when a comment was judged more than once — with the text of the
revision that was judged. Comments purged by retention are left out (their text is gone).
`toxicity_labels` and `stance_labels` turn that list into the trainers' (text, label, lang) rows.

kind / value:
    "toxicity"          "toxic" | "not"
    "stance:<target>"   "favor" | "against" | "none"
    "slur:<term>"       "yes" | "no"

Weight: each verdict counts `VERDICT_WEIGHT` (3.0) times one row of a public set such as
GermEval (1.0; our own written examples count 2.0). A verdict is a moderator's judgement on a
comment from the very sources being watched, so it says more about the monitor's mistakes than a
public row; capping it at 3 keeps a few hundred verdicts from outvoting thousands of public rows.
Verdicts are training rows (split "train"; rows of one text share a fold), never validation rows.
"""

from __future__ import annotations

from typing import NamedTuple

from sqlalchemy import Engine

from monitor.store.verdicts import verdict_history

__all__ = ["VERDICT_WEIGHT", "LabelledText", "load_verdicts", "stance_labels", "toxicity_labels"]

VERDICT_WEIGHT = 3.0


class LabelledText(NamedTuple):
    text: str
    lang: str
    kind: str
    value: str


def load_verdicts(engine: Engine) -> list[LabelledText]:
    """Every current verdict with its judged text, oldest first (see the module docstring)."""
    with engine.connect() as conn:
        rows = conn.execute(verdict_history(current_only=True)).mappings().all()
    return [LabelledText(row["text"], row["lang"] or "und", row["kind"], row["value"])
            for row in rows if row["text"] is not None]


def toxicity_labels(rows: list[LabelledText]) -> list[tuple[str, int, str]]:
    """(text, 1 if toxic else 0, lang) for the toxicity verdicts, in the trainers' label form."""
    return [(r.text, int(r.value == "toxic"), r.lang) for r in rows if r.kind == "toxicity"]


def stance_labels(rows: list[LabelledText]) -> dict[str, list[tuple[str, str, str]]]:
    """Per target: (text, favor | against | none, lang) for the stance verdicts."""
    out: dict[str, list[tuple[str, str, str]]] = {}
    for r in rows:
        family, _, target = r.kind.partition(":")
        if family == "stance":
            out.setdefault(target, []).append((r.text, r.value, r.lang))
    return out
