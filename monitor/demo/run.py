"""`run_demo`: writes a demo config under <data_dir>/demo/, starts the demo site, the SMTP sink, the
daemon and the dashboard, and stops them all cleanly on Ctrl-C, SIGTERM or after a set duration."""

from __future__ import annotations

import logging
import os
import shutil
import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping

from monitor.demo.content import BLOGS
from monitor.errors import InputError, MonitorError, StoreError
from monitor.pidlock import PidFileLock

if TYPE_CHECKING:
    from monitor.config import Config

__all__ = ["DEMO_RULE", "DemoSummary", "SOURCE_NAMES", "run_demo", "write_demo_config"]

log = logging.getLogger(__name__)

# Beside this module (not in a subfolder) so that package data "*.toml" ships it.
DEMO_RULE = Path(__file__).resolve().parent / "demo_rule.toml"
# Demo blog key → the source name it gets in sources.toml.
SOURCE_NAMES = {"rest": "tagesdebatte", "wpdiscuz": "frontline-forum", "blogger": "vzglyad-blog"}
_RECIPIENT = "moderation@demo.localhost"
# Variables that would point the demo at the operator's real database or mail account.
_IGNORED_ENV = ("MONITOR_DATABASE_URL", "MONITOR_SMTP_PASSWORD", "MONITOR_CONFIG")
_PROGRESS_EVERY_S = 5.0


@dataclass
class DemoSummary:
    """What a demo run showed; printed at the end and returned for tests."""

    seconds: float = 0.0
    published: int = 0
    collected: int = 0
    scored: int = 0
    aggregates: int = 0
    alerts_fired: list[str] = field(default_factory=list)
    mails: list[Path] = field(default_factory=list)


def write_demo_config(demo_dir: Path, base: Any, site_urls: Mapping[str, str], smtp_port: int) -> Path:
    """monitor.toml, sources.toml and rules/ for the demo in `demo_dir`; returns monitor.toml's path.

    Shared read-only parts (targets, lexicon, dashboards, scoring models) come from the `base`
    config; everything written (database, secret, mail) stays in `demo_dir`."""
    import tomli_w

    rules_dir = demo_dir / "rules"
    if rules_dir.exists():
        shutil.rmtree(rules_dir)
    rules_dir.mkdir(parents=True)
    for path in sorted(Path(base.rules_dir).glob("*.toml")):
        shutil.copy(path, rules_dir / path.name)
    shutil.copy(DEMO_RULE, rules_dir / "demo.toml")

    scoring: dict[str, Any] = {"routing": dict(base.scoring.routing),
                               "detoxify_dir": str(base.scoring.detoxify_dir),
                               "batch_size": base.scoring.batch_size, "use_lexicon": base.scoring.use_lexicon}
    if base.scoring.toxic_threshold is not None:
        scoring["toxic_threshold"] = base.scoring.toxic_threshold
    main = {
        "database": {"url": ""},  # SQLite beside this file, whatever the operator's config uses
        "paths": {"data_dir": ".", "sources": "sources.toml", "targets": str(base.paths.targets),
                  "lexicon_dir": str(base.paths.lexicon_dir), "rules_dir": "rules",
                  "dashboards_dir": str(base.paths.dashboards_dir)},
        "collect": {"contact": "demo@localhost", "min_delay_s": 0.1, "timeout_s": 10.0, "max_retries": 1,
                    "respect_robots": True, "since": "2d", "recheck_until": "1d"},
        "scoring": scoring,
        # Seconds instead of minutes, so a whole cycle is visible within a minute.
        "schedule": {"collect": "5s", "score": "2s", "aggregate": "3s", "alerts": "3s", "slurs": "20s",
                     "purge": "1d", "jitter_s": 0.0, "misfire_grace_s": 30.0},
        "smtp": {"host": "127.0.0.1", "port": smtp_port, "security": "none",
                 "sender": "monitor-demo@localhost", "recipients": [_RECIPIENT]},
        "alerts": {"group_wait": "0s", "group_interval": "30s", "repeat_interval": "30m",
                   "send_resolved": True},
        "daemon": {"stop_timeout_s": 5.0},
    }
    sources = {"source": [{"name": SOURCE_NAMES[key], "url": f"{url}/", "platform": BLOGS[key].platform,
                           "interval": "5s"} for key, url in site_urls.items()]}
    config_path = demo_dir / "monitor.toml"
    header = ("# Written by `monitor demo` for this run; the ports change every run. Inspect the run "
              "with\n# `monitor --config THIS_FILE status`.\n")
    config_path.write_text(header + tomli_w.dumps(main), encoding="utf-8")
    (demo_dir / "sources.toml").write_text(tomli_w.dumps(sources), encoding="utf-8")
    return config_path


class _DemoLock:
    """One demo per folder: the start clears the previous run's database, which must not be in use."""

    def __init__(self, demo_dir: Path) -> None:
        self.lock = PidFileLock(demo_dir / "demo.lock")

    def __enter__(self) -> _DemoLock:
        holder = self.lock.acquire()
        if holder is not None:
            raise StoreError(f"another `monitor demo` (pid {holder}) is using {self.lock.path.parent}; "
                             "stop it first, or give this one its own folder with --dir")
        return self

    def __exit__(self, *exc: object) -> None:
        self.lock.release()


