"""The service (`monitor run`): the scheduler daemon, its jobs, and the one-service lock. It only
schedules: each job calls the application layer (`monitor.app.runtime`, `monitor.app.digests`).

An APScheduler 3 `BlockingScheduler` keeps its jobs in the monitor's own database
(`SQLAlchemyJobStore`, table `apscheduler_jobs`), each with an explicit id:

    pair:<name>  every [schedule] ingest_every: ingest from the X API (when X_BEARER_TOKEN is
                 set and the collector is installed), embed, analyse, evaluate the alert, deliver
    digest       daily at [schedule] digest_at, local time: the digest of the previous local day
    outbox       every minute (or ingest_every, if shorter): retry what could not be delivered

Pair and digest jobs share one worker thread (one encoder in memory; the digest sees the latest
analysis); the outbox has its own, so a slow ingestion never delays a retry. A failing job is
logged with its pair and simply runs again at its next tick. SIGTERM or SIGINT stops the service
after the job that is running. Only one service may serve a database: a PostgreSQL advisory lock
or, on SQLite, an flock on a file next to the database (`monitor.store.lock`); both die with
the process.

Jobs are module-level functions named by text ("monitor.service:run_pair_job") with picklable
arguments (the config path and a pair name); they find the service's open store and encoder in
a registry keyed by the config path.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from monitor.app import runtime
from monitor.app.digests import build_digests
from monitor.app.runtime import Runtime, deliver, run_pair
from monitor.config import MonitorConfig, load_config
from monitor.errors import ConfigError, MonitorError, StoreError
from monitor.notify.digest import default_digest_day, queue_digests
from monitor.notify.outbox import Clock
from monitor.service_signals import RUN_NOW as _RUN_NOW
from monitor.service_signals import STOPPING as _STOPPING
from monitor.service_signals import install_run_now as _install_run_now
from monitor.service_signals import install_stop as _install_stop
from monitor.store.engine import display_url
from monitor.store.lock import service_lock

log = logging.getLogger(__name__)

DIGEST_GRACE_S = 12 * 3600  # a digest missed while the service was down is still sent
JOB_GRACE_S = 3600
_RUNTIMES: dict[str, Runtime] = {}


def _utcnow() -> datetime:
    return datetime.now(UTC)


# -- jobs (module level, named by text in the job store) ---------------------------------------

def run_pair_job(config_path: str, pair_name: str) -> None:
    with _job(config_path, f"pair:{pair_name}") as rt:
        if rt is None:
            return
        try:
            pair = rt.cfg.pair(pair_name)
        except ConfigError:
            _drop_stale(rt, f"pair:{pair_name}")
            return
        run_pair(rt, pair)


def run_digest_job(config_path: str) -> None:
    with _job(config_path, "digest") as rt:
        if rt is None:
            return
        now = rt.clock()
        day = default_digest_day(rt.cfg.schedule.timezone, now)
        for q in queue_digests(rt.store, rt.cfg, build_digests(rt.store, rt.cfg, day, now=now),
                               now, send_when_empty=rt.cfg.email.send_when_empty):
            pairs = ", ".join(p.pair for p in q.digest.pairs)
            log.info("digest %s for %s: %s", day.isoformat(), pairs, q.outcome)
            if q.outcome == "no recipients":
                log.warning("digest for %s: no recipients; set [email] recipients", pairs)
        deliver(rt)


def run_outbox_job(config_path: str) -> None:
    with _job(config_path, "outbox") as rt:
        if rt is not None:
            deliver(rt)


@contextlib.contextmanager
def _job(config_path: str, job_id: str) -> Iterator[Runtime | None]:
    """Run a job body; log any failure with the job's name instead of raising, so the
    scheduler keeps going and the job simply runs again at its next tick."""
    rt = _RUNTIMES.get(config_path)
    if _STOPPING.is_set() or rt is None:
        yield None  # stopping, or a job of another configuration: nothing to do
        return
    try:
        yield rt
    except MonitorError as exc:
        log.error("%s failed: %s (retrying at its next run)", job_id, exc)
    except Exception:
        log.exception("%s failed unexpectedly (retrying at its next run)", job_id)


def _drop_stale(rt: Runtime, job_id: str) -> None:
    log.warning("%s: no such pair in %s any more; removing its job", job_id, rt.config_path)
    if rt.scheduler is not None:
        with contextlib.suppress(Exception):
            rt.scheduler.remove_job(job_id)


@contextlib.contextmanager
def open_runtime(config_path: str, *, cfg: MonitorConfig | None = None,
                 clock: Clock = _utcnow) -> Iterator[Runtime]:
    """Open the jobs' runtime and register it: the jobs find it by the config path."""
    with runtime.open_runtime(config_path, cfg=cfg, clock=clock) as rt:
        _RUNTIMES[config_path] = rt
        try:
            yield rt
        finally:
            _RUNTIMES.pop(config_path, None)


# -- the daemon --------------------------------------------------------------------------------

