"""X API collection through the real emulator (loopback HTTP), tweepy and a SQLite file."""

from __future__ import annotations

import json
import logging
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from pydantic import SecretStr

from monitor.cli import cli
from monitor.config import MonitorConfig, load_config
from monitor.errors import AuthError, CollectionFailed, ConfigError
from monitor.ingest.budget import budget_status
from monitor.ingest.x_api import TimelinePage, UserLookup, XSource
from monitor.models import PostClass, PostKind
from monitor.store import Store
from tests.harness import ROOT, SAMPLE
from tests.harness.x import (
    HOUR,
    TOKEN,
    Sleeps,
    backfill_fixture,
    collect,
    config,
    write_config,
)
from tests.x_emulator import XEmulator

# conftest.py's autouse guard fails any test that reaches beyond loopback; its `emu` fixture is
# the X API emulator on loopback.


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """A SQLite file beside the configuration write_config() writes (the CLI shares it)."""
    with Store.open("sqlite:///" + str(tmp_path / "m.db")) as s:
        yield s


def timeline_requests(emu: XEmulator, account: str) -> list[dict[str, Any]]:
    return [r for r in emu.requests if r["path"].endswith("/tweets") and r["account"] == account]


class FaultAfterPages:
    """The real source; once `pages` timeline pages came back, `then()` adds an emulator fault,
    so the fault strikes in the middle of a multi-page run."""

    def __init__(self, inner: XSource, pages: int, then: Callable[[], None]) -> None:
        self.inner, self.pages, self.then, self.seen = inner, pages, then, 0

    def lookup_usernames(self, usernames: Sequence[str]) -> UserLookup:
        return self.inner.lookup_usernames(usernames)

    def timeline_page(self, user_id: str, **kwargs: Any) -> TimelinePage:
        page = self.inner.timeline_page(user_id, **kwargs)
        self.seen += 1
        if self.seen == self.pages:
            self.then()
        return page

    def close(self) -> None:
        self.inner.close()


def source_for(cfg: MonitorConfig, emu: XEmulator, sleep: Callable[[float], None]) -> XSource:
    return XSource(SecretStr(TOKEN), base_url=emu.base_url, timeout_s=cfg.x.timeout_s,
                   max_rate_limit_wait_s=cfg.x.max_rate_limit_wait_s,
                   max_retries=cfg.x.max_retries, sleep=sleep)


def stored_ids(store: Store, account: str) -> list[str]:
    return [sp.post.post_id for sp in store.posts([account])]


# -- backfill and incremental runs -----------------------------------------------------------

def test_backfill_three_pages_then_incremental_reads_only_new(
        emu: XEmulator, store: Store, tmp_path: Path) -> None:
    now = datetime.now(UTC)
    emu.add_posts("claire", 5, start=now - timedelta(days=45))  # beyond backfill_days = 30
    ids = backfill_fixture(emu)
    cfg = config(tmp_path)
    lines: list[str] = []
    report = collect(cfg, store, lines=lines)
    assert sorted(stored_ids(store, "claire"), key=int) == ids  # exactly the 250, once each
    assert emu.served_posts == {"claire": 250, "maison": 2}
    assert len(timeline_requests(emu, "claire")) == 3
    assert "@claire: 250 new posts, 0 updated, 3 pages, 250 reads" in lines
    assert report.reads == 252 and not report.failed
    state = store.account_state("claire")
    assert state.since_id == ids[-1] and not state.run_in_progress

    emu.reset_counters()
    new = emu.add_posts("claire", 7, start=now + HOUR, step=HOUR)
    collect(cfg, store)
    assert emu.served_posts == {"claire": 7}  # only the new ones were read (and billed)
    [req] = timeline_requests(emu, "claire")
    assert req["params"]["since_id"] == ids[-1] and "start_time" not in req["params"]
    assert store.count_posts("claire") == 257
    assert store.account_state("claire").since_id == new[-1]


