"""Importing posts from an X archive export or a JSONL file (one transaction each)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from monitor.config import MonitorConfig
from monitor.ingest.archive import read_archive
from monitor.ingest.jsonl import read_jsonl
from monitor.store import ImportResult, Store


def import_jsonl(store: Store, path: str | Path, *, now: datetime | None = None) -> ImportResult:
    """Import a JSONL file in one transaction (all posts, or none if any line is bad); post
    dates must lie between X's launch and a day after `now` (default: the clock)."""
    posts = read_jsonl(path, now=now)
    return store.import_posts(posts, source="jsonl")


def import_archive(store: Store, path: str | Path, account: str | None, *,
                   now: datetime | None = None) -> ImportResult:
    """Import an X archive export (zip, folder or tweets.js) in one transaction."""
    contents = read_archive(path, account, now=now)
    return store.import_posts(contents.posts, source="archive")


@dataclass(frozen=True)
class Imported:
    """What one import did, for the person who ran it."""

    source: str
    result: ImportResult
    stored_before: int
    stored_after: int
    unpaired: tuple[str, ...]  # accounts of the file that no pair names: stored, not analysed


def import_file(store: Store, cfg: MonitorConfig, *, archive: str | None = None,
                account: str | None = None, jsonl: str | None = None) -> Imported:
    """Import one archive or JSONL file and say what it changed."""
    before = store.count_posts()
    if archive:
        result, source = import_archive(store, archive, account), archive
    else:
        assert jsonl is not None
        result, source = import_jsonl(store, jsonl), jsonl
    paired = {a.casefold() for p in cfg.pairs for a in p.accounts}
    unpaired = tuple(a for a in result.accounts if a.casefold() not in paired)
    return Imported(source, result, before, store.count_posts(), unpaired)