def run_service(config_path: str) -> None:
    """Run the scheduler until SIGTERM or SIGINT; raise AlreadyRunningError if another
    service holds the database."""
    from apscheduler.events import EVENT_SCHEDULER_STARTED
    from apscheduler.executors.pool import ThreadPoolExecutor
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.blocking import BlockingScheduler
    from sqlalchemy.exc import SQLAlchemyError

    from monitor.embed.encoder import check_model_name

    cfg = load_config(config_path)
    tz = cfg.schedule.timezone
    every = cfg.schedule.ingest_every.total_seconds()
    # Configuration errors are said now (exit 2), not by every job's log line later.
    check_model_name(cfg.model.name)
    cfg.x_api_base_url()
    from monitor.web.check_server import CheckServer

    with service_lock(cfg.database_url()), open_runtime(config_path, cfg=cfg) as rt, \
            contextlib.closing(CheckServer(cfg, rt.store, rt.encoders(), rt.clock)):
        _STOPPING.clear()
        _RUN_NOW.clear()
        scheduler = BlockingScheduler(
            timezone=tz,
            jobstores={"default": SQLAlchemyJobStore(engine=rt.store.engine)},
            executors={"default": ThreadPoolExecutor(1), "outbox": ThreadPoolExecutor(1)},
            job_defaults={"coalesce": True, "max_instances": 1,
                          "misfire_grace_time": JOB_GRACE_S})
        rt.scheduler = scheduler
        now = datetime.now(tz)
        for pair in cfg.pairs:  # every pair runs at once on start, then every `ingest_every`
            scheduler.add_job("monitor.service:run_pair_job", "interval", seconds=every,
                              args=(config_path, pair.name), id=f"pair:{pair.name}",
                              name=f"ingest and analyse {pair.name}", replace_existing=True,
                              next_run_time=now)
        scheduler.add_job("monitor.service:run_outbox_job", "interval",
                          seconds=min(every, 60.0), args=(config_path,), id="outbox",
                          name="deliver the outbox", executor="outbox", replace_existing=True)
        scheduler.add_listener(lambda _e: _on_started(scheduler, cfg, config_path),
                               EVENT_SCHEDULER_STARTED)
        done = threading.Event()
        previous = {sig: signal.getsignal(sig)
                    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGUSR1)}
        stopper = _install_stop(scheduler, done)
        runner = _install_run_now(scheduler, cfg, done)
        log.info("service started for %d pair(s) on %s: ingest every %s, digest at %s %s",
                 len(cfg.pairs), display_url(cfg.database_url()), cfg.schedule.ingest_every,
                 cfg.schedule.digest_at.isoformat(), cfg.schedule.zone_name)
        try:
            if not _STOPPING.is_set():
                try:
                    scheduler.start()  # blocks until the stopper shuts it down
                except SQLAlchemyError as exc:  # the job store's table: a full disk...
                    raise StoreError(f"cannot open the service's job store on "
                                     f"{display_url(cfg.database_url())}: "
                                     f"{type(exc).__name__}: {_first_line(exc)}. Check that "
                                     "the database is reachable and writable.") from None
        finally:
            done.set()
            _STOPPING.set()
            _RUN_NOW.set()  # wakes the run-now thread so it can end
            stopper.join()
            runner.join()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
    log.info("service stopped")


def _on_started(scheduler: Any, cfg: MonitorConfig, config_path: str) -> None:
    """Once the job store is open: drop jobs of pairs no longer configured, and place the
    digest job. When its schedule is unchanged the stored job is kept, so a digest missed while
    the service was down (within DIGEST_GRACE_S) runs now, just after the pairs' first runs."""
    from apscheduler.triggers.cron import CronTrigger

    # [schedule] digest_at, a `time` since load; its seconds let a test fire it within seconds.
    at = cfg.schedule.digest_at
    trigger = CronTrigger(hour=at.hour, minute=at.minute, second=at.second,
                          timezone=scheduler.timezone)
    try:
        wanted = {f"pair:{p.name}" for p in cfg.pairs} | {"outbox", "digest"}
        for job in scheduler.get_jobs():
            if job.id not in wanted:
                log.info("removing job %s (no longer configured)", job.id)
                scheduler.remove_job(job.id)
        old = scheduler.get_job("digest")
        if old is not None and (str(old.trigger), str(old.trigger.timezone), old.args) == (
                str(trigger), str(trigger.timezone), (config_path,)):
            now = datetime.now(scheduler.timezone)
            missed = old.next_run_time
            if missed is not None and timedelta(0) <= now - missed <= timedelta(
                    seconds=DIGEST_GRACE_S):
                log.info("the digest due at %s was missed; sending it now", missed)
                scheduler.modify_job("digest", next_run_time=now + timedelta(seconds=1))
            return
    except Exception:  # never leave the service without its digest job
        log.exception("could not reconcile the stored jobs; replacing the digest job")
    scheduler.add_job("monitor.service:run_digest_job", trigger, args=(config_path,),
                      id="digest", name="daily digest", replace_existing=True,
                      misfire_grace_time=DIGEST_GRACE_S)


def _first_line(exc: BaseException) -> str:
    cause = getattr(exc, "orig", None) or exc
    return (str(cause).strip().splitlines() or [""])[0]
