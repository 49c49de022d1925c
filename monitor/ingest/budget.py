"""What X API collection costs this month: reads per account, projection, estimated cost.

X bills pay-per-use API access by the post read; the collector counts them per account and
calendar month (UTC) in the same transaction as the posts. This module only formats those
counts for `monitor status`; it never calls X (so it does not import tweepy).
"""

from __future__ import annotations

import calendar
from datetime import UTC, datetime

from monitor.config import MonitorConfig
from monitor.models import ReadBudget
from monitor.store import Store


def budget_status(cfg: MonitorConfig, store: Store, *,
                  now: datetime | None = None) -> ReadBudget:
    """This month's reads and cost.

    The projection is linear on the days elapsed, today included, so the first hours of a
    month do not project a thousandfold bill.
    """
    now = (now or datetime.now(UTC)).astimezone(UTC)
    month = now.strftime("%Y-%m")
    rows = store.month_reads(month)
    reads = sum(r.posts_read for r in rows)
    days = calendar.monthrange(now.year, now.month)[1]
    projected = round(reads * days / now.day)
    price = cfg.x.price_per_read
    cap = cfg.x.monthly_read_cap
    return ReadBudget(
        month=month, reads_by_account={r.username: r.posts_read for r in rows},
        requests=sum(r.requests for r in rows), reads=reads, projected_reads=projected,
        price_per_read=price, estimated_cost=round(reads * price, 4),
        projected_cost=round(projected * price, 4), monthly_read_cap=cap,
        cap_remaining=None if cap is None else max(cap - reads, 0),
        paused=cap is not None and reads >= cap)
