"""The X collector's test helpers: a configuration for the emulator, one collection run with an
injected sleep and clock, the usual backfill. The emulator itself is tests/x_emulator.py (also
a script); the `emu` fixture that starts it is in conftest.py."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from monitor.config import MonitorConfig
    from monitor.ingest.collector import CollectionReport
    from monitor.store import Store
    from tests.x_emulator import XEmulator

TOKEN = "tok-Zq81-SECRET-bearer-3c9f0e"
HOUR = timedelta(hours=1)


class Sleeps(list[float]):
    """An injected sleep: records what the collector wanted to wait, waits nothing."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def write_config(tmp_path: Path, corporate: Sequence[str] = ("maison",),
                 executive: Sequence[str] = ("claire",), **x: float | int) -> Path:
    settings = {"max_retries": 2, "max_rate_limit_wait_s": 10, "timeout_s": 5, **x}
    path = tmp_path / "monitor.toml"
    path.write_text("\n".join([
        "[database]", f"url = {json.dumps('sqlite:///' + str(tmp_path / 'm.db'))}", "[x]",
        *(f"{k} = {v}" for k, v in settings.items()), "[[pairs]]", 'name = "lumiere"',
        f"executive = {json.dumps(list(executive))}",
        f"corporate = {json.dumps(list(corporate))}"]) + "\n", encoding="utf-8")
    return path


def config(tmp_path: Path, **kwargs: Any) -> MonitorConfig:
    from monitor.config import load_config

    return load_config(write_config(tmp_path, **kwargs))


def collect(cfg: MonitorConfig, store: Store, *, lines: list[str] | None = None,
            sleep: Callable[[float], None] | None = None, source: Any = None,
            clock: Callable[[], float] = time.time) -> CollectionReport:
    from monitor.ingest.collector import run_collection

    out = lines if lines is not None else []
    return run_collection(cfg, store, cfg.pairs, echo=out.append,
                          sleep=sleep if sleep is not None else Sleeps(),
                          source=source, clock=clock)


def backfill_fixture(emu: XEmulator, n: int = 250) -> list[str]:
    """Two corporate posts of the last hours, and `n` executive posts an hour apart."""
    now = datetime.now(UTC)
    emu.add_posts("maison", 2, start=now - 3 * HOUR)
    return emu.add_posts("claire", n, start=now - timedelta(days=12), step=HOUR)
