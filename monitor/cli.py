"""The command line: arguments, progress, exit codes. The library does the work.

Heavy modules (torch, sentence-transformers, SQLAlchemy, matplotlib) are imported inside the
commands that need them, so `monitor --help` answers at once. Every `MonitorError` becomes one
clear line and exit code 1 (2 for bad usage or configuration); no traceback reaches the user.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from monitor import __version__
from monitor.cli_common import config_from as _config
from monitor.cli_common import one_blas_thread
from monitor.cli_common import open_store as _store
from monitor.cli_common import progress as _progress
from monitor.cli_common import status as _status
from monitor.errors import MonitorError, UsageError

if TYPE_CHECKING:
    from monitor.config import MonitorConfig, PairConfig
    from monitor.store import Store

log = logging.getLogger("monitor")


class MonitorGroup(click.Group):
    """Turns library errors into one message and an exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        from monitor.bidi import neutralise

        try:
            return super().invoke(ctx)
        except MonitorError as exc:
            click.secho(f"Error: {neutralise(str(exc))}", fg="red", err=True)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("Interrupted; what was committed is kept.", err=True)
            sys.exit(130)
        except BrokenPipeError:  # the reader left (`monitor report | head`): nothing to say
            with contextlib.suppress(OSError):
                sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - so exit's flush is quiet
            sys.exit(141)
        except OSError as exc:  # a full disk, a folder that vanished, a permission...
            where = f" ({exc.filename})" if exc.filename else ""
            click.secho(f"Error: {exc.strerror or type(exc).__name__}{where}. What was "
                        "committed is kept; free some space or fix the permissions, then run "
                        "the command again.", fg="red", err=True)
            sys.exit(1)
        except (click.exceptions.Exit, click.ClickException, SystemExit):
            raise
        except Exception as exc:  # a bug: one line, the details only with -v
            log.debug("unexpected error", exc_info=True)
            click.secho(f"Error: unexpected {type(exc).__name__} (a bug in the monitor; what "
                        "was committed is kept). Run again with -v to see the details, and "
                        "please report it.", fg="red", err=True)
            sys.exit(1)


@click.group(cls=MonitorGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="monitor")
@click.option("--config", "config_path", type=click.Path(dir_okay=False),
              help="Configuration file (default: $MONITOR_CONFIG, else ./monitor.toml).")
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None, verbose: int) -> None:
    """Keep an executive's X voice complementary to the brand's corporate voice.

    Start with `monitor demo`, then point a monitor.toml at your own accounts.
    """
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Alembic says at INFO which plugins it sets up and that it checked the schema, on every
    # command: only -vv (debug) shows that; migrations that run are still said at -v.
    logging.getLogger("alembic.runtime.plugins").setLevel(
        logging.DEBUG if verbose >= 2 else logging.WARNING)
    migration_log = logging.getLogger("alembic.runtime.migration")
    migration_log.removeFilter(_only_upgrades)  # an earlier in-process run may have set it
    if verbose < 2:
        migration_log.addFilter(_only_upgrades)
    ctx.obj = {"config_path": config_path, "verbose": verbose}


def _only_upgrades(record: logging.LogRecord) -> bool:
    return record.getMessage().startswith("Running upgrade")


def _encoders(cfg: MonitorConfig, *, child: Any = None) -> Any:
    """The encoders of this run, by model (nothing loads before the first encode; a `child`
    process may already be loading one, see embed/forked.py)."""
    from monitor.embed import Encoders

    return Encoders(batch_size=cfg.model.batch_size, child=child)


# -- commands ----------------------------------------------------------------------------------

@cli.command()
@click.option("--example", "example", is_flag=False, flag_value="monitor.toml", default=None,
              metavar="[PATH]", help="Write the example configuration to PATH (default "
              "./monitor.toml) instead, to start from.")
@click.pass_context
def init(ctx: click.Context, example: str | None) -> None:
    """Create (or upgrade) the database and register the configured accounts.

    \b
    Examples:
      monitor init --example           # writes ./monitor.toml to start from
      monitor --config monitor.toml init
    """
    if example is not None:
        _write_example(Path(example))
        return
    cfg = _config(ctx)
    with _store(cfg) as store:
        store.ensure_accounts(a for p in cfg.pairs for a in p.accounts)
        click.echo(f"Database ready at {_safe_url(cfg.database_url())} with "
                   f"{len(store.accounts())} accounts.")


@cli.command()
@click.option("--from-archive", "archive", type=click.Path(exists=True),
              help="An X archive export: the .zip, its folder, or data/tweets.js.")
