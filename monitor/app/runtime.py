"""What the scheduler's jobs (and `monitor digest --send`) share, and one tick of a pair:
collect, embed and analyse, evaluate the alerts, deliver (application layer)."""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from monitor.app import freshness as state
from monitor.app.alerting import evaluate_alert
from monitor.app.analyse import analyse_pair
from monitor.app.drift import refresh_drift
from monitor.config import MonitorConfig, PairConfig, Secrets, load_config
from monitor.embed import Encoder, Encoders
from monitor.errors import MonitorError
from monitor.notify.outbox import (
    Clock,
    DeliveryReport,
    Transport,
    addressing_for,
    chat_channels,
    deliver_pending,
    transports_for,
)
from monitor.store import Store

log = logging.getLogger(__name__)


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class Runtime:
    """What the jobs of one service share: config, open store, secrets, encoders, transports.
    `scheduler` is the service's, when one runs them (a job may drop itself)."""

    config_path: str
    cfg: MonitorConfig
    store: Store
    secrets: Secrets
    clock: Clock = _utcnow
    transports: dict[str, Transport] = field(default_factory=dict)
    scheduler: Any = None
    _encoders: Encoders | Encoder | None = None  # tests may give one encoder for every pair

    def encoders(self) -> Encoders | Encoder:
        if self._encoders is None:
            self._encoders = Encoders(batch_size=self.cfg.model.batch_size)
        return self._encoders


def ingest_pair(rt: Runtime, pair: PairConfig) -> None:
    """Collect new posts from the X API, when it is configured; otherwise say why not."""
    if rt.secrets.x_bearer_token is None:
        log.info("pair %s: X_BEARER_TOKEN is not set; skipping ingestion, analysing the stored "
                 "posts", pair.name)
        return
    from monitor.ingest.collector import run_collection

    run_collection(rt.cfg, rt.store, [pair], echo=lambda msg: log.info("pair %s: %s",
                                                                       pair.name, msg))


def run_pair(rt: Runtime, pair: PairConfig) -> None:
    """One tick of a pair: ingest, embed + analyse, evaluate the alert, deliver."""
    try:
        ingest_pair(rt, pair)
    except MonitorError as exc:  # the stored posts can still be analysed
        log.error("pair %s: ingestion failed: %s", pair.name, exc)
    result = analyse_pair(rt.store, rt.cfg, pair, rt.encoders())
    log.info("pair %s: analysed %d of %d executive posts", pair.name, result.analysed,
             result.total)
    if result.analysed:  # reports and the dashboard then read the drift, not recompute it
        refresh_drift(rt.store, rt.cfg, pair, result.model)
    now = rt.clock()
    evaluate_alert(rt.store, rt.cfg, pair, now, channels=chat_channels(rt.secrets))
    state.record_heartbeat(rt.store, now, os.getpid())
    deliver(rt)


def deliver(rt: Runtime, *, ignore_backoff: bool = False) -> DeliveryReport:
    return deliver_pending(rt.store, rt.transports, rt.clock, ignore_backoff=ignore_backoff,
                           addressing=addressing_for(rt.cfg))


@contextlib.contextmanager
def open_runtime(config_path: str, *, cfg: MonitorConfig | None = None,
                 clock: Clock = _utcnow) -> Iterator[Runtime]:
    """Load the config (unless given) and open the store for a run of jobs."""
    cfg = cfg or load_config(config_path)
    secrets = cfg.secrets
    store = Store.open(cfg.database_url())
    try:
        yield Runtime(config_path, cfg, store, secrets, clock, transports_for(cfg, secrets))
    finally:
        store.close()
