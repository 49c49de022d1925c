#!/usr/bin/env python3
"""The benchmark whose figures we publish: throughput, incremental cost, report, many pairs.

    scripts/bench.py [--posts 20000] [--pairs 1000] [--quick] [--model default]

Builds a synthetic but realistic corpus (a year of a two-account pair: French and English posts
on a brand's themes, with retweets, shared links and paraphrases), then measures in one run and
prints as one JSON object on its last line:

- encode_posts_per_s: raw `SentenceTransformer.encode` throughput on the corpus texts;
- backfill_posts_per_s, backfill_vs_encode: import (JSONL) + embed + analyse of the whole
  corpus into a fresh SQLite store (and the drift up to the newest post, as the service's tick
  computes it), and its ratio to raw encode;
- incremental_s, incremental_vs_full: a daily run (one new day of posts: import + embed +
  analyse + drift) and its ratio to a full recompute (the backfill: what a naive daily job
  would redo);
- reembedded_on_noop: posts embedded by a run with no new posts (must be 0);
- help_s: `monitor --help` as a real process (best of 3);
- F, status_vs_F, report_year_s (also as report_s), report_year_vs_F, report_year_first_s,
  check_cold_vs_encoder_cold[model] per model, check_warm_s: see scripts/bench_commands.py;
- pairs_1000_analyse_s (or pairs_<N>_analyse_s): first analysis of N pairs (two weeks of posts
  each, cached vectors) in one store; pairs_1000_analyse_vs_encode: that time for 1,000 pairs
  divided by the time to encode 1,000 posts in the same run (goal: at most 6);
- peak_rss_mb: peak resident memory of each step (VmHWM, reset between steps).
`--quick` runs about 3,000 posts and 100 pairs, in under two minutes.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from monitor.analysis.text import embedding_text  # noqa: E402
from monitor.app.drift import refresh_drift  # noqa: E402
from monitor.config import load_config, parse_config  # noqa: E402
from monitor.embed import make_encoder  # noqa: E402
from monitor.models import Post, PostKind  # noqa: E402
from monitor.pipeline import analyse_pair, embed_pending, import_jsonl  # noqa: E402
from monitor.store import Store  # noqa: E402

START = datetime(2025, 11, 1, tzinfo=UTC)

FR = {
    "who": ["Notre atelier de Limoges", "L'équipe de Lyon", "Nos apprentis", "Notre boutique de "
            "Bordeaux", "Le service réparation", "Nos designers", "La maison", "Nos artisans"],
    "does": ["présente", "répare", "lance", "dessine", "fabrique", "expose", "recycle",
             "teste", "livre", "restaure"],
    "what": ["une nouvelle lampe en laiton recyclé", "la collection d'hiver", "des abat-jour "
             "tissés à la main", "une suspension en verre soufflé", "la Lanterne Nomade",
             "des appliques pour un hôtel parisien", "plus de 300 lampes anciennes",
             "un luminaire sur mesure pour une bibliothèque"],
    "when": ["cette semaine", "ce samedi", "depuis lundi", "pour le salon Maison&Objet",
             "avant Noël", "ce matin", "jusqu'à fin du mois"],
    "tail": ["#MadeInFrance", "#artisanat", "Venez nous voir !", "Merci à toute l'équipe.",
             "87 % de nos pièces sont réparables.", "Fier du travail accompli.", ""],
}
EN = {
    "who": ["Our Limoges workshop", "The Lyon team", "Our apprentices", "Our Bordeaux store",
            "The repair service", "Our designers", "The house", "Our craftspeople"],
    "does": ["unveils", "repairs", "launches", "designs", "makes", "shows", "recycles",
             "tests", "ships", "restores"],
    "what": ["a new lamp in recycled brass", "the winter collection", "hand-woven lampshades",
             "a blown-glass pendant", "the Nomad Lantern", "wall lights for a Paris hotel",
             "over 300 vintage lamps", "a bespoke fixture for a library"],
    "when": ["this week", "this Saturday", "since Monday", "for Maison&Objet", "before "
             "Christmas", "this morning", "until the end of the month"],
    "tail": ["#MadeInFrance", "#craft", "Come and see us!", "Thanks to the whole team.",
             "87% of our parts are repairable.", "Proud of the work.", ""],
}
PERSONAL = ["Ce week-end, randonnée dans les Écrins avec ma fille.", "Marathon de Lyon bouclé "
            "en 3 h 52, les jambes s'en souviennent.", "Lu cette semaine un livre passionnant "
            "sur le management par la confiance.", "Un apprenti m'a appris aujourd'hui à souder "
            "une douille. Vingt ans de métier et on apprend encore.", "What I learned from our "
            "first failed product: go slower, listen more.", "Match nul ce soir, quelle "
            "frustration pour les supporters."]


def sentence(rng: random.Random, lang: str) -> str:
    v = FR if lang == "fr" else EN
    parts = [rng.choice(v[k]) for k in ("who", "does", "what", "when", "tail")]
    return f"{parts[0]} {parts[1]} {parts[2]} {parts[3]}. {parts[4]}".strip()


def corpus(n_posts: int, days: int, *, seed: int = 0, exec_name: str = "claire_ml",
           corp_name: str = "MaisonLumiere", start: datetime = START) -> list[Post]:
    """A pair's posts over `days`: 55 % corporate, 45 % executive (echo, paraphrase, own)."""
    rng = random.Random(seed)
    posts: list[Post] = []
    corp_recent: list[Post] = []
    base_id = 1_900_000_000_000_000_000 + seed * 10_000_000
    for i in range(n_posts):
        when = start + timedelta(seconds=days * 86400 * i / n_posts + rng.randint(0, 600))
        pid = str(base_id + i)
        lang = "fr" if rng.random() < 0.6 else "en"
        if rng.random() < 0.55:
            url = f"https://maisonlumiere.fr/journal/{i}" if rng.random() < 0.3 else None
            # A number makes every corporate text distinct: only retweets repeat a text, as
            # on X (the encoder shares one vector between a post and its retweets).
            p = Post(pid, corp_name, when, f"{sentence(rng, lang)} ({i})", lang=lang,
                     urls=(url,) if url else ())
            corp_recent = [*corp_recent[-20:], p]
        else:
            roll = rng.random()
            if corp_recent and roll < 0.08:
                src = rng.choice(corp_recent[-5:])
                p = Post(pid, exec_name, when, f"RT @{corp_name}: {src.text}", lang=src.lang,
                         kind=PostKind.RETWEET, referenced_ids=(src.post_id,),
                         referenced_accounts=(corp_name,))
            elif corp_recent and roll < 0.25:
                src = rng.choice(corp_recent[-5:])
                words = src.text.split()
                head = words[:4]
                rng.shuffle(head)  # a light rewording of the corporate post
                p = Post(pid, exec_name, when, "Fière : " + " ".join(head + words[4:]),
                         lang=src.lang)
            elif roll < 0.35:
                p = Post(pid, exec_name, when, rng.choice(PERSONAL) + f" ({i})", lang="fr")
            else:
                p = Post(pid, exec_name, when, sentence(rng, lang) + f" Mon regard : {i}.",
                         lang=lang)
        posts.append(p)
    return posts