@click.option("--account", help="Username the archive belongs to, when it does not say.")
@click.option("--from-jsonl", "jsonl", type=click.Path(exists=True, dir_okay=False),
              help="A JSONL file, one post per line (see README).")
@click.option("--pair", "pair_name", help="Only this pair's accounts (X API ingestion).")
@click.pass_context
def ingest(ctx: click.Context, archive: str | None, account: str | None, jsonl: str | None,
           pair_name: str | None) -> None:
    """Import posts from an archive or JSONL file, or collect them from the X API.

    \b
    Examples:
      monitor ingest --from-archive twitter-2026.zip --account claire_ml
      monitor ingest --from-jsonl posts.jsonl
      monitor ingest                 # every configured account, from the X API
    """
    from monitor.app.imports import import_file

    if archive and jsonl:
        raise UsageError("use --from-archive or --from-jsonl, not both")
    cfg = _config(ctx, required=not (archive or jsonl))
    with _store(cfg) as store:
        if archive or jsonl:
            done = import_file(store, cfg, archive=archive, account=account, jsonl=jsonl)
            result = done.result
            click.echo(f"Imported {done.source}: {result.inserted} new, {result.updated} "
                       f"updated, {result.unchanged} unchanged "
                       f"({done.stored_after - done.stored_before:+d} posts, "
                       f"{done.stored_after} in the store).")
            _warn_unpaired(cfg, done.unpaired, from_archive=bool(archive))
            return
        _ingest_x(cfg, store, pair_name)


def _warn_unpaired(cfg: MonitorConfig, unpaired: tuple[str, ...], *,
                   from_archive: bool) -> None:
    """Posts of an account no pair names are stored but never analysed: say so (a typo in
    --account, or a pair not configured yet)."""
    if not unpaired:
        return
    names = ", ".join(f"@{a}" for a in unpaired[:10]) + (" ..." if len(unpaired) > 10 else "")
    where = cfg.source or "the configuration (none was found)"
    hint = " Check --account, or add" if from_archive else " Add"
    click.secho(f"Warning: {names} {'is' if len(unpaired) == 1 else 'are'} in no [[pairs]] "
                f"table of {where}: the posts are stored, but no pair analyses them."
                f"{hint} the account to a pair's executive or corporate list.",
                fg="yellow", err=True)


def _ingest_x(cfg: MonitorConfig, store: Store, pair_name: str | None) -> None:
    from monitor.ingest.collector import run_collection

    pairs = [cfg.pair(pair_name)] if pair_name else cfg.pairs
    run_collection(cfg, store, pairs, echo=click.echo)


@cli.command()
@click.option("--pair", "pair_name", help="Only this pair (default: all pairs).")
@click.option("--recalibrate", is_flag=True, help="Recompute the calibrated thresholds.")
@click.pass_context
def analyse(ctx: click.Context, pair_name: str | None, recalibrate: bool) -> None:
    """Embed new posts and classify the executive posts of each pair.

    Example: monitor analyse --pair maison-lumiere
    """
    from monitor.app.analyse import analyse_with_model

    cfg = _config(ctx)
    pairs = [cfg.pair(pair_name)] if pair_name else cfg.pairs
    if not pairs:
        raise UsageError("no [[pairs]] in the configuration: add one (see "
                         "config/monitor.example.toml)")

    encoders = _encoders(cfg)
    with _store(cfg) as store:
        for pair in pairs:
            with _progress(f"Embedding posts of {pair.name}") as progress:
                run = analyse_with_model(store, cfg, pair, encoders, recalibrate=recalibrate,
                                         progress=progress)
            click.echo(f"{pair.name}: model {run.model_id} ({run.choice.why}); embedded "
                       f"{run.embedded} new posts.")
            result = run.analysis
            t = result.thresholds
            click.echo(f"{pair.name}: analysed {result.analysed} of {result.total} executive "
                       f"posts (thresholds {t.details['overlap']}).")


@cli.command()
@click.option("--pair", "pair_name", help="The pair to report on (default: the only pair).")
@click.option("--since", default="30d", show_default=True,
              help="Period start: a duration back from now (30d, 12w) or a date.")
@click.option("--until", "until_text", help="Period end (a date); default now.")
@click.option("--format", "fmt", type=click.Choice(["html", "md", "json", "csv"]),
              default="html", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False),
              help="Write to this file (default: standard output).")
