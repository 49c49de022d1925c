"""What every command module shares: loading the configuration, opening the store, showing
progress. Kept apart from cli.py so the command modules (cli_service, cli_web) import it
without importing each other."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from monitor.config import MonitorConfig
    from monitor.store import Store


def one_blas_thread() -> None:
    """Before numpy is imported: its BLAS on one thread. A draft check or a report multiplies
    small matrices, where OpenBLAS's pool only costs its start (0.1-0.2 s of a numpy import on
    a 2-core machine) and idle threads that spin on the core the work needs. Commands that
    encode or analyse in bulk keep every core."""
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


def config_from(ctx: click.Context, *, required: bool = True) -> MonitorConfig:
    """The configuration named by the group's --config (or $MONITOR_CONFIG, ./monitor.toml)."""
    from monitor.config import load_config

    return load_config(ctx.obj.get("config_path"), required=required)


@contextmanager
def open_store(cfg: MonitorConfig) -> Iterator[Store]:
    """The configured store, upgraded to the current schema, closed on exit."""
    from monitor.store import Store

    store = Store.open(cfg.database_url())
    try:
        yield store
    finally:
        store.close()


@contextmanager
def progress(label: str, enabled: bool = True) -> Iterator[Callable[[int, int], None]]:
    """A rich progress bar on a terminal; silent otherwise (logs, CI, pipes)."""
    if not enabled or not sys.stderr.isatty():
        yield lambda done, total: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    with Progress("[progress.description]{task.description}", BarColumn(),
                  MofNCompleteColumn(), TimeRemainingColumn(), transient=True) as bar:
        task = bar.add_task(label, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


@contextmanager
def status(label: str) -> Iterator[None]:
    """A spinner on a terminal while a step without countable progress runs."""
    if not sys.stderr.isatty():
        yield
        return
    from rich.console import Console

    with Console(stderr=True).status(label):
        yield