def write_jsonl(posts: list[Post], path: Path) -> Path:
    with path.open("w", encoding="utf-8") as handle:
        for p in posts:
            record = {"id": p.post_id, "account": p.account, "created_at":
                      p.created_at.isoformat(), "text": p.text, "lang": p.lang,
                      "kind": str(p.kind), "urls": list(p.urls)}
            if p.referenced_ids:
                record["referenced_id"] = p.referenced_ids[0]
                record["referenced_account"] = p.referenced_accounts[0]
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    return path


class Peak:
    """Peak resident memory per step: VmHWM from /proc, reset before each step (Linux)."""

    def __init__(self) -> None:
        self.figures: dict[str, float] = {}

    def reset(self) -> None:
        with contextlib.suppress(OSError):  # not Linux: peaks then accumulate across steps
            Path("/proc/self/clear_refs").write_text("5")

    def record(self, step: str) -> None:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                self.figures[step] = round(int(line.split()[1]) / 1024, 1)


def timed_process(args: list[str], env: dict[str, str] | None = None) -> float:
    started = time.perf_counter()
    subprocess.run(args, check=True, capture_output=True, env={**os.environ, **(env or {})})
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=20_000)
    parser.add_argument("--pairs", type=int, default=1_000)
    parser.add_argument("--quick", action="store_true", help="about 3,000 posts and 100 pairs")
    parser.add_argument("--model", default="default")
    args = parser.parse_args(argv)
    if args.quick:
        args.posts, args.pairs = 3_000, 100
    peak = Peak()
    out: dict[str, object] = {"posts": args.posts, "pairs": args.pairs,
                              "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
                                         f"Python {platform.python_version()}"}
    work = Path(tempfile.mkdtemp(prefix="monitor-bench-"))
    days = 365
    posts = corpus(args.posts, days)
    new_day = corpus(max(args.posts // days, 10), 1, seed=1,
                     start=START + timedelta(days=days))
    encoder = make_encoder(args.model)
    model = encoder.load() if hasattr(encoder, "load") else None
    texts = [embedding_text(p.text) for p in posts]

    peak.reset()
    started = time.perf_counter()
    if model is not None and hasattr(model, "encode") and hasattr(encoder, "batch_size"):
        model.encode(texts, batch_size=encoder.batch_size, normalize_embeddings=True,
                     convert_to_numpy=True, show_progress_bar=False)
    else:
        encoder.encode(texts)
    encode_s = time.perf_counter() - started
    peak.record("encode")
    out["encode_posts_per_s"] = round(len(texts) / encode_s, 1)

    db = work / "monitor.db"
    cfg_path = work / "monitor.toml"
    cfg_path.write_text(f'[database]\nurl = "sqlite:///{db}"\n[model]\nname = "{args.model}"\n'
                        '[[pairs]]\nname = "bench"\nexecutive = ["claire_ml"]\n'
                        'corporate = ["MaisonLumiere"]\n', encoding="utf-8")
    cfg = load_config(cfg_path)  # the same file the report subprocess reads
    pair = cfg.pairs[0]

    def daily_job(jsonl: Path) -> int:
        """What a scheduled run does with new posts: import, embed, analyse, and the drift
        up to the newest post (what the service's tick leaves the next report)."""
        with Store.open(cfg.database_url()) as store:
            import_jsonl(store, jsonl)
            embed_pending(store, encoder, pair.accounts)
            result = analyse_pair(store, cfg, pair, encoder)
            if result.analysed:
                refresh_drift(store, cfg, pair, result.model)
            return result.analysed

    jsonl = write_jsonl(posts, work / "year.jsonl")
    peak.reset()
    started = time.perf_counter()
    daily_job(jsonl)
    backfill_s = time.perf_counter() - started
    peak.record("backfill")
    out["backfill_s"] = round(backfill_s, 2)
    out["backfill_posts_per_s"] = round(len(posts) / backfill_s, 1)
    out["backfill_vs_encode"] = round(encode_s / backfill_s, 3)

    day_file = write_jsonl(new_day, work / "day.jsonl")
    peak.reset()
    started = time.perf_counter()
    analysed = daily_job(day_file)
    incremental_s = time.perf_counter() - started
    peak.record("incremental")
    out["incremental_posts"] = len(new_day)
    out["incremental_analysed"] = analysed
    out["incremental_s"] = round(incremental_s, 3)
    out["full_recompute_s"] = round(backfill_s, 2)
    out["incremental_vs_full"] = round(incremental_s / backfill_s, 4)

    peak.reset()
    with Store.open(cfg.database_url()) as store:
        reembedded = embed_pending(store, encoder, pair.accounts)
        noop = analyse_pair(store, cfg, pair, encoder)
    peak.record("noop")
    out["reembedded_on_noop"] = reembedded
    out["reanalysed_on_noop"] = noop.analysed

    monitor = [sys.executable, "-m", "monitor"]
    out["help_s"] = round(min(timed_process([*monitor, "--help"]) for _ in range(3)), 3)
    # F, status, the year's report, cold and warm checks: ratios measured in this same run.
    from bench_commands import command_figures

    out.update(command_figures(work, cfg_path))
    out["report_s"] = out.get("report_year_s")

    peak.reset()
    analyse_s, digest_s = many_pairs(args.pairs, encoder, work)
    out[f"pairs_{args.pairs}_analyse_s"] = round(analyse_s, 2)
    out[f"pairs_{args.pairs}_digest_s"] = round(digest_s, 2)
    # The analysis of a day of 1,000 pairs against encoding 1,000 posts, in the same run: the
    # pure analysis must stay cheap next to the model, whatever this machine's speed today.
    per_thousand = analyse_s * 1000 / args.pairs
    out["pairs_1000_analyse_vs_encode"] = round(per_thousand / (1000 / (len(texts) / encode_s)),
                                                2)
    if args.pairs != 1000:
        out["pairs_1000_analyse_s"] = None
    peak.record(f"pairs_{args.pairs}")
    out["peak_rss_mb"] = peak.figures
    print(json.dumps(out))
    return 0


def many_pairs(n_pairs: int, encoder: object, work: Path) -> tuple[float, float]:
    """First analysis of n pairs, two weeks of posts each, vectors already cached; then the
    daily digest of the last day for all of them (built and rendered, not sent)."""
    db = work / "pairs.db"
    pairs = [{"name": f"pair-{i}", "executive": [f"ceo_{i}"], "corporate": [f"brand_{i}"]}
             for i in range(n_pairs)]
    cfg = parse_config({"database": {"url": f"sqlite:///{db}"}, "pairs": pairs,
                        "email": {"recipients": ["comms@example.com"],
                                  "send_when_empty": True}},
                       source=str(work / "pairs.toml"))
    model_id = encoder.model_id  # type: ignore[attr-defined]
    dim = 384 if "MiniLM" in model_id else 512
    rng = np.random.default_rng(0)
    with Store.open(cfg.database_url()) as store:
        all_posts: list[Post] = []
        for i in range(n_pairs):
            all_posts += corpus(28, 14, seed=100 + i, exec_name=f"ceo_{i}",
                                corp_name=f"brand_{i}", start=START)
        store.import_posts(all_posts, source="bench")
        stored = store.posts()
        vecs = rng.normal(size=(len(stored), dim)).astype(np.float32)
        vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
        store.save_vectors(model_id, [(sp.pk, sp.text_hash, vecs[j])
                                      for j, sp in enumerate(stored)])
        started = time.perf_counter()
        for pair in cfg.pairs:
            analyse_pair(store, cfg, pair, encoder)  # type: ignore[arg-type]
        analyse_s = time.perf_counter() - started
        from monitor.app.digests import build_digests

        started = time.perf_counter()
        emails = build_digests(store, cfg, (START + timedelta(days=13)).date())
        assert emails and all(e.html and e.text for e in emails)
        return analyse_s, time.perf_counter() - started


if __name__ == "__main__":
    raise SystemExit(main())