def test_budget_figures_and_read_cap(emu: XEmulator, store: Store, tmp_path: Path) -> None:
    day = datetime(2026, 11, 10, 12, tzinfo=UTC)
    emu.add_posts("claire", 250, start=day - timedelta(days=12), step=HOUR)
    emu.add_posts("maison", 7, start=day - timedelta(days=2))
    lines: list[str] = []
    collect(config(tmp_path, monthly_read_cap=150), store, lines=lines, clock=day.timestamp)
    assert store.count_posts() == 150 and emu.served_posts == {"claire": 150}
    warnings = [line for line in lines if line.startswith("Warning:")]
    assert len(warnings) == 1 and "monthly_read_cap" in warnings[0]
    assert "@maison: paused" in lines[-1]
    capped = budget_status(config(tmp_path, monthly_read_cap=150), store, now=day)
    assert capped.paused is True and capped.cap_remaining == 0

    emu.reset_counters()
    cfg = config(tmp_path, monthly_read_cap=10_000, price_per_read=0.005)
    collect(cfg, store, clock=day.timestamp)  # the cap raised: resumes where it paused
    assert emu.served_posts == {"claire": 100, "maison": 7}
    assert store.count_posts() == 257
    budget = budget_status(cfg, store, now=day)
    assert budget.month == "2026-11"
    assert budget.reads_by_account == {"claire": 250, "maison": 7}
    assert budget.reads == 257
    assert budget.projected_reads == 771  # 257 reads in 10 of 30 days
    assert budget.estimated_cost == pytest.approx(1.285)
    assert budget.projected_cost == pytest.approx(3.855)
    assert budget.monthly_read_cap == 10_000 and budget.paused is False
    assert budget_status(cfg, store, now=day + timedelta(days=30)).reads == 0  # December


# -- faults ------------------------------------------------------------------------------------

def test_429_within_bound_waits_for_reset_then_succeeds(
        emu: XEmulator, store: Store, tmp_path: Path) -> None:
    backfill_fixture(emu, 30)
    emu.add_fault("429", account="claire", reset_in=1)
    sleeps = Sleeps()
    collect(config(tmp_path, max_rate_limit_wait_s=5), store, sleep=sleeps)
    assert len(sleeps) == 1 and 0 < sleeps[0] <= 3.01  # until the reset + 1 s
    assert [r["status"] for r in timeline_requests(emu, "claire")] == [429, 200]
    assert store.count_posts("claire") == 30


def test_429_beyond_bound_stops_account_and_next_run_resumes_without_gap(
        emu: XEmulator, store: Store, tmp_path: Path) -> None:
    ids = backfill_fixture(emu)
    cfg = config(tmp_path, max_rate_limit_wait_s=5)
    sleeps = Sleeps()
    source = FaultAfterPages(source_for(cfg, emu, sleeps), 1,
                             lambda: emu.add_fault("429", account="claire", reset_in=120))
    lines: list[str] = []
    report = collect(cfg, store, lines=lines, source=source)  # no exception: a clean stop
    assert sleeps == [] and store.count_posts("claire") == 100
    assert report.accounts[0].outcome == "deferred" and "rate limit" in lines[0]
    # X's limits are per app: the other account is deferred too, without a wasted request.
    assert report.accounts[1].outcome == "deferred"
    assert timeline_requests(emu, "maison") == [] and store.count_posts("maison") == 0
    state = store.account_state("claire")
    assert state.run_in_progress and state.since_id is None and "rate limit" in (
        state.last_error or "")

    emu.reset_counters()
    newer = emu.add_posts("claire", 3, start=datetime.now(UTC) + HOUR)
    collect(cfg, store)
    first = timeline_requests(emu, "claire")[0]["params"]
    assert first["until_id"] == ids[150]  # below the oldest stored post, nothing re-read
    assert emu.served_posts == {"claire": 153, "maison": 2}
    assert store.count_posts("maison") == 2
    assert sorted(stored_ids(store, "claire"), key=int) == ids + newer
    state = store.account_state("claire")
    assert state.since_id == newer[-1] and not state.run_in_progress and state.last_error is None


def test_app_rate_limit_is_shared_across_accounts(
        emu: XEmulator, store: Store, tmp_path: Path) -> None:
    """The app's window runs out on one account: the others wait for the reset (within the
    bound) instead of each spending a request to hear a 429."""
    backfill_fixture(emu, 30)
    emu.rate_limit = 1  # one timeline request per window for the whole app
    sleeps = Sleeps()
    report = collect(config(tmp_path, max_rate_limit_wait_s=0), store, sleep=sleeps)
    outcomes = [a.outcome for a in report.accounts]
    assert outcomes.count("deferred") == len(outcomes) - 1 and sleeps == []
    statuses = [r["status"] for r in emu.requests if r["path"].endswith("/tweets")]
    assert statuses == [200]  # no request was spent on a known-exhausted window


