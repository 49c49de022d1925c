#!/usr/bin/env python3
"""Convert ValentinFrancois/Presidentielle2022Twitter CSVs into the monitor's JSONL.

Pair: @EmmanuelMacron (personal account, executive side) and @avecvous ("Emmanuel Macron avec
vous", his 2022 presidential campaign account, organisation side).

Input: the two raw CSVs `data/scrapped_tweets/{EmmanuelMacron,avecvous}.csv` exported from the
fetched bare git dir at a fixed commit (git show), or given paths. Plain Python 3.11, stdlib only.

    python3 convert.py [--git-dir DIR] [--commit SHA] [--out DIR]
"""

from __future__ import annotations

import argparse
import collections
import csv
import io
import json
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

REPO = "ValentinFrancois/Presidentielle2022Twitter"
COMMIT = "cd6417229818e5e90cb9b333f3af177c29edbbc4"
GIT_DIR = "/work/.mirror/ValentinFrancois+Presidentielle2022Twitter/repo"
PATHS = {"EmmanuelMacron": "data/scrapped_tweets/EmmanuelMacron.csv",
         "avecvous": "data/scrapped_tweets/avecvous.csv"}
EXECUTIVE = ["EmmanuelMacron"]
CORPORATE = ["avecvous"]
# Overlap of the two timelines: @avecvous's first post ever (its whole timeline is in the file:
# 412 posts, far under the API's 3,200 cap) to the scrape time in data/last_update.txt
# (2022-04-08T11:29:28Z); @EmmanuelMacron's file reaches back to 2019, so it is complete here.
START = datetime(2022, 1, 27, 0, 0, tzinfo=UTC)
END = datetime(2022, 4, 8, 11, 29, 28, tzinfo=UTC)
KINDS = {"normal": "original", "reply": "reply", "quoting": "quote", "retweet": "retweet"}
URL_RE = re.compile(r"https?://\S+")


def read_csv(git_dir: str, commit: str, path: str) -> list[dict]:
    raw = subprocess.run(["git", f"--git-dir={git_dir}", "show", f"{commit}:{path}"],
                         check=True, capture_output=True).stdout.decode("utf-8")
    return list(csv.DictReader(io.StringIO(raw)))


def convert_row(row: dict) -> tuple[dict, datetime]:
    created = datetime.fromisoformat(row["datetime"]).astimezone(UTC)
    kind = KINDS[row["type"]]
    text = row["text"]
    ref_id = row.get("referenced_tweet_id") or ""
    ref_user = row.get("referenced_tweet_author_username") or ""
    if kind == "retweet" and row.get("referenced_tweet_found") == "True" and ref_user \
            and row.get("referenced_tweet_text"):
        # The API's retweet text is cut at 140 characters with "…"; the source kept the full
        # text of the retweeted post, so the retweet carries that, as "RT @user: full text".
        text = f"RT @{ref_user}: {row['referenced_tweet_text']}"
    post = {"id": row["id"], "account": row["username"],
            "created_at": created.strftime("%Y-%m-%dT%H:%M:%SZ"), "text": text, "kind": kind}
    if ref_id and row.get("has_referenced_tweet") == "True":
        post["referenced_id"] = ref_id
        if ref_user:
            post["referenced_account"] = ref_user
    # The source has no expanded URLs: links appear only as t.co short links in the text,
    # which the brief says to ignore for link sharing, so `urls` stays empty.
    post["urls"] = []
    return post, created


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--git-dir", default=GIT_DIR)
    ap.add_argument("--commit", default=COMMIT)
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent))
    args = ap.parse_args(argv)
    out = Path(args.out)

    posts, stats = [], collections.Counter()
    for account, path in PATHS.items():
        rows = read_csv(args.git_dir, args.commit, path)
        stats[f"{account}:rows_in_file"] = len(rows)
        seen = set()
        for row in rows:
            if row["username"] != account:
                stats[f"{account}:other_author_skipped"] += 1
                continue
            if not row["id"].isdigit() or row["id"] in seen:
                stats[f"{account}:bad_or_duplicate_id"] += 1
                continue
            seen.add(row["id"])
            post, created = convert_row(row)
            if not (START <= created <= END):
                stats[f"{account}:outside_period"] += 1
                continue
            if not post["text"].strip():
                stats[f"{account}:empty_text_skipped"] += 1
                continue
            if not URL_RE.sub("", post["text"]).strip():
                stats[f"{account}:link_or_media_only_kept"] += 1
            stats[f"{account}:{post['kind']}"] += 1
            stats[f"{account}:kept"] += 1
            posts.append(post)
    posts.sort(key=lambda p: (p["created_at"], p["id"]))
    with open(out / "posts.jsonl", "w", encoding="utf-8") as fh:
        for p in posts:
            fh.write(json.dumps(p, ensure_ascii=False) + "\n")
    dates = [p["created_at"] for p in posts]
    pair = {"name": "fr-pair", "executive": EXECUTIVE, "corporate": CORPORATE,
            "period": [START.date().isoformat(), END.date().isoformat()],
            "first_post": min(dates), "last_post": max(dates),
            "source": {"repo": REPO, "commit": args.commit, "paths": list(PATHS.values()),
                       "licence": "none stated (no LICENSE file, no licence text in the "
                                  "repository); tweets are public posts under X's terms. "
                                  "Keep out of any project repository."}}
    (out / "pair.json").write_text(json.dumps(pair, ensure_ascii=False, indent=2) + "\n",
                                   encoding="utf-8")
    for k in sorted(stats):
        print(f"{k}\t{stats[k]}")
    print(f"period\t{pair['period']}\tposts {min(dates)} .. {max(dates)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
