"""`monitor status`: what the store holds, per account, and the state of collection and
delivery (X reads and cost, the timeline cap, the outbox, posts ignored for their dates).
`register(cli)` adds it to the main group; `--json` keys are a contract other tools rely on.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import click

from monitor.cli_common import config_from as _config
from monitor.cli_common import open_store as _store

if TYPE_CHECKING:
    from monitor.config import MonitorConfig
    from monitor.store import Store


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def status(ctx: click.Context, as_json: bool) -> None:
    """Show what the monitor knows: pairs, alert state, silences, freshness, accounts, outbox.

    Example: monitor status --json
    """
    from datetime import UTC, datetime

    from monitor.app.status import pairs_status
    from monitor.bidi import json_escape
    from monitor.ingest.collector import cap_note

    cfg = _config(ctx)
    now = datetime.now(UTC)
    with _store(cfg) as store:
        summaries = store.account_summaries()
        extra = _status_extras(cfg, store)
        caps = store.timeline_caps()
        ignored = store.impossible_dates()
        pairs = pairs_status(store, cfg, now)
    if as_json:
        click.echo(json_escape(json.dumps({
            "database": _safe_url(cfg.database_url()),
            "accounts": [{"platform": s.platform, "username": s.username, "posts": s.posts,
                          "newest": s.newest.isoformat() if s.newest else None,
                          "oldest": s.oldest.isoformat() if s.oldest else None,
                          "user_id": s.user_id, "status": s.status, "since_id": s.since_id,
                          "status_detail": s.status_detail,
                          "timeline_cap": _cap_json(caps.get(s.username))}
                         for s in summaries],
            "posts_with_impossible_dates": ignored, **extra, **pairs.as_json()},
            ensure_ascii=False, indent=2)))
        return
    from rich.console import Console
    from rich.table import Table

    from monitor.i18n import Lang

    lang = Lang.of("en", cfg.schedule.timezone)  # the CLI speaks English, in local time
    table = Table(title=f"Store: {_safe_url(cfg.database_url())}")
    for col in ("account", "posts", "newest", "status", "since_id"):
        table.add_column(col)
    for s in summaries:
        table.add_row(f"@{s.username}", str(s.posts), lang.when(s.newest),
                      s.status + (f" ({s.status_detail})" if s.status_detail else ""),
                      s.since_id or "–")
    console = Console()
    console.print(table)
    for line in pairs.lines(lang):
        console.print(line, markup=False, soft_wrap=True)
    for name, cap in caps.items():
        console.print(f"@{name}: {cap_note(cap)} (seen {cap.reached_at:%Y-%m-%d %H:%M} UTC).",
                      markup=False)
    if ignored:
        console.print(f"{ignored} stored post(s) carry impossible dates (before X existed or "
                      "more than a day ahead): analysis, reports and digests ignore them.",
                      markup=False)
    budget, outbox = extra["budget"], extra["outbox"]
    cap = budget.get("monthly_read_cap")
    console.print(
        f"X reads in {budget['month']}: {budget['reads']:,} (projected "
        f"{budget['projected_reads']:,} by month end), estimated "
        f"${budget['estimated_cost']:.2f} (projected ${budget['projected_cost']:.2f})"
        + (f"; cap {cap:,}" if cap is not None else "")
        + (" — PAUSED: cap reached" if budget.get("paused") else ""), markup=False)
    line = f"Outbox: {outbox['pending']} message(s) waiting, {outbox['sent']} sent"
    if outbox.get("superseded"):
        line += (f", {outbox['superseded']} superseded (their pair or recipients left the "
                 "configuration; never sent)")
    if outbox.get("last_error"):
        line += f"; last error ({outbox['last_error_at']}): {outbox['last_error']}"
    console.print(line, markup=False)
    console.print(f"Times in {lang.zone_name}.", markup=False)


def _cap_json(cap: Any) -> dict[str, Any] | None:
    """X's timeline cap as `status --json` shows it: when, and what was not served."""
    if cap is None:
        return None
    return {"reached_at": cap.reached_at.isoformat(),
            "oldest_served": cap.oldest_served.isoformat() if cap.oldest_served else None,
            "horizon": cap.horizon.isoformat() if cap.horizon else None}


def _status_extras(cfg: MonitorConfig, store: Store) -> dict[str, Any]:
    """Sections other features add to `monitor status` (budget, outbox, ...)."""
    from monitor.ingest.budget import budget_status
    from monitor.notify import outbox_status

    return {"budget": budget_status(cfg, store), "outbox": outbox_status(store)}


def _safe_url(url: str) -> str:
    from monitor.store.engine import display_url

    return display_url(url)


def register(cli: click.Group) -> None:
    """Add `status` to the main command group."""
    cli.add_command(status)