@pytest.mark.parametrize("code", ["500", "503"])
def test_server_errors_retried_with_backoff_then_given_up(
        emu: XEmulator, store: Store, tmp_path: Path, code: str) -> None:
    backfill_fixture(emu, 20)
    cfg = config(tmp_path, max_retries=2)
    emu.add_fault(code, account="claire", times=2)
    sleeps = Sleeps()
    collect(cfg, store, sleep=sleeps)
    assert sleeps == [1.0, 2.0]  # exponential backoff
    assert store.count_posts("claire") == 20

    emu.reset_counters()
    emu.add_posts("claire", 4, start=datetime.now(UTC) + HOUR)
    emu.add_fault(code, account="claire", times=3)  # one more than max_retries allows
    with pytest.raises(CollectionFailed) as failed:
        collect(cfg, store, sleep=Sleeps())
    message = str(failed.value)
    assert "@claire" in message and f"HTTP {code}" in message and "max_retries" in message
    assert [r["status"] for r in timeline_requests(emu, "claire")] == [int(code)] * 3
    assert f"HTTP {code}" in (store.account_state("claire").last_error or "")
    assert store.count_posts("claire") == 20  # the since_id did not move
    collect(cfg, store)
    assert store.count_posts("claire") == 24


def test_slow_response_times_out_and_is_retried(
        emu: XEmulator, store: Store, tmp_path: Path) -> None:
    backfill_fixture(emu, 10)
    cfg = config(tmp_path, timeout_s=0.3, max_retries=2)
    emu.add_fault("slow", account="claire", delay=1.0)
    sleeps = Sleeps()
    collect(cfg, store, sleep=sleeps)
    assert sleeps == [1.0] and store.count_posts("claire") == 10

    emu.add_posts("claire", 2, start=datetime.now(UTC) + HOUR)
    emu.add_fault("slow", account="claire", delay=1.0, times=3)
    started = time.monotonic()
    with pytest.raises(CollectionFailed) as failed:
        collect(cfg, store)
    assert time.monotonic() - started < 3  # three 0.3 s timeouts, not three 1 s waits
    assert "timeout_s (0.3 s)" in str(failed.value)
    assert store.count_posts("claire") == 10


def test_malformed_page_stores_nothing_from_it_and_next_run_completes(
        emu: XEmulator, store: Store, tmp_path: Path) -> None:
    ids = backfill_fixture(emu)
    cfg = config(tmp_path)
    source = FaultAfterPages(source_for(cfg, emu, Sleeps()), 1,
                             lambda: emu.add_fault("malformed", account="claire"))
    with pytest.raises(CollectionFailed) as failed:
        collect(cfg, store, source=source)
    assert "@claire" in str(failed.value) and "not valid JSON" in str(failed.value)
    assert store.count_posts("claire") == 100  # page 1 only; nothing from the broken page
    assert store.count_posts("maison") == 2
    emu.reset_counters()
    collect(cfg, store)
    assert sorted(stored_ids(store, "claire"), key=int) == ids
    assert emu.served_posts == {"claire": 150}


