"""The scheduler: one executor per kind of work, and jobs rebuilt from the config (ids derive from it)."""

from __future__ import annotations

import logging
import random
from datetime import datetime, timedelta
from typing import Any, Callable

from monitor.daemon.stages import EXECUTORS

__all__ = ["HEARTBEAT_S", "build_scheduler", "schedule_jobs"]

log = logging.getLogger("monitor.daemon")

HEARTBEAT_S = 5.0
# Sources collected at the same time; a slow host holds one of these threads, never another stage's.
COLLECT_THREADS = 4


def build_scheduler() -> Any:
    """A background scheduler with separate thread pools for collection, scoring, aggregation
    and alerts, and the heartbeat, so that no stage can starve another."""
    from apscheduler.executors.pool import ThreadPoolExecutor
    from apscheduler.schedulers.background import BackgroundScheduler

    executors = {"default": ThreadPoolExecutor(1), "collect": ThreadPoolExecutor(COLLECT_THREADS),
                 "score": ThreadPoolExecutor(1), "aggregate": ThreadPoolExecutor(1),
                 "heartbeat": ThreadPoolExecutor(1)}
    return BackgroundScheduler(executors=executors, job_defaults={"coalesce": True, "max_instances": 1})


def schedule_jobs(scheduler: Any, config: Any, run_job: Callable[[str, Callable[[], Any]], Any],
                  collect_source: Callable[[Any], Any], stage: Callable[[str], Callable[[], Any]],
                  heartbeat: Callable[[], None]) -> None:
    """(Re)create the scheduler's jobs from `config`."""
    from apscheduler.triggers.interval import IntervalTrigger

    scheduler.remove_all_jobs()
    common = {"coalesce": True, "max_instances": 1, "misfire_grace_time": int(config.schedule.misfire_grace_s),
              "replace_existing": True}
    now = datetime.now().astimezone()
    for source in config.sources:
        if not source.enabled:
            continue
        every = source.interval or config.schedule.collect
        scheduler.add_job(run_job, IntervalTrigger(seconds=every.total_seconds(),
                                                   jitter=config.schedule.jitter_s or None),
                          args=(f"collect:{source.name}", lambda s=source: collect_source(s)),
                          id=f"collect:{source.name}", name=f"collect {source.name}",
                          executor=EXECUTORS["collect"],
                          next_run_time=now + timedelta(seconds=random.uniform(0, 1)), **common)
    for name in ("score", "slurs", "aggregate", "alerts", "purge"):
        interval: timedelta = getattr(config.schedule, name)
        scheduler.add_job(run_job, IntervalTrigger(seconds=interval.total_seconds()),
                          args=(name, stage(name)), id=name, name=name, executor=EXECUTORS[name],
                          next_run_time=now + timedelta(seconds=2 if name != "purge" else 60), **common)
    scheduler.add_job(heartbeat, IntervalTrigger(seconds=HEARTBEAT_S), id="heartbeat", name="heartbeat",
                      executor=EXECUTORS["heartbeat"], next_run_time=now, **common)
    log.info("scheduled %d job(s): %s", len(scheduler.get_jobs()),
             ", ".join(j.id for j in scheduler.get_jobs()))
