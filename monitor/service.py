"""The service (`monitor run`): the scheduler daemon, its jobs, and the one-service lock.

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
import os
import signal
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from monitor import pipeline, state
from monitor.analysis.rates import totals
from monitor.app.models_choice import report_model
from monitor.config import MonitorConfig, PairConfig, Secrets, load_config, load_secrets
from monitor.config import parse_duration as _duration
from monitor.embed import Encoders
from monitor.errors import ConfigError, MonitorError, StoreError
from monitor.models import REDUNDANT_CLASSES, RISK_CLASSES, AlertEvent, AlertState
from monitor.notify import alerts
from monitor.notify.alert_message import alert_messages, pair_alert
from monitor.notify.digest import (
    DigestEmail,
    PairDigestInput,
    compose,
    day_bounds,
    default_digest_day,
    digest_time,
    local_zone,
    queue_digests,
)
from monitor.notify.outbox import (
    Clock,
    DeliveryReport,
    Transport,
    addressing_for,
    chat_channels,
    deliver_pending,
    transports_for,
)
from monitor.report.model import ReportItem
from monitor.report.reasons import current_class
from monitor.service_signals import RUN_NOW as _RUN_NOW
from monitor.service_signals import STOPPING as _STOPPING
from monitor.service_signals import install_run_now as _install_run_now
from monitor.service_signals import install_stop as _install_stop
from monitor.store import Store
from monitor.store.engine import display_url
from monitor.store.lock import service_lock

log = logging.getLogger(__name__)

DIGEST_GRACE_S = 12 * 3600  # a digest missed while the service was down is still sent
JOB_GRACE_S = 3600
_RUNTIMES: dict[str, Runtime] = {}


def _utcnow() -> datetime:
    return datetime.now(UTC)


# -- the work (shared by the jobs and the CLI) -------------------------------------------------

@dataclass
class Runtime:
    """What the jobs of one service share: config, open store, secrets, encoder, transports."""

    config_path: str
    cfg: MonitorConfig
    store: Store
    secrets: Secrets
    clock: Clock = _utcnow
    transports: dict[str, Transport] = field(default_factory=dict)
    scheduler: Any = None
    _encoders: Encoders | None = None

    def encoders(self) -> Encoders:
        if self._encoders is None:
            self._encoders = Encoders(batch_size=self.cfg.model.batch_size)
        return self._encoders


def ingest_pair(rt: Runtime, pair: PairConfig) -> None:
    """Collect new posts from the X API, when it is configured; otherwise say why not."""
    if rt.secrets.x_bearer_token is None:
        log.info("pair %s: X_BEARER_TOKEN is not set; skipping ingestion, analysing the stored "
                 "posts", pair.name)
        return
    try:
        from monitor.ingest.collector import run_collection
    except ImportError:
        log.info("pair %s: X API collection is not available in this version; skipping "
                 "ingestion", pair.name)
        return
    run_collection(rt.cfg, rt.store, [pair], echo=lambda msg: log.info("pair %s: %s",
                                                                       pair.name, msg))


def observe(store: Store, cfg: MonitorConfig, pair: PairConfig,
            now: datetime) -> alerts.Observation:
    """The overlap rate of a pair over the trailing alert window ending at `now`."""
    since = now - timedelta(days=cfg.alerts.window_days)
    found = store.findings(pair.name, report_model(store, cfg, pair).model_id, since=since,
                           until=now)
    stats = totals(s.finding for s in found)
    silence = store.active_silence(pair.name, now)
    return alerts.Observation(pair=pair.name, rate=stats.overlap_rate, posts=stats.posts,
                              silenced_until=silence.until if silence else None,
                              silence_reason=silence.reason if silence else "")


def load_alert_state(store: Store, pair: str) -> AlertState:
    return store.alert_state(pair) or AlertState(pair=pair)


def new_risks(store: Store, cfg: MonitorConfig, pair: PairConfig,
              now: datetime) -> list[ReportItem]:
    """Risk posts of the alert window not announced yet, oldest first."""
    since = now - timedelta(days=cfg.alerts.window_days)
    model = report_model(store, cfg, pair).model_id
    found = [ReportItem(current_class(s.finding), s.post, s.nearest)
             for s in store.findings(pair.name, model, since=since, until=now)]
    risks = [i for i in found if i.finding.post_class in RISK_CLASSES]
    done = store.notified_risks(pair.name, [i.post.post_id for i in risks])
    return [i for i in risks if i.post.post_id not in done]


def _flagged(store: Store, cfg: MonitorConfig, pair: PairConfig,
             now: datetime) -> list[ReportItem]:
    """The redundant posts of the alert window, newest first: what made the rate cross."""
    since = now - timedelta(days=cfg.alerts.window_days)
    found = store.findings(pair.name, report_model(store, cfg, pair).model_id, since=since,
                           until=now)
    return [ReportItem(s.finding, s.post, s.nearest) for s in found[::-1]
            if s.finding.post_class in REDUNDANT_CLASSES]


def evaluate_alert(store: Store, cfg: MonitorConfig, pair: PairConfig, now: datetime, *,
                   webhook: bool = False,
                   channels: Sequence[str] = ()) -> list[alerts.Notification]:
    """Run one alert evaluation: the overlap state machine, and the risk posts not announced
    yet (sent at once, whatever the silences). Its state, history, notices and the one
    message of the pair (email, plus each chat/webhook channel) are saved together."""
    settings = alerts.AlertSettings.from_config(cfg.alerts)
    state = load_alert_state(store, pair.name)
    new_state, notes, events = alerts.evaluate(state, observe(store, cfg, pair, now), now,
                                               settings)
    risks = new_risks(store, cfg, pair, now)
    message = pair_alert(cfg, pair, notes, risks,
                         _flagged(store, cfg, pair, now) if notes else [], settings, now)
    wanted = list(dict.fromkeys([*(["webhook"] if webhook else []), *channels]))
    messages = alert_messages(cfg, pair, message, now, channels=wanted) if message else []
    risk_events = [AlertEvent(pair=pair.name, kind="risk", sequence=new_state.sequence,
                              rate=None, posts=len(risks), at=now,
                              detail=", ".join(i.post.post_id for i in risks))] if risks else []
    store.record_alert_evaluation(new_state, [*events, *risk_events], messages, now,
                                  risk_posts=[i.post.post_id for i in risks],
                                  risk_key=message.key if message else "")
    for n in notes:
        log.warning("pair %s: alert %s (%s)", pair.name, n.kind.value, n.subject)
    if risks:
        log.warning("pair %s: %d risk post(s) announced (%s)", pair.name, len(risks),
                    message.severity.value if message else "")
    return notes


def run_pair(rt: Runtime, pair: PairConfig) -> None:
    """One tick of a pair: ingest, embed + analyse, evaluate the alert, deliver."""
    try:
        ingest_pair(rt, pair)
    except MonitorError as exc:  # the stored posts can still be analysed
        log.error("pair %s: ingestion failed: %s", pair.name, exc)
    result = pipeline.analyse_pair(rt.store, rt.cfg, pair, rt.encoders())
    log.info("pair %s: analysed %d of %d executive posts", pair.name, result.analysed,
             result.total)
    now = rt.clock()
    evaluate_alert(rt.store, rt.cfg, pair, now, channels=chat_channels(rt.secrets))
    state.record_heartbeat(rt.store, now, os.getpid())
    deliver(rt)


def build_digests(store: Store, cfg: MonitorConfig, day: date, *,
                  pairs: Sequence[PairConfig] | None = None,
                  now: datetime | None = None) -> list[DigestEmail]:
    """The digest emails for `day` (a local date), one per recipient list and language."""
    now = now or _utcnow()
    tz = local_zone(cfg)
    start, end = day_bounds(day, tz)
    inputs = []
    for pair in pairs or cfg.pairs:
        report = pipeline.build_report(store, cfg, pair, since=start - timedelta(days=7),
                                       until=end, now=now)
        _, last = store.time_range(pair.accounts)
        drift_end = min(start, last + timedelta(seconds=1)) if last else start
        inputs.append(PairDigestInput(
            pair=pair, report=report,
            drift_before=pipeline.pair_drift(store, cfg, pair, report.model, end=drift_end),
            alert=load_alert_state(store, pair.name),
            silence=store.active_silence(pair.name, now),
            events=store.alert_events(pair.name, since=start, until=end),
            voice_day=state.pair_voice(store, pair, start, end, tz),
            voice_week=state.pair_voice(store, pair, start - timedelta(days=6), end, tz),
            unanalysed_day=len(store.unanalysed_posts(pair.name, report.model, pair.executive,
                                                      since=start, until=end))))
    return compose(cfg, inputs, day, now)


def deliver(rt: Runtime, *, ignore_backoff: bool = False) -> DeliveryReport:
    return deliver_pending(rt.store, rt.transports, rt.clock, ignore_backoff=ignore_backoff,
                           addressing=addressing_for(rt.cfg))


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
        day = default_digest_day(rt.cfg, now)
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
    """Load the config (unless given), open the store and register the runtime the jobs use."""
    cfg = cfg or load_config(config_path)
    secrets = load_secrets()
    store = Store.open(cfg.database_url())
    rt = Runtime(config_path, cfg, store, secrets, clock, transports_for(cfg, secrets))
    _RUNTIMES[config_path] = rt
    try:
        yield rt
    finally:
        _RUNTIMES.pop(config_path, None)
        store.close()


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
    tz = local_zone(cfg)
    every = _duration(cfg.schedule.ingest_every, what="[schedule] ingest_every")
    hour, minute, second = digest_time(cfg)
    # Configuration errors are said now (exit 2), not by every job's log line later.
    check_model_name(cfg.model.name)
    cfg.x_api_base_url()
    with service_lock(cfg.database_url()), open_runtime(config_path, cfg=cfg) as rt:
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
        scheduler.add_listener(lambda _e: _on_started(scheduler, cfg, config_path,
                                                      (hour, minute, second)),
                               EVENT_SCHEDULER_STARTED)
        done = threading.Event()
        previous = {sig: signal.getsignal(sig)
                    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGUSR1)}
        stopper = _install_stop(scheduler, done)
        runner = _install_run_now(scheduler, cfg, done)
        log.info("service started for %d pair(s) on %s: ingest every %s, digest at %s %s",
                 len(cfg.pairs), display_url(cfg.database_url()), cfg.schedule.ingest_every,
                 cfg.schedule.digest_at, cfg.schedule.timezone)
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


def _on_started(scheduler: Any, cfg: MonitorConfig, config_path: str,
                at: tuple[int, int, int]) -> None:
    """Once the job store is open: drop jobs of pairs no longer configured, and place the
    digest job. When its schedule is unchanged the stored job is kept, so a digest missed while
    the service was down (within DIGEST_GRACE_S) runs now, just after the pairs' first runs."""
    from apscheduler.triggers.cron import CronTrigger

    trigger = CronTrigger(hour=at[0], minute=at[1], second=at[2], timezone=scheduler.timezone)
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
