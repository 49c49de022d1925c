"""Delivery that loses nothing: every message is queued in the outbox, then delivered.

`deliver_pending` claims each due message, hands it to its channel's transport, and marks it
sent, or records the error and schedules the next attempt with exponential backoff (1 min, 2, 4,
... up to 1 h). A channel that fails once is not tried again in the same pass, so an SMTP server
that is down costs one timeout, not one per message. Nothing is ever dropped: a message waits
until it goes out, and `monitor status` shows what waits and why.

Two rules keep a waiting message honest. Its recipients are checked against the configuration
when it is sent (`addressing_for`): an email queued for recipients the configuration no longer
names is re-addressed to the ones it names now, or, when its pair is gone or its pairs now go
to different lists, superseded (never sent) with the reason; the report says which. And a claim
is never silently skipped: a claim left by a process that died (a kill during `monitor digest
--send`) is taken over at once, and a live one is reported with its holder and end.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from monitor.config import MonitorConfig, Secrets
from monitor.errors import ConfigError, MonitorError
from monitor.models import OutboxEntry, OutboxMessage
from monitor.notify.email import readdress_email
from monitor.notify.holder import Holder, this_process
from monitor.store import Store

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
Transport = Callable[[OutboxEntry], None]  # raises DeliveryError (or another MonitorError)

BACKOFF_BASE_S = 60.0
BACKOFF_MAX_S = 3600.0


def backoff(attempts: int) -> timedelta:
    """Delay before the next try of a message that has failed `attempts` times (>= 1)."""
    return timedelta(seconds=min(BACKOFF_BASE_S * 2 ** max(attempts - 1, 0), BACKOFF_MAX_S))


@dataclass(frozen=True)
class Busy:
    """A message another live sender holds: who, and until when (then it is retried)."""

    holder: str
    until: datetime | None


@dataclass(frozen=True)
class DeliveryReport:
    sent: tuple[str, ...]  # keys delivered in this pass
    failed: tuple[str, ...]  # keys tried in this pass and still queued
    errors: tuple[str, ...]  # one message per failing channel
    # The envelope recipients each sent email actually went to.
    sent_to: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # Emails sent to other recipients than they were queued for: key -> (queued, used).
    readdressed: Mapping[str, tuple[tuple[str, ...], tuple[str, ...]]] = field(
        default_factory=dict)
    superseded: Mapping[str, str] = field(default_factory=dict)  # key -> why never sent
    busy: Mapping[str, Busy] = field(default_factory=dict)  # held by another live sender
    reclaimed: tuple[str, ...] = ()  # taken over from a sender that died

    @property
    def ok(self) -> bool:
        return not self.failed


@dataclass(frozen=True)
class Address:
    """Where a waiting message should go now; `superseded` says why it must not go at all."""

    recipients: tuple[str, ...]
    superseded: str | None = None


Addressing = Callable[[OutboxEntry], Address]


def addressing_for(cfg: MonitorConfig) -> Addressing:
    """The recipients the configuration names today for each waiting email: its pair's own
    list, else [email] recipients (a digest of several pairs: the one list they share)."""
    def address(entry: OutboxEntry) -> Address:
        if entry.channel != "email" or not entry.pair:
            return Address(entry.recipients)
        names = [entry.pair] if any(p.name == entry.pair for p in cfg.pairs) else \
            entry.pair.split(",")
        lists: set[tuple[str, ...]] = set()
        for name in names:
            try:
                pair = cfg.pair(name)
            except ConfigError:
                return Address((), f"pair {name!r} is no longer in the configuration")
            lists.add(cfg.effective(pair).recipients)
        if len(lists) > 1:
            return Address((), "its pairs now go to different recipient lists; build the "
                           "digest again (monitor digest --send) to send one per list")
        wanted = lists.pop()
        if not wanted:
            return Address((), "the configuration names no recipient for it any more")
        return Address(wanted)

    return address


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
    return store.enqueue(messages, now)


def deliver_pending(store: Store, transports: Mapping[str, Transport], clock: Clock, *,
                    ignore_backoff: bool = False, lease: timedelta = timedelta(minutes=10),
                    addressing: Addressing | None = None) -> DeliveryReport:
    """Deliver the due messages (every unsent one with `ignore_backoff`), each exactly once.
    `addressing` (see `addressing_for`) re-addresses or supersedes emails whose recipients
    the configuration no longer names; without it, messages go where they were queued."""
    sent: list[str] = []
    failed: list[str] = []
    errors: dict[str, str] = {}
    sent_to: dict[str, tuple[str, ...]] = {}
    readdressed: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {}
    superseded: dict[str, str] = {}
    busy: dict[str, Busy] = {}
    reclaimed: list[str] = []
    me = this_process()
    for entry in store.pending_messages(clock(), ignore_backoff=ignore_backoff):
        if entry.channel in errors:
            continue  # this channel just failed: leave its other messages to the next pass
        transport = transports.get(entry.channel)
        if transport is None:
            continue  # a channel this version does not know
        now = clock()
        claim = store.claim(entry.id, now, now + lease, holder=me)
        if not claim.taken and not claim.sent:
            holder = Holder.parse(claim.holder)
            if holder is not None and holder.is_gone():
                log.warning("outbox: %s was claimed by %s, which is gone; taking it over",
                            entry.key, holder.describe())
                claim = store.claim(entry.id, now, now + lease, holder=me,
                                   take_from=claim.holder)
                if claim.taken:
                    reclaimed.append(entry.key)
            if not claim.taken and not claim.sent:
                who = holder.describe() if holder else "another sender"
                busy[entry.key] = Busy(who, claim.until)
                log.info("outbox: %s is being delivered by %s (claimed until %s)", entry.key,
                         who, claim.until)
        if not claim.taken:
            continue
        where = addressing(entry) if addressing is not None else Address(entry.recipients)
        if where.superseded:
            store.supersede(entry.id, clock(), f"superseded: {where.superseded}")
            log.warning("outbox: %s not sent: %s", entry.key, where.superseded)
            superseded[entry.key] = where.superseded
            continue
        if entry.channel == "email" and set(where.recipients) != set(entry.recipients):
            payload = readdress_email(entry.payload, where.recipients)
            store.readdress(entry.id, where.recipients, payload)
            log.warning("outbox: %s was queued for %s; the configuration now names %s: "
                        "re-addressed", entry.key, ", ".join(entry.recipients) or "nobody",
                        ", ".join(where.recipients))
            readdressed[entry.key] = (entry.recipients, where.recipients)
            entry = replace(entry, recipients=where.recipients, payload=payload)
        try:
            transport(entry)
        except Exception as exc:
            message = str(exc) if isinstance(exc, MonitorError) else (
                f"unexpected {type(exc).__name__} while sending {entry.key}: {exc}")
            if not isinstance(exc, MonitorError):
                log.exception("outbox: %s", message)
            done = clock()
            store.mark_failed(entry.id, done, message, done + backoff(entry.attempts + 1))
            log.warning("outbox: %s not delivered (attempt %d): %s", entry.key,
                        entry.attempts + 1, message)
            failed.append(entry.key)
            errors[entry.channel] = message
            continue
        if store.mark_sent(entry.id, clock()):
            log.info("outbox: sent %s (%s)", entry.key, entry.channel)
            sent.append(entry.key)
            sent_to[entry.key] = entry.recipients
    return DeliveryReport(tuple(sent), tuple(failed), tuple(errors.values()), sent_to,
                          readdressed, superseded, busy, tuple(reclaimed))
