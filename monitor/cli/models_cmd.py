"""`monitor models train|pull|info`: the built-in toxicity model and the Detoxify offline bundle."""

from __future__ import annotations

import json
from pathlib import Path

import click

from monitor.cli import AppContext, pass_app

__all__ = ["models"]

# Inside the project, whatever the working directory; the file itself is not shipped (licence).
_PROJECT = Path(__file__).resolve().parents[2]
_GERMEVAL = _PROJECT / "datasets" / "germeval2018" / "germeval2018.training.txt"


@click.group()
def models() -> None:
    """Train the built-in toxicity model, fetch Detoxify for offline use, show what is installed."""


@models.command()
@click.option("--germeval", type=click.Path(dir_okay=False, path_type=Path), default=_GERMEVAL,
              envvar="MONITOR_GERMEVAL", show_default=True,
              help="GermEval 2018 training file (read, never copied). Env: MONITOR_GERMEVAL.")
@click.option("--own-data", type=click.Path(file_okay=False, path_type=Path),
              default=_PROJECT / "datasets" / "toxicity", show_default=True,
              help="Folder of our own labelled <lang>.tsv files (pair, label, text).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where to write the weights, metadata and model card "
                   "(default: the package's monitor/score/models).")
@click.option("--folds", type=click.IntRange(min=2, max=20), default=5, show_default=True,
              help="Cross-validation folds for the reported scores and the threshold.")
@click.option("--seed", type=int, default=0, show_default=True, help="Fold assignment seed.")
def train(germeval: Path, own_data: Path, out: Path | None, folds: int, seed: int) -> None:
    """Cross-validate and train the built-in toxicity model (single-threaded, a few minutes)."""
    if not germeval.is_file():
        raise click.BadParameter(
            f"no GermEval 2018 training file at {germeval}: put germeval2018.training.txt there "
            "(it is not shipped) or give its path", param_hint="--germeval")
    from monitor.score.toxicity import MODEL_DIR
    from monitor.score.train_toxicity import render_card, save
    from monitor.score.train_toxicity import train as run_training

    result = run_training(germeval, own_data, folds=folds, seed=seed,
                          progress=lambda msg: click.echo(msg, err=True))
    target = out or MODEL_DIR
    weights, meta = save(result, target)
    (target / "MODEL_CARD_toxicity.md").write_text(render_card(result.meta), encoding="utf-8")
    click.echo(json.dumps(result.report, indent=2))
    size = weights.stat().st_size / 1e6
    click.echo(f"wrote {weights} ({size:.1f} MB), {meta.name} and MODEL_CARD_toxicity.md; "
               f"threshold {result.meta['threshold']}", err=True)


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
