"""The signals `monitor run` answers, and the threads that act on them.

SIGTERM and SIGINT set STOPPING; a thread then shuts the scheduler down after the running job
(a signal handler must not block on it). SIGUSR1 sets RUN_NOW; a thread then makes every pair
job, then the digest job, due now. Both events are module-level because the jobs, which
APScheduler calls by name, read STOPPING too.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
import time
from datetime import datetime, timedelta
from typing import Any

from monitor.config import MonitorConfig

log = logging.getLogger("monitor.service")

STOPPING = threading.Event()
RUN_NOW = threading.Event()  # SIGUSR1: run every pair job, then the digest, now


def install_run_now(scheduler: Any, cfg: MonitorConfig,
                     done: threading.Event) -> threading.Thread:
    """SIGUSR1 runs every pair job now, then the digest job (of the previous day, sent once
    as always): for an operator who just fixed a setting, and for tests, which then wait on
    what they trigger instead of on the wall clock. The jobs share one worker, queued in that
    order, so the digest always sees the analysis of the same signal."""
    def run_now() -> None:
        while True:
            RUN_NOW.wait()
            RUN_NOW.clear()
            if done.is_set() or STOPPING.is_set():
                return
            if not scheduler.running:
                continue
            now = datetime.now(scheduler.timezone)
            try:
                for pair in cfg.pairs:
                    scheduler.modify_job(f"pair:{pair.name}", next_run_time=now)
                # A millisecond later: due after the pairs, so queued behind them.
                scheduler.modify_job("digest", next_run_time=now + timedelta(milliseconds=1))
            except Exception:
                log.exception("SIGUSR1: could not schedule the jobs now")

    def on_signal(signum: int, _frame: object) -> None:
        log.info("SIGUSR1 received: running every pair job, then the digest, now")
        RUN_NOW.set()

    signal.signal(signal.SIGUSR1, on_signal)
    thread = threading.Thread(target=run_now, name="monitor-run-now", daemon=True)
    thread.start()
    return thread


def install_stop(scheduler: Any, done: threading.Event) -> threading.Thread:
    """SIGTERM/SIGINT set the stop flag; a thread then shuts the scheduler down, waiting for
    the running job (a signal handler must not block on it). `done` tells the thread that
    the scheduler will not start (or has returned), so it has nothing to stop."""
    def stop() -> None:
        STOPPING.wait()
        while not scheduler.running:  # the flag may come while start() is under way
            if done.is_set():
                return
            time.sleep(0.05)
        with contextlib.suppress(Exception):  # SchedulerNotRunningError: already stopped
            scheduler.shutdown(wait=True)

    def on_signal(signum: int, _frame: object) -> None:
        name = signal.Signals(signum).name
        if STOPPING.is_set():
            log.warning("%s: already stopping, waiting for the running job to finish", name)
            return
        log.info("%s received: stopping after the running job", name)
        STOPPING.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, on_signal)
    thread = threading.Thread(target=stop, name="monitor-stopper", daemon=True)
    thread.start()
    return thread