@click.pass_context
def report(ctx: click.Context, pair_name: str | None, since: str, until_text: str | None,
           fmt: str, output: str | None) -> None:
    """Write a report of a pair's voice over a period, from stored analysis.

    Example: monitor report --pair maison-lumiere --since 30d --format html -o report.html
    """
    one_blas_thread()
    from monitor.app.reports import pair_view
    from monitor.i18n import Lang
    from monitor.report.render import render
    from monitor.timeparse import SINCE, UNTIL, local, parse_moment

    cfg = _config(ctx)
    zone = Lang.of("en", cfg.schedule.timezone)
    now = datetime.now(UTC)
    start = parse_moment(since, now, what="--since",
                         syntax=local(SINCE, zone.tz, zone.zone_name))
    end = (parse_moment(until_text, now, what="--until",
                        syntax=local(UNTIL, zone.tz, zone.zone_name)) if until_text else None)
    if end is not None and start >= end:
        raise UsageError(f"--since {since!r} ({zone.when(start)}) is not before --until "
                         f"{until_text!r} ({zone.when(end)}, {zone.zone_name}): the period "
                         "would be empty. Give a start before the end.")
    pair = cfg.pair_or_only(pair_name)
    with _status(f"Building the {fmt} report of {pair.name}"), _store(cfg) as store:
        view = pair_view(store, cfg, pair, since=start, until=end, now=now,
                         with_silences=False)
        rep = view.report
        text = render(rep, fmt, alerts=view.history.periods,
                      lang=Lang.of(cfg.language_for(pair), cfg.schedule.timezone))
    if output:
        Path(output).write_text(text, encoding="utf-8")
        click.echo(f"Wrote {output} ({rep.totals.posts} executive posts, overlap rate "
                   f"{_pct(rep.totals.overlap_rate)}).")
    else:
        click.echo(text, nl=False)


def _write_example(path: Path) -> None:
    """The example configuration shipped in the package, written where the user wants it."""
    from importlib import resources

    if path.exists():
        raise UsageError(f"{path} already exists: choose another path (monitor init --example "
                         "other.toml) or remove it first")
    example = resources.files("monitor") / "examples" / "monitor.example.toml"
    try:
        path.write_text(example.read_text(encoding="utf-8"), encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
    click.echo(f"Wrote {path}: set your pairs' accounts and [email], then run "
               f"`monitor --config {path} init`.")


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0%}"


@cli.command()
@click.argument("draft")
@click.option("--pair", "pair_name", help="The pair whose corporate posts to compare with.")
@click.option("--at", "at_text", help="Check as if posted at this date/time (default: now).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def check(ctx: click.Context, draft: str, pair_name: str | None, at_text: str | None,
          as_json: bool) -> None:
    """Check a draft before publishing: would it echo the brand's recent posts?

    Example: monitor check "Fière de notre nouvelle lampe" --pair maison-lumiere
    """
    # One draft gains nothing from BLAS threads, and idle OpenBLAS threads spin: they would
    # take the core the model loads on.
    one_blas_thread()
    # The model starts loading at once, in a child process that reads the configuration
    # itself, while this one reads it, opens the store and finds the closest posts.
    child = _model_child(ctx, pair_name)
    from monitor.bidi import json_escape, neutralise
    from monitor.cli_check import ask_running
    from monitor.config_files import address_file, find_config_path

    try:
        # A running `monitor run` or `monitor serve` has its model loaded and its
        # configuration read: it answers at once, naming the pair and reading --at itself.
        path = find_config_path(ctx.obj.get("config_path"))
        answer = ask_running(address_file(str(path)) if path else None, pair_name, draft,
                             at_text)
        if answer is not None and "error" in answer:
            raise UsageError(str(answer["error"])) if answer.get("exit_code") == 2 else \
                MonitorError(str(answer["error"]))
        if answer is None:
            cfg = _config(ctx)
            pair = cfg.pair_or_only(pair_name)
            at = cfg.draft_moment(at_text, datetime.now(UTC))
            answer = _check_here(cfg, pair, draft, at, _encoders(cfg, child=child))
    finally:
        if child is not None:
            child.close()
    if as_json:
        click.echo(json_escape(json.dumps(answer, ensure_ascii=False)))
        return
    colour = {"off-limits": "red", "echo": "yellow", "overlap": "yellow", "recycled": "yellow",
              "off-line": "magenta"}.get(str(answer["class"]), "green")
    click.secho(f"{str(answer['class']).upper()}: {neutralise(str(answer['reason']))}",
                fg=colour, bold=True)
    closest = list(answer["closest"])
    if closest:
        click.echo(f"Closest corporate posts within ±{answer['lag_days']:g} days "
                   f"(overlap at {answer['threshold']:.2f}):")
        for post in closest:
            click.echo(f"  {post['similarity']:5.2f}  @{post['account']} "
                       f"{post['created_at'][:10]}: {neutralise(post['text'][:140])}")
    else:
        click.echo("No corporate post within the lag window.")


