"""`monitor dashboard`: the full-screen terminal dashboard, one printed frame, or a saved picture."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import click

from monitor.cli import AppContext, pass_app
from monitor.cli.params import POSITIVE_DURATION

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from monitor.config import Config
    from monitor.dashboard.data import Snapshot
    from monitor.dashboard.layout import DashboardSpec

    Loader = Callable[[], Snapshot]

__all__ = ["dashboard"]

_EXPORT_SUFFIXES = (".svg", ".html", ".htm")


@click.command()
@click.option("--layout", "layout_name", default="overview", show_default=True,
              help="Layout: a name from the dashboards folder (paths.dashboards_dir), e.g. overview "
                   "or source, or a path to a .toml layout file.")
@click.option("--source", "source_name", default=None,
              help="Show one source only; required by per-source layouts (--layout source).")
@click.option("--once", is_flag=True, help="Print one frame and exit instead of refreshing full screen.")
@click.option("--export", "export_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Save one frame as a picture, FILE.svg or FILE.html, and exit.")
@click.option("--refresh", type=POSITIVE_DURATION, default=None, metavar="DURATION",
              help="Time between refreshes, e.g. 2s or 1m (default: the layout's refresh).")
@click.option("--span", type=POSITIVE_DURATION, default=None, metavar="DURATION",
              help="Period the tables and trends summarise, e.g. 6h or 7d (default: the layout's span).")
@click.option("--width", type=click.IntRange(40, 1000), default=None,
              help="Frame width in columns for --once and --export (default: the terminal's, else 120 "
                   "for --export).")
@click.option("--height", type=click.IntRange(10, 500), default=None,
              help="Frame height in lines for --once and --export (default: the terminal's, else 40 "
                   "for --export).")
@pass_app
def dashboard(app: AppContext, layout_name: str, source_name: str | None, once: bool,
              export_path: Path | None, refresh: timedelta | None, span: timedelta | None,
              width: int | None, height: int | None) -> None:
    """Show sources, alerts, new coinages and the most toxic recent comments, refreshing full screen.

    Press q or Ctrl-C to quit, r to reload at once. With --once one frame is printed; with
    --export one frame is saved as SVG or HTML.
    """
    from monitor.dashboard.layout import load_layout
    from monitor.errors import InputError

    if export_path is not None and export_path.suffix.lower() not in _EXPORT_SUFFIXES:
        raise InputError(f"--export {export_path}: unknown picture type; name the file *.svg or *.html")
    cfg = app.config
    spec = load_layout(layout_name, cfg.dashboards_dir)
    engine, load = _loader(cfg, spec, source_name, span or spec.span)
    try:
        if export_path is not None:
            _export(spec, load, export_path, width or 120, height or 40)
        elif once:
            _print_once(spec, load, width, height)
        else:
            from rich.console import Console

            from monitor.dashboard.live import run_live

            console = Console()
            if not console.is_terminal:
                raise InputError("the live dashboard needs a terminal; use --once to print one "
                                 "frame or --export FILE.svg to save one")
            run_live(spec, load, refresh_s=(refresh or spec.refresh).total_seconds(), console=console)
    finally:
        engine.dispose()


def _loader(cfg: Config, spec: DashboardSpec, source_name: str | None,
            span: timedelta) -> tuple[Engine, Loader]:
    """The engine and a no-argument snapshot loader, after checking the source choice."""
    from sqlalchemy import select

    from monitor.dashboard.data import load_snapshot
    from monitor.errors import InputError
    from monitor.store.db import open_engine
    from monitor.store.schema import sources

    engine = open_engine(cfg)
    if spec.per_source or source_name is not None:
        with engine.connect().execution_options(readonly=True) as conn:
            known = set(conn.execute(select(sources.c.name)).scalars())
        known |= {s.name for s in cfg.sources}
        listed = ", ".join(sorted(known)) or "none configured yet"
        if source_name is None:
            engine.dispose()
            raise InputError(f"the layout {spec.name!r} shows one source: add --source NAME "
                             f"(sources: {listed})")
        if source_name not in known:
            engine.dispose()
            raise InputError(f"unknown source {source_name!r}; sources: {listed}")

    def load() -> Snapshot:
        return load_snapshot(engine, cfg, span=span, source=source_name)

    return engine, load


def _print_once(spec: DashboardSpec, load: Loader, width: int | None, height: int | None) -> None:
    from rich.console import Console

    from monitor.dashboard.layout import build_layout

    # rich clamps a print's width to the console's, so the console itself gets the asked size.
    console = Console(highlight=False, width=width, height=height)
    w, h = console.width, console.height
    console.print(build_layout(spec, load(), w, h), width=w, height=h)


def _export(spec: DashboardSpec, load: Loader, path: Path, width: int, height: int) -> None:
    from io import StringIO

    from rich.console import Console

    from monitor.dashboard.layout import build_layout
    from monitor.errors import InputError

    console = Console(record=True, file=StringIO(), width=width, height=height, force_terminal=True,
                      color_system="truecolor", highlight=False)
    console.print(build_layout(spec, load(), width, height))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix.lower() == ".svg":
            console.save_svg(str(path), title=f"monitor · {spec.title}")
        else:
            console.save_html(str(path))
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror}; choose a writable folder") from None
    click.echo(f"saved a {width}×{height} frame of the {spec.name} dashboard to {path}", err=True)
