"""Analysis on every core: worker processes fed batches through a bounded queue.

Engine-neutral plumbing for a rebuild: the parent feeds batches (the bounded
queue is the back-pressure), each worker runs `target(args..., jobs,
results)`, reports ("batch", value, skipped) per batch and ("done", value,
extra) at the end, or ("error", text, None); a worker that dies or fails
fails the build, and a killed parent takes its workers with it.
"""

from __future__ import annotations

import ctypes
import gc
import multiprocessing
import os
import queue
import signal
import threading
from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from pathlib import Path

from searchapp.engine.base import IndexerError


PARALLEL_MIN_BYTES = 2_000_000  # below this much text, forking workers costs more than it saves


def default_procs(files: Iterable[Path]) -> int:
    """Worker processes for a rebuild: one for a small corpus, else every core (at most 4).
    Gzip'd news shrinks about four times."""
    size = sum(p.stat().st_size * (4 if p.name.endswith(".gz") else 1) for p in files)
    return 1 if size < PARALLEL_MIN_BYTES else max(1, min(os.cpu_count() or 1, 4))


def batches(items: Iterable, size: int) -> Iterator[list]:
    it = iter(items)
    while batch := list(islice(it, size)):
        yield batch


def die_with_parent() -> None:
    """A worker must not outlive a killed rebuild (it would hold the lock)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() == 1:
        os._exit(1)


def run(target: Callable, args: tuple, batches_in: Iterable[list], procs: int,
        on_batch: Callable[[object, list], None], on_done: Callable[[object, object], None],
        on_failure: Callable[[], None] = lambda: None) -> None:
    """Run `procs` forked workers over the batches; `on_batch(value, skipped)`
    and `on_done(value, extra)` are called in this process as results come."""
    ctx = multiprocessing.get_context("fork")
    jobs, results = ctx.Queue(procs * 4), ctx.Queue()
    workers = [ctx.Process(target=target, args=(*args, jobs, results), daemon=True) for _ in range(procs)]
    frozen = gc.get_freeze_count()
    gc.freeze()  # what the workers inherit stays shared: a collection in a worker would otherwise write
    # to (and so copy) every page of objects the parent made (Python's advice for fork): 40 MB less
    try:
        for w in workers:
            w.start()
    finally:
        if not frozen:  # a serving process's own freeze (search.service.warm) stays
            gc.unfreeze()
    feeder_error: list[BaseException] = []
    stop = threading.Event()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                jobs.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def feed():
        try:
            for batch in batches_in:
                if not put(batch):
                    return
        except BaseException as exc:
            feeder_error.append(exc)
        finally:
            for _ in workers:
                put(None)

    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    done = 0
    try:
        while done < procs:
            try:
                kind, value, extra = results.get(timeout=1)
            except queue.Empty:
                dead = [w.exitcode for w in workers if not w.is_alive() and w.exitcode != 0]
                if dead:
                    raise IndexerError(f"an indexing worker process died (exit code {dead[0]})") from None
                continue
            if kind == "error":
                raise IndexerError(f"indexing worker failed: {value}")
            if kind == "done":
                done += 1
                on_done(value, extra)
            else:
                on_batch(value, extra)
        feeder.join()
        if feeder_error:
            raise feeder_error[0]
    except BaseException:
        stop.set()
        for w in workers:
            w.kill()
        for q in (jobs, results):  # nobody will read them: do not wait on them at exit
            q.cancel_join_thread()
        feeder.join()
        on_failure()
        raise
    finally:
        for w in workers:
            w.join()
