"""`monitor status`: what the monitor knows, and the `status --json` contract other tools rely
on (application layer: the CLI prints it or dumps it)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from monitor.app import freshness as state
from monitor.app.models_choice import report_model
from monitor.config import MonitorConfig
from monitor.i18n import Lang
from monitor.models import AccountSummary, AlertState, OutboxSummary, ReadBudget, Silence
from monitor.report.model import Freshness
from monitor.store import Store
from monitor.store.engine import display_url
from monitor.store.ingest_repo import TimelineCap


@dataclass(frozen=True)
class PairStatus:
    name: str
    executive: tuple[str, ...]
    corporate: tuple[str, ...]
    alert: AlertState | None
    silences: list[Silence]
    freshness: Freshness


@dataclass(frozen=True)
class StatusReport:
    now: datetime
    pairs: list[PairStatus]
    service_seen_at: datetime | None
    hints: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        """New keys of `status --json` (the older ones are a contract and stay as they are)."""
        def iso(value: datetime | None) -> str | None:
            return value.isoformat() if value else None

        return {
            "pairs": [{
                "name": p.name, "executive": list(p.executive), "corporate": list(p.corporate),
                "alert": None if p.alert is None else {
                    "status": p.alert.status.value, "active_since": iso(p.alert.active_since),
                    "last_rate": p.alert.last_rate, "last_posts": p.alert.last_posts,
                    "last_evaluated_at": iso(p.alert.last_evaluated_at)},
                "evaluated_by_running_service": p.freshness.service_running,
                "silences": [{"id": s.id, "starts_at": iso(s.starts_at), "until": iso(s.until),
                              "author": s.author, "reason": s.reason} for s in p.silences],
                "unanalysed_posts": p.freshness.unanalysed_total,
                "last_import": iso(p.freshness.last_import),
                "last_collection": iso(p.freshness.last_collection),
                "last_analysis": iso(p.freshness.last_analysis),
                "accounts": [{"username": a.username, "role": a.role, "posts": a.posts,
                              "newest": iso(a.newest),
                              "newest_age_days": None if a.newest is None else round(
                                  (self.now - a.newest).total_seconds() / 86400, 1),
                              "stale": a in p.freshness.stale_accounts()}
                             for a in p.freshness.accounts]}
                for p in self.pairs],
            "service": {"last_seen_at": iso(self.service_seen_at),
                        "running": any(p.freshness.service_running for p in self.pairs)},
            "hints": self.hints,
        }

    def lines(self, lang: Lang) -> list[str]:
        out = []
        for p in self.pairs:
            f = p.freshness
            alert = p.alert
            if alert is None:
                state_text = "never evaluated (the service, `monitor run`, evaluates alerts)"
            else:
                state_text = alert.status.value + (f" since {lang.when(alert.active_since)}"
                                                   if alert.active_since else "")
                state_text += (f", evaluated {lang.when(alert.last_evaluated_at)}"
                               + ("" if f.service_running else
                                  " (no running service since)"))
            out.append(f"Pair {p.name}: alert {state_text}; {f.unanalysed_total} post(s) not "
                       f"analysed yet; last analysis {lang.when(f.last_analysis)}, last import "
                       f"{lang.when(f.last_import)}, last collection "
                       f"{lang.when(f.last_collection)}.")
            for a in f.accounts:
                if a in f.stale_accounts():
                    age = lang.age(self.now - a.newest) if a.newest else None
                    out.append(f"  @{a.username}: " + (f"newest post {age} ago — is collection "
                                                       "running?" if age else "no post yet"))
            for s in p.silences:
                out.append(f"  silenced #{s.id} from {lang.when(s.starts_at)} until "
                           f"{lang.when(s.until)}" + (f" by {s.author}" if s.author else "")
                           + (f": {s.reason}" if s.reason else ""))
        out.extend(f"Hint: {h}" for h in self.hints)
        return out


def pairs_status(store: Store, cfg: MonitorConfig, now: datetime) -> StatusReport:
    pairs = []
    for pair in cfg.pairs:
        model = report_model(store, cfg, pair).model_id
        pairs.append(PairStatus(
            pair.name, tuple(pair.executive), tuple(pair.corporate),
            store.alert_state(pair.name),
            store.silences(pair=pair.name, current_at=now),
            state.freshness(store, pair, model, now=now,
                            every=state.evaluation_interval(cfg))))
    hints = []
    if not cfg.pairs:
        hints.append("no [[pairs]] in the configuration: add one (see `monitor init "
                     "--example`).")
    elif store.count_posts() == 0:
        hints.append("no posts yet: import an archive or JSONL file (`monitor ingest "
                     "--from-archive` / `--from-jsonl`) or collect from the X API "
                     "(`monitor ingest`, with X_BEARER_TOKEN).")
    if any(p.freshness.unanalysed_total for p in pairs):
        hints.append("some posts are not analysed yet: run `monitor analyse` (the service "
                     "does it after each collection).")
    seen = state.service_seen_at(store)
    if cfg.pairs and not any(p.freshness.service_running for p in pairs):
        hints.append("no running service has evaluated the alerts recently: start `monitor "
                     "run` (or its systemd unit) for alerts and the daily digest.")
    return StatusReport(now, pairs, seen, hints)


@dataclass(frozen=True)
class Status:
    """Everything `monitor status` shows."""

    database: str  # the URL, its password hidden
    accounts: list[AccountSummary]
    caps: dict[str, TimelineCap]
    impossible_dates: int
    budget: ReadBudget
    outbox: OutboxSummary
    pairs: StatusReport

    def as_json(self) -> dict[str, Any]:
        """The `status --json` document. Its keys are a contract: new ones may be added, the
        existing ones stay."""
        return {
            "database": self.database,
            "accounts": [{"platform": s.platform, "username": s.username, "posts": s.posts,
                          "newest": s.newest.isoformat() if s.newest else None,
                          "oldest": s.oldest.isoformat() if s.oldest else None,
                          "user_id": s.user_id, "status": s.status, "since_id": s.since_id,
                          "status_detail": s.status_detail,
                          "timeline_cap": _cap_json(self.caps.get(s.username))}
                         for s in self.accounts],
            "posts_with_impossible_dates": self.impossible_dates,
            "budget": asdict(self.budget), "outbox": _json_ready(asdict(self.outbox)),
            **self.pairs.as_json()}


def status(store: Store, cfg: MonitorConfig, now: datetime) -> Status:
    from monitor.ingest.budget import budget_status

    return Status(database=display_url(cfg.database_url()), accounts=store.account_summaries(),
                  caps=store.timeline_caps(), impossible_dates=store.impossible_dates(),
                  budget=budget_status(cfg, store), outbox=store.outbox_summary(),
                  pairs=pairs_status(store, cfg, now))


def _json_ready(values: dict[str, Any]) -> dict[str, Any]:
    return {key: value.isoformat() if isinstance(value, datetime) else value
            for key, value in values.items()}


def _cap_json(cap: TimelineCap | None) -> dict[str, Any] | None:
    """X's timeline cap as `status --json` shows it: when, and what was not served."""
    if cap is None:
        return None
    return {"reached_at": cap.reached_at.isoformat(),
            "oldest_served": cap.oldest_served.isoformat() if cap.oldest_served else None,
            "horizon": cap.horizon.isoformat() if cap.horizon else None}
