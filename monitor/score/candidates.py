"""Corpus statistics of coined-slur candidates, and accepting or rejecting them for the lexicon."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, Integer, cast, func, select

from monitor.errors import InputError
from monitor.score.lexicon import KINDS, LexiconEntry, append_entry, fold, load_lexicon
from monitor.store.schema import comments, scores, slur_candidates, slur_occurrences

__all__ = ["ACCEPTED_FILE", "accept", "find_candidate", "list_candidates", "reject", "update_candidates"]

ACCEPTED_FILE = "accepted.toml"
GROWTH_WINDOW = timedelta(days=1)
MAX_EXAMPLES = 3
EXAMPLE_CONTEXT = 60  # characters either side of the term in an example


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _key(term: str) -> str:
    return fold(term).replace("-", "").strip()


def _example(text: str | None, start: int, end: int) -> str | None:
    if not text:
        return None  # purged by retention
    a = max(0, start - EXAMPLE_CONTEXT)
    b = min(len(text), end + EXAMPLE_CONTEXT)
    return ("…" if a else "") + text[a:b] + ("…" if b < len(text) else "")


def _rank(count: int, authors: int, articles: int, toxic: int, growth: float) -> float:
    """Spread matters more than volume: one author repeating a word should not top the list."""
    toxic_share = toxic / count if count else 0.0
    return round(2.0 * math.log1p(authors) + math.log1p(articles) + 0.5 * math.log1p(count)
                 + toxic_share + max(0.0, math.log2(growth)), 4)


def update_candidates(engine: Engine, since: datetime | None = None, *,
                      now: datetime | None = None, window: timedelta = GROWTH_WINDOW) -> int:
    """Recompute the statistics of coined terms (those seen since `since`, or all) from
    slur_occurrences: count, first/last seen, distinct authors and articles, toxic contexts,
    growth of the last `window` against the one before. Returns how many rows were written."""
    now = now or _utcnow()
    toxic_by_comment = (select(scores.c.comment_id,
                               func.max(cast(scores.c.toxic, Integer)).label("toxic"))
                        .group_by(scores.c.comment_id).subquery())
    query = (select(slur_occurrences.c.normalized, slur_occurrences.c.term,
                    slur_occurrences.c.target, slur_occurrences.c.start, slur_occurrences.c.end,
                    slur_occurrences.c.seen_at, slur_occurrences.c.comment_id,
                    comments.c.author_pseudonym, comments.c.article_id, comments.c.text,
                    comments.c.published_at, toxic_by_comment.c.toxic)
             .join(comments, comments.c.id == slur_occurrences.c.comment_id)
             .join(toxic_by_comment, toxic_by_comment.c.comment_id == slur_occurrences.c.comment_id,
                   isouter=True)
             .where(slur_occurrences.c.kind == "coined")
             .order_by(slur_occurrences.c.seen_at, slur_occurrences.c.id))
    with engine.begin() as conn:
        if since is not None:
            fresh = select(slur_occurrences.c.normalized).where(
                slur_occurrences.c.kind == "coined", slur_occurrences.c.seen_at >= since)
            query = query.where(slur_occurrences.c.normalized.in_(fresh))
        groups: dict[str, list[Any]] = defaultdict(list)
        for row in conn.execute(query):
            groups[row.normalized].append(row)
        existing = {r.normalized: r for r in conn.execute(
            select(slur_candidates.c.normalized, slur_candidates.c.status)
            .where(slur_candidates.c.normalized.in_(list(groups))))} if groups else {}
        for normalized, rows in groups.items():
            conn.execute(_upsert(normalized, rows, now, window, normalized in existing))
    return len(groups)


def _upsert(normalized: str, rows: list[Any], now: datetime, window: timedelta,
            exists: bool) -> Any:
    # When a comment was written is the better clock; when it was scored is the fallback.
    times = [r.published_at or r.seen_at for r in rows]
    comments_seen = {r.comment_id: r for r in rows}
    recent = sum(1 for t in times if t >= now - window)
    before = sum(1 for t in times if now - 2 * window <= t < now - window)
    growth = (recent + 1) / (before + 1)
    toxic = sum(1 for r in comments_seen.values() if r.toxic)
    authors = len({r.author_pseudonym for r in rows if r.author_pseudonym})
    articles = len({r.article_id for r in rows})
    spelling = Counter(r.term for r in rows).most_common(1)[0][0]
    target = Counter(r.target for r in rows).most_common(1)[0][0]
    examples = []
    for r in list(comments_seen.values())[-MAX_EXAMPLES:]:
        snippet = _example(r.text, r.start, r.end)
        if snippet:
            examples.append(snippet)
    values = {
        "term": spelling, "target": target, "first_seen": min(times), "last_seen": max(times),
        "count": len(rows), "distinct_authors": authors, "articles": articles,
        "toxic_count": toxic, "growth": round(growth, 4),
        "score": _rank(len(rows), authors, articles, toxic, growth),
        "examples": examples, "updated_at": now,
    }
    if exists:
        return (slur_candidates.update().where(slur_candidates.c.normalized == normalized)
                .values(**values))
    return slur_candidates.insert().values(normalized=normalized, status="pending", **values)


def list_candidates(engine: Engine, limit: int = 20,
                    status: str = "pending") -> list[dict[str, Any]]:
    """Candidates with `status`, the fastest-spreading first."""
    query = (select(slur_candidates).where(slur_candidates.c.status == status)
             .order_by(slur_candidates.c.score.desc(), slur_candidates.c.count.desc(),
                       slur_candidates.c.normalized)
             .limit(limit))
    with engine.connect() as conn:
        return [dict(row._mapping) for row in conn.execute(query)]


def _set_status(engine: Engine, term: str, target: str, status: str) -> None:
    key = _key(term)
    now = _utcnow()
    with engine.begin() as conn:
        updated = conn.execute(slur_candidates.update().where(slur_candidates.c.normalized == key)
                               .values(status=status, updated_at=now, target=target or
                                       slur_candidates.c.target)).rowcount
        if not updated:
            # Never seen yet: remember the decision so the term is not proposed later.
            conn.execute(slur_candidates.insert().values(
                normalized=key, term=term, target=target or "", first_seen=now, last_seen=now,
                count=0, distinct_authors=0, articles=0, toxic_count=0, growth=0.0, score=0.0,
                status=status, examples=[], updated_at=now))


def find_candidate(engine: Engine, term: str) -> dict[str, Any] | None:
    """The stored candidate for `term` (any spelling), or None when discovery never saw it."""
    with engine.connect() as conn:
        row = conn.execute(select(slur_candidates)
                           .where(slur_candidates.c.normalized == _key(term))).first()
    return None if row is None else dict(row._mapping)


def accept(engine: Engine, lexicon_dir: Path | str, term: str, target: str, *,
           kind: str = "coinage", severity: int = 2, lang: str = "any",
           note: str = "", accepted_file: Path | None = None) -> LexiconEntry:
    """Add `term` to the lexicon (`accepted_file`, default accepted.toml in `lexicon_dir`); mark
    the candidate accepted."""
    term = term.strip()
    if not term or " " in term:
        raise InputError(f"{term!r} is not one word: accept single coined words "
                         "(write phrases as a pattern in a lexicon file)")
    target_file = accepted_file or Path(lexicon_dir) / ACCEPTED_FILE
    extra = [target_file]
    lexicon = load_lexicon(lexicon_dir, extra_files=extra)
    if target not in lexicon.targets:
        known = ", ".join(sorted(lexicon.targets))
        raise InputError(f"unknown target {target!r}: use one of {known}")
    if kind not in KINDS:
        raise InputError(f"unknown kind {kind!r}: use one of {', '.join(KINDS)}")
    if any(e.pattern is None and _key(e.term) == _key(term) for e in lexicon.entries):
        raise InputError(f"{term!r} is already in the lexicon")
    entry = LexiconEntry(term=term, target=target, kind=kind, severity=severity, lang=lang,
                         note=note or "accepted from discovery")
    append_entry(target_file, entry)
    load_lexicon(lexicon_dir, extra_files=extra)  # the file must still load; raises with file and entry if not
    _set_status(engine, term, target, "accepted")
    return entry


def reject(engine: Engine, term: str) -> None:
    """Mark `term` rejected: it is no longer listed among the pending candidates."""
    if not term.strip():
        raise InputError("give the term to reject")
    _set_status(engine, term.strip(), "", "rejected")
