"""`monitor models train|eval|pull|info`: the built-in models, their figures, the Detoxify bundle."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from monitor.cli import AppContext, pass_app

__all__ = ["models"]


@click.group()
def models() -> None:
    """Train and evaluate the built-in models, fetch Detoxify for offline use, show what is installed."""


_DATA_HELP = ("Folder of the labelled public sets (default: MONITOR_LABELLED_DATA, else ../shared/data "
              "beside the checkout).")


@models.command()
@click.option("--data", type=click.Path(file_okay=False, path_type=Path), default=None,
              help=_DATA_HELP)
@click.option("--only", type=click.Choice(["toxicity", "stance", "second-tier"]), default=None,
              help="Train one model only (default: every model).")
@click.option("--second-tier", "tiers", type=click.Choice(["stance", "toxicity"]), multiple=True,
              help="Second-tier checkpoints to fine-tune (repeatable; default: stance). Each "
                   "fine-tunes the top e5 layers on the CPU: about ten minutes for stance on "
                   "two cores, far longer for toxicity.")
@click.option("--epochs", type=click.IntRange(min=1, max=50), default=4, show_default=True,
              help="Second tier: passes over the training rows.")
@click.option("--stated-licence-only", is_flag=True,
              help="Leave out the sets whose publisher states no licence (the card says so).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where to write the weights, metadata and model cards "
                   "(default: the package's monitor/score/models).")
@click.option("--folds", type=click.IntRange(min=2, max=20), default=5, show_default=True,
              help="Cross-validation folds for the reported scores and the thresholds.")
@click.option("--seed", type=int, default=0, show_default=True, help="Fold assignment seed.")
@click.option("--verdicts/--no-verdicts", default=True, show_default=True,
              help="Add the reviewers' toxicity and stance verdicts from the configured database "
                   "(`monitor review`), each weighing 3 public rows.")
@pass_app
def train(app: AppContext, data: Path | None, only: str | None, tiers: tuple[str, ...],
          epochs: int, stated_licence_only: bool, out: Path | None, folds: int, seed: int,
          verdicts: bool) -> None:
    """Train the built-in models on the public sets, our own data and reviewers' verdicts
    (several minutes per model).

    Every set and its licence goes into the model card; rows of a validation split are never
    trained on and are scored by the final model.
    """
    from monitor.errors import InputError
    from monitor.score.toxicity import MODEL_DIR
    from monitor.training.toxicity import render_card, save
    from monitor.training.toxicity import train as run_training

    def say(msg: str) -> None:
        click.echo(msg, err=True)

    target = out or MODEL_DIR
    if data is not None and not data.is_dir():
        raise click.BadParameter(f"{data} is not a folder: put the labelled public sets there "
                                 "or set MONITOR_LABELLED_DATA", param_hint="--data")
    reviewed = _verdict_examples(app, say) if verdicts else []
    if only in (None, "toxicity"):
        extra = [e for e in reviewed if e.task == "toxicity"]
        say("toxicity: training")
        try:
            result = run_training(data, stated_licence_only=stated_licence_only, folds=folds,
                                  seed=seed, progress=say, extra=extra)
        except InputError as exc:
            raise click.BadParameter(str(exc), param_hint="--data") from exc
        weights, meta = save(result, target)
        (target / "MODEL_CARD_toxicity.md").write_text(render_card(result.meta), encoding="utf-8")
        size = weights.stat().st_size / 1e6
        say(f"wrote {weights} ({size:.1f} MB), {meta.name} and MODEL_CARD_toxicity.md; "
            f"thresholds {result.meta['thresholds']}")
    if only in (None, "stance"):
        from monitor.score.stance import DEFAULT_MODEL
        from monitor.training.stance import train_stance

        say("stance: training")
        try:
            train_stance(data, stated_licence_only=stated_licence_only,
                         output=(out / DEFAULT_MODEL.name) if out else DEFAULT_MODEL, log=say,
                         extra=[e for e in reviewed if e.task.startswith("stance:")])
        except InputError as exc:
            raise click.BadParameter(str(exc), param_hint="--data") from exc
    if only in (None, "second-tier"):
        from monitor.score.second_tier import default_checkpoint
        from monitor.training.second_tier import train_second_tier

        for group in tiers or ("stance",):
            say(f"second tier {group}: fine-tuning")
            output = (out / default_checkpoint(group).name) if out else default_checkpoint(group)
            try:
                train_second_tier(group, data, output=output, epochs=epochs,
                                  stated_licence_only=stated_licence_only, log=say)
            except (InputError, ValueError) as exc:
                raise click.BadParameter(str(exc), param_hint="--data") from exc


def _verdict_examples(app: AppContext, say: Any) -> list[Any]:
    """The reviewers' toxicity and stance verdicts as training rows (none when the database has
    none)."""
    from sqlalchemy import inspect

    from monitor.review.verdicts import load_verdicts, stance_labels, toxicity_labels
    from monitor.store.db import open_engine
    from monitor.training.data import Example

    from sqlalchemy.engine import make_url

    url = make_url(app.config.database.url)
    if url.get_backend_name() == "sqlite" and not Path(url.database or "").is_file():
        return []  # no database yet: nothing reviewed, and nothing to create here
    engine = open_engine(app.config)
    try:
        if not inspect(engine).has_table("verdicts"):
            return []
        labelled = load_verdicts(engine)
    finally:
        engine.dispose()
    rows = toxicity_labels(labelled)
    stance = stance_labels(labelled)
    say(f"toxicity: {len(rows)} reviewer verdict(s) from the database; stance: "
        f"{sum(len(v) for v in stance.values())}")

    def lang_of(lang: str) -> str:
        return lang if lang in ("de", "en", "ru") else "other"

    out = [Example(text, lang_of(lang), "toxicity", label, "verdicts", "train", f"verdicts:t{i}")
           for i, (text, label, lang) in enumerate(rows)]
    out += [Example(text, lang_of(lang), f"stance:{target}", label, "verdicts", "train",
                    f"verdicts:s{target}{i}")
            for target, items in stance.items() for i, (text, label, lang) in enumerate(items)]
    return out


@models.command("eval")
@click.option("--data", type=click.Path(file_okay=False, path_type=Path), default=None,
              help=_DATA_HELP)
@click.option("--task", "tasks", type=click.Choice(["toxicity", "stance"]), multiple=True,
              help="Evaluate only this task (repeatable; default: all).")
@click.option("--quick", type=click.IntRange(min=10), default=None,
              help="Score at most this many rows of each set (a fast check, not the figure).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON rows instead of tables.")
@click.option("--markdown", is_flag=True, help="Print the Markdown table the model cards carry.")
@click.option("--second-tier", "second_tier", is_flag=True,
              help="Score with the second tier added to the configured pipeline (as "
                   "`scoring.pipeline = [..., \"second-tier\"]` would).")
@pass_app
def evaluate(app: AppContext, data: Path | None, tasks: tuple[str, ...], quick: int | None,
             as_json: bool, markdown: bool, second_tier: bool) -> None:
    """Score the labelled public sets with the installed models and print per task, set,
    language and target: macro-F1, official F1, per-class F1, ROC-AUC, share of civil text
    flagged and the confusion matrix. Figures on the project's own data are shown apart."""
    from monitor.training.evaluate import evaluate as run_eval
    from monitor.training.evaluate import render_markdown

    if second_tier and "second-tier" not in app.config.scoring.pipeline:
        app.config.scoring.pipeline = [*app.config.scoring.pipeline, "second-tier"]
    rows = run_eval(app.config, data, quick, tasks or ("toxicity", "stance"),
                    progress=lambda msg: click.echo(msg, err=True))
    if as_json:
        click.echo(json.dumps([r.to_json() for r in rows], indent=2))
    elif markdown:
        click.echo(render_markdown(rows))
    else:
        _print_table(rows)


