"""What reaches people is safe to read (issue 11, defects 6, 7 and 10): CSV cells with line
breaks are quoted and only text cells are defused; bidirectional controls are shown as markers
in HTML, Markdown, CSV, the digest and the terminal (JSON keeps the text, escaped); a report of
an empty period is a clear, valid page."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, ClassVar

import pytest
from click.testing import CliRunner

from monitor import bidi, pipeline
from monitor.analysis.rates import by_period, totals
from monitor.cli import cli
from monitor.config import load_config
from monitor.models import Finding, Post, PostClass, Thresholds
from monitor.report.model import PairReport, ReportItem
from monitor.report.render import render, render_csv
from monitor.store import Store

AT = datetime(2026, 10, 5, 8, tzinfo=UTC)
RLO = "\u202e"  # RIGHT-TO-LEFT OVERRIDE
HOSTILE_BIDI = f"Bravo à l'équipe {RLO}gnp.exe\u202c et merci \u2066isolé\u2069 !"


def report_of(items: list[tuple[str, str, float | None]]) -> PairReport:
    """A report of executive posts (text, class, similarity), built without a store."""
    out = []
    for n, (text, cls, sim) in enumerate(items):
        post = Post(str(100 + n), "ceo", AT + timedelta(hours=n), text)
        near = Post(str(900 + n), "brand", AT, "=SUM(A1:A9) corporate" if n == 0 else "ok")
        finding = Finding(post.post_id, "ceo", post.created_at, PostClass(cls), "because",
                          similarity=sim, lexical=None if sim is None else -0.5,
                          nearest_id=near.post_id, nearest_account="brand")
        out.append(ReportItem(finding, post, near))
    findings = [i.finding for i in out]
    return PairReport("p", ("ceo",), ("brand",), "m", AT - timedelta(days=7),
                      AT + timedelta(days=7), AT, Thresholds(0.7, 0.6, 0.1, 0.5, 3, "test"),
                      totals(findings), by_period(findings, "week"), out, None, 0.3)


def test_csv_quotes_every_line_break_and_defuses_only_text() -> None:
    texts = ["\r=1+1 then text", "first\nsecond", "=HYPERLINK(\"http://x\")", "+33 1 23",
             " @SUM(1)", "\t=cmd", "plain", "a lone \r inside"]
    out = render_csv(report_of([(t, "complementary", -0.0312) for t in texts]))
    rows = list(csv.reader(io.StringIO(out, newline="")))
    assert len(rows) == 1 + len(texts)  # no line break started a row of its own
    by_text = {row[10]: row for row in rows[1:]}
    assert "'\r=1+1 then text" in by_text and "'=HYPERLINK(\"http://x\")" in by_text
    assert "'+33 1 23" in by_text and "' @SUM(1)" in by_text and "'\t=cmd" in by_text
    assert "plain" in by_text and "first\nsecond" in by_text and "a lone \r inside" in by_text
    for row in rows[1:]:
        assert row[5] == "-0.0312" and row[6] == "-0.5000"  # numbers stay numbers
        assert row[9].startswith("'=SUM") or row[9] == "ok"  # the corporate text too
        for cell in (row[4], row[9], row[10]):  # no text cell can start a formula
            assert cell.lstrip(" \t\r\n")[:1] not in "=+-@" or cell.startswith("'")
    # Every physical line of the file is a row start or inside a quoted cell: a spreadsheet
    # splitting on \r or \n alone never sees a line starting with "=" outside quotes.
    assert '"\'\r=1+1 then text"' in out


def test_bidi_controls_are_shown_in_every_human_output() -> None:
    rep = report_of([(HOSTILE_BIDI, "overlap", 0.9), ("calme", "complementary", 0.1)])
    for fmt in ("html", "md", "csv"):
        text = render(rep, fmt)
        assert bidi.count(text) == 0, fmt
        assert "‹U+202E›gnp.exe‹U+202C›" in text and "‹U+2066›isolé‹U+2069›" in text, fmt
    raw = render(rep, "json")
    assert bidi.count(raw) == 0 and "\\u202e" in raw  # inert as a file...
    posts = json.loads(raw)["posts"]
    assert posts[0]["text"] == HOSTILE_BIDI  # ...and exactly the stored text once parsed
    # Right-to-left marks of real Arabic or Hebrew text are no override: kept as they are.
    assert bidi.neutralise("שלום\u200f!") == "שלום\u200f!"


def test_bidi_in_the_digest_and_terminal(tmp_path: Path, use_encoder: Any,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from monitor.app.digests import build_digests

    path = tmp_path / "monitor.toml"
    path.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "m.db"}"\n[model]\n'
                    'name = "use-multilingual"\n[email]\nrecipients = ["c@example.com"]\n'
                    '[[pairs]]\nname = "p"\nexecutive = ["ceo"]\ncorporate = ["brand"]\n',
                    encoding="utf-8")
    cfg = load_config(path)
    day = datetime.now(UTC) - timedelta(days=1)
    posts = tmp_path / "p.jsonl"
    posts.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in [
        {"id": "1", "account": "brand", "created_at": day.isoformat(),
         "text": "Nouvelle lampe " + HOSTILE_BIDI},
        {"id": "2", "account": "ceo", "created_at": (day + timedelta(minutes=5)).isoformat(),
         "text": "RT @brand: Nouvelle lampe " + HOSTILE_BIDI, "kind": "retweet",
         "referenced_id": "1"}]) + "\n", encoding="utf-8")
    with Store.open(cfg.database_url()) as store:
        pipeline.import_jsonl(store, posts)
        pipeline.analyse_pair(store, cfg, cfg.pairs[0], use_encoder)
        digest = build_digests(store, cfg, day.astimezone(
            __import__("zoneinfo").ZoneInfo("Europe/Paris")).date())[0]
    for part in (digest.html, digest.text):  # (the HTML may <mark> shared words between)
        assert bidi.count(part) == 0 and "‹U+202E›" in part and "‹U+202C›" in part
    # The terminal: `monitor check` lists the closest corporate posts, neutralised.
    monkeypatch.setattr("monitor.cli._encoders", lambda cfg, **_: use_encoder)
    result = CliRunner().invoke(cli, ["--config", str(path), "check", "Nouvelle lampe !",
                                      "--at", (day + timedelta(hours=1)).isoformat()])
    assert result.exit_code == 0, result.output
    assert bidi.count(result.output) == 0 and "‹U+202E›gnp.exe" in result.output
    as_json = CliRunner().invoke(cli, ["--config", str(path), "check", "Nouvelle lampe !",
                                       "--json", "--at", (day + timedelta(hours=1)).isoformat()])
    assert bidi.count(as_json.output) == 0
    assert HOSTILE_BIDI in json.loads(as_json.output)["closest"][0]["text"]
    # An error quoting a file's content: repr() already shows the control as an escape.
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"id": "3", "account": f"ab{RLO}cd", "created_at":
                               day.isoformat(), "text": "x"}, ensure_ascii=False) + "\n",
                   encoding="utf-8")
    result = CliRunner().invoke(cli, ["--config", str(path), "ingest", "--from-jsonl", str(bad)])
    assert result.exit_code == 1 and bidi.count(result.output) == 0


class _Checker(HTMLParser):
    """Counts unclosed elements (void elements aside): a valid page closes what it opens."""

    VOID: ClassVar[set[str]] = {"meta", "link", "br", "img", "input", "hr", "wbr", "source",
                                "col"}

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack[-1] == tag, (tag, self.stack[-5:])
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


@pytest.mark.parametrize("seed_posts", [False, True])
def test_html_report_of_an_empty_period_is_clear_and_valid(tmp_path: Path,
                                                          seed_posts: bool) -> None:
    config = tmp_path / "monitor.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "m.db"}"\n[ui]\n'
                      'language = "en"\n[[pairs]]\nname = "p"\nexecutive = ["ceo"]\n'
                      'corporate = ["brand"]\n', encoding="utf-8")
    if seed_posts:  # posts stored, none analysed
        posts = tmp_path / "p.jsonl"
        posts.write_text(json.dumps({"id": "1", "account": "ceo", "created_at":
                                     "2026-10-01T08:00:00Z", "text": "Bonjour"}) + "\n",
                         encoding="utf-8")
        CliRunner().invoke(cli, ["--config", str(config), "ingest", "--from-jsonl", str(posts)])
    out = tmp_path / "r.html"
    result = CliRunner().invoke(cli, ["--config", str(config), "report", "--format", "html",
                                      "-o", str(out)])
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    checker = _Checker()
    checker.feed(html)
    checker.close()
    assert checker.stack == []
    text = " ".join("".join(checker.text).split())
    expected = ("No analysed executive posts in this period" if seed_posts
                else "The store has no posts yet")
    assert expected in text and "No executive posts in this period." in text
    assert re.search(r"Executive posts\s*0", text)
