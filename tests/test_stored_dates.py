"""Posts stored with impossible dates (before the import check existed) no longer poison their
pair (issue 11, defect 2): analysis, reports, digests and the service tick ignore them, with one
warning, and `monitor status` counts them."""

from __future__ import annotations

import json
import logging
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from monitor import pipeline
from monitor.cli import cli
from monitor.config import load_config
from monitor.models import Post, PostKind
from monitor.report.render import render
from monitor.store import Store

NOW = datetime.now(UTC)


def config_file(tmp_path: Path, db_url: str) -> Path:
    path = tmp_path / "monitor.toml"
    path.write_text(f'[database]\nurl = {json.dumps(db_url)}\n[model]\nname = '
                    '"use-multilingual"\n[email]\nrecipients = ["comms@example.com"]\n'
                    '[[pairs]]\nname = "p"\nexecutive = ["ceo"]\ncorporate = ["brand"]\n',
                    encoding="utf-8")
    return path


def seed(store: Store) -> None:
    """A normal week of the pair, then two rows no import accepts any more, stored the way
    older versions stored them (the store itself does not judge dates)."""
    posts = []
    for i in range(6):
        at = NOW - timedelta(days=6 - i)
        posts.append(Post(f"{100 + i}", "brand", at, f"Notre atelier de Limoges ouvre {i}"))
        posts.append(Post(f"{200 + i}", "ceo", at + timedelta(hours=1),
                          f"RT @brand: Notre atelier de Limoges ouvre {i}", kind=PostKind.RETWEET,
                          referenced_accounts=("brand",)))
    posts.append(Post("900", "ceo", datetime(9999, 12, 31, tzinfo=UTC), "far future"))
    posts.append(Post("901", "brand", datetime(1, 1, 1, tzinfo=UTC), "year one"))
    store.import_posts(posts, source="jsonl")


def test_impossible_dates_are_ignored_with_one_warning(
        tmp_path: Path, db_url: str, use_encoder: Any, caplog: pytest.LogCaptureFixture) -> None:
    from monitor.app.digests import build_digests

    cfg = load_config(config_file(tmp_path, db_url))
    pair = cfg.pairs[0]
    with Store.open(cfg.database_url()) as store:
        seed(store)
        with caplog.at_level(logging.WARNING, logger="monitor.store"):
            result = pipeline.analyse_pair(store, cfg, pair, use_encoder)
            assert result.analysed == 6 and result.total == 6
            report = pipeline.build_report(store, cfg, pair, now=NOW)
            for fmt in ("html", "md", "json", "csv"):
                assert render(report, fmt)
            digests = build_digests(store, cfg, (NOW - timedelta(days=1)).date(), now=NOW)
            assert digests and digests[0].pairs[0].week.posts >= 1
            assert store.time_range(pair.accounts)[1] < NOW + timedelta(days=1)
        warnings = [r.getMessage() for r in caplog.records if "impossible dates" in
                    r.getMessage()]
        assert len(warnings) == 1 and "2 stored post(s)" in warnings[0]
        assert store.impossible_dates() == 2
        assert store.count_posts() == 14  # ignored, not deleted: that is the user's call


def test_cli_and_service_tick_survive_them(tmp_path: Path, db_url: str,
                                           use_encoder: Any) -> None:
    from monitor.app.runtime import run_pair
    from monitor.service import open_runtime

    path = config_file(tmp_path, db_url)
    cfg = load_config(path)
    with Store.open(cfg.database_url()) as store:
        seed(store)
    with open_runtime(str(path), cfg=cfg) as rt:
        rt._encoders = use_encoder
        run_pair(rt, cfg.pairs[0])  # raised OverflowError on every tick before
    runner = CliRunner()
    for args in (["report", "--format", "html", "-o", str(tmp_path / "r.html")],
                 ["report", "--format", "csv"], ["digest", "--date",
                                                 (date.today() - timedelta(days=1)).isoformat()]):
        result = runner.invoke(cli, ["--config", str(path), *args])
        assert result.exit_code == 0, (args, result.output)
    status = runner.invoke(cli, ["--config", str(path), "status", "--json"])
    assert json.loads(status.output)["posts_with_impossible_dates"] == 2
