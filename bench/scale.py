"""Scale benchmark: N loopback WordPress hosts publish a steady stream of comments; the real daemon
(and, on PostgreSQL, extra `monitor worker`s) collects, scores and aggregates them. Reports
end-to-end comments/s, the lag from publication to the dashboard's figures (p50/p95), and CPU
seconds and peak RSS per process.

    python bench/scale.py --hosts 5 --rate 10 --duration 60
    python bench/scale.py --database postgresql+psycopg://postgres@127.0.0.1:55432/bench --workers 2

The lag is measured on what the dashboard reads: the overall hourly `comment_count` in the
aggregates table; comment i counts as shown once that sum reaches i (comments are aggregated in
about the order they are published).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

REPO = Path(__file__).resolve().parent.parent
TEXTS = ["Die NATO provoziert seit Jahren, das sieht doch jeder.", "Thanks for the balanced report.",
         "Russland muss die Truppen abziehen, Punkt.", "Спасибо за подробный материал.",
         "Halt die Fresse, du dummer Vollidiot.", "Ein guter Artikel, aber die Überschrift ist reißerisch."]


class Host:
    """One blog: `articles` posts, a new comment every 1/rate seconds from `start` on."""

    def __init__(self, index: int, articles: int, rate: float, start: float) -> None:
        self.index, self.articles, self.rate, self.start = index, articles, rate, start
        self.stop_at: float | None = None
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/"

    def released(self, now: float | None = None) -> int:
        until = min(now or time.time(), self.stop_at or math.inf)
        return max(0, int((until - self.start) * self.rate) + 1)

    def published(self, k: int) -> float:
        return self.start + k / self.rate


def _stamp(t: float) -> str:
    return datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")


def _handler(host: Host) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            parts = urlsplit(self.path)
            query = parse_qs(parts.query)
            headers: dict[str, str] = {}
            if parts.path == "/robots.txt":
                body, ctype = "User-agent: *\nAllow: /\n", "text/plain"
            elif parts.path.rstrip("/") == "/wp-json/wp/v2/posts":
                body = json.dumps([{"id": a + 1, "date_gmt": _stamp(host.start - 60), "link": f"{host.url}p/{a + 1}/",
                                    "title": {"rendered": f"Post {a + 1}"}, "status": "publish"}
                                   for a in range(host.articles)] if query.get("page", ["1"])[0] == "1" else [])
                ctype, headers = "application/json", {"X-WP-Total": str(host.articles), "X-WP-TotalPages": "1"}
            elif parts.path.rstrip("/") == "/wp-json/wp/v2/comments":
                post = int(query.get("post", ["1"])[0])
                per_page, page = int(query.get("per_page", ["10"])[0]), int(query.get("page", ["1"])[0])
                ks = list(range(post - 1, host.released(), host.articles))
                pages = max(1, math.ceil(len(ks) / per_page))
                chunk = ks[(page - 1) * per_page: page * per_page]
                body = json.dumps([{"id": k + 1, "post": post, "parent": 0, "author_name": f"reader {k % 97}",
                                    "date_gmt": _stamp(host.published(k)), "status": "approved",
                                    "content": {"rendered": f"<p>{TEXTS[k % len(TEXTS)]} ({host.index}/{k})</p>"},
                                    "link": f"{host.url}p/{post}/#comment-{k + 1}"} for k in chunk])
                ctype, headers = "application/json", {"X-WP-Total": str(len(ks)), "X-WP-TotalPages": str(pages)}
            else:
                self.send_error(404)
                return
            data = body.encode("utf-8")
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            for key, value in headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


def _config(folder: Path, database: str, hosts: list[Host], processes: int) -> Path:
    sources = "".join(f'[[source]]\nname = "host{h.index}"\nurl = "{h.url}"\nplatform = "wordpress"\n'
                      f'discovery = "rest"\n\n' for h in hosts)
    (folder / "sources.toml").write_text(sources, encoding="utf-8")
    main = folder / "monitor.toml"
    main.write_text(
        f'[database]\nurl = "{database}"\n\n[paths]\ndata_dir = "{folder / "data"}"\n'
        f'targets = "{REPO / "config" / "targets.toml"}"\nlexicon_dir = "{REPO / "config" / "lexicon"}"\n'
        f'rules_dir = "{REPO / "rules"}"\ndashboards_dir = "{REPO / "dashboards"}"\n\n'
        '[collect]\nmin_delay_s = 0.0\n\n[scoring]\nprocesses = %d\n\n'
        '[schedule]\ncollect = "5s"\nscore = "2s"\naggregate = "5s"\njitter_s = 0\n' % processes, encoding="utf-8")
    return main


def _tree(pid: int) -> list[int]:
    """The process and its descendants (Linux /proc)."""
    found = [pid]
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as fh:
                for child in fh.read().split():
                    found += _tree(int(child))
    except OSError:
        pass
    return found


def _usage(pid: int) -> tuple[float, float] | None:
    """(CPU seconds, peak RSS MiB) of a live process."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        with open(f"/proc/{pid}/status") as fh:
            peak = next(int(line.split()[1]) for line in fh if line.startswith("VmHWM:")) / 1024
        return cpu, peak
    except (OSError, StopIteration, IndexError):
        return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hosts", type=int, default=5)
    parser.add_argument("--articles", type=int, default=4, help="articles per host")
    parser.add_argument("--rate", type=float, default=10.0, help="new comments per second per host")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of publishing")
    parser.add_argument("--drain", type=float, default=90.0, help="seconds allowed to catch up afterwards")
    parser.add_argument("--database", default="", help="database URL (default: SQLite in a temp folder)")
    parser.add_argument("--workers", type=int, default=0, help="extra `monitor worker`s (PostgreSQL)")
    parser.add_argument("--processes", type=int, default=0, help="scoring.processes (0 = one per core)")
    parser.add_argument("--reset", action="store_true",
                        help="empty the PostgreSQL database's monitor tables first (a throw-away database only)")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="monitor-scale-"))
    database = args.database or f"sqlite:///{folder / 'monitor.db'}"
    start = time.time() + 3
    hosts = [Host(i, args.articles, args.rate, start) for i in range(args.hosts)]
    config = _config(folder, database, hosts, args.processes)
    env = {**os.environ, "PYTHONPATH": str(REPO), "MONITOR_DATABASE_URL": database}
    command = [sys.executable, "-m", "monitor", "--config", str(config)]
    subprocess.run([*command, "db", "upgrade"], env=env, check=True, capture_output=True)
    if args.reset and args.database.startswith("postgresql"):
        from sqlalchemy import create_engine, text
        with create_engine(database).begin() as conn:  # a fresh run: no comments from a previous one
            conn.execute(text("TRUNCATE sources, aggregates, state CASCADE"))
    log = (folder / "daemon.log").open("w")
    procs = {"daemon": subprocess.Popen([*command, "run"], env=env, stdout=log, stderr=log)}
    for w in range(args.workers):
        procs[f"worker{w}"] = subprocess.Popen([*command, "worker", "--idle-sleep", "0.5"], env=env,
                                               stdout=log, stderr=log)

    from sqlalchemy import create_engine, text
    engine = create_engine(database)
    samples: list[tuple[float, int]] = []
    usage: dict[str, dict[int, tuple[float, float]]] = {name: {} for name in procs}
    publish_end = start + args.duration
    deadline = publish_end + args.drain
    total = 0
    while time.time() < deadline:
        time.sleep(0.5)
        now = time.time()
        if now >= publish_end and hosts[0].stop_at is None:
            for h in hosts:
                h.stop_at = publish_end
        try:
            with engine.connect() as conn:
                shown = conn.execute(text("SELECT coalesce(sum(comment_count), 0) FROM aggregates "
                                          "WHERE scope = 'overall' AND window_s = 3600")).scalar_one()
        except Exception:  # the daemon may hold the write lock for a moment
            continue
        samples.append((now, int(shown)))
        for name, proc in procs.items():
            for pid in _tree(proc.pid):
                if (found := _usage(pid)) is not None:
                    usage[name][pid] = found
        total = sum(h.released(publish_end) for h in hosts)
        if now > publish_end and shown >= total:
            break
    for proc in procs.values():
        proc.send_signal(signal.SIGTERM)
    for proc in procs.values():
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()

    published = sorted(h.published(k) for h in hosts for k in range(h.released(publish_end)))
    lags, j = [], 0
    for i, t in enumerate(published):
        while j < len(samples) and samples[j][1] < i + 1:
            j += 1
        if j == len(samples):
            break
        lags.append(max(0.0, samples[j][0] - t))
    shown_all = len(lags) == len(published)
    finish = samples[-1][0] if samples else time.time()
    quantiles = statistics.quantiles(lags, n=20) if len(lags) >= 2 else [math.nan] * 19
    print(f"database: {database.split(':')[0]}; {args.hosts} hosts × {args.rate:g} comments/s for "
          f"{args.duration:g} s; {args.workers} extra worker(s)")
    print(f"published {len(published):,}, on the dashboard {len(lags):,}"
          f"{'' if shown_all else ' (backlog left at the end)'}; end to end "
          f"{len(lags) / max(finish - start, 1e-9):,.0f} comments/s")
    print(f"lag publication → dashboard: p50 {quantiles[9]:.1f} s, p95 {quantiles[18]:.1f} s")
    for name, per_pid in usage.items():
        for pid, (cpu, peak) in sorted(per_pid.items()):
            print(f"  {name} pid {pid}: {cpu:.1f} CPU-s, peak RSS {peak:.0f} MiB")
    log.close()
    lines = (folder / "daemon.log").read_text(encoding="utf-8", errors="replace").splitlines()
    beats = [line for line in lines if "heartbeat" in line]
    missed = [line for line in beats if "skipped" in line or "missed" in line]
    print(f"heartbeat: {len(missed)} skipped or missed run(s) in the log")
    print(f"log: {folder / 'daemon.log'}")
    return 0 if shown_all and not missed else 1


if __name__ == "__main__":
    sys.exit(main())