def _print_table(rows: list) -> None:
    from rich import box
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False)
    for own in (False, True):
        part = [r for r in rows if r.own == own]
        if not part:
            continue
        title = ("the project's own data (a check, not evidence)" if own
                 else "labelled public sets")
        table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
        for col in ("task", "set", "method", "lang", "target", "n", "macro-F1", "off. F1",
                    "F1 per class", "AUC", "civil flagged", "confusion (rows: gold)"):
            table.add_column(col, overflow="fold")
        for r in part:
            m = r.metrics
            table.add_row(r.task, r.dataset, r.method, r.lang, r.target, str(m.get("n", "")),
                          f"{m['macro_f1']:.3f}" if "macro_f1" in m else "–",
                          f"{m['official_f1']:.3f}" if "official_f1" in m else "–",
                          " ".join(f"{k}:{v:.2f}" for k, v in m.get("f1", {}).items()),
                          f"{m['roc_auc']:.3f}" if "roc_auc" in m else "–",
                          f"{m['civil_flagged']:.3f}" if "civil_flagged" in m else "–",
                          " / ".join(" ".join(str(c) for c in row)
                                     for row in m.get("confusion", [])))
        console.print(table)


@models.command()
@click.argument("variants", nargs=-1, type=click.Choice(["original", "unbiased", "multilingual"]))
@click.option("--dest", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Bundle folder (default: scoring.detoxify_dir).")
@pass_app
def pull(app: AppContext, variants: tuple[str, ...], dest: Path | None) -> None:
    """Download Detoxify checkpoints with their config and tokenizer into an offline bundle.

    VARIANTS default to original and multilingual. Needs network access; copy the resulting
    folder to machines without it.
    """
    from monitor.score.detoxify_backend import pull_bundle

    target = dest or app.config.scoring.detoxify_dir
    chosen = list(variants) or ["original", "multilingual"]
    pull_bundle(target, chosen, progress=lambda msg: click.echo(f"fetching {msg}", err=True))
    click.echo(f"Detoxify bundle ready at {target}: {', '.join(chosen)}")


@models.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of text.")
@pass_app
def info(app: AppContext, as_json: bool) -> None:
    """Show the built-in model (version, threshold, CV scores), the Detoxify bundle and routing."""
    from monitor.errors import MonitorError
    from monitor.score.detoxify_backend import bundle_status
    from monitor.score.toxicity import load_builtin
    from monitor.text import terminal_safe

    config = app.config
    if as_json:
        from monitor.jsonfmt import dumps

        builtin: dict[str, object]
        try:
            model = load_builtin()
            builtin = {"version": model.version, "threshold": model.threshold,
                       "cross_validation": model.meta.get("cross_validation", {}).get("metrics", {})}
        except MonitorError as exc:
            builtin = {"error": str(exc)}
        click.echo(dumps({
            "builtin": builtin,
            "detoxify": {"dir": config.scoring.detoxify_dir,
                         "variants": bundle_status(config.scoring.detoxify_dir)},
            "routing": config.scoring.routing, "toxic_threshold": config.scoring.toxic_threshold,
            "second_tier": _second_tier_status(config),
        }, indent=2))
        return
    try:
        model = load_builtin()
        metrics = model.meta.get("cross_validation", {}).get("metrics", {})
        click.echo(f"built-in: {model.version}, threshold {model.threshold:.2f}")
        for name, values in metrics.items():
            shown = ", ".join(f"{k} {v}" for k, v in values.items())
            click.echo(f"  CV {name}: {shown}")
    except MonitorError as exc:
        click.echo(f"built-in: unavailable ({terminal_safe(str(exc))})")
    click.echo(f"detoxify bundle: {config.scoring.detoxify_dir}")
    for variant, state in bundle_status(config.scoring.detoxify_dir).items():
        click.echo(f"  {variant}: {terminal_safe(state)}")
    threshold = config.scoring.toxic_threshold
    click.echo("routing: " + ", ".join(f"{k}={v}" for k, v in config.scoring.routing.items())
               + f"; toxic threshold {'model default' if threshold is None else threshold}")
    tier = _second_tier_status(config)
    click.echo("second tier: on" if tier["in_pipeline"] else
               'second tier: off (add "second-tier" to scoring.pipeline)')
    for group, state in tier["checkpoints"].items():
        click.echo(f"  {group}: {terminal_safe(state)}")


def _second_tier_status(config: Any) -> dict[str, Any]:
    """Whether the pipeline runs the second tier, and each checkpoint group's state."""
    from monitor.errors import ModelError
    from monitor.score.second_tier import MODELS, GROUPS, Checkpoint, default_checkpoint

    folder = config.scoring.second_tier.model_dir or MODELS
    states: dict[str, str] = {}
    for group in GROUPS:
        path = folder / default_checkpoint(group).name
        if not path.exists():
            states[group] = f"not trained ({path})"
            continue
        try:
            meta = Checkpoint.read_header(path).get("meta", {})
        except ModelError as exc:
            states[group] = f"unreadable: {exc}"
            continue
        states[group] = (f"{path.name}, trained on {', '.join(meta.get('trained_on', []))}"
                         + (" (selected in scoring.second_tier.groups)"
                            if group in config.scoring.second_tier.groups else ""))
    return {"in_pipeline": "second-tier" in config.scoring.pipeline, "checkpoints": states}
