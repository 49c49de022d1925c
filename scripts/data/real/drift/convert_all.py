#!/usr/bin/env python3
"""Every candidate's own timeline from Presidentielle2022Twitter as the monitor's JSONL.

    python3 convert_all.py [--git-dir DIR]

Reads the fetched bare repository (see ../fr-pair/convert.py for its location and commit) and
writes `<account>.jsonl` beside this file (ignored by git: the data has no licence). These
timelines measure drift's false-alarm rate: each is one executive with no corporate side.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "fr-pair"))

import convert as source  # noqa: E402  (the fr-pair converter: same dataset, same rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--git-dir", default=source.GIT_DIR)
    args = parser.parse_args()
    listing = subprocess.run(
        ["git", f"--git-dir={args.git_dir}", "ls-tree", "--name-only", source.COMMIT,
         "data/scrapped_tweets/"], capture_output=True, text=True, check=True).stdout.split()
    for path in listing:
        name = path.rsplit("/", 1)[1].removesuffix(".csv")
        if name == "avecvous":  # the campaign account: an organisation, not a person
            continue
        posts = []
        for row in source.read_csv(args.git_dir, source.COMMIT, path):
            try:
                post, _ = source.convert_row(row)
            except (KeyError, ValueError):
                continue
            if post["text"].strip():
                posts.append(post)
        posts.sort(key=lambda p: p["created_at"])
        with (HERE / f"{name}.jsonl").open("w", encoding="utf-8") as handle:
            for post in posts:
                handle.write(json.dumps(post) + "\n")
        span = f"{posts[0]['created_at'][:10]} .. {posts[-1]['created_at'][:10]}" if posts else ""
        print(f"{name}: {len(posts)} posts {span}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
