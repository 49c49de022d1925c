"""What a report shows, independent of its format."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from monitor.analysis.rates import PeriodStats
from monitor.models import RISK_CLASSES, Finding, ModelChoice, Post, PostClass, Thresholds
from monitor.report.voice import VoicePath

if TYPE_CHECKING:  # the drift test needs numpy; reading a report must not import it
    from monitor.analysis.drift import DriftResult

# An account whose newest post is older than this makes the monitor ask whether collection runs.
STALE_POSTS = timedelta(days=3)
# An alert state evaluated longer ago than this (or than two collection intervals, if longer)
# was not evaluated by a running service.
STALE_EVALUATION = timedelta(hours=3)


@dataclass(frozen=True)
class ReportItem:
    finding: Finding
    post: Post
    nearest: Post | None


@dataclass(frozen=True)
class AccountFreshness:
    username: str
    role: str  # "executive" or "corporate"
    posts: int
    newest: datetime | None
    last_collected: datetime | None  # the last X API run for it, if any
    status: str = "active"


@dataclass(frozen=True)
class Freshness:
    """What the monitor knows and does not, for the reader: the state behind the figures."""

    now: datetime
    accounts: tuple[AccountFreshness, ...] = ()
    unanalysed: int = 0  # executive posts of the period waiting for analysis
    unanalysed_total: int = 0  # all executive posts of the pair waiting for analysis
    last_import: datetime | None = None
    last_collection: datetime | None = None
    last_analysis: datetime | None = None
    alert_evaluated_at: datetime | None = None
    service_seen_at: datetime | None = None
    # The service evaluates each pair every [schedule] ingest_every.
    evaluation_interval: timedelta = timedelta(0)

    def stale_accounts(self) -> list[AccountFreshness]:
        return [a for a in self.accounts
                if a.newest is None or self.now - a.newest > STALE_POSTS]

    @property
    def service_running(self) -> bool:
        seen = self.service_seen_at or self.alert_evaluated_at
        limit = max(STALE_EVALUATION, 2 * self.evaluation_interval)
        return seen is not None and self.now - seen <= limit


@dataclass(frozen=True)
class PairReport:
    pair: str
    executive: tuple[str, ...]
    corporate: tuple[str, ...]
    model: str
    start: datetime
    end: datetime
    generated_at: datetime
    thresholds: Thresholds | None
    totals: PeriodStats
    weekly: list[PeriodStats]
    items: list[ReportItem]
    drift: DriftResult | None
    alert_threshold: float | None = None
    notes: list[str] = field(default_factory=list)
    voice: VoicePath | None = None
    model_choice: ModelChoice | None = None  # which encoder and why
    freshness: Freshness | None = None

    def flagged(self, *classes: PostClass) -> list[ReportItem]:
        return [i for i in self.items if i.finding.post_class in classes]

    def risks(self) -> list[ReportItem]:
        """Posts in a risk class, newest first: what a comms lead reads first."""
        return [i for i in self.items if i.finding.post_class in RISK_CLASSES][::-1]

    def top_overlaps(self, limit: int = 20) -> list[ReportItem]:
        """Echo and overlap items, most similar first (echoes without a vector last)."""
        items = self.flagged(PostClass.ECHO, PostClass.OVERLAP)
        return sorted(items, key=lambda i: -(i.finding.similarity or 0.0))[:limit]
