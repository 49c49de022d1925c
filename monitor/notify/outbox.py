"""Delivery that loses nothing: every message is queued in the outbox, then delivered.

`deliver_pending` claims each due message, hands it to its channel's transport, and marks it
sent, or records the error and schedules the next attempt with exponential backoff (1 min, 2, 4,
... up to 1 h). A channel that fails once is not tried again in the same pass, so an SMTP server
that is down costs one timeout, not one per message. Nothing is ever dropped: a message waits
until it goes out, and `monitor status` shows what waits and why.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from monitor.config import MonitorConfig, Secrets
from monitor.errors import MonitorError
from monitor.store import Store
from monitor.store import notify_repo as repo
from monitor.store.notify_repo import OutboxEntry, OutboxMessage

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
Transport = Callable[[OutboxEntry], None]  # raises DeliveryError (or another MonitorError)

BACKOFF_BASE_S = 60.0
BACKOFF_MAX_S = 3600.0


def backoff(attempts: int) -> timedelta:
    """Delay before the next try of a message that has failed `attempts` times (>= 1)."""
    return timedelta(seconds=min(BACKOFF_BASE_S * 2 ** max(attempts - 1, 0), BACKOFF_MAX_S))


@dataclass(frozen=True)
class DeliveryReport:
    sent: tuple[str, ...]  # keys delivered in this pass
    failed: tuple[str, ...]  # keys tried in this pass and still queued
    errors: tuple[str, ...]  # one message per failing channel

    @property
    def ok(self) -> bool:
        return not self.failed


def transports_for(cfg: MonitorConfig, secrets: Secrets) -> dict[str, Transport]:
    """The real transports: SMTP from [email]; the webhook, Slack and Teams channels (through
    Apprise) from MONITOR_WEBHOOK_URL, MONITOR_SLACK_URL and MONITOR_TEAMS_URL."""
    from monitor.notify.email import SmtpMailer, SmtpSettings
    from monitor.notify.webhook import WebhookSender

    mailer = SmtpMailer(SmtpSettings.from_config(cfg.email, secrets.smtp_password))
    senders = {channel: WebhookSender(url, channel=channel) for channel, url in (
        ("webhook", secrets.webhook_url), ("slack", secrets.slack_url),
        ("teams", secrets.teams_url))}
    transports: dict[str, Transport] = {
        "email": lambda e: mailer.send(cfg.email.sender, e.recipients, e.payload)}
    for channel, sender in senders.items():
        transports[channel] = sender.send_entry
    return transports


def chat_channels(secrets: Secrets) -> list[str]:
    """The chat and webhook channels whose URL is set in the environment."""
    return [channel for channel, url in (("webhook", secrets.webhook_url),
                                         ("slack", secrets.slack_url),
                                         ("teams", secrets.teams_url)) if url is not None]


def queue(store: Store, messages: Sequence[OutboxMessage], now: datetime) -> list[bool]:
    """Queue messages (idempotent by key); True for each one queued now."""
    return repo.enqueue(store, messages, now)


def deliver_pending(store: Store, transports: Mapping[str, Transport], clock: Clock, *,
                    ignore_backoff: bool = False, lease: timedelta = timedelta(minutes=10)
                    ) -> DeliveryReport:
    """Deliver the due messages (every unsent one with `ignore_backoff`), each exactly once."""
    sent: list[str] = []
    failed: list[str] = []
    errors: dict[str, str] = {}
    for entry in repo.pending_messages(store, clock(), ignore_backoff=ignore_backoff):
        if entry.channel in errors:
            continue  # this channel just failed: leave its other messages to the next pass
        transport = transports.get(entry.channel)
        now = clock()
        if transport is None or not repo.claim(store, entry.id, now, now + lease):
            continue  # unknown channel in this version, or another sender holds it
        try:
            transport(entry)
        except Exception as exc:
            message = str(exc) if isinstance(exc, MonitorError) else (
                f"unexpected {type(exc).__name__} while sending {entry.key}: {exc}")
            if not isinstance(exc, MonitorError):
                log.exception("outbox: %s", message)
            done = clock()
            repo.mark_failed(store, entry.id, done, message, done + backoff(entry.attempts + 1))
            log.warning("outbox: %s not delivered (attempt %d): %s", entry.key,
                        entry.attempts + 1, message)
            failed.append(entry.key)
            errors[entry.channel] = message
            continue
        if repo.mark_sent(store, entry.id, clock()):
            log.info("outbox: sent %s (%s)", entry.key, entry.channel)
            sent.append(entry.key)
    return DeliveryReport(tuple(sent), tuple(failed), tuple(errors.values()))


def outbox_status(store: Store) -> dict[str, Any]:
    """What waits in the outbox and the last error, JSON-ready, for `monitor status`."""
    summary = repo.outbox_summary(store)
    return {key: value.isoformat() if isinstance(value, datetime) else value
            for key, value in summary.items()}
