#!/usr/bin/env python3
"""Evaluate the monitor's overlap detection on a labelled CSV of post pairs.

    scripts/evaluate.py PAIRS.csv [--model NAME]

PAIRS.csv has a header `text_a,text_b,label` (label `overlap` or `distinct`) or
`text_a,text_b,score` (a human similarity score); extra columns are allowed (`lang` and
`category` give per-group figures). The threshold is calibrated exactly as the monitor does it,
from a null of nearest-post similarities: each `text_a` against a window of unrelated `text_b`s
from other rows. Prints a table, then one JSON object on its last line with `model`,
`threshold` and `f1`/`precision`/`recall` (labels) or `spearman` (scores).
Without --model it uses the configuration the README recommends.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from monitor.analysis.calibrate import calibrate
from monitor.analysis.classify import OwnBaseline, classify
from monitor.analysis.lexical import lexical_similarity
from monitor.analysis.offlimits import Guardrails
from monitor.analysis.text import embedding_text
from monitor.embed.encoder import make_encoder
from monitor.models import Post, PostClass, Thresholds

RECOMMENDED_MODEL = "use-multilingual"
PER_WEEK = 8  # corporate posts a week: a ±3-day window holds about seven


def read_pairs(path: Path) -> tuple[list[dict[str, str]], str]:
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            fields = set(reader.fieldnames or [])
            rows = list(reader)
    except OSError as exc:
        sys.exit(f"error: cannot read {path}: {exc.strerror}")
    if not {"text_a", "text_b"} <= fields or not ({"label"} & fields or {"score"} & fields):
        sys.exit(f"error: {path}: the header must be text_a,text_b,label or "
                 "text_a,text_b,score")
    mode = "label" if "label" in fields else "score"
    for number, row in enumerate(rows, start=2):
        if not row["text_a"] or not row["text_b"]:
            sys.exit(f"error: {path}: line {number}: empty text")
        if mode == "label" and row["label"] not in ("overlap", "distinct"):
            sys.exit(f"error: {path}: line {number}: label must be overlap or distinct, "
                     f"not {row['label']!r}")
        if mode == "score":
            try:
                float(row["score"])
            except ValueError:
                sys.exit(f"error: {path}: line {number}: score {row['score']!r} is not a "
                         "number")
    return rows, mode


def ranks(values: np.ndarray) -> np.ndarray:
    order = np.argsort(values, kind="stable")
    out = np.empty(len(values))
    out[order] = np.arange(len(values), dtype=float)
    for value in np.unique(values):  # ties share their average rank
        tied = values == value
        out[tied] = out[tied].mean()
    return out


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    ra, rb = ranks(a), ranks(b)
    return float(np.corrcoef(ra, rb)[0, 1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("pairs", type=Path)
    parser.add_argument("--model", default=RECOMMENDED_MODEL,
                        help=f"encoder name (default: {RECOMMENDED_MODEL}, as recommended)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    rows, mode = read_pairs(args.pairs)
    n = len(rows)
    if n < 4 * PER_WEEK:
        sys.exit(f"error: {args.pairs}: need at least {4 * PER_WEEK} pairs")

    encoder = make_encoder(args.model)
    started = time.perf_counter()
    texts_a = [r["text_a"] for r in rows]
    texts_b = [r["text_b"] for r in rows]
    vecs = encoder.encode([embedding_text(t) for t in texts_a + texts_b])
    va, vb = vecs[:n], vecs[n:]
    encode_s = time.perf_counter() - started

    # The pairs as a timeline, judged by the monitor's own rules: the distinct corporate texts
    # are brand posts, PER_WEEK a week in a seeded order (as dense as a real brand's), and the
    # executive texts paired with one are posted half a day after it; every other week is the
    # background each executive post is judged against.
    order = list(dict.fromkeys(texts_b))
    rng = np.random.default_rng(args.seed)
    order = [order[i] for i in rng.permutation(len(order))]
    t0 = datetime(2020, 1, 6, 9, tzinfo=UTC)
    at = {b: t0 + timedelta(days=7 * (k // PER_WEEK), hours=14 * (k % PER_WEEK))
          for k, b in enumerate(order)}
    corp = [Post(post_id=str(10**6 + k), account="brand", created_at=at[b], text=b)
            for k, b in enumerate(order)]
    corp_vecs = np.stack([vb[texts_b.index(b)] for b in order])
    execs = [Post(post_id=str(i + 1), account="exec", text=a,
                  created_at=at[b] + timedelta(hours=10 + (i % 4)))
             for i, (a, b) in enumerate(zip(texts_a, texts_b, strict=True))]
    cal = calibrate(execs, va, corp, corp_vecs, Guardrails.empty(va.shape[1]), lag_days=3.0,
                    recycle_days=30.0, reference_days=90.0, topics_key="evaluate", size=n,
                    seed=args.seed)
    th = Thresholds(overlap=cal.null.cos_floor if cal.null else 0.5, lexical=cal.lexical or 0.6,
                    offline=-1.0, offlimits=1.0, lag_days=3.0, source=cal.method)
    times = np.array([p.created_at.timestamp() for p in execs])
    findings = classify(execs, va, corp, corp_vecs, th, corporate_accounts=["brand"],
                        executive_accounts=["exec"], null=cal.null,
                        own=OwnBaseline(va, times, tuple(p.post_id for p in execs)))
    own_post = {b: str(10**6 + k) for k, b in enumerate(order)}
    predicted = np.array([f.post_class in (PostClass.OVERLAP, PostClass.RECYCLED)
                          and f.nearest_id == own_post[b]
                          for f, b in zip(findings, texts_b, strict=True)])

    cos = np.einsum("id,id->i", va, vb)
    lex = np.array([lexical_similarity(a, b) for a, b in zip(texts_a, texts_b, strict=True)])
    result: dict[str, object] = {"model": encoder.model_id, "threshold": round(th.overlap, 4),
                                 "lexical_threshold": round(th.lexical, 4), "pairs": n,
                                 "encode_s": round(encode_s, 2)}
    if mode == "score":
        scores = np.array([float(r["score"]) for r in rows])
        result["spearman"] = round(spearman(np.maximum(cos, lex), scores), 4)
        print(f"Spearman correlation with human scores: {result['spearman']:.3f}")
    else:
        truth = np.array([r["label"] == "overlap" for r in rows])
        result.update(_prf(truth, predicted))
        groups: dict[str, list[int]] = defaultdict(list)
        for i, r in enumerate(rows):
            for key in ("lang", "category"):
                if r.get(key):
                    groups[f"{key}={r[key]}"].append(i)
        print(f"model {encoder.model_id}: score floor {th.overlap:.3f} "
              f"(lexical {th.lexical:.2f}), {cal.method}")
        print(f"{'group':<26}{'n':>5}{'precision':>11}{'recall':>8}{'f1':>7}{'accuracy':>10}")
        for name in ["all", *sorted(groups)]:
            idx = np.arange(n) if name == "all" else np.array(groups[name])
            m = _prf(truth[idx], predicted[idx])
            print(f"{name:<26}{len(idx):>5}{_fmt(m['precision']):>11}{_fmt(m['recall']):>8}"
                  f"{_fmt(m['f1']):>7}{m['accuracy']:>10.3f}")
        by_lang: dict[str, dict[str, float | None]] = {}
        for name, idx_list in groups.items():
            if name.startswith("lang="):
                m = _prf(truth[np.array(idx_list)], predicted[np.array(idx_list)])
                by_lang[name[5:]] = {"f1": m["f1"], "accuracy": m["accuracy"]}
        if by_lang:
            result["by_lang"] = by_lang
    print(json.dumps(result, ensure_ascii=False))
    return 0


def _fmt(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def _prf(truth: np.ndarray, predicted: np.ndarray) -> dict[str, float | None]:
    tp = int(np.sum(truth & predicted))
    fp = int(np.sum(~truth & predicted))
    fn = int(np.sum(truth & ~predicted))
    precision = tp / (tp + fp) if tp + fp else None
    recall = tp / (tp + fn) if tp + fn else None
    f1 = (2 * precision * recall / (precision + recall)
          if precision and recall else (0.0 if precision is not None or recall is not None
                                        else None))
    accuracy = float(np.mean(truth == predicted)) if len(truth) else 0.0
    return {"precision": None if precision is None else round(precision, 4),
            "recall": None if recall is None else round(recall, 4),
            "f1": None if f1 is None else round(f1, 4), "accuracy": round(accuracy, 4)}


if __name__ == "__main__":
    raise SystemExit(main())
