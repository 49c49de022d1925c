"""`monitor status`: what the store holds, per account, and the state of collection and
delivery (X reads and cost, the timeline cap, the outbox, posts ignored for their dates).
`register(cli)` adds it to the main group; `--json` keys are a contract other tools rely on.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click

from monitor.cli_common import config_from as _config
from monitor.cli_common import open_store as _store

if TYPE_CHECKING:
    pass


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def status(ctx: click.Context, as_json: bool) -> None:
    """Show what the monitor knows: pairs, alert state, silences, freshness, accounts, outbox.

    Example: monitor status --json
    """
    from datetime import UTC, datetime

    from monitor.app.status import status as gather
    from monitor.bidi import json_escape
    from monitor.store.ingest_repo import cap_note

    cfg = _config(ctx)
    with _store(cfg) as store:
        st = gather(store, cfg, datetime.now(UTC))
    if as_json:
        click.echo(json_escape(json.dumps(st.as_json(), ensure_ascii=False, indent=2)))
        return
    from rich.console import Console
    from rich.table import Table

    from monitor.i18n import Lang

    lang = Lang.of("en", cfg.schedule.timezone)  # the CLI speaks English, in local time
    table = Table(title=f"Store: {st.database}")
    for col in ("account", "posts", "newest", "status", "since_id"):
        table.add_column(col)
    for s in st.accounts:
        table.add_row(f"@{s.username}", str(s.posts), lang.when(s.newest),
                      s.status + (f" ({s.status_detail})" if s.status_detail else ""),
                      s.since_id or "–")
    console = Console()
    console.print(table)
    for line in st.pairs.lines(lang):
        console.print(line, markup=False, soft_wrap=True)
    for name, cap in st.caps.items():
        console.print(f"@{name}: {cap_note(cap)} (seen {cap.reached_at:%Y-%m-%d %H:%M} UTC).",
                      markup=False)
    if st.impossible_dates:
        console.print(f"{st.impossible_dates} stored post(s) carry impossible dates (before "
                      "X existed or more than a day ahead): analysis, reports and digests "
                      "ignore them.",
                      markup=False)
    budget, outbox = st.budget, st.outbox
    read_cap = budget.monthly_read_cap
    console.print(
        f"X reads in {budget.month}: {budget.reads:,} (projected "
        f"{budget.projected_reads:,} by month end), estimated "
        f"${budget.estimated_cost:.2f} (projected ${budget.projected_cost:.2f})"
        + (f"; cap {read_cap:,}" if read_cap is not None else "")
        + (" — PAUSED: cap reached" if budget.paused else ""), markup=False)
    line = f"Outbox: {outbox.pending} message(s) waiting, {outbox.sent} sent"
    if outbox.superseded:
        line += (f", {outbox.superseded} superseded (their pair or recipients left the "
                 "configuration; never sent)")
    if outbox.last_error:
        at = outbox.last_error_at.isoformat() if outbox.last_error_at else "?"
        line += f"; last error ({at}): {outbox.last_error}"
    console.print(line, markup=False)
    console.print(f"Times in {lang.zone_name}.", markup=False)


def register(cli: click.Group) -> None:
    """Add `status` to the main command group."""
    cli.add_command(status)
