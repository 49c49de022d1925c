"""What the monitor knows about its own state, for readers: freshness, the voice path, and the
service's heartbeat (application layer: it reads the store and hands plain values up).

Honesty is the point: a digest or a report says when posts wait for analysis, when an
account's newest post is old (is collection running?), when posts were last imported,
collected and analysed, and whether the alert state was evaluated by a running service.
"""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo

from monitor.config import MonitorConfig, PairConfig
from monitor.models import Post
from monitor.report.model import AccountFreshness, Freshness
from monitor.report.voice import VoicePath, voice_path
from monitor.store import Store

HEARTBEAT_KEY = "service:heartbeat"


def record_heartbeat(store: Store, now: datetime, pid: int) -> None:
    """The service says it is alive (after each pair job): digests then trust its alert state."""
    store.set_value(HEARTBEAT_KEY, {"at": now.isoformat(), "pid": pid})


def service_seen_at(store: Store) -> datetime | None:
    value = store.get_value(HEARTBEAT_KEY)
    return datetime.fromisoformat(value["at"]) if value and value.get("at") else None


def freshness(store: Store, pair: PairConfig, model: str, *, now: datetime,
              since: datetime | None = None, until: datetime | None = None,
              every: timedelta = timedelta(0)) -> Freshness:
    """The state behind a pair's figures over [since, until)."""
    states = store.account_freshness(pair.accounts)
    executives = {a.casefold() for a in pair.executive}
    accounts = tuple(AccountFreshness(
        username=name, role="executive" if name.casefold() in executives else "corporate",
        posts=st.posts, newest=st.newest, last_collected=st.last_collected, status=st.status)
        for name, st in states.items())
    waiting = store.unanalysed_posts(pair.name, model, pair.executive)
    in_period = [sp for sp in waiting if (since is None or sp.post.created_at >= since)
                 and (until is None or sp.post.created_at < until)]
    collected = [a.last_collected for a in accounts if a.last_collected]
    alert = store.alert_state(pair.name)
    return Freshness(
        now=now, accounts=accounts, unanalysed=len(in_period), unanalysed_total=len(waiting),
        last_import=store.last_import_at(pair.accounts),
        last_collection=max(collected) if collected else None,
        last_analysis=store.last_analysis_at(pair.name, model),
        alert_evaluated_at=alert.last_evaluated_at if alert else None,
        service_seen_at=service_seen_at(store), evaluation_interval=every)


def evaluation_interval(cfg: MonitorConfig) -> timedelta:
    """How often the service evaluates each pair ([schedule] ingest_every)."""
    return cfg.schedule.ingest_every


def pair_voice(store: Store, pair: PairConfig, start: datetime, end: datetime, tz: tzinfo, *,
               subkinds: dict[str, str | None] | None = None) -> VoicePath:
    """The voice path of the pair's executive accounts over [start, end)."""
    posts = [sp.post for sp in store.posts(pair.executive, since=start, until=end)]
    return voice_path(posts, start, end, tz, subkinds=subkinds)


def report_voice(store: Store, pair: PairConfig, model: str, analysed: list[Post],
                 start: datetime, end: datetime, tz: tzinfo, *,
                 subkinds: dict[str, str | None] | None = None) -> VoicePath:
    """The voice path of a report: its analysed posts (already loaded) and those of the period
    still waiting for analysis (the voice path needs no analysis)."""
    waiting = store.unanalysed_posts(pair.name, model, pair.executive, since=start,
                                          until=end)
    seen = {p.post_id for p in analysed}
    posts = analysed + [sp.post for sp in waiting if sp.post.post_id not in seen]
    return voice_path(posts, start, end, tz, subkinds=subkinds)


def config_zone(cfg: MonitorConfig) -> tzinfo:
    return cfg.schedule.timezone
