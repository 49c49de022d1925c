#!/usr/bin/env python3
"""Fuzz what a user types or a file brings: the JSONL and X archive readers, the configuration
loader and the duration/moment parser.

    scripts/fuzz.py [--count 10000] [--seed 11] [--keep DIR]

Every input is a valid one mutated the way hostile or careless users and broken exports do:
fields replaced by huge numbers, deep nesting, lone surrogates, NUL, bidirectional controls,
wrong types, impossible dates, odd ids, huge language tags; bytes truncated, flipped, inserted
(invalid UTF-8); keys misspelt; settings set to inf, nan or a thousand digits. The property:
every input either imports (or parses) or raises a `MonitorError` that names where (the file,
the line, the option), and after a refused import the store is exactly as before. Anything else
is an escaped error. Prints one JSON object: inputs, accepted and refused per target, refusals
by error type, escaped errors (must be 0) with a few examples. Exit code 1 if any escaped.
`tests/test_fuzz.py` runs a short seeded version in the suite.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import time
import traceback
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from fuzz_inputs import (  # noqa: E402
    NOW,
    archive_input,
    config_input,
    jsonl_input,
    moment_text,
)

from monitor import timeparse  # noqa: E402
from monitor.config import load_config  # noqa: E402
from monitor.embed.encoder import check_model_name  # noqa: E402
from monitor.errors import ImportFormatError, MonitorError  # noqa: E402
from monitor.pipeline import import_archive, import_jsonl  # noqa: E402
from monitor.store import Store  # noqa: E402

# -- the runner ---------------------------------------------------------------------------------

@dataclass
class Counts:
    inputs: int = 0
    accepted: Counter[str] = field(default_factory=Counter)
    refused: Counter[str] = field(default_factory=Counter)
    refused_by_error: Counter[str] = field(default_factory=Counter)
    escaped: int = 0
    examples: list[dict[str, str]] = field(default_factory=list)
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {"inputs": self.inputs, "accepted": dict(self.accepted),
                "refused": dict(self.refused), "refused_by_error": dict(self.refused_by_error),
                "escaped": self.escaped, "escaped_examples": self.examples[:10],
                "seconds": round(self.seconds, 1)}


class Escaped(Exception):
    """The property failed for one input (wrong error, or no 'where', or a changed store)."""


def fingerprint(store: Store) -> tuple[Any, ...]:
    from sqlalchemy import text

    with store.engine.connect() as conn:
        return tuple(conn.execute(text(
            "SELECT count(*), coalesce(max(id), 0), coalesce(sum(length(text)), 0), "
            "coalesce(sum(length(coalesce(lang, ''))), 0), coalesce(sum(instr("
            "'0123456789abcdef', substr(text_hash, 1, 1))), 0), "
            "coalesce(sum(length(urls)), 0) FROM posts")).one())


def _refusal(exc: MonitorError, where: str) -> None:
    if where not in str(exc):
        raise Escaped(f"{type(exc).__name__} does not name {where!r}: {str(exc)[:200]}")


def check_import(store: Store, run: Callable[[], Any], where: str) -> str:
    before = fingerprint(store)
    try:
        run()
    except MonitorError as exc:
        if fingerprint(store) != before:
            raise Escaped(f"the store changed although the import was refused: {exc}") from exc
        if isinstance(exc, ImportFormatError) and not exc.position:
            raise Escaped(f"no position in {exc}") from exc
        _refusal(exc, "--account" if "--account" in str(exc) else where)
        return type(exc).__name__
    return ""


def check_config(path: Path) -> str:
    saved = dict(os.environ)
    try:
        cfg = load_config(path)
        cfg.database_url()
        cfg.x_api_base_url()
        check_model_name(cfg.model.name)
    except MonitorError as exc:
        if str(path) not in str(exc) and str(path.parent / ".env") not in str(exc) and \
                "[model] name" not in str(exc):
            raise Escaped(f"{type(exc).__name__} does not name the file: {str(exc)[:200]}") \
                from exc
        return type(exc).__name__
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return ""


def check_moment(rng: random.Random) -> str:
    text = moment_text(rng)
    paris = timeparse.future(ZoneInfo("Europe/Paris"), "Europe/Paris")
    target = rng.randrange(3)
    what = ["--window", "--since", "--date"][target]
    try:
        if target == 0:
            value = timeparse.parse_duration(text, what=what)
            assert value <= timedelta(days=36_500)
        elif target == 1:
            syntax = rng.choice([timeparse.SINCE, timeparse.UNTIL, timeparse.AT, paris])
            moment = timeparse.parse_moment(text, NOW, what=what, syntax=syntax)
            assert 1899 <= moment.astimezone(UTC).year <= 3000
            moment + timedelta(days=3650)  # what reports and checks add: must not overflow
            moment - timedelta(days=3650)
        else:
            timeparse.parse_day(text, what=what)
    except MonitorError as exc:
        _refusal(exc, what)
        return type(exc).__name__
    return ""


def run(count: int, seed: int, folder: Path) -> Counts:
    rng = random.Random(seed)
    counts = Counts()
    started = time.monotonic()
    store = Store.open(f"sqlite:///{folder / 'fuzz-store.db'}")
    work = folder / "inputs"
    try:
        for case in range(count):
            if case % 250 == 0:  # keep the folder small
                shutil.rmtree(work, ignore_errors=True)
                work.mkdir()
            target = ["jsonl", "archive", "config", "moment"][case % 4]
            counts.inputs += 1
            try:
                if target == "jsonl":
                    path = jsonl_input(rng, work, case)
                    refused = check_import(store, lambda p=path: import_jsonl(store, p, now=NOW),
                                           str(path))
                elif target == "archive":
                    apath, account = archive_input(rng, work, case)
                    refused = check_import(store, lambda p=apath, a=account: import_archive(
                        store, p, a, now=NOW), str(apath))
                elif target == "config":
                    refused = check_config(config_input(rng, work, case))
                else:
                    refused = check_moment(rng)
                if refused:
                    counts.refused[target] += 1
                    counts.refused_by_error[refused] += 1
                else:
                    counts.accepted[target] += 1
            except Exception as exc:  # Escaped, or anything that is not a MonitorError
                counts.escaped += 1
                counts.examples.append({"case": str(case), "target": target,
                                        "error": f"{type(exc).__name__}: {str(exc)[:300]}",
                                        "where": traceback.format_exc().splitlines()[-3][:200]})
        store.posts()  # what was accepted also loads back
    finally:
        store.close()
    counts.seconds = time.monotonic() - started
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--keep", type=Path, help="keep the inputs and the store here")
    args = parser.parse_args(argv)
    folder = args.keep or Path(tempfile.mkdtemp(prefix="monitor-fuzz-"))
    folder.mkdir(parents=True, exist_ok=True)
    try:
        counts = run(args.count, args.seed, folder)
    finally:
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)
    print(json.dumps(counts.as_dict(), ensure_ascii=False))
    return 1 if counts.escaped else 0


if __name__ == "__main__":
    sys.exit(main())
