"""What a report shows, independent of its format."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from monitor.analysis.drift import DriftResult
from monitor.analysis.rates import PeriodStats
from monitor.models import Finding, Post, PostClass, Thresholds


@dataclass(frozen=True)
class ReportItem:
    finding: Finding
    post: Post
    nearest: Post | None


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

    def flagged(self, *classes: PostClass) -> list[ReportItem]:
        return [i for i in self.items if i.finding.post_class in classes]

    def top_overlaps(self, limit: int = 20) -> list[ReportItem]:
        """Echo and overlap items, most similar first (echoes without a vector last)."""
        items = self.flagged(PostClass.ECHO, PostClass.OVERLAP)
        return sorted(items, key=lambda i: -(i.finding.similarity or 0.0))[:limit]
