"""Commands of the service side: `monitor digest`, `monitor run`, `monitor silence`.

`register(cli)` adds them to the main click group. As in monitor/cli.py, heavy modules are
imported inside the commands, and every problem is a MonitorError that the group turns into one
line and an exit code.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from monitor.cli_common import config_from as _config
from monitor.cli_common import open_store as _store
from monitor.errors import DeliveryError, UsageError

if TYPE_CHECKING:
    from monitor.config import MonitorConfig
    from monitor.notify.digest import DigestEmail, QueuedDigest
    from monitor.notify.outbox import DeliveryReport
    from monitor.store import Store


def _parse_day(text: str) -> date:
    from monitor.timeparse import parse_day

    return parse_day(text, what="--date")


# What `digest -o FILE` writes, by the file's extension.
DIGEST_SUFFIXES = {".eml": "the whole email", ".html": "its HTML part", ".htm": "its HTML part",
                   ".txt": "its plain-text part"}


@click.command()
@click.option("--pair", "pair_name", help="Only this pair (default: every pair).")
@click.option("--date", "day_text", help="The local day to report on (default: yesterday in "
              "[schedule] timezone).")
@click.option("--send", is_flag=True, help="Queue the digest in the outbox and send it now.")
@click.option("-o", "--output", type=click.Path(dir_okay=False),
              help="Write the email instead: .eml (the whole message), .html or .txt.")
@click.pass_context
def digest(ctx: click.Context, pair_name: str | None, day_text: str | None, send: bool,
           output: str | None) -> None:
    """Build the daily digest email: print it, write it (-o), or send it (--send).

    \b
    Examples:
      monitor digest                          # yesterday's digest as plain text
      monitor digest --date 2026-11-23 -o digest.eml
      monitor digest --send                   # what `monitor run` sends each morning
    """
    from monitor.app.digests import build_digests
    from monitor.notify.digest import default_digest_day

    if send and output:
        raise UsageError("use --send or -o FILE, not both")
    if output and Path(output).suffix.lower() not in DIGEST_SUFFIXES:
        raise UsageError(f"-o {output}: the digest is written as .eml (the whole email), .html "
                         "or .txt; name the file with one of these extensions.")
    cfg = _config(ctx)
    pairs = [cfg.pair(pair_name)] if pair_name else cfg.pairs
    if not pairs:
        raise UsageError("no [[pairs]] in the configuration: add one (see "
                         "config/monitor.example.toml)")
    now = datetime.now(UTC)
    day = _parse_day(day_text) if day_text else default_digest_day(cfg.schedule.timezone, now)
    with _store(cfg) as store:
        digests = build_digests(store, cfg, day, pairs=pairs, now=now)
        if output:
            _write(digests, Path(output), cfg.email.sender, now)
            return
        if not send:
            for d in digests:
                click.echo(d.text, nl=False)
            return
        from monitor.app.digests import send_now

        sending = send_now(store, cfg, cfg.secrets, digests, now)
        queued, report = sending.queued, sending.delivery
        waiting = _report_sent(store, queued, report, day)
    if waiting and not report.failed:
        raise DeliveryError(f"{len(waiting)} digest(s) not delivered by this command: they "
                            "wait in the outbox (`monitor status` shows them).")
    if report.failed:
        raise DeliveryError(f"{report.errors[0]} {len(report.failed)} message(s) wait in the "
                            "outbox: `monitor run` retries them, or run this command again "
                            "once the server is back (`monitor status` shows what waits).")


def _write(digests: Sequence[DigestEmail], path: Path, sender: str, now: datetime) -> None:
    if len(digests) != 1:
        raise UsageError(f"the digest makes {len(digests)} emails (one per recipient list): "
                         "choose one with --pair to write it to a file")
    d = digests[0]
    suffix = path.suffix.lower()
    if suffix in (".html", ".htm"):
        content = d.html
    elif suffix == ".txt":
        content = d.text
    elif suffix == ".eml":
        content = d.message(sender, now).payload
    else:  # checked before anything was built; kept so a new suffix cannot slip through
        raise UsageError(f"-o {path}: use .eml, .html or .txt")
    path.write_text(content, encoding="utf-8")
    click.echo(f"Wrote {path}: {d.subject}")


def _report_sent(store: Store, queued: Sequence[QueuedDigest], report: DeliveryReport,
                 day: date) -> list[str]:
    """Say what happened to each digest (and to the other messages this pass delivered); the
    addresses printed are the envelope recipients really used. Returns the digests that were
    neither sent now nor before (still waiting), for the exit code."""

    waiting: list[str] = []
    ours = {q.digest.key for q in queued}
    for q in queued:
        d = q.digest
        names = ", ".join(p.pair for p in d.pairs)
        what = f"the digest of {day.isoformat()} for {names}"
        if q.outcome == "empty":
            click.echo(f"Nothing to send for {names}: no executive post on {day.isoformat()} "
                       "(set [email] send_when_empty = true to send empty digests).")
            continue
        if q.outcome == "re-addressed":
            click.echo(f"Note: {what} was waiting in the outbox for "
                       f"{', '.join(q.previous) or 'nobody'}; it now goes to "
                       f"{', '.join(d.recipients)}, as the configuration says.")
        if d.key in report.sent:
            click.echo(f"Sent {what} to {', '.join(report.sent_to.get(d.key, ()))}: "
                       f"{d.subject}")
        elif d.key in report.superseded:
            click.echo(f"Not sent: {what}: {report.superseded[d.key]}.")
        elif d.key in report.busy:
            busy = report.busy[d.key]
            when = f"{busy.until:%Y-%m-%d %H:%M} UTC" if busy.until else "its claim ends"
            click.echo(f"Not sent now: {what} is claimed by another process ({busy.holder}) "
                       f"that is delivering it; if it does not, it is retried at {when} "
                       "(by `monitor run`, or run this command again then).")
            waiting.append(d.key)
        else:
            entry = store.outbox_entry(d.key)
            if entry is not None and entry.sent_at is not None:
                click.echo(f"{what[0].upper()}{what[1:]} was already sent at "
                           f"{entry.sent_at:%Y-%m-%d %H:%M} UTC to "
                           f"{', '.join(entry.recipients)}; it is not sent twice.")
            elif d.key not in report.failed:
                waiting.append(d.key)
    for key in report.sent:
        if key not in ours:
            click.echo(f"Also delivered from the outbox: {key} to "
                       f"{', '.join(report.sent_to.get(key, ())) or 'the webhook'}.")
    for key, reason in report.superseded.items():
        if key not in ours:
            click.echo(f"Not sent from the outbox: {key}: {reason}.")
    return waiting


@click.command()
@click.pass_context
def run(ctx: click.Context) -> None:
    """Run the service: scheduled ingestion and analysis, the daily digest, alerts.

    Runs in the foreground until SIGTERM or Ctrl-C (it finishes the running job first). Only one
    service may serve a database; a second one exits at once. See scripts/monitor.service
    for a systemd unit.

    Example: monitor --config /etc/monitor/monitor.toml run
    """
    from monitor.service import run_service

    cfg = _config(ctx)
    assert cfg.source is not None
    monitor_log = logging.getLogger("monitor")
    if monitor_log.getEffectiveLevel() > logging.INFO:
        monitor_log.setLevel(logging.INFO)  # a daemon says what it does; -v adds APScheduler's
    # Jobs name the config by absolute path: the job store outlives the working directory.
    run_service(str(Path(cfg.source).resolve()))


def _parse_until(text: str, cfg: MonitorConfig, now: datetime, *,
                 what: str = "--until") -> datetime:
    """A duration from now (7d), a date (local midnight) or a date and time (local)."""
    from monitor.timeparse import future, parse_moment

    syntax = future(cfg.schedule.timezone, cfg.schedule.zone_name)
    return parse_moment(text, now, what=what, syntax=syntax)


@click.command()
@click.option("--pair", "pair_name", help="The pair whose alerts to silence.")
@click.option("--until", "until_text", help="End of the silence: a date (local midnight, "
              "[schedule] timezone), a date and time, or a duration such as 7d.")
@click.option("--start", "start_text", help="Start of the silence (default: now), in the same "
              "forms as --until.")
@click.option("--reason", default="", help="Why, for the team (shown in the digest).")
@click.option("--author", help="Who silences (default: the user running the command).")
@click.option("--list", "list_only", is_flag=True, help="List the silences in force or to come.")
@click.option("--remove", "remove_id", type=int, help="Lift the silence with this id.")
@click.pass_context
def silence(ctx: click.Context, pair_name: str | None, until_text: str | None,
            start_text: str | None, reason: str, author: str | None, list_only: bool,
            remove_id: int | None) -> None:
    """Silence a pair's alert notifications until a date (evaluation goes on).

    \b
    Examples:
      monitor silence --pair maison-lumiere --until 2026-12-01 --reason "joint launch"
      monitor silence --list
      monitor silence --remove 3
    """
    from monitor.i18n import Lang

    cfg = _config(ctx)
    now = datetime.now(UTC)
    lang = Lang.of("en", cfg.schedule.timezone)  # CLI words in English, times local
    with _store(cfg) as store:
        if list_only:
            current = store.silences(current_at=now)
            if not current:
                click.echo("No silence in force or to come.")
            for s in current:
                click.echo(f"#{s.id} {s.pair} from {lang.when(s.starts_at)} until "
                           f"{lang.when(s.until)} ({lang.zone_name})"
                           + (f" by {s.author}" if s.author else "")
                           + (f": {s.reason}" if s.reason else ""))
            return
        if remove_id is not None:
            if not store.remove_silence(remove_id):
                raise UsageError(f"no silence #{remove_id}: see `monitor silence --list`")
            click.echo(f"Lifted silence #{remove_id}.")
            return
        if not pair_name or not until_text:
            raise UsageError("give --pair and --until (or --list, or --remove ID), e.g. "
                             "monitor silence --pair NAME --until 2026-12-01 --reason \"launch\"")
        pair = cfg.pair(pair_name)
        until = _parse_until(until_text, cfg, now)
        start = _parse_until(start_text, cfg, now, what="--start") if start_text else now
        if until <= now:
            raise UsageError(f"--until {until_text!r} is in the past: give a later date")
        if start >= until:
            raise UsageError(f"--start {start_text!r} is not before --until {until_text!r}")
        who = (author or _os_user()).strip()
        s = store.add_silence(pair.name, until.astimezone(UTC), reason, now,
                                    author=who, starts_at=start.astimezone(UTC))
    click.echo(f"Silenced the alerts of {pair.name} from {lang.when(s.starts_at)} until "
               f"{lang.when(s.until)} ({lang.zone_name}), by {who or 'unknown'} (#{s.id}). "
               "Evaluation goes on, and risk alerts (off-limits posts) are never silenced; "
               f"lift it with `monitor silence --remove {s.id}`.")


def _os_user() -> str:
    """The user running the command, as the OS knows them."""
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name and no passwd entry (some containers)
        return ""


def register(cli: click.Group) -> None:
    """Add the service commands to the main command group."""
    for command in (digest, run, silence):
        cli.add_command(command)