def _check_demo_dir(demo_dir: Path, base: Any) -> None:
    """The start deletes the previous run's database: never in a folder that holds someone else's."""
    foreign_db = (demo_dir / "monitor.db").exists() and not (demo_dir / "demo.lock").exists()
    if demo_dir == Path(base.data_dir).resolve() or foreign_db:
        raise InputError(f"{demo_dir} holds a database that `monitor demo` did not create, and the demo "
                         "clears its folder at start; give --dir an empty or new folder")


def _clear_previous_run(demo_dir: Path, mail_dir: Path) -> None:
    """Each run starts from an empty database and mailbox: the script's comments are re-published
    with new times, and mixing two runs would make the counts meaningless."""
    for name in ("monitor.db", "monitor.db-wal", "monitor.db-shm", "demo.log"):
        (demo_dir / name).unlink(missing_ok=True)
    if mail_dir.is_dir():
        for path in mail_dir.glob("*.eml*"):
            path.unlink()


def _log_to_file(path: Path, verbose: bool, console: bool) -> Callable[[], None]:
    """Everything goes to the demo's log file; warnings (all, with --verbose) also to stderr unless
    the dashboard owns the screen. Returns a function restoring the previous handlers."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    fmt = logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s", datefmt="%H:%M:%S")
    to_file = logging.FileHandler(path, encoding="utf-8")
    to_file.setFormatter(fmt)
    handlers: list[logging.Handler] = [to_file]
    if console:
        to_err = logging.StreamHandler(sys.stderr)
        to_err.setFormatter(fmt)
        to_err.setLevel(logging.DEBUG if verbose else logging.WARNING)
        handlers.append(to_err)
    root.handlers[:] = handlers
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    for noisy in ("httpx", "httpcore", "alembic", "transformers", "mail.log"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # With second-long intervals a job still running (the first scoring loads the models) makes
    # APScheduler warn that it skipped the next run: expected here, not worth a line.
    logging.getLogger("apscheduler").setLevel(logging.ERROR)

    def restore() -> None:
        to_file.close()
        root.handlers[:], level = saved
        root.setLevel(level)

    return restore


class _Progress:
    """Counts read from the demo database (and the site and sink), and the lines that report them."""

    def __init__(self, engine: Any, site: Any, sink: Any) -> None:
        self.engine = engine
        self.site = site
        self.sink = sink
        self.fired: dict[str, str] = {}

    def sample(self, summary: DemoSummary) -> list[str]:
        """Update `summary`; return a line for each alert that fired since the last sample."""
        from sqlalchemy import func, select

        from monitor.store.schema import aggregates, alert_states, comments, scores
        from monitor.text import one_line

        with self.engine.connect() as conn:
            summary.collected = conn.execute(select(func.count()).select_from(comments)).scalar_one()
            summary.scored = conn.execute(
                select(func.count(func.distinct(scores.c.comment_id)))).scalar_one()
            summary.aggregates = conn.execute(select(func.count()).select_from(aggregates)).scalar_one()
            firing = conn.execute(select(alert_states.c.rule, alert_states.c.labels,
                                         alert_states.c.annotations, alert_states.c.fired_at)
                                  .where(alert_states.c.fired_at.is_not(None))).all()
        summary.published = len(self.site.released())
        summary.mails = [m.path for m in self.sink.received]
        news = []
        for rule, labels, notes, fired_at in firing:
            key = f"{rule} {sorted((labels or {}).items())} {fired_at}"
            if key not in self.fired:
                text = (notes or {}).get("summary") or rule
                self.fired[key] = one_line(str(text))
                news.append(f"alert fired: {self.fired[key]}")
        summary.alerts_fired = list(self.fired.values())
        return news

    @staticmethod
    def line(summary: DemoSummary) -> str:
        return (f"[{summary.seconds:4.0f}s] site published {summary.published} comments · collected "
                f"{summary.collected} · scored {summary.scored} · aggregate rows {summary.aggregates} · "
                f"alerts fired {len(summary.alerts_fired)} · mails received {len(summary.mails)}")


def _keyboard_until(stop: threading.Event, deadline: float | None) -> Any:
    """The dashboard's keyboard, pressing q by itself at the deadline or on SIGTERM."""
    from monitor.dashboard.live import Keyboard

    class DemoKeyboard(Keyboard):
        def read(self, timeout: float) -> str:
            if stop.is_set() or (deadline is not None and time.monotonic() >= deadline):
                return "q"
            return super().read(timeout)

    return DemoKeyboard(sys.stdin)


