#!/usr/bin/env python3
"""Convert the ceo-en raw slices (parasg1999/Tweet-dataset, tweets/<account>.csv) to the
monitor's JSONL format.

Source format (written by that repository's index.js from the v1.1 user_timeline API, default
"compat" mode): header `id,created_at,text`, then one tweet per line as `id,created_at,text`,
NOT quoted: the text may contain commas, so each line is split on its first two commas only.
Newlines inside tweets were replaced by spaces by the collector.

Peculiarities handled here (see SOURCE.md):
* ids were written by JavaScript, i.e. rounded to an IEEE double ("1258883646791901200").
  int(float(x)) recovers the double's exact value, which is the real snowflake id whenever
  the id's low sequence bits are zero (the usual case); otherwise it is off by a few units.
  The reconstructed value is used everywhere (posts.jsonl, labels), consistently.
* text is HTML-escaped (&amp; &gt; &lt;) -> unescaped, as the monitor stores readable text.
* texts longer than 140 characters are truncated by the API ("… https://t.co/…").
* no entities: no expanded URLs, no reply/quote ids. kind is inferred: "RT @x:" -> retweet
  of x; a text that starts with "@handle" -> reply, referenced_account = first handle
  (inferred, no referenced_id); everything else -> original (quotes cannot be told apart).
* urls is left empty: only t.co short links exist, and the monitor ignores unresolved ones.
* referenced_id of a retweet is filled only when the retweeted post is itself in this file
  (unique match of the retweet's text, minus "RT @x: " and links, as a prefix of one post of
  account x): reconstructed, not read from the source.

Usage: python3 convert.py   (reads raw/, writes posts.jsonl next to this file)
"""

from __future__ import annotations

import html
import json
import re
import sys
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
RAW = HERE / "raw"
WINDOW = (datetime(2019, 9, 1, tzinfo=UTC), datetime(2019, 12, 1, tzinfo=UTC))  # [start, end)
FILES = {
    "elonmusk": RAW / "elonmusk_2019-09-01_2019-11-30.csv",
    "Tesla": RAW / "Tesla_2019-09-01_2019-11-30.csv",
    "SpaceX": RAW / "SpaceX_2019-09-01_2019-11-30.csv",
}
RT = re.compile(r"^RT @(\w{1,15}):")
LEADING_MENTION = re.compile(r"^@(\w{1,15})\b")


def parse_line(line: str) -> tuple[str, datetime, str]:
    raw_id, raw_date, text = line.split(",", 2)
    post_id = str(int(float(raw_id)))  # exact value of the JS double (see module docstring)
    created = datetime.strptime(raw_date, "%a %b %d %H:%M:%S %z %Y").astimezone(UTC)
    return post_id, created, text


def record(account: str, post_id: str, created: datetime, raw_text: str) -> dict:
    text = html.unescape(raw_text).strip()
    rec: dict = {"id": post_id, "account": account,
                 "created_at": created.strftime("%Y-%m-%dT%H:%M:%SZ"), "text": text,
                 "kind": "original", "urls": []}
    rt = RT.match(text)
    mention = LEADING_MENTION.match(text)
    if rt:
        rec["kind"] = "retweet"
        rec["referenced_account"] = rt.group(1)
    elif mention:
        rec["kind"] = "reply"
        rec["referenced_account"] = mention.group(1)
    return rec


def _bare(text: str) -> str:
    return re.sub(r"https?://\S+", "", text).strip()


def link_retweets(records: list[dict]) -> None:
    """Fill referenced_id of retweets whose source post is in the set (unique prefix match)."""
    for rec in records:
        if rec["kind"] != "retweet":
            continue
        body = _bare(RT.sub("", rec["text"], count=1).rstrip("…"))[:60]
        if not body:
            continue
        hits = [r for r in records if r["account"] == rec["referenced_account"]
                and r["kind"] != "retweet" and _bare(r["text"]).startswith(body)]
        if len(hits) == 1:
            rec["referenced_id"] = hits[0]["id"]


def main() -> int:
    out: list[dict] = []
    stats: dict[str, dict[str, int]] = {}
    for account, path in FILES.items():
        s = stats.setdefault(account, {"lines": 0, "duplicates": 0, "outside_window": 0,
                                       "empty_text": 0, "kept": 0})
        seen: set[str] = set()
        lines = path.read_text(encoding="utf-8").splitlines()
        if lines[0] != "id,created_at,text":
            raise SystemExit(f"{path}: unexpected header {lines[0]!r}")
        for line in lines[1:]:
            if not line.strip():
                continue
            s["lines"] += 1
            post_id, created, raw_text = parse_line(line)
            if post_id in seen:
                s["duplicates"] += 1
                continue
            seen.add(post_id)
            if not (WINDOW[0] <= created < WINDOW[1]):
                s["outside_window"] += 1
                continue
            rec = record(account, post_id, created, raw_text)
            if not rec["text"]:
                s["empty_text"] += 1
                continue
            s["kept"] += 1
            out.append(rec)
    out.sort(key=lambda r: (r["created_at"], int(r["id"])))
    link_retweets(out)
    with (HERE / "posts.jsonl").open("w", encoding="utf-8") as fh:
        for rec in out:
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
    kinds: dict[str, dict[str, int]] = {}
    for rec in out:
        kinds.setdefault(rec["account"], {}).setdefault(rec["kind"], 0)
        kinds[rec["account"]][rec["kind"]] += 1
    json.dump({"files": stats, "kinds": kinds}, sys.stdout, indent=1)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
