"""Example data for dashboard tests: sources, scored comments, hourly aggregates, alerts, coinages
and a daemon heartbeat, all relative to a given `now`."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, update

from monitor.config import SourceConfig
from monitor.score.base import CommentScore, StanceResult
from monitor.store.repo import (ArticleRecord, CommentRecord, Privacy, claim_pending, ensure_source,
                                put_state, upsert_article, upsert_comments, write_scores)
from monitor.store.schema import aggregates, alert_states, slur_candidates, sources

HOSTILE = "[bold red]x[/] \x1b[2J\x1b]0;pwned\x07 Verräter alle \x1b[31mrot"

# (source, external id, author, text, toxicity, nato stance)
COMMENTS = [
    ("tagesblick", "t1", "Hartmut", "Diese Kommentarspalte ist ein Irrenhaus, ihr Schafe", 0.93, "against"),
    ("tagesblick", "t2", "Gisela", HOSTILE, 0.88, "against"),
    ("tagesblick", "t3", "Rainer", "Ich finde die Analyse ausgewogen und gut belegt.", 0.04, "none"),
    ("nordpost", "n1", "Wiebke", "Danke für den Bericht aus Kiel.", 0.02, "favor"),
    ("nordpost", "n2", "Okke", "Wer das glaubt, ist selbst schuld, Dummkopf", 0.71, "none"),
]


def hour_start(now: datetime) -> datetime:
    return now.replace(minute=0, second=0, microsecond=0)


def fill(engine: Engine, now: datetime) -> None:
    """Write the example data; comments are published within the last hours before `now`."""
    with engine.begin() as conn:
        ids = {}
        for name in ("tagesblick", "nordpost", "waldpost"):
            ids[name] = ensure_source(conn, SourceConfig(name=name, url=f"https://{name}.example/"))
        conn.execute(update(sources).where(sources.c.name == "tagesblick")
                     .values(last_success_at=now - timedelta(minutes=4)))
        conn.execute(update(sources).where(sources.c.name == "waldpost")
                     .values(consecutive_failures=3, last_error="HTTP 503 \x1b[2J[red]boom[/red]"))
        for i, (source, ext, author, text, tox, nato) in enumerate(COMMENTS):
            aid = upsert_article(conn, ids[source], ArticleRecord(f"{source}-1", f"https://{source}.example/1"))
            upsert_comments(conn, ids[source], aid, [CommentRecord(
                ext, text, author, published_at=now - timedelta(hours=1, minutes=i))],
                privacy=Privacy(b"test-key"))
        pending = claim_pending(conn, 100)
        by_text = {c[3]: c for c in COMMENTS}
        write_scores(conn, [(p, CommentScore(None, "de", by_text[p.text][4], by_text[p.text][4] >= 0.5,
                                             "test-model",
                                             stance={"nato": StanceResult(by_text[p.text][5], 0.9)}))
                            for p in pending])
        start = hour_start(now)
        rows: list[dict[str, Any]] = []
        for h in range(24):
            share = 0.1 + 0.4 * h / 23  # a rising toxic share on tagesblick
            rows.append(_aggregate(start - timedelta(hours=23 - h), "tagesblick", 20, share, now,
                                   slurs=2 if h > 20 else 0))
        rows.append(_aggregate(start - timedelta(hours=1), "nordpost", 4, 0.25, now))
        conn.execute(aggregates.insert(), rows)
        conn.execute(alert_states.insert(), [
            alert_row("community/ToxicShareHigh", "tagesblick", "firing", 0.42, now,
                   "Toxic share on tagesblick is 42% [blink]!"),
            alert_row("community/VolumeSpike", "nordpost", "pending", 3.0, now, "Comment volume tripled"),
            alert_row("community/Brigading", "tagesblick", "resolved", 0.1, now, "over"),
        ])
        conn.execute(slur_candidates.insert(), [
            _candidate("panzerfreund", "Panzerfreund", "nato", 17, 9, 0.9, "pending", now),
            _candidate("kremlknecht", "[red]Kreml\x1b[2Jknecht", "russia", 11, 6, 0.7, "pending", now),
            _candidate("abgelehnt", "Abgelehntwort", "nato", 40, 20, 0.99, "rejected", now),
        ])
        put_state(conn, "daemon", {"state": "running", "pid": 4242,
                                   "heartbeat": (now - timedelta(seconds=20)).isoformat()})


def _aggregate(start: datetime, source: str, count: int, share: float, now: datetime,
               slurs: int = 0) -> dict[str, Any]:
    metrics = {"comment_count": count, "toxic_share": share, "stance_nato_favor": 0.1,
               "stance_nato_against": 0.6, "stance_nato_none": 0.3, "stance_russia_favor": 0.3,
               "stance_russia_against": 0.2, "stance_russia_none": 0.5, "slur_count": slurs,
               "top_slurs": ["panzerfreund"] if slurs else [], "comments_per_hour": float(count)}
    return {"window_s": 3600, "window_start": start, "scope": "source", "scope_key": source,
            "source": source, "comment_count": count, "metrics": metrics, "computed_at": now}


def alert_row(rule: str, source: str, state: str, value: float, now: datetime, summary: str) -> dict[str, Any]:
    return {"fingerprint": f"{rule}-{source}", "rule": rule,
            "labels": {"source": source, "severity": "warning"}, "annotations": {"summary": summary},
            "state": state, "value": value, "active_since": now - timedelta(minutes=30),
            "fired_at": now - timedelta(minutes=12) if state == "firing" else None,
            "last_eval_at": now}


def _candidate(normalized: str, term: str, target: str, count: int, authors: int, score: float,
               status: str, now: datetime) -> dict[str, Any]:
    return {"normalized": normalized, "term": term, "target": target, "first_seen": now - timedelta(days=2),
            "last_seen": now, "count": count, "distinct_authors": authors, "articles": 3,
            "toxic_count": count // 2, "growth": 1.5, "score": score, "status": status,
            "examples": [], "updated_at": now}
