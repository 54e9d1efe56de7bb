"""Scoring on every core: batches go to worker processes that each load the pipeline once.

The scoring models are pure Python and numpy and hold the GIL, so threads would not help; each
process costs one copy of the models in memory (`ScoringPool.memory` says how much). With one
process the pipeline simply runs in the caller (`InlineScorer`), as before.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Sequence

__all__ = ["InlineScorer", "ScoringPool", "make_scorer", "rss_mib"]

log = logging.getLogger(__name__)

# The pipeline of this worker process, loaded by `_load` when the process starts.
_PIPELINE: Any = None
_WARM_UP = ("Die NATO hat das so beschlossen, sagt der Artikel.", "Thanks, a balanced and useful report.",
            "Россия и НАТО снова спорят об этом.")


def rss_mib(pid: int | None = None) -> float | None:
    """Resident memory of a process in MiB (Linux /proc), None where it cannot be read."""
    try:
        with open(f"/proc/{pid or os.getpid()}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def _watch_parent(parent: int) -> None:
    """End this worker when the process that started it is gone (killed -9): it would otherwise
    wait for batches forever."""
    import time

    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(0)


def _load(config: Any, use_lexicon: bool, ready: Any) -> None:
    global _PIPELINE
    import signal
    import threading

    from monitor.score.base import ScoreInput
    from monitor.score.pipeline import ScoringPipeline

    # Ctrl-C reaches the whole process group; the parent decides when its workers stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_watch_parent, args=(os.getppid(),), daemon=True).start()

    try:
        _PIPELINE = ScoringPipeline.from_config(config, use_lexicon=use_lexicon)
        # Parts of the models load on first use: a warm-up batch pays for that now, not in the
        # first real batch, and the memory reported below is what the process keeps.
        _PIPELINE.score_batch([ScoreInput(i, text) for i, text in enumerate(_WARM_UP)])
    except Exception as exc:  # the parent raises it: "model missing, run …" beats a broken pool
        ready.put((os.getpid(), None, exc))
        raise
    ready.put((os.getpid(), rss_mib(), _PIPELINE.describe()))


def _score(inputs: Sequence[Any]) -> list[Any]:
    return _PIPELINE.score_batch(inputs)


class InlineScorer:
    """The pipeline in this process, behind the same `submit` as the pool (one batch at a time)."""

    width = 1

    def __init__(self, pipeline: Any) -> None:
        self.pipeline = pipeline

    def submit(self, inputs: Sequence[Any]) -> Future[list[Any]]:
        future: Future[list[Any]] = Future()
        try:
            future.set_result(self.pipeline.score_batch(inputs))
        except BaseException as exc:  # handed to whoever waits on the future, as a pool would
            future.set_exception(exc)
        return future

    def describe(self) -> str:
        return f"{self.pipeline.describe()}; 1 process"

    def memory(self) -> dict[int, float | None]:
        return {os.getpid(): rss_mib()}

    def close(self) -> None:
        pass


class ScoringPool:
    """`processes` worker processes (spawned, not forked: the daemon runs threads), each with its
    own pipeline; `submit` hands one batch to whichever is free."""

    def __init__(self, config: Any, processes: int, *, use_lexicon: bool = True) -> None:
        context = multiprocessing.get_context("spawn")
        self._ready = context.Queue()
        self.width = processes
        self._executor = ProcessPoolExecutor(processes, mp_context=context, initializer=_load,
                                             initargs=(config, use_lexicon, self._ready))
        self._workers: dict[int, float | None] = {}
        self._describe = ""
        # Start every process now and wait until each has its models, so the first batches do not
        # pay for loading and a broken model shows at start.
        # (The executor starts a process per submit while none is idle: these start all of them.)
        warmups = [self._executor.submit(os.getpid) for _ in range(processes)]
        try:
            for future in warmups:
                try:
                    future.result()
                except BrokenProcessPool:
                    self._raise_sent_error()
                    raise
            for _ in range(processes):
                self._note_ready()
        except BaseException:
            self._executor.shutdown(wait=False, cancel_futures=True)
            raise
        log.info("scoring pool: %d process(es), %s MiB each with the models loaded", processes,
                 ", ".join(f"{v:.0f}" for v in self._workers.values() if v is not None) or "?")

    def _raise_sent_error(self) -> None:
        """A process could not load the models: raise its own error, when it sent one."""
        import queue

        while True:
            try:
                _, _, describe = self._ready.get(timeout=5)
            except queue.Empty:
                return
            if isinstance(describe, BaseException):
                raise describe

    def _note_ready(self) -> None:
        pid, rss, describe = self._ready.get(timeout=600)
        if isinstance(describe, BaseException):
            raise describe
        self._workers[pid] = rss
        self._describe = describe

    def submit(self, inputs: Sequence[Any]) -> Future[list[Any]]:
        return self._executor.submit(_score, list(inputs))

    def describe(self) -> str:
        return f"{self._describe}; {self.width} processes"

    def memory(self) -> dict[int, float | None]:
        """Resident memory per worker process in MiB, now."""
        return {pid: rss_mib(pid) for pid in self._workers}

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)


def make_scorer(config: Any, processes: int | None = None,
                use_lexicon: bool | None = None) -> InlineScorer | ScoringPool:
    """The scorer `config` asks for: `processes` (else scoring.processes; 0 = one per core)
    worker processes, or the pipeline in this process when that comes to one."""
    from monitor.score.pipeline import ScoringPipeline

    lexicon = config.scoring.use_lexicon if use_lexicon is None else use_lexicon
    wanted = config.scoring.processes if processes is None else processes
    if wanted == 0:
        wanted = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    if wanted <= 1:
        return InlineScorer(ScoringPipeline.from_config(config, use_lexicon=lexicon))
    return ScoringPool(config, wanted, use_lexicon=lexicon)