def _show_dashboard(config: Config, engine: Any, stop: threading.Event, deadline: float | None,
                    console: Any) -> None:
    from datetime import timedelta

    from monitor.dashboard.data import load_snapshot
    from monitor.dashboard.layout import load_layout
    from monitor.dashboard.live import run_live

    spec = load_layout("overview", config.dashboards_dir)
    refresh = min(spec.refresh, timedelta(seconds=2)).total_seconds()
    run_live(spec, lambda: load_snapshot(engine, config, span=spec.span), refresh_s=refresh,
             console=console, keyboard=_keyboard_until(stop, deadline))


def _print_progress(progress: _Progress, summary: DemoSummary, stop: threading.Event, started: float,
                    deadline: float | None, echo: Callable[[str], None]) -> None:
    """A progress line every few seconds, and one per fired alert, until stop or the deadline."""
    while True:
        stop.wait(_PROGRESS_EVERY_S if deadline is None
                  else max(0.0, min(_PROGRESS_EVERY_S, deadline - time.monotonic())))
        summary.seconds = time.monotonic() - started
        for line in progress.sample(summary):
            echo(line)
        echo(progress.line(summary))
        if stop.is_set() or (deadline is not None and time.monotonic() >= deadline):
            return


def run_demo(base: Any, *, demo_dir: Path | None = None, dashboard: bool = True,
             duration: float | None = None, until_alert: bool = False, verbose: bool = False,
             echo: Callable[[str], None] = print) -> DemoSummary:
    """Run the whole demo until Ctrl-C, SIGTERM, q in the dashboard, `duration` seconds, or (with
    `until_alert`) the first alert email."""
    from monitor.config import load_config
    from monitor.daemon import Daemon
    from monitor.demo.site import DemoSite
    from monitor.demo.smtp_sink import SmtpSink
    from monitor.text import one_line

    demo_dir = Path(demo_dir or Path(base.data_dir) / "demo").resolve()
    mail_dir = demo_dir / "mail"
    summary = DemoSummary()
    _check_demo_dir(demo_dir, base)
    with _DemoLock(demo_dir):
        _clear_previous_run(demo_dir, mail_dir)
        console = None
        if dashboard:
            from rich.console import Console

            console = Console()
            if not console.is_terminal:
                echo("no terminal here: showing progress lines instead of the dashboard")
                dashboard = False
        restore_logging = _log_to_file(demo_dir / "demo.log", verbose, console=not dashboard)
        stop = threading.Event()
        in_main = threading.current_thread() is threading.main_thread()
        previous_term = signal.signal(signal.SIGTERM, lambda *_: stop.set()) if in_main else None
        site = sink = daemon = progress = None
        started = time.monotonic()
        deadline = started + duration if duration is not None else None
        try:
            def on_mail(mail: Any) -> None:
                if not dashboard:  # the dashboard owns the screen
                    echo(f"mail received: {mail.subject!r} → {mail.path}")
                if until_alert:
                    stop.set()

            site = DemoSite().start()
            sink = SmtpSink(mail_dir, on_message=on_mail).start()
            config_path = write_demo_config(demo_dir, base, site.urls, sink.port)
            environ = {k: v for k, v in os.environ.items() if k not in _IGNORED_ENV}
            config = load_config(config_path, environ=environ)
            daemon = Daemon(config, config_loader=lambda: load_config(config_path, environ=environ))
            echo("demo blogs:  " + "  ".join(f"{SOURCE_NAMES[k]} {u}/" for k, u in site.urls.items()))
            echo(f"mail sink:   127.0.0.1:{sink.port}, messages saved in {mail_dir}")
            echo(f"database:    {config.database.url.removeprefix('sqlite:///')}")
            echo(f"log:         {demo_dir / 'demo.log'}")
            echo(f"inspect:     monitor --config {config_path} status")
            echo("stop:        Ctrl-C" + (" (or q in the dashboard)" if dashboard else ""))
            daemon.start()
            progress = _Progress(daemon.engine, site, sink)
            if dashboard:
                _show_dashboard(config, daemon.engine, stop, deadline, console)
            else:
                _print_progress(progress, summary, stop, started, deadline, echo)
        except KeyboardInterrupt:
            echo("stopping …")
        finally:
            if daemon is not None:
                try:
                    daemon.stop()
                except MonitorError as exc:
                    echo(f"daemon did not stop cleanly: {one_line(str(exc))}")
            if progress is not None:
                summary.seconds = time.monotonic() - started
                try:
                    progress.sample(summary)
                except Exception as exc:  # the summary is a courtesy; the database may be gone
                    log.warning("final counts unavailable: %s", exc)
            if daemon is not None:
                daemon.engine.dispose()
            if sink is not None:
                sink.stop()
            if site is not None:
                site.stop()
            if in_main:
                signal.signal(signal.SIGTERM, previous_term)
            restore_logging()
    echo(f"demo stopped after {summary.seconds:.0f}s: {summary.collected} comments collected, "
         f"{summary.scored} scored, {len(summary.alerts_fired)} alert(s) fired, "
         f"{len(summary.mails)} mail(s) received")
    for line in summary.alerts_fired:
        echo(f"  alert: {line}")
    for path in summary.mails:
        echo(f"  mail:  {path}")
    echo(f"database and log kept in {demo_dir} (removed at the next demo's start)")
    return summary
