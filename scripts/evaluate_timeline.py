#!/usr/bin/env python3
"""Evaluate the monitor on a real (or realistic) timeline of two voices.

    scripts/evaluate_timeline.py POSTS.jsonl --executive A --corporate B[,C] \\
        --labels labels.csv [--post-labels post_labels.csv] [--model auto] \\
        [--change-from OTHER.jsonl] [--show 10]

POSTS.jsonl is the monitor's JSONL import format. labels.csv has a header
`exec_id,corp_id,label` (label `same`, `partial` or `amplified`; extra columns are ignored): any
pair absent is not a repeat. post_labels.csv (optional) has `exec_id` and either `offlimits`
(yes/no: a risk a comms lead would see) or `expected` (the expected class, for hand-written
fixtures). The real pipeline runs on a temporary SQLite store: import, embed, calibrate,
classify, drift. It prints a table, then one JSON object on its last line:

- per class: how many posts, their share of executive posts;
- repeats (overlap and recycled): precision (the matched corporate post is labelled `same` or
  `partial` with the post) and recall of labelled `same` / `partial` pairs within 3 and 7 days
  (a pair counts as found when its executive post is flagged as a repeat of, an echo of, or
  amplified by any corporate post);
- amplified: how many labelled-amplified executive posts are classed `amplified`;
- off-limits precision and recall against the post labels; off-line posts listed;
- drift: the share of weekly checkpoints that raise drift, and, with --change-from, whether a
  constructed change (the last checkpoint week's posts replaced by another account's posts)
  raises it.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from monitor.app.analyse import analyse_pair
from monitor.app.drift import pair_drift
from monitor.app.models_choice import report_model
from monitor.config import MonitorConfig, parse_config
from monitor.embed import Encoders
from monitor.ingest.jsonl import read_jsonl
from monitor.models import REDUNDANT_CLASSES, Post, PostClass
from monitor.store import Store

REPEATS = {PostClass.OVERLAP, PostClass.RECYCLED}
FOUND = REPEATS | {PostClass.ECHO, PostClass.AMPLIFIED}


def read_labels(path: Path) -> dict[tuple[str, str], str]:
    with path.open(newline="", encoding="utf-8") as handle:
        return {(r["exec_id"].strip(), r["corp_id"].strip()): r["label"].strip().lower()
                for r in csv.DictReader(handle)}


def read_post_labels(path: Path | None) -> dict[str, dict[str, str]]:
    if path is None:
        return {}
    with path.open(newline="", encoding="utf-8") as handle:
        return {r["exec_id"].strip(): r for r in csv.DictReader(handle)}


def config_for(folder: Path, executive: list[str], corporate: list[str],
               model: str) -> MonitorConfig:
    return parse_config({"database": {"url": f"sqlite:///{folder / 'eval.db'}"},
                         "model": {"name": model},
                         "pairs": [{"name": "eval", "executive": executive,
                                    "corporate": corporate}]},
                        source=str(folder / "monitor.toml"))


def run(posts: list[Post], executive: list[str], corporate: list[str], model: str,
        folder: Path) -> tuple[Store, MonitorConfig, float]:
    cfg = config_for(folder, executive, corporate, model)
    store = Store.open(cfg.database_url())
    store.import_posts(posts, source="jsonl")
    start = time.perf_counter()
    analyse_pair(store, cfg, cfg.pairs[0], Encoders())
    return store, cfg, time.perf_counter() - start


def ratio(a: int, b: int) -> float | None:
    return round(a / b, 3) if b else None


def evaluate(args: argparse.Namespace) -> dict[str, Any]:
    executive = [a.strip() for a in args.executive.split(",") if a.strip()]
    corporate = [a.strip() for a in args.corporate.split(",") if a.strip()]
    posts = read_jsonl(args.posts)
    labels = read_labels(args.labels)
    post_labels = read_post_labels(args.post_labels)
    by_id = {p.post_id: p for p in posts}
    exec_set = {a.casefold() for a in executive}

    with tempfile.TemporaryDirectory(prefix="monitor-eval-") as tmp:
        store, cfg, seconds = run(posts, executive, corporate, args.model, Path(tmp))
        pair = cfg.pairs[0]
        choice = report_model(store, cfg, pair)
        stored = store.findings(pair.name, choice.model_id)
        findings = {s.finding.post_id: s.finding for s in stored}
        calibration = store.calibration(pair.name, choice.model_id)
        drift = drift_checkpoints(store, cfg, choice.model_id, posts, exec_set)
        store.close()
        change = None
        if args.change_from:
            change = constructed_change(posts, read_jsonl(args.change_from), executive,
                                        corporate, args.model, Path(tmp) / "change")

    n = len(findings)
    counts = Counter(f.post_class for f in findings.values())
    report: dict[str, Any] = {
        "posts": len(posts), "executive_posts": n, "model": choice.model_id,
        "model_reason": choice.why, "analyse_s": round(seconds, 1),
        "calibrated": bool(calibration and calibration.sufficient),
        "guardrail_note": calibration.guardrail_note if calibration else None,
        "classes": {c.value: counts.get(c, 0) for c in PostClass},
        "shares": {c.value: ratio(counts.get(c, 0), n) for c in PostClass},
        "overlap_rate": ratio(sum(counts.get(c, 0) for c in REDUNDANT_CLASSES), n),
    }

    positives = {k: v for k, v in labels.items() if v in ("same", "partial")}
    # Precision of repeat flags: the corporate post it names is labelled with it.
    for name, classes in (("overlap", {PostClass.OVERLAP}), ("recycled", {PostClass.RECYCLED}),
                          ("repeats", REPEATS)):
        flagged = [f for f in findings.values() if f.post_class in classes]
        right = [f for f in flagged if (f.post_id, f.nearest_id) in positives]
        lenient = [f for f in flagged if any(e == f.post_id for e, _ in positives)]
        report[f"{name}_flagged"] = len(flagged)
        report[f"{name}_precision"] = ratio(len(right), len(flagged))
        report[f"{name}_precision_any_label"] = ratio(len(lenient), len(flagged))
    for label in ("same", "partial"):
        for days in (3, 7, 30):
            pairs = [(e, c) for (e, c), v in labels.items() if v == label and e in by_id
                     and c in by_id and abs(by_id[e].created_at - by_id[c].created_at)
                     <= timedelta(days=days)]
            found = [(e, c) for e, c in pairs if e in findings
                     and findings[e].post_class in FOUND]
            report[f"recall_{label}_{days}d"] = ratio(len(found), len(pairs))
            report[f"pairs_{label}_{days}d"] = len(pairs)
    amplified = {e for (e, _), v in labels.items() if v == "amplified" and e in findings}
    report["amplified_labelled"] = len(amplified)
    report["amplified_classed"] = Counter(findings[e].post_class.value for e in amplified)

    if post_labels:
        first = next(iter(post_labels.values()))
        if "offlimits" in first:
            truth = {e for e, r in post_labels.items() if r["offlimits"].strip().lower() == "yes"}
            flagged = {e for e, f in findings.items() if f.post_class == PostClass.OFF_LIMITS}
            report["offlimits_labelled"] = len(truth)
            report["offlimits_flagged"] = len(flagged)
            report["offlimits_precision"] = ratio(len(flagged & truth), len(flagged))
            report["offlimits_recall"] = ratio(len(flagged & truth), len(truth))
        if "expected" in first:
            report["expected"] = per_class(findings, post_labels)
    report["offline"] = [{"id": f.post_id, "text": by_id[f.post_id].text[:140],
                          "reason": f.reason}
                         for f in findings.values() if f.post_class == PostClass.OFF_LINE]
    report["drift"] = drift
    if change is not None:
        report["drift_constructed_change"] = change
    report["examples"] = examples(findings, by_id, positives, args.show)
    return report


def per_class(findings: dict[str, Any], post_labels: dict[str, dict[str, str]]) -> dict[str, Any]:
    """Precision and recall of each expected class (hand-written fixtures)."""
    out: dict[str, Any] = {}
    confusion: Counter[tuple[str, str]] = Counter()
    for e, r in post_labels.items():
        if e in findings:
            confusion[(r["expected"].strip(), findings[e].post_class.value)] += 1
    classes = sorted({a for a, _ in confusion} | {b for _, b in confusion})
    for c in classes:
        tp = confusion[(c, c)]
        flagged = sum(v for (_, b), v in confusion.items() if b == c)
        truth = sum(v for (a, _), v in confusion.items() if a == c)
        out[c] = {"expected": truth, "flagged": flagged, "precision": ratio(tp, flagged),
                  "recall": ratio(tp, truth)}
    out["confusion"] = {f"{a}->{b}": v for (a, b), v in sorted(confusion.items()) if a != b}
    return out


def drift_checkpoints(store: Store, cfg: MonitorConfig, model: str, posts: list[Post],
                      exec_set: set[str]) -> dict[str, Any]:
    """Drift at every weekly checkpoint from the first with a full history to the end."""
    times = sorted(p.created_at for p in posts if p.account.casefold() in exec_set)
    if not times:
        return {"checkpoints": 0}
    pair = cfg.pairs[0]
    end = times[-1] + timedelta(seconds=1)
    statuses: dict[str, str] = {}
    at = end
    while at - timedelta(days=21) > times[0]:
        result = pair_drift(store, cfg, pair, model, end=at)
        statuses[at.date().isoformat()] = result.status if result else "no data"
        at -= timedelta(days=7)
    tested = [s for s in statuses.values() if s in ("drift", "stable")]
    return {"checkpoints": len(statuses), "tested": len(tested),
            "fired": sum(s == "drift" for s in tested),
            "firing_rate": ratio(sum(s == "drift" for s in tested), len(tested)),
            "statuses": dict(sorted(statuses.items()))}


def constructed_change(posts: list[Post], other: list[Post], executive: list[str],
                       corporate: list[str], model: str, folder: Path) -> dict[str, Any]:
    """Replace the executive's last week with another voice (re-timestamped, same number of
    posts, at least 12) and test drift at its end: a real change must fire."""
    folder.mkdir()
    exec_set = {a.casefold() for a in executive}
    own = sorted((p for p in posts if p.account.casefold() in exec_set),
                 key=lambda p: p.created_at)
    end = own[-1].created_at + timedelta(seconds=1)
    start = end - timedelta(days=7)
    kept = [p for p in posts if not (p.account.casefold() in exec_set and p.created_at >= start)]
    week = [p for p in own if p.created_at >= start]
    source = [p for p in other if p.account.casefold() not in exec_set]
    count = min(max(len(week), 12), len(source))
    step = timedelta(days=7) / (count + 1)
    injected = [replace(p, post_id=str(9_000_000_000_000_000_000 + i), account=executive[0],
                        created_at=start + step * (i + 1), kind=p.kind)
                for i, p in enumerate(source[:count])]
    store, cfg, _ = run(kept + injected, executive, corporate, model, folder)
    try:
        choice = report_model(store, cfg, cfg.pairs[0])
        result = pair_drift(store, cfg, cfg.pairs[0], choice.model_id, end=end)
    finally:
        store.close()
    return {"week_end": end.date().isoformat(), "injected": count,
            "status": result.status if result else "no data",
            "message": result.message if result else ""}


def examples(findings: dict[str, Any], by_id: dict[str, Post],
             positives: dict[tuple[str, str], str], limit: int) -> dict[str, list[str]]:
    """A few wrong and missed repeats, to read."""
    wrong, missed = [], []
    for f in findings.values():
        if f.post_class in REPEATS and (f.post_id, f.nearest_id) not in positives:
            near = by_id.get(f.nearest_id or "")
            wrong.append(f"{by_id[f.post_id].text[:90]!r} ~ {near.text[:90] if near else ''!r}"
                         f" ({f.reason})")
    flagged = {e for e, f in findings.items() if f.post_class in FOUND}
    per_exec: dict[str, list[str]] = defaultdict(list)
    for e, c in positives:
        if e in by_id and c in by_id and e not in flagged:
            per_exec[e].append(c)
    for e, cs in per_exec.items():
        c = cs[0]
        f = findings.get(e)
        missed.append(f"{by_id[e].text[:90]!r} ~ {by_id[c].text[:90]!r} "
                      f"({(by_id[e].created_at - by_id[c].created_at).days} d; "
                      f"{f.post_class.value + ': ' + f.reason if f else 'not analysed'})")
    return {"wrong": wrong[:limit], "missed": missed[:limit]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("posts", type=Path)
    parser.add_argument("--executive", required=True)
    parser.add_argument("--corporate", required=True)
    parser.add_argument("--labels", type=Path, required=True)
    parser.add_argument("--post-labels", type=Path)
    parser.add_argument("--model", default="auto")
    parser.add_argument("--change-from", type=Path)
    parser.add_argument("--show", type=int, default=10)
    args = parser.parse_args()
    report = evaluate(args)
    for key, value in report.items():
        if key not in ("examples", "offline", "drift", "expected"):
            print(f"{key:32} {value}")
    for post in report["offline"][:args.show]:
        print(f"off-line: {post['text']!r}")
    for kind, lines in report["examples"].items():
        for line in lines:
            print(f"{kind}: {line}")
    print(json.dumps(report, ensure_ascii=False, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