def test_page_with_missing_keys_is_a_clear_error(
        emu: XEmulator, store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    backfill_fixture(emu, 10)
    real = emu._render_post

    def without_created_at(post: Any, fields: set[str]) -> dict[str, Any]:
        rendered = real(post, fields)
        rendered.pop("created_at", None)
        return rendered

    monkeypatch.setattr(emu, "_render_post", without_created_at)
    with pytest.raises(CollectionFailed) as failed:
        collect(config(tmp_path), store)
    assert "malformed timeline page for @claire" in str(failed.value)
    assert "created_at" in str(failed.value) and store.count_posts() == 0


def test_401_stops_the_run_with_one_clear_message(
        emu: XEmulator, store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    backfill_fixture(emu, 10)
    monkeypatch.setenv("X_BEARER_TOKEN", "tok-wrong-0000")
    cfg = config(tmp_path)  # secrets are read with the configuration
    with pytest.raises(AuthError) as refused:
        collect(cfg, store)
    assert "X_BEARER_TOKEN" in str(refused.value) and "401" in str(refused.value)
    assert "tok-wrong-0000" not in str(refused.value)
    assert len(emu.requests) == 1  # no retry storm

    monkeypatch.setenv("X_BEARER_TOKEN", TOKEN)
    cfg = config(tmp_path)
    emu.reset_counters()
    emu.add_fault("401", account="claire")  # revoked mid-run: the other account is not tried
    with pytest.raises(AuthError):
        collect(cfg, store)
    assert [r["status"] for r in emu.requests] == [200, 401]

    emu.add_fault("401", account="claire")
    result = CliRunner().invoke(cli, ["--config", str(tmp_path / "monitor.toml"), "ingest"])
    assert result.exit_code == 1 and result.output.count("X_BEARER_TOKEN") == 1  # said once

    monkeypatch.delenv("X_BEARER_TOKEN")
    with pytest.raises(ConfigError, match="X_BEARER_TOKEN is not set"):
        collect(config(tmp_path), store)


def test_suspended_and_deleted_accounts_are_recorded_and_others_collected(
        emu: XEmulator, store: Store, tmp_path: Path) -> None:
    backfill_fixture(emu, 10)
    for name in ("sus", "gone", "banned"):
        emu.add_posts(name, 3, start=datetime.now(UTC) - 5 * HOUR)
    path = write_config(tmp_path, corporate=["maison", "sus", "gone", "banned", "ghost"])
    cfg = load_config(path)
    emu.set_status("banned", "suspended")  # before its id was ever resolved
    collect(cfg, store)
    emu.set_status("sus", "suspended")  # after: the timeline answers 403
    emu.set_status("gone", "deleted")  # ... and 404
    emu.add_posts("claire", 2, start=datetime.now(UTC) + HOUR)
    lines: list[str] = []
    report = collect(cfg, store, lines=lines)  # skipped accounts are no failure
    assert store.count_posts("claire") == 12
    outcomes = {a.username: a.outcome for a in report.accounts}
    assert outcomes == {"claire": "ok", "maison": "ok", "sus": "skipped", "gone": "skipped",
                        "banned": "skipped", "ghost": "skipped"}
    assert any(line.startswith("@sus: skipped") and "suspended" in line for line in lines)
    result = CliRunner().invoke(cli, ["--config", str(path), "status", "--json"])
    assert result.exit_code == 0, result.output
    status = {a["username"]: a["status"] for a in json.loads(result.output)["accounts"]}
    assert status == {"banned": "suspended", "claire": "active", "ghost": "not found",
                      "gone": "deleted", "maison": "active", "sus": "suspended"}
    emu.set_status("sus", "active")  # reinstated: collected again, status back to active
    collect(cfg, store)
    assert store.account_state("sus").status == "active"


def test_killed_ingest_resumes_with_every_post_once(emu: XEmulator, tmp_path: Path) -> None:
    ids = backfill_fixture(emu)
    path = write_config(tmp_path, timeout_s=60)
    emu.add_fault("slow", account="claire", delay=0)  # page 1 as usual...
    emu.add_fault("slow", account="claire", delay=20)  # ...page 2 hangs: time to kill it
    cmd = [sys.executable, "-m", "monitor", "--config", str(path), "ingest"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    db = tmp_path / "m.db"
    deadline = time.monotonic() + 20
    try:
        # Page 1 stored, and page 2 asked for (it hangs in the emulator): killed mid-run.
        while time.monotonic() < deadline and (
                _count(db, "SELECT count(*) FROM posts") < 100 or not emu.in_flight):
            time.sleep(0.05)
        assert _count(db, "SELECT count(*) FROM ingest_state WHERE run_until_id IS NOT NULL")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=10)
    assert proc.returncode == -signal.SIGKILL
    assert _count(db, "SELECT count(*) FROM posts") == 100

    emu.reset_counters()
    done = CliRunner().invoke(cli, cmd[3:])  # the next run, in process: `monitor ingest`
    assert done.exit_code == 0, done.output
    assert "@claire: 150 new posts" in done.stdout
    assert emu.served_posts == {"claire": 150, "maison": 2}
    with Store.open("sqlite:///" + str(db)) as store:
        assert sorted(stored_ids(store, "claire"), key=int) == ids
        assert store.count_posts() == 252  # none twice (post ids are unique in the store)


def _count(db: Path, sql: str) -> int:
    if not db.exists():
        return 0
    try:
        with closing(sqlite3.connect(db, timeout=5)) as conn:
            return int(conn.execute(sql).fetchone()[0])
    except sqlite3.OperationalError:  # the schema is not created yet
        return 0


def test_bundled_sample_served_by_the_emulator_is_collected_whole(
        emu: XEmulator, store: Store, tmp_path: Path) -> None:
    from monitor.ingest.jsonl import read_jsonl

    emu.load_jsonl(str(SAMPLE))  # what `python tests/x_emulator.py --jsonl ...` serves
    expected = {p.post_id: p for p in read_jsonl(SAMPLE)}
    cfg = config(tmp_path, backfill_days=3650, executive=["claire_ml"],
                 corporate=["MaisonLumiere", "MaisonLumiereFR"])
    collect(cfg, store)
    got = {sp.post.post_id: sp.post for sp in store.posts()}
    assert set(got) == set(expected) and len(expected) == 341
    retweets = [k for k, p in expected.items() if p.kind == PostKind.RETWEET]
    assert retweets and all(got[k].kind == PostKind.RETWEET for k in retweets)
    # X serves retweets cut at 140 characters; the whole text comes from the original post
    # (plus the original's link, which X appends to its text).
    assert any(len(expected[k].text) > 140 for k in retweets)
    assert all(got[k].text.startswith(expected[k].text) for k in retweets)


# -- what is stored ----------------------------------------------------------------------------

@pytest.mark.slow
def test_retweets_and_bare_quotes_of_corporate_posts_are_echo(
        emu: XEmulator, store: Store, tmp_path: Path, minilm: Any) -> None:
    """`minilm` (conftest.py): the real bundled model, loaded once per session."""
    from monitor.pipeline import analyse_pair

    encoder = minilm

    now = datetime.now(UTC)
    launch = emu.add_post(
        "maison", "Maison Lumière presents the Lanterne Nomade, a rechargeable lamp designed in "
        "Lyon and made to last for decades, in stores from Monday: https://maison.example/lanterne",
        created_at=now - 30 * HOUR)
    store_news = emu.add_post("maison", "Our Bordeaux store reopens after renovation with a "
                              "new lighting workshop for customers", created_at=now - 29 * HOUR)
    emu.add_post("claire", "Ten years ago I learnt to sail on the Atlantic coast with my father",
                 created_at=now - 28 * HOUR)
    rt = emu.add_post("claire", "", kind="retweet", referenced_id=launch,
                      created_at=now - 27 * HOUR)
    qt = emu.add_post("claire", "So proud of the Bordeaux team: eight months of careful "
                      "renovation work", kind="quote", referenced_id=store_news,
                      created_at=now - 26 * HOUR)
    bare = emu.add_post("claire", "👏👏", kind="quote", referenced_id=launch,
                        created_at=now - 25 * HOUR)
    cfg = config(tmp_path)
    collect(cfg, store)
    posts = store.posts_by_ids([rt, qt])
    retweet, quote = posts[rt], posts[qt]
    assert retweet.kind == PostKind.RETWEET and retweet.referenced_ids == (launch,)
    assert retweet.referenced_accounts == ("maison",)
    # X cut the retweet at 140 characters; the stored text is whole, with the link expanded.
    assert retweet.text.startswith("RT @maison: Maison Lumière presents")
    assert retweet.text.endswith("https://maison.example/lanterne")
    assert "https://maison.example/lanterne" in retweet.urls
    assert quote.kind == PostKind.QUOTE and quote.referenced_ids == (store_news,)
    assert quote.referenced_accounts == ("maison",)

    result = analyse_pair(store, cfg, cfg.pairs[0], encoder)
    assert result.total == 4
    found = {sf.post.post_id: sf.finding for sf in store.findings("lumiere", encoder.model_id)}
    assert found[rt].post_class == PostClass.ECHO and found[rt].subkind == "retweet"
    assert found[bare].post_class == PostClass.ECHO and found[bare].subkind == "quote"
    # A quote that adds the executive's own comment is her voice about the brand, not a copy.
    assert found[qt].post_class == PostClass.COMPLEMENTARY
    assert found[qt].subkind == "quote-comment" and found[qt].nearest_id == store_news
    assert len(found) == 4 and [f.post_class for f in found.values()].count(PostClass.ECHO) == 2


def test_rename_is_recorded_and_collection_continues(
        emu: XEmulator, store: Store, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    backfill_fixture(emu, 5)
    cfg = config(tmp_path)
    collect(cfg, store)
    user_id = store.account("claire").user_id  # type: ignore[union-attr]
    emu.rename_user("claire", "claire_lumiere")
    emu.add_posts("claire_lumiere", 2, start=datetime.now(UTC) + HOUR)
    emu.reset_counters()
    collect(cfg, store)  # the config still says "claire": the stored id still works
    assert emu.served_posts == {"claire_lumiere": 2}
    assert store.account("claire") is None
    renamed = store.account_state("claire_lumiere")
    assert renamed.user_id == user_id and renamed.previous_usernames == ("claire",)
    assert store.count_posts("claire_lumiere") == 7
    assert "@claire is now @claire_lumiere" in caplog.text
    collect(cfg, store)  # the old name still finds the account: no second row
    assert [a.username for a in store.accounts()] == ["claire_lumiere", "maison"]

    # Renamed again, and the config updated before any run saw it: one account, not two.
    emu.rename_user("claire_lumiere", "claire_ml")
    collect(config(tmp_path, executive=["claire_ml"]), store)
    assert [a.username for a in store.accounts()] == ["claire_ml", "maison"]
    final = store.account_state("claire_ml")
    assert final.user_id == user_id
    assert final.previous_usernames == ("claire", "claire_lumiere")
    assert store.count_posts("claire_ml") == 7


def test_edited_post_is_stored_at_its_latest_version(
        emu: XEmulator, store: Store, tmp_path: Path) -> None:
    ids = backfill_fixture(emu, 3)
    cfg = config(tmp_path)
    collect(cfg, store)
    before = {sp.post.post_id: sp.text_hash for sp in store.posts(["claire"])}
    edited = emu.edit_post(ids[-1], "Update 3 of 3 from claire: item 3, now with the right date")
    emu.reset_counters()
    collect(cfg, store)
    assert emu.served_posts == {"claire": 1}
    stored = {sp.post.post_id: sp for sp in store.posts(["claire"])}
    assert sorted(stored, key=int) == [*ids[:-1], edited]  # replaced, not added
    latest = stored[edited]
    assert latest.post.text.endswith("now with the right date")
    assert latest.post.edit_history == (ids[-1], edited)
    assert latest.text_hash != before[ids[-1]]  # a new hash: the embedder re-embeds it


def test_bearer_token_never_leaks(emu: XEmulator, tmp_path: Path,
                                  caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)  # tweepy logs request headers at DEBUG
    backfill_fixture(emu, 120)
    path = write_config(tmp_path)
    cfg = load_config(path)
    emu.add_fault("503", account="claire")
    emu.add_fault("429", account="claire", reset_in=0)
    lines: list[str] = []
    messages: list[str] = []
    with Store.open(cfg.database_url()) as store:
        collect(cfg, store, lines=lines)
        emu.add_posts("claire", 2, start=datetime.now(UTC) + HOUR)
        emu.add_fault("malformed", account="claire")
        with pytest.raises(CollectionFailed) as failed:
            collect(cfg, store, lines=lines)
        messages.append(str(failed.value))
        emu.add_fault("401", account="maison")
        with pytest.raises(AuthError) as refused:
            collect(cfg, store, lines=lines)
        messages.append(str(refused.value))
        messages += [a.last_error or "" for a in map(lambda n: store.account_state(n),
                                                      ["claire", "maison"])]
    emu.add_fault("401")
    result = CliRunner().invoke(cli, ["--config", str(path), "ingest"])
    assert result.exit_code == 1 and "X_BEARER_TOKEN" in result.output
    messages.append(result.output)
    assert "Making API request" in caplog.text  # tweepy's header log was captured...
    assert "Authorization" in caplog.text
    assert TOKEN not in caplog.text  # ...without the token
    assert not [m for m in [*messages, *lines] if TOKEN in m]
    for db_file in tmp_path.glob("m.db*"):  # the database and its WAL
        assert TOKEN.encode() not in db_file.read_bytes(), db_file.name
