"""`monitor slurs`: review coined-slur candidates, grow the lexicon, and check it."""

from __future__ import annotations

import json

import click

from monitor.cli import AppContext, pass_app

__all__ = ["slurs"]


@click.group()
def slurs() -> None:
    """Coined slurs: candidates found by discovery, the lexicon, and checks."""


@slurs.command("candidates")
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True,
              help="How many candidates to list.")
@click.option("--status", type=click.Choice(["pending", "accepted", "rejected"]), default="pending",
              show_default=True, help="Which candidates: awaiting review, accepted or rejected.")
@click.option("--refresh/--no-refresh", default=True, show_default=True,
              help="Recompute the statistics from the stored occurrences first.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON Lines instead of a table.")
@pass_app
def candidates_cmd(app: AppContext, limit: int, status: str, refresh: bool, as_json: bool) -> None:
    """List coined terms the monitor discovered, the fastest-spreading first, with examples."""
    from monitor.score.candidates import list_candidates, update_candidates
    from monitor.store.db import open_engine
    from monitor.text import one_line, truncate

    engine = open_engine(app.config)
    if refresh:
        update_candidates(engine)
    rows = list_candidates(engine, limit, status)
    if as_json:
        from monitor.jsonfmt import dumps

        for row in rows:
            click.echo(dumps(row))
        return
    if not rows:
        click.echo(f"No {status} candidates.")
        return
    from rich.console import Console
    from rich.table import Table

    # The term is what the reviewer acts on: it never wraps or shrinks; the example gives way.
    widest = max(len(one_line(row["term"])) for row in rows)
    table = Table(title=f"{status} slur candidates")
    table.add_column("term", no_wrap=True, min_width=min(widest, 40))
    table.add_column("target", no_wrap=True)
    for col in ("count", "authors", "articles", "toxic", "growth"):
        table.add_column(col, justify="right", no_wrap=True)
    table.add_column("first seen", no_wrap=True)
    table.add_column("example", ratio=1, overflow="fold", min_width=10)
    for row in rows:
        share = f"{row['toxic_count'] / row['count']:.0%}" if row["count"] else "-"
        example = row["examples"][-1] if row["examples"] else ""
        table.add_row(one_line(row["term"]), row["target"], str(row["count"]),
                      str(row["distinct_authors"]), str(row["articles"]), share,
                      f"×{row['growth']:.1f}", row["first_seen"].strftime("%Y-%m-%d"),
                      truncate(one_line(example), 70))
    Console(highlight=False, markup=False).print(table)  # stored terms are data, not rich markup


@slurs.command("accept")
@click.argument("term")
@click.option("--target", default=None, help="Whom the slur targets: a key of the lexicon's "
                                            "targets.toml (nato, russia, ukraine, usa, eu …); "
                                            "default: the candidate's target.")
@click.option("--kind", type=click.Choice(["coinage", "slur", "blend", "dog_whistle"]),
              default="coinage", show_default=True, help="What sort of term it is.")
@click.option("--severity", type=click.IntRange(1, 3), default=2, show_default=True,
              help="1 mild … 3 severe.")
@click.option("--lang", type=click.Choice(["de", "en", "ru", "any"]), default="any",
              show_default=True, help="Language the term belongs to.")
@click.option("--note", default="", help="Why it is a slur (stored in the lexicon file).")
@pass_app
def accept_cmd(app: AppContext, term: str, target: str | None, kind: str, severity: int, lang: str,
               note: str) -> None:
    """Add TERM to the lexicon (lexicon/accepted.toml in the data directory).

    The file lives beside the database, not in the shipped config folder, and is read after it."""
    from monitor.score.candidates import accept, find_candidate
    from monitor.score.lexicon import accepted_path
    from monitor.store.db import open_engine
    from monitor.text import one_line

    cfg = app.config
    engine = open_engine(cfg)
    if target is None:
        found = find_candidate(engine, term)
        if found is None or not found["target"]:
            raise click.UsageError(f"{one_line(term)!r} is no candidate with a known target: "
                                   "give --target (nato, russia, …)")
        target = found["target"]
    entry = accept(engine, cfg.lexicon_dir, term, target, kind=kind, severity=severity,
                   lang=lang, note=note, accepted_file=accepted_path(cfg))
    click.echo(f"Accepted {one_line(entry.term)!r} ({entry.target}) into {accepted_path(cfg)}.")


@slurs.command("reject")
@click.argument("term")
@click.option("--unseen", is_flag=True,
              help="Block TERM although discovery has not proposed it yet.")
@pass_app
def reject_cmd(app: AppContext, term: str, unseen: bool) -> None:
    """Stop proposing TERM as a candidate (exit 2 if it is none, unless --unseen)."""
    from monitor.score.candidates import find_candidate, reject
    from monitor.store.db import open_engine
    from monitor.text import one_line

    engine = open_engine(app.config)
    if not unseen and find_candidate(engine, term) is None:
        raise click.BadParameter(f"no candidate {one_line(term)!r}: check the spelling in `monitor "
                                 "slurs candidates`, or give --unseen to block it before it appears",
                                 param_hint="TERM")
    reject(engine, term)
    click.echo(f"Rejected {one_line(term)!r}: it will not be proposed again.")


@slurs.command("check")
@click.argument("texts", nargs=-1)
@click.option("--lang", type=click.Choice(["de", "en", "ru", "other"]), default="other",
              show_default=True, help="Language of the TEXTS.")
@click.option("--no-lexicon", is_flag=True, help="Show what discovery alone finds in the TEXTS.")
@pass_app
def check_cmd(app: AppContext, texts: tuple[str, ...], lang: str, no_lexicon: bool) -> None:
    """Validate the lexicon folder; with TEXTS, print the slurs found in each."""
    from monitor.score.lexicon import lexicon_for
    from monitor.score.slurs import LexiconSlurDetector
    from monitor.text import one_line

    cfg = app.config
    lexicon = lexicon_for(cfg)
    click.echo(f"{cfg.lexicon_dir}: {len(lexicon.entries)} entries, "
               f"{len(lexicon.targets)} targets ({', '.join(sorted(lexicon.targets))}), "
               f"morphemes for {', '.join(sorted(lexicon.morphemes)) or 'no language'}: OK")
    if not texts:
        return
    detector = LexiconSlurDetector(lexicon, use_lexicon=not no_lexicon)
    for text in texts:
        hits = detector.find(text, lang)
        click.echo(json.dumps({"text": one_line(text), "slurs": [
            {"term": one_line(h.term), "normalized": h.normalized, "target": h.target,
             "kind": h.kind, "start": h.start, "end": h.end} for h in hits]}, ensure_ascii=False))