def _model_child(ctx: click.Context, pair_name: str | None) -> Any:
    """A child process loading the model a cold check of this pair will need, or None (a
    process answers checks already, fork is unsafe here, or the configuration is wrong: the
    parent then says so itself)."""
    from monitor.embed.forked import ModelChild, can_fork

    if not can_fork():
        return None

    def resolve() -> Any:
        from monitor.cli_check import is_running
        from monitor.config_files import DEFAULT_MODEL_NAME, address_file, peek_model
        from monitor.embed import make_encoder

        # A named model needs only the file's [model] table: the load starts at once.
        peek = peek_model(ctx.obj.get("config_path"))
        if peek is not None and peek[0].lower() != DEFAULT_MODEL_NAME:
            name, batch, path = peek
            if is_running(address_file(str(path))):
                return None
            return make_encoder(name, batch_size=batch, threads=1)
        cfg = _config(ctx)
        if is_running(address_file(cfg.source)):
            return None
        name = cfg.model.name.strip()
        if name.lower() == "auto":  # the pair's languages decide: the store knows them
            from monitor.app.models_choice import choose_model
            from monitor.store import Store

            # Read only: upgrading the schema, if it must be, is the parent's job.
            store = Store.open(cfg.database_url(), upgrade=False)
            try:
                name = choose_model(store, cfg, cfg.pair_or_only(pair_name)).name
            finally:
                store.close()
        return make_encoder(name, batch_size=cfg.model.batch_size, threads=1)

    return ModelChild(resolve)


def _check_here(cfg: MonitorConfig, pair: PairConfig, draft: str, at: datetime | None,
                encoders: Any) -> dict[str, Any]:
    """A cold check: this process imports the store, reads it and finds the closest posts."""
    from monitor.app.analyse import check_draft, check_payload

    with _store(cfg) as store:
        return check_payload(check_draft(store, cfg, pair, encoders, draft, now=at))


def _safe_url(url: str) -> str:
    from monitor.store.engine import display_url

    return display_url(url)


@cli.command()
@click.option("-o", "--output", default="monitor-demo", show_default=True,
              type=click.Path(file_okay=False), help="Folder for the demo's files.")
@click.pass_context
def demo(ctx: click.Context, output: str) -> None:
    """Run the whole pipeline on the bundled sample and write an HTML report.

    Example: monitor demo --output monitor-demo
    """
    from monitor.demo import run_demo

    with _progress("Embedding the sample") as progress:
        result = run_demo(Path(output), progress=progress, echo=click.echo)
    click.echo("")
    click.secho(f"Report: {result.html.resolve()}", fg="green", bold=True)
    click.echo(f"Also:   {result.markdown.resolve()}")
    cfg = result.config.resolve()
    prog = _how_to_call()
    click.echo("\nNext, try:")
    click.echo(f"  {prog} --config {cfg} status")
    click.echo(f"  {prog} --config {cfg} check --at 2026-09-30 "
               "\"Notre Lanterne Nomade arrive: 40 h d'autonomie, laiton recyclé\"")
    click.echo(f"  {prog} --config {cfg} report --since 2026-09-01 --format md")


def _how_to_call() -> str:
    """`monitor` when that is on PATH, else the path it was run by (e.g. .venv/bin/monitor)."""
    import shutil

    argv0 = Path(sys.argv[0])
    if argv0.name != "monitor" or (shutil.which("monitor") and Path(
            shutil.which("monitor") or "").resolve() == argv0.resolve()):
        return "monitor"
    try:
        return str(argv0.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(argv0.resolve())


def _register_commands() -> None:
    """Commands that live in their own modules (service, web): registered, not imported lazily,
    so `monitor --help` lists them; those modules import their heavy parts inside commands."""
    from monitor.cli_service import register as register_service
    from monitor.cli_status import register as register_status
    from monitor.cli_web import register as register_web

    register_service(cli)
    register_status(cli)
    register_web(cli)


_register_commands()


def main() -> None:
    import gc

    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    # Importing SQLAlchemy, pydantic and numpy and reading a year of findings allocate a few
    # million objects and almost no garbage: with the default threshold (700) the collector
    # ran some thousand times for nothing, a tenth of a year's report. Cycles are still
    # collected, every 100,000 allocations.
    gc.set_threshold(100_000, 50, 100)
    try:
        cli(prog_name="monitor")
    finally:
        # On the way out CPython runs one last full collection over every object still
        # alive: after a year's report, 0.15 s (an eighth of the command) to find no cycle
        # worth freeing before the process ends anyway. Frozen objects are left out of it;
        # everything else about exiting (atexit, threads, flushing) is unchanged.
        gc.freeze()
